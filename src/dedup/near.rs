//! [`NearDedup`]: documents are added in input order, then resolved into [`Clusters`].

use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::cluster::{Clusters, DedupStats, UnionFind};
use super::lsh::{bucket_pairs, BandTable};
use super::minhash::Sketch;
use super::similarity::{overlap, Overlap, Rule};
use super::spill::{SpillReader, SpillWriter};
use super::ContentKey;
use crate::config::DedupConfig;
use crate::error::{Error, Result};

/// No sample was spilled for this document.
const NO_SLOT: u32 = u32::MAX;

/// Streaming near-duplicate detection (see the [module doc](super) for the method).
///
/// Deterministic: the clusters depend only on the documents and their order, never on
/// thread count or timing.
pub struct NearDedup {
    cfg: DedupConfig,
    rule: Rule,
    /// The caller's index of every document, ascending; position = ordinal.
    indices: Vec<u64>,
    body_chars: Vec<u32>,
    /// Ordinal of the first document with the same content key (itself when first).
    rep: Vec<u32>,
    /// First ordinal of every content key; dropped when resolving.
    firsts: HashMap<ContentKey, u32>,
    /// Sample slot of each ordinal (`NO_SLOT` for exact duplicates and short bodies).
    slot: Vec<u32>,
    /// Ordinal of each slot.
    slot_ord: Vec<u32>,
    bands: BandTable,
    spill: Option<SpillWriter>,
}

impl NearDedup {
    /// Start; samples are spilled to an anonymous file in `work_dir`.
    pub fn new(cfg: &DedupConfig, work_dir: &Path) -> Result<Self> {
        cfg.validate()?;
        let spill = if cfg.near {
            Some(SpillWriter::new(work_dir)?)
        } else {
            None
        };
        Ok(NearDedup {
            cfg: cfg.clone(),
            rule: Rule::new(cfg),
            indices: Vec::new(),
            body_chars: Vec::new(),
            rep: Vec::new(),
            firsts: HashMap::new(),
            slot: Vec::new(),
            slot_ord: Vec::new(),
            bands: BandTable::new(cfg.bands),
            spill,
        })
    }

    /// Record document `index` (strictly increasing from call to call) with the content key
    /// and sketch of its clean body and the body's length in characters (the longest member
    /// of a cluster is kept).
    ///
    /// A body without any letter or digit is never merged with anything.
    pub fn add(
        &mut self,
        index: u64,
        key: ContentKey,
        sketch: Sketch,
        body_chars: u32,
    ) -> Result<()> {
        if self.indices.last().is_some_and(|&last| index <= last) {
            return Err(Error::Config(format!(
                "dedup: document index {index} after {:?}; indices must increase",
                self.indices.last()
            )));
        }
        let ord = u32::try_from(self.indices.len())
            .ok()
            .filter(|&o| o < NO_SLOT)
            .ok_or_else(|| Error::Config("dedup: more than 4 billion documents".into()))?;
        let mut sketch = sketch;
        sketch.sanitise();
        let has_text = sketch.shingles() > 0 && body_chars > 0;
        let rep = if self.cfg.exact && has_text {
            *self.firsts.entry(key).or_insert(ord)
        } else {
            ord
        };
        let mut slot = NO_SLOT;
        if let Some(spill) = &mut self.spill {
            if rep == ord && has_text && sketch.shingles() as usize >= self.cfg.min_shingles {
                let perms = self.cfg.bands * self.cfg.rows;
                if sketch.minhash().len() != perms {
                    return Err(Error::Config(format!(
                        "dedup: sketch has {} MinHash values, the configuration {perms}; \
                         sketches must come from a Sketcher of the same configuration",
                        sketch.minhash().len()
                    )));
                }
                slot = self.slot_ord.len() as u32;
                spill.push(sketch.shingles(), sketch.sample())?;
                self.bands.push(sketch.minhash(), self.cfg.rows);
                self.slot_ord.push(ord);
            }
        }
        self.indices.push(index);
        self.body_chars.push(body_chars);
        self.rep.push(rep);
        self.slot.push(slot);
        Ok(())
    }

