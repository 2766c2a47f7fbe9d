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
    let mut key = LineKey::default();
    if crate::text::normal_form(line, true, &mut |piece, nums| key.push(piece, nums)) {
        return key.finish();
    }
    // A character that may not be NFC: the key of the line's NFC.
    use unicode_normalization::UnicodeNormalization;
    let nfc: String = line.nfc().collect();
    let mut key = LineKey::default();
    crate::text::normal_form(&nfc, false, &mut |piece, nums| key.push(piece, nums));
    key.finish()
}

/// [`LineStats::key`] of one line, from the pieces of its [`crate::text::normal_form`]
/// as they are made: a 64-bit hash of the normal form with every numeral as `0`.
pub struct LineKey {
    hasher: foldhash::quality::FoldHasher<'static>,
    /// A piece with its numerals turned to `0`.
    buf: Vec<u8>,
}

impl Default for LineKey {
    fn default() -> Self {
        use std::hash::BuildHasher;
        LineKey {
            // A fixed seed: the same key on every run.
            hasher: foldhash::quality::FixedState::default().build_hasher(),
            buf: Vec::new(),
        }
    }
}

impl LineKey {
    /// Hash the next piece of the line's normal form.
    pub fn push(&mut self, piece: &[u8], nums: crate::text::Numerals) {
        use std::hash::Hasher;
        if !nums.ascii && !nums.other {
            self.hasher.write(piece);
            return;
        }
        self.buf.clear();
        // Only numerals outside ASCII need the piece decoded (most pieces with a numeral
        // hold ASCII digits alone).
        let decoded = if nums.other {
            std::str::from_utf8(piece).ok()
        } else {
            None
        };
        match decoded {
            Some(s) => {
                for c in s.chars() {
                    let c = if crate::text::is_numeric(c) { '0' } else { c };
                    let mut b = [0u8; 4];
                    self.buf.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
                }
            }
            None => self.buf.extend(
                piece
                    .iter()
                    .map(|&b| if b.is_ascii_digit() { b'0' } else { b }),
            ),
        }
        self.hasher.write(&self.buf);
    }

    pub fn finish(&self) -> u64 {
        std::hash::Hasher::finish(&self.hasher)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key by its definition: the words of the line's NFC in lower case, numerals
    /// as `0`, joined by one space, hashed at once.
    fn line_key_by_words(line: &str) -> u64 {
        use std::hash::{BuildHasher, Hasher};
        use unicode_normalization::UnicodeNormalization;
        let nfc: String = line.nfc().collect();
        let words: Vec<String> = nfc
            .split_whitespace()
            .map(|w| {
                w.chars()
                    .flat_map(char::to_lowercase)
                    .map(|c| if c.is_numeric() { '0' } else { c })
                    .collect()
            })
            .collect();
        let mut h = foldhash::quality::FixedState::default().build_hasher();
        // An empty normal form is no piece at all.
        if !words.is_empty() {
            h.write(words.join(" ").as_bytes());
        }
        h.finish()
    }

    #[test]
    fn line_key_matches_the_word_by_word_definition() {
        for l in [
            "Updated 10:26",
            "  Đà Nẵng\u{a0}\u{a0}TOKYO \t 東京 ٣٤ ",
            "İstanbul\u{3000}x\x0by\u{85}z",
            "Vie\u{0323}\u{0302}t NAM 1\u{0301}",
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
