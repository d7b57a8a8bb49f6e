//! The record layout: how [`Event`]s are laid out in the tracer's per-thread buffers — the
//! [`Encoder`] the runtime runs on its hot path and the [`Decoder`] that reads the bytes back,
//! side by side so that the format is defined in one place (Go: runtime/traceevent.go writes,
//! internal/trace reads).
//!
//! Records follow each other with no gaps and no alignment; each stores its time as the
//! difference (wrapping) from the previous record's in the same buffer.
//!
//! # Full records
//! A 4-byte little-endian header — the kind in 5 bits, then the byte count (0–8, 4 bits) of each
//! of `m + 1`, `p + 1` (so that "none" is 0 and takes no bytes), `g`, `arg`, `aux | aux2 << 8`
//! and the time's delta — followed by each field's bytes. Clever for speed: every field is one
//! unaligned 8-byte store and a width computed from its leading zeros, with no loop and no branch
//! per byte, which is what Go's LEB128 varints cost (this takes about half the instructions, for
//! a byte or so more per event). The delta goes last, so the CPU encodes the other fields while
//! the clock read it comes from is still in flight. The common events take 6–10 bytes; a plain
//! 40-byte struct per event would make the tracer's cost mostly the memory traffic of writing
//! fresh buffer pages.
//!
//! # Short records
//! The events recorded most leave out what the reader of the buffer already knows: the M, the P
//! and the G of the run in progress, from the last run start in the same buffer (runs on one
//! thread never nest, so the run that ends is the one that started last). The [`Encoder`] keeps
//! that start and writes a short record only when the [`Decoder`], which keeps the same, can fill
//! the fields back in:
//!
//! | record | what | after its kind byte |
//! |---|---|---|
//! | switch | the `GoEnd` of the last start's run, its P still held, and a `GoStart` on the same M and P at the same time | wait reason; counts; the new `g`; delta |
//! | create / unblock by the run | a `GoCreate`, or a `GoUnblock` by a G, made by the running G on its P | counts; `g`; delta |
//!
//! The kind byte of a short record is one of the top values of the 5-bit kind (below them, the
//! [`Kind`]s of full records); its other 3 bits carry the end's [`Outcome`](crate::Outcome) or
//! the runnext flag. "counts" is one byte: the byte count of `g` (low nibble) and of the delta
//! (high nibble). A switch takes 5–7 bytes instead of two full records' 18–24; the runtime makes
//! most of its run ends switches by stamping an end with the time of the M's next record
//! (`hooks.rs` in gort). A create or wake by the running G takes 4–6 bytes.

use std::mem::MaybeUninit;

use crate::event::{Event, Kind, Source, FLAG_RUNNEXT};

/// The longest encoding of one event: a 4-byte header, then `m` and `p` (up to 4 bytes each),
/// `g` and `arg` (8), the aux bytes (2) and the timestamp delta (8).
pub const MAX_ENCODED: usize = 4 + 4 + 4 + 8 + 8 + 2 + 8;

/// Where the [`Encoder`] writes: room for the longest record. `MaybeUninit` because the tracer
/// encodes straight into its (never zeroed) buffer; encoding into a scratch array and copying
/// that in is slower (the wide copy has to wait for the narrow byte stores before it).
pub type Encoded = [MaybeUninit<u8>; MAX_ENCODED];

// Bit positions in a full record's header: the kind, then a 4-bit byte count per field, in field
// order (29 bits of the 32).
const KIND_BITS: u32 = 5;
const KIND_MASK: u32 = (1 << KIND_BITS) - 1;
const M_SHIFT: u32 = 5;
const P_SHIFT: u32 = 9;
const G_SHIFT: u32 = 13;
const ARG_SHIFT: u32 = 17;
const AUX_SHIFT: u32 = 21;
/// The delta's count, in the header's last byte: written after the delta itself.
const DTS_SHIFT: u32 = 25;
const HEADER: usize = 4;

/// The kind bytes of the short records, and their header lengths (the kind byte, what the record
/// keeps of its own, the counts byte).
const SWITCH: u32 = KIND_MASK;
const SWITCH_HEADER: usize = 3;
const CREATE_BY_RUN: u32 = KIND_MASK - 1;
const UNBLOCK_BY_RUN: u32 = KIND_MASK - 2;
const BY_RUN_HEADER: usize = 2;
const _: () = assert!((Kind::ALL.len() as u32) <= UNBLOCK_BY_RUN);

