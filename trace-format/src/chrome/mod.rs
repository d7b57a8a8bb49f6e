//! Writing a trace as Chrome Trace Event JSON, the format Perfetto (ui.perfetto.dev) and
//! chrome://tracing open with no other tool. Go's equivalent is `go tool trace`'s conversion of its
//! binary trace for the trace viewer (cmd/trace: `generateTrace`).
//!
//! The recorded events are transitions ("G42 started on P0 by M3", "sysmon took P0 from M3"); a
//! viewer wants intervals. `Conv` replays the events in time order, keeping per P and per M what is
//! open, and writes:
//!
//! | track (`tid`) | what it shows |
//! |---|---|
//! | `P0`, `P1`, ... (tid = P id) | depth 0: `M3` while M3 holds the P; depth 1: `G42` for each run of a G on that P, with `args.end` (parked / yield / preempted / requeued / complete / handoff / rescued) and `args.wait` (Go's wait reason). Instants: `Steal`, `PreemptRequest`, `GoPreempt`, `Handoff`, `Rescue`, `GoSysCall`, `GoSysExit`, and `GoCreate` / `GoUnblock` made by the G running there. |
//! | `sysmon` (tid 900) | what sysmon does that is not about one P: its netpoll batches, the Gs they wake. |
//! | `M3` (tid 1000 + M id) | the whole run of each G on that thread (it goes on while the P is taken away), `syscall` slices nested in it, `parked` while on the idle list; `GoUnblock` from timers and netpoll batches. |
//! | `thread NAME` (tid 2000 + n) | threads that are not Ms: the thread in `block_on` creating the main G, foreign threads waking Gs. |
//!
//! A flow arrow joins each `GoCreate`/`GoUnblock` to the start of that G's next run ("s" at the
//! wake, "f" with `bp: "e"` just inside the woken G's slice). A flow must start inside a slice, so a
//! wake made outside any G (a timer batch, the netpoller, a foreign thread) gets a 1 ns `wake` slice
//! to anchor it.
//!
//! Slices on one track must nest. Two cases need care, both where the P is taken from an M that is
//! still inside a poll (sysmon's hand-off of a blocking section, or a runaway-poll rescue): the G's
//! slice on the P track ends when sysmon takes the P (`end: handoff` / `rescued`), the new M's slices
//! follow, and if the G gets a P back when its blocking section ends, its run continues as a new slice
//! on that P (`args.continued`). The M track shows the run whole.
//!
//! sysmon repeats a preemption request every round until the G yields; only the first per run is
//! drawn. It is drawn on the run going on when sysmon recorded it — just after setting the flag —
//! so once in a while the G has already yielded and the mark lands on the next run.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, Write};

use crate::event::{Event, NONE};
use crate::file::{RawTrace, Trace};

pub(crate) mod json;
mod replay;
mod user;

use json::{Ev, Out, V};

const SYSMON_TID: u64 = 900;
const M_TID: u64 = 1000;
const OTHER_TID: u64 = 2000;
const SYSMON_THREAD: &str = "gort-sysmon";

/// Write `c` as one JSON document to `w`, and flush it.
pub fn write(c: &Trace, w: &mut dyn Write) -> io::Result<()> {
    let mut out = Out::new(w);
    out.raw("{\"traceEvents\":[\n")?;
    let mut conv = Conv::new(&c.threads, &c.strings);
    for (t, ev) in &c.events {
        conv.event(&mut out, *t, ev)?;
    }
    conv.finish(&mut out, c.end_ts)?;
    conv.finish_user(&mut out, c.end_ts)?;
    conv.metadata(&mut out)?;
    out.raw("\n],\"displayTimeUnit\":\"ns\",\"otherData\":{\"producer\":\"gort\",\"events\":\"")?;
    out.raw(&c.events.len().to_string())?;
    out.raw("\",\"dropped_events\":\"")?;
    out.raw(&c.dropped.to_string())?;
    if c.truncated {
        out.raw("\",\"truncated\":\"the raw trace was cut short; its end is missing")?;
    }
    out.raw("\"}}\n")?;
    out.w.flush()
}

