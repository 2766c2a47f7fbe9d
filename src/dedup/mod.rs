//! Deduplication across the corpus: exact and near-duplicate.
//!
//! **Exact**: the key of a body is the sha256 of its normal form ([`normalise`]: NFC,
//! case-folded, whitespace collapsed), so the same article re-encoded, re-wrapped or
//! re-cased is one document.
//!
//! **Near** (syndicated copies with edits): every clean body gets a [`Sketch`] in the
//! parallel read pass ([`Sketcher`]): its text is normalised (entities decoded, NFKC, lower
//! case, punctuation/quotes/dashes/line breaks only separate tokens, digits kept) and cut
//! into word n-gram shingles — character n-grams when most letters are in scripts written
//! without spaces (Chinese, Japanese, Thai…). The sketch holds a MinHash signature and the
//! `sample_size` smallest shingle hashes. [`NearDedup`] then, in input order:
//!
//! 1. groups exact copies (same [`ContentKey`]); only the first of each takes part below;
//! 2. spills each sample to a temporary file and keeps one 32-bit key per LSH band;
//! 3. on [`NearDedup::resolve`], finds candidate pairs band by band (bodies that agree on
//!    all rows of a band), verifies each by the overlap of their samples — Jaccard
//!    similarity, or *containment* of the smaller body in the larger (a copy truncated to
//!    half its paragraphs) as long as the smaller is not a small fraction of the larger —
//!    and joins verified pairs with union-find;
//! 4. keeps the longest body of each cluster (ties: the earliest) and checks every other
//!    member against it directly: a member stays if it matches the kept body by the rule
//!    of step 3 or has `kept_containment` of its shingles in it; the others are split off
//!    and re-clustered among themselves. Two stories that share a quoted passage are never
//!    similar enough as wholes, and this check stops a chain of pairs (A ~ X ~ B) from
//!    joining them.
//!
//! In each band, bucket neighbours are verified first and then the rest of the
//! `bucket_window`, skipping pairs already joined, so a big bucket of near-identical
//! bodies costs about one verification per body. Verification is parallel and applied
//! in a fixed order: the clusters depend only on the documents and their order, never on
//! the thread count.
//!
//! ## Memory, per million articles (default configuration)
//!
//! In memory, per distinct body: 40 band keys × 4 B = 160 B; caller index, body length,
//! exact group, sample slot and spill offset 32 B; the content-key map ~25–45 B (dropped
//! when resolving). Resolving adds, per document, union-find and cluster roots (9 B), one
//! band's sorted keys at a time (8 B), the result (12 B), and ~16 B per duplicate and per
//! refused candidate pair. Measured: 1 M synthetic articles (200 k of them near copies)
//! peak at 273 MB RSS for the whole process, batch of texts in flight included — **about
//! 250 MB per million articles** (~250 B per document); it grows linearly.
//!
//! On disk (an anonymous file in the caller's work directory, gone when dropped): the
//! samples, at most `sample_size` × 4 B + 4 B per distinct body — ~1.2 KB on average for
//! cleaned news bodies, 2 KB at most: **1.2–2 GB per million articles**.
//!
//! The [`Sketch`]es are transient: computed per batch in the read pass, each holds
//! `bands × rows` + `sample_size` 32-bit values (≤ 2.5 KB) and is handed to
//! [`NearDedup::add`] right away.

mod cluster;
mod lsh;
mod minhash;
mod near;
mod shingle;
mod similarity;
mod spill;

pub use cluster::{Clusters, DedupStats};
pub use minhash::{Sketch, Sketcher};
pub use near::NearDedup;

use crate::config::DedupConfig;
use crate::error::{Error, Result};

use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

/// Identity of a body for exact dedup: the first 16 bytes of the sha256 of its normal form.
pub type ContentKey = [u8; 16];

/// NFC, case-folded, whitespace collapsed to single spaces: [`crate::text::normal_form`]
/// of the text's NFC, as one string (the content key hashes the same form in pieces).
pub fn normalise(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len());
    if !crate::text::normal_form(text, true, &mut |piece, _| out.extend_from_slice(piece)) {
        out.clear();
        let nfc: String = text.nfc().collect();
        crate::text::normal_form(&nfc, false, &mut |piece, _| out.extend_from_slice(piece));
    }
    // The pieces are whole characters, so this never replaces anything.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Key of a body.
pub fn content_key(text: &str) -> ContentKey {
    content_key_of_blocks(std::slice::from_ref(&text))
}

/// Key of `blocks` joined by whitespace, without building the joined text or its normal
/// form: in the common case (every character surely NFC) the normal form is made in one
/// pass and hashed as it is made. Same key as [`content_key`] of the joined text.
pub fn content_key_of_blocks(blocks: &[&str]) -> ContentKey {
    let mut hasher = ContentHasher::default();
    for block in blocks {
        let mut first = true;
        if !crate::text::normal_form(block, true, &mut |piece, _| {
            hasher.push(piece, std::mem::take(&mut first));
        }) {
            return content_key_slow(blocks);
        }
    }
    hasher.finish()
}

