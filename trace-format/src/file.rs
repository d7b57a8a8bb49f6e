//! A whole trace: the buffers of every thread that recorded events, with what it takes to read
//! them — thread names, strings, the clock calibration — as the tracer hands them over
//! ([`RawTrace`]); the raw trace file, which the tracer streams as it records (Go's trace file,
//! which `go tool trace` reads); and its decoding into one time-ordered list of events
//! ([`Trace`]).
//!
//! # The raw file
//! A header, then frames, each a tag, a length and that many bytes, appended as the tracer goes:
//! a thread's buffer as soon as it is full (`gort::trace` streams them from a writer thread), a
//! thread's name when it joins, a string when it is first used. So a file cut anywhere — the
//! process was killed, the disk filled — still reads: every whole frame is kept, and the cut is
//! reported ([`RawTrace::truncated`]). All integers little-endian:
//!
//! ```text
//! magic     8 bytes  "gorttrc" + the format version (2)
//! flags     u8       bit 0: the ticks are nanoseconds already (the clock was the monotonic one)
//! start     u64 ticks, u64 ns    both clocks read when the trace started
//! frames    u8 tag, u32 length, then the payload:
//!   1 thread   u32 index, UTF-8 name
//!   2 buffer   u32 thread index, the records (`wire.rs`; each buffer decodes on its own)
//!   3 clock    u64 ticks, u64 ns   both clocks read again (written with each batch of buffers,
//!                                  so that a cut trace still converts ticks to time)
//!   4 string   u64 id, UTF-8 text  (names of user tasks, regions, log messages, G labels)
//!   5 end      u64 ticks, u64 ns, u64 dropped   the trace stopped here, whole
//! ```
//!
//! Frames of an unknown tag are skipped, so an older reader reads a newer file's events.
//!
//! # Times
//! Events are stamped with raw ticks of the CPU's counter (Go's `cputicks`); [`Calibration`] maps
//! them onto nanoseconds since the start, linearly between the start and the last clock pair (Go's
//! `traceClockNow` and the frequency `StopTrace` measures).

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Write};

use crate::event::{Event, Kind, NONE};
use crate::wire::Decoder;

/// The file's first 8 bytes: a name and the format version.
pub const MAGIC: &[u8; 8] = b"gorttrc\x02";

/// Frame tags (see the module header).
pub mod tag {
    pub const THREAD: u8 = 1;
    pub const BUFFER: u8 = 2;
    pub const CLOCK: u8 = 3;
    pub const STRING: u8 = 4;
    pub const END: u8 = 5;
}

/// The largest P id a decoded event may name: more is not a trace gort wrote (and would make a
/// reader allocate a track per P up to it).
pub const MAX_P: u32 = 1 << 16;

/// One point read on both clocks: the tick counter and the monotonic clock in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClockPair {
    pub ticks: u64,
    pub ns: u64,
}

/// Maps ticks read during a trace onto nanoseconds since its start.
#[derive(Clone, Copy, Debug)]
pub struct Calibration {
    start: ClockPair,
    /// Nanoseconds per tick, as a ratio `num / den` (both from the trace's own span).
    num: u64,
    den: u64,
}

impl Calibration {
    /// From the clocks read at start and at end; `ticks_are_ns` if the ticks are nanoseconds.
    pub fn new(start: ClockPair, end: ClockPair, ticks_are_ns: bool) -> Calibration {
        let dt = end.ticks.saturating_sub(start.ticks);
        let dn = end.ns.saturating_sub(start.ns);
        let (num, den) = if dt == 0 || dn == 0 || ticks_are_ns {
            // Too short to measure (or nothing to convert): one tick = 1 ns.
            (1, 1)
        } else {
            (dn, dt)
        };
        Calibration { start, num, den }
    }

