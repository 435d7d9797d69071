//! A small deterministic mutation engine for the bounded runs on stable Rust.
//!
//! libFuzzer is coverage-guided but needs nightly; the bounded runs in `cargo test` must
//! work on stable, so they mutate the seed corpus blindly instead: stacked byte-level
//! mutations (bit flips, interesting bytes, insertions, deletions, repeats, truncation,
//! crossover with another seed), tokens from the target's libFuzzer dictionary, boundary
//! numbers spliced over digit runs, and — when the input is JSON — structure-aware edits
//! that swap a value for one of another type or an extreme one. Everything derives from
//! one `u64` seed, so a failing case is reproduced by rerunning with the same seed.

use serde_json::Value;

/// splitmix64: tiny, fast, good enough to drive mutations.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next_u64() % n as u64) as usize }
    }

    /// True with probability `1/n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    /// A random element.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len()))
    }
}

/// Bytes that tend to matter to parsers of text formats.
const INTERESTING_BYTES: &[u8] =
    b"\x00\x01\x7f\x80\xff\"\\{}[]:,%&=?/#+-.0123456789 \t\r\n\xc3\xe2\xf0eE";

/// Numbers at the edges of the integer and float types serde and our code use.
const INTERESTING_NUMBERS: &[&str] = &[
    "0",
    "-0",
    "-1",
    "1",
    "127",
    "128",
    "255",
    "256",
    "65535",
    "65536",
    "2147483647",
    "2147483648",
    "-2147483649",
    "4294967295",
    "4294967296",
    "9007199254740993",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "1e308",
    "1e309",
    "-1e400",
    "1e-400",
    "0.5",
    "1.0",
    "99999999999999999999999999999",
];

/// Mutates inputs drawn from a seed corpus.
#[derive(Debug)]
pub struct Mutator<'a> {
    seeds: &'a [Vec<u8>],
    dict: &'a [Vec<u8>],
    max_len: usize,
    rng: Rng,
}

impl<'a> Mutator<'a> {
    /// A mutator over `seeds` (may be empty), with dictionary tokens, producing inputs of
    /// at most `max_len` bytes.
    pub fn new(seeds: &'a [Vec<u8>], dict: &'a [Vec<u8>], max_len: usize, seed: u64) -> Self {
        Self { seeds, dict, max_len, rng: Rng::new(seed) }
    }

    /// The next input.
    pub fn next_input(&mut self) -> Vec<u8> {
        let mut data = match self.rng.pick(self.seeds) {
            Some(seed) if !self.rng.one_in(16) => seed.clone(),
            _ => self.random_bytes(64),
        };
        let mut structured = false;
        if self.rng.one_in(2) {
            for _ in 0..1 + self.rng.below(3) {
                if let Some(mutated) = self.mutate_json(&data) {
                    data = mutated;
                    structured = true;
                }
            }
        }
        // Half of the structure-aware edits stay valid JSON; the rest are broken further.
        if !structured || self.rng.one_in(2) {
            let exponent = self.rng.below(4);
            let rounds = 1 + self.rng.below(1 << exponent);
            for _ in 0..rounds {
                self.mutate_bytes(&mut data);
            }
        }
        data.truncate(self.max_len);
        data
    }

    fn random_bytes(&mut self, max: usize) -> Vec<u8> {
        let len = self.rng.below(max + 1);
        (0..len).map(|_| self.rng.next_u64() as u8).collect()
    }

    fn mutate_bytes(&mut self, data: &mut Vec<u8>) {
        let at = self.rng.below(data.len() + 1);
        match self.rng.below(11) {
            0 if !data.is_empty() => {
                let i = self.rng.below(data.len());
                data[i] ^= 1 << self.rng.below(8);
            }
            1 if !data.is_empty() => {
                let i = self.rng.below(data.len());
                data[i] = *self.rng.pick(INTERESTING_BYTES).unwrap_or(&0);
            }
            2 => {
                let bytes = self.random_bytes(8);
                data.splice(at..at, bytes);
            }
            3 if !data.is_empty() => {
                let len = 1 + self.rng.below((data.len() - at.min(data.len() - 1)).min(16));
                let start = at.min(data.len() - 1);
                data.drain(start..(start + len).min(data.len()));
            }
            4 if !data.is_empty() => {
                // Repeat a chunk, sometimes many times (long strings, deep nesting).
                let start = self.rng.below(data.len());
                let len = 1 + self.rng.below((data.len() - start).min(32));
                let chunk = data[start..start + len].to_vec();
                let times = if self.rng.one_in(8) { 1 + self.rng.below(512) } else { 1 };
                let repeated: Vec<u8> = chunk.iter().copied().cycle().take(len * times).collect();
                data.splice(start..start, repeated);
            }
            5 => {
                if let Some(token) = self.rng.pick(self.dict) {
                    data.splice(at..at, token.iter().copied());
                }
            }
            6 => self.splice_number(data),
            7 if !data.is_empty() => data.truncate(self.rng.below(data.len())),
            8 => {
                // Crossover: our head, another seed's tail.
                if let Some(other) = self.rng.pick(self.seeds) {
                    let from = self.rng.below(other.len() + 1);
                    data.truncate(at);
                    data.extend_from_slice(&other[from..]);
                }
            }
            9 if !data.is_empty() => {
                // Overwrite a byte run with a token (keeps the length roughly).
                if let Some(token) = self.rng.pick(self.dict) {
                    let end = (at + token.len()).min(data.len());
                    data.splice(at.min(end)..end, token.iter().copied());
                }
            }
            _ => {
                let i = self.rng.below(data.len() + 1);
                data.insert(i, *self.rng.pick(INTERESTING_BYTES).unwrap_or(&b'"'));
            }
        }
    }

