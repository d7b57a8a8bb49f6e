//! Per-thread trace buffers and the session that collects them: Go's per-M `traceBuf`s
//! (runtime/tracebuf.go) and `StartTrace`/`StopTrace` (runtime/trace.go).
//!
//! # Recording without a lock
//! Each thread appends to its own [`Chunk`], a fixed array of event slots with a published length.
//! The thread is the chunk's only writer: it fills slot `len`, then stores `len + 1` with `Release`.
//! The collector, on `stop`, loads `len` with `Acquire` and copies slots `0..len`: those are complete
//! and never written again, and the slot the writer may be filling right now is past `len`. So the
//! hot path is a thread-local access, a clock read, a few stores — no lock and no read-modify-write.
//! A lock (the session's) is taken once per [`CHUNK`] events, to register a fresh chunk.
//!
//! # Per thread, not per P
//! Go keeps a buffer per M too (per P for some events). Here per-P buffers would be wrong, not just
//! slower: sysmon can revoke a P while its M is still inside a poll (a runaway poll, a blocking
//! section), so two threads could append to "the P's" buffer at once. A thread's buffer has exactly
//! one writer for its whole life, whatever Ps come and go.
//!
//! # Sessions
//! `start` creates a session with a new generation number; a thread whose cached generation differs
//! registers again (new chunk, new thread index), so nothing from an earlier session leaks into a
//! later one. `stop` takes the session out from under the lock, then reads the chunks at leisure;
//! a writer that raced the stop fills a chunk nobody reads any more, which its `Arc` keeps alive.
//!
//! Memory is bounded: after [`MAX_EVENTS`] events the session records nothing more and counts what
//! it dropped (reported in the trace and on stderr). Go streams its trace to the writer instead; we
//! keep it in memory because the output format needs every event sorted by time.
//!
//! This file uses `crate::loom` types like the rest of the crate, but the tracer is compiled out
//! under `cfg(loom)` (`mod.rs`): its state lives in statics, which loom's types cannot be, and the
//! models check the scheduler, not its observer.

use std::cell::RefCell;
use std::io::{self, Write};

use super::event::Event;
use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use crate::loom::sync::{Arc, Mutex};

/// Events per chunk: one lock every 1024 events, 40 KiB a chunk.
pub(crate) const CHUNK: usize = 1024;
/// At most this many events per session (~160 MiB); past that, events are dropped and counted.
#[cfg(not(test))]
pub(crate) const MAX_EVENTS: usize = 1 << 22;
#[cfg(test)]
pub(crate) const MAX_EVENTS: usize = 16 * CHUNK;

/// The flag every hook tests. `Relaxed`: a thread that sees tracing switch on or off a little late
/// records a few events more or less, which the session boundary absorbs.
pub(crate) static ENABLED: AtomicBool = AtomicBool::new(false);
/// Generation of the current (or last) session.
static GEN: AtomicU64 = AtomicU64::new(0);
static SESSION: Mutex<Option<Session>> = Mutex::new(None);

/// Who started the session, and so who may stop it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Owner {
    /// `runtime::trace::start`; stopped by `runtime::trace::stop`.
    Api,
    /// `GORTTRACE=path`; written when the runtime is dropped.
    Env(String),
}

/// A run of event slots with one writer (see the module header).
struct Chunk {
    slots: Box<[UnsafeCell<Event>]>,
    len: AtomicUsize,
}

// SAFETY: the only thread that writes a slot is the chunk's owner, and it writes slot `i` once,
// before publishing `len = i + 1` with Release. Other threads read only slots below a `len` they
// loaded with Acquire, so every read is of a slot that is complete and never written again.
unsafe impl Sync for Chunk {}
// SAFETY: `Event` is plain data; moving the chunk between threads moves nothing but bytes.
unsafe impl Send for Chunk {}

impl Chunk {
    fn new() -> Chunk {
        Chunk {
            slots: (0..CHUNK)
                .map(|_| UnsafeCell::new(Event::default()))
                .collect(),
            len: AtomicUsize::new(0),
        }
    }
}

/// The thread that recorded a group of events.
#[derive(Clone, Debug)]
pub(crate) struct ThreadInfo {
    /// The OS thread's name (`gort-m3`, `gort-sysmon`, `main`, ...).
    pub(crate) name: String,
    /// Events this thread dropped because the session was full. Its own counter, so a full
    /// session does not make every thread hammer one shared cache line.
    pub(crate) dropped: Arc<AtomicU64>,
}

struct Session {
    gen: u64,
    /// `monotonic_ns()` at start; event times count from here.
    epoch: u64,
    owner: Owner,
    sink: Box<dyn Write + Send>,
    threads: Vec<ThreadInfo>,
    /// Every chunk handed out, with the index of its thread in `threads`.
    chunks: Vec<(u32, Arc<Chunk>)>,
    reserved: usize,
}