    /// Nanoseconds since the start for a tick count read during the trace. Counts read a little
    /// before the start (a thread that saw the session begin late) clamp to 0.
    pub fn ns(&self, ticks: u64) -> u64 {
        let dt = ticks.saturating_sub(self.start.ticks);
        (u128::from(dt) * u128::from(self.num) / u128::from(self.den)).min(u128::from(u64::MAX))
            as u64
    }
}

/// A recorded trace as the tracer hands it over: the buffers as they are, undecoded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawTrace<'a> {
    /// The ticks are nanoseconds already.
    pub ticks_are_ns: bool,
    pub start: ClockPair,
    /// The clocks when the trace stopped, or (a cut file) at the last clock frame.
    pub end: ClockPair,
    /// Events dropped because the writer fell behind (or the trace was full).
    pub dropped: u64,
    /// The names of the threads that recorded events (`gort-m3`, `gort-sysmon`, `main`, ...).
    pub threads: Vec<String>,
    /// The strings events refer to by id (user annotations, G labels).
    pub strings: Vec<(u64, String)>,
    /// Each buffer: the index of its thread in `threads`, and its records.
    pub buffers: Vec<(u32, Cow<'a, [u8]>)>,
    /// The file ends before the trace's end frame: the process died or the file was cut. What
    /// is here is whole; what came after is missing.
    pub truncated: bool,
}

/// Why a raw trace could not be read or decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The bytes do not start with [`MAGIC`].
    NotRaw,
    /// A raw trace of another format version.
    Version(u8),
    /// The file ends before `what` does.
    Truncated { what: &'static str },
    /// A thread name is not UTF-8, or a buffer names a thread that is not there, ...
    Invalid { what: &'static str },
    /// Buffer `buffer` holds no whole record at byte `at`.
    Record { buffer: usize, at: usize },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotRaw => write!(f, "not a raw gort trace (no {MAGIC:?} at the start)"),
            Error::Version(v) => write!(
                f,
                "a raw gort trace of format version {v}; this reader reads version {}",
                MAGIC[7]
            ),
            Error::Truncated { what } => write!(f, "the raw trace is cut short in {what}"),
            Error::Invalid { what } => write!(f, "the raw trace has an invalid {what}"),
            Error::Record { buffer, at } => {
                write!(
                    f,
                    "buffer {buffer} of the trace holds no whole record at byte {at}"
                )
            }
        }
    }
}

impl std::error::Error for Error {}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }
}

/// Write the file's header (the start of a stream).
pub fn write_header(w: &mut dyn Write, ticks_are_ns: bool, start: ClockPair) -> io::Result<()> {
    w.write_all(MAGIC)?;
    w.write_all(&[u8::from(ticks_are_ns)])?;
    w.write_all(&start.ticks.to_le_bytes())?;
    w.write_all(&start.ns.to_le_bytes())
}

/// Write one frame: `tag`, then the length of `parts` together, then `parts`.
pub fn write_frame(w: &mut dyn Write, tag: u8, parts: &[&[u8]]) -> io::Result<()> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let len = u32::try_from(len).map_err(|_| io::Error::other("a trace frame over 4 GiB"))?;
    w.write_all(&[tag])?;
    w.write_all(&len.to_le_bytes())?;
    for p in parts {
        w.write_all(p)?;
    }
    Ok(())
}

/// A thread's name frame.
pub fn write_thread(w: &mut dyn Write, index: u32, name: &str) -> io::Result<()> {
    write_frame(w, tag::THREAD, &[&index.to_le_bytes(), name.as_bytes()])
}

/// A buffer frame: thread `thread`'s records.
pub fn write_buffer(w: &mut dyn Write, thread: u32, records: &[u8]) -> io::Result<()> {
    write_frame(w, tag::BUFFER, &[&thread.to_le_bytes(), records])
}

/// A clock frame: both clocks read now.
pub fn write_clock(w: &mut dyn Write, now: ClockPair) -> io::Result<()> {
    write_frame(
        w,
        tag::CLOCK,
        &[&now.ticks.to_le_bytes(), &now.ns.to_le_bytes()],
    )
}

