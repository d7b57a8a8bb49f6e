//! The little of Protocol Buffers' wire format a Perfetto trace needs, by hand: varints,
//! length-delimited fields (strings, nested messages) and fixed64 — and a reader of the same,
//! for tests and for checking a file.
//!
//! A message is built bottom-up into a `Vec<u8>`: a nested message is encoded first, then
//! written into its parent with its length in front (protobuf's length-delimited wire type).

/// Wire types.
const VARINT: u64 = 0;
const FIXED64: u64 = 1;
const LEN: u64 = 2;
const FIXED32: u64 = 5;

/// A message being encoded.
#[derive(Default, Clone, Debug)]
pub(crate) struct Msg(pub(crate) Vec<u8>);

impl Msg {
    fn raw_varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push(v as u8 | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    fn key(&mut self, field: u32, wire: u64) {
        self.raw_varint(u64::from(field) << 3 | wire);
    }

    /// A varint field (uint64, int64 ≥ 0, bool, enum).
    pub(crate) fn varint(&mut self, field: u32, v: u64) -> &mut Msg {
        self.key(field, VARINT);
        self.raw_varint(v);
        self
    }

    pub(crate) fn fixed64(&mut self, field: u32, v: u64) -> &mut Msg {
        self.key(field, FIXED64);
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }

    pub(crate) fn bytes(&mut self, field: u32, b: &[u8]) -> &mut Msg {
        self.key(field, LEN);
        self.raw_varint(b.len() as u64);
        self.0.extend_from_slice(b);
        self
    }

    pub(crate) fn str(&mut self, field: u32, s: &str) -> &mut Msg {
        self.bytes(field, s.as_bytes())
    }

    pub(crate) fn msg(&mut self, field: u32, m: &Msg) -> &mut Msg {
        self.bytes(field, &m.0)
    }
}

/// A field read back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    Varint(u64),
    Fixed64(u64),
    Fixed32(u32),
    Bytes(&'a [u8]),
}

impl<'a> Value<'a> {
    /// The bytes of a length-delimited field.
    pub fn bytes(self) -> Option<&'a [u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The number in a varint or fixed field.
    pub fn number(self) -> Option<u64> {
        match self {
            Value::Varint(v) | Value::Fixed64(v) => Some(v),
            Value::Fixed32(v) => Some(u64::from(v)),
            Value::Bytes(_) => None,
        }
    }
}

fn read_varint(b: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*at)?;
        *at += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Some(v);
        }
    }
    None
}

/// Every field of the message `b`, in order: (field number, value). None if `b` is not a
/// well-formed message.
pub fn fields(b: &[u8]) -> Option<Vec<(u32, Value<'_>)>> {
    let mut at = 0;
    let mut out = Vec::new();
    while at < b.len() {
        let key = read_varint(b, &mut at)?;
        let field = u32::try_from(key >> 3).ok()?;
        let v = match key & 7 {
            VARINT => Value::Varint(read_varint(b, &mut at)?),
            FIXED64 => {
                let s = b.get(at..at + 8)?;
                at += 8;
                Value::Fixed64(u64::from_le_bytes(s.try_into().ok()?))
            }
            LEN => {
                let n = usize::try_from(read_varint(b, &mut at)?).ok()?;
                let s = b.get(at..at.checked_add(n)?)?;
                at += n;
                Value::Bytes(s)
            }
            FIXED32 => {
                let s = b.get(at..at + 4)?;
                at += 4;
                Value::Fixed32(u32::from_le_bytes(s.try_into().ok()?))
            }
            _ => return None,
        };
        out.push((field, v));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip() {
        let mut inner = Msg::default();
        inner.str(2, "é name");
        let mut m = Msg::default();
        m.varint(1, 300)
            .varint(9, u64::MAX)
            .fixed64(47, 7)
            .msg(11, &inner);
        let f = fields(&m.0).expect("well formed");
        assert_eq!(f[0], (1, Value::Varint(300)));
        assert_eq!(f[1], (9, Value::Varint(u64::MAX)));
        assert_eq!(f[2], (47, Value::Fixed64(7)));
        let nested = fields(f[3].1.bytes().expect("bytes")).expect("nested");
        assert_eq!(nested, vec![(2, Value::Bytes("é name".as_bytes()))]);
        // 300 is two bytes of varint: 0xac 0x02.
        assert_eq!(&m.0[1..3], &[0xac, 0x02]);
        assert_eq!(fields(&[0x08]), None, "a cut varint");
        assert_eq!(fields(&[0x12, 0x05, 1]), None, "a cut length");
    }
}
