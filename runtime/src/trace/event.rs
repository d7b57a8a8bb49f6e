//! The tracer's record: one event per scheduler transition (Go's runtime/trace.go event types
//! `traceEvGoCreate`, `traceEvGoStart`, ...; runtime/traceevent.go), and its wire format.
//!
//! In code an event is a plain `Copy` struct, [`Event`]. In the per-thread buffers it is encoded
//! compactly, with the timestamp stored as the difference from the previous record in the same
//! buffer (see [`Event::encode`]): fields that are 0 or "none" take no bytes and small ones one or
//! two, so the common events take 6–10 bytes instead of the struct's 40. That matters more than it
//! looks: a scheduler microbenchmark records an event every 25 ns per thread, and at 40 bytes
//! apiece the tracer's cost was mostly the memory traffic of writing fresh buffer pages, not the
//! work of recording.
//!
//! The events recorded most have shorter records still, which leave out what the reader of the
//! buffer already knows: the M, the P and the G of the run in progress, from the last run start
//! in the same buffer (a [`Decoder`] keeps it). A run's end and the next run's start at the same
//! time share one record ([`Event::encode_switch`], 5–7 bytes), and a G created or woken by the
//! running G takes 4–6 ([`Event::encode_by_run`]). The writer (`buf.rs`) uses them only where
//! that run start is in the same buffer.
//!
//! Where this differs from Go: Go writes LEB128 varints (7 bits a byte, a loop and a branch per
//! byte). Here each field is one 8-byte store plus a 4-bit width in a header — about half the
//! instructions, for a byte or so more per event.
//!
//! Which thread recorded an event is not a field: every buffer belongs to one thread (`buf.rs`).

// Under loom and gort_notrace the recorder is compiled out and only `Kind` is used.
#![cfg_attr(any(loom, gort_notrace), allow(dead_code))]

/// "No P" / "no M" in the `p` and `m` fields.
pub(crate) const NONE: u32 = u32::MAX;

/// What happened. The comment of each variant says which fields it uses; unused ones are 0/NONE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Kind {
    Nop,
    /// An M's thread began its scheduling loop. `m`, `p` (the P it starts with, or NONE).
    MStart,
    /// An M left its loop (runtime shutdown). `m`.
    MStop,
    /// An M parked on the idle list (Go's `stopm`). `m`.
    MPark,
    /// An M was woken from the idle list. `m`.
    MUnpark,
    /// An M acquired a P (Go's `acquirep`). `m`, `p`.
    ProcStart,
    /// An M released its P (Go's `releasep`). `m`, `p`.
    ProcStop,
    /// A G's run (one poll) began (Go's `GoStart`). `m`, `p`, `g`.
    GoStart,
    /// A G's run ended. `m`, `p` (where it started), `g`, `aux` = [`Outcome`], `aux2` = the
    /// `WaitReason` byte if parked, `arg` = the P still owned afterwards (NONE if it was taken).
    GoEnd,
    /// A work steal. `m`, `p` = thief, `arg` = victim, `g` = number of Gs taken.
    Steal,
    /// The netpoller returned ready Gs. `m` (or NONE on sysmon), `g` = how many.
    NetpollBatch,
    /// A G was created (Go's `GoCreate`). `m`/`p` of the creator (NONE off an M), `g`,
    /// `arg` = parent G (0 = none), `aux` = [`FLAG_RUNNEXT`] if it went to the creator's runnext.
    GoCreate,
    /// A parked G became runnable (Go's `GoUnblock`). `m`/`p` of the waker, `g`, `arg` = the
    /// waking G (0 = none), `aux` = [`Source`], `aux2` = [`FLAG_RUNNEXT`].
    GoUnblock,
    /// A G entered a blocking section (Go's `GoSysCall`). `m`, `p`, `g`.
    SyscallEnter,
    /// A G left a blocking section (Go's `GoSysExit`). `m`, `p` = the P it has now (NONE if none),
    /// `g`, `aux` = 1 on the fast path (its own P was still there).
    SyscallExit,
    /// sysmon asked the G running on `p` to yield (Go's `preemptone`). `p`.
    PreemptRequest,
    /// sysmon took `p` from M `m`, which sits in a blocking section, and handed it off (Go's
    /// `retake` + `handoffp`; `GoSysBlock` in Go's trace).
    Handoff,
    /// sysmon took `p` from M `m`, stuck inside one poll of G `g` (runaway-poll rescue).
    Rescue,
}