    /// Documents added so far.
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// Find the clusters: exact groups, LSH candidates verified by their overlap, joined
    /// by union-find, then every cluster checked against its kept member.
    pub fn resolve(self) -> Result<Clusters> {
        let NearDedup {
            cfg,
            rule,
            indices,
            body_chars,
            rep,
            firsts,
            slot,
            slot_ord,
            bands,
            spill,
        } = self;
        drop(firsts);
        let n = indices.len();
        let mut stats = DedupStats {
            documents: n as u64,
            sketched: slot_ord.len() as u64,
            ..DedupStats::default()
        };
        let mut uf = UnionFind::new(n);
        for (o, &r) in rep.iter().enumerate() {
            if r as usize != o {
                uf.union(o as u32, r);
                stats.exact_duplicates += 1;
            }
        }

        let reader = spill.map(SpillWriter::finish).transpose()?;
        // Near edges that joined two clusters: a spanning forest, kept to re-split a
        // cluster that fails the kept-member check.
        let mut forest: Vec<(u32, u32)> = Vec::new();
        if let Some(reader) = &reader {
            // Pairs verified and refused, so later bands do not read them again.
            let mut refused: HashSet<(u32, u32)> = HashSet::new();
            for band in 0..bands.bands() {
                let sorted = bands.sorted_band(band);
                // Bucket neighbours first: in a big bucket of near-identical bodies they
                // join everything, so the wider round finds the pairs already connected.
                for gaps in [1..=1, 2..=cfg.bucket_window] {
                    let mut candidates = Vec::new();
                    bucket_pairs(&sorted, gaps, |a, b| {
                        let (oa, ob) = (slot_ord[a as usize], slot_ord[b as usize]);
                        if uf.find(oa) != uf.find(ob) && !refused.contains(&(a, b)) {
                            candidates.push((a, b));
                        }
                    });
                    candidates.sort_unstable();
                    candidates.dedup();
                    stats.candidates += candidates.len() as u64;
                    // Verified in parallel against the state at the start of the round,
                    // then applied in order: the outcome does not depend on the threads.
                    let accepted = candidates
                        .par_iter()
                        .map_init(Buffers::default, |buf, &(a, b)| {
                            Ok(rule.accepts(&compare(reader, a, b, buf)?))
                        })
                        .collect::<Result<Vec<bool>>>()?;
                    for (&(a, b), ok) in candidates.iter().zip(accepted) {
                        let (oa, ob) = (slot_ord[a as usize], slot_ord[b as usize]);
                        if !ok {
                            refused.insert((a, b));
                        } else if uf.union(oa, ob) {
                            forest.push((oa, ob));
                            stats.merges += 1;
                        }
                    }
                }
            }
        }
        drop(bands);

        let roots: Vec<u32> = (0..n as u32).map(|o| uf.find(o)).collect();
        drop(uf);
        let members = Members {
            body_chars: &body_chars,
            rep: &rep,
            slot: &slot,
            reader: reader.as_ref(),
            rule,
        };
        let mut kept = vec![0u32; n];
        let mut similarity = vec![1.0f32; n];
        // Every member must match its cluster's kept member by itself: a chain of pairs
        // (A ~ B, B ~ C) must not join stories A and C that only share a passage.
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_unstable_by_key(|&o| (roots[o as usize], o));
        let mut checks: Vec<(u32, u32)> = Vec::new();
        for cluster in order.chunk_by(|&x, &y| roots[x as usize] == roots[y as usize]) {
            let k = members.longest(cluster);
            for &m in cluster {
                kept[m as usize] = k;
                if m != k && rep[m as usize] != rep[k as usize] {
                    checks.push((m, k));
                }
            }
        }
        drop(order);
        let outcomes = checks
            .par_iter()
            .map_init(Buffers::default, |buf, &(m, k)| members.check(m, k, buf))
            .collect::<Result<Vec<Option<f32>>>>()?;
        let mut failed: Vec<u32> = Vec::new();
        for (&(m, _), outcome) in checks.iter().zip(outcomes) {
            match outcome {
                Some(s) => similarity[m as usize] = s,
                None => failed.push(m),
            }
        }
        drop(checks);
        stats.split = failed.len() as u64;
        if !failed.is_empty() {
            resplit(
                &failed,
                &roots,
                &forest,
                &members,
                &mut kept,
                &mut similarity,
            )?;
        }

        let mut size = vec![0u32; n];
        for &k in &kept {
            size[k as usize] += 1;
        }
        stats.kept = kept
            .iter()
            .enumerate()
            .filter(|&(o, &k)| o == k as usize)
            .count() as u64;
        stats.duplicates = n as u64 - stats.kept;
        let mut exact = vec![0u64; n.div_ceil(64)];
        for (o, &r) in rep.iter().enumerate() {
            if r as usize != o {
                exact[o / 64] |= 1 << (o % 64);
            }
        }
        Ok(Clusters {
            indices,
            kept,
            similarity,
            size,
            exact,
            stats,
        })
    }
}