/// How many little-endian bytes `v` needs (0–8). 0 needs none, which is how absent fields cost
/// nothing.
#[inline(always)]
fn width(v: u64) -> u32 {
    (71 - v.leading_zeros()) / 8
}

/// Write all 8 bytes of `v` at `out[at..at + 8]` (little-endian) and return how many of them
/// count; the rest are scratch that the next field or the next record overwrites.
///
/// # Safety
/// `at + 8 <= MAX_ENCODED`.
#[inline(always)]
unsafe fn put(out: &mut Encoded, at: usize, v: u64, width: u32) -> usize {
    debug_assert!(at + 8 <= MAX_ENCODED);
    // SAFETY: the caller keeps the 8 bytes inside `out`; `MaybeUninit<u8>` has no alignment or
    // validity requirement, so an unaligned store of initialised bytes is fine.
    unsafe {
        out.as_mut_ptr()
            .add(at)
            .cast::<u64>()
            .write_unaligned(v.to_le())
    };
    width as usize
}

/// The `n`-byte little-endian value at `bytes[*at..]`, advancing `*at`.
fn get(bytes: &[u8], at: &mut usize, n: usize) -> Option<u64> {
    if n > 8 {
        return None;
    }
    let src = bytes.get(*at..at.checked_add(n)?)?;
    let mut v = [0u8; 8];
    v[..n].copy_from_slice(src);
    *at += n;
    Some(u64::from_le_bytes(v))
}

/// A full record of `ev` (see the module header), with `dts` in place of its time. Returns the
/// length.
#[inline(always)]
fn encode_full(ev: &Event, dts: u64, out: &mut Encoded) -> usize {
    let m = u64::from(ev.m.wrapping_add(1));
    let p = u64::from(ev.p.wrapping_add(1));
    let (g, arg) = (ev.g, ev.arg);
    let aux = u64::from(ev.aux) | u64::from(ev.aux2) << 8;
    let (wm, wp, wg, wa, wx) = (width(m), width(p), width(g), width(arg), width(aux));
    let head = ev.kind as u32
        | wm << M_SHIFT
        | wp << P_SHIFT
        | wg << G_SHIFT
        | wa << ARG_SHIFT
        | wx << AUX_SHIFT;
    let wd = width(dts);
    // SAFETY: every `put` stays inside `out`. The widths are at most 4 (`m`, `p`: u32 values), 8 (`g`, `arg`) and 2
    // (`aux`), so the stores start at most at 4, 8, 12, 20, 28 and 30 (the delta) and end by
    // 38 = MAX_ENCODED.
    let at = unsafe {
        put(out, 0, u64::from(head), 0);
        let mut at = HEADER;
        at += put(out, at, m, wm);
        at += put(out, at, p, wp);
        at += put(out, at, g, wg);
        at += put(out, at, arg, wa);
        at += put(out, at, aux, wx);
        at + put(out, at, dts, wd)
    };
    // The delta's count completes the header's last byte.
    out[HEADER - 1].write(((head | wd << DTS_SHIFT) >> 24) as u8);
    at
}

/// A short record (see the module header): a `header`-byte header — `prefix` (the kind byte and
/// what the record keeps of its own) in the first `header - 1` bytes, then the counts byte — then
/// `g` and the delta.
#[inline(always)]
fn encode_short(prefix: u32, header: usize, g: u64, dts: u64, out: &mut Encoded) -> usize {
    debug_assert!((2..=4).contains(&header) && u64::from(prefix) >> (8 * (header - 1)) == 0);
    let (wg, wd) = (width(g), width(dts));
    let head = u64::from(prefix) | u64::from(wg | wd << 4) << (8 * (header - 1));
    // SAFETY: the header's 8 bytes (scratch past `header`, overwritten next), then `g` from
    // `header` (at most 4) and the delta from at most `header + 8`, end by 20 <= MAX_ENCODED.
    unsafe {
        put(out, 0, head, 0);
        let at = header + put(out, header, g, wg);
        at + put(out, at, dts, wd)
    }
}

