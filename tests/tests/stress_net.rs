//! 10 000 concurrent loopback TCP connections echoing with zero lost bytes.
//!
//! 10 000 connections need 20 000 descriptors if both ends live in one process, and this kind of
//! machine caps a process at 20 000 (the hard RLIMIT_NOFILE). So the echo servers run here and the
//! clients run in a child process (this test binary re-executed on the ignored
//! `stress_net_client_side` test): each side needs ~10 000. If even that cannot be had, the test says
//! so and skips.

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gort::net::{TcpListener, TcpStream};
use gort::Builder;

const CONNS: usize = 10_000;
const BYTES_PER_CONN: usize = 16 * 1024;
const CLIENT_ENV: &str = "GORT_STRESS_NET_ADDR";

/// Raise the soft descriptor limit as far as the hard limit allows; returns the new soft limit.
fn raise_nofile() -> u64 {
    // SAFETY: getrlimit/setrlimit with a valid rlimit struct.
    unsafe {
        let mut r: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) != 0 {
            return 0;
        }
        r.rlim_cur = r.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &r);
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut r);
        r.rlim_cur as u64
    }
}

fn pattern(conn: usize, i: usize) -> u8 {
    (conn.wrapping_mul(31).wrapping_add(i.wrapping_mul(7)) % 251) as u8
}

#[test]
fn ten_thousand_concurrent_tcp_connections_echo_every_byte() {
    let limit = raise_nofile();
    if limit < (CONNS + 200) as u64 {
        eprintln!(
            "skipping: RLIMIT_NOFILE is {limit}, need {} per side",
            CONNS + 200
        );
        return;
    }
    let rt = Builder::new().procs(2).build().unwrap();
    let (echoed, status) = rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let echoed = Arc::new(AtomicU64::new(0));
        let e2 = echoed.clone();
        let server = gort::go(async move {
            let mut conns = Vec::with_capacity(CONNS);
            for _ in 0..CONNS {
                let (s, _) = listener.accept().await.expect("accept");
                let echoed = e2.clone();
                conns.push(gort::go(async move {
                    let mut buf = vec![0u8; 8192];
                    loop {
                        let n = s.read(&mut buf).await?;
                        if n == 0 {
                            s.shutdown(Shutdown::Write)?;
                            return io::Result::Ok(());
                        }
                        s.write_all(&buf[..n]).await?;
                        echoed.fetch_add(n as u64, Ordering::Relaxed);
                    }
                }));
            }
            for c in conns {
                c.await.expect("echo G").expect("echo I/O");
            }
        });
        let exe = std::env::current_exe().expect("test binary");
        let status = gort::blocking(move || {
            std::process::Command::new(exe)
                .args([
                    "--ignored",
                    "--exact",
                    "stress_net_client_side",
                    "--nocapture",
                ])
                .env(CLIENT_ENV, addr.to_string())
                .status()
        })
        .expect("run the client process");
        if status.success() {
            server.await.expect("server");
        }
        (echoed.load(Ordering::Relaxed), status)
    });
    assert!(status.success(), "client process failed: {status}");
    assert_eq!(
        echoed,
        (CONNS * BYTES_PER_CONN) as u64,
        "bytes lost or duplicated"
    );
    println!("{CONNS} connections echoed {echoed} bytes");
}

/// The client half, run in a child process by the test above.
#[test]
#[ignore = "run by ten_thousand_concurrent_tcp_connections_echo_every_byte in a child process"]
fn stress_net_client_side() {
    let Ok(addr) = std::env::var(CLIENT_ENV) else {
        panic!("run by the parent test, with {CLIENT_ENV} set");
    };
    let addr: SocketAddr = addr.parse().expect("address");
    raise_nofile();
    let rt = Builder::new().procs(2).build().unwrap();
    let checked = rt.block_on(async move {
        let run = async move {
            let hs: Vec<_> = (0..CONNS)
                .map(|c| {
                    gort::go(async move {
                        let s = TcpStream::connect(addr).await?;
                        let (mut rd, mut wr) = s.into_split();
                        let writer = gort::go(async move {
                            let data: Vec<u8> =
                                (0..BYTES_PER_CONN).map(|i| pattern(c, i)).collect();
                            for chunk in data.chunks(4096) {
                                wr.write_all(chunk).await?;
                            }
                            drop(wr); // shuts down our write side: the server sees EOF
                            io::Result::Ok(())
                        });
                        let mut got = 0usize;
                        let mut buf = vec![0u8; 8192];
                        loop {
                            let n = rd.read(&mut buf).await?;
                            if n == 0 {
                                break;
                            }
                            for (k, &b) in buf[..n].iter().enumerate() {
                                if b != pattern(c, got + k) {
                                    return Err(io::Error::other(format!(
                                        "conn {c}: byte {} corrupted",
                                        got + k
                                    )));
                                }
                            }
                            got += n;
                        }
                        writer.await.map_err(io::Error::other)??;
                        if got != BYTES_PER_CONN {
                            return Err(io::Error::other(format!(
                                "conn {c}: {got} of {BYTES_PER_CONN} bytes"
                            )));
                        }
                        Ok(got)
                    })
                })
                .collect();
            let mut total = 0usize;
            for h in hs {
                total += h.await.expect("client G").expect("client I/O");
            }
            total
        };
        gort::time::timeout(Duration::from_secs(240), run)
            .await
            .expect("clients finished in time")
    });
    assert_eq!(checked, CONNS * BYTES_PER_CONN);
}
