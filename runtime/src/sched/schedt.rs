//! The scheduler's shared state: Go's `schedt`, `p` and `m` (runtime/runtime2.go), and the small
//! functions of runtime/proc.go that work on them under `sched.lock`: `globrunqput`,
//! `globrunqputbatch`, `globrunqget`, `pidleput`, `pidleget`, `mput`, `mget`.
//!
//! - A **P** (processor) is the right to run Gs: `p.rs`.
//! - An **M** (machine) is an OS thread. It runs Gs only while it holds a P. Ms are created on demand
//!   by `startm` and never outnumber what the work needs: an M with nothing to do parks on the idle
//!   list (`midle`). An M can lose its P while it is stuck inside a G (a blocking section or a runaway
//!   poll, see `sysmon.rs`), which is why Ms and Ps are separate objects and Ms may outnumber Ps.
//! - **Sched** is everything global: the global run queue, the idle P and M lists, the spinning-M
//!   count, the G registry, and counters for `stats()`.
//!

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::sched::allgs::AllGs;
use crate::sched::g::GRef;
use crate::sched::note::Note;
use crate::sched::p::P;
use crate::sched::runq;
use crate::util::loom::sync::atomic::{
    AtomicBool, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering,
};
use crate::util::loom::sync::{Arc, Mutex, MutexGuard};
use crate::util::loom::thread::JoinHandle;

/// Go's default `sched.maxmcount`: more threads than this means something is badly wrong (usually
/// Gs stuck in blocking sections); we refuse to start more and say so, rather than exhaust the OS.
/// `Builder::max_threads` changes it (Go's `debug.SetMaxThreads`).
pub(crate) const MAX_M_COUNT: usize = 10_000;

/// Why a G returned to the scheduler while still runnable (set during its poll).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum YieldReason {
    /// Woken during its own poll for an ordinary reason: back to the local queue's tail.
    None,
    /// `yield_now` (Go's `goyield`): to the local queue's tail, like `None`, but traced as a yield.
    Goyield,
    /// A preemption point saw sysmon's request (Go's `gopreempt_m`): to the global queue.
    Preempt,
}

/// An M: an OS thread's shared face. The thread's private state lives in `getg.rs: MCtx`.
pub(crate) struct M {
    pub(crate) id: usize,
    /// Where the M sleeps while on the idle list (Go's `m.park`).
    pub(crate) park: Note,
    /// The P `startm` handed over before waking this M (Go's `m.nextp`). usize::MAX = none.
    pub(crate) nextp: AtomicUsize,
    /// Go's `m.spinning`: looking for work without having found any. Counted in `nmspinning`.
    pub(crate) spinning: AtomicBool,
    /// For scheddetail: the P held (usize::MAX = none), the G being polled, parked or not.
    pub(crate) p: AtomicUsize,
    pub(crate) curg: AtomicU64,
    pub(crate) blocked: AtomicBool,
}

impl M {
    pub(crate) fn new(id: usize) -> M {
        M {
            id,
            park: Note::new(),
            nextp: AtomicUsize::new(usize::MAX),
            spinning: AtomicBool::new(false),
            p: AtomicUsize::new(usize::MAX),
            curg: AtomicU64::new(0),
            blocked: AtomicBool::new(false),
        }
    }
}

/// What `sched.lock` protects.
pub(crate) struct Locked {
    /// The global run queue (Go's `sched.runq`), used for overflow, for Gs readied by threads that
    /// hold no P, and for preempted Gs.
    pub(crate) runq: VecDeque<GRef>,
    /// Idle Ps (Go's `sched.pidle`).
    pub(crate) pidle: Vec<usize>,
    /// Idle Ms (Go's `sched.midle`).
    pub(crate) midle: Vec<Arc<M>>,
    /// Every M ever started (Go's `allm`), for scheddetail.
    pub(crate) allm: Vec<Arc<M>>,
    /// The threads to join at shutdown.
    pub(crate) threads: Vec<JoinHandle<()>>,
    /// Set once the runtime has shut down: Gs readied after that are dropped, not queued.
    pub(crate) closed: bool,
    /// Set when thread creation failed or hit `MAX_M_COUNT`, so the message is printed once.
    pub(crate) warned_mcount: bool,
    /// Ms being created right now (their thread handle is not in `threads` yet); shutdown waits.
    pub(crate) mstarting: usize,
}

