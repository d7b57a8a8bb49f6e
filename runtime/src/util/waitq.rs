//! The one list of parked waiters: Go's `waitq` (runtime/chan.go: `waitq.enqueue`, `waitq.dequeue`,
//! `dequeueSudoG`) and the wait queue of a `semaRoot` (runtime/sema.go: `semaRoot.queue`,
//! `semaRoot.dequeue`), which in Go are both lists of `sudog`s. Channels keep one per direction
//! (`chan/hchan.rs`), the runtime semaphore one per `Sema` (`sync/sema.rs`), `sync.Cond` one per
//! `notifyList` (`sync/notify_list.rs`), and the weighted semaphore one (`sync/semaphore.rs`).
//! Also [`WakeList`], the wakers a lock holder collects to call after unlocking.
//!
//! ```text
//!   head ─► [a] ⇄ [b] ⇄ [c] ◄─ tail      linked: in the queue, in order
//!           [d]                          unlinked: taken off (dequeued, skipped, ...) but still in
//!                                        the slab, holding whatever the waker left for its owner
//! ```
//!
//! A `WaitList<T>` is a doubly linked FIFO whose nodes live in a `slab::Slab`, linked by slab keys; `T`
//! is the per-waiter payload each user needs (a channel's `Sudog`, the semaphore's waker and state).
//! It has what every user needs in O(1), and nothing allocates once the slab has grown to the most
//! waiters ever parked at once:
//! - `push_back` (Go's `enqueue`), or `push(val, lifo)` at the front (`semacquire1` with `lifo`);
//! - `pop_front`, and `dequeue`, which passes over waiters that can no longer be completed (a `select`
//!   that already fired elsewhere), as Go's `waitq.dequeue` does;
//! - `remove` from anywhere by key (Go's `dequeueSudoG`), and `relink` to queue a node again.
//!
//! Differences from Go, and why:
//! - Go takes `sudog`s from a per-P cache and links them with raw pointers. Here the nodes of a list
//!   live in a slab owned by that list and the parked future keeps its key: the same O(1) unlink as
//!   Go's doubly linked list, with no `unsafe`.
//! - In Go the woken G owns its sudog and the runtime frees it. Here whoever wakes a waiter only
//!   *unlinks* its node; the owning future frees it (`remove`, on its next poll or when dropped). So a
//!   key is never freed or reused behind its owner's back, and whatever the waker left in the node (a
//!   value, a flag) waits there, under the owner's lock, until the owner picks it up.
//! - Go's `semaRoot` is a treap keyed by semaphore address (`semtable` shares each root among many
//!   addresses), whose nodes head one waiter list per address. Each `Sema` here owns its list, so the
//!   list is all there is.
//!
//! Nothing here is thread-safe by itself: every list lives under its owner's lock.

use std::task::Waker;

use slab::Slab;

/// `prev`/`next` meaning "no neighbour", and `head`/`tail` of an empty list: Go's `nil`.
const NIL: usize = usize::MAX;
/// The `prev` of a node that is in the slab but not in the list. Neither sentinel can be a slab key:
/// keys index a `Vec` of nodes of at least two words each, which cannot have `usize::MAX - 1` entries.
const UNLINKED: usize = usize::MAX - 1;

/// A FIFO of waiters with O(1) insertion at either end and O(1) removal by key. See the module docs.
pub(crate) struct WaitList<T> {
    nodes: Slab<Node<T>>,
    head: usize,
    tail: usize,
}

struct Node<T> {
    val: T,
    /// `UNLINKED` while not in the list; otherwise the previous node or `NIL`.
    prev: usize,
    /// The next node or `NIL` (meaningless while unlinked).
    next: usize,
}

// The small methods are `#[inline]`: a channel send or receive is a few of them under the channel lock,
// and left out of line (as LLVM chose for `push` and `dequeue`) their calls cost more than their work.
impl<T> WaitList<T> {
    pub(crate) const fn new() -> WaitList<T> {
        WaitList {
            nodes: Slab::new(),
            head: NIL,
            tail: NIL,
        }
    }

    /// Add `val` at the back and return its key: Go's `waitq.enqueue`.
    #[inline]
    pub(crate) fn push_back(&mut self, val: T) -> usize {
        self.push(val, false)
    }