/// What `stop` hands to the output writer.
pub(crate) struct Collected {
    pub(crate) owner: Owner,
    pub(crate) sink: Box<dyn Write + Send>,
    pub(crate) threads: Vec<ThreadInfo>,
    /// (thread index, event), sorted by time; a thread's own events keep their order.
    pub(crate) events: Vec<(u32, Event)>,
    /// Nanoseconds from start to stop.
    pub(crate) end_ts: u64,
    pub(crate) dropped: u64,
}

/// A thread's side of the buffers.
struct Writer {
    gen: u64,
    epoch: u64,
    chunk: Option<Arc<Chunk>>,
    used: usize,
    thread: u32,
    /// Set when the session's cap was reached: count and drop without taking the lock again.
    dropped: Option<Arc<AtomicU64>>,
    capped: bool,
}

thread_local! {
    static WRITER: RefCell<Writer> = const {
        RefCell::new(Writer {
            gen: 0,
            epoch: 0,
            chunk: None,
            used: 0,
            thread: 0,
            dropped: None,
            capped: false,
        })
    };
}

/// Nanoseconds on the monotonic clock. On Unix this is `clock_gettime(CLOCK_MONOTONIC)` read
/// directly — the clock `Instant` uses — because it is the largest cost of an event and
/// `Instant`'s `Duration` arithmetic roughly doubles it (about 25 ns against 60 ns per event on the
/// development machine).
#[cfg(unix)]
#[inline]
fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the call; CLOCK_MONOTONIC exists on every
    // Unix the runtime supports, and if the call failed `ts` would simply stay zero.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.tv_nsec as u64)
}

#[cfg(not(unix))]
fn monotonic_ns() -> u64 {
    static BASE: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    BASE.get_or_init(std::time::Instant::now)
        .elapsed()
        .as_nanos() as u64
}

/// Record one event, stamping its time. Called only by the hooks' cold paths.
pub(crate) fn emit(mut ev: Event) {
    // `try_with`: a hook can run while thread-locals are being torn down (a waker dropped by a
    // thread-local destructor); the event is dropped then. `try_borrow_mut`: never re-entered today,
    // but a hook inside `emit` must not turn into a panic.
    let _ = WRITER.try_with(|w| {
        let Ok(mut w) = w.try_borrow_mut() else {
            return;
        };
        let gen = GEN.load(Ordering::Acquire);
        if (w.gen != gen || w.used == CHUNK || w.chunk.is_none()) && !w.refill(gen) {
            return;
        }
        let w = &mut *w;
        let Some(chunk) = w.chunk.as_ref() else {
            return;
        };
        ev.ts = monotonic_ns().saturating_sub(w.epoch);
        let i = w.used;
        // SAFETY: this thread is the chunk's only writer and slot `i` is at or past the published
        // length, so no reader looks at it until the Release store below.
        chunk.slots[i].with_mut(|slot| unsafe { *slot = ev });
        chunk.len.store(i + 1, Ordering::Release);
        w.used = i + 1;
    });
}

impl Writer {
    /// Get a chunk with room, registering with the current session if needed. False: drop the event.
    #[cold]
    fn refill(&mut self, gen: u64) -> bool {
        if self.gen == gen && self.capped {
            if let Some(d) = &self.dropped {
                // Only this thread writes its counter: no read-modify-write needed.
                d.store(d.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
            }
            return false;
        }
        let mut guard = crate::loom::lock(&SESSION);
        let Some(s) = guard.as_mut() else {
            return false;
        };
        if s.gen != self.gen {
            let name = std::thread::current().name().map_or_else(
                || format!("{:?}", std::thread::current().id()),
                String::from,
            );
            let dropped = Arc::new(AtomicU64::new(0));
            s.threads.push(ThreadInfo {
                name,
                dropped: dropped.clone(),
            });
            self.thread = (s.threads.len() - 1) as u32;
            self.gen = s.gen;
            self.epoch = s.epoch;
            self.dropped = Some(dropped);
            self.capped = false;
            self.chunk = None;
        }
        if s.reserved + CHUNK > MAX_EVENTS {
            self.capped = true;
            self.chunk = None;
            if let Some(d) = &self.dropped {
                d.fetch_add(1, Ordering::Relaxed);
            }
            return false;
        }
        let chunk = Arc::new(Chunk::new());
        s.reserved += CHUNK;
        s.chunks.push((self.thread, chunk.clone()));
        self.chunk = Some(chunk);
        self.used = 0;
        true
    }
}

/// Start a session. Fails if one is running.
pub(crate) fn start(owner: Owner, sink: Box<dyn Write + Send>) -> io::Result<()> {
    let mut guard = crate::loom::lock(&SESSION);
    if let Some(s) = guard.as_ref() {
        let who = match &s.owner {
            Owner::Api => "runtime::trace::start".to_string(),
            Owner::Env(path) => format!("GORTTRACE={path}"),
        };
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("gort: tracing is already on (started by {who}); stop it first"),
        ));
    }
    let gen = GEN.load(Ordering::Relaxed) + 1;
    *guard = Some(Session {
        gen,
        epoch: monotonic_ns(),
        owner,
        sink,
        threads: Vec::new(),
        chunks: Vec::new(),
        reserved: 0,
    });
    GEN.store(gen, Ordering::Release);
    ENABLED.store(true, Ordering::SeqCst);
    Ok(())
}

