//! # watch_dir — a directory's changes as they happen (inotify on the netpoller)
//!
//! Run: `cargo run --release --example watch_dir` (a demo: it watches a fresh temporary directory
//! and changes it itself), or `cargo run --release --example watch_dir -- --dir . --secs 30` and
//! touch, edit, rename and delete files there from another terminal.
//!
//! What to watch for: one line per event, as it happens — `Create notes.txt`, `Modify`,
//! `CloseWrite`, a `MovedFrom`/`MovedTo` pair sharing a cookie, directories marked `[dir]`,
//! `Delete`. Between events the watching G is parked on the inotify descriptor: the process uses
//! no CPU while nothing changes.
//!
//! Chapter: Go book, files (`fsnotify`); runtime story: any pollable descriptor goes on the
//! netpoller (`runtime/src/fs/watch.rs`, `runtime/src/net/fd_source.rs`).

use std::error::Error;
use std::path::PathBuf;
use std::time::Duration;

use examples::chapters::{arg, watch_dir};

#[gort::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let dir: PathBuf = arg("--dir", PathBuf::new());
    let demo = dir.as_os_str().is_empty();
    let secs: u64 = arg("--secs", if demo { 1 } else { 30 });
    let dir = if demo {
        let d = std::env::temp_dir().join(format!("gort-watch-dir-{}", std::process::id()));
        std::fs::create_dir_all(&d)?;
        d
    } else {
        dir
    };
    println!("watching {} for {secs}s", dir.display());
    let (tx, rx) = gort::chan::channel(16);
    let watcher = gort::go(watch_dir::watch_dir(
        dir.clone(),
        Duration::from_secs(secs),
        tx,
    ));
    if demo {
        let d = dir.clone();
        gort::go(async move {
            // Give the watcher a moment to add its watch before the first change.
            gort::time::sleep(Duration::from_millis(50)).await;
            if let Err(e) = watch_dir::make_changes(&d, Duration::from_millis(50)).await {
                eprintln!("making changes failed: {e}");
            }
        });
    }
    while let Some(ev) = rx.recv().await {
        let name = ev
            .name
            .as_ref()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dir_mark = if ev.is_dir() { " [dir]" } else { "" };
        let cookie = if ev.cookie != 0 {
            format!(" (cookie {})", ev.cookie)
        } else {
            String::new()
        };
        println!("{:?} {name}{dir_mark}{cookie}", ev.kind);
    }
    let seen = watcher.await??;
    println!("{seen} events");
    if demo {
        std::fs::remove_dir_all(&dir)?;
    }
    Ok(())
}
