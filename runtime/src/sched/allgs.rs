//! The registry of live Gs: Go's `allgs` (runtime/proc.go: allgadd, forEachG).
//!
//! Go keeps every G ever created in `allgs` so the GC and the debugger can find them. We need the same
//! list for two jobs: at runtime shutdown, drop every G that has not finished (their destructors must
//! run, as when a Go program's `main` returns and the process exits), and for `scheddetail`, print one
//! line per G. The registry owns one reference to each G until the G completes.
//!
//! Names of named Gs (`gort::Go::name`) live here too, in a side table keyed by G id: most Gs have
//! no name, and a table costs them nothing, where a field would cost every G two words.
//!
//! It is sharded by G id so that spawns and completions on different Ms rarely share a lock; Go's
//! `allglock` is a single lock, but Go does not touch it on every G exit because it reuses dead Gs.

use std::collections::HashMap;

use slab::Slab;

use crate::sched::g::{gflags, GRef, Header};
use crate::util::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::util::loom::sync::Mutex;

pub(crate) struct AllGs {
    shards: Box<[Mutex<Shard>]>,
    live: AtomicUsize,
    /// The names of live named Gs (the `gflags::NAMED` ones), by G id.
    names: Mutex<HashMap<u64, Box<str>>>,
}

struct Shard {
    gs: Slab<GRef>,
    /// Set at shutdown: no G may be added any more.
    closed: bool,
}

impl AllGs {
    pub(crate) fn new(nshards: usize) -> AllGs {
        let n = nshards.next_power_of_two();
        AllGs {
            shards: (0..n)
                .map(|_| {
                    Mutex::new(Shard {
                        gs: Slab::new(),
                        closed: false,
                    })
                })
                .collect(),
            live: AtomicUsize::new(0),
            names: Mutex::new(HashMap::new()),
        }
    }

    fn shard(&self, id: u64) -> &Mutex<Shard> {
        &self.shards[id as usize & (self.shards.len() - 1)]
    }

    /// Register a new G (`g` is the registry's reference). Fails, returning it, after shutdown.
    pub(crate) fn insert(&self, g: GRef) -> Result<(), GRef> {
        let mut shard = crate::util::loom::lock(self.shard(g.id()));
        if shard.closed {
            return Err(g);
        }
        let entry = shard.gs.vacant_entry();
        // SAFETY: the G is not yet visible to any other thread, and afterwards the key is only read
        // under this shard's lock.
        g.header()
            .allg_key
            .with_mut(|k| unsafe { *k = entry.key() });
        entry.insert(g);
        self.live.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Drop the registry's reference to a G that completed. A no-op if shutdown already took it.
    pub(crate) fn remove(&self, h: &Header) {
        let removed = {
            let mut shard = crate::util::loom::lock(self.shard(h.id));
            // SAFETY: written once in `insert` before the G was shared; we hold the shard lock.
            let key = h.allg_key.with(|k| unsafe { *k });
            match shard.gs.get(key) {
                Some(g) if std::ptr::eq(g.header(), h) => Some(shard.gs.remove(key)),
                _ => None,
            }
        };
        if removed.is_some() {
            self.live.fetch_sub(1, Ordering::Relaxed);
        }
        if h.gflags & gflags::NAMED != 0 {
            crate::util::loom::lock(&self.names).remove(&h.id);
        }
        // Dropped outside the lock: freeing a G may drop the last handle on its runtime.
        drop(removed);
    }

    /// Record the name of G `id` (before it is inserted, so a dump never sees it unnamed).
    pub(crate) fn set_name(&self, id: u64, name: Box<str>) {
        crate::util::loom::lock(&self.names).insert(id, name);
    }

    /// The name of G `h`, if it was spawned with one.
    pub(crate) fn name(&self, h: &Header) -> Option<String> {
        if h.gflags & gflags::NAMED == 0 {
            return None;
        }
        crate::util::loom::lock(&self.names)
            .get(&h.id)
            .map(|n| n.to_string())
    }

    /// Close the registry and take every G still in it (runtime shutdown).
    pub(crate) fn close_and_drain(&self) -> Vec<GRef> {
        let mut out = Vec::new();
        for s in self.shards.iter() {
            let mut shard = crate::util::loom::lock(s);
            shard.closed = true;
            out.extend(shard.gs.drain());
        }
        self.live.fetch_sub(out.len(), Ordering::Relaxed);
        out
    }

    /// Number of live (unfinished) Gs.
    pub(crate) fn len(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    /// Does `f` hold for every live G? Stops at the first that fails (`checkdead`: one G that may
    /// still be woken settles the question).
    pub(crate) fn all(&self, mut f: impl FnMut(&Header) -> bool) -> bool {
        for s in self.shards.iter() {
            let shard = crate::util::loom::lock(s);
            if !shard.gs.iter().all(|(_, g)| f(g.header())) {
                return false;
            }
        }
        true
    }

    /// Call `f` on every live G, a shard at a time (for scheddetail; never on a hot path).
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Header)) {
        for s in self.shards.iter() {
            let shard = crate::util::loom::lock(s);
            for (_, g) in shard.gs.iter() {
                f(g.header());
            }
        }
    }
}