/// How a G's run ended (`GoEnd.aux`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Outcome {
    /// Returned `Pending`; a waker will bring it back (Go's `GoBlock*` / `GoSleep`).
    Parked = 0,
    /// `yield_now` (Go's `GoSched`).
    Yield = 1,
    /// Honoured sysmon's preemption request at a preemption point (Go's `GoPreempt`).
    Preempted = 2,
    /// Woken during its own poll: straight back onto the run queue.
    Requeued = 3,
    /// Finished, panicked or was cancelled (Go's `GoEnd`).
    Complete = 4,
}

impl Kind {
    /// The kind with this byte, if any (a kind byte is only ever written from a `Kind`).
    pub(crate) fn from_u8(v: u8) -> Option<Kind> {
        use Kind::*;
        const ALL: [Kind; 18] = [
            Nop,
            MStart,
            MStop,
            MPark,
            MUnpark,
            ProcStart,
            ProcStop,
            GoStart,
            GoEnd,
            Steal,
            NetpollBatch,
            GoCreate,
            GoUnblock,
            SyscallEnter,
            SyscallExit,
            PreemptRequest,
            Handoff,
            Rescue,
        ];
        ALL.get(usize::from(v)).copied()
    }
}

impl Outcome {
    pub(crate) fn from_u8(v: u8) -> Outcome {
        match v {
            0 => Outcome::Parked,
            1 => Outcome::Yield,
            2 => Outcome::Preempted,
            3 => Outcome::Requeued,
            _ => Outcome::Complete,
        }
    }

    /// The word written in the trace's `end` argument.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Outcome::Parked => "parked",
            Outcome::Yield => "yield",
            Outcome::Preempted => "preempted",
            Outcome::Requeued => "requeued",
            Outcome::Complete => "complete",
        }
    }
}

/// Who made a G runnable (`GoUnblock.aux`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Source {
    /// The G running on the waking M (`arg` names it).
    G = 0,
    /// A batch of expired timers run by an M.
    Timers = 1,
    /// A batch of netpoll results delivered by an M.
    Netpoll = 2,
    /// Scheduler code on an M with no G running (rare: shutdown, a dropped waker).
    Sched = 3,
    /// The sysmon thread (its netpoll, when nobody else polled for 10 ms).
    Sysmon = 4,
    /// A thread that is not an M (the thread in `block_on`, a foreign thread holding a waker).
    External = 5,
}

impl Source {
    pub(crate) fn from_u8(v: u8) -> Source {
        match v {
            0 => Source::G,
            1 => Source::Timers,
            2 => Source::Netpoll,
            3 => Source::Sched,
            4 => Source::Sysmon,
            _ => Source::External,
        }
    }
}

/// `GoCreate.aux` / `GoUnblock.aux2`: the G went to the waker's `runnext`.
pub(crate) const FLAG_RUNNEXT: u8 = 1;

/// One trace record. `ts` is nanoseconds since the trace started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Event {
    pub(crate) ts: u64,
    pub(crate) g: u64,
    pub(crate) arg: u64,
    pub(crate) m: u32,
    pub(crate) p: u32,
    pub(crate) kind: Kind,
    pub(crate) aux: u8,
    pub(crate) aux2: u8,
}

impl Event {
    pub(crate) const fn new(kind: Kind) -> Event {
        Event {
            ts: 0,
            g: 0,
            arg: 0,
            m: NONE,
            p: NONE,
            kind,
            aux: 0,
            aux2: 0,
        }
    }

    pub(crate) fn m(mut self, m: usize) -> Event {
        self.m = id32(m);
        self
    }

    pub(crate) fn p(mut self, p: usize) -> Event {
        self.p = id32(p);
        self
    }

    pub(crate) fn g(mut self, g: u64) -> Event {
        self.g = g;
        self
    }

    pub(crate) fn arg(mut self, arg: u64) -> Event {
        self.arg = arg;
        self
    }

    pub(crate) fn aux(mut self, aux: u8, aux2: u8) -> Event {
        self.aux = aux;
        self.aux2 = aux2;
        self
    }
}

use std::mem::MaybeUninit;

