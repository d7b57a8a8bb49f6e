//! Writing JSON, the little of it the trace needs: one Trace Event per line, with its fields
//! and `args`, strings escaped by RFC 8259.

use std::fmt::Write as _;
use std::io::{self, Write};

/// The `pid` of every event: the trace shows one process.
const PID: u32 = 1;

/// A JSON value, only the kinds the trace uses.
pub(crate) enum V<'a> {
    S(&'a str),
    U(u64),
    /// A time in nanoseconds, written as microseconds with three decimals.
    Ts(u64),
    B(bool),
}

/// One trace event as fields + args.
pub(crate) struct Ev<'a> {
    pub(crate) ph: &'a str,
    pub(crate) name: &'a str,
    pub(crate) cat: &'a str,
    pub(crate) ts: u64,
    pub(crate) tid: u64,
    pub(crate) extra: Vec<(&'a str, V<'a>)>,
    pub(crate) args: Vec<(&'a str, V<'a>)>,
}

impl<'a> Ev<'a> {
    pub(super) fn new(ph: &'a str, name: &'a str, cat: &'a str, ts: u64, tid: u64) -> Ev<'a> {
        Ev {
            ph,
            name,
            cat,
            ts,
            tid,
            extra: Vec::new(),
            args: Vec::new(),
        }
    }

    pub(super) fn field(mut self, k: &'a str, v: V<'a>) -> Ev<'a> {
        self.extra.push((k, v));
        self
    }

    pub(super) fn arg(mut self, k: &'a str, v: V<'a>) -> Ev<'a> {
        self.args.push((k, v));
        self
    }
}

/// The output stream: comma-separated events, one per line; or, with a tap, each event handed
/// to another writer (`perfetto.rs`) instead.
pub(super) struct Out<'w> {
    pub(super) w: &'w mut dyn Write,
    first: bool,
    line: String,
    tap: Option<&'w mut dyn FnMut(&Ev<'_>)>,
}

impl<'w> Out<'w> {
    pub(super) fn new(w: &'w mut dyn Write) -> Out<'w> {
        Out {
            w,
            first: true,
            line: String::with_capacity(256),
            tap: None,
        }
    }

    /// Events go to `tap`, not to JSON.
    pub(super) fn tapped(w: &'w mut dyn Write, tap: &'w mut dyn FnMut(&Ev<'_>)) -> Out<'w> {
        Out {
            tap: Some(tap),
            ..Out::new(w)
        }
    }

    pub(super) fn raw(&mut self, s: &str) -> io::Result<()> {
        self.w.write_all(s.as_bytes())
    }

    pub(super) fn emit(&mut self, ev: Ev<'_>) -> io::Result<()> {
        if let Some(tap) = self.tap.as_mut() {
            tap(&ev);
            return Ok(());
        }
        let l = &mut self.line;
        l.clear();
        if !self.first {
            l.push_str(",\n");
        }
        self.first = false;
        l.push_str("{\"name\":");
        push_str(l, ev.name);
        if !ev.cat.is_empty() {
            l.push_str(",\"cat\":");
            push_str(l, ev.cat);
        }
        l.push_str(",\"ph\":");
        push_str(l, ev.ph);
        if ev.ph != "M" {
            l.push_str(",\"ts\":");
            push_value(l, &V::Ts(ev.ts));
        }
        let _ = write!(l, ",\"pid\":{PID},\"tid\":{}", ev.tid);
        for (k, v) in &ev.extra {
            l.push(',');
            push_str(l, k);
            l.push(':');
            push_value(l, v);
        }
        if !ev.args.is_empty() {
            l.push_str(",\"args\":{");
            for (i, (k, v)) in ev.args.iter().enumerate() {
                if i > 0 {
                    l.push(',');
                }
                push_str(l, k);
                l.push(':');
                push_value(l, v);
            }
            l.push('}');
        }
        l.push('}');
        self.w.write_all(self.line.as_bytes())
    }
}

fn push_value(l: &mut String, v: &V<'_>) {
    match v {
        V::S(s) => push_str(l, s),
        V::U(n) => {
            let _ = write!(l, "{n}");
        }
        V::Ts(ns) => {
            let _ = write!(l, "{}.{:03}", ns / 1000, ns % 1000);
        }
        V::B(b) => l.push_str(if *b { "true" } else { "false" }),
    }
}

/// Append `s` as a JSON string literal: quotes, backslashes and control characters escaped
/// (RFC 8259 §7); everything else, UTF-8 included, as is.
pub(super) fn push_str(l: &mut String, s: &str) {
    l.push('"');
    for c in s.chars() {
        match c {
            '"' => l.push_str("\\\""),
            '\\' => l.push_str("\\\\"),
            '\n' => l.push_str("\\n"),
            '\r' => l.push_str("\\r"),
            '\t' => l.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(l, "\\u{:04x}", c as u32);
            }
            c => l.push(c),
        }
    }
    l.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        let mut s = String::new();
        push_str(&mut s, "a\"b\\c\nd\u{1}é");
        assert_eq!(s, r#""a\"b\\c\nd\u0001é""#);
    }
}
