//! Union-find over document ordinals, and the resolved [`Clusters`].

use super::Verdict;

/// Disjoint sets with path halving and union by rank.
#[derive(Debug)]
pub(crate) struct UnionFind {
    parent: Vec<u32>,
    rank: Vec<u8>,
}

impl UnionFind {
    pub fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n as u32).collect(),
            rank: vec![0; n],
        }
    }

    pub fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let grand = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = grand;
            x = grand;
        }
        x
    }

    /// Join the sets of `a` and `b`; false when they were one already.
    pub fn union(&mut self, a: u32, b: u32) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        let (hi, lo) = if self.rank[ra as usize] >= self.rank[rb as usize] {
            (ra, rb)
        } else {
            (rb, ra)
        };
        self.parent[lo as usize] = hi;
        if self.rank[hi as usize] == self.rank[lo as usize] {
            self.rank[hi as usize] += 1;
        }
        true
    }
}

/// What near-dedup did, for the build report.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DedupStats {
    /// Documents added.
    pub documents: u64,
    /// Documents kept (one per cluster).
    pub kept: u64,
    /// Documents that are duplicates (exact or near) of a kept one.
    pub duplicates: u64,
    /// Documents whose normalised body equals an earlier one.
    pub exact_duplicates: u64,
    /// Documents that took part in near-dup search (distinct bodies, long enough).
    pub sketched: u64,
    /// Candidate pairs from LSH that were verified.
    pub candidates: u64,
    /// Verified pairs that joined two clusters.
    pub merges: u64,
    /// Documents taken out of a cluster because they did not match its kept member.
    pub split: u64,
}

/// The outcome of dedup: for every document, the cluster it belongs to and whether it is
/// the one kept.
#[derive(Debug, Clone)]
pub struct Clusters {
    /// The caller's indices, ascending; position = ordinal.
    pub(crate) indices: Vec<u64>,
    /// Ordinal of the kept member of each document's cluster.
    pub(crate) kept: Vec<u32>,
    /// Share of each document's shingles found in its kept member (1 for the kept one).
    pub(crate) similarity: Vec<f32>,
    /// Members per cluster, set on the kept member.
    pub(crate) size: Vec<u32>,
    /// Bit per ordinal: an earlier document has the same content key.
    pub(crate) exact: Vec<u64>,
    pub(crate) stats: DedupStats,
}

impl Clusters {
    fn ordinal(&self, index: u64) -> Option<usize> {
        self.indices.binary_search(&index).ok()
    }

    /// Keep or drop document `index`. A document never added is kept alone.
    pub fn verdict(&self, index: u64) -> Verdict {
        let Some(o) = self.ordinal(index) else {
            return Verdict::Keep { dup_count: 1 };
        };
        let k = self.kept[o] as usize;
        if k == o {
            Verdict::Keep {
                dup_count: self.size[o],
            }
        } else {
            Verdict::Duplicate {
                kept_index: self.indices[k],
                similarity: self.similarity[o],
            }
        }
    }

    /// The cluster of document `index`, named by the index of its kept member.
    pub fn cluster_of(&self, index: u64) -> u64 {
        match self.ordinal(index) {
            Some(o) => self.indices[self.kept[o] as usize],
            None => index,
        }
    }

    /// Whether an earlier document has the same content key as document `index` (exact
    /// dedup alone would drop it), as opposed to a near copy or a kept document.
    pub fn is_exact_copy(&self, index: u64) -> bool {
        self.ordinal(index).is_some_and(|o| {
            self.exact
                .get(o / 64)
                .is_some_and(|w| w >> (o % 64) & 1 == 1)
        })
    }

    /// Documents resolved.
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// Counts of what happened.
    pub fn stats(&self) -> &DedupStats {
        &self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_find_joins_transitively() {
        let mut uf = UnionFind::new(5);
        assert!(uf.union(0, 1));
        assert!(uf.union(3, 4));
        assert!(uf.union(1, 4));
        assert!(!uf.union(0, 3));
        assert_eq!(uf.find(0), uf.find(4));
        assert_ne!(uf.find(2), uf.find(0));
    }

    #[test]
    fn unknown_index_is_kept_alone() {
        let c = Clusters {
            indices: vec![3, 7],
            kept: vec![0, 0],
            similarity: vec![1.0, 0.9],
            size: vec![2, 0],
            exact: vec![0b10],
            stats: DedupStats::default(),
        };
        assert!(c.is_exact_copy(7));
        assert!(!c.is_exact_copy(3));
        assert!(!c.is_exact_copy(5));
        assert_eq!(c.verdict(3), Verdict::Keep { dup_count: 2 });
        assert_eq!(
            c.verdict(7),
            Verdict::Duplicate {
                kept_index: 3,
                similarity: 0.9
            }
        );
        assert_eq!(c.verdict(5), Verdict::Keep { dup_count: 1 });
        assert_eq!(c.cluster_of(7), 3);
        assert_eq!(c.cluster_of(5), 5);
    }
}
