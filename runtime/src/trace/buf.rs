//! Per-thread trace buffers: Go's per-M `traceBuf`s (runtime/tracebuf.go).
//!
//! # Recording without a lock
//! Each thread appends to its own [`Chunk`], a fixed array of bytes with a published length, into
//! which events are encoded back to back (`gort-trace-format`: `wire.rs`, 3–10 bytes for the
//! common events). The thread is the chunk's only writer: it writes an event's bytes at `len`, then
//! stores the new `len` with `Release`. The reader, after `stop`, loads `len` with `Acquire` and
//! decodes bytes `0..len`: those are complete and never written again, and the bytes the writer
//! may be filling right now are past `len`. So the hot path is a thread-local access, a clock
//! read, a few stores — no lock and no read-modify-write. A lock (the session's) is taken once per
//! [`CHUNK_BYTES`] of events (several thousand), to get a fresh chunk. Chunks are not zeroed when
//! allocated: nothing reads past `len`, and the pass would double the memory traffic. Chunks of a
//! finished session are kept in a small pool for the next one ([`POOL`]), whose pages are mapped
//! already.
//!
//! Each chunk starts a fresh `Encoder`, whose short records lean only on what is in the same
//! chunk, so a chunk decodes on its own.
//!
//! # Held run ends
//! A run's end is not written when the hook reports it: the writer holds it ([`hold`]) and
//! stamps it with the clock reading of the thread's next record ([`emit`]), usually the next
//! run's start, and the two become one switch record (`wire.rs`). `hooks.rs` says why. A held end
//! is never lost:
//! - it is written before any other record of its thread, into the chunk it was held in (which
//!   had room for it then), so it stays in its own session even if the next record starts a new
//!   one;
//! - [`flush`] writes it with the time then, where the M's quick path ends and when it leaves the
//!   traced loop (tracing switched off, or shutdown); an M that parks or stops records that first;
//! - the chunk's `held` flag tells `stop` (`session.rs`) to wait until it is written;
//! - a thread that exits holding one (it does not happen) writes it from its writer's destructor.
//!
//! # Per thread, not per P
//! Go keeps a buffer per M too (per P for some events). Here per-P buffers would be wrong, not just
//! slower: sysmon can revoke a P while its M is still inside a poll (a runaway poll, a blocking
//! section), so two threads could append to "the P's" buffer at once. A thread's buffer has exactly
//! one writer for its whole life, whatever Ps come and go.
//!
//! This file uses `crate::util::loom` types like the rest of the crate, but the tracer is compiled
//! out under `cfg(loom)` (`mod.rs`): its state lives in statics, which loom's types cannot be, and
//! the models check the scheduler, not its observer.

use std::cell::{RefCell, RefMut, UnsafeCell};
use std::mem::MaybeUninit;

use gort_trace_format::wire::{Encoded, Encoder, MAX_ENCODED};
use gort_trace_format::{Event, Kind};

use super::clock;
use super::session::{self, GEN};
use crate::util::loom::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use crate::util::loom::sync::{Arc, Mutex};

/// Bytes per chunk: one lock every 64 KiB of events, about 8 000 events. (Unit tests use small
/// chunks, so that they cross them quickly, under Miri too.)
#[cfg(not(test))]
pub(crate) const CHUNK_BYTES: usize = 64 * 1024;
#[cfg(test)]
pub(crate) const CHUNK_BYTES: usize = 4 * 1024;

/// The bytes of chunks from finished sessions, for the next session's chunks (at most
/// [`POOL_CHUNKS`]). Fresh memory costs a page fault per 4 KiB on first touch — microseconds,
/// a few nanoseconds per event — while a recycled chunk's pages are mapped already. Go keeps its
/// used trace buffers on a free list for the same reason. The price is up to `POOL_CHUNKS` chunks
/// of memory kept after tracing stops.
static POOL: Mutex<Vec<Bytes>> = Mutex::new(Vec::new());
const POOL_CHUNKS: usize = (8 << 20) / CHUNK_BYTES;

/// A chunk's memory: bytes that may be uninitialised, written through shared references.
type Bytes = Box<[MaybeUninit<UnsafeCell<u8>>]>;

