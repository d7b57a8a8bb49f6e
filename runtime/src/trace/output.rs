//! Where a trace goes and how it is finished: the raw stream, the JSON converted from it, the
//! flight recorder's file; `GORTTRACE`; and the one path every ending takes — `stop`, the
//! runtime's drop, a fatal signal, a panic, `checkdead`'s exit — so that the file is whole
//! however the process ends (Go's `StopTrace` and the reader's flush; Go's runtime does not
//! write the trace when the process is killed — we do, because that is when it is wanted).
//!
//! - raw: the writer thread streams the raw file straight to its destination (`session.rs`);
//!   finishing is flushing.
//! - JSON (`trace-json`, a path not ending in `.bin`): the raw stream goes to a side file next
//!   to the destination (`trace.json.raw`, or a temporary file for `trace::start`), and
//!   finishing converts it into the destination and removes it. The side file is written as
//!   the program runs, so a process killed with SIGKILL still leaves it: `gort-trace json
//!   trace.json.raw` converts what it holds.
//! - flight (`GORTTRACE=flight:path`): finishing writes the recorder's last window to `path`.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::session::{self, Finish, FlightConfig, Owner, Sink, Stopped};

/// Held while a stopped session is written out: an ending that finds no session running (a
/// signal during the runtime's own shutdown) waits on it, so that the process does not end
/// with the file half-written.
static FINISHING: Mutex<()> = Mutex::new(());

thread_local! {
    /// This thread is writing a trace out (a panic inside must not wait for itself).
    static IN_FINISH: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn finishing() -> std::sync::MutexGuard<'static, ()> {
    FINISHING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Stop the session if `accept` agrees and write it out; returns what the finish reports.
fn stop_and_finish(
    accept: impl FnOnce(&Owner) -> io::Result<()>,
) -> io::Result<(Owner, io::Result<String>, String)> {
    let _g = finishing();
    IN_FINISH.with(|f| f.set(true));
    let r = session::stop(accept).map(|mut s| {
        let owner = s.owner.clone();
        let report = match s.finish.take() {
            Some(f) => f(&mut s),
            None => s
                .written
                .as_ref()
                .map(|()| String::new())
                .map_err(clone_err),
        };
        (owner, report, dropped_note(&s))
    });
    IN_FINISH.with(|f| f.set(false));
    r
}

fn clone_err(e: &io::Error) -> io::Error {
    io::Error::new(e.kind(), e.to_string())
}

/// A side file for the raw stream of a trace that ends up as JSON.
fn side_file(path: &Path) -> io::Result<(PathBuf, std::fs::File)> {
    let mut name = path.as_os_str().to_owned();
    name.push(".raw");
    let side = PathBuf::from(name);
    let f = std::fs::File::create(&side)?;
    Ok((side, f))
}

/// Convert the raw file at `raw` into JSON in `out`; the number of events.
#[cfg(feature = "trace-json")]
fn convert(raw: &Path, out: &mut dyn Write) -> io::Result<usize> {
    let bytes = std::fs::read(raw)?;
    let t = gort_trace_format::RawTrace::read(&bytes)?;
    let mut w = io::BufWriter::new(out);
    let n = gort_trace_format::chrome::from_raw(&t, &mut w)?;
    w.flush()?;
    Ok(n)
}

#[cfg(not(feature = "trace-json"))]
fn convert(_raw: &Path, _out: &mut dyn Write) -> io::Result<usize> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "gort was built without its trace-json feature",
    ))
}

/// The finish of a JSON trace: convert the side file into `out`, then remove it (kept if the
/// conversion failed, for `gort-trace json`).
fn json_finish(side: PathBuf, mut out: Box<dyn Write + Send>) -> Finish {
    Box::new(move |s: &mut Stopped| {
        s.written.as_ref().map_err(clone_err)?;
        let n = convert(&side, &mut out)?;
        let _ = std::fs::remove_file(&side);
        Ok(format!("{n} events"))
    })
}

fn dropped_note(s: &Stopped) -> String {
    if s.dropped > 0 {
        format!(
            "; {} events were dropped because the writer fell behind",
            s.dropped
        )
    } else {
        String::new()
    }
}

pub(super) fn start_api(w: Box<dyn Write + Send>, json: bool) -> io::Result<()> {
    super::survive::install();
    if !json {
        return session::start(Owner::Api, Sink::Stream(w), None);
    }
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = std::env::temp_dir().join(format!("gort-trace-{}-{n}", std::process::id()));
    let (side, f) = side_file(&tmp)?;
    let r = session::start(
        Owner::Api,
        Sink::Stream(Box::new(io::BufWriter::new(f))),
        Some(json_finish(side.clone(), w)),
    );
    if r.is_err() {
        let _ = std::fs::remove_file(&side);
    }
    r
}

pub(super) fn stop_api() -> io::Result<()> {
    let (_, report, _) = stop_and_finish(|owner| match owner {
        Owner::Api => Ok(()),
        Owner::Env(path) => Err(io::Error::other(format!(
            "gort: this trace was started by GORTTRACE={path}; it is written when the runtime \
             is dropped"
        ))),
        Owner::Flight => Err(io::Error::other(
            "gort: the trace running is a FlightRecorder's; stop it with FlightRecorder::stop",
        )),
    })?;
    report.map(drop)
}

/// What `GORTTRACE` asks for.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct EnvSpec {
    pub(super) path: PathBuf,
    pub(super) flight: bool,
    pub(super) json: bool,
}