/// Tunables fixed at build time.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    /// How long one poll may block its thread before sysmon hands the P to another M.
    pub(crate) rescue_threshold: Duration,
    /// Whether to run sysmon at all (tests of the bare scheduler turn it off).
    pub(crate) sysmon: bool,
    /// The most Ms (threads running Gs) ever started (Go's `maxmcount`, `debug.SetMaxThreads`).
    pub(crate) max_threads: usize,
    /// `GORTDEBUG=schedtrace=MS`: print a SCHED line every MS milliseconds (0 = off).
    pub(crate) schedtrace_ms: u64,
    /// `GORTDEBUG=scheddetail=1`.
    pub(crate) scheddetail: bool,
    /// Go's `checkdead`: report a deadlock and exit 2 (`GORTDEBUG=checkdead=0` turns it off).
    pub(crate) checkdead: bool,
    /// Go's behaviour for a G's panic: print the dump and exit 2 (`GORTDEBUG=panicexit=1`). Off by
    /// default: the panic goes to the G's `JoinHandle` and the runtime keeps serving.
    pub(crate) panic_exit: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            rescue_threshold: Duration::from_millis(20),
            sysmon: true,
            max_threads: MAX_M_COUNT,
            schedtrace_ms: 0,
            scheddetail: false,
            checkdead: true,
            panic_exit: false,
        }
    }
}

/// Bits of `Sched::flags`.
pub(crate) mod flags {
    /// `Runtime::drop` has begun: every M leaves its loop.
    pub(crate) const SHUTDOWN: u8 = 1;
    /// The execution tracer is recording: this runtime's copy of the process-wide switch, set for
    /// every live runtime by `gort::trace::start`/`stop` (`trace/session.rs`). The tracer's hooks
    /// test it here rather than the process-wide flag because the `Sched` is at hand (in a
    /// register) wherever they run, while a `static` of a library crate is reached through the GOT
    /// in position-independent code: a load more per check.
    pub(crate) const TRACING: u8 = 2;
}

pub(crate) struct Sched {
    pub(crate) allp: Box<[P]>,
    pub(crate) gomaxprocs: usize,
    /// Go's `sched.lock`.
    lock: Mutex<Locked>,
    /// Length of the global queue, readable without the lock (Go's `sched.runqsize`).
    pub(crate) runqsize: AtomicUsize,
    pub(crate) npidle: AtomicUsize,
    pub(crate) nmidle: AtomicUsize,
    pub(crate) nmspinning: AtomicUsize,
    /// Threads started (Go's `mcount()`), the sysmon thread included, as Go counts it.
    pub(crate) mcount: AtomicUsize,
    pub(crate) allgs: AllGs,
    /// Next G id (Go's `sched.goidgen`); Ms take ids in batches (Go's `p.goidcache`).
    pub(crate) goidgen: AtomicU64,
    /// The netpoller, and Go's `sched.lastpoll` (nanotime of the last poll; 0 while an M is blocked
    /// in it) and `sched.pollUntil` (when that blocked poll will return by itself; 0 = never).
    pub(crate) poller: netpoll::Poller,
    pub(crate) lastpoll: AtomicU64,
    pub(crate) poll_until: AtomicU64,
    /// The reasons an M leaves its current scheduling loop ([`flags`]): the runtime is shutting
    /// down, or the execution tracer was switched on or off (Ms then move to the copy of the loop
    /// with or without the tracer's hooks, `proc.rs`). One byte, so that `find_runnable` tests
    /// both with the one load it makes every round anyway.
    pub(crate) flags: AtomicU8,
    /// The runtime's clock origin; `nanotime()` counts from here.
    pub(crate) start: Instant,
    /// Coprimes of gomaxprocs, for visiting victims in a random order (Go's `stealOrder`).
    pub(crate) coprimes: Vec<u32>,
    pub(crate) config: Config,
    pub(crate) counters: Counters,
    /// Wakes sysmon from a deep sleep (Go's `sched.sysmonnote`).
    pub(crate) sysmon_note: Note,
    pub(crate) sysmon_wait: AtomicBool,
    pub(crate) rescues: crate::sched::sysmon::Rescues,
    /// Seconds since `start`, plus one, as sysmon last saw them (0 = never): the clock a parking G
    /// stamps its `waitsince` with, one load instead of a clock read per park.
    pub(crate) coarse: AtomicU32,
}

