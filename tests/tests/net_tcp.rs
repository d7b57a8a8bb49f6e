//! TCP on the netpoller (gort::net::tcp), deadlines, and the gort::io helpers over TCP.
//! Loopback only; every loop is bounded; nothing asserts speed. A test that would hang fails at
//! its `bounded` limit instead.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gort::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, BufWriter};
use gort::net::{TcpListener, TcpStream};
use gort::time::sleep;
use gort::Builder;
use tests::{bounded, echo_concurrently, ensure_nofile, fill, matches, read_lines};

fn rt() -> gort::Runtime {
    Builder::new().procs(2).build().expect("runtime")
}

/// A connected (client, server) pair over loopback.
async fn pair() -> (TcpStream, TcpStream) {
    let ln = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = ln.local_addr().unwrap();
    let client = gort::go(async move { TcpStream::connect(addr).await.unwrap() });
    let (server, _) = ln.accept().await.unwrap();
    (client.await.unwrap(), server)
}

// ---- tests ---------------------------------------------------------------------------------

#[test]
fn echo_1000_concurrent_connections_of_1mib_each_returns_every_byte_intact() {
    const CONNS: usize = 1000;
    const TOTAL: usize = 1 << 20;
    const CHUNK: usize = 16 * 1024;
    if !ensure_nofile(2 * CONNS as u64 + 200) {
        return;
    }
    rt().block_on(bounded(600, async {
        let ln = Arc::new(TcpListener::bind("127.0.0.1:0").unwrap());
        let addr = ln.local_addr().unwrap();
        let accept = move || {
            let ln = ln.clone();
            async move { ln.accept().await.unwrap().0.into_split() }
        };
        let connect = move || async move { TcpStream::connect(addr).await.unwrap().into_split() };
        echo_concurrently(CONNS, TOTAL, CHUNK, accept, connect).await;
    }));
}

#[test]
fn shared_stream_serves_concurrent_writers_without_interleaving_their_messages() {
    // Many Gs write_all into one Arc<TcpStream>: each message must arrive whole.
    const WRITERS: usize = 8;
    const MSGS: usize = 50;
    const LEN: usize = 3000;
    rt().block_on(bounded(120, async {
        let (client, server) = pair().await;
        let client = Arc::new(client);
        let hs: Vec<_> = (0..WRITERS)
            .map(|w| {
                let client = client.clone();
                gort::go(async move {
                    let msg = vec![w as u8; LEN];
                    for _ in 0..MSGS {
                        client.write_all(&msg).await.unwrap();
                    }
                })
            })
            .collect();
        let mut counts = [0usize; WRITERS];
        let mut msg = vec![0u8; LEN];
        for _ in 0..WRITERS * MSGS {
            server.read_exact(&mut msg).await.unwrap();
            let w = msg[0] as usize;
            assert!(msg.iter().all(|&b| b as usize == w), "interleaved write");
            counts[w] += 1;
        }
        assert!(counts.iter().all(|&c| c == MSGS));
        for h in hs {
            h.await.unwrap();
        }
    }));
}

#[test]
fn read_deadline_times_out_then_reads_succeed_once_it_is_cleared() {
    rt().block_on(bounded(60, async {
        let (client, server) = pair().await;
        server
            .set_read_deadline(Some(Instant::now() + Duration::from_millis(30)))
            .unwrap();
        let mut buf = [0u8; 8];
        let err = server.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        // Still expired: every read fails until the deadline moves.
        assert_eq!(
            server.read(&mut buf).await.unwrap_err().kind(),
            io::ErrorKind::TimedOut
        );
        server.set_read_deadline(None).unwrap();
        client.write_all(b"late").await.unwrap();
        let n = server.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"late");
    }));
}

#[test]
fn passed_deadline_fails_a_read_even_with_data_waiting() {
    rt().block_on(bounded(60, async {
        let (client, server) = pair().await;
        client.write_all(b"ready").await.unwrap();
        server.set_read_deadline(Some(Instant::now())).unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(
            server.read(&mut buf).await.unwrap_err().kind(),
            io::ErrorKind::TimedOut
        );
        server
            .set_read_deadline(Some(Instant::now() + Duration::from_secs(3600)))
            .unwrap();
        server.read_exact(&mut buf[..5]).await.unwrap();
        assert_eq!(&buf[..5], b"ready");
    }));
}

#[test]
fn moving_the_deadline_earlier_wakes_a_waiting_reader_at_the_new_deadline() {
    rt().block_on(bounded(60, async {
        let (_client, server) = pair().await;
        let server = Arc::new(server);
        server
            .set_read_deadline(Some(Instant::now() + Duration::from_secs(3600)))
            .unwrap();
        let reader = {
            let server = server.clone();
            gort::go(async move {
                let mut buf = [0u8; 8];
                server.read(&mut buf).await
            })
        };
        sleep(Duration::from_millis(20)).await; // let the reader park (not required for the test)
        let new_deadline = Instant::now() + Duration::from_millis(20);
        server.set_read_deadline(Some(new_deadline)).unwrap();
        // Without the wake-up and re-armed timer the reader would sleep for an hour and `bounded`
        // would fail the test.
        let err = reader.await.unwrap().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(
            Instant::now() >= new_deadline,
            "timed out before its deadline"
        );
    }));
}

