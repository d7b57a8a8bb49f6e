//! A whole trace: the buffers of every thread that recorded events, with what it takes to read
//! them — thread names and the clock calibration — as the tracer hands them over at stop
//! ([`RawTrace`]); the raw trace file that is written from it (Go's trace file, which `go tool
//! trace` reads); and its decoding into one time-ordered list of events ([`Trace`]).
//!
//! # The raw file
//! All integers little-endian:
//!
//! ```text
//! magic     8 bytes  "gorttrc" + the format version (1)
//! flags     u8       bit 0: the ticks are nanoseconds already (the clock was the monotonic one)
//! start     u64 ticks, u64 ns    both clocks read when the trace started
//! end       u64 ticks, u64 ns    ... and when it stopped
//! dropped   u64      events dropped because the trace reached its size limit
//! threads   u32 count, then per thread: u32 length, UTF-8 name
//! buffers   u32 count, then per buffer: u32 thread index, u32 length, the records (`wire.rs`)
//! ```
//!
//! # Times
//! Events are stamped with raw ticks of the CPU's counter (Go's `cputicks`); [`Calibration`] maps
//! them onto nanoseconds since the start, linearly between the two clock pairs (Go's
//! `traceClockNow` and the frequency `StopTrace` measures).

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Write};

use crate::event::Event;
use crate::wire::Decoder;

/// The file's first 8 bytes: a name and the format version.
pub const MAGIC: &[u8; 8] = b"gorttrc\x01";

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
        (u128::from(dt) * u128::from(self.num) / u128::from(self.den)) as u64
    }
}

/// A recorded trace as the tracer hands it over: the buffers as they are, undecoded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawTrace<'a> {
    /// The ticks are nanoseconds already.
    pub ticks_are_ns: bool,
    pub start: ClockPair,
    pub end: ClockPair,
    /// Events dropped because the trace was full.
    pub dropped: u64,
    /// The names of the threads that recorded events (`gort-m3`, `gort-sysmon`, `main`, ...).
    pub threads: Vec<String>,
    /// Each buffer: the index of its thread in `threads`, and its records.
    pub buffers: Vec<(u32, Cow<'a, [u8]>)>,
}

/// Why a raw trace could not be read or decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The bytes do not start with [`MAGIC`].
    NotRaw,
    /// The file ends before `what` does.
    Truncated { what: &'static str },
    /// A thread name is not UTF-8, or a buffer names a thread that is not there.
    Invalid { what: &'static str },
    /// Buffer `buffer` holds no whole record at byte `at`.
    Record { buffer: usize, at: usize },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotRaw => write!(f, "not a raw gort trace (no {MAGIC:?} at the start)"),
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

/// Does `bytes` start like a raw trace file?
pub fn is_raw(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

impl<'a> RawTrace<'a> {
    /// Write the raw file (the layout in the module header).
    pub fn write(&self, w: &mut dyn Write) -> io::Result<()> {
        let len = |n: usize| {
            u32::try_from(n).map_err(|_| io::Error::other("a trace part is larger than 4 GiB"))
        };
        w.write_all(MAGIC)?;
        w.write_all(&[u8::from(self.ticks_are_ns)])?;
        for v in [
            self.start.ticks,
            self.start.ns,
            self.end.ticks,
            self.end.ns,
            self.dropped,
        ] {
            w.write_all(&v.to_le_bytes())?;
        }
        w.write_all(&len(self.threads.len())?.to_le_bytes())?;
        for name in &self.threads {
            w.write_all(&len(name.len())?.to_le_bytes())?;
            w.write_all(name.as_bytes())?;
        }
        w.write_all(&len(self.buffers.len())?.to_le_bytes())?;
        for (thread, bytes) in &self.buffers {
            w.write_all(&thread.to_le_bytes())?;
            w.write_all(&len(bytes.len())?.to_le_bytes())?;
            w.write_all(bytes)?;
        }
        Ok(())
    }

    /// Read a raw file; the buffers borrow from `bytes`.
    pub fn read(bytes: &'a [u8]) -> Result<RawTrace<'a>, Error> {
        if !is_raw(bytes) {
            return Err(Error::NotRaw);
        }
        let mut r = Reader {
            bytes,
            at: MAGIC.len(),
        };
        let flags = r.take(1, "the flags")?[0];
        let start = r.pair("the start time")?;
        let end = r.pair("the end time")?;
        let dropped = r.u64("the dropped count")?;
        let n = r.u32("the thread count")?;
        let mut threads = Vec::new();
        for _ in 0..n {
            let len = r.u32("a thread name")? as usize;
            let name = std::str::from_utf8(r.take(len, "a thread name")?);
            threads.push(
                name.map_err(|_| Error::Invalid {
                    what: "thread name",
                })?
                .to_string(),
            );
        }
        let n = r.u32("the buffer count")?;
        let mut buffers = Vec::new();
        for _ in 0..n {
            let thread = r.u32("a buffer")?;
            if thread as usize >= threads.len() {
                return Err(Error::Invalid {
                    what: "buffer thread",
                });
            }
            let len = r.u32("a buffer")? as usize;
            buffers.push((thread, Cow::Borrowed(r.take(len, "a buffer")?)));
        }
        Ok(RawTrace {
            ticks_are_ns: flags & 1 != 0,
            start,
            end,
            dropped,
            threads,
            buffers,
        })
    }

    /// Decode every buffer into one list of events in time order, in nanoseconds since the
    /// start, with wakes that were stamped after the start they caused moved before it
    /// (`order.rs`).
    pub fn decode(&self) -> Result<Trace, Error> {
        let cal = Calibration::new(self.start, self.end, self.ticks_are_ns);
        let mut events = Vec::new();
        for (i, (thread, bytes)) in self.buffers.iter().enumerate() {
            let (mut at, mut dec) = (0, Decoder::new());
            while let Some(mut ev) = dec.next(bytes, &mut at) {
                ev.ts = cal.ns(ev.ts);
                events.push((*thread, ev));
            }
            if at < bytes.len() {
                return Err(Error::Record { buffer: i, at });
            }
        }
        // Stable: a thread's events keep their recorded order when two share a time.
        events.sort_by_key(|(_, ev)| ev.ts);
        crate::order::wakes_before_starts(&mut events);
        let end_ts = self.end.ns.saturating_sub(self.start.ns);
        let end_ts = end_ts.max(events.last().map_or(0, |(_, ev)| ev.ts));
        Ok(Trace {
            threads: self.threads.clone(),
            events,
            end_ts,
            dropped: self.dropped,
        })
    }
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
    fn damaged_files_are_errors_not_panics() {
        let mut file = Vec::new();
        sample().write(&mut file).expect("write");
        assert_eq!(RawTrace::read(b"{\"traceEvents\":[]}"), Err(Error::NotRaw));
        for cut in MAGIC.len()..file.len() {
            assert!(
                matches!(RawTrace::read(&file[..cut]), Err(Error::Truncated { .. })),
                "cut at {cut}"
            );
        }
        let mut raw = sample();
        // A switch record's kind byte with the rest of the record missing.
        raw.buffers[0].1.to_mut().push(0x1f);
        assert!(matches!(raw.decode(), Err(Error::Record { buffer: 0, .. })));
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
