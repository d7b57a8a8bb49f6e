//! A tracing session: Go's `StartTrace` / `StopTrace` (runtime/trace.go) — the switch every
//! runtime's hooks test, who started the trace, the threads and buffers that joined it, and what
//! `stop` hands over for writing.
//!
//! `start` creates a session with a new generation number; a thread whose buffer belongs to
//! another generation joins again (`buf.rs`: a new chunk, a new thread index), so nothing from an
//! earlier session leaks into a later one. `stop` takes the session out from under the lock,
//! waits for the run ends the Ms hold to be written (`buf.rs`: `hold`), and hands the chunks over
//! as they are ([`Stopped`]); a writer that raced the stop fills a chunk nobody reads any more,
//! which its `Arc` keeps alive.
//!
//! Memory is bounded: past [`MAX_BYTES`] of events the session hands out no more chunks and the
//! threads count what they drop. Go streams its trace to the writer instead; we keep it in
//! memory until `stop`, which by default converts it to JSON right there (`mod.rs`).

use std::io::{self, Write};

use gort_trace_format::{ClockPair, RawTrace};

use super::buf::{self, Chunk, CHUNK_BYTES};
use super::clock;
use crate::sched::flags::TRACING;
use crate::sched::Sched;
use crate::util::loom::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use crate::util::loom::sync::{Arc, Mutex};

/// At most this many bytes of events per session (about 6M events, a ~1 GiB JSON file); past
/// that, events are dropped and counted. (Unit tests use a small cap, so that they reach it
/// quickly, under Miri too.)
#[cfg(not(test))]
pub(crate) const MAX_BYTES: usize = 48 << 20;
#[cfg(all(test, not(miri)))]
pub(crate) const MAX_BYTES: usize = 32 * CHUNK_BYTES;
#[cfg(all(test, miri))]
pub(crate) const MAX_BYTES: usize = 12 * CHUNK_BYTES;

/// The process-wide switch (`gort::trace::is_enabled`). The hooks test their runtime's copy of
/// it (`sched::flags::TRACING`); [`set_enabled`] changes both.
pub(crate) static ENABLED: AtomicBool = AtomicBool::new(false);
/// Every runtime built so far (the dead ones are dropped from the list as it is walked), whose
/// `TRACING` flags follow `ENABLED`.
static RUNTIMES: Mutex<Vec<std::sync::Weak<Sched>>> = Mutex::new(Vec::new());
/// Generation of the current (or last) session.
pub(super) static GEN: AtomicU64 = AtomicU64::new(0);
static SESSION: Mutex<Option<Session>> = Mutex::new(None);

/// The unit tests that start a session take turns (the session is process-wide).
#[cfg(test)]
pub(super) static TEST_SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Who started the session, and so who may stop it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Owner {
    /// `gort::trace::start`; stopped by `gort::trace::stop`.
    Api,
    /// `GORTTRACE=path`; written when the runtime is dropped.
    Env(String),
}

/// A thread that joined the session.
struct ThreadInfo {
    /// The OS thread's name (`gort-m3`, `gort-sysmon`, `main`, ...).
    name: String,
    /// Events this thread dropped because the session was full. Its own counter, so a full
    /// session does not make every thread hammer one shared cache line.
    dropped: Arc<AtomicU64>,
}

pub(super) struct Session {
    gen: u64,
    /// Both clocks at start: event times count from here, and the reader calibrates ticks with it.
    start: ClockPair,
    owner: Owner,
    sink: Box<dyn Write + Send>,
    threads: Vec<ThreadInfo>,
    /// Every chunk handed out, with the index of its thread in `threads`.
    chunks: Vec<(u32, Arc<Chunk>)>,
    reserved: usize,
}

impl Session {
    pub(super) fn gen(&self) -> u64 {
        self.gen
    }