/// The writer's side of one buffer: what the records written so far let it leave out.
#[derive(Clone, Copy, Debug, Default)]
pub struct Encoder {
    /// The previous record's time.
    last_ts: u64,
    /// The M, P and G of the last run start written (`run_g` 0: none yet).
    run_m: u32,
    run_p: u32,
    run_g: u64,
}

impl Encoder {
    /// A writer at the start of a buffer.
    pub const fn new() -> Encoder {
        Encoder {
            last_ts: 0,
            run_m: 0,
            run_p: 0,
            run_g: 0,
        }
    }

    /// Append `ev` (at its time `ev.ts`) to the buffer as the shortest record the reader can
    /// decode, into `out`; returns its length. Inlined, so that with a constant `kind` (each of
    /// the tracer's hooks records one kind) the choice below folds to one case.
    #[inline(always)]
    pub fn encode(&mut self, ev: &Event, out: &mut Encoded) -> usize {
        let dts = ev.ts.wrapping_sub(self.last_ts);
        self.last_ts = ev.ts;
        // The fields a short record leaves out must be the ones the decoder fills in: the run's
        // M, P and G, and zero where it has none. For the tracer's own events most of these tests
        // are on constants and fold away.
        let in_run = self.run_g != 0 && ev.m == self.run_m && ev.p == self.run_p;
        match ev.kind {
            Kind::GoStart => self.started(ev),
            Kind::GoCreate
                if in_run && ev.arg == self.run_g && ev.aux <= FLAG_RUNNEXT && ev.aux2 == 0 =>
            {
                let prefix = CREATE_BY_RUN | u32::from(ev.aux) << KIND_BITS;
                return encode_short(prefix, BY_RUN_HEADER, ev.g, dts, out);
            }
            Kind::GoUnblock
                if in_run
                    && ev.arg == self.run_g
                    && ev.aux == Source::G as u8
                    && ev.aux2 <= FLAG_RUNNEXT =>
            {
                let prefix = UNBLOCK_BY_RUN | u32::from(ev.aux2) << KIND_BITS;
                return encode_short(prefix, BY_RUN_HEADER, ev.g, dts, out);
            }
            _ => {}
        }
        encode_full(ev, dts, out)
    }

    /// Append a run's `end` and the `start` that follows it as one switch record, if the reader
    /// can tell them apart from it: the end is of the run the last start began, on the P it still
    /// holds, and the start is on the same M and P at the same time. Returns the length, or None
    /// if they need two records ([`Encoder::encode`] each).
    #[inline(always)]
    pub fn encode_switch(
        &mut self,
        end: &Event,
        start: &Event,
        out: &mut Encoded,
    ) -> Option<usize> {
        let fits = end.kind == Kind::GoEnd
            && start.kind == Kind::GoStart
            && self.run_g != 0
            && end.g == self.run_g
            && end.m == self.run_m
            && end.p == self.run_p
            && end.arg == u64::from(end.p)
            && end.aux < 8
            && start.m == end.m
            && start.p == end.p
            && start.ts == end.ts
            && start.arg == 0
            && start.aux == 0
            && start.aux2 == 0;
        if !fits {
            return None;
        }
        let dts = start.ts.wrapping_sub(self.last_ts);
        self.last_ts = start.ts;
        self.started(start);
        let prefix = SWITCH | u32::from(end.aux) << KIND_BITS | u32::from(end.aux2) << 8;
        Some(encode_short(prefix, SWITCH_HEADER, start.g, dts, out))
    }

    /// A run starts: later records may lean on it.
    #[inline(always)]
    fn started(&mut self, start: &Event) {
        self.run_m = start.m;
        self.run_p = start.p;
        self.run_g = start.g;
    }
}

/// `events` as the tracer writes them into one buffer: one record each, but a run's end followed
/// by the next start at the same time as one switch record where it can. For tests and tools that
/// make traces by hand.
pub fn encode_buffer(events: &[Event]) -> Vec<u8> {
    let mut bytes = Vec::new();
    encode_records(events, |record| bytes.extend_from_slice(record));
    bytes
}

