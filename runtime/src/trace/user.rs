//! User annotations: Go's runtime/trace `NewTask`, `WithRegion` / `StartRegion` and `Log` —
//! the program's own words in the trace, shown on their own tracks (`gort-trace-format`:
//! `chrome/user.rs`): a task's slice from its creation to its end, a G's regions nested as they
//! were entered, log messages as instants. And G labels, the names Gs are given.
//!
//! Each records an event with the M and P it runs on (the reader knows which G runs there) and
//! the ids of its strings, which the session interns (`session.rs`: one lock per annotation —
//! these are the program's events, far rarer than the scheduler's). With tracing off, each is
//! one load and a branch.
//!
//! Differences from Go: Go passes tasks through a `context.Context`; here a [`Task`] is a value
//! the code holds (and passes to the Gs it spawns), whose drop ends it.

use std::sync::atomic::{AtomicU64, Ordering};

use gort_trace_format::Kind;

/// Record an annotation of `kind` with `g` and `arg` (see `Kind`), on this thread's M and P.
fn record(_kind: Kind, _g: u64, _arg: u64) {
    #[cfg(not(any(loom, gort_notrace)))]
    {
        use gort_trace_format::Event;
        let ev = crate::sched::getg::with_curm(|ctx| {
            Event::new(_kind)
                .m(ctx.m.id)
                .p(ctx.p.get().unwrap_or(usize::MAX))
        })
        .unwrap_or_else(|| Event::new(_kind));
        super::buf::emit(ev.g(_g).arg(_arg));
    }
}

/// The id of `text` in the running trace (0 if none).
fn string(_text: &str) -> u64 {
    #[cfg(not(any(loom, gort_notrace)))]
    {
        super::session::with(|s| s.intern(_text)).unwrap_or(0)
    }
    #[cfg(any(loom, gort_notrace))]
    {
        0
    }
}

/// A piece of work the program names, across Gs (Go's `trace.Task`): a slice on its own track
/// from [`Task::new`] to [`Task::end`] or the drop. Regions and log messages may belong to it.
#[derive(Debug)]
pub struct Task {
    id: u64,
}

impl Task {
    /// Begin a top-level task called `name`.
    pub fn new(name: &str) -> Task {
        Task::begin(name, 0)
    }

    /// Begin a task called `name` inside this one.
    pub fn child(&self, name: &str) -> Task {
        Task::begin(name, self.id)
    }

    fn begin(name: &str, parent: u64) -> Task {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        if super::is_enabled() {
            let arg = gort_trace_format::event::pack(string(name), parent);
            record(Kind::UserTaskBegin, id, arg);
        }
        Task { id }
    }

    /// The task's id in the trace.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Run `f` as a region called `name` of this task.
    pub fn region<R>(&self, name: &str, f: impl FnOnce() -> R) -> R {
        let _r = Region::begin(self.id, name);
        f()
    }

    /// Begin a region called `name` of this task; it ends when the guard is dropped.
    pub fn start_region(&self, name: &str) -> Region {
        Region::begin(self.id, name)
    }

    /// Log `message` under `category` in this task (Go's `trace.Log(ctx, ...)`).
    pub fn log(&self, category: &str, message: &str) {
        log_in(self.id, category, message);
    }

    /// End the task (as dropping it does).
    pub fn end(self) {}
}

impl Drop for Task {
    fn drop(&mut self) {
        if super::is_enabled() {
            record(Kind::UserTaskEnd, self.id, 0);
        }
    }
}

/// A region of a G's work (Go's `trace.Region`), ended when dropped. Regions of one G nest; a
/// region may span awaits (it is the G's, whichever M runs it).
#[derive(Debug)]
pub struct Region {
    task: u64,
    name: u64,
}

impl Region {
    fn begin(task: u64, name: &str) -> Region {
        let name = if super::is_enabled() {
            let id = string(name);
            record(Kind::UserRegionBegin, task, id);
            id
        } else {
            0
        };
        Region { task, name }
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        if self.name != 0 && super::is_enabled() {
            record(Kind::UserRegionEnd, self.task, self.name);
        }
    }
}

/// Run `f` as a region called `name` of no task (Go's `trace.WithRegion`).
pub fn region<R>(name: &str, f: impl FnOnce() -> R) -> R {
    let _r = Region::begin(0, name);
    f()
}

/// Begin a region called `name` of no task; it ends when the guard is dropped (Go's
/// `trace.StartRegion`).
pub fn start_region(name: &str) -> Region {
    Region::begin(0, name)
}

/// Log `message` under `category` (Go's `trace.Log`); `category` may be empty.
pub fn log(category: &str, message: &str) {
    log_in(0, category, message);
}

fn log_in(task: u64, category: &str, message: &str) {
    if super::is_enabled() {
        let arg = gort_trace_format::event::pack(string(category), string(message));
        record(Kind::UserLog, task, arg);
    }
}

/// `GoLabel` (`trace::go_label`).
#[cfg(not(any(loom, gort_notrace)))]
pub(super) fn label(goid: u64, label: &str) {
    if super::is_enabled() {
        record(Kind::GoLabel, goid, string(label));
    }
}

#[cfg(all(test, not(any(loom, gort_notrace))))]
mod tests {
    use super::*;
    use crate::trace::session::testing::{start_mem, stop_mem};
    use crate::trace::session::TEST_SERIAL;
    use gort_trace_format::event::unpack;

    /// The annotations this thread recorded, with their strings resolved.
    #[test]
    fn tasks_regions_logs_and_labels_are_recorded_with_their_strings() {
        let _serial = TEST_SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        // Off: nothing recorded, nothing to end.
        drop(Task::new("before"));
        let out = start_mem();
        let t = Task::new("request");
        let child = t.child("parse");
        child.region("decode", || t.log("http", "GET /"));
        let r = start_region("outside");
        log("", "hello");
        drop(r);
        label(42, "worker");
        let ids = (t.id(), child.id());
        child.end();
        drop(t);
        let (_, trace) = stop_mem(&out);
        let me = std::thread::current().name().map(String::from);
        let mine: Vec<_> = trace
            .events
            .iter()
            .filter(|(th, _)| Some(&trace.threads[*th as usize]) == me.as_ref())
            .map(|(_, e)| *e)
            .collect();
        let s = |id| trace.string(id).to_string();
        let got: Vec<String> = mine
            .iter()
            .map(|e| match e.kind {
                Kind::UserTaskBegin => {
                    let (name, parent) = unpack(e.arg);
                    format!("task {} {} parent {parent}", e.g, s(name))
                }
                Kind::UserTaskEnd => format!("end {}", e.g),
                Kind::UserRegionBegin => format!("region {} task {}", s(e.arg), e.g),
                Kind::UserRegionEnd => format!("/region {}", s(e.arg)),
                Kind::UserLog => {
                    let (c, m) = unpack(e.arg);
                    format!("log [{}] {} task {}", s(c), s(m), e.g)
                }
                Kind::GoLabel => format!("label G{} {}", e.g, s(e.arg)),
                k => format!("{k:?}"),
            })
            .collect();
        let (t, c) = ids;
        assert_eq!(
            got,
            vec![
                format!("task {t} request parent 0"),
                format!("task {c} parse parent {t}"),
                format!("region decode task {c}"),
                format!("log [http] GET / task {t}"),
                "/region decode".to_string(),
                "region outside task 0".to_string(),
                "log [] hello task 0".to_string(),
                "/region outside".to_string(),
                "label G42 worker".to_string(),
                format!("end {c}"),
                format!("end {t}"),
            ]
        );
    }
}
