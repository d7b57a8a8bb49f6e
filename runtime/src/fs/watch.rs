//! `gort::fs::watch`: being told when files change — Linux's inotify on the netpoller, the
//! counterpart of Go's `fsnotify` package (github.com/fsnotify/fsnotify, backend_inotify.go), whose
//! inotify descriptor Go's runtime polls like a socket (os/file_unix.go: `newFile` with
//! `kindNonBlock`).
//!
//! A [`Watcher`] is one inotify instance: `inotify_init1(IN_NONBLOCK)` gives a descriptor that is
//! readable when events are queued, and it is registered with the netpoller like any socket. Each
//! [`Watcher::add`] is an `inotify_add_watch` on a file or directory with a [`Mask`] of the events
//! wanted. The watcher is a [`Stream`] of [`Event`]s: reading it parks the G on the descriptor until
//! the kernel queues something, then one `read(2)` brings a batch of `struct inotify_event`s, which
//! are handed out one by one.
//!
//! ```
//! # #[cfg(target_os = "linux")]
//! # gort::run(async {
//! use gort::fs::watch::{EventKind, Mask, Watcher};
//!
//! let dir = std::env::temp_dir().join(format!("gort-watch-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let mut w = Watcher::new().unwrap();
//! w.add(&dir, Mask::CREATE | Mask::DELETE).unwrap();
//! std::fs::write(dir.join("a"), b"hi").unwrap();
//! let ev = w.next_event().await.unwrap();
//! assert_eq!((ev.kind, ev.name.as_deref()), (EventKind::Create, Some("a".as_ref())));
//! std::fs::remove_dir_all(&dir).unwrap();
//! # });
//! ```
//!
//! On systems without inotify, `Watcher::new` fails with `ErrorKind::Unsupported`.
//!
//! ## Where this differs from fsnotify and why
//! - fsnotify sends events on a channel from a goroutine of its own; here the watcher itself is the
//!   stream, read by whichever G awaits it (wrap it in a G and a channel to fan it out).
//! - Events keep inotify's vocabulary (`MovedFrom` / `MovedTo` with a shared `cookie`, not
//!   fsnotify's `Rename` + `Create`), so a rename inside one watched directory can be paired.
//! - Watches are not recursive (neither are fsnotify's): add sub-directories yourself on `Create`.

use std::collections::{HashMap, VecDeque};
use std::ffi::OsString;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::ops::{BitOr, BitOrAssign};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use futures_core::Stream;

/// Which events a watch reports (inotify's `IN_*` bits).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mask(u32);

impl Mask {
    /// A file or directory was created in a watched directory (`IN_CREATE`).
    pub const CREATE: Mask = Mask(0x100);
    /// A file was written to (`IN_MODIFY`).
    pub const MODIFY: Mask = Mask(0x2);
    /// A file or directory was deleted from a watched directory (`IN_DELETE`).
    pub const DELETE: Mask = Mask(0x200);
    /// A name was moved out of a watched directory (`IN_MOVED_FROM`).
    pub const MOVED_FROM: Mask = Mask(0x40);
    /// A name was moved into a watched directory (`IN_MOVED_TO`).
    pub const MOVED_TO: Mask = Mask(0x80);
    /// Both halves of a move.
    pub const MOVE: Mask = Mask(0x40 | 0x80);
    /// Permissions, timestamps, owner... changed (`IN_ATTRIB`).
    pub const ATTRIB: Mask = Mask(0x4);
    /// A file opened for writing was closed (`IN_CLOSE_WRITE`): a good moment to re-read it.
    pub const CLOSE_WRITE: Mask = Mask(0x8);
    /// The watched file or directory itself was deleted (`IN_DELETE_SELF`).
    pub const DELETE_SELF: Mask = Mask(0x400);
    /// The watched file or directory itself was moved (`IN_MOVE_SELF`).
    pub const MOVE_SELF: Mask = Mask(0x800);
    /// Everything above.
    pub const ALL: Mask = Mask(0x100 | 0x2 | 0x200 | 0x40 | 0x80 | 0x4 | 0x8 | 0x400 | 0x800);

