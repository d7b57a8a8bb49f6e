//! `gort-trace`: the command line over the `gort_trace` library.
//!
//! ```text
//! gort-trace summary trace.json [--top N]        goroutine analysis + scheduler latency
//! gort-trace html    trace.json [-o trace.html]  self-contained HTML timeline
//! gort-trace events  trace.json [--limit N]      chronological listing
//! gort-trace json    trace.bin [-o trace.json]   convert a raw trace to Chrome Trace Event JSON
//! gort-trace perfetto trace.bin [-o trace.pftrace]  convert a raw trace to Perfetto's protobuf format
//! ```
//!
//! Every command but `perfetto` reads JSON or a raw trace (what `GORTTRACE=trace.bin`,
//! `trace::start_raw`, a flight recorder and a gort built without its `trace-json` feature
//! write); `json` and `perfetto` convert raw traces. Sorting the events by time is the
//! converter's job: the raw file holds each thread's buffers as they filled.

use std::process::ExitCode;

use gort_trace::{analyze, events, html, summary_text, Trace};

const USAGE: &str = "usage:
  gort-trace summary <trace.json> [--top N]        Go's goroutine analysis and scheduler latency
  gort-trace html    <trace.json> [-o out.html]    an HTML page with an SVG timeline (default: <trace>.html)
  gort-trace events  <trace.json> [--limit N]      the trace as a time-ordered listing (default 200 lines; 0 = all)
  gort-trace json    <trace.bin> [-o out.json]     a raw trace as Chrome Trace Event JSON (default: <trace>.json)
  gort-trace perfetto <trace.bin> [-o out.pftrace] a raw trace in Perfetto's protobuf format, smaller and
                                                   faster to load than JSON (default: <trace>.pftrace)

Record a trace with GORTTRACE=trace.json (written when the runtime is dropped) or
gort::trace::start / gort::trace::stop. Perfetto (ui.perfetto.dev) opens the same file.
GORTTRACE=trace.bin (or a gort built without its `trace-json` feature) writes the raw
trace, streamed as the program runs: every command reads it too. GORTTRACE=flight:trace.json
keeps only the last seconds and writes them when the process ends (a signal, a deadlock).";

/// A parsed command line.
#[derive(Debug, PartialEq, Eq)]
enum Cmd {
    Summary { path: String, top: usize },
    Html { path: String, out: String },
    Events { path: String, limit: usize },
    Json { path: String, out: String },
    Perfetto { path: String, out: String },
    Help,
}

fn parse(args: &[String]) -> Result<Cmd, String> {
    let Some(cmd) = args.first() else {
        return Err("no command given".into());
    };
    if matches!(cmd.as_str(), "-h" | "--help" | "help") {
        return Ok(Cmd::Help);
    }
    let mut path = None;
    let mut out = None;
    let mut number = None;
    let mut it = args[1..].iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-o" | "--output" if cmd == "html" || cmd == "json" || cmd == "perfetto" => {
                out = Some(it.next().ok_or("-o needs a file name")?.clone());
            }
            "--top" if cmd == "summary" => number = Some(num(it.next(), "--top")?),
            "--limit" if cmd == "events" => number = Some(num(it.next(), "--limit")?),
            s if s.starts_with('-') && s.len() > 1 => {
                return Err(format!("unknown option {s:?} for {cmd}"))
            }
            s => {
                if path.replace(s.to_string()).is_some() {
                    return Err(format!("unexpected argument {s:?}"));
                }
            }
        }
    }
    let path = path.ok_or_else(|| format!("{cmd}: which trace file?"))?;
    match cmd.as_str() {
        "summary" => Ok(Cmd::Summary {
            path,
            top: number.unwrap_or(50),
        }),
        "html" => {
            let out = out.unwrap_or_else(|| {
                let stem = path.strip_suffix(".json").unwrap_or(&path);
                format!("{stem}.html")
            });
            Ok(Cmd::Html { path, out })
        }
        "json" => {
            let out = out.unwrap_or_else(|| {
                let p = std::path::Path::new(&path);
                // Never over the input (a raw trace written to `trace.json`).
                let ext = if p.extension().is_some_and(|e| e == "json") {
                    "chrome.json"
                } else {
                    "json"
                };
                p.with_extension(ext).to_string_lossy().into_owned()
            });
            Ok(Cmd::Json { path, out })
        }
        "perfetto" => {
            let out = out.unwrap_or_else(|| {
                let p = std::path::Path::new(&path);
                p.with_extension("pftrace").to_string_lossy().into_owned()
            });
            Ok(Cmd::Perfetto { path, out })
        }
        "events" => Ok(Cmd::Events {
            path,
            limit: number.unwrap_or(200),
        }),
        other => Err(format!("unknown command {other:?}")),
    }
}

fn num(v: Option<&String>, flag: &str) -> Result<usize, String> {
    let v = v.ok_or_else(|| format!("{flag} needs a number"))?;
    v.parse()
        .map_err(|_| format!("{flag} needs a number, not {v:?}"))
}

