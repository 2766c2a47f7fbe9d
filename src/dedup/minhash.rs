//! The per-document [`Sketch`]: a MinHash signature for LSH banding plus a bottom-k sample
//! of shingle hashes for verifying candidates by their actual overlap.

use serde::{Deserialize, Serialize};

use super::shingle::{self, mix64};
use crate::config::DedupConfig;
use crate::error::Result;

/// What near-dedup knows about one body. Computed by [`Sketcher::sketch`] (in parallel,
/// during the read pass) and handed to [`super::NearDedup::add`].
///
/// Serialised compactly: the hash lists are little-endian bytes, written as base64 in
/// human-readable formats (JSON) and as raw bytes in binary ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sketch {
    /// Distinct shingles of the body (counted as 32-bit hashes).
    shingles: u32,
    /// One minimum per permutation (`bands * rows` values).
    #[serde(with = "compact")]
    minhash: Vec<u32>,
    /// The smallest 32-bit shingle hashes, ascending and distinct, at most `sample_size`;
    /// all of them when the body has no more shingles than that.
    #[serde(with = "compact")]
    sample: Vec<u32>,
}

impl Sketch {
    /// Distinct shingles of the body.
    pub fn shingles(&self) -> u32 {
        self.shingles
    }

    /// The MinHash signature.
    pub fn minhash(&self) -> &[u32] {
        &self.minhash
    }

    /// The bottom-k sample of shingle hashes, ascending.
    pub fn sample(&self) -> &[u32] {
        &self.sample
    }

    /// Repair what a hand-made or damaged sketch may break (unsorted or repeated sample,
    /// a count below the sample size), so later steps can rely on the invariants.
    pub(crate) fn sanitise(&mut self) {
        if !self.sample.windows(2).all(|w| w[0] < w[1]) {
            self.sample.sort_unstable();
            self.sample.dedup();
        }
        let len = u32::try_from(self.sample.len()).unwrap_or(u32::MAX);
        self.shingles = self.shingles.max(len);
    }
}

/// Computes sketches; holds the MinHash permutations. Cheap to share across threads.
#[derive(Debug, Clone)]
pub struct Sketcher {
    words: usize,
    chars: usize,
    char_share: f64,
    sample_size: usize,
    /// Multiply-shift hash functions `(a * x + b) >> 32`, `a` odd.
    perms: Permutations,
}

/// The permutations' multipliers `a` in halves, and their addends `b`: the form [`fold`]
/// computes them in.
#[derive(Debug, Clone)]
struct Permutations {
    a_lo: Vec<u32>,
    a_hi: Vec<u32>,
    b: Vec<u64>,
}

impl Permutations {
    fn new(a: &[u64], b: &[u64]) -> Self {
        Permutations {
            a_lo: a.iter().map(|&a| a as u32).collect(),
            a_hi: a.iter().map(|&a| (a >> 32) as u32).collect(),
            b: b.to_vec(),
        }
    }

    fn len(&self) -> usize {
        self.b.len()
    }
}

/// Seed of the permutation stream: fixed, so signatures are comparable across runs.
const PERMUTATION_SEED: u64 = 0x7175_6972_655f_6d68; // "quire_mh"