/// Event counters for `stats()`.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) steals: AtomicU64,
    pub(crate) handoffs: AtomicU64,
    pub(crate) preemptions: AtomicU64,
    pub(crate) rescues: AtomicU64,
    pub(crate) spawned: AtomicU64,
}

impl Sched {
    pub(crate) fn new(procs: usize, config: Config) -> std::io::Result<Arc<Sched>> {
        assert!(procs >= 1, "gomaxprocs must be at least 1");
        let poller = netpoll::Poller::new()?;
        let allp: Box<[P]> = (0..procs).map(P::new).collect();
        let coprimes = (1..=procs as u32)
            .filter(|&i| gcd(i, procs as u32) == 1)
            .collect();
        let sched = Arc::new(Sched {
            allp,
            gomaxprocs: procs,
            lock: Mutex::new(Locked {
                runq: VecDeque::new(),
                // Reverse so that pidleget hands out P0 first.
                pidle: (0..procs).rev().collect(),
                midle: Vec::new(),
                allm: Vec::new(),
                threads: Vec::new(),
                closed: false,
                warned_mcount: false,
                mstarting: 0,
            }),
            runqsize: AtomicUsize::new(0),
            npidle: AtomicUsize::new(procs),
            nmidle: AtomicUsize::new(0),
            nmspinning: AtomicUsize::new(0),
            mcount: AtomicUsize::new(0),
            allgs: AllGs::new(4 * procs),
            goidgen: AtomicU64::new(1),
            poller,
            lastpoll: AtomicU64::new(1),
            poll_until: AtomicU64::new(0),
            flags: AtomicU8::new(0),
            start: Instant::now(),
            coprimes,
            config,
            counters: Counters::default(),
            sysmon_note: Note::new(),
            sysmon_wait: AtomicBool::new(false),
            rescues: crate::sched::sysmon::Rescues::new(),
            coarse: AtomicU32::new(0),
        });
        crate::trace::register(&sched);
        Ok(sched)
    }

    /// A one-P scheduler with its P taken off the idle list, so that nothing ever starts an M:
    /// unit tests and loom models drive the pieces by hand.
    #[cfg(test)]
    pub(crate) fn new_for_test() -> Arc<Sched> {
        let s = Sched::new(
            1,
            Config {
                sysmon: false,
                ..Config::default()
            },
        )
        .expect("netpoller");
        {
            let mut l = s.lock();
            let p = s.pidleget(&mut l);
            debug_assert_eq!(p, Some(0));
        }
        s
    }

    /// Is the runtime shutting down (`flags::SHUTDOWN`)?
    pub(crate) fn shutting_down(&self, order: Ordering) -> bool {
        self.flags.load(order) & flags::SHUTDOWN != 0
    }

