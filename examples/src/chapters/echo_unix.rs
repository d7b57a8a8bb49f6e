//! The echo server and client of `echo_tcp`, over a Unix-domain socket (Go's `net.Listen("unix",
//! path)`): the same G-per-connection loop (`serve`, which takes any `Listener`) and the same
//! `echo`/`exchange` code; only the listener and the address differ. A Unix socket is named by a
//! path in the file system; the listener creates the file, and it stays after the listener closes
//! (see `runtime/src/net/unix.rs`), so the server removes a stale one before binding and its own
//! when done.

use std::io;
use std::path::{Path, PathBuf};

use gort::net::{UnixListener, UnixStream};

use super::echo_tcp::{collect, finish, run_client, serve, Report};

/// Bind `path`, removing a socket file a previous run left behind (only a socket: never a regular
/// file someone mistyped).
pub fn listen(path: &Path) -> io::Result<UnixListener> {
    use std::os::unix::fs::FileTypeExt;
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if meta.file_type().is_socket() {
            std::fs::remove_file(path)?;
        }
    }
    UnixListener::bind(path)
}

/// A fresh socket path in the temporary directory, unique to this process and `tag`.
pub fn temp_path(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("gort-{tag}-{}.sock", std::process::id()))
}

/// Start an echo server on `path` and `clients` client Gs, each making `msgs` round trips of
/// `size` bytes on its own connection. The socket file is removed afterwards.
pub async fn demo(path: PathBuf, clients: usize, msgs: usize, size: usize) -> io::Result<Report> {
    let ln = listen(&path)?;
    let server = gort::go(serve(ln, Some(clients)));
    let handles: Vec<_> = (0..clients)
        .map(|c| {
            let path = path.clone();
            gort::go(async move {
                let mut conn = UnixStream::connect(&path).await?;
                run_client(&mut conn, c, msgs, size).await
            })
        })
        .collect();
    let report = finish(server, collect(handles).await).await;
    let _ = std::fs::remove_file(&path);
    report
}
