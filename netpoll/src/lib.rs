//! Stand-in netpoller (wake/timeout only) until the real crate lands; same public signatures.
use std::io;
use std::sync::{Condvar, Mutex};
use std::task::Waker;
use std::time::Duration;

pub struct Poller {
    woken: Mutex<bool>,
    cv: Condvar,
}

impl Poller {
    pub fn new() -> io::Result<Poller> {
        Ok(Poller {
            woken: Mutex::new(false),
            cv: Condvar::new(),
        })
    }

    pub fn poll(&self, timeout: Option<Duration>, _ready: &mut Vec<Waker>) -> io::Result<usize> {
        let mut w = self.woken.lock().unwrap_or_else(|e| e.into_inner());
        match timeout {
            Some(d) if d.is_zero() => {}
            Some(d) => {
                if !*w {
                    w = self
                        .cv
                        .wait_timeout(w, d)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            }
            None => {
                while !*w {
                    w = self.cv.wait(w).unwrap_or_else(|e| e.into_inner());
                }
            }
        }
        *w = false;
        Ok(0)
    }

    pub fn wake(&self) -> io::Result<()> {
        *self.woken.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.cv.notify_one();
        Ok(())
    }

    pub fn waiters(&self) -> usize {
        0
    }
}
