//! Boilerplate removal: decide for every block of an [`Article`] whether it is body, a
//! caption, or furniture, and keep the reason for the audit trail.
//!
//! This version works inside one article: head fields, navigation before the title,
//! comment prompts, share/footer links, credits, repeated blocks (a caption printed twice),
//! related-story lists at the end and an end-of-article byline.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::HashSet;

use crate::article::{ends_clause, is_crumb, word_count, Article, HeadRole};
use crate::config::CleanConfig;
use crate::spill::{CodecError, CodecResult, Dec, Enc};

pub(crate) mod counts;
mod glue;
mod lines;

pub use glue::{Lexicon, Unglue, WordEvents, WordStats};
pub use lines::{LineKey, LineStats};

/// Why a block left the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    Title,
    Dateline,
    Byline,
    Navigation,
    Repeated,
    CommentPrompt,
    Credit,
    Share,
    Related,
    /// Printed by other documents of the corpus too.
    Boilerplate,
    /// The story's topic tags: a "Tags" heading and the links under it.
    Tags,
}

impl DropReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Title => "title",
            DropReason::Dateline => "dateline",
            DropReason::Byline => "byline",
            DropReason::Navigation => "navigation",
            DropReason::Repeated => "repeated",
            DropReason::CommentPrompt => "comment_prompt",
            DropReason::Credit => "credit",
            DropReason::Share => "share",
            DropReason::Related => "related",
            DropReason::Boilerplate => "boilerplate",
            DropReason::Tags => "tags",
        }
    }
}

/// What happens to a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Body,
    /// Leaves the body for the `captions` column.
    Caption,
    Drop(DropReason),
}

impl Decision {
    pub fn label(self) -> &'static str {
        match self {
            Decision::Body => "body",
            Decision::Caption => "caption",
            Decision::Drop(r) => r.as_str(),
        }
    }
}

/// A block with its decision.
/// The decisions an article's own evidence settles, kept between a build's passes (see
/// [`Cleaner::draft`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    /// Per block; `None` = not decided yet.
    decisions: Vec<Option<Decision>>,
    /// Blocks whose text a rule shortened (a wire credit cut from the end), by index.
    shortened: Vec<(usize, String)>,
    credit: Option<String>,
}

impl Draft {
    /// Append to a spill record (see [`crate::spill`]).
    pub(crate) fn encode(&self, e: &mut Enc) {
        e.varint(self.decisions.len() as u64);
        for d in &self.decisions {
            e.u8(decision_code(*d));
        }
        e.varint(self.shortened.len() as u64);
        for (i, text) in &self.shortened {
            e.varint(*i as u64);
            e.str(text);
        }
        e.opt_str(self.credit.as_deref());
    }

    /// Read back what [`Draft::encode`] wrote.
    pub(crate) fn decode(d: &mut Dec) -> CodecResult<Draft> {
        let n = d.len()?;
        let mut decisions = Vec::with_capacity(n);
        for _ in 0..n {
            decisions.push(decision_of(d.u8()?).ok_or(CodecError("bad decision"))?);
        }
        let n = d.len()?;
        let mut shortened = Vec::with_capacity(n);
        for _ in 0..n {
            let i = usize::try_from(d.varint()?).map_err(|_| CodecError("bad block index"))?;
            shortened.push((i, d.str()?.to_string()));
        }
        let credit = d.opt_str()?.map(str::to_string);
        Ok(Draft {
            decisions,
            shortened,
            credit,
        })
    }
}

/// Every drop reason, in the order of their spill codes.
const DROP_REASONS: [DropReason; 11] = [
    DropReason::Title,
    DropReason::Dateline,
    DropReason::Byline,
    DropReason::Navigation,
    DropReason::Repeated,
    DropReason::CommentPrompt,
    DropReason::Credit,
    DropReason::Share,
    DropReason::Related,
    DropReason::Boilerplate,
    DropReason::Tags,
];

/// One byte per draft decision: 0 undecided, 1 body, 2 caption, 3 + index of a drop reason.
fn decision_code(d: Option<Decision>) -> u8 {
    match d {
        None => 0,
        Some(Decision::Body) => 1,
        Some(Decision::Caption) => 2,
        Some(Decision::Drop(r)) => 3 + r as u8,
    }
}

