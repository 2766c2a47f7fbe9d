//! Corpus-wide line statistics: how many distinct documents print each line.

/// How many distinct documents of the corpus print each line.
///
/// Memory stays bounded: a line's first sighting only sets bits in a Bloom filter of fixed
/// size; only lines seen a second time get an exact counter. A Bloom false positive makes a
/// unique line look printed twice; at the default 32 MiB that is ~0.1 % of lines for a
/// corpus of ten million distinct lines.
#[derive(Debug, Clone)]
pub struct LineStats {
    bloom: Vec<u64>,
    mask: u64,
    counts: std::collections::HashMap<u64, u32, foldhash::fast::FixedState>,
    documents: u64,
}

impl LineStats {
    /// A filter of `mib` MiB (rounded down to a power of two, at least 1 MiB).
    pub fn new(mib: usize) -> Self {
        let requested = (mib.max(1) as u64) << 23;
        let bits = 1u64 << (63 - requested.leading_zeros());
        LineStats {
            bloom: vec![0; (bits / 64) as usize],
            mask: bits - 1,
            counts: Default::default(),
            documents: 0,
        }
    }

    /// Count the distinct lines of one document.
    pub fn add_document<'a>(&mut self, lines: impl IntoIterator<Item = &'a str>) {
        self.add_keys(&Self::document_keys(lines));
    }

    /// The distinct line keys of one document: the part of [`add_document`] that
    /// threads can compute in parallel.
    ///
    /// [`add_document`]: LineStats::add_document
    pub fn document_keys<'a>(lines: impl IntoIterator<Item = &'a str>) -> Vec<u64> {
        let mut keys: Vec<u64> = lines.into_iter().map(line_key).collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    /// Count one document given its [`document_keys`](LineStats::document_keys).
    pub fn add_keys(&mut self, keys: &[u64]) {
        for &k in keys {
            self.add_key(k);
        }
        self.documents += 1;
    }

    fn probes(&self, key: u64) -> [u64; 3] {
        let h2 = key.rotate_left(29).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        [0u64, 1, 2].map(|i| key.wrapping_add(i.wrapping_mul(h2)) & self.mask)
    }

    fn add_key(&mut self, key: u64) {
        if let Some(c) = self.counts.get_mut(&key) {
            *c = c.saturating_add(1);
            return;
        }
        let probes = self.probes(key);
        let seen = probes
            .iter()
            .all(|&b| self.bloom[(b / 64) as usize] & (1 << (b % 64)) != 0);
        if seen {
            self.counts.insert(key, 2);
        } else {
            for b in probes {
                self.bloom[(b / 64) as usize] |= 1 << (b % 64);
            }
        }
    }

    /// Distinct documents printing `line` (1 = only the one asking, 0 = never added).
    pub fn documents_with(&self, line: &str) -> u32 {
        let key = line_key(line);
        if let Some(&c) = self.counts.get(&key) {
            return c;
        }
        // All three bits read without stopping at a clear one: the loads (mostly cache
        // misses in a filter of megabytes) then overlap.
        let seen = self.probes(key).iter().fold(true, |all, &b| {
            all & (self.bloom[(b / 64) as usize] & (1 << (b % 64)) != 0)
        });
        u32::from(seen)
    }

    /// Documents counted.
    pub fn documents(&self) -> u64 {
        self.documents
    }
}

