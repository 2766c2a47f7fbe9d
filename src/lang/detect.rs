//! The evidence one piece of text gives about its language: scripts first, then the
//! n-gram model for Latin-script text, whatlang for languages neither covers.

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;

use super::fallback::{self, Fallback};
use super::model::{self, Model, Scores, MAX_LANGS};
use super::script::{self, Script, ScriptCounts};
use super::UND;
use crate::clean::counts::{in_batches, prefetch};

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

/// Text longer than this (bytes) is judged on a sample: `SAMPLE_WINDOWS` stretches spread
/// evenly from its start to its end, about 250 words in all. Captions and single lines
/// are far shorter and are judged whole; a paragraph of news says its language long
/// before its thousandth word.
const SAMPLE_BYTES: usize = 1024;
const SAMPLE_WINDOWS: usize = 4;
/// Latin-script text of up to this many words is scored word by word in full. Longer
/// text is scored `SPREAD_WORDS` words at a time from each of `SPREAD_PARTS` equal parts
/// in turn, so the words scored so far always come from all over it, and scoring stops
/// once one language leads by `SETTLED_MARGIN` nats: far past every threshold decisions
/// use (`RELIABLE_MARGIN`, twice it for a lone caption, a context bonus on top).
const EXACT_WORDS: usize = 80;
const SPREAD_PARTS: usize = 4;
const SPREAD_WORDS: usize = 4;
const SETTLED_MARGIN: f32 = 40.0;
/// Latin-script text is Vietnamese, without the model, when at least this many of its
/// letters, and an eighth of them, are letters only Vietnamese writes (ư ơ đ ă ạ ả ấ ...).
/// Vietnamese prose has a fifth (news paragraphs: 95 % above 0.138); a Vietnamese name or
/// two in English or French text stays far below.
const VI_DENSE_MIN: usize = 8;

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
    /// Latin text in a language the model does not know (letters none of its languages
    /// writes): no language to name, but evidence against every known one.
    pub foreign: bool,
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
            foreign: false,
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
            foreign: false,
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

    /// All the evidence `text` gives. Long text is judged on a sample (see `SAMPLE_BYTES`),
    /// its scores and word counts scaled up to the whole text's length, so margins mean
    /// what they mean for text read whole.
    pub fn evidence(&self, text: &str) -> Evidence {
        let sampled = sample(text);
        let mut e = self.evidence_whole(&sampled);
        if sampled.len() < text.len() && !sampled.is_empty() {
            let scale = text.len() as f32 / sampled.len() as f32;
            for c in &mut e.cands {
                c.1 *= scale;
            }
            let up = |n: usize| (n as f32 * scale).round() as usize;
            e.content = up(e.content);
            e.names = up(e.names);
        }
        e
    }

    fn evidence_whole(&self, text: &str) -> Evidence {
        // Decomposed Vietnamese (e + combining marks) is composed first, as the model is.
        // U+0300..U+036F start with byte 0xCC or 0xCD in UTF-8: a byte scan finds them
        // (memchr2's vector search; a plain `any` over the bytes does not vectorise).
        let text: Cow<str> = if memchr::memchr2(0xCC, 0xCD, text.as_bytes()).is_some()
            && text.chars().any(|c| ('\u{300}'..='\u{36f}').contains(&c))
        {
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
                    foreign: false,
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
                foreign: false,
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
                        foreign: false,
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
        // Dense Vietnamese-only letters settle it without the model, which would say vi
        // anyway (it does for every such line of the langid benchmark and every such
        // paragraph of the news corpus) and would then mark it settled by those letters.
        if self.allowed("vi") && s.vi_only >= VI_DENSE_MIN && s.vi_only * 8 >= s.latin {
            return Evidence {
                cands: vec![("vi", 0.0)],
                script: true,
                content: s.latin_words,
                names: 0,
                plain: false,
                latin: false,
                foreign: false,
            };
        }
        let words = latin_words(text);
        if words.is_empty() {
            return Evidence::none(); // only web addresses
        }
        let content = words
            .iter()
            .filter(|w| matches!(w.kind, Kind::Content | Kind::Initial))
            .count();
        // One pass over the words' letters: Vietnamese-only letters, any accent at all, and
        // letters none of the model's languages writes ("ł", "ř", "ș", "ø"). When many
        // words have one of the last, the text is in a language the model does not know
        // (Polish, Czech, Romanian, Danish, ...), and naming the nearest known one would
        // be wrong.
        let (mut vi_only, mut plain, mut foreign) = (0usize, true, 0usize);
        for w in &words {
            let mut outside = false;
            for c in text[w.start..w.end].chars() {
                vi_only += usize::from(crate::article::is_vietnamese_only(c));
                plain &= c.is_ascii();
                outside |= !c.is_ascii() && outside_model_alphabets(c);
            }
            foreign += usize::from(outside && matches!(w.kind, Kind::Content | Kind::Initial));
        }
        if foreign >= FOREIGN_MIN_WORDS && foreign * FOREIGN_SHARE >= content {
            return Evidence {
                foreign: true,
                ..Evidence::none()
            };
        }
        let names = words.iter().filter(|w| w.kind == Kind::Name).count();
        // Names only count fully when there is little else to go on.
        let name_weight = if content >= RELIABLE_CONTENT {
            NAME_WEIGHT
        } else {
            1.0
        };
        let weight = |w: &Word| match w.kind {
            Kind::Name => name_weight,
            Kind::Initial => INITIAL_WEIGHT,
            Kind::Content | Kind::Minor => 1.0,
        };
        let mut scoring = Scoring {
            model,
            buf: Vec::with_capacity(32),
            scores: [0.0; MAX_LANGS],
            weight: 0.0,
        };
        if words.len() <= EXACT_WORDS {
            scoring.add_all(words.iter().map(|w| (&text[w.start..w.end], weight(w))));
        } else {
            let part = |p: usize| p * words.len() / SPREAD_PARTS;
            for round in 0.. {
                let mut more = false;
                for p in 0..SPREAD_PARTS {
                    let (from, to) = (part(p) + round * SPREAD_WORDS, part(p + 1));
                    let slice = words
                        .get(from..(from + SPREAD_WORDS).min(to))
                        .unwrap_or(&[]);
                    more |= !slice.is_empty();
                    scoring.add_all(slice.iter().map(|w| (&text[w.start..w.end], weight(w))));
                }
                if !more || self.lead(&scoring.scores) >= SETTLED_MARGIN {
                    break;
                }
            }
            // The words left unscored are taken to score like the scored ones.
            let total: f32 = words.iter().map(weight).sum();
            if scoring.weight > 0.0 && scoring.weight < total {
                let scale = total / scoring.weight;
                for s in &mut scoring.scores {
                    *s *= scale;
                }
            }
        }
        let scores = scoring.scores;
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
            foreign: false,
        }
    }
}