/// [`content_key_of_blocks`] when a character may not be NFC: the normal form of each
/// block's NFC, made a stretch at a time. A stretch ends before an ASCII whitespace byte
/// ([`crate::text::is_ascii_space`]) once it is [`STRETCH`] bytes long: NFC never composes or
/// reorders across such a character, and the normal form turns it into the space
/// [`ContentHasher`] puts between blocks, so the key is that of the whole text while only
/// one stretch is ever copied.
/// (Joining a huge article and taking its NFC whole held four copies of it at once.)
pub(crate) fn content_key_slow(blocks: &[&str]) -> ContentKey {
    key_by_stretches(blocks, STRETCH)
}

fn key_by_stretches(blocks: &[&str], min: usize) -> ContentKey {
    let mut hasher = ContentHasher::default();
    let mut nfc = String::new();
    for block in blocks {
        for stretch in stretches(block, min) {
            let text = if crate::text::is_nfc(stretch) {
                stretch
            } else {
                nfc.clear();
                nfc.extend(stretch.nfc());
                nfc.as_str()
            };
            let mut first = true;
            crate::text::normal_form(text, false, &mut |piece, _| {
                hasher.push(piece, std::mem::take(&mut first));
            });
        }
    }
    hasher.finish()
}

/// Bytes [`content_key_slow`] normalises at a time (at least; a stretch runs on to the next
/// ASCII whitespace).
const STRETCH: usize = 64 << 10;

/// `text` cut into consecutive stretches of at least `min` bytes (the last may be shorter),
/// each after the first starting at a byte [`crate::text::is_ascii_space`] accepts.
fn stretches(text: &str, min: usize) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        // Past the first byte, so every stretch is non-empty.
        let from = min.max(1).min(rest.len());
        let cut = crate::text::find_byte(&rest.as_bytes()[from..], crate::text::is_ascii_space)
            .map_or(rest.len(), |i| from + i);
        // ASCII bytes are character boundaries.
        let (stretch, tail) = rest.split_at(cut);
        rest = tail;
        Some(stretch)
    })
}

fn key_of_digest(digest: &[u8]) -> ContentKey {
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

/// The content key of blocks, from the pieces of their [`crate::text::normal_form`]s as
/// they are made (for callers that read the normal form for other keys too).
#[derive(Default)]
pub struct ContentHasher {
    sha: Sha256,
    /// Something was hashed: the next block starts with a space.
    started: bool,
}

impl ContentHasher {
    /// Hash the next piece; `first_of_block` when it opens a block.
    pub fn push(&mut self, piece: &[u8], first_of_block: bool) {
        if first_of_block && self.started {
            self.sha.update(b" ");
        }
        self.sha.update(piece);
        self.started = true;
    }

    pub fn finish(self) -> ContentKey {
        key_of_digest(&self.sha.finalize())
    }
}

/// The document id derived from its key: 16 hex characters.
pub fn doc_id(key: &ContentKey) -> String {
    hex::encode(&key[..8])
}

/// What happens to one document after dedup.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    /// Kept, standing for `dup_count` documents (itself included).
    Keep { dup_count: u32 },
    /// A copy of the document at `kept_index`; `similarity` is the share of this body's
    /// shingles found in the kept body (1 for an exact copy).
    Duplicate { kept_index: u64, similarity: f32 },
}

