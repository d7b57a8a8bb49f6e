//! # channel_of_channels — requests that carry their own reply channel
//!
//! Run: `cargo run --release --example channel_of_channels -- --clients 4 --n 5`
//!
//! What to watch for: one server G answers every client, and each answer finds its way back to the
//! client that asked, with no request ids and no shared table: the reply channel travels inside the
//! request. The server ends by itself when the last client drops its handle to the request channel.
//!
//! Chapter: Go book ch. 15, concurrency patterns (Effective Go, "channels of channels").

use examples::chapters::{arg, channel_of_channels::channel_of_channels};

fn main() {
    let clients: u64 = arg("--clients", 4);
    let n: u64 = arg("--n", 5);
    let r = gort::run(channel_of_channels(clients, n));
    for (asked, answer) in &r.answers {
        match answer {
            Some(a) => println!("client {} asked {asked}^2 -> {a}", asked / n.max(1)),
            None => println!("client {} asked {asked}^2 -> no answer", asked / n.max(1)),
        }
    }
    let right = r.answers.iter().all(|&(asked, a)| a == Some(asked * asked));
    println!(
        "server answered {} requests; all answers right: {}",
        r.served,
        if right { "yes" } else { "NO" }
    );
}