impl Detector {
    /// Lead of the best allowed model language over the best other one (the Vietnamese
    /// variants are one language).
    fn lead(&self, scores: &Scores) -> f32 {
        let Some(model) = self.model else {
            return 0.0;
        };
        let allowed = || {
            model
                .codes()
                .iter()
                .enumerate()
                .filter(|&(i, _)| self.model_allowed[i])
        };
        let Some((best, top)) = allowed()
            .map(|(i, c)| (*c, scores[i]))
            .max_by(|a, b| a.1.total_cmp(&b.1))
        else {
            return 0.0;
        };
        let second = allowed()
            .filter(|&(_, c)| *c != best)
            .map(|(i, _)| scores[i])
            .fold(f32::NEG_INFINITY, f32::max);
        top - second
    }
}

/// Word scores added up for a text.
struct Scoring<'m> {
    model: &'m Model,
    /// The word being scored, lower-cased letters.
    buf: Vec<char>,
    scores: Scores,
    /// Weight of the words scored so far.
    weight: f32,
}

impl Scoring<'_> {
    /// Add the scores of `words`, each times its weight, in order.
    fn add_all<'w>(&mut self, words: impl IntoIterator<Item = (&'w str, f32)>) {
        let langs = self.model.codes().len();
        in_batches::<_, SCORE_BATCH>(words, |batch| {
            let mut each = [[0.0; MAX_LANGS]; SCORE_BATCH];
            word_scores(self.model, batch, &mut self.buf, &mut each[..batch.len()]);
            for (&(_, weight), each) in batch.iter().zip(&each) {
                for (total, w) in self.scores[..langs].iter_mut().zip(&each[..langs]) {
                    *total += weight * w;
                }
                self.weight += weight;
            }
        });
    }
}

