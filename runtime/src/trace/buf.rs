//! Per-thread trace buffers and the session that collects them: Go's per-M `traceBuf`s
//! (runtime/tracebuf.go) and `StartTrace`/`StopTrace` (runtime/trace.go).
//!
//! # Recording without a lock
//! Each thread appends to its own [`Chunk`], a fixed array of bytes with a published length, into
//! which events are encoded back to back (`event.rs`: 4–10 bytes for the common events). The thread
//! is the chunk's only writer: it writes an event's bytes at `len`, then stores the new `len` with
//! `Release`. The collector, on `stop`, loads `len` with `Acquire` and decodes bytes `0..len`:
//! those are complete and never written again, and the bytes the writer may be filling right now
//! are past `len`. So the hot path is a thread-local access, a clock read, a few stores — no lock
//! and no read-modify-write. A lock (the session's) is taken once per [`CHUNK_BYTES`] of events
//! (several thousand), to register a fresh chunk. Chunks are not zeroed when allocated: nothing
//! reads past `len`, and the pass would double the memory traffic. Chunks of a finished session
//! are kept in a small pool for the next one ([`POOL`]), whose pages are mapped already.
//!
//! # Quick switches
//! When an M goes straight from one G's run to the next G on its own P's queue, the scheduler
//! records the run's end and the next start together ([`emit_switch`]; `proc.rs`:
//! `schedule_rounds`): one clock reading and one record, of 5–7 bytes, which leaves the M, the P
//! and the ended G implied by the last run start in the same chunk (`event.rs`:
//! `Event::encode_switch`). A yield-heavy program thus pays one clock read and one small record
//! per switch instead of two of each.
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
//! Memory is bounded: after [`MAX_BYTES`] of events the session records nothing more and counts
//! what it dropped (reported in the trace and on stderr). Go streams its trace to the writer instead; we
//! keep it in memory because the output format needs every event sorted by time.
//!
//! This file uses `crate::util::loom` types like the rest of the crate, but the tracer is compiled out
//! under `cfg(loom)` (`mod.rs`): its state lives in statics, which loom's types cannot be, and the
//! models check the scheduler, not its observer.

use std::cell::{RefCell, UnsafeCell};
use std::io::{self, Write};
use std::mem::MaybeUninit;

use super::clock::{self, Calibration, Pair};
use super::event::{Decoder, Encoded, Event, Kind, MAX_ENCODED};
use crate::sched::flags::TRACING;
use crate::sched::Sched;
use crate::util::loom::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use crate::util::loom::sync::{Arc, Mutex};

/// Bytes per chunk: one lock every 64 KiB of events, about 8 000 events. (Unit tests use small
/// chunks and a small cap, so that they cross both quickly, under Miri too.)
#[cfg(not(test))]
pub(crate) const CHUNK_BYTES: usize = 64 * 1024;
#[cfg(test)]
pub(crate) const CHUNK_BYTES: usize = 4 * 1024;
/// At most this many bytes of events per session (about 6M events, which `stop` expands to
/// ~300 MiB of sorted records and a ~1 GiB JSON file); past that, events are dropped and counted.
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
static GEN: AtomicU64 = AtomicU64::new(0);
static SESSION: Mutex<Option<Session>> = Mutex::new(None);

/// The bytes of chunks from finished sessions, for the next session's chunks (at most
/// [`POOL_CHUNKS`]). Fresh memory costs a page fault per 4 KiB on first touch — ~2 µs on the
/// development VM, a few nanoseconds per event, a fifth of what tracing a yield-heavy benchmark
/// round costs — while a recycled chunk's pages are mapped already. Go keeps its used trace
/// buffers on a free list for the same reason. The price is up to `POOL_CHUNKS` chunks of memory
/// kept after tracing stops.
static POOL: Mutex<Vec<Bytes>> = Mutex::new(Vec::new());
const POOL_CHUNKS: usize = (8 << 20) / CHUNK_BYTES;

/// Who started the session, and so who may stop it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Owner {
    /// `gort::trace::start`; stopped by `gort::trace::stop`.
    Api,
    /// `GORTTRACE=path`; written when the runtime is dropped.
    Env(String),
}

/// A chunk's memory: bytes that may be uninitialised, written through shared references.
type Bytes = Box<[MaybeUninit<UnsafeCell<u8>>]>;

/// A run of encoded events with one writer (see the module header).
///
/// `std`'s `UnsafeCell` rather than the crate's loom shim: the tracer is compiled out under loom,
/// and the shim's cell has no raw-pointer access to a byte range.
struct Chunk {
    bytes: Bytes,
    len: AtomicUsize,
}

