//! Where poll descriptors live, and how an event finds its descriptor. Mirrors Go's `pollCache`
//! (`pollcache.alloc` / `free`) and the tagged event data of `netpollopen` (runtime/netpoll.go,
//! netpoll_epoll.go: `taggedPointerPack(pd, pd.fdseq)`).
//!
//! Each registered fd gets a slot in a [`Slab`]; the kernel hands back a [`Token`] with every event, made of
//! the slot's key in the low bits and a sequence number in the high bits:
//!
//! ```text
//!   bit  63 | 62 ......... 32 | 31 ......... 0      (64-bit; half and half minus one on 32-bit)
//!        0  |  sequence       |  slab key
//! ```
//!
//! An fd can still have events queued in the kernel after its descriptor is freed, and the slab hands the
//! freed slot to the next registration. The sequence number makes such a stale event miss: it names the
//! slot *and* the registration, so it can never wake the waiter of a newer fd in the same slot. The top bit
//! stays clear so no descriptor token equals [`WAKE_TOKEN`].
//!
//! ## Where this differs from Go and why
//! Go never frees pollDesc memory (the cache is not garbage collected, and epoll may still hold a pointer);
//! it bumps a per-descriptor `fdseq` on reuse and packs pointer plus tag. We store an index instead of a
//! pointer, so a stale event can look up a slot safely, and one global sequence counter replaces per-slot
//! ones: a stale event would need the same slot reused after exactly 2^31 registrations (2^15 on 32-bit)
//! while it sat unread in the kernel.

use std::io;

use mio::Token;
use slab::Slab;

use crate::loom::sync::Arc;
use crate::polldesc::PdCore;

const KEY_BITS: u32 = usize::BITS / 2;
const KEY_MASK: usize = (1 << KEY_BITS) - 1;
const SEQ_MASK: usize = (1 << (usize::BITS - KEY_BITS - 1)) - 1;

/// The token of the poller's own wake-up event (Go's `netpollEventFd`).
pub(crate) const WAKE_TOKEN: Token = Token(usize::MAX);

struct Entry {
    seq: usize,
    core: Arc<PdCore>,
}

/// Live poll descriptors, keyed by token. Guarded by a mutex in [`crate::netpoll::Shared`].
pub(crate) struct PollCache {
    slab: Slab<Entry>,
    next_seq: usize,
}

impl PollCache {
    pub(crate) fn new() -> PollCache {
        PollCache {
            slab: Slab::new(),
            next_seq: 0,
        }
    }

    /// Go's `pollcache.alloc`: a slot for `core`, and the token its events will carry.
    pub(crate) fn alloc(&mut self, core: Arc<PdCore>) -> io::Result<Token> {
        let slot = self.slab.vacant_entry();
        let key = slot.key();
        if key > KEY_MASK {
            return Err(io::Error::new(
                io::ErrorKind::OutOfMemory,
                "netpoll: too many registered descriptors",
            ));
        }
        let seq = self.next_seq;
        self.next_seq = (seq + 1) & SEQ_MASK;
        slot.insert(Entry { seq, core });
        Ok(Token(key | seq << KEY_BITS))
    }

    /// The live descriptor `token` names, or `None` if the event is stale.
    pub(crate) fn get(&self, token: Token) -> Option<&PdCore> {
        let (key, seq) = split(token);
        match self.slab.get(key) {
            Some(e) if e.seq == seq => Some(&e.core),
            _ => None,
        }
    }

    /// Go's `pollcache.free`. Freeing twice, or a token whose slot has been reused, does nothing. The
    /// descriptor is handed back so the caller can drop it after releasing the cache's lock (dropping it
    /// may drop Wakers, which run foreign code).
    pub(crate) fn free(&mut self, token: Token) -> Option<Arc<PdCore>> {
        self.get(token)?;
        Some(self.slab.remove(split(token).0).core)
    }

    pub(crate) fn len(&self) -> usize {
        self.slab.len()
    }

    /// Every live descriptor (for [`Poller::unblock_all`](crate::Poller::unblock_all)).
    pub(crate) fn all(&self) -> Vec<Arc<PdCore>> {
        self.slab.iter().map(|(_, e)| e.core.clone()).collect()
    }
}

pub(crate) fn split(token: Token) -> (usize, usize) {
    (token.0 & KEY_MASK, token.0 >> KEY_BITS)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::time::Instant;

    fn core() -> Arc<PdCore> {
        Arc::new(PdCore::new(Instant::now()))
    }

    #[test]
    fn reused_slot_gets_a_new_token_and_the_old_one_goes_stale() {
        let mut cache = PollCache::new();
        let old = cache.alloc(core()).unwrap();
        assert!(cache.free(old).is_some());
        let new = cache.alloc(core()).unwrap();
        assert_eq!(split(old).0, split(new).0, "slab reuses the freed slot");
        assert_ne!(old, new);
        assert!(cache.get(old).is_none());
        assert!(cache.get(new).is_some());
        assert!(
            cache.free(old).is_none(),
            "a stale free must not free the new descriptor"
        );
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn descriptor_tokens_never_collide_with_the_wake_token() {
        let mut cache = PollCache::new();
        cache.next_seq = SEQ_MASK;
        let t = cache.alloc(core()).unwrap();
        assert_ne!(t, WAKE_TOKEN);
        assert_eq!(split(t).1, SEQ_MASK);
        assert_eq!(cache.next_seq, 0, "the sequence wraps within its bits");
    }
}