/// The owner of the running session, if any.
pub(crate) fn owner() -> Option<Owner> {
    crate::loom::lock(&SESSION)
        .as_ref()
        .map(|s| s.owner.clone())
}

/// End the session if `accept(owner)` agrees, and collect its events.
pub(crate) fn stop(accept: impl FnOnce(&Owner) -> io::Result<()>) -> io::Result<Collected> {
    let s = {
        let mut guard = crate::loom::lock(&SESSION);
        match guard.as_ref() {
            None => {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    "gort: tracing is not on",
                ))
            }
            Some(s) => accept(&s.owner)?,
        }
        ENABLED.store(false, Ordering::SeqCst);
        match guard.take() {
            Some(s) => s,
            None => unreachable!("the session vanished under its lock"),
        }
    };
    let end_ts = monotonic_ns().saturating_sub(s.epoch);
    let mut events = Vec::new();
    for (thread, chunk) in &s.chunks {
        let len = chunk.len.load(Ordering::Acquire);
        for slot in &chunk.slots[..len] {
            // SAFETY: slots below the published length are complete and never written again.
            let ev = slot.with(|p| unsafe { *p });
            events.push((*thread, ev));
        }
    }
    // Stable: a thread's events keep their recorded order when two share a timestamp.
    events.sort_by_key(|(_, ev)| ev.ts);
    let end_ts = end_ts.max(events.last().map_or(0, |(_, ev)| ev.ts));
    let dropped = s
        .threads
        .iter()
        .map(|t| t.dropped.load(Ordering::Relaxed))
        .sum();
    Ok(Collected {
        owner: s.owner,
        sink: s.sink,
        threads: s.threads,
        events,
        end_ts,
        dropped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::event::Kind;

    /// The session is process-wide; the unit tests that start one take turns.
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

    /// The events these tests emit by hand (no M), leaving out any from runtimes that other unit
    /// tests run at the same time.
    fn mine(c: &Collected) -> Vec<Event> {
        c.events
            .iter()
            .map(|(_, e)| *e)
            .filter(|e| e.kind == Kind::GoStart && e.m == crate::trace::event::NONE)
            .collect()
    }

    #[test]
    fn events_from_several_threads_are_collected_in_time_order() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        start(Owner::Api, Box::new(io::sink())).expect("start");
        let hs: Vec<_> = (0..3)
            .map(|t| {
                std::thread::spawn(move || {
                    for i in 0..(CHUNK as u64 + 10) {
                        emit(Event::new(Kind::GoStart).g(t * 1_000_000 + i));
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().expect("writer thread");
        }
        let c = stop(|_| Ok(())).expect("stop");
        assert_eq!(mine(&c).len(), 3 * (CHUNK + 10));
        assert!(c.events.windows(2).all(|w| w[0].1.ts <= w[1].1.ts));
        assert!(
            c.threads
                .iter()
                .filter(|t| t.name != "gort-sysmon" && !t.name.starts_with("gort-m"))
                .count()
                >= 3
        );
        // Each thread's own events keep their order.
        for t in 0..3u64 {
            let gs: Vec<u64> = mine(&c)
                .iter()
                .map(|e| e.g)
                .filter(|g| g / 1_000_000 == t)
                .collect();
            assert!(gs.windows(2).all(|w| w[0] < w[1]));
        }
    }

    #[test]
    fn a_full_session_drops_and_counts_instead_of_growing() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        start(Owner::Api, Box::new(io::sink())).expect("start");
        let n = MAX_EVENTS + CHUNK;
        for i in 0..n as u64 {
            emit(Event::new(Kind::GoStart).g(i));
        }
        let c = stop(|_| Ok(())).expect("stop");
        assert!(c.events.len() <= MAX_EVENTS);
        assert!(c.dropped >= CHUNK as u64, "dropped {}", c.dropped);
        assert!(mine(&c).len() as u64 + c.dropped >= n as u64);
    }

    #[test]
    fn a_second_start_is_refused_and_stop_without_start_is_an_error() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        start(Owner::Api, Box::new(io::sink())).expect("start");
        let e = start(Owner::Api, Box::new(io::sink())).expect_err("second start");
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        stop(|_| Ok(())).expect("stop");
        let e = stop(|_| Ok(())).err().expect("stop twice");
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn events_of_an_earlier_session_do_not_leak_into_the_next() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        start(Owner::Api, Box::new(io::sink())).expect("start");
        emit(Event::new(Kind::GoStart).g(1));
        stop(|_| Ok(())).expect("stop");
        // Lands in the stopped session's chunk, which nobody reads any more.
        emit(Event::new(Kind::GoStart).g(2));
        start(Owner::Api, Box::new(io::sink())).expect("start again");
        emit(Event::new(Kind::GoStart).g(3));
        let c = stop(|_| Ok(())).expect("stop");
        let gs: Vec<u64> = mine(&c).iter().map(|e| e.g).collect();
        assert_eq!(gs, vec![3]);
    }
}
