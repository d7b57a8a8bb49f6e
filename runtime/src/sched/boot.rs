//! Starting and stopping a runtime: Go's bootstrap (runtime/proc.go: `schedinit`, `procresize`,
//! `newproc`, `main`) and the end of a Go program (`main` returns, the process exits).
//!
//! `Builder::build` is `schedinit`: read `GORTMAXPROCS`, create the Ps (all idle), start sysmon.
//! `Runtime::block_on` is `runtime.main`: make the main G and queue it, let `wakep` start the first M,
//! and wait for the main G to finish. No M exists until there is work, as in Go, where Ms are created
//! on demand by `startm`.
//!
//! `newproc` records what a goroutine dump shows (`Spawn`): the spawn site (Go's `gp.gopc`, here the
//! `#[track_caller]` location of `go`), the parent G (`gp.parentGoid`), a name ([`Go`], the builder
//! for named Gs) and whether the G is the runtime's own (Go's `isSystemGoroutine`). `block_on`'s
//! main G is named `main` and marked as the root that `checkdead` looks for.
//!
//! Dropping the runtime is the process exit: every M leaves its loop and is joined, sysmon stops, and
//! every G that has not finished is dropped (its destructors run) — Go simply exits the process, but a
//! library cannot, and a runtime created and dropped in a loop must leave nothing behind.
//!
//! # Differences from Go
//! The thread that calls `block_on` is not an M (Go's M0 is the process's first thread): it waits for
//! the main G like a parent waits for a child. So the main G is a G like any other, and any M may run
//! it; that is why `block_on` needs a `Send + 'static` future.

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::panic::resume_unwind;
use std::pin::pin;
use std::sync::atomic::AtomicBool as StdAtomicBool;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use crate::sched::g::{GRef, JoinHandle};
use crate::sched::getg;
use crate::sched::{Config, Sched};
use crate::util::loom::sync::atomic::Ordering;
use crate::util::loom::sync::Arc;

/// Configures and starts a runtime.
#[derive(Clone, Debug, Default)]
pub struct Builder {
    procs: Option<usize>,
    rescue_threshold: Option<Duration>,
    sysmon: Option<bool>,
    schedtrace: Option<Duration>,
    scheddetail: Option<bool>,
    max_threads: Option<usize>,
    checkdead: Option<bool>,
    panic_exits: Option<bool>,
}

impl Builder {
    /// The most Ps a runtime may have. Go has no cap since 1.10, but every P costs memory (its run
    /// queue and timer heap) and every steal and sysmon pass visits them all; no machine needs more.
    pub const MAX_PROCS: usize = 4096;

    pub fn new() -> Builder {
        Builder::default()
    }

    /// Number of Ps (Go's GOMAXPROCS), from 1 to [`MAX_PROCS`](Self::MAX_PROCS). Default:
    /// `GORTMAXPROCS` if set, else the available parallelism.
    pub fn procs(mut self, n: usize) -> Builder {
        self.procs = Some(n);
        self
    }

    /// How long a single poll may block its thread before sysmon hands its P to another M
    /// ("runaway poll" rescue). Default 20 ms.
    pub fn rescue_threshold(mut self, d: Duration) -> Builder {
        self.rescue_threshold = Some(d);
        self
    }

    /// Run without sysmon (no preemption, no syscall hand-off, no rescue). For experiments that
    /// want to see the bare scheduler; default on.
    pub fn sysmon(mut self, on: bool) -> Builder {
        self.sysmon = Some(on);
        self
    }

    /// Print Go's `SCHED` line to stderr every `every` (like `GORTDEBUG=schedtrace=MS`, which it
    /// overrides). Zero turns it off.
    pub fn schedtrace(mut self, every: Duration) -> Builder {
        self.schedtrace = Some(every);
        self
    }

    /// Print a line per P, M and G after each `SCHED` line (like `GORTDEBUG=scheddetail=1`).
    pub fn scheddetail(mut self, on: bool) -> Builder {
        self.scheddetail = Some(on);
        self
    }

    /// The most threads running Gs the runtime will start (Go's `debug.SetMaxThreads`; default
    /// 10 000). Ms beyond the Ps are started when Gs sit in blocking sections or runaway polls;
    /// at the limit the runtime stops starting more, says so once on stderr, and its idle Ps wait
    /// for a busy M to come back — unlike Go, which crashes the program.
    pub fn max_threads(mut self, n: usize) -> Builder {
        self.max_threads = Some(n);
        self
    }

