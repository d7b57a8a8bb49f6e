//! `gort-trace html`: one self-contained HTML page with an inline SVG timeline — the poor man's
//! `go tool trace` view, readable offline in any browser (no script, no external font or file).
//!
//! One row per P. Each run of a G on that P is a rectangle coloured by G id (the same G keeps its
//! colour everywhere); a thin grey band under the row shows which M held the P. Marks above the row:
//! steals, sysmon's preemption requests and the yields that honoured them, hand-offs of a P from a
//! blocking section, and runaway-poll rescues. Below, a row per M (the G runs, blocking sections,
//! parked time) and a row per user-annotation track (tasks; a G's regions, nested, and its log
//! messages). Hovering anything shows its details (SVG `<title>`).
//! The goroutine analysis follows the picture as text.

use std::fmt::Write as _;

use crate::analysis::{fmt_ns, summary_text, Analysis};
use crate::model::{arg_str, arg_u64, Trace, M_TID};

const LEFT: f64 = 64.0;
const PLOT_W: f64 = 1200.0;
const RIGHT: f64 = 44.0;
const TOP: f64 = 44.0;
const ROW_H: f64 = 30.0;
const ROW_GAP: f64 = 14.0;
const MARK_H: f64 = 8.0;
const M_ROW_H: f64 = 16.0;
const M_ROW_GAP: f64 = 6.0;

/// The instants drawn as marks, with their legend text and CSS class.
const MARKS: [(&str, &str, &str); 5] = [
    ("Steal", "steal (thief's row)", "steal"),
    ("PreemptRequest", "sysmon asks the G to yield", "preq"),
    ("GoPreempt", "the G yields (preempted)", "preempt"),
    (
        "Handoff",
        "sysmon hands the P off (blocking section)",
        "handoff",
    ),
    ("Rescue", "sysmon rescues the P (runaway poll)", "rescue"),
];

/// Escape text for HTML/SVG content and attribute values.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// A G's colour: golden-angle hues, so neighbouring ids differ.
fn colour(g: u64) -> String {
    let hue = (g as f64 * 137.508) % 360.0;
    format!("hsl({hue:.0},62%,58%)")
}

/// A "nice" tick step (1, 2 or 5 × 10^k ns) giving at most about `max_ticks` ticks over `span`.
fn tick_step(span: u64, max_ticks: u64) -> u64 {
    let mut step = 1u64;
    loop {
        for m in [1, 2, 5] {
            let s = step.saturating_mul(m);
            if span / s <= max_ticks {
                return s;
            }
        }
        step = step.saturating_mul(10);
    }
}