/// The decision of a code; `None` for a code no decision has.
fn decision_of(code: u8) -> Option<Option<Decision>> {
    match code {
        0 => Some(None),
        1 => Some(Some(Decision::Body)),
        2 => Some(Some(Decision::Caption)),
        c => DROP_REASONS
            .get(usize::from(c - 3))
            .map(|&r| Some(Decision::Drop(r))),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CleanBlock {
    pub text: String,
    pub decision: Decision,
}

/// The block texts of `article`, copied, for [`Cleaner::finish_sized`].
fn copied(article: &Article) -> Vec<String> {
    article.blocks.iter().map(|b| b.text.clone()).collect()
}

/// An article after cleaning: head fields plus every block with its decision.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CleanArticle {
    pub source: String,
    pub source_id: Option<String>,
    pub url: Option<String>,
    pub title: Option<String>,
    pub published: Option<i64>,
    pub byline: Option<String>,
    /// Who the article credits as its origin (`(According to VNEconomy)` → `VNEconomy`).
    pub credit: Option<String>,
    pub blocks: Vec<CleanBlock>,
    pub notes: Vec<String>,
}

impl CleanArticle {
    /// Body blocks in order.
    pub fn body(&self) -> impl Iterator<Item = &CleanBlock> {
        self.blocks.iter().filter(|b| b.decision == Decision::Body)
    }
}

/// Phrases that make a whole block a comment prompt (compared case-insensitively).
const COMMENT_PROMPTS: &[&str] = &[
    "leave a reply",
    "leave a comment",
    "post a comment",
    "add a comment",
    "comments",
    "your email address will not be published",
    "required fields are marked",
    "you must be logged in to post a comment",
    "bình luận",
    "gửi bình luận",
    "ý kiến bạn đọc",
];

/// Links and buttons around an article.
const SHARE_LINES: &[&str] = &[
    "phiên bản di động",
    "share",
    "share this article",
    "share on facebook",
    "print",
    "email",
    "tweet",
    "back to top",
    "mobile version",
    "xem thêm",
    "in bài viết",
    "chia sẻ",
];

/// Headings that open a list of other stories.
const RELATED_HEADINGS: &[&str] = &[
    "see more",
    "read more",
    "related",
    "related news",
    "related articles",
    "related stories",
    "more news",
    "more stories",
    "you may also like",
    "you might also like",
    "related posts",
    "related content",
    "read next",
    "most read",
    "most popular",
    "most viewed",
    "other news",
    "latest news",
    "top stories",
    "trending",
    "recommended",
    "editor's picks",
    "tin liên quan",
    "tin khác",
    "tin mới",
    "đọc thêm",
    "bài liên quan",
];

/// Words naming readers' comments, and the words a comment-section heading adds to
/// them: "[ 167 comments ]", "Top Rated Comments", "| 13 Comment(s)", "Komentarze (25)",
/// "Все комментарии".
const COMMENT_NOUNS: &[&str] = &[
    "comments",
    "comment",
    "komentarze",
    "komentarzy",
    "комментарии",
    "комментариев",
    "σχόλια",
    "评论",
    "評論",
    "网友评论",
    "網友評論",
    "bình luận",
];
const COMMENT_HEADING_WORDS: &[&str] = &[
    "s",
    "add",
    "post",
    "view",
    "show",
    "all",
    "top",
    "rated",
    "reader",
    "readers",
    "most",
    "recent",
    "latest",
    "newest",
    "please",
    "your",
    "read",
    "все",
    "wszystkie",
    "ý",
    "kiến",
];

/// The heading of the comment section, or the notice standing in its place: the article
/// ends before it.
fn is_comments_heading(text: &str) -> bool {
    if text.len() > 48 {
        return false;
    }
    // The heading's words, without its count ("[ 167 comments ]").
    let key = headline_key(text);
    let key = key
        .split(' ')
        .filter(|w| !w.chars().all(|c| c.is_ascii_digit()))
        .collect::<Vec<_>>()
        .join(" ");
    if COMMENT_NOUNS.contains(&key.as_str())
        || [
            "comments are closed",
            "comments are now closed",
            "comments closed",
        ]
        .iter()
        .any(|p| key.starts_with(p))
    {
        return true;
    }
    let words: Vec<&str> = key.split(' ').collect();
    words.len() <= 4
        && words.iter().any(|w| COMMENT_NOUNS.contains(w))
        && words
            .iter()
            .all(|w| COMMENT_NOUNS.contains(w) || COMMENT_HEADING_WORDS.contains(w))
}

/// Headings of a story's topic tags.
const TAG_HEADINGS: &[&str] = &[
    "tags",
    "tag",
    "tagged",
    "tagi",
    "tematy",
    "słowa kluczowe",
    "теги",
    "тэги",
    "метки",
    "ετικέτες",
    "标签",
    "標籤",
    "关键词",
    "關鍵詞",
    "タグ",
    "keywords",
    "schlagwörter",
    "schlagworte",
    "etiquetas",
    "mots-clés",
    "mots clés",
    "thẻ",
    "từ khóa",
];

/// Blocks of tags taken after their heading, at most.
const MAX_TAG_LINES: usize = 16;

/// The story's topic tags: a heading ("Tags", "Tagi:", "Теги") and the short lines after
/// it, or one line "TAGI: kangur, atak, dziewczynka". Pages print them under the article
/// and some in the middle of it; marking them lets the body run go on past them.
///
/// `keys` holds `normalise` of every text of up to 48 bytes (at least).
fn mark_tags(texts: &[&str], keys: &[&str], decisions: &mut [Option<Decision>]) {
    let open = |d: Option<Decision>| matches!(d, None | Some(Decision::Drop(DropReason::Repeated)));
    let n = texts.len();
    let mut i = 0;
    while i < n {
        if !open(decisions[i]) || texts[i].len() > 400 {
            i += 1;
            continue;
        }
        // Longer lines have no key; only a "Tags:" line among them needs one.
        let key: Cow<str> = if !keys[i].is_empty() {
            Cow::Borrowed(keys[i])
        } else if texts[i].bytes().take(32).any(|b| b == b':' || b == 0xEF) {
            Cow::Owned(normalise(texts[i]))
        } else {
            i += 1;
            continue;
        };
        let Some(rest) = tag_heading_rest(&key) else {
            i += 1;
            continue;
        };
        if !rest.is_empty() {
            // "Tags: a, b, c" on one line.
            if is_tag_line(rest) {
                decisions[i] = Some(Decision::Drop(DropReason::Tags));
            }
            i += 1;
            continue;
        }
        decisions[i] = Some(Decision::Drop(DropReason::Tags));
        let mut j = i + 1;
        while j < n && j <= i + MAX_TAG_LINES && open(decisions[j]) && is_tag_line(texts[j]) {
            decisions[j] = Some(Decision::Drop(DropReason::Tags));
            j += 1;
        }
        i = j;
    }
}

/// For a tags heading, what follows it on its line (empty when nothing does).
fn tag_heading_rest(key: &str) -> Option<&str> {
    // No heading is longer than 16 bytes ("ετικέτες"): most keys are settled by length.
    let short = |h: &str| h.len() <= 16 && TAG_HEADINGS.contains(&h);
    let bare = key.trim_end_matches([':', '：', ' ']);
    if short(bare) {
        return Some("");
    }
    let (head, rest) = key.split_once([':', '：'])?;
    short(head.trim_end())
        .then(|| rest.trim())
        .filter(|r| !r.is_empty())
}

/// A line of tags: no sentence, only short items (`egzotyczne choroby łódź,`,
/// `Entertainment Latest News`, `kangur, atak, dziewczynka`), or a run of lower-case
/// words with no punctuation at all, as tag clouds print them.
fn is_tag_line(t: &str) -> bool {
    let t = t.trim();
    if t.is_empty()
        || t.len() > 1000
        || t.ends_with(['.', '!', '?', '…', ':', '。', '！', '？', '：', '"', '”'])
    {
        return false;
    }
    let items: Vec<&str> = t
        .split([',', ';', '|', '·', '、', '，'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .collect();
    if !items.is_empty() && items.iter().all(|x| word_count(x) <= 4) {
        return true;
    }
    let punctuated = t
        .chars()
        .any(|c| !(c.is_alphanumeric() || c == ' ' || c == '-' || c == '\'' || c == '’'));
    !punctuated && !t.chars().any(char::is_uppercase)
}

/// A related-story heading: one of the list, or "More from <site>".
fn is_related_heading(key: &str) -> bool {
    let key = key.trim_end_matches([':', '.', ' ']);
    RELATED_HEADINGS.contains(&key)
        || (key.starts_with("more from ") && key.split(' ').count() <= 6)
        // "Most read in world news", "Latest news from Wales".
        || [" in ", " from ", " on "].iter().any(|sep| {
            key.split_once(sep).is_some_and(|(head, rest)| {
                RELATED_HEADINGS.contains(&head) && rest.split(' ').count() <= 3
            })
        })
}

/// The clean stage.
#[derive(Debug, Clone)]
pub struct Cleaner {
    cfg: CleanConfig,
}

impl Cleaner {
    pub fn new(cfg: &CleanConfig) -> Self {
        Cleaner { cfg: cfg.clone() }
    }

    /// Decide every block of one article. `lines` tells how many documents of the corpus
    /// print each line; without it only evidence inside the article counts.
    pub fn clean(&self, article: &Article, lines: Option<&LineStats>) -> CleanArticle {
        let (draft, sizes) = self.draft_sized(article);
        self.finish_sized(article, copied(article), draft, Some(sizes), lines, None)
    }

    /// The decisions the article's own evidence settles (rules, captions, repeats,
    /// related-story lists). A build drafts each article once, in its first pass, and
    /// finishes it twice: alone, then with the corpus statistics.
    pub fn draft(&self, article: &Article) -> Draft {
        self.draft_sized(article).0
    }

    /// The draft, and the article finished from it alone: a build's first pass, which
    /// keeps the draft for later and sketches the body. Block sizes are measured once
    /// for both.
    pub fn draft_and_clean(&self, article: &Article) -> (Draft, CleanArticle) {
        let (draft, sizes) = self.draft_sized(article);
        let cleaned = self.finish_sized(
            article,
            copied(article),
            draft.clone(),
            Some(sizes),
            None,
            None,
        );
        (draft, cleaned)
    }

    /// [`Cleaner::draft`], with the sizes `finish` needs (see [`Cleaner::finish_sized`]).
    fn draft_sized(&self, article: &Article) -> (Draft, Vec<f64>) {
        let n = article.blocks.len();
        let title_key = article.title.as_deref().map(normalise);
        let headline = article.title.as_deref().map(Headline::new);
        let title_at = article
            .blocks
            .iter()
            .position(|b| b.role == Some(HeadRole::Title));
        let mut decisions: Vec<Option<Decision>> = vec![None; n];
        let mut credit = None;
        // Only a shortened block needs a copy of its text.
        let mut texts: Vec<Cow<str>> = article
            .blocks
            .iter()
            .map(|b| Cow::Borrowed(b.text.as_str()))
            .collect();

        // Prompts, share links and headline repeats are short: longer blocks skip the
        // lower-casing they would need. `key_buf[keys[i]]` is `normalise(texts[i])` for
        // every text up to `key_limit` bytes long (the related-heading test reuses it);
        // one buffer holds them all, instead of an allocation per block.
        let key_limit = title_key.as_ref().map_or(0, String::len).max(120);
        let mut key_buf = String::with_capacity(
            article
                .blocks
                .iter()
                .map(|b| b.text.len())
                .filter(|&l| l <= key_limit)
                .sum(),
        );
        let push_key = |buf: &mut String, t: &str| {
            let start = buf.len();
            if t.len() <= key_limit {
                push_normalised(buf, t);
            }
            start..buf.len()
        };
        let mut keys: Vec<std::ops::Range<usize>> = Vec::with_capacity(n);
        for (i, block) in article.blocks.iter().enumerate() {
            let at = push_key(&mut key_buf, &block.text);
            let key = &key_buf[at.clone()];
            let d = match block.role {
                Some(HeadRole::Title) => Some(Decision::Drop(DropReason::Title)),
                Some(HeadRole::Dateline) => Some(Decision::Drop(DropReason::Dateline)),
                Some(HeadRole::Byline) => Some(Decision::Drop(DropReason::Byline)),
                None if title_at.is_some_and(|t| i < t) => {
                    Some(Decision::Drop(DropReason::Navigation))
                }
                None if is_crumb(&block.text) => Some(Decision::Drop(DropReason::Navigation)),
                None if COMMENT_PROMPTS
                    .iter()
                    .any(|p| key == *p || (p.len() > 20 && key.starts_with(p))) =>
                {
                    Some(Decision::Drop(DropReason::CommentPrompt))
                }
                None if SHARE_LINES.contains(&key) => Some(Decision::Drop(DropReason::Share)),
                // The page's own headline, or an image alt text repeating it.
                None if title_key.as_deref() == Some(key)
                    || headline.as_ref().is_some_and(|h| h.echoed_by(&block.text)) =>
                {
                    Some(Decision::Drop(DropReason::Title))
                }
                None if is_photo_credit(&block.text) => Some(Decision::Drop(DropReason::Credit)),
                None if is_footer(&block.text) => Some(Decision::Drop(DropReason::Share)),
                // "© John Brecher", alone or before the photo's caption.
                None if block.text.starts_with('©') => Some(if word_count(&block.text) <= 8 {
                    Decision::Drop(DropReason::Credit)
                } else {
                    Decision::Caption
                }),
                None if is_credited_caption(&block.text)
                    || ends_with_photo_credit(&block.text)
                    || is_labelled_caption(&block.text) =>
                {
                    Some(Decision::Caption)
                }
                None if is_editor_line(&block.text) => Some(Decision::Drop(DropReason::Byline)),
                None => match source_credit(&block.text) {
                    Some(who) => {
                        credit.get_or_insert(who);
                        Some(Decision::Drop(DropReason::Credit))
                    }
                    None => None,
                },
            };
            decisions[i] = d;
            keys.push(at);
        }

        // BBC pages print "Image copyright NAME" right before a labelled caption, in the
        // page's language ("ဓာတ်ပုံ မူပိုင် …"): a short line there is the photo's credit.
        for i in 1..n {
            if decisions[i] == Some(Decision::Caption)
                && decisions[i - 1].is_none()
                && texts[i - 1].len() <= 100
                && texts[i - 1].split_whitespace().count() <= 8
                && is_labelled_caption(&texts[i])
            {
                decisions[i - 1] = Some(Decision::Drop(DropReason::Credit));
            }
        }

        // A wire credit glued to the end of the last paragraph: "… Lang Son.-VNA".
        for i in 0..n {
            if decisions[i].is_none() {
                if let Some((body, who)) = split_trailing_credit(&texts[i]) {
                    keys[i] = push_key(&mut key_buf, &body);
                    texts[i] = Cow::Owned(body);
                    credit.get_or_insert(who.clone());
                    // The bare agency name often follows on its own line.
                    if let Some(j) = (i + 1..n).find(|&j| decisions[j].is_none()) {
                        if texts[j].trim() == who {
                            decisions[j] = Some(Decision::Drop(DropReason::Credit));
                        }
                    }
                }
            }
        }

        let views: Vec<&str> = texts.iter().map(|t| t.as_ref()).collect();
        // Each undecided block's length, read once up to LONG_WORDS: the rules below only
        // look at blocks undecided so far, and `finish` at blocks still undecided after
        // them (the `sizes` of `finish`, exactly).
        let sizes: Vec<f64> = views
            .iter()
            .zip(&decisions)
            .map(|(t, d)| match d {
                None => size_upto(t, LONG_WORDS),
                Some(_) => 0.0,
            })
            .collect();
        mark_caption_pairs(&views, &sizes, &mut decisions);
        self.mark_repeats(&views, &mut decisions);
        let keys: Vec<&str> = keys.into_iter().map(|at| &key_buf[at]).collect();
        mark_tags(&views, &keys, &mut decisions);
        mark_related_lists(&views, &keys, &sizes, &mut decisions);
        mark_dated_headlines(&views, &mut decisions);
        let shortened = texts
            .into_iter()
            .zip(&article.blocks)
            .enumerate()
            .filter_map(|(i, (t, b))| match t {
                Cow::Owned(t) if t != b.text => Some((i, t)),
                _ => None,
            })
            .collect();
        let draft = Draft {
            decisions,
            shortened,
            credit,
        };
        (draft, sizes)
    }

    /// Add the corpus evidence (`lines`) to a draft of `article`, then place the body
    /// and the end-of-article byline.
    pub fn finish(
        &self,
        article: &Article,
        draft: Draft,
        lines: Option<&LineStats>,
    ) -> CleanArticle {
        self.finish_sized(article, copied(article), draft, None, lines, None)
    }

    /// [`Cleaner::finish`] with each block's [`LineStats::key`] already worked out
    /// (`keys[i]` for `article.blocks[i]`; keys of another length are ignored). A build
    /// computes them once, in its first pass, for the counting and for this.
    pub fn finish_with_keys(
        &self,
        article: &Article,
        draft: Draft,
        lines: Option<&LineStats>,
        keys: &[u64],
    ) -> CleanArticle {
        self.finish_sized(article, copied(article), draft, None, lines, Some(keys))
    }

    /// [`Cleaner::finish_with_keys`], moving the blocks' text out of `article` (each left
    /// empty) instead of copying it: a huge article is then held once, not twice.
    pub fn finish_taking_text(
        &self,
        article: &mut Article,
        draft: Draft,
        lines: Option<&LineStats>,
        keys: &[u64],
    ) -> CleanArticle {
        let texts = article
            .blocks
            .iter_mut()
            .map(|b| std::mem::take(&mut b.text))
            .collect();
        self.finish_sized(article, texts, draft, None, lines, Some(keys))
    }

    /// [`Cleaner::finish`], given the `sizes` that [`Cleaner::draft_sized`] returned with
    /// this draft of this article, or `None` to work them out here.
    /// `texts` are the article's block texts (`article`'s own may have been taken).
    fn finish_sized(
        &self,
        article: &Article,
        mut texts: Vec<String>,
        draft: Draft,
        drafted: Option<Vec<f64>>,
        lines: Option<&LineStats>,
        keys: Option<&[u64]>,
    ) -> CleanArticle {
        let n = article.blocks.len();
        let Draft {
            mut decisions,
            shortened,
            credit,
        } = draft;
        let keys = keys.filter(|k| k.len() == n);
        // A given key is of the block as printed: a shortened block (rare) is looked up
        // by its new text.
        let mut reworded: Vec<usize> = Vec::new();
        for (i, t) in shortened {
            if let Some(slot) = texts.get_mut(i) {
                *slot = t;
                reworded.push(i);
            }
        }
        // A draft of another article would not fit: decide from scratch instead.
        let drafted = drafted.filter(|s| s.len() == n && decisions.len() == n);
        if decisions.len() != n {
            decisions = vec![None; n];
        }
        // Lengths of the undecided blocks, up to LONG_WORDS: the tests below and the body
        // scores compare them with thresholds up to that. The draft read every block it
        // left undecided already.
        let sizes: Vec<f64> = texts
            .iter()
            .zip(&decisions)
            .enumerate()
            .map(|(i, (t, d))| match (d, &drafted) {
                (None | Some(Decision::Body), Some(s)) => s[i],
                (None | Some(Decision::Body), None) => size_upto(t, LONG_WORDS),
                _ => 0.0,
            })
            .collect();
        // A line other documents print too is site furniture. A long paragraph needs
        // more evidence: two different stories quoting one statement, or a syndicated
        // passage, is body; a disclaimer printed under every article is not.
        if let Some(lines) = lines {
            for (i, t) in texts.iter().enumerate() {
                // A decided block keeps its decision: no need to look it up.
                if decisions[i].is_some() {
                    continue;
                }
                let key = match keys {
                    Some(k) if !reworded.contains(&i) => k[i],
                    _ => LineStats::key(t),
                };
                let others = lines.documents_with_key(key).saturating_sub(1);
                let needed = if sizes[i] >= LONG_WORDS {
                    self.cfg.long_line_repeats
                } else {
                    1
                };
                if others >= needed {
                    decisions[i] = Some(Decision::Drop(DropReason::Boilerplate));
                }
            }
        }
        // Where the page prints the headline again, the body follows it.
        let echoes: Vec<usize> = (0..n)
            .filter(|&i| {
                decisions[i] == Some(Decision::Drop(DropReason::Title))
                    && article.blocks[i].role.is_none()
            })
            .collect();
        mark_outside_body(&texts, &sizes, &mut decisions, &echoes);

        // An end-of-article byline: the last undecided block, when it is a bare name.
        let mut byline = article.byline.clone();
        if let Some(last) = (0..n).rev().find(|&i| {
            !matches!(
                decisions[i],
                Some(Decision::Drop(
                    DropReason::Share | DropReason::CommentPrompt
                ))
            )
        }) {
            if matches!(
                decisions[last],
                None | Some(Decision::Drop(DropReason::Related))
            ) && is_name_line(&texts[last])
            {
                decisions[last] = Some(Decision::Drop(DropReason::Byline));
                byline.get_or_insert_with(|| texts[last].clone());
            }
        }

        let blocks = texts
            .into_iter()
            .zip(decisions)
            .map(|(text, d)| CleanBlock {
                text,
                decision: d.unwrap_or(Decision::Body),
            })
            .collect();
        CleanArticle {
            source: article.source.clone(),
            source_id: article.source_id.clone(),
            url: article.url.clone(),
            title: article.title.clone(),
            published: article.published,
            byline,
            credit,
            blocks,
            notes: article.notes.clone(),
        }
    }

    /// Blocks printed again. A short block printed twice in a row is an image's alt text
    /// plus its caption: the first copy becomes a caption. Title-case pairs are headlines of
    /// a related-story list. Anything else printed again loses its later copies.
    fn mark_repeats(&self, texts: &[&str], decisions: &mut [Option<Decision>]) {
        // Only membership is asked, so the fast fixed-seed hash changes no decision.
        let mut seen: HashSet<&str, foldhash::fast::FixedState> =
            HashSet::with_capacity_and_hasher(texts.len(), Default::default());
        let mut prev: Option<usize> = None;
        for i in 0..texts.len() {
            if decisions[i].is_some() {
                continue;
            }
            // Repeats are exact copies (spaces are already collapsed), so no lower-casing.
            let key = texts[i];
            if let Some(p) = prev {
                if near_same(texts[p], key) {
                    if is_title_case(texts[p]) {
                        decisions[p] = Some(Decision::Drop(DropReason::Related));
                        decisions[i] = Some(Decision::Drop(DropReason::Related));
                    } else {
                        if word_count(texts[p]) <= self.cfg.caption_max_words {
                            decisions[p] = Some(Decision::Caption);
                        }
                        decisions[i] = Some(Decision::Drop(DropReason::Repeated));
                    }
                    prev = None;
                    seen.insert(key);
                    continue;
                }
            }
            if !seen.insert(key) {
                decisions[i] = Some(Decision::Drop(DropReason::Repeated));
                continue;
            }
            prev = Some(i);
        }
    }
}

/// Related-story lists. A marker (a "See more"/"Related" heading, a headline printed twice,
/// a headline pair) that follows some body text opens a list; the list runs over headlines
/// (short lines) and the teaser right after each headline, and ends at the first run of
/// prose that no headline introduces, or at the page's own headline. An inline "Read more"
/// link followed by the article's own paragraphs is therefore dropped alone.
///
/// `keys` holds `normalise` of every text of up to 48 bytes (at least); `sizes` the
/// `size_upto(text, LONG_WORDS)` of every undecided block.
fn mark_related_lists(
    texts: &[&str],
    keys: &[&str],
    sizes: &[f64],
    decisions: &mut [Option<Decision>],
) {
    let n = texts.len();
    // A list needs two paragraphs of prose before it: until then no marker is looked
    // for, and after that none is counted.
    let mut prose_before = 0;
    let mut i = 0;
    while i < n {
        if prose_before < 2 {
            if decisions[i].is_none() && sizes[i] >= 20.0 {
                prose_before += 1;
            }
            i += 1;
            continue;
        }
        let headline = decisions[i] == Some(Decision::Drop(DropReason::Related))
            || decisions[i].is_none() && is_doubled_line(texts[i]);
        // Headings are a few words: no need to look at longer blocks.
        let heading = texts[i].len() <= 48 && is_related_heading(keys[i]);
        if heading || headline {
            decisions[i] = Some(Decision::Drop(DropReason::Related));
            // After a heading the next prose is the article's unless a headline comes first.
            let mut after_headline = headline;
            let mut j = i + 1;
            while j < n {
                match decisions[j] {
                    Some(Decision::Drop(DropReason::Related)) => after_headline = true,
                    // The page's own headline starts its article: a list in the
                    // navigation above it ends there.
                    Some(Decision::Drop(DropReason::Title)) => break,
                    // A list item's picture comes before its headline, so what follows
                    // a picture is no headline's teaser.
                    Some(Decision::Caption) => {
                        decisions[j] = Some(Decision::Drop(DropReason::Related));
                        after_headline = false;
                    }
                    Some(Decision::Drop(DropReason::Repeated)) => {
                        decisions[j] = Some(Decision::Drop(DropReason::Related));
                    }
                    Some(_) => {}
                    None => {
                        let t = texts[j];
                        // `sizes` stop at 20 words, past 12.
                        if sizes[j] < 12.0 || is_doubled_line(t) {
                            after_headline = true;
                        } else if after_headline || is_teaser(t) {
                            after_headline = false;
                        } else {
                            break;
                        }
                        decisions[j] = Some(Decision::Drop(DropReason::Related));
                    }
                }
                j += 1;
            }
            i = j;
            continue;
        }
        i += 1;
    }
}

/// Other stories listed with their dates: three or more short lines in a row, each
/// ending in a date (`Σάρα Μοντιέλ, το λαϊκό ίνδαλμα της Ισπανίας (09/04/2013)`).
fn mark_dated_headlines(texts: &[&str], decisions: &mut [Option<Decision>]) {
    let dated: Vec<bool> = (0..texts.len())
        .map(|i| {
            // A paragraph seldom ends in a digit: that test first.
            let t = texts[i];
            decisions[i].is_none()
                && t.trim_end()
                    .ends_with(|c: char| c.is_ascii_digit() || c == ')' || c == ']')
                && size_upto(t, 25.0) < 25.0
                && ends_with_date(t)
        })
        .collect();
    let mut i = 0;
    while i < texts.len() {
        let start = i;
        while i < texts.len() && dated[i] {
            i += 1;
        }
        if i - start >= MIN_DATED_LIST {
            for d in &mut decisions[start..i] {
                *d = Some(Decision::Drop(DropReason::Related));
            }
        }
        i = i.max(start + 1);
    }
}

/// Dated lines in a row that make a list of other stories.
const MIN_DATED_LIST: usize = 3;

/// The line ends in a date, bare or in brackets.
fn ends_with_date(s: &str) -> bool {
    let t = s.trim_end().trim_end_matches([')', ']']);
    if !t.ends_with(|c: char| c.is_ascii_digit()) {
        return false;
    }
    let from = t.char_indices().rev().nth(20).map_or(0, |(i, _)| i);
    crate::article::parse_date(&t[from..]).is_some()
}

/// At least `n` letters that mark a line as written in another script than Latin-only
/// English: Vietnamese-only letters, kana, han, hangul, Thai. Reads only as far as needed.
fn has_marked_letters(s: &str, n: usize) -> bool {
    // The lead bytes of these letters in UTF-8 (C4 ă đ, C6 ơ ư, E0 Thai, E1 Vietnamese,
    // E3–E9 kana and han, EA–ED hangul, EF compatibility han, F0 han extensions): a
    // line without any (ASCII, Cyrillic, Greek, most Latin) has none.
    if crate::text::find_byte(s.as_bytes(), |x| {
        (x == 0xC4)
            | (x == 0xC6)
            | (x.wrapping_sub(0xE0) < 2)
            | (x.wrapping_sub(0xE3) < 11)
            | (x == 0xEF)
            | (x == 0xF0)
    })
    .is_none()
    {
        return n == 0;
    }
    s.chars()
        .filter(|&c| {
            crate::article::is_vietnamese_only(c)
                || matches!(c as u32, 0x0E00..=0x0E7F | 0xAC00..=0xD7AF)
                || crate::article::is_cjk(c)
        })
        .take(n)
        .count()
        == n
}

/// A caption and its translation printed on two lines (`Chương trình …` / `Program …`):
/// short, one line in a marked script, the other in plain Latin letters, of similar length.
/// Marked early so the pair does not interrupt the body around it; the language stage
/// pairs them up.
///
/// `sizes` are the `size_upto(text, LONG_WORDS)` of the undecided blocks.
fn mark_caption_pairs(texts: &[&str], sizes: &[f64], decisions: &mut [Option<Decision>]) {
    // A size below the cap is the whole length, which any higher cap gives too.
    let short = |i: usize| {
        let size = if sizes[i] < LONG_WORDS {
            sizes[i]
        } else {
            size_upto(texts[i], 41.0)
        };
        (1.0..=40.0).contains(&size)
    };
    let plain = |t: &str| {
        !has_marked_letters(t, 1) && t.chars().filter(char::is_ascii_alphabetic).nth(2).is_some()
    };
    let similar = |a: &str, b: &str| {
        let (la, lb) = (a.chars().count() as f64, b.chars().count() as f64);
        (0.33..=3.0).contains(&(lb / la))
    };
    for i in 0..texts.len() {
        // The script test first: it settles an all-ASCII line without reading it.
        if decisions[i].is_some() || !has_marked_letters(texts[i], 2) {
            continue;
        }
        // The translation usually follows its caption; otherwise it may precede it. The
        // partner is sought before the block's own length is: beside a Vietnamese
        // paragraph there is nearly always no unmarked one, and its first words say so.
        let partner = [i + 1, i.wrapping_sub(1)].into_iter().find(|&j| {
            j < texts.len()
                && decisions[j].is_none()
                && plain(texts[j])
                && short(j)
                && similar(texts[i], texts[j])
        });
        if let Some(j) = partner.filter(|_| short(i)) {
            decisions[i] = Some(Decision::Caption);
            decisions[j] = Some(Decision::Caption);
        }
    }
}

/// A teaser cut short: ends in an ellipsis.
fn is_teaser(s: &str) -> bool {
    let t = s.trim_end();
    t.ends_with('…') || t.ends_with("...")
}

/// A block of this many words is prose rather than a label or link.
const LONG_WORDS: f64 = 20.0;

/// Length in words, a CJK character counting as ~0.6 of a word (they carry less each);
/// the scan stops once the length reaches `cap`: every comparison with a threshold up
/// to `cap` gets the same answer without reading a long paragraph through.
fn size_upto(s: &str, cap: f64) -> f64 {
    let mut words = 0usize;
    let mut cjk = 0usize;
    // `cjk as f64 / 1.7`, worked out again only when `cjk` grows: a division at every
    // word cost more than the rest of the loop.
    let mut cjk_words = 0.0f64;
    let mut in_word = false;
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        // Eight ASCII bytes at a time (the last ones padded with zeros, which are no
        // word): their word starts counted at once, and compared with `cap` one by one
        // only when they reach it.
        let mut eight = [0u8; 8];
        let n = (b.len() - i).min(8);
        eight[..n].copy_from_slice(&b[i..i + n]);
        let v = u64::from_le_bytes(eight);
        if v & HIGH_BITS == 0 {
            let word = ascii_word_bits(v);
            let starts = word & !((word << 8) | u64::from(in_word) << 7);
            let mut more = starts.count_ones();
            if (words + more as usize) as f64 + cjk_words >= cap {
                while more > 0 {
                    words += 1;
                    more -= 1;
                    if words as f64 + cjk_words >= cap {
                        break;
                    }
                }
                return words as f64 + cjk_words;
            }
            words += more as usize;
            in_word = word >> 63 != 0;
            i += n;
            continue;
        }
        // A character at a time until past these eight bytes.
        let end = i + n;
        while i < end {
            // The length grows only where a word or a CJK character starts: only there is
            // it compared with `cap`.
            let x = b[i];
            if x < 0x80 {
                i += 1;
                if !(x.is_ascii_alphanumeric() || x == b'_') {
                    in_word = false;
                    continue;
                }
                if in_word {
                    continue;
                }
                in_word = true;
                words += 1;
            } else if (0xC4..0xE0).contains(&x)
                || b.get(i + 1).is_some_and(|&y| {
                    crate::text::starts_latin(x, y) && !(x == 0xC3 && matches!(y, 0x97 | 0xB7))
                })
            {
                // U+0100–U+07FF (Latin Extended, Greek, Cyrillic …): all word characters
                // (no punctuation, symbol or space block starts there) and none CJK; so
                // are U+00C0–U+00FF but × and ÷, and U+1E80–U+1EFF (most of Vietnamese),
                // settled here from their lead bytes without decoding them.
                i += if x == 0xE1 { 3 } else { 2 };
                if in_word {
                    continue;
                }
                in_word = true;
                words += 1;
            } else {
                // `i` is always at a character boundary.
                let Some(c) = s[i..].chars().next() else {
                    return words as f64 + cjk_words;
                };
                i += c.len_utf8();
                if crate::article::is_cjk(c) {
                    cjk += 1;
                    cjk_words = cjk as f64 / 1.7;
                    in_word = false;
                } else if is_word_char(c) {
                    if in_word {
                        continue;
                    }
                    in_word = true;
                    words += 1;
                } else {
                    in_word = false;
                    continue;
                }
            }
            if words as f64 + cjk_words >= cap {
                return words as f64 + cjk_words;
            }
        }
    }
    words as f64 + cjk_words
}

/// The top bit of every byte.
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// For eight ASCII bytes: the top bit of each byte set where it is a letter, digit or
/// `_` (byte sums below never carry into the next byte, as every byte is below 0x80).
fn ascii_word_bits(v: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    // The top bit of each byte set where that byte is within `lo..=hi`.
    let within = |v: u64, lo: u8, hi: u8| {
        let at_least = v + ONES * u64::from(0x80 - lo);
        let above = v + ONES * u64::from(0x7F - hi);
        at_least & !above & HIGH_BITS
    };
    within(v, b'0', b'9') | within(v | (ONES * 0x20), b'a', b'z') | within(v, b'_', b'_')
}

/// A line printed with a list marker: `- `, `• `, `* `, `1. `, `2) `.
fn is_list_item(s: &str) -> bool {
    let t = s.trim_start();
    if ["- ", "• ", "* ", "– ", "· "]
        .iter()
        .any(|m| t.starts_with(m))
    {
        return true;
    }
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    (1..=2).contains(&digits) && (t[digits..].starts_with(". ") || t[digits..].starts_with(") "))
}

/// A letter or digit, with a cheap answer for non-ASCII text: everything outside the
/// punctuation and symbol blocks counts (exact enough for word counting, and far cheaper
/// than the Unicode tables on Cyrillic or Greek pages).
fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    !matches!(c as u32,
        0x80..=0xBF | 0xD7 | 0xF7 | 0x2000..=0x2BFF | 0x3000..=0x303F | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF0F | 0xFF1A..=0xFF20 | 0xFF3B..=0xFF40 | 0xFF5B..=0xFF65)
        && !c.is_whitespace()
}

/// How much a block looks like article body: long runs of prose score high, short
/// lines a little below zero, furniture clearly negative. `size` is
/// `size_upto(text, LONG_WORDS)`, needed for an undecided block only.
fn block_score(text: &str, decision: Option<Decision>, size: f64) -> f64 {
    match decision {
        // An image (its caption, alt text repeating the headline, photo credit) sitting
        // between paragraphs does not interrupt the body.
        // So do the story's tags.
        Some(
            Decision::Caption
            | Decision::Drop(DropReason::Title | DropReason::Credit | DropReason::Tags),
        ) => 0.0,
        Some(Decision::Drop(DropReason::Repeated)) => -1.0,
        Some(Decision::Drop(DropReason::Boilerplate)) => -3.0,
        Some(Decision::Drop(DropReason::Dateline | DropReason::Byline)) => -0.6,
        Some(Decision::Drop(_)) => -2.0,
        Some(Decision::Body) | None => {
            // The thresholds below go up to 20 words (LONG_WORDS).
            let n = size;
            // Items of a list the article itself prints ("- Best actor - …") are short
            // but belong to the body around them: neutral, so they do not split it. A
            // long one is prose (a quote opened by a dash, as Polish and Russian print).
            if is_list_item(text) && (3.0..20.0).contains(&n) {
                return 0.0;
            }
            if n >= 20.0 {
                2.0
            } else if n >= 8.0 && ends_clause(text) {
                0.5
            } else {
                -0.6
            }
        }
    }
}

/// The body is one dense run of prose: find the contiguous run of blocks with the highest
/// total score (maximum-sum subarray) and send undecided blocks outside it away, as
/// navigation before it and related material after it.
///
/// A page that prints its headline again (`echoes`) starts the body within a few blocks
/// after it; a denser run elsewhere (a comment policy, a list of teasers) loses to the
/// run after the headline unless it is much denser.
///
/// `sizes` are the blocks' `size_upto(text, LONG_WORDS)` (any value for a decided one).
fn mark_outside_body(
    texts: &[String],
    sizes: &[f64],
    decisions: &mut [Option<Decision>],
    echoes: &[usize],
) {
    let scores: Vec<f64> = texts
        .iter()
        .zip(sizes)
        .zip(decisions.iter())
        .map(|((t, &size), d)| block_score(t, *d, size))
        .collect();
    let Some((mut lo, mut hi, best)) = densest_run(&scores) else {
        return;
    };
    if let Some((alo, ahi, sum)) = run_after_echo(&scores, echoes) {
        let disjoint = ahi < lo || alo > hi;
        if disjoint && sum >= ECHO_RUN_SHARE * best {
            (lo, hi) = (alo, ahi);
        }
    }
    lo = start_at_headline(decisions, &scores, echoes, lo, hi);
    hi = bridge_interstitials(texts, decisions, &scores, hi);
    lo = bridge_box_before(texts, decisions, &scores, lo);
    hi = list_after_colon(texts, decisions, &scores, hi);
    // Readers' comments are prose too; the article ends at their heading once it has
    // had two paragraphs.
    let mut paragraphs = 0;
    for i in lo..=hi {
        if paragraphs >= 2 && is_comments_heading(&texts[i]) {
            hi = i - 1;
            break;
        }
        if scores[i] >= 2.0 {
            paragraphs += 1;
        }
    }
    for (i, d) in decisions.iter_mut().enumerate() {
        if d.is_none() {
            if i < lo {
                *d = Some(Decision::Drop(DropReason::Navigation));
            } else if i > hi {
                *d = Some(Decision::Drop(DropReason::Related));
            }
        }
    }
}

/// A list of teasers above the article can join its run. Where the page prints its
/// headline inside the run, the article starts after it, if what follows still holds at
/// least [`HEADLINE_RUN_SHARE`] of the run's score. An echo with a caption or a photo
/// credit right after it is an image's alt text inside the article, not its head.
fn start_at_headline(
    decisions: &[Option<Decision>],
    scores: &[f64],
    echoes: &[usize],
    lo: usize,
    hi: usize,
) -> usize {
    let total: f64 = scores[lo..=hi].iter().sum();
    echoes
        .iter()
        .copied()
        .filter(|&e| e > lo && e < hi)
        .find(|&e| {
            let image = matches!(
                decisions[e + 1],
                Some(Decision::Caption | Decision::Drop(DropReason::Credit))
            );
            !image && scores[e + 1..=hi].iter().sum::<f64>() >= HEADLINE_RUN_SHARE * total
        })
        .map_or(lo, |e| e + 1)
}

/// See [`start_at_headline`].
const HEADLINE_RUN_SHARE: f64 = 0.5;

/// The body goes on after an advert or a related-story box: a few short lines that other
/// pages print too ("Advertisement", "Read on"), or a list `mark_related_lists` closed,
/// followed by more paragraphs. Returns the new last block.
fn bridge_interstitials(
    texts: &[String],
    decisions: &[Option<Decision>],
    scores: &[f64],
    mut hi: usize,
) -> usize {
    let n = texts.len();
    let furniture = |i: usize| is_furniture(&texts[i], decisions[i]);
    let related = |i: usize| decisions[i] == Some(Decision::Drop(DropReason::Related));
    loop {
        let mut j = hi + 1;
        let (mut breaks, mut boxed) = (0, 0);
        while j < n && (furniture(j) || related(j)) {
            if related(j) {
                boxed += 1;
            } else {
                breaks += 1;
            }
            j += 1;
        }
        if j == hi + 1 || breaks > MAX_INTERSTITIAL || boxed > MAX_BOX || j >= n {
            return hi;
        }
        // After a box, the article resumes with two paragraphs in a row; teasers of a
        // list that goes on alternate with their headlines.
        if boxed > 0 && !(j + 1 < n && scores[j] > 0.0 && scores[j + 1] > 0.0) {
            return hi;
        }
        let needed = if boxed > 0 {
            2.0 * RESUMED_BODY
        } else {
            RESUMED_BODY
        };
        // The densest run starting right after the break.
        match best_run_from(scores, j..scores.len()) {
            Some((t, sum)) if sum >= needed => hi = t,
            _ => return hi,
        }
    }
}

/// The article may start before a break: a related-story box that `mark_related_lists`
/// closed inside it, or an image and share buttons after a lead paragraph (a caption,
/// a photo credit, tags and a few short lines other pages print too). Before a box, the
/// run must have two paragraphs in a row next to it and score what the run after a box
/// must; before a short break, one long paragraph is enough. Returns the new first block.
fn bridge_box_before(
    texts: &[String],
    decisions: &[Option<Decision>],
    scores: &[f64],
    mut lo: usize,
) -> usize {
    let related = |i: usize| decisions[i] == Some(Decision::Drop(DropReason::Related));
    let furniture = |i: usize| is_furniture(&texts[i], decisions[i]);
    // A picture (caption, credit) or the tags; not the headline's echo, after which the
    // article starts.
    let image = |i: usize| {
        matches!(
            decisions[i],
            Some(Decision::Caption | Decision::Drop(DropReason::Credit | DropReason::Tags))
        )
    };
    loop {
        let mut j = lo;
        let (mut breaks, mut boxed) = (0, 0);
        while j > 0 && (related(j - 1) || furniture(j - 1) || image(j - 1)) {
            if related(j - 1) {
                boxed += 1;
            } else if furniture(j - 1) {
                breaks += 1;
            }
            j -= 1;
        }
        if j == lo || boxed > MAX_BOX || breaks > MAX_INTERSTITIAL || j == 0 {
            return lo;
        }
        let needed = if boxed > 0 {
            if j < 2 || !(scores[j - 1] > 0.0 && scores[j - 2] > 0.0) {
                return lo;
            }
            2.0 * RESUMED_BODY
        } else {
            RESUMED_BODY
        };
        match best_run_from(scores, (0..j).rev()) {
            Some((t, sum)) if sum >= needed => lo = t,
            _ => return lo,
        }
    }
}

/// A short line other pages print too ("Advertisement", "Share: More"): an advert or
/// share-button break inside the article.
fn is_furniture(text: &str, decision: Option<Decision>) -> bool {
    decision == Some(Decision::Drop(DropReason::Boilerplate)) && size_upto(text, 5.0) < 5.0
}

/// A paragraph ending in a colon promises a list: its items (short lines, some of which
/// other pages print too, like "Cancer" in a list of causes of death) belong to the
/// article, and so do the paragraphs right after the list. Returns the new last block.
fn list_after_colon(
    texts: &[String],
    decisions: &[Option<Decision>],
    scores: &[f64],
    hi: usize,
) -> usize {
    let n = texts.len();
    let ends_colon = |i: usize| texts[i].trim_end().ends_with([':', '：']);
    // A sentence leads a list in; "Source:", "Read also:" are labels, and "Related
    // coverage from …:" leads other stories in.
    let colon = |i: usize| {
        ends_colon(i) && size_upto(&texts[i], 4.0) >= 4.0 && {
            let key = normalise(&texts[i]);
            !RELATED_HEADINGS
                .iter()
                .any(|h| key.strip_prefix(h).is_some_and(|r| r.starts_with(' ')))
        }
    };
    // The list's lead-in may be a short line of its own right after the run.
    let hi = if colon(hi) {
        hi
    } else if hi + 1 < n && decisions[hi + 1].is_none() && colon(hi + 1) {
        hi + 1
    } else {
        return hi;
    };
    let item = |i: usize| {
        matches!(
            decisions[i],
            None | Some(Decision::Drop(
                DropReason::Boilerplate | DropReason::Repeated
            ))
        ) && size_upto(&texts[i], 20.0) < 20.0
            && !ends_colon(i)
    };
    // One item other pages print too ("Cancer") is still the list; two in a row are the
    // page's furniture after it.
    let mut j = hi + 1;
    let mut last = hi;
    let mut common = 0;
    while j < n && j - hi <= MAX_LIST && item(j) {
        if decisions[j].is_none() {
            last = j;
            common = 0;
        } else {
            common += 1;
            if common == 2 {
                break;
            }
        }
        j += 1;
    }
    if j - hi > MAX_LIST {
        return hi;
    }
    // The paragraphs after the list.
    match best_run_from(scores, j..scores.len()) {
        Some((t, sum)) if sum >= RESUMED_BODY => t,
        _ => last,
    }
}

/// Items a list promised by a colon may have.
const MAX_LIST: usize = 60;

/// The best run of `scores` that starts at the first block of `order` and goes on in its
/// direction while the total stays positive: `(its far end, its total)`.
fn best_run_from(scores: &[f64], order: impl Iterator<Item = usize>) -> Option<(usize, f64)> {
    let (mut cur, mut best) = (0.0f64, None);
    for t in order {
        cur += scores[t];
        if cur <= 0.0 {
            break;
        }
        if best.is_none_or(|(_, b)| cur > b) {
            best = Some((t, cur));
        }
    }
    best
}

/// Short furniture lines an advert break may have.
const MAX_INTERSTITIAL: usize = 3;
/// Blocks a related-story box inside the article may have.
const MAX_BOX: usize = 16;
/// What the paragraphs after an advert break must score: one long paragraph (twice that
/// after a related-story box).
const RESUMED_BODY: f64 = 2.0;

/// How far after a headline echo (in blocks) the body may start: a dateline, byline,
/// share buttons and a captioned image sit between them.
const ECHO_WINDOW: usize = 10;
/// The run after a headline echo wins when its score is at least this share of the
/// densest run's (0.3 to 0.45 score the same on the boilerplate dev pages).
const ECHO_RUN_SHARE: f64 = 0.4;

/// The maximum-sum run of `scores`: `(first, last, sum)`, `None` when no score is positive.
fn densest_run(scores: &[f64]) -> Option<(usize, usize, f64)> {
    let (mut best, mut cur, mut start) = (0.0f64, 0.0f64, 0usize);
    let mut span = None;
    for (i, &s) in scores.iter().enumerate() {
        if cur <= 0.0 {
            cur = s;
            start = i;
        } else {
            cur += s;
        }
        if cur > best {
            best = cur;
            span = Some((start, i, best));
        }
    }
    span
}

/// The best run that starts within [`ECHO_WINDOW`] blocks after one of `echoes`. It ends
/// where the total score is highest, across gaps: an advert or a photo credit between
/// paragraphs does not cut the body short.
fn run_after_echo(scores: &[f64], echoes: &[usize]) -> Option<(usize, usize, f64)> {
    let mut best: Option<(usize, usize, f64)> = None;
    // A page printing its headline many times (a list of its own teasers) is judged by
    // the first few.
    for &e in echoes.iter().take(MAX_ECHOES) {
        for s in e + 1..(e + 1 + ECHO_WINDOW).min(scores.len()) {
            let mut cur = 0.0f64;
            for (t, &score) in scores.iter().enumerate().skip(s) {
                cur += score;
                if cur > 0.0 && best.is_none_or(|(_, _, b)| cur > b) {
                    best = Some((s, t, cur));
                }
            }
        }
    }
    best
}

/// Headline echoes looked at.
const MAX_ECHOES: usize = 8;

/// The article's title, for finding where the page prints its headline again. Titles
/// carry the site's name ("… | РИА Новости", "…-健康新聞-yam蕃薯藤新聞"), so a block
/// that prints a large enough run of the title's words, on word boundaries, echoes it.
struct Headline {
    key: String,
    chars: usize,
    /// The title's words: an echo starts with one (cheaper than searching the title).
    words: HashSet<String, foldhash::fast::FixedState>,
}

impl Headline {
    fn new(title: &str) -> Self {
        let key = headline_key(title);
        Headline {
            chars: key.chars().count(),
            words: key.split(' ').map(str::to_string).collect(),
            key,
        }
    }

    /// At least 30 % of the title and 3 words (or 5 CJK characters) of it.
    fn echoed_by(&self, text: &str) -> bool {
        if self.key.is_empty() || text.len() > 2 * self.key.len() + 16 {
            return false;
        }
        // The first-word test below, before the whole block is lower-cased: a block
        // without CJK characters has none in its key either.
        if !crate::article::has_cjk(text) {
            let mut first = String::with_capacity(32);
            for c in text
                .chars()
                .skip_while(|&c| !crate::text::is_alphanumeric(c))
                .take_while(|&c| crate::text::is_alphanumeric(c))
            {
                crate::text::push_lower_char(&mut first, c);
            }
            if !self.words.contains(&first) {
                return false;
            }
        }
        let b = headline_key(text);
        let chars = b.chars().count();
        let cjk = b.chars().filter(|&c| crate::article::is_cjk(c)).count();
        let words = b.split(' ').count();
        if b.is_empty()
            || chars * 10 < self.chars * 3
            || (words < 3 && cjk < 5)
            || (cjk == 0 && !b.split(' ').next().is_some_and(|w| self.words.contains(w)))
        {
            return false;
        }
        self.key.match_indices(b.as_str()).any(|(at, m)| {
            let before = self.key[..at].chars().next_back();
            let after = self.key[at + m.len()..].chars().next();
            before.is_none_or(|c| c == ' ') && after.is_none_or(|c| c == ' ')
        })
    }
}

/// Lower-cased letters and digits; every other run of characters becomes one space.
fn headline_key(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut gap = false;
    for c in s.chars() {
        if crate::text::is_alphanumeric(c) {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            crate::text::push_lower_char(&mut out, c);
        } else {
            gap = true;
        }
    }
    out
}

/// Lower-case, whitespace collapsed: the key for comparing blocks.
pub fn normalise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_normalised(&mut out, s);
    out
}

