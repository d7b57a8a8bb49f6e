//! Reading a trace file: Chrome Trace Event JSON as gort's tracer writes it
//! (`gort-trace-format`: `chrome/mod.rs` documents the tracks, names and args), into plain structs.
//!
//! Only what the analyses need is kept: complete slices (`"ph":"X"`), instants (`"i"`/`"I"`), flow
//! starts and ends, and track names. Everything else a Chrome trace may hold is skipped, so a file
//! from another producer loads too — it just has nothing gort-specific to report. Times become
//! integer nanoseconds.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

/// Why a trace could not be read.
#[derive(Debug)]
pub enum Error {
    /// The file could not be read.
    Io {
        path: String,
        source: std::io::Error,
    },
    /// The text is not JSON.
    Json(serde_json::Error),
    /// JSON, but not a trace: the message says what is wrong and where.
    Format(String),
    /// A raw trace that does not decode.
    Raw(gort_trace_format::Error),
}

/// The Chrome Trace Event JSON of a raw trace file's bytes (`gort-trace json`).
pub fn raw_to_json(bytes: &[u8]) -> Result<String, Error> {
    let raw = gort_trace_format::RawTrace::read(bytes).map_err(Error::Raw)?;
    if raw.truncated {
        eprintln!(
            "gort-trace: the raw trace is cut short (the process died?); reading what it holds"
        );
    }
    let t = raw.decode().map_err(Error::Raw)?;
    let mut out = Vec::new();
    gort_trace_format::chrome::write(&t, &mut out).map_err(|e| Error::Format(e.to_string()))?;
    String::from_utf8(out).map_err(|_| Error::Format("the converter wrote non-UTF-8".into()))
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "cannot read {path}: {source}"),
            Error::Json(e) => write!(f, "not a JSON trace: {e}"),
            Error::Format(m) => write!(f, "not a Chrome trace: {m}"),
            Error::Raw(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::Json(e) => Some(e),
            Error::Raw(e) => Some(e),
            Error::Format(_) => None,
        }
    }
}

/// A complete slice (`"ph":"X"`).
#[derive(Clone, Debug, PartialEq)]
pub struct Slice {
    pub tid: u64,
    pub name: String,
    pub cat: String,
    pub start: u64,
    pub dur: u64,
    pub args: Map<String, Value>,
}

impl Slice {
    pub fn end(&self) -> u64 {
        self.start + self.dur
    }
}

/// An instant event (`"ph":"i"`).
#[derive(Clone, Debug, PartialEq)]
pub struct Instant {
    pub tid: u64,
    pub name: String,
    pub ts: u64,
    pub args: Map<String, Value>,
}

/// One end of a flow arrow (`"ph":"s"` or `"f"`).
#[derive(Clone, Debug, PartialEq)]
pub struct FlowPoint {
    pub id: u64,
    pub name: String,
    pub tid: u64,
    pub ts: u64,
    /// True for the arrow's head (`"f"`).
    pub end: bool,
}

/// A parsed trace. Slices and instants are sorted by time.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    pub slices: Vec<Slice>,
    pub instants: Vec<Instant>,
    pub flows: Vec<FlowPoint>,
    /// `thread_name` metadata: tid → name.
    pub tracks: BTreeMap<u64, String>,
    /// The latest time anything in the trace reaches.
    pub end: u64,
}

/// Tracks of gort's tracer: tids below this are Ps.
pub const SYSMON_TID: u64 = 900;
/// M tracks are `M_TID + M id`.
pub const M_TID: u64 = 1000;