/// Render the page.
pub fn render(t: &Trace, a: &Analysis, title: &str) -> String {
    let procs = t.procs();
    let threads: Vec<(u64, String)> = t
        .tracks
        .iter()
        .filter(|(tid, _)| (M_TID..M_TID + 1000).contains(*tid))
        .map(|(tid, n)| (*tid, n.clone()))
        .collect();
    // The user annotations' tracks (tasks, a G's regions and logs: `chrome/user.rs`).
    let user: Vec<(u64, String)> = t
        .tracks
        .iter()
        .filter(|(tid, _)| **tid >= USER_TRACKS)
        .map(|(tid, n)| (*tid, n.clone()))
        .collect();
    let span = t.end.max(1);
    let x = |ns: u64| LEFT + ns as f64 / span as f64 * PLOT_W;
    let rows_h = procs.len() as f64 * (ROW_H + ROW_GAP);
    let m_top = TOP + rows_h + 20.0;
    let m_rows_h = threads.len() as f64 * (M_ROW_H + M_ROW_GAP);
    let m_bottom = if threads.is_empty() {
        TOP + rows_h - ROW_GAP
    } else {
        m_top + m_rows_h - M_ROW_GAP
    };
    let u_top = m_bottom + 26.0;
    let grid_bottom = if user.is_empty() {
        m_bottom
    } else {
        u_top + user.len() as f64 * (M_ROW_H + M_ROW_GAP) - M_ROW_GAP
    };
    let legend_y = grid_bottom + 24.0;
    let height = legend_y + 24.0 * (MARKS.len() as f64 / 2.0 + 2.0).ceil() + 34.0;
    let width = LEFT + PLOT_W + RIGHT;

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg class=\"timeline\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\" aria-label=\"scheduler timeline\">"
    );

    // Time axis and grid.
    let step = tick_step(span, 12);
    let _ = writeln!(svg, "<g class=\"axis\">");
    let mut tick = 0;
    while tick <= span {
        let tx = x(tick);
        let _ = writeln!(
            svg,
            "<line x1=\"{tx:.1}\" y1=\"{:.1}\" x2=\"{tx:.1}\" y2=\"{:.1}\"/><text x=\"{tx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            TOP - 14.0,
            grid_bottom,
            TOP - 18.0,
            escape(&fmt_ns(tick))
        );
        tick += step;
    }
    let _ = writeln!(svg, "</g>");

    for (row, (tid, name)) in procs.iter().enumerate() {
        let y = TOP + row as f64 * (ROW_H + ROW_GAP);
        row_start(&mut svg, "p-row", *tid, name, y, ROW_H);
        // Which M held the P.
        for s in t.slices_of("p").filter(|s| s.tid == *tid) {
            let (x0, x1) = (x(s.start), x(s.end()));
            let _ = writeln!(
                svg,
                "<rect class=\"held\" x=\"{x0:.2}\" y=\"{:.1}\" width=\"{:.2}\" height=\"3\"><title>{} held {} from {} for {}</title></rect>",
                y + ROW_H - 3.0,
                (x1 - x0).max(0.5),
                escape(&s.name),
                escape(name),
                escape(&fmt_ns(s.start)),
                escape(&fmt_ns(s.dur))
            );
        }
        // The G runs.
        for s in t.slices_of("g").filter(|s| s.tid == *tid) {
            let g = arg_u64(&s.args, "g").unwrap_or(0);
            let (x0, x1) = (x(s.start), x(s.end()));
            let w = (x1 - x0).max(0.5);
            let mut tip = format!(
                "{} on {} (M{}): starts {}, runs {}; end: {}",
                s.name,
                name,
                arg_u64(&s.args, "m").map_or("?".into(), |m| m.to_string()),
                fmt_ns(s.start),
                fmt_ns(s.dur),
                arg_str(&s.args, "end").unwrap_or("?")
            );
            if let Some(w) = arg_str(&s.args, "wait") {
                let _ = write!(tip, " ({w})");
            }
            if s.args.get("continued").and_then(|v| v.as_bool()) == Some(true) {
                tip.push_str("; continues a run after a blocking section");
            }
            let _ = writeln!(
                svg,
                "<rect class=\"g\" x=\"{x0:.2}\" y=\"{:.1}\" width=\"{w:.2}\" height=\"{:.1}\" fill=\"{}\"><title>{}</title></rect>",
                y + 3.0,
                ROW_H - 8.0,
                colour(g),
                escape(&tip)
            );
            if w > 8.0 * s.name.len() as f64 {
                let _ = writeln!(
                    svg,
                    "<text class=\"glabel\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                    x0 + 3.0,
                    y + ROW_H / 2.0 + 3.0,
                    escape(&s.name)
                );
            }
        }
        // Marks.
        for (event, _, class) in MARKS {
            for i in t.instants_named(event).filter(|i| i.tid == *tid) {
                let mx = x(i.ts);
                let tip = format!("{event} at {}: {}", fmt_ns(i.ts), args_text(&i.args));
                let _ = writeln!(
                    svg,
                    "<g class=\"mark {class}\">{}<title>{}</title></g>",
                    mark_shape(class, mx, y - 1.0),
                    escape(&tip)
                );
            }
        }
        let _ = writeln!(svg, "</g>");
    }

    // The threads: what each M did — the G it ran (whole runs, also while its P was taken), its
    // blocking sections, and when it was parked.
    if !threads.is_empty() {
        section_title(
            &mut svg,
            m_top,
            "threads (Ms): G runs, blocking sections, parked",
        );
    }
    for (row, (tid, name)) in threads.iter().enumerate() {
        let y = m_top + row as f64 * (M_ROW_H + M_ROW_GAP);
        row_start(&mut svg, "m-row", *tid, name, y, M_ROW_H);
        for s in t.slices.iter().filter(|s| s.tid == *tid) {
            let (class, fill, tip) = match s.cat.as_str() {
                "m.g" => (
                    "mg",
                    colour(arg_u64(&s.args, "g").unwrap_or(0)),
                    format!(
                        "{} on {name}: starts {}, runs {}; end: {}",
                        s.name,
                        fmt_ns(s.start),
                        fmt_ns(s.dur),
                        arg_str(&s.args, "end").unwrap_or("?")
                    ),
                ),
                "syscall" => (
                    "sys",
                    String::new(),
                    format!(
                        "blocking section of G{} on {name}: {}; exit: {}",
                        arg_u64(&s.args, "g").unwrap_or(0),
                        fmt_ns(s.dur),
                        arg_str(&s.args, "exit").unwrap_or("?")
                    ),
                ),
                "m" => (
                    "parked",
                    String::new(),
                    format!(
                        "{name} parked from {} for {}",
                        fmt_ns(s.start),
                        fmt_ns(s.dur)
                    ),
                ),
                _ => continue,
            };
            let (x0, x1) = (x(s.start), x(s.end()));
            let (y0, h) = if class == "sys" {
                (y + M_ROW_H / 2.0, M_ROW_H / 2.0)
            } else {
                (y + 1.0, M_ROW_H - 2.0)
            };
            let fill = if fill.is_empty() {
                String::new()
            } else {
                format!(" fill=\"{fill}\"")
            };
            let _ = writeln!(
                svg,
                "<rect class=\"{class}\" x=\"{x0:.2}\" y=\"{y0:.1}\" width=\"{:.2}\" height=\"{h:.1}\"{fill}><title>{}</title></rect>",
                (x1 - x0).max(0.5),
                escape(&tip)
            );
        }
        let _ = writeln!(svg, "</g>");
    }

    if !user.is_empty() {
        section_title(
            &mut svg,
            u_top,
            "annotations: tasks, regions (nested), log messages",
        );
    }
    for (row, (tid, name)) in user.iter().enumerate() {
        let y = u_top + row as f64 * (M_ROW_H + M_ROW_GAP);
        row_start(&mut svg, "u-row", *tid, &short(name), y, M_ROW_H);
        let slices: Vec<_> = t.slices.iter().filter(|s| s.tid == *tid).collect();
        for s in &slices {
            // Nested regions: thinner the deeper (slices are sorted by start, longest first).
            let depth = slices
                .iter()
                .filter(|o| !std::ptr::eq(**o, *s) && o.start <= s.start && o.end() >= s.end())
                .count()
                .min(4) as f64;
            let (x0, x1) = (x(s.start), x(s.end()));
            let tip = format!(
                "{} {} on {name}: starts {}, lasts {}{}",
                s.cat,
                s.name,
                fmt_ns(s.start),
                fmt_ns(s.dur),
                arg_str(&s.args, "end").map_or(String::new(), |e| format!(" ({e})"))
            );
            let _ = writeln!(
                svg,
                "<rect class=\"user {}\" x=\"{x0:.2}\" y=\"{:.1}\" width=\"{:.2}\" height=\"{:.1}\"><title>{}</title></rect>",
                if s.cat == "task" { "task" } else { "region" },
                y + 1.0 + 2.0 * depth,
                (x1 - x0).max(0.5),
                M_ROW_H - 2.0 - 4.0 * depth,
                escape(&tip)
            );
        }
        for i in t.instants.iter().filter(|i| i.tid == *tid) {
            let mx = x(i.ts);
            let tip = format!(
                "log [{}] at {}: {}",
                i.name,
                fmt_ns(i.ts),
                args_text(&i.args)
            );
            let _ = writeln!(
                svg,
                "<line class=\"log\" x1=\"{mx:.2}\" y1=\"{y:.1}\" x2=\"{mx:.2}\" y2=\"{:.1}\"><title>{}</title></line>",
                y + M_ROW_H,
                escape(&tip)
            );
        }
        let _ = writeln!(svg, "</g>");
    }

    // Legend.
    let _ = writeln!(svg, "<g class=\"legend\">");
    let _ = writeln!(
        svg,
        "<rect class=\"swatch\" x=\"{LEFT:.1}\" y=\"{legend_y:.1}\" width=\"28\" height=\"12\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{:.1}\">a run of a G (one colour per G; hover for details)</text>",
        colour(42),
        LEFT + 34.0,
        legend_y + 10.0
    );
    let _ = writeln!(
        svg,
        "<rect class=\"held\" x=\"{:.1}\" y=\"{:.1}\" width=\"28\" height=\"3\"/><text x=\"{:.1}\" y=\"{:.1}\">an M holds the P</text>",
        LEFT + 420.0,
        legend_y + 5.0,
        LEFT + 454.0,
        legend_y + 10.0
    );
    for (k, (_, label, class)) in MARKS.iter().enumerate() {
        let col = (k % 2) as f64;
        let line = (k / 2) as f64 + 1.0;
        let lx = LEFT + col * 420.0 + 12.0;
        let ly = legend_y + line * 22.0 + 6.0;
        let _ = writeln!(
            svg,
            "<g class=\"mark {class}\">{}</g><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            mark_shape(class, lx, ly),
            lx + 22.0,
            ly,
            escape(label)
        );
    }
    let extra_y = legend_y + ((MARKS.len() as f64 / 2.0).ceil() + 1.0) * 22.0 + 6.0;
    let _ = writeln!(
        svg,
        "<rect class=\"sys\" x=\"{:.1}\" y=\"{:.1}\" width=\"20\" height=\"8\"/><text x=\"{:.1}\" y=\"{extra_y:.1}\">a blocking section (gort::blocking) on an M</text>",
        LEFT + 2.0,
        extra_y - 8.0,
        LEFT + 34.0
    );
    let _ = writeln!(
        svg,
        "<rect class=\"parked\" x=\"{:.1}\" y=\"{:.1}\" width=\"20\" height=\"10\"/><text x=\"{:.1}\" y=\"{extra_y:.1}\">an M parked on the idle list</text>",
        LEFT + 422.0,
        extra_y - 9.0,
        LEFT + 454.0
    );
    let _ = writeln!(svg, "</g>");
    let _ = writeln!(svg, "</svg>");

    let c = &a.counts;
    let mut page = String::new();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\n{}</style>\n</head>\n<body>\n",
        escape(title),
        CSS
    );
    let _ = writeln!(page, "<h1>{}</h1>", escape(title));
    let _ = writeln!(
        page,
        "<p class=\"facts\">{} long · {} Ps · {} Ms · {} Gs · {} steals · {} preemptions · {} hand-offs · {} rescues · {} runnext hand-offs</p>",
        escape(&fmt_ns(a.duration)),
        a.procs,
        a.ms,
        a.gs.len(),
        c.steals,
        c.preemptions,
        c.handoffs,
        c.rescues,
        c.runnext
    );
    let _ = writeln!(page, "<div class=\"scroll\">\n{svg}</div>");
    let _ = writeln!(
        page,
        "<h2>Goroutine analysis</h2>\n<pre>{}</pre>",
        escape(&summary_text(a, 60))
    );
    page.push_str("</body>\n</html>\n");
    page
}

