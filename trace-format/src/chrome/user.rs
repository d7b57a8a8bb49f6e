//! The user annotations on their own tracks (Go's runtime/trace `NewTask`, `WithRegion`, `Log`,
//! which `go tool trace` shows per task and inside each goroutine's row), and G labels.
//!
//! | track (`tid`) | what it shows |
//! |---|---|
//! | `task NAME #id` ([`TASK_TID`] + id) | one slice from the task's begin to its end, with its parent |
//! | `G42 NAME user` ([`USER_TID`] + G) | the G's regions (nested as they were entered) and its log messages (instants) |
//! | `thread NAME user` ([`USER_THREAD_TID`] + thread) | the same, recorded off any G (the thread in `block_on`, a foreign thread) |
//!
//! A region is the G's, not the M's: it may span awaits, and the G may run on other Ms before
//! it ends; the recorder stamps the M, and the replay knows which G runs there.

use std::collections::BTreeMap;
use std::io;

use super::json::{Ev, Out, V};
use super::Conv;
use crate::event::{unpack, Event, Kind};

/// Task tracks: this + the task id.
pub(super) const TASK_TID: u64 = 1 << 32;
/// A G's region and log track: this + the G id.
pub(super) const USER_TID: u64 = 1 << 33;
/// The region and log track of a thread that is not running a G: this + the thread index.
pub(super) const USER_THREAD_TID: u64 = 1 << 34;

/// What the annotations have open.
#[derive(Default)]
pub(super) struct User {
    /// Open tasks: id → (name, parent, since).
    tasks: BTreeMap<u64, (String, u64, u64)>,
    /// Open regions per track: (name, task, since), innermost last.
    regions: BTreeMap<u64, Vec<(String, u64, u64)>>,
    /// Track names for the metadata.
    pub(super) tracks: BTreeMap<u64, String>,
}

impl Conv<'_> {
    /// The track of the annotations the thread `t` recorded on M `m`: the running G's, else
    /// the thread's.
    fn user_track(&mut self, t: u32, m: u32) -> u64 {
        let g = self.ms.get(&m).and_then(|s| s.run).map(|r| r.g);
        let (tid, name) = match g {
            Some(g) => (USER_TID.wrapping_add(g), format!("{} user", self.g_name(g))),
            None => (
                USER_THREAD_TID + u64::from(t),
                format!("thread {} user", self.thread_name(t)),
            ),
        };
        self.user.tracks.entry(tid).or_insert(name);
        tid
    }

    /// Replay a user annotation or a label (the kinds from `UserTaskBegin` on).
    pub(super) fn user_event(&mut self, out: &mut Out<'_>, t: u32, ev: &Event) -> io::Result<()> {
        let ts = ev.ts;
        match ev.kind {
            Kind::UserTaskBegin => {
                let (name, parent) = unpack(ev.arg);
                let name = self.string(name).to_string();
                self.user.tracks.insert(
                    TASK_TID.wrapping_add(ev.g),
                    format!("task {name} #{}", ev.g),
                );
                self.user.tasks.insert(ev.g, (name, parent, ts));
            }
            Kind::UserTaskEnd => {
                if let Some(task) = self.user.tasks.remove(&ev.g) {
                    self.close_task(out, ev.g, task, ts, false)?;
                }
            }
            Kind::UserRegionBegin => {
                let tid = self.user_track(t, ev.m);
                let name = self.string(ev.arg).to_string();
                self.user
                    .regions
                    .entry(tid)
                    .or_default()
                    .push((name, ev.g, ts));
            }
            Kind::UserRegionEnd => {
                let tid = self.user_track(t, ev.m);
                let name = self.string(ev.arg).to_string();
                let stack = self.user.regions.entry(tid).or_default();
                // Regions nest; an end closes its region and any left open inside it.
                if let Some(i) = stack.iter().rposition(|r| r.0 == name) {
                    let open: Vec<_> = stack.drain(i..).collect();
                    for r in open.into_iter().rev() {
                        region(out, tid, r, ts, false)?;
                    }
                }
            }
            Kind::UserLog => {
                let tid = self.user_track(t, ev.m);
                let (category, message) = unpack(ev.arg);
                let category = self.string(category).to_string();
                let message = self.string(message).to_string();
                let name = if category.is_empty() {
                    "log"
                } else {
                    &category
                };
                let mut args = vec![("message", V::S(&message))];
                if ev.g != 0 {
                    args.push(("task", V::U(ev.g)));
                }
                let mut e = Ev::new("i", name, "user", ts, tid).field("s", V::S("t"));
                e.args = args;
                out.emit(e)?;
            }
            Kind::GoLabel => {
                let label = self.string(ev.arg).to_string();
                self.labels.insert(ev.g, label);
            }
            _ => {}
        }
        Ok(())
    }

    fn close_task(
        &mut self,
        out: &mut Out<'_>,
        id: u64,
        (name, parent, since): (String, u64, u64),
        ts: u64,
        open: bool,
    ) -> io::Result<()> {
        let mut e = Ev::new("X", &name, "task", since, TASK_TID.wrapping_add(id))
            .field("dur", V::Ts(ts.saturating_sub(since)))
            .arg("task", V::U(id));
        if parent != 0 {
            e = e.arg("parent", V::U(parent));
        }
        if open {
            e = e.arg("end", V::S("running at trace end"));
        }
        out.emit(e)
    }

    /// The trace ends: close the tasks and regions still open.
    pub(super) fn finish_user(&mut self, out: &mut Out<'_>, end: u64) -> io::Result<()> {
        for (id, task) in std::mem::take(&mut self.user.tasks) {
            self.close_task(out, id, task, end, true)?;
        }
        for (tid, stack) in std::mem::take(&mut self.user.regions) {
            for r in stack.into_iter().rev() {
                region(out, tid, r, end, true)?;
            }
        }
        Ok(())
    }
}

fn region(
    out: &mut Out<'_>,
    tid: u64,
    (name, task, since): (String, u64, u64),
    ts: u64,
    open: bool,
) -> io::Result<()> {
    let mut e =
        Ev::new("X", &name, "region", since, tid).field("dur", V::Ts(ts.saturating_sub(since)));
    if task != 0 {
        e = e.arg("task", V::U(task));
    }
    if open {
        e = e.arg("end", V::S("running at trace end"));
    }
    out.emit(e)
}