/// A string frame.
pub fn write_string(w: &mut dyn Write, id: u64, text: &str) -> io::Result<()> {
    write_frame(w, tag::STRING, &[&id.to_le_bytes(), text.as_bytes()])
}

/// The end frame: the trace stopped at `end`, whole, with `dropped` events dropped.
pub fn write_end(w: &mut dyn Write, end: ClockPair, dropped: u64) -> io::Result<()> {
    write_frame(
        w,
        tag::END,
        &[
            &end.ticks.to_le_bytes(),
            &end.ns.to_le_bytes(),
            &dropped.to_le_bytes(),
        ],
    )
}

/// Reads the file's fields in order.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], Error> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or(Error::Truncated { what })?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn u64(&mut self, what: &'static str) -> Result<u64, Error> {
        let mut v = [0; 8];
        v.copy_from_slice(self.take(8, what)?);
        Ok(u64::from_le_bytes(v))
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, Error> {
        let mut v = [0; 4];
        v.copy_from_slice(self.take(4, what)?);
        Ok(u32::from_le_bytes(v))
    }

    fn pair(&mut self, what: &'static str) -> Result<ClockPair, Error> {
        Ok(ClockPair {
            ticks: self.u64(what)?,
            ns: self.u64(what)?,
        })
    }
}

/// A whole raw file holding one thread (`m0`) with one buffer of `records`, for tests and fuzzing
/// that want to reach the record decoder behind a valid header.
pub fn single_buffer_file(records: &[u8], ticks_are_ns: bool) -> Vec<u8> {
    let mut f = Vec::new();
    let start = ClockPair {
        ticks: 1_000,
        ns: 50,
    };
    let end = ClockPair {
        ticks: 2_000_000,
        ns: 1_000_050,
    };
    // Writing into a Vec cannot fail.
    let _ = write_header(&mut f, ticks_are_ns, start)
        .and_then(|()| write_thread(&mut f, 0, "m0"))
        .and_then(|()| write_buffer(&mut f, 0, records))
        .and_then(|()| write_end(&mut f, end, 0));
    f
}

/// Does `bytes` start like a raw trace file (of any format version)?
pub fn is_raw(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC[..7])
}

impl<'a> RawTrace<'a> {
    /// Write the whole file (the layout in the module header): what the tracer streams, in one go.
    pub fn write(&self, w: &mut dyn Write) -> io::Result<()> {
        write_header(w, self.ticks_are_ns, self.start)?;
        for (i, name) in self.threads.iter().enumerate() {
            let i = u32::try_from(i).map_err(|_| io::Error::other("over 4G threads"))?;
            write_thread(w, i, name)?;
        }
        for (id, text) in &self.strings {
            write_string(w, *id, text)?;
        }
        for (thread, bytes) in &self.buffers {
            write_buffer(w, *thread, bytes)?;
        }
        if self.truncated {
            write_clock(w, self.end)
        } else {
            write_end(w, self.end, self.dropped)
        }
    }

