//! LSH banding over MinHash signatures: two bodies become a candidate pair when all
//! `rows` values of at least one of the `bands` bands agree. For Jaccard similarity `s`
//! that happens with probability `1 - (1 - s^rows)^bands`.
//!
//! Only one 32-bit key per band and document is kept (the band's values hashed). Buckets
//! are found by sorting one band at a time, so no hash map of buckets is ever held.

use super::shingle::mix64;

/// The band keys of every document added, `bands` per slot.
#[derive(Debug, Default)]
pub(crate) struct BandTable {
    bands: usize,
    keys: Vec<u32>,
}

impl BandTable {
    pub fn new(bands: usize) -> Self {
        BandTable {
            bands,
            keys: Vec::new(),
        }
    }

    /// Add the next slot's signature (`bands * rows` values).
    pub fn push(&mut self, minhash: &[u32], rows: usize) {
        for (band, values) in minhash.chunks_exact(rows).take(self.bands).enumerate() {
            let h = values
                .iter()
                .fold(mix64(band as u64 + 1), |h, &v| mix64(h ^ u64::from(v)));
            self.keys.push((h >> 32) as u32);
        }
    }

    #[cfg(test)]
    pub fn slots(&self) -> usize {
        self.keys.len().checked_div(self.bands).unwrap_or(0)
    }

    pub fn bands(&self) -> usize {
        self.bands
    }

    /// The buckets of one band as `(key, slot)` sorted; slots ascend inside a bucket.
    pub fn sorted_band(&self, band: usize) -> Vec<(u32, u32)> {
        let mut entries: Vec<(u32, u32)> = self
            .keys
            .iter()
            .skip(band)
            .step_by(self.bands.max(1))
            .enumerate()
            .map(|(slot, &key)| (key, slot as u32))
            .collect();
        entries.sort_unstable();
        entries
    }
}

/// Call `f(earlier, later)` for the pairs of every bucket of a sorted band whose distance
/// inside the bucket (counted in members, slots ascending) is in `gaps`. A member is paired
/// with at most `gaps.end()` members before it, so a huge bucket costs bounded work, and the
/// nearest earlier members still link a bucket of near-identical bodies into one chain.
pub(crate) fn bucket_pairs(
    sorted: &[(u32, u32)],
    gaps: std::ops::RangeInclusive<usize>,
    mut f: impl FnMut(u32, u32),
) {
    let (min, max) = ((*gaps.start()).max(1), *gaps.end());
    if min > max {
        return;
    }
    for bucket in sorted.chunk_by(|x, y| x.0 == y.0) {
        for (j, &(_, later)) in bucket.iter().enumerate().skip(min) {
            for &(_, earlier) in &bucket[j.saturating_sub(max)..=j - min] {
                f(earlier, later);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_bands_share_buckets() {
        let mut t = BandTable::new(2);
        t.push(&[1, 2, 3, 4], 2);
        t.push(&[1, 2, 9, 9], 2);
        t.push(&[5, 5, 3, 4], 2);
        assert_eq!(t.slots(), 3);
        let mut pairs = Vec::new();
        for band in 0..t.bands() {
            bucket_pairs(&t.sorted_band(band), 1..=8, |a, b| pairs.push((band, a, b)));
        }
        assert_eq!(pairs, vec![(0, 0, 1), (1, 0, 2)]);
    }

    #[test]
    fn window_bounds_big_buckets() {
        let sorted: Vec<(u32, u32)> = (0..100).map(|s| (7, s)).collect();
        let mut n = 0;
        bucket_pairs(&sorted, 1..=3, |a, b| {
            assert!(a < b && b - a <= 3);
            n += 1;
        });
        assert_eq!(n, 1 + 2 + 97 * 3);
        // Split into rounds by gap: the same pairs.
        let mut rounds = Vec::new();
        bucket_pairs(&sorted, 1..=1, |a, b| rounds.push((a, b)));
        assert_eq!(rounds.len(), 99);
        bucket_pairs(&sorted, 2..=3, |a, b| {
            assert!(b - a >= 2);
            rounds.push((a, b))
        });
        assert_eq!(rounds.len(), n);
        // A window of 1 leaves nothing for the second round.
        let second_round = |window: usize| {
            let mut n = 0;
            bucket_pairs(&sorted, 2..=window, |_, _| n += 1);
            n
        };
        assert_eq!(second_round(1), 0);
        assert_eq!(second_round(2), 98);
    }
}
