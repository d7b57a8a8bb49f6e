//! Why a G is waiting: Go's `waitReason`, printed by scheddetail and the tracer.
//!
//! Mirrors runtime/runtime2.go: `waitReason` and `waitReasonStrings` (the words are Go's), and the
//! `reason` argument of runtime/proc.go: `gopark`, which stores it in `gp.waitreason`.
//!
//! # Where this differs from Go
//! A Go G parks by calling `gopark(..., reason, ...)`. Here it parks by returning `Pending`, which
//! carries no reason, so a runtime primitive calls [`set_waitreason`] right before returning
//! `Pending`. The reason is stored twice: on the M, for the tracer's record of how the run ended, and
//! in the G's header, for scheddetail. Each run starts with it cleared, so a future that parks on
//! anything but gort's own primitives shows no reason.

use crate::util::loom::sync::atomic::Ordering;

/// Why a G is waiting: Go's `waitReason` words (runtime2.go), printed by scheddetail and the tracer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum WaitReason {
    None = 0,
    ChanReceive,
    ChanSend,
    Select,
    IoWait,
    Sleep,
    MutexLock,
    RwLockRLock,
    RwLockWLock,
    Semacquire,
    CondWait,
    WaitGroupWait,
    ChanReceiveNilChan,
    Syscall,
    JoinWait,
    ChanSendNilChan,
}

impl WaitReason {
    /// Go's wording, as `GODEBUG=scheddetail=1` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            WaitReason::None => "",
            WaitReason::ChanReceive => "chan receive",
            WaitReason::ChanSend => "chan send",
            WaitReason::Select => "select",
            WaitReason::IoWait => "IO wait",
            WaitReason::Sleep => "sleep",
            WaitReason::MutexLock => "sync.Mutex.Lock",
            WaitReason::RwLockRLock => "sync.RWMutex.RLock",
            WaitReason::RwLockWLock => "sync.RWMutex.Lock",
            WaitReason::Semacquire => "semacquire",
            WaitReason::CondWait => "sync.Cond.Wait",
            WaitReason::WaitGroupWait => "sync.WaitGroup.Wait",
            WaitReason::ChanReceiveNilChan => "chan receive (nil chan)",
            WaitReason::Syscall => "syscall",
            WaitReason::JoinWait => "join",
            WaitReason::ChanSendNilChan => "chan send (nil chan)",
        }
    }

    /// The reason with this byte (`None` for an unknown one); the G header and the tracer keep
    /// the byte.
    pub(crate) fn from_u8(v: u8) -> WaitReason {
        const ALL: [WaitReason; 16] = [
            WaitReason::None,
            WaitReason::ChanReceive,
            WaitReason::ChanSend,
            WaitReason::Select,
            WaitReason::IoWait,
            WaitReason::Sleep,
            WaitReason::MutexLock,
            WaitReason::RwLockRLock,
            WaitReason::RwLockWLock,
            WaitReason::Semacquire,
            WaitReason::CondWait,
            WaitReason::WaitGroupWait,
            WaitReason::ChanReceiveNilChan,
            WaitReason::Syscall,
            WaitReason::JoinWait,
            WaitReason::ChanSendNilChan,
        ];
        ALL.get(v as usize).copied().unwrap_or(WaitReason::None)
    }
}

/// Record why the running G is about to return `Pending`. Runtime primitives call this right before
/// returning `Pending`; it is a no-op outside a G.
#[inline]
pub(crate) fn set_waitreason(r: WaitReason) {
    crate::sched::getg::with_curm(|ctx| ctx.waitreason.set(r));
    crate::sched::getg::with_curg(|g| g.waitreason.store(r as u8, Ordering::Relaxed));
}
