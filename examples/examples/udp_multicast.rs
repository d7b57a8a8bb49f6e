//! # udp_multicast — a tick server sending to a multicast group, and listeners receiving it
//!
//! Run:
//! - `cargo run --release --example udp_multicast` — both ends in one program: a listener joins
//!   239.0.0.1 on the loopback interface, a tick server sends 10 timestamps 100 ms apart;
//! - in separate terminals, as many listeners as you like and one server:
//!   `cargo run --release --example udp_multicast -- --listen --port 9999` and
//!   `cargo run --release --example udp_multicast -- --serve --port 9999 --every-ms 500`.
//!   Options: `--group 239.0.0.1 --iface 127.0.0.1 --count N`.
//!
//! What to watch for: every listener prints every tick, with how long it took to arrive; the server
//! sends each one once and knows nothing about the listeners. If this host cannot do multicast (no
//! route or interface for it, or a sandbox that drops it) the program says so and exits 0.
//!
//! Chapter: Go book ch. 7 (UDP, multicast: `net.ListenMulticastUDP`); runtime story: a UDP socket
//! on the netpoller, a read deadline, a ticker.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use examples::chapters::udp_multicast::{self as mc, McError};
use examples::chapters::{arg, flag};

fn main() {
    let group: Ipv4Addr = arg("--group", mc::GROUP);
    let iface: Ipv4Addr = arg("--iface", mc::IFACE);
    let port: u16 = arg("--port", 9999);
    let every = Duration::from_millis(arg("--every-ms", 100));
    let count: u64 = arg("--count", if flag("--serve") { u64::MAX } else { 10 });
    let r = gort::run(async move {
        if flag("--serve") {
            serve(group, port, iface, every, count).await
        } else if flag("--listen") {
            listen(group, port, iface, count).await
        } else {
            demo(group, iface, every, count).await
        }
    });
    match r {
        Ok(()) => {}
        Err(McError::Unavailable(why)) => {
            println!(
                "udp_multicast: this host cannot do multicast here, so there is nothing to show."
            );
            println!("  ({why})");
            println!("  Try another interface with --iface <its IPv4 address>.");
        }
        Err(McError::Other(e)) => {
            eprintln!("udp_multicast: {e}");
            std::process::exit(1);
        }
    }
}

fn print(r: &mc::Received) {
    println!(
        "tick {:>3} from {}: arrived {:.3} ms after it was sent",
        r.tick.seq,
        r.from,
        r.age.as_secs_f64() * 1e3
    );
}

async fn demo(
    group: Ipv4Addr,
    iface: Ipv4Addr,
    every: Duration,
    count: u64,
) -> Result<(), McError> {
    println!(
        "listener joins {group} on {iface}; tick server sends {count} ticks, one every {every:?}"
    );
    let got = mc::demo(group, iface, every, count).await?;
    for r in &got {
        print(r);
    }
    println!("received {} of {count}", got.len());
    Ok(())
}

async fn serve(
    group: Ipv4Addr,
    port: u16,
    iface: Ipv4Addr,
    every: Duration,
    count: u64,
) -> Result<(), McError> {
    let tx = mc::sender(iface)?;
    let to = SocketAddr::from((group, port));
    println!("sending a tick to {to} via {iface} every {every:?} (Ctrl-C stops)");
    let sent = mc::tick_server(&tx, to, every, Some(count))
        .await
        .map_err(McError::Other)?;
    println!("sent {sent} ticks");
    Ok(())
}

async fn listen(group: Ipv4Addr, port: u16, iface: Ipv4Addr, count: u64) -> Result<(), McError> {
    let rx = mc::listener(group, port, iface)?;
    println!("joined {group} on {iface}, listening on port {port} (Ctrl-C stops)");
    for _ in 0..count {
        // One at a time, waiting as long as it takes: the server may start later.
        let got = mc::listen(&rx, 1, Duration::from_secs(24 * 3600))
            .await
            .map_err(McError::Other)?;
        got.iter().for_each(print);
    }
    Ok(())
}
