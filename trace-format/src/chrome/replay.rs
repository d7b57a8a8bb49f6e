//! What each recorded event does to the tracks (see `mod.rs` for the tracks): the replay of
//! the trace's transitions, one event at a time, into slices, instants and flows.

use std::io;

use super::json::{Ev, Out, V};
use super::{Conv, MRun, PRun, M_TID};
use crate::event::{wait_reason, Event, Kind, Outcome, Source, FLAG_RUNNEXT, NONE};

impl Conv<'_> {
    /// Replay `ev`, recorded by thread `t`.
    pub(super) fn event(&mut self, out: &mut Out<'_>, t: u32, ev: &Event) -> io::Result<()> {
        let ts = ev.ts;
        match ev.kind {
            Kind::Nop => {}
            Kind::MStart => {
                let tid = self.thread_tid(t, ev.m);
                let mut args = vec![("m", V::U(u64::from(ev.m)))];
                if ev.p != NONE {
                    args.push(("p", V::U(u64::from(ev.p))));
                }
                self.instant(out, "MStart", ts, tid, args)?;
            }
            Kind::MStop => {
                self.close_m(out, ev.m, ts)?;
                let tid = self.thread_tid(t, ev.m);
                self.instant(out, "MStop", ts, tid, vec![("m", V::U(u64::from(ev.m)))])?;
            }
            Kind::MPark => self.m(ev.m).park = Some(ts),
            Kind::MUnpark => {
                let ms = self.m(ev.m);
                let start = ms.park.take().unwrap_or(ms.last_end);
                ms.last_end = ts;
                out.emit(
                    Ev::new("X", "parked", "m", start, M_TID + u64::from(ev.m))
                        .field("dur", V::Ts(ts.saturating_sub(start))),
                )?;
            }
            Kind::ProcStart => self.open_held(out, ev.p, ev.m, ts)?,
            Kind::ProcStop => {
                if self.p(ev.p).held.is_none() {
                    let since = self.p(ev.p).last_end;
                    self.p(ev.p).held = Some((ev.m, since));
                }
                self.close_run(out, ev.p, ts, "unknown", "")?;
                self.close_held(out, ev.p, ts)?;
                self.m(ev.m).p = None;
            }
            Kind::GoStart => {
                self.fresh.remove(&ev.g);
                if self.p(ev.p).held.is_none() {
                    // Acquired before the trace started.
                    let since = self.p(ev.p).last_end;
                    self.p(ev.p).held = Some((ev.m, since));
                    self.m(ev.m).p = Some(ev.p);
                }
                if self.p(ev.p).run.is_some() {
                    self.close_run(out, ev.p, ts, "unknown", "")?;
                }
                let flow = self.flows.remove(&ev.g);
                let ps = self.p(ev.p);
                ps.preempt_shown = false;
                ps.run = Some(PRun {
                    g: ev.g,
                    m: ev.m,
                    start: ts,
                    flow,
                    continued: false,
                });
                let ms = self.m(ev.m);
                ms.p = Some(ev.p);
                ms.run = Some(MRun {
                    g: ev.g,
                    p: ev.p,
                    start: ts,
                });
            }
            Kind::GoEnd => self.go_end(out, ev)?,
            Kind::Steal => {
                let args = vec![
                    ("thief", V::U(u64::from(ev.p))),
                    ("victim", V::U(ev.arg)),
                    ("n", V::U(ev.g)),
                    ("m", V::U(u64::from(ev.m))),
                ];
                self.instant(out, "Steal", ts, u64::from(ev.p), args)?;
            }
            Kind::NetpollBatch => {
                let tid = self.thread_tid(t, ev.m);
                self.instant(out, "Netpoll", ts, tid, vec![("n", V::U(ev.g))])?;
            }
            Kind::GoCreate => {
                self.fresh.insert(ev.g);
                let (tid, anchored) = self.waker_track(t, ev, ev.arg != 0);
                let by = if ev.arg != 0 {
                    format!("G{}", ev.arg)
                } else if ev.m != NONE {
                    "scheduler".to_string()
                } else {
                    format!("thread {}", self.thread_name(t))
                };
                let mut args = vec![("g", V::U(ev.g))];
                if ev.arg != 0 {
                    args.push(("parent", V::U(ev.arg)));
                }
                args.push(("by", V::S(&by)));
                args.push(("runnext", V::B(ev.aux & FLAG_RUNNEXT != 0)));
                self.instant(out, "GoCreate", ts, tid, args)?;
                self.flow_start(out, ev.g, ts, (tid, anchored), ("create", "go"))?;
            }
            Kind::GoUnblock => {
                if self.fresh.contains(&ev.g) {
                    // `newproc`'s own `ready`: already shown as the GoCreate.
                    return Ok(());
                }
                let source = Source::from_u8(ev.aux);
                let (tid, anchored) = self.waker_track(t, ev, source == Source::G);
                let by = match source {
                    Source::G => format!("G{}", ev.arg),
                    Source::Timers => "timer".to_string(),
                    Source::Netpoll => "netpoll".to_string(),
                    Source::Sched => "scheduler".to_string(),
                    Source::Sysmon | Source::External if self.is_sysmon(t) => "sysmon".to_string(),
                    Source::Sysmon | Source::External => {
                        format!("thread {}", self.thread_name(t))
                    }
                };
                let args = vec![
                    ("g", V::U(ev.g)),
                    ("by", V::S(&by)),
                    ("runnext", V::B(ev.aux2 & FLAG_RUNNEXT != 0)),
                ];
                self.instant(out, "GoUnblock", ts, tid, args)?;
                let anchor = match source {
                    Source::Timers => "timer",
                    Source::Netpoll => "netpoll",
                    _ => "wake",
                };
                self.flow_start(out, ev.g, ts, (tid, anchored), ("unblock", anchor))?;
            }
            Kind::SyscallEnter => {
                self.m(ev.m).sys = Some((ev.g, ev.p, ts));
                let tid = if self.p_runs(ev.p, ev.g, ev.m) {
                    u64::from(ev.p)
                } else {
                    M_TID + u64::from(ev.m)
                };
                let args = vec![("g", V::U(ev.g)), ("m", V::U(u64::from(ev.m)))];
                self.instant(out, "GoSysCall", ts, tid, args)?;
            }
            Kind::SyscallExit => self.syscall_exit(out, ev)?,
            Kind::PreemptRequest => {
                let run = self.p(ev.p).run;
                if let Some(r) = run {
                    if !self.p(ev.p).preempt_shown {
                        self.p(ev.p).preempt_shown = true;
                        let args = vec![("p", V::U(u64::from(ev.p))), ("g", V::U(r.g))];
                        self.instant(out, "PreemptRequest", ts, u64::from(ev.p), args)?;
                    }
                }
            }
            Kind::UserTaskBegin
            | Kind::UserTaskEnd
            | Kind::UserRegionBegin
            | Kind::UserRegionEnd
            | Kind::UserLog
            | Kind::GoLabel => self.user_event(out, t, ev)?,
            Kind::Handoff | Kind::Rescue => {
                let (name, end) = if ev.kind == Kind::Handoff {
                    ("Handoff", "handoff")
                } else {
                    ("Rescue", "rescued")
                };
                let g = self.p(ev.p).run.filter(|r| r.m == ev.m).map(|r| r.g);
                if g.is_some() {
                    self.close_run(out, ev.p, ts, end, "")?;
                }
                if self.p(ev.p).held.is_some_and(|(m, _)| m == ev.m) {
                    self.close_held(out, ev.p, ts)?;
                }
                let ms = self.m(ev.m);
                if ms.p == Some(ev.p) {
                    ms.p = None;
                }
                let mut args = vec![("p", V::U(u64::from(ev.p))), ("m", V::U(u64::from(ev.m)))];
                if let Some(g) = g.or((ev.g != 0).then_some(ev.g)) {
                    args.push(("g", V::U(g)));
                }
                self.instant(out, name, ts, u64::from(ev.p), args)?;
            }
        }
        Ok(())
    }

    fn go_end(&mut self, out: &mut Out<'_>, ev: &Event) -> io::Result<()> {
        let ts = ev.ts;
        let outcome = Outcome::from_u8(ev.aux);
        let wait = if outcome == Outcome::Parked {
            wait_reason(ev.aux2)
        } else {
            ""
        };
        let end = outcome.as_str();
        let mtid = M_TID + u64::from(ev.m);
        let ms = self.m(ev.m);
        let run = ms.run.take();
        let start = run.map_or(ms.last_end, |r| r.start);
        ms.last_end = ts;
        let cur_p = ms.p;
        if let Some((g, p, since)) = ms.sys.take() {
            // A blocking section whose exit we did not see (it cannot happen today).
            out.emit(
                Ev::new("X", "syscall", "syscall", since, mtid)
                    .field("dur", V::Ts(ts.saturating_sub(since)))
                    .arg("g", V::U(g))
                    .arg("p", V::U(u64::from(p))),
            )?;
        }
        let name = self.g_name(ev.g);
        let mut mev = Ev::new("X", &name, "m.g", start, mtid)
            .field("dur", V::Ts(ts.saturating_sub(start)))
            .arg("g", V::U(ev.g))
            .arg("m", V::U(u64::from(ev.m)))
            .arg("p", V::U(u64::from(ev.p)))
            .arg("end", V::S(end));
        if !wait.is_empty() {
            mev = mev.arg("wait", V::S(wait));
        }
        out.emit(mev)?;

        // The G's slice on a P track: on the P it started on, or the one it got back after a
        // blocking section. Gone if sysmon took the P (then the Handoff/Rescue closed it).
        let on_p = [cur_p, Some(ev.p)]
            .into_iter()
            .flatten()
            .find(|&p| self.p_runs(p, ev.g, ev.m));
        match on_p {
            Some(p) => self.close_run(out, p, ts, end, wait)?,
            None if run.is_none() && ev.p != NONE && u64::from(ev.p) == ev.arg => {
                // The run began before the trace did: show it from where the P track is free.
                let ps = self.p(ev.p);
                let since = ps.held.map_or(ps.last_end, |(_, s)| s).max(ps.last_end);
                if ps.held.is_none() {
                    ps.held = Some((ev.m, since));
                }
                ps.run = Some(PRun {
                    g: ev.g,
                    m: ev.m,
                    start: since,
                    flow: None,
                    continued: false,
                });
                self.close_run(out, ev.p, ts, end, wait)?;
            }
            None => {}
        }
        if outcome == Outcome::Preempted {
            let tid = on_p.map_or(mtid, u64::from);
            self.instant(out, "GoPreempt", ts, tid, vec![("g", V::U(ev.g))])?;
        }
        Ok(())
    }

    fn syscall_exit(&mut self, out: &mut Out<'_>, ev: &Event) -> io::Result<()> {
        let ts = ev.ts;
        let fast = ev.aux == 1;
        let mtid = M_TID + u64::from(ev.m);
        let exit = if fast {
            "fast: own P".to_string()
        } else if ev.p != NONE {
            format!("P taken; got idle P{}", ev.p)
        } else {
            "P taken; no idle P".to_string()
        };
        let ms = self.m(ev.m);
        let (g, p0, since) = ms.sys.take().unwrap_or((ev.g, NONE, ms.last_end));
        let mut sev = Ev::new("X", "syscall", "syscall", since, mtid)
            .field("dur", V::Ts(ts.saturating_sub(since)))
            .arg("g", V::U(g))
            .arg("exit", V::S(&exit));
        if p0 != NONE {
            sev = sev.arg("p", V::U(u64::from(p0)));
        }
        out.emit(sev)?;
        if !fast && ev.p != NONE {
            // Go's exitsyscall slow path took an idle P: the run continues on it. Its
            // `acquirep` recorded the `ProcStart` just before, so the P is normally held by this
            // M already.
            if self.p(ev.p).held.is_none_or(|(m, _)| m != ev.m) {
                self.open_held(out, ev.p, ev.m, ts)?;
            }
            self.m(ev.m).p = Some(ev.p);
            self.p(ev.p).run = Some(PRun {
                g: ev.g,
                m: ev.m,
                start: ts,
                flow: None,
                continued: true,
            });
        }
        let tid = if ev.p != NONE { u64::from(ev.p) } else { mtid };
        let args = vec![
            ("g", V::U(ev.g)),
            ("m", V::U(u64::from(ev.m))),
            ("fast", V::B(fast)),
        ];
        self.instant(out, "GoSysExit", ts, tid, args)
    }
}
