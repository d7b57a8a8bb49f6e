//! Putting each wake before the run it caused, and each run's end before the G's next start,
//! where the timestamps say otherwise.
//!
//! The runtime records a `GoCreate` or `GoUnblock` once the G is queued (`ready` and `newproc`
//! return where they put it, and the hook records that). From the moment the G is on a queue,
//! another M may take it and record its `GoStart` — with its own clock reading, on its own thread
//! — before the waker gets to record the wake. Sorted by time, the start then comes first, a few
//! nanoseconds to microseconds (the waker's `wakep` may start a thread) before the wake that caused
//! it, and a reader would see a parked G run with nobody having woken it, then a wake of a running
//! G. Go's tracer avoids this by ordering events with per-G sequence numbers; we repair it after
//! the fact: [`wakes_before_starts`] moves such a wake to just before the start, at the start's
//! time.
//!
//! Per G, a start needs a wake when the G's previous run ended parked and no wake came since
//! (counting one recorded during that run, after its poll returned `Pending` and before the end
//! was recorded — that is the next start's wake, recorded early), or when it is the G's first run
//! and a `GoCreate` of it comes later. The wake it needs is then the first `GoUnblock` of that G
//! before its run ends (for a create: the `GoCreate`, wherever it is). A G whose history began
//! before the trace owes nothing at its first start.
//!
//! The same goes for a run's end: the runtime stamps it with the time of its M's next record (the
//! next start, usually), and in that moment another M may steal the requeued G and start it. A
//! start of a G whose previous run has not ended yet moves that run's end — the next one its M
//! recorded — to just before it.

use std::collections::HashMap;

use crate::event::{Event, Kind, Outcome};