/// Append [`normalise`]`(s)` to `out`.
fn push_normalised(out: &mut String, s: &str) {
    // Blocks come with their spaces already collapsed; only lower-case them. (No double
    // space, tab, line feed or carriage return: one pass over byte pairs, which the
    // compiler runs many at a time.)
    let b = s.as_bytes();
    let breaks = b.iter().fold(0u8, |any, &x| {
        any | u8::from((x == b'\t') | (x == b'\n') | (x == b'\r'))
    }) | b.iter().zip(b.iter().skip(1)).fold(0u8, |any, (&x, &y)| {
        any | u8::from((x == b' ') & (y == b' '))
    });
    let collapsed = breaks == 0 && s.trim() == s;
    match (collapsed, s.is_ascii()) {
        (true, true) => {
            let start = out.len();
            out.push_str(s);
            out[start..].make_ascii_lowercase();
        }
        (true, false) => crate::text::push_lower(out, s),
        _ => {
            for (k, word) in s.to_lowercase().split_whitespace().enumerate() {
                if k > 0 {
                    out.push(' ');
                }
                out.push_str(word);
            }
        }
    }
}

/// Equal, or differing in one word (alt text and caption often differ by tense).
fn near_same(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    // With one word different and at least four, the first or the last word is the
    // same: comparing them settles most pairs without reading them through.
    let (x, y) = (a.as_bytes(), b.as_bytes());
    if !same_edge_word(x.iter(), y.iter()) && !same_edge_word(x.iter().rev(), y.iter().rev()) {
        return false;
    }
    // As many words, at least four: counting the spaces settles most pairs without
    // splitting them.
    let spaces = |s: &str| s.bytes().filter(|&c| c == b' ').count();
    let n = spaces(a);
    if n < 3 || n != spaces(b) {
        return false;
    }
    let mut differ = a.split(' ').zip(b.split(' ')).filter(|(x, y)| x != y);
    differ.next().is_some() && differ.next().is_none()
}

