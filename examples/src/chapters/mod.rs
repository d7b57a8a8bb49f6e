//! The programs of the Go systems-programming chapters, one file each.
//!
//! Each program's logic is an `async fn` taking its sizes as parameters and returning what happened
//! as plain data, so that `examples/examples/<name>.rs` can run it big and print it, and
//! `tests/tests/chapters.rs` can run it small and check it. None of these functions prints.
//!
//! | file | Go book chapter | pattern |
//! |---|---|---|
//! | `producer_consumer` | 15 | many producers, many consumers, one channel, close = "no more" |
//! | `channel_of_channels` | 15 | requests carrying their own reply channel |
//! | `backpressure` | 15 | a bounded channel slows a fast producer down to its consumer |
//! | `parallel_for` | 15 | split a loop over N Gs, join them |
//! | `worker_pool` | 15 | jobs channel, results channel, N workers |
//! | `future_promise` | 15 | a G computes a value delivered on a 1-slot channel |
//! | `actor` | 15 | a G owns state; others talk to it with messages |
//! | `prime_sieve` | 15 | Go's daisy chain of filter Gs |
//! | `sync_primitives` | 15 | Mutex, WaitGroup, Once, Cond |
//! | `select_timeout` | 15 | `select` with `time::after`; a done channel; a context deadline |
//! | `signals` | 13 | SIGINT/SIGTERM cancel a context (`NotifyContext`); a graceful stop |
//! | `echo_tcp`, `echo_unix` | network chapters | an echo server: a G per connection |
//! | `udp_multicast` | 7 | a tick server sending to a multicast group, and its listeners |
//! | `uds_vs_tcp` | 8 | one request/response conversation over TCP and a Unix socket, timed |
//! | `exec_pipeline` | processes | `ls \| sort -r \| head`: three children wired through pipes |
//! | `command_context` | processes | `exec.CommandContext`: a child killed when its deadline passes |
//! | `watch_dir` | files | inotify on the netpoller: a directory's changes as events |

pub mod actor;
pub mod backpressure;
pub mod channel_of_channels;
pub mod command_context;
pub mod echo_tcp;
pub mod echo_unix;
pub mod exec_pipeline;
pub mod future_promise;
pub mod parallel_for;
pub mod prime_sieve;
pub mod producer_consumer;
pub mod select_timeout;
pub mod signals;
pub mod sync_primitives;
pub mod udp_multicast;
pub mod uds_vs_tcp;
pub mod watch_dir;
pub mod worker_pool;

use std::io::{self, BufRead};
use std::str::FromStr;

/// The value following `--name` on the command line, or `default` if the flag is absent. A value that
/// does not parse ends the program with a message naming the flag (these are examples: a typo should
/// say so, not panic).
pub fn arg<T: FromStr>(name: &str, default: T) -> T {
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == name {
            match args.next().map(|v| v.parse::<T>()) {
                Some(Ok(v)) => return v,
                Some(Err(_)) | None => {
                    eprintln!("{name}: expected a value of type {}", short_type::<T>());
                    std::process::exit(2);
                }
            }
        }
    }
    default
}

/// Whether `--name` appears on the command line.
pub fn flag(name: &str) -> bool {
    std::env::args().skip(1).any(|a| a == name)
}

/// The next line typed on the terminal (with its newline), or `None` at the end of input. For a G:
/// reading the terminal blocks the thread, so it happens in a blocking section (`gort::blocking`,
/// Go's syscall handoff) and the P goes on running other Gs meanwhile.
pub fn stdin_line() -> io::Result<Option<String>> {
    let line = gort::blocking(|| {
        let mut line = String::new();
        io::stdin().lock().read_line(&mut line).map(|_| line)
    })?;
    Ok(Some(line).filter(|l| !l.is_empty()))
}

fn short_type<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    full.rsplit("::").next().unwrap_or(full)
}