    /// Go's `checkdead`: when every G of a program waiting in `run`/`block_on` is parked on
    /// gort's own primitives with nothing left that could wake one (no timer, no I/O, no signal
    /// listener, no blocking section), print `fatal error: all goroutines are asleep - deadlock!`
    /// and every G, and exit with status 2. Default on; `GORTDEBUG=checkdead=0` also turns it off.
    /// See design.md, "When a program goes wrong", for what it can and cannot see.
    pub fn checkdead(mut self, on: bool) -> Builder {
        self.checkdead = Some(on);
        self
    }

    /// Go's behaviour for a panic that escapes a G: print the goroutine dump (`GORTTRACEBACK`) and
    /// exit with status 2. Default off (also `GORTDEBUG=panicexit=1`): the panic is handed to the
    /// G's `JoinHandle` and the runtime keeps serving; either way the panic message names the G.
    pub fn panic_exits(mut self, on: bool) -> Builder {
        self.panic_exits = Some(on);
        self
    }

    /// Go's `schedinit`: create the Ps and start sysmon. Fails if `procs` is out of range or the
    /// OS refuses the netpoller or sysmon's thread.
    pub fn build(self) -> io::Result<Runtime> {
        let procs = match self.procs {
            Some(n) if !(1..=Builder::MAX_PROCS).contains(&n) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("gort: procs({n}): must be from 1 to {}", Builder::MAX_PROCS),
                ))
            }
            Some(n) => n,
            None => procs_from_env(),
        };
        let debug = crate::sched::schedtrace::DebugVars::from_env();
        let mut config = Config::default();
        if let Some(d) = self.rescue_threshold {
            config.rescue_threshold = d;
        }
        if let Some(on) = self.sysmon {
            config.sysmon = on;
        }
        if let Some(n) = self.max_threads {
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "gort: max_threads must be at least 1",
                ));
            }
            config.max_threads = n;
        }
        config.schedtrace_ms = self.schedtrace.map_or(debug.schedtrace_ms, |d| {
            u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
        });
        config.scheddetail = self.scheddetail.unwrap_or(debug.scheddetail);
        config.checkdead = self.checkdead.unwrap_or(debug.checkdead);
        config.panic_exit = self.panic_exits.unwrap_or(debug.panicexit);
        let sched = Sched::new(procs, config)?;
        crate::debug::register(&sched);
        let sysmon = crate::sched::sysmon::start(&sched)?;
        crate::trace::start_from_env();
        Ok(Runtime { sched, sysmon })
    }
}

/// `GORTMAXPROCS`, like `GOMAXPROCS`: a positive integer (above `MAX_PROCS`: capped); anything
/// else is reported and ignored.
fn procs_from_env() -> usize {
    let default = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(Builder::MAX_PROCS);
    // `var_os`: a value that is not UTF-8 is reported too, not silently taken for "unset".
    match std::env::var_os("GORTMAXPROCS") {
        Some(v) => parse_procs(&v.to_string_lossy(), default).unwrap_or_else(|(n, why)| {
            eprintln!("gort: GORTMAXPROCS={v:?}: {why}; using {n}");
            n
        }),
        None => default,
    }
}

/// `GORTMAXPROCS`'s value, or the count to use instead and why.
fn parse_procs(v: &str, default: usize) -> Result<usize, (usize, &'static str)> {
    let too_many = (Builder::MAX_PROCS, "more than Builder::MAX_PROCS");
    match v.trim().parse::<usize>() {
        Ok(n) if (1..=Builder::MAX_PROCS).contains(&n) => Ok(n),
        Ok(n) if n > Builder::MAX_PROCS => Err(too_many),
        Err(e) if *e.kind() == std::num::IntErrorKind::PosOverflow => Err(too_many),
        _ => Err((default, "want a positive integer")),
    }
}

/// A running scheduler: its Ps, its Ms (started on demand), sysmon. Dropping it stops everything and
/// drops every unfinished G.
pub struct Runtime {
    sched: Arc<Sched>,
    sysmon: Option<crate::util::loom::thread::JoinHandle<()>>,
}

#[cfg(not(loom))]
thread_local! {
    /// The runtime a non-M thread is "inside" (during `block_on` and `Runtime::drop`), so `go` works
    /// there too.
    static ENTERED: RefCell<Vec<Arc<Sched>>> = const { RefCell::new(Vec::new()) };
}

#[cfg(loom)]
loom::thread_local! {
    static ENTERED: RefCell<Vec<Arc<Sched>>> = RefCell::new(Vec::new());
}

