//! A tracing session: Go's `StartTrace` / `StopTrace` (runtime/trace.go) — the switch every
//! runtime's hooks test, who started the trace, the threads and buffers that joined it, where
//! full buffers go, and what `stop` hands over.
//!
//! `start` creates a session with a new generation number; a thread whose buffer belongs to
//! another generation joins again (`buf.rs`: a new chunk, a new thread index), so nothing from an
//! earlier session leaks into a later one.
//!
//! # Where full chunks go
//! A thread whose chunk is full hands it over ([`Session::seal`]) when it takes the next one,
//! under the lock it takes anyway for that (once per 64 KiB of events):
//! - **streaming** (Go's tracer: `traceAdvance` and the trace reader goroutine): onto the
//!   queue of the session's writer thread (`gort-trace-writer`), which appends each chunk to the
//!   output as a frame of the raw file (`gort-trace-format`: `file.rs`), then a clock frame, and
//!   returns the chunk's memory to the pool. So memory holds the chunks being filled and those
//!   queued — bounded by [`MAX_BYTES`]; a thread that finds the queue full (the disk cannot keep
//!   up) drops its events and counts them, and tries again a little later. A thread, not a G:
//!   the writes block on the disk, and a trace must be written while the scheduler is stuck —
//!   that is when it is wanted most.
//! - **flight recorder** (Go 1.25's `runtime/trace.FlightRecorder`): into a ring that keeps the
//!   most recent chunks ([`FlightConfig`]: at least `min_age` of history, at most `max_bytes`),
//!   the older ones back to the pool. [`snapshot`] copies out the ring and the chunks being filled
//!   without stopping anything.
//!
//! `stop` takes the session out from under the lock, waits for the run ends the Ms hold to be
//! written (`buf.rs`: `hold`), queues the chunks being filled (as far as they are written) and
//! the end frame, and waits for the writer to finish; a writer that raced the stop fills a chunk
//! nobody reads any more, which its `Arc` keeps alive.

use std::collections::{HashMap, VecDeque};
use std::io::{self, Write};
use std::sync::Condvar;
use std::time::{Duration, Instant};

use gort_trace_format::file::{self, ClockPair};

use super::buf::{self, Chunk, CHUNK_BYTES};
use super::clock;
use crate::sched::flags::TRACING;
use crate::sched::Sched;
use crate::util::loom::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use crate::util::loom::sync::{Arc, Mutex};

/// At most this many bytes of chunks being filled or waiting for the writer; past that (the
/// writer is behind), events are dropped and counted. (Unit tests use a small cap, so that they
/// reach it quickly, under Miri too.)
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
    /// `gort::trace::FlightRecorder`; stopped by its `stop`.
    Flight,
}

/// How much a flight recorder keeps (Go's `FlightRecorderConfig`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlightConfig {
    /// Keep at least this much of the most recent history (Go's `MinAge`)...
    pub min_age: Duration,
    /// ...but no more than this many bytes of events (Go's `MaxBytes`), which wins.
    pub max_bytes: usize,
}

impl Default for FlightConfig {
    /// The last 10 seconds, at most 16 MiB.
    fn default() -> FlightConfig {
        FlightConfig {
            min_age: Duration::from_secs(10),
            max_bytes: 16 << 20,
        }
    }
}

/// Where the session's chunks go.
pub(crate) enum Sink {
    /// Streamed to this writer as a raw trace file.
    Stream(Box<dyn Write + Send>),
    /// Kept in a flight recorder's ring.
    Flight(FlightConfig),
}

/// What the caller of `start` wants done once the session has stopped (`output.rs`; it says
/// what it wrote), kept with
/// the session so that whoever stops it — `stop`, the runtime's drop, a signal — does it.
pub(crate) type Finish = Box<dyn FnOnce(&mut Stopped) -> io::Result<String> + Send>;

/// A thread that joined the session.
struct ThreadInfo {
    /// The OS thread's name (`gort-m3`, `gort-sysmon`, `main`, ...).
    name: String,
    /// Events this thread dropped because the session was full. Its own counter, so a full
    /// session does not make every thread hammer one shared cache line.
    dropped: Arc<AtomicU64>,
}