/// Tracks of the user annotations have tids from here (`gort-trace-format`: `chrome/user.rs`).
const USER_TRACKS: u64 = 1 << 32;

/// Open a row's group (`<g class="{class}">`, closed by the caller) with its label in the left margin
/// and its grey lane, `h` high from `y`.
fn row_start(svg: &mut String, class: &str, tid: u64, label: &str, y: f64, h: f64) {
    let _ = writeln!(svg, "<g class=\"{class}\" data-tid=\"{tid}\">");
    let _ = writeln!(
        svg,
        "<text class=\"label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
        LEFT - 8.0,
        y + h / 2.0 + 4.0,
        escape(label)
    );
    let _ = writeln!(
        svg,
        "<rect class=\"lane\" x=\"{LEFT:.1}\" y=\"{y:.1}\" width=\"{PLOT_W:.1}\" height=\"{h:.1}\"/>"
    );
}

/// The title of a section of rows (the Ms, the annotations), just above its first row at `top`.
fn section_title(svg: &mut String, top: f64, text: &str) {
    let _ = writeln!(
        svg,
        "<text class=\"section\" x=\"{LEFT:.1}\" y=\"{:.1}\">{text}</text>",
        top - 6.0
    );
}

/// A row label short enough for the left margin.
fn short(name: &str) -> String {
    let mut s: String = name.chars().take(9).collect();
    if name.chars().count() > 9 {
        s.push('…');
    }
    s
}

