//! The connection's input buffer (the role of Go's `bufio.Reader` under `net/http`'s `conn`).
//!
//! One read from the socket may bring half a request, exactly one, or several pipelined ones plus
//! the start of the next. The buffer keeps the bytes read but not yet consumed, between `start` and
//! `end`; the parser looks at `data()`, and `consume(n)` drops what it used. Free space is made at
//! the back by sliding the unconsumed bytes to the front, only when a read needs the room, so a
//! burst of pipelined requests is parsed without copying.
//!
//! Invariant: `start <= end <= buf.len()`, and `buf.len()` never exceeds `max` (plus the initial
//! capacity if that is larger): a client cannot make the server buffer more than the head limit,
//! because the reader refuses a head that does not fit (431) before asking for more room.

/// Bytes read from a connection and not parsed yet.
#[derive(Debug)]
pub struct ReadBuf {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    max: usize,
}

impl ReadBuf {
    /// A buffer that starts at `initial` bytes and may grow to `max`.
    pub fn new(initial: usize, max: usize) -> ReadBuf {
        ReadBuf {
            buf: vec![0; initial.max(1)],
            start: 0,
            end: 0,
            max: max.max(initial).max(1),
        }
    }

    /// The unconsumed bytes.
    pub fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Drop the first `n` unconsumed bytes.
    pub fn consume(&mut self, n: usize) {
        assert!(n <= self.len(), "consumed more than the buffer holds");
        self.start += n;
        if self.start == self.end {
            // Empty: start over at the front, which is free.
            self.start = 0;
            self.end = 0;
        }
    }

    /// Free space at the back to read into, or `None` if the buffer is full at its maximum size.
    /// Slides the unconsumed bytes to the front, or grows (doubling, up to `max`), only if the
    /// back has no room.
    pub fn spare(&mut self) -> Option<&mut [u8]> {
        if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else if self.buf.len() < self.max {
                let grown = (self.buf.len() * 2).min(self.max);
                self.buf.resize(grown, 0);
            } else {
                return None;
            }
        }
        Some(&mut self.buf[self.end..])
    }

    /// Record that a read put `n` bytes into the slice `spare` returned.
    pub fn filled(&mut self, n: usize) {
        assert!(self.end + n <= self.buf.len(), "filled past the spare room");
        self.end += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(b: &mut ReadBuf, bytes: &[u8]) {
        let spare = b.spare().expect("room");
        spare[..bytes.len()].copy_from_slice(bytes);
        b.filled(bytes.len());
    }

    #[test]
    fn consumed_bytes_disappear_and_the_rest_stays_in_order() {
        let mut b = ReadBuf::new(16, 16);
        put(&mut b, b"GET / HTTP/1.1");
        b.consume(4);
        assert_eq!(b.data(), b"/ HTTP/1.1");
        b.consume(b.len());
        assert!(b.is_empty());
    }

    #[test]
    fn full_back_slides_unconsumed_bytes_to_the_front() {
        let mut b = ReadBuf::new(8, 8);
        put(&mut b, b"abcdefgh");
        b.consume(6);
        let room = b.spare().expect("sliding makes room").len();
        assert_eq!(room, 6);
        assert_eq!(b.data(), b"gh");
        put(&mut b, b"ij");
        assert_eq!(b.data(), b"ghij");
    }

    #[test]
    fn grows_up_to_max_then_reports_full() {
        let mut b = ReadBuf::new(4, 10);
        put(&mut b, b"1234");
        assert_eq!(b.spare().map(|s| s.len()), Some(4));
        put(&mut b, b"5678");
        assert_eq!(b.spare().map(|s| s.len()), Some(2));
        put(&mut b, b"90");
        assert!(b.spare().is_none());
        assert_eq!(b.data(), b"1234567890");
    }
}