impl Sketcher {
    /// Sketcher for a configuration (checked with [`DedupConfig::validate`]).
    pub fn new(cfg: &DedupConfig) -> Result<Self> {
        cfg.validate()?;
        let perms = cfg.bands * cfg.rows;
        let mut state = PERMUTATION_SEED;
        let mut next = || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            mix64(state)
        };
        let mut a = Vec::with_capacity(perms);
        let mut b = Vec::with_capacity(perms);
        for _ in 0..perms {
            a.push(next() | 1);
            b.push(next());
        }
        Ok(Sketcher {
            words: cfg.shingle_words,
            chars: cfg.shingle_chars,
            char_share: cfg.char_script_share,
            sample_size: cfg.sample_size,
            perms: Permutations::new(&a, &b),
        })
    }

    /// Sketch a clean body text. Never fails: an empty body gives an empty sketch, which
    /// near-dedup leaves alone.
    pub fn sketch(&self, body: &str) -> Sketch {
        self.sketch_parts(std::slice::from_ref(&body))
    }

    /// [`sketch`](Sketcher::sketch) of `parts` joined by blank lines, without joining them.
    pub fn sketch_parts(&self, parts: &[&str]) -> Sketch {
        let tokens = shingle::tokens_of_parts(parts);
        let n = if tokens.unspaced_share() >= self.char_share {
            self.chars
        } else {
            self.words
        };
        let mut hashes = tokens.hashes;
        shingle::shingle_in_place(&mut hashes, n);
        hashes.sort_unstable();
        hashes.dedup();

        let mut minhash = vec![u32::MAX; self.perms.len()];
        fold(&mut minhash, &self.perms, &hashes);

        // The high half of an already mixed 64-bit hash is a uniform 32-bit hash. The high
        // halves of sorted hashes are sorted already: only equal neighbours go. Counted as
        // they come, so only the sample is stored.
        let mut sample: Vec<u32> = Vec::with_capacity(self.sample_size.min(hashes.len()));
        let mut distinct = 0usize;
        let mut last = None;
        for high in hashes.iter().map(|&x| (x >> 32) as u32) {
            if last != Some(high) {
                last = Some(high);
                distinct += 1;
                if sample.len() < self.sample_size {
                    sample.push(high);
                }
            }
        }
        Sketch {
            shingles: u32::try_from(distinct).unwrap_or(u32::MAX),
            minhash,
            sample,
        }
    }
}

/// Fold shingle hashes into a signature: `m[j] = min(m[j], (a[j]·x + b[j]) >> 32)` over
/// every `x`, all mod 2^64. This loop is most of the sketch's cost. With `a = a_hi·2^32 +
/// a_lo` and `x = x_hi·2^32 + x_lo`, the top half of `a·x + b` is the top half of
/// `a_lo·x_lo + b` plus the low half of `a_hi·x_lo + a_lo·x_hi` (the other terms are
/// multiples of 2^64): one 32 × 32 → 64-bit multiply and two 32-bit ones per value, where
/// the 64-bit product took three of the first kind and more shuffling in vector lanes.
/// Same arithmetic, same signature, on every path (test: against the formula).
fn fold(minhash: &mut [u32], perms: &Permutations, hashes: &[u64]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has the feature `fold_avx512` is compiled for.
            unsafe { fold_avx512(minhash, perms, hashes) };
            return;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: as above, for AVX2.
            unsafe { fold_avx2(minhash, perms, hashes) };
            return;
        }
    }
    fold_portable(minhash, perms, hashes);
}

#[inline(always)]
fn fold_portable(minhash: &mut [u32], perms: &Permutations, hashes: &[u64]) {
    fold_range(minhash, &perms.a_lo, &perms.a_hi, &perms.b, hashes);
}