/// The loop of [`encode_buffer`]: each record's bytes in turn, to `record`.
fn encode_records(events: &[Event], mut record: impl FnMut(&[u8])) {
    let mut enc = Encoder::new();
    let mut out: Encoded = [MaybeUninit::new(0); MAX_ENCODED];
    let mut k = 0;
    while k < events.len() {
        let switch = events
            .get(k + 1)
            .and_then(|next| enc.encode_switch(&events[k], next, &mut out));
        let n = match switch {
            Some(n) => {
                k += 2;
                n
            }
            None => {
                k += 1;
                enc.encode(&events[k - 1], &mut out)
            }
        };
        // SAFETY: `out` was initialised in full above, and the encoder writes only initialised
        // bytes into it.
        let bytes = out.map(|b| unsafe { b.assume_init() });
        record(&bytes[..n]);
    }
}

/// A buffer holds no whole record at byte `at` ([`Decoder::try_next`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadRecord {
    pub at: usize,
}

/// The reader's side of one buffer: what the records leave implied.
#[derive(Clone, Copy, Debug, Default)]
pub struct Decoder {
    /// The previous record's time (deltas are from it).
    prev_ts: u64,
    /// `(m, p, g)` of the last run start read.
    run: Option<(u32, u32, u64)>,
    /// The start of a switch record, whose end [`Decoder::next`] returned first.
    pending: Option<Event>,
}

impl Decoder {
    /// A reader at the start of a buffer.
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// A short record at `bytes[*i..]` (`header` bytes of header), advancing `*i`: its prefix,
    /// its `g` and its time.
    fn short(&self, bytes: &[u8], i: &mut usize, header: usize) -> Option<(u32, u64, u64)> {
        let head = get(bytes, i, header)?;
        let counts = head >> (8 * (header - 1));
        let g = get(bytes, i, (counts & 15) as usize)?;
        let dts = get(bytes, i, (counts >> 4) as usize)?;
        let prefix = head & ((1 << (8 * (header - 1))) - 1);
        Some((prefix as u32, g, self.prev_ts.wrapping_add(dts)))
    }

    /// The next event, or `Ok(None)` at the end of the bytes, or an error if `bytes[*at..]` does
    /// not start with a whole record this decoder can read (a record cut short, an unknown kind,
    /// a short record with no run start before it): [`Decoder::next`] with the two ends told
    /// apart. Never panics, whatever the bytes.
    pub fn try_next(&mut self, bytes: &[u8], at: &mut usize) -> Result<Option<Event>, BadRecord> {
        match self.next(bytes, at) {
            Some(ev) => Ok(Some(ev)),
            None if *at >= bytes.len() && self.pending.is_none() => Ok(None),
            None => Err(BadRecord { at: *at }),
        }
    }