    /// The calling thread joins: its index, and the counter of the events it drops.
    pub(super) fn join(&mut self) -> (u32, Arc<AtomicU64>) {
        let me = std::thread::current();
        let name = me
            .name()
            .map_or_else(|| format!("{:?}", me.id()), String::from);
        let dropped = Arc::new(AtomicU64::new(0));
        self.threads.push(ThreadInfo {
            name,
            dropped: dropped.clone(),
        });
        ((self.threads.len() - 1) as u32, dropped)
    }

    /// A new chunk for thread `thread`, or None if the session is full.
    pub(super) fn chunk(&mut self, thread: u32) -> Option<Arc<Chunk>> {
        if self.reserved + CHUNK_BYTES > MAX_BYTES {
            return None;
        }
        let chunk = Arc::new(Chunk::new());
        self.reserved += CHUNK_BYTES;
        self.chunks.push((thread, chunk.clone()));
        Some(chunk)
    }
}

/// Run `f` on the running session, if there is one, under its lock.
pub(super) fn with<R>(f: impl FnOnce(&mut Session) -> R) -> Option<R> {
    crate::util::loom::lock(&SESSION).as_mut().map(f)
}

/// A new runtime: its `TRACING` flag starts as `ENABLED` is. Under the list's lock, so a concurrent
/// [`set_enabled`] either sees the runtime on the list or has set `ENABLED` already.
pub(crate) fn register(sched: &Arc<Sched>) {
    let mut all = crate::util::loom::lock(&RUNTIMES);
    all.retain(|w| w.strong_count() > 0);
    set_tracing(sched, ENABLED.load(Ordering::SeqCst));
    all.push(Arc::downgrade(sched));
}

/// Set or clear one runtime's copy of the switch.
fn set_tracing(sched: &Sched, on: bool) {
    if on {
        sched.flags.fetch_or(TRACING, Ordering::SeqCst);
    } else {
        sched.flags.fetch_and(!TRACING, Ordering::SeqCst);
    }
}

/// Flip the process-wide switch and every live runtime's copy.
fn set_enabled(on: bool) {
    let mut all = crate::util::loom::lock(&RUNTIMES);
    ENABLED.store(on, Ordering::SeqCst);
    all.retain(|w| match w.upgrade() {
        Some(s) => {
            set_tracing(&s, on);
            true
        }
        None => false,
    });
}

/// Start a session. Fails if one is running.
pub(crate) fn start(owner: Owner, sink: Box<dyn Write + Send>) -> io::Result<()> {
    let mut guard = crate::util::loom::lock(&SESSION);
    if let Some(s) = guard.as_ref() {
        let who = match &s.owner {
            Owner::Api => "gort::trace::start".to_string(),
            Owner::Env(path) => format!("GORTTRACE={path}"),
        };
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("gort: tracing is already on (started by {who}); stop it first"),
        ));
    }
    let gen = GEN.load(Ordering::Relaxed) + 1;
    clock::source();
    *guard = Some(Session {
        gen,
        start: clock::now(),
        owner,
        sink,
        threads: Vec::new(),
        chunks: Vec::new(),
        reserved: 0,
    });
    GEN.store(gen, Ordering::Release);
    set_enabled(true);
    Ok(())
}

/// The owner of the running session, if any.
pub(crate) fn owner() -> Option<Owner> {
    crate::util::loom::lock(&SESSION)
        .as_ref()
        .map(|s| s.owner.clone())
}

/// A stopped session: its chunks as they are, and where they go. Dropping it returns the chunks
/// nobody writes any more to the pool (`buf.rs`).
pub(crate) struct Stopped {
    pub(crate) owner: Owner,
    pub(crate) sink: Box<dyn Write + Send>,
    threads: Vec<String>,
    chunks: Vec<(u32, Arc<Chunk>)>,
    start: ClockPair,
    end: ClockPair,
    pub(crate) dropped: u64,
}

