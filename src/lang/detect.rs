//! The evidence one piece of text gives about its language: scripts first, then the
//! n-gram model for Latin-script text, whatlang for languages neither covers.

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;

use super::fallback::{self, Fallback};
use super::model::{self, Model, Scores, MAX_LANGS};
use super::script::{self, Script, ScriptCounts};
use super::UND;

/// Weight of a capitalised word inside a sentence, or an acronym: mostly names, which say
/// little about the language around them ("Bui Thanh Son", "Yamada Takio" in English text).
const NAME_WEIGHT: f32 = 0.2;
/// Weight of a capitalised sentence-initial word, which is a name about as often as not.
const INITIAL_WEIGHT: f32 = 0.5;
/// Most a single word counts against a language (nats), so one name or loanword cannot
/// outvote the sentence around it.
const WORD_CAP: f32 = 12.0;
/// A statistical answer is reliable with this lead (in nats) over the runner-up ...
pub const RELIABLE_MARGIN: f32 = 6.0;
/// ... and at least this many words that are not names.
pub const RELIABLE_CONTENT: usize = 2;
/// Kanji-only text is Chinese unless something says Japanese: this is how far ja starts
/// behind zh, and what each kanji in a Japanese-only form gives it.
const HAN_JA_PENALTY: f32 = 4.0;
const JA_KANJI_BONUS: f32 = 12.0;

/// Candidate languages with scores (log-likelihood-like, higher is better), best first.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    cands: Vec<(&'static str, f32)>,
    /// Settled by script, or by letters only one allowed language writes.
    pub script: bool,
    /// Words that carry evidence: Latin words that are not names, CJK characters, others.
    pub content: usize,
    /// Latin words that look like names or acronyms.
    pub names: usize,
    /// Latin-script text without a single accented letter.
    pub plain: bool,
    /// Decided by the Latin-script model (where `content` counts words, not characters).
    pub latin: bool,
}

impl Evidence {
    /// No letters, or nothing the allowed languages write.
    pub fn none() -> Self {
        Evidence {
            cands: Vec::new(),
            script: false,
            content: 0,
            names: 0,
            plain: false,
            latin: false,
        }
    }

    fn settled(lang: &'static str, content: usize) -> Self {
        Evidence {
            cands: vec![(lang, 0.0)],
            script: true,
            content,
            names: 0,
            plain: false,
            latin: false,
        }
    }

