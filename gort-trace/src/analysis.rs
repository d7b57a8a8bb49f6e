//! Go's "goroutine analysis" (cmd/trace: `goroutines.go`, internal/trace `GoroutineSummary`): for
//! each G, where its time went — executing, waiting for a P after becoming runnable (scheduler
//! wait), blocked by reason — and the scheduler latency across all Gs (unblock → start).
//!
//! Each G's events are replayed as a small state machine:
//!
//! ```text
//!   GoCreate ─► runnable ─► run (an "m.g" slice) ─┬─ parked (wait reason) ─► blocked ─ GoUnblock ─► runnable
//!                  ▲                              ├─ yield / preempted / requeued ─────────────────► runnable
//!                  └──────────────────────────────┴─ complete ─► done
//! ```
//!
//! Time in `runnable` is scheduler wait; time in `blocked` goes to the column of its wait reason;
//! time inside `syscall` slices is counted as blocking-syscall time, not execution. A wake can be
//! recorded a moment before the run that parked the G is (the waker is on another thread); it then
//! counts from the end of that run. A wake or create can also be stamped a moment after the start
//! it caused (it is recorded once the G is queued, and another M may start it first); the
//! converter moves it before that start (`gort-trace-format`: `order.rs`), and one that comes
//! through anyway counts as that run's own. Intervals still open when the trace ends count up to
//! its end.

use std::collections::BTreeMap;

use crate::model::{arg_str, arg_u64, Trace};

/// Go's blocking categories, from the wait reason words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Block {
    /// Channels, select, sync primitives, joins (Go's "Sync block").
    Sync,
    /// `IO wait` (Go's "Network wait").
    Net,
    /// `sleep` (timers).
    Sleep,
    /// Blocking sections (`gort::blocking`; Go's "Blocking syscall").
    Syscall,
    /// Parked without a wait reason (a future waiting on something outside the runtime).
    Other,
}

impl Block {
    /// The category of one of Go's wait-reason words (`WaitReason::as_str`).
    pub fn of(wait: &str) -> Block {
        match wait {
            "IO wait" => Block::Net,
            "sleep" => Block::Sleep,
            "syscall" => Block::Syscall,
            "chan receive"
            | "chan send"
            | "select"
            | "semacquire"
            | "join"
            | "chan receive (nil chan)"
            | "chan send (nil chan)" => Block::Sync,
            w if w.starts_with("sync.") => Block::Sync,
            _ => Block::Other,
        }
    }
}

/// Where one G's time went (nanoseconds).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GStats {
    pub g: u64,
    pub parent: Option<u64>,
    /// Runs (polls) seen.
    pub runs: u64,
    /// Time running on an M, blocking sections excluded.
    pub exec: u64,
    /// Time runnable but not running.
    pub sched_wait: u64,
    /// Time blocked, by category. Blocking sections are under `Block::Syscall`.
    pub block: BTreeMap<Block, u64>,
    /// How its last run ended ("complete", "parked", ..., or "running at trace end").
    pub last: String,
    /// Its label (its name, where it was spawned), from slices named `G42 label`.
    pub label: Option<String>,
}

impl GStats {
    /// A runtime-internal G (its label starts with `SYSTEM_LABEL`).
    pub fn is_system(&self) -> bool {
        self.label
            .as_deref()
            .is_some_and(|l| l.starts_with(gort_trace_format::event::SYSTEM_LABEL))
    }

    pub fn blocked(&self, b: Block) -> u64 {
        self.block.get(&b).copied().unwrap_or(0)
    }
}

/// Percentiles of a latency sample (nanoseconds).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Percentiles {
    pub n: usize,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub max: u64,
}

impl Percentiles {
    /// Nearest-rank percentiles of `v` (sorted here).
    pub fn of(mut v: Vec<u64>) -> Percentiles {
        if v.is_empty() {
            return Percentiles::default();
        }
        v.sort_unstable();
        let rank = |q: f64| v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
        Percentiles {
            n: v.len(),
            p50: rank(0.50),
            p90: rank(0.90),
            p99: rank(0.99),
            max: v[v.len() - 1],
        }
    }
}

/// Event counts over the whole trace.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub steals: usize,
    /// Gs moved by those steals.
    pub stolen: u64,
    pub preempt_requests: usize,
    pub preemptions: usize,
    pub handoffs: usize,
    pub rescues: usize,
    pub netpoll_batches: usize,
    pub syscalls: usize,
    /// Creates and unblocks that went to the waker's `runnext`.
    pub runnext: usize,
}