/// What the writer thread is given to write.
enum Item {
    Thread(u32, String),
    Str(u64, String),
    /// A chunk, and its length when queued (what the queue's bound counts). It is written as far
    /// as it is written when its turn comes: a chunk queued by `stop` may still get a held run end
    /// its thread writes a little late.
    Buffer(u32, Arc<Chunk>, usize),
}

#[derive(Default)]
struct Queue {
    items: Vec<Item>,
    /// Bytes of chunks queued.
    bytes: usize,
    /// Set by `stop`: write the end frame (the end, events dropped) and finish.
    end: Option<(ClockPair, u64)>,
}

/// The queue between the recording threads and the writer thread.
#[derive(Default)]
struct Pipe {
    q: std::sync::Mutex<Queue>,
    cv: Condvar,
}

impl Pipe {
    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.q.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(&self, item: Item) {
        let mut q = self.lock();
        if let Item::Buffer(_, _, len) = &item {
            q.bytes += len;
        }
        q.items.push(item);
        drop(q);
        self.cv.notify_one();
    }
}

/// The flight recorder's ring of full chunks, oldest first, with when each was handed over.
struct Ring {
    cfg: FlightConfig,
    chunks: VecDeque<(u32, Arc<Chunk>, Instant)>,
    bytes: usize,
}

impl Ring {
    fn push(&mut self, thread: u32, chunk: Arc<Chunk>) {
        let now = Instant::now();
        self.bytes += chunk.published().len();
        self.chunks.push_back((thread, chunk, now));
        // A chunk handed over before `now - min_age` holds only events older than that.
        while let Some((_, c, at)) = self.chunks.front() {
            let too_old = now.saturating_duration_since(*at) > self.cfg.min_age;
            if self.bytes <= self.cfg.max_bytes && !too_old {
                break;
            }
            self.bytes = self.bytes.saturating_sub(c.published().len());
            if let Some((_, c, _)) = self.chunks.pop_front() {
                buf::recycle(std::iter::once(c));
            }
        }
    }
}

enum Out {
    Stream(Arc<Pipe>, std::thread::JoinHandle<io::Result<()>>),
    Flight(Ring),
}

