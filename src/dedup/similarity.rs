//! Verifying a candidate pair by the overlap of its shingle samples, and the rule that
//! decides whether two bodies are copies of one article.

use crate::config::DedupConfig;

/// The measured overlap of two bodies `a` and `b`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Overlap {
    /// |A ∩ B| / |A ∪ B|.
    pub jaccard: f64,
    /// |A ∩ B| / |A|: the share of `a` found in `b`.
    pub a_in_b: f64,
    /// |A ∩ B| / |B|.
    pub b_in_a: f64,
    /// Shingle count of the smaller body over that of the larger one (0..=1).
    pub size_ratio: f64,
    /// Whether `a` is the smaller body (fewer shingles; ties: `a`).
    pub a_smaller: bool,
}

impl Overlap {
    /// The share of the smaller body found in the larger one.
    pub fn containment(&self) -> f64 {
        if self.a_smaller {
            self.a_in_b
        } else {
            self.b_in_a
        }
    }
}

/// Overlap of two bodies from their bottom-k samples (ascending, distinct) and their
/// distinct-shingle counts.
///
/// Both samples are cut at the same hash threshold — the largest hash of whichever sample
/// is incomplete (the smaller such hash if both are) — so what remains is a consistent
/// random sample of each set (the same shingles are sampled in both), and the sample
/// overlap estimates Jaccard and both containments without bias. When both bodies fit
/// their samples, the result is exact.
pub(crate) fn overlap(a: &[u32], a_count: u32, b: &[u32], b_count: u32) -> Overlap {
    let threshold = |s: &[u32], count: u32| -> u32 {
        if (s.len() as u64) < u64::from(count) {
            s.last().copied().unwrap_or(u32::MAX)
        } else {
            u32::MAX
        }
    };
    let tau = threshold(a, a_count).min(threshold(b, b_count));
    let a = &a[..a.partition_point(|&x| x <= tau)];
    let b = &b[..b.partition_point(|&x| x <= tau)];

    let (mut i, mut j, mut inter) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                inter += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let ratio = |n: usize, d: usize| if d == 0 { 0.0 } else { n as f64 / d as f64 };
    let (small, large) = (a_count.min(b_count), a_count.max(b_count));
    Overlap {
        jaccard: ratio(inter, a.len() + b.len() - inter),
        a_in_b: ratio(inter, a.len()),
        b_in_a: ratio(inter, b.len()),
        size_ratio: ratio(small as usize, large as usize),
        a_smaller: a_count <= b_count,
    }
}

/// When two bodies are copies of one article.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rule {
    jaccard: f64,
    containment: f64,
    min_size_ratio: f64,
    kept_containment: f64,
}

impl Rule {
    pub fn new(cfg: &DedupConfig) -> Self {
        Rule {
            jaccard: cfg.jaccard,
            containment: cfg.containment,
            min_size_ratio: cfg.min_size_ratio,
            kept_containment: cfg.kept_containment,
        }
    }

    /// Copies: similar as wholes (Jaccard), or the smaller is mostly inside the larger (a
    /// truncated copy) while not being a small fraction of it — a shared quote of one or
    /// two sentences is a small fraction of a whole story, so it never qualifies.
    pub fn accepts(&self, o: &Overlap) -> bool {
        o.jaccard >= self.jaccard
            || (o.containment() >= self.containment && o.size_ratio >= self.min_size_ratio)
    }

    /// Whether `a` may stay in the cluster kept as `b`: a copy of it, or mostly found in
    /// it. Looser than [`Rule::accepts`] because both bodies may carry furniture of their
    /// own that cleaning missed; a story that only shares a quoted passage (a small part
    /// of it) with the kept body still fails.
    pub fn stays_with(&self, o: &Overlap) -> bool {
        self.accepts(o) || o.a_in_b >= self.kept_containment
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_when_samples_are_complete() {
        let a: Vec<u32> = (0..100).collect();
        let b: Vec<u32> = (50..150).collect();
        let o = overlap(&a, 100, &b, 100);
        assert!((o.jaccard - 50.0 / 150.0).abs() < 1e-9);
        assert!((o.a_in_b - 0.5).abs() < 1e-9);
        assert!((o.size_ratio - 1.0).abs() < 1e-9);

        let t: Vec<u32> = (0..60).collect();
        let o = overlap(&t, 60, &a, 100);
        assert_eq!(o.containment(), 1.0);
        assert!(o.a_smaller);
        assert!((o.size_ratio - 0.6).abs() < 1e-9);
    }

    #[test]
    fn truncated_samples_share_a_threshold() {
        // Full sets: A = 0..1000 step 1, B = 500..1500; samples keep the 100 smallest.
        let a: Vec<u32> = (0..100).map(|x| x * 10).collect();
        let b: Vec<u32> = (50..150).map(|x| x * 10).collect();
        let o = overlap(&a, 1000, &b, 1000);
        // Cut at 990: A keeps 100, B keeps 50, all shared.
        assert!((o.b_in_a - 1.0).abs() < 1e-9);
        assert!((o.a_in_b - 0.5).abs() < 1e-9);
    }

    #[test]
    fn empty_sets_do_not_divide_by_zero() {
        let o = overlap(&[], 0, &[], 0);
        assert_eq!(o.jaccard, 0.0);
        assert_eq!(o.containment(), 0.0);
        assert!(!Rule::new(&DedupConfig::default()).accepts(&o));
    }

    #[test]
    fn rule_needs_size_for_containment() {
        let rule = Rule::new(&DedupConfig::default());
        let passage = Overlap {
            jaccard: 0.1,
            a_in_b: 1.0,
            b_in_a: 0.1,
            size_ratio: 0.1,
            a_smaller: true,
        };
        assert!(!rule.accepts(&passage));
        let truncated = Overlap {
            size_ratio: 0.6,
            ..passage
        };
        assert!(rule.accepts(&truncated));
    }
}