impl DedupConfig {
    /// Check the invariants near-dedup relies on.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str| Err(Error::Config(format!("dedup: {what}")));
        if self.shingle_words == 0 || self.shingle_chars == 0 {
            return bad("shingle_words and shingle_chars must be > 0");
        }
        let perms = self.bands.checked_mul(self.rows);
        if self.bands == 0 || self.rows == 0 || perms.is_none_or(|p| p > 4096) {
            return bad("bands and rows must be > 0, with bands * rows <= 4096");
        }
        if self.sample_size == 0 || self.sample_size > 1 << 16 {
            return bad("sample_size must be in 1..=65536");
        }
        let share = |x: f64| (0.0..=1.0).contains(&x);
        if !(share(self.jaccard)
            && share(self.containment)
            && share(self.min_size_ratio)
            && share(self.char_script_share))
        {
            return bad(
                "jaccard, containment, min_size_ratio and char_script_share must be in 0..=1",
            );
        }
        if !share(self.kept_containment) {
            return bad("kept_containment must be in 0..=1");
        }
        if self.jaccard == 0.0 || self.containment == 0.0 || self.kept_containment == 0.0 {
            return bad(
                "jaccard, containment and kept_containment must be > 0 (0 would merge unrelated bodies)",
            );
        }
        if self.min_shingles == 0 || self.bucket_window == 0 {
            return bad("min_shingles and bucket_window must be > 0");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn normal_form_is_the_same_on_both_paths() {
        let slow = |t: &str| {
            t.split_whitespace()
                .map(|w| w.chars().flat_map(char::to_lowercase).collect::<String>())
                .collect::<Vec<_>>()
                .join(" ")
        };
        for t in [
            "  Đà   Nẵng\u{a0}\tTOKYO\n東京  ",
            "ΟΔΟΣ Σ",
            "İstanbul\u{3000}x",
            "",
            "   ",
        ] {
            assert_eq!(super::normalise(t), slow(t), "{t:?}");
        }
    }

    use super::*;

    #[test]
    fn config_defaults_validate_and_bad_values_do_not() {
        let d = DedupConfig::default();
        assert!(d.validate().is_ok());
        for bad in [
            DedupConfig {
                bands: usize::MAX,
                rows: 2,
                ..d.clone()
            },
            DedupConfig {
                rows: 0,
                ..d.clone()
            },
            DedupConfig {
                sample_size: 0,
                ..d.clone()
            },
            DedupConfig {
                jaccard: 1.5,
                ..d.clone()
            },
            DedupConfig {
                containment: 0.0,
                ..d.clone()
            },
            DedupConfig {
                kept_containment: f64::NAN,
                ..d.clone()
            },
            DedupConfig {
                min_shingles: 0,
                ..d.clone()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
        let t: DedupConfig = toml::from_str("near = false\nbands = 8").unwrap();
        assert_eq!((t.near, t.bands, t.rows), (false, 8, d.rows));
        assert!(toml::from_str::<DedupConfig>("threshold = 0.5").is_err());
    }

    #[test]
    fn key_of_blocks_is_the_key_of_the_joined_text() {
        let long = "Ab \u{1ec7}  ".repeat(5000);
        for (parts, sep) in [
            (vec!["A  b", "C"], "\n"),
            (vec!["", " x ", ""], "\n\n"),
            (vec!["Vie\u{0323}\u{0302}t", "NAM"], "\n"),
            (vec!["İstanbul", "ΟΔΟΣ\u{3000}東京"], "\n\n"),
            (vec![long.as_str(), "z"], "\n"),
            (vec![], "\n"),
        ] {
            let joined = parts.join(sep);
            assert_eq!(content_key_of_blocks(&parts), content_key(&joined));
            let digest = Sha256::digest(normalise(&joined).as_bytes());
            assert_eq!(content_key(&joined)[..], digest[..16], "{joined:?}");
        }
    }

    #[test]
    fn the_slow_key_made_by_stretches_is_the_key_of_the_whole_nfc() {
        // Decomposed marks right after a cut, whitespace runs across cuts, blocks that are
        // only whitespace, a stretch with no whitespace to end it, characters that change
        // length when lower-cased.
        let blocks = [
            "Vie\u{0323}\u{0302}t  Nam\te\u{0301}\u{0323} x\u{0301}\x0bY\r\n\n İSTANBUL",
            "   ",
            "",
            "\u{0301}lead  ΟΔΟΣ\u{3000}東京 Ａｂ\u{00a0}c",
            "nowhitespaceatalle\u{0301}\u{0301}",
            " trailing \x0c",
        ];
        let joined = blocks.join("\n");
        let want = Sha256::digest(normalise(&joined).as_bytes());
        for min in [0, 1, 2, 3, 5, 8, 13, 1 << 20] {
            assert_eq!(key_by_stretches(&blocks, min)[..], want[..16], "min {min}");
            for b in blocks {
                assert_eq!(stretches(b, min).collect::<String>(), b, "min {min}");
                for s in stretches(b, min).skip(1) {
                    assert!(s.as_bytes()[0].is_ascii_whitespace() || s.starts_with('\x0b'));
                }
            }
        }
        assert_eq!(content_key_slow(&blocks)[..], want[..16]);
        assert_eq!(content_key_slow(&[])[..], Sha256::digest(b"")[..16]);
    }

    #[test]
    fn normal_form_ignores_case_space_and_composition() {
        let nfd = "Vie\u{0323}\u{0302}t Nam\n\n  HỘI   nghị";
        assert_eq!(normalise(nfd), "việt nam hội nghị");
        assert_eq!(content_key("A  b\nC"), content_key("a b c"));
        assert_ne!(content_key("a b c"), content_key("a b d"));
    }

    #[test]
    fn key_is_the_sha256_of_the_normal_form() {
        let long = format!(
            "{}Ünïcode {}",
            "Ascii Run\x0b ".repeat(2000),
            "x".repeat(20_000)
        );
        for t in [
            "",
            " \t\x0b\x0c\r\n",
            "  Đà   Nẵng\u{a0}\tTOKYO\n東京  ",
            "ΟΔΟΣ Σ İstanbul\u{3000}x\u{85}y",
            "Vie\u{0323}\u{0302}t Nam",
            "MiXeD\x1cCase \u{2028}end ",
            &long,
        ] {
            let want = Sha256::digest(normalise(t).as_bytes());
            assert_eq!(content_key(t)[..], want[..16], "{t:?}");
        }
    }
}
