//! Goroutine dumps: Go's runtime/traceback.go (`goroutineheader`, `tracebackothers`) and the
//! `GOTRACEBACK` setting (runtime/runtime1.go: `gotraceback`), here `GORTTRACEBACK`.
//!
//! A dump is a block per G, in Go's format so that what people know about reading Go's dumps applies:
//!
//! ```text
//! goroutine 18 [chan send, 2 minutes]:
//! name: producer
//! created by src/main.rs:12:5 in goroutine 1
//! ```
//!
//! The header is Go's `goroutineheader`: the id, the status (the wait reason's words for a parked G),
//! the wait time in minutes once it reaches one minute (Go's `gp.waitsince`). Then, where Go prints
//! the stack, we print what a future has: its name (`gort::Go::name`), and where Go prints `created by
//! main.main in goroutine 1` and the `go` statement's `file:line`, the spawn site recorded by
//! `#[track_caller]` and the parent G's id (omitted for a G spawned from outside any G, like Go's
//! main goroutine).
//!
//! # Where this differs from Go
//! - No stack frames: a parked future is a state machine, not a stack; its name and spawn site are
//!   how a reader finds it in the code.
//! - Runtime-internal Gs (Go's `isSystemGoroutine`) are marked `(system goroutine)` and listed after
//!   the user's Gs; Go leaves them out unless `GOTRACEBACK=system`, and so do crashes here.
//! - `waitsince` is stamped from a clock sysmon advances once a second (`Sched::coarse`): a read of
//!   the clock on every park would cost more than the whole park. Go also stamps it lazily (at GC).

use std::fmt::Write as _;
use std::sync::OnceLock;

use crate::sched::g::{gflags, status, Header, WaitReason};
use crate::sched::Sched;
use crate::util::loom::sync::atomic::Ordering;

/// `GORTTRACEBACK`: how much a crash (a deadlock, SIGQUIT, a panic with `panicexit`) prints. Go's
/// `GOTRACEBACK` levels, with Go's default (`single`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    /// No goroutine at all, only the message.
    None,
    /// A panic prints the G that panicked; a deadlock or SIGQUIT prints every user G (as in Go).
    Single,
    /// Every user G, for panics too.
    All,
    /// Every G, the runtime's own included.
    System,
}

impl Level {
    pub(crate) fn parse(v: &str) -> Option<Level> {
        match v.trim() {
            "none" | "0" => Some(Level::None),
            "single" | "" => Some(Level::Single),
            "all" | "1" => Some(Level::All),
            "system" | "2" | "crash" => Some(Level::System),
            _ => None,
        }
    }

    /// The process's setting, read once (like Go's, fixed at start-up).
    pub(crate) fn get() -> Level {
        static LEVEL: OnceLock<Level> = OnceLock::new();
        *LEVEL.get_or_init(|| match std::env::var_os("GORTTRACEBACK") {
            None => Level::Single,
            Some(v) => Level::parse(&v.to_string_lossy()).unwrap_or_else(|| {
                eprintln!(
                    "gort: ignoring GORTTRACEBACK={v:?}: want none, single, all or system; using single"
                );
                Level::Single
            }),
        })
    }
}

/// The status words Go's `goroutineheader` prints: the wait reason for a parked G that gave one,
/// else Go's `gStatusStrings`.
fn status_words(h: &Header) -> &'static str {
    match h.status.load(Ordering::Relaxed) {
        status::RUNNABLE => "runnable",
        status::RUNNING => "running",
        status::SYSCALL => "syscall",
        status::WAITING => match WaitReason::from_u8(h.waitreason.load(Ordering::Relaxed)) {
            WaitReason::None => "waiting",
            r => r.as_str(),
        },
        status::DEAD => "dead",
        _ => "idle",
    }
}

/// Go's `goroutineheader`: `goroutine 18 [chan send, 2 minutes]:`.
pub(crate) fn goroutine_header(sched: &Sched, h: &Header) -> String {
    goroutine_header_at(h, (sched.nanotime() / 1_000_000_000) as u32 + 1)
}

/// [`goroutine_header`] at `now` on the coarse clock (seconds since start, plus one).
fn goroutine_header_at(h: &Header, now: u32) -> String {
    let mut s = format!("goroutine {} [{}", h.id, status_words(h));
    let st = h.status.load(Ordering::Relaxed);
    let since = h.waitsince.load(Ordering::Relaxed);
    if (st == status::WAITING || st == status::SYSCALL) && since != 0 {
        let minutes = now.saturating_sub(since) / 60;
        if minutes >= 1 {
            // Go's words exactly, "1 minutes" included.
            let _ = write!(s, ", {minutes} minutes");
        }
    }
    s.push_str("]:");
    s
}

/// One G's block: the header, its name, where and by whom it was created.
pub(crate) fn format_g(out: &mut String, sched: &Sched, h: &Header) {
    let _ = writeln!(out, "{}", goroutine_header(sched, h));
    let system = h.gflags & gflags::SYSTEM != 0;
    match (sched.allgs.name(h), system) {
        (Some(n), true) => {
            let _ = writeln!(out, "name: {n} (system goroutine)");
        }
        (Some(n), false) => {
            let _ = writeln!(out, "name: {n}");
        }
        (None, true) => {
            let _ = writeln!(out, "(system goroutine)");
        }
        (None, false) => {}
    }
    let _ = write!(out, "created by {}", h.site);
    if h.parent != 0 {
        let _ = write!(out, " in goroutine {}", h.parent);
    }
    out.push('\n');
}