/// [`fold`] over the permutations the slices hold.
#[inline(always)]
fn fold_range(minhash: &mut [u32], a_lo: &[u32], a_hi: &[u32], b: &[u64], hashes: &[u64]) {
    for &x in hashes {
        let (x_lo, x_hi) = (x as u32, (x >> 32) as u32);
        for (((m, &a_lo), &a_hi), &b) in minhash.iter_mut().zip(a_lo).zip(a_hi).zip(b) {
            let low = (u64::from(a_lo) * u64::from(x_lo)).wrapping_add(b);
            let cross = a_hi
                .wrapping_mul(x_lo)
                .wrapping_add(a_lo.wrapping_mul(x_hi));
            *m = (*m).min(((low >> 32) as u32).wrapping_add(cross));
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn fold_avx512(minhash: &mut [u32], perms: &Permutations, hashes: &[u64]) {
    fold_portable(minhash, perms, hashes);
}

/// [`fold`] eight permutations at a time, two such blocks held in registers over all the
/// hashes: the 32 × 32 → 64-bit products come from two multiplies (even and odd lanes),
/// whose top halves one blend puts back in lane order; the cross terms are two 32-bit
/// multiplies of all eight lanes. Two blocks per pass share each hash's two broadcasts
/// (loaded straight from memory) and the loop's own work: 33% less time than one block
/// per pass on this machine kind (AMD EPYC, 27 M hashes × 120 permutations).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn fold_avx2(minhash: &mut [u32], perms: &Permutations, hashes: &[u64]) {
    use std::arch::x86_64::*;

    /// One block's multipliers and addends, in the lanes [`Block::step`] uses them.
    struct Block {
        a_lo: __m256i,
        a_lo_odd: __m256i,
        a_hi: __m256i,
        b_even: __m256i,
        b_odd: __m256i,
    }

    impl Block {
        /// The block of permutations `at..at + 8`.
        #[target_feature(enable = "avx2")]
        fn new(perms: &Permutations, at: usize) -> Self {
            let (a_lo, a_hi, b) = (
                &perms.a_lo[at..at + 8],
                &perms.a_hi[at..at + 8],
                &perms.b[at..at + 8],
            );
            // SAFETY: each slice holds 8 u32 (32 bytes), as the unaligned loads read.
            let (a_lo, a_hi) = unsafe {
                (
                    _mm256_loadu_si256(a_lo.as_ptr().cast()),
                    _mm256_loadu_si256(a_hi.as_ptr().cast()),
                )
            };
            Block {
                a_lo,
                a_lo_odd: _mm256_srli_epi64::<32>(a_lo),
                a_hi,
                b_even: _mm256_set_epi64x(b[6] as i64, b[4] as i64, b[2] as i64, b[0] as i64),
                b_odd: _mm256_set_epi64x(b[7] as i64, b[5] as i64, b[3] as i64, b[1] as i64),
            }
        }

        /// `m` folded with the hash whose halves `x_lo`, `x_hi` fill every lane.
        #[inline(always)]
        fn step(&self, x_lo: __m256i, x_hi: __m256i, m: __m256i) -> __m256i {
            // SAFETY: a `Block` is only made by `Block::new`, which needs AVX2: wherever
            // one exists to step, the CPU has AVX2.
            unsafe {
                let even = _mm256_add_epi64(_mm256_mul_epu32(self.a_lo, x_lo), self.b_even);
                let odd = _mm256_add_epi64(_mm256_mul_epu32(self.a_lo_odd, x_lo), self.b_odd);
                let high = _mm256_blend_epi32::<0b1010_1010>(_mm256_srli_epi64::<32>(even), odd);
                let cross = _mm256_add_epi32(
                    _mm256_mullo_epi32(self.a_hi, x_lo),
                    _mm256_mullo_epi32(self.a_lo, x_hi),
                );
                _mm256_min_epu32(m, _mm256_add_epi32(high, cross))
            }
        }
    }

    /// The low and high halves of `x` broadcast to every lane.
    #[inline(always)]
    fn halves(x: &u64) -> (__m256i, __m256i) {
        let half = std::ptr::from_ref(x).cast::<i32>();
        // SAFETY: a `u64` is two readable `i32` halves, low first on x86-64 (little-endian);
        // the broadcasts need AVX2, which `fold_avx2`, the only caller, runs with.
        unsafe {
            (
                _mm256_set1_epi32(half.read_unaligned()),
                _mm256_set1_epi32(half.add(1).read_unaligned()),
            )
        }
    }

    let n = minhash.len().min(perms.len());
    let whole = n - n % 8;
    let load = |m: &[u32]| {
        // SAFETY: the caller passes 8 values (32 bytes); AVX2 is enabled here.
        unsafe { _mm256_loadu_si256(m.as_ptr().cast()) }
    };
    let store = |m: &mut [u32], v: __m256i| {
        // SAFETY: as above.
        unsafe { _mm256_storeu_si256(m.as_mut_ptr().cast(), v) }
    };
    let mut at = 0;
    while at + 16 <= whole {
        let (first, second) = (Block::new(perms, at), Block::new(perms, at + 8));
        let (mut m0, mut m1) = (load(&minhash[at..at + 8]), load(&minhash[at + 8..at + 16]));
        for x in hashes {
            let (x_lo, x_hi) = halves(x);
            m0 = first.step(x_lo, x_hi, m0);
            m1 = second.step(x_lo, x_hi, m1);
        }
        store(&mut minhash[at..at + 8], m0);
        store(&mut minhash[at + 8..at + 16], m1);
        at += 16;
    }
    if at < whole {
        let block = Block::new(perms, at);
        let mut m = load(&minhash[at..at + 8]);
        for x in hashes {
            let (x_lo, x_hi) = halves(x);
            m = block.step(x_lo, x_hi, m);
        }
        store(&mut minhash[at..at + 8], m);
    }
    fold_range(
        &mut minhash[whole..n],
        &perms.a_lo[whole..n],
        &perms.a_hi[whole..n],
        &perms.b[whole..n],
        hashes,
    );
}

/// `Vec<u32>` as little-endian bytes: base64 text for human-readable formats, raw bytes
/// otherwise.
mod compact {
    use serde::de::{self, Deserializer, SeqAccess, Visitor};
    use serde::Serializer;
    use std::fmt;

    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub fn serialize<S: Serializer>(values: &[u32], s: S) -> Result<S::Ok, S::Error> {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        if s.is_human_readable() {
            s.serialize_str(&encode(&bytes))
        } else {
            s.serialize_bytes(&bytes)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u32>, D::Error> {
        if d.is_human_readable() {
            d.deserialize_any(Bytes)
        } else {
            d.deserialize_bytes(Bytes)
        }
    }

    struct Bytes;

    impl<'de> Visitor<'de> for Bytes {
        type Value = Vec<u32>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("base64 text or bytes holding little-endian u32 values")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<u32>, E> {
            let bytes = decode(v).ok_or_else(|| E::custom("invalid base64"))?;
            self.visit_bytes(&bytes)
        }

        fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Vec<u32>, E> {
            if !v.len().is_multiple_of(4) {
                return Err(E::custom("byte length is not a multiple of 4"));
            }
            Ok(v.chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect())
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u32>, A::Error> {
            let mut bytes = Vec::new();
            while let Some(b) = seq.next_element::<u8>()? {
                bytes.push(b);
            }
            self.visit_bytes(&bytes)
        }
    }

    pub(super) fn encode(bytes: &[u8]) -> String {
        let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, &b)| n | (b as u32) << (16 - 8 * i));
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    pub(super) fn decode(text: &str) -> Option<Vec<u8>> {
        let text = text.trim_end_matches('=').as_bytes();
        let mut out = Vec::with_capacity(text.len() * 3 / 4);
        let mut acc = 0u32;
        let mut bits = 0u32;
        for &c in text {
            let v = ALPHABET.iter().position(|&a| a == c)? as u32;
            acc = (acc << 6) | v;
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
                acc &= (1 << bits) - 1;
            }
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn split_fold_equals_the_definition() {
        let mut state = 7u64;
        let mut next = || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            super::super::shingle::mix64(state)
        };
        let xs: Vec<u64> = (0..1000).map(|_| next()).collect();
        let edge = [
            0,
            1,
            u64::MAX,
            1 << 32,
            (1 << 32) - 1,
            0x8000_0000_8000_0000,
        ];
        // 120 is the default (bands × rows): pairs of blocks of eight and one block alone;
        // 16 is one pair; the others leave a remainder past the blocks of eight.
        for n in [120, 16, 29, 13, 7, 1] {
            let a: Vec<u64> = (0..n).map(|_| next() | 1).collect();
            let b: Vec<u64> = (0..n).map(|_| next()).collect();
            let perms = super::Permutations::new(&a, &b);
            let definition = |m: &mut [u32], xs: &[u64]| {
                for &x in xs {
                    for ((m, &a), &b) in m.iter_mut().zip(&a).zip(&b) {
                        *m = (*m).min((a.wrapping_mul(x).wrapping_add(b) >> 32) as u32);
                    }
                }
            };
            let mut want = vec![u32::MAX; n];
            definition(&mut want, &xs);
            let mut fast = vec![u32::MAX; n];
            super::fold(&mut fast, &perms, &xs);
            let mut portable = vec![u32::MAX; n];
            super::fold_portable(&mut portable, &perms, &xs);
            assert_eq!(fast, want, "{n} permutations");
            assert_eq!(portable, want, "{n} permutations");
            // The AVX2 path also where `fold` would take the AVX-512 one.
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                let mut avx2 = vec![u32::MAX; n];
                // SAFETY: the CPU has AVX2.
                unsafe { super::fold_avx2(&mut avx2, &perms, &xs) };
                assert_eq!(avx2, want, "{n} permutations");
            }
            assert!(fast.iter().all(|&m| m < u32::MAX / 64));
            // Each value on its own too (a minimum hides most of them), with extremes.
            for &x in xs.iter().take(200).chain(&edge) {
                let mut one = vec![u32::MAX; n];
                super::fold(&mut one, &perms, &[x]);
                let mut want = vec![u32::MAX; n];
                definition(&mut want, &[x]);
                assert_eq!(one, want, "{x:#x}");
            }
        }
    }

    use super::*;

    fn sketcher() -> Sketcher {
        Sketcher::new(&DedupConfig::default()).unwrap()
    }

    #[test]
    fn empty_body_gives_empty_sketch() {
        let s = sketcher().sketch("  \n\n ");
        assert_eq!(s.shingles(), 0);
        assert!(s.sample().is_empty());
        assert!(s.minhash().iter().all(|&v| v == u32::MAX));
    }

    #[test]
    fn same_text_same_sketch_and_sample_is_sorted_bottom_k() {
        let cfg = DedupConfig {
            sample_size: 8,
            ..DedupConfig::default()
        };
        let k = Sketcher::new(&cfg).unwrap();
        let text = (0..100)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        let a = k.sketch(&text);
        assert_eq!(a, k.sketch(&text.replace(' ', "\n")));
        assert_eq!(a.shingles(), 97);
        assert_eq!(a.sample().len(), 8);
        assert!(a.sample().windows(2).all(|w| w[0] < w[1]));
        assert_eq!(a.minhash().len(), cfg.bands * cfg.rows);
    }

    #[test]
    fn parts_sketch_as_their_joined_text() {
        let k = sketcher();
        let parts = [
            "Plain ASCII &amp; an entity, Việt Nam",
            "Vie\u{0323}\u{0302}t \u{ff21}\u{ff22} x\u{a0}y… 東京大学",
            "",
            "\u{301}a combining mark first, then words to shingle",
            "short",
        ];
        for n in 1..=parts.len() {
            let joined = parts[..n].join("\n\n");
            assert_eq!(k.sketch_parts(&parts[..n]), k.sketch(&joined), "{n} parts");
        }
        assert_eq!(k.sketch_parts(&[]), k.sketch(""));
    }

    #[test]
    fn compact_serde_round_trips() {
        let s = sketcher().sketch("one two three four five six seven eight nine ten");
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.len() < 4 * (s.minhash().len() + s.sample().len()) * 3 / 2 + 100);
        let back: Sketch = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        for n in 0..10usize {
            let bytes: Vec<u8> = (0..n as u8).collect();
            assert_eq!(compact::decode(&compact::encode(&bytes)).unwrap(), bytes);
        }
        assert!(
            serde_json::from_str::<Sketch>(r#"{"shingles":1,"minhash":"AAA","sample":""}"#)
                .is_err()
        );
        assert!(
            serde_json::from_str::<Sketch>(r#"{"shingles":1,"minhash":"@@@@","sample":""}"#)
                .is_err()
        );
    }

    #[test]
    fn sanitise_repairs_order_and_count() {
        let mut s = Sketch {
            shingles: 1,
            minhash: vec![],
            sample: vec![5, 3, 3, 9],
        };
        s.sanitise();
        assert_eq!(s.sample(), &[3, 5, 9]);
        assert_eq!(s.shingles(), 3);
    }
}