/// Reorder `events` (sorted by time) so that every wake, and every run's end, recorded after the
/// start that follows it comes right before that start, stamped with the start's time.
/// Everything else keeps its place.
pub(crate) fn wakes_before_starts(events: &mut Vec<(u32, Event)>) {
    let mut per_g: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, (_, ev)) in events.iter().enumerate() {
        if matches!(
            ev.kind,
            Kind::GoCreate | Kind::GoUnblock | Kind::GoStart | Kind::GoEnd
        ) {
            per_g.entry(ev.g).or_default().push(i);
        }
    }
    // Moved wake → the start it goes before.
    let mut moved: HashMap<usize, usize> = HashMap::new();
    for list in per_g.values() {
        let kind = |k: usize| events[list[k]].1.kind;
        // A G created during the trace owes its first start a create.
        let mut create_due = (0..list.len()).any(|k| kind(k) == Kind::GoCreate);
        let mut owed = create_due;
        let (mut running, mut woken, mut last_start) = (false, false, 0);
        for k in 0..list.len() {
            if moved.contains_key(&list[k]) {
                continue;
            }
            match kind(k) {
                Kind::GoCreate => (owed, create_due) = (false, false),
                // During a run: the next start's wake, recorded before this run's end.
                Kind::GoUnblock if running => woken = true,
                Kind::GoUnblock => owed = false,
                Kind::GoStart => {
                    if let Some(prev) = running.then_some(last_start) {
                        // The previous run's end, stamped after this start: the writer stamps
                        // an end with the time of its M's next record, and another M took the G
                        // from the queue first. Its end is the next one its M recorded.
                        let m = events[list[prev]].1.m;
                        let end = (k + 1..list.len())
                            .find(|&j| kind(j) == Kind::GoEnd && events[list[j]].1.m == m);
                        if let Some(j) = end {
                            moved.insert(list[j], list[k]);
                            let parked = Outcome::from_u8(events[list[j]].1.aux) == Outcome::Parked;
                            owed = parked && !woken;
                        }
                    }
                    last_start = k;
                    if owed {
                        // The wake this start needs, recorded after it: the G's create if that
                        // is still to come, else the first unblock before the run ends.
                        let wanted = if create_due {
                            Kind::GoCreate
                        } else {
                            Kind::GoUnblock
                        };
                        let late = (k + 1..list.len())
                            .take_while(|&j| wanted == Kind::GoCreate || kind(j) != Kind::GoEnd)
                            .find(|&j| kind(j) == wanted);
                        if let Some(j) = late {
                            moved.insert(list[j], list[k]);
                        }
                    }
                    (owed, create_due, running, woken) = (false, false, true, false);
                }
                Kind::GoEnd => {
                    let parked = Outcome::from_u8(events[list[k]].1.aux) == Outcome::Parked;
                    owed = parked && !woken;
                    running = false;
                }
                _ => {}
            }
        }
    }
    if moved.is_empty() {
        return;
    }
    let mut before: HashMap<usize, Vec<usize>> = HashMap::new();
    for (&moving, &start) in &moved {
        before.entry(start).or_default().push(moving);
    }
    let old = std::mem::take(events);
    events.reserve(old.len());
    for (i, e) in old.iter().enumerate() {
        if moved.contains_key(&i) {
            continue;
        }
        if let Some(moving) = before.get_mut(&i) {
            // The previous run's end, then the wake.
            moving.sort_unstable_by_key(|&w| (old[w].1.kind != Kind::GoEnd, w));
            for &w in moving.iter() {
                let (t, ev) = old[w];
                events.push((t, ev.at(e.1.ts)));
            }
        }
        events.push(*e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Source;

    fn start(ts: u64, m: usize, g: u64) -> (u32, Event) {
        (m as u32, Event::new(Kind::GoStart).m(m).p(m).g(g).at(ts))
    }

    fn end(ts: u64, m: usize, g: u64, o: Outcome) -> (u32, Event) {
        let ev = Event::new(Kind::GoEnd).m(m).p(m).g(g).arg(m as u64);
        (m as u32, ev.aux(o as u8, 1).at(ts))
    }

    fn wake(ts: u64, m: usize, g: u64) -> (u32, Event) {
        let ev = Event::new(Kind::GoUnblock).m(m).p(m).g(g).arg(99);
        (m as u32, ev.aux(Source::G as u8, 0).at(ts))
    }

    fn create(ts: u64, m: usize, g: u64) -> (u32, Event) {
        (
            m as u32,
            Event::new(Kind::GoCreate).m(m).p(m).g(g).arg(99).at(ts),
        )
    }

    fn reordered(mut events: Vec<(u32, Event)>) -> Vec<(u32, Event)> {
        wakes_before_starts(&mut events);
        events
    }

    #[test]
    fn a_wake_stamped_after_the_start_it_caused_moves_before_it() {
        let got = reordered(vec![
            end(10, 0, 5, Outcome::Parked),
            start(20, 1, 5),
            wake(25, 0, 5),
            end(30, 1, 5, Outcome::Complete),
        ]);
        assert_eq!(
            got,
            vec![
                end(10, 0, 5, Outcome::Parked),
                wake(20, 0, 5),
                start(20, 1, 5),
                end(30, 1, 5, Outcome::Complete),
            ]
        );
    }

    #[test]
    fn a_create_stamped_after_the_first_start_moves_before_it() {
        let got = reordered(vec![
            start(20, 1, 9),
            end(21, 1, 9, Outcome::Yield),
            create(22, 0, 9),
            start(23, 1, 9),
        ]);
        assert_eq!(
            got,
            vec![
                create(20, 0, 9),
                start(20, 1, 9),
                end(21, 1, 9, Outcome::Yield),
                start(23, 1, 9),
            ]
        );
    }

    #[test]
    fn wakes_in_their_place_stay_there() {
        let events = vec![
            create(0, 0, 5),
            start(1, 0, 5),
            // Recorded after G5's poll returned Pending, before its end: the next start's.
            wake(5, 1, 5),
            end(8, 0, 5, Outcome::Parked),
            start(12, 0, 5),
            end(20, 0, 5, Outcome::Parked),
            wake(25, 1, 5),
            start(30, 0, 5),
            end(31, 0, 5, Outcome::Parked),
        ];
        assert_eq!(reordered(events.clone()), events);
        // A G that was parked before the trace began owes its first start nothing.
        let events = vec![start(1, 0, 6), wake(3, 1, 6), end(5, 0, 6, Outcome::Parked)];
        assert_eq!(reordered(events.clone()), events);
    }

    #[test]
    fn an_early_wake_then_a_late_one_each_find_their_start() {
        let got = reordered(vec![
            start(0, 0, 5),
            wake(5, 1, 5),
            end(8, 0, 5, Outcome::Parked),
            start(12, 0, 5),
            end(20, 0, 5, Outcome::Parked),
            start(30, 0, 5),
            wake(31, 1, 5),
            wake(32, 1, 5),
            end(40, 0, 5, Outcome::Parked),
        ]);
        let wakes: Vec<u64> = got
            .iter()
            .filter(|(_, e)| e.kind == Kind::GoUnblock)
            .map(|(_, e)| e.ts)
            .collect();
        // The early one stays; the late one (31) goes before the start at 30; the one at 32 is
        // the next start's, recorded early.
        assert_eq!(wakes, vec![5, 30, 32]);
        assert_eq!(got[5], wake(30, 1, 5));
        assert_eq!(got[6], start(30, 0, 5));
    }

    #[test]
    fn an_end_stamped_after_a_steal_started_the_g_again_moves_before_that_start() {
        let got = reordered(vec![
            start(10, 1, 5),
            // M0 took G5 from M1's queue and started it before M1 recorded G5's end.
            start(20, 0, 5),
            end(25, 1, 5, Outcome::Yield),
            start(25, 1, 6),
            end(30, 0, 5, Outcome::Complete),
        ]);
        assert_eq!(
            got,
            vec![
                start(10, 1, 5),
                end(20, 1, 5, Outcome::Yield),
                start(20, 0, 5),
                start(25, 1, 6),
                end(30, 0, 5, Outcome::Complete),
            ]
        );
    }
}