/// The longest encoding of one event: a 4-byte header, then `m` and `p` (up to 4 bytes each),
/// `g` and `arg` (8), the aux bytes (2) and the timestamp delta (8).
pub(crate) const MAX_ENCODED: usize = 4 + 4 + 4 + 8 + 8 + 2 + 8;

/// Where [`Event::encode`] writes: room for the longest event. `MaybeUninit` because the tracer
/// encodes straight into its (never zeroed) buffer; encoding into a scratch array and copying
/// that in made each event several nanoseconds slower (the wide copy has to wait for the
/// narrow byte stores before it).
pub(crate) type Encoded = [MaybeUninit<u8>; MAX_ENCODED];

// Bit positions in the header: the kind, then a 4-bit byte count per field, in field order (29
// bits of the 32).
const KIND_BITS: u32 = 5;
const M_SHIFT: u32 = 5;
const P_SHIFT: u32 = 9;
const G_SHIFT: u32 = 13;
const ARG_SHIFT: u32 = 17;
const AUX_SHIFT: u32 = 21;
/// The delta's count, in the header's last byte: written after the delta itself.
const DTS_SHIFT: u32 = 25;
const HEADER: usize = 4;
/// The kind byte of a switch record ([`Event::encode_switch`]): not a [`Kind`], the wire's own.
pub(crate) const SWITCH: u32 = (1 << KIND_BITS) - 1;
/// A switch record's header: kind and outcome, wait reason, then the byte counts (see
/// [`encode_short`]).
const SWITCH_HEADER: usize = 3;
/// The kind bytes of by-run records ([`Event::encode_by_run`]): a `GoCreate` or a `GoUnblock`
/// by the G running on the recording M.
const CREATE_BY_RUN: u32 = SWITCH - 1;
const UNBLOCK_BY_RUN: u32 = SWITCH - 2;
/// A by-run record's header: kind and the runnext flag (bit 5), then the byte counts (see
/// [`encode_short`]).
const BY_RUN_HEADER: usize = 2;
const _: () = assert!((Kind::Rescue as u32) < UNBLOCK_BY_RUN);

/// How many little-endian bytes `v` needs (0–8). 0 needs none, which is how absent fields cost
/// nothing.
#[inline(always)]
fn width(v: u64) -> u32 {
    (71 - v.leading_zeros()) / 8
}

/// Write all 8 bytes of `v` at `out[at..at + 8]` (little-endian) and return how many of them
/// count; the rest are scratch that the next field or the next event overwrites.
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

impl Event {
    /// Encode this event into `out`, with `dts` (the timestamp's difference from the previous
    /// record in the same buffer, wrapping) in place of `ts`. Returns the length.
    ///
    /// The format (decoded by [`Decoder::next`]): a 4-byte little-endian header — the kind in 5
    /// bits, then the byte count (0–8, 4 bits) of each of `m + 1`, `p + 1` (so that "none" is 0 and
    /// takes no bytes), `g`, `arg`, `aux | aux2 << 8` and the delta — followed by each field's
    /// bytes. Clever for speed: every field is one unaligned 8-byte store and a width computed
    /// from its leading zeros, with no loop and no branch per byte, which is what Go's LEB128
    /// varints cost (the encoding takes about half the instructions). The common events still
    /// take 6–10 bytes.
    #[inline(always)]
    pub(crate) fn encode(&self, dts: u64, out: &mut Encoded) -> usize {
        let m = u64::from(self.m.wrapping_add(1));
        let p = u64::from(self.p.wrapping_add(1));
        let (g, arg) = (self.g, self.arg);
        let aux = u64::from(self.aux) | u64::from(self.aux2) << 8;
        let (wm, wp, wg, wa, wx) = (width(m), width(p), width(g), width(arg), width(aux));
        let head = self.kind as u32
            | wm << M_SHIFT
            | wp << P_SHIFT
            | wg << G_SHIFT
            | wa << ARG_SHIFT
            | wx << AUX_SHIFT;
        // SAFETY (every `put`): the widths are at most 4 (`m`, `p`: u32 values), 8 (`g`, `arg`)
        // and 2 (`aux`), so the stores start at most at 4, 8, 12, 20, 28 and 30 (the delta) and
        // end by 38 = MAX_ENCODED.
        unsafe { put(out, 0, u64::from(head), 0) };
        let mut at = HEADER;
        at += unsafe { put(out, at, m, wm) };
        at += unsafe { put(out, at, p, wp) };
        at += unsafe { put(out, at, g, wg) };
        at += unsafe { put(out, at, arg, wa) };
        at += unsafe { put(out, at, aux, wx) };
        // The delta goes last: the clock read it comes from is slow to deliver (tens of cycles),
        // and with it last the CPU encodes the other fields while it waits. Its count completes
        // the header's last byte.
        let wd = width(dts);
        at += unsafe { put(out, at, dts, wd) };
        out[HEADER - 1].write(((head | wd << DTS_SHIFT) >> 24) as u8);
        at
    }