/// Words whose cached scores are looked up together (see [`word_scores`]).
const SCORE_BATCH: usize = 8;

/// Set `out[i]` to the log probabilities of `words[i].0` (as written) under every model
/// language, each at most `WORD_CAP` below the best.
///
/// Each thread keeps the words it met last with their scores: news repeats "the", "của",
/// "said" all the time, and scoring a word reads the n-gram table, mostly cache misses. A
/// kept score is the very value scoring gives, so results never depend on the thread or
/// on what it read before. The kept words are themselves more than the core's cache
/// holds, and nearly every lookup missed it, one after another: the places of a few
/// words are asked for before the first is looked up, so the misses overlap.
fn word_scores(model: &Model, words: &[(&str, f32)], buf: &mut Vec<char>, out: &mut [Scores]) {
    let score = |word: &str, buf: &mut Vec<char>, out: &mut Scores| {
        buf.clear();
        for c in word.chars() {
            buf.extend(c.to_lowercase().filter(|&c| crate::text::is_alphabetic(c)));
        }
        model.word_logprob(buf, out);
        // No single word may count more than WORD_CAP nats against a language: a name
        // or loanword ("Hoai", "Starbucks") is improbable everywhere but one.
        let n = model.codes().len();
        let best = out[..n].iter().copied().fold(f32::NEG_INFINITY, f32::max);
        for w in &mut out[..n] {
            *w = w.max(best - WORD_CAP);
        }
    };
    let mut keys = [None; SCORE_BATCH];
    for (k, &(word, _)) in keys.iter_mut().zip(words) {
        *k = CacheKey::of(word);
    }
    let done = WORD_CACHE
        .try_with(|cache| {
            let Ok(mut cache) = cache.try_borrow_mut() else {
                return false; // never reentered, but no panic either way
            };
            if cache.model != Some(model.id()) {
                *cache = WordCache {
                    model: Some(model.id()),
                    slots: vec![CachedWord::EMPTY; 2 * CACHE_SETS],
                };
            }
            for k in keys.iter().flatten() {
                cache.prefetch(k.set);
            }
            for ((&(word, _), key), out) in words.iter().zip(&keys).zip(out.iter_mut()) {
                let Some(k) = key else {
                    score(word, buf, out);
                    continue;
                };
                let Some(ways) = cache.slots.get_mut(2 * k.set..2 * k.set + 2) else {
                    score(word, buf, out);
                    continue;
                };
                if let Some(w) = ways.iter().find(|w| w.len == k.len && w.key == k.bytes) {
                    *out = w.scores;
                } else {
                    score(word, buf, out);
                    ways[1] = ways[0];
                    ways[0] = CachedWord {
                        key: k.bytes,
                        len: k.len,
                        scores: *out,
                    };
                }
            }
            true
        })
        .unwrap_or(false);
    if !done {
        for (&(word, _), out) in words.iter().zip(out.iter_mut()) {
            score(word, buf, out);
        }
    }
}

/// A word as the cache keys it: its bytes zero-padded, its length and its set.
#[derive(Clone, Copy)]
struct CacheKey {
    bytes: [u64; CACHED_BYTES / 8],
    len: u8,
    set: usize,
}

impl CacheKey {
    /// `None` for a word longer than the cache keeps.
    fn of(word: &str) -> Option<CacheKey> {
        if word.len() > CACHED_BYTES {
            return None;
        }
        let mut padded = [0u8; CACHED_BYTES];
        padded[..word.len()].copy_from_slice(word.as_bytes());
        let mut bytes = [0u64; CACHED_BYTES / 8];
        for (k, chunk) in bytes.iter_mut().zip(padded.chunks_exact(8)) {
            let mut b = [0u8; 8];
            b.copy_from_slice(chunk);
            *k = u64::from_le_bytes(b);
        }
        let len = word.len() as u8;
        let h = bytes.iter().fold(u64::from(len), |h, &k| {
            (h ^ k).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        });
        let set = ((h ^ (h >> 32)) as usize) & (CACHE_SETS - 1);
        Some(CacheKey { bytes, len, set })
    }
}