fn run(cmd: Cmd) -> Result<(), String> {
    let load = |p: &str| Trace::load(p).map_err(|e| e.to_string());
    match cmd {
        Cmd::Help => println!("{USAGE}"),
        Cmd::Summary { path, top } => {
            let t = load(&path)?;
            print!("{}", summary_text(&analyze(&t), top));
        }
        Cmd::Html { path, out } => {
            let t = load(&path)?;
            let page = html::render(&t, &analyze(&t), &format!("gort trace: {path}"));
            std::fs::write(&out, page).map_err(|e| format!("cannot write {out}: {e}"))?;
            println!("wrote {out}");
        }
        Cmd::Events { path, limit } => {
            let t = load(&path)?;
            print!("{}", events::listing(&t, limit));
        }
        Cmd::Json { path, out } => {
            let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
            if !gort_trace_format::file::is_raw(&bytes) {
                return Err(format!("{path} is not a raw gort trace (JSON already?)"));
            }
            let json = gort_trace::model::raw_to_json(&bytes).map_err(|e| e.to_string())?;
            std::fs::write(&out, json).map_err(|e| format!("cannot write {out}: {e}"))?;
            println!("wrote {out}");
        }
        Cmd::Perfetto { path, out } => {
            let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
            if !gort_trace_format::file::is_raw(&bytes) {
                return Err(format!(
                    "{path} is not a raw gort trace (record one with GORTTRACE=trace.bin)"
                ));
            }
            let raw = gort_trace_format::RawTrace::read(&bytes).map_err(|e| e.to_string())?;
            if raw.truncated {
                eprintln!(
                    "gort-trace: {path} is cut short (the process died?); converting what it holds"
                );
            }
            let t = raw.decode().map_err(|e| e.to_string())?;
            let f = std::fs::File::create(&out).map_err(|e| format!("cannot write {out}: {e}"))?;
            let mut w = std::io::BufWriter::new(f);
            let n = gort_trace_format::perfetto::write(&t, &mut w)
                .map_err(|e| format!("cannot write {out}: {e}"))?;
            println!(
                "wrote {out}: {} tracks, {} slices, {} instants, {} bytes; open it in https://ui.perfetto.dev",
                n.tracks, n.slices, n.instants, n.bytes
            );
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cmd = match parse(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("gort-trace: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(cmd) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gort-trace: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn command_lines_parse() {
        assert_eq!(
            parse(&args("summary t.json")),
            Ok(Cmd::Summary {
                path: "t.json".into(),
                top: 50
            })
        );
        assert_eq!(
            parse(&args("html t.json -o x.html")),
            Ok(Cmd::Html {
                path: "t.json".into(),
                out: "x.html".into()
            })
        );
        assert_eq!(
            parse(&args("html dir/t.json")),
            Ok(Cmd::Html {
                path: "dir/t.json".into(),
                out: "dir/t.html".into()
            })
        );
        assert_eq!(
            parse(&args("json t.bin")),
            Ok(Cmd::Json {
                path: "t.bin".into(),
                out: "t.json".into()
            })
        );
        assert_eq!(
            parse(&args("json t.json")),
            Ok(Cmd::Json {
                path: "t.json".into(),
                out: "t.chrome.json".into()
            })
        );
        assert_eq!(
            parse(&args("perfetto d/t.bin")),
            Ok(Cmd::Perfetto {
                path: "d/t.bin".into(),
                out: "d/t.pftrace".into()
            })
        );
        assert_eq!(
            parse(&args("events t.json --limit 0")),
            Ok(Cmd::Events {
                path: "t.json".into(),
                limit: 0
            })
        );
    }

    #[test]
    fn bad_command_lines_are_explained() {
        assert!(parse(&[]).is_err());
        assert!(parse(&args("summary"))
            .unwrap_err()
            .contains("which trace file"));
        assert!(parse(&args("frobnicate t.json"))
            .unwrap_err()
            .contains("unknown command"));
        assert!(parse(&args("summary t.json --top x"))
            .unwrap_err()
            .contains("number"));
        assert!(parse(&args("summary t.json -o y"))
            .unwrap_err()
            .contains("unknown option"));
    }

    #[test]
    fn json_converts_only_raw_traces() {
        let dir = std::env::temp_dir();
        let json = dir.join(format!("gort-trace-cli-{}.json", std::process::id()));
        std::fs::write(&json, "{\"traceEvents\":[]}").expect("write");
        let e = run(Cmd::Json {
            path: json.to_string_lossy().into_owned(),
            out: "/nonexistent/never.json".into(),
        })
        .unwrap_err();
        let _ = std::fs::remove_file(&json);
        assert!(e.contains("not a raw gort trace"), "{e}");
    }

    #[test]
    fn a_missing_file_is_an_error_not_a_panic() {
        let e = run(Cmd::Summary {
            path: "/nonexistent/t.json".into(),
            top: 5,
        })
        .unwrap_err();
        assert!(e.contains("cannot read"), "{e}");
    }
}