    /// Read a raw file; the buffers borrow from `bytes`. A file cut short after its header reads
    /// as far as its last whole frame, with [`RawTrace::truncated`] set; bytes that are not a
    /// trace are an error, never a panic.
    pub fn read(bytes: &'a [u8]) -> Result<RawTrace<'a>, Error> {
        if !is_raw(bytes) {
            return Err(Error::NotRaw);
        }
        if bytes.len() > 7 && bytes[7] != MAGIC[7] {
            return Err(Error::Version(bytes[7]));
        }
        let mut r = Reader { bytes, at: 0 };
        r.take(MAGIC.len(), "the magic")?;
        let flags = r.take(1, "the flags")?[0];
        let start = r.pair("the start time")?;
        let mut t = RawTrace {
            ticks_are_ns: flags & 1 != 0,
            start,
            end: start,
            truncated: true,
            ..RawTrace::default()
        };
        while r.at < bytes.len() {
            let Ok(head) = r.take(5, "a frame header") else {
                break;
            };
            let len = u32::from_le_bytes([head[1], head[2], head[3], head[4]]) as usize;
            let Ok(body) = r.take(len, "a frame") else {
                break;
            };
            let mut f = Reader { bytes: body, at: 0 };
            match head[0] {
                tag::THREAD => {
                    let i = f.u32("a thread frame")? as usize;
                    if i != t.threads.len() {
                        return Err(Error::Invalid {
                            what: "thread index",
                        });
                    }
                    t.threads.push(utf8(&body[4..], "thread name")?);
                }
                tag::BUFFER => {
                    let thread = f.u32("a buffer frame")?;
                    if thread as usize >= t.threads.len() {
                        return Err(Error::Invalid {
                            what: "buffer thread",
                        });
                    }
                    t.buffers.push((thread, Cow::Borrowed(&body[4..])));
                }
                tag::CLOCK => t.end = f.pair("a clock frame")?,
                tag::STRING => {
                    let id = f.u64("a string frame")?;
                    t.strings.push((id, utf8(&body[8..], "string")?));
                }
                tag::END => {
                    t.end = f.pair("the end frame")?;
                    t.dropped = f.u64("the end frame")?;
                    t.truncated = false;
                }
                _ => {}
            }
        }
        Ok(t)
    }

    /// Decode every buffer into one list of events in time order, in nanoseconds since the
    /// start, with wakes that were stamped after the start they caused moved before it
    /// (`order.rs`). A buffer that holds something other than whole records is an error.
    pub fn decode(&self) -> Result<Trace, Error> {
        let cal = Calibration::new(self.start, self.end, self.ticks_are_ns);
        let mut events = Vec::new();
        for (i, (thread, bytes)) in self.buffers.iter().enumerate() {
            let (mut at, mut dec) = (0, Decoder::new());
            loop {
                let mut ev = match dec.try_next(bytes, &mut at) {
                    Ok(Some(ev)) => ev,
                    Ok(None) => break,
                    Err(bad) => {
                        return Err(Error::Record {
                            buffer: i,
                            at: bad.at,
                        })
                    }
                };
                if ev.p != NONE && ev.p >= MAX_P && ev.kind != Kind::Nop {
                    return Err(Error::Invalid { what: "P id" });
                }
                ev.ts = cal.ns(ev.ts);
                events.push((*thread, ev));
            }
        }
        // Stable: a thread's events keep their recorded order when two share a time.
        events.sort_by_key(|(_, ev)| ev.ts);
        crate::order::wakes_before_starts(&mut events);
        let end_ts = self.end.ns.saturating_sub(self.start.ns);
        let end_ts = end_ts.max(events.last().map_or(0, |(_, ev)| ev.ts));
        Ok(Trace {
            threads: self.threads.clone(),
            strings: self.strings.iter().cloned().collect(),
            events,
            end_ts,
            dropped: self.dropped,
            truncated: self.truncated,
        })
    }
}

fn utf8(b: &[u8], what: &'static str) -> Result<String, Error> {
    std::str::from_utf8(b)
        .map(String::from)
        .map_err(|_| Error::Invalid { what })
}

/// A decoded trace: every event in time order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    /// Thread names, by the index each event carries.
    pub threads: Vec<String>,
    /// (thread index, event), sorted by time; a thread's own events keep their order.
    pub events: Vec<(u32, Event)>,
    /// Nanoseconds from start to stop.
    pub end_ts: u64,
    /// Events dropped because the trace was full.
    pub dropped: u64,
    /// The strings events refer to by id.
    pub strings: std::collections::HashMap<u64, String>,
    /// The file was cut before the trace's end ([`RawTrace::truncated`]).
    pub truncated: bool,
}

