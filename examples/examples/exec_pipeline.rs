//! # exec_pipeline — `ls DIR | sort -r | head -n N`, three children wired through pipes
//!
//! Run: `cargo run --release --example exec_pipeline -- --dir /usr/bin --n 5`
//!
//! What to watch for: the last names of the directory, in reverse order, as a shell would print
//! them — the bytes went from `ls` to `sort` to `head` through kernel pipes the parent wired
//! (`Stdio::try_from(child.stdout)`), and only `head`'s output came back to it, through the
//! netpoller. Then each stage's exit status: `sort` may report SIGPIPE (`head` stopped reading
//! early), exactly as in a shell.
//!
//! Chapter: Go book, processes (`os/exec`: `Command`, `StdoutPipe`, `Wait`); runtime story: child
//! pipes and pidfds on the netpoller (`runtime/src/process/`).

use std::error::Error;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;

use examples::chapters::{arg, exec_pipeline::exec_pipeline};

#[gort::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let dir: PathBuf = arg("--dir", PathBuf::from("/usr/bin"));
    let n: usize = arg("--n", 5);
    println!("$ ls {} | sort -r | head -n {n}", dir.display());
    let p = exec_pipeline(&dir, n).await?;
    for line in &p.lines {
        println!("{line}");
    }
    for (stage, status) in &p.statuses {
        match status.signal() {
            Some(sig) => println!("{stage}: killed by signal {sig}"),
            None => println!("{stage}: exit {}", status.code().unwrap_or(-1)),
        }
    }
    Ok(())
}
