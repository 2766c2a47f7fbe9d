//! Language identification: per paragraph and per document, plus mixed-language caption
//! pairs (a caption in another language followed by its translation).
//!
//! Script and letter evidence decides first (kana → ja, hangul → ko, Thai script → th,
//! letters only Vietnamese uses → vi); whatlang, narrowed to the configured allowlist,
//! decides the rest. Too little text gives `und` rather than a guess.

use whatlang::{Detector, Lang};

use crate::article::word_count;
use crate::clean::{CleanArticle, Decision};
use crate::config::LangConfig;
use crate::release::{Caption, ParallelPair};

/// The code for "undetermined".
pub const UND: &str = "und";

/// ISO 639-3 (whatlang) → ISO 639-1.
const CODES: &[(Lang, &str)] = &[
    (Lang::Epo, "eo"),
    (Lang::Eng, "en"),
    (Lang::Rus, "ru"),
    (Lang::Cmn, "zh"),
    (Lang::Spa, "es"),
    (Lang::Por, "pt"),
    (Lang::Ita, "it"),
    (Lang::Ben, "bn"),
    (Lang::Fra, "fr"),
    (Lang::Deu, "de"),
    (Lang::Ukr, "uk"),
    (Lang::Kat, "ka"),
    (Lang::Ara, "ar"),
    (Lang::Hin, "hi"),
    (Lang::Jpn, "ja"),
    (Lang::Heb, "he"),
    (Lang::Yid, "yi"),
    (Lang::Pol, "pl"),
    (Lang::Amh, "am"),
    (Lang::Jav, "jv"),
    (Lang::Kor, "ko"),
    (Lang::Nob, "nb"),
    (Lang::Dan, "da"),
    (Lang::Swe, "sv"),
    (Lang::Fin, "fi"),
    (Lang::Tur, "tr"),
    (Lang::Nld, "nl"),
    (Lang::Hun, "hu"),
    (Lang::Ces, "cs"),
    (Lang::Ell, "el"),
    (Lang::Bul, "bg"),
    (Lang::Bel, "be"),
    (Lang::Mar, "mr"),
    (Lang::Kan, "kn"),
    (Lang::Ron, "ro"),
    (Lang::Slv, "sl"),
    (Lang::Hrv, "hr"),
    (Lang::Srp, "sr"),
    (Lang::Mkd, "mk"),
    (Lang::Lit, "lt"),
    (Lang::Lav, "lv"),
    (Lang::Est, "et"),
    (Lang::Tam, "ta"),
    (Lang::Vie, "vi"),
    (Lang::Urd, "ur"),
    (Lang::Tha, "th"),
    (Lang::Guj, "gu"),
    (Lang::Uzb, "uz"),
    (Lang::Pan, "pa"),
    (Lang::Aze, "az"),
    (Lang::Ind, "id"),
    (Lang::Tel, "te"),
    (Lang::Pes, "fa"),
    (Lang::Mal, "ml"),
    (Lang::Ori, "or"),
    (Lang::Mya, "my"),
    (Lang::Nep, "ne"),
    (Lang::Sin, "si"),
    (Lang::Khm, "km"),
    (Lang::Tuk, "tk"),
    (Lang::Aka, "ak"),
    (Lang::Zul, "zu"),
    (Lang::Sna, "sn"),
    (Lang::Afr, "af"),
    (Lang::Lat, "la"),
    (Lang::Slk, "sk"),
    (Lang::Cat, "ca"),
    (Lang::Tgl, "tl"),
    (Lang::Hye, "hy"),
];

fn iso1(lang: Lang) -> &'static str {
    CODES
        .iter()
        .find(|(l, _)| *l == lang)
        .map_or(UND, |(_, c)| c)
}

/// A language decision and how sure it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    pub lang: &'static str,
    /// Script/letter evidence, or whatlang's reliability flag.
    pub reliable: bool,
    /// Decided by script or letters only one language uses, not by statistics.
    pub script: bool,
}

/// Per-article language annotation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Annotated {
    pub lang: String,
    /// Body paragraphs with their languages.
    pub paragraphs: Vec<(String, String)>,
    pub captions: Vec<Caption>,
    pub parallel: Vec<ParallelPair>,
}

/// The language stage.
pub struct LangId {
    detector: Detector,
    allow: Vec<&'static str>,
}

impl LangId {
    pub fn new(cfg: &LangConfig) -> Self {
        let langs: Vec<Lang> = CODES
            .iter()
            .filter(|(_, c)| cfg.allowlist.iter().any(|a| a == c))
            .map(|(l, _)| *l)
            .collect();
        let allow = CODES
            .iter()
            .filter(|(_, c)| cfg.allowlist.iter().any(|a| a == c))
            .map(|(_, c)| *c)
            .collect();
        let detector = if langs.is_empty() {
            Detector::new()
        } else {
            Detector::with_allowlist(langs)
        };
        LangId { detector, allow }
    }

