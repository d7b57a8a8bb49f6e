//! What the execution tracer costs, on the executor workloads of `rt_multi_threaded` (tokio's
//! `benches/rt_multi_threaded.rs` set, from `benches::workloads`). For each workload, one group
//! `trace_<workload>` with three entries measured in the same run (and, for scale, `tcp_echo`: 2 000
//! round trips of 64 bytes over loopback, Gs that make syscalls and park on the netpoller):
//! - `tokio`: the comparison peer, so the run's noise level is visible;
//! - `gort`: tracing off — the hooks are compiled in and each costs one relaxed load and a branch;
//! - `gort_traced`: tracing on, recording every event into memory (the trace is written to a sink
//!   between samples, outside the timed region).
//!
//! Those three are measured one after another, seconds apart, and on a shared 2-vCPU VM the
//! machine's speed drifts by more than the effect being measured. So the bench also measures the
//! ratio directly, paired: it alternates one round with tracing off and one with tracing on, 101
//! pairs per workload, and reports the median of the per-pair ratios `on / off` (drift between two
//! adjacent rounds is small; the median ignores the pairs a hiccup hit). That table is printed and
//! saved for `bench-report`; the budget is 1.35x on the scheduler-only workloads (`yield_many`,
//! `ping_pong`, `chained_spawn`).
//!
//! The price of the hooks while tracing is off is below what wall-clock time can resolve on a
//! shared 2-core VM; `scripts/trace_disabled_cost.sh` measures it by counting instructions
//! (callgrind) in this build and in one built with `--cfg gort_notrace`, where the hooks compile
//! to nothing, and also runs this bench in both builds (the `gort/tokio` ratios side by side).
//! Under `gort_notrace` the `gort_traced` entries are skipped.
//!
//! Run: `cargo bench -p benches --bench trace_overhead`, or with a filter (`... -- yield_many`) to
//! run only the workloads whose group name contains it (criterion's entries and the paired rounds).

use std::time::{Duration, Instant};

use benches::echo;
use benches::report::{self, Estimate};
use benches::workloads::{self, Named};
use benches::{workers, Gort, Peer, Tokio};
use criterion::Criterion;

/// A workload and how many of its rounds fit in one trace session without reaching the
/// tracer's cap (48 MiB of events, ~7 bytes each), with a wide margin.
struct Workload {
    work: &'static Named,
    rounds_per_session: u64,
}

const WORKLOADS: &[Workload] = &[
    Workload {
        // ~4 events per G (create, start, end, and the parent's unblock at the end).
        work: &workloads::EXECUTOR[0],
        rounds_per_session: 40,
    },
    Workload {
        work: &workloads::EXECUTOR[1],
        rounds_per_session: 40,
    },
    Workload {
        // 200k polls, two events each.
        work: &workloads::EXECUTOR[2],
        rounds_per_session: 4,
    },
    Workload {
        work: &workloads::EXECUTOR[3],
        rounds_per_session: 40,
    },
    Workload {
        work: &workloads::EXECUTOR[4],
        rounds_per_session: 200,
    },
    // Not an executor microbenchmark: Gs that make syscalls and park on the netpoller, for scale.
    Workload {
        work: &TCP_ECHO,
        // ~6 events per round trip.
        rounds_per_session: 40,
    },
];

/// 2 000 round trips of 64 bytes over one fresh loopback connection.
const TCP_ECHO: Named = Named {
    name: "tcp_echo",
    gort: |rt| {
        let s = echo::gort::tcp_pair(rt.runtime());
        drop(echo::gort::round_trips(rt.runtime(), s, ECHO_N));
    },
    tokio: |rt| {
        let s = echo::tok::tcp_pair(rt.runtime());
        drop(echo::tok::round_trips(rt.runtime(), s, ECHO_N));
    },
};
const ECHO_N: u64 = 2_000;

/// `iters` rounds with tracing on, timing only the rounds: the session is restarted (and its
/// JSON written to a sink) every `per_session` rounds, outside the timed region.
fn traced_rounds(rt: &Gort, w: &Workload, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    let mut done = 0;
    while done < iters {
        let n = w.rounds_per_session.min(iters - done);
        gort::trace::start(std::io::sink()).expect("start tracing");
        let t = Instant::now();
        for _ in 0..n {
            (w.work.gort)(rt);
        }
        total += t.elapsed();
        gort::trace::stop().expect("stop tracing");
        done += n;
    }
    total
}

/// Pairs per workload in the paired measurement (odd, so the median is one pair's ratio).
const PAIRS: usize = 101;