/// A line's identity for corpus statistics: case, spacing and digits ignored, so
/// "Updated 10:26" and "Updated 11:05" are the same furniture.
fn line_key(line: &str) -> u64 {
    // The normal form (lower case, digits as '0', one space after each word) is hashed
    // as it is made: ASCII bytes are read as bytes; only other characters are decoded.
    let mut h = KeyHasher::default();
    let mut in_word = false;
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            i += 1;
            if b.is_ascii_whitespace() || b == 0x0B {
                if in_word {
                    h.byte(b' ');
                }
                in_word = false;
                continue;
            }
            in_word = true;
            h.byte(if b.is_ascii_digit() {
                b'0'
            } else {
                b.to_ascii_lowercase()
            });
            continue;
        }
        // `i` is at a character boundary: only whole characters are stepped over.
        let Some(c) = line[i..].chars().next() else {
            break;
        };
        i += c.len_utf8();
        if c.is_whitespace() {
            if in_word {
                h.byte(b' ');
            }
            in_word = false;
            continue;
        }
        in_word = true;
        if crate::text::is_numeric(c) {
            h.byte(b'0');
        } else {
            match crate::text::lower_char(c) {
                Some(l) => h.char(l),
                None => c.to_lowercase().for_each(|l| h.char(l)),
            }
        }
    }
    if in_word {
        h.byte(b' ');
    }
    h.finish()
}

/// Hashes a byte stream eight bytes at a time: a multiply per word instead of one per
/// byte (FNV), which made the key's serial chain of multiplies the cost of the scan.
/// Each step is a bijection of the state, so two streams of one length that differ in
/// one word never collide; a final mix spreads every bit.
#[derive(Default)]
struct KeyHasher {
    state: u64,
    word: u64,
    /// Bytes in `word`.
    filled: u32,
    len: u64,
}

impl KeyHasher {
    #[inline(always)]
    fn byte(&mut self, b: u8) {
        self.word |= u64::from(b) << (8 * self.filled);
        self.filled += 1;
        if self.filled == 8 {
            self.mix();
        }
    }

    #[inline(always)]
    fn char(&mut self, c: char) {
        let mut buf = [0u8; 4];
        for &b in c.encode_utf8(&mut buf).as_bytes() {
            self.byte(b);
        }
    }

    #[inline(always)]
    fn mix(&mut self) {
        self.state = (self.state ^ self.word)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(31);
        self.len += u64::from(self.filled);
        self.word = 0;
        self.filled = 0;
    }

    fn finish(mut self) -> u64 {
        if self.filled > 0 {
            self.mix();
        }
        crate::dedup::mix64(self.state ^ self.len.wrapping_mul(0xD6E8_FEB8_6659_FD93))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key as first written: the normal form built word by word, one character at
    /// a time, then hashed.
    fn line_key_by_words(line: &str) -> u64 {
        let mut normal = String::new();
        for word in line.split_whitespace() {
            for c in word.chars() {
                if c.is_numeric() {
                    normal.push('0');
                } else {
                    normal.extend(c.to_lowercase());
                }
            }
            normal.push(' ');
        }
        let mut h = KeyHasher::default();
        normal.bytes().for_each(|b| h.byte(b));
        h.finish()
    }

    #[test]
    fn line_key_matches_the_word_by_word_definition() {
        for l in [
            "Updated 10:26",
            "  Đà Nẵng\u{a0}\u{a0}TOKYO \t 東京 ٣٤ ",
            "İstanbul\u{3000}x\x0by\u{85}z",
            "",
            " ",
            "exactly8",
            "seven 7",
        ] {
            assert_eq!(line_key(l), line_key_by_words(l), "{l:?}");
        }
        // Lines that differ anywhere, or only in length, get different keys.
        let keys: Vec<u64> = [
            "a",
            "ab",
            "abcdefgh",
            "abcdefgh a",
            "abcdefgi a",
            "b",
            "a b",
        ]
        .iter()
        .map(|l| line_key_by_words(l))
        .collect();
        for (i, k) in keys.iter().enumerate() {
            assert!(!keys[i + 1..].contains(k), "{i}");
        }
    }

    #[test]
    fn documents_are_counted_once_per_line() {
        let mut s = LineStats::new(1);
        s.add_document(["Share this", "Body one", "Share this"]);
        s.add_document(["SHARE  this", "Body two"]);
        assert_eq!(s.documents_with("share this"), 2);
        assert_eq!(s.documents_with("Body one"), 1);
    }
}
