//! The tracer's record: one fixed-size, `Copy` event per scheduler transition (Go's
//! runtime/trace.go event types `traceEvGoCreate`, `traceEvGoStart`, ...; runtime/traceevent.go).
//!
//! Go encodes events as variable-length varints into per-M byte buffers; we keep a plain struct,
//! because the buffers are read back in-process and turned into Chrome Trace Event JSON
//! (`chrome.rs`) rather than shipped to an offline parser: 40 bytes an event is simple to reason
//! about, and copying one into a buffer slot is a few stores.
//!
//! Which thread recorded an event is not a field: every buffer belongs to one thread (`buf.rs`).

// Under loom the recorder is compiled out and only `Kind` is used.
#![cfg_attr(loom, allow(dead_code))]

/// "No P" / "no M" in the `p` and `m` fields.
pub(crate) const NONE: u32 = u32::MAX;

/// What happened. The comment of each variant says which fields it uses; unused ones are 0/NONE.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Kind {
    #[default]
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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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
    pub(crate) fn new(kind: Kind) -> Event {
        Event {
            kind,
            m: NONE,
            p: NONE,
            ..Event::default()
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

/// A P or M index as stored in an event; `usize::MAX` (the runtime's "none") becomes [`NONE`].
pub(crate) fn id32(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(NONE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_fits_in_forty_bytes() {
        assert!(std::mem::size_of::<Event>() <= 40);
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
