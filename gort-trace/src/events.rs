//! `gort-trace events`: the trace as a chronological text listing, one line per slice (at its start,
//! with its duration) or instant. For reading a short trace top to bottom — the bootstrap of a
//! runtime, one hand-off — where a timeline is too coarse.

use std::fmt::Write as _;

use crate::analysis::fmt_ns;
use crate::model::Trace;

/// At most `limit` lines (0 = all). Flow arrows and the 1 ns `wake` anchors are left out.
pub fn listing(t: &Trace, limit: usize) -> String {
    let mut rows: Vec<(u64, u8, String)> = Vec::new();
    for s in &t.slices {
        if s.cat == "wake" {
            continue;
        }
        rows.push((
            s.start,
            0,
            format!(
                "{:<12} {} [{} {}] {}",
                t.track_name(s.tid),
                s.name,
                s.cat,
                fmt_ns(s.dur),
                args(&s.args)
            ),
        ));
    }
    for i in &t.instants {
        rows.push((
            i.ts,
            1,
            format!("{:<12} {} {}", t.track_name(i.tid), i.name, args(&i.args)),
        ));
    }
    rows.sort_by_key(|r| (r.0, r.1));
    let n = if limit == 0 {
        rows.len()
    } else {
        limit.min(rows.len())
    };
    let mut o = String::new();
    for (ts, _, text) in &rows[..n] {
        let _ = writeln!(o, "{:>12}  {}", fmt_ns(*ts), text.trim_end());
    }
    if n < rows.len() {
        let _ = writeln!(o, "... {} more (use --limit 0 for all)", rows.len() - n);
    }
    o
}

fn args(a: &serde_json::Map<String, serde_json::Value>) -> String {
    a.iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => format!("{k}={s:?}"),
            v => format!("{k}={v}"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_come_in_time_order_with_track_names() {
        let t = Trace::parse(
            r#"[{"name":"thread_name","ph":"M","tid":1003,"args":{"name":"M3"}},
                {"name":"G1","cat":"g","ph":"X","ts":5,"dur":1,"tid":0,"args":{"g":1}},
                {"name":"MStart","ph":"i","ts":2,"tid":1003,"args":{"m":3}},
                {"name":"go","cat":"wake","ph":"X","ts":1,"dur":0.001,"tid":2000}]"#,
        )
        .expect("parse");
        let l = listing(&t, 0);
        let lines: Vec<&str> = l.lines().collect();
        assert_eq!(lines.len(), 2, "{l}");
        assert!(
            lines[0].contains("M3") && lines[0].contains("MStart"),
            "{l}"
        );
        assert!(
            lines[1].contains("P0") && lines[1].contains("G1 [g 1.0µs]"),
            "{l}"
        );
        assert!(listing(&t, 1).contains("1 more"));
    }
}
