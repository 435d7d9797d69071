//! Just enough protobuf to read Google Authenticator's export: varints and
//! length-delimited fields, unknown fields skipped, every read bounds-checked.

use crate::error::{Error, Result};

/// A field's payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Value<'a> {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 2: bytes, a string or an embedded message.
    Bytes(&'a [u8]),
    /// Wire types 1 and 5 (no field we read uses them).
    Fixed,
}

/// Reads `(field number, value)` pairs from a message.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, at: 0 }
    }

    /// The next field, or `None` at the end of the message.
    pub(crate) fn next_field(&mut self) -> Result<Option<(u32, Value<'a>)>> {
        if self.at == self.bytes.len() {
            return Ok(None);
        }
        let tag = self.varint("a field tag")?;
        let field = u32::try_from(tag >> 3)
            .map_err(|_| Error::MalformedProtobuf { reason: "field number out of range" })?;
        if field == 0 {
            return Err(Error::MalformedProtobuf { reason: "field number 0" });
        }
        let value = match tag & 7 {
            0 => Value::Varint(self.varint("a varint field")?),
            1 => {
                self.take(8, "a 64-bit field")?;
                Value::Fixed
            }
            2 => {
                let len = self.varint("a length")?;
                let len = usize::try_from(len)
                    .map_err(|_| Error::Truncated { what: "a length-delimited field" })?;
                Value::Bytes(self.take(len, "a length-delimited field")?)
            }
            5 => {
                self.take(4, "a 32-bit field")?;
                Value::Fixed
            }
            _ => {
                return Err(Error::MalformedProtobuf {
                    reason: "unsupported wire type (groups are not used by this format)",
                });
            }
        };
        Ok(Some((field, value)))
    }

    fn take(&mut self, len: usize, what: &'static str) -> Result<&'a [u8]> {
        let end = self
            .at
            .checked_add(len)
            .filter(|end| *end <= self.bytes.len())
            .ok_or(Error::Truncated { what })?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn varint(&mut self, what: &'static str) -> Result<u64> {
        let mut value = 0u64;
        for i in 0..10 {
            let byte = *self.bytes.get(self.at).ok_or(Error::Truncated { what })?;
            self.at += 1;
            if i == 9 && byte > 1 {
                return Err(Error::MalformedProtobuf { reason: "varint overflows 64 bits" });
            }
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(Error::MalformedProtobuf { reason: "varint longer than 10 bytes" })
    }
}

/// Writes protobuf (tests build Google exports from the schema with it).
#[cfg(test)]
pub(crate) mod write {
    /// A varint.
    pub(crate) fn varint(out: &mut Vec<u8>, mut value: u64) {
        while value >= 0x80 {
            out.push((value as u8) | 0x80);
            value >>= 7;
        }
        out.push(value as u8);
    }

    /// A varint field.
    pub(crate) fn uint(out: &mut Vec<u8>, field: u32, value: u64) {
        varint(out, u64::from(field) << 3);
        varint(out, value);
    }

    /// A length-delimited field.
    pub(crate) fn bytes(out: &mut Vec<u8>, field: u32, value: &[u8]) {
        varint(out, (u64::from(field) << 3) | 2);
        varint(out, value.len() as u64);
        out.extend_from_slice(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_it_writes_and_skips_fixed_fields() {
        let mut msg = vec![];
        write::uint(&mut msg, 1, 300);
        write::bytes(&mut msg, 2, b"hello");
        msg.extend_from_slice(&[(3 << 3) | 5, 1, 2, 3, 4]);
        msg.extend_from_slice(&[(4 << 3) | 1, 1, 2, 3, 4, 5, 6, 7, 8]);
        write::uint(&mut msg, 5, u64::MAX);
        let mut r = Reader::new(&msg);
        assert_eq!(r.next_field().unwrap(), Some((1, Value::Varint(300))));
        assert_eq!(r.next_field().unwrap(), Some((2, Value::Bytes(b"hello"))));
        assert_eq!(r.next_field().unwrap(), Some((3, Value::Fixed)));
        assert_eq!(r.next_field().unwrap(), Some((4, Value::Fixed)));
        assert_eq!(r.next_field().unwrap(), Some((5, Value::Varint(u64::MAX))));
        assert_eq!(r.next_field().unwrap(), None);
    }

    #[test]
    fn every_truncation_is_an_error() {
        let mut msg = vec![];
        write::bytes(&mut msg, 1, b"0123456789");
        write::uint(&mut msg, 2, 1 << 40);
        let boundary = msg.len() - 7; // where field 2 starts: a shorter, valid message
        for cut in (1..msg.len()).filter(|cut| *cut != boundary) {
            let mut r = Reader::new(&msg[..cut]);
            let result = (|| -> Result<()> {
                while r.next_field()?.is_some() {}
                Ok(())
            })();
            assert!(matches!(result, Err(Error::Truncated { .. })), "cut at {cut}: {result:?}");
        }
    }

    #[test]
    fn malformed_input_is_typed() {
        assert!(
            matches!(Reader::new(&[0x00]).next_field(), Err(Error::MalformedProtobuf { .. })),
            "field 0"
        );
        assert!(
            matches!(
                Reader::new(&[(1 << 3) | 3]).next_field(),
                Err(Error::MalformedProtobuf { .. })
            ),
            "group"
        );
        assert!(matches!(
            Reader::new(&[0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])
                .next_field(),
            Err(Error::MalformedProtobuf { .. })
        ));
        assert!(
            matches!(
                Reader::new(&[0x12, 0xff, 0xff, 0xff, 0xff, 0x0f]).next_field(),
                Err(Error::Truncated { .. })
            ),
            "huge length"
        );
    }
}