/// The whole analysis.
#[derive(Clone, Debug, Default)]
pub struct Analysis {
    /// Per G, by G id.
    pub gs: Vec<GStats>,
    /// Unblock → start.
    pub latency: Percentiles,
    /// Any runnable → start (creation, unblock, yield, preemption, requeue).
    pub ready_latency: Percentiles,
    pub counts: Counts,
    pub duration: u64,
    pub procs: usize,
    pub ms: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    // At equal times: a run ends before anything else happens, then wakes, then starts.
    RunEnd,
    Create,
    Unblock,
    RunStart,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cause {
    Create,
    Unblock,
    Requeue,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    Unknown,
    Runnable {
        since: u64,
        cause: Cause,
    },
    Blocked {
        since: u64,
        why: Block,
    },
    /// `woken_at`: a wake recorded during the run, for the run after it. `wake_due`: the run
    /// started with no wake before it, so the first wake during it is its own, stamped late.
    Running {
        woken_at: Option<u64>,
        wake_due: bool,
    },
    Done,
}

/// Analyse a trace.
pub fn analyze(t: &Trace) -> Analysis {
    // A G's runs: its slices on M tracks (whole runs); a trace without them (hand-made, or from an
    // older writer) falls back to the P-track slices, continuations merged into their run.
    let mut runs: Vec<(u64, u64, u64, String, String)> = Vec::new(); // g, start, end, end, wait
    let have_m = t.slices_of("m.g").next().is_some();
    let mut labels: BTreeMap<u64, String> = BTreeMap::new();
    for s in t.slices_of(if have_m { "m.g" } else { "g" }) {
        let Some(g) = arg_u64(&s.args, "g") else {
            continue;
        };
        if let Some(l) = s.name.strip_prefix(&format!("G{g} ")) {
            labels.insert(g, l.to_string());
        }
        let end = arg_str(&s.args, "end").unwrap_or("").to_string();
        let wait = arg_str(&s.args, "wait").unwrap_or("").to_string();
        if !have_m && s.args.get("continued").and_then(|v| v.as_bool()) == Some(true) {
            if let Some(r) = runs.iter_mut().rev().find(|r| r.0 == g) {
                r.2 = s.end();
                r.3 = end;
                r.4 = wait;
                continue;
            }
        }
        runs.push((g, s.start, s.end(), end, wait));
    }

    let mut steps: BTreeMap<u64, Vec<(u64, Step, usize)>> = BTreeMap::new();
    for (i, r) in runs.iter().enumerate() {
        steps.entry(r.0).or_default().push((r.1, Step::RunStart, i));
        steps.entry(r.0).or_default().push((r.2, Step::RunEnd, i));
    }
    let mut parents = BTreeMap::new();
    for c in t.instants_named("GoCreate") {
        if let Some(g) = arg_u64(&c.args, "g") {
            steps.entry(g).or_default().push((c.ts, Step::Create, 0));
            if let Some(p) = arg_u64(&c.args, "parent") {
                parents.insert(g, p);
            }
        }
    }
    for u in t.instants_named("GoUnblock") {
        if let Some(g) = arg_u64(&u.args, "g") {
            steps.entry(g).or_default().push((u.ts, Step::Unblock, 0));
        }
    }
    let mut syscall: BTreeMap<u64, u64> = BTreeMap::new();
    for s in t.slices_of("syscall") {
        if let Some(g) = arg_u64(&s.args, "g") {
            *syscall.entry(g).or_default() += s.dur;
        }
    }

    let end = t.end;
    let mut latency = Vec::new();
    let mut ready_latency = Vec::new();
    let mut gs = Vec::new();
    for (g, mut st) in steps {
        st.sort_by_key(|&(ts, step, _)| (ts, step));
        let mut s = GStats {
            g,
            parent: parents.get(&g).copied(),
            label: labels.get(&g).cloned(),
            ..GStats::default()
        };
        let mut state = State::Unknown;
        for (ts, step, i) in st {
            state = match (step, state) {
                // Stamped after the start it caused.
                (Step::Create, running @ State::Running { .. }) => running,
                (Step::Create, _) => State::Runnable {
                    since: ts,
                    cause: Cause::Create,
                },
                (Step::Unblock, State::Blocked { since, why }) => {
                    *s.block.entry(why).or_default() += ts.saturating_sub(since);
                    State::Runnable {
                        since: ts,
                        cause: Cause::Unblock,
                    }
                }
                (Step::Unblock, State::Running { wake_due: true, .. }) => State::Running {
                    woken_at: None,
                    wake_due: false,
                },
                (Step::Unblock, State::Running { .. }) => State::Running {
                    woken_at: Some(ts),
                    wake_due: false,
                },
                (Step::Unblock, State::Runnable { since, cause }) => {
                    State::Runnable { since, cause }
                }
                (Step::Unblock, _) => State::Runnable {
                    since: ts,
                    cause: Cause::Unblock,
                },
                (Step::RunStart, prev) => {
                    s.runs += 1;
                    let wake_due = matches!(prev, State::Blocked { .. });
                    match prev {
                        State::Runnable { since, cause } => {
                            let wait = ts.saturating_sub(since);
                            s.sched_wait += wait;
                            ready_latency.push(wait);
                            if cause == Cause::Unblock {
                                latency.push(wait);
                            }
                        }
                        State::Blocked { since, why } => {
                            // Its wake was not recorded before the start (the trace began in
                            // between, or the wake was stamped late).
                            *s.block.entry(why).or_default() += ts.saturating_sub(since);
                        }
                        _ => {}
                    }
                    s.exec += runs[i].2 - runs[i].1;
                    State::Running {
                        woken_at: None,
                        wake_due,
                    }
                }
                (Step::RunEnd, prev) => {
                    let woken = matches!(
                        prev,
                        State::Running {
                            woken_at: Some(_),
                            ..
                        }
                    );
                    s.last = runs[i].3.clone();
                    match runs[i].3.as_str() {
                        "parked" if woken => State::Runnable {
                            since: ts,
                            cause: Cause::Unblock,
                        },
                        "parked" => State::Blocked {
                            since: ts,
                            why: Block::of(&runs[i].4),
                        },
                        "complete" => State::Done,
                        "running at trace end" => State::Done,
                        _ => State::Runnable {
                            since: ts,
                            cause: Cause::Requeue,
                        },
                    }
                }
            };
        }
        match state {
            State::Runnable { since, .. } => s.sched_wait += end.saturating_sub(since),
            State::Blocked { since, why } => {
                *s.block.entry(why).or_default() += end.saturating_sub(since)
            }
            _ => {}
        }
        if s.last.is_empty() {
            s.last = if s.runs == 0 { "never ran" } else { "?" }.to_string();
        }
        let sys = syscall.get(&g).copied().unwrap_or(0);
        if sys > 0 {
            s.exec = s.exec.saturating_sub(sys);
            *s.block.entry(Block::Syscall).or_default() += sys;
        }
        gs.push(s);
    }

    let sum_n = |name: &str| -> u64 {
        t.instants_named(name)
            .filter_map(|i| arg_u64(&i.args, "n"))
            .sum()
    };
    let runnext = t
        .instants
        .iter()
        .filter(|i| i.name == "GoCreate" || i.name == "GoUnblock")
        .filter(|i| i.args.get("runnext").and_then(|v| v.as_bool()) == Some(true))
        .count();
    let counts = Counts {
        steals: t.instants_named("Steal").count(),
        stolen: sum_n("Steal"),
        preempt_requests: t.instants_named("PreemptRequest").count(),
        preemptions: t.instants_named("GoPreempt").count(),
        handoffs: t.instants_named("Handoff").count(),
        rescues: t.instants_named("Rescue").count(),
        netpoll_batches: t.instants_named("Netpoll").count(),
        syscalls: t.slices_of("syscall").count(),
        runnext,
    };
    let ms = t
        .tracks
        .keys()
        .filter(|&&tid| (crate::model::M_TID..crate::model::M_TID + 1000).contains(&tid))
        .count();
    Analysis {
        gs,
        latency: Percentiles::of(latency),
        ready_latency: Percentiles::of(ready_latency),
        counts,
        duration: end,
        procs: t.procs().len(),
        ms,
    }
}

/// A duration for people: `850ns`, `12.3µs`, `4.56ms`, `1.20s`.
pub fn fmt_ns(ns: u64) -> String {
    let f = ns as f64;
    if ns < 1_000 {
        format!("{ns}ns")
    } else if ns < 1_000_000 {
        format!("{:.1}µs", f / 1e3)
    } else if ns < 1_000_000_000 {
        format!("{:.2}ms", f / 1e6)
    } else {
        format!("{:.2}s", f / 1e9)
    }
}

/// The text report `gort-trace summary` prints. At most `top` Gs, the ones that held an M longest
/// (execution + blocking sections) first.
pub fn summary_text(a: &Analysis, top: usize) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let runs: u64 = a.gs.iter().map(|g| g.runs).sum();
    let _ = writeln!(
        o,
        "trace: {} long, {} Ps, {} Ms, {} Gs, {} G runs",
        fmt_ns(a.duration),
        a.procs,
        a.ms,
        a.gs.len(),
        runs
    );
    let c = &a.counts;
    let _ = writeln!(
        o,
        "events: {} steals ({} Gs), {} preemption requests, {} preemptions, {} hand-offs, \
         {} rescues, {} blocking sections, {} netpoll batches, {} runnext hand-offs",
        c.steals,
        c.stolen,
        c.preempt_requests,
        c.preemptions,
        c.handoffs,
        c.rescues,
        c.syscalls,
        c.netpoll_batches,
        c.runnext
    );
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "Goroutine analysis (Go's columns; blocking sections are \"syscall\")"
    );
    let _ = writeln!(
        o,
        "{:>8} {:>8} {:>6} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}  last  (label)",
        "G",
        "parent",
        "runs",
        "execution",
        "sched wait",
        "sync",
        "network",
        "sleep",
        "syscall",
        "other"
    );
    let mut order: Vec<&GStats> = a.gs.iter().collect();
    // The user's Gs first, then the runtime's own (Go's `isSystemGoroutine`); in each, the longest
    // on an M first: execution plus blocking sections.
    let on_m = |g: &GStats| g.exec + g.blocked(Block::Syscall);
    order.sort_by(|x, y| {
        (x.is_system().cmp(&y.is_system()))
            .then(on_m(y).cmp(&on_m(x)))
            .then(x.g.cmp(&y.g))
    });
    let mut in_system = false;
    for g in order.iter().take(top) {
        if g.is_system() && !in_system {
            in_system = true;
            let _ = writeln!(o, "  runtime-internal Gs:");
        }
        let parent = g.parent.map_or("-".to_string(), |p| format!("G{p}"));
        let _ = writeln!(
            o,
            "{:>8} {:>8} {:>6} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}  {}{}",
            format!("G{}", g.g),
            parent,
            g.runs,
            fmt_ns(g.exec),
            fmt_ns(g.sched_wait),
            fmt_ns(g.blocked(Block::Sync)),
            fmt_ns(g.blocked(Block::Net)),
            fmt_ns(g.blocked(Block::Sleep)),
            fmt_ns(g.blocked(Block::Syscall)),
            fmt_ns(g.blocked(Block::Other)),
            g.last,
            g.label
                .as_ref()
                .map_or(String::new(), |l| format!("  ({l})"))
        );
    }
    if order.len() > top {
        let _ = writeln!(
            o,
            "... and {} more Gs (use --top N to see more)",
            order.len() - top
        );
    }
    let _ = writeln!(o);
    for (label, p) in [
        ("Scheduler latency, unblock → start", a.latency),
        (
            "Any runnable → start (also creation, yield, preemption)",
            a.ready_latency,
        ),
    ] {
        if p.n == 0 {
            let _ = writeln!(o, "{label}: no samples");
        } else {
            let _ = writeln!(
                o,
                "{label} ({} samples): p50 {}  p90 {}  p99 {}  max {}",
                p.n,
                fmt_ns(p.p50),
                fmt_ns(p.p90),
                fmt_ns(p.p99),
                fmt_ns(p.max)
            );
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small hand-written trace (times in µs):
    /// G1 is created by the main thread at 0, runs 10–20 on P0 and parks on a channel; G2, created
    /// by G1 at 15, runs 30–35, wakes G1 at 34 and completes; G1 runs 40–50 and sleeps; its timer
    /// wakes it at 80; it runs 90–100 (with a 2 µs blocking section) and completes.
    const TRACE: &str = r#"{"traceEvents":[
      {"name":"thread_name","ph":"M","pid":1,"tid":0,"args":{"name":"P0"}},
      {"name":"thread_name","ph":"M","pid":1,"tid":1000,"args":{"name":"M0"}},
      {"name":"GoCreate","ph":"i","s":"t","ts":0,"pid":1,"tid":2000,"args":{"g":1,"by":"thread main","runnext":false}},
      {"name":"G1","cat":"m.g","ph":"X","ts":10,"dur":10,"pid":1,"tid":1000,"args":{"g":1,"end":"parked","wait":"chan receive"}},
      {"name":"GoCreate","ph":"i","s":"t","ts":15,"pid":1,"tid":0,"args":{"g":2,"parent":1,"runnext":true}},
      {"name":"G2","cat":"m.g","ph":"X","ts":30,"dur":5,"pid":1,"tid":1000,"args":{"g":2,"end":"complete"}},
      {"name":"GoUnblock","ph":"i","s":"t","ts":34,"pid":1,"tid":0,"args":{"g":1,"by":"G2","runnext":true}},
      {"name":"G1","cat":"m.g","ph":"X","ts":40,"dur":10,"pid":1,"tid":1000,"args":{"g":1,"end":"parked","wait":"sleep"}},
      {"name":"GoUnblock","ph":"i","s":"t","ts":80,"pid":1,"tid":1000,"args":{"g":1,"by":"timer","runnext":false}},
      {"name":"G1","cat":"m.g","ph":"X","ts":90,"dur":10,"pid":1,"tid":1000,"args":{"g":1,"end":"complete"}},
      {"name":"syscall","cat":"syscall","ph":"X","ts":92,"dur":2,"pid":1,"tid":1000,"args":{"g":1}},
      {"name":"Steal","ph":"i","s":"t","ts":50,"pid":1,"tid":0,"args":{"n":3}}
    ]}"#;

    fn g(a: &Analysis, id: u64) -> &GStats {
        a.gs.iter().find(|s| s.g == id).expect("G in analysis")
    }

    #[test]
    fn time_is_split_into_execution_scheduler_wait_and_blocking_by_reason() {
        let a = analyze(&Trace::parse(TRACE).expect("parse"));
        let g1 = g(&a, 1);
        assert_eq!(g1.runs, 3);
        assert_eq!(g1.exec, 28_000); // 30 µs of runs minus the 2 µs blocking section
        assert_eq!(g1.blocked(Block::Syscall), 2_000);
        assert_eq!(g1.blocked(Block::Sync), 14_000); // parked 20, woken 34
        assert_eq!(g1.blocked(Block::Sleep), 30_000); // parked 50, woken 80
        assert_eq!(g1.sched_wait, 10_000 + 6_000 + 10_000); // 0→10, 34→40, 80→90
        assert_eq!(g1.last, "complete");
        let g2 = g(&a, 2);
        assert_eq!(g2.parent, Some(1));
        assert_eq!((g2.runs, g2.exec, g2.sched_wait), (1, 5_000, 15_000));
    }

    #[test]
    fn scheduler_latency_counts_unblock_to_start_only() {
        let a = analyze(&Trace::parse(TRACE).expect("parse"));
        assert_eq!(a.latency.n, 2);
        assert_eq!((a.latency.p50, a.latency.max), (6_000, 10_000));
        assert_eq!(a.ready_latency.n, 4);
        assert_eq!(a.ready_latency.max, 15_000);
    }

    #[test]
    fn counts_and_summary_text() {
        let a = analyze(&Trace::parse(TRACE).expect("parse"));
        assert_eq!(a.counts.steals, 1);
        assert_eq!(a.counts.stolen, 3);
        assert_eq!(a.counts.runnext, 2);
        assert_eq!(a.counts.syscalls, 1);
        assert_eq!((a.procs, a.ms, a.duration), (1, 1, 100_000));
        let s = summary_text(&a, 10);
        assert!(s.contains("Goroutine analysis"), "{s}");
        assert!(s.contains("p50 6.0µs"), "{s}");
        let line = s
            .lines()
            .find(|l| l.trim_start().starts_with("G1 "))
            .expect("G1 row");
        assert!(line.contains("28.0µs") && line.contains("14.0µs"), "{line}");
    }

    #[test]
    fn runtime_internal_gs_are_listed_after_the_users() {
        let t = Trace::parse(
            r#"[
            {"name":"G2 system: signal reader","cat":"m.g","ph":"X","ts":10,"dur":50,"tid":1000,"args":{"g":2,"end":"complete"}},
            {"name":"G7","cat":"m.g","ph":"X","ts":70,"dur":1,"tid":1000,"args":{"g":7,"end":"complete"}}
        ]"#,
        )
        .expect("parse");
        let a = analyze(&t);
        assert!(g(&a, 2).is_system() && !g(&a, 7).is_system());
        let s = summary_text(&a, 10);
        let pos = |needle: &str| s.find(needle).unwrap_or_else(|| panic!("{needle} in {s}"));
        // G2 ran longer, but it is the runtime's: it comes after G7, under its own heading.
        assert!(pos("G7 ") < pos("runtime-internal Gs:"), "{s}");
        assert!(pos("runtime-internal Gs:") < pos("G2 "), "{s}");
    }

    #[test]
    fn a_labelled_g_shows_its_label_in_the_summary() {
        let t = Trace::parse(
            r#"[
            {"name":"G5 worker (main.rs:12)","cat":"m.g","ph":"X","ts":10,"dur":10,"tid":1000,"args":{"g":5,"end":"complete"}},
            {"name":"G6","cat":"m.g","ph":"X","ts":30,"dur":1,"tid":1000,"args":{"g":6,"end":"complete"}}
        ]"#,
        )
        .expect("parse");
        let a = analyze(&t);
        assert_eq!(g(&a, 5).label.as_deref(), Some("worker (main.rs:12)"));
        assert_eq!(g(&a, 6).label, None);
        let s = summary_text(&a, 10);
        let row = s
            .lines()
            .find(|l| l.trim_start().starts_with("G5 "))
            .expect("G5");
        assert!(row.ends_with("complete  (worker (main.rs:12))"), "{row}");
    }

    #[test]
    fn a_wake_recorded_before_the_parking_run_ends_counts_from_the_run_end() {
        let t = Trace::parse(
            r#"[
            {"name":"G5","cat":"m.g","ph":"X","ts":10,"dur":10,"tid":1000,"args":{"g":5,"end":"parked","wait":"select"}},
            {"name":"GoUnblock","ph":"i","ts":19,"tid":1001,"args":{"g":5}},
            {"name":"G5","cat":"m.g","ph":"X","ts":25,"dur":1,"tid":1001,"args":{"g":5,"end":"complete"}}
        ]"#,
        )
        .expect("parse");
        let a = analyze(&t);
        let g5 = g(&a, 5);
        assert_eq!(g5.blocked(Block::Sync), 0);
        assert_eq!(g5.sched_wait, 5_000);
    }

    #[test]
    fn a_wake_or_create_stamped_after_the_start_it_caused_is_that_starts() {
        let t = Trace::parse(
            r#"[
            {"name":"G5","cat":"m.g","ph":"X","ts":10,"dur":10,"tid":1000,"args":{"g":5,"end":"parked","wait":"select"}},
            {"name":"G5","cat":"m.g","ph":"X","ts":30,"dur":10,"tid":1001,"args":{"g":5,"end":"parked","wait":"select"}},
            {"name":"GoUnblock","ph":"i","ts":31,"tid":1000,"args":{"g":5}},
            {"name":"GoUnblock","ph":"i","ts":60,"tid":1000,"args":{"g":5}},
            {"name":"G5","cat":"m.g","ph":"X","ts":70,"dur":1,"tid":1001,"args":{"g":5,"end":"complete"}},
            {"name":"G6","cat":"m.g","ph":"X","ts":80,"dur":1,"tid":1001,"args":{"g":6,"end":"complete"}},
            {"name":"GoCreate","ph":"i","ts":80.5,"tid":1000,"args":{"g":6}}
        ]"#,
        )
        .expect("parse");
        let a = analyze(&t);
        let g5 = g(&a, 5);
        // Blocked 20→30 (its wake, stamped at 31, is the second run's own), then 40→60.
        assert_eq!(g5.blocked(Block::Sync), 10_000 + 20_000);
        assert_eq!(g5.sched_wait, 10_000);
        assert_eq!(g5.last, "complete");
        let g6 = g(&a, 6);
        assert_eq!((g6.runs, g6.last.as_str()), (1, "complete"));
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let p = Percentiles::of((1..=100).collect());
        assert_eq!((p.p50, p.p90, p.p99, p.max), (50, 90, 99, 100));
        assert_eq!(Percentiles::of(vec![]).n, 0);
    }

    #[test]
    fn wait_reasons_map_to_go_columns() {
        assert_eq!(Block::of("chan receive"), Block::Sync);
        assert_eq!(Block::of("sync.Mutex.Lock"), Block::Sync);
        assert_eq!(Block::of("IO wait"), Block::Net);
        assert_eq!(Block::of("sleep"), Block::Sleep);
        assert_eq!(Block::of(""), Block::Other);
    }
}