/// A run of encoded events with one writer (see the module header).
///
/// `std`'s `UnsafeCell` rather than the crate's loom shim: the tracer is compiled out under loom,
/// and the shim's cell has no raw-pointer access to a byte range.
pub(crate) struct Chunk {
    bytes: Bytes,
    len: AtomicUsize,
    /// Its writer holds a run's end that belongs here (`hold`): `stop` waits until it is written.
    held: AtomicBool,
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
    pub(super) fn new() -> Chunk {
        let bytes = crate::util::loom::lock(&POOL)
            .pop()
            .unwrap_or_else(|| Box::new_uninit_slice(CHUNK_BYTES));
        Chunk {
            bytes,
            len: AtomicUsize::new(0),
            held: AtomicBool::new(false),
        }
    }

    /// The start of the byte array, with write permission (through the `UnsafeCell`s).
    fn ptr(&self) -> *mut u8 {
        UnsafeCell::raw_get(self.bytes.as_ptr().cast::<UnsafeCell<u8>>())
    }

    /// Wait (until `deadline` at most) for the writer to write the run's end it holds. Writers
    /// hold one only between a run's end and their next record, or the point where they leave
    /// the traced loop, which an M that sees tracing off reaches in a moment.
    pub(super) fn settle(&self, deadline: std::time::Instant) {
        while self.held.load(Ordering::Acquire) && std::time::Instant::now() < deadline {
            std::thread::yield_now();
        }
    }

    /// The published bytes.
    pub(super) fn published(&self) -> &[u8] {
        let len = self.len.load(Ordering::Acquire);
        // SAFETY: bytes below a `len` loaded with Acquire were written before the writer's Release
        // store of that `len` and are never written again (see `Sync` above); `len` never exceeds
        // `CHUNK_BYTES`.
        unsafe { std::slice::from_raw_parts(self.ptr().cast_const(), len) }
    }
}

/// Keep the memory of `chunks` that nobody writes any more for the next session (a thread's
/// current chunk stays with the thread until it next records, and is freed then).
pub(super) fn recycle(chunks: impl Iterator<Item = Arc<Chunk>>) {
    let mut pool = crate::util::loom::lock(&POOL);
    for chunk in chunks {
        if pool.len() >= POOL_CHUNKS {
            break;
        }
        if let Ok(c) = Arc::try_unwrap(chunk) {
            pool.push(c.bytes);
        }
    }
}

/// A run's end waiting for its time (`hold`): the fields of its `GoEnd` (see `Kind::GoEnd`).
/// Not an `Event`, so that the kind is a constant where it is encoded and the encoder's choice
/// of record folds away.
#[derive(Clone, Copy, Debug)]
pub(crate) struct End {
    /// The G (never 0).
    pub(crate) g: u64,
    /// The P the M holds now.
    pub(crate) now_p: u32,
    pub(crate) m: u32,
    /// The P the run started on.
    pub(crate) p: u32,
    pub(crate) outcome: u8,
    pub(crate) wait: u8,
}

impl End {
    const NONE: End = End {
        g: 0,
        now_p: 0,
        m: 0,
        p: 0,
        outcome: 0,
        wait: 0,
    };

    #[inline(always)]
    fn event(self, ts: u64) -> Event {
        Event {
            ts,
            g: self.g,
            arg: u64::from(self.now_p),
            m: self.m,
            p: self.p,
            kind: Kind::GoEnd,
            aux: self.outcome,
            aux2: self.wait,
        }
    }
}

/// A thread's side of the buffers.
struct Writer {
    gen: u64,
    chunk: Option<Arc<Chunk>>,
    /// Bytes of `chunk` written (and published).
    used: usize,
    /// `used` below this leaves room for two more records (a held end and the record `emit`
    /// writes after it); 0 without a chunk. One compare on the hot path instead of three.
    room: usize,
    /// Whether this session's clock is the CPU's counter (`clock::source`), cached here where the
    /// hot path has it at hand.
    counter: bool,
    /// What the records in `chunk` let the next ones leave out.
    enc: Encoder,
    /// A run's end waiting for the time of the next record (`hold`), with room for it in `chunk`;
    /// `g` 0 if none.
    held: End,
    thread: u32,
    /// Set when the session's cap was reached: count and drop without taking the lock again.
    dropped: Option<Arc<AtomicU64>>,
    /// The session had no chunk to give (too much in flight): drop events, and ask again every
    /// [`RETRY_EVERY`] of them (`skipped` counts).
    capped: bool,
    skipped: u64,
}