    /// Encode a run's end and the start of G `g` on the same M and P at the same time as one
    /// record (`buf.rs`: `emit_switch`), which [`Decoder::next`] turns back into the two.
    /// `outcome` and `wait` are the end's `aux` and `aux2`.
    ///
    /// Clever for speed and size: the record leaves out what the reader already knows. The M, the
    /// P and the ended G are those of the last run start in the same buffer (a full `GoStart` or
    /// another switch): runs on one thread never nest, so the run that ended is the one that
    /// started last. The writer makes sure that start is in the same buffer (`buf.rs`: `run_g`).
    /// What remains is a 3-byte header — the kind byte [`SWITCH`] in 5 bits, the outcome in 3,
    /// the wait reason in 8, then the byte counts of `g` and the delta — and those two fields:
    /// 5–7 bytes and about half the instructions of a full record.
    #[inline(always)]
    pub(crate) fn encode_switch(
        outcome: u8,
        wait: u8,
        g: u64,
        dts: u64,
        out: &mut Encoded,
    ) -> usize {
        debug_assert!(outcome < 8, "a run's outcome takes 3 bits");
        let prefix = SWITCH | u32::from(outcome & 7) << KIND_BITS | u32::from(wait) << 8;
        encode_short(prefix, SWITCH_HEADER, g, dts, out)
    }

    /// Is this a G created, or made runnable, by the G running on the recording M (in `arg`)?
    /// Then [`Event::encode_by_run`] can store it.
    #[inline(always)]
    pub(crate) fn is_by_running_g(&self) -> bool {
        self.kind == Kind::GoCreate || (self.kind == Kind::GoUnblock && self.aux == Source::G as u8)
    }

    /// Encode a `GoCreate` or `GoUnblock` by the running G ([`Event::is_by_running_g`]) in the
    /// way of a switch record: the M, the P and the creating or waking G are those of the last
    /// run start in the same buffer — the run in progress, which the writer checks (`buf.rs`:
    /// `run_g`, `run_p`). A 2-byte header (kind, the runnext flag, the byte counts of `g` and the
    /// delta), then those two fields: 4–6 bytes instead of 8–11. G creation and wake-ups are the
    /// events a channel- or spawn-heavy program records most, after run switches.
    #[inline(always)]
    pub(crate) fn encode_by_run(&self, dts: u64, out: &mut Encoded) -> usize {
        debug_assert!(self.is_by_running_g(), "{self:?}");
        let (kind, runnext) = if self.kind == Kind::GoCreate {
            (CREATE_BY_RUN, self.aux)
        } else {
            (UNBLOCK_BY_RUN, self.aux2)
        };
        let prefix = kind | u32::from(runnext & FLAG_RUNNEXT) << KIND_BITS;
        encode_short(prefix, BY_RUN_HEADER, self.g, dts, out)
    }
}

/// The layout the short records share ([`Event::encode_switch`], [`Event::encode_by_run`]): a
/// `header`-byte header — `prefix` (the kind byte and what the record keeps of its own) in the
/// first `header - 1` bytes, then one byte with the byte counts of `g` (low nibble) and of the
/// delta (high nibble) — then those two fields.
#[inline(always)]
fn encode_short(prefix: u32, header: usize, g: u64, dts: u64, out: &mut Encoded) -> usize {
    debug_assert!((2..=4).contains(&header) && u64::from(prefix) >> (8 * (header - 1)) == 0);
    let (wg, wd) = (width(g), width(dts));
    let head = u64::from(prefix) | u64::from(wg | wd << 4) << (8 * (header - 1));
    // SAFETY: the header's 8 bytes (scratch past `header`, overwritten next), then `g` from
    // `header` (at most 4) and the delta from at most `header + 8`, end by 20 <= MAX_ENCODED.
    unsafe { put(out, 0, head, 0) };
    let mut at = header;
    at += unsafe { put(out, at, g, wg) };
    at += unsafe { put(out, at, dts, wd) };
    at
}

