//! A byte format for structured inputs that is trivial to write as well as to read: the
//! targets that take a script (`core_answers`) read their input with [`Reader`], and the
//! seed corpus writes realistic scripts with [`Writer`]. Reading never fails: past the
//! end, every read is zero, so any bytes are a valid input (what a fuzzer needs).

/// Reads choices, numbers and byte strings from the front of an input.
#[derive(Debug)]
pub struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    /// One byte (0 past the end).
    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// A choice among `n` (at most 256) options.
    pub fn below(&mut self, n: usize) -> usize {
        usize::from(self.byte()) % n.max(1)
    }

    /// A little-endian `u64` from 8 bytes.
    pub fn u64(&mut self) -> u64 {
        (0..8).fold(0, |v, i| v | u64::from(self.byte()) << (8 * i))
    }

    /// A byte string: a little-endian `u16` length, then up to that many bytes.
    pub fn bytes(&mut self) -> &'a [u8] {
        let len = usize::from(self.byte()) | usize::from(self.byte()) << 8;
        let (taken, rest) = self.data.split_at(len.min(self.data.len()));
        self.data = rest;
        taken
    }
}

/// Writes what [`Reader`] reads.
#[derive(Debug, Default)]
pub struct Writer {
    out: Vec<u8>,
}

impl Writer {
    /// An empty input.
    pub fn new() -> Self {
        Self::default()
    }

    /// Option `choice` (what [`Reader::below`] returns).
    pub fn choose(&mut self, choice: usize) -> &mut Self {
        self.out.push(choice as u8);
        self
    }

    /// What [`Reader::u64`] returns.
    pub fn u64(&mut self, value: u64) -> &mut Self {
        self.out.extend_from_slice(&value.to_le_bytes());
        self
    }

    /// What [`Reader::bytes`] returns.
    pub fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
        let len = bytes.len().min(usize::from(u16::MAX));
        self.out.extend_from_slice(&(len as u16).to_le_bytes());
        self.out.extend_from_slice(&bytes[..len]);
        self
    }

    /// The input.
    pub fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_written_reads_back_and_any_bytes_read() {
        let data = Writer::new().choose(3).u64(u64::MAX - 5).bytes(b"hello").choose(1).finish();
        let mut r = Reader::new(&data);
        assert_eq!(
            (r.below(4), r.u64(), r.bytes(), r.below(2)),
            (3, u64::MAX - 5, &b"hello"[..], 1)
        );
        assert_eq!((r.byte(), r.u64(), r.bytes()), (0, 0, &b""[..]));
        let mut r = Reader::new(&[0xff, 0xff, 1, 2]);
        assert_eq!(r.bytes(), &[1, 2]);
    }
}