/// While capped, ask the session for a chunk again every this many dropped events.
const RETRY_EVERY: u64 = 256;

/// A thread that ends with a run's end held (it does not happen: an M records its stop first)
/// still writes it, and hands its chunk to the session, so that the chunks of exited threads
/// are streamed out rather than held until `stop` (a long trace of a program whose threads come
/// and go would fill the session's bound with them).
impl Drop for Writer {
    fn drop(&mut self) {
        self.flush_held();
        if let Some(chunk) = self.chunk.take() {
            let (gen, thread) = (self.gen, self.thread);
            session::with(|s| {
                if s.gen() == gen {
                    s.seal(thread, chunk);
                }
            });
        }
    }
}

thread_local! {
    static WRITER: RefCell<Writer> = const {
        RefCell::new(Writer {
            gen: 0,
            chunk: None,
            used: 0,
            room: 0,
            counter: false,
            enc: Encoder::new(),
            held: End::NONE,
            thread: 0,
            dropped: None,
            capped: false,
            skipped: 0,
        })
    };
}

/// This thread's writer, if it can be used now. For the caller to use and drop before it returns.
///
/// Clever for speed: `try_with` only hands out the cell's address, so that the recording — the
/// caller — is inlined into each hook, where the event's constant fields (a `GoStart` has no
/// `arg`, ...) and the encoder's choice of record fold away; with the recording inside a closure,
/// one out-of-line copy served every hook.
#[inline(always)]
fn writer<'a>() -> Option<RefMut<'a, Writer>> {
    // `try_with`: a hook can run while thread-locals are being torn down (a waker dropped by a
    // thread-local destructor); the event is dropped then.
    let cell = WRITER.try_with(|w| w as *const RefCell<Writer>).ok()?;
    // SAFETY: the address is of this thread's own writer, which lives until the thread's
    // thread-local destructors run; `try_with` succeeded, so they have not begun, and they cannot
    // begin while this thread is inside the hook that called us, which drops the borrow before
    // it returns (the lifetime is the caller's, and every caller is a function of this file).
    let cell: &'a RefCell<Writer> = unsafe { &*cell };
    // Never re-entered today, but a hook inside a recording must not turn into a panic.
    cell.try_borrow_mut().ok()
}

/// Record `ev`, stamping its time — and the end this thread holds, if any, with the same time:
/// before a run's start as one switch record where it can. Called only by the hooks' recording
/// functions, each of which inlines this.
#[inline(always)]
pub(crate) fn emit(ev: Event) {
    let Some(mut w) = writer() else {
        return;
    };
    let gen = GEN.load(Ordering::Acquire);
    if (w.gen != gen || w.used >= w.room) && !w.refill(gen) {
        return;
    }
    // Raw ticks (`clock.rs`); the reader turns them into nanoseconds since the start.
    let ev = ev.at(clock::ticks(w.counter));
    if w.held.g == 0 {
        w.write(&ev);
    } else {
        let end = std::mem::replace(&mut w.held, End::NONE);
        w.write_pair(&end.event(ev.ts), &ev);
        w.unhold();
    }
}

/// Hold `end` (a run's end) to be written with the time of this thread's next record, or at
/// [`flush`]. See `hooks.rs` for why.
#[inline(always)]
pub(crate) fn hold(end: End) {
    let Some(mut w) = writer() else {
        return;
    };
    if w.held.g != 0 {
        // Two ends in a row do not happen (a start comes between); if they did, the first is
        // written with the time now.
        w.flush_held();
    }
    // Room for the end in this chunk, of this session: it is written into the chunk it was held
    // in, whatever comes next.
    let gen = GEN.load(Ordering::Acquire);
    if (w.gen != gen || w.used > CHUNK_BYTES - MAX_ENCODED) && !w.refill(gen) {
        return;
    }
    let w = &mut *w;
    if let Some(chunk) = &w.chunk {
        chunk.held.store(true, Ordering::Relaxed);
        w.held = end;
    }
}

