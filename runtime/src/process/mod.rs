//! `gort::process`: starting programs, Go's os/exec (os/exec/exec.go: `Command`, `CommandContext`,
//! `Cmd.Start`, `Cmd.Wait`, `Cmd.Output`, `Cmd.Run`) with std's `std::process` names.
//!
//! ```
//! use gort::io::{AsyncReadExt, AsyncWriteExt};
//! use gort::process::{Command, Stdio};
//!
//! gort::run(async {
//!     // Go's cmd.Output(): run to completion, capture stdout and stderr.
//!     let out = Command::new("sh").args(["-c", "echo hi; exit 3"]).output().await.unwrap();
//!     assert_eq!(out.stdout, b"hi\n");
//!     assert_eq!(out.status.code(), Some(3));
//!
//!     // Pipes: a G writes to the child's stdin while this one reads its stdout.
//!     let mut child = Command::new("tr")
//!         .args(["a-z", "A-Z"])
//!         .stdin(Stdio::piped())
//!         .stdout(Stdio::piped())
//!         .spawn()
//!         .unwrap();
//!     let mut stdin = child.stdin.take().unwrap();
//!     gort::go(async move { stdin.write_all(b"gopher").await.unwrap() }); // dropped: EOF
//!     let mut shouted = String::new();
//!     child.stdout.take().unwrap().read_to_string(&mut shouted).await.unwrap();
//!     assert_eq!(shouted, "GOPHER");
//!     assert!(child.wait().await.unwrap().success());
//! });
//! ```
//!
//! Spawning is std's `Command::spawn` (`posix_spawn` or `fork`+`exec`, which return as soon as
//! the program has been started, so no blocking section is needed). What gort adds is the
//! waiting: the parent's pipe ends are non-blocking and registered with the netpoller
//! (`child.rs`), and the exit is noticed through a pidfd on the netpoller or through SIGCHLD
//! (`exit.rs`). A G that waits for a child, or reads its output, parks like one that reads a
//! socket; no thread is spent per child, and no child is left a zombie, even if its [`Child`] is
//! dropped without `wait`.
//!
//! | Go (os/exec)                          | gort                                           |
//! |---------------------------------------|------------------------------------------------|
//! | `exec.Command(name, args...)`         | `Command::new(name).args(args)`                |
//! | `exec.CommandContext(ctx, ...)`       | `Command::new(..).context(ctx)`                |
//! | `cmd.Env`, `cmd.Dir`                  | `.env(k, v)`, `.env_clear()`, `.current_dir(d)` |
//! | `cmd.Stdin = r`, `cmd.StdinPipe()`    | `.stdin(Stdio::piped())`, then `child.stdin`    |
//! | `cmd.Start()`                         | `.spawn()`                                     |
//! | `cmd.Wait()`                          | `child.wait().await`                           |
//! | `cmd.Run()`                           | `.status().await`                              |
//! | `cmd.Output()` / `CombinedOutput()`    | `.output().await` (stdout and stderr apart)    |
//! | `cmd.Process.Kill()`, `.Pid`          | `child.kill()`, `child.id()`                   |
//! | `exec.ErrNotFound`                    | an `io::Error` of kind `NotFound`              |
//!
//! ## Where this differs from Go and why
//! - Go's `Wait` returns an error for a non-zero exit (`*ExitError`); here, as in std, it returns
//!   the [`ExitStatus`] and only system failures are errors. `ExitStatusExt::signal()` says which
//!   signal ended a child.
//! - `Command::context` kills the child when the context is done *while something waits for it*:
//!   a `wait`, `output` or `status` in progress, or the background reaper of a dropped `Child`.
//!   Go starts a goroutine at `Start` that watches the context even when nobody waits yet. A
//!   context that is already done makes `spawn` fail without starting the program, as in Go.
//! - Go's `Wait` closes the pipes and waits for the copying goroutines; `Child::wait` here only
//!   collects the status (std's contract), and `wait_with_output` reads the pipes to their ends.

mod child;
mod exit;
#[cfg(all(test, not(loom)))]
mod tests;

pub use child::{Child, ChildStderr, ChildStdin, ChildStdout};
pub use std::process::{ExitStatus, Output, Stdio};

use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::path::Path;

use crate::context::{Context, ContextError};

/// A program to run, with its arguments, environment, directory and stdio (std's `Command`, Go's
/// `exec.Cmd` before `Start`). Builder methods take and return `&mut Command`, as std's do.
pub struct Command {
    std: std::process::Command,
    ctx: Option<Context>,
    /// Which stdio the caller chose (the others get each method's default, as in std).
    stdin_set: bool,
    stdout_set: bool,
    stderr_set: bool,
}

impl Command {
    /// Go's `exec.Command(name)`: `program` is looked up in `PATH` if it has no `/`.
    pub fn new<S: AsRef<OsStr>>(program: S) -> Command {
        Command::from(std::process::Command::new(program))
    }