#[test]
fn clearing_the_deadline_while_a_reader_waits_lets_it_wait_for_data() {
    rt().block_on(bounded(60, async {
        let (client, server) = pair().await;
        let server = Arc::new(server);
        let old = Instant::now() + Duration::from_millis(800);
        server.set_read_deadline(Some(old)).unwrap();
        let reader = {
            let server = server.clone();
            gort::go(async move {
                let mut buf = [0u8; 8];
                let n = server.read(&mut buf).await?;
                Ok::<_, io::Error>(buf[..n].to_vec())
            })
        };
        sleep(Duration::from_millis(20)).await;
        server.set_read_deadline(None).unwrap();
        // Well past the old deadline: its timer (if any is still armed) must not fail the read.
        sleep_until_past(old + Duration::from_millis(200)).await;
        client.write_all(b"data").await.unwrap();
        assert_eq!(reader.await.unwrap().unwrap(), b"data");
    }));
}

async fn sleep_until_past(t: Instant) {
    gort::time::sleep_until(t).await;
}

#[test]
fn async_read_of_a_split_half_times_out_at_its_deadline_then_reads_once_cleared() {
    // The AsyncRead path keeps its deadline timer in the handle, across polls; the reader runs in
    // its own G so nothing else wakes it.
    rt().block_on(bounded(60, async {
        let (client, server) = pair().await;
        let (mut half, _w) = server.into_split();
        half.set_read_deadline(Some(Instant::now() + Duration::from_millis(30)))
            .unwrap();
        let reader = gort::go(async move {
            let mut buf = [0u8; 8];
            let first = half.read(&mut buf).await.map(|_| ());
            (first, half)
        });
        let (first, mut half) = reader.await.unwrap();
        assert_eq!(first.unwrap_err().kind(), io::ErrorKind::TimedOut);
        half.set_read_deadline(None).unwrap();
        client.write_all(b"after").await.unwrap();
        let mut buf = [0u8; 5];
        half.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"after");
    }));
}

#[test]
fn write_deadline_times_out_a_writer_blocked_on_a_full_buffer() {
    rt().block_on(bounded(60, async {
        let (client, _server) = pair().await; // the server never reads
        client
            .set_write_deadline(Some(Instant::now() + Duration::from_millis(100)))
            .unwrap();
        let chunk = vec![7u8; 64 * 1024];
        let mut written = 0usize;
        let err = loop {
            match client.write(&chunk).await {
                Ok(n) => written += n,
                Err(e) => break e,
            }
            assert!(written < 1 << 30, "socket buffers never filled");
        };
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(written > 0);
    }));
}

#[test]
fn listener_accept_deadline_times_out() {
    rt().block_on(bounded(60, async {
        let ln = TcpListener::bind("127.0.0.1:0").unwrap();
        ln.set_deadline(Some(Instant::now() + Duration::from_millis(20)))
            .unwrap();
        let err = ln.accept().await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }));
}

#[test]
fn connect_to_a_closed_port_is_refused() {
    rt().block_on(bounded(60, async {
        let addr = {
            let ln = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            ln.local_addr().unwrap()
        }; // closed again: nobody listens there now
        let err = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    }));
}

#[test]
fn shutdown_write_gives_the_peer_eof_while_the_other_direction_keeps_working() {
    rt().block_on(bounded(60, async {
        let (client, server) = pair().await;
        client.write_all(b"request").await.unwrap();
        client.shutdown(std::net::Shutdown::Write).unwrap();
        let mut got = Vec::new();
        let mut r = server;
        r.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"request");
        r.write_all(b"response").await.unwrap();
        let mut buf = [0u8; 8];
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"response");
    }));
}

#[test]
fn addresses_and_options_are_reported() {
    rt().block_on(async {
        let (client, server) = pair().await;
        assert_eq!(client.peer_addr().unwrap(), server.local_addr().unwrap());
        assert_eq!(client.local_addr().unwrap(), server.peer_addr().unwrap());
        // As in Go, both ends of a new TCP connection have Nagle's algorithm off.
        assert!(client.nodelay().unwrap(), "connect sets TCP_NODELAY");
        assert!(server.nodelay().unwrap(), "accept sets TCP_NODELAY");
        client.set_nodelay(true).unwrap();
        assert!(client.nodelay().unwrap());
        client.set_nodelay(false).unwrap();
        assert!(!client.nodelay().unwrap());
    });
}

