//! Precision and recall of glued-word repair, on a test made from human-written article
//! bodies: paragraphs are re-wrapped at 60–90 columns and the space at every wrap is
//! removed, as when a scraper loses line breaks. Repair must put back exactly those spaces.
//!
//! cargo bench --bench glue_eval -- ../shared/bench/boilerplate/dev [--langs sh-,dn-en-]
//!     [--half a|b] [--show]
//! (reads the `*.gold.txt` files whose names start with one of the prefixes, `sh-` and
//! `dn-en-` by default, and scores them per prefix and per language, English or other;
//! each page is repaired as a build repairs an article, its language judged over the whole
//! text; `--half` scores one of two fixed halves of the pages, split by a hash of the file
//! name, so rules tuned on one half can be checked on the other; word statistics are
//! always counted over all the selected pages, as a build counts the whole corpus;
//! `--show` prints every wrong and every missed split, `--show-all` every right one too)

use quire::clean::{Lexicon, Unglue, WordStats};
use std::collections::BTreeSet;

/// Re-wrap at `width` columns and drop the space at each wrap: returns the glued text and
/// the byte offsets (in the glued text) where a space was removed.
fn glue(paragraph: &str, width: usize) -> (String, BTreeSet<usize>) {
    let mut out = String::new();
    let mut removed = BTreeSet::new();
    let mut col = 0;
    for (k, word) in paragraph.split(' ').enumerate() {
        let n = word.chars().count();
        if k > 0 {
            if col + 1 + n > width {
                removed.insert(out.len());
                col = 0;
            } else {
                out.push(' ');
                col += 1;
            }
        }
        out.push_str(word);
        col += n;
    }
    (out, removed)
}

/// Byte offsets in `glued` where `repaired` inserted a space.
fn insertions(glued: &str, repaired: &str) -> Option<BTreeSet<usize>> {
    let mut at = BTreeSet::new();
    let (mut g, mut r) = (glued.char_indices().peekable(), repaired.chars());
    loop {
        match (g.peek().copied(), r.next()) {
            (Some((_, gc)), Some(rc)) if gc == rc => {
                g.next();
            }
            (Some((i, _)), Some(' ')) => {
                at.insert(i);
            }
            (None, None) => return Some(at),
            _ => return None,
        }
    }
}

/// Which half a page belongs to: FNV-1a of its file name, fixed across runs and machines.
fn half_of(name: &str) -> char {
    let h = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    if h % 2 == 0 {
        'a'
    } else {
        'b'
    }
}

/// Whether a gold body is English: at least one word in twenty is one of the commonest
/// English words. The site prefixes mix languages (`sh-` holds German, Portuguese,
/// Russian and Korean pages too), so the English figure is by page, not by prefix.
fn is_english(text: &str) -> bool {
    const MARKERS: &[&str] = &["the", "and", "of", "that", "with", "for", "is"];
    let (mut words, mut hits) = (0usize, 0usize);
    for w in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        words += 1;
        hits += usize::from(MARKERS.contains(&w.to_lowercase().as_str()));
    }
    words > 0 && hits * 20 >= words
}

/// The page's group for the per-group figures: its name up to the hash ("sh", "dn-en").
fn group_of(name: &str) -> String {
    name.rsplit_once('-').map_or(name, |(g, _)| g).to_string()
}

#[derive(Default)]
struct Score {
    tp: usize,
    fp: usize,
    gold: usize,
}

impl Score {
    fn line(&self) -> String {
        let p = self.tp as f64 / (self.tp + self.fp).max(1) as f64;
        let r = self.tp as f64 / self.gold.max(1) as f64;
        format!(
            "P={p:.3} R={r:.3} tp={} fp={} removed={}",
            self.tp, self.fp, self.gold
        )
    }
}