pub(super) struct Session {
    gen: u64,
    /// Both clocks at start: event times count from here, and the reader calibrates ticks with it.
    start: ClockPair,
    owner: Owner,
    out: Out,
    finish: Option<Finish>,
    threads: Vec<ThreadInfo>,
    /// The chunks being filled, with the index of their thread in `threads`.
    live: Vec<(u32, Arc<Chunk>)>,
    /// Interned strings (user annotations, G labels) and the next id; the flight recorder keeps
    /// them all (`all`), as a snapshot needs every one.
    strings: HashMap<String, u64>,
    all_strings: Vec<(u64, String)>,
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
        let index = self.threads.len() as u32;
        if let Out::Stream(pipe, _) = &self.out {
            pipe.push(Item::Thread(index, name.clone()));
        }
        self.threads.push(ThreadInfo {
            name,
            dropped: dropped.clone(),
        });
        (index, dropped)
    }

    /// Bytes of chunks being filled or waiting to be written.
    fn in_flight(&self) -> usize {
        let queued = match &self.out {
            Out::Stream(pipe, _) => pipe.lock().bytes,
            Out::Flight(_) => 0,
        };
        self.live.len() * CHUNK_BYTES + queued
    }

    /// A new chunk for thread `thread`, or None if too much is in flight.
    pub(super) fn chunk(&mut self, thread: u32) -> Option<Arc<Chunk>> {
        if self.in_flight() + CHUNK_BYTES > MAX_BYTES {
            return None;
        }
        let chunk = Arc::new(Chunk::new());
        self.live.push((thread, chunk.clone()));
        Some(chunk)
    }

    /// Thread `thread` is done with `chunk` (full, its held end written): write it out, or keep
    /// it in the ring.
    pub(super) fn seal(&mut self, thread: u32, chunk: Arc<Chunk>) {
        self.live.retain(|(_, c)| !Arc::ptr_eq(c, &chunk));
        match &mut self.out {
            Out::Stream(pipe, _) => {
                let len = chunk.published().len();
                pipe.push(Item::Buffer(thread, chunk, len));
            }
            Out::Flight(ring) => ring.push(thread, chunk),
        }
    }

    /// The id of string `text`, the same for the same text.
    pub(super) fn intern(&mut self, text: &str) -> u64 {
        if let Some(&id) = self.strings.get(text) {
            return id;
        }
        let id = self.strings.len() as u64 + 1;
        self.strings.insert(text.to_string(), id);
        match &self.out {
            Out::Stream(pipe, _) => pipe.push(Item::Str(id, text.to_string())),
            Out::Flight(_) => self.all_strings.push((id, text.to_string())),
        }
        id
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

/// The writer thread: the file's header, then each batch of queued items and a clock frame,
/// flushed, until `stop` queues the end. A write error is kept and returned at the end; the
/// chunks still go back to the pool, so memory stays bounded.
fn write_loop(pipe: &Pipe, mut w: Box<dyn Write + Send>, start: ClockPair) -> io::Result<()> {
    let ticks_are_ns = clock::source() == clock::Source::Monotonic;
    let mut err = file::write_header(&mut w, ticks_are_ns, start).err();
    loop {
        let (items, end) = {
            let mut q = pipe.lock();
            while q.items.is_empty() && q.end.is_none() {
                q = pipe.cv.wait(q).unwrap_or_else(|e| e.into_inner());
            }
            (std::mem::take(&mut q.items), q.end.take())
        };
        let mut written = 0;
        for item in items {
            let r = match item {
                Item::Thread(i, name) => file::write_thread(&mut w, i, &name),
                Item::Str(id, text) => file::write_string(&mut w, id, &text),
                Item::Buffer(t, chunk, len) => {
                    written += len;
                    let r = file::write_buffer(&mut w, t, chunk.published());
                    buf::recycle(std::iter::once(chunk));
                    r
                }
            };
            if err.is_none() {
                err = r.err();
            }
        }
        let mut q = pipe.lock();
        q.bytes = q.bytes.saturating_sub(written);
        drop(q);
        let r = match end {
            Some((end, dropped)) => file::write_end(&mut w, end, dropped),
            None => file::write_clock(&mut w, clock::now()),
        };
        if err.is_none() {
            err = r.and_then(|()| w.flush()).err();
        }
        if end.is_some() {
            return err.map_or(Ok(()), Err);
        }
    }
}

/// Start a session writing to `sink`; `finish` runs once it has stopped. Fails if one is
/// running.
pub(crate) fn start(owner: Owner, sink: Sink, finish: Option<Finish>) -> io::Result<()> {
    let mut guard = crate::util::loom::lock(&SESSION);
    if let Some(s) = guard.as_ref() {
        let who = match &s.owner {
            Owner::Api => "gort::trace::start".to_string(),
            Owner::Env(path) => format!("GORTTRACE={path}"),
            Owner::Flight => "a gort::trace::FlightRecorder".to_string(),
        };
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("gort: tracing is already on (started by {who}); stop it first"),
        ));
    }
    let gen = GEN.load(Ordering::Relaxed) + 1;
    clock::source();
    let start = clock::now();
    let out = match sink {
        Sink::Stream(w) => {
            let pipe = Arc::new(Pipe::default());
            let p = pipe.clone();
            let h = std::thread::Builder::new()
                .name("gort-trace-writer".into())
                .spawn(move || write_loop(&p, w, start))?;
            Out::Stream(pipe, h)
        }
        Sink::Flight(cfg) => Out::Flight(Ring {
            cfg,
            chunks: VecDeque::new(),
            bytes: 0,
        }),
    };
    *guard = Some(Session {
        gen,
        start,
        owner,
        out,
        finish,
        threads: Vec::new(),
        live: Vec::new(),
        strings: HashMap::new(),
        all_strings: Vec::new(),
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

/// A copy of a flight recorder's window (the ring and the chunks being filled, as far as they
/// are written), to write as a raw trace file.
pub(crate) struct Snapshot {
    start: ClockPair,
    end: ClockPair,
    threads: Vec<String>,
    strings: Vec<(u64, String)>,
    chunks: Vec<(u32, Arc<Chunk>)>,
    dropped: u64,
}

impl Snapshot {
    /// Write it as a raw trace file; returns the bytes written.
    pub(crate) fn write(&self, w: &mut dyn Write) -> io::Result<u64> {
        let mut n = Counted { w, n: 0 };
        let ticks_are_ns = clock::source() == clock::Source::Monotonic;
        file::write_header(&mut n, ticks_are_ns, self.start)?;
        for (i, name) in self.threads.iter().enumerate() {
            file::write_thread(&mut n, i as u32, name)?;
        }
        for (id, text) in &self.strings {
            file::write_string(&mut n, *id, text)?;
        }
        for (t, c) in &self.chunks {
            file::write_buffer(&mut n, *t, c.published())?;
        }
        file::write_end(&mut n, self.end, self.dropped)?;
        n.w.flush()?;
        Ok(n.n)
    }
}

struct Counted<'a> {
    w: &'a mut dyn Write,
    n: u64,
}

impl Write for Counted<'_> {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        let k = self.w.write(b)?;
        self.n += k as u64;
        Ok(k)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

fn dropped(threads: &[ThreadInfo]) -> u64 {
    threads
        .iter()
        .map(|t| t.dropped.load(Ordering::Relaxed))
        .sum()
}

/// The running flight recorder's window, without stopping it. None if no flight recorder runs.
pub(crate) fn snapshot() -> Option<Snapshot> {
    let guard = crate::util::loom::lock(&SESSION);
    let s = guard.as_ref()?;
    let Out::Flight(ring) = &s.out else {
        return None;
    };
    let mut chunks: Vec<(u32, Arc<Chunk>)> = ring
        .chunks
        .iter()
        .map(|(t, c, _)| (*t, c.clone()))
        .collect();
    chunks.extend(s.live.iter().cloned());
    Some(Snapshot {
        start: s.start,
        end: clock::now(),
        threads: s.threads.iter().map(|t| t.name.clone()).collect(),
        strings: s.all_strings.clone(),
        chunks,
        dropped: dropped(&s.threads),
    })
}

/// A stopped session: who owned it, what to do next, and how writing went.
pub(crate) struct Stopped {
    pub(crate) owner: Owner,
    /// Events dropped because the writer fell behind.
    pub(crate) dropped: u64,
    /// How writing the stream went (Ok for a flight recorder).
    pub(crate) written: io::Result<()>,
    /// A flight recorder's last window.
    pub(crate) flight: Option<Snapshot>,
    pub(crate) finish: Option<Finish>,
}

/// End the session if `accept(owner)` agrees; write what is left of it and wait for the writer.
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
    // sees tracing off. The bound matters for a thread the OS does not run for that long, and
    // for a hung runtime stopped by a signal.
    let deadline = Instant::now() + Duration::from_millis(100);
    for (_, chunk) in &s.live {
        chunk.settle(deadline);
    }
    let end = clock::now();
    let dropped = dropped(&s.threads);
    let (written, flight) = match s.out {
        Out::Stream(pipe, handle) => {
            for (t, c) in s.live {
                let len = c.published().len();
                pipe.push(Item::Buffer(t, c, len));
            }
            pipe.lock().end = Some((end, dropped));
            pipe.cv.notify_one();
            let r = handle
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the trace writer thread panicked")));
            (r, None)
        }
        Out::Flight(ring) => {
            let mut chunks: Vec<(u32, Arc<Chunk>)> =
                ring.chunks.into_iter().map(|(t, c, _)| (t, c)).collect();
            chunks.extend(s.live);
            let snap = Snapshot {
                start: s.start,
                end,
                threads: s.threads.into_iter().map(|t| t.name).collect(),
                strings: s.all_strings,
                chunks,
                dropped,
            };
            (Ok(()), Some(snap))
        }
    };
    Ok(Stopped {
        owner: s.owner,
        dropped,
        written,
        flight,
        finish: s.finish,
    })
}