    pub fn arg<S: AsRef<OsStr>>(&mut self, arg: S) -> &mut Command {
        self.std.arg(arg);
        self
    }

    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    pub fn env<K: AsRef<OsStr>, V: AsRef<OsStr>>(&mut self, key: K, val: V) -> &mut Command {
        self.std.env(key, val);
        self
    }

    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    pub fn env_remove<K: AsRef<OsStr>>(&mut self, key: K) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Start the child with an empty environment (then add to it with `env`).
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// Go's `cmd.Dir`.
    pub fn current_dir<P: AsRef<Path>>(&mut self, dir: P) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// The child's stdin: `Stdio::piped()` gives `child.stdin`, also `null()`, `inherit()` or
    /// another child's pipe end (`Stdio::try_from(child.stdout)`).
    pub fn stdin<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stdin(cfg);
        self.stdin_set = true;
        self
    }

    pub fn stdout<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stdout(cfg);
        self.stdout_set = true;
        self
    }

    pub fn stderr<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stderr(cfg);
        self.stderr_set = true;
        self
    }

    /// Go's `exec.CommandContext`: when `ctx` is done, the child is killed with SIGKILL and its
    /// wait returns the killed status (`ExitStatusExt::signal() == Some(9)`).
    pub fn context(&mut self, ctx: Context) -> &mut Command {
        self.ctx = Some(ctx);
        self
    }

    /// The std command underneath, for what this API does not wrap (`CommandExt::uid`,
    /// `process_group`, `pre_exec`...).
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    pub fn as_std(&self) -> &std::process::Command {
        &self.std
    }

    /// Go's `cmd.Start`: start the program; stdio not chosen is inherited. A missing program is an
    /// error of kind `NotFound`. Must run inside a gort runtime (the child's pipes and exit are
    /// registered with its netpoller); outside one it is an error, not a panic.
    pub fn spawn(&mut self) -> io::Result<Child> {
        self.spawn_with_defaults(Stdio::inherit, Stdio::inherit)
    }

    /// Go's `cmd.Run`: start the program with inherited stdio and wait for it.
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        let mut child = self.spawn()?;
        drop(child.stdin.take()); // a piped stdin nobody can write to reads as end of input
        child.wait().await
    }

    /// Go's `cmd.Output` (with stderr captured too): run to completion with stdout and stderr
    /// piped (unless chosen otherwise) and stdin empty, and return what the child wrote.
    pub async fn output(&mut self) -> io::Result<Output> {
        self.spawn_with_defaults(Stdio::null, Stdio::piped)?
            .wait_with_output()
            .await
    }

    /// Spawn with `stdin` / `out` as the defaults for stdio the caller did not choose (left as std's
    /// defaults for the next call).
    fn spawn_with_defaults(
        &mut self,
        stdin: fn() -> Stdio,
        out: fn() -> Stdio,
    ) -> io::Result<Child> {
        let sched = crate::sched::boot::current().ok_or_else(|| {
            io::Error::other(
                "gort::process::Command::spawn called outside a gort runtime: a child's pipes and \
                 exit are watched by the runtime's netpoller, so spawn inside gort::run(...), \
                 Runtime::block_on(...) or a G",
            )
        })?;
        let ctx_done = match &self.ctx {
            Some(ctx) => {
                if let Some(e) = ctx.err() {
                    return Err(context_error(e));
                }
                Some(ctx.done())
            }
            None => None,
        };
        exit::sweep_orphans();
        if !self.stdin_set {
            self.std.stdin(stdin());
        }
        if !self.stdout_set {
            self.std.stdout(out());
        }
        if !self.stderr_set {
            self.std.stderr(out());
        }
        let spawned = self.std.spawn();
        // Restore "not chosen" for the next spawn (std's `Command` keeps what it was given).
        if !self.stdin_set {
            self.std.stdin(Stdio::inherit());
        }
        if !self.stdout_set {
            self.std.stdout(Stdio::inherit());
        }
        if !self.stderr_set {
            self.std.stderr(Stdio::inherit());
        }
        Child::new(spawned?, ctx_done, sched)
    }
}

/// A context done before `spawn`: Go's `Start` returns `ctx.Err()`. Here an `io::Error` carrying
/// the [`ContextError`] (kind `TimedOut` for a passed deadline, `Other` for a cancellation).
fn context_error(e: ContextError) -> io::Error {
    match e {
        ContextError::DeadlineExceeded => io::Error::new(io::ErrorKind::TimedOut, e),
        ContextError::Canceled => io::Error::other(e),
    }
}

impl From<std::process::Command> for Command {
    fn from(std: std::process::Command) -> Command {
        Command {
            std,
            ctx: None,
            stdin_set: false,
            stdout_set: false,
            stderr_set: false,
        }
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.std, f)
    }
}