struct EnterGuard;

impl EnterGuard {
    fn new(sched: &Arc<Sched>) -> EnterGuard {
        ENTERED.with(|e| e.borrow_mut().push(sched.clone()));
        EnterGuard
    }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        ENTERED.with(|e| e.borrow_mut().pop());
    }
}

/// The runtime the calling code runs in: the M's, or the one a `block_on` thread entered.
pub(crate) fn current() -> Option<Arc<Sched>> {
    getg::cur_sched().or_else(|| ENTERED.with(|e| e.borrow().last().cloned()))
}

impl Runtime {
    /// Go's `runtime.main`: run `fut` as the main G and wait for it. Other Gs keep running after it
    /// returns, until the runtime is dropped. A panic in the main G is re-raised here.
    ///
    /// Panics if called from inside a G (that would block an M; use `.await`).
    ///
    /// # Why the output must be `Send`
    /// The main G is a G like any other: any M may poll it, so the output is made on whichever M
    /// ran its last poll and then handed to this thread. A non-`Send` value can share state that
    /// must stay on the thread that made it (an `Rc` whose other clone sits in that M's
    /// thread-local, a `MutexGuard`), so letting it cross would be unsound, and the compiler says
    /// so. Running the main G on the calling thread instead would make it a G that cannot
    /// migrate, unlike every other, which this runtime does not do. For the common case,
    /// `Result<(), Box<dyn Error>>`, convert inside the future (`.map_err(|e| e.to_string())`),
    /// use `Box<dyn Error + Send + Sync>`, or use `#[gort::main]`, which reports the result as an
    /// exit code inside the main G.
    #[track_caller]
    pub fn block_on<F>(&self, fut: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        if getg::cur_sched().is_some() {
            panic!(
                "gort: block_on called from inside a G; it would block an M. Await the future \
                 instead, or spawn it with gort::go"
            );
        }
        let _enter = EnterGuard::new(&self.sched);
        let main = newproc(
            &self.sched,
            fut,
            Spawn {
                name: Some("main".into()),
                root: true,
                ..Spawn::here()
            },
        );
        match park_on(main) {
            Ok(v) => v,
            Err(e) => match e.try_into_panic() {
                Ok(payload) => resume_unwind(payload),
                Err(e) => panic!("gort: the main G did not finish: {e}"),
            },
        }
    }

    /// Go's `go` statement from outside the runtime: start a G running `fut`.
    #[track_caller]
    pub fn go<F>(&self, fut: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        newproc(&self.sched, fut, Spawn::here())
    }

    /// A snapshot of the scheduler's counters.
    pub fn stats(&self) -> crate::sched::stats::Stats {
        crate::sched::stats::Stats::collect(&self.sched)
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        let sched = &self.sched;
        let _enter = EnterGuard::new(sched);
        sched
            .flags
            .fetch_or(crate::sched::flags::SHUTDOWN, Ordering::SeqCst);
        // Wake every M that sleeps: on the idle list, in the netpoller; and sysmon.
        {
            let l = sched.lock();
            for m in &l.midle {
                m.park.wakeup();
            }
        }
        crate::sched::netpoll::netpoll_break(sched);
        sched.sysmon_note.wakeup();
        if let Some(h) = self.sysmon.take() {
            let _ = h.join();
        }
        // Join every M. Ms stuck in a G's poll are waited for: we cannot drop a G another thread is
        // polling. An M being created right now is waited for too (`mstarting`).
        let me = crate::util::loom::thread::current_id();
        loop {
            let (handles, starting) = {
                let mut l = sched.lock();
                (std::mem::take(&mut l.threads), l.mstarting)
            };
            if handles.is_empty() && starting == 0 {
                break;
            }
            for h in handles {
                if crate::util::loom::thread::id_of(&h) == me {
                    continue; // dropped from inside one of its own Gs: cannot join ourselves
                }
                let _ = h.join();
            }
            if starting > 0 {
                std::thread::yield_now();
            }
        }
        // No M runs any more. Close the queues (late wake-ups now drop their G) and drop every
        // unfinished G. Dropping a future may wake or spawn others; those are dropped at once.
        let queued = {
            let mut l = sched.lock();
            l.closed = true;
            sched.runqsize.store(0, Ordering::SeqCst);
            std::mem::take(&mut l.runq)
        };
        let live: Vec<GRef> = sched.allgs.close_and_drain();
        for g in &live {
            g.shutdown();
        }
        drop(live);
        drop(queued);
        for p in sched.allp.iter() {
            drop(p.runq.drain());
            p.timers.clear();
        }
        // A G of another runtime still waiting on one of this runtime's sockets would never hear
        // from its netpoller again: wake it, and its next look sees the runtime gone (net/fd.rs,
        // `orphaned`). The SHUTDOWN flag above is stored before; every unblock publishes it.
        sched.poller.unblock_all();
        crate::trace::flush_on_shutdown(sched);
    }
}