    /// Replaces a run of digits (or inserts at random) with a boundary number.
    fn splice_number(&mut self, data: &mut Vec<u8>) {
        let number = self.rng.pick(INTERESTING_NUMBERS).copied().unwrap_or("0").as_bytes();
        let digits: Vec<usize> = (0..data.len()).filter(|i| data[*i].is_ascii_digit()).collect();
        match self.rng.pick(&digits) {
            Some(&start) => {
                let mut end = start;
                while end < data.len() && data[end].is_ascii_digit() {
                    end += 1;
                }
                let mut start = start;
                while start > 0 && data[start - 1].is_ascii_digit() {
                    start -= 1;
                }
                data.splice(start..end, number.iter().copied());
            }
            None => {
                let at = self.rng.below(data.len() + 1);
                data.splice(at..at, number.iter().copied());
            }
        }
    }

    /// A structure-aware edit of a JSON document (after an opaque prefix, such as the
    /// selector bytes of the HTTP targets): one value replaced by a near miss of the same
    /// type or by one of another type, or a member removed or added.
    fn mutate_json(&mut self, data: &[u8]) -> Option<Vec<u8>> {
        let start = data.iter().position(|b| *b == b'{' || *b == b'[')?;
        let mut doc: Value = serde_json::from_slice(&data[start..]).ok()?;
        let mut paths = Vec::new();
        json_paths(&doc, &mut String::new(), &mut paths);
        let path = self.rng.pick(&paths)?.clone();
        let node = doc.pointer(&path)?.clone();
        let replacement = match (&node, self.rng.below(3)) {
            (Value::String(text), 0) => Value::String(self.near_string(text)),
            (Value::Number(n), 0) => self.near_number(n),
            (Value::Object(map), 1) if !map.is_empty() => {
                let mut map = map.clone();
                let key = map.keys().nth(self.rng.below(map.len())).cloned().unwrap_or_default();
                map.remove(&key);
                Value::Object(map)
            }
            (Value::Object(map), 2) => {
                let mut map = map.clone();
                let key = match self.rng.pick(self.dict) {
                    Some(token) => {
                        String::from_utf8_lossy(token).trim_matches(['"', ':']).to_owned()
                    }
                    None => "extra".to_owned(),
                };
                map.insert(key, self.json_value(&doc));
                Value::Object(map)
            }
            _ => self.json_value(&doc),
        };
        *doc.pointer_mut(&path)? = replacement;
        let mut out = data[..start].to_vec();
        serde_json::to_writer(&mut out, &doc).ok()?;
        Some(out)
    }

    /// A string close to `text`: cut, extended, case-flipped, spaced or repeated.
    fn near_string(&mut self, text: &str) -> String {
        let chars: Vec<char> = text.chars().collect();
        match self.rng.below(6) {
            0 => chars[..self.rng.below(chars.len() + 1)].iter().collect(),
            1 => {
                let extra = ["a", "0", " ", "-", ":", "é", "\u{0}", "=", "%"][self.rng.below(9)];
                format!("{text}{extra}")
            }
            2 => text.to_uppercase(),
            3 => format!(" {text} "),
            4 => text.repeat(1 + self.rng.below(300)),
            _ => String::new(),
        }
    }

    /// A number close to `n`: off by one, negated, scaled, or a float.
    fn near_number(&mut self, n: &serde_json::Number) -> Value {
        let v = n.as_f64().unwrap_or(0.0);
        match self.rng.below(5) {
            0 => Value::from(n.as_i64().unwrap_or(0).wrapping_add(1)),
            1 => Value::from(n.as_i64().unwrap_or(0).wrapping_sub(1)),
            2 => Value::from(-v),
            3 => Value::from(n.as_u64().unwrap_or(0).wrapping_mul(1 << self.rng.below(40))),
            _ => Value::from(v + 0.5),
        }
    }

