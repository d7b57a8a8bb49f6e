//! Synchronisation primitives for Gs: Go's `sync` package (plus x/sync's weighted semaphore).
//!
//! Every wait here is a future, and every future is cancel-safe: dropping it gives up the wait without
//! losing a wake-up that was meant for it. Like Go's, the lock types keep their state in one atomic word
//! and sleep on the runtime semaphore (sema.rs, Go's runtime/sema.go), the single waiting mechanism they
//! share; `Cond` waits on the same file's `notifyList` (notify_list.rs). Both queue their waiters in the
//! `WaitList` that channels use too (`crate::util::waitq`).
//!
//! | Go                     | here                                  | file          |
//! |------------------------|---------------------------------------|---------------|
//! | `sync.Mutex`           | [`Mutex<T>`], `lock().await`          | mutex.rs      |
//! | `sync.RWMutex`         | [`RwLock<T>`], `read()`, `write()`    | rwlock.rs     |
//! | `sync.WaitGroup`       | [`WaitGroup`], `add`, `done`, `wait`  | waitgroup.rs  |
//! | `sync.Once`            | [`Once`], `call_once(f).await`        | once.rs       |
//! | `sync.Cond`            | [`Cond`], `wait(guard).await`         | cond.rs       |
//! | `semaphore.Weighted`   | [`Semaphore`], `acquire(n).await`     | semaphore.rs  |

mod cond;
mod mutex;
mod notify_list;
mod once;
mod rwlock;
pub(crate) mod sema;
mod semaphore;
mod waitgroup;

pub use cond::{Cond, CondWait};
pub use mutex::{Lock, Mutex, MutexGuard};
pub use once::Once;
pub use rwlock::{Read, RwLock, RwLockReadGuard, RwLockWriteGuard, Write};
pub use semaphore::{Acquire, Permit, Semaphore};
pub use waitgroup::{Wait, WaitGroup};