/// Every live G of `sched` (user Gs by id, then, if `system`, the runtime's own), blocks separated
/// by a blank line as in Go. `first` is printed first (the G that panicked).
pub(crate) fn dump_gs(sched: &Sched, system: bool, first: Option<u64>) -> String {
    // Collect (system, id, text) under the registry's locks, sort after.
    let mut blocks: Vec<(bool, u64, String)> = Vec::new();
    sched.allgs.for_each(|h| {
        let is_system = h.gflags & gflags::SYSTEM != 0;
        if (is_system && !system) || h.status.load(Ordering::Relaxed) == status::DEAD {
            return;
        }
        let mut s = String::new();
        format_g(&mut s, sched, h);
        blocks.push((is_system, h.id, s));
    });
    blocks.sort_by_key(|&(sys, id, _)| (Some(id) != first, sys, id));
    let texts: Vec<String> = blocks.into_iter().map(|(_, _, s)| s).collect();
    texts.join("\n")
}

/// Print `fatal error: <msg>` and the dump `GORTTRACEBACK` asks for, then exit with status 2
/// (Go's `fatal` → `fatalthrow` → `exit(2)`).
pub(crate) fn fatal(sched: &Sched, msg: &str) -> ! {
    let level = Level::get();
    let mut out = format!("fatal error: {msg}\n");
    if level > Level::None {
        out.push('\n');
        out.push_str(&dump_gs(sched, level == Level::System, None));
    }
    exit2(&out)
}

/// Write `out` to stderr in one call and exit with status 2, Go's status for a runtime crash.
pub(crate) fn exit2(out: &str) -> ! {
    use std::io::Write as _;
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(out.as_bytes());
    let _ = err.flush();
    drop(err);
    // The trace (GORTTRACE, or a flight recorder's window) of the moment things went wrong.
    crate::trace::flush_for_exit("exit 2");
    std::process::exit(2)
}

/// A panic escaped G `h`'s poll (the runtime caught it). With `panicexit` on, do what Go does for
/// an unrecovered panic: the panic hook has printed the message, so print the G (or every G, with
/// `GORTTRACEBACK=all`) and exit 2. Otherwise nothing: the `JoinHandle` gets the panic.
#[cold]
pub(crate) fn g_panicked(h: &Header) {
    let sched = &h.sched;
    if !sched.config.panic_exit {
        return;
    }
    let level = Level::get();
    let mut out = String::new();
    match level {
        Level::None => {}
        Level::Single => {
            out.push('\n');
            format_g(&mut out, sched, h);
        }
        Level::All | Level::System => {
            out.push('\n');
            out.push_str(&dump_gs(sched, level == Level::System, Some(h.id)));
        }
    }
    exit2(&out)
}

/// The line the panic hook adds for a panic inside a G: `panic in goroutine 17 "name" (created at
/// src/main.rs:12:5)`, or None outside a G.
#[cfg(not(loom))]
pub(crate) fn panic_line() -> Option<String> {
    let mut line = None;
    crate::sched::getg::with_curg(|h| {
        let mut s = format!("panic in goroutine {}", h.id);
        if let Some(n) = h.sched.allgs.name(h) {
            let _ = write!(s, " {n:?}");
        }
        let _ = write!(s, " (created at {})", h.site);
        line = Some(s);
    });
    line
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn gotraceback_words_and_numbers_parse_as_go_reads_them() {
        assert_eq!(Level::parse("none"), Some(Level::None));
        assert_eq!(Level::parse("0"), Some(Level::None));
        assert_eq!(Level::parse("single"), Some(Level::Single));
        assert_eq!(Level::parse("all"), Some(Level::All));
        assert_eq!(Level::parse("1"), Some(Level::All));
        assert_eq!(Level::parse("system"), Some(Level::System));
        assert_eq!(Level::parse("verbose"), None);
    }

    #[test]
    fn the_header_has_go_words_and_minutes_only_from_one_minute_on() {
        let sched = Sched::new_for_test();
        let origin = crate::sched::g::Origin::here();
        let (q, j, reg) = crate::sched::g::GRef::new(async {}, 17, sched.clone(), origin);
        let h = q.header();
        assert_eq!(goroutine_header_at(h, 100), "goroutine 17 [runnable]:");
        h.status.store(status::WAITING, Ordering::Relaxed);
        h.waitreason
            .store(WaitReason::ChanReceive as u8, Ordering::Relaxed);
        h.waitsince.store(10, Ordering::Relaxed);
        assert_eq!(goroutine_header_at(h, 69), "goroutine 17 [chan receive]:");
        assert_eq!(
            goroutine_header_at(h, 70),
            "goroutine 17 [chan receive, 1 minutes]:"
        );
        assert_eq!(
            goroutine_header_at(h, 135),
            "goroutine 17 [chan receive, 2 minutes]:"
        );
        // A parked future that gave no reason: Go's status word.
        h.waitreason.store(0, Ordering::Relaxed);
        assert_eq!(goroutine_header_at(h, 11), "goroutine 17 [waiting]:");
        let mut block = String::new();
        format_g(&mut block, &sched, h);
        assert!(
            block.ends_with(&format!("created by {}\n", h.site)),
            "no parent, no 'in goroutine': {block}"
        );
        // Free the G by hand (no M ever runs it): registry, queue and handle references.
        drop((q, j, reg));
    }
}