    /// The next event: the record at `bytes[*at..]`, advancing `*at` past it (a switch record
    /// gives two events: its end now, its start on the next call, which reads no bytes). `None`
    /// at the end of the bytes (`*at == bytes.len()`), or — with `*at` short of it — if they do
    /// not hold a whole record, or a short record comes before any run start, which for a
    /// buffer the tracer wrote means a bug (or bytes that are not a trace).
    pub fn next(&mut self, bytes: &[u8], at: &mut usize) -> Option<Event> {
        if let Some(start) = self.pending.take() {
            return Some(start);
        }
        let mut i = *at;
        let wire = u32::from(*bytes.get(i)?) & KIND_MASK;
        let ev = match wire {
            SWITCH => {
                let (head, g, ts) = self.short(bytes, &mut i, SWITCH_HEADER)?;
                let (m, p, ended) = self.run?;
                self.run = Some((m, p, g));
                let start = Event {
                    m,
                    p,
                    ..Event::new(Kind::GoStart).g(g).at(ts)
                };
                self.pending = Some(start);
                Event {
                    kind: Kind::GoEnd,
                    g: ended,
                    arg: u64::from(p),
                    aux: (head >> KIND_BITS) as u8 & 7,
                    aux2: (head >> 8) as u8,
                    ..start
                }
            }
            CREATE_BY_RUN | UNBLOCK_BY_RUN => {
                let (head, g, ts) = self.short(bytes, &mut i, BY_RUN_HEADER)?;
                let (m, p, by) = self.run?;
                let runnext = (head >> KIND_BITS) as u8 & FLAG_RUNNEXT;
                let ev = Event {
                    m,
                    p,
                    ..Event::new(Kind::GoCreate).g(g).arg(by).at(ts)
                };
                if wire == CREATE_BY_RUN {
                    ev.aux(runnext, 0)
                } else {
                    Event {
                        kind: Kind::GoUnblock,
                        ..ev
                    }
                    .aux(Source::G as u8, runnext)
                }
            }
            _ => {
                let head = get(bytes, &mut i, HEADER)? as u32;
                let kind = Kind::from_u8((head & KIND_MASK) as u8)?;
                let field = |shift: u32| ((head >> shift) & 15) as usize;
                let mut ev = Event::new(kind);
                ev.m = u32::try_from(get(bytes, &mut i, field(M_SHIFT))?)
                    .ok()?
                    .wrapping_sub(1);
                ev.p = u32::try_from(get(bytes, &mut i, field(P_SHIFT))?)
                    .ok()?
                    .wrapping_sub(1);
                ev.g = get(bytes, &mut i, field(G_SHIFT))?;
                ev.arg = get(bytes, &mut i, field(ARG_SHIFT))?;
                let aux = get(bytes, &mut i, field(AUX_SHIFT))?;
                ev.aux = aux as u8;
                ev.aux2 = u8::try_from(aux >> 8).ok()?;
                ev.ts = self
                    .prev_ts
                    .wrapping_add(get(bytes, &mut i, field(DTS_SHIFT))?);
                if kind == Kind::GoStart {
                    self.run = Some((ev.m, ev.p, ev.g));
                }
                ev
            }
        };
        self.prev_ts = ev.ts;
        *at = i;
        Some(ev)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Outcome, NONE};

    /// The bytes of `events` as an [`Encoder`] writes them into one buffer: each as one record,
    /// but an end followed by a start as one switch record where it can.
    fn encoded(events: &[Event]) -> (Vec<u8>, Vec<usize>) {
        let (mut bytes, mut sizes) = (Vec::new(), Vec::new());
        encode_records(events, |record| {
            bytes.extend_from_slice(record);
            sizes.push(record.len());
        });
        (bytes, sizes)
    }

    /// Every event of `bytes`, decoded.
    fn decoded(bytes: &[u8]) -> Vec<Event> {
        let (mut at, mut dec, mut got) = (0, Decoder::new(), Vec::new());
        while let Some(ev) = dec.next(bytes, &mut at) {
            got.push(ev);
        }
        assert_eq!(at, bytes.len(), "a whole record");
        got
    }

