//! # actor — one G owns the state; everybody else sends it messages
//!
//! Run: `cargo run --release --example actor -- --clients 8 --ops 1000`
//!
//! What to watch for: many client Gs deposit and withdraw on one account at once, with no lock.
//! The account's G handles one message at a time, so a withdrawal's "check, then take" cannot be
//! interleaved with another: some withdrawals are refused, none overdraws, and the clients' own
//! tally matches the account's books to the unit.
//!
//! Chapter: Go book ch. 15, concurrency patterns ("share memory by communicating").

use examples::chapters::{actor, arg};

fn main() {
    let clients: u64 = arg("--clients", 8);
    let ops: u64 = arg("--ops", 1000);
    let initial: u64 = arg("--initial", 100);
    let r = gort::run(actor::actor(clients, ops, initial));
    let b = r.books;
    println!("{clients} clients x {ops} operations on an account opened with {initial}");
    println!(
        "clients' tally: deposited {}, withdrew {}, refused {}",
        r.deposited, r.withdrawn, r.rejected
    );
    println!(
        "account books:  deposited {}, withdrew {}, refused {}, balance {}",
        b.deposited, b.withdrawn, b.rejected, b.balance
    );
    let consistent = b.deposited == r.deposited
        && b.withdrawn == r.withdrawn
        && b.rejected == r.rejected
        && b.balance == initial + r.deposited - r.withdrawn
        && r.last_balance == b.balance;
    println!(
        "initial + deposited - withdrawn = {}; consistent: {}",
        initial + r.deposited - r.withdrawn,
        if consistent { "yes" } else { "NO" }
    );
}