/// The first words of two byte sequences (up to a space or the end) are equal: for
/// `split(' ').next()`, or, over reversed bytes, `rsplit(' ').next()`.
fn same_edge_word<'a>(
    mut a: impl Iterator<Item = &'a u8>,
    mut b: impl Iterator<Item = &'a u8>,
) -> bool {
    loop {
        match (a.next(), b.next()) {
            (None | Some(b' '), None | Some(b' ')) => return true,
            (Some(x), Some(y)) if x == y => {}
            _ => return false,
        }
    }
}

/// Most words start with a capital letter: a headline rather than a sentence.
fn is_title_case(s: &str) -> bool {
    let words: Vec<&str> = s
        .split_whitespace()
        .filter(|w| w.chars().any(crate::text::is_alphabetic))
        .collect();
    if words.len() < 3 {
        return false;
    }
    let caps = words
        .iter()
        .filter(|w| {
            w.chars()
                .find(|c| crate::text::is_alphabetic(*c))
                .is_some_and(char::is_uppercase)
        })
        .count();
    caps * 10 >= words.len() * 7 && !s.ends_with('.')
}

/// A headline printed twice on one line: `X Y Z X Y Z`.
fn is_doubled_line(s: &str) -> bool {
    if crate::text::is_collapsed(s) {
        // Words are split by single spaces: `A A` is the same bytes around a middle space.
        let b = s.as_bytes();
        let mid = b.len() / 2;
        return b.len() % 2 == 1
            && b[mid] == b' '
            && b[..mid] == b[mid + 1..]
            && s[..mid].split(' ').nth(1).is_some();
    }
    let words: Vec<&str> = s.split_whitespace().collect();
    let n = words.len();
    n >= 4 && n.is_multiple_of(2) && words[..n / 2] == words[n / 2..]
}