    #[test]
    fn events_round_trip_through_the_wire_format() {
        let mut next = crate::test_rng();
        let mut want = Vec::new();
        let mut ts = 0u64;
        for i in 0..4_000u64 {
            let r = next();
            // Mix small, large, zero and "none" values, and timestamps that step backwards:
            // every width from 0 to 8 bytes, and the edges of each. The ids come from small
            // sets, so that runs, ends, creates and wakes by the run (short records) are common.
            let pick = |r: u64, shift: u32| match (r >> shift) & 7 {
                0 => 0,
                1 => r & 0xff,
                2 => r,
                3 => u64::MAX,
                4 => 1 << 48,
                5 => (1 << 56) - 1,
                6 => r >> ((r >> 58) * 8).min(56),
                _ => 0x100,
            };
            ts = if i % 7 == 3 {
                ts.wrapping_sub(r & 0xfff)
            } else {
                ts + (r & 0xffff)
            };
            let random = Event {
                ts,
                g: pick(r, 0),
                arg: pick(next(), 8),
                m: [NONE, 0, 3, u32::MAX - 1][(r >> 20) as usize & 3],
                p: [NONE, 0, 1, 70_000][(r >> 24) as usize & 3],
                kind: Kind::from_u8((r % Kind::ALL.len() as u64) as u8).unwrap_or(Kind::Nop),
                aux: (r >> 32) as u8,
                aux2: (r >> 40) as u8,
            };
            // Half of them as the tracer records runs, creates and wakes, on few Ms, Ps and Gs,
            // so that short records are common, and sometimes just off what they can hold.
            let (m, p) = ((r >> 20) as usize & 1, (r >> 21) as usize & 1);
            let g = [1, 2, 300][(r >> 1) as usize % 3];
            let by = [0, 1, 2, 300][(r >> 54) as usize & 3];
            let flag = (r >> 56) as u8 & 1;
            let like = match (r >> 44) & 7 {
                0 | 1 => Event::new(Kind::GoStart).m(m).p(p).g(g),
                2 | 3 => Event::new(Kind::GoEnd)
                    .m(m)
                    .p(p)
                    .g(g)
                    .arg([p as u64, 1, 2][(r >> 58) as usize % 3])
                    .aux((r >> 48) as u8 % 9, (r >> 40) as u8),
                4 => Event::new(Kind::GoCreate)
                    .m(m)
                    .p(p)
                    .g(g)
                    .arg(by)
                    .aux(flag * 3, 0),
                5 => Event::new(Kind::GoUnblock)
                    .m(m)
                    .p(p)
                    .g(g)
                    .arg(by)
                    .aux(0, flag),
                6 => Event::new(Kind::GoUnblock)
                    .m(m)
                    .p(p)
                    .g(g)
                    .arg(by)
                    .aux(2, flag),
                _ => random,
            };
            want.push(if r & 1 == 0 { random } else { like.at(ts) });
            // Often a run that ends and, at the same time, the next start: a switch.
            if want.last().is_some_and(|e| e.kind == Kind::GoStart) && (r >> 60) & 1 == 0 {
                let run = want[want.len() - 1];
                let end = Event::new(Kind::GoEnd)
                    .g(run.g)
                    .arg(u64::from(run.p))
                    .aux((r >> 61) as u8 % 5, (r >> 40) as u8);
                let end = Event {
                    m: run.m,
                    p: run.p,
                    ..end.at(ts)
                };
                want.push(end);
                want.push(Event {
                    g: run.g.wrapping_add(1),
                    ..run.at(ts)
                });
            }
        }
        let (bytes, sizes) = encoded(&want);
        assert_eq!(decoded(&bytes), want);
        let short = sizes.iter().filter(|&&n| n <= 6).count();
        assert!(short > 10, "only {short} short records");
        assert!(
            sizes.len() + 50 < want.len(),
            "few switches: {}",
            want.len() - sizes.len()
        );
    }

    #[test]
    fn a_run_end_and_the_next_start_at_one_time_share_one_record() {
        let start = |ts, g| Event::new(Kind::GoStart).m(2).p(1).g(g).at(ts);
        let end = |ts, g, o: Outcome, wait| {
            Event::new(Kind::GoEnd)
                .m(2)
                .p(1)
                .g(g)
                .arg(1)
                .aux(o as u8, wait)
                .at(ts)
        };
        let events = vec![
            start(100, 41),
            end(900, 41, Outcome::Yield, 0),
            start(900, 42),
            // Parked on a channel (wait reason 1); 300 000 G ids later the next G starts.
            end(70_000, 42, Outcome::Parked, 1),
            start(70_000, 300_042),
            // Not at one time: two records.
            end(70_500, 300_042, Outcome::Yield, 0),
            start(70_600, 7),
            // The P was taken during the run: the end says which P the M has now, in full.
            Event {
                arg: 5,
                ..end(80_000, 7, Outcome::Complete, 0)
            },
            Event::new(Kind::GoStart).m(2).p(5).g(8).at(80_000),
        ];
        let (bytes, sizes) = encoded(&events);
        assert_eq!(decoded(&bytes), events);
        assert_eq!(sizes.len(), 7, "{sizes:?}");
        assert!(sizes[0] >= 7, "the first start is whole: {sizes:?}");
        // 3 header bytes, the new G and the delta.
        assert!(sizes[1] <= 6 && sizes[2] <= 9, "switches: {sizes:?}");
        assert!(
            sizes[3..].iter().all(|&n| n >= 7),
            "whole records: {sizes:?}"
        );
        // A switch with no run start before it in the buffer is not a record.
        assert_eq!(Decoder::new().next(&bytes[sizes[0]..], &mut 0), None);
    }