/// Reusable sample buffers of one worker.
#[derive(Default)]
struct Buffers {
    a: Vec<u32>,
    b: Vec<u32>,
}

/// Overlap of the bodies in sample slots `a` and `b`.
fn compare(reader: &SpillReader, a: u32, b: u32, buf: &mut Buffers) -> Result<Overlap> {
    let ca = reader.read(a, &mut buf.a)?;
    let cb = reader.read(b, &mut buf.b)?;
    Ok(overlap(&buf.a, ca, &buf.b, cb))
}

/// What the kept-member check needs to know about documents.
struct Members<'a> {
    body_chars: &'a [u32],
    rep: &'a [u32],
    slot: &'a [u32],
    reader: Option<&'a SpillReader>,
    rule: Rule,
}

impl Members<'_> {
    /// The most complete body: the longest, ties to the earliest.
    fn longest(&self, cluster: &[u32]) -> u32 {
        cluster
            .iter()
            .copied()
            .max_by_key(|&o| (self.body_chars[o as usize], std::cmp::Reverse(o)))
            .unwrap_or(0)
    }

    /// `Some(share of m found in k)` when `m` is a copy of `k`, `None` otherwise.
    fn check(&self, m: u32, k: u32, buf: &mut Buffers) -> Result<Option<f32>> {
        if self.rep[m as usize] == self.rep[k as usize] {
            return Ok(Some(1.0));
        }
        // Exact duplicates are compared through the first body of their group.
        let sm = self.slot[self.rep[m as usize] as usize];
        let sk = self.slot[self.rep[k as usize] as usize];
        let Some(reader) = self.reader.filter(|_| sm != NO_SLOT && sk != NO_SLOT) else {
            return Ok(None);
        };
        let o = compare(reader, sm, sk, buf)?;
        Ok(self.rule.stays_with(&o).then_some(o.a_in_b as f32))
    }
}

/// Re-cluster the members that failed their kept-member check: within each old cluster,
/// they stay joined only through the near edges (and exact links) among themselves, and
/// each resulting group is checked against its own longest member again, until every
/// member matches its kept one.
fn resplit(
    failed: &[u32],
    roots: &[u32],
    forest: &[(u32, u32)],
    members: &Members<'_>,
    kept: &mut [u32],
    similarity: &mut [f32],
) -> Result<()> {
    let failed_roots: HashSet<u32> = failed.iter().map(|&m| roots[m as usize]).collect();
    let mut edges: HashMap<u32, Vec<(u32, u32)>> = HashMap::new();
    for &(a, b) in forest {
        let r = roots[a as usize];
        if failed_roots.contains(&r) {
            edges.entry(r).or_default().push((a, b));
        }
    }
    let mut by_root: Vec<u32> = failed.to_vec();
    by_root.sort_unstable_by_key(|&m| (roots[m as usize], m));
    let mut stack: Vec<Vec<u32>> = Vec::new();
    let mut buf = Buffers::default();
    for group in by_root.chunk_by(|&x, &y| roots[x as usize] == roots[y as usize]) {
        let edges = edges
            .get(&roots[group[0] as usize])
            .map_or(&[][..], Vec::as_slice);
        stack.extend(components(group, edges, members.rep));
        while let Some(cluster) = stack.pop() {
            let k = members.longest(&cluster);
            let mut rest = Vec::new();
            for &m in &cluster {
                kept[m as usize] = k;
                similarity[m as usize] = 1.0;
                if m == k {
                    continue;
                }
                match members.check(m, k, &mut buf)? {
                    Some(s) => similarity[m as usize] = s,
                    None => rest.push(m),
                }
            }
            stack.extend(components(&rest, edges, members.rep));
        }
    }
    Ok(())
}