/// Longest word (UTF-8 bytes) the cache keeps; longer ones are rare and scored each time.
const CACHED_BYTES: usize = 24;
/// Cache sets (a power of two) of two words each: 6 MB a thread. English news uses many
/// more distinct words than a few thousand: at 8,192 sets the language stage of the
/// Reuters file took ~1.62 CPU-s, at 32,768 ~1.39 (65,536: no better); the whole
/// corpus's 2.89 → 2.53.
const CACHE_SETS: usize = 32768;

/// A word as written, zero-padded, with its capped scores.
#[derive(Clone, Copy)]
struct CachedWord {
    key: [u64; CACHED_BYTES / 8],
    /// Bytes in the word; `u8::MAX` for an empty slot.
    len: u8,
    scores: Scores,
}

impl CachedWord {
    const EMPTY: CachedWord = CachedWord {
        key: [0; CACHED_BYTES / 8],
        len: u8::MAX,
        scores: [0.0; MAX_LANGS],
    };
}

/// Two-way set-associative: a word's hash picks its set; a new word takes the first
/// place and moves the older one to the second.
struct WordCache {
    /// The model whose scores these are.
    model: Option<u64>,
    slots: Vec<CachedWord>,
}

impl WordCache {
    /// Ask the memory for a set's two words ahead of their lookup.
    fn prefetch(&self, set: usize) {
        if let Some(ways) = self.slots.get(2 * set..2 * set + 2) {
            ways.iter().for_each(prefetch);
        }
    }
}

thread_local! {
    static WORD_CACHE: RefCell<WordCache> = const {
        RefCell::new(WordCache {
            model: None,
            slots: Vec::new(),
        })
    };
}