    /// The best language, or `und`.
    pub fn best(&self) -> &'static str {
        self.cands.first().map_or(UND, |c| c.0)
    }

    /// Lead of the best language over the runner-up (infinite when there is no runner-up).
    pub fn margin(&self) -> f32 {
        match self.cands.as_slice() {
            [] => 0.0,
            [_] => f32::INFINITY,
            [a, b, ..] => a.1 - b.1,
        }
    }

    /// Script evidence, or a clear statistical lead on enough words that are mostly not
    /// names (a line-up of French players in English news is no French text).
    pub fn reliable(&self) -> bool {
        !self.cands.is_empty()
            && (self.script
                || (self.content >= RELIABLE_CONTENT
                    && self.content >= self.names
                    && self.margin() >= RELIABLE_MARGIN))
    }

    /// The candidates with their scores, best first.
    pub fn candidates(&self) -> &[(&'static str, f32)] {
        &self.cands
    }

    /// Whether `lang` is a candidate at all.
    pub fn has(&self, lang: &str) -> bool {
        self.cands.iter().any(|c| c.0 == lang)
    }

    /// The best language when the languages in `favoured` get `bonus` nats (the context:
    /// the document's language, the languages of the neighbouring lines), with its lead.
    pub fn decide(&self, favoured: &[&str], bonus: f32) -> (&'static str, f32) {
        self.decide_by(|lang| if favoured.contains(&lang) { bonus } else { 0.0 })
    }

    /// The best language when each gets `adjust(lang)` nats added, with its lead.
    pub fn decide_by(&self, adjust: impl Fn(&str) -> f32) -> (&'static str, f32) {
        let mut best: Option<(&'static str, f32)> = None;
        let mut second = f32::NEG_INFINITY;
        for &(lang, score) in &self.cands {
            let s = score + adjust(lang);
            match best {
                Some((_, b)) if s <= b => second = second.max(s),
                Some((_, b)) => {
                    second = b;
                    best = Some((lang, s));
                }
                None => best = Some((lang, s)),
            }
        }
        match best {
            Some((lang, s)) => (lang, s - second),
            None => (UND, 0.0),
        }
    }
}

/// What a [`Detector`] may answer.
pub struct Detector {
    allow: Vec<String>,
    model: Option<&'static Model>,
    /// Per model language: allowed.
    model_allowed: [bool; MAX_LANGS],
    /// whatlang for allowed languages we have no evidence of our own for.
    fallback: Option<Fallback>,
    /// Allowed Latin-script languages outside our model (whatlang decides those).
    latin_extra: bool,
}

/// Languages settled by their script alone, with the script.
const SCRIPT_LANGS: &[(&str, Script)] = &[
    ("ja", Script::Kana),
    ("zh", Script::Han),
    ("ko", Script::Hangul),
    ("th", Script::Thai),
    ("ru", Script::Cyrillic),
];

/// Allowed Cyrillic languages besides Russian that whatlang knows: with any of them,
/// Cyrillic no longer means Russian.
const OTHER_CYRILLIC: &[&str] = &["uk", "bg", "be", "mk", "sr"];

/// Latin-script languages whatlang knows and our model does not.
const LATIN_OUTSIDE_MODEL: &[&str] = &[
    "eo", "it", "pl", "jv", "nb", "da", "sv", "fi", "tr", "nl", "hu", "cs", "ro", "sl", "hr", "lt",
    "lv", "et", "uz", "az", "tk", "ak", "zu", "sn", "af", "la", "sk", "ca",
];

impl Detector {
    /// `allow` empty = every language we or whatlang know.
    pub fn new(allow: &[String]) -> Self {
        // A corrupt embedded model cannot happen in a built binary; without it Latin text
        // falls to whatlang rather than failing the build.
        let model = model::shared().ok();
        let allowed = |c: &str| allow.is_empty() || allow.iter().any(|a| a == c);
        let mut model_allowed = [false; MAX_LANGS];
        if let Some(m) = model {
            for (i, c) in m.codes().iter().enumerate() {
                model_allowed[i] = allowed(c);
            }
        }
        let ours = |c: &str| {
            model.is_some_and(|m| m.codes().contains(&c)) || SCRIPT_LANGS.iter().any(|s| s.0 == c)
        };
        // whatlang answers the allowed languages we have no evidence of our own for.
        let (fallback, latin_extra) = if allow.is_empty() {
            (Some(Fallback::all()), true)
        } else {
            let extra: Vec<&str> = allow
                .iter()
                .map(String::as_str)
                .filter(|c| !ours(c) && fallback::known(c))
                .collect();
            let latin = extra.iter().any(|c| LATIN_OUTSIDE_MODEL.contains(c));
            (Fallback::new(&extra), latin)
        };
        Detector {
            allow: allow.to_vec(),
            model,
            model_allowed,
            fallback,
            latin_extra,
        }
    }

    pub fn allowed(&self, code: &str) -> bool {
        self.allow.is_empty() || self.allow.iter().any(|a| a == code)
    }

    /// All the evidence `text` gives.
    pub fn evidence(&self, text: &str) -> Evidence {
        // Decomposed Vietnamese (e + combining marks) is composed first, as the model is.
        let text: Cow<str> = if text.chars().any(|c| ('\u{300}'..='\u{36f}').contains(&c)) {
            Cow::Owned(text.nfc().collect())
        } else {
            Cow::Borrowed(text)
        };
        let s = ScriptCounts::of(&text);
        let Some(script) = s.dominant() else {
            return Evidence::none();
        };
        match script {
            Script::Kana if self.allowed("ja") => Evidence::settled("ja", s.kana + s.han),
            Script::Hangul if self.allowed("ko") => Evidence::settled("ko", s.hangul),
            Script::Thai if self.allowed("th") => Evidence::settled("th", s.thai),
            // Kana is Japanese or nothing we may answer.
            Script::Kana => Evidence::none(),
            Script::Han => self.han(&text, &s),
            // One alphabetic letter is no word (the Д of an emoticon).
            Script::Cyrillic if s.cyrillic < 2 => Evidence::none(),
            Script::Cyrillic
                if self.allowed("ru") && !OTHER_CYRILLIC.iter().any(|c| self.allowed(c)) =>
            {
                Evidence::settled("ru", s.cyrillic)
            }
            Script::Latin => self.latin(&text, &s),
            _ => self.whatlang(&text, s.letters),
        }
    }

    /// Kanji-only text: Chinese, unless Japanese-only forms or words say Japanese.
    fn han(&self, text: &str, s: &ScriptCounts) -> Evidence {
        let content = s.han;
        match (self.allowed("zh"), self.allowed("ja")) {
            (true, true) => {
                let marks = s.ja_kanji + script::ja_only_words(text);
                let ja = JA_KANJI_BONUS * marks as f32 - HAN_JA_PENALTY;
                let mut cands = vec![("zh", 0.0), ("ja", ja)];
                cands.sort_by(|a, b| b.1.total_cmp(&a.1));
                // Not settled by script: the lead decides whether it is reliable, so
                // plain kanji stay open to context while a Japanese-only form is clear.
                Evidence {
                    cands,
                    script: false,
                    content,
                    names: 0,
                    plain: false,
                    latin: false,
                }
            }
            (true, false) => Evidence::settled("zh", content),
            (false, true) => Evidence::settled("ja", content),
            (false, false) => Evidence::none(),
        }
    }

    fn whatlang(&self, text: &str, content: usize) -> Evidence {
        match self.fallback.as_ref().and_then(|f| f.detect(text)) {
            Some((lang, reliable)) if self.allowed(lang) => Evidence {
                cands: vec![(lang, 0.0)],
                script: reliable,
                content,
                names: 0,
                plain: false,
                latin: false,
            },
            _ => Evidence::none(),
        }
    }

    /// Latin-script text: the n-gram model over the allowed languages.
    fn latin(&self, text: &str, s: &ScriptCounts) -> Evidence {
        if self.latin_extra {
            // An allowed language only whatlang knows (Italian, Dutch, ...) wins when
            // whatlang is sure of it.
            if let Some((lang, true)) = self.fallback.as_ref().and_then(|f| f.detect(text)) {
                if LATIN_OUTSIDE_MODEL.contains(&lang) && self.allowed(lang) {
                    return Evidence {
                        cands: vec![(lang, 0.0)],
                        script: false,
                        content: RELIABLE_CONTENT,
                        names: 0,
                        plain: false,
                        latin: false,
                    };
                }
            }
        }
        let Some(model) = self.model else {
            return self.whatlang(text, s.latin);
        };
        if s.latin < 2 {
            return Evidence::none();
        }
        let words = latin_words(text);
        if words.is_empty() {
            return Evidence::none(); // only web addresses
        }
        let content = words
            .iter()
            .filter(|w| matches!(w.kind, Kind::Content | Kind::Initial))
            .count();
        let names = words.iter().filter(|w| w.kind == Kind::Name).count();
        // Names only count fully when there is little else to go on.
        let name_weight = if content >= RELIABLE_CONTENT {
            NAME_WEIGHT
        } else {
            1.0
        };
        let mut scores: Scores = [0.0; MAX_LANGS];
        let mut buf: Vec<char> = Vec::with_capacity(32);
        let mut word: Scores = [0.0; MAX_LANGS];
        let mut vi_only = 0usize;
        let mut plain = true;
        for w in &words {
            buf.clear();
            for c in text[w.start..w.end].chars() {
                if crate::article::is_vietnamese_only(c) {
                    vi_only += 1;
                }
                plain &= c.is_ascii();
                buf.extend(c.to_lowercase().filter(|c| c.is_alphabetic()));
            }
            let weight = match w.kind {
                Kind::Name => name_weight,
                Kind::Initial => INITIAL_WEIGHT,
                Kind::Content | Kind::Minor => 1.0,
            };
            model.word_logprob(&buf, &mut word);
            // No single word may count more than WORD_CAP nats against a language: a
            // name or loanword ("Hoai", "Starbucks") is improbable everywhere but one.
            let n = model.codes().len();
            let best = word[..n].iter().copied().fold(f32::NEG_INFINITY, f32::max);
            for (total, w) in scores[..n].iter_mut().zip(&word[..n]) {
                *total += weight * w.max(best - WORD_CAP);
            }
        }
        // One candidate per language: the Vietnamese variants (with and without
        // diacritics) keep their better score.
        let mut cands: Vec<(&'static str, f32)> = Vec::with_capacity(MAX_LANGS);
        for (i, code) in model.codes().iter().enumerate() {
            if !self.model_allowed[i] {
                continue;
            }
            match cands.iter_mut().find(|c| c.0 == *code) {
                Some(c) => c.1 = c.1.max(scores[i]),
                None => cands.push((code, scores[i])),
            }
        }
        cands.sort_by(|a, b| b.1.total_cmp(&a.1));
        // Letters only Vietnamese writes (ư ơ đ, tone-marked vowels), more than a stray
        // name's worth, settle it.
        let script = cands.first().is_some_and(|c| c.0 == "vi")
            && (vi_only >= 3 || (vi_only >= 1 && vi_only * 8 >= s.latin));
        Evidence {
            cands,
            script,
            content,
            names,
            plain,
            latin: true,
        }
    }
}

/// A run of Latin letters in the text.
struct Word {
    start: usize,
    end: usize,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// An ordinary word: the evidence.
    Content,
    /// Capitalised inside a sentence, all capitals, or without a vowel: a name, an
    /// acronym or an abbreviation ("Takio", "JETRO", "dlrs"), which say little about the
    /// language around them.
    Name,
    /// One letter: scored (English "a", Spanish "y" say something) but too little to count.
    Minor,
    /// Capitalised at the start of a sentence: a word or a name ("Kimura Takuya was ..."),
    /// so it counts half.
    Initial,
}

/// The word being read: where it starts, its letters, and their case.
struct Open {
    start: usize,
    letters: usize,
    first_upper: bool,
    all_upper: bool,
    vowel: bool,
}

/// The Latin-script words of `text`, each with its kind.
fn latin_words(text: &str) -> Vec<Word> {
    let mut words = Vec::new();
    // A capital after these starts a sentence, not a name. Not after ':' ';' '(': line-ups
    // ("Replacements: William Servat (Stade Toulousain)") are all names.
    let mut sentence_start = true;
    let mut open: Option<Open> = None;
    let skip = web_addresses(text);
    let mut close = |open: &mut Option<Open>, end: usize, sentence_start: &mut bool| {
        if let Some(w) = open.take() {
            let kind = if w.letters == 1 {
                Kind::Minor
            } else if w.all_upper || !w.vowel || (w.first_upper && !*sentence_start) {
                Kind::Name
            } else if w.first_upper {
                Kind::Initial
            } else {
                Kind::Content
            };
            words.push(Word {
                start: w.start,
                end,
                kind,
            });
            *sentence_start = false;
        }
    };
    for (i, c) in text.char_indices() {
        if skip.iter().any(|r| r.contains(&i)) {
            close(&mut open, i, &mut sentence_start);
            continue;
        }
        if matches!(script_letter(c), Some(Script::Latin)) {
            let upper = c.is_uppercase();
            let w = open.get_or_insert(Open {
                start: i,
                letters: 0,
                first_upper: upper,
                all_upper: true,
                vowel: false,
            });
            w.letters += 1;
            w.all_upper &= upper;
            w.vowel |= is_vowel(c);
        } else {
            close(&mut open, i, &mut sentence_start);
            if matches!(
                c,
                '.' | '!' | '?' | '…' | '\n' | '"' | '“' | '«' | '¿' | '¡'
            ) {
                sentence_start = true;
            }
        }
    }
    close(&mut open, text.len(), &mut sentence_start);
    words
}

/// Byte ranges of web and mail addresses, which are in no language.
fn web_addresses(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = None;
    let check = |from: usize, to: usize, out: &mut Vec<std::ops::Range<usize>>| {
        let t = &text[from..to];
        if t.contains("://") || t.starts_with("www.") || (t.contains('@') && t.contains('.')) {
            out.push(from..to);
        }
    };
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            if let Some(s) = start.take() {
                check(s, i, &mut out);
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        check(s, text.len(), &mut out);
    }
    out
}

/// A vowel letter, with or without marks (y counts: "by", "gym", Vietnamese "ly").
fn is_vowel(c: char) -> bool {
    let base = c.to_lowercase().next().unwrap_or(c);
    matches!(base, 'a' | 'e' | 'i' | 'o' | 'u' | 'y')
        || (!base.is_ascii() && {
            // Accented vowels: compare the first letter of the canonical decomposition.
            let mut d = [base].into_iter().nfd();
            matches!(d.next(), Some('a' | 'e' | 'i' | 'o' | 'u' | 'y'))
                || matches!(base, 'ơ' | 'ư' | 'æ' | 'œ' | 'ø')
        })
}

fn script_letter(c: char) -> Option<Script> {
    super::script::script_of(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_detector() -> Detector {
        Detector::new(&crate::config::LangConfig::default().allowlist)
    }

    #[test]
    fn names_inside_sentences_are_marked() {
        let t = "Bui Thanh Son met JETRO staff. Then a man paid 5 dlrs.";
        let w: Vec<(&str, Kind)> = latin_words(t)
            .iter()
            .map(|w| (&t[w.start..w.end], w.kind))
            .collect();
        use Kind::*;
        assert_eq!(
            w,
            [
                ("Bui", Initial),
                ("Thanh", Name),
                ("Son", Name),
                ("met", Content),
                ("JETRO", Name),
                ("staff", Content),
                ("Then", Initial),
                ("a", Minor),
                ("man", Content),
                ("paid", Content),
                ("dlrs", Name)
            ]
        );
        assert!(is_vowel('ư') && is_vowel('Ế') && is_vowel('y') && !is_vowel('đ'));
        let t = "see http://www.example.com/page and mail me@example.org today";
        let w: Vec<&str> = latin_words(t).iter().map(|w| &t[w.start..w.end]).collect();
        assert_eq!(w, ["see", "and", "mail", "today"]);
    }

    #[test]
    fn decide_with_context_bonus() {
        let d = default_detector();
        let e = d.evidence("了解");
        assert_eq!(e.best(), "zh");
        assert_eq!(e.decide(&["ja"], 6.0).0, "ja");
        assert_eq!(Evidence::none().decide(&["en"], 6.0).0, UND);
    }
}
