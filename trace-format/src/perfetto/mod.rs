//! Writing a trace in Perfetto's own format: a stream of `TracePacket` protobuf messages
//! (perfetto/protos/perfetto/trace/trace_packet.proto), which ui.perfetto.dev and Perfetto's
//! `trace_processor` load much faster than JSON, and in a fraction of its size — for traces too
//! big for JSON. `gort-trace perfetto trace.bin -o trace.pftrace`.
//!
//! The tracks and what is on them are the Chrome JSON's (`chrome/mod.rs`): this replays the trace
//! through the same converter and writes each of its events as protobuf instead.
//!
//! - each track (`tid`) is a `TrackDescriptor` (uuid = tid + 1, its name);
//! - a complete slice is a `TrackEvent` `TYPE_SLICE_BEGIN` at its start and `TYPE_SLICE_END` at
//!   its end (Perfetto has no complete events), an instant is `TYPE_INSTANT`; args are debug
//!   annotations;
//! - a flow is the id in `flow_ids` of the event it starts at (the create or wake, or its anchor)
//!   and in `terminating_flow_ids` of the slice it ends in;
//! - event names, categories and annotation names are interned (`InternedData`, sent in the
//!   packet that first uses each), so each repeated string costs a small varint.
//!
//! The converter closes a slice when it ends, so slices come out of it ordered by their ends; the
//! begins and ends are sorted here by time — outer slices begin first and end last — because a
//! track's events must nest in the order they are read.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};

use crate::chrome::json::{Ev, V};
use crate::file::Trace;

pub mod proto;

use proto::Msg;

// Field numbers (protos/perfetto/trace/...).
const TRACE_PACKET: u32 = 1; // Trace.packet
const PKT_TIMESTAMP: u32 = 8;
const PKT_SEQ_ID: u32 = 10; // trusted_packet_sequence_id
const PKT_TRACK_EVENT: u32 = 11;
const PKT_INTERNED: u32 = 12;
const PKT_SEQ_FLAGS: u32 = 13;
const PKT_TRACK_DESCRIPTOR: u32 = 60;
const SEQ_CLEARED: u64 = 1;
const SEQ_NEEDS_STATE: u64 = 2;
const TD_UUID: u32 = 1;
const TD_NAME: u32 = 2;
const TE_CATEGORY_IIDS: u32 = 3;
const TE_ANNOTATIONS: u32 = 4;
const TE_TYPE: u32 = 9;
const TE_NAME_IID: u32 = 10;
const TE_TRACK: u32 = 11;
const TE_FLOW_IDS: u32 = 47;
const TE_TERMINATING_FLOW_IDS: u32 = 48;
const TYPE_BEGIN: u64 = 1;
const TYPE_END: u64 = 2;
const TYPE_INSTANT: u32 = 3;
const DA_NAME_IID: u32 = 1;
const DA_BOOL: u32 = 2;
const DA_UINT: u32 = 3;
const DA_STRING: u32 = 6;
const ID_CATEGORIES: u32 = 1;
const ID_NAMES: u32 = 2;
const ID_ANNOTATION_NAMES: u32 = 3;
const INTERNED_IID: u32 = 1;
const INTERNED_NAME: u32 = 2;
/// The one packet sequence this writer uses.
const SEQ_ID: u64 = 1;

/// An argument value.
enum Arg {
    S(String),
    U(u64),
    B(bool),
}

/// A slice or an instant as the converter gave it.
struct Item {
    tid: u64,
    ts: u64,
    /// None for an instant.
    dur: Option<u64>,
    name: String,
    cat: String,
    args: Vec<(String, Arg)>,
    flows_out: Vec<u64>,
    flows_in: Vec<u64>,
}

/// What [`write()`] wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub tracks: usize,
    pub slices: usize,
    pub instants: usize,
    pub bytes: u64,
}

/// Interned strings of one kind: text → iid (from 1).
#[derive(Default)]
struct Interner(HashMap<String, u64>);

impl Interner {
    /// The iid of `s`, and whether it is new (then the packet must carry it).
    fn get(&mut self, s: &str) -> (u64, bool) {
        if let Some(&i) = self.0.get(s) {
            return (i, false);
        }
        let i = self.0.len() as u64 + 1;
        self.0.insert(s.to_string(), i);
        (i, true)
    }
}