// SAFETY: the only thread that writes a chunk's bytes is its owner, and it writes the bytes of an
// event once, at or past the published length, before publishing the new length with Release.
// Other threads read only bytes below a `len` they loaded with Acquire, so every read is of bytes
// that are initialised and never written again.
unsafe impl Sync for Chunk {}
// SAFETY: the bytes are plain data; moving the chunk between threads moves nothing but memory.
unsafe impl Send for Chunk {}

impl Chunk {
    /// An empty chunk: a recycled one if the pool has any, else fresh memory.
    fn new() -> Chunk {
        let bytes = crate::util::loom::lock(&POOL)
            .pop()
            .unwrap_or_else(|| Box::new_uninit_slice(CHUNK_BYTES));
        Chunk {
            bytes,
            len: AtomicUsize::new(0),
        }
    }

    /// The start of the byte array, with write permission (through the `UnsafeCell`s).
    fn ptr(&self) -> *mut u8 {
        UnsafeCell::raw_get(self.bytes.as_ptr().cast::<UnsafeCell<u8>>())
    }

    /// The published bytes.
    fn published(&self) -> &[u8] {
        let len = self.len.load(Ordering::Acquire);
        // SAFETY: bytes below a `len` loaded with Acquire were written before the writer's Release
        // store of that `len` and are never written again (see `Sync` above); `len` never exceeds
        // `CHUNK_BYTES`.
        unsafe { std::slice::from_raw_parts(self.ptr().cast_const(), len) }
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
    /// Both clocks at start: event times count from here, and `stop` calibrates ticks with it.
    start: Pair,
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
    chunk: Option<Arc<Chunk>>,
    /// Bytes of `chunk` written (and published).
    used: usize,
    /// `used` below this leaves room for two more records (a switch may take two); 0 without a
    /// chunk. One compare on the hot path instead of three.
    room: usize,
    /// Whether this session's clock is the CPU's counter (`clock::source`), cached here where the
    /// hot path has it at hand.
    counter: bool,
    /// The tick count of the last event in `chunk` (0 for a fresh chunk): events store the
    /// difference.
    last_ts: u64,
    /// The G of the last run start written to `chunk` (0: none yet). A switch record leaves the
    /// ended run's G, M and P implied by that start (`Event::encode_switch`), so it is used only
    /// when the run that ended is of this G: runs on one thread do not nest, so that start is the
    /// ended run's own, and it is in this chunk, where the reader finds it.
    run_g: u64,
    /// The P of that start. A G created or woken by the G running on this thread, on this P, is
    /// stored leaving its M, P and creator implied by that start (`Event::encode_by_run`).
    run_p: u32,
    thread: u32,
    /// Set when the session's cap was reached: count and drop without taking the lock again.
    dropped: Option<Arc<AtomicU64>>,
    capped: bool,
}

thread_local! {
    static WRITER: RefCell<Writer> = const {
        RefCell::new(Writer {
            gen: 0,
            chunk: None,
            used: 0,
            room: 0,
            counter: false,
            last_ts: 0,
            run_g: 0,
            run_p: 0,
            thread: 0,
            dropped: None,
            capped: false,
        })
    };
}

/// Record one event, stamping its time. Called only by the hooks' cold paths.
#[inline(always)]
pub(crate) fn emit(ev: Event) {
    record(Record::One(&ev));
}

/// Record the end of a run of G `ended` (`GoEnd` with `outcome` and `wait` as its `aux` bytes)
/// and the `start` of the next run on the same M and P, which the ended run kept, at the same
/// time: one clock reading, and one record when the reader can tell the ended run's M, P and G
/// from the chunk (see `Writer::run_g`).
#[inline(always)]
#[allow(dead_code)] // (unused since the scheduler loop no longer merges ends and starts)
pub(crate) fn emit_switch(start: Event, ended: u64, outcome: u8, wait: u8) {
    record(Record::Switch(&start, ended, outcome, wait));
}

/// What [`Writer::write`] appends: an event, or a run end and the next start as one record.
#[derive(Clone, Copy)]
#[allow(dead_code)]
enum Record<'a> {
    One(&'a Event),
    /// The next run's start, the ended G and the end's `aux` bytes.
    Switch(&'a Event, u64, u8, u8),
}

#[inline(always)]
fn record(rec: Record<'_>) {
    // `try_with`: a hook can run while thread-locals are being torn down (a waker dropped by a
    // thread-local destructor); the event is dropped then. Clever for speed: `try_with` only
    // hands out the cell's address, so that the recording below is inlined into each hook, where
    // the event's constant fields (a `GoStart` has no `arg`, ...) fold away; with the recording
    // inside `try_with`'s closure, one out-of-line copy served every hook.
    let Ok(cell) = WRITER.try_with(|w| w as *const RefCell<Writer>) else {
        return;
    };
    // SAFETY: the address is of this thread's own writer, which lives until the thread's
    // thread-local destructors run; `try_with` succeeded, so they have not begun, and they cannot
    // begin while this thread is in here.
    let cell = unsafe { &*cell };
    // Never re-entered today, but a hook inside `record` must not turn into a panic.
    let Ok(mut w) = cell.try_borrow_mut() else {
        return;
    };
    let w = &mut *w;
    let gen = GEN.load(Ordering::Acquire);
    // Room for two records: a switch may be written as two.
    if (w.gen != gen || w.used >= w.room) && !w.refill(gen) {
        return;
    }
    // Raw ticks (`clock.rs`); `stop` turns them into nanoseconds since the start.
    let ts = clock::ticks(w.counter);
    match rec {
        Record::One(ev) => w.write(Record::One(&Event { ts, ..*ev })),
        Record::Switch(start, ended, outcome, wait) => {
            let start = Event { ts, ..*start };
            if ended == w.run_g {
                w.write(Record::Switch(&start, ended, outcome, wait));
            } else {
                let end = Event::new(Kind::GoEnd)
                    .g(ended)
                    .arg(u64::from(start.p))
                    .aux(outcome, wait);
                w.write(Record::One(&Event {
                    ts,
                    m: start.m,
                    p: start.p,
                    ..end
                }));
                w.write(Record::One(&start));
            }
        }
    }
}

impl Writer {
    /// Append one record, its events stamped, to the chunk, which has room (`record` checked).
    /// Not a closure: each
    /// hook's copy of `record` inlines this and the encoder with it, so constant fields fold.
    #[inline(always)]
    fn write(&mut self, rec: Record<'_>) {
        let Some(chunk) = self.chunk.as_ref() else {
            return;
        };
        // SAFETY: this thread is the chunk's only writer, so nothing else holds a reference into
        // it; `used` is the published length and `record` left at least `MAX_ENCODED` bytes
        // after it, so the array lies inside the chunk, on bytes no reader looks at until the
        // Release store below. `MaybeUninit<u8>` has the layout of the chunk's bytes and may be
        // uninitialised.
        let out = unsafe { &mut *chunk.ptr().add(self.used).cast::<Encoded>() };
        let ts = match rec {
            Record::One(ev) => {
                let dts = ev.ts.wrapping_sub(self.last_ts);
                // By the running G: its run's start is this chunk's last (`run_g` is that of the
                // G being polled on this thread, whose runs do not nest) on the same P — the M
                // is this thread's.
                if ev.is_by_running_g() && ev.arg == self.run_g && ev.arg != 0 && ev.p == self.run_p
                {
                    self.used += ev.encode_by_run(dts, out);
                } else {
                    self.used += ev.encode(dts, out);
                }
                if ev.kind == Kind::GoStart {
                    self.run_g = ev.g;
                    self.run_p = ev.p;
                }
                ev.ts
            }
            Record::Switch(start, _, outcome, wait) => {
                let dts = start.ts.wrapping_sub(self.last_ts);
                self.used += Event::encode_switch(outcome, wait, start.g, dts, out);
                self.run_g = start.g;
                start.ts
            }
        };
        self.last_ts = ts;
        chunk.len.store(self.used, Ordering::Release);
    }

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
        let mut guard = crate::util::loom::lock(&SESSION);
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
            self.dropped = Some(dropped);
            self.capped = false;
            self.chunk = None;
            self.room = 0;
            self.counter = clock::source() == clock::Source::Counter;
        }
        if s.reserved + CHUNK_BYTES > MAX_BYTES {
            self.capped = true;
            self.chunk = None;
            self.room = 0;
            if let Some(d) = &self.dropped {
                d.fetch_add(1, Ordering::Relaxed);
            }
            return false;
        }
        let chunk = Arc::new(Chunk::new());
        s.reserved += CHUNK_BYTES;
        s.chunks.push((self.thread, chunk.clone()));
        self.chunk = Some(chunk);
        self.used = 0;
        self.room = CHUNK_BYTES - 2 * MAX_ENCODED + 1;
        self.last_ts = 0;
        self.run_g = 0;
        true
    }
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
        start: Pair::now(),
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

/// End the session if `accept(owner)` agrees, and collect its events.
pub(crate) fn stop(accept: impl FnOnce(&Owner) -> io::Result<()>) -> io::Result<Collected> {
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
    let end = Pair::now();
    let cal = Calibration::new(s.start, end);
    let end_ts = end.ns.saturating_sub(s.start.ns);
    let mut events = Vec::new();
    for (thread, chunk) in &s.chunks {
        let bytes = chunk.published();
        let (mut at, mut dec) = (0, Decoder::new());
        while at < bytes.len() {
            let Some((first, second)) = dec.next(bytes, &mut at) else {
                // Only this file writes chunks, one whole record at a time.
                unreachable!("a trace chunk holds a partial event at byte {at}");
            };
            for mut ev in std::iter::once(first).chain(second) {
                ev.ts = cal.ns(ev.ts);
                events.push((*thread, ev));
            }
        }
    }
    // Recycle the chunks nobody writes any more (a thread's current chunk stays with the thread
    // until it next records, and is freed then).
    {
        let mut pool = crate::util::loom::lock(&POOL);
        for (_, chunk) in s.chunks {
            if pool.len() >= POOL_CHUNKS {
                break;
            }
            if let Ok(c) = Arc::try_unwrap(chunk) {
                pool.push(c.bytes);
            }
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
    use crate::trace::event::{Kind, Source, FLAG_RUNNEXT};

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

    /// Enough events to fill more than one chunk per thread.
    const PER_THREAD: u64 = CHUNK_BYTES as u64 / 4;

    #[test]
    fn events_from_several_threads_are_collected_in_time_order() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        start(Owner::Api, Box::new(io::sink())).expect("start");
        let hs: Vec<_> = (0..3)
            .map(|t| {
                std::thread::spawn(move || {
                    for i in 0..PER_THREAD {
                        emit(Event::new(Kind::GoStart).g(t * 1_000_000 + i));
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().expect("writer thread");
        }
        let c = stop(|_| Ok(())).expect("stop");
        assert_eq!(mine(&c).len() as u64, 3 * PER_THREAD);
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
        // Every event takes at least 3 bytes, so this is more than the session holds.
        let n = (MAX_BYTES / 3 + CHUNK_BYTES) as u64;
        for i in 0..n {
            emit(Event::new(Kind::GoStart).g(i));
        }
        let c = stop(|_| Ok(())).expect("stop");
        assert!(c.events.len() <= MAX_BYTES / 3);
        assert!(
            c.dropped >= CHUNK_BYTES as u64 / 12,
            "dropped {}",
            c.dropped
        );
        assert!(mine(&c).len() as u64 + c.dropped >= n);
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

    /// The events in `c` recorded by the calling thread (libtest names it after the test, so
    /// runtimes of other unit tests, traced too while a session runs, are left out).
    fn this_threads(c: &Collected) -> Vec<Event> {
        let me = std::thread::current().name().map(String::from);
        c.events
            .iter()
            .filter(|(t, _)| Some(&c.threads[*t as usize].name) == me.as_ref())
            .map(|(_, e)| *e)
            .collect()
    }

    fn kinds_and_times(c: &Collected) -> Vec<(Kind, u64, u64)> {
        this_threads(c)
            .iter()
            .map(|e| (e.kind, e.g, e.ts))
            .collect()
    }

    #[test]
    fn a_switch_is_one_record_and_decodes_into_the_end_and_the_start_at_one_time() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        start(Owner::Api, Box::new(io::sink())).expect("start");
        // Each run ends with a yield (outcome 1).
        let go = |g| Event::new(Kind::GoStart).m(7).p(0).g(g);
        emit(go(1));
        let used = WRITER.with(|w| w.borrow().used);
        emit_switch(go(2), 1, 1, 0);
        let switch_len = WRITER.with(|w| w.borrow().used) - used;
        assert!(switch_len <= 7, "a switch took {switch_len} bytes");
        emit_switch(go(3), 2, 1, 0);
        // The end of a run whose start this chunk does not hold (here: none was recorded), which
        // a switch record would leave implied: written as two whole records, at one time.
        emit_switch(go(6), 5, 1, 0);
        let c = stop(|_| Ok(())).expect("stop");
        let got = kinds_and_times(&c);
        let kinds: Vec<(Kind, u64)> = got.iter().map(|&(k, g, _)| (k, g)).collect();
        assert_eq!(
            kinds,
            vec![
                (Kind::GoStart, 1),
                (Kind::GoEnd, 1),
                (Kind::GoStart, 2),
                (Kind::GoEnd, 2),
                (Kind::GoStart, 3),
                (Kind::GoEnd, 5),
                (Kind::GoStart, 6),
            ]
        );
        let ts: Vec<u64> = got.iter().map(|&(_, _, t)| t).collect();
        assert_eq!(ts[1], ts[2], "a switch has one time");
        assert_eq!(ts[3], ts[4], "a switch has one time");
        assert_eq!(ts[5], ts[6], "a switch written whole still has one time");
        assert!(ts.windows(2).all(|w| w[0] <= w[1]), "{ts:?}");
        // The ends are complete GoEnds again: M, P, the P kept, the outcome.
        for e in this_threads(&c).iter().filter(|e| e.kind == Kind::GoEnd) {
            assert_eq!((e.m, e.p, e.arg, e.aux), (7, 0, 0, 1), "{e:?}");
        }
    }

    #[test]
    fn creates_and_wakes_by_the_running_g_come_back_whole() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        start(Owner::Api, Box::new(io::sink())).expect("start");
        let create = |g, p| {
            Event::new(Kind::GoCreate)
                .m(7)
                .p(p)
                .g(g)
                .arg(1)
                .aux(FLAG_RUNNEXT, 0)
        };
        let wake = |g, by, source: Source| {
            Event::new(Kind::GoUnblock)
                .m(7)
                .p(0)
                .g(g)
                .arg(by)
                .aux(source as u8, 0)
        };
        let sent = vec![
            // No run start in this chunk yet: whole records.
            create(10, 0),
            Event::new(Kind::GoStart).m(7).p(0).g(1),
            // By G1, running on P0: short records.
            create(11, 0),
            wake(12, 1, Source::G),
            // Not by the running G, or on another P: whole records.
            create(13, 1),
            wake(14, 2, Source::G),
            wake(15, 0, Source::Timers),
        ];
        let mut sizes = Vec::new();
        for ev in &sent {
            let used = WRITER.with(|w| w.borrow().used);
            emit(*ev);
            sizes.push(WRITER.with(|w| w.borrow().used) - used);
        }
        let c = stop(|_| Ok(())).expect("stop");
        let got: Vec<Event> = this_threads(&c)
            .into_iter()
            .map(|e| Event { ts: 0, ..e })
            .collect();
        assert_eq!(got, sent);
        assert!(sizes[2] < sizes[4] && sizes[3] < sizes[5], "{sizes:?}");
    }

    #[test]
    fn a_switch_after_a_session_boundary_does_not_lean_on_the_last_session() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        start(Owner::Api, Box::new(io::sink())).expect("start");
        emit(Event::new(Kind::GoStart).m(7).p(0).g(1));
        stop(|_| Ok(())).expect("stop");
        start(Owner::Api, Box::new(io::sink())).expect("start again");
        emit_switch(Event::new(Kind::GoStart).m(7).p(0).g(2), 1, 0, 0);
        let c = stop(|_| Ok(())).expect("stop");
        let got: Vec<(Kind, u64, u32)> = this_threads(&c)
            .iter()
            .map(|e| (e.kind, e.g, e.p))
            .collect();
        assert_eq!(got, vec![(Kind::GoEnd, 1, 0), (Kind::GoStart, 2, 0)]);
    }

    #[test]
    fn the_chunks_of_a_finished_session_are_kept_for_the_next() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        crate::util::loom::lock(&POOL).clear();
        start(Owner::Api, Box::new(io::sink())).expect("start");
        // Several chunks' worth from this thread: all but its current chunk are free at stop.
        for i in 0..PER_THREAD * 3 {
            emit(Event::new(Kind::GoStart).g(i));
        }
        stop(|_| Ok(())).expect("stop");
        let pooled = crate::util::loom::lock(&POOL).len();
        assert!(pooled >= 2, "{pooled} chunks pooled");
        start(Owner::Api, Box::new(io::sink())).expect("start again");
        emit(Event::new(Kind::GoStart).g(1));
        // (Other unit tests' runtimes, traced as well, may take pooled chunks too.)
        assert!(
            crate::util::loom::lock(&POOL).len() < pooled,
            "a pooled chunk was reused"
        );
        stop(|_| Ok(())).expect("stop");
        assert!(crate::util::loom::lock(&POOL).len() <= POOL_CHUNKS);
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
