//! The Perfetto writer checked by reading its output back with `proto::fields`: every packet
//! well formed, tracks named, names resolved through the interning tables, begins and ends
//! nesting on each track, flows from their start to their end, and as many slices as the JSON.

use std::collections::HashMap;

use super::proto::{fields, Value};
use super::*;
use crate::event::{pack, Event, Kind, Outcome};

fn at(ts: u64, ev: Event) -> Event {
    Event { ts, ..ev }
}

fn sample() -> Trace {
    let end = |g| {
        Event::new(Kind::GoEnd)
            .m(0)
            .p(0)
            .g(g)
            .arg(0)
            .aux(Outcome::Complete as u8, 0)
    };
    let mut strings = HashMap::new();
    strings.insert(1, "serve".to_string());
    strings.insert(2, "parse".to_string());
    Trace {
        threads: vec!["gort-m0".into(), "main".into()],
        events: vec![
            (1, at(10, Event::new(Kind::GoCreate).g(1))),
            (0, at(20, Event::new(Kind::ProcStart).m(0).p(0))),
            (0, at(1_000, Event::new(Kind::GoStart).m(0).p(0).g(1))),
            (
                0,
                at(
                    1_100,
                    Event::new(Kind::UserTaskBegin)
                        .m(0)
                        .p(0)
                        .g(1)
                        .arg(pack(1, 0)),
                ),
            ),
            (
                0,
                at(
                    1_200,
                    Event::new(Kind::UserRegionBegin).m(0).p(0).g(1).arg(2),
                ),
            ),
            (
                0,
                at(1_500, Event::new(Kind::GoCreate).m(0).p(0).g(2).arg(1)),
            ),
            (
                0,
                at(1_600, Event::new(Kind::UserRegionEnd).m(0).p(0).g(1).arg(2)),
            ),
            (0, at(2_000, end(1))),
            (0, at(2_000, Event::new(Kind::GoStart).m(0).p(0).g(2))),
            (0, at(3_000, end(2))),
        ],
        end_ts: 5_000,
        strings,
        ..Trace::default()
    }
}

/// The packets of a Perfetto trace file.
fn packets(file: &[u8]) -> Vec<Vec<(u32, Value<'_>)>> {
    fields(file)
        .expect("a Trace message")
        .into_iter()
        .map(|(f, v)| {
            assert_eq!(f, TRACE_PACKET);
            fields(v.bytes().expect("a packet")).expect("a well-formed packet")
        })
        .collect()
}

fn get<'a>(m: &[(u32, Value<'a>)], field: u32) -> Option<Value<'a>> {
    m.iter().find(|(f, _)| *f == field).map(|(_, v)| *v)
}

