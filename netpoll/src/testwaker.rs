//! Test-only: a Waker that counts its wakes, standing in for a scheduler in unit tests and loom models.
//! Its counter comes from the loom shim, so loom tracks it like the code under test.

use std::task::{Wake, Waker};

use crate::loom::sync::atomic::{AtomicUsize, Ordering::*};

pub(crate) struct Count(AtomicUsize);

impl Count {
    pub(crate) fn get(&self) -> usize {
        self.0.load(Acquire)
    }
}

impl Wake for Count {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, AcqRel);
    }
}

/// A fresh Waker and the counter it bumps.
pub(crate) fn counting_waker() -> (std::sync::Arc<Count>, Waker) {
    let count = std::sync::Arc::new(Count(AtomicUsize::new(0)));
    (count.clone(), Waker::from(count))
}