impl Stopped {
    /// The trace, for the format crate to write or decode; it borrows the chunks' bytes.
    pub(crate) fn raw(&self) -> RawTrace<'_> {
        RawTrace {
            ticks_are_ns: clock::source() == clock::Source::Monotonic,
            start: self.start,
            end: self.end,
            dropped: self.dropped,
            threads: self.threads.clone(),
            buffers: self
                .chunks
                .iter()
                .map(|(t, c)| (*t, c.published().into()))
                .collect(),
        }
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        buf::recycle(self.chunks.drain(..).map(|(_, c)| c));
    }
}

/// End the session if `accept(owner)` agrees, and hand over its chunks.
pub(crate) fn stop(accept: impl FnOnce(&Owner) -> io::Result<()>) -> io::Result<Stopped> {
    let s = {
        let mut guard = crate::util::loom::lock(&SESSION);
        match guard.as_ref() {
            None => {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    "gort: tracing is not on",
                ))
            }
            Some(s) => accept(&s.owner)?,
        }
        set_enabled(false);
        match guard.take() {
            Some(s) => s,
            None => unreachable!("the session vanished under its lock"),
        }
    };
    // The ends of runs that writers hold (`buf.rs`: `hold`) belong to this session: each M
    // writes its own when it next records or leaves the traced loop, which it does as soon as it
    // sees tracing off. The bound only matters for a thread the OS does not run for that long.
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(100);
    for (_, chunk) in &s.chunks {
        chunk.settle(deadline);
    }
    let end = clock::now();
    let dropped = s
        .threads
        .iter()
        .map(|t| t.dropped.load(Ordering::Relaxed))
        .sum();
    Ok(Stopped {
        owner: s.owner,
        sink: s.sink,
        threads: s.threads.into_iter().map(|t| t.name).collect(),
        chunks: s.chunks,
        start: s.start,
        end,
        dropped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gort_trace_format::{Event, Kind};

    #[test]
    fn a_second_start_is_refused_and_stop_without_start_is_an_error() {
        let _serial = TEST_SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        start(Owner::Api, Box::new(io::sink())).expect("start");
        let e = start(Owner::Api, Box::new(io::sink())).expect_err("second start");
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        drop(stop(|_| Ok(())).expect("stop"));
        let e = stop(|_| Ok(())).err().expect("stop twice");
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn only_the_owner_may_stop_a_session() {
        let _serial = TEST_SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        start(Owner::Env("t.json".into()), Box::new(io::sink())).expect("start");
        assert_eq!(owner(), Some(Owner::Env("t.json".into())));
        let refuse = |o: &Owner| match o {
            Owner::Api => Ok(()),
            Owner::Env(_) => Err(io::Error::other("not yours")),
        };
        assert!(stop(refuse).is_err());
        assert!(
            ENABLED.load(Ordering::Relaxed),
            "a refused stop leaves tracing on"
        );
        drop(stop(|_| Ok(())).expect("stop"));
        assert_eq!(owner(), None);
    }

    /// The G ids of the `GoStart`s this test's thread recorded (libtest names the thread after
    /// the test; runtimes of other unit tests are traced too while a session runs).
    fn my_starts(s: &Stopped) -> Vec<u64> {
        let me = std::thread::current().name().map(String::from);
        let t = s.raw().decode().expect("decode");
        t.events
            .iter()
            .filter(|(th, e)| {
                Some(&t.threads[*th as usize]) == me.as_ref() && e.kind == Kind::GoStart
            })
            .map(|(_, e)| e.g)
            .collect()
    }

    #[test]
    fn events_of_an_earlier_session_do_not_leak_into_the_next() {
        let _serial = TEST_SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        start(Owner::Api, Box::new(io::sink())).expect("start");
        buf::emit(Event::new(Kind::GoStart).g(1));
        drop(stop(|_| Ok(())).expect("stop"));
        // Lands in the stopped session's chunk, which nobody reads any more.
        buf::emit(Event::new(Kind::GoStart).g(2));
        start(Owner::Api, Box::new(io::sink())).expect("start again");
        buf::emit(Event::new(Kind::GoStart).g(3));
        let s = stop(|_| Ok(())).expect("stop");
        assert_eq!(my_starts(&s), vec![3]);
    }
}
