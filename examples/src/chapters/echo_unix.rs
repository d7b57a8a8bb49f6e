//! The echo server and client of `echo_tcp`, over a Unix-domain socket (Go's `net.Listen("unix",
//! path)`): the same G-per-connection loop and the same `echo`/`exchange` code, only the listener
//! and the address differ. A Unix socket is named by a path in the file system; the listener
//! creates the file, and it stays after the listener closes (see `runtime/src/net/unix.rs`), so
//! the server removes a stale one before binding and its own when done.

use std::io;
use std::path::{Path, PathBuf};

use gort::net::{UnixListener, UnixStream};

use super::echo_tcp::{collect, echo, finish, run_client, Report};

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

/// The accept loop: a G per connection. Serves `max` connections (then returns), or forever.
pub async fn serve(ln: UnixListener, max: Option<usize>) -> io::Result<()> {
    let mut accepted = 0;
    while Some(accepted) != max {
        let (conn, _peer) = ln.accept().await?;
        accepted += 1;
        drop(gort::go(echo(conn)));
    }
    Ok(())
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