    /// Add `val` at the back, or with `lifo` at the front (Go's `semaRoot.queue`), and return its key.
    #[inline]
    pub(crate) fn push(&mut self, val: T, lifo: bool) -> usize {
        // The node is born with its links, so only the neighbour it joins needs a second slab access.
        let (prev, next) = if lifo {
            (NIL, self.head)
        } else {
            (self.tail, NIL)
        };
        let key = self.nodes.insert(Node { val, prev, next });
        self.link_neighbours(key, prev, next);
        key
    }

    /// Put the unlinked node `key` back in the list, at the back or (`lifo`) the front.
    pub(crate) fn relink(&mut self, key: usize, lifo: bool) {
        let (prev, next) = if lifo {
            (NIL, self.head)
        } else {
            (self.tail, NIL)
        };
        let node = &mut self.nodes[key];
        assert!(node.prev == UNLINKED, "waitq: linking a queued waiter");
        node.prev = prev;
        node.next = next;
        self.link_neighbours(key, prev, next);
    }

    /// Unlink the first node and return its key; the node stays in the slab for its owner.
    #[inline]
    pub(crate) fn pop_front(&mut self) -> Option<usize> {
        self.dequeue(|_| true)
    }

    /// Go's `waitq.dequeue`: unlink nodes from the front until `claim` accepts one, and return its key.
    /// A node `claim` refuses (Go: a `select` that another channel already woke) is passed over: it
    /// is unlinked all the same and stays in the slab for its owner to free.
    #[inline]
    pub(crate) fn dequeue(&mut self, mut claim: impl FnMut(&T) -> bool) -> Option<usize> {
        loop {
            let key = self.head;
            if key == NIL {
                return None;
            }
            let node = &mut self.nodes[key];
            let next = node.next;
            node.prev = UNLINKED;
            let claimed = claim(&node.val);
            self.unlink_neighbours(NIL, next);
            if claimed {
                return Some(key);
            }
        }
    }

    /// The key of the first node, left in the list.
    #[inline]
    pub(crate) fn front(&self) -> Option<usize> {
        (self.head != NIL).then_some(self.head)
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.head == NIL
    }

    /// Whether `key` is still in the list (nobody has dequeued it since it was pushed or relinked).
    #[inline]
    pub(crate) fn is_linked(&self, key: usize) -> bool {
        self.nodes[key].prev != UNLINKED
    }

    #[inline]
    pub(crate) fn get(&self, key: usize) -> &T {
        &self.nodes[key].val
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, key: usize) -> &mut T {
        &mut self.nodes[key].val
    }

    /// Free the node `key`, unlinking it first if it is still in the list (Go's `dequeueSudoG`), and
    /// return its payload. The key may be reused from here on.
    #[inline]
    pub(crate) fn remove(&mut self, key: usize) -> T {
        let Node { val, prev, next } = self.nodes.remove(key);
        if prev != UNLINKED {
            self.unlink_neighbours(prev, next);
        }
        val
    }

    /// Point the neighbours of a node just linked at `key` (between `prev` and `next`) at it.
    #[inline]
    fn link_neighbours(&mut self, key: usize, prev: usize, next: usize) {
        match prev {
            NIL => self.head = key,
            p => self.nodes[p].next = key,
        }
        match next {
            NIL => self.tail = key,
            n => self.nodes[n].prev = key,
        }
    }

    /// Join the neighbours `prev` and `next` of a node just taken out from between them.
    #[inline]
    fn unlink_neighbours(&mut self, prev: usize, next: usize) {
        match prev {
            NIL => self.head = next,
            p => self.nodes[p].next = next,
        }
        match next {
            NIL => self.tail = prev,
            n => self.nodes[n].prev = prev,
        }
    }

    /// Every key in the list, front to back (for invariant checks in tests).
    #[cfg(test)]
    pub(crate) fn keys(&self) -> Vec<usize> {
        let mut out = Vec::new();
        let mut at = self.head;
        while at != NIL {
            out.push(at);
            at = self.nodes[at].next;
        }
        out
    }
}

impl<T> Default for WaitList<T> {
    fn default() -> Self {
        WaitList::new()
    }
}

