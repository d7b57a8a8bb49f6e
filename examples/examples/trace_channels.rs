//! # trace_channels — direct hand-off, buffered send, a sender parked on a full channel
//!
//! Run: `cargo run --release --example trace_channels`
//! Look: open `trace_channels.json` in https://ui.perfetto.dev, or
//!       `cargo run --release --bin gort-trace -- html trace_channels.json -o trace_channels.html`.
//!
//! What to look for, on one P (the three cases of Go's `chansend`, runtime/chan.go):
//! 1. **Direct hand-off.** A receiver parks on an unbuffered channel (`wait: chan receive`). The
//!    sender finds its sudog in `recvq`, copies the value straight to it and readies it: the
//!    `GoUnblock` is `by: G1` with `runnext: true`, so the receiver runs next on the same P.
//! 2. **Buffered send.** Sends into a channel with free slots complete without parking anyone.
//! 3. **Sender parked on a full channel.** A producer outruns a slow consumer on a 2-slot channel and
//!    parks (`wait: chan send`) until a receive makes room and readies it (`by: G1`).
//!
//! Chapter: channel internals — `hchan`, `sudog`, `sendq`/`recvq`, the send and receive cases.

fn main() {
    let trace = examples::trace_start("channels");
    let r = examples::channels(50);
    println!(
        "unbuffered: {} values in order: {}; buffered(2): {} values in order: {}",
        r.unbuffered.len(),
        r.unbuffered.windows(2).all(|w| w[0] < w[1]),
        r.buffered.len(),
        r.buffered.windows(2).all(|w| w[0] < w[1])
    );
    examples::print_stats("stats", &r.stats);
    if let Some(t) = trace.finish() {
        examples::print_trace_facts(&t);
        for wait in ["chan receive", "chan send"] {
            let n = t
                .slices_of("g")
                .filter(|s| gort_trace::model::arg_str(&s.args, "wait") == Some(wait))
                .count();
            println!("runs that ended parked on '{wait}': {n}");
        }
    }
}
