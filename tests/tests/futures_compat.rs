//! The futures ecosystem on gort's types, as the README promises: futures-util's `StreamExt` and
//! `select_all` over channels (`chan::Receiver` is a `Stream`), and the io extension traits and
//! `copy` (re-exported as `gort::io`) over sockets and child pipes.

use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use gort::chan;
use gort::io::{AsyncBufReadExt, BufReader};
use gort::net::UnixStream;
use gort::process::{Command, Stdio};
use tests::run_within;

const LIMIT: Duration = Duration::from_secs(20);

#[test]
fn stream_ext_and_select_all_work_on_channel_receivers() {
    let (sum, merged) = run_within(2, LIMIT, async {
        let (tx, rx) = chan::channel::<u32>(4);
        gort::go(async move {
            for i in 1..=10 {
                tx.send(i).await.unwrap();
            }
        }); // tx dropped: the channel closes, the stream ends
        let sum: u32 = rx.map(|x| x * 2).fold(0, |a, x| async move { a + x }).await;

        let rxs: Vec<_> = (0..3u32)
            .map(|k| {
                let (tx, rx) = chan::channel::<u32>(0);
                gort::go(async move {
                    for i in 0..4 {
                        tx.send(k * 10 + i).await.unwrap();
                    }
                });
                rx
            })
            .collect();
        let mut merged: Vec<u32> = stream::select_all(rxs).collect().await;
        merged.sort_unstable();
        (sum, merged)
    });
    assert_eq!(sum, 110);
    assert_eq!(merged, [0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23]);
}

#[test]
fn lines_and_copy_work_on_sockets_and_child_pipes() {
    let lines = run_within(2, LIMIT, async {
        // A child's stdout copied into a socket with gort::io::copy, read back as lines.
        let (mut a, b) = UnixStream::pair().unwrap();
        let mut child = Command::new("printf")
            .arg("one\\ntwo\\nthree\\n")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = child.stdout.take().unwrap();
        let n = gort::io::copy(&mut out, &mut a).await.unwrap();
        assert_eq!(n, 14);
        drop(a); // end of stream for the reader
        assert!(child.wait().await.unwrap().success());
        BufReader::new(b)
            .lines()
            .map(|l| l.unwrap())
            .collect::<Vec<String>>()
            .await
    });
    assert_eq!(lines, ["one", "two", "three"]);
}