/// The paired measurement (see the module header): the median `on / off` ratio and the medians
/// of the off and on round times. Each traced round is a whole session (started and stopped
/// outside the timed region), so it pays for fresh buffers as a real trace does.
fn paired(rt: &Gort, w: &Workload) -> (f64, Duration, Duration) {
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let time = |traced: bool| {
        let d = if traced {
            traced_rounds(rt, w, 1)
        } else {
            let t = Instant::now();
            (w.work.gort)(rt);
            t.elapsed()
        };
        d.as_secs_f64()
    };
    time(false); // warm up
    let (mut ratios, mut offs, mut ons) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..PAIRS {
        // Alternate which goes first, so a steady drift favours neither.
        let (off, on) = if i % 2 == 0 {
            let off = time(false);
            (off, time(true))
        } else {
            let on = time(true);
            (time(false), on)
        };
        ratios.push(on / off);
        offs.push(off);
        ons.push(on);
    }
    (
        median(&mut ratios),
        Duration::from_secs_f64(median(&mut offs)),
        Duration::from_secs_f64(median(&mut ons)),
    )
}

/// Criterion's three entries for one workload, then (in a full run, with the tracer compiled in)
/// the paired measurement, whose median ratio is returned.
fn bench_workload(c: &mut Criterion, w: &Workload, full: bool) -> Option<f64> {
    let mut g = c.benchmark_group(format!("trace_{}", w.work.name));
    {
        let rt = Tokio::build(workers()).expect("tokio runtime");
        g.bench_function("tokio", |b| b.iter(|| (w.work.tokio)(&rt)));
    }
    let rt = Gort::build(workers()).expect("gort runtime");
    g.bench_function("gort", |b| b.iter(|| (w.work.gort)(&rt)));
    if !gort::trace::compiled_in() {
        g.finish();
        return None;
    }
    g.bench_function("gort_traced", |b| {
        b.iter_custom(|iters| traced_rounds(&rt, w, iters))
    });
    g.finish();
    if !full {
        return None;
    }
    let (ratio, off, on) = paired(&rt, w);
    println!(
        "{}: paired over {PAIRS} pairs: median off {off:?}, median on {on:?}, median on/off {ratio:.3}",
        w.work.name
    );
    Some(ratio)
}

/// The table of this run's results: per workload, criterion's means for tokio and gort with
/// tracing off and on, gort off / tokio, and the paired on / off ratio.
fn table(estimates: &[Estimate], paired: &[Option<f64>]) -> String {
    let mut s = format!(
        "Execution tracer overhead ({} workers; criterion's mean per round; the last column is \
         the median of {PAIRS} paired rounds; `cargo bench -p benches --bench trace_overhead`)\n\n\
         | workload | tokio | gort, tracing off | gort, tracing on | off / tokio | on / off (paired) |\n\
         |---|---:|---:|---:|---:|---:|\n",
        workers()
    );
    for (w, ratio) in WORKLOADS.iter().zip(paired) {
        let group = format!("trace_{}", w.work.name);
        let find = |f: &str| {
            estimates
                .iter()
                .find(|e| e.group == group && e.function == f)
                .map(|e| e.mean_ns)
        };
        let (tokio, off, on) = (find("tokio"), find("gort"), find("gort_traced"));
        let cell = |v: Option<f64>| v.map_or_else(|| "–".to_owned(), report::fmt_ns);
        let off_tokio = match (off, tokio) {
            (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
            _ => "–".to_owned(),
        };
        let paired = ratio.map_or_else(|| "–".to_owned(), |r| format!("{r:.2}"));
        s.push_str(&format!(
            "| {} | {} | {} | {} | {off_tokio} | {paired} |\n",
            w.work.name,
            cell(tokio),
            cell(off),
            cell(on),
        ));
    }
    s
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    // Criterion's filter (the first argument that is not a flag) also picks the paired rounds.
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let picked = |w: &Workload| {
        filter
            .as_deref()
            .is_none_or(|f| format!("trace_{}", w.work.name).contains(f))
    };
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    let paired: Vec<Option<f64>> = WORKLOADS
        .iter()
        .map(|w| picked(w).then(|| bench_workload(&mut c, w, full)).flatten())
        .collect();
    c.final_summary();
    if !full {
        return;
    }
    match report::load(&report::criterion_home()) {
        Ok(estimates) => {
            let t = table(&estimates, &paired);
            println!("\n{t}");
            if let Err(e) = report::save_table("trace-overhead", &t) {
                eprintln!("cannot save the tracer-overhead table: {e}");
            }
        }
        Err(e) => eprintln!("cannot read criterion's results back: {e}"),
    }
}