#[test]
fn a_trace_reads_back_as_nested_named_slices_with_flows() {
    let t = sample();
    let mut file = Vec::new();
    let w = write(&t, &mut file).expect("write");
    assert_eq!(w.bytes, file.len() as u64);
    let mut tracks = HashMap::new();
    let mut names = HashMap::new();
    let mut stacks: HashMap<u64, Vec<String>> = HashMap::new();
    let (mut slices, mut instants, mut last_ts) = (Vec::new(), 0, 0);
    let (mut flows_out, mut flows_in) = (Vec::new(), Vec::new());
    for (k, p) in packets(&file).iter().enumerate() {
        assert_eq!(get(p, PKT_SEQ_ID), Some(Value::Varint(SEQ_ID)));
        let flags = if k == 0 { SEQ_CLEARED } else { SEQ_NEEDS_STATE };
        assert_eq!(get(p, PKT_SEQ_FLAGS), Some(Value::Varint(flags)));
        if let Some(td) = get(p, PKT_TRACK_DESCRIPTOR) {
            let td = fields(td.bytes().expect("bytes")).expect("descriptor");
            let name = std::str::from_utf8(get(&td, TD_NAME).and_then(Value::bytes).expect("name"));
            let uuid = get(&td, TD_UUID).and_then(Value::number).expect("uuid");
            tracks.insert(uuid, name.expect("utf-8").to_string());
            continue;
        }
        if let Some(i) = get(p, PKT_INTERNED) {
            for (f, e) in fields(i.bytes().expect("bytes")).expect("interned") {
                let e = fields(e.bytes().expect("entry")).expect("entry");
                let iid = get(&e, INTERNED_IID).and_then(Value::number).expect("iid");
                let s = get(&e, INTERNED_NAME).and_then(Value::bytes).expect("name");
                let s = String::from_utf8(s.to_vec()).expect("utf-8");
                assert!(names.insert((f, iid), s).is_none(), "an iid is sent once");
            }
        }
        let ts = get(p, PKT_TIMESTAMP)
            .and_then(Value::number)
            .expect("a time");
        assert!(ts >= last_ts, "packets in time order");
        last_ts = ts;
        let te = fields(
            get(p, PKT_TRACK_EVENT)
                .and_then(Value::bytes)
                .expect("event"),
        )
        .expect("te");
        let track = get(&te, TE_TRACK).and_then(Value::number).expect("track");
        assert!(tracks.contains_key(&track), "the track is described first");
        let name = |te: &[(u32, Value<'_>)]| {
            let iid = get(te, TE_NAME_IID)
                .and_then(Value::number)
                .expect("name iid");
            names
                .get(&(ID_NAMES, iid))
                .cloned()
                .expect("an interned name")
        };
        for (f, v) in &te {
            match *f {
                TE_FLOW_IDS => flows_out.push(v.number().expect("id")),
                TE_TERMINATING_FLOW_IDS => flows_in.push(v.number().expect("id")),
                _ => {}
            }
        }
        match get(&te, TE_TYPE).and_then(Value::number) {
            Some(TYPE_BEGIN) => stacks.entry(track).or_default().push(name(&te)),
            Some(TYPE_END) => {
                let open = stacks.get_mut(&track).and_then(Vec::pop);
                slices.push((
                    tracks[&track].clone(),
                    open.expect("an end closes an open slice"),
                ));
            }
            Some(3) => instants += 1,
            other => panic!("type {other:?}"),
        }
    }
    assert!(
        stacks.values().all(Vec::is_empty),
        "every slice ends: {stacks:?}"
    );
    assert_eq!((slices.len(), instants), (w.slices, w.instants));
    let has = |track: &str, name: &str| slices.iter().any(|(t, n)| t == track && n == name);
    assert!(
        has("P0", "G1") && has("P0", "G2") && has("P0", "M0") && has("M0", "G1"),
        "{slices:?}"
    );
    assert!(
        has("task serve #1", "serve") && has("G1 user", "parse"),
        "{slices:?}"
    );
    // Both creates flow to their G's start.
    flows_out.sort_unstable();
    flows_in.sort_unstable();
    assert_eq!(flows_out, vec![1, 2]);
    assert_eq!(flows_in, flows_out);
    // As many slices as the JSON has complete events.
    let mut json = Vec::new();
    crate::chrome::write(&t, &mut json).expect("json");
    let json = String::from_utf8(json).expect("utf-8");
    assert_eq!(json.matches(r#""ph":"X""#).count(), w.slices);
}

#[test]
fn a_zero_length_slice_begins_before_it_ends() {
    let mut t = sample();
    // A run of no length, at the time another ends.
    t.events
        .push((0, at(3_000, Event::new(Kind::GoStart).m(0).p(0).g(3))));
    t.events.push((
        0,
        at(
            3_000,
            Event::new(Kind::GoEnd).m(0).p(0).g(3).arg(0).aux(4, 0),
        ),
    ));
    let mut file = Vec::new();
    write(&t, &mut file).expect("write");
    let mut depth: HashMap<u64, i64> = HashMap::new();
    for p in packets(&file) {
        let Some(te) = get(&p, PKT_TRACK_EVENT).and_then(Value::bytes) else {
            continue;
        };
        let te = fields(te).expect("te");
        let track = get(&te, TE_TRACK).and_then(Value::number).expect("track");
        let d = depth.entry(track).or_default();
        match get(&te, TE_TYPE).and_then(Value::number) {
            Some(TYPE_BEGIN) => *d += 1,
            Some(TYPE_END) => *d -= 1,
            _ => {}
        }
        assert!(*d >= 0, "an end before its begin");
    }
}