/// A copyright or rights notice: "© 2019 Beachbody, LLC. All rights reserved.",
/// "人民网版权所有", "Wszelkie prawa zastrzeżone".
fn is_footer(s: &str) -> bool {
    if s.len() > 600 {
        return false;
    }
    let t = s.trim_start();
    // "© 2019 …" is the site's notice; "© John Brecher" credits a photo. The first
    // character settles most blocks before the lower-casing.
    let notice = t
        .chars()
        .next()
        .is_some_and(|c| first_lower_in(c, &['©', '(', 'c']))
        && {
            let head: String = t.chars().take(12).collect();
            let head = crate::text::to_lower(&head);
            ["©", "(c) ", "copyright"]
                .iter()
                .find_map(|p| head.strip_prefix(p).and_then(|_| t.get(p.len()..)))
                .is_some_and(|rest| {
                    let after: String = rest.chars().take(16).collect();
                    after
                        .split(|c: char| !c.is_ascii_digit())
                        .any(|d| d.len() == 4)
                })
        };
    if notice {
        return true;
    }
    // Chinese pages may print the notice one character at a time: "人 民 网 版 权 所 有".
    // (Three substring searches run much faster than one search for any of three chars.)
    // (Each starts with E6 or E7: a byte scan rules out most non-ASCII blocks first.)
    if crate::text::find_byte(s.as_bytes(), |x| x.wrapping_sub(0xE6) < 2).is_some()
        && ["版", "權", "权"].iter().any(|c| s.contains(c))
    {
        let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        if [
            "版权所有",
            "版權所有",
            "版权归",
            "版權歸",
            "版权均属",
            "版權均屬",
        ]
        .iter()
        .any(|p| compact.contains(p))
        {
            return true;
        }
    }
    // In a short block, or opening a long one: not a sentence that happens to quote it.
    if !may_hold_rights_phrase(s) {
        return false;
    }
    RIGHTS_RESERVED
        .as_ref()
        .and_then(|ac| ac.find(s))
        .is_some_and(|m| m.start() < 100 || size_upto(s, 30.0) < 30.0)
}

/// Whether `s` can hold one of [`RIGHTS_PHRASES`]: each has "rv", "vo", "mm", "ws" or
/// "ox" in any ASCII case, or a letter whose UTF-8 form starts with C5 (ż), CE (Greek) or D0
/// (Cyrillic) (a test keeps it so). Most blocks have none of these, and skip the phrase
/// search.
fn may_hold_rights_phrase(s: &str) -> bool {
    // Over byte pairs, without stopping at every v, m or w of English text.
    crate::text::find_pair(s.as_bytes(), |x, y| {
        let (l, m) = (x | 0x20, y | 0x20);
        (x == 0xC5)
            | (x == 0xCE)
            | (x == 0xD0)
            | ((l == b'r') & (m == b'v'))
            | ((l == b'v') & (m == b'o'))
            | ((l == b'm') & (m == b'm'))
            | ((l == b'w') & (m == b's'))
            | ((l == b'o') & (m == b'x'))
    })
    .is_some()
}

/// Site notices in the languages of our corpora: rights reserved, "credit us when you
/// reuse this", comment moderation, newsletter sign-ups.
const RIGHTS_PHRASES: [&str; 14] = [
    "all rights reserved",
    "wszelkie prawa zastrzeżone",
    "все права защищены",
    "με την επιφύλαξη παντός δικαιώματος",
    "tous droits réservés",
    "todos los derechos reservados",
    "alle rechte vorbehalten",
    "при использовании материал",
    "при цитировании материал",
    "comments are subject to moderation",
    "comments are moderated",
    "sign up for our newsletter",
    "subscribe to our newsletter",
    "delivered to your inbox",
];

/// A phrase as printed in lower case, capitalised and in capitals.
fn case_forms(p: &str) -> [String; 3] {
    let mut first = p.chars();
    let capital: String = first
        .next()
        .into_iter()
        .flat_map(char::to_uppercase)
        .chain(first)
        .collect();
    [p.to_string(), capital, p.to_uppercase()]
}

/// [`RIGHTS_PHRASES`] in any ASCII case and in the usual cases of the others. (Building
/// from these constants cannot fail; if it did, the test would only be skipped.)
static RIGHTS_RESERVED: std::sync::LazyLock<Option<aho_corasick::AhoCorasick>> =
    std::sync::LazyLock::new(|| {
        let patterns: Vec<String> = RIGHTS_PHRASES.iter().flat_map(|p| case_forms(p)).collect();
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(patterns)
            .ok()
    });

/// `Photo: Le Hong Nhung`, `Photo by X`, `Ảnh: X`.
fn is_photo_credit(s: &str) -> bool {
    if s.len() > 120 {
        return false;
    }
    // Every prefix below starts with one of these letters: most blocks are settled by
    // their first letter, before lower-casing them.
    let first = s.trim_start_matches(['(', '[']).chars().next();
    if !first.is_some_and(|c| first_lower_in(c, &['p', 'ả', 'i', 'c', 'ф', 'f'])) {
        return false;
    }
    let lower = crate::text::to_lower(s);
    let lower = lower.trim_start_matches(['(', '[']);
    [
        "photo:",
        "photo by",
        "photos:",
        "photo credit:",
        "ảnh:",
        "image:",
        "image credit:",
        "image copyright",
        "credit:",
        "фото:",
        "foto:",
        "fot.",
    ]
    .iter()
    .any(|p| lower.starts_with(p))
        && word_count(s) <= 8
}

/// The lower case of `c` starts with one of `letters`: a text whose first character
/// fails this cannot start, lower-cased, with a word beginning with one of them.
fn first_lower_in(c: char, letters: &[char]) -> bool {
    let l = crate::text::lower_char(c).or_else(|| c.to_lowercase().next());
    l.is_some_and(|l| letters.contains(&l))
}

/// A caption that ends with its photo credit: `… in Hanoi (Photo: VNA)`, `… event. Photo: WVR`.
fn is_credited_caption(s: &str) -> bool {
    let t = s.trim_end();
    // One scan for the colon every marker ends in settles most blocks.
    if !t.contains(':')
        || !(t.contains("hoto:")
            || t.contains("HOTO:")
            || t.contains("nh:")
            || t.contains("NH:")
            || t.contains("redit:")
            || t.contains("REDIT:"))
    {
        return false;
    }
    // "Minh:", "nhanh:" pass the test above.
    let Some((at, credit)) = credit_marker(t) else {
        return false;
    };
    let tail = &t[at..];
    // The credit is the last thing on the line and short. "Credit:" closes a sentence
    // or two of caption ("… equivalent. Credit: ESA"); after a few words it is a label
    // ("Tax credit: $500").
    // The tests on the tail first, its words counted only up to the sixth: a marker
    // followed by a long text settles it without a count of the whole block.
    tail.split_whitespace().nth(5).is_none()
        && (tail.ends_with(')') || !tail.contains('.'))
        && size_upto(t, MAX_CAPTION_WORDS + 1.0) <= MAX_CAPTION_WORDS
        && (!credit || word_count(&t[..at]) >= 6)
}

/// Where the marker of a credited caption starts in `t`, and whether it is `credit:`:
/// the last `photo:`, else the last `ảnh:`, else the last `credit:`, in any case; what
/// searching the lower case of `t` finds, told without lower-casing it (a block can be a
/// whole article). The only characters whose lower case is one of those letters are the
/// letter itself and its ASCII capital, and `Ả` for `ả` (the test
/// `credit_markers_are_found_in_any_case` checks every character), so each colon is looked
/// behind for the marker in any such case. Lower-casing keeps spaces, `.` and `)` as
/// they are, so the tests on the text around the marker read the same in either case;
/// the word count before a `credit:` differs only where a capital lower-cases to two
/// characters (`İ` to `i` and a combining dot, which read as a word break there).
fn credit_marker(t: &str) -> Option<(usize, bool)> {
    let b = t.as_bytes();
    // The start of the last marker the test accepts in the bytes before a colon.
    let last = |marker: fn(&[u8]) -> Option<usize>| {
        memchr::memrchr_iter(b':', b).find_map(|i| marker(&b[..i]))
    };
    fn ends(before: &[u8], m: &[u8]) -> Option<usize> {
        let at = before.len().checked_sub(m.len())?;
        before[at..].eq_ignore_ascii_case(m).then_some(at)
    }
    last(|before| ends(before, b"photo"))
        // `ả` is E1 BA A3 in UTF-8, `Ả` E1 BA A2.
        .or_else(|| {
            last(|before| {
                let at = before.len().checked_sub(5)?;
                matches!(
                    before[at..],
                    [0xE1, 0xBA, 0xA2 | 0xA3, b'n' | b'N', b'h' | b'H']
                )
                .then_some(at)
            })
        })
        .map(|at| (at, false))
        .or_else(|| last(|before| ends(before, b"credit")).map(|at| (at, true)))
}

/// Words a caption with its credit may have.
const MAX_CAPTION_WORDS: f64 = 100.0;

/// A caption the page labels so: `Image caption Assange gestures…`, `Media captionWho is
/// Julian Assange?` (BBC pages print the label before every caption).
fn is_labelled_caption(s: &str) -> bool {
    let b = s.as_bytes();
    ["image caption", "media caption", "photo caption"]
        .iter()
        .any(|l| b.len() > l.len() && b[..l.len()].eq_ignore_ascii_case(l.as_bytes()))
}

/// A caption closed by its agency credit: `… in Hialeah, Fla. (AP Photo/Alan Diaz, File)`,
/// `… 2019. © Reuters / David Mercado`, `… normally. THE CANADIAN PRESS/HO`, `… (Image
/// credit: NASA)`. The credit is the final parenthesis or what follows the last full stop:
/// a few words naming a photo, or a name and an agency joined by a slash.
fn ends_with_photo_credit(s: &str) -> bool {
    let t = s.trim_end();
    // Credits are short and captions a sentence or two; the cheap tests come first.
    if t.len() > 800 || !has_credit_mark(t) {
        return false;
    }
    let at = if t.ends_with(')') {
        t.rfind('(')
    } else {
        t.rfind('.').map(|i| i + 1)
    };
    // The caption itself comes before the credit.
    let Some(at) = at.filter(|&i| i > 0) else {
        return false;
    };
    let tail = &t[at..];
    if !(1..=8).contains(&word_count(tail))
        || size_upto(t, MAX_CAPTION_WORDS + 1.0) > MAX_CAPTION_WORDS
    {
        return false;
    }
    let key = headline_key(tail);
    let has = |w: &str| key.split(' ').any(|k| k == w);
    let photo = [
        "photo", "photos", "image", "images", "picture", "foto", "fot", "фото",
    ]
    .iter()
    .any(|w| has(w));
    let agency = [
        "ap",
        "afp",
        "reuters",
        "epa",
        "press",
        "ho",
        "getty",
        "xinhua",
        "dpa",
        "ansa",
        "efe",
        "pti",
        "ani",
        "tass",
        "shutterstock",
        "bloomberg",
        "anadolu",
    ]
    .iter()
    .any(|w| has(w));
    tail.contains('©')
        || (photo && (tail.contains(['/', ':']) || t.ends_with(')')))
        || (agency && tail.contains('/'))
}

/// `s.contains(['/', '©', '('])`, as a byte scan (`©` is C2 A9; C2 is always a lead
/// byte): decoding every character of every block cost more.
fn has_credit_mark(s: &str) -> bool {
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(p) =
        crate::text::find_byte(&b[from..], |x| (x == b'/') | (x == b'(') | (x == 0xC2))
    {
        let i = from + p;
        if b[i] != 0xC2 || b.get(i + 1) == Some(&0xA9) {
            return true;
        }
        from = i + 1;
    }
    false
}

