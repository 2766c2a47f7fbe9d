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
        Self::distinct(lines.into_iter().map(line_key).collect())
    }

    /// A document's line keys (one per line, [`LineStats::key`]) as
    /// [`document_keys`](LineStats::document_keys) gives them: sorted, each once.
    pub fn distinct(mut keys: Vec<u64>) -> Vec<u64> {
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    /// The key a line is counted under: a build computes each line's key once and hands
    /// it to [`add_keys`](LineStats::add_keys) and
    /// [`documents_with_key`](LineStats::documents_with_key).
    pub fn key(line: &str) -> u64 {
        line_key(line)
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
        self.documents_with_key(line_key(line))
    }

    /// [`documents_with`](LineStats::documents_with) the line of this [`key`](LineStats::key).
    pub fn documents_with_key(&self, key: u64) -> u32 {
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
    // FNV-1a over the lower-cased characters, digits as '0', one space after each word.
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let byte = |h: u64, b: u8| (h ^ u64::from(b)).wrapping_mul(PRIME);
    let feed = |h: u64, c: char| {
        let mut buf = [0u8; 4];
        c.encode_utf8(&mut buf).bytes().fold(h, byte)
    };
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut in_word = false;
    // ASCII bytes are read as bytes; only other characters are decoded.
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            i += 1;
            if b.is_ascii_whitespace() || b == 0x0B {
                if in_word {
                    h = byte(h, b' ');
                }
                in_word = false;
                continue;
            }
            in_word = true;
            h = byte(
                h,
                if b.is_ascii_digit() {
                    b'0'
                } else {
                    b.to_ascii_lowercase()
                },
            );
            continue;
        }
        // `i` is at a character boundary: only whole characters are stepped over.
        let Some(c) = line[i..].chars().next() else {
            break;
        };
        i += c.len_utf8();
        if c.is_whitespace() {
            if in_word {
                h = byte(h, b' ');
            }
            in_word = false;
            continue;
        }
        in_word = true;
        if crate::text::is_numeric(c) {
            h = byte(h, b'0');
        } else {
            h = match crate::text::lower_char(c) {
                Some(l) => feed(h, l),
                None => c.to_lowercase().fold(h, feed),
            };
        }
    }
    if in_word {
        h = byte(h, b' ');
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key as first written: word by word, one character at a time.
    fn line_key_by_words(line: &str) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut feed = |c: char| {
            let mut buf = [0u8; 4];
            for &b in c.encode_utf8(&mut buf).as_bytes() {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
        };
        for word in line.split_whitespace() {
            for c in word.chars() {
                if c.is_numeric() {
                    feed('0');
                } else {
                    c.to_lowercase().for_each(&mut feed);
                }
            }
            feed(' ');
        }
        h
    }

    #[test]
    fn line_key_matches_the_word_by_word_definition() {
        for l in [
            "Updated 10:26",
            "  Đà Nẵng\u{a0}\u{a0}TOKYO \t 東京 ٣٤ ",
            "İstanbul\u{3000}x\x0by\u{85}z",
            "",
            " ",
        ] {
            assert_eq!(line_key(l), line_key_by_words(l), "{l:?}");
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