/// Replay `c` into the tracks, slices, instants and flows [`write()`] writes, handing each to
/// `tap` (the Perfetto writer's way in; metadata comes last).
pub(crate) fn replay(c: &Trace, tap: &mut dyn FnMut(&json::Ev<'_>)) -> io::Result<()> {
    let mut sink = io::sink();
    let mut out = Out::tapped(&mut sink, tap);
    let mut conv = Conv::new(&c.threads, &c.strings);
    for (t, ev) in &c.events {
        conv.event(&mut out, *t, ev)?;
    }
    conv.finish(&mut out, c.end_ts)?;
    conv.finish_user(&mut out, c.end_ts)?;
    conv.metadata(&mut out)
}

/// Decode `raw` and write it to `w` as [`write()`] does; returns how many events it holds.
pub fn from_raw(raw: &RawTrace<'_>, w: &mut dyn Write) -> io::Result<usize> {
    let t = raw.decode()?;
    write(&t, w)?;
    Ok(t.events.len())
}

/// A G's run on a P track, open until it ends or the P is taken.
#[derive(Clone, Copy)]
struct PRun {
    g: u64,
    m: u32,
    start: u64,
    /// Flow to end inside this slice: (id, name).
    flow: Option<(u64, &'static str)>,
    /// A continuation after a blocking section got a new P.
    continued: bool,
}

#[derive(Default)]
struct PState {
    /// The M holding the P and since when.
    held: Option<(u32, u64)>,
    run: Option<PRun>,
    /// A preemption request was shown for the current run (sysmon repeats it every round).
    preempt_shown: bool,
    /// End of the last closed slice at depth 0, where an unmatched end's slice may start.
    last_end: u64,
}

#[derive(Clone, Copy)]
struct MRun {
    g: u64,
    p: u32,
    start: u64,
}

#[derive(Default)]
struct MState {
    run: Option<MRun>,
    /// In a blocking section: (G, P at entry, since).
    sys: Option<(u64, u32, u64)>,
    park: Option<u64>,
    /// The P this M holds, as far as the trace knows.
    p: Option<u32>,
    last_end: u64,
}

struct Conv<'a> {
    threads: &'a [String],
    strings: &'a HashMap<u64, String>,
    /// G labels (`GoLabel`), shown in slice names.
    labels: HashMap<u64, String>,
    user: user::User,
    ps: Vec<PState>,
    nowhere: PState,
    ms: BTreeMap<u32, MState>,
    sysmon_used: bool,
    others: BTreeMap<u32, String>,
    /// Flows waiting for their G's next start.
    flows: HashMap<u64, (u64, &'static str)>,
    next_flow: u64,
    /// Gs created and not started yet. The recorder already leaves out the `ready` that
    /// `newproc` makes right after creating a G; a wake of a G that never ran is not an unblock
    /// either, so any that gets through is dropped here too.
    fresh: HashSet<u64>,
}

impl<'a> Conv<'a> {
    fn new(threads: &'a [String], strings: &'a HashMap<u64, String>) -> Conv<'a> {
        Conv {
            threads,
            strings,
            labels: HashMap::new(),
            user: user::User::default(),
            ps: Vec::new(),
            nowhere: PState::default(),
            ms: BTreeMap::new(),
            sysmon_used: false,
            others: BTreeMap::new(),
            flows: HashMap::new(),
            next_flow: 1,
            fresh: HashSet::new(),
        }
    }

    /// P `p`'s state. A P id no runtime has (NONE where a P belongs: not a trace gort wrote)
    /// gets a scratch state, so that a damaged trace converts into nonsense, not a panic.
    fn p(&mut self, p: u32) -> &mut PState {
        if p >= crate::file::MAX_P {
            self.nowhere = PState::default();
            return &mut self.nowhere;
        }
        let i = p as usize;
        if self.ps.len() <= i {
            self.ps.resize_with(i + 1, PState::default);
        }
        &mut self.ps[i]
    }

    fn m(&mut self, m: u32) -> &mut MState {
        self.ms.entry(m).or_default()
    }

    fn string(&self, id: u64) -> &str {
        self.strings.get(&id).map_or("?", String::as_str)
    }

    /// A G's name in slice names: `G42`, or `G42 label` once it has one (`GoLabel`).
    fn g_name(&self, g: u64) -> String {
        match self.labels.get(&g) {
            Some(l) => format!("G{g} {l}"),
            None => format!("G{g}"),
        }
    }

    fn thread_name(&self, t: u32) -> &str {
        self.threads.get(t as usize).map_or("?", String::as_str)
    }

    fn is_sysmon(&self, t: u32) -> bool {
        self.thread_name(t) == SYSMON_THREAD
    }

    /// The track of the thread that recorded `ev`.
    fn thread_tid(&mut self, t: u32, m: u32) -> u64 {
        if m != NONE {
            self.m(m);
            M_TID + u64::from(m)
        } else if self.is_sysmon(t) {
            self.sysmon_used = true;
            SYSMON_TID
        } else {
            let name = self.thread_name(t).to_string();
            self.others.insert(t, name);
            OTHER_TID + u64::from(t)
        }
    }

    /// Does P `p` show a run of `g` by M `m`?
    fn p_runs(&self, p: u32, g: u64, m: u32) -> bool {
        self.ps
            .get(p as usize)
            .and_then(|s| s.run)
            .is_some_and(|r| r.g == g && r.m == m)
    }

    /// Close the G slice on P `p` at `ts`.
    fn close_run(
        &mut self,
        out: &mut Out<'_>,
        p: u32,
        ts: u64,
        end: &str,
        wait: &str,
    ) -> io::Result<()> {
        let Some(r) = self.p(p).run.take() else {
            return Ok(());
        };
        let name = self.g_name(r.g);
        let mut ev = Ev::new("X", &name, "g", r.start, u64::from(p))
            .field("dur", V::Ts(ts.saturating_sub(r.start)))
            .arg("g", V::U(r.g))
            .arg("m", V::U(u64::from(r.m)))
            .arg("end", V::S(end));
        if !wait.is_empty() {
            ev = ev.arg("wait", V::S(wait));
        }
        if r.continued {
            ev = ev.arg("continued", V::B(true));
        }
        out.emit(ev)?;
        if let Some((id, fname)) = r.flow {
            // Just inside the slice, so `bp: "e"` binds it to this slice and not its neighbour.
            let at = if ts > r.start.saturating_add(1) {
                r.start + 1
            } else {
                r.start
            };
            out.emit(
                Ev::new("f", fname, "flow", at, u64::from(p))
                    .field("id", V::U(id))
                    .field("bp", V::S("e")),
            )?;
        }
        Ok(())
    }

    /// Close the "M holds P" slice on P `p` at `ts`.
    fn close_held(&mut self, out: &mut Out<'_>, p: u32, ts: u64) -> io::Result<()> {
        let st = self.p(p);
        let Some((m, start)) = st.held.take() else {
            return Ok(());
        };
        st.last_end = ts;
        let name = format!("M{m}");
        out.emit(
            Ev::new("X", &name, "p", start, u64::from(p))
                .field("dur", V::Ts(ts.saturating_sub(start)))
                .arg("m", V::U(u64::from(m))),
        )
    }

    fn open_held(&mut self, out: &mut Out<'_>, p: u32, m: u32, ts: u64) -> io::Result<()> {
        if self.p(p).held.is_some() {
            // A release we did not see (it cannot happen today): keep the nesting valid.
            self.close_run(out, p, ts, "unknown", "")?;
            self.close_held(out, p, ts)?;
        }
        self.p(p).held = Some((m, ts));
        self.m(m).p = Some(p);
        Ok(())
    }

    fn instant(
        &mut self,
        out: &mut Out<'_>,
        name: &str,
        ts: u64,
        tid: u64,
        args: Vec<(&str, V<'_>)>,
    ) -> io::Result<()> {
        let mut ev = Ev::new("i", name, "sched", ts, tid).field("s", V::S("t"));
        ev.args = args;
        out.emit(ev)
    }

    /// Where a create/unblock made by the thread that recorded `ev` is shown, and whether a slice
    /// there already encloses it (else the flow needs an anchor).
    fn waker_track(&mut self, t: u32, ev: &Event, by_g: bool) -> (u64, bool) {
        if ev.m != NONE && by_g {
            let ms = self.m(ev.m);
            if let Some(r) = ms.run {
                if let Some(p) = ms.p {
                    if self.p_runs(p, r.g, ev.m) {
                        return (u64::from(p), true);
                    }
                }
                return (M_TID + u64::from(ev.m), true);
            }
        }
        (self.thread_tid(t, ev.m), false)
    }

    /// Start a flow from a create/unblock at `tid` to the G's next start.
    fn flow_start(
        &mut self,
        out: &mut Out<'_>,
        g: u64,
        ts: u64,
        (tid, anchored): (u64, bool),
        (name, anchor): (&'static str, &str),
    ) -> io::Result<()> {
        if !anchored {
            out.emit(
                Ev::new("X", anchor, "wake", ts, tid)
                    .field("dur", V::Ts(1))
                    .arg("g", V::U(g)),
            )?;
        }
        let id = self.next_flow;
        self.next_flow += 1;
        out.emit(Ev::new("s", name, "flow", ts, tid).field("id", V::U(id)))?;
        self.flows.insert(g, (id, name));
        Ok(())
    }

    /// Close everything M `m` has open (it stops, or the trace ends).
    fn close_m(&mut self, out: &mut Out<'_>, m: u32, ts: u64) -> io::Result<()> {
        let mtid = M_TID + u64::from(m);
        let ms = self.m(m);
        let (run, sys, park) = (ms.run.take(), ms.sys.take(), ms.park.take());
        ms.last_end = ts;
        if let Some((g, p, since)) = sys {
            out.emit(
                Ev::new("X", "syscall", "syscall", since, mtid)
                    .field("dur", V::Ts(ts.saturating_sub(since)))
                    .arg("g", V::U(g))
                    .arg("p", V::U(u64::from(p)))
                    .arg("exit", V::S("trace end")),
            )?;
        }
        if let Some(r) = run {
            let name = self.g_name(r.g);
            out.emit(
                Ev::new("X", &name, "m.g", r.start, mtid)
                    .field("dur", V::Ts(ts.saturating_sub(r.start)))
                    .arg("g", V::U(r.g))
                    .arg("m", V::U(u64::from(m)))
                    .arg("p", V::U(u64::from(r.p)))
                    .arg("end", V::S("running at trace end")),
            )?;
        }
        if let Some(since) = park {
            out.emit(
                Ev::new("X", "parked", "m", since, mtid)
                    .field("dur", V::Ts(ts.saturating_sub(since))),
            )?;
        }
        Ok(())
    }

    /// The trace ends: close every open slice at `end`.
    fn finish(&mut self, out: &mut Out<'_>, end: u64) -> io::Result<()> {
        for p in 0..self.ps.len() as u32 {
            self.close_run(out, p, end, "running at trace end", "")?;
            self.close_held(out, p, end)?;
        }
        let ms: Vec<u32> = self.ms.keys().copied().collect();
        for m in ms {
            self.close_m(out, m, end)?;
        }
        Ok(())
    }

    /// Track names and order: Ps first, then sysmon, the Ms, other threads.
    fn metadata(&mut self, out: &mut Out<'_>) -> io::Result<()> {
        out.emit(Ev::new("M", "process_name", "", 0, 0).arg("name", V::S("gort")))?;
        let mut tracks: Vec<(u64, String)> = (0..self.ps.len())
            .map(|p| (p as u64, format!("P{p}")))
            .collect();
        if self.sysmon_used {
            tracks.push((SYSMON_TID, "sysmon".to_string()));
        }
        tracks.extend(
            self.ms
                .keys()
                .map(|&m| (M_TID + u64::from(m), format!("M{m}"))),
        );
        tracks.extend(
            self.others
                .iter()
                .map(|(&t, name)| (OTHER_TID + u64::from(t), format!("thread {name}"))),
        );
        tracks.extend(self.user.tracks.iter().map(|(&t, n)| (t, n.clone())));
        for (tid, name) in &tracks {
            out.emit(Ev::new("M", "thread_name", "", 0, *tid).arg("name", V::S(name)))?;
            out.emit(Ev::new("M", "thread_sort_index", "", 0, *tid).arg("sort_index", V::U(*tid)))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Kind, Outcome, Source};

    fn json(events: Vec<(u32, Event)>, end_ts: u64) -> String {
        let c = Trace {
            threads: vec![
                "gort-m0".into(),
                "gort-sysmon".into(),
                "main \"quoted\"".into(),
            ],
            events,
            end_ts,
            ..Trace::default()
        };
        let mut buf = Vec::new();
        write(&c, &mut buf).expect("write to a Vec");
        String::from_utf8(buf).expect("utf-8")
    }

    fn at(ts: u64, ev: Event) -> Event {
        Event { ts, ..ev }
    }

    #[test]
    fn a_run_becomes_a_slice_on_its_p_and_its_m_with_a_flow_from_its_creation() {
        let evs = vec![
            (2, at(10, Event::new(Kind::GoCreate).g(1).aux(0, 0))),
            (0, at(20, Event::new(Kind::MStart).m(0))),
            (0, at(30, Event::new(Kind::ProcStart).m(0).p(0))),
            (0, at(1_000, Event::new(Kind::GoStart).m(0).p(0).g(1))),
            (
                0,
                at(
                    3_500,
                    Event::new(Kind::GoEnd)
                        .m(0)
                        .p(0)
                        .g(1)
                        .arg(0)
                        .aux(Outcome::Complete as u8, 0),
                ),
            ),
        ];
        let j = json(evs, 5_000);
        assert!(
            j.contains(r#"{"name":"G1","cat":"g","ph":"X","ts":1.000,"pid":1,"tid":0,"dur":2.500"#),
            "{j}"
        );
        assert!(
            j.contains(r#""name":"G1","cat":"m.g","ph":"X","ts":1.000,"pid":1,"tid":1000"#),
            "{j}"
        );
        assert!(
            j.contains(r#""ph":"s","ts":0.010,"pid":1,"tid":2002,"id":1"#),
            "{j}"
        );
        assert!(
            j.contains(r#""ph":"f","ts":1.001,"pid":1,"tid":0,"id":1,"bp":"e""#),
            "{j}"
        );
        assert!(j.contains(r#""by":"thread main \"quoted\"""#), "{j}");
        assert!(j.contains(r#""args":{"name":"P0"}"#), "{j}");
        assert!(j.ends_with("}}\n"));
    }

    #[test]
    fn a_rescue_cuts_the_g_slice_on_the_p_where_sysmon_took_it() {
        let evs = vec![
            (0, at(100, Event::new(Kind::ProcStart).m(0).p(0))),
            (0, at(200, Event::new(Kind::GoStart).m(0).p(0).g(5))),
            (1, at(20_000, Event::new(Kind::Rescue).p(0).m(0).g(5))),
            (
                0,
                at(
                    50_000,
                    Event::new(Kind::GoEnd)
                        .m(0)
                        .p(0)
                        .g(5)
                        .arg(u64::from(NONE))
                        .aux(Outcome::Complete as u8, 0),
                ),
            ),
        ];
        let j = json(evs, 60_000);
        // P track: cut at the rescue; M track: the whole poll.
        assert!(
            j.contains(r#""tid":0,"dur":19.800,"args":{"g":5,"m":0,"end":"rescued"}"#),
            "{j}"
        );
        assert!(
            j.contains(r#""tid":1000,"dur":49.800,"args":{"g":5,"m":0,"p":0,"end":"complete"}"#),
            "{j}"
        );
        assert_eq!(j.matches(r#""name":"G5","cat":"g""#).count(), 1);
    }

    #[test]
    fn a_handed_off_blocking_section_continues_on_the_p_its_m_gets_back() {
        let end = |m: usize, p: usize, g: u64, now_p: u64| {
            Event::new(Kind::GoEnd)
                .m(m)
                .p(p)
                .g(g)
                .arg(now_p)
                .aux(Outcome::Complete as u8, 0)
        };
        let evs = vec![
            (0, at(1_000, Event::new(Kind::ProcStart).m(0).p(0))),
            (0, at(2_000, Event::new(Kind::GoStart).m(0).p(0).g(5))),
            (0, at(3_000, Event::new(Kind::SyscallEnter).m(0).p(0).g(5))),
            (1, at(5_000, Event::new(Kind::Handoff).p(0).m(0))),
            (3, at(6_000, Event::new(Kind::ProcStart).m(1).p(0))),
            (3, at(7_000, Event::new(Kind::GoStart).m(1).p(0).g(6))),
            (3, at(8_000, end(1, 0, 6, 0))),
            (3, at(9_000, Event::new(Kind::ProcStop).m(1).p(0))),
            // The slow path's `acquirep`, recorded just before the exit.
            (0, at(10_000, Event::new(Kind::ProcStart).m(0).p(0))),
            (
                0,
                at(
                    10_000,
                    Event::new(Kind::SyscallExit).m(0).p(0).g(5).aux(0, 0),
                ),
            ),
            (0, at(12_000, end(0, 0, 5, 0))),
        ];
        let j = json(evs, 20_000);
        // On P0: G5 cut at the hand-off, M1's G6, then G5 again on the P its M got back.
        assert!(j.contains(r#""name":"G5","cat":"g","ph":"X","ts":2.000,"pid":1,"tid":0,"dur":3.000,"args":{"g":5,"m":0,"end":"handoff"}"#), "{j}");
        assert!(
            j.contains(r#""name":"G6","cat":"g","ph":"X","ts":7.000,"pid":1,"tid":0,"dur":1.000"#),
            "{j}"
        );
        assert!(j.contains(r#""name":"G5","cat":"g","ph":"X","ts":10.000,"pid":1,"tid":0,"dur":2.000,"args":{"g":5,"m":0,"end":"complete","continued":true}"#), "{j}");
        // On M0: the whole run, and the blocking section inside it.
        assert!(
            j.contains(
                r#""name":"G5","cat":"m.g","ph":"X","ts":2.000,"pid":1,"tid":1000,"dur":10.000"#
            ),
            "{j}"
        );
        assert!(j.contains(r#""name":"syscall","cat":"syscall","ph":"X","ts":3.000,"pid":1,"tid":1000,"dur":7.000,"args":{"g":5,"exit":"P taken; got idle P0","p":0}"#), "{j}");
        assert!(j.contains(r#""name":"Handoff""#));
        // M0 holds P0 again from the slow path's ProcStart, in one slice.
        let m0_on_p0: Vec<&str> = j
            .lines()
            .filter(|l| l.contains(r#""name":"M0","cat":"p""#))
            .collect();
        assert_eq!(m0_on_p0.len(), 2, "{m0_on_p0:?}");
        assert!(
            m0_on_p0[1].contains(r#""ts":10.000,"pid":1,"tid":0,"dur":10.000"#),
            "{j}"
        );
    }

    #[test]
    fn repeated_preemption_requests_for_one_run_show_once() {
        let evs = vec![
            (0, at(100, Event::new(Kind::GoStart).m(0).p(0).g(7))),
            (1, at(10_000, Event::new(Kind::PreemptRequest).p(0))),
            (1, at(10_020, Event::new(Kind::PreemptRequest).p(0))),
            (1, at(10_040, Event::new(Kind::PreemptRequest).p(0))),
        ];
        let j = json(evs, 20_000);
        assert_eq!(j.matches(r#""name":"PreemptRequest""#).count(), 1, "{j}");
    }

    #[test]
    fn a_wake_recorded_after_the_start_it_caused_still_flows_forward() {
        let unblock = Event::new(Kind::GoUnblock)
            .m(1)
            .p(1)
            .g(5)
            .arg(6)
            .aux(Source::G as u8, 0);
        let end = |m: usize, g, o: Outcome| {
            let ev = Event::new(Kind::GoEnd).m(m).p(m).g(g).arg(m as u64);
            ev.aux(o as u8, 1)
        };
        let mut events = vec![
            (0, at(100, Event::new(Kind::ProcStart).m(0).p(0))),
            (3, at(150, Event::new(Kind::ProcStart).m(1).p(1))),
            (0, at(200, Event::new(Kind::GoStart).m(0).p(0).g(5))),
            (0, at(300, end(0, 5, Outcome::Parked))),
            (3, at(350, Event::new(Kind::GoStart).m(1).p(1).g(6))),
            // G6 readies G5; M0 takes it from the queue and starts it before G6's M records
            // the wake.
            (0, at(400, Event::new(Kind::GoStart).m(0).p(0).g(5))),
            (3, at(410, unblock)),
            (3, at(500, end(1, 6, Outcome::Complete))),
            (0, at(600, end(0, 5, Outcome::Complete))),
        ];
        crate::order::wakes_before_starts(&mut events);
        let j = json(events, 1_000);
        // The wake is drawn at the start's time on G6's slice, and its flow lands in G5's run.
        assert!(
            j.contains(r#"{"name":"GoUnblock","cat":"sched","ph":"i","ts":0.400,"pid":1,"tid":1"#),
            "{j}"
        );
        assert!(
            j.contains(r#""ph":"s","ts":0.400,"pid":1,"tid":1,"id":1"#),
            "{j}"
        );
        assert!(
            j.contains(r#""ph":"f","ts":0.401,"pid":1,"tid":0,"id":1,"bp":"e""#),
            "{j}"
        );
    }

    #[test]
    fn tasks_regions_logs_and_labels_get_their_own_tracks() {
        use crate::event::pack;
        let mut strings = HashMap::new();
        for (id, s) in [
            (1, "serve"),
            (2, "parse"),
            (3, "http"),
            (4, "GET /"),
            (5, "worker"),
        ] {
            strings.insert(id, s.to_string());
        }
        let on_m = |k: Kind| Event::new(k).m(0).p(0);
        let evs = vec![
            (0, at(5, Event::new(Kind::GoLabel).g(7).arg(5))),
            (0, at(10, Event::new(Kind::GoStart).m(0).p(0).g(7))),
            (0, at(20, on_m(Kind::UserTaskBegin).g(1).arg(pack(1, 0)))),
            (0, at(30, on_m(Kind::UserRegionBegin).g(1).arg(2))),
            (0, at(40, on_m(Kind::UserLog).g(1).arg(pack(3, 4)))),
            (0, at(50, on_m(Kind::UserRegionEnd).g(1).arg(2))),
            (0, at(60, on_m(Kind::UserTaskEnd).g(1))),
            (0, at(70, on_m(Kind::UserRegionBegin).arg(2))),
        ];
        let c = Trace {
            threads: vec!["gort-m0".into()],
            events: evs,
            end_ts: 100,
            strings,
            ..Trace::default()
        };
        let mut buf = Vec::new();
        write(&c, &mut buf).expect("write");
        let j = String::from_utf8(buf).expect("utf-8");
        assert!(j.contains(r#"{"name":"serve","cat":"task","ph":"X","ts":0.020,"pid":1,"tid":4294967297,"dur":0.040,"args":{"task":1}}"#), "{j}");
        assert!(j.contains(r#"{"name":"parse","cat":"region","ph":"X","ts":0.030,"pid":1,"tid":8589934599,"dur":0.020,"args":{"task":1}}"#), "{j}");
        assert!(j.contains(r#"{"name":"http","cat":"user","ph":"i","ts":0.040,"pid":1,"tid":8589934599,"s":"t","args":{"message":"GET /","task":1}}"#), "{j}");
        // Open at the end: closed there and marked.
        assert!(j.contains(r#""ts":0.070,"pid":1,"tid":8589934599,"dur":0.030,"args":{"end":"running at trace end"}"#), "{j}");
        assert!(j.contains(r#""args":{"name":"task serve #1"}"#), "{j}");
        assert!(j.contains(r#""args":{"name":"G7 worker user"}"#), "{j}");
        assert!(j.contains(r#""name":"G7 worker","cat":"g""#), "{j}");
    }
}