/// `(According to VNEconomy)`, `(Source: Reuters)`, `Theo VnExpress` as a whole block.
fn source_credit(s: &str) -> Option<String> {
    if s.len() > 120 {
        return None;
    }
    let inner = s
        .trim()
        .trim_start_matches('(')
        .trim_end_matches(['.', ' '])
        .trim_end_matches(')');
    // The prefixes below start with one of these letters.
    if !inner
        .chars()
        .next()
        .is_some_and(|c| first_lower_in(c, &['a', 's', 't', 'n', '来', '文', '來']))
    {
        return None;
    }
    let lower = crate::text::to_lower(inner);
    for prefix in [
        "according to ",
        "source: ",
        "source ",
        "theo ",
        "nguồn: ",
        "nguồn ",
        "来源:",
        "来源：",
        "文章来源:",
        "文章来源：",
        "來源:",
        "來源：",
    ] {
        if lower.starts_with(prefix)
            && s.trim().starts_with('(') == s.trim().trim_end_matches('.').ends_with(')')
        {
            let who = inner[prefix.len()..].trim();
            if !who.is_empty() && word_count(who) <= 5 {
                return Some(who.to_string());
            }
        }
    }
    None
}

/// The editor's line that closes Chinese news: `责任编辑：海屿`, `(責任編輯：王明)`.
fn is_editor_line(s: &str) -> bool {
    let t = s.trim_start_matches(['(', '（', '[', '【', ' ']);
    s.len() <= 80
        && ["责任编辑", "責任編輯", "编辑：", "编辑:", "編輯：", "編輯:"]
            .iter()
            .any(|p| t.starts_with(p))
}

/// `… Lang Son.-VNA` → (`… Lang Son.`, `VNA`).
fn split_trailing_credit(s: &str) -> Option<(String, String)> {
    // The credit is at most 8 letters: only the last 10 bytes can hold its ".-" (both
    // ASCII, so any index found is a character boundary of `s`).
    let from = s.len().saturating_sub(10);
    let idx = from + s.as_bytes()[from..].windows(2).rposition(|w| w == b".-")?;
    let who = &s[idx + 2..];
    let upper = who.chars().all(|c| c.is_ascii_uppercase()) && (2..=8).contains(&who.len());
    upper.then(|| (s[..=idx].to_string(), who.to_string()))
}

/// A bare personal name: 2–4 capitalised words, no digits or sentence punctuation.
fn is_name_line(s: &str) -> bool {
    // At most 40 characters, so at most 160 bytes: longer blocks (most) are not split.
    if s.len() > 160 {
        return false;
    }
    let words: Vec<&str> = s.split_whitespace().collect();
    (2..=4).contains(&words.len())
        && s.chars().count() <= 40
        && words.iter().all(|w| {
            w.chars().next().is_some_and(char::is_uppercase)
                && w.chars().all(crate::text::is_alphabetic)
        })
}

#[cfg(test)]
mod tests {
    /// `credit_marker` never misses a marker the lower-cased block holds: every
    /// character in place of one, two or three of a marker's characters, in blocks
    /// around it.
    #[test]
    fn credit_markers_are_found_in_any_case() {
        let markers = ["photo:", "ảnh:", "credit:"];
        for m in markers {
            let chars: Vec<char> = m.chars().collect();
            for i in 0..=0x10FFFFu32 {
                let Some(c) = char::from_u32(i) else { continue };
                // A character with no marker letter in its lower case cannot make one.
                if !c.to_lowercase().any(|l| "photoảnh:credit".contains(l)) {
                    continue;
                }
                for span in 1..=3 {
                    for at in 0..=chars.len().saturating_sub(span) {
                        let t: String = chars[..at]
                            .iter()
                            .chain(std::iter::once(&c))
                            .chain(&chars[at + span..])
                            .collect();
                        let lower = crate::text::to_lower(&t);
                        if markers.iter().any(|m| lower.contains(m)) {
                            assert!(credit_marker(&t).is_some(), "{t:?}");
                        }
                    }
                }
            }
        }
        for (t, want) in [
            ("A fire in Hanoi (PHOTO: VNA)", true),
            ("Lễ hội. ẢNH: Minh", true),
            ("ẢnH: Minh", true),
            ("CrEdIt: ESA", true),
            ("Ông Minh: tôi đồng ý", false),
            ("photo : no", false),
            ("", false),
        ] {
            assert_eq!(credit_marker(t).is_some(), want, "{t:?}");
        }
    }

    /// What `is_credited_caption` asked of the lower-cased block before it read the
    /// block as it is: the same answers on captions with every marker, in every case,
    /// repeated, before and after dots, brackets and Vietnamese text.
    #[test]
    fn credited_captions_read_as_their_lower_case() {
        fn reference(s: &str) -> bool {
            let t = s.trim_end();
            if !t.contains(':')
                || !["hoto:", "HOTO:", "nh:", "NH:", "redit:", "REDIT:"]
                    .iter()
                    .any(|m| t.contains(m))
            {
                return false;
            }
            let lower = crate::text::to_lower(t);
            let (at, credit) = match lower.rfind("photo:").or_else(|| lower.rfind("ảnh:")) {
                Some(i) => (i, false),
                None => match lower.rfind("credit:") {
                    Some(i) => (i, true),
                    None => return false,
                },
            };
            let tail = &lower[at..];
            tail.split_whitespace().nth(5).is_none()
                && (tail.ends_with(')') || !tail.contains('.'))
                && size_upto(t, MAX_CAPTION_WORDS + 1.0) <= MAX_CAPTION_WORDS
                && (!credit || word_count(&lower[..at]) >= 6)
        }
        let pieces = [
            "Photo:",
            "PHOTO:",
            "photo:",
            "Ảnh:",
            "ảnh:",
            "ẢNH:",
            "Credit:",
            "CREDIT:",
            "credit:",
            "Minh:",
            "nhanh:",
            "Đà Nẵng",
            "Hà Nội.",
            "ESA",
            "(Photo: VNA)",
            "VNA)",
            "(AP",
            "a",
            "the",
            "Tax",
            "equivalent.",
            "Lễ hội",
            "ĐỨC",
            "x.y",
            "5",
            " ",
            "  ",
            "\n",
        ];
        let mut rng = crate::text::TestRng::new();
        let mut credited = 0;
        for _ in 0..20_000 {
            let len = 1 + rng.next() % 14;
            let text: Vec<&str> = (0..len).map(|_| rng.pick(&pieces)).collect();
            let text = text.join(rng.pick(&["", " ", " ", " "]));
            let want = reference(&text);
            assert_eq!(is_credited_caption(&text), want, "{text:?}");
            credited += usize::from(want);
        }
        assert!(credited > 500, "{credited}");
    }

    #[test]
    fn drafts_round_trip_through_the_spill_encoding() {
        let mut decisions: Vec<Option<Decision>> = vec![None, Some(Decision::Body)];
        decisions.push(Some(Decision::Caption));
        decisions.extend(DROP_REASONS.iter().map(|&r| Some(Decision::Drop(r))));
        for (i, r) in DROP_REASONS.iter().enumerate() {
            assert_eq!(decision_code(Some(Decision::Drop(*r))), 3 + i as u8);
        }
        let draft = Draft {
            decisions,
            shortened: vec![(1, "cut".into()), (70_000, String::new())],
            credit: Some("VNEconomy".into()),
        };
        let mut buf = Vec::new();
        draft.encode(&mut Enc(&mut buf));
        let mut d = Dec(&buf);
        assert_eq!(Draft::decode(&mut d).unwrap(), draft);
        assert!(d.finish().is_ok());
        for cut in 0..buf.len() {
            assert!(
                Draft::decode(&mut Dec(&buf[..cut])).is_err(),
                "cut at {cut}"
            );
        }
        assert!(decision_of(3 + DROP_REASONS.len() as u8).is_none());
        assert!(decision_of(255).is_none());
    }

    use super::*;
    use crate::source::{Format, RawDoc};

    /// A plain-text page, parsed.
    fn text_article(text: &str) -> Article {
        Article::parse(RawDoc {
            source: "t.txt".into(),
            text: text.into(),
            format: Some(Format::Text),
            ..Default::default()
        })
    }

    fn clean(text: &str) -> CleanArticle {
        Cleaner::new(&CleanConfig::default()).clean(&text_article(text), None)
    }

    /// Paragraphs of one made-up story, for the tests that place the body among furniture.
    const STORY: [&str; 6] = [
            "The council voted on Tuesday to build the new bridge over the river, after a debate that lasted most of the winter.",
            "Supporters said the crossing would cut the drive to the hospital by twenty minutes for people living on the east bank.",
            "Work is due to start in the spring, and the mayor expects the first cars to use the bridge before the end of next year.",
            "Opponents said the money would be better spent on the ferry, which has carried people across the river for a century.",
            "The ferry company said it would keep running its boats until the bridge opens, and then sell two of its three vessels.",
            "A public meeting on the route of the approach roads will be held at the town hall on the first Monday of next month.",
    ];

    /// The story's headline, `before`, the blocks of `inside`, then `after`, cleaned.
    /// A page: the headline, then `before`, `inside` and `after` as paragraphs.
    fn page_around(before: &[&str], inside: &[&str], after: &[&str]) -> String {
        let head = ["Council approves the new river bridge"];
        [&head[..], before, inside, after].concat().join("\n\n")
    }

    fn clean_around(before: &[&str], inside: &[&str], after: &[&str]) -> CleanArticle {
        clean(&page_around(before, inside, after))
    }

    /// Line statistics of `article` and of other pages printing `others`.
    fn lines_with(article: &Article, others: &[&[&str]]) -> LineStats {
        let mut lines = LineStats::new(1);
        lines.add_document(article.blocks.iter().map(|b| b.text.as_str()));
        for page in others {
            lines.add_document(page.iter().copied());
        }
        lines
    }

    fn decisions(c: &CleanArticle) -> Vec<(&str, &str)> {
        c.blocks
            .iter()
            .map(|b| (b.text.as_str(), b.decision.label()))
            .collect()
    }

    #[test]
    fn navigation_and_comment_prompts_leave() {
        let c = clean("Uno\n\nNews\n\nHome / News\n\nA title for the story here\n\nThe first paragraph of the body tells the reader what happened at the meeting in Hanoi and why it matters to both countries today.\n\nLeave a Reply\n\nYour email address will not be published. Required fields are marked *");
        let d = decisions(&c);
        assert_eq!(d[0].1, "navigation");
        assert_eq!(d[2].1, "navigation");
        assert_eq!(d[3].1, "title");
        assert_eq!(d[4].1, "body");
        assert_eq!(d[5].1, "comment_prompt");
        assert_eq!(d[6].1, "comment_prompt");
    }

    #[test]
    fn caption_printed_twice_becomes_one_caption() {
        let c = clean("Title of the article here\n\nThe first paragraph of the body tells the reader what happened at the meeting in Hanoi and why it matters to both countries today.\n\nDelegates participate in the program.\nDelegates participate in the program.\n\nThe second paragraph of the body adds quotes from the minister and figures on trade and investment between the two sides this year.");
        let d = decisions(&c);
        assert_eq!(d[2], ("Delegates participate in the program.", "caption"));
        assert_eq!(d[3].1, "repeated");
        assert_eq!(c.body().count(), 2);
    }

    #[test]
    fn near_identical_caption_pair() {
        let c = clean("Title of the article here\n\nThe first paragraph of the body tells the reader what happened at the meeting in Hanoi and why it matters to both countries today.\n\nDelegates posed for commemorative photos.\nDelegates pose for commemorative photos.\n\nThe second paragraph of the body adds quotes from the minister and figures on trade and investment between the two sides this year.");
        assert_eq!(c.blocks[2].decision, Decision::Caption);
        assert_eq!(c.blocks[3].decision, Decision::Drop(DropReason::Repeated));
    }

    #[test]
    fn credits_and_end_byline() {
        let c = clean("Title of the article here\n\nThe first paragraph of the body tells the reader what happened at the meeting in Hanoi and why it matters to both countries today.\n\nThe second paragraph of the body adds quotes from the minister and figures on trade and investment between the two sides this year.\n\nIt ends in Lang Son after a long day of meetings between the two delegations and their many guests from Japan.-VNA\nVNA\n\n(According to VNEconomy)\n\nRosie Nguyen");
        // The first credit found wins; both lines leave the body.
        assert_eq!(c.credit.as_deref(), Some("VNEconomy"));
        let d = decisions(&c);
        assert_eq!(d[3].1, "body");
        assert!(d[3].0.ends_with("guests from Japan."));
        assert_eq!(d[4].1, "credit");
        assert_eq!(d[5].1, "credit");
        assert_eq!(d[6].1, "byline");
        assert_eq!(c.byline.as_deref(), Some("Rosie Nguyen"));
    }

    #[test]
    fn headline_echo_without_the_site_name() {
        let h = Headline::new("Homicide no longer a leading cause of death - latimes.com");
        assert!(h.echoed_by("Homicide no longer a leading cause of death"));
        assert!(h.echoed_by("HOMICIDE no longer a leading cause of death."));
        assert!(!h.echoed_by("latimes.com"));
        assert!(!h.echoed_by("Homicide no longer a leading cause of deaths"));
        let h =
            Headline::new("Disney+ glitches blamed on heavy demand by viewers - Los Angeles Times");
        assert!(!h.echoed_by("Los Angeles Times"));
        let h = Headline::new("港鐵農曆新年加強服務 - Yahoo!");
        assert!(h.echoed_by("港鐵農曆新年加強服務"));
        assert!(!h.echoed_by("Yahoo!"));
    }