    /// The raw `IN_*` bits.
    pub fn bits(self) -> u32 {
        self.0
    }

    pub fn contains(self, other: Mask) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for Mask {
    type Output = Mask;
    fn bitor(self, rhs: Mask) -> Mask {
        Mask(self.0 | rhs.0)
    }
}

impl BitOrAssign for Mask {
    fn bitor_assign(&mut self, rhs: Mask) {
        self.0 |= rhs.0;
    }
}

impl fmt::Debug for Mask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mask({:#x})", self.0)
    }
}

/// What happened (one inotify event; the kernel may set several bits, the most telling is kept).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    Create,
    Modify,
    Delete,
    /// First half of a move: `name` left the directory. Its `cookie` matches the `MovedTo`.
    MovedFrom,
    /// Second half of a move: `name` arrived in the directory.
    MovedTo,
    Attrib,
    CloseWrite,
    /// The watched path itself was deleted; a `Removed` follows.
    DeleteSelf,
    /// The watched path itself was moved.
    MoveSelf,
    /// The watch is gone (removed, or its path deleted or unmounted): `IN_IGNORED`.
    Removed,
    /// The kernel's queue overflowed and events were lost (`IN_Q_OVERFLOW`): rescan what you watch.
    Overflow,
    /// Any other bit combination (see `Event::mask`).
    Other,
}

/// One event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    /// The watched path the event is about (as given to `add`); `None` for `Overflow`.
    pub watched: Option<PathBuf>,
    /// The name inside a watched directory the event is about (`None` for the watched path itself).
    pub name: Option<OsString>,
    /// Pairs a `MovedFrom` with its `MovedTo`; 0 otherwise.
    pub cookie: u32,
    /// The raw `IN_*` bits (including `IN_ISDIR` 0x4000_0000 for directories).
    pub mask: u32,
}

impl Event {
    /// `watched` joined with `name`: the full path of what changed.
    pub fn path(&self) -> Option<PathBuf> {
        let w = self.watched.as_ref()?;
        Some(match &self.name {
            Some(n) => w.join(n),
            None => w.clone(),
        })
    }

    /// Whether the subject is a directory (`IN_ISDIR`).
    pub fn is_dir(&self) -> bool {
        self.mask & 0x4000_0000 != 0
    }
}

/// Identifies one watch (inotify's watch descriptor), for [`Watcher::remove`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WatchId(i32);

/// One inotify instance on the netpoller; a [`Stream`] of [`Event`]s.
pub struct Watcher {
    #[cfg(target_os = "linux")]
    fd: crate::net::fd::NetFd<crate::net::fd_source::FdSource>,
    #[cfg(target_os = "linux")]
    timer: Option<crate::time::Sleep>,
    /// Watch descriptor to the path given to `add`.
    paths: Mutex<HashMap<i32, PathBuf>>,
    /// Events read but not yet handed out.
    pending: VecDeque<Event>,
    buf: Box<[u8]>,
}

impl fmt::Debug for Watcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watcher")
            .field("watches", &self.paths.lock().map(|p| p.len()).unwrap_or(0))
            .field("pending", &self.pending.len())
            .finish()
    }
}

/// Room for many events per `read` (each is 16 bytes plus its name, at most NAME_MAX + 1).
const READ_BUF: usize = 16 * 1024;

impl Watcher {
    /// A new inotify instance, registered with the current runtime's netpoller. Fails outside a
    /// gort runtime, and with `Unsupported` where inotify does not exist.
    pub fn new() -> io::Result<Watcher> {
        Watcher::open()
    }