impl Trace {
    /// The string with id `id`, or "?" if the trace does not have it (a cut file).
    pub fn string(&self, id: u64) -> &str {
        self.strings.get(&id).map_or("?", String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Kind;
    use crate::wire::encode_buffer as buffer;

    fn sample() -> RawTrace<'static> {
        let start = |ts, m: usize, g| Event::new(Kind::GoStart).m(m).p(m).g(g).at(ts);
        RawTrace {
            ticks_are_ns: false,
            // 2 ticks per nanosecond.
            start: ClockPair {
                ticks: 1_000,
                ns: 50,
            },
            end: ClockPair {
                ticks: 201_000,
                ns: 100_050,
            },
            dropped: 3,
            threads: vec!["gort-m0".into(), "gort-m1 é".into()],
            buffers: vec![
                (0, buffer(&[start(3_000, 0, 1), start(9_000, 0, 2)]).into()),
                (1, buffer(&[start(5_000, 1, 3), start(5_000, 1, 4)]).into()),
                (0, buffer(&[start(11_000, 0, 5)]).into()),
            ],
            strings: vec![(7, "a task".into())],
            truncated: false,
        }
    }

    #[test]
    fn a_raw_trace_round_trips_through_the_file_and_decodes_in_time_order() {
        let raw = sample();
        let mut file = Vec::new();
        raw.write(&mut file).expect("write to a Vec");
        assert!(is_raw(&file));
        let back = RawTrace::read(&file).expect("read back");
        assert_eq!(back, raw);
        let t = back.decode().expect("decode");
        let got: Vec<(u32, u64, u64)> = t.events.iter().map(|(th, e)| (*th, e.g, e.ts)).collect();
        assert_eq!(
            got,
            vec![
                (0, 1, 1_000),
                (1, 3, 2_000),
                (1, 4, 2_000),
                (0, 2, 4_000),
                (0, 5, 5_000)
            ]
        );
        assert_eq!((t.end_ts, t.dropped), (100_000, 3));
        assert_eq!(t.threads[1], "gort-m1 é");
    }

    #[test]
    fn a_single_buffer_file_decodes_its_records() {
        let go = |ts, g| Event::new(Kind::GoStart).m(0).p(0).g(g).at(ts);
        let file = single_buffer_file(&buffer(&[go(3_000, 1), go(9_000, 2)]), false);
        let raw = RawTrace::read(&file).expect("a whole file");
        assert!(!raw.truncated);
        assert_eq!(raw.threads, vec!["m0".to_string()]);
        let gs: Vec<u64> = raw
            .decode()
            .expect("decode")
            .events
            .iter()
            .map(|(_, e)| e.g)
            .collect();
        assert_eq!(gs, vec![1, 2]);
    }

    #[test]
    fn a_cut_file_reads_to_its_last_whole_frame_and_says_so() {
        let mut file = Vec::new();
        sample().write(&mut file).expect("write");
        let header = MAGIC.len() + 1 + 16;
        for cut in 0..header {
            assert!(
                matches!(
                    RawTrace::read(&file[..cut]),
                    Err(Error::Truncated { .. } | Error::NotRaw)
                ),
                "cut at {cut}"
            );
        }
        let mut last = 0;
        for cut in header..file.len() {
            let t = RawTrace::read(&file[..cut]).expect("a cut file reads");
            assert!(t.truncated, "cut at {cut}");
            assert!(t.buffers.len() >= last, "whole frames only grow");
            last = t.buffers.len();
            t.decode().expect("whole frames decode");
        }
        assert_eq!(last, 3);
        assert!(!RawTrace::read(&file).expect("whole").truncated);
    }

    #[test]
    fn damaged_files_are_errors_not_panics() {
        assert_eq!(RawTrace::read(b"{\"traceEvents\":[]}"), Err(Error::NotRaw));
        assert_eq!(RawTrace::read(b"gorttrc\x01rest"), Err(Error::Version(1)));
        let mut raw = sample();
        // A switch record's kind byte with the rest of the record missing.
        raw.buffers[0].1.to_mut().push(0x1f);
        assert!(matches!(raw.decode(), Err(Error::Record { buffer: 0, .. })));
        // A P id no runtime has.
        let huge = Event::new(Kind::ProcStart).m(0).p(1 << 20);
        raw.buffers[0] = (0, buffer(&[huge]).into());
        assert_eq!(raw.decode(), Err(Error::Invalid { what: "P id" }));
    }

    /// Arbitrary bytes after a valid header, and arbitrary changes to a valid file: `read` and
    /// `decode` return (errors or traces), and never panic. (The `faults` fuzzers go further.)
    #[test]
    fn garbage_never_panics() {
        let mut file = Vec::new();
        sample().write(&mut file).expect("write");
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        for round in 0..if cfg!(miri) { 20 } else { 3_000 } {
            let mut f = file.clone();
            if round % 2 == 0 {
                for _ in 0..1 + next() % 8 {
                    let i = (next() as usize) % f.len();
                    f[i] = next() as u8;
                }
            } else {
                f.truncate(25);
                f.extend((0..next() % 200).map(|_| next() as u8));
            }
            if let Ok(t) = RawTrace::read(&f) {
                let _ = t.decode();
            }
        }
    }

    /// Random events (every kind, random ids and fields, times in any order) through the
    /// ordering and both converters: output or an error, never a panic.
    #[cfg(feature = "chrome")]
    #[test]
    fn random_events_convert_without_panicking() {
        let mut next = crate::test_rng();
        for _ in 0..if cfg!(miri) { 2 } else { 200 } {
            let mut events = Vec::new();
            let mut ts = 0u64;
            for _ in 0..next() % 200 {
                let r = next();
                ts += r % 1000;
                let ev = Event {
                    ts: if r % 13 == 0 { u64::MAX - r % 7 } else { ts },
                    g: [0, 1, 2, 3, u64::MAX][(r >> 8) as usize % 5],
                    arg: [0, 1, 2, u64::from(NONE), u64::MAX][(r >> 12) as usize % 5],
                    m: [0, 1, NONE][(r >> 16) as usize % 3],
                    p: [0, 1, 7, NONE][(r >> 20) as usize % 4],
                    kind: Kind::ALL[(r >> 24) as usize % Kind::ALL.len()],
                    aux: (r >> 32) as u8 % 8,
                    aux2: (r >> 40) as u8 % 20,
                };
                events.push(((r >> 48) as u32 % 3, ev));
            }
            let raw = RawTrace {
                threads: vec!["gort-m0".into(), "gort-sysmon".into(), "main".into()],
                buffers: events
                    .iter()
                    .map(|(t, e)| (*t, crate::wire::encode_buffer(&[*e]).into()))
                    .collect(),
                end: ClockPair { ticks: ts, ns: ts },
                ticks_are_ns: true,
                ..RawTrace::default()
            };
            if let Ok(t) = raw.decode() {
                crate::chrome::write(&t, &mut io::sink()).expect("JSON to a sink");
                crate::perfetto::write(&t, &mut io::sink()).expect("Perfetto to a sink");
            }
        }
    }

    #[test]
    fn ticks_convert_to_nanoseconds_since_the_start() {
        let a = ClockPair {
            ticks: 1_000,
            ns: 0,
        };
        let b = ClockPair {
            ticks: 3_000,
            ns: 1_000,
        };
        let cal = Calibration::new(a, b, false);
        assert_eq!((cal.ns(2_000), cal.ns(3_000), cal.ns(500)), (500, 1_000, 0));
        assert_eq!(Calibration::new(a, b, true).ns(1_500), 500);
        assert_eq!(Calibration::new(a, a, false).ns(1_015), 15);
    }
}