    #[test]
    fn body_follows_the_headline_echo() {
        let body = &STORY[..3];
        let rules = [
            "Comments must stay on the topic of the page they appear under, and anything written in another language will be removed.",
            "Do not insult other readers, the journalists or the people named in the stories, and do not publish their private details.",
            "Advertising, links to other websites and repeated posting of one message are not allowed in any section of the forum.",
            "A moderator may edit or delete a comment at any time, before or after it is published, without giving the author a reason.",
            "Accounts that break these rules more than twice are closed, and their owners may not register again with another address.",
            "By posting you agree that the publisher may reuse your comment in print and online editions without paying any fee for it.",
        ];
        let mut page = vec![
            "Council approves the new river bridge | City Paper".to_string(),
            "Home".into(),
            "News".into(),
            "Council approves the new river bridge".into(),
            "12 March 2012".into(),
        ];
        page.extend(body.iter().map(|p| p.to_string()));
        // A rating widget and a comment form between them: short lines.
        page.extend(
            [
                "Rate this article",
                "Easy to read",
                "Agree",
                "Disagree",
                "Informative",
                "Agree",
                "Disagree",
                "Comments",
                "Add a comment",
                "Name",
                "Email",
                "Website",
                "Post",
                "Sort by",
                "Newest",
                "Oldest",
                "Forum rules",
            ]
            .map(String::from),
        );
        page.extend(rules.map(String::from));
        let c = clean(&page.join("\n\n"));
        assert!(c.body().map(|b| b.text.as_str()).eq(body.iter().copied()));
        assert_eq!(decisions(&c)[3].1, "title");
        // Without the echo, the longer run of rules would win.
        page[3] = "Photos".into();
        let c = clean(&page.join("\n\n"));
        assert!(c.body().map(|b| b.text.as_str()).eq(rules));
    }

    #[test]
    fn teasers_above_the_headline_leave_and_alt_text_does_not_cut() {
        let teasers = [
            "Storm closes the coast road again Drivers were told to use the inland route while crews cleared fallen trees.",
            "School board picks a new head Parents welcomed the choice after a search that took most of the year to finish.",
            "Harbour fees rise for the first time in a decade Fishermen said the increase would push some boats out of work.",
        ];
        let body = &STORY[..4];
        let mut page = vec!["Council approves the new river bridge | City Paper".to_string()];
        page.extend(teasers.map(String::from));
        page.push("Council approves the new river bridge".into());
        page.extend(body.iter().map(|p| p.to_string()));
        let c = clean(&page.join("\n\n"));
        assert!(c.body().map(|b| b.text.as_str()).eq(body.iter().copied()));
        // The same headline under the first paragraph, with a photo credit after it,
        // is an image inside the article: the paragraph before it stays.
        let mut page = vec!["Council approves the new river bridge | City Paper".to_string()];
        page.push(body[0].into());
        page.push("Council approves the new river bridge".into());
        page.push("Photo: Jane Doe".into());
        page.extend(body[1..].iter().map(|b| b.to_string()));
        let c = clean(&page.join("\n\n"));
        assert!(c.body().map(|b| b.text.as_str()).eq(body.iter().copied()));
    }

    #[test]
    fn body_goes_on_after_an_advert_break() {
        let paras = [
            "The council voted on Tuesday to build the new bridge over the river, after a debate that lasted most of the winter.",
            "Supporters said the crossing would cut the drive to the hospital by twenty minutes for people living on the east bank.",
            "Work is due to start in the spring, and the mayor expects the first cars to use the bridge before the end of next year.",
            "Opponents had argued that the money would be better spent on repairing the two old bridges in the centre of the town.",
            "The vote was close: eleven councillors were for the plan, nine against it, and one of them did not take part at all.",
        ];
        let page = format!(
            "Council approves the new river bridge\n\n{}\n\n{}\n\n{}\n\nAdvertisement\n\nContinue reading\n\n{}\n\n{}\n\nShare\n\nMore news",
            paras[0], paras[1], paras[2], paras[3], paras[4]
        );
        let article = text_article(&page);
        // Other pages of the site print the advert lines too.
        let lines = lines_with(
            &article,
            &[&["Advertisement", "Continue reading", "Share", "More news"]],
        );
        let c = Cleaner::new(&CleanConfig::default()).clean(&article, Some(&lines));
        assert!(c.body().map(|b| b.text.as_str()).eq(paras));
        // Alone, the page gives no sign that the two lines are an advert.
        let c = Cleaner::new(&CleanConfig::default()).clean(&article, None);
        assert!(c.body().count() >= 3);
    }

    #[test]
    fn given_line_keys_decide_as_keys_worked_out_here() {
        let furniture = ["Share: More", "Advertisement"];
        let article = text_article(&page_around(&STORY[..1], &furniture, &STORY[1..]));
        let notice = "Readers can send their questions to the newsroom at any time of day.";
        let lines = lines_with(
            &article,
            &[&["Share: More", "Advertisement", notice], &[notice]],
        );
        let cleaner = Cleaner::new(&CleanConfig::default());
        let keys: Vec<u64> = article
            .blocks
            .iter()
            .map(|b| LineStats::key(&b.text))
            .collect();
        let mut draft = cleaner.draft(&article);
        let expected = cleaner.finish(&article, draft.clone(), Some(&lines));
        assert!(expected.body().map(|b| b.text.as_str()).eq(STORY));
        let given = cleaner.finish_with_keys(&article, draft.clone(), Some(&lines), &keys);
        assert_eq!(given, expected);
        // Keys of another article's length are not used.
        let short = cleaner.finish_with_keys(&article, draft.clone(), Some(&lines), &keys[1..]);
        assert_eq!(short, expected);
        // A block the draft shortened is looked up by its new text, not its old key.
        let middle = 4;
        assert_eq!(article.blocks[middle].text, STORY[1]);
        draft.shortened.push((middle, notice.into()));
        let expected = cleaner.finish(&article, draft.clone(), Some(&lines));
        assert_eq!(decisions(&expected)[middle].1, "boilerplate");
        assert_eq!(
            cleaner.finish_with_keys(&article, draft, Some(&lines), &keys),
            expected
        );
    }

    #[test]
    fn lead_paragraph_before_a_photo_and_share_buttons_stays() {
        let inside = [
            "The old ferry at the landing (Photo: Jan Kowalski/AP)",
            "Share: More",
            "Advertisement",
        ];
        let article = text_article(&page_around(&STORY[..1], &inside, &STORY[1..]));
        let lines = lines_with(&article, &[&["Share: More", "Advertisement"]]);
        let c = Cleaner::new(&CleanConfig::default()).clean(&article, Some(&lines));
        assert!(
            c.body().map(|b| b.text.as_str()).eq(STORY),
            "{:?}",
            decisions(&c)
        );
        assert_eq!(decisions(&c)[2].1, "caption");
    }

    #[test]
    fn tags_leave_without_cutting_the_body() {
        let (before, after) = STORY.split_at(1);
        let c = clean_around(before, &["Tagi", "Polityka, Świat"], after);
        assert!(c.body().map(|b| b.text.as_str()).eq(STORY));
        assert_eq!(
            decisions(&c)[2..4],
            [("Tagi", "tags"), ("Polityka, Świat", "tags")]
        );
        // One line of tags; a sentence after a heading is no tag.
        let c = clean_around(
            &STORY,
            &["TAGI: kangur, atak, dziewczynka", "Tags:"],
            &["Comments are welcome, but please keep to the subject of the story."],
        );
        let d = decisions(&c);
        assert_eq!(d[7], ("TAGI: kangur, atak, dziewczynka", "tags"));
        assert_eq!(d[8].1, "tags");
        assert_ne!(d[9].1, "tags");
    }

    #[test]
    fn tag_lines() {
        for t in [
            "Polityka, Świat",
            "egzotyczne choroby łódź,",
            "Entertainment Latest News",
            "aktor antoni macierewicz donald tusk dziecko franciszek janusz palikot",
            "Reuters, Канада, аналогичный возраст, бассейн",
        ] {
            assert!(is_tag_line(t), "{t}");
        }
        for t in [
            "Przepraszamy, w tej chwili nie ma tagów.",
            "Ilość znaków do wpisania:",
            "The council voted on Tuesday to build the new bridge over the river",
            "Work starts in spring, the mayor says, and the first cars will cross next year",
        ] {
            assert!(!is_tag_line(t), "{t}");
        }
    }

    #[test]
    fn body_before_a_related_box_stays() {
        let (before, after) = STORY.split_at(2);
        let c = clean_around(
            before,
            &[
                "Related Articles",
                "Ferry fares to rise in May",
                "12 Jan 2012",
                "Bridge plan goes to public vote",
                "02 Dec 2011",
            ],
            after,
        );
        let body: Vec<&str> = c.body().map(|b| b.text.as_str()).collect();
        assert_eq!(body[..2], *before);
        assert!(after[1..].iter().all(|p| body.contains(p)));
        assert_eq!(decisions(&c)[3].1, "related");
    }

    #[test]
    fn related_box_inside_the_body_does_not_cut_it() {
        let c = clean("Council approves the new river bridge\n\nThe council voted on Tuesday to build the new bridge over the river, after a debate that lasted most of the winter.\n\nSupporters said the crossing would cut the drive to the hospital by twenty minutes for people living on the east bank.\n\nRelated articles\n\nOld bridge closed for repairs\n\n12 Jan 2012\n\nCity budget under pressure\n\n3 Feb 2012\n\nMayor promises new roads\n\n9 Feb 2012\n\nWork is due to start in the spring, and the mayor expects the first cars to use the bridge before the end of next year.\n\nOpponents had argued that the money would be better spent on repairing the two old bridges in the centre of the town.\n\nThe vote was close: eleven councillors were for the plan, nine against it, and one of them did not take part at all.");
        let body: Vec<&str> = c.body().map(|b| b.text.as_str()).collect();
        // The paragraph right after the last headline reads as its teaser and leaves
        // with the list; the paragraphs after it are body again.
        assert_eq!(body.len(), 4, "{body:?}");
        assert!(body[2].starts_with("Opponents"));
        assert!(decisions(&c)
            .iter()
            .any(|&(t, d)| t == "City budget under pressure" && d == "related"));
    }

    #[test]
    fn a_related_list_in_the_navigation_ends_at_the_headline() {
        // A list in the navigation above the article ends at the page's headline.
        let nav = [
            "Our newsroom covers the city council, the courts, the schools and the businesses of the river valley, with reporters in every town along the water.",
            "Sign up to get the morning briefing with the stories that matter to the valley delivered before breakfast every weekday of the year.",
            "Related",
            "Ferry fares to rise in May",
            "Council approves the new river bridge",
        ];
        let c = clean_around(&nav, &STORY, &[]);
        let body: Vec<&str> = c.body().map(|b| b.text.as_str()).collect();
        assert_eq!(body, STORY, "{:?}", decisions(&c));
    }

    #[test]
    fn related_headings_name_a_section() {
        for h in [
            "Related articles",
            "Most read in world news",
            "Trending in Entertainment",
            "More News from Sci-Tech",
            "More from The Sun",
        ] {
            assert!(is_related_heading(&normalise(h)), "{h}");
        }
        for t in [
            "Most read in the town were the notices about the new bridge",
            "Trending in a bad direction for the mayor",
            "Related to the council",
        ] {
            assert!(!is_related_heading(&normalise(t)), "{t}");
        }
    }

    #[test]
    fn comment_section_headings() {
        for h in [
            "Comments",
            "[ 167 comments ]",
            "Top Rated Comments",
            "| 13 Comment(s)",
            "Please Add Comments",
            "Komentarze (25)",
            "Комментарии: 0",
            "Все комментарии",
            "0 σχόλια",
            "网友评论",
            "Comments are now closed for this story",
        ] {
            assert!(is_comments_heading(h), "{h}");
        }
        for t in [
            "Comments from the minister were not available",
            "No comment",
            "Comment & Debate",
            "The minister declined to comment.",
        ] {
            assert!(!is_comments_heading(t), "{t}");
        }
    }

    #[test]
    fn long_dash_quote_is_prose_and_short_list_item_neutral() {
        let quote = "- To trywialny problem, zdarza się co roku. Wszystko jest w porządku, sprawy wróciły na swoje miejsce i nikt nie został aresztowany - powiedział rzecznik.";
        assert_eq!(block_score(quote, None, size_upto(quote, LONG_WORDS)), 2.0);
        let item = "- Best actor: Jean Dujardin";
        assert_eq!(block_score(item, None, size_upto(item, LONG_WORDS)), 0.0);
        assert!(is_photo_credit(
            "(Image credit: Tyvak Nano-Satellite Systems, Inc.)"
        ));
        assert!(is_photo_credit("Фото: ru.tsn.ua"));
        assert!(!is_photo_credit(
            "Photographers gathered outside the court on Monday."
        ));
    }

    #[test]
    fn rights_notices_are_footer_and_photo_credits_are_not() {
        for f in [
            "© 2019 Beachbody, LLC. All rights reserved. Beachbody is a trademark.",
            "Copyright 2012 The Gazette",
            "人 民 网 版 权 所 有, 未 经 书 面 授 权 禁 止 使 用",
            "本文版权归解放牛网所有，任何媒体、网站或个人未经本网协议授权不得转载",
            "Materiał chroniony prawem autorskim - wszelkie prawa zastrzeżone. Wszelkie prawa w tym Autora, Wydawcy i Producenta bazy danych zastrzeżone. Jakiekolwiek dalsze rozpowszechnianie artykułów zabronione.",
            "凡标注来源为“经济参考报”的所有文字、图片，版权均属新华社经济参考报社，未经书面授权，不得以任何形式发表使用。",
            "При использовании материала ссылка на Независимое информационное агентство обязательна!",
            "*Submitted comments are subject to moderation before being displayed.",
            "There's plenty more where that came from. Sign up for our newsletter today to get the free daily roundup.",
        ] {
            assert!(is_footer(f), "{f}");
        }
        for t in [
            "© John Brecher",
            "© РИА Новости. Андрей Александров | Купить иллюстрацию",
            "The company told the court on Monday that it had bought back last year, for a sum it would not disclose, what the contract called all rights reserved to the authors.",
            "The mayor said more than a thousand families had signed up for the new bus pass in its first week, twice as many as the council expected when it launched the scheme.",
        ] {
            assert!(!is_footer(t), "{t}");
        }
        let c = clean("Title of the article here\n\nThe first paragraph of the body tells the reader what happened at the meeting in Hanoi and why it matters to both countries today.\n\n© John Brecher\n\nThe second paragraph of the body adds quotes from the minister and figures on trade and investment between the two sides this year.\n\n© 2012 Hanoi Daily. All rights reserved.");
        let d = decisions(&c);
        assert_eq!(d[2].1, "credit");
        assert_eq!(d[3].1, "body");
        assert_eq!(d[4].1, "share");
    }