    #[cfg(not(target_os = "linux"))]
    fn open() -> io::Result<Watcher> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "gort::fs::watch needs Linux's inotify; it is not available on this system",
        ))
    }

    #[cfg(target_os = "linux")]
    fn open() -> io::Result<Watcher> {
        use std::os::fd::{FromRawFd, OwnedFd};
        let sched = crate::sched::boot::current().ok_or_else(|| {
            io::Error::other(
                "gort::fs::watch::Watcher::new called outside a gort runtime: the inotify \
                 descriptor is watched by the runtime's netpoller",
            )
        })?;
        // SAFETY: inotify_init1 takes flags and returns a new descriptor or -1.
        let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the call just returned this descriptor, and nothing else owns it.
        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Watcher {
            fd: crate::net::fd::NetFd::with_sched(crate::net::fd_source::FdSource(owned), sched)?,
            timer: None,
            paths: Mutex::new(HashMap::new()),
            pending: VecDeque::new(),
            buf: vec![0; READ_BUF].into_boxed_slice(),
        })
    }

    /// Watch `path` (a file, or a directory and the names in it) for the events in `mask`. Adding
    /// a path again replaces its mask and returns the same id. A missing path is `NotFound`.
    pub fn add<P: AsRef<Path>>(&self, path: P, mask: Mask) -> io::Result<WatchId> {
        let path = path.as_ref();
        let wd = self.add_watch(path, mask)?;
        self.paths
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(wd, path.to_path_buf());
        Ok(WatchId(wd))
    }

    #[cfg(target_os = "linux")]
    fn add_watch(&self, path: &Path, mask: Mask) -> io::Result<i32> {
        use std::os::fd::AsRawFd;
        use std::os::unix::ffi::OsStrExt;
        let c = std::ffi::CString::new(path.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))?;
        // SAFETY: `c` is a NUL-terminated string that outlives the call; the descriptor is ours.
        let wd = unsafe { libc::inotify_add_watch(self.fd.as_raw_fd(), c.as_ptr(), mask.bits()) };
        if wd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(wd)
    }

    #[cfg(not(target_os = "linux"))]
    fn add_watch(&self, _path: &Path, _mask: Mask) -> io::Result<i32> {
        Err(io::ErrorKind::Unsupported.into())
    }

    /// Stop watching. A `Removed` event follows in the stream.
    pub fn remove(&self, id: WatchId) -> io::Result<()> {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            // SAFETY: plain integer arguments; the descriptor is ours.
            if unsafe { libc::inotify_rm_watch(self.fd.as_raw_fd(), id.0) } < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = id;
            Err(io::ErrorKind::Unsupported.into())
        }
    }

    /// The next event, parking the G until there is one (`stream.next().await` without needing
    /// `StreamExt`).
    pub async fn next_event(&mut self) -> io::Result<Event> {
        poll_fn(|cx| Pin::new(&mut *self).poll_next(cx))
            .await
            .unwrap_or_else(|| Err(io::ErrorKind::UnexpectedEof.into()))
    }

    /// One `read(2)` of queued events, through the netpoller.
    #[cfg(target_os = "linux")]
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        use std::os::fd::AsRawFd;
        let buf = &mut self.buf;
        let n = std::task::ready!(self.fd.poll_io(
            netpoll::Direction::Read,
            cx,
            &mut self.timer,
            |s| {
                // SAFETY: `buf` is writable for `buf.len()` bytes for the whole call.
                let n = unsafe { libc::read(s.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(n as usize)
                }
            }
        ))?;
        let mut paths = self.paths.lock().unwrap_or_else(|e| e.into_inner());
        for raw in parse(&self.buf[..n]) {
            let watched = paths.get(&raw.wd).cloned();
            if raw.mask & IN_IGNORED != 0 {
                paths.remove(&raw.wd);
            }
            self.pending.push_back(Event {
                kind: kind_of(raw.mask),
                watched,
                name: raw.name,
                cookie: raw.cookie,
                mask: raw.mask,
            });
        }
        Poll::Ready(Ok(()))
    }

    #[cfg(not(target_os = "linux"))]
    fn poll_fill(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Err(io::ErrorKind::Unsupported.into()))
    }
}

impl Stream for Watcher {
    type Item = io::Result<Event>;

    /// Never ends by itself: it yields events (or an error) for as long as the watcher lives.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<io::Result<Event>>> {
        let this = self.get_mut();
        loop {
            if let Some(ev) = this.pending.pop_front() {
                return Poll::Ready(Some(Ok(ev)));
            }
            if let Err(e) = std::task::ready!(this.poll_fill(cx)) {
                return Poll::Ready(Some(Err(e)));
            }
        }
    }
}

