//! The G (skeleton: the real G lands with the executor).

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
}

/// Record why the running G is about to return `Pending`. Call right before returning `Pending` from a
/// runtime primitive; a no-op outside a G.
#[inline]
pub(crate) fn set_waitreason(_r: WaitReason) {}