    /// Language of one piece of text.
    pub fn detect(&self, text: &str) -> Detection {
        let s = ScriptCounts::of(text);
        let letters = s.letters.max(1);
        if s.letters < 2 {
            return Detection {
                lang: UND,
                reliable: false,
                script: false,
            };
        }
        // Kana is Japanese, with or without kanji; hangul is Korean.
        if s.kana > 0 && s.kana * 20 >= s.cjk.max(1) {
            return Detection {
                lang: "ja",
                reliable: true,
                script: true,
            };
        }
        if s.hangul * 2 >= letters {
            return Detection {
                lang: "ko",
                reliable: true,
                script: true,
            };
        }
        if s.thai * 2 >= letters {
            return Detection {
                lang: "th",
                reliable: true,
                script: true,
            };
        }
        if s.han * 2 >= letters {
            // Kanji-only lines are rare in Japanese prose; Chinese unless ja is the only CJK choice.
            let lang = if !self.allowed("zh") && self.allowed("ja") {
                "ja"
            } else {
                "zh"
            };
            return Detection {
                lang,
                reliable: s.han >= 4,
                script: true,
            };
        }
        if s.vi_only >= 2 || (s.vi_only >= 1 && s.letters < 40) {
            return Detection {
                lang: "vi",
                reliable: true,
                script: true,
            };
        }
        match self.detector.detect(text) {
            Some(info) => Detection {
                lang: iso1(info.lang()),
                reliable: info.is_reliable(),
                script: false,
            },
            None => Detection {
                lang: UND,
                reliable: false,
                script: false,
            },
        }
    }

    fn allowed(&self, code: &str) -> bool {
        self.allow.is_empty() || self.allow.contains(&code)
    }