/// `GORTTRACE=path` (JSON, or raw if the path ends in `.bin` or gort lacks `trace-json`) or
/// `GORTTRACE=flight:path`.
pub(super) fn parse_env(v: &std::ffi::OsStr, json_built: bool) -> EnvSpec {
    let text = v.to_string_lossy();
    let (flight, path) = match text.strip_prefix("flight:") {
        Some(p) => (true, PathBuf::from(p)),
        None => (false, PathBuf::from(v)),
    };
    let json = json_built && path.extension().is_none_or(|e| e != "bin");
    EnvSpec { path, flight, json }
}

pub(super) fn start_from_env() {
    static CLAIMED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let Some(v) = std::env::var_os("GORTTRACE") else {
        return;
    };
    if v.is_empty() || CLAIMED.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return;
    }
    let shown = v.to_string_lossy().into_owned();
    let spec = parse_env(&v, super::writes_json());
    if let Err(e) = start_env(&spec, &shown) {
        eprintln!("gort: GORTTRACE={shown}: {e}; not tracing");
        return;
    }
    super::survive::install();
    super::survive::at_exit();
}

fn start_env(spec: &EnvSpec, shown: &str) -> io::Result<()> {
    let owner = Owner::Env(shown.to_string());
    let create = |p: &Path| {
        std::fs::File::create(p)
            .map_err(|e| io::Error::new(e.kind(), format!("cannot create the trace file: {e}")))
    };
    if spec.flight {
        // Created now, so that a bad path is reported at start, not when it is needed.
        let f = create(&spec.path)?;
        let (path, json) = (spec.path.clone(), spec.json);
        let finish: Finish = Box::new(move |s: &mut Stopped| {
            let snap = s
                .flight
                .take()
                .ok_or_else(|| io::Error::other("no window"))?;
            let mut f = io::BufWriter::new(f);
            if json {
                let mut raw = Vec::new();
                snap.write(&mut raw)?;
                let side = path.with_extension("flight.raw");
                std::fs::write(&side, &raw)?;
                let n = convert(&side, &mut f)?;
                let _ = std::fs::remove_file(&side);
                Ok(format!("the flight recorder's last window, {n} events"))
            } else {
                let n = snap.write(&mut f)?;
                Ok(format!("the flight recorder's last window, {n} bytes"))
            }
        });
        return session::start(owner, Sink::Flight(FlightConfig::default()), Some(finish));
    }
    let out = create(&spec.path)?;
    if spec.json {
        let (side, f) = side_file(&spec.path)?;
        let r = session::start(
            owner,
            Sink::Stream(Box::new(io::BufWriter::new(f))),
            Some(json_finish(side.clone(), Box::new(out))),
        );
        if r.is_err() {
            let _ = std::fs::remove_file(&side);
        }
        r
    } else {
        session::start(owner, Sink::Stream(Box::new(io::BufWriter::new(out))), None)
    }
}

/// Write a `GORTTRACE` trace out (the runtime was dropped, or the process is ending): say where.
fn report(why: &str, owner: &Owner, r: io::Result<String>, dropped: String) {
    let Owner::Env(path) = owner else {
        if let Err(e) = r {
            eprintln!("gort: {why}: writing the execution trace failed: {e}");
        }
        return;
    };
    let path = path.strip_prefix("flight:").unwrap_or(path);
    match r {
        Ok(what) if super::writes_json() && !path.ends_with(".bin") => eprintln!(
            "gort: {why}wrote the execution trace ({what}{}) to {path}; open it in \
             https://ui.perfetto.dev or run `gort-trace summary {path}`",
            dropped
        ),
        Ok(_) => eprintln!(
            "gort: {why}wrote the raw execution trace to {path}{}; convert it with \
             `gort-trace json {path}` (or `gort-trace perfetto`)",
            dropped
        ),
        Err(e) => eprintln!("gort: {why}GORTTRACE={path}: writing the trace failed: {e}"),
    }
}

/// The runtime was dropped: finish a `GORTTRACE` trace.
pub(super) fn finish_env() {
    if !matches!(session::owner(), Some(Owner::Env(_))) {
        return;
    }
    if let Ok((owner, r, note)) = stop_and_finish(|owner| match owner {
        Owner::Env(_) => Ok(()),
        _ => Err(io::Error::other("not GORTTRACE's")),
    }) {
        report("", &owner, r, note);
    }
}

/// See `trace::flush_for_exit`.
pub(super) fn flush_for_exit(why: &str) {
    if IN_FINISH.with(|f| f.get()) {
        return;
    }
    match stop_and_finish(|_| Ok(())) {
        Ok((owner, r, note)) => report(&format!("{why}: "), &owner, r, note),
        // Nothing running: wait for a trace another thread may be writing out.
        Err(_) => drop(finishing()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gorttrace_values_parse() {
        let p = |s: &str, j| parse_env(std::ffi::OsStr::new(s), j);
        assert_eq!(
            p("t.json", true),
            EnvSpec {
                path: "t.json".into(),
                flight: false,
                json: true
            }
        );
        assert_eq!(
            p("t.bin", true),
            EnvSpec {
                path: "t.bin".into(),
                flight: false,
                json: false
            }
        );
        assert_eq!(
            p("t.json", false),
            EnvSpec {
                path: "t.json".into(),
                flight: false,
                json: false
            }
        );
        assert_eq!(
            p("flight:x/t.json", true),
            EnvSpec {
                path: "x/t.json".into(),
                flight: true,
                json: true
            }
        );
    }
}
