//! An M's parking spot: Go's `note` (runtime/lock_futex.go: notesleep, notewakeup, noteclear).
//!
//! A one-shot event: `wakeup` sets it, `sleep` waits until it is set, the sleeper clears it before the
//! next use. An idle M sleeps on its note in `stopm`; `startm` hands it a P and calls `wakeup`.
//! Go builds notes on futexes directly; a mutex and condition variable give the same guarantees
//! (no lost wake-up: `wakeup` before `sleep` makes `sleep` return at once) in portable code.

use std::time::Duration;

use crate::util::loom::sync::{Condvar, Mutex};

pub(crate) struct Note {
    set: Mutex<bool>,
    cv: Condvar,
}

impl Note {
    pub(crate) fn new() -> Note {
        Note {
            set: Mutex::new(false),
            cv: Condvar::new(),
        }
    }

    /// Block until `wakeup` (which may already have happened), then clear the note.
    pub(crate) fn sleep(&self) {
        let mut set = crate::util::loom::lock(&self.set);
        while !*set {
            set = match self.cv.wait(set) {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
        }
        *set = false;
    }

    /// Like `sleep`, but give up after `timeout`. Returns true if woken, false on timeout.
    #[cfg(not(loom))]
    pub(crate) fn sleep_timeout(&self, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        let mut set = crate::util::loom::lock(&self.set);
        while !*set {
            let now = std::time::Instant::now();
            if now >= deadline {
                return false;
            }
            set = match self.cv.wait_timeout(set, deadline - now) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
        *set = false;
        true
    }

    #[cfg(loom)]
    pub(crate) fn sleep_timeout(&self, _timeout: Duration) -> bool {
        let mut set = crate::util::loom::lock(&self.set);
        let woken = *set;
        *set = false;
        woken
    }

    pub(crate) fn wakeup(&self) {
        *crate::util::loom::lock(&self.set) = true;
        self.cv.notify_one();
    }
}
