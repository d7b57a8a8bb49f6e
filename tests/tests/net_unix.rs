//! Unix-domain sockets on the netpoller (gort::net::unix): streams, datagrams, split halves,
//! deadlines. Socket files live in a per-test temporary directory.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gort::io::AsyncReadExt;
use gort::net::{UnixDatagram, UnixListener, UnixStream};
use gort::time::sleep;
use gort::Builder;
use tests::{bounded, echo_concurrently, ensure_nofile};

fn rt() -> gort::Runtime {
    Builder::new().procs(2).build().expect("runtime")
}

/// A fresh socket path under a directory unique to this process and test.
fn sock_path(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gort-net-unix-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("{test}.sock"));
    let _ = std::fs::remove_file(&p);
    p
}

#[test]
fn echo_1000_concurrent_unix_connections_returns_every_byte_intact() {
    const CONNS: usize = 1000;
    const TOTAL: usize = 1 << 20;
    const CHUNK: usize = 16 * 1024;
    if !ensure_nofile(2 * CONNS as u64 + 200) {
        return;
    }
    let path = sock_path("echo_1000");
    rt().block_on(bounded(600, {
        let path = path.clone();
        async move {
            let ln = Arc::new(UnixListener::bind(&path).unwrap());
            let accept = move || {
                let ln = ln.clone();
                async move { ln.accept().await.unwrap().0.into_split() }
            };
            let connect = move || {
                let path = path.clone();
                async move { UnixStream::connect(&path).await.unwrap().into_split() }
            };
            echo_concurrently(CONNS, TOTAL, CHUNK, accept, connect).await;
        }
    }));
    let _ = std::fs::remove_file(&path);
}

#[test]
fn stream_pair_round_trips_through_the_shared_api() {
    rt().block_on(bounded(60, async {
        let (a, b) = UnixStream::pair().unwrap();
        a.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        b.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
        b.write_all(b"pong").await.unwrap();
        a.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"pong");
    }));
}

#[test]
fn unix_read_deadline_times_out_then_reads_succeed_once_cleared() {
    rt().block_on(bounded(60, async {
        let (a, b) = UnixStream::pair().unwrap();
        b.set_read_deadline(Some(Instant::now() + Duration::from_millis(20)))
            .unwrap();
        let mut buf = [0u8; 4];
        assert_eq!(
            b.read(&mut buf).await.unwrap_err().kind(),
            io::ErrorKind::TimedOut
        );
        b.set_read_deadline(None).unwrap();
        a.write_all(b"late").await.unwrap();
        b.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"late");
    }));
}

#[test]
fn closing_the_write_half_wakes_a_reader_waiting_on_the_read_half_with_an_error() {
    rt().block_on(bounded(60, async {
        let (a, _b) = UnixStream::pair().unwrap();
        let (mut r, w) = a.into_split();
        let reader = gort::go(async move {
            let mut buf = [0u8; 4];
            r.read(&mut buf).await
        });
        sleep(Duration::from_millis(20)).await; // let it park (the test holds either way)
        w.close();
        let err = reader.await.unwrap().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotConnected);
    }));
}

#[test]
fn dropping_the_write_half_sends_eof_but_the_read_half_keeps_reading() {
    rt().block_on(bounded(60, async {
        let (a, b) = UnixStream::pair().unwrap();
        let (mut r, w) = a.into_split();
        drop(w);
        let mut got = Vec::new();
        let mut b = b;
        b.read_to_end(&mut got).await.unwrap();
        assert!(got.is_empty(), "peer saw EOF");
        b.write_all(b"still here").await.unwrap();
        let mut buf = [0u8; 10];
        r.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"still here");
    }));
}

#[test]
fn closing_a_unix_listener_wakes_a_g_waiting_in_accept() {
    let path = sock_path("close_listener");
    rt().block_on(bounded(60, {
        let path = path.clone();
        async move {
            let ln = Arc::new(UnixListener::bind(&path).unwrap());
            let acceptor = {
                let ln = ln.clone();
                gort::go(async move { ln.accept().await.map(|_| ()) })
            };
            sleep(Duration::from_millis(20)).await;
            ln.close();
            let err = acceptor.await.unwrap().unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::NotConnected);
            assert!(ln.accept().await.is_err(), "accept after close must fail");
        }
    }));
    let _ = std::fs::remove_file(&path);
}

#[test]
fn unix_datagrams_round_trip_between_bound_paths() {
    let pa = sock_path("dgram_a");
    let pb = sock_path("dgram_b");
    rt().block_on(bounded(60, {
        let (pa, pb) = (pa.clone(), pb.clone());
        async move {
            let a = UnixDatagram::bind(&pa).unwrap();
            let b = UnixDatagram::bind(&pb).unwrap();
            let echo = gort::go(async move {
                let mut buf = [0u8; 64];
                for _ in 0..50 {
                    let (n, from) = b.recv_from(&mut buf).await.unwrap();
                    let to = from.as_pathname().unwrap().to_path_buf();
                    b.send_to(&buf[..n], &to).await.unwrap();
                }
            });
            let mut buf = [0u8; 64];
            for i in 0..50u32 {
                let msg = format!("datagram {i}");
                a.send_to(msg.as_bytes(), &pb).await.unwrap();
                let (n, from) = a.recv_from(&mut buf).await.unwrap();
                assert_eq!(&buf[..n], msg.as_bytes());
                assert_eq!(from.as_pathname(), Some(pb.as_path()));
            }
            echo.await.unwrap();
        }
    }));
    let _ = std::fs::remove_file(&pa);
    let _ = std::fs::remove_file(&pb);
}

#[test]
fn unix_datagram_pair_keeps_message_boundaries() {
    rt().block_on(bounded(60, async {
        let (a, b) = UnixDatagram::pair().unwrap();
        a.send(b"one").await.unwrap();
        a.send(b"three").await.unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(b.recv(&mut buf).await.unwrap(), 3);
        assert_eq!(&buf[..3], b"one");
        assert_eq!(b.recv(&mut buf).await.unwrap(), 5);
        assert_eq!(&buf[..5], b"three");
        b.set_read_deadline(Some(Instant::now() + Duration::from_millis(10)))
            .unwrap();
        assert_eq!(
            b.recv(&mut buf).await.unwrap_err().kind(),
            io::ErrorKind::TimedOut
        );
    }));
}

#[test]
fn connecting_to_a_missing_path_fails_cleanly() {
    let path = sock_path("nobody_listens");
    rt().block_on(async move {
        let err = UnixStream::connect(&path).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    });
}
