//! `gort::stats()`: a snapshot of the scheduler's counters — the numbers schedtrace prints, as a
//! plain struct for programs and tests.

use crate::sched::Sched;
use crate::util::loom::sync::atomic::Ordering;

/// A snapshot of the scheduler. Each field is read separately, so the snapshot is not atomic as a
/// whole (neither is Go's schedtrace).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Number of Ps (GORTMAXPROCS).
    pub gomaxprocs: usize,
    /// OS threads the runtime started: Ms plus sysmon (Go's `threads`).
    pub threads: usize,
    /// Ps on the idle list.
    pub idle_procs: usize,
    /// Ms parked on the idle list.
    pub idle_threads: usize,
    /// Ms looking for work.
    pub spinning_threads: usize,
    /// Gs on the global run queue.
    pub global_runq: usize,
    /// Gs on each P's local run queue (runnext included).
    pub local_runq: Vec<usize>,
    /// Timers in each P's heap, not counting cancelled ones (Go's `timerslen`).
    pub timers: Vec<usize>,
    /// Live Gs (created and not yet finished).
    pub goroutines: usize,
    /// Gs created since start.
    pub spawned: u64,
    /// Gs moved by work stealing since start.
    pub steals: u64,
    /// Ps taken from Ms in blocking sections and handed to another M.
    pub handoffs: u64,
    /// Gs that yielded because sysmon asked them to (time slice over).
    pub preemptions: u64,
    /// Ps taken from Ms stuck inside one poll (runaway-poll rescues).
    pub rescues: u64,
}

impl Stats {
    pub(crate) fn collect(sched: &Sched) -> Stats {
        let c = &sched.counters;
        Stats {
            gomaxprocs: sched.gomaxprocs,
            threads: sched.mcount.load(Ordering::Relaxed) + usize::from(sched.config.sysmon),
            idle_procs: sched.npidle.load(Ordering::Relaxed),
            idle_threads: sched.nmidle.load(Ordering::Relaxed),
            spinning_threads: sched.nmspinning.load(Ordering::Relaxed),
            global_runq: sched.runqsize.load(Ordering::Relaxed),
            local_runq: sched.allp.iter().map(|p| p.runq.len()).collect(),
            timers: sched.allp.iter().map(|p| p.timers.len()).collect(),
            goroutines: sched.allgs.len(),
            spawned: c.spawned.load(Ordering::Relaxed),
            steals: c.steals.load(Ordering::Relaxed),
            handoffs: c.handoffs.load(Ordering::Relaxed),
            preemptions: c.preemptions.load(Ordering::Relaxed),
            rescues: c.rescues.load(Ordering::Relaxed),
        }
    }
}

/// A snapshot of the current runtime's scheduler.
///
/// Panics if called outside a runtime (use `Runtime::stats` from outside).
pub fn stats() -> Stats {
    match crate::sched::boot::current() {
        Some(s) => Stats::collect(&s),
        None => panic!(
            "gort::stats called outside a gort runtime: call it from a G, or use Runtime::stats"
        ),
    }
}
