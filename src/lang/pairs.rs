//! Languages through an article: the document's language, one per body paragraph, and the
//! captions in another language, which leave the body, paired with their translations
//! where they have one.

use super::detect::{Evidence, RELIABLE_CONTENT, RELIABLE_MARGIN};
use super::segment::split_line;
use super::{Annotated, LangId, UND};
use crate::article::word_count;
use crate::clean::{CleanArticle, Decision};
use crate::release::{Caption, ParallelPair};

/// Longest block (words) taken for one side of a caption pair.
const PAIR_MAX_WORDS: usize = 40;
/// Longest block (words) that leaves the body as a lone foreign caption.
const CAPTION_MAX_WORDS: usize = 30;
/// A lone block in another language on statistics alone leaves the body only with this
/// lead (nats) and this many real words.
const LONE_MARGIN: f32 = 2.0 * RELIABLE_MARGIN;
const LONE_CONTENT: usize = 3;

/// What one block says.
enum Said<'a> {
    /// Not body or caption: ignored.
    Skip,
    Plain(Evidence),
    /// A one-line bilingual form, split into its parts.
    Parts(Vec<(&'a str, Evidence)>),
}

impl LangId {
    /// Document language, paragraph languages, captions and caption pairs.
    ///
    /// A short block in another language than the document next to a block of plausible
    /// length in the document's language is a caption and its translation: both leave the
    /// body as a parallel pair. Script or letter evidence suffices for that; on statistics
    /// alone the two must also share a number or a name. One-line forms ("vi / en",
    /// "en (vi)") are a pair by themselves. A short block plainly in another script or
    /// alphabet, or an unmistakable standalone sentence in another language, leaves the
    /// body alone. Everything else stays, with its language: a phrase or a line-up of
    /// foreign names inside English prose is body.
    pub fn annotate(&self, article: &mut CleanArticle) -> Annotated {
        self.annotate_with(article, false)
    }

    /// [`annotate`](LangId::annotate), moving each paragraph's text out of its block (left
    /// empty) instead of copying it: for a caller that reads only the blocks' decisions
    /// afterwards. A huge article is then held once, not twice.
    pub fn annotate_taking_body(&self, article: &mut CleanArticle) -> Annotated {
        self.annotate_with(article, true)
    }

    fn annotate_with(&self, article: &mut CleanArticle, take_body: bool) -> Annotated {
        let said: Vec<Said> = article
            .blocks
            .iter()
            .map(|b| match b.decision {
                Decision::Body | Decision::Caption => match split_line(&self.det, &b.text) {
                    Some(parts) => {
                        Said::Parts(parts.into_iter().map(|u| (u.text, u.evidence)).collect())
                    }
                    None => Said::Plain(self.det.evidence(&b.text)),
                },
                Decision::Drop(_) => Said::Skip,
            })
            .collect();
        let doc_lang = self.document_language(article, &said);
        // A one-line form whose parts come out in one language once the document is known
        // (kanji-only next to kana in a Japanese article) is one block after all.
        let said: Vec<Said> = said
            .into_iter()
            .zip(&article.blocks)
            .map(|(s, b)| match s {
                Said::Parts(parts) => {
                    let first = parts.first().map(|p| block_language(&p.1, doc_lang));
                    if parts
                        .iter()
                        .all(|p| Some(block_language(&p.1, doc_lang)) == first)
                    {
                        Said::Plain(self.det.evidence(&b.text))
                    } else {
                        Said::Parts(parts)
                    }
                }
                other => other,
            })
            .collect();

        // Each block's language (see `block_language`).
        let langs: Vec<&'static str> = said
            .iter()
            .map(|s| match s {
                Said::Plain(e) => block_language(e, doc_lang),
                // An unpaired one-line form counts as its longest part.
                Said::Parts(parts) => parts
                    .iter()
                    .max_by_key(|p| p.0.len())
                    .map_or(UND, |p| block_language(&p.1, doc_lang)),
                Said::Skip => UND,
            })
            .collect();

        let n = article.blocks.len();
        // New decisions; `said` borrows the block texts, so they are applied at the end.
        let mut decision: Vec<Decision> = article.blocks.iter().map(|b| b.decision).collect();
        let candidate = |i: usize| {
            matches!(
                article.blocks[i].decision,
                Decision::Body | Decision::Caption
            ) && word_count(&article.blocks[i].text) <= PAIR_MAX_WORDS
        };
        // A block that can be the foreign side: clearly in a language not the document's.
        let foreign = |i: usize| -> Option<&Evidence> {
            match &said[i] {
                Said::Plain(e)
                    if doc_lang != UND
                        && e.reliable()
                        && e.best() != doc_lang
                        && e.best() != UND
                        && candidate(i) =>
                {
                    Some(e)
                }
                _ => None,
            }
        };
        // Whether block `j` can be the translation of foreign block `i`.
        let translates = |i: usize, j: usize, src: &Evidence| -> bool {
            let Said::Plain(t) = &said[j] else {
                return false;
            };
            let a = &article.blocks[i].text;
            let b = &article.blocks[j].text;
            candidate(j)
                && (langs[j] == doc_lang || (!t.reliable() && t.best() != src.best()))
                && foreign(j).is_none()
                && plausible_ratio(a, b)
                && (src.script || shares_anchor(a, b))
        };

        let mut parallel = Vec::new();
        let mut captions: Vec<Caption> = Vec::new();
        let add_caption = |captions: &mut Vec<Caption>, text: &str, lang: &str| {
            if !captions.iter().any(|c| c.text == text) {
                captions.push(Caption {
                    text: text.to_string(),
                    lang: lang.to_string(),
                });
            }
        };
        let mut caption_lang: Vec<Option<&'static str>> = vec![None; n];
        let mut i = 0;
        while i < n {
            if let Said::Parts(parts) = &said[i] {
                if let Some(pair) = one_line_pair(parts, doc_lang) {
                    decision[i] = Decision::Caption;
                    for (text, e) in parts {
                        add_caption(&mut captions, text, block_language(e, doc_lang));
                    }
                    parallel.push(pair);
                    caption_lang[i] = Some(UND); // its parts are the captions
                }
                i += 1;
                continue;
            }
            let Some(src) = foreign(i) else {
                i += 1;
                continue;
            };
            // Caption first, translation after (the common layout) ...
            let mut partner = (i + 1 < n && translates(i, i + 1, src)).then_some(i + 1);
            // ... or translation first, when the block before is short and unpaired.
            if partner.is_none()
                && i > 0
                && caption_lang[i - 1].is_none()
                && matches!(decision[i - 1], Decision::Body | Decision::Caption)
                && word_count(&article.blocks[i - 1].text) <= CAPTION_MAX_WORDS
                && translates(i, i - 1, src)
            {
                partner = Some(i - 1);
            }
            if let Some(j) = partner {
                for k in [i, j] {
                    decision[k] = Decision::Caption;
                }
                caption_lang[i] = Some(src.best());
                caption_lang[j] = Some(doc_lang);
                parallel.push(ParallelPair {
                    src_lang: src.best().to_string(),
                    src: article.blocks[i].text.clone(),
                    tgt_lang: doc_lang.to_string(),
                    tgt: article.blocks[j].text.clone(),
                });
                i = i.max(j) + 1;
                continue;
            }
            // Alone: plainly in another script or alphabet; or, on statistics, an
            // unmistakable standalone sentence ("Toan canh hoi nghi."). A phrase set apart
            // inside a sentence ("joie de vivre" between "... the" and "so evident ...")
            // and line-ups of foreign names stay in the body.
            let standalone = || {
                let text = article.blocks[i].text.trim();
                let prev_ends = i == 0
                    || article.blocks[i - 1]
                        .text
                        .trim_end()
                        .ends_with(['.', '!', '?', '"', '”', ')', ':', '。']);
                let next_starts_low = article.blocks.get(i + 1).is_some_and(|b| {
                    b.text
                        .trim_start()
                        .chars()
                        .next()
                        .is_some_and(char::is_lowercase)
                });
                text.chars()
                    .next()
                    .is_some_and(|c| c.is_uppercase() || c.is_numeric())
                    && prev_ends
                    && !next_starts_low
            };
            let statistical =
                src.content >= LONE_CONTENT && src.margin() >= LONE_MARGIN && standalone();
            if (src.script || statistical)
                && word_count(&article.blocks[i].text) <= CAPTION_MAX_WORDS
            {
                decision[i] = Decision::Caption;
                caption_lang[i] = Some(src.best());
            }
            i += 1;
        }

        // The clean stage marks a short line beside a caption in another script as its
        // translation, for this stage to pair. Where no pair came of it (the caption was a
        // one-line pair by itself, or they do not translate each other), a line in the
        // document's language goes back to the body.
        for k in 0..n {
            let next_to_foreign = [k.wrapping_sub(1), k + 1]
                .into_iter()
                .any(|j| j < n && (matches!(&said[j], Said::Parts(_)) || foreign(j).is_some()));
            if article.blocks[k].decision == Decision::Caption
                && caption_lang[k].is_none()
                && langs[k] == doc_lang
                && matches!(&said[k], Said::Plain(_))
                && next_to_foreign
            {
                decision[k] = Decision::Body;
            }
        }

        drop(said);
        let mut paragraphs = Vec::new();
        for (k, b) in article.blocks.iter_mut().enumerate() {
            let lang = langs[k];
            match (decision[k], caption_lang[k]) {
                (Decision::Body, _) => {
                    let text = if take_body {
                        std::mem::take(&mut b.text)
                    } else {
                        b.text.clone()
                    };
                    paragraphs.push((text, lang.to_string()))
                }
                (Decision::Caption, Some(UND)) => {}
                (Decision::Caption, Some(l)) => add_caption(&mut captions, &b.text, l),
                (Decision::Caption, None) => add_caption(&mut captions, &b.text, lang),
                (Decision::Drop(_), _) => {}
            }
        }
        for (b, d) in article.blocks.iter_mut().zip(decision) {
            b.decision = d;
        }
        Annotated {
            lang: doc_lang.to_string(),
            paragraphs,
            captions,
            parallel,
        }
    }

    /// The language most of the body's letters are clearly in, so a few foreign
    /// captions cannot outvote it; failing that, the whole body's language when it leads
    /// clearly on a few real words; else `und` (a table of figures, a list of names).
    fn document_language(&self, article: &CleanArticle, said: &[Said]) -> &'static str {
        let reliable = || {
            article
                .blocks
                .iter()
                .zip(said)
                .filter_map(|(b, s)| match s {
                    Said::Plain(e) if b.decision == Decision::Body && e.reliable() => {
                        Some((b, e.best()))
                    }
                    // A paragraph in a language detection does not know votes for none:
                    // a Polish article is not German for its one German-looking paragraph.
                    Said::Plain(e) if b.decision == Decision::Body && e.foreign => Some((b, UND)),
                    _ => None,
                })
        };
        if let Some((_, first)) = reliable().next() {
            // One language wins whatever the lengths: letters are counted only when the
            // blocks disagree, as counting them costs a pass over the whole text.
            if reliable().all(|(_, lang)| lang == first) {
                return first;
            }
            let mut weight: Vec<(&'static str, usize)> = Vec::new();
            for (b, lang) in reliable() {
                let w = b.text.chars().filter(|c| c.is_alphabetic()).count();
                match weight.iter_mut().find(|(l, _)| *l == lang) {
                    Some(entry) => entry.1 += w,
                    None => weight.push((lang, w)),
                }
            }
            if let Some((lang, _)) = weight.iter().max_by_key(|(_, w)| *w) {
                return lang;
            }
        }
        let body: Vec<&str> = article.body().map(|b| b.text.as_str()).collect();
        let e = self.det.evidence(&body.join("\n"));
        // A clear lead on a few real words is enough here, however many names surround them
        // ("last year, Reserve Bank Governor Spencer Russell said").
        if e.reliable() || (e.content >= RELIABLE_CONTENT && e.margin() >= RELIABLE_MARGIN) {
            e.best()
        } else {
            UND
        }
    }
}

/// A block's language given the document's: its own when clear; else the document's
/// wherever that is a candidate at all (a line-up of names, a one-word heading, a French
/// phrase in italics carry too little to label a paragraph apart from its article); else
/// its own best guess when it has real words, and `und` when it has hardly any ("RAM 1GB"
/// in a Japanese article).
fn block_language(e: &Evidence, doc_lang: &'static str) -> &'static str {
    if e.reliable() || doc_lang == UND {
        e.best()
    } else if e.has(doc_lang) {
        doc_lang
    } else if e.content >= RELIABLE_CONTENT {
        e.best()
    } else {
        UND
    }
}

/// The pair a one-line bilingual block gives: the part not in the document's language
/// is the source, the document-language part its translation (in reading order when
/// neither is in the document's language).
fn one_line_pair(parts: &[(&str, Evidence)], doc_lang: &'static str) -> Option<ParallelPair> {
    let lang = |p: &(&str, Evidence)| block_language(&p.1, doc_lang);
    let first = parts.first()?;
    let other = parts.iter().find(|p| lang(p) != lang(first))?;
    let (src, tgt) = if lang(first) == doc_lang {
        (other, first)
    } else {
        (first, other)
    };
    if lang(src) == UND || lang(tgt) == UND {
        return None; // a product code beside its Japanese name is no translation pair
    }
    // A part that is unsure on its own needs a number or name in common, as for two lines.
    let both_clear = src.1.reliable() && tgt.1.reliable();
    if !both_clear && !shares_anchor(src.0, tgt.0) {
        return None;
    }
    plausible_ratio(src.0, tgt.0).then(|| ParallelPair {
        src_lang: lang(src).to_string(),
        src: src.0.to_string(),
        tgt_lang: lang(tgt).to_string(),
        tgt: tgt.0.to_string(),
    })
}

/// Numbers and capitalised names (3+ letters) both lines print: what a translation keeps.
fn shares_anchor(a: &str, b: &str) -> bool {
    let anchors = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| {
                w.chars().all(|c| c.is_ascii_digit()) && !w.is_empty()
                    || (w.chars().count() >= 3 && w.chars().next().is_some_and(char::is_uppercase))
            })
            .map(str::to_string)
            .collect()
    };
    let first = anchors(a);
    anchors(b).iter().any(|w| first.contains(w))
}

