//! # trace_work_stealing — one P floods, the idle Ps steal half
//!
//! Run: `cargo run --release --example trace_work_stealing`
//!      (`GORTDEBUG=schedtrace=2 cargo run --release --example trace_work_stealing` shows the
//!      local queues `[...]` draining in Go's SCHED lines)
//! Look: open `trace_work_stealing.json` in https://ui.perfetto.dev, or
//!       `cargo run --release --bin gort-trace -- html trace_work_stealing.json -o trace_work_stealing.html`.
//!
//! What to look for: a P per core (2 to 4). One G spawns 200 Gs of ~200 µs each: they all land on its own P's
//! local queue. The first spawn's `wakep` starts a spinning M for an idle P; it finds nothing local
//! or global and steals: each `Steal` mark (on the thief's row) says how many Gs it took — half the
//! victim's queue, rounded up (`runqgrab`). A spinning M that finds work calls `wakep` again, so the
//! next idle P wakes and steals too, from whichever P has work, until every P is busy. At the end
//! the queues run dry, the Ms spin briefly, give up their Ps and park (the `parked` slices on the M
//! tracks).
//!
//! Chapter: work stealing — `stealWork`, `runqgrab`, and the spinning-M protocol that decides how
//! many idle Ms go looking.

use std::time::{Duration, Instant};

fn main() {
    let trace = examples::trace_start("work_stealing");
    let t0 = Instant::now();
    let r = examples::work_stealing(examples::demo_procs(), 200, Duration::from_micros(200));
    println!("200 Gs in {:?}; Gs run per P: {:?}", t0.elapsed(), r.per_p);
    examples::print_stats("stats", &r.stats);
    if let Some(t) = trace.finish() {
        examples::print_trace_facts(&t);
        let sizes: Vec<String> = t
            .instants_named("Steal")
            .map(|i| {
                let arg = |k| gort_trace::model::arg_u64(&i.args, k).unwrap_or(0);
                format!("P{}←P{}:{}", arg("thief"), arg("victim"), arg("n"))
            })
            .collect();
        println!("steals (thief←victim:count): {}", sizes.join(" "));
    }
}