/// Write the end this thread holds, if any, with the time now.
pub(crate) fn flush() {
    if let Some(mut w) = writer() {
        w.flush_held();
    }
}

impl Writer {
    /// Append one record to the chunk, which has room (the caller checked). Not a closure: each
    /// hook's copy of `emit` inlines this and the encoder with it, so constant fields fold.
    #[inline(always)]
    fn write(&mut self, ev: &Event) {
        let Some(chunk) = self.chunk.as_ref() else {
            return;
        };
        // SAFETY: this thread is the chunk's only writer, so nothing else holds a reference into
        // it; `used` is the published length and at least `MAX_ENCODED` bytes follow it (see
        // `room`), so the array lies inside the chunk, on bytes no reader looks at until the
        // Release store below. `MaybeUninit<u8>` has the layout of the chunk's bytes and may be
        // uninitialised.
        let out = unsafe { &mut *chunk.ptr().add(self.used).cast::<Encoded>() };
        self.used += self.enc.encode(ev, out);
        chunk.len.store(self.used, Ordering::Release);
    }

    /// Append `end` and `next` at one time: one switch record if `next` is the start that
    /// follows (the usual case: the M went straight from one run to the next), else two.
    #[inline(always)]
    fn write_pair(&mut self, end: &Event, next: &Event) {
        let Some(chunk) = self.chunk.as_ref() else {
            return;
        };
        // SAFETY: as in `write`; `emit` checked `room`, so two records fit.
        let out = unsafe { &mut *chunk.ptr().add(self.used).cast::<Encoded>() };
        if let Some(n) = self.enc.encode_switch(end, next, out) {
            self.used += n;
            chunk.len.store(self.used, Ordering::Release);
        } else {
            self.write(end);
            self.write(next);
        }
    }

    /// The held end is written: tell a waiting `stop` (after the Release store of its `len`).
    #[inline(always)]
    fn unhold(&self) {
        if let Some(chunk) = &self.chunk {
            chunk.held.store(false, Ordering::Release);
        }
    }