/// The state of one buffer's reader: what the records leave implied.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Decoder {
    /// The previous record's timestamp (deltas are from it).
    prev_ts: u64,
    /// `(m, p, g)` of the last run start read: a switch record's M, P and ended G.
    run: Option<(u32, u32, u64)>,
}

impl Decoder {
    /// A reader at the start of a buffer.
    pub(crate) fn new() -> Decoder {
        Decoder::default()
    }

    /// A short record ([`encode_short`]) at `bytes[*i..]`, advancing `*i`: its header's prefix,
    /// its `g` and its time.
    fn short(&self, bytes: &[u8], i: &mut usize, header: usize) -> Option<(u32, u64, u64)> {
        let head = get(bytes, i, header)?;
        let counts = head >> (8 * (header - 1));
        let g = get(bytes, i, (counts & 15) as usize)?;
        let dts = get(bytes, i, (counts >> 4) as usize)?;
        let prefix = head & ((1 << (8 * (header - 1))) - 1);
        Some((prefix as u32, g, self.prev_ts.wrapping_add(dts)))
    }

    /// Decode the record at `bytes[*at..]`, advancing `*at`. `None` if the bytes are not a whole
    /// record (or a switch record comes before any run start), which for a buffer the tracer
    /// wrote itself means a bug.
    ///
    /// A switch record ([`Event::encode_switch`]) decodes into its two events, end first.
    pub(crate) fn next(&mut self, bytes: &[u8], at: &mut usize) -> Option<(Event, Option<Event>)> {
        let mut i = *at;
        let wire = u32::from(*bytes.get(i)?) & ((1 << KIND_BITS) - 1);
        if wire == SWITCH {
            let (head, g, ts) = self.short(bytes, &mut i, SWITCH_HEADER)?;
            let (m, p, ended) = self.run?;
            let start = Event {
                ts,
                m,
                p,
                ..Event::new(Kind::GoStart).g(g)
            };
            let end = Event {
                kind: Kind::GoEnd,
                g: ended,
                arg: u64::from(p),
                aux: (head >> KIND_BITS) as u8 & 7,
                aux2: (head >> 8) as u8,
                ..start
            };
            self.run = Some((m, p, g));
            self.prev_ts = ts;
            *at = i;
            return Some((end, Some(start)));
        }
        if wire == CREATE_BY_RUN || wire == UNBLOCK_BY_RUN {
            let (head, g, ts) = self.short(bytes, &mut i, BY_RUN_HEADER)?;
            let (m, p, by) = self.run?;
            let runnext = (head >> KIND_BITS) as u8 & FLAG_RUNNEXT;
            let ev = Event {
                ts,
                m,
                p,
                ..Event::new(Kind::GoCreate)
            }
            .g(g)
            .arg(by);
            let ev = if wire == CREATE_BY_RUN {
                ev.aux(runnext, 0)
            } else {
                Event {
                    kind: Kind::GoUnblock,
                    ..ev
                }
                .aux(Source::G as u8, runnext)
            };
            self.prev_ts = ts;
            *at = i;
            return Some((ev, None));
        }
        let head = get(bytes, &mut i, HEADER)? as u32;
        let kind = Kind::from_u8((head & ((1 << KIND_BITS) - 1)) as u8)?;
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
        self.prev_ts = ev.ts;
        *at = i;
        Some((ev, None))
    }
}

