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
//!    member against it directly; members that do not match it are split off and
//!    re-clustered among themselves. Two stories that share a quoted passage are never
//!    similar enough as wholes, and this check stops a chain of pairs from joining them.
//!
//! Verification is parallel, applied in a fixed order: the clusters depend only on the
//! documents and their order, not on the thread count.
//!
//! ## Memory, per million documents (default configuration)
//!
//! Held until [`NearDedup::resolve`] returns, for 1 M documents with distinct bodies:
//! band keys 32 × 4 B = 128 MB; caller index, body length, exact-group and sample slot
//! 20 MB; content-key map ~40 MB (dropped at resolve); spill offsets 8 MB. While resolving,
//! one band's sorted keys (8 MB), union-find (5 MB), cluster roots (4 MB) and the result
//! (20 MB), plus the refused candidate pairs (~16 B each; a few per document). About
//! **200–230 MB per million articles** in total, i.e. ~220 bytes per document.
//!
//! On disk (the caller's work directory, removed when done): the samples, at most
//! `sample_size` × 4 B + 4 B per distinct body; news articles average ~2 KB, so ~2 GB per
//! million articles at the default `sample_size` of 512.
//!
//! The [`Sketch`]es themselves are transient: computed per batch in the read pass, they
//! hold `bands × rows` + `sample_size` 32-bit values (~2.4 KB) and are handed to
//! [`NearDedup::add`] right away.

mod cluster;
mod exact;
mod lsh;
mod minhash;
mod near;
mod shingle;
mod similarity;
mod spill;

pub use cluster::{Clusters, DedupStats};
pub use exact::ExactDedup;
pub use minhash::{Sketch, Sketcher};
pub use near::NearDedup;

use crate::config::DedupConfig;
use crate::error::{Error, Result};

use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

/// Identity of a body for exact dedup: the first 16 bytes of the sha256 of its normal form.
pub type ContentKey = [u8; 16];

/// NFC, case-folded, whitespace collapsed to single spaces.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.nfc().flat_map(char::to_lowercase));
    }
    out
}

/// Key of a body.
pub fn content_key(text: &str) -> ContentKey {
    let digest = Sha256::digest(normalise(text).as_bytes());
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
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
        if self.bands == 0 || self.rows == 0 || self.bands * self.rows > 4096 {
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
        if self.jaccard == 0.0 || self.containment == 0.0 {
            return bad("jaccard and containment must be > 0 (0 would merge unrelated bodies)");
        }
        if self.min_shingles == 0 || self.bucket_window == 0 {
            return bad("min_shingles and bucket_window must be > 0");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_form_ignores_case_space_and_composition() {
        let nfd = "Vie\u{0323}\u{0302}t Nam\n\n  HỘI   nghị";
        assert_eq!(normalise(nfd), "việt nam hội nghị");
        assert_eq!(content_key("A  b\nC"), content_key("a b c"));
        assert_ne!(content_key("a b c"), content_key("a b d"));
    }
}
