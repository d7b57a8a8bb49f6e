//! # trace_netpoller — Gs parked on sockets, woken in netpoll batches
//!
//! Run: `cargo run --release --example trace_netpoller`
//! Look: open `trace_netpoller.json` in https://ui.perfetto.dev, or
//!       `cargo run --release --bin gort-trace -- html trace_netpoller.json -o trace_netpoller.html`.
//!
//! What to look for: 32 client Gs and 32 echo-server Gs on loopback TCP. Every read that finds no
//! data returns `WouldBlock`; the G registers its waker in the socket's poll descriptor and parks
//! (`end: parked, wait: IO wait`). When the peer writes, epoll reports the socket; the M that runs
//! `netpoll` — without blocking from `findRunnable` when it has nothing else to do, blocking when it
//! is the last M going idle, or sysmon every 10 ms — turns the ready descriptors into runnable Gs
//! (`GoUnblock by: netpoll`), several at a time in one `Netpoll` batch, queued in order.
//!
//! Chapter: case studies — network I/O through epoll (Go's netpoll.go, netpoll_epoll.go).

fn main() {
    let trace = examples::trace_start("netpoller");
    let r = examples::netpoller(examples::demo_procs(), 32, 200);
    println!("{} echo round trips over loopback TCP", r.round_trips);
    examples::print_stats("stats", &r.stats);
    if let Some(t) = trace.finish() {
        examples::print_trace_facts(&t);
        let by_netpoll = t
            .instants_named("GoUnblock")
            .filter(|i| gort_trace::model::arg_str(&i.args, "by") == Some("netpoll"));
        println!(
            "Gs woken by the netpoller: {}, in {} netpoll batches",
            by_netpoll.count(),
            t.instants_named("Netpoll").count()
        );
    }
}