/// A P or M index as stored in an event; `usize::MAX` (the runtime's "none") becomes [`NONE`].
pub(crate) fn id32(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(NONE)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bytes `encode` writes.
    fn encoded(ev: &Event, dts: u64) -> Vec<u8> {
        let mut out: Encoded = [MaybeUninit::new(0); MAX_ENCODED];
        let n = ev.encode(dts, &mut out);
        // SAFETY: every byte was initialised above (to 0 or by `encode`).
        out[..n]
            .iter()
            .map(|b| unsafe { b.assume_init() })
            .collect()
    }

    #[test]
    fn an_event_fits_in_forty_bytes() {
        assert!(std::mem::size_of::<Event>() <= 40);
    }

    #[test]
    fn every_kind_byte_round_trips() {
        for v in 0..=u8::MAX {
            if let Some(k) = Kind::from_u8(v) {
                assert_eq!(k as u8, v);
            }
        }
        assert_eq!(Kind::from_u8(Kind::Rescue as u8), Some(Kind::Rescue));
        assert_eq!(Kind::from_u8(Kind::Rescue as u8 + 1), None);
    }

    #[test]
    fn events_round_trip_through_the_wire_format() {
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut bytes = Vec::new();
        let mut want = Vec::new();
        let mut ts = 0u64;
        for i in 0..2_000u64 {
            let r = next();
            // Mix small, large, zero and "none" values, and timestamps that step backwards.
            // Every width from 0 to 8 bytes, and the edges of each.
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
            let ev = Event {
                ts: if i % 7 == 3 {
                    ts.wrapping_sub(r & 0xfff)
                } else {
                    ts + (r & 0xffff)
                },
                g: pick(r, 0),
                arg: pick(next(), 8),
                m: [NONE, 0, 3, u32::MAX - 1][(r >> 20) as usize & 3],
                p: [NONE, 0, 1, 70_000][(r >> 24) as usize & 3],
                kind: Kind::from_u8((r % 18) as u8).unwrap_or(Kind::Nop),
                aux: (r >> 32) as u8 & 1,
                aux2: (r >> 40) as u8 & 3,
            };
            bytes.extend_from_slice(&encoded(&ev, ev.ts.wrapping_sub(ts)));
            ts = ev.ts;
            want.push(ev);
        }
        let (mut at, mut dec, mut got) = (0, Decoder::new(), Vec::new());
        while at < bytes.len() {
            let (ev, second) = dec.next(&bytes, &mut at).expect("a whole event");
            assert_eq!(second, None);
            got.push(ev);
        }
        assert_eq!(got, want);
    }

    #[test]
    fn common_events_are_small_and_truncated_ones_do_not_decode() {
        let ev = Event::new(Kind::GoStart).m(1).p(0).g(4_000);
        let out = encoded(&ev, 300);
        assert!(out.len() <= 10, "GoStart took {} bytes", out.len());
        for cut in 0..out.len() {
            assert_eq!(Decoder::new().next(&out[..cut], &mut 0), None);
        }
        let mut max = Event::new(Kind::GoEnd)
            .m(u32::MAX as usize - 1)
            .p(u32::MAX as usize - 1)
            .g(u64::MAX);
        max = max.arg(u64::MAX).aux(255, 255);
        assert_eq!(encoded(&max, u64::MAX).len(), MAX_ENCODED);
    }

    /// The bytes of a switch record.
    fn switch_bytes(outcome: Outcome, wait: u8, g: u64, dts: u64) -> Vec<u8> {
        let mut out: Encoded = [MaybeUninit::new(0); MAX_ENCODED];
        let n = Event::encode_switch(outcome as u8, wait, g, dts, &mut out);
        // SAFETY: every byte was initialised above (to 0 or by `encode_switch`).
        out[..n]
            .iter()
            .map(|b| unsafe { b.assume_init() })
            .collect()
    }

    #[test]
    fn a_run_end_and_the_next_start_share_one_record() {
        let at = |ts, ev: Event| Event { ts, ..ev };
        let start = |g| Event::new(Kind::GoStart).m(2).p(1).g(g);
        let end = |g, outcome: Outcome, wait| {
            Event::new(Kind::GoEnd)
                .m(2)
                .p(1)
                .g(g)
                .arg(1)
                .aux(outcome as u8, wait)
        };
        // A full start of G41, then two switches: 41 yields to 42 at 900, 42 parks (wait
        // reason 1) and 300 000 G ids later G300042 starts at 70 000.
        let mut bytes = encoded(&at(100, start(41)), 100);
        let first = switch_bytes(Outcome::Yield, 0, 42, 800);
        let second = switch_bytes(Outcome::Parked, 1, 300_042, 70_000 - 900);
        assert!(first.len() <= 6, "a switch took {} bytes", first.len());
        assert!(first.len() < encoded(&end(41, Outcome::Yield, 0), 0).len());
        bytes.extend_from_slice(&first);
        bytes.extend_from_slice(&second);
        let (mut pos, mut dec, mut got) = (0, Decoder::new(), Vec::new());
        while pos < bytes.len() {
            let (ev, next) = dec.next(&bytes, &mut pos).expect("a whole record");
            got.push(ev);
            got.extend(next);
        }
        assert_eq!(
            got,
            vec![
                at(100, start(41)),
                at(900, end(41, Outcome::Yield, 0)),
                at(900, start(42)),
                at(70_000, end(42, Outcome::Parked, 1)),
                at(70_000, start(300_042)),
            ]
        );
        // A cut switch record is not a record; nor is a switch with no run start before it.
        for cut in 0..first.len() {
            let mut dec = Decoder::new();
            dec.next(&bytes, &mut 0).expect("the start");
            let mut buf = bytes[..bytes.len() - second.len() - first.len()].to_vec();
            buf.extend_from_slice(&first[..cut]);
            let mut pos = bytes.len() - second.len() - first.len();
            assert_eq!(dec.next(&buf, &mut pos), None, "cut at {cut}");
        }
        assert_eq!(Decoder::new().next(&first, &mut 0), None);
    }

    #[test]
    fn a_create_or_wake_by_the_running_g_leaves_its_ids_implied() {
        let at = |ts, ev: Event| Event { ts, ..ev };
        let start = at(100, Event::new(Kind::GoStart).m(3).p(1).g(41));
        let create = at(
            150,
            Event::new(Kind::GoCreate)
                .m(3)
                .p(1)
                .g(70_000)
                .arg(41)
                .aux(FLAG_RUNNEXT, 0),
        );
        let wake = at(
            400,
            Event::new(Kind::GoUnblock)
                .m(3)
                .p(1)
                .g(9)
                .arg(41)
                .aux(Source::G as u8, FLAG_RUNNEXT),
        );
        let plain_wake = Event {
            aux2: 0,
            ..at(401, wake)
        };
        let timer_wake = at(402, wake.arg(0).aux(Source::Timers as u8, 0));
        assert!(create.is_by_running_g() && wake.is_by_running_g());
        assert!(!timer_wake.is_by_running_g() && !start.is_by_running_g());
        let by_run = |ev: &Event, dts| {
            let mut out: Encoded = [MaybeUninit::new(0); MAX_ENCODED];
            let n = ev.encode_by_run(dts, &mut out);
            // SAFETY: every byte was initialised above.
            out[..n]
                .iter()
                .map(|b| unsafe { b.assume_init() })
                .collect::<Vec<u8>>()
        };
        let mut bytes = encoded(&start, 100);
        let c = by_run(&create, 50);
        assert!(c.len() <= 6, "a create took {} bytes", c.len());
        assert!(c.len() < encoded(&create, 50).len());
        bytes.extend_from_slice(&c);
        bytes.extend_from_slice(&by_run(&wake, 250));
        bytes.extend_from_slice(&by_run(&plain_wake, 1));
        bytes.extend_from_slice(&encoded(&timer_wake, 1));
        let (mut pos, mut dec, mut got) = (0, Decoder::new(), Vec::new());
        while pos < bytes.len() {
            let (ev, next) = dec.next(&bytes, &mut pos).expect("a whole record");
            assert_eq!(next, None);
            got.push(ev);
        }
        assert_eq!(got, vec![start, create, wake, plain_wake, timer_wake]);
        // Cut short, or with no run start before it, it is not a record.
        for cut in 0..c.len() {
            let mut dec = Decoder::new();
            let mut buf = encoded(&start, 100);
            let mut pos = 0;
            dec.next(&buf, &mut pos).expect("the start");
            buf.extend_from_slice(&c[..cut]);
            assert_eq!(dec.next(&buf, &mut pos), None, "cut at {cut}");
        }
        assert_eq!(Decoder::new().next(&c, &mut 0), None);
    }

    #[test]
    fn none_ids_survive_the_narrowing() {
        assert_eq!(id32(usize::MAX), NONE);
        assert_eq!(id32(7), 7);
        assert_eq!(Event::new(Kind::GoStart).p(usize::MAX).p, NONE);
    }

    #[test]
    fn byte_encodings_round_trip() {
        for o in [
            Outcome::Parked,
            Outcome::Yield,
            Outcome::Preempted,
            Outcome::Requeued,
            Outcome::Complete,
        ] {
            assert_eq!(Outcome::from_u8(o as u8), o);
        }
        for s in [
            Source::G,
            Source::Timers,
            Source::Netpoll,
            Source::Sched,
            Source::Sysmon,
            Source::External,
        ] {
            assert_eq!(Source::from_u8(s as u8), s);
        }
    }
}