/// A mark's shape at (`x`, `y`): `y` is the top of the row, the mark sits just above it.
fn mark_shape(class: &str, x: f64, y: f64) -> String {
    let top = y - MARK_H;
    match class {
        // Down-pointing triangle.
        "steal" => format!(
            "<path d=\"M{:.1} {top:.1} L{:.1} {top:.1} L{x:.1} {y:.1} Z\"/>",
            x - 4.0,
            x + 4.0
        ),
        // A tick through the row's top edge.
        "preq" => format!(
            "<line x1=\"{x:.1}\" y1=\"{top:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\"/>",
            y + 6.0
        ),
        // Up-pointing triangle.
        "preempt" => format!(
            "<path d=\"M{:.1} {y:.1} L{:.1} {y:.1} L{x:.1} {top:.1} Z\"/>",
            x - 4.0,
            x + 4.0
        ),
        // Diamond.
        "handoff" => format!(
            "<path d=\"M{x:.1} {top:.1} L{:.1} {:.1} L{x:.1} {y:.1} L{:.1} {:.1} Z\"/>",
            x + 4.5,
            y - MARK_H / 2.0,
            x - 4.5,
            y - MARK_H / 2.0
        ),
        // A cross.
        _ => format!(
            "<path d=\"M{:.1} {top:.1} L{:.1} {y:.1} M{:.1} {top:.1} L{:.1} {y:.1}\"/>",
            x - 4.0,
            x + 4.0,
            x + 4.0,
            x - 4.0
        ),
    }
}

