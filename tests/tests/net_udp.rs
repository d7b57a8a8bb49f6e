//! UDP on the netpoller (gort::net::udp). Loopback only. Datagrams go one at a time (send, then
//! wait for the echo), so none can be dropped for want of buffer space and every one is checked.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gort::net::UdpSocket;
use gort::time::sleep;
use gort::Builder;
use tests::bounded;

fn rt() -> gort::Runtime {
    Builder::new().procs(2).build().expect("runtime")
}

fn payload(i: usize) -> Vec<u8> {
    // Lengths 1..=1200 and contents both depend on i.
    (0..(i * 37) % 1200 + 1)
        .map(|k| (k * 31 + i * 7) as u8)
        .collect()
}

#[test]
fn udp_echo_round_trips_100_datagrams_every_one_checked() {
    rt().block_on(bounded(60, async {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let server_addr = server.local_addr().unwrap();
        let echo = gort::go(async move {
            let mut buf = [0u8; 2048];
            for _ in 0..100 {
                let (n, from) = server.recv_from(&mut buf).await.unwrap();
                assert_eq!(server.send_to(&buf[..n], from).await.unwrap(), n);
            }
        });
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut buf = [0u8; 2048];
        for i in 0..100 {
            let msg = payload(i);
            assert_eq!(client.send_to(&msg, server_addr).await.unwrap(), msg.len());
            let (n, from) = client.recv_from(&mut buf).await.unwrap();
            assert_eq!(from, server_addr);
            assert_eq!(&buf[..n], &msg[..], "datagram {i}");
        }
        echo.await.unwrap();
    }));
}

#[test]
fn connected_udp_sockets_send_and_recv_to_their_peer() {
    rt().block_on(bounded(60, async {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").unwrap();
        a.connect(b.local_addr().unwrap()).unwrap();
        b.connect(a.local_addr().unwrap()).unwrap();
        assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
        let mut buf = [0u8; 16];
        for i in 0..10u8 {
            a.send(&[i; 5]).await.unwrap();
            assert_eq!(b.recv(&mut buf).await.unwrap(), 5);
            assert_eq!(&buf[..5], &[i; 5]);
        }
    }));
}

/// A G waiting in `s.recv_from`, with a moment to park first (the tests hold either way); it
/// returns the datagram's length or the error that woke it.
async fn receiver(s: &Arc<UdpSocket>) -> gort::JoinHandle<io::Result<usize>> {
    let s = s.clone();
    let waiter = gort::go(async move {
        let mut buf = [0u8; 8];
        s.recv_from(&mut buf).await.map(|(n, _)| n)
    });
    sleep(Duration::from_millis(20)).await;
    waiter
}

#[test]
fn udp_recv_deadline_times_out_and_a_waiting_receiver_sees_a_moved_deadline() {
    rt().block_on(bounded(60, async {
        let s = Arc::new(UdpSocket::bind("127.0.0.1:0").unwrap());
        s.set_read_deadline(Some(Instant::now() + Duration::from_millis(20)))
            .unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(
            s.recv_from(&mut buf).await.unwrap_err().kind(),
            io::ErrorKind::TimedOut
        );

        s.set_read_deadline(Some(Instant::now() + Duration::from_secs(3600)))
            .unwrap();
        let waiter = receiver(&s).await;
        s.set_read_deadline(Some(Instant::now())).unwrap();
        assert_eq!(
            waiter.await.unwrap().unwrap_err().kind(),
            io::ErrorKind::TimedOut
        );
    }));
}

#[test]
fn closing_a_udp_socket_wakes_its_receiver_with_an_error() {
    rt().block_on(bounded(60, async {
        let s = Arc::new(UdpSocket::bind("127.0.0.1:0").unwrap());
        let waiter = receiver(&s).await;
        s.close();
        assert_eq!(
            waiter.await.unwrap().unwrap_err().kind(),
            io::ErrorKind::NotConnected
        );
        let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
        assert!(s.send_to(b"x", addr).await.is_err(), "send after close");
    }));
}

#[test]
fn socket_options_round_trip() {
    rt().block_on(async {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_broadcast(true).unwrap();
        assert!(s.broadcast().unwrap());
        s.set_broadcast(false).unwrap();
        assert!(!s.broadcast().unwrap());
        s.set_multicast_loop_v4(false).unwrap();
        assert!(!s.multicast_loop_v4().unwrap());
        s.set_multicast_loop_v4(true).unwrap();
        assert!(s.multicast_loop_v4().unwrap());
        s.set_ttl(17).unwrap();
        assert_eq!(s.ttl().unwrap(), 17);
    });
}

#[test]
fn joining_a_non_multicast_group_is_an_error_not_a_panic() {
    rt().block_on(async {
        let s = UdpSocket::bind("0.0.0.0:0").unwrap();
        let not_a_group = Ipv4Addr::new(127, 0, 0, 1);
        assert!(s
            .join_multicast_v4(&not_a_group, &Ipv4Addr::UNSPECIFIED)
            .is_err());
    });
}

#[test]
fn multicast_join_and_leave_on_loopback_when_the_host_allows_it() {
    rt().block_on(async {
        let s = UdpSocket::bind("0.0.0.0:0").unwrap();
        let group = Ipv4Addr::new(239, 255, 42, 99);
        match s.join_multicast_v4(&group, &Ipv4Addr::LOCALHOST) {
            Ok(()) => {
                // Joined: leaving must work, and leaving twice must fail (not joined any more).
                s.leave_multicast_v4(&group, &Ipv4Addr::LOCALHOST).unwrap();
                assert!(s.leave_multicast_v4(&group, &Ipv4Addr::LOCALHOST).is_err());
            }
            Err(e) => eprintln!("skipping: this host refuses multicast on loopback ({e})"),
        }
    });
}