/// How a G is spawned: where (`#[track_caller]`), with which name, and whether it is the runtime's
/// own (Go's `isSystemGoroutine`).
pub(crate) struct Spawn {
    pub(crate) site: &'static std::panic::Location<'static>,
    pub(crate) name: Option<Box<str>>,
    pub(crate) system: bool,
    /// The main G of a `block_on` (`gflags::ROOT`).
    pub(crate) root: bool,
}

impl Spawn {
    /// An unnamed user G spawned at the caller's location.
    #[track_caller]
    pub(crate) fn here() -> Spawn {
        Spawn {
            site: std::panic::Location::caller(),
            name: None,
            system: false,
            root: false,
        }
    }

    /// A named runtime-internal G spawned at the caller's location.
    #[track_caller]
    pub(crate) fn system(name: &str) -> Spawn {
        Spawn {
            site: std::panic::Location::caller(),
            name: Some(name.into()),
            system: true,
            root: false,
        }
    }
}

/// Go's `newproc`: create a G for `fut` and make it runnable — onto the current P's `runnext` when
/// called from a G (the child runs soon, on this P, as in Go), else onto the global queue.
pub(crate) fn newproc<F>(sched: &Arc<Sched>, fut: F, spawn: Spawn) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (id, parent) = getg::with_curm(|ctx| {
        Arc::ptr_eq(&ctx.sched, sched).then(|| {
            let g = ctx.curg.get();
            // SAFETY: curg is set only while its G is polled, and the M holds a reference meanwhile.
            let parent = if g.is_null() { 0 } else { unsafe { (*g).id } };
            (ctx.goid(), parent)
        })
    })
    .flatten()
    .unwrap_or_else(|| (sched.goid_batch_one(), 0));
    let mut flags = 0;
    if spawn.system {
        flags |= crate::sched::g::gflags::SYSTEM;
    }
    if spawn.root {
        flags |= crate::sched::g::gflags::ROOT;
    }
    label_for_trace(id, &spawn);
    if let Some(name) = spawn.name {
        flags |= crate::sched::g::gflags::NAMED;
        sched.allgs.set_name(id, name);
    }
    let origin = crate::sched::g::Origin {
        site: spawn.site,
        parent,
        gflags: flags,
    };
    let (q, join, reg) = GRef::new(fut, id, sched.clone(), origin);
    if let Err(reg) = sched.allgs.insert(reg) {
        // The runtime has shut down: the G is cancelled before it ever runs.
        drop(reg);
        q.shutdown();
        drop(q);
        return JoinHandle::new(join);
    }
    sched.counters.spawned.fetch_add(1, Ordering::Relaxed);
    let placed = crate::sched::wakep::put_runnable(sched, q);
    crate::trace::go_create(sched, id, placed);
    JoinHandle::new(join)
}

/// While a trace is recorded, the label its slices of a new G carry (`GoLabel`): its name and spawn
/// site, or the spawn site alone; a runtime-internal G's name marked as such, so that
/// `gort-trace summary` lists those Gs apart (Go's `isSystemGoroutine`). Nothing when not tracing.
fn label_for_trace(id: u64, spawn: &Spawn) {
    if !crate::trace::is_enabled() {
        return;
    }
    let site = spawn.site;
    let label = match (&spawn.name, spawn.system) {
        (Some(name), true) => format!("{}{name}", crate::trace::SYSTEM_LABEL),
        (Some(name), false) => format!("{name} ({}:{})", site.file(), site.line()),
        (None, _) => format!("{}:{}", site.file(), site.line()),
    };
    crate::trace::go_label(id, &label);
}

impl Sched {
    fn goid_batch_one(&self) -> u64 {
        self.goidgen.fetch_add(1, Ordering::Relaxed)
    }
}