/// For tests: a session streaming into memory, and its stop, decoded.
#[cfg(test)]
pub(super) mod testing {
    use super::*;
    use gort_trace_format::{RawTrace, Trace};

    #[derive(Clone, Default)]
    pub(crate) struct Shared(pub(crate) std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Start an API session streaming into memory.
    pub(crate) fn start_mem() -> Shared {
        let out = Shared::default();
        start(Owner::Api, Sink::Stream(Box::new(out.clone())), None).expect("start");
        out
    }

    /// Stop it, and decode what was streamed: (dropped, the trace).
    pub(crate) fn stop_mem(out: &Shared) -> (u64, Trace) {
        let s = stop(|_| Ok(())).expect("stop");
        s.written.expect("written");
        let bytes = out.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let raw = RawTrace::read(&bytes).expect("a raw trace");
        assert!(!raw.truncated, "the stream has its end");
        (s.dropped, raw.decode().expect("decode"))
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{start_mem, stop_mem};
    use super::*;
    use gort_trace_format::{Event, Kind, Trace};

    fn sink() -> Sink {
        Sink::Stream(Box::new(io::sink()))
    }

    #[test]
    fn a_second_start_is_refused_and_stop_without_start_is_an_error() {
        let _serial = TEST_SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        start(Owner::Api, sink(), None).expect("start");
        let e = start(Owner::Api, sink(), None).expect_err("second start");
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        drop(stop(|_| Ok(())).expect("stop"));
        let e = stop(|_| Ok(())).err().expect("stop twice");
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn only_the_owner_may_stop_a_session() {
        let _serial = TEST_SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        start(Owner::Env("t.json".into()), sink(), None).expect("start");
        assert_eq!(owner(), Some(Owner::Env("t.json".into())));
        let refuse = |o: &Owner| match o {
            Owner::Api | Owner::Flight => Ok(()),
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
    fn my_starts(t: &Trace) -> Vec<u64> {
        let me = std::thread::current().name().map(String::from);
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
        start(Owner::Api, sink(), None).expect("start");
        buf::emit(Event::new(Kind::GoStart).g(1));
        drop(stop(|_| Ok(())).expect("stop"));
        // Lands in the stopped session's chunk, which nobody reads any more.
        buf::emit(Event::new(Kind::GoStart).g(2));
        let out = start_mem();
        buf::emit(Event::new(Kind::GoStart).g(3));
        let (_, t) = stop_mem(&out);
        assert_eq!(my_starts(&t), vec![3]);
    }

    /// Streaming: many times the memory bound's worth of events go to the output while the
    /// session holds at most `MAX_BYTES` of chunks at any time, and none is dropped while the
    /// writer keeps up (the loop waits for it when half the bound is in flight, as a disk that
    /// keeps up would let it).
    #[test]
    fn a_stream_keeps_memory_bounded_and_writes_every_event() {
        let _serial = TEST_SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let out = start_mem();
        // Under Miri, a few chunks' worth (enough to stream some, read by the writer thread).
        let n = if cfg!(miri) {
            3 * CHUNK_BYTES / 4
        } else {
            8 * MAX_BYTES / 3
        } as u64;
        let mut peak = 0;
        for i in 0..n {
            buf::emit(Event::new(Kind::GoStart).g(i + 1));
            if i % 256 == 0 {
                let deadline = Instant::now() + Duration::from_secs(10);
                loop {
                    let now = with(|s| s.in_flight()).unwrap_or(0);
                    peak = peak.max(now);
                    if now <= MAX_BYTES / 2 || Instant::now() > deadline {
                        break;
                    }
                    std::thread::yield_now();
                }
            }
        }
        assert!(peak <= MAX_BYTES, "peak {peak}");
        let (_, t) = stop_mem(&out);
        let mine = my_starts(&t);
        assert_eq!(mine, (1..=n).collect::<Vec<_>>(), "every event, in order");
        // Each record takes 4 bytes or more: more bytes were written than the session may hold.
        assert!(
            cfg!(miri) || mine.len() * 4 > MAX_BYTES,
            "{} events",
            mine.len()
        );
    }

    /// A thread that exits hands its chunk over: a trace of a program whose threads come and
    /// go does not fill the session's bound with chunks nobody will write to again.
    #[test]
    fn the_chunks_of_exited_threads_are_streamed_not_held() {
        let _serial = TEST_SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let out = start_mem();
        for k in 0..4 {
            std::thread::Builder::new()
                .name(format!("exiting-{k}"))
                .spawn(|| buf::emit(Event::new(Kind::GoStart).g(7)))
                .expect("spawn")
                .join()
                .expect("join");
        }
        let held = with(|s| {
            let name = |t: u32| s.threads[t as usize].name.clone();
            s.live
                .iter()
                .filter(|(t, _)| name(*t).starts_with("exiting-"))
                .count()
        });
        assert_eq!(held, Some(0));
        let (_, t) = stop_mem(&out);
        let theirs = t
            .events
            .iter()
            .filter(|(th, e)| t.threads[*th as usize].starts_with("exiting-") && e.g == 7)
            .count();
        assert_eq!(theirs, 4);
    }

    /// A writer that blocks (a disk that does not keep up): recording threads drop and count
    /// instead of growing, and the events are not lost silently.
    #[test]
    // Needs more than the bound's worth of events: too slow under Miri (safe code only).
    #[cfg_attr(miri, ignore)]
    fn a_stuck_writer_makes_the_session_drop_and_count_instead_of_growing() {
        let _serial = TEST_SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        struct Gate(std::sync::mpsc::Receiver<()>);
        impl Write for Gate {
            fn write(&mut self, b: &[u8]) -> io::Result<usize> {
                let _ = self.0.recv();
                Ok(b.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let (open, gate) = std::sync::mpsc::channel();
        start(Owner::Api, Sink::Stream(Box::new(Gate(gate))), None).expect("start");
        let n = (2 * MAX_BYTES / 3) as u64;
        for i in 0..n {
            buf::emit(Event::new(Kind::GoStart).g(i + 1));
        }
        assert!(with(|s| s.in_flight()).unwrap_or(0) <= MAX_BYTES);
        drop(open);
        let s = stop(|_| Ok(())).expect("stop");
        assert!(s.dropped > 0, "nothing dropped");
    }

    #[test]
    // Needs many chunks' worth of events: too slow under Miri. The ring is safe code; the
    // snapshot reads chunks as the stream test's writer does.
    #[cfg_attr(miri, ignore)]
    fn a_flight_recorder_keeps_only_the_recent_window() {
        let _serial = TEST_SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let cfg = FlightConfig {
            min_age: Duration::from_secs(3600),
            max_bytes: 4 * CHUNK_BYTES,
        };
        start(Owner::Flight, Sink::Flight(cfg), None).expect("start");
        let n = (6 * MAX_BYTES / 3) as u64;
        for i in 0..n {
            buf::emit(Event::new(Kind::GoStart).g(i + 1));
        }
        let mut file = Vec::new();
        snapshot()
            .expect("a flight recorder")
            .write(&mut file)
            .expect("write");
        drop(stop(|_| Ok(())).expect("stop"));
        let raw = gort_trace_format::RawTrace::read(&file).expect("raw");
        let t = raw.decode().expect("decode");
        let mine = my_starts(&t);
        let kept: usize = raw.buffers.iter().map(|(_, b)| b.len()).sum();
        assert!(kept <= 4 * CHUNK_BYTES + MAX_BYTES, "kept {kept} bytes");
        assert!(!mine.is_empty());
        // The most recent events, in order, up to the last one.
        assert_eq!(mine.last(), Some(&n));
        assert!(mine[0] > n / 2, "the oldest kept is {}", mine[0]);
        assert!(
            mine.windows(2).all(|w| w[1] == w[0] + 1),
            "a contiguous window"
        );
    }
}