fn args_text(args: &serde_json::Map<String, serde_json::Value>) -> String {
    args.iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => format!("{k}={s}"),
            v => format!("{k}={v}"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

const CSS: &str = "body { font: 14px system-ui, sans-serif; margin: 16px; color: #222; background: #fff; }
h1 { font-size: 18px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 20px 0 6px; }
.facts { color: #555; margin: 0 0 10px; }
.scroll { overflow-x: auto; border: 1px solid #ddd; }
svg.timeline { display: block; font: 11px system-ui, sans-serif; }
.axis line { stroke: #e4e4e4; }
.axis text { fill: #666; }
.label { font-weight: 600; fill: #333; }
.lane { fill: #f6f6f6; }
.held { fill: #9a9a9a; }
rect.g, rect.swatch { stroke: #0000004d; stroke-width: 0.5; }
rect.g:hover { stroke: #000; stroke-width: 1.5; }
.glabel { fill: #111; font-size: 10px; pointer-events: none; }
.mark path, .mark line { stroke-width: 1.5; }
.steal path { fill: #1f6fd1; stroke: #1f6fd1; }
.preq line { stroke: #d12f2f; }
.preempt path { fill: #d12f2f; stroke: #d12f2f; }
.handoff path { fill: #f08a00; stroke: #b86800; }
.rescue path { stroke: #7b2fbf; fill: none; stroke-width: 2; }
.legend text { fill: #333; }
.section { fill: #555; font-weight: 600; }
rect.mg { stroke: #0000004d; stroke-width: 0.5; opacity: 0.75; }
rect.sys { fill: #f08a00; stroke: #b86800; stroke-width: 0.5; }
rect.parked { fill: #d8d8d8; }
rect.user.task { fill: #9bc2e6; stroke: #4a7fb0; stroke-width: 0.5; }
rect.user.region { fill: #c5e0b4; stroke: #5e8c46; stroke-width: 0.5; }
line.log { stroke: #b03060; stroke-width: 1.5; }
pre { font: 12px ui-monospace, monospace; background: #fafafa; border: 1px solid #eee; padding: 8px; overflow-x: auto; }
";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::analyze;

    const TRACE: &str = r#"{"traceEvents":[
      {"name":"thread_name","ph":"M","pid":1,"tid":0,"args":{"name":"P0"}},
      {"name":"thread_name","ph":"M","pid":1,"tid":1,"args":{"name":"P1"}},
      {"name":"M0","cat":"p","ph":"X","ts":0,"dur":100,"pid":1,"tid":0,"args":{"m":0}},
      {"name":"G1","cat":"g","ph":"X","ts":10,"dur":10,"pid":1,"tid":0,"args":{"g":1,"m":0,"end":"parked","wait":"chan <receive>"}},
      {"name":"G2","cat":"g","ph":"X","ts":30,"dur":50,"pid":1,"tid":1,"args":{"g":2,"m":1,"end":"preempted"}},
      {"name":"Steal","ph":"i","s":"t","ts":29,"pid":1,"tid":1,"args":{"thief":1,"victim":0,"n":1}},
      {"name":"PreemptRequest","ph":"i","s":"t","ts":60,"pid":1,"tid":1,"args":{"p":1,"g":2}},
      {"name":"Handoff","ph":"i","s":"t","ts":70,"pid":1,"tid":0,"args":{"p":0,"m":0}}
    ]}"#;

    #[test]
    fn annotations_get_a_row_each_with_nested_regions_and_log_marks() {
        let t = Trace::parse(
            r#"[
            {"name":"thread_name","ph":"M","pid":1,"tid":4294967297,"args":{"name":"task serve #1"}},
            {"name":"thread_name","ph":"M","pid":1,"tid":8589934599,"args":{"name":"G7 user"}},
            {"name":"serve","cat":"task","ph":"X","ts":1,"dur":10,"tid":4294967297,"args":{"task":1}},
            {"name":"outer","cat":"region","ph":"X","ts":2,"dur":6,"tid":8589934599,"args":{}},
            {"name":"inner","cat":"region","ph":"X","ts":3,"dur":2,"tid":8589934599,"args":{}},
            {"name":"http","cat":"user","ph":"i","s":"t","ts":4,"tid":8589934599,"args":{"message":"GET /"}}
        ]"#,
        )
        .expect("parse");
        let page = render(&t, &analyze(&t), "annotations");
        assert_eq!(page.matches("class=\"u-row\"").count(), 2);
        assert_eq!(page.matches("<rect class=\"user task\"").count(), 1);
        let regions: Vec<&str> = page
            .lines()
            .filter(|l| l.starts_with("<rect class=\"user region\""))
            .collect();
        assert_eq!(regions.len(), 2);
        // The inner region sits inside the outer one: lower and thinner.
        assert!(
            regions[0].contains("height=\"14.0\"") && regions[1].contains("height=\"10.0\""),
            "{regions:?}"
        );
        assert!(page.contains("log [http] at"), "{page}");
    }

    #[test]
    fn the_page_has_one_svg_a_row_per_p_a_rect_per_run_and_nothing_external() {
        let t = Trace::parse(TRACE).expect("parse");
        let page = render(&t, &analyze(&t), "test <trace>");
        assert_eq!(page.matches("<svg").count(), 1);
        assert_eq!(page.matches("class=\"p-row\"").count(), 2);
        assert_eq!(page.matches("<rect class=\"g\"").count(), 2);
        assert!(page.contains("class=\"mark steal\""));
        assert!(page.contains("class=\"mark handoff\""));
        assert!(page.contains("chan &lt;receive&gt;"), "titles are escaped");
        assert!(page.contains("<title>test &lt;trace&gt;</title>"));
        for bad in ["http:", "https:", "<script", "src=", "url(", "@import"] {
            assert!(!page.contains(bad), "page contains {bad}");
        }
    }

    #[test]
    fn ticks_are_round_numbers() {
        assert_eq!(tick_step(100_000, 12), 10_000);
        assert_eq!(tick_step(7, 12), 1);
        assert_eq!(tick_step(1_000_000_000, 12), 100_000_000);
        assert_eq!(tick_step(130, 12), 20);
    }
}