/// Wakers collected under a lock, called after it is released (Go readies Gs after unlocking, too: a
/// woken task would otherwise run straight into the lock its waker still holds). Holds one waker
/// inline, which is all a send, a receive or a semaphore release ever produces; only waking several
/// (a channel's `close`, `notifyListNotifyAll`) needs the vector.
#[derive(Default)]
pub struct WakeList {
    one: Option<Waker>,
    more: Vec<Waker>,
}

impl WakeList {
    pub(crate) fn new() -> Self {
        WakeList::default()
    }

    pub(crate) fn push(&mut self, w: Option<Waker>) {
        let Some(w) = w else { return };
        match self.one {
            None => self.one = Some(w),
            Some(_) => self.more.push(w),
        }
    }

    /// Call every collected waker. Must run with no lock held.
    pub(crate) fn wake_all(self) {
        if let Some(w) = self.one {
            w.wake();
        }
        for w in self.more {
            w.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::test_util::CountWaker;

    #[test]
    fn waitq_keeps_fifo_and_lifo_order_and_unlinks_from_the_middle() {
        let mut l = WaitList::new();
        let a = l.push_back('a');
        let b = l.push_back('b');
        let c = l.push('c', true);
        assert_eq!(l.keys(), vec![c, a, b]);
        assert_eq!(l.front(), Some(c));
        assert_eq!(l.remove(a), 'a');
        assert_eq!(l.keys(), vec![c, b]);
        assert_eq!(l.pop_front(), Some(c));
        assert!(!l.is_linked(c));
        assert_eq!(*l.get(c), 'c', "a dequeued node stays for its owner");
        l.relink(c, false);
        assert_eq!(l.keys(), vec![b, c]);
        assert_eq!(l.remove(b), 'b');
        assert_eq!(l.remove(c), 'c');
        assert!(l.is_empty());
        assert_eq!(l.front(), None);
        assert_eq!(l.pop_front(), None);
    }

    #[test]
    fn waitq_removing_head_tail_and_only_node_keeps_the_ends_right() {
        let mut l = WaitList::new();
        let a = l.push_back(1);
        l.remove(a);
        assert!(l.is_empty());
        let a = l.push_back(1);
        let b = l.push_back(2);
        let c = l.push_back(3);
        l.remove(c); // the tail
        let d = l.push_back(4);
        assert_eq!(l.keys(), vec![a, b, d]);
        l.remove(a); // the head
        let e = l.push(5, true);
        assert_eq!(l.keys(), vec![e, b, d]);
        *l.get_mut(b) = 20;
        assert_eq!(l.pop_front(), Some(e));
        assert_eq!(l.pop_front(), Some(b));
        assert_eq!(l.pop_front(), Some(d));
        assert_eq!(l.pop_front(), None);
        assert_eq!([l.remove(e), l.remove(b), l.remove(d)], [5, 20, 4]);
    }

    #[test]
    fn waitq_dequeue_passes_over_refused_nodes_and_leaves_them_unlinked() {
        let mut l = WaitList::new();
        let stale = l.push_back("stale");
        let live = l.push_back("live");
        let later = l.push_back("later");
        assert_eq!(l.dequeue(|&v| v != "stale"), Some(live));
        assert!(!l.is_linked(stale) && !l.is_linked(live));
        assert_eq!(l.keys(), vec![later]);
        assert_eq!(l.remove(stale), "stale", "the owner frees the skipped node");
        assert_eq!(l.dequeue(|_| false), None);
        assert!(l.is_empty());
    }

    #[test]
    fn waitq_keys_are_not_reused_until_removed() {
        let mut l = WaitList::new();
        let a = l.push_back(0);
        assert_eq!(l.pop_front(), Some(a));
        let b = l.push_back(1);
        assert_ne!(a, b, "an unlinked node still owns its key");
        l.remove(a);
        assert_eq!(l.push_back(2), a, "freed keys are reused");
    }

    #[test]
    fn waitq_wake_list_wakes_each_collected_waker_once() {
        let (count, w) = CountWaker::new();
        let mut wake = WakeList::new();
        wake.push(None);
        wake.wake_all();
        let mut wake = WakeList::new();
        for _ in 0..3 {
            wake.push(Some(w.clone()));
        }
        assert_eq!(count.count(), 0, "nothing is woken before wake_all");
        wake.wake_all();
        assert_eq!(count.count(), 3);
    }
}