    #[test]
    fn a_create_or_wake_by_the_running_g_leaves_its_ids_implied() {
        let start = Event::new(Kind::GoStart).m(3).p(1).g(41).at(100);
        let create = Event::new(Kind::GoCreate)
            .m(3)
            .p(1)
            .g(70_000)
            .arg(41)
            .aux(FLAG_RUNNEXT, 0)
            .at(150);
        let wake = Event::new(Kind::GoUnblock)
            .m(3)
            .p(1)
            .g(9)
            .arg(41)
            .aux(Source::G as u8, FLAG_RUNNEXT)
            .at(400);
        let events = vec![
            // No run start yet: whole.
            create.at(50),
            start,
            create,
            wake,
            wake.aux(Source::G as u8, 0).at(401),
            // By a timer, or by another G: whole.
            wake.arg(0).aux(Source::Timers as u8, 0).at(402),
            wake.arg(40).at(403),
        ];
        let (bytes, sizes) = encoded(&events);
        assert_eq!(decoded(&bytes), events);
        assert!(sizes[2] <= 6 && sizes[3] <= 6, "{sizes:?}");
        assert!(sizes[0] > sizes[2] && sizes[6] > sizes[3], "{sizes:?}");
    }

    #[test]
    fn try_next_tells_the_end_from_a_bad_record_and_never_panics() {
        let start = Event::new(Kind::GoStart).m(1).p(0).g(4_000).at(300);
        let (bytes, _) = encoded(&[start, start.g(5).at(400)]);
        let (mut at, mut dec) = (0, Decoder::new());
        assert!(dec.try_next(&bytes, &mut at).expect("whole").is_some());
        assert!(dec.try_next(&bytes, &mut at).expect("whole").is_some());
        assert_eq!(dec.try_next(&bytes, &mut at), Ok(None));
        let cut = &bytes[..bytes.len() - 1];
        let (mut at, mut dec) = (0, Decoder::new());
        dec.try_next(cut, &mut at).expect("the first is whole");
        assert!(matches!(dec.try_next(cut, &mut at), Err(BadRecord { .. })));
        // Arbitrary bytes: events or an error, never a panic, and `at` only moves forward.
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..if cfg!(miri) { 20 } else { 2_000 } {
            let junk: Vec<u8> = (0..rng % 64)
                .map(|_| {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    rng as u8
                })
                .collect();
            let (mut at, mut dec) = (0, Decoder::new());
            while let Ok(Some(_)) = dec.try_next(&junk, &mut at) {
                assert!(at <= junk.len());
            }
        }
    }

    #[test]
    fn cut_records_do_not_decode() {
        let start = Event::new(Kind::GoStart).m(1).p(0).g(4_000).at(300);
        let end = Event::new(Kind::GoEnd).m(1).p(0).g(4_000).arg(0).at(900);
        let create = Event::new(Kind::GoCreate).m(1).p(0).g(9).arg(4_000);
        let events = [start, create.at(400), end, start.g(5).at(900)];
        let (bytes, sizes) = encoded(&events);
        assert_eq!(sizes.len(), 3, "{sizes:?}");
        assert!(sizes[0] <= 10, "GoStart took {} bytes", sizes[0]);
        for cut in 0..bytes.len() {
            let (mut at, mut dec, mut n) = (0, Decoder::new(), 0);
            while dec.next(&bytes[..cut], &mut at).is_some() {
                n += 1;
            }
            let ends = sizes.iter().scan(0, |s, &x| {
                *s += x;
                Some(*s)
            });
            // Events per whole record: 1, 1, 2 (the switch).
            let whole: usize = ends
                .zip([1, 1, 2])
                .filter(|&(e, _)| e <= cut)
                .map(|(_, n)| n)
                .sum();
            assert_eq!(n, whole, "cut at {cut}");
            assert!(
                at < cut || cut == 0 || whole == 0 || at == cut,
                "cut at {cut}"
            );
        }
        let max = Event::new(Kind::Steal)
            .m(u32::MAX as usize - 1)
            .p(u32::MAX as usize - 1)
            .g(u64::MAX)
            .arg(u64::MAX)
            .aux(255, 255)
            .at(u64::MAX);
        assert_eq!(encoded(&[max]).1, vec![MAX_ENCODED]);
    }
}