/// A translation is rarely under 0.4 or over 2.5 times the length of its source. Length
/// counts a CJK character as two letters, since it carries about a syllable or a word.
fn plausible_ratio(a: &str, b: &str) -> bool {
    let len = |s: &str| -> f64 {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| if is_wide(c) { 2.0 } else { 1.0 })
            .sum()
    };
    let (la, lb) = (len(a), len(b));
    la > 0.0 && lb > 0.0 && (0.4..=2.5).contains(&(lb / la))
}

fn is_wide(c: char) -> bool {
    matches!(
        super::script::script_of(c),
        Some(
            super::script::Script::Han
                | super::script::Script::Kana
                | super::script::Script::Hangul
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::article::Article;
    use crate::clean::Cleaner;
    use crate::config::{CleanConfig, LangConfig};
    use crate::source::{Format, RawDoc};

    fn id() -> LangId {
        LangId::new(&LangConfig::default())
    }

    fn annotate(text: &str) -> (CleanArticle, Annotated) {
        let doc = RawDoc {
            source: "t.txt".into(),
            format: Some(Format::Text),
            text: text.into(),
            ..Default::default()
        };
        let mut c = Cleaner::new(&CleanConfig::default()).clean(&Article::parse(doc), None);
        let a = id().annotate(&mut c);
        (c, a)
    }

    /// Annotate blocks that the clean stage all left in the body (no clean-stage heuristics
    /// in the way).
    fn annotate_blocks(blocks: &[&str]) -> (CleanArticle, Annotated) {
        let mut c = CleanArticle {
            blocks: blocks
                .iter()
                .map(|t| crate::clean::CleanBlock {
                    text: t.to_string(),
                    decision: Decision::Body,
                })
                .collect(),
            ..Default::default()
        };
        let a = id().annotate(&mut c);
        (c, a)
    }

    #[test]
    fn taking_the_body_gives_the_same_annotation_and_empties_only_body_blocks() {
        let text = format!(
            "{INTRO}Toàn cảnh hội nghị.\n\nOverview of the conference.{OUTRO}\n\nLeave a Reply"
        );
        let doc = RawDoc {
            source: "t.txt".into(),
            format: Some(Format::Text),
            text,
            ..Default::default()
        };
        let copied = Cleaner::new(&CleanConfig::default()).clean(&Article::parse(doc), None);
        let mut c = copied.clone();
        let want = id().annotate(&mut c);
        let mut t = copied.clone();
        let got = id().annotate_taking_body(&mut t);
        assert_eq!(got, want);
        assert!(!want.paragraphs.is_empty() && !want.captions.is_empty());
        for (taken, kept) in t.blocks.iter().zip(&c.blocks) {
            assert_eq!(taken.decision, kept.decision);
            let moved = taken.decision == Decision::Body;
            assert_eq!(
                taken.text.is_empty(),
                moved || kept.text.is_empty(),
                "{kept:?}"
            );
        }
    }

    const INTRO: &str = "Vietnam and Japan meet again\n\nOn November 2, 2023, the Ministry of Foreign Affairs organized the conference in Hanoi with many delegates from both countries.\n\n";
    const OUTRO: &str = "\n\nThe two sides have achieved deep political trust and effective cooperation in all fields, the minister said at the event.";

    #[test]
    fn paragraphs_in_an_unknown_language_outvote_a_known_one() {
        let pl = "Policja zatrzymała mężczyznę, który w piątek wieczorem ukradł samochód \
                  sprzed sklepu przy ulicy Głównej. Sprawca usłyszał już zarzuty i trafił do \
                  aresztu na trzy miesiące, a jego wspólnik jest poszukiwany przez śledczych.";
        let de = "Die Polizei hat den Mann am Freitag festgenommen.";
        let (_, a) = annotate_blocks(&[pl, de, pl]);
        assert_eq!(a.lang, UND);
    }

    #[test]
    fn caption_pair_leaves_body_as_parallel() {
        let (_, a) = annotate(&format!(
            "{INTRO}Hội nghị đã thu hút đông đảo đại biểu trong và ngoài nước tham dự.\n\nThe conference attracted a large number of domestic and foreign delegates to attend.{OUTRO}"
        ));
        assert_eq!(a.lang, "en");
        assert_eq!(a.parallel.len(), 1);
        assert_eq!(a.parallel[0].src_lang, "vi");
        assert_eq!(a.parallel[0].tgt_lang, "en");
        assert_eq!(a.paragraphs.len(), 2);
        assert!(a
            .paragraphs
            .iter()
            .all(|(t, l)| l == "en" && !t.contains("Hội nghị")));
        assert_eq!(a.captions.len(), 2);
        assert_eq!(a.captions[0].lang, "vi");
    }

    #[test]
    fn japanese_caption_pair_and_translation_first() {
        let (_, a) = annotate(&format!(
            "{INTRO}He repeated his question.\n\n彼は質問を繰り返しました。{OUTRO}"
        ));
        assert_eq!(a.parallel.len(), 1, "{a:?}");
        assert_eq!(a.parallel[0].src_lang, "ja");
        assert_eq!(a.parallel[0].tgt, "He repeated his question.");
        assert_eq!(a.paragraphs.len(), 2);
    }

    #[test]
    fn vietnamese_without_diacritics_pairs_with_an_anchor() {
        let (_, a) = annotate(&format!(
            "{INTRO}Toan canh hoi nghi Gap go Nhat Ban 2023 tai Ha Noi.\n\nOverview of the Meet Japan 2023 conference in Hanoi.{OUTRO}"
        ));
        assert_eq!(a.parallel.len(), 1, "{a:?}");
        assert_eq!(a.parallel[0].src_lang, "vi");
    }

    #[test]
    fn one_line_forms_become_pairs() {
        let (c, a) = annotate(&format!(
            "{INTRO}Hội nghị đã thu hút đông đảo đại biểu trong và ngoài nước tham dự. / The conference attracted many delegates from home and abroad.{OUTRO}"
        ));
        assert_eq!(a.parallel.len(), 1, "{a:?}");
        let p = &a.parallel[0];
        assert_eq!((p.src_lang.as_str(), p.tgt_lang.as_str()), ("vi", "en"));
        assert!(p.src.starts_with("Hội nghị") && p.tgt.starts_with("The conference"));
        assert!(c.blocks.iter().any(|b| b.decision == Decision::Caption));
        assert!(a.paragraphs.iter().all(|(t, _)| !t.contains("Hội nghị")));
        assert_eq!(a.captions.len(), 2, "{:?}", a.captions);

        let (_, a) = annotate(&format!(
            "{INTRO}Settling down in South Korea was a lot more challenging than I had expected. (Việc ổn định cuộc sống ở đây khó khăn hơn nhiều so với tôi tưởng tượng.){OUTRO}"
        ));
        assert_eq!(a.parallel.len(), 1, "{a:?}");
        assert_eq!(a.parallel[0].src_lang, "vi");
        assert!(a.parallel[0].tgt.starts_with("Settling down"));
    }

    #[test]
    fn lone_foreign_caption_leaves_body() {
        let (_, a) = annotate(&format!("{INTRO}Toàn cảnh hội nghị.{OUTRO}"));
        assert!(a.parallel.is_empty());
        assert_eq!(a.captions.len(), 1);
        assert_eq!(a.captions[0].lang, "vi");
        assert_eq!(a.paragraphs.len(), 2);
    }

    #[test]
    fn name_heavy_english_and_foreign_line_ups_stay_in_the_body() {
        let text = "Wasps beat Leicester in the cup\n\nLeicester coach John Wells saluted the outstanding work of Graham Rowntree and Julian White, who were magnificent up front.\n\nVan Gisbergen; Lewsey, Erinle, Abbott, Voyce; King, Dawson; Dowd, Greening, Green; Shaw, Birkett; Worsley, O'Connor, Dallaglio (capt).\n\nReplacements: Gotting, McKenzie, Lock, Hart, Biljon, Brooks, Hoadley.\n\nBrosse, Rougerie, Marsh, Bonnaire, Malzieu; Michalak, Elissalde; Milloud, Servat, Poux; Pelous, Nallet; Betsen, Harinordoquy, Bonnaire.\n\nMinister Bui Thanh Son and Ambassador Yamada Takio met Nguyen Thanh Tinh in Hanoi.\n\nThe result leaves Wasps needing a win against Biarritz next week to stay in the competition.";
        let (c, a) = annotate(text);
        assert_eq!(a.lang, "en");
        assert!(a.parallel.is_empty(), "{:?}", a.parallel);
        assert!(a.captions.is_empty(), "{:?}", a.captions);
        assert!(c.blocks.iter().all(|b| b.decision != Decision::Caption));
        assert!(
            a.paragraphs.iter().all(|(_, l)| l == "en"),
            "{:?}",
            a.paragraphs
        );
    }

    #[test]
    fn inline_foreign_phrase_stays_but_a_standalone_one_leaves() {
        let (_, a) = annotate_blocks(&[
            "The likes of Michael Owen and Gethin Jenkins have brought back the",
            "joie de vivre",
            "so evident in that magical second-half spell in Paris, which first wooed supporters the world over.",
            "Wales now face Ireland for the Grand Slam at the Millennium Stadium next Saturday.",
        ]);
        assert!(a.captions.is_empty(), "{:?}", a.captions);
        assert_eq!(a.paragraphs.len(), 4);
        let (_, a) = annotate(&format!(
            "{INTRO}Toan canh hoi nghi tai Ha Noi chieu nay.{OUTRO}"
        ));
        assert_eq!(a.captions.len(), 1, "{a:?}");
        assert_eq!(a.captions[0].lang, "vi");
        assert!(a.parallel.is_empty());
    }

    #[test]
    fn japanese_product_lines_are_not_pairs() {
        let ja = "新しいマザーボードが発売された。価格は手頃で、ゲーム用にも仕事用にも使えるモデルがそろっている。";
        let (_, a) = annotate_blocks(&[
            ja,
            "・Fatal1ty Z77 Professional-M（通販価格：1万8千480円）",
            "・VPL-VW1000ES（ソニー）",
            ja,
        ]);
        assert_eq!(a.lang, "ja");
        assert!(a.parallel.is_empty(), "{:?}", a.parallel);
        // Kanji-only text in a Japanese article is Japanese.
        let (_, a) = annotate_blocks(&[ja, "編集部：池田利夫", ja]);
        assert!(
            a.paragraphs.iter().all(|(_, l)| l == "ja"),
            "{:?}",
            a.paragraphs
        );
    }

    #[test]
    fn ratio_and_anchor_helpers() {
        assert!(plausible_ratio(
            "Toàn cảnh hội nghị.",
            "Overview of the conference"
        ));
        assert!(!plausible_ratio(
            "Hi.",
            "A much longer sentence that is not a translation."
        ));
        assert!(plausible_ratio(
            "トムはいまだに両親と一緒に住んでいる。",
            "Tom still lives with his parents."
        ));
        assert!(shares_anchor("Gặp gỡ Nhật Bản 2023", "Meet Japan 2023"));
        assert!(!shares_anchor(
            "Toàn cảnh hội nghị",
            "Overview of the conference"
        ));
    }
}