    /// A value of a random type: extreme numbers, odd strings, empty or nested containers,
    /// or a value copied from elsewhere in the document.
    fn json_value(&mut self, doc: &Value) -> Value {
        match self.rng.below(9) {
            0 => Value::Null,
            1 => Value::Bool(self.rng.one_in(2)),
            2 => {
                let text = self.rng.pick(INTERESTING_NUMBERS).copied().unwrap_or("0");
                serde_json::from_str(text).unwrap_or(Value::Null)
            }
            3 => {
                let len = [0, 1, 7, 8, 64, 65, 129, 257, 1025, 20_000][self.rng.below(10)];
                Value::String("a".repeat(len))
            }
            4 => {
                let odd = ["", " ", "\u{0}", "\u{feff}", "é", "💥", "a:b", "%", "%zz", "\\", "\n"];
                Value::String(odd[self.rng.below(odd.len())].to_owned())
            }
            5 => Value::Array(vec![]),
            6 => Value::Object(serde_json::Map::new()),
            7 => {
                let depth = 1 + self.rng.below(200);
                (0..depth).fold(Value::Null, |inner, _| Value::Array(vec![inner]))
            }
            _ => {
                let mut leaves = Vec::new();
                collect_leaves(doc, &mut leaves);
                self.rng.pick(&leaves).cloned().unwrap_or(Value::Null)
            }
        }
    }
}

/// Every node's JSON pointer, in pre-order.
pub fn json_paths(value: &Value, prefix: &mut String, out: &mut Vec<String>) {
    out.push(prefix.clone());
    let children: Vec<(String, &Value)> = match value {
        Value::Object(map) => {
            map.iter().map(|(k, v)| (k.replace('~', "~0").replace('/', "~1"), v)).collect()
        }
        Value::Array(items) => items.iter().enumerate().map(|(i, v)| (i.to_string(), v)).collect(),
        _ => return,
    };
    for (key, child) in children {
        let len = prefix.len();
        prefix.push('/');
        prefix.push_str(&key);
        json_paths(child, prefix, out);
        prefix.truncate(len);
    }
}

fn collect_leaves(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| collect_leaves(i, out)),
        Value::Object(map) => map.values().for_each(|i| collect_leaves(i, out)),
        leaf => out.push(leaf.clone()),
    }
}

/// Reads a libFuzzer dictionary: one `"token"` per line (optionally `name="token"`), with
/// `\\`, `\"` and `\xNN` escapes; `#` comments and blank lines skipped.
pub fn parse_dict(text: &str) -> Vec<Vec<u8>> {
    let mut tokens = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some(start) = line.find('"') else { continue };
        let Some(body) = line[start + 1..].strip_suffix('"') else { continue };
        let mut out = Vec::new();
        let bytes = body.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match (bytes[i], bytes.get(i + 1)) {
                (b'\\', Some(b'x')) if i + 3 < bytes.len() + 1 => {
                    let hex = body.get(i + 2..i + 4).and_then(|h| u8::from_str_radix(h, 16).ok());
                    match hex {
                        Some(b) => {
                            out.push(b);
                            i += 4;
                        }
                        None => {
                            out.push(b'\\');
                            i += 1;
                        }
                    }
                }
                (b'\\', Some(&c)) => {
                    out.push(c);
                    i += 2;
                }
                (c, _) => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        tokens.push(out);
    }
    tokens
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_inputs() {
        let seeds = vec![br#"{"a":[1,"x",{"b":null}]}"#.to_vec(), b"otpauth://totp/x".to_vec()];
        let dict = parse_dict("# c\n\"secret=\"\nkw=\"\\x41\\\"\"\n");
        assert_eq!(dict, vec![b"secret=".to_vec(), b"A\"".to_vec()]);
        let run = |seed| {
            let mut m = Mutator::new(&seeds, &dict, 4096, seed);
            (0..200).map(|_| m.next_input()).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let inputs = run(7);
        assert!(inputs.iter().all(|i| i.len() <= 4096));
        assert!(inputs.iter().any(|i| i != &seeds[0] && i != &seeds[1]));
        // Some stay JSON (structure-aware edits), some are broken.
        assert!(inputs.iter().any(|i| serde_json::from_slice::<Value>(i).is_ok()));
        assert!(inputs.iter().any(|i| serde_json::from_slice::<Value>(i).is_err()));
    }
}