/// Write `t` to `w` as a Perfetto protobuf trace.
pub fn write(t: &Trace, w: &mut dyn Write) -> io::Result<Written> {
    let mut items: Vec<Item> = Vec::new();
    let mut names: BTreeMap<u64, String> = BTreeMap::new();
    crate::chrome::replay(t, &mut |ev: &Ev<'_>| match ev.ph {
        "X" | "i" => {
            let dur = ev.extra.iter().find_map(|(k, v)| match (k, v) {
                (&"dur", V::Ts(d)) => Some(*d),
                _ => None,
            });
            let args = ev
                .args
                .iter()
                .map(|(k, v)| {
                    let a = match v {
                        V::S(s) => Arg::S((*s).to_string()),
                        V::U(n) | V::Ts(n) => Arg::U(*n),
                        V::B(b) => Arg::B(*b),
                    };
                    ((*k).to_string(), a)
                })
                .collect();
            items.push(Item {
                tid: ev.tid,
                ts: ev.ts,
                dur: if ev.ph == "X" {
                    Some(dur.unwrap_or(0))
                } else {
                    None
                },
                name: ev.name.to_string(),
                cat: ev.cat.to_string(),
                args,
                flows_out: Vec::new(),
                flows_in: Vec::new(),
            });
        }
        // A flow starts at the event written just before it (the create or wake, or the
        // anchor slice made for it) and ends in the slice written just before its end.
        "s" | "f" => {
            let id = ev.extra.iter().find_map(|(k, v)| match (k, v) {
                (&"id", V::U(i)) => Some(*i),
                _ => None,
            });
            if let (Some(id), Some(last)) = (id, items.last_mut()) {
                if ev.ph == "s" {
                    last.flows_out.push(id);
                } else {
                    last.flows_in.push(id);
                }
            }
        }
        "M" if ev.name == "thread_name" => {
            if let Some((_, V::S(n))) = ev.args.first() {
                names.insert(ev.tid, (*n).to_string());
            }
        }
        _ => {}
    })?;

    // Begins and ends in the order a reader must see them: by time; at one time, ends before
    // begins (but a zero-length slice's end after its own begin); outer begins first, inner
    // ends first.
    let mut order: Vec<(u64, u8, i128, usize, bool)> = Vec::with_capacity(items.len() * 2);
    for (i, it) in items.iter().enumerate() {
        match it.dur {
            Some(d) => {
                order.push((it.ts, 1, -i128::from(d), i, true));
                let end_rank = if d == 0 { 2 } else { 0 };
                order.push((
                    it.ts.saturating_add(d),
                    end_rank,
                    -i128::from(it.ts),
                    i,
                    false,
                ));
            }
            None => order.push((it.ts, 1, 0, i, true)),
        }
    }
    order.sort_by_key(|o| (o.0, o.1, o.2, o.3));

    let mut out = Counted { w, n: 0 };
    let mut written = Written::default();
    let mut first = true;
    let mut packet = |out: &mut Counted<'_>, p: &mut Msg| -> io::Result<()> {
        p.varint(PKT_SEQ_ID, SEQ_ID);
        p.varint(
            PKT_SEQ_FLAGS,
            if first { SEQ_CLEARED } else { SEQ_NEEDS_STATE },
        );
        first = false;
        let mut t = Msg::default();
        t.msg(TRACE_PACKET, p);
        out.write_all(&t.0)
    };
    let mut tids: Vec<u64> = items.iter().map(|i| i.tid).collect();
    tids.extend(names.keys());
    tids.sort_unstable();
    tids.dedup();
    for tid in &tids {
        let mut td = Msg::default();
        td.varint(TD_UUID, tid.wrapping_add(1));
        td.str(TD_NAME, names.get(tid).map_or("?", String::as_str));
        let mut p = Msg::default();
        p.msg(PKT_TRACK_DESCRIPTOR, &td);
        packet(&mut out, &mut p)?;
    }
    written.tracks = tids.len();
    let (mut ev_names, mut cats, mut arg_names) = (
        Interner::default(),
        Interner::default(),
        Interner::default(),
    );
    for (ts, _, _, i, begin) in order {
        let it = &items[i];
        let mut te = Msg::default();
        te.varint(TE_TRACK, it.tid.wrapping_add(1));
        let mut interned = Msg::default();
        let new_entry = |iid: u64, text: &str, field: u32, interned: &mut Msg| {
            let mut e = Msg::default();
            e.varint(INTERNED_IID, iid).str(INTERNED_NAME, text);
            interned.msg(field, &e);
        };
        if begin {
            let ty = if it.dur.is_some() {
                written.slices += 1;
                TYPE_BEGIN
            } else {
                written.instants += 1;
                u64::from(TYPE_INSTANT)
            };
            te.varint(TE_TYPE, ty);
            let (iid, new) = ev_names.get(&it.name);
            if new {
                new_entry(iid, &it.name, ID_NAMES, &mut interned);
            }
            te.varint(TE_NAME_IID, iid);
            if !it.cat.is_empty() {
                let (iid, new) = cats.get(&it.cat);
                if new {
                    new_entry(iid, &it.cat, ID_CATEGORIES, &mut interned);
                }
                te.varint(TE_CATEGORY_IIDS, iid);
            }
            for (k, v) in &it.args {
                let (iid, new) = arg_names.get(k);
                if new {
                    new_entry(iid, k, ID_ANNOTATION_NAMES, &mut interned);
                }
                let mut da = Msg::default();
                da.varint(DA_NAME_IID, iid);
                match v {
                    Arg::S(s) => da.str(DA_STRING, s),
                    Arg::U(n) => da.varint(DA_UINT, *n),
                    Arg::B(b) => da.varint(DA_BOOL, u64::from(*b)),
                };
                te.msg(TE_ANNOTATIONS, &da);
            }
            for f in &it.flows_out {
                te.fixed64(TE_FLOW_IDS, *f);
            }
            for f in &it.flows_in {
                te.fixed64(TE_TERMINATING_FLOW_IDS, *f);
            }
        } else {
            te.varint(TE_TYPE, TYPE_END);
        }
        let mut p = Msg::default();
        p.varint(PKT_TIMESTAMP, ts);
        p.msg(PKT_TRACK_EVENT, &te);
        if !interned.0.is_empty() {
            p.msg(PKT_INTERNED, &interned);
        }
        packet(&mut out, &mut p)?;
    }
    out.w.flush()?;
    written.bytes = out.n;
    Ok(written)
}

struct Counted<'a> {
    w: &'a mut dyn Write,
    n: u64,
}

impl Counted<'_> {
    fn write_all(&mut self, b: &[u8]) -> io::Result<()> {
        self.n += b.len() as u64;
        self.w.write_all(b)
    }
}

#[cfg(test)]
mod tests;