/// Wait on the calling (non-M) thread for a future, parking the thread between polls.
fn park_on<F: Future>(fut: F) -> F::Output {
    struct ThreadWaker {
        thread: std::thread::Thread,
        notified: StdAtomicBool,
    }
    impl Wake for ThreadWaker {
        fn wake(self: std::sync::Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &std::sync::Arc<Self>) {
            self.notified
                .store(true, std::sync::atomic::Ordering::Release);
            self.thread.unpark();
        }
    }
    let tw = std::sync::Arc::new(ThreadWaker {
        thread: std::thread::current(),
        notified: StdAtomicBool::new(false),
    });
    let waker = Waker::from(tw.clone());
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        while !tw
            .notified
            .swap(false, std::sync::atomic::Ordering::Acquire)
        {
            std::thread::park();
        }
    }
}

/// Start a runtime with the default configuration (`GORTMAXPROCS` Ps), run `fut` as the main G, and
/// when it returns, end the runtime as Go's `main` does: every other G is dropped, every thread
/// joined. Returns the main G's output; a panic in it is re-raised. The output must be `Send`
/// because it crosses from an M to the calling thread (see [`Runtime::block_on`]); `#[gort::main]`
/// accepts non-`Send` results such as `Box<dyn Error>`.
#[track_caller]
pub fn run<F>(fut: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let rt = match Builder::new().build() {
        Ok(rt) => rt,
        Err(e) => panic!("gort: cannot start the runtime: {e}"),
    };
    rt.block_on(fut)
}

/// Go's `go` statement: start a new G running `fut`. It runs concurrently, on any M; the returned
/// handle awaits its result (dropping the handle detaches it).
///
/// Panics if called outside a runtime: use it from code that runs inside `gort::run(...)` or
/// `Runtime::block_on`, or call `Runtime::go` on a runtime handle.
///
/// The G records where it was spawned (this call's `file:line`) and by which G, for goroutine dumps
/// (`gort::debug::dump`); [`Go`] spawns a named one.
#[track_caller]
pub fn go<F>(fut: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    spawn_in_current(fut, Spawn::here())
}

fn spawn_in_current<F>(fut: F, spawn: Spawn) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match current() {
        Some(sched) => newproc(&sched, fut, spawn),
        None => panic!(
            "gort::go called outside a gort runtime: call it from inside gort::run(...) or \
             Runtime::block_on(...), or use Runtime::go on a runtime you built"
        ),
    }
}

/// A G with a name: `gort::Go::new().name("accept loop").spawn(fut)`. The name and the spawn site
/// appear in goroutine dumps (`gort::debug::dump`, SIGQUIT, a deadlock) and in
/// `GORTDEBUG=scheddetail=1`. Go has no named goroutines (pprof labels come closest); a name is one
/// entry in a side table, so unnamed Gs pay nothing for the feature.
///
/// ```
/// gort::run(async {
///     let h = gort::Go::new().name("answer").spawn(async { 42 });
///     assert_eq!(h.await.unwrap(), 42);
/// });
/// ```
#[derive(Clone, Debug, Default)]
pub struct Go {
    name: Option<String>,
}

impl Go {
    pub fn new() -> Go {
        Go::default()
    }

    /// The G's name, as dumps and scheddetail print it.
    pub fn name(mut self, name: impl Into<String>) -> Go {
        self.name = Some(name.into());
        self
    }

    /// Start the G, as [`go`] does (and panics where `go` does: outside a runtime).
    #[track_caller]
    pub fn spawn<F>(self, fut: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let mut spawn = Spawn::here();
        spawn.name = self.name.map(String::into_boxed_str);
        spawn_in_current(fut, spawn)
    }

    /// Start the G on `rt`, from anywhere (as [`Runtime::go`] does).
    #[track_caller]
    pub fn spawn_on<F>(self, rt: &Runtime, fut: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let mut spawn = Spawn::here();
        spawn.name = self.name.map(String::into_boxed_str);
        newproc(&rt.sched, fut, spawn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gortmaxprocs_is_a_positive_integer_capped_at_max_procs() {
        assert_eq!(parse_procs("3", 2), Ok(3));
        assert_eq!(parse_procs(" 4096 ", 2), Ok(Builder::MAX_PROCS));
        for bad in ["abc", "0", "-1", "", "1.5", "2x"] {
            assert_eq!(parse_procs(bad, 2).map_err(|e| e.0), Err(2), "{bad:?}");
        }
        for huge in ["4097", "18446744073709551616", "99999999999999999999999"] {
            let got = parse_procs(huge, 2).map_err(|e| e.0);
            assert_eq!(got, Err(Builder::MAX_PROCS), "{huge:?}");
        }
    }
}