impl Trace {
    /// Read and parse a trace file: JSON, or a raw trace (from a gort built without its
    /// `trace-json` feature), which is converted to JSON first.
    pub fn load(path: &str) -> Result<Trace, Error> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_string(),
            source,
        })?;
        if gort_trace_format::file::is_raw(&bytes) {
            return Trace::parse(&raw_to_json(&bytes)?);
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| Error::Format("the file is neither UTF-8 JSON nor a raw trace".into()))?;
        Trace::parse(&text)
    }

    /// Parse the JSON text of a trace: the object form (`{"traceEvents":[...]}`) or a bare array.
    pub fn parse(text: &str) -> Result<Trace, Error> {
        let v: Value = serde_json::from_str(text).map_err(Error::Json)?;
        let events = match &v {
            Value::Array(a) => a,
            Value::Object(o) => match o.get("traceEvents") {
                Some(Value::Array(a)) => a,
                Some(_) => return Err(Error::Format("\"traceEvents\" is not an array".into())),
                None => return Err(Error::Format("no \"traceEvents\" array".into())),
            },
            _ => {
                return Err(Error::Format(
                    "the top level is neither an object nor an array".into(),
                ))
            }
        };
        let mut t = Trace::default();
        for (i, e) in events.iter().enumerate() {
            t.add(e)
                .map_err(|m| Error::Format(format!("event #{i}: {m}")))?;
        }
        t.slices
            .sort_by_key(|s| (s.start, std::cmp::Reverse(s.dur)));
        t.instants.sort_by_key(|i| i.ts);
        t.flows.sort_by_key(|f| f.ts);
        Ok(t)
    }

    fn add(&mut self, e: &Value) -> Result<(), String> {
        let Value::Object(o) = e else {
            return Err("not an object".into());
        };
        let ph = o
            .get("ph")
            .and_then(Value::as_str)
            .ok_or("no \"ph\" (phase) string")?;
        let name = o.get("name").and_then(Value::as_str).unwrap_or("");
        let tid = match o.get("tid") {
            None => 0,
            Some(v) => v.as_u64().ok_or("\"tid\" is not a non-negative integer")?,
        };
        let args = match o.get("args") {
            Some(Value::Object(a)) => a.clone(),
            _ => Map::new(),
        };
        match ph {
            "X" => {
                let start = time(o, "ts")?;
                let dur = time(o, "dur")?;
                self.end = self.end.max(start + dur);
                self.slices.push(Slice {
                    tid,
                    name: name.to_string(),
                    cat: o
                        .get("cat")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    start,
                    dur,
                    args,
                });
            }
            "i" | "I" => {
                let ts = time(o, "ts")?;
                self.end = self.end.max(ts);
                self.instants.push(Instant {
                    tid,
                    name: name.to_string(),
                    ts,
                    args,
                });
            }
            "s" | "f" => {
                let ts = time(o, "ts")?;
                let id = match o.get("id") {
                    Some(Value::Number(n)) => n.as_u64().ok_or("flow \"id\" is not an integer")?,
                    Some(Value::String(s)) => {
                        s.parse().map_err(|_| "flow \"id\" is not a number")?
                    }
                    _ => return Err("flow without an \"id\"".into()),
                };
                self.flows.push(FlowPoint {
                    id,
                    name: name.to_string(),
                    tid,
                    ts,
                    end: ph == "f",
                });
            }
            "M" if name == "thread_name" => {
                if let Some(n) = args.get("name").and_then(Value::as_str) {
                    self.tracks.insert(tid, n.to_string());
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The P tracks: (tid, name), in P order.
    pub fn procs(&self) -> Vec<(u64, String)> {
        let mut ps: Vec<(u64, String)> = self
            .tracks
            .iter()
            .filter(|(tid, name)| **tid < SYSMON_TID && name.starts_with('P'))
            .map(|(t, n)| (*t, n.clone()))
            .collect();
        if ps.is_empty() {
            // No names (a hand-made trace): every tid with a G slice below SYSMON_TID is a P.
            let mut tids: Vec<u64> = self
                .slices
                .iter()
                .filter(|s| s.cat == "g" && s.tid < SYSMON_TID)
                .map(|s| s.tid)
                .collect();
            tids.sort_unstable();
            tids.dedup();
            ps = tids.into_iter().map(|t| (t, format!("P{t}"))).collect();
        }
        ps
    }

    /// The name of track `tid` (its metadata name, else a made-up one).
    pub fn track_name(&self, tid: u64) -> String {
        match self.tracks.get(&tid) {
            Some(n) => n.clone(),
            None if tid < SYSMON_TID => format!("P{tid}"),
            None if tid == SYSMON_TID => "sysmon".into(),
            None if (M_TID..M_TID + 1000).contains(&tid) => format!("M{}", tid - M_TID),
            None => format!("tid {tid}"),
        }
    }

    /// Slices of one category.
    pub fn slices_of<'a>(&'a self, cat: &'a str) -> impl Iterator<Item = &'a Slice> + 'a {
        self.slices.iter().filter(move |s| s.cat == cat)
    }

    /// Instants with one name.
    pub fn instants_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Instant> + 'a {
        self.instants.iter().filter(move |i| i.name == name)
    }
}

/// A `ts`/`dur` field in microseconds (fractions allowed) as nanoseconds.
fn time(o: &Map<String, Value>, key: &str) -> Result<u64, String> {
    let v = o
        .get(key)
        .and_then(Value::as_f64)
        .ok_or_else(|| format!("no numeric \"{key}\""))?;
    if !v.is_finite() || v < 0.0 {
        return Err(format!("\"{key}\" is {v}, not a time"));
    }
    Ok((v * 1000.0).round() as u64)
}

/// Integer argument `key` of an event's args.
pub fn arg_u64(args: &Map<String, Value>, key: &str) -> Option<u64> {
    args.get(key).and_then(Value::as_u64)
}

/// String argument `key` of an event's args.
pub fn arg_str<'a>(args: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    args.get(key).and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn microseconds_with_fractions_become_nanoseconds() {
        let t = Trace::parse(
            r#"{"traceEvents":[{"name":"G1","cat":"g","ph":"X","ts":1.5,"dur":0.001,"pid":1,"tid":0}]}"#,
        )
        .expect("parse");
        assert_eq!(t.slices[0].start, 1500);
        assert_eq!(t.slices[0].dur, 1);
        assert_eq!(t.end, 1501);
    }

    /// A raw trace (what a gort built without `trace-json` writes): G7 runs 1–3 µs on P0 and
    /// yields, G8 starts at once.
    fn raw_file() -> Vec<u8> {
        use gort_trace_format::{event::Event, file::ClockPair, wire, Kind, Outcome, RawTrace};
        let start = |ts, g| Event::new(Kind::GoStart).m(0).p(0).g(g).at(ts);
        let end = Event::new(Kind::GoEnd).m(0).p(0).g(7).arg(0);
        let events = [
            Event::new(Kind::ProcStart).m(0).p(0).at(500),
            start(1_000, 7),
            end.aux(Outcome::Yield as u8, 0).at(3_000),
            start(3_000, 8),
        ];
        let raw = RawTrace {
            ticks_are_ns: true,
            start: ClockPair::default(),
            end: ClockPair {
                ticks: 10_000,
                ns: 10_000,
            },
            threads: vec!["gort-m0".into()],
            buffers: vec![(0, wire::encode_buffer(&events).into())],
            ..RawTrace::default()
        };
        let mut file = Vec::new();
        raw.write(&mut file).expect("write to a Vec");
        file
    }

    #[test]
    fn a_raw_trace_loads_as_its_json_would() {
        let path = std::env::temp_dir().join(format!("gort-trace-raw-{}.bin", std::process::id()));
        std::fs::write(&path, raw_file()).expect("write the raw trace");
        let t = Trace::load(path.to_str().expect("a UTF-8 path")).expect("load");
        let _ = std::fs::remove_file(&path);
        let g7 = t.slices_of("g").find(|s| s.name == "G7").expect("G7's run");
        assert_eq!((g7.start, g7.dur), (1_000, 2_000));
        assert_eq!(arg_str(&g7.args, "end"), Some("yield"));
        assert!(t.slices_of("g").any(|s| s.name == "G8"));
        let e = raw_to_json(&raw_file()[..20]).expect_err("cut short");
        assert!(e.to_string().contains("cut short"), "{e}");
    }

    #[test]
    fn a_bare_array_is_accepted() {
        let t = Trace::parse(r#"[{"name":"x","ph":"i","ts":2,"tid":3}]"#).expect("parse");
        assert_eq!(t.instants.len(), 1);
    }

    #[test]
    fn malformed_input_gives_an_error_that_says_what_is_wrong() {
        let e = Trace::parse("{").expect_err("truncated");
        assert!(e.to_string().contains("not a JSON trace"), "{e}");
        let e = Trace::parse(r#"{"events":[]}"#).expect_err("no traceEvents");
        assert!(e.to_string().contains("traceEvents"), "{e}");
        let e =
            Trace::parse(r#"{"traceEvents":[{"ph":"X","ts":-1,"dur":1}]}"#).expect_err("bad ts");
        assert!(e.to_string().contains("event #0"), "{e}");
        let e = Trace::parse(r#"{"traceEvents":[7]}"#).expect_err("not an object");
        assert!(e.to_string().contains("not an object"), "{e}");
        let e = Trace::load("/nonexistent/gort/trace.json").expect_err("missing file");
        assert!(e.to_string().starts_with("cannot read /nonexistent"), "{e}");
    }
}
