//! Exact-duplicate resolution on its own (no sketches): the first copy in input order
//! is kept. [`super::NearDedup`] does the same and more; this stays for builds that only
//! want exact dedup with the smallest memory.

use std::collections::HashMap;

use super::{ContentKey, Verdict};

/// Exact-duplicate resolution over documents seen in input order.
#[derive(Debug, Default)]
pub struct ExactDedup {
    groups: HashMap<ContentKey, (u64, u32)>,
}

impl ExactDedup {
    pub fn new() -> Self {
        Self::default()
    }

    /// Record document `index` (indices must be given in increasing order).
    pub fn add(&mut self, index: u64, key: ContentKey) {
        let entry = self.groups.entry(key).or_insert((index, 0));
        entry.1 = entry.1.saturating_add(1);
    }

    /// Decide the document `index` with `key`.
    pub fn verdict(&self, index: u64, key: &ContentKey) -> Verdict {
        match self.groups.get(key) {
            Some(&(first, count)) if first == index => Verdict::Keep { dup_count: count },
            Some(&(first, _)) => Verdict::Duplicate {
                kept_index: first,
                similarity: 1.0,
            },
            None => Verdict::Keep { dup_count: 1 },
        }
    }

    /// Number of distinct bodies.
    pub fn distinct(&self) -> usize {
        self.groups.len()
    }
}

#[cfg(test)]
mod tests {
    use super::super::{content_key, doc_id};
    use super::*;

    #[test]
    fn first_copy_kept_with_count() {
        let mut d = ExactDedup::new();
        let k1 = content_key("one");
        let k2 = content_key("two");
        d.add(0, k1);
        d.add(1, k2);
        d.add(2, content_key("ONE"));
        assert_eq!(d.verdict(0, &k1), Verdict::Keep { dup_count: 2 });
        assert_eq!(d.verdict(1, &k2), Verdict::Keep { dup_count: 1 });
        assert_eq!(
            d.verdict(2, &k1),
            Verdict::Duplicate {
                kept_index: 0,
                similarity: 1.0
            }
        );
        assert_eq!(d.distinct(), 2);
        assert_eq!(doc_id(&k1).len(), 16);
    }
}