/// The connected parts of `nodes` (ascending) under the edges and exact links among them.
fn components(nodes: &[u32], edges: &[(u32, u32)], rep: &[u32]) -> Vec<Vec<u32>> {
    let local: HashMap<u32, u32> = nodes
        .iter()
        .enumerate()
        .map(|(i, &o)| (o, i as u32))
        .collect();
    let mut uf = UnionFind::new(nodes.len());
    for &(a, b) in edges {
        if let (Some(&la), Some(&lb)) = (local.get(&a), local.get(&b)) {
            uf.union(la, lb);
        }
    }
    for (i, &o) in nodes.iter().enumerate() {
        if let Some(&lr) = local.get(&rep[o as usize]) {
            uf.union(i as u32, lr);
        }
    }
    let mut parts: Vec<(u32, u32)> = (0..nodes.len() as u32)
        .map(|i| (uf.find(i), nodes[i as usize]))
        .collect();
    parts.sort_unstable();
    parts
        .chunk_by(|x, y| x.0 == y.0)
        .map(|c| c.iter().map(|&(_, o)| o).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::{content_key, Sketcher, Verdict};
    use super::*;

    /// A made-up story: `paras` paragraphs of three 12-word sentences of pseudo-words.
    fn story(seed: u64, paras: usize) -> Vec<String> {
        const SYL: [&str; 16] = [
            "ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ba", "de", "fu", "go", "hi", "ju",
            "pe", "zo",
        ];
        let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let mut next = || {
            state = super::super::shingle::mix64(state);
            state
        };
        (0..paras)
            .map(|_| {
                (0..3)
                    .map(|_| {
                        let words: Vec<String> = (0..12)
                            .map(|_| {
                                let n = 2 + next() % 2;
                                (0..n).map(|_| SYL[(next() % 16) as usize]).collect()
                            })
                            .collect();
                        format!("{}.", words.join(" "))
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    fn resolve_with(cfg: &DedupConfig, docs: &[String]) -> Clusters {
        let dir = tempfile::tempdir().unwrap();
        let sketcher = Sketcher::new(cfg).unwrap();
        let mut near = NearDedup::new(cfg, dir.path()).unwrap();
        for (i, d) in docs.iter().enumerate() {
            let chars = d.chars().count() as u32;
            near.add(i as u64 * 10, content_key(d), sketcher.sketch(d), chars)
                .unwrap();
        }
        near.resolve().unwrap()
    }

    fn resolve(docs: &[String]) -> Clusters {
        resolve_with(&DedupConfig::default(), docs)
    }

    /// Cluster names in document order.
    fn labels(c: &Clusters, n: usize) -> Vec<u64> {
        (0..n as u64).map(|i| c.cluster_of(i * 10)).collect()
    }

    fn typo(text: &str, every: usize) -> String {
        text.split(' ')
            .enumerate()
            .map(|(i, w)| {
                if i % every == every / 2 && w.len() > 3 {
                    // Swap two letters, as a transposition typo.
                    let mut c: Vec<char> = w.chars().collect();
                    c.swap(1, 2);
                    c.into_iter().collect()
                } else {
                    w.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn copies_cluster_and_other_stories_do_not() {
        let a = story(1, 8);
        let original = a.join("\n\n");
        let rewrapped = a.join(" ").replace(". ", ".\n");
        let typod = typo(&original, 40);
        let truncated = a[..5].join("\n\n"); // 5 of 8 paragraphs
        let edited = format!("UPDATE 1 - {}\n\n(Reporting by Staff)", a[1..].join("\n\n"));
        let other = story(2, 8).join("\n\n");
        let docs = vec![
            truncated.clone(),
            other,
            original.clone(),
            rewrapped,
            typod,
            edited,
            original.to_uppercase(),
        ];
        let c = resolve(&docs);
        let l = labels(&c, docs.len());
        // The original (index 20, the longest) is kept; everything but `other` joins it.
        assert_eq!(l, vec![20, 10, 20, 20, 20, 20, 20]);
        assert_eq!(c.verdict(20), Verdict::Keep { dup_count: 6 });
        assert_eq!(c.verdict(10), Verdict::Keep { dup_count: 1 });
        match c.verdict(0) {
            Verdict::Duplicate {
                kept_index,
                similarity,
            } => {
                assert_eq!(kept_index, 20);
                assert!(similarity > 0.95, "{similarity}");
            }
            v => panic!("{v:?}"),
        }
        assert_eq!(c.stats().exact_duplicates, 2); // re-wrapped and upper-cased
        assert!(c.is_exact_copy(30) && c.is_exact_copy(60));
        assert!(!c.is_exact_copy(0) && !c.is_exact_copy(20));
        assert_eq!(c.stats().duplicates, 5);
    }

    #[test]
    fn stories_sharing_a_quoted_passage_stay_apart() {
        let a = story(11, 6);
        let mut b = story(12, 6);
        // B quotes two sentences of A (well under a quarter of B).
        let quote: Vec<&str> = a[2].split(". ").take(2).collect();
        b.insert(3, format!("{}.", quote.join(". ")));
        // A short piece that is little more than the quote: contained in both stories.
        let mut c = story(13, 1);
        c.push(quote.join(". "));
        let docs = vec![
            a.join("\n\n"),
            b.join("\n\n"),
            c.join("\n\n"),
            a[..4].join("\n\n"),
        ];
        let l = labels(&resolve(&docs), docs.len());
        assert_eq!(l, vec![0, 10, 20, 0]);
    }

    #[test]
    fn chain_through_a_shared_passage_is_split() {
        // Force a chain with a loose rule: a bridge body that is part A and part B matches
        // both; A (the longest, so kept) and B do not match each other.
        let a = story(21, 6);
        let b = story(22, 4);
        let bridge = format!("{}\n\n{}", a[..2].join("\n\n"), b[..2].join("\n\n"));
        let cfg = DedupConfig {
            jaccard: 0.2,
            containment: 0.45,
            bands: 60,
            rows: 2,
            ..DedupConfig::default()
        };
        let docs = vec![a.join("\n\n"), bridge, b.join("\n\n"), b[..3].join("\n\n")];
        let c = resolve_with(&cfg, &docs);
        assert!(c.stats().merges >= 3, "{:?}", c.stats());
        // B is split off the chain, and keeps its own copy.
        assert_eq!(labels(&c, 4), vec![0, 0, 20, 20]);
        assert_eq!(c.stats().split, 2);
    }

    #[test]
    fn kept_member_is_the_longest_then_the_earliest() {
        let a = story(31, 6);
        let short = a[..5].join("\n\n");
        let full = a.join("\n\n");
        let longer = format!("{full}\n\nPhoto: staff.");
        let docs = vec![short, full.clone(), longer, full];
        let c = resolve(&docs);
        assert_eq!(labels(&c, 4), vec![20, 20, 20, 20]);
        assert_eq!(c.verdict(20), Verdict::Keep { dup_count: 4 });

        // Equal lengths: the earliest is kept.
        let docs = vec![a.join("\n\n"), typo(&a.join("\n\n"), 30)];
        assert_eq!(labels(&resolve(&docs), 2), vec![0, 0]);
    }

    #[test]
    fn same_documents_same_clusters_whatever_the_threads() {
        let mut docs = Vec::new();
        for s in 0..12 {
            let a = story(100 + s, 5);
            docs.push(a.join("\n\n"));
            if s % 3 == 0 {
                docs.push(a[..4].join("\n\n"));
                docs.push(typo(&a.join("\n\n"), 25));
            }
        }
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let c = resolve(&docs);
                (labels(&c, docs.len()), c.stats().clone())
            })
        };
        let one = run(1);
        assert_eq!(one, run(3));
        assert_eq!(one, run(2));
        assert_eq!(one.1.duplicates, 8);
    }

    #[test]
    fn cjk_text_is_shingled_by_characters() {
        let text = "东京大学的研究团队今天宣布，他们开发了一种新的电池材料，可以大幅提高电动汽车的续航里程。\
                    该材料在实验室测试中表现出色，研究人员表示，预计五年内可以实现商业化生产。\
                    业内专家认为，这项技术突破将对整个汽车行业产生深远影响，并推动清洁能源的发展。";
        let sketcher = Sketcher::new(&DedupConfig::default()).unwrap();
        let letters = text.chars().filter(|c| c.is_alphanumeric()).count() as u32;
        // Character 5-grams over the letters (no spaces to split words on).
        assert_eq!(sketcher.sketch(text).shingles(), letters - 4);
        let copy = text.replacen("今天", "昨天", 1).replace('，', ",");
        let other = "北京市政府周三发布新规，要求所有新建住宅小区必须配备电动汽车充电桩，\
                     并对现有小区的改造提供财政补贴，以促进新能源汽车的普及和城市交通的绿色转型。";
        let docs = vec![text.to_string(), copy, other.to_string()];
        assert_eq!(labels(&resolve(&docs), 3), vec![0, 0, 20]);
    }

    #[test]
    fn empty_and_short_bodies_never_merge_by_accident() {
        let docs: Vec<String> = vec![
            "".into(),
            "".into(),
            "...".into(),
            "...".into(),
            "Photo: Reuters.".into(),
            "Photo: AFP.".into(),
            "Read more".into(),
            "READ MORE".into(),
        ];
        let c = resolve(&docs);
        // Exact copies of a short body with words merge (the same text); nothing else does.
        assert_eq!(labels(&c, docs.len()), vec![0, 10, 20, 30, 40, 50, 60, 60]);
        assert_eq!(c.stats().sketched, 0);
    }

    #[test]
    fn exact_only_and_disabled() {
        let a = story(41, 4).join("\n\n");
        let docs = vec![a.clone(), a.to_uppercase(), typo(&a, 20)];
        let exact_only = DedupConfig {
            near: false,
            ..DedupConfig::default()
        };
        assert_eq!(labels(&resolve_with(&exact_only, &docs), 3), vec![0, 0, 20]);
        let near_only = DedupConfig {
            exact: false,
            ..DedupConfig::default()
        };
        assert_eq!(labels(&resolve_with(&near_only, &docs), 3), vec![0, 0, 0]);
        let none = DedupConfig {
            exact: false,
            near: false,
            ..DedupConfig::default()
        };
        assert_eq!(labels(&resolve_with(&none, &docs), 3), vec![0, 10, 20]);
    }

    #[test]
    fn bad_calls_are_errors_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = DedupConfig::default();
        let sketcher = Sketcher::new(&cfg).unwrap();
        let mut near = NearDedup::new(&cfg, dir.path()).unwrap();
        let text = story(51, 3).join(" ");
        near.add(5, content_key(&text), sketcher.sketch(&text), 10)
            .unwrap();
        assert!(near
            .add(5, content_key("x"), sketcher.sketch("x"), 1)
            .is_err());
        let other = Sketcher::new(&DedupConfig {
            bands: 4,
            ..cfg.clone()
        })
        .unwrap();
        assert!(near
            .add(
                9,
                content_key("y"),
                other.sketch(&story(52, 3).join(" ")),
                10
            )
            .is_err());
        assert!(NearDedup::new(&DedupConfig { rows: 0, ..cfg }, dir.path()).is_err());
    }
}