    /// Document language, paragraph languages, captions and caption pairs.
    ///
    /// A short body block in another language than the document, followed by a block of
    /// similar length in the document's language, is a caption and its translation: both
    /// leave the body and become a parallel pair.
    pub fn annotate(&self, article: &mut CleanArticle) -> Annotated {
        let langs: Vec<Option<Detection>> = article
            .blocks
            .iter()
            .map(|b| {
                matches!(b.decision, Decision::Body | Decision::Caption)
                    .then(|| self.detect(&b.text))
            })
            .collect();
        // The document's language is the one most of its body text is in, so a few
        // foreign captions cannot outvote it.
        let mut weight: Vec<(&'static str, usize)> = Vec::new();
        for (b, d) in article.blocks.iter().zip(&langs) {
            if let (Decision::Body, Some(d)) = (b.decision, d) {
                if d.lang != UND {
                    let w = b.text.chars().filter(|c| c.is_alphabetic()).count();
                    match weight.iter_mut().find(|(l, _)| *l == d.lang) {
                        Some(entry) => entry.1 += w,
                        None => weight.push((d.lang, w)),
                    }
                }
            }
        }
        let doc_lang = match weight.iter().max_by_key(|(_, w)| *w) {
            Some((lang, _)) => *lang,
            None => {
                let body: Vec<&str> = article.body().map(|b| b.text.as_str()).collect();
                self.detect(&body.join("\n")).lang
            }
        };
        let n = article.blocks.len();

        let mut parallel = Vec::new();
        if doc_lang != UND {
            let mut i = 0;
            while i < n {
                let src = langs[i].filter(|d| {
                    d.reliable && d.lang != doc_lang && d.lang != UND
                });
                let candidate = matches!(
                    article.blocks[i].decision,
                    Decision::Body | Decision::Caption
                ) && word_count(&article.blocks[i].text) <= 40;
                if let (Some(src), true) = (src, candidate) {
                    let j = i + 1;
                    // Short lines are hard to identify: a translation need only not be in
                    // the caption's own language. Statistical guesses need an anchor
                    // (a number or name both lines share) before they pair up.
                    let tgt_ok = j < n
                        && matches!(article.blocks[j].decision, Decision::Body | Decision::Caption)
                        && langs[j].is_some_and(|d| {
                            d.lang == doc_lang || (!d.reliable && d.lang != src.lang)
                        })
                        && plausible_ratio(&article.blocks[i].text, &article.blocks[j].text)
                        && (src.script || shares_anchor(&article.blocks[i].text, &article.blocks[j].text));
                    if tgt_ok {
                        article.blocks[i].decision = Decision::Caption;
                        article.blocks[j].decision = Decision::Caption;
                        parallel.push(ParallelPair {
                            src_lang: src.lang.to_string(),
                            src: article.blocks[i].text.clone(),
                            tgt_lang: doc_lang.to_string(),
                            tgt: article.blocks[j].text.clone(),
                        });
                        i += 2;
                        continue;
                    }
                    // A line plainly in another script or alphabet is a caption even alone.
                    if src.script {
                        article.blocks[i].decision = Decision::Caption;
                    }
                }
                i += 1;
            }
        }

        let mut paragraphs = Vec::new();
        let mut captions: Vec<Caption> = Vec::new();
        for (b, d) in article.blocks.iter().zip(&langs) {
            // Paragraphs too short to say anything inherit the document's language.
            let lang = match d {
                Some(d) if d.lang != UND && (d.reliable || word_count(&b.text) >= 4) => d.lang,
                _ => doc_lang,
            };
            match b.decision {
                Decision::Body => paragraphs.push((b.text.clone(), lang.to_string())),
                Decision::Caption => {
                    if !captions.iter().any(|c| c.text == b.text) {
                        captions.push(Caption {
                            text: b.text.clone(),
                            lang: lang.to_string(),
                        });
                    }
                }
                Decision::Drop(_) => {}
            }
        }
        Annotated {
            lang: doc_lang.to_string(),
            paragraphs,
            captions,
            parallel,
        }
    }
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

/// A translation is rarely under half or over twice the length of its source.
fn plausible_ratio(a: &str, b: &str) -> bool {
    let (la, lb) = (a.chars().count() as f64, b.chars().count() as f64);
    la > 0.0 && lb > 0.0 && (0.4..=2.5).contains(&(lb / la))
}

/// Letter counts by script, and Vietnamese-only letters.
#[derive(Debug, Default)]
struct ScriptCounts {
    letters: usize,
    kana: usize,
    han: usize,
    cjk: usize,
    hangul: usize,
    thai: usize,
    vi_only: usize,
}

impl ScriptCounts {
    fn of(text: &str) -> Self {
        let mut s = ScriptCounts::default();
        for c in text.chars() {
            if !c.is_alphabetic() {
                continue;
            }
            s.letters += 1;
            match c as u32 {
                0x3040..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9D => {
                    s.kana += 1;
                    s.cjk += 1;
                }
                0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF => {
                    s.han += 1;
                    s.cjk += 1;
                }
                0xAC00..=0xD7AF | 0x1100..=0x11FF | 0x3130..=0x318F => s.hangul += 1,
                0x0E00..=0x0E7F => s.thai += 1,
                _ if is_vietnamese_only(c) => s.vi_only += 1,
                _ => {}
            }
        }
        s
    }
}

/// Letters no other language in our allowlist writes: ơ ư ă đ and the tone-marked vowels
/// of the Latin Extended Additional block (ạ ả ấ … ỹ).
fn is_vietnamese_only(c: char) -> bool {
    matches!(c, 'ơ' | 'Ơ' | 'ư' | 'Ư' | 'ă' | 'Ă' | 'đ' | 'Đ')
        || matches!(c as u32, 0x1EA0..=0x1EF9)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::article::Article;
    use crate::clean::Cleaner;
    use crate::config::CleanConfig;
    use crate::source::{Format, RawDoc};

    fn id() -> LangId {
        LangId::new(&LangConfig::default())
    }

    #[test]
    fn scripts_and_letters() {
        let l = id();
        assert_eq!(l.detect("代表団がプログラムに参加した。").lang, "ja");
        assert_eq!(l.detect("Hội nghị đã thu hút đông đảo đại biểu").lang, "vi");
        assert_eq!(l.detect("한국어 문장입니다").lang, "ko");
        assert_eq!(
            l.detect("The conference attracted a large number of domestic and foreign delegates.")
                .lang,
            "en"
        );
        assert_eq!(l.detect("42").lang, UND);
    }

    #[test]
    fn caption_pair_leaves_body_as_parallel() {
        let doc = RawDoc {
            source: "t.txt".into(),
            format: Some(Format::Text),
            text: "Vietnam and Japan meet again\n\nOn November 2, 2023, the Ministry of Foreign Affairs organized the conference in Hanoi with many delegates.\n\nHội nghị đã thu hút đông đảo đại biểu trong và ngoài nước tham dự.\n\nThe conference attracted a large number of domestic and foreign delegates to attend.\n\nThe two sides have achieved deep political trust and effective cooperation in all fields.".into(),
            ..Default::default()
        };
        let mut c = Cleaner::new(&CleanConfig::default()).clean(Article::parse(doc), None);
        let a = id().annotate(&mut c);
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
    }
}
