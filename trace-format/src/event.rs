//! What the tracer records: one [`Event`] per scheduler transition (Go's event types in
//! runtime/trace.go and internal/trace: `traceEvGoCreate`, `traceEvGoStart`, ...).
//!
//! In code an event is a plain `Copy` struct; how it is laid out in the tracer's buffers is
//! `wire.rs`. Which thread recorded an event is not a field: every buffer belongs to one thread,
//! and a decoded trace pairs each event with its thread (`file.rs`).
//!
//! Where this differs from Go: Go's events name the wait reason, the stack and other strings
//! through a string table in the trace; here the few words a trace needs (Go's wait reasons) are a
//! fixed table, [`wait_reason`], so an event is a handful of integers.

/// "No P" / "no M" in the `p` and `m` fields.
pub const NONE: u32 = u32::MAX;

/// What happened. The comment of each variant says which fields it uses; unused ones are 0/NONE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
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
    /// wait reason byte if parked ([`wait_reason`]), `arg` = the P still owned afterwards (NONE if
    /// it was taken).
    GoEnd,
    /// A work steal. `m`, `p` = thief, `arg` = victim, `g` = number of Gs taken.
    Steal,
    /// The netpoller returned ready Gs. `m` (or NONE on sysmon), `g` = how many.
    NetpollBatch,
    /// A G was created (Go's `GoCreate`). `m`/`p` of the creator (NONE off an M), `g`,
    /// `arg` = parent G (0 = none), `aux` = [`FLAG_RUNNEXT`] if it went to the creator's runnext.
    /// Recorded once the G is queued, so another M may start it a moment before.
    GoCreate,
    /// A parked G became runnable (Go's `GoUnblock`). `m`/`p` of the waker, `g`, `arg` = the
    /// waking G (0 = none), `aux` = [`Source`], `aux2` = [`FLAG_RUNNEXT`]. Recorded once the G
    /// is queued, like `GoCreate`.
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
    /// A user task began (Go's `trace.NewTask`). `m`/`p` of the recording thread (the G is the
    /// one running there), `g` = task id, `arg` = [`pack`]`(name string, parent task id)`.
    UserTaskBegin,
    /// A user task ended (`Task.End`). `m`, `p`, `g` = task id.
    UserTaskEnd,
    /// A user region began in the running G (Go's `trace.WithRegion` / `StartRegion`). `m`,
    /// `p`, `g` = task id (0 = none), `arg` = the name's string id.
    UserRegionBegin,
    /// The region ended. As [`Kind::UserRegionBegin`].
    UserRegionEnd,
    /// A user log message (Go's `trace.Log`). `m`, `p`, `g` = task id (0 = none),
    /// `arg` = [`pack`]`(category string, message string)`.
    UserLog,
    /// A G was given a label (its name, where it was spawned). `g`, `arg` = the label's string id.
    GoLabel,
}

/// Two 32-bit values in one `arg` (string ids and task ids of the user annotations): `lo` in
/// the low half.
pub fn pack(lo: u64, hi: u64) -> u64 {
    (lo & 0xffff_ffff) | hi << 32
}

/// The two halves of a [`pack`]ed `arg`: (low, high).
pub fn unpack(arg: u64) -> (u64, u64) {
    (arg & 0xffff_ffff, arg >> 32)
}

impl Kind {
    /// Every kind, in byte order.
    pub const ALL: [Kind; 24] = [
        Kind::Nop,
        Kind::MStart,
        Kind::MStop,
        Kind::MPark,
        Kind::MUnpark,
        Kind::ProcStart,
        Kind::ProcStop,
        Kind::GoStart,
        Kind::GoEnd,
        Kind::Steal,
        Kind::NetpollBatch,
        Kind::GoCreate,
        Kind::GoUnblock,
        Kind::SyscallEnter,
        Kind::SyscallExit,
        Kind::PreemptRequest,
        Kind::Handoff,
        Kind::Rescue,
        Kind::UserTaskBegin,
        Kind::UserTaskEnd,
        Kind::UserRegionBegin,
        Kind::UserRegionEnd,
        Kind::UserLog,
        Kind::GoLabel,
    ];