    #[test]
    fn captions_closed_by_an_agency_credit() {
        for caption in [
            "Vicente Aguiar loads garage door trims into his pickup truck outside a Home Depot in Hialeah, Fla. (AP Photo/Alan Diaz, File)",
            "A cyclist rides next to a blocked petrol plant in La Paz, Bolivia, November 19, 2019. © Reuters / David Mercado",
            "Rep. Ilhan Omar speaks at the Capitol on July 25, 2019.J. Scott Applewhite / AP file",
            "The boy underwent the treatment one year ago and is now hearing normally. THE CANADIAN PRESS/HO",
            "The simulated birth of a galaxy cluster (gas motion is shown in red). (Image credit: TNG Collaboration)",
        ] {
            assert!(ends_with_photo_credit(caption), "{caption}");
        }
        for prose in [
            "The minister said the talks would resume next week, according to a statement sent to Reuters.",
            "Prices rose 3% in the year to March (the fastest pace since 2012), the office said.",
            "The company, which makes parts for AP/AFP terminals, said sales rose in every region last year",
            "Readers can send their own photos (see the form below).",
        ] {
            assert!(!ends_with_photo_credit(prose), "{prose}");
        }
    }

    #[test]
    fn captions_closed_by_credit_or_photo_labels() {
        for caption in [
            "A reference habitation module for a crewed Mars mission compared to its hibernation-based equivalent. Credit: ESA",
            "Health officials in Inner Mongolia are attempting to control the spread of the plagueCredit: The Siberian Times",
            "Sklep Apple na Piątej Alei w Nowym Jorku, otwarty całą dobę (Fot. Apple)",
            "Lãnh đạo hai nước tại lễ đón chính thức ở Hà Nội. Ảnh: TTXVN",
        ] {
            assert!(
                is_credited_caption(caption) || ends_with_photo_credit(caption),
                "{caption}"
            );
        }
        for caption in [
            "Image caption Assange gestures with a thumbs up after he was arrested",
            "Media captionWho is Julian Assange?",
        ] {
            assert!(is_labelled_caption(caption), "{caption}");
        }
        // The short line before a labelled caption is its photo's credit.
        let (before, after) = STORY.split_at(2);
        let c = clean_around(
            before,
            &[
                "ဓာတ်ပုံ မူပိုင် Khin Mg Win",
                "Image caption A reporter outside the court",
            ],
            after,
        );
        assert_eq!(decisions(&c)[3].1, "credit");
        assert_eq!(decisions(&c)[4].1, "caption");
        // No panic on a multi-byte letter where the label would end.
        assert!(!is_labelled_caption("Image captioń"));
        assert!(!is_labelled_caption("Imagé caption of the day"));
        for label in [
            "Child tax credit: $2,000",
            "The council will raise the tax credit: families with two children get more.",
        ] {
            assert!(!is_credited_caption(label), "{label}");
        }
    }

    #[test]
    fn article_photo_after_a_related_box_does_not_swallow_the_next_paragraph() {
        let (before, after) = STORY[..4].split_at(2);
        let c = clean_around(
            before,
            &[
                "Most Popular",
                "Ten tools every home needs",
                "Jane Roe",
                "Why the ferry still matters",
                "John Doe",
                "The river at dawn, seen from the east bank, on March 2, 2012.Photograph: Ann Lee/Getty Images",
            ],
            after,
        );
        let body: Vec<&str> = c.body().map(|b| b.text.as_str()).collect();
        assert_eq!(body, [before, after].concat());
    }

    #[test]
    fn list_promised_by_a_colon_stays_in_the_body() {
        let intro = [
            "Homicide was not one of the nation's top 15 causes of death in 2010, according to new government statistics released on Wednesday.",
            "Overall, life expectancy inched upward, and heart disease and cancer still account for almost half of all deaths in the country.",
        ];
        let items = [
            "Heart disease",
            "Cancer",
            "Stroke",
            "Accidents (unintentional injuries)",
        ];
        let outro = "The infant mortality rate dropped by almost four per cent from 2009 to 2010, the centre said in the same report on Wednesday.";
        let mut page = vec!["Homicide no longer a leading cause of death".to_string()];
        page.extend(intro.map(String::from));
        page.push("The leading causes of death are:".into());
        page.extend(items.map(String::from));
        page.push(outro.into());
        page.extend(["Share this", "Return to the blog", "Most read"].map(String::from));
        let c = clean(&page.join("\n\n"));
        let body: Vec<&str> = c.body().map(|b| b.text.as_str()).collect();
        let mut want: Vec<&str> = intro.to_vec();
        want.push("The leading causes of death are:");
        want.extend(items);
        want.push(outro);
        assert_eq!(body, want);

        // "Related coverage from …:" leads other stories in, not a list of the article's.
        let mut page = vec!["Homicide no longer a leading cause of death".to_string()];
        page.extend(intro.map(String::from));
        page.push("Related coverage from our health desk:".into());
        page.extend(["Soda tax could prevent deaths", "Flu season starts early"].map(String::from));
        let c = clean(&page.join("\n\n"));
        assert!(c.body().map(|b| b.text.as_str()).eq(intro));
    }

    #[test]
    fn dated_headlines_in_a_row_are_other_stories() {
        let body = &STORY[..2];
        let list = [
            "Concert for the flood victims on Sunday (09/04/2013)",
            "New exhibition opens at the city museum (09/04/2013)",
            "Theatre season ends with a comedy, 8 April 2013",
        ];
        let mut page = vec![
            "Council approves the new river bridge".to_string(),
            "12 March 2013".into(),
        ];
        page.extend(body.iter().map(|p| p.to_string()));
        page.extend(list.map(String::from));
        let c = clean(&page.join("\n\n"));
        assert!(c.body().map(|b| b.text.as_str()).eq(body.iter().copied()));
        assert!(decisions(&c)[4..].iter().all(|&(_, d)| d == "related"));
        assert!(ends_with_date(list[0]) && ends_with_date(list[2]));
        // Two dated lines are not yet a list, and a year alone is no date.
        assert!(!ends_with_date("The company was founded in 1998"));
        let mut decisions = vec![None; 2];
        mark_dated_headlines(&list[..2], &mut decisions);
        assert!(decisions.iter().all(Option::is_none));
        let mut decisions = vec![None; 3];
        mark_dated_headlines(&list, &mut decisions);
        assert!(decisions
            .iter()
            .all(|d| *d == Some(Decision::Drop(DropReason::Related))));
    }

    #[test]
    fn chinese_source_and_editor_lines_are_credits() {
        assert_eq!(source_credit("文章来源: 人民网").as_deref(), Some("人民网"));
        assert!(is_editor_line("责任编辑: 海屿"));
        assert!(is_editor_line("(責任編輯：王明)"));
        assert!(!is_editor_line(
            "编辑部的同事们都认为这个决定是正确的，并且会在下周公布更多细节。"
        ));
    }

    #[test]
    fn related_list_after_see_more() {
        let c = clean("Title of the article here\n\nThe first paragraph of the body tells the reader what happened at the meeting in Hanoi and why it matters to both countries today.\n\nThe second paragraph of the body adds quotes from the minister and figures on trade and investment between the two sides this year.\n\nThe third paragraph of the body closes the story with the plans the two delegations agreed to pursue over the coming months together.\n\nSee more\n\nPM meets with leaders\n\nA teaser about another story.");
        let d = decisions(&c);
        assert_eq!(d[3].1, "body");
        assert_eq!(d[4].1, "related");
        assert_eq!(d[5].1, "related");
        assert_eq!(d[6].1, "related");
    }

    #[test]
    fn rights_phrases_have_the_letters_is_footer_looks_for_first() {
        for p in RIGHTS_PHRASES {
            for p in case_forms(p) {
                assert!(may_hold_rights_phrase(&p), "{p}");
                // Any ASCII case.
                assert!(may_hold_rights_phrase(&p.to_ascii_lowercase()), "{p}");
                assert!(may_hold_rights_phrase(&p.to_ascii_uppercase()), "{p}");
            }
        }
        assert!(!may_hold_rights_phrase("Heavy snow, seven degrees"));
        assert!(may_hold_rights_phrase("VORBEHALTEN"));
    }

    #[test]
    fn shortcuts_answer_like_the_full_tests() {
        // near_same: as many words (at least four), one of them different.
        assert!(near_same(
            "Delegates pose for photos",
            "Delegates posed for photos"
        ));
        assert!(!near_same(
            "Delegates pose for photos",
            "Delegates posed for photo"
        ));
        assert!(!near_same("one two three", "one two four"));
        assert!(!near_same("a b c d", "a b c d e"));
        // The credit's ".-" within the last ten bytes, and only the last one counts.
        assert_eq!(
            split_trailing_credit("It ends in Lang Son.-VNA"),
            Some(("It ends in Lang Son.".into(), "VNA".into()))
        );
        assert_eq!(
            split_trailing_credit("x.-ABCDEFGH").map(|p| p.1),
            Some("ABCDEFGH".into())
        );
        assert_eq!(split_trailing_credit("x.-ABCDEFGHI"), None);
        assert_eq!(split_trailing_credit("a.-VNA b.-vna"), None);
        // Marked letters, counted up to what is asked.
        assert!(!has_marked_letters("Москва, Αθήνα, café", 1));
        assert!(has_marked_letters("Đà Nẵng", 2));
        assert!(!has_marked_letters("Đa Nang", 2));
        assert!(has_marked_letters("東京", 2) && has_marked_letters("", 0));
        for (c, letters) in [('P', "p"), ('Ả', "ả"), ('Ф', "ф"), ('İ', "i"), ('©', "©")] {
            assert!(
                first_lower_in(c, &letters.chars().collect::<Vec<_>>()),
                "{c}"
            );
        }
    }

    #[test]
    fn doubled_headline_line_starts_related_tail() {
        assert!(is_doubled_line(
            "120 Japanese Enterprises Invest 120 Japanese Enterprises Invest"
        ));
        assert!(!is_doubled_line("the the"));
    }

    #[test]
    fn headline_alt_text_and_photo_credit() {
        let c = clean("Local Cooperation Pillar\n\nThe first paragraph of the body tells the reader what happened at the meeting in Hanoi and why it matters to both countries today.\n\nLocal Cooperation Pillar\nPhoto: Le Hong Nhung\n\nThe second paragraph of the body adds quotes from the minister and figures on trade and investment between the two sides this year.");
        let d = decisions(&c);
        assert_eq!(d[2].1, "title");
        assert_eq!(d[3].1, "credit");
        assert_eq!(d[4].1, "body");
    }

    #[test]
    fn near_same_agrees_with_its_definition() {
        let plain = |a: &str, b: &str| {
            let (x, y): (Vec<&str>, Vec<&str>) = (a.split(' ').collect(), b.split(' ').collect());
            a == b
                || (x.len() >= 4
                    && x.len() == y.len()
                    && x.iter().zip(&y).filter(|(p, q)| p != q).count() == 1)
        };
        let words = ["a", "ab", "b", "", "Đà", "x y"];
        let mut rng = crate::text::TestRng::new();
        let mut next = || rng.next();
        for _ in 0..20_000 {
            let n = (next() % 7) as usize;
            let a: Vec<&str> = (0..n)
                .map(|_| words[next() as usize % words.len()])
                .collect();
            let mut b = a.clone();
            for _ in 0..next() % 3 {
                if !b.is_empty() {
                    let k = next() as usize % b.len();
                    b[k] = words[next() as usize % words.len()];
                }
            }
            if next() % 4 == 0 {
                b.push("ab");
            }
            let (a, b) = (a.join(" "), b.join(" "));
            assert_eq!(near_same(&a, &b), plain(&a, &b), "{a:?} {b:?}");
        }
    }

    /// Every character of the plane, alone, between words and doubled: the lead-byte
    /// shortcuts of `size_upto` agree with the character tests.
    #[test]
    fn size_upto_agrees_with_a_plain_count_on_every_character() {
        for i in 0..0x1_0000u32 {
            let Some(c) = char::from_u32(i) else { continue };
            for s in [format!("{c}"), format!("ab {c} c"), format!("{c}{c}x,{c}")] {
                for cap in [1.0, 2.0, 1e9] {
                    assert_eq!(size_upto(&s, cap), plain_size(&s, cap), "{i:#x} {cap}");
                }
            }
        }
    }

    /// `size_upto` one character at a time, comparing with the cap at every word start.
    fn plain_size(s: &str, cap: f64) -> f64 {
        let (mut words, mut cjk, mut in_word) = (0usize, 0usize, false);
        for c in s.chars() {
            if crate::article::is_cjk(c) {
                cjk += 1;
                in_word = false;
            } else if is_word_char(c) {
                if in_word {
                    continue;
                }
                in_word = true;
                words += 1;
            } else {
                in_word = false;
                continue;
            }
            if words as f64 + cjk as f64 / 1.7 >= cap {
                break;
            }
        }
        words as f64 + cjk as f64 / 1.7
    }

    #[test]
    fn size_upto_agrees_with_a_plain_count() {
        let plain = plain_size;
        let parts = [
            "word",
            " ",
            "  ",
            "a_b",
            "9",
            ",",
            "Đà",
            "東",
            "ab12",
            "-",
            "\n",
            "Москва",
            "Αθήνα",
            "·",
            "\u{a0}",
            "ż",
            "—",
            "ف",
        ];
        let mut rng = crate::text::TestRng::new();
        for n in 0..3000 {
            let s: String = (0..n % 200).map(|_| rng.pick(&parts)).collect();
            // Mostly ASCII, as most text is, and all ASCII.
            let ascii = s.replace(|c: char| !c.is_ascii(), "x");
            for s in [&s, &ascii] {
                for cap in [1.0, 4.0, 12.0, 20.0, 41.0, 61.0, 1e9] {
                    assert_eq!(size_upto(s, cap), plain(s, cap), "{s:?} {cap}");
                }
            }
        }
    }
}