const IN_IGNORED: u32 = 0x8000;
const IN_Q_OVERFLOW: u32 = 0x4000;

/// The most telling kind for a set of bits.
fn kind_of(mask: u32) -> EventKind {
    let kinds = [
        (IN_Q_OVERFLOW, EventKind::Overflow),
        (IN_IGNORED, EventKind::Removed),
        (Mask::CREATE.0, EventKind::Create),
        (Mask::DELETE.0, EventKind::Delete),
        (Mask::MOVED_FROM.0, EventKind::MovedFrom),
        (Mask::MOVED_TO.0, EventKind::MovedTo),
        (Mask::DELETE_SELF.0, EventKind::DeleteSelf),
        (Mask::MOVE_SELF.0, EventKind::MoveSelf),
        (Mask::MODIFY.0, EventKind::Modify),
        (Mask::CLOSE_WRITE.0, EventKind::CloseWrite),
        (Mask::ATTRIB.0, EventKind::Attrib),
    ];
    kinds
        .into_iter()
        .find(|&(bit, _)| mask & bit != 0)
        .map_or(EventKind::Other, |(_, k)| k)
}

/// One `struct inotify_event` as read: `wd`, `mask`, `cookie` and the name (without its NUL
/// padding).
#[derive(Debug, PartialEq)]
struct RawEvent {
    wd: i32,
    mask: u32,
    cookie: u32,
    name: Option<OsString>,
}

/// Split a `read` of the inotify descriptor into events: each is a 16-byte header (`wd`, `mask`,
/// `cookie`, `len`, native-endian) followed by `len` bytes of NUL-padded name. A truncated tail
/// (which the kernel never produces) is ignored rather than trusted.
fn parse(mut bytes: &[u8]) -> Vec<RawEvent> {
    let mut out = Vec::new();
    let word = |b: &[u8], i: usize| u32::from_ne_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    while bytes.len() >= 16 {
        let len = word(bytes, 12) as usize;
        let Some(name_bytes) = bytes.get(16..16 + len) else {
            break;
        };
        let name = name_bytes.split(|&b| b == 0).next().unwrap_or(&[]);
        out.push(RawEvent {
            wd: word(bytes, 0) as i32,
            mask: word(bytes, 4),
            cookie: word(bytes, 8),
            name: (!name.is_empty()).then(|| {
                use std::os::unix::ffi::OsStrExt;
                std::ffi::OsStr::from_bytes(name).to_os_string()
            }),
        });
        bytes = &bytes[16 + len..];
    }
    out
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn header(wd: i32, mask: u32, cookie: u32, name: &[u8], pad: usize) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&wd.to_ne_bytes());
        v.extend_from_slice(&mask.to_ne_bytes());
        v.extend_from_slice(&cookie.to_ne_bytes());
        v.extend_from_slice(&((name.len() + pad) as u32).to_ne_bytes());
        v.extend_from_slice(name);
        v.extend(std::iter::repeat_n(0u8, pad));
        v
    }

    #[test]
    fn parse_reads_names_without_padding_and_stops_at_a_truncated_tail() {
        let mut b = header(1, 0x100, 0, b"a.txt", 11);
        b.extend(header(2, 0x40, 7, b"", 0));
        b.extend(&header(3, 0x80, 7, b"long-name", 7)[..20]); // cut short
        let evs = parse(&b);
        assert_eq!(evs.len(), 2);
        assert_eq!(evs[0].name.as_deref(), Some("a.txt".as_ref()));
        assert_eq!((evs[0].wd, evs[0].mask), (1, 0x100));
        assert_eq!(
            (evs[1].wd, evs[1].cookie, evs[1].name.clone()),
            (2, 7, None)
        );
    }

    #[test]
    fn kind_prefers_the_most_telling_bit() {
        assert_eq!(kind_of(0x100 | 0x4000_0000), EventKind::Create);
        assert_eq!(kind_of(IN_IGNORED), EventKind::Removed);
        assert_eq!(kind_of(0x2 | 0x8), EventKind::Modify);
        assert_eq!(kind_of(0x1), EventKind::Other); // IN_ACCESS, not asked for by any Mask
    }
}