    /// The kind with this byte, if any.
    pub fn from_u8(v: u8) -> Option<Kind> {
        Kind::ALL.get(usize::from(v)).copied()
    }
}

/// How a G's run ended (`GoEnd.aux`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Outcome {
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
    pub fn from_u8(v: u8) -> Outcome {
        match v {
            0 => Outcome::Parked,
            1 => Outcome::Yield,
            2 => Outcome::Preempted,
            3 => Outcome::Requeued,
            _ => Outcome::Complete,
        }
    }

    /// The word written in the trace's `end` argument.
    pub fn as_str(self) -> &'static str {
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
pub enum Source {
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
    pub fn from_u8(v: u8) -> Source {
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
pub const FLAG_RUNNEXT: u8 = 1;

/// Go's wait-reason words (runtime2.go `waitReasonStrings`), by the byte the runtime records
/// (`gort::WaitReason as u8`, whose `as_str` has the same words; a test in the runtime checks
/// that they agree). 0 is "no reason".
const WAIT_REASONS: [&str; 16] = [
    "",
    "chan receive",
    "chan send",
    "select",
    "IO wait",
    "sleep",
    "sync.Mutex.Lock",
    "sync.RWMutex.RLock",
    "sync.RWMutex.Lock",
    "semacquire",
    "sync.Cond.Wait",
    "sync.WaitGroup.Wait",
    "chan receive (nil chan)",
    "syscall",
    "join",
    "chan send (nil chan)",
];

/// The word of a wait-reason byte (`GoEnd.aux2`); "" for none or an unknown byte.
pub fn wait_reason(v: u8) -> &'static str {
    WAIT_REASONS.get(usize::from(v)).copied().unwrap_or("")
}

/// One trace event. `ts` is a time: raw clock ticks while recorded, nanoseconds since the trace
/// started once decoded (`file.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    pub ts: u64,
    pub g: u64,
    pub arg: u64,
    pub m: u32,
    pub p: u32,
    pub kind: Kind,
    pub aux: u8,
    pub aux2: u8,
}

impl Event {
    /// An event of `kind` with every field empty (0, or NONE for `m` and `p`).
    #[inline(always)]
    pub const fn new(kind: Kind) -> Event {
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

    /// With M `m` (`usize::MAX`, the runtime's "none", becomes [`NONE`]).
    #[inline(always)]
    pub fn m(mut self, m: usize) -> Event {
        self.m = id32(m);
        self
    }

    /// With P `p` (`usize::MAX` becomes [`NONE`]).
    #[inline(always)]
    pub fn p(mut self, p: usize) -> Event {
        self.p = id32(p);
        self
    }

    #[inline(always)]
    pub fn g(mut self, g: u64) -> Event {
        self.g = g;
        self
    }

    #[inline(always)]
    pub fn arg(mut self, arg: u64) -> Event {
        self.arg = arg;
        self
    }

    #[inline(always)]
    pub fn aux(mut self, aux: u8, aux2: u8) -> Event {
        self.aux = aux;
        self.aux2 = aux2;
        self
    }

    /// At time `ts`.
    #[inline(always)]
    pub fn at(mut self, ts: u64) -> Event {
        self.ts = ts;
        self
    }
}

/// A P or M index as stored in an event; `usize::MAX` (the runtime's "none") becomes [`NONE`].
#[inline(always)]
pub fn id32(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(NONE)
}

/// The prefix of a `GoLabel` that marks a runtime-internal G (Go's `isSystemGoroutine`): the runtime
/// labels its own Gs `system: <name>`, and the goroutine analysis lists them after the user's.
pub const SYSTEM_LABEL: &str = "system: ";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_fits_in_forty_bytes() {
        assert!(std::mem::size_of::<Event>() <= 40);
    }

    #[test]
    fn every_kind_byte_round_trips() {
        for (i, k) in Kind::ALL.iter().enumerate() {
            assert_eq!(*k as usize, i);
            assert_eq!(Kind::from_u8(i as u8), Some(*k));
        }
        assert_eq!(Kind::from_u8(Kind::ALL.len() as u8), None);
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
        assert_eq!(wait_reason(1), "chan receive");
        assert_eq!(wait_reason(0), "");
        assert_eq!(wait_reason(200), "");
    }
}
