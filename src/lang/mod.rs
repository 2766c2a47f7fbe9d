//! Language identification: per paragraph and per document, per line and per part of a
//! bilingual line, and the mixed-language caption pairs of an article.
//!
//! Evidence, strongest first:
//! - script (`script`): kana → ja, hangul → ko, Thai script → th, Cyrillic → ru; kanji-only
//!   text is zh unless Japanese-only kanji forms or the surrounding text say ja;
//! - letters only Vietnamese writes (ư ơ đ and tone-marked vowels) → vi;
//! - for other Latin-script text a character 5-gram model of en fr de es pt id ms tl vi and
//!   of Vietnamese written without diacritics (`model`), where capitalised words inside a
//!   sentence count little, since they are mostly names ("Bui Thanh Son" in English text);
//! - whatlang for allowed languages none of this covers (`fallback`).
//!
//! Statistical answers are *reliable* only with a clear lead on enough words. Unsure
//! units take a bonus for the languages their context shows (`segment`, `pairs`), and
//! text without letters is `und` rather than a guess.
//!
//! Cost is bounded per unit, not per byte: text over 1 KB is judged on a sample spread
//! over it, and long Latin text stops being scored once one language leads far
//! (`detect`). Captions, lines and ordinary sentences are always read whole.

mod detect;
mod fallback;
mod jsonl;
mod model;
mod pairs;
mod script;
mod segment;

pub use detect::Evidence;
pub use jsonl::run_jsonl;
pub use segment::Segment;

use crate::config::LangConfig;
use crate::release::{Caption, ParallelPair};

/// The code for "undetermined".
pub const UND: &str = "und";

/// A language decision and how sure it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    /// ISO 639-1 code, or [`UND`].
    pub lang: &'static str,
    /// Script or letter evidence, or a clear statistical lead on enough words.
    pub reliable: bool,
    /// Decided by script or by letters only one language uses, not by statistics.
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
    det: detect::Detector,
}

impl LangId {
    pub fn new(cfg: &LangConfig) -> Self {
        LangId {
            det: detect::Detector::new(&cfg.allowlist),
        }
    }

    /// Language of one piece of text, without context.
    pub fn detect(&self, text: &str) -> Detection {
        let e = self.det.evidence(text);
        Detection {
            lang: e.best(),
            reliable: e.reliable(),
            script: e.script,
        }
    }

    /// All the evidence one piece of text gives (candidates with scores).
    pub fn evidence(&self, text: &str) -> Evidence {
        self.det.evidence(text)
    }

    /// `text` as segments in one language each: its lines, with the one-line bilingual
    /// forms ("vi / en", "en (vi)") split; unsure lines lean to the languages the clear
    /// ones show. Every segment text is a substring of `text`, in order.
    pub fn segments<'a>(&self, text: &'a str) -> Vec<Segment<'a>> {
        segment::segments(&self.det, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> LangId {
        LangId::new(&LangConfig::default())
    }

    #[test]
    fn scripts_and_letters() {
        let l = id();
        let d = l.detect("代表団がプログラムに参加した。");
        assert_eq!((d.lang, d.script), ("ja", true));
        let d = l.detect("Hội nghị đã thu hút đông đảo đại biểu");
        assert_eq!((d.lang, d.script, d.reliable), ("vi", true, true));
        assert_eq!(l.detect("한국어 문장입니다").lang, "ko");
        assert_eq!(l.detect("โครงการ เอกสารสำคัญ").lang, "th");
        assert_eq!(l.detect("Москва — столица России").lang, "ru");
        assert_eq!(
            l.detect("The conference attracted a large number of domestic and foreign delegates.")
                .lang,
            "en"
        );
        assert_eq!(l.detect("42").lang, UND);
        assert_eq!(l.detect("").lang, UND);
        assert_eq!(l.detect("— … —").lang, UND);
        assert_eq!(l.detect("(((；゜Д゜)))").lang, UND);
        assert_eq!(l.detect("https://www.example.com/news").lang, UND);
        assert_eq!(l.detect("い").lang, "ja");
        assert_eq!(l.detect("污").lang, "zh");
    }

    #[test]
    fn vietnamese_without_diacritics() {
        let l = id();
        for t in [
            "Tom co giai phap cho moi thu.",
            "Toi, cung hang tram tinh nguyen vien hieu rang khong the chi ngoi yen tai nha.",
            "nguoi dan",
            "khong",
        ] {
            assert_eq!(l.detect(t).lang, "vi", "{t}");
        }
    }

    #[test]
    fn kanji_only() {
        let l = id();
        // Plain kanji: Chinese, and not reliable, so context may still say Japanese.
        let d = l.detect("了解。");
        assert_eq!((d.lang, d.reliable), ("zh", false));
        assert_eq!(l.detect("我们今天去公园").lang, "zh");
        // A form only Japanese writes settles it.
        let d = l.detect("元気？");
        assert_eq!((d.lang, d.reliable), ("ja", true));
        assert_eq!(l.detect("時間終了。駅前集合").lang, "ja");
    }

    #[test]
    fn english_full_of_vietnamese_and_japanese_names_stays_english() {
        let l = id();
        for t in [
            "Bui Thanh Son had to pay a few more dollars.",
            "Trinh Dinh Dung certainly sounds like he comes from a rich family.",
            "It's no use trying to convince Nguyen Thanh Tinh.",
            "Hattori Seitaro was never able to tell Yamada Takio that he loved her.",
            "What are Suga Yoshihide's true intentions?",
            "On the morning of September 17, the Union of Friendship Organizations of Thai Nguyen province met in Hanoi.",
            "Mr. Yamada Takio, Japanese Ambassador to Vietnam, spoke.",
        ] {
            assert_eq!(l.detect(t).lang, "en", "{t}");
        }
    }

    #[test]
    fn default_detects_greek_but_leaves_arabic_quotes_alone() {
        let l = LangId::new(&LangConfig::default());
        let greek = "Η συνεργασία των δύο χωρών είναι στο καλύτερο σημείο της ιστορίας της.";
        assert_eq!(l.detect(greek).lang, "el");
        // Not in the default list: a verse quoted in Arabic script inside a Malay or
        // Indonesian article would otherwise leave the body as a foreign caption.
        assert_eq!(
            l.detect("التعاون بين البلدين في أفضل مراحله على الإطلاق.")
                .lang,
            UND
        );
    }

    #[test]
    fn allowlist_narrows_detection() {
        let only = |codes: &[&str]| {
            LangId::new(&LangConfig {
                allowlist: codes.iter().map(|s| s.to_string()).collect(),
                keep_langs: None,
            })
        };
        // Japanese text when Japanese is not allowed: nothing to answer.
        assert_eq!(
            only(&["en", "vi"])
                .detect("彼は質問を繰り返しました。")
                .lang,
            UND
        );
        // Kanji with only Japanese allowed.
        assert_eq!(only(&["ja", "en"]).detect("了解").lang, "ja");
        // A language only whatlang knows, when allowed.
        assert_eq!(
            only(&["en", "it"])
                .detect("La cooperazione tra i due paesi è nella fase migliore della sua storia.")
                .lang,
            "it"
        );
        // An empty allowlist allows everything.
        assert_eq!(
            only(&[])
                .detect("Die Zusammenarbeit zwischen beiden Ländern ist so gut wie nie.")
                .lang,
            "de"
        );
    }
}