#[test]
fn bufreader_read_line_splits_lines_across_small_reads() {
    rt().block_on(bounded(60, async {
        let (client, server) = pair().await;
        let writer = gort::go(async move {
            // Bytes trickle in a few at a time so lines straddle reads.
            let text = b"alpha\nbeta\n\ngamma without newline";
            for piece in text.chunks(3) {
                client.write_all(piece).await.unwrap();
                gort::yield_now().await;
            }
        });
        let lines = read_lines(&mut BufReader::with_capacity(4, server), 4).await;
        assert_eq!(lines, ["alpha\n", "beta\n", "\n", "gamma without newline"]);
        writer.await.unwrap();
    }));
}

#[test]
fn read_line_rejects_invalid_utf8_and_leaves_the_string_unchanged() {
    rt().block_on(bounded(60, async {
        let (client, server) = pair().await;
        client.write_all(b"ok\n\xff\xfe\n").await.unwrap();
        let mut r = BufReader::new(server);
        let mut line = String::new();
        r.read_line(&mut line).await.unwrap();
        assert_eq!(line, "ok\n");
        let err = r.read_line(&mut line).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(line, "ok\n");
    }));
}

#[test]
fn io_copy_moves_a_whole_stream_and_counts_its_bytes() {
    // 3 MiB + 17: hundreds of reads of copy's 8 KiB buffer and flushes of the 10 000-byte BufWriter,
    // enough to fill both sockets' buffers (so every G waits on the one after it), and an odd tail.
    const LEN: usize = 3 * 1024 * 1024 + 17;
    rt().block_on(bounded(120, async {
        let (a_client, a_server) = pair().await;
        let (b_client, b_server) = pair().await;
        // a_client -> a_server --copy--> b_client -> b_server
        let source = gort::go(async move {
            let mut data = vec![0u8; LEN];
            fill(1, 0, &mut data);
            a_client.write_all(&data).await.unwrap();
        });
        let copier = gort::go(async move {
            let (mut r, _w) = a_server.into_split();
            let mut w = BufWriter::with_capacity(10_000, b_client);
            let n = gort::io::copy(&mut r, &mut w).await.unwrap();
            w.close().await.unwrap(); // flush, then shut down writing
            n
        });
        // read_all, not futures-util's read_to_end: that one zeroes its spare room again after each
        // wait, which at this size made the test take seconds (gort::io, read_all.rs).
        let mut sink = b_server;
        let got = gort::io::read_all(&mut sink).await.unwrap();
        source.await.unwrap();
        assert_eq!(copier.await.unwrap(), LEN as u64);
        assert_eq!(got.len(), LEN);
        assert!(matches(1, 0, &got));
    }));
}

#[test]
fn ipv6_loopback_round_trip_works_when_available() {
    rt().block_on(bounded(60, async {
        let ln = match TcpListener::bind("[::1]:0") {
            Ok(l) => l,
            Err(e) => {
                eprintln!("skipping: no IPv6 loopback here ({e})");
                return;
            }
        };
        let addr = ln.local_addr().unwrap();
        let c = gort::go(async move {
            let s = TcpStream::connect(addr).await.unwrap();
            s.write_all(b"six").await.unwrap();
        });
        let (s, peer) = ln.accept().await.unwrap();
        assert!(peer.is_ipv6());
        let mut buf = [0u8; 3];
        s.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"six");
        c.await.unwrap();
    }));
}

#[test]
fn concurrent_accepts_on_a_shared_listener_each_get_a_connection() {
    const N: usize = 20;
    rt().block_on(bounded(60, async {
        let ln = Arc::new(TcpListener::bind("127.0.0.1:0").unwrap());
        let addr = ln.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let acceptors: Vec<_> = (0..N)
            .map(|_| {
                let ln = ln.clone();
                let accepted = accepted.clone();
                gort::go(async move {
                    let (s, _) = ln.accept().await.unwrap();
                    accepted.fetch_add(1, Ordering::SeqCst);
                    let mut b = [0u8; 1];
                    s.read_exact(&mut b).await.unwrap();
                    s.write_all(&b).await.unwrap();
                })
            })
            .collect();
        for i in 0..N {
            let c = TcpStream::connect(addr).await.unwrap();
            c.write_all(&[i as u8]).await.unwrap();
            let mut b = [0u8; 1];
            c.read_exact(&mut b).await.unwrap();
            assert_eq!(b[0], i as u8);
        }
        for a in acceptors {
            a.await.unwrap();
        }
        assert_eq!(accepted.load(Ordering::SeqCst), N);
    }));
}

#[test]
fn binding_outside_a_runtime_is_an_error_naming_the_fix() {
    let err = TcpListener::bind("127.0.0.1:0").expect_err("no runtime here");
    let msg = err.to_string();
    assert!(msg.contains("outside a gort runtime"), "{msg}");
    assert!(
        msg.contains("gort::run"),
        "the message names the fix: {msg}"
    );
    let err = gort::net::UdpSocket::bind("127.0.0.1:0").expect_err("no runtime here");
    assert!(err.to_string().contains("outside a gort runtime"));
}