/// `text` itself when it is short; else `SAMPLE_WINDOWS` stretches of it spread evenly
/// from its start to its end, without the words cut at their edges, joined by spaces.
fn sample(text: &str) -> Cow<'_, str> {
    if text.len() <= SAMPLE_BYTES {
        return Cow::Borrowed(text);
    }
    let width = SAMPLE_BYTES / SAMPLE_WINDOWS;
    let floor = |mut i: usize| {
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let mut out = String::with_capacity(SAMPLE_BYTES + SAMPLE_WINDOWS);
    for k in 0..SAMPLE_WINDOWS {
        // The first window starts the text, the last ends it.
        let from = k * (text.len() - width) / (SAMPLE_WINDOWS - 1);
        let start = floor(from);
        let end = floor((from + width).min(text.len()));
        let mut w = &text[start..end];
        // Text without spaces (Japanese) is cut anywhere.
        if text[..start].ends_with(|c: char| !c.is_whitespace()) {
            if let Some(i) = w.find(char::is_whitespace) {
                w = &w[i..];
            }
        }
        if text[end..].starts_with(|c: char| !c.is_whitespace()) {
            if let Some(i) = w.rfind(char::is_whitespace) {
                w = &w[..i];
            }
        }
        let w = w.trim();
        if !w.is_empty() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(w);
        }
    }
    Cow::Owned(out)
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
    // Most text has none: a memchr for what every address holds saves the walk below.
    if !(text.contains(':') || text.contains('@') || text.contains("www.")) {
        return out;
    }
    let mut start = None;
    let check = |from: usize, to: usize, out: &mut Vec<std::ops::Range<usize>>| {
        let t = &text[from..to];
        // memchr for ':' and '@' first: a substring search on every word costs more.
        if t.starts_with("www.")
            || (t.contains(':') && t.contains("://"))
            || (t.contains('@') && t.contains('.'))
        {
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
/// Words with a letter outside the model's alphabets that make a text foreign: at least
/// this many, and one content word in [`FOREIGN_SHARE`] (a name such as "Łódź" in an
/// English sentence is not enough).
const FOREIGN_MIN_WORDS: usize = 2;
const FOREIGN_SHARE: usize = 6;

/// A Latin letter that none of the model's languages (en fr de es pt id ms tl vi) writes:
/// Polish, Czech, Slovak, Romanian, Turkish, Hungarian, Baltic and Nordic letters. "ă"
/// and "đ" are Vietnamese too, so they are not among them.
fn outside_model_alphabets(c: char) -> bool {
    let lower = c.to_lowercase().next().unwrap_or(c);
    matches!(
        lower,
        'ł' | 'ą'
            | 'ę'
            | 'ś'
            | 'ź'
            | 'ż'
            | 'ć'
            | 'ń'
            | 'ř'
            | 'ů'
            | 'ě'
            | 'č'
            | 'š'
            | 'ž'
            | 'ť'
            | 'ď'
            | 'ň'
            | 'ľ'
            | 'ĺ'
            | 'ŕ'
            | 'ő'
            | 'ű'
            | 'ș'
            | 'ş'
            | 'ț'
            | 'ţ'
            | 'ğ'
            | 'ı'
            | 'å'
            | 'ø'
            | 'ā'
            | 'ē'
            | 'ī'
            | 'ū'
            | 'ų'
            | 'ė'
            | 'į'
            | 'ļ'
            | 'ķ'
            | 'ņ'
            | 'ģ'
    )
}

fn is_vowel(c: char) -> bool {
    // Looked up for the Latin letters below U+2000 (Vietnamese, European), as working it
    // out takes a decomposition per accented letter.
    static SET: OnceLock<crate::text::CharSet> = OnceLock::new();
    SET.get_or_init(|| crate::text::CharSet::new(0x2000, vowel_or_not))
        .get(c)
        .unwrap_or_else(|| vowel_or_not(c))
}

fn vowel_or_not(c: char) -> bool {
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
    fn letters_no_model_language_writes_leave_the_text_undetermined() {
        let d = default_detector();
        // Polish, which the model does not know: not the nearest known language.
        let pl = "Policja zatrzymała mężczyznę, który w piątek wieczorem ukradł samochód \
                  sprzed sklepu przy ulicy Głównej. Sprawca usłyszał już zarzuty.";
        assert_eq!(d.evidence(pl).best(), "und");
        // A Polish name in an English sentence leaves it English.
        let en = "The mayor of Łódź said on Friday that the city would open three new \
                  schools next year and hire more teachers for them.";
        assert_eq!(d.evidence(en).best(), "en");
        assert!(outside_model_alphabets('Ł') && outside_model_alphabets('ș'));
        assert!(!outside_model_alphabets('ă') && !outside_model_alphabets('ñ'));
    }

    #[test]
    fn long_text_is_sampled_from_end_to_end_without_cut_words() {
        let short = "Hội nghị đã thu hút đông đảo đại biểu.";
        assert!(matches!(sample(short), Cow::Borrowed(_)));
        let words: Vec<String> = (0..400).map(|i| format!("w{i}ộ")).collect();
        let text = words.join(" ");
        let s = sample(&text);
        assert!(
            s.len() <= SAMPLE_BYTES && s.len() > SAMPLE_BYTES / 2,
            "{}",
            s.len()
        );
        // Whole words only, from the start, the middle and the end.
        assert!(s.split(' ').all(|w| words.iter().any(|x| x == w)), "{s}");
        assert!(s.starts_with("w0ộ ") && s.ends_with(" w399ộ"), "{s}");
        assert!(s.contains("w200ộ") || s.contains("w150ộ"), "{s}");
        // Text without spaces is cut anywhere, on character boundaries.
        let ja = "彼は質問を繰り返しました。".repeat(60);
        let s = sample(&ja);
        assert!(s.len() <= SAMPLE_BYTES + SAMPLE_WINDOWS, "{}", s.len());
        assert!(s.split(' ').all(|w| ja.contains(w)));
    }

    #[test]
    fn long_paragraphs_keep_their_language_and_margins_scale() {
        let d = default_detector();
        let en = "The conference attracted a large number of domestic and foreign delegates, \
                  who discussed trade, investment and the exchange of students. ";
        let one = d.evidence(en);
        let long = d.evidence(&en.repeat(40));
        assert_eq!((long.best(), long.reliable()), ("en", true));
        // Scores stand for the whole text: forty times the sentence, about forty times
        // the lead (sampled windows do not start and end where the sentences do).
        let ratio = long.margin() / one.margin();
        assert!((25.0..60.0).contains(&ratio), "{ratio}");
        assert!(long.content > 20 * one.content, "{}", long.content);
        // A Vietnamese name or two in a long English text: English.
        let names =
            "Prime Minister Phạm Minh Chính and Deputy Minister Đỗ Hùng Việt met the delegation. ";
        let e = d.evidence(&format!("{names}{}", en.repeat(30)));
        assert_eq!((e.best(), e.script), ("en", false));
        // Long French after English: the sample reads from all over, so French wins on
        // its share, as read whole.
        let fr = "La coopération entre les deux pays est dans sa meilleure phase de son histoire. ";
        let e = d.evidence(&format!("{}{}", en.repeat(5), fr.repeat(40)));
        assert_eq!(e.best(), "fr");
    }

    #[test]
    fn dense_vietnamese_letters_settle_vietnamese() {
        let d = default_detector();
        let vi = "Hội nghị đã thu hút đông đảo đại biểu trong và ngoài nước tham dự.";
        for t in [vi.to_string(), vi.repeat(50)] {
            let e = d.evidence(&t);
            assert_eq!(
                (e.best(), e.script, e.reliable(), e.plain),
                ("vi", true, true, false)
            );
        }
        // Too few such letters for the shortcut: the model decides, and agrees.
        let e = d.evidence("Tôi đi học.");
        assert_eq!((e.best(), e.latin), ("vi", true));
    }

    #[test]
    fn cached_word_scores_are_the_computed_ones() {
        let model = model::shared().unwrap();
        let n = model.codes().len();
        let mut buf = Vec::new();
        // Cased, punctuated, expanding in lower case, beyond the cache's length.
        let long = "x".repeat(30);
        let words = [
            "the",
            "The",
            "Người",
            "NGƯỜI",
            "Starbucks",
            "internationalisation",
            "a",
            "U.S.",
            "don't",
            "İstanbul",
            "ΣΟΦΟΣ",
            &long,
        ];
        let direct: Vec<Scores> = words
            .iter()
            .map(|w| {
                let mut direct: Scores = [0.0; MAX_LANGS];
                let lower: Vec<char> = w
                    .chars()
                    .flat_map(char::to_lowercase)
                    .filter(|&c| crate::text::is_alphabetic(c))
                    .collect();
                model.word_logprob(&lower, &mut direct);
                let best = direct[..n]
                    .iter()
                    .copied()
                    .fold(f32::NEG_INFINITY, f32::max);
                for x in &mut direct[..n] {
                    *x = x.max(best - WORD_CAP);
                }
                direct
            })
            .collect();
        // One word at a time, then batches with repeats in them; the first calls fill
        // the cache, later ones read it.
        for (w, direct) in words.iter().zip(&direct) {
            for _ in 0..2 {
                let mut got = [[0.0; MAX_LANGS]];
                word_scores(model, &[(w, 1.0)], &mut buf, &mut got);
                assert_eq!(got[0][..n], direct[..n], "{w}");
            }
        }
        let order: Vec<usize> = (0..3 * words.len()).map(|i| i * 7 % words.len()).collect();
        for batch in order.chunks(SCORE_BATCH) {
            let items: Vec<(&str, f32)> = batch.iter().map(|&i| (words[i], 1.0)).collect();
            let mut got = vec![[0.0; MAX_LANGS]; items.len()];
            word_scores(model, &items, &mut buf, &mut got);
            for (&i, got) in batch.iter().zip(&got) {
                assert_eq!(got[..n], direct[i][..n], "{}", words[i]);
            }
        }
        // Added up with their weights, in order, as one word at a time would.
        let weights: Vec<f32> = (0..order.len()).map(|i| 0.5 + i as f32 / 8.0).collect();
        let mut scoring = Scoring {
            model,
            buf: Vec::new(),
            scores: [0.0; MAX_LANGS],
            weight: 0.0,
        };
        scoring.add_all(order.iter().zip(&weights).map(|(&i, &w)| (words[i], w)));
        let mut expected: Scores = [0.0; MAX_LANGS];
        for (&i, &w) in order.iter().zip(&weights) {
            for (e, d) in expected[..n].iter_mut().zip(&direct[i][..n]) {
                *e += w * d;
            }
        }
        assert_eq!(scoring.scores[..n], expected[..n]);
        assert_eq!(scoring.weight, weights.iter().sum::<f32>());
    }

    #[test]
    fn vowel_table_agrees_with_the_rule() {
        for u in 0..0x3000 {
            if let Some(c) = char::from_u32(u) {
                assert_eq!(is_vowel(c), vowel_or_not(c), "{u:#x}");
            }
        }
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
