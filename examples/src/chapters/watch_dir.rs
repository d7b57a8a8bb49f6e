//! Watching a directory: inotify on the netpoller (Go book, files chapter; Go's `fsnotify`).
//!
//! `watch_dir` adds a watch on a directory and sends every event it reads to a channel until a
//! time limit passes. Waiting for the next event parks the G on the inotify descriptor, exactly
//! like a read on an idle socket: no thread is spent and no polling loop runs. `make_changes` is
//! the other side, for a self-contained demo: it creates, writes, renames and deletes a file and a
//! directory, pausing between steps so each shows up on its own.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use gort::chan::Sender;
use gort::fs::watch::{Event, Mask, Watcher};
use gort::time::timeout;

/// Watch `dir` (creates, writes, closes, moves, deletes, attribute changes) and send each event to
/// `out` until `limit` has passed or `out`'s receiver is gone. Returns how many events were seen.
pub async fn watch_dir(dir: PathBuf, limit: Duration, out: Sender<Event>) -> io::Result<usize> {
    let mut w = Watcher::new()?;
    w.add(&dir, Mask::ALL)?;
    let end = Instant::now() + limit;
    let mut seen = 0;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        match timeout(left, w.next_event()).await {
            Err(_) => return Ok(seen), // the time is up
            Ok(ev) => {
                seen += 1;
                if out.send(ev?).await.is_err() {
                    return Ok(seen); // nobody listens any more
                }
            }
        }
    }
}

/// Create `notes.txt` with a line in it, rename it `notes.old`, make and remove a directory `tmp`,
/// delete `notes.old` — each step a blocking file operation, `pause` apart.
pub async fn make_changes(dir: &Path, pause: Duration) -> io::Result<()> {
    let steps: [fn(&Path) -> io::Result<()>; 5] = [
        |d| std::fs::write(d.join("notes.txt"), b"first line\n"),
        |d| std::fs::rename(d.join("notes.txt"), d.join("notes.old")),
        |d| std::fs::create_dir(d.join("tmp")),
        |d| std::fs::remove_dir(d.join("tmp")),
        |d| std::fs::remove_file(d.join("notes.old")),
    ];
    for step in steps {
        gort::blocking(|| step(dir))?;
        gort::time::sleep(pause).await;
    }
    Ok(())
}
