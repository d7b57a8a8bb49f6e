//! Shared building blocks that are not themselves a Go concept: the loom shim every concurrent
//! structure imports its atomics from, per-thread random numbers, the one FIFO list of parked waiters
//! that channels and the semaphore share, and the helpers unit tests use to poll futures by hand.

pub(crate) mod loom;
pub(crate) mod rand;
pub(crate) mod waitq;

#[cfg(test)]
pub(crate) mod test_util;