fn main() {
    let dir = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-') && !a.contains(',') && !a.ends_with('-'))
        .unwrap_or_else(|| "../shared/bench/boilerplate/dev".into());
    // English pages by default (`--langs sh-,dn-en-,dn-ru-` to widen).
    let args: Vec<String> = std::env::args().collect();
    let langs: Vec<String> = args
        .iter()
        .position(|a| a == "--langs")
        .and_then(|i| args.get(i + 1))
        .map_or(vec!["sh-".into(), "dn-en-".into()], |l| {
            l.split(',').map(String::from).collect()
        });
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("read the gold folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            name.ends_with(".gold.txt") && langs.iter().any(|l| name.starts_with(l.as_str()))
        })
        .collect();
    names.sort();
    let half = args
        .iter()
        .position(|a| a == "--half")
        .and_then(|i| args.get(i + 1))
        .and_then(|h| h.chars().next());
    let mut cases = Vec::new();
    let mut words = WordStats::new(1 << 22);
    for (i, path) in names.iter().enumerate() {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(path).expect("read gold");
        let lang = if is_english(&text) {
            "english"
        } else {
            "other"
        };
        let mut paragraphs = Vec::new();
        for p in text.split('\n').map(str::trim).filter(|p| !p.is_empty()) {
            let p = p.split_whitespace().collect::<Vec<_>>().join(" ");
            let (g, removed) = glue(&p, 60 + (i * 7) % 31);
            words.add_text(&g);
            paragraphs.push((g, removed));
        }
        if half.is_none_or(|h| h == half_of(&name)) {
            cases.push((paragraphs, group_of(&name), lang));
        }
    }
    let tokenizer = quire::tokenize::Tokenizer::embedded().expect("embedded tokenizer");
    let lexicon = Lexicon::from_tokenizer_json(tokenizer.json());
    let unglue = Unglue::new(&words, &lexicon, 3);
    let show_all = std::env::args().any(|a| a == "--show-all");
    let show = show_all || std::env::args().any(|a| a == "--show");
    let t = std::time::Instant::now();
    let mut all = Score::default();
    let mut groups: std::collections::BTreeMap<&str, Score> = Default::default();
    let mut langs: std::collections::BTreeMap<&str, Score> = Default::default();
    let mut bytes = 0usize;
    // Each page is repaired as a build repairs an article: its language is judged over
    // the whole text, and its paragraphs are the blocks.
    let repaired: Vec<Vec<String>> = cases
        .iter()
        .map(|(paragraphs, _, _)| {
            let mut texts: Vec<String> = paragraphs.iter().map(|(g, _)| g.clone()).collect();
            let mut blocks: Vec<&mut String> = texts.iter_mut().collect();
            unglue.repair_document(&mut blocks, 0.0);
            texts
        })
        .collect();
    let paragraphs = cases
        .iter()
        .zip(&repaired)
        .flat_map(|((paragraphs, group, lang), fixed)| {
            paragraphs
                .iter()
                .zip(fixed)
                .map(move |((g, removed), r)| (g, removed, r, group, lang))
        });
    let mut count = 0;
    for (g, removed, repaired, group, lang) in paragraphs {
        count += 1;
        bytes += g.len();
        let Some(ins) = insertions(g, repaired) else {
            panic!("repair changed more than spaces: {g:?} -> {repaired:?}");
        };
        let (tp, fp) = (
            ins.intersection(removed).count(),
            ins.difference(removed).count(),
        );
        for s in [
            &mut all,
            groups.entry(group.as_str()).or_default(),
            langs.entry(*lang).or_default(),
        ] {
            s.tp += tp;
            s.fp += fp;
            s.gold += removed.len();
        }
        if show {
            let right = match show_all {
                true => ins.intersection(removed).copied().collect(),
                false => Vec::new(),
            };
            for (tag, set) in [
                ("FP", ins.difference(removed).copied().collect::<Vec<_>>()),
                ("FN", removed.difference(&ins).copied().collect()),
                ("TP", right),
            ] {
                for i in set {
                    let a = g[..i].rsplit(' ').next().unwrap_or("");
                    let b = g[i..].split(' ').next().unwrap_or("");
                    let chunk = format!("{a}{b}");
                    println!("{tag} {lang} {a}|{b} => {:?}", unglue.repair(&chunk));
                }
            }
        }
    }
    let secs = t.elapsed().as_secs_f64();
    for (group, s) in groups.iter().chain(&langs) {
        println!("  {group:<7} {}", s.line());
    }
    println!(
        "glue {} paragraphs={} ({:.1} MB/s)",
        all.line(),
        count,
        bytes as f64 / secs / 1e6
    );
}
