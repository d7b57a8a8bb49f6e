//! A shell pipeline, `ls DIR | sort -r | head -n N`, built from three child processes (Go book,
//! processes chapter: `exec.Command`, `cmd.StdoutPipe`, `cmd.Stdin = pipe`, `cmd.Wait`).
//!
//! Each stage's stdout is `Stdio::piped()`; the parent hands that pipe end to the next stage as
//! its stdin (`Stdio::try_from(child.stdout)`), exactly as a shell wires `|`: the bytes flow from
//! child to child through the kernel and never pass through this process. Only the last stage's
//! output comes to us, read through the netpoller by `output()`. Then every stage is waited for,
//! each a G parked on its child's pidfd; when `head` has read its lines and exits, `sort` may die
//! of SIGPIPE writing into the closed pipe, as in a shell — its status says so.
//!
//! The same plumbing in Go:
//!
//! ```text
//! ls := exec.Command("ls", dir); sort := exec.Command("sort", "-r"); head := exec.Command("head", "-n", n)
//! sort.Stdin, _ = ls.StdoutPipe(); head.Stdin, _ = sort.StdoutPipe()
//! ls.Start(); sort.Start(); out, _ := head.Output(); ls.Wait(); sort.Wait()
//! ```

use std::io;
use std::path::Path;
use std::process::ExitStatus;

use gort::process::{Command, Stdio};

/// What the pipeline produced.
#[derive(Debug)]
pub struct Pipeline {
    /// `head`'s output, one entry a line.
    pub lines: Vec<String>,
    /// The exit status of `ls`, `sort` and `head`, in that order.
    pub statuses: Vec<(&'static str, ExitStatus)>,
}

/// Run `ls dir | sort -r | head -n n`.
pub async fn exec_pipeline(dir: &Path, n: usize) -> io::Result<Pipeline> {
    let mut ls = Command::new("ls").arg(dir).stdout(Stdio::piped()).spawn()?;
    let ls_out = ls
        .stdout
        .take()
        .ok_or_else(|| io::Error::other("ls: no stdout pipe"))?;
    let mut sort = Command::new("sort")
        .arg("-r")
        .stdin(Stdio::try_from(ls_out)?)
        .stdout(Stdio::piped())
        .spawn()?;
    let sort_out = sort
        .stdout
        .take()
        .ok_or_else(|| io::Error::other("sort: no stdout pipe"))?;
    // Each `Command` is a temporary, dropped once spawned: it holds its own copy of the pipe end
    // it was given, which would keep `sort` writing into a pipe nobody reads after `head` exits.
    let head = Command::new("head")
        .args(["-n", &n.to_string()])
        .stdin(Stdio::try_from(sort_out)?)
        .stdout(Stdio::piped())
        .spawn()?
        .wait_with_output()
        .await?;
    let statuses = vec![
        ("ls", ls.wait().await?),
        ("sort", sort.wait().await?),
        ("head", head.status),
    ];
    let lines = String::from_utf8_lossy(&head.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    Ok(Pipeline { lines, statuses })
}