    /// Go's `sched.lock`.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Locked> {
        crate::util::loom::lock(&self.lock)
    }

    /// The coarse clock (`coarse`): whole seconds since `start`, plus one; 0 if sysmon never ran.
    #[inline]
    pub(crate) fn coarse_secs(&self) -> u32 {
        self.coarse.load(Ordering::Relaxed)
    }

    /// Advance the coarse clock to `now` (nanotime). Written only when the second changes, so the
    /// cache line every parking G reads is not bounced on each sysmon tick.
    pub(crate) fn tick_coarse(&self, now: u64) {
        let secs = (now / 1_000_000_000) as u32 + 1;
        if self.coarse.load(Ordering::Relaxed) != secs {
            self.coarse.store(secs, Ordering::Relaxed);
        }
    }

    /// Nanoseconds since the runtime started (Go's `nanotime`). Never 0, so 0 can mean "unset".
    pub(crate) fn nanotime(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64 + 1
    }

    /// `t` on the `nanotime` clock. An instant too far away for 64 bits of nanoseconds (584 years)
    /// saturates: wrapping would turn a far deadline into an early one, fired again and again.
    pub(crate) fn nanos_of(&self, t: Instant) -> u64 {
        let n = t.saturating_duration_since(self.start).as_nanos();
        u64::try_from(n).unwrap_or(u64::MAX - 1) + 1
    }

    /// Go's `globrunqput`: put one G at the tail of the global queue. Caller holds the lock.
    pub(crate) fn globrunqput(&self, l: &mut Locked, g: GRef) {
        if l.closed {
            drop(g);
            return;
        }
        l.runq.push_back(g);
        self.publish_runqsize(l);
    }

    /// Go's `globrunqputbatch`: put a batch on the global queue (takes the lock).
    pub(crate) fn globrunqputbatch(&self, batch: Vec<GRef>) {
        let mut l = self.lock();
        if l.closed {
            drop(l);
            drop(batch);
            return;
        }
        l.runq.extend(batch);
        self.publish_runqsize(&l);
    }

    /// Go's `globrunqget`: take a fair share of the global queue (at most `max` if non-zero, and at
    /// most half a local ring): one G to run now, the rest onto `p`'s local queue. Caller holds the
    /// lock and `p`. The local queue is usually empty here; when it is not (right after a yield), a
    /// batch that overflows it goes back to the global queue.
    pub(crate) fn globrunqget(&self, l: &mut Locked, p: &P, max: usize) -> Option<GRef> {
        let size = l.runq.len();
        if size == 0 {
            return None;
        }
        let mut n = size.min(size / self.gomaxprocs + 1);
        if max > 0 {
            n = n.min(max);
        }
        n = n.min(runq::LEN / 2);
        let g = l.runq.pop_front();
        for _ in 1..n {
            let Some(g1) = l.runq.pop_front() else { break };
            if let Some(batch) = p.runq.put(g1, false) {
                // Only when the local queue was not empty to begin with.
                l.runq.extend(batch);
            }
        }
        self.publish_runqsize(l);
        g
    }

    /// Mirror the global queue's length into `runqsize` for lock-free "is there work" checks. A plain
    /// store is enough: it is written under the lock, and the readers that must not miss it (an M
    /// leaving the spinning state) pair their SeqCst fence with the one in `wakep`, which every
    /// submitter executes after unlocking. A read-modify-write would be a second locked instruction
    /// on every global-queue operation.
    pub(crate) fn publish_runqsize(&self, l: &Locked) {
        self.runqsize.store(l.runq.len(), Ordering::Relaxed);
    }

    /// Is there work on the global queue? (A snapshot; `globrunqget` decides under the lock.)
    #[inline(always)]
    pub(crate) fn global_work(&self) -> bool {
        self.runqsize.load(Ordering::SeqCst) > 0
    }

    /// Go's `pidleput`: park a P on the idle list. Caller holds the lock; the P's run queue is empty.
    pub(crate) fn pidleput(&self, l: &mut Locked, p: usize) {
        debug_assert!(
            self.allp[p].runq.is_empty(),
            "pidleput: P{p} has a non-empty run queue"
        );
        self.allp[p].release();
        l.pidle.push(p);
        self.npidle.fetch_add(1, Ordering::SeqCst);
    }

    /// Go's `pidleget`. Caller holds the lock.
    pub(crate) fn pidleget(&self, l: &mut Locked) -> Option<usize> {
        let p = l.pidle.pop()?;
        self.npidle.fetch_sub(1, Ordering::SeqCst);
        Some(p)
    }

    /// Go's `mput`: put an M on the idle list. Caller holds the lock.
    pub(crate) fn mput(&self, l: &mut Locked, m: Arc<M>) {
        l.midle.push(m);
        self.nmidle.fetch_add(1, Ordering::Relaxed);
    }

    /// Go's `mget`. Caller holds the lock.
    pub(crate) fn mget(&self, l: &mut Locked) -> Option<Arc<M>> {
        let m = l.midle.pop()?;
        self.nmidle.fetch_sub(1, Ordering::Relaxed);
        Some(m)
    }

    /// Take the next batch of G ids for an M (Go's `goidcache`, 16 at a time).
    pub(crate) fn goid_batch(&self) -> (u64, u64) {
        const BATCH: u64 = 16;
        let start = self.goidgen.fetch_add(BATCH, Ordering::Relaxed);
        (start, start + BATCH)
    }
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// loom model of the P ownership handshake (run with `scripts/loom.sh`).
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::sched::g::GRef;
    use crate::sched::p::PState;

    /// M0 is inside a poll on P0 and readies two Gs onto it, while sysmon tries to revoke P0 (a
    /// runaway-poll rescue) and, if it wins, gives P0 to M1, which pushes a third G. The handshake
    /// must ensure P0's ring never has two producers at once, and that every G ends up exactly once
    /// on P0's ring or on the global queue (where a P-less M's pushes go). Catches: revoking in the
    /// middle of a push (two producers, a lost G), an M that keeps pushing to a P it lost, an M that
    /// believes it still owns a P after the poll.
    #[test]
    fn sysmon_revoking_a_p_mid_poll_never_makes_two_producers() {
        loom::model(|| {
            let sched = Sched::new_for_test();
            let mut gs: Vec<GRef> = (1..=3)
                .map(|i| {
                    let (q, j, reg) =
                        GRef::new(async {}, i, sched.clone(), crate::sched::g::Origin::here());
                    drop((j, reg));
                    q
                })
                .collect();
            let g3 = gs.pop().unwrap();
            let p0 = &sched.allp[0];
            p0.acquire(0);
            p0.begin_poll(0);

            let s2 = sched.clone();
            let sysmon = loom::thread::spawn(move || {
                let p = &s2.allp[0];
                let seen = p.status.load(Ordering::Acquire);
                if seen.state() == PState::InPoll && p.revoke(seen) {
                    // handoffp → startm: M1 now owns P0 and pushes onto it.
                    p.acquire(1);
                    if let Some(b) = p.runq.put(g3, false) {
                        s2.globrunqputbatch(b);
                    }
                    true
                } else {
                    s2.globrunqputbatch(vec![g3]);
                    false
                }
            });

            // M0, inside the poll: ready two Gs through the handshake, as MCtx::runqput does.
            for g in gs {
                if p0.lock_in_poll(0) {
                    let overflow = p0.runq.put(g, true);
                    p0.unlock_in_poll(0);
                    if let Some(b) = overflow {
                        sched.globrunqputbatch(b);
                    }
                } else {
                    sched.globrunqputbatch(vec![g]);
                }
            }
            let still_mine = p0.end_poll(0);
            let revoked = sysmon.join().unwrap();
            assert_eq!(
                still_mine, !revoked,
                "exactly one of M0 and sysmon owns P0 afterwards"
            );

            let mut ids: Vec<u64> = p0.runq.drain().iter().map(|g| g.id()).collect();
            ids.extend(
                crate::util::loom::lock(&sched.lock)
                    .runq
                    .drain(..)
                    .map(|g| g.id()),
            );
            ids.sort_unstable();
            assert_eq!(ids, vec![1, 2, 3]);
        });
    }
}