    /// One more event dropped because the session is full (or this thread has no chunk).
    #[cold]
    fn count_dropped(&self) {
        if let Some(d) = &self.dropped {
            // Only this thread writes its counter: no read-modify-write needed.
            d.store(d.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        }
    }

    #[cold]
    fn flush_held(&mut self) {
        let end = std::mem::replace(&mut self.held, End::NONE);
        if end.g != 0 {
            self.write(&end.event(clock::ticks(self.counter)));
            self.unhold();
        }
    }

    /// Get a chunk with room, joining the current session if needed, and hand the full one to
    /// the session (`session.rs`: `seal`), which streams it out. False: drop the event.
    #[cold]
    fn refill(&mut self, gen: u64) -> bool {
        // A held end goes into the chunk it was held in, which had room for it (`hold`).
        self.flush_held();
        if self.gen == gen && self.capped {
            // Too much in flight a moment ago (the writer is behind): count, and ask again
            // only now and then, so that a lagging disk does not make every event take a lock.
            self.count_dropped();
            self.skipped += 1;
            if self.skipped % RETRY_EVERY != 0 {
                return false;
            }
        }
        let old = self.chunk.take();
        let got = session::with(|s| {
            if s.gen() != self.gen {
                let (thread, dropped) = s.join();
                self.thread = thread;
                self.gen = s.gen();
                self.dropped = Some(dropped);
                self.capped = false;
                self.counter = clock::source() == clock::Source::Counter;
            } else if let Some(old) = old {
                s.seal(self.thread, old);
            }
            s.chunk(self.thread)
        });
        self.enc = Encoder::new();
        self.used = 0;
        match got {
            Some(Some(chunk)) => {
                self.chunk = Some(chunk);
                self.capped = false;
                self.room = CHUNK_BYTES - 2 * MAX_ENCODED + 1;
                true
            }
            // No session (it stopped a moment ago): nothing to count against.
            None => {
                self.room = 0;
                false
            }
            Some(None) => {
                if !self.capped {
                    self.count_dropped();
                }
                self.capped = true;
                self.room = 0;
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::session::testing::{start_mem, stop_mem};
    use crate::trace::session::{start, stop, Owner, Sink, TEST_SERIAL};
    use gort_trace_format::{Kind, Outcome, Trace};
    use std::io;

    fn serial() -> std::sync::MutexGuard<'static, ()> {
        TEST_SERIAL.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The events these tests emit by hand (no M), leaving out any from runtimes that other unit
    /// tests run at the same time.
    fn mine(t: &Trace) -> Vec<Event> {
        t.events
            .iter()
            .map(|(_, e)| *e)
            .filter(|e| e.kind == Kind::GoStart && e.m == gort_trace_format::event::NONE)
            .collect()
    }

    /// The events in `t` recorded by the calling thread (libtest names it after the test).
    fn this_threads(t: &Trace) -> Vec<Event> {
        let me = std::thread::current().name().map(String::from);
        t.events
            .iter()
            .filter(|(th, _)| Some(&t.threads[*th as usize]) == me.as_ref())
            .map(|(_, e)| *e)
            .collect()
    }

    fn used() -> usize {
        WRITER.with(|w| w.borrow().used)
    }

    /// Enough events to fill more than one chunk per thread.
    const PER_THREAD: u64 = CHUNK_BYTES as u64 / 4;

    #[test]
    fn events_from_several_threads_are_collected_in_time_order() {
        let _serial = serial();
        let out = start_mem();
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
        let t = stop_mem(&out).1;
        assert_eq!(mine(&t).len() as u64, 3 * PER_THREAD);
        assert!(t.events.windows(2).all(|w| w[0].1.ts <= w[1].1.ts));
        let others = t.threads.iter().filter(|n| !n.starts_with("gort-"));
        assert!(others.count() >= 3);
        // Each thread's own events keep their order.
        for th in 0..3u64 {
            let gs: Vec<u64> = mine(&t)
                .iter()
                .map(|e| e.g)
                .filter(|g| g / 1_000_000 == th)
                .collect();
            assert!(gs.windows(2).all(|w| w[0] < w[1]));
        }
    }

    fn yielded(g: u64) -> Event {
        Event::new(Kind::GoEnd)
            .m(7)
            .p(0)
            .g(g)
            .arg(0)
            .aux(Outcome::Yield as u8, 0)
    }

    fn held(g: u64) -> End {
        End {
            g,
            now_p: 0,
            m: 7,
            p: 0,
            outcome: Outcome::Yield as u8,
            wait: 0,
        }
    }

    #[test]
    fn a_held_end_and_the_next_start_are_one_switch_record_at_one_time() {
        let _serial = serial();
        let out = start_mem();
        let go = |g| Event::new(Kind::GoStart).m(7).p(0).g(g);
        emit(go(1));
        let mut sizes = Vec::new();
        for g in 1..3 {
            let before = used();
            hold(held(g));
            assert_eq!(used(), before, "a held end is not written yet");
            emit(go(g + 1));
            sizes.push(used() - before);
        }
        let t = stop_mem(&out).1;
        let got = this_threads(&t);
        let plain: Vec<Event> = got.iter().map(|e| e.at(0)).collect();
        assert_eq!(plain, vec![go(1), yielded(1), go(2), yielded(2), go(3)]);
        assert!(got[0].ts <= got[1].ts, "{got:?}");
        assert_eq!(got[1].ts, got[2].ts, "a switch has one time");
        assert_eq!(got[3].ts, got[4].ts, "a switch has one time");
        // 3 header bytes, the G, the time delta: 1–3 bytes of delta here, but under Miri, whose
        // clock advances with the instructions it interprets (the writer thread's too), a delta
        // may need all 8.
        let most = if cfg!(miri) { 3 + 1 + 8 } else { 7 };
        assert!(
            sizes.iter().all(|&n| n <= most),
            "a switch took {sizes:?} bytes"
        );
    }

    #[test]
    fn flush_writes_a_held_end_with_the_time_then() {
        let _serial = serial();
        let out = start_mem();
        emit(Event::new(Kind::GoStart).m(7).p(0).g(1));
        hold(held(1));
        flush();
        flush();
        emit(Event::new(Kind::ProcStop).m(7).p(0));
        let t = stop_mem(&out).1;
        let kinds: Vec<Kind> = this_threads(&t).iter().map(|e| e.kind).collect();
        assert_eq!(kinds, vec![Kind::GoStart, Kind::GoEnd, Kind::ProcStop]);
    }

    #[test]
    fn stop_waits_for_an_end_another_thread_holds() {
        let _serial = serial();
        let out = start_mem();
        let (held_tx, held_rx) = std::sync::mpsc::channel();
        let (stopping_tx, stopping_rx) = std::sync::mpsc::channel::<()>();
        let m = std::thread::Builder::new()
            .name("held-end-writer".into())
            .spawn(move || {
                emit(Event::new(Kind::GoStart).m(7).p(0).g(1));
                hold(held(1));
                held_tx.send(()).expect("send");
                // Like an M that notices tracing off a moment later and leaves the traced loop.
                stopping_rx.recv().expect("recv");
                std::thread::sleep(std::time::Duration::from_millis(if cfg!(miri) {
                    1
                } else {
                    10
                }));
                flush();
            })
            .expect("spawn");
        held_rx.recv().expect("recv");
        let stopper = std::thread::spawn(move || stop_mem(&out).1);
        stopping_tx.send(()).expect("send");
        let t = stopper.join().expect("stopper");
        m.join().expect("writer");
        let kinds: Vec<Kind> = t
            .events
            .iter()
            .filter(|(th, _)| t.threads[*th as usize] == "held-end-writer")
            .map(|(_, e)| e.kind)
            .collect();
        assert_eq!(kinds, vec![Kind::GoStart, Kind::GoEnd]);
    }

    #[test]
    fn a_new_chunk_or_session_does_not_lean_on_the_last_one() {
        let _serial = serial();
        let first = start_mem();
        emit(Event::new(Kind::GoStart).m(7).p(0).g(1));
        drop(stop_mem(&first));
        let out = start_mem();
        // The end of a run whose start is in the last session: written whole.
        let end = Event::new(Kind::GoEnd).m(7).p(0).g(1).arg(0);
        emit(end);
        emit(Event::new(Kind::GoStart).m(7).p(0).g(2));
        // Fill the chunk with starts, so that the next end falls into a fresh chunk.
        let before = WRITER.with(|w| w.borrow().chunk.as_ref().map(Arc::as_ptr));
        let mut g = 2;
        while WRITER.with(|w| w.borrow().chunk.as_ref().map(Arc::as_ptr)) == before {
            emit(end.g(g));
            g += 1;
            emit(Event::new(Kind::GoStart).m(7).p(0).g(g));
        }
        emit(end.g(g));
        let t = stop_mem(&out).1;
        let got = this_threads(&t);
        assert_eq!(got[0].at(0), end);
        assert_eq!(got[1].g, 2);
        assert_eq!(got.last().map(|e| e.at(0)), Some(end.g(g)));
        assert_eq!(got.len() as u64, 2 * g - 1);
    }

    #[test]
    fn the_chunks_of_a_finished_session_are_kept_for_the_next() {
        let _serial = serial();
        crate::util::loom::lock(&POOL).clear();
        start(Owner::Api, Sink::Stream(Box::new(io::sink())), None).expect("start");
        // Several chunks' worth from this thread: the writer thread returns each full one to the
        // pool once written.
        for i in 0..PER_THREAD * 3 {
            emit(Event::new(Kind::GoStart).g(i));
        }
        drop(stop(|_| Ok(())).expect("stop"));
        let pooled: Vec<usize> = crate::util::loom::lock(&POOL)
            .iter()
            .map(|b| b.as_ptr().addr())
            .collect();
        // At least the last full one (the earlier ones may have been taken again by this
        // thread's next chunks, which is the point).
        assert!(!pooled.is_empty(), "no chunk pooled");
        assert!(pooled.len() <= POOL_CHUNKS);
        // No session runs, so nothing returns chunks now: the next chunk is a pooled one.
        let c = Chunk::new();
        assert!(
            pooled.contains(&c.bytes.as_ptr().addr()),
            "a pooled chunk was reused"
        );
    }
}
