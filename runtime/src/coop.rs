//! Preemption points (skeleton: the real check lands with the executor and sysmon).

use std::task::{Context, Poll};

/// A preemption point for runtime primitives: call at the top of every `poll` of a channel, sync or I/O
/// operation, before doing the operation. `Pending` means "sysmon asked this G to yield; the G has been
/// rescheduled, return Pending now and do nothing else".
#[inline]
pub(crate) fn poll_preempt(_cx: &mut Context<'_>) -> Poll<()> {
    Poll::Ready(())
}
