//! Words glued together by lost line breaks ("Hanoion November 16", "Dungsaid",
//! "TheVietnamese", "Economic,trade"): split where corpus word statistics say both halves
//! are common words and the glued form is not one.
//!
//! Precision first: a real word is never split when the corpus prints it more than once,
//! and both halves must be words the corpus prints on their own several times, or, for a
//! small corpus, words the tokenizer's vocabulary ranks among its commonest (with checks
//! that keep closed compounds such as "landlocked" whole). In English, contractions
//! ("that'snot"), numbers ("than29,000") and rare words beside function words
//! ("andmorbidity") are split too.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

use super::counts::{forget_threshold, in_batches, CountClasses, CountTable};

/// Hash tables with a fast, fixed-seed hash: the same on every run.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::FixedState>;

/// How often each word (lower-cased letter run) appears in the corpus.
///
/// Memory is bounded: when the table reaches its cap, the rarest words are forgotten, those
/// seen once first (the long tail of names and typos: a word seen once is not evidence);
/// see [`forget_threshold`].
#[derive(Debug, Clone)]
pub struct WordStats {
    /// Words of up to 15 bytes (nearly all), packed by [`short_key`] (as two halves, which
    /// need no 16-byte alignment): no allocation per word and no pointer to follow on a
    /// lookup.
    short: CountTable<(u64, u64)>,
    /// Longer words. With `short`, at most `cap` words in all.
    long: HashMap<Box<str>, u32>,
    /// Adjacent word pairs, by hash: how often `left right` is printed apart.
    pairs: CountTable<u64>,
    cap: usize,
}

/// How many events ahead [`WordStats::add_events`] asks for a table slot: far enough for
/// the memory to answer, near enough for the slot to stay in the cache until used.
const PREFETCH_AHEAD: usize = 32;

/// A word of at most 15 bytes as one number: its bytes, then zeros, its length in the
/// last byte (so distinct words get distinct keys); `None` for longer words.
///
/// Built from two overlapping loads rather than a copy into a buffer: a copy of a few
/// bytes is a call to `memcpy`, and every word counted or looked up makes a key.
fn short_key(word: &str) -> Option<u128> {
    let b = word.as_bytes();
    let n = b.len();
    let le64 = |at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[at..at + 8]);
        u64::from_le_bytes(w)
    };
    let le32 = |at: usize| {
        let mut w = [0u8; 4];
        w.copy_from_slice(&b[at..at + 4]);
        u64::from(u32::from_le_bytes(w))
    };
    // The last load ends at the word's end; shifted right, only its bytes past the
    // first load stay, at the bottom.
    let (lo, hi) = match n {
        0 => (0, 0),
        1..=3 => {
            let at = |i: usize| b.get(i).map_or(0, |&x| u64::from(x));
            (at(0) | at(1) << 8 | at(2) << 16, 0)
        }
        4..=7 => (le32(0) | (le32(n - 4) >> ((8 - n) * 8)) << 32, 0),
        8 => (le64(0), 0),
        9..=15 => (le64(0), le64(n - 8) >> ((16 - n) * 8)),
        _ => return None,
    };
    Some(u128::from(lo) | u128::from(hi) << 64 | (n as u128) << 120)
}

/// Letters, digits and the apostrophe inside a word.
fn word_char(c: char) -> bool {
    crate::text::is_alphanumeric(c) || c == '\'' || c == '’'
}

fn pair_key(left: &str, right: &str) -> u64 {
    // Short ASCII and Latin words (nearly all) are keyed from their bytes, with no
    // lower-cased copy.
    let id = |w: &str| lower_key(w).unwrap_or_else(|| word_id(&crate::text::to_lower(w)));
    pair_key_ids(id(left), id(right))
}

/// [`pair_key`] of two words by their [`word_id`]. A fixed seed, so the same key on every
/// run; the quality variant, as the table keeps only this hash of each pair.
fn pair_key_ids(left: u128, right: u128) -> u64 {
    use std::hash::BuildHasher;
    foldhash::quality::FixedState::default().hash_one((left, right))
}

/// What one text adds to [`WordStats`]: computed apart from the tables, so threads can
/// split and lower-case texts in parallel while one thread counts them in input order.
#[derive(Debug, Default, Clone)]
pub struct WordEvents {
    /// The counted words, lower-cased, in text order: a [`short_key`], or for a longer
    /// word its place in `long` (see [`long_ref`]). Keys made here spare the counting
    /// thread splitting and packing the words.
    words: Vec<u128>,
    /// The longer words, back to back.
    long: String,
    /// Keys of adjacent word pairs, in text order.
    pairs: Vec<u64>,
    /// Where each word is lower-cased.
    buf: String,
}

/// Last byte of a [`long_ref`]; a [`short_key`] has the word's length, 1 to 15, there.
const LONG_REF: u128 = 0xFF << 120;
/// Last byte of a [`word_id`] of a longer word.
const LONG_ID: u128 = 0xFE << 120;

/// The `len` bytes at `start` of [`WordEvents::long`], as an entry of its `words`.
fn long_ref(start: usize, len: usize) -> u128 {
    start as u128 | (len as u128) << 64 | LONG_REF
}

/// A word as the pair table sees it: its [`short_key`], else a hash (only pairs are kept
/// by hash, and a hash collision is as unlikely as one of the pair hash).
fn word_id(word: &str) -> u128 {
    use std::hash::BuildHasher;
    short_key(word).unwrap_or_else(|| {
        u128::from(foldhash::quality::FixedState::default().hash_one(word)) | LONG_ID
    })
}

/// A word of [`WordEvents`], for counting.
enum Word<'a> {
    Short(u128),
    Long(&'a str),
}

impl WordEvents {
    /// Split `text` into its counted words and word pairs.
    pub fn of(text: &str) -> Self {
        Self::of_texts(std::slice::from_ref(&text))
    }

    /// [`of`](WordEvents::of) several texts, whose pairs do not cross from one to the next.
    pub fn of_texts(texts: &[&str]) -> Self {
        // Sized for a word every four bytes, more than news text prints (Vietnamese: one
        // in ~4.7, English one in ~6): the lists then never grow word by word.
        let bytes: usize = texts.iter().map(|t| t.len()).sum();
        let mut ev = WordEvents {
            words: Vec::with_capacity(bytes / 4 + 1),
            pairs: Vec::with_capacity(bytes / 4 + 1),
            ..WordEvents::default()
        };
        texts.iter().for_each(|t| ev.push_text(t));
        ev
    }

    /// Add the words and pairs of one more text (pairs do not cross texts).
    pub fn push_text(&mut self, text: &str) {
        // The previous word's id, while it can be the left half of a pair.
        let mut prev: Option<u128> = None;
        for token in Words::new(text) {
            // Most tokens are short ASCII words (letters, digits, apostrophes, a letter
            // among them): nothing to trim, and the key is made from the bytes directly.
            let b = token.as_bytes();
            if b.len() <= 15
                && b.iter().all(|&x| x.is_ascii_alphanumeric() || x == b'\'')
                && b.iter().any(u8::is_ascii_alphabetic)
            {
                let key = lower_key_of_short_ascii(b);
                self.words.push(key);
                if let Some(p) = prev {
                    self.pairs.push(pair_key_ids(p, key));
                }
                prev = b
                    .last()
                    .is_some_and(u8::is_ascii_alphanumeric)
                    .then_some(key);
                continue;
            }
            // Most of the others are words of ASCII and Latin letters (Vietnamese).
            if let Some(key) = latin_word_key(b) {
                self.words.push(key);
                if let Some(p) = prev {
                    self.pairs.push(pair_key_ids(p, key));
                }
                prev = Some(key);
                continue;
            }
            // A token with punctuation inside ("Economic,trade") is not counted as a pair.
            let core = token.trim_matches(|c: char| !word_char(c));
            self.buf.clear();
            if !push_plain_word(&mut self.buf, core) {
                prev = None;
                for w in token.split(|c: char| !word_char(c)) {
                    if !w.is_empty()
                        && w.chars().count() <= 40
                        && w.chars().any(crate::text::is_alphabetic)
                    {
                        self.buf.clear();
                        crate::text::push_lower(&mut self.buf, w);
                        self.push_word();
                    }
                }
                continue;
            }
            let key = self.push_word();
            let id = if key & LONG_REF == LONG_REF {
                word_id(&self.buf)
            } else {
                key
            };
            if let Some(p) = prev {
                self.pairs.push(pair_key_ids(p, id));
            }
            // A sentence or clause boundary ends the pair chain.
            prev = token.ends_with(crate::text::is_alphanumeric).then_some(id);
        }
    }

    /// Count the word in `buf`; the entry made in `words`.
    fn push_word(&mut self) -> u128 {
        let key = short_key(&self.buf).unwrap_or_else(|| {
            let start = self.long.len();
            self.long.push_str(&self.buf);
            long_ref(start, self.buf.len())
        });
        self.words.push(key);
        key
    }

    /// The counted words, in text order.
    fn words(&self) -> impl Iterator<Item = Word<'_>> {
        self.words.iter().map(|&k| {
            if k & LONG_REF == LONG_REF {
                let start = k as u64 as usize;
                let len = (k >> 64) as u32 as usize;
                Word::Long(self.long.get(start..start + len).unwrap_or_default())
            } else {
                Word::Short(k)
            }
        })
    }
}

/// The lower-case [`short_key`] of a token of ASCII letters and digits and of Latin
/// letters its UTF-8 lead bytes tell (U+00C0–U+01BF but × and ÷, U+1E80–U+1EFF: most
/// Vietnamese syllables), a letter among them, at most 15 bytes once lower-cased: the key
/// [`WordEvents::push_text`]'s general path gives such a token (nothing to trim, every
/// character a letter or digit), without its decoding, trimming and tests of every
/// character. `None` for any other token.
fn latin_word_key(b: &[u8]) -> Option<u128> {
    // The key is built in a register: byte stores into an array read back as one
    // 16-byte value stalled on every word (a store cannot be forwarded to a wider load).
    let mut key = 0u128;
    let (mut i, mut n, mut letter) = (0, 0, false);
    while i < b.len() {
        let x = b[i];
        if x < 0x80 {
            if x.is_ascii_alphabetic() {
                letter = true;
            } else if !x.is_ascii_digit() {
                return None;
            }
            if n == 15 {
                return None;
            }
            key |= u128::from(x.to_ascii_lowercase()) << (8 * n);
            n += 1;
            i += 1;
            continue;
        }
        // The ranges hold no digit and no punctuation but × and ÷ (C3 97, C3 B7).
        let (bytes, w, len) = crate::text::latin_letter_lower(&b[i..])?;
        if matches!(bytes, 0x97C3 | 0xB7C3) {
            return None;
        }
        letter = true;
        if n + w > 15 {
            return None;
        }
        key |= u128::from(bytes) << (8 * n);
        n += w;
        i += len;
    }
    if !letter {
        return None;
    }
    Some(key | (n as u128) << 120)
}

/// Append `core` in lower case, as [`crate::text::push_lower`] does, if it is a word
/// counted whole that can be half of a pair: one to 40 characters, all [`word_char`], at
/// least one a letter. Otherwise `false`, having appended part of it. One pass over the
/// characters for the checks and the lower-casing, where separate ones cost four.
fn push_plain_word(out: &mut String, core: &str) -> bool {
    let start = out.len();
    if core.is_ascii() {
        let b = core.as_bytes();
        if b.is_empty()
            || b.len() > 40
            || !b.iter().all(|&x| x.is_ascii_alphanumeric() || x == b'\'')
            || !b.iter().any(u8::is_ascii_alphabetic)
        {
            return false;
        }
        out.push_str(core);
        out[start..].make_ascii_lowercase();
        return true;
    }
    let mut n = 0;
    let mut letter = false;
    let mut sigma = false;
    for c in core.chars() {
        n += 1;
        if n > 40 {
            return false;
        }
        if c.is_ascii() {
            if c.is_ascii_alphabetic() {
                letter = true;
            } else if !(c.is_ascii_digit() || c == '\'') {
                return false;
            }
            out.push(c.to_ascii_lowercase());
        } else {
            if crate::text::is_alphabetic(c) {
                letter = true;
            } else if !(crate::text::is_numeric(c) || c == '’') {
                return false;
            }
            sigma |= c == 'Σ';
            crate::text::push_lower_char(out, c);
        }
    }
    // A final sigma depends on its neighbours: `push_lower` leaves such words to the
    // standard library.
    if sigma {
        out.truncate(start);
        out.push_str(&core.to_lowercase());
    }
    letter
}

impl WordStats {
    /// Tables of at most `cap` distinct words and `cap` distinct word pairs.
    pub fn new(cap: usize) -> Self {
        WordStats {
            short: CountTable::default(),
            long: HashMap::default(),
            pairs: CountTable::default(),
            cap: cap.max(1024),
        }
    }

    /// Distinct words counted.
    #[cfg(test)]
    fn words_len(&self) -> usize {
        self.short.len() + self.long.len()
    }

    /// Occurrences of `word`, already in lower case.
    fn get(&self, word: &str) -> u32 {
        match short_key(word) {
            Some(k) => self.short.get(split_key(k)),
            None => self.long.get(word).copied().unwrap_or(0),
        }
    }

    /// Count the words and adjacent word pairs of one text.
    pub fn add_text(&mut self, text: &str) {
        self.add_events(&WordEvents::of(text));
    }

    /// Count what [`WordEvents::of`] found in a text.
    pub fn add_events(&mut self, ev: &WordEvents) {
        let (mut pairs, mut words) = self.tables_mut();
        pairs.add(ev);
        words.add(ev);
    }

    /// The pair table and the word tables apart, to be filled side by side: each only
    /// depends on its own contents, so as long as each sees the texts in the same order,
    /// the counts (and what the tables forget when full) are those of [`add_events`].
    ///
    /// [`add_events`]: WordStats::add_events
    pub fn tables_mut(&mut self) -> (PairTable<'_>, WordTables<'_>) {
        let cap = self.cap;
        let WordStats {
            short, long, pairs, ..
        } = self;
        (PairTable { pairs, cap }, WordTables { short, long, cap })
    }

    /// Occurrences of `word` (case-insensitive).
    pub fn count(&self, word: &str) -> u32 {
        if let Some(k) = lower_key(word) {
            return self.count_of_key(k);
        }
        if word.chars().all(|c| !c.is_uppercase()) {
            return self.get(word);
        }
        self.get(&crate::text::to_lower(word))
    }

    /// Occurrences of `left right` printed as two words.
    pub fn pair(&self, left: &str, right: &str) -> u32 {
        self.pair_of_key(pair_key(left, right))
    }

    /// [`count`](WordStats::count) of a word whose [`lower_key`] is `key`.
    fn count_of_key(&self, key: u128) -> u32 {
        self.short.get(split_key(key))
    }

    /// Ask the memory for the count of the word whose [`lower_key`] is `key`.
    fn prefetch_word(&self, key: u128) {
        self.short.prefetch(split_key(key));
    }

    /// [`pair`](WordStats::pair) by the pair's [`pair_key`].
    fn pair_of_key(&self, key: u64) -> u32 {
        self.pairs.get(key)
    }

    /// Ask the memory for the slot of the pair keyed `key` ahead of its lookup.
    fn prefetch_pair(&self, key: u64) {
        self.pairs.prefetch(key);
    }
}

/// The pair table of a [`WordStats`] ([`WordStats::tables_mut`]).
pub struct PairTable<'a> {
    pairs: &'a mut CountTable<u64>,
    cap: usize,
}

impl PairTable<'_> {
    /// Count one text's word pairs.
    pub fn add(&mut self, ev: &WordEvents) {
        for (i, &k) in ev.pairs.iter().enumerate() {
            if let Some(&ahead) = ev.pairs.get(i + PREFETCH_AHEAD) {
                self.pairs.prefetch(ahead);
            }
            self.pairs.bump(k, self.cap);
        }
    }
}

/// The word tables of a [`WordStats`] ([`WordStats::tables_mut`]).
pub struct WordTables<'a> {
    short: &'a mut CountTable<(u64, u64)>,
    long: &'a mut HashMap<Box<str>, u32>,
    cap: usize,
}

impl WordTables<'_> {
    /// Count one text's words.
    pub fn add(&mut self, ev: &WordEvents) {
        for (i, w) in ev.words().enumerate() {
            if let Some(&ahead) = ev.words.get(i + PREFETCH_AHEAD) {
                if ahead & LONG_REF != LONG_REF {
                    self.short.prefetch(split_key(ahead));
                }
            }
            self.bump(w);
        }
    }

    /// Distinct words counted.
    fn len(&self) -> usize {
        self.short.len() + self.long.len()
    }

    /// [`bump`] for a word (lower case) across both word tables, allocating only for a
    /// new long word.
    fn bump(&mut self, word: Word) {
        // Looked up here only when the tables are full: the bump below finds the word.
        let known = |s: &Self| match word {
            Word::Short(k) => s.short.get(split_key(k)) != 0,
            Word::Long(w) => s.long.contains_key(w),
        };
        if self.len() >= self.cap && !known(self) {
            // Short and long words are forgotten as one table.
            let mut classes = CountClasses::default();
            self.short.add_classes(&mut classes);
            self.long.values().for_each(|&c| classes.add(c));
            let t = forget_threshold(&classes, self.len());
            self.short.forget_up_to(t);
            self.long.retain(|_, c| *c > t);
        }
        // Present, or room made above: the bump never forgets.
        match word {
            Word::Short(k) => self.short.bump(split_key(k), usize::MAX),
            Word::Long(w) => match self.long.get_mut(w) {
                Some(c) => *c = c.saturating_add(1),
                None => {
                    self.long.insert(w.into(), 1);
                }
            },
        }
    }
}

/// Whole words a tokenizer's vocabulary holds: a glued form that is one of them is a real
/// word, and halves that are both in it are plausible words. A vocabulary lists its
/// entries roughly from the commonest (BPE merges the most frequent pairs first, unigram
/// lists sort by score), so an entry's rank says how common the word is, which a small
/// corpus cannot.
#[derive(Debug, Clone, Default)]
pub struct Lexicon {
    /// Word-initial entries, lower case, with their rank among such entries.
    words: RankTable,
    /// Entries that continue a word ("board" of "keyboard"), with their rank among such
    /// entries: a common one is as likely the second part of a closed compound as a word
    /// of its own.
    pieces: RankTable,
}

/// Lower-case words with their ranks. Words of up to 15 bytes (nearly all) are kept by
/// [`short_key`] in a flat table, as the corpus counts are: the glued-word search looks up
/// every half of every chunk it judges, and a lookup then reads one slot, where a hash
/// map of strings read a control byte, a bucket and the string apart.
#[derive(Debug, Clone, Default)]
struct RankTable {
    /// Rank plus one (0 marks an empty slot).
    short: CountTable<(u64, u64)>,
    long: HashMap<Box<str>, u32>,
}

impl RankTable {
    /// Give `word` (lower case) `rank`, unless it has one.
    fn insert_first(&mut self, word: &str, rank: u32) {
        match short_key(word) {
            Some(k) => {
                if self.short.get(split_key(k)) == 0 {
                    self.short.set(split_key(k), rank.saturating_add(1));
                }
            }
            None => {
                self.long.entry(word.into()).or_insert(rank);
            }
        }
    }

    /// `word`'s rank, whatever its case.
    fn get(&self, word: &str) -> Option<u32> {
        if let Some(k) = lower_key(word) {
            return self.get_by_key(k);
        }
        let lower;
        let word = if word.chars().any(char::is_uppercase) {
            lower = crate::text::to_lower(word);
            lower.as_str()
        } else {
            word
        };
        match short_key(word) {
            Some(k) => self.short.get(split_key(k)).checked_sub(1),
            None => self.long.get(word).copied(),
        }
    }

    /// The rank of the word whose [`lower_key`] is `key`.
    fn get_by_key(&self, key: u128) -> Option<u32> {
        self.short.get(split_key(key)).checked_sub(1)
    }

    fn len(&self) -> usize {
        self.short.len() + self.long.len()
    }
}

/// [`short_key`] of `word` in lower case where it is made from the bytes with no
/// lower-cased copy: an ASCII word of up to 15 bytes, or a word of the letters
/// [`latin_word_key`] reads (most Vietnamese syllables and their halves, which the
/// glued-word search looks up at every split of a chunk it judges). `None` for other words.
fn lower_key(word: &str) -> Option<u128> {
    ascii_lower_key(word).or_else(|| latin_word_key(word.as_bytes()))
}

/// [`short_key`] of an ASCII word of up to 15 bytes in lower case, made from its bytes
/// with no lower-cased copy; `None` for other words.
fn ascii_lower_key(word: &str) -> Option<u128> {
    let b = word.as_bytes();
    (b.len() <= 15 && b.is_ascii()).then(|| lower_key_of_short_ascii(b))
}

/// [`ascii_lower_key`] of bytes the caller knows to be ASCII, at most 15 of them. Copied
/// and lower-cased in one loop: a `copy_from_slice` of a few bytes is a call to `memcpy`
/// per word.
#[inline]
fn lower_key_of_short_ascii(b: &[u8]) -> u128 {
    debug_assert!(b.len() <= 15 && b.is_ascii());
    let mut k = [0u8; 16];
    for (d, &x) in k.iter_mut().zip(b) {
        *d = x.to_ascii_lowercase();
    }
    k[15] = b.len() as u8;
    u128::from_le_bytes(k)
}

impl Lexicon {
    /// Entries of a `tokenizer.json` vocabulary: byte-level BPE (`Ġword` starts a word),
    /// SentencePiece (`▁word`) or WordPiece (`##piece` continues one). Only entries of two
    /// or more letters are kept. An unreadable file gives an empty lexicon.
    pub fn from_tokenizer_json(json: &[u8]) -> Self {
        let mut lexicon = Lexicon::default();
        // Typed, so the parser skips the merges and reads the vocabulary only.
        let mut entries: Vec<(String, f64)> = match serde_json::from_slice::<TokenizerJson>(json) {
            Ok(TokenizerJson {
                model:
                    ModelJson {
                        vocab: Some(VocabKeys(keys)),
                    },
            }) => keys,
            _ => return lexicon,
        };
        // In id order (a stable sort: list positions are already in order).
        entries.sort_by(|a, b| a.1.total_cmp(&b.1));
        let byte_level = entries.iter().any(|e| e.0.starts_with('Ġ'));
        let sentencepiece = !byte_level && entries.iter().any(|e| e.0.starts_with('▁'));
        let unbyte = byte_decoder();
        for (e, _) in &entries {
            let (initial, body) = if byte_level {
                match e.strip_prefix('Ġ') {
                    Some(rest) => (true, rest),
                    None => (false, e.as_str()),
                }
            } else if sentencepiece {
                match e.strip_prefix('▁') {
                    Some(rest) => (true, rest),
                    None => (false, e.as_str()),
                }
            } else if let Some(rest) = e.strip_prefix("##") {
                (false, rest)
            } else {
                (true, e.as_str())
            };
            let word = if byte_level {
                let bytes: Option<Vec<u8>> =
                    body.chars().map(|c| unbyte.get(&c).copied()).collect();
                match bytes.and_then(|b| String::from_utf8(b).ok()) {
                    Some(w) => w,
                    None => continue,
                }
            } else {
                body.to_string()
            };
            if word.chars().count() >= 2 && word.chars().all(crate::text::is_alphabetic) {
                let table = match initial {
                    true => &mut lexicon.words,
                    false => &mut lexicon.pieces,
                };
                let rank = table.len() as u32;
                table.insert_first(&crate::text::to_lower(&word), rank);
            }
        }
        lexicon
    }

    pub fn contains(&self, word: &str) -> bool {
        self.rank(word).is_some()
    }

    /// [`contains`](Lexicon::contains) of a word whose [`lower_key`] is `key`.
    fn contains_key(&self, key: u128) -> bool {
        self.words.get_by_key(key).is_some()
    }

    /// Ask the memory for the rank of the word whose [`lower_key`] is `key`.
    fn prefetch(&self, key: u128) {
        self.words.short.prefetch(split_key(key));
    }

    /// The word's rank among the word-initial entries (0: the commonest), if it is one.
    pub fn rank(&self, word: &str) -> Option<u32> {
        self.words.get(word)
    }

    /// The rank of `piece` among the entries that continue a word, if it is one.
    pub fn piece_rank(&self, piece: &str) -> Option<u32> {
        self.pieces.get(piece)
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.len() == 0
    }
}

/// The part of a `tokenizer.json` the lexicon reads.
#[derive(serde::Deserialize)]
struct TokenizerJson {
    model: ModelJson,
}

#[derive(serde::Deserialize)]
struct ModelJson {
    #[serde(default)]
    vocab: Option<VocabKeys>,
}

/// The entries of a vocabulary with their order: the keys of `{"piece": id, ...}` (BPE,
/// WordPiece, WordLevel) with their ids, or the first items of `[["piece", score], ...]`
/// (Unigram) with their positions.
struct VocabKeys(Vec<(String, f64)>);

impl<'de> serde::Deserialize<'de> for VocabKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
        struct Keys;
        impl<'de> Visitor<'de> for Keys {
            type Value = VocabKeys;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a vocabulary object or list")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<VocabKeys, A::Error> {
                let mut keys = Vec::new();
                while let Some(k) = map.next_key::<String>()? {
                    let id = map.next_value::<f64>()?;
                    keys.push((k, id));
                }
                Ok(VocabKeys(keys))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<VocabKeys, A::Error> {
                let mut keys = Vec::new();
                while let Some((k, _)) = seq.next_element::<(String, IgnoredAny)>()? {
                    let at = keys.len() as f64;
                    keys.push((k, at));
                }
                Ok(VocabKeys(keys))
            }
        }
        d.deserialize_any(Keys)
    }
}

/// The inverse of GPT-2's byte-to-printable-character table used by byte-level BPE.
fn byte_decoder() -> HashMap<char, u8> {
    let mut printable: Vec<u32> = (b'!' as u32..=b'~' as u32).collect();
    printable.extend(0xA1..=0xAC);
    printable.extend(0xAE..=0xFF);
    let mut map = HashMap::default();
    let mut extra = 0u32;
    for b in 0u32..=255 {
        let c = if printable.contains(&b) {
            b
        } else {
            extra += 1;
            255 + extra
        };
        if let (Some(ch), Ok(byte)) = (char::from_u32(c), u8::try_from(b)) {
            map.insert(ch, byte);
        }
    }
    map
}

/// Word-initial vocabulary entries ranked below this are common words.
const COMMON_RANK: u32 = 40000;
/// Word-continuing vocabulary entries ranked below this often end compounds.
const TAIL_RANK: u32 = 3000;

/// A half this long is a word of its own, not a compound's stem.
const LONG_HALF: usize = 7;

/// Longest chunk considered as two glued words.
const MAX_GLUED_CHARS: usize = 48;

/// The repair, given corpus word statistics and a lexicon.
#[derive(Debug, Clone, Copy)]
pub struct Unglue<'a> {
    words: &'a WordStats,
    lexicon: &'a Lexicon,
    /// Occurrences each half needs on its own.
    min_part: u32,
    /// Tells this repair's memo entries from those of another (see [`MEMO`]).
    id: u64,
    /// The text being repaired reads as English, so the English function words are
    /// evidence; in other languages "on", "by", "war" and "was" are pieces of words.
    english: bool,
}

/// Chunk → its repair (`None`: left as it is). Chunks of up to 15 bytes, nearly all,
/// are keyed by [`short_key`] in a flat table ([`CountTable`]): a lookup then hashes one
/// number and finds it in one slot, with no string behind a pointer to read and compare,
/// and no control byte apart from the entry (the memo is larger than the core's cache,
/// and each of those was a cache miss). The repairs themselves (few) are kept aside and
/// the tables hold their place plus one, 1 for none.
#[derive(Default)]
struct Memo {
    short: CountTable<(u64, u64)>,
    long: HashMap<Box<str>, u32>,
    repairs: Vec<Box<str>>,
}

impl Memo {
    /// `Some(answer)` when `chunk`, whose [`short_key`] is `key`, was judged already.
    fn get(&self, chunk: &str, key: Option<u128>) -> Option<Option<&str>> {
        let place = match key {
            Some(k) => self.short.get(split_key(k)),
            None => self.long.get(chunk).copied().unwrap_or(0),
        };
        match place {
            0 => None,
            1 => Some(None),
            p => Some(self.repairs.get(p as usize - 2).map(|r| &**r)),
        }
    }

    /// Remember an answer, starting over when [`MEMO_CAP`] chunks are remembered.
    fn insert(&mut self, chunk: &str, key: Option<u128>, answer: Option<&str>) {
        if self.short.len() + self.long.len() >= MEMO_CAP {
            self.clear();
        }
        let place = match answer {
            Some(r) => {
                self.repairs.push(r.into());
                self.repairs.len() as u32 + 1
            }
            None => 1,
        };
        match key {
            Some(k) => self.short.set(split_key(k), place),
            None => {
                self.long.insert(chunk.into(), place);
            }
        };
    }

    /// Ask the memory for the slot of a chunk keyed `key` ahead of its lookup.
    fn prefetch(&self, key: u128) {
        self.short.prefetch(split_key(key));
    }

    fn clear(&mut self) {
        self.short.clear();
        self.long.clear();
        self.repairs.clear();
    }
}

/// A [`short_key`] as two halves, which need no 16-byte alignment.
fn split_key(k: u128) -> (u64, u64) {
    (k as u64, (k >> 64) as u64)
}

/// Chunks remembered per thread before the memo starts over. The Vietnamese corpus file
/// prints ~130,000 distinct chunks a thread: at 2^16 its memo started over 5 times, and
/// each time asked again about the common syllables it had just forgotten (396,000
/// judgements; 305,000 at 2^17, 266,000 never starting over). `benches/ab.sh`, that file,
/// 20 rotations: repair −3.5% and −6.6% CPU (lower in 14); Reuters, 8: +1.4% (noise).
/// Twice the entries cost 6 MB more a thread at most.
const MEMO_CAP: usize = 1 << 17;

/// Chunks whose memo slots are fetched together (see [`Unglue::repair_in`]).
const MEMO_BATCH: usize = 16;

thread_local! {
    /// Per worker thread: what [`Unglue::split_chunk`] said about each chunk lately,
    /// tagged with the repair it belongs to. A corpus prints the same words over and
    /// over (Vietnamese news uses a few thousand syllables), so most chunks are answered
    /// from here; the answer depends only on the chunk and the repair's fixed tables.
    /// One memo per value of [`Unglue::english`].
    static MEMO: RefCell<(u64, [Memo; 2])> = RefCell::new((0, Default::default()));
}

impl<'a> Unglue<'a> {
    pub fn new(words: &'a WordStats, lexicon: &'a Lexicon, min_part: u32) -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        Unglue {
            words,
            lexicon,
            min_part,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            english: true,
        }
    }

    /// An English function word, when the text is English.
    fn function_word(&self, w: &str) -> bool {
        self.english && is_function_word(w)
    }

    /// [`split_chunk`](Unglue::split_chunk), remembered in `memo`; `key` is the chunk's
    /// [`short_key`].
    fn split_chunk_memo(&self, chunk: &str, key: Option<u128>, memo: &mut Memo) -> Option<String> {
        if chunk.len() > 4 * MAX_GLUED_CHARS + 8 {
            return self.split_chunk(chunk);
        }
        if let Some(answer) = memo.get(chunk, key) {
            return answer.map(str::to_string);
        }
        let answer = self.split_chunk(chunk);
        memo.insert(chunk, key, answer.as_deref());
        answer
    }

    /// Repair the blocks of one document, but only when enough of its words look glued:
    /// a scraper that loses line breaks loses them all through the article, while a clean
    /// article only offers the odd rare compound, which is better left alone.
    /// Returns the number of blocks changed.
    pub fn repair_document(&self, blocks: &mut [&mut String], min_share: f64) -> usize {
        // The language is judged over the whole document: a short block says little.
        let english = blocks
            .iter()
            .map(|b| english_markers(b))
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
        let this = Unglue {
            english: reads_english(english),
            ..*self
        };
        let repaired: Vec<Option<String>> = blocks.iter().map(|b| this.repair_in(b)).collect();
        if repaired.iter().all(Option::is_none) {
            return 0;
        }
        // The markers were counted over the words `split_whitespace` gives.
        let words = english.0;
        let splits: usize = blocks
            .iter()
            .zip(&repaired)
            .filter_map(|(b, r)| {
                r.as_ref()
                    .map(|r| english_markers(r).0 - english_markers(b).0)
            })
            .sum();
        if words == 0 || (splits as f64) < min_share * words as f64 {
            return 0;
        }
        let mut changed = 0;
        for (b, r) in blocks.iter_mut().zip(repaired) {
            if let Some(r) = r {
                **b = r;
                changed += 1;
            }
        }
        changed
    }

    /// The text with glued words split, or `None` when nothing changed.
    pub fn repair(&self, text: &str) -> Option<String> {
        Unglue {
            english: reads_english(english_markers(text)),
            ..*self
        }
        .repair_in(text)
    }

    /// [`repair`](Unglue::repair) with the language already judged.
    fn repair_in(&self, text: &str) -> Option<String> {
        // The thread's memo is looked up once per text, not once per chunk.
        MEMO.with(|m| {
            let mut m = m.borrow_mut();
            if m.0 != self.id {
                m.0 = self.id;
                m.1.iter_mut().for_each(Memo::clear);
            }
            let memo = &mut m.1[usize::from(self.english)];
            // The copy starts at the first repair: most texts have none.
            let mut out: Option<String> = None;
            let mut copied = 0;
            // The memo is larger than the core's cache and nearly every lookup missed it,
            // one after another: the chunks are taken MEMO_BATCH at a time, their slots
            // asked for first, so the misses overlap. Each key is made once.
            // Each chunk is sliced once (every slice checks its ends).
            let chunks = SpaceSplit::new(text.as_bytes()).filter_map(|(start, end)| {
                let chunk = text.get(start..end)?;
                (!never_split(chunk)).then(|| (start, end, chunk, short_key(chunk)))
            });
            in_batches::<_, MEMO_BATCH>(chunks, |batch| {
                batch
                    .iter()
                    .filter_map(|c| c.3)
                    .for_each(|k| memo.prefetch(k));
                for &(start, end, chunk, key) in batch {
                    if let Some(fixed) = self.split_chunk_memo(chunk, key, memo) {
                        let o = out.get_or_insert_with(|| String::with_capacity(text.len() + 8));
                        o.push_str(&text[copied..start]);
                        o.push_str(&fixed);
                        copied = end;
                    }
                }
            });
            out.map(|mut o| {
                o.push_str(&text[copied..]);
                o
            })
        })
    }

    /// A half is a word when the corpus prints it on its own often enough and, when a
    /// lexicon is available, the lexicon has it too.
    fn known(&self, w: &str) -> bool {
        let n = w.chars().count();
        if n == 1 {
            // One-letter words are only real as "a" and "I".
            return matches!(w, "a" | "A" | "I") && self.words.count(w) >= 1;
        }
        self.lexicon.contains(w) || self.words.count(w) >= self.min_part
    }

    /// [`known`](Unglue::known) of a word whose [`lower_key`] is `key`.
    fn known_by_key(&self, w: &str, key: u128) -> bool {
        if w.chars().nth(1).is_none() {
            return self.known(w);
        }
        self.lexicon.contains_key(key) || self.words.count_of_key(key) >= self.min_part
    }

    /// Whether `left right` is a likely pair of words rather than one compound word.
    /// A function word on either side makes it likely (most glued pairs have one); two
    /// content words, in English only, need each to be common (in the corpus, or by the
    /// vocabulary's rank) and the pair not to look like a closed compound.
    fn plausible_pair(&self, left: &str, right: &str) -> bool {
        let (fl, fr) = (self.function_word(left), self.function_word(right));
        // "Parisian", "teacher": a word ending is not a word of its own.
        if is_suffix(left) || (is_suffix(right) && !fr) {
            return false;
        }
        // "Jacka", "Państwa": a lone letter after a word is an inflection, except "a"
        // after a function word ("fora", "wasa").
        if right.chars().count() == 1 && !fl {
            return false;
        }
        // "butting", "trekking", "herring": a doubled consonant before an ending.
        if doubled_consonant_ending(left, right) {
            return false;
        }
        let rare = |w: &str| w.chars().count() < 5 && self.words.count(w) == 0;
        // "pancre|as", "Gal|an", "Britt|on": a short piece the corpus never prints alone,
        // before a function word that is also a common word ending, is a word's start.
        if fr && !fl && right.chars().count() <= 2 && rare(left) {
            return false;
        }
        // "Is|sam", "And|rey", "To|ei": a capitalised function word before a short piece
        // the corpus never prints alone is the start of a name.
        if fl && !fr && left.starts_with(char::is_uppercase) && rare(right) {
            return false;
        }
        // "overworked", "backstroke", "outperform": these begin closed compounds.
        if !fr && is_compound_head(left) {
            return false;
        }
        // "Dicks|on", "Masters|on": a surname in "-son".
        if right == "on" && left.ends_with('s') && left.starts_with(char::is_uppercase) {
            return false;
        }
        // "Gar|in", "Le|if": a short capitalised word before a short function word, never
        // printed apart, is a name.
        if fr
            && !fl
            && left.starts_with(char::is_uppercase)
            && left.chars().count() <= 4
            && right.chars().count() <= 3
        {
            return false;
        }
        if fl || fr {
            // Function words that are also prefixes ("inaction", "arid", "online") need a
            // word the corpus prints often on the other side.
            if is_prefix_word(left) && !fr {
                return right.chars().count() >= 3
                    && self.common_beyond(right, usize::MAX)
                    && !self.compound_tail(right);
            }
            return true;
        }
        let n = |w: &str| w.chars().count();
        if n(left) < 3 || n(right) < 3 || !self.english || is_compound_ending(right) {
            return false;
        }
        if self.words.count(left) >= self.min_part && self.words.count(right) >= self.min_part {
            // Two short stems before a common word ending ("springboard", "headroom",
            // "fanbase") make a closed compound more often than a lost space.
            let stems = n(left) <= 6 && n(right) <= 6 && !ends_inflected(left);
            return !(stems && self.compound_tail(right));
        }
        // Known common only from the vocabulary's ranks. A closed compound the vocabulary
        // lacks is mostly two short stems ("landlocked", "airbags", "doghouse"), so the
        // left half must end like a whole word (an inflection), or one half be long. The
        // left half must be printed on its own: many vocabulary entries are word starts
        // ("subsidi", "denom").
        let inflected = ends_inflected(left);
        self.common_beyond(left, if inflected { 5 } else { usize::MAX })
            && self.common(right)
            && !self.compound_tail(right)
            && (inflected || n(left) >= LONG_HALF || n(right) >= LONG_HALF)
    }

    /// In English, a word neither the corpus nor the vocabulary knows, glued to a function
    /// word that does not begin or end many words: "and|morbidity", "the|subcontractor",
    /// "dissecting|their", "Armentano|said". Function words that are prefixes ("a",
    /// "in", "be") or common word endings ("is", "as", "on", "and": "Ferdinand") are left
    /// out, as is a capitalised opener ("Theragenics").
    /// `known` is [`known`](Unglue::known) of each half, as the caller has it already.
    fn rare_beside_function_word(&self, left: &str, right: &str, known: (bool, bool)) -> bool {
        let alphabetic = |w: &str| w.chars().all(crate::text::is_alphabetic);
        let (opener, closer) = (in_list(OPENERS, left), in_list(CLOSERS, right));
        if !self.english || !(opener || closer) || !alphabetic(left) || !alphabetic(right) {
            return false;
        }
        let rare = |known: bool, w: &str| !known && w.chars().count() >= 6;
        // "the|irconflict" is "their conflict": a longer function word takes the first
        // letters of the rare half.
        let longer = |k: usize| {
            right
                .char_indices()
                .nth(k)
                .is_some_and(|(at, _)| is_function_word(&format!("{left}{}", &right[..at])))
        };
        if known.0
            && rare(known.1, right)
            && right.chars().all(char::is_lowercase)
            && !(1..=3).any(longer)
            && english_onset(right)
            && left.chars().all(char::is_lowercase)
        {
            // "offal", "officious": "of" begins words before an "f".
            return opener && !(left.eq_ignore_ascii_case("of") && right.starts_with('f'));
        }
        if known.1 && rare(known.0, left) && right.chars().all(char::is_lowercase) {
            return closer;
        }
        false
    }

    /// A common word: the corpus prints it often, or the vocabulary ranks it among its
    /// commonest words.
    fn common(&self, w: &str) -> bool {
        self.common_beyond(w, 5)
    }

    /// [`common`](Unglue::common), where a word the corpus never prints must have at least
    /// `long` letters to count (shorter vocabulary entries are often word starts: "mur",
    /// "slee").
    fn common_beyond(&self, w: &str, long: usize) -> bool {
        let n = self.words.count(w);
        n >= self.min_part
            || ((n >= 1 || w.chars().count() >= long)
                && self.lexicon.rank(w).is_some_and(|r| r < COMMON_RANK))
    }

    /// A piece that often ends closed compounds ("board", "man", "room", "side").
    fn compound_tail(&self, w: &str) -> bool {
        self.lexicon.piece_rank(w).is_some_and(|r| r < TAIL_RANK)
    }

    /// A glued form that is itself a word must not be split. Without a lexicon, a form
    /// the corpus prints twice is a word; with one, the lexicon decides and the corpus
    /// counts are weighed per split (frequent pairs such as "to the" are glued often).
    fn is_word(&self, w: &str) -> bool {
        if self.lexicon.is_empty() {
            return self.words.count(w) >= 2;
        }
        // Short vocabulary entries are as often word pieces ("ata") as words.
        w.chars().count() >= 4 && self.lexicon.contains(w)
    }

    /// Split one space-delimited chunk, keeping its surrounding punctuation.
    fn split_chunk(&self, chunk: &str) -> Option<String> {
        if chunk.len() > 4 * MAX_GLUED_CHARS + 8 || is_handle_or_address(chunk) {
            return None;
        }
        if let Some(fixed) = self.split_at_mark(chunk) {
            return Some(fixed);
        }
        // Leading/trailing punctuation stays where it is.
        let start = chunk.find(word_char)?;
        let end = chunk
            .rfind(word_char)
            .map(|i| i + chunk[i..].chars().next().map_or(1, char::len_utf8))?;
        let core = &chunk[start..end];
        // Two glued words are short; a long run (a URL, a 2 MB "word") is left alone, which
        // also keeps the split search linear in the text.
        let n = core.chars().count();
        if !(3..=MAX_GLUED_CHARS).contains(&n) {
            return None;
        }
        let fixed = self.split_core(core)?;
        Some(format!("{}{}{}", &chunk[..start], fixed, &chunk[end..]))
    }

    fn split_core(&self, core: &str) -> Option<String> {
        // Punctuation glued between two words: "Economic,trade", "trust.The".
        if let Some(fixed) = self.split_at_punct(core) {
            return Some(fixed);
        }
        // A word before a number: "than29,000", "a$7,500", "decreased1.5".
        if let Some(fixed) = self.split_before_number(core) {
            return Some(fixed);
        }
        if !core.chars().all(word_char) {
            return self.split_compound(core);
        }
        // "that'snot", "doesn'taffect": a word glued after a contraction.
        if let Some(fixed) = self.split_after_contraction(core) {
            return Some(fixed);
        }
        // "thetheory's", "thatyou're": the contraction stays on the word it belongs to.
        if let Some(stem) =
            strip_contraction(core).filter(|stem| stem.chars().all(crate::text::is_alphabetic))
        {
            if self.is_word(stem) {
                return None;
            }
            return self
                .split_letters(stem)
                .map(|f| format!("{f}{}", &core[stem.len()..]));
        }
        // A word the corpus prints elsewhere, or the lexicon knows, is a real word.
        if self.is_word(core) {
            return None;
        }
        if let Some(fixed) = self.split_number(core) {
            return Some(fixed);
        }
        self.split_letters(core)
    }

    /// A chunk with a hyphen or a number separator inside: "andmiddle-income" and
    /// "high-incomecountries" are repaired in their outer segments, "14,217healthy" at
    /// the number's end.
    fn split_compound(&self, core: &str) -> Option<String> {
        let segment = |s: &str| {
            (s.chars().count() >= 3 && s.chars().all(word_char))
                .then(|| self.split_core(s))
                .flatten()
        };
        if let (Some(first), Some(last)) = (core.find('-'), core.rfind('-')) {
            let (head, tail) = (&core[..first], &core[last + 1..]);
            let head_fixed = segment(head);
            let tail_fixed = segment(tail);
            if head_fixed.is_none() && tail_fixed.is_none() {
                return None;
            }
            return Some(format!(
                "{}{}{}",
                head_fixed.as_deref().unwrap_or(head),
                &core[first..=last],
                tail_fixed.as_deref().unwrap_or(tail)
            ));
        }
        // Digits with separators, then a word: "14,217healthy", "24.5percent".
        let split = core.find(crate::text::is_alphabetic)?;
        let (number, word) = core.split_at(split);
        // A percentage counts as a number: "16%improvement".
        let digits = number.strip_suffix('%').unwrap_or(number);
        let digits_ok = digits.starts_with(|c: char| c.is_ascii_digit())
            && digits.ends_with(|c: char| c.is_ascii_digit())
            && digits
                .chars()
                .all(|c| c.is_ascii_digit() || c == ',' || c == '.');
        (digits_ok && self.number_word(word)).then(|| format!("{number} {word}"))
    }

    /// A number glued to a word: "11to", "27per", "2013as" (the word after), or "than29"
    /// (a function word before).
    fn split_number(&self, core: &str) -> Option<String> {
        let first_digit = core.find(|c: char| c.is_ascii_digit())?;
        if first_digit == 0 {
            let split = core.find(|c: char| !c.is_ascii_digit())?;
            let word = &core[split..];
            return (word.chars().all(crate::text::is_alphabetic) && self.number_word(word))
                .then(|| format!("{} {word}", &core[..split]));
        }
        let (word, digits) = core.split_at(first_digit);
        (word.chars().all(crate::text::is_alphabetic)
            && word.chars().count() >= 2
            && digits.chars().all(|c| c.is_ascii_digit())
            && self.function_word(word))
        .then(|| format!("{word} {digits}"))
    }

    /// A lower-case word glued to the number after it: "than29,000", "a$7,500",
    /// "decreased1.5", "promises355". Without a currency sign or a separator, a number of
    /// one or two digits follows only a function word: "covid19" and "windows10" are
    /// names.
    fn split_before_number(&self, core: &str) -> Option<String> {
        let at = core.find(|c: char| !c.is_ascii_lowercase())?;
        let (word, number) = core.split_at(at);
        let digits = number.trim_start_matches(['$', '£', '€']);
        let currency = digits.len() < number.len();
        let well_formed = digits.starts_with(|c: char| c.is_ascii_digit())
            && digits.ends_with(|c: char| c.is_ascii_digit())
            && digits
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, ',' | '.' | ':'));
        if word.is_empty() || !well_formed || is_unit(word) {
            return None;
        }
        let long_number = currency || digits.len() >= 3;
        // "i1550" is a model number: one letter is a word only before a currency ("a$5").
        let before = (self.function_word(word) && (word.len() >= 2 || currency))
            || (long_number && word.len() >= 3 && self.common(word))
            || (currency && self.known(word));
        before.then(|| format!("{word} {number}"))
    }

    /// A word glued after a contraction or possessive: "that'snot", "it’scounseling",
    /// "doesn'taffect", "we’rereally". Only the English endings, after the words they
    /// follow, so "O'Sullivan", "Qur'an" and "rock'n'roll" stay whole.
    fn split_after_contraction(&self, core: &str) -> Option<String> {
        let (at, mark) = core.char_indices().find(|&(_, c)| c == '\'' || c == '’')?;
        let head = &core[..at];
        let tail = &core[at + mark.len_utf8()..];
        if head.chars().count() < 2 || !head.chars().all(crate::text::is_alphabetic) {
            return None;
        }
        let lower = head.to_lowercase();
        for ending in ["s", "t", "re", "ve", "ll", "d", "m"] {
            let Some(rest) = tail.strip_prefix(ending) else {
                continue;
            };
            let fits = match ending {
                "s" => true,
                "t" => lower
                    .strip_suffix('n')
                    .is_some_and(|aux| in_list(AUXILIARIES, aux)),
                _ => in_list(PRONOUNS, &lower),
            };
            if !fits || rest.chars().count() < 2 || !rest.chars().all(crate::text::is_alphabetic) {
                continue;
            }
            let word = self.function_word(rest)
                || (!is_suffix(rest) && (self.common(rest) || is_cased_start(rest)));
            if word && !(self.english && rest.chars().count() < 3 && !self.function_word(rest)) {
                let left = &core[..core.len() - rest.len()];
                return Some(format!("{left} {rest}"));
            }
        }
        None
    }

    /// A word that follows a number as a word, not as a unit ("10km", "3rd", "4K" and
    /// "5GHz" are written glued on purpose).
    fn number_word(&self, w: &str) -> bool {
        let n = w.chars().count();
        n >= 2
            && w.chars().all(crate::text::is_alphabetic)
            && w.chars().any(char::is_lowercase)
            && (self.function_word(w)
                || (n >= 3
                    && (self.lexicon.contains(w) || self.words.count(w) >= self.min_part)
                    && !is_unit(w)))
    }

    /// Punctuation that ends one word and starts the next with no space between:
    /// "untreated,this", "activity,”he", "alive.Transcona", "Tairua(including",
    /// "—подчеркнул". Straight double quotes are left alone: "a"self" could open or close.
    fn split_at_mark(&self, chunk: &str) -> Option<String> {
        // Most chunks hold none of the marks below: ruled out in one pass.
        if !chunk.contains([
            '–', '—', '(', '“', '«', '„', ',', ';', ':', '?', '!', '.', '”', '»', ')',
        ]) {
            return None;
        }
        let repair = |s: &str| self.split_chunk(s).unwrap_or_else(|| s.to_string());
        // A dash glued to the word after or before it.
        for dash in ['–', '—'] {
            if let Some(rest) = chunk.strip_prefix(dash) {
                let mut cs = rest.chars();
                if cs.next().is_some_and(is_cased) && cs.next().is_some_and(word_char) {
                    return Some(format!("{dash} {}", repair(rest)));
                }
            }
            if let Some(rest) = chunk.strip_suffix(dash) {
                if rest.ends_with(is_cased) {
                    return Some(format!("{} {dash}", repair(rest)));
                }
            }
        }
        let chars: Vec<(usize, char)> = chunk.char_indices().collect();
        let letter = |k: usize| {
            chars
                .get(k)
                .is_some_and(|&(_, c)| crate::text::is_alphabetic(c))
        };
        // Only scripts with letter case put a space after a mark: Korean particles follow
        // a closing quote ("잘못이냐”고") and CJK runs need no space before a bracket.
        let cased = |k: usize| chars.get(k).is_some_and(|&(_, c)| is_cased(c));
        for k in 2..chars.len() {
            // Two letters before the mark: "U.S.to" and "e.g.the" are not split here.
            if !(letter(k - 1) && letter(k - 2)) {
                continue;
            }
            let (at, c) = chars[k];
            let left = &chunk[..at];
            // An opening bracket or quote glued to the next word.
            if matches!(c, '(' | '“' | '«' | '„')
                && (1..=3).all(|d| letter(k + d))
                && cased(k - 1)
                && cased(k + 1)
            {
                return Some(format!("{} {}", repair(left), &chunk[at..]));
            }
            // Separators, then at most one closing mark.
            let mut j = k;
            let sep = |c: char| matches!(c, ',' | ';' | ':' | '?' | '!');
            let close = |c: char| matches!(c, '”' | '»' | ')');
            match c {
                c if sep(c) => {
                    while chars.get(j).is_some_and(|&(_, c)| sep(c)) {
                        j += 1;
                    }
                    if chars
                        .get(j)
                        .is_some_and(|&(_, c)| close(c) || c == '"' || c == '\'')
                    {
                        j += 1;
                    }
                }
                '.' => {
                    j += 1;
                    if chars.get(j).is_some_and(|&(_, c)| close(c)) {
                        j += 1;
                    }
                    // A new sentence: a capital, then a lower-case letter.
                    let upper = chars.get(j).is_some_and(|&(_, c)| c.is_uppercase());
                    let lower = chars.get(j + 1).is_some_and(|&(_, c)| c.is_lowercase());
                    if !(upper && lower) {
                        continue;
                    }
                }
                c if close(c) => {
                    j += 1;
                    if chars.get(j).is_some_and(|&(_, c)| sep(c) || c == '.') {
                        j += 1;
                    }
                }
                _ => continue,
            }
            if !letter(j) || !cased(j) || !cased(k - 1) {
                continue;
            }
            let at = chars[j].0;
            return Some(format!("{} {}", repair(&chunk[..at]), repair(&chunk[at..])));
        }
        None
    }

    fn split_at_punct(&self, core: &str) -> Option<String> {
        if !core.contains([',', ';', '.', ':', '?', '!']) {
            return None;
        }
        let chars: Vec<(usize, char)> = core.char_indices().collect();
        let inner = chars.len().saturating_sub(1);
        for &(i, c) in chars.iter().take(inner).skip(1) {
            if !matches!(c, ',' | ';' | '.' | ':' | '?' | '!') {
                continue;
            }
            let left = &core[..i];
            let right = &core[i + c.len_utf8()..];
            let alpha = |s: &str| s.chars().count() >= 2 && s.chars().all(is_cased);
            if !alpha(left) || !alpha(right) {
                continue;
            }
            // After a full stop the next sentence starts with a capital; "e.g" and
            // domain names do not.
            if c == '.' && !right.chars().next().is_some_and(char::is_uppercase) {
                continue;
            }
            if self.known(left) && self.known(right) {
                let right = match self.is_word(right) {
                    true => right.to_string(),
                    false => self
                        .split_letters(right)
                        .unwrap_or_else(|| right.to_string()),
                };
                return Some(format!("{left}{c} {right}"));
            }
        }
        None
    }

    /// Two words run together. Case changes and letter/digit boundaries are strong
    /// evidence; a split inside a lower-case run needs both halves to be common words.
    fn split_letters(&self, core: &str) -> Option<String> {
        // Both halves must be letters only: a core with anything else has no split.
        if !core.chars().all(crate::text::is_alphabetic) {
            return None;
        }
        let chars: Vec<(usize, char)> = core.char_indices().collect();
        // The last capital: a right half from `k` has one when `k <= last_upper`.
        let last_upper = chars.iter().rposition(|&(_, c)| c.is_uppercase());
        // How often the corpus prints the whole chunk, looked up once for all splits.
        let glued = std::cell::OnceCell::new();
        let glued = || *glued.get_or_init(|| self.words.count(core));
        // Each split's first lookup (below) is nearly always a cache miss in a table of
        // millions of entries: outside English the pair's count, in English the left
        // half's rank and count. Their keys are made once, and their slots asked for
        // before the first lookup, so the misses overlap.
        let mut pair_keys = [0u64; MAX_GLUED_CHARS];
        let mut left_keys = [None; MAX_GLUED_CHARS];
        let keyed = chars.len() <= MAX_GLUED_CHARS;
        if keyed {
            for k in 1..chars.len() {
                let (i, c) = chars[k];
                let case_break = chars[k - 1].1.is_lowercase() && c.is_uppercase();
                // The splits the loop passes over before those lookups, as it does.
                if case_break || last_upper.is_some_and(|u| k <= u) {
                    continue;
                }
                if self.english {
                    left_keys[k] = lower_key(&core[..i]);
                    if let Some(key) = left_keys[k] {
                        self.lexicon.prefetch(key);
                        self.words.prefetch_word(key);
                    }
                } else {
                    let key = pair_key(&core[..i], &core[i..]);
                    self.words.prefetch_pair(key);
                    pair_keys[k] = key;
                }
            }
        }
        let mut best: Option<((u32, f64), usize, bool)> = None;
        let mut fallback: Option<usize> = None;
        for k in 1..chars.len() {
            let (i, c) = chars[k];
            let prev = chars[k - 1].1;
            let left = &core[..i];
            let right = &core[i..];
            let case_break = prev.is_lowercase() && c.is_uppercase();
            // Inside a word, the right half is lower case ("Hanoion") or starts a
            // capitalised word ("TheVietnamese").
            if !case_break && last_upper.is_some_and(|u| k <= u) {
                continue;
            }
            // A capital inside a word the corpus prints more than once is a brand
            // ("SoftBank", "WeWork"), not a lost space. After a function word the name
            // need not be known ("andViviane", "inThailand").
            if case_break {
                // One lower-case letter first is a brand's style ("iPhone", "eBay"), and
                // two letters that are no word make a name or a brand ("McAllen", "SoFi").
                if left.chars().count() <= 2 && !self.function_word(left) {
                    continue;
                }
                let name_after_function_word =
                    left.len() >= 2 && self.function_word(left) && right.chars().count() >= 2;
                // Glued more than once, the pair must also be printed apart as often:
                // "the|Internet", "United|States" (but "DoorDash" is a name).
                let glued = glued();
                let often_apart = glued <= self.words.pair(left, right);
                if (glued <= 1 || often_apart)
                    && (name_after_function_word || (self.known(left) && self.known(right)))
                {
                    return Some(format!("{left} {right}"));
                }
                continue;
            }
            // Outside English the only evidence is the pair printed apart (the other
            // tests need English), and a split never printed apart scores below any that
            // was: it can neither be taken nor stand in the way of one. One lookup then
            // rules out most splits, before the halves' two or four.
            let apart_outside_english = || match keyed {
                true => self.words.pair_of_key(pair_keys[k]),
                false => self.words.pair(left, right),
            };
            if !self.english && apart_outside_english() == 0 {
                continue;
            }
            let ln = |w: &str| f64::from(self.words.count(w)).ln_1p();
            let known_left = match left_keys[k] {
                Some(key) if keyed => self.known_by_key(left, key),
                _ => self.known(left),
            };
            // With a half unknown only the fallback can take the split, and only in
            // English beside a listed function word (as `rare_beside_function_word` asks
            // first): otherwise the right half need not be looked up.
            if !known_left
                && !(fallback.is_none()
                    && self.english
                    && (in_list(OPENERS, left) || in_list(CLOSERS, right)))
            {
                continue;
            }
            let known = (known_left, self.known(right));
            if !(known.0 && known.1) {
                // Taken only when no split into known words exists: the rare half may
                // itself be glued ("the|irconflict" is "their|conflict").
                if fallback.is_none()
                    && self.rare_beside_function_word(left, right, known)
                    && glued() <= 1
                {
                    fallback = Some(i);
                }
                continue;
            }
            // The pair printed apart at least as often as glued is strong evidence; a glued
            // form seen more often than that is a word the lexicon lacks.
            let apart = self.words.pair(left, right);
            let glued = glued();
            let evidence = if apart >= 1 && apart >= glued {
                true
            } else {
                // After a function word that begins few words ("the|job", "of|treatment"),
                // the same glued pair may recur on pages that lose their line breaks.
                let recurring = glued <= apart + 2
                    && self.english
                    && in_list(OPENERS, left)
                    && right.chars().count() >= 3
                    && right.chars().all(char::is_lowercase);
                (glued <= 1 || recurring) && self.plausible_pair(left, right)
            };
            // The pair printed apart first, then the likelier pair of words: the product of
            // the halves' counts ("perform at" over "per format"). The likeliest split is
            // judged, not the likeliest of those that pass: "signsmall" is not split as
            // "signs mall" because "sign small" is a compound-looking pair.
            let score = (apart, ln(left) + ln(right));
            if best.is_none_or(|(s, _, _)| score > s) {
                best = Some((score, i, evidence));
            }
        }
        let i = match best {
            Some((_, i, true)) => i,
            Some(_) => return None,
            None => fallback?,
        };
        Some(format!("{} {}", &core[..i], &core[i..]))
    }
}

/// True when [`Unglue::split_chunk`] surely leaves `chunk` alone, whatever the tables
/// say: at most two characters, or letters with at most one closing mark, where the letters
/// are at most two, or three not starting or ending with one of the only one-letter words
/// ("a", "I"; every split of three letters has a one-letter half). Most Vietnamese
/// syllables are such chunks, and this spares them the memo's hashing.
fn never_split(chunk: &str) -> bool {
    if chunk.len() <= 2 {
        return true;
    }
    let letters = match chunk.as_bytes().last() {
        Some(b',' | b'.' | b';' | b':' | b'!' | b'?' | b')') => &chunk[..chunk.len() - 1],
        _ => chunk,
    };
    let mut cs = letters.chars();
    let (Some(first), second, third, None) = (cs.next(), cs.next(), cs.next(), cs.next()) else {
        return false;
    };
    let one_letter_word = |c: char| matches!(c, 'a' | 'A' | 'I');
    let all_letters = letters.chars().all(crate::text::is_alphabetic);
    match (second, third) {
        (_, None) => all_letters,
        (Some(_), Some(last)) => all_letters && !one_letter_word(first) && !one_letter_word(last),
        (None, Some(_)) => false,
    }
}

/// English function words: the words most often on one side of a lost line break.
/// Words that are mostly prefixes ("over", "up", "under", "so") are left out.
fn is_function_word(w: &str) -> bool {
    const WORDS: &[&str] = &[
        "a", "about", "after", "all", "also", "an", "and", "are", "as", "at", "be", "been", "but",
        "by", "can", "could", "for", "from", "had", "has", "have", "he", "her", "his", "i", "if",
        "in", "into", "is", "it", "its", "more", "most", "not", "of", "on", "one", "or", "our",
        "said", "says", "she", "than", "that", "the", "their", "them", "there", "these", "they",
        "this", "those", "to", "was", "we", "were", "what", "when", "which", "while", "who",
        "will", "with", "would", "you",
    ];
    in_list(WORDS, w)
}

/// Words in `text`, and how many of them are among the commonest English words that other
/// Latin-script languages do not use as words of their own.
///
/// The words are those of `str::split_whitespace`, counted from a bit mask of their
/// first bytes, 64 bytes at a time; only a word whose first byte can begin a marker is
/// read. Every article is asked this, and most words cannot be markers: in Vietnamese
/// news, reading every word cost more than half as much as the repair's own look-ups.
fn english_markers(text: &str) -> (usize, usize) {
    let bytes = text.as_bytes();
    let mut blanks = Blanks::new(text);
    let (mut words, mut hits) = (0usize, 0usize);
    // Whether the byte before the block is whitespace; the text's start counts as such.
    let mut after_blank = 1u64;
    // A word that may be a marker, begun in an earlier block and not yet ended.
    let mut open: Option<usize> = None;
    let mut hit = |start: usize, end: usize| {
        hits += usize::from(text.get(start..end).is_some_and(is_marker));
    };
    for base in (0..bytes.len()).step_by(64) {
        let (ws, valid) = blanks.block(base);
        if let Some(start) = open {
            let ends = ws | !valid;
            if ends != 0 {
                hit(start, base + ends.trailing_zeros() as usize);
                open = None;
            }
        }
        let mut starts = !ws & valid & (ws << 1 | after_blank);
        words += starts.count_ones() as usize;
        after_blank = ws >> 63;
        while starts != 0 {
            let at = starts.trailing_zeros();
            starts &= starts - 1;
            let start = base + at as usize;
            if !MAY_BEGIN_MARKER[usize::from(bytes[start])] {
                continue;
            }
            // The word ends at the next whitespace byte, in this block or a later one.
            let ends = (ws | !valid) & (!1u64 << at);
            if ends == 0 {
                open = Some(start);
            } else {
                hit(start, base + ends.trailing_zeros() as usize);
            }
        }
    }
    if let Some(start) = open {
        hit(start, bytes.len());
    }
    (words, hits)
}

/// The words [`english_markers`] counts, in lower case: the commonest English words that
/// other Latin-script languages do not use as words of their own.
const MARKERS: [&str; 15] = [
    "the", "and", "of", "that", "with", "for", "is", "are", "this", "from", "which", "were", "has",
    "have", "their",
];

/// First bytes of the words [`is_marker`] may accept: a marker's first letter in either
/// case, or a byte that is not an ASCII letter or digit (trimmed punctuation, or any
/// character outside ASCII). A word beginning with another letter or a digit is no marker.
static MAY_BEGIN_MARKER: [bool; 256] = {
    let mut t = [true; 256];
    let mut x = 0;
    while x < 128 {
        if (x as u8).is_ascii_alphanumeric() {
            t[x] = false;
        }
        x += 1;
    }
    let mut i = 0;
    while i < MARKERS.len() {
        let first = MARKERS[i].as_bytes()[0];
        t[first as usize] = true;
        t[first.to_ascii_uppercase() as usize] = true;
        i += 1;
    }
    t
};

/// The whitespace of a text, 64 bytes at a time, as bit masks: a block's ASCII spaces
/// come from vector compares, and only the bytes that can start another whitespace
/// character are looked at one by one. Blocks are asked for in order.
struct Blanks<'a> {
    text: &'a str,
    /// Whitespace bytes of the next block: the end of a space character the last block's
    /// last bytes begin.
    carry: u64,
}

impl<'a> Blanks<'a> {
    fn new(text: &'a str) -> Self {
        Blanks { text, carry: 0 }
    }

    /// The block at `base`, the one after the last asked for: which of its bytes belong
    /// to a whitespace character (bit i: byte `base + i`), and which are inside the text
    /// (all but in the last block).
    fn block(&mut self, base: usize) -> (u64, u64) {
        let len = self.text.len().saturating_sub(base).min(64);
        let (spaces, maybe) = masks_at(self.text.as_bytes(), base);
        let valid = if len == 64 { !0 } else { (1u64 << len) - 1 };
        let mut ws = (spaces | self.carry) & valid;
        self.carry = 0;
        // Lead bytes of a possible non-ASCII space, and ASCII control spaces.
        let mut m = maybe & valid;
        while m != 0 {
            let i = m.trailing_zeros() as usize;
            m &= m - 1;
            let n = space_len(self.text, base + i);
            if n > 0 {
                let bits = ((1u128 << n) - 1) << i;
                ws |= bits as u64;
                self.carry |= (bits >> 64) as u64;
            }
        }
        (ws, valid)
    }
}

/// The words of a text as `str::split_whitespace` gives them, found with [`Blanks`].
struct Words<'a> {
    text: &'a str,
    blanks: Blanks<'a>,
    /// Start of the current block.
    base: usize,
    /// Bytes of the current block that belong to a whitespace character (bit i: byte
    /// `base + i`).
    ws: u64,
    /// Bytes of the current block inside the text: all but in the last block.
    valid: u64,
    /// Where the next word is looked for.
    pos: usize,
}

impl<'a> Words<'a> {
    fn new(text: &'a str) -> Self {
        let mut w = Words {
            text,
            blanks: Blanks::new(text),
            base: 0,
            ws: 0,
            valid: 0,
            pos: 0,
        };
        if !text.is_empty() {
            w.load(0);
        }
        w
    }

    /// Make the block at `base` current.
    fn load(&mut self, base: usize) {
        (self.ws, self.valid) = self.blanks.block(base);
        self.base = base;
    }
}

impl<'a> Iterator for Words<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let n = self.text.len();
        // Skip whitespace to the word's first byte.
        loop {
            if self.pos >= n {
                return None;
            }
            let off = self.pos - self.base;
            if off >= 64 {
                self.load(self.base + 64);
                continue;
            }
            let word = !self.ws & self.valid & (!0u64 << off);
            if word != 0 {
                self.pos = self.base + word.trailing_zeros() as usize;
                break;
            }
            self.pos = self.base + 64;
        }
        let start = self.pos;
        // Read to the next whitespace byte or the end of the text.
        loop {
            let off = self.pos - self.base;
            if off >= 64 {
                if self.pos >= n {
                    self.pos = n;
                    break;
                }
                self.load(self.base + 64);
                continue;
            }
            let stop = (self.ws | !self.valid) & (!0u64 << off);
            if stop != 0 {
                self.pos = self.base + stop.trailing_zeros() as usize;
                break;
            }
            self.pos = self.base + 64;
        }
        // Whitespace is marked whole, so both ends are character boundaries.
        self.text.get(start..self.pos)
    }
}

/// The byte ranges of the pieces `str::split(' ')` gives, with the spaces found 64 bytes
/// at a time as a bit mask: a loop over the bytes stopped at the end of every word, a
/// branch the processor cannot guess, and `split` calls `memchr` once per word.
struct SpaceSplit<'a> {
    bytes: &'a [u8],
    /// Start of the current block, and its spaces not yet passed (bit i: byte `base + i`).
    base: usize,
    spaces: u64,
    /// Where the next piece starts.
    start: usize,
    done: bool,
}

impl<'a> SpaceSplit<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        SpaceSplit {
            bytes,
            base: 0,
            spaces: masks_at(bytes, 0).0,
            start: 0,
            done: false,
        }
    }
}

impl Iterator for SpaceSplit<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        if self.done {
            return None;
        }
        loop {
            if self.spaces != 0 {
                let end = self.base + self.spaces.trailing_zeros() as usize;
                self.spaces &= self.spaces - 1;
                let start = std::mem::replace(&mut self.start, end + 1);
                return Some((start, end));
            }
            let next = self.base + 64;
            if next >= self.bytes.len() {
                self.done = true;
                return Some((self.start, self.bytes.len()));
            }
            self.base = next;
            self.spaces = masks_at(self.bytes, next).0;
        }
    }
}

/// [`block_masks`] of the 64 bytes of `bytes` from `base` and the byte after them (fewer
/// at the end, padded with zeros, which are neither).
fn masks_at(bytes: &[u8], base: usize) -> (u64, u64) {
    let rest = bytes.get(base..).unwrap_or_default();
    let mut padded = [0u8; 65];
    let window = match rest.first_chunk::<65>() {
        Some(window) => window,
        None => {
            let n = rest.len().min(65);
            padded[..n].copy_from_slice(&rest[..n]);
            &padded
        }
    };
    block_masks(window)
}

/// Of the first 64 bytes of `window`: the ASCII spaces, and the bytes that may start
/// another whitespace character, as bit masks. Those are tab to carriage return, C2 and
/// E2, and E1 and E3 only before the second byte of U+1680 (E1 9A) or U+3000 (E3 80): E1
/// leads most Vietnamese letters with a tone mark and E3 most kana and CJK punctuation,
/// bytes otherwise looked at one by one. The window's last byte is that second byte for
/// the block's last.
#[inline]
fn block_masks(window: &[u8; 65]) -> (u64, u64) {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: SSE2 is part of the x86_64 baseline, and every load reads 16 bytes
        // inside the 65-byte array.
        unsafe { block_masks_sse2(window) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        block_masks_scalar(window)
    }
}

/// [`block_masks`] a byte at a time: the definition, and the path off x86_64.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn block_masks_scalar(window: &[u8; 65]) -> (u64, u64) {
    let (mut spaces, mut maybe) = (0u64, 0u64);
    for (i, pair) in window.windows(2).enumerate() {
        let (x, next) = (pair[0], pair[1]);
        spaces |= u64::from(x == b' ') << i;
        let lead = matches!(x, 0x09..=0x0D | 0xC2 | 0xE2)
            || (x == 0xE1 && next == 0x9A)
            || (x == 0xE3 && next == 0x80);
        maybe |= u64::from(lead) << i;
    }
    (spaces, maybe)
}

#[cfg(target_arch = "x86_64")]
#[inline]
unsafe fn block_masks_sse2(window: &[u8; 65]) -> (u64, u64) {
    use std::arch::x86_64::*;
    let (mut spaces, mut maybe) = (0u64, 0u64);
    for k in 0..4 {
        // SAFETY: bytes 16k..16k+17 are inside the window.
        let (v, after) = unsafe {
            let at = window.as_ptr().add(16 * k);
            (
                _mm_loadu_si128(at.cast::<__m128i>()),
                _mm_loadu_si128(at.add(1).cast::<__m128i>()),
            )
        };
        let eq = |b: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8));
        let next_is = |b: u8| _mm_cmpeq_epi8(after, _mm_set1_epi8(b as i8));
        // x - 9 <= 4, unsigned: tab, line feed, vertical tab, form feed, carriage return.
        let d = _mm_sub_epi8(v, _mm_set1_epi8(9));
        let control = _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(4)), d);
        let lead = _mm_or_si128(control, _mm_or_si128(eq(0xC2), eq(0xE2)));
        let e1e3 = _mm_or_si128(
            _mm_and_si128(eq(0xE1), next_is(0x9A)),
            _mm_and_si128(eq(0xE3), next_is(0x80)),
        );
        let lead = _mm_or_si128(lead, e1e3);
        let mask = |m: __m128i| u64::from(_mm_movemask_epi8(m) as u16);
        spaces |= mask(eq(b' ')) << (16 * k);
        maybe |= mask(lead) << (16 * k);
    }
    (spaces, maybe)
}

/// What a byte says about the whitespace starting there: 0 none, 1 one ASCII space
/// (U+0009–U+000D, U+0020), 2 perhaps a Unicode space (a lead byte [`space_len`] decodes).
static SPACE_LEAD: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0x09;
    while i <= 0x0D {
        t[i] = 1;
        i += 1;
    }
    t[0x20] = 1;
    t[0xC2] = 2;
    t[0xE1] = 2;
    t[0xE2] = 2;
    t[0xE3] = 2;
    t
};

/// Length of the whitespace character starting at byte `i` of `text` (0: none, or not
/// the start of a character). Printable ASCII and continuation bytes are answered from
/// the byte; only the byte pairs that start a Unicode space are decoded (U+0085 and
/// U+00A0: C2 85/A0; U+1680: E1 9A; U+2000–U+205F: E2 80/81; U+3000: E3 80), so
/// Vietnamese letters (E1 BA, E1 BB) and kana (E3 81–83) are not.
#[inline(always)]
fn space_len(text: &str, i: usize) -> usize {
    let b = text.as_bytes();
    let x = b[i];
    match SPACE_LEAD[usize::from(x)] {
        0 => return 0,
        1 => return 1,
        _ => {}
    }
    let second = || b.get(i + 1).copied().unwrap_or(0);
    let maybe = match x {
        0xC2 => matches!(second(), 0x85 | 0xA0),
        0xE1 => second() == 0x9A,
        0xE2 => matches!(second(), 0x80 | 0x81),
        0xE3 => second() == 0x80,
        _ => false,
    };
    if !maybe {
        return 0;
    }
    text[i..]
        .chars()
        .next()
        .filter(|c| c.is_whitespace())
        .map_or(0, char::len_utf8)
}

/// Whether `token`, without the non-alphanumeric characters around it, is one of the
/// [`english_markers`], in any ASCII case.
fn is_marker(token: &str) -> bool {
    let b = token.as_bytes();
    let alnum = |x: Option<&u8>| x.is_some_and(u8::is_ascii_alphanumeric);
    // Nothing to trim when both ends are ASCII letters or digits, most tokens.
    let w = if alnum(b.first()) && alnum(b.last()) {
        b
    } else {
        // Trim by hand: a letter or digit outside ASCII at either end (most Vietnamese
        // words) stays in the trimmed word, which then cannot be a marker.
        let (mut start, mut end) = (0, b.len());
        while start < end && !b[start].is_ascii_alphanumeric() {
            match token[start..end].chars().next() {
                Some(c) if c.is_ascii() || !crate::text::is_alphanumeric(c) => {
                    start += c.len_utf8()
                }
                _ => return false,
            }
        }
        while start < end && !b[end - 1].is_ascii_alphanumeric() {
            match token[start..end].chars().next_back() {
                Some(c) if c.is_ascii() || !crate::text::is_alphanumeric(c) => end -= c.len_utf8(),
                _ => return false,
            }
        }
        &b[start..end]
    };
    if !(2..=5).contains(&w.len()) {
        return false;
    }
    let mut lower = [0u8; 5];
    for (l, &x) in lower.iter_mut().zip(w) {
        *l = x.to_ascii_lowercase();
    }
    // The list of `MARKERS`, as a match: it compiles to a few compares of the length and
    // the bytes (a test holds the two lists equal).
    matches!(
        &lower[..w.len()],
        b"the"
            | b"and"
            | b"of"
            | b"that"
            | b"with"
            | b"for"
            | b"is"
            | b"are"
            | b"this"
            | b"from"
            | b"which"
            | b"were"
            | b"has"
            | b"have"
            | b"their"
    )
}

/// Whether text with these [`english_markers`] reads as English: one word in twenty is a
/// marker. A few words are no evidence either way and keep the English rules.
fn reads_english((words, hits): (usize, usize)) -> bool {
    hits * 20 >= words.saturating_sub(SHORT_TEXT_WORDS)
}

/// Texts of at most this many words are too short to judge their language.
const SHORT_TEXT_WORDS: usize = 8;

/// Letters with case (Latin, Cyrillic, Greek, ...): scripts that separate words by spaces
/// and put one after punctuation.
fn is_cased(c: char) -> bool {
    c.is_lowercase() || c.is_uppercase()
}

/// Hashtags, handles and web addresses are written without spaces on purpose
/// ("#HealthyHydration", "(@joshapte)", "www.DearAbby.com").
fn is_handle_or_address(chunk: &str) -> bool {
    let lead = chunk.trim_start_matches(['(', '[', '"', '“', '\'', '‘']);
    lead.starts_with(['#', '@']) || chunk.contains("www.") || chunk.contains("://")
}

/// `right` is the ending of `left` with its last consonant doubled: "but|ting",
/// "trek|king", "Her|ring", "plan|ned".
fn doubled_consonant_ending(left: &str, right: &str) -> bool {
    let (Some(last), Some(rest)) = (left.chars().last(), right.get(1..)) else {
        return false;
    };
    let first = right.chars().next();
    last.is_ascii_alphabetic()
        && !matches!(last.to_ascii_lowercase(), 'a' | 'e' | 'i' | 'o' | 'u')
        && first.map(|c| c.to_ascii_lowercase()) == Some(last.to_ascii_lowercase())
        && in_list(&["ed", "er", "ers", "est", "ing", "ings", "y"], rest)
}

/// Particles and prefixes that start many closed compounds ("overworked", "outflow",
/// "backstroke", "underbody"): before a content word they need the pair printed apart.
fn is_compound_head(w: &str) -> bool {
    const HEADS: &[&str] = &[
        "aero", "after", "anti", "astro", "auto", "back", "bio", "com", "con", "counter", "cross",
        "dis", "down", "eco", "electro", "fore", "geo", "grand", "hold", "hydro", "hyper", "inter",
        "intra", "macro", "micro", "mid", "mis", "mono", "multi", "neuro", "non", "off", "out",
        "over", "para", "photo", "poly", "post", "pre", "proto", "pseudo", "retro", "self", "semi",
        "sub", "super", "tele", "thermo", "trans", "ultra", "under", "up",
    ];
    in_list(HEADS, w)
}

/// Function words that also begin many words ("inaction", "arid", "online", "behold").
fn is_prefix_word(w: &str) -> bool {
    in_list(&["a", "all", "an", "be", "for", "in", "on", "one"], w)
}

/// English word endings that the tokenizer vocabulary also holds as words.
fn is_suffix(w: &str) -> bool {
    const ENDINGS: &[&str] = &[
        "able", "ably", "al", "ally", "ance", "ed", "ence", "er", "ers", "es", "est", "ful", "ian",
        "ians", "ible", "ibly", "ies", "ing", "ise", "ised", "ism", "ist", "ists", "ity", "ive",
        "ize", "ized", "less", "ly", "ment", "ments", "ness", "ous", "s", "tion", "tions",
    ];
    in_list(ENDINGS, w)
}

/// The stem of a word with an English contraction or possessive ending ("theory's",
/// "you're", "does" of "doesn't"), if it has one.
fn strip_contraction(core: &str) -> Option<&str> {
    for mark in ['\'', '’'] {
        let Some((stem, ending)) = core.rsplit_once(mark) else {
            continue;
        };
        if ending == "t" {
            return stem.strip_suffix('n');
        }
        if matches!(ending, "s" | "re" | "ve" | "ll" | "d" | "m") {
            return Some(stem);
        }
    }
    None
}

/// Whether `w` begins as an English word can: a vowel, or consonants that can open a
/// syllable ("str", "ch", "pl"). "rmometry" cannot, so "Thermometry" is no "The" glued
/// to a rare word.
fn english_onset(w: &str) -> bool {
    const ONSETS: &[&str] = &[
        "bl", "br", "ch", "chr", "cl", "cr", "dr", "dw", "fl", "fr", "gl", "gn", "gr", "kn", "ph",
        "phr", "pl", "pr", "ps", "qu", "rh", "sc", "sch", "scr", "sh", "shr", "sk", "sl", "sm",
        "sn", "sp", "sph", "spl", "spr", "squ", "st", "str", "sw", "th", "thr", "tr", "tw", "wh",
        "wr",
    ];
    let lower = w.to_ascii_lowercase();
    let vowel = |c: u8| matches!(c, b'a' | b'e' | b'i' | b'o' | b'u' | b'y');
    let b = lower.as_bytes();
    let cluster = b.iter().take_while(|&&c| !vowel(c)).count();
    cluster < b.len() && (cluster <= 1 || ONSETS.contains(&&lower[..cluster]))
}

/// A capital, then a lower-case letter: a name glued after a possessive
/// ("London'sTelegraph").
fn is_cased_start(w: &str) -> bool {
    let mut cs = w.chars();
    cs.next().is_some_and(char::is_uppercase) && cs.next().is_some_and(char::is_lowercase)
}

/// English function words that begin few other words: a rare word after one of them is
/// more likely a glued pair than a word starting with it.
const OPENERS: &[&str] = &[
    "and", "from", "has", "have", "its", "of", "that", "the", "their", "this", "was", "were",
    "which", "with",
];

/// Function words that close a clause a rare word glued before them belongs to: "Armentano|said".
const CLOSERS: &[&str] = &[
    "could", "from", "have", "said", "says", "should", "that", "their", "there", "this", "the",
    "told", "were", "when", "which", "while", "will", "with", "would",
];

/// Words that take "n't": "doesn't", "can't" ("ca"), "won't" ("wo").
const AUXILIARIES: &[&str] = &[
    "ai", "are", "ca", "could", "did", "do", "does", "had", "has", "have", "is", "might", "must",
    "need", "should", "was", "were", "wo", "would",
];

/// Words that take "'re", "'ve", "'ll", "'d" and "'m".
const PRONOUNS: &[&str] = &[
    "could", "he", "here", "how", "i", "it", "she", "should", "that", "there", "they", "we",
    "what", "where", "who", "would", "you",
];

/// An English word ending that closes a word rather than a stem: "broader", "completely",
/// "stepped", "analysts", "environmental".
fn ends_inflected(w: &str) -> bool {
    const ENDINGS: &[&str] = &[
        "al", "ant", "ed", "ent", "er", "ers", "est", "ful", "ic", "ing", "ion", "ions", "ist",
        "ists", "ity", "ive", "ly", "ment", "ments", "ness", "ous",
    ];
    let lower = w.to_ascii_lowercase();
    ENDINGS
        .iter()
        .any(|e| lower.len() >= e.len() + 2 && lower.ends_with(e))
        || (lower.ends_with('s')
            && !lower.ends_with("ss")
            && !lower.ends_with("us")
            && !lower.ends_with("is")
            && lower.len() >= 4)
}

/// Words that end many English closed compounds ("congresswoman", "governorship",
/// "bondholders", "worldwide"): after a content word they need the pair printed apart.
fn is_compound_ending(w: &str) -> bool {
    const ENDINGS: &[&str] = &[
        "goer", "goers", "holder", "holders", "hood", "keeper", "keepers", "maker", "makers",
        "man", "men", "proof", "ship", "ships", "ward", "wards", "wide", "wise", "woman", "women",
        "worthy",
    ];
    in_list(ENDINGS, w)
}

/// Units written glued to their number ("10km", "5mins").
fn is_unit(w: &str) -> bool {
    const UNITS: &[&str] = &[
        "am", "bn", "cm", "fps", "ft", "gb", "gbps", "ghz", "hrs", "kb", "kbps", "kg", "khz", "km",
        "kmh", "kph", "kw", "kwh", "lbs", "mb", "mbps", "mg", "mhz", "mins", "ml", "mm", "mn",
        "mph", "mw", "nd", "oz", "pm", "rd", "secs", "st", "tb", "th", "yds",
    ];
    in_list(UNITS, w)
}

/// Whether `w`, in lower case, is one of `list` (short ASCII words: no allocation for
/// anything longer).
fn in_list(list: &[&str], w: &str) -> bool {
    if w.len() > 8 || !w.is_ascii() {
        return false;
    }
    // Lower-cased on the stack: this runs for most candidate splits.
    let mut buf = [0u8; 8];
    let lower = &mut buf[..w.len()];
    lower.copy_from_slice(w.as_bytes());
    lower.make_ascii_lowercase();
    list.iter().any(|e| e.as_bytes() == &lower[..])
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Lexicon {
        /// A lexicon of `words`, none ranked among the commonest: only membership counts.
        fn listed(words: &[&str]) -> Self {
            let mut lexicon = Lexicon::default();
            for w in words {
                lexicon.words.insert_first(w, COMMON_RANK);
            }
            lexicon
        }
    }

    fn stats() -> WordStats {
        let mut w = WordStats::new(10_000);
        for _ in 0..5 {
            w.add_text(
                "at a reception in Hanoi on November said the Vietnamese his part for economic trade \
                 and investment Kanagawa firms in the into another Dung Yuji Kuroiwa was",
            );
        }
        w.add_text("Kanagawafirms");
        w
    }

    /// Tables under which as much as possible splits: every string of one to three
    /// characters of `alphabet` is a frequent word, in the corpus and in the lexicon.
    fn permissive(alphabet: &[char]) -> (WordStats, Lexicon) {
        let mut words: Vec<String> = alphabet.iter().map(|c| c.to_string()).collect();
        for _ in 0..2 {
            let longer: Vec<String> = words
                .iter()
                .flat_map(|w| alphabet.iter().map(move |c| format!("{w}{c}")))
                .collect();
            words.extend(longer);
        }
        let mut stats = WordStats::new(1 << 22);
        let text = words.join(" ");
        for _ in 0..4 {
            stats.add_text(&text);
        }
        let mut lexicon = Lexicon::default();
        for w in &words {
            lexicon.words.insert_first(w, 0);
        }
        (stats, lexicon)
    }

    /// [`pair_key`] by its definition: of the two words in lower case.
    fn pair_key_lower(left: &str, right: &str) -> u64 {
        pair_key_ids(word_id(left), word_id(right))
    }

    #[test]
    fn pair_keys_ignore_case_on_every_path() {
        let pairs = [
            ("The", "Vietnamese"),
            ("AND", "it's"),
            ("Đà", "Nẵng"),
            ("Internationalisation", "Of"),
            ("a", "abcdefghijklmnop"),
        ];
        for (l, r) in pairs {
            let want = pair_key_lower(&l.to_lowercase(), &r.to_lowercase());
            assert_eq!(pair_key(l, r), want, "{l} {r}");
        }
    }

    #[test]
    fn ascii_lower_keys_are_the_keys_of_the_lower_case() {
        for w in [
            "",
            "a",
            "The",
            "HANOI",
            "McAllen",
            "it's",
            "abcdefghijklmnO",
        ] {
            assert_eq!(ascii_lower_key(w), short_key(&w.to_lowercase()), "{w}");
        }
        // Every ASCII byte at every place of words of every length.
        let base: Vec<u8> = b"aZ0'bY9mQ@zA[k`".to_vec();
        for x in 0..0x80u8 {
            for len in 1..=15 {
                for at in 0..len {
                    let mut w = base[..len].to_vec();
                    w[at] = x;
                    let w = String::from_utf8(w).unwrap();
                    assert_eq!(ascii_lower_key(&w), short_key(&w.to_lowercase()), "{w:?}");
                }
            }
        }
        // Longer or not ASCII: left to the general path.
        assert_eq!(ascii_lower_key("abcdefghijklmnop"), None);
        assert_eq!(ascii_lower_key("Đà"), None);
    }

    /// Where `lower_key` answers, it answers what the lookups computed before it: the
    /// key of the word lower-cased by `to_lower`. Every character of the plane, alone,
    /// beside ASCII and Vietnamese letters and in either case, up to the 15-byte limit.
    #[test]
    fn lower_keys_are_the_keys_of_the_lower_case() {
        let mut answered = 0;
        for i in 0..0x1_0000u32 {
            let Some(c) = char::from_u32(i) else { continue };
            let upper: String = c.to_uppercase().collect();
            for w in [
                format!("{c}"),
                format!("a{c}"),
                format!("{c}B"),
                format!("Đà{c}"),
                format!("{c}ẵng"),
                format!("NG{upper}Ờ"),
                format!("abcdefghijkl{c}"),
                format!("ABCDEFGHIJKLM{c}"),
            ] {
                let want = short_key(&crate::text::to_lower(&w));
                if let Some(k) = lower_key(&w) {
                    answered += 1;
                    assert_eq!(Some(k), want, "{w:?}");
                }
            }
        }
        // The Latin path answers for Vietnamese, not only ASCII.
        assert_eq!(lower_key("NgƯỜi"), short_key("người"));
        assert!(answered > 3000, "{answered}");
    }

    #[test]
    fn lexicon_ranks_any_case_and_long_words() {
        let mut t = RankTable::default();
        for (rank, w) in ["the", "vietnamese", "đà", "internationalisation", "the"]
            .iter()
            .enumerate()
        {
            t.insert_first(w, rank as u32);
        }
        assert_eq!(t.len(), 4);
        assert_eq!(t.get("The"), Some(0), "the first rank stays");
        assert_eq!(t.get("VIETNAMESE"), Some(1));
        assert_eq!(t.get("Đà"), Some(2));
        assert_eq!(t.get("Internationalisation"), Some(3));
        assert_eq!(t.get("then"), None);
        assert_eq!(t.get("internationalisations"), None);
    }

    #[test]
    fn space_split_is_split_on_spaces() {
        let mut rng = crate::text::TestRng::new();
        let pieces = [
            "",
            " ",
            "  ",
            "a",
            "word",
            "Việt",
            "x\ty",
            "\u{a0}",
            "longer-word,",
        ];
        let mut texts: Vec<String> = vec![String::new(), " ".into(), "a".into()];
        for len in [1, 2, 5, 20, 40, 63, 64, 65, 130] {
            for _ in 0..20 {
                let t: String = (0..len)
                    .map(|_| pieces[rng.next() as usize % pieces.len()])
                    .collect();
                texts.push(t);
            }
        }
        for n in [63, 64, 65, 127, 128, 129] {
            texts.push(" ".repeat(n));
            texts.push(format!("{} ", "a".repeat(n)));
        }
        for t in texts {
            let expected: Vec<&str> = t.split(' ').collect();
            let got: Vec<&str> = SpaceSplit::new(t.as_bytes())
                .map(|(a, b)| &t[a..b])
                .collect();
            assert_eq!(got, expected, "{t:?}");
        }
    }

    /// Where the Latin-word shortcut answers, it answers what the general path of
    /// `push_text` does: for every character of the plane alone and inside words.
    #[test]
    fn latin_word_keys_are_the_general_paths_keys() {
        let general = |t: &str| {
            let core = t.trim_matches(|c: char| !word_char(c));
            let mut buf = String::new();
            let ok = push_plain_word(&mut buf, core);
            (core == t && ok && t.ends_with(crate::text::is_alphanumeric))
                .then(|| short_key(&buf))
                .flatten()
        };
        for i in 0..0x1_0000u32 {
            let Some(c) = char::from_u32(i) else { continue };
            for t in [
                format!("{c}"),
                format!("a{c}"),
                format!("{c}9"),
                format!("Vi{c}t"),
                format!("{c}{c}{c}{c}{c}{c}"),
                format!("ĐƯỢC{c}"),
            ] {
                if let Some(key) = latin_word_key(t.as_bytes()) {
                    assert_eq!(Some(key), general(&t), "{i:#x} {t:?}");
                }
            }
        }
        for t in ["Việt", "NGƯỜI", "được", "Đà", "ÉCOLE", "x1ệ"] {
            assert!(latin_word_key(t.as_bytes()).is_some(), "{t}");
        }
        for t in ["Nội,", "×2", "l'ảnh", "nghiêngnghiêngx", "123"] {
            assert_eq!(latin_word_key(t.as_bytes()), None, "{t}");
        }
    }

    #[test]
    fn short_keys_are_the_bytes_then_the_length() {
        let text = "abcdefghijklmnopqrstuvwxyzĐà";
        for start in 0..4 {
            for n in 0..=17 {
                let Some(w) = text.get(start..start + n) else {
                    continue;
                };
                let want = (n <= 15).then(|| {
                    let mut buf = [0u8; 16];
                    buf[..n].copy_from_slice(w.as_bytes());
                    buf[15] = n as u8;
                    u128::from_le_bytes(buf)
                });
                assert_eq!(short_key(w), want, "{w:?}");
            }
        }
    }

    #[test]
    fn chunks_said_never_split_are_never_split() {
        let alphabet: Vec<char> = "aAIibBtTệỆ東1,.;:!?)(”–-'’".chars().collect();
        let (stats, lexicon) = permissive(&alphabet);
        let empty = Lexicon::default();
        let repairs = [
            Unglue::new(&stats, &lexicon, 3),
            Unglue::new(&stats, &empty, 3),
            Unglue::new(&stats, &empty, 1),
        ];
        let mut chunks = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = chunks
                .iter()
                .filter(|c| c.chars().count() == chunks.last().map_or(0, |l| l.chars().count()))
                .flat_map(|w| alphabet.iter().map(move |c| format!("{w}{c}")))
                .collect();
            chunks.extend(longer);
        }
        let mut never = 0;
        for chunk in &chunks {
            if never_split(chunk) {
                never += 1;
                for u in &repairs {
                    assert_eq!(u.split_chunk(chunk), None, "{chunk:?}");
                }
            }
        }
        // The check is not vacuous: the tables do split short chunks it lets through.
        assert!(never > 1000);
        let split: Vec<&String> = chunks
            .iter()
            .filter(|c| {
                c.chars().count() <= 3 && repairs.iter().any(|u| u.split_chunk(c).is_some())
            })
            .collect();
        assert!(split.len() > 100, "{split:?}");
    }

    #[test]
    fn repair_copies_only_from_the_first_split() {
        let w = stats();
        let lex = Lexicon::default();
        let u = Unglue::new(&w, &lex, 3);
        // The definition: every chunk replaced by its repair, joined with single spaces.
        let slow = |t: &str| {
            let parts: Vec<(String, bool)> = t
                .split(' ')
                .map(|c| match u.split_chunk(c) {
                    Some(f) => (f, true),
                    None => (c.to_string(), false),
                })
                .collect();
            parts.iter().any(|p| p.1).then(|| {
                parts
                    .iter()
                    .map(|p| p.0.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
        };
        for t in [
            "",
            " ",
            "Ata reception",
            "in Hanoion November 16,  saidthe  ",
            " Dungsaid hisparty",
            "nothing to see here",
            "a  b",
        ] {
            assert_eq!(u.repair(t), slow(t), "{t:?}");
        }
    }

    #[test]
    fn splits_glued_words() {
        let w = stats();
        let lex = Lexicon::default();
        let u = Unglue::new(&w, &lex, 3);
        assert_eq!(u.repair("Ata reception").as_deref(), Some("At a reception"));
        assert_eq!(
            u.repair("in Hanoion November 16,").as_deref(),
            Some("in Hanoi on November 16,")
        );
        assert_eq!(u.repair("Dungsaid the").as_deref(), Some("Dung said the"));
        assert_eq!(u.repair("Forhis part").as_deref(), Some("For his part"));
        assert_eq!(
            u.repair("TheVietnamese side").as_deref(),
            Some("The Vietnamese side")
        );
        assert_eq!(
            u.repair("Economic,trade and").as_deref(),
            Some("Economic, trade and")
        );
        assert_eq!(
            u.repair("26Kanagawa firms").as_deref(),
            Some("26 Kanagawa firms")
        );
        assert_eq!(
            u.repair("(Kanagawafirms)").as_deref(),
            Some("(Kanagawa firms)")
        );
    }

    /// A vocabulary in id order: `Ġword` entries start words, the others continue them.
    fn ranked_lexicon(entries: &[&str]) -> Lexicon {
        let vocab: Vec<String> = entries
            .iter()
            .enumerate()
            .map(|(id, e)| format!("{e:?}: {id}"))
            .collect();
        let json = format!(r#"{{"model": {{"vocab": {{{}}}}}}}"#, vocab.join(", "));
        Lexicon::from_tokenizer_json(json.as_bytes())
    }

    #[test]
    fn lexicon_ranks_entries_in_id_order() {
        let lex = ranked_lexicon(&["Ġthe", "board", "Ġboard", "Ġsig", "man", "Ġman"]);
        assert_eq!(lex.rank("The"), Some(0));
        assert_eq!(lex.rank("board"), Some(1));
        assert_eq!(lex.rank("man"), Some(3));
        assert_eq!(lex.piece_rank("board"), Some(0));
        assert_eq!(lex.piece_rank("man"), Some(1));
        assert_eq!(lex.piece_rank("the"), None);
        // Ids, not the order of the file, rank the entries.
        let json = r#"{"model": {"vocab": {"Ġzebra": 9, "Ġapple": 2}}}"#;
        let lex = Lexicon::from_tokenizer_json(json.as_bytes());
        assert_eq!((lex.rank("apple"), lex.rank("zebra")), (Some(0), Some(1)));
    }

    /// English text where every word but the glued ones is printed once: too small a corpus
    /// for its counts to make any word common.
    fn small_corpus(extra: &str) -> WordStats {
        let mut w = WordStats::new(10_000);
        w.add_text(
            "the report said that the broader plan was new and the land was sold with care \
             while the locked doors of the houses were shut for the winter by congress and a woman",
        );
        w.add_text(extra);
        w
    }

    #[test]
    fn vocabulary_ranks_stand_in_for_a_small_corpus() {
        let w = small_corpus("");
        let lex = ranked_lexicon(&[
            "Ġthe",
            "Ġbroader",
            "Ġmovement",
            "Ġland",
            "Ġlocked",
            "locked",
            "Ġsig",
            "Ġnals",
            "Ġcongress",
            "Ġwoman",
            "woman",
        ]);
        let u = Unglue::new(&w, &lex, 3);
        // Both halves among the vocabulary's common words, the left one ending as a whole
        // word does ("-er").
        assert_eq!(
            u.repair("the broadermovement").as_deref(),
            Some("the broader movement")
        );
        // Two stems: a compound the vocabulary lacks.
        assert_eq!(u.repair("the landlocked"), None);
        // "woman" often ends words ("chairwoman"), even after a long word.
        assert_eq!(u.repair("the congresswoman"), None);
        // A word start the corpus never prints alone is no word.
        assert_eq!(u.repair("the signals"), None);
        // Outside English, two content words need the pair printed apart.
        let ru = "и это было в Москве и в этом году";
        assert_eq!(u.repair(&format!("{ru} broadermovement {ru}")), None);
    }

    #[test]
    fn contractions_keep_their_word_and_release_the_next() {
        let w = small_corpus("not affect really you");
        let lex = ranked_lexicon(&[
            "Ġnot", "Ġaffect", "Ġreally", "Ġthat", "Ġyou", "Ġsull", "Ġivan",
        ]);
        let u = Unglue::new(&w, &lex, 3);
        assert_eq!(u.repair("that'snot").as_deref(), Some("that's not"));
        assert_eq!(u.repair("doesn'taffect").as_deref(), Some("doesn't affect"));
        assert_eq!(u.repair("we’rereally").as_deref(), Some("we’re really"));
        assert_eq!(
            u.repair("London'sTelegraph").as_deref(),
            Some("London's Telegraph")
        );
        assert_eq!(u.repair("thatyou're").as_deref(), Some("that you're"));
        // Apostrophes inside names and words, and "'re" after a word that takes no "'re".
        for whole in [
            "O'Sullivan",
            "Qur'an",
            "rock'n'roll",
            "d'Ivoire",
            "Bob'really",
        ] {
            assert_eq!(u.repair(whole), None, "{whole}");
        }
    }

    #[test]
    fn numbers_come_apart_from_the_word_before() {
        let w = small_corpus("than nearly");
        let lex = ranked_lexicon(&[
            "Ġthan",
            "Ġnearly",
            "Ġdecreased",
            "Ġimprovement",
            "Ġcovid",
            "Ġwindows",
        ]);
        let u = Unglue::new(&w, &lex, 3);
        assert_eq!(u.repair("than29,000").as_deref(), Some("than 29,000"));
        assert_eq!(u.repair("a$7,500").as_deref(), Some("a $7,500"));
        assert_eq!(u.repair("decreased1.5%").as_deref(), Some("decreased 1.5%"));
        assert_eq!(
            u.repair("16%improvement").as_deref(),
            Some("16% improvement")
        );
        // Names with a number, currencies with a country, and units stay as written.
        for whole in [
            "covid19",
            "windows10",
            "US$100",
            "HK$5",
            "10km",
            "pm2.5",
            "i1550",
        ] {
            assert_eq!(u.repair(whole), None, "{whole}");
        }
    }

    #[test]
    fn a_case_break_glued_twice_splits_when_printed_apart_as_often() {
        let mut w = small_corpus("on the Internet the Internet theInternet theInternet");
        let lex = ranked_lexicon(&["Ġinternet", "Ġdoor", "Ġdash"]);
        let u = Unglue::new(&w, &lex, 3);
        assert_eq!(u.repair("theInternet").as_deref(), Some("the Internet"));
        // A brand printed glued twice and never apart stays whole.
        w.add_text("DoorDash DoorDash door dash");
        let u = Unglue::new(&w, &lex, 3);
        assert_eq!(u.repair("DoorDash"), None);
    }

    #[test]
    fn a_rare_word_beside_a_function_word_is_split_when_nothing_likelier_is() {
        let w = small_corpus("their conflict");
        let lex = ranked_lexicon(&["Ġand", "Ġthe", "Ġtheir", "Ġconflict", "Ġsaid"]);
        let u = Unglue::new(&w, &lex, 3);
        assert_eq!(u.repair("andmorbidity").as_deref(), Some("and morbidity"));
        assert_eq!(u.repair("Armentanosaid").as_deref(), Some("Armentano said"));
        // Known words first: not "the irconflict".
        assert_eq!(u.repair("theirconflict").as_deref(), Some("their conflict"));
        // No English word starts with "rm"; a capitalised "The" may begin a name.
        assert_eq!(u.repair("dissectingthe").as_deref(), Some("dissecting the"));
        for whole in ["thermometry", "Theragenics", "Ferdinand", "Goethe"] {
            assert_eq!(u.repair(whole), None, "{whole}");
        }
    }

    #[test]
    fn the_likeliest_split_is_judged_and_names_in_son_stay() {
        let mut w = WordStats::new(10_000);
        for _ in 0..4 {
            w.add_text("signs, mall, the on Dicks Masters");
        }
        for _ in 0..20 {
            w.add_text("sign");
            w.add_text("small");
        }
        let lex = ranked_lexicon(&["Ġsign", "Ġsmall", "small", "Ġsigns", "Ġmall", "Ġon"]);
        let u = Unglue::new(&w, &lex, 3);
        // "sign small" is likelier; it looks like a compound ("small" ends words), so the
        // chunk stays whole rather than falling back to "signs mall".
        assert_eq!(u.repair("the signsmall"), None);
        assert_eq!(u.repair("Dickson"), None);
        assert_eq!(u.repair("Masterson"), None);
    }

    #[test]
    fn compound_endings_after_a_content_word_need_the_pair_apart() {
        let mut w = WordStats::new(10_000);
        for _ in 0..4 {
            w.add_text("congress, woman, governor, ship, disease, like, the");
        }
        let lex = Lexicon::default();
        let u = Unglue::new(&w, &lex, 3);
        assert_eq!(u.repair("the congresswoman"), None);
        assert_eq!(u.repair("the governorship"), None);
        // "like" is mostly a preposition.
        assert_eq!(
            u.repair("the diseaselike").as_deref(),
            Some("the disease like")
        );
        w.add_text("the governor ship");
        let u = Unglue::new(&w, &lex, 3);
        assert_eq!(
            u.repair("the governorship").as_deref(),
            Some("the governor ship")
        );
    }

    #[test]
    fn batched_lookups_repair_as_chunk_by_chunk_judging_does() {
        let w = stats();
        let lex = Lexicon::default();
        let u = Unglue::new(&w, &lex, 3);
        // A glued chunk at every place of the first batches, among chunks the memo is
        // asked about ("investment"), with chunks the batches skip ("the", "and": they
        // also make the text read as English, as the chunks are judged here). Each text
        // twice, so the second time the memo answers.
        for at in 0..=2 * MEMO_BATCH + 1 {
            let mut chunks = vec!["investment"; 2 * MEMO_BATCH + 2];
            chunks[at] = if at % 2 == 0 { "Hanoion" } else { "Dungsaid" };
            chunks.splice(0..0, ["the", "and"]);
            chunks.extend(["the", "and", "Hanoion"]);
            let text = chunks.join(" ");
            let expected: Vec<String> = chunks
                .iter()
                .map(|c| u.split_chunk(c).unwrap_or_else(|| c.to_string()))
                .collect();
            assert_eq!(expected.iter().filter(|e| e.contains(' ')).count(), 2);
            for _ in 0..2 {
                assert_eq!(u.repair(&text), Some(expected.join(" ")), "at {at}");
            }
        }
    }

    #[test]
    fn events_of_several_texts_are_those_of_each_text() {
        let texts = [
            "The economy and trade",
            "grew in Hanoi",
            "",
            "Kanagawa firms said",
        ];
        let joined = WordEvents::of_texts(&texts);
        let mut each = WordEvents::default();
        texts.iter().for_each(|t| each.push_text(t));
        assert_eq!(joined.words, each.words);
        assert_eq!(joined.pairs, each.pairs);
        assert_eq!(joined.long, each.long);
        // No pair crosses from one text to the next: "trade grew" is not counted.
        assert_eq!(joined.pairs.len(), 3 + 2 + 2);
    }

    #[test]
    fn repairs_only_documents_that_are_glued() {
        let w = stats();
        let lex = Lexicon::default();
        let u = Unglue::new(&w, &lex, 3);
        let mut a = "Ata reception in Hanoion November Dungsaid the".to_string();
        let mut b = "the economy and investment said the Vietnamese".to_string();
        assert_eq!(u.repair_document(&mut [&mut a, &mut b], 0.1), 1);
        assert_eq!(a, "At a reception in Hanoi on November Dung said the");
        // One glued word in fifty is below the bar.
        let mut c = format!("Forhis {}", "the economy and trade ".repeat(12));
        let before = c.clone();
        assert_eq!(u.repair_document(&mut [&mut c], 0.1), 0);
        assert_eq!(c, before);
    }

    #[test]
    fn splits_at_punctuation_between_words() {
        let w = stats();
        let lex = Lexicon::default();
        let u = Unglue::new(&w, &lex, 3);
        // Unknown words still split: the mark itself is the evidence.
        assert_eq!(
            u.repair("untreated,zorbs").as_deref(),
            Some("untreated, zorbs")
        );
        assert_eq!(u.repair("activity,”he").as_deref(), Some("activity,” he"));
        assert_eq!(
            u.repair("alive.Transcona").as_deref(),
            Some("alive. Transcona")
        );
        assert_eq!(
            u.repair("Tairua(including").as_deref(),
            Some("Tairua (including")
        );
        assert_eq!(u.repair("—подчеркнул").as_deref(), Some("— подчеркнул"));
        assert_eq!(u.repair("спагетти–").as_deref(), Some("спагетти –"));
        // Abbreviations, domains, plurals in brackets and straight quotes stay.
        assert_eq!(
            u.repair("U.S.to e.g.the vnexpress.net friend(s) a\"self 10:30 St.JAMES"),
            None
        );
    }

    #[test]
    fn splits_hyphenated_possessive_and_numbered_chunks() {
        let w = stats();
        let lex = Lexicon::default();
        let u = Unglue::new(&w, &lex, 3);
        assert_eq!(
            u.repair("andeconomic-trade").as_deref(),
            Some("and economic-trade")
        );
        assert_eq!(
            u.repair("trade-investmentfirms").as_deref(),
            Some("trade-investment firms")
        );
        assert_eq!(u.repair("theHanoi's").as_deref(), Some("the Hanoi's"));
        assert_eq!(u.repair("14,217firms").as_deref(), Some("14,217 firms"));
        assert_eq!(u.repair("11to").as_deref(), Some("11 to"));
        assert_eq!(u.repair("than29").as_deref(), Some("than 29"));
        // Units and ordinals are glued on purpose.
        assert_eq!(u.repair("10km 3rd 5mins 2.6GHz"), None);
    }

    #[test]
    fn function_word_rules_keep_real_words() {
        let mut w = stats();
        for _ in 0..5 {
            // Each word on its own, so no pair is printed apart.
            w.add_text("rid. action. Paris. ian. teach. er. Jack. James. flows. wind.");
        }
        let lex = Lexicon::default();
        let u = Unglue::new(&w, &lex, 3);
        // A capitalised name after a function word needs no statistics.
        assert_eq!(u.repair("andViviane").as_deref(), Some("and Viviane"));
        assert_eq!(u.repair("iPhone"), None);
        assert_eq!(u.repair("wasa").as_deref(), Some("was a"));
        // Word endings, inflections and prefixes are not words of their own.
        assert_eq!(u.repair("Parisian teacher Jacka Jamesa"), None);
        assert_eq!(u.repair("overflows upwind"), None);
        // "a" and "in" also begin words: the other half must be a frequent word.
        assert_eq!(u.repair("arid").as_deref(), Some("a rid"));
        assert_eq!(u.repair("awe"), None);
        assert_eq!(u.repair("inzorb"), None);
    }

    #[test]
    fn leaves_handles_addresses_and_uncased_scripts_alone() {
        let w = stats();
        let lex = Lexicon::default();
        let u = Unglue::new(&w, &lex, 3);
        // Each would split as a function word before a name, or at a full stop.
        assert_eq!(u.repair("andViviane").as_deref(), Some("and Viviane"));
        assert_eq!(u.repair("#andViviane (@andViviane) www.Hanoi.com"), None);
        assert_eq!(u.repair("alive.Hanoi").as_deref(), Some("alive. Hanoi"));
        // Korean particles follow a quote; CJK text needs no space before a bracket.
        assert_eq!(u.repair("잘못이냐”고 엔터미디어(연예인"), None);
    }

    #[test]
    fn word_pieces_before_and_after_function_words_stay() {
        let mut w = stats();
        for _ in 0..5 {
            w.add_text("ting. fps. worked. flow. allen. sofi.");
        }
        let lex = Lexicon::listed(&[
            "arom", "as", "but", "trips", "rey", "surf", "mc", "so", "fi",
        ]);
        let u = Unglue::new(&w, &lex, 3);
        // A piece the corpus never prints alone, then an ending that is also a word.
        assert_eq!(u.repair("aromas"), None);
        assert_eq!(u.repair("tripsin").as_deref(), Some("trips in"));
        // A capitalised function word, then such a piece: a name ("Andrey").
        assert_eq!(u.repair("Andrey"), None);
        assert_eq!(u.repair("thesurf").as_deref(), Some("the surf"));
        // A doubled consonant before an ending.
        assert_eq!(u.repair("butting"), None);
        // Units after a number, brands and names after two letters.
        assert_eq!(u.repair("60fps McAllen SoFi"), None);
    }

    #[test]
    fn compound_heads_need_the_pair_printed_apart() {
        let mut w = stats();
        for _ in 0..5 {
            w.add_text("over. worked. out. flow.");
        }
        let lex = Lexicon::default();
        assert_eq!(Unglue::new(&w, &lex, 3).repair("overworked outflow"), None);
        w.add_text("they were over worked");
        assert_eq!(
            Unglue::new(&w, &lex, 3)
                .repair("overworked outflow")
                .as_deref(),
            Some("over worked outflow")
        );
    }

    #[test]
    fn english_function_words_are_evidence_only_in_english() {
        let w = stats();
        let lex = Lexicon::default();
        let u = Unglue::new(&w, &lex, 3);
        let polish = "Gdyby wasa to nie jest tak prosto, jak się wydaje, ale wasa".to_string();
        assert_eq!(u.repair(&polish), None);
        let english = "Wasa is the word that was glued, and wasa is what we see".to_string();
        assert_eq!(
            u.repair(&english).as_deref(),
            Some("Was a is the word that was glued, and was a is what we see")
        );
        // A document is judged as a whole.
        let (mut a, mut b) = (polish.clone(), "wasa".to_string());
        assert_eq!(u.repair_document(&mut [&mut a, &mut b], 0.0), 0);
        assert_eq!(b, "wasa");
    }

    #[test]
    fn outside_english_a_split_needs_the_pair_printed_apart() {
        let mut w = WordStats::new(10_000);
        for _ in 0..4 {
            w.add_text("Anh ấy đến vì chờ bạn, cà phê sữa đá ngon lắm");
        }
        w.add_text("mít tinh");
        let lex = Lexicon::default();
        let u = Unglue::new(&w, &lex, 3);
        let text = |chunk: &str| format!("Hôm nay {chunk} ở Hà Nội, trời mưa và gió lạnh suốt đêm");
        for (glued, apart) in [
            ("vìchờ", "vì chờ"),
            ("Vìchờ", "Vì chờ"),
            ("càphê", "cà phê"),
            ("Càphê", "Cà phê"),
        ] {
            assert_eq!(u.repair(&text(glued)), Some(text(apart)), "{glued}");
        }
        // Halves printed fewer than three times each, or never side by side, stay glued.
        for glued in ["míttinh", "chờvì", "sữacà", "đếnbạn"] {
            assert_eq!(u.repair(&text(glued)), None, "{glued}");
        }
    }

    #[test]
    fn long_runs_are_left_alone_quickly() {
        let w = stats();
        let lex = Lexicon::default();
        let u = Unglue::new(&w, &lex, 3);
        // A 600 KB "word" (the bad-input corpus has a 2 MB one) is not searched for splits.
        let long = "the".repeat(200_000);
        assert_eq!(u.repair(&long), None);
        assert_eq!(
            u.repair(&format!("Ata {long}")).as_deref(),
            Some(format!("At a {long}").as_str())
        );
    }

    #[test]
    fn leaves_real_words_alone() {
        let w = stats();
        let lex = Lexicon::default();
        let u = Unglue::new(&w, &lex, 3);
        // Printed on its own elsewhere, so a word.
        assert_eq!(u.repair("into another"), None);
        // Halves not common enough.
        assert_eq!(u.repair("Kuroiwa Takio"), None);
        assert_eq!(
            u.repair("1,000 U.S. e.g. vnexpress.net 3rd 10km iPhone"),
            None
        );
        assert_eq!(u.repair(""), None);
    }

    #[test]
    fn lexicon_from_byte_level_vocab() {
        let json = r#"{"model": {"type": "BPE", "vocab": {"Ġfactor": 1, "Ġthe": 2, "Ġa": 3, "ing": 4, "Ġviá»ĩt": 5}}}"#;
        let lex = Lexicon::from_tokenizer_json(json.as_bytes());
        assert!(lex.contains("factor") && lex.contains("The"));
        assert!(!lex.contains("ing") && !lex.contains("a"));
        assert!(lex.contains("việt"));
        let mut w = WordStats::new(1024);
        for _ in 0..5 {
            w.add_text("fact or the factor");
        }
        assert_eq!(Unglue::new(&w, &lex, 3).repair("factor"), None);
        let unigram = r#"{"added_tokens": [], "model": {"type": "Unigram", "vocab": [["▁house", -3.5], ["s", -1.0], ["▁of", -2.0]]}}"#;
        let lex = Lexicon::from_tokenizer_json(unigram.as_bytes());
        assert_eq!(lex.len(), 2);
        assert!(lex.contains("House") && lex.contains("of"));
        assert!(Lexicon::from_tokenizer_json(b"{\"model\": {}}").is_empty());
        assert!(Lexicon::from_tokenizer_json(b"not json").is_empty());
    }

    /// The words and pairs of a text as first defined: lower-cased with
    /// `text::to_lower`, checked character by character.
    fn reference_events(text: &str) -> (Vec<String>, Vec<(String, String)>) {
        let (mut words, mut pairs) = (Vec::new(), Vec::new());
        let mut prev: Option<String> = None;
        let lower = crate::text::to_lower;
        for token in text.split_whitespace() {
            let core = token.trim_matches(|c: char| !word_char(c));
            let n = core.chars().count();
            if n == 0
                || n > 40
                || !core.chars().all(word_char)
                || !core.chars().any(crate::text::is_alphabetic)
            {
                prev = None;
                for w in token.split(|c: char| !word_char(c)) {
                    if !w.is_empty()
                        && w.chars().count() <= 40
                        && w.chars().any(crate::text::is_alphabetic)
                    {
                        words.push(lower(w));
                    }
                }
                continue;
            }
            let w = lower(core);
            if let Some(p) = prev {
                pairs.push((p, w.clone()));
            }
            words.push(w.clone());
            prev = token.ends_with(crate::text::is_alphanumeric).then_some(w);
        }
        (words, pairs)
    }

    #[test]
    fn events_match_the_reference() {
        let long = "abcdefghijklmnopqrstuvwxyzabcdefghijklmn"; // 40 letters
        let texts = [
            "At a reception in HANOI on November 16, Dung said: the VIETNAMESE side",
            "ΟΔΟΣ ΣΟΦΟΣ Σ ΣΆΣ. İstanbul'da KİTAP ǅemal it's Don’t 3rd 10 2024 x2",
            "Thủ tướng Phạm Minh Chính tiếp Đại sứ, NGƯỜI Việt; nhiệt-độ (cao) “ông”",
            "日本とベトナムの外交関係 東京都 Ｔｏｋｙｏ 中国国家统计局公布的数据显示",
            "fifteen_bytes abcdefghijklmno abcdefghijklmnop ệệệệệ ệệệệệa ÀÁÂÃÄÅÆÇ",
            "ab'cd ''' ’’ x’y 'quoted' -dash- a-b-c e.g. U.S. 1,000 a\u{301}b",
        ];
        let mut all = texts.map(str::to_string).to_vec();
        all.push(format!("{long} {long}a A{long} {long}é é{long}x {long}Σ"));
        for text in &all {
            let ev = WordEvents::of(text);
            let (words, pairs) = reference_events(text);
            let got: Vec<String> = ev
                .words()
                .map(|w| match w {
                    Word::Short(k) => {
                        let b = k.to_le_bytes();
                        String::from_utf8_lossy(&b[..usize::from(b[15])]).into_owned()
                    }
                    Word::Long(w) => w.to_string(),
                })
                .collect();
            assert_eq!(got, words, "{text:?}");
            let want: Vec<u64> = pairs.iter().map(|(l, r)| pair_key_lower(l, r)).collect();
            assert_eq!(ev.pairs, want, "{text:?}");
            // Counted: every word and pair is found again by its text.
            let mut stats = WordStats::new(1024);
            stats.add_events(&ev);
            for w in &words {
                let n = words.iter().filter(|x| *x == w).count();
                assert_eq!(stats.count(w) as usize, n, "{w:?}");
            }
            for (l, r) in &pairs {
                assert!(stats.pair(l, r) >= 1, "{l:?} {r:?}");
                assert!(stats.pair(&l.to_uppercase(), r) >= 1, "{l:?} {r:?}");
            }
        }
    }

    #[test]
    fn words_are_split_whitespace() {
        let pieces = [
            "a", "Đà", "ệ", "người", "東京", "、", "。", "“x”", "—", " ", "  ", "\t", "\n",
            "\u{b}", "\u{a0}", "\u{85}", "\u{1680}", "\u{2009}", "\u{2028}", "\u{205f}",
            "\u{3000}", "\u{1c}", "\u{200b}", "ạ", "ぁ", "\u{e1}",
        ];
        let mut rng = crate::text::TestRng::new();
        // Up to 160 pieces: texts of several 64-byte blocks, with spaces of every kind
        // across block boundaries.
        for n in 0..8000 {
            let s: String = (0..n % 160).map(|_| rng.pick(&pieces)).collect();
            let got: Vec<&str> = Words::new(&s).collect();
            assert_eq!(got, s.split_whitespace().collect::<Vec<_>>(), "{s:?}");
        }
        // Every split of a three-byte space at a block boundary, after runs of letters.
        for space in ["\u{3000}", "\u{2009}", "\u{1680}", "\u{a0}", "\u{85}"] {
            for k in 50..70 {
                let s = format!("{}{space}ệ{space}", "x".repeat(k));
                let got: Vec<&str> = Words::new(&s).collect();
                assert_eq!(got, s.split_whitespace().collect::<Vec<_>>(), "{s:?}");
            }
        }
    }

    #[test]
    fn block_masks_match_their_definition() {
        let bytes = [
            b' ', b'\t', b'\n', 0x0B, 0x0C, b'\r', 0x08, 0x0E, 0x1F, b'a', 0x80, 0x9A, 0xC2, 0xC3,
            0xE1, 0xE2, 0xE3, 0xE4, 0xFF, 0x00,
        ];
        let mut rng = crate::text::TestRng::new();
        for _ in 0..4000 {
            let window: [u8; 65] = std::array::from_fn(|_| rng.pick(&bytes));
            assert_eq!(
                block_masks(&window),
                block_masks_scalar(&window),
                "{window:?}"
            );
        }
    }

    /// `is_marker` accepts the words of `MARKERS` and no other word of two to five
    /// lower-case letters, so the first letters `english_markers` reads words by are theirs.
    #[test]
    fn markers_are_the_list() {
        let mut word = Vec::new();
        let mut accepted = Vec::new();
        fn all(word: &mut Vec<u8>, accepted: &mut Vec<String>) {
            if word.len() >= 2 {
                let w = std::str::from_utf8(word).unwrap();
                if is_marker(w) {
                    accepted.push(w.to_string());
                }
            }
            if word.len() < 5 {
                for c in b'a'..=b'z' {
                    word.push(c);
                    all(word, accepted);
                    word.pop();
                }
            }
        }
        all(&mut word, &mut accepted);
        let mut expected: Vec<String> = MARKERS.iter().map(|m| m.to_string()).collect();
        accepted.sort();
        expected.sort();
        assert_eq!(accepted, expected);
    }

    #[test]
    fn english_markers_match_the_reference() {
        // As first defined: `split_whitespace`, trimmed, compared with `MARKERS` ignoring
        // ASCII case (`markers_are_the_list` holds `is_marker` to that list).
        let reference = |text: &str| {
            let (mut words, mut hits) = (0, 0);
            for token in text.split_whitespace() {
                words += 1;
                let w = token.trim_matches(|c: char| !c.is_alphanumeric());
                if (2..=5).contains(&w.len()) && MARKERS.iter().any(|m| m.eq_ignore_ascii_case(w)) {
                    hits += 1;
                }
            }
            (words, hits)
        };
        let texts = [
            "",
            "   ",
            "The cat and THE dog, of course; (that) “this” is it.",
            "the\u{a0}and\u{3000}of\u{2009}that\u{85}with\u{1680}for\u{2028}is\u{202f}are\u{205f}x",
            "\tthe\x0band\x0cof\rthat\nwith\x1cfor\u{200b}is\u{feff}are",
            "Thé thè thea athe the1 1the 'the' ‘the’ —the— the... ...the Their THEIR theiR",
            "Việt Nam ĐÃ the và 東京 the、the。 the」 «the» the»",
            "a b c de fg hij klmno pqrstu which, which. whichever WHICH!",
        ];
        for t in texts {
            assert_eq!(english_markers(t), reference(t), "{t:?}");
        }
        // Texts of several 64-byte blocks: markers, other words and spaces of every kind
        // across block boundaries.
        let pieces = [
            "the", "The", "THEIR", "of", "is", "x", "thé", "Việt", "東京", "“", "”", "(", ".",
            "tha", "1", "—", " ", " ", " ", "  ", "\n", "\u{a0}", "\u{1680}", "\u{2009}",
            "\u{3000}", "\u{200b}",
        ];
        let mut rng = crate::text::TestRng::new();
        for n in 0..6000 {
            let t: String = (0..n % 200).map(|_| rng.pick(&pieces)).collect();
            assert_eq!(english_markers(&t), reference(&t), "{t:?}");
        }
        for k in 55..70 {
            for tail in ["the", "the ", "the.", "the\u{3000}", "the\u{1680}x"] {
                let t = format!("{}{tail}", " ".repeat(k));
                assert_eq!(english_markers(&t), reference(&t), "{t:?}");
                let t = format!("{} {tail}", "y".repeat(k));
                assert_eq!(english_markers(&t), reference(&t), "{t:?}");
            }
        }
        // Every character of the plane around and inside a marker.
        for i in 0..0x1_0000u32 {
            let Some(c) = char::from_u32(i) else { continue };
            for t in [
                format!("the{c}and"),
                format!("{c}the{c} {c}"),
                format!("x{c}of{c}"),
                format!("“{c}that{c}” ({c}{c}with,{c}"),
            ] {
                assert_eq!(english_markers(&t), reference(&t), "{i:#x}");
            }
        }
    }

    /// Short and long words share one cap and are forgotten together, as in one table.
    #[test]
    fn full_tables_forget_as_one_table() {
        let mut stats = WordStats::new(1024);
        let mut reference: HashMap<String, u32> = HashMap::default();
        for i in 0..6000u32 {
            // Short words, long words, and some of each repeating.
            let w = match i % 4 {
                0 => format!("w{}", i % 700),
                1 => format!("longerthanfifteen{i}"),
                2 => format!("k{i}"),
                _ => format!("longerthanfifteen{}", i % 300),
            };
            stats.add_text(&w);
            crate::clean::counts::tests::reference_bump(&mut reference, w, 1024);
        }
        assert_eq!(stats.words_len(), reference.len());
        assert!(stats.long.len() > 100 && stats.short.len() > 100);
        for (w, &n) in &reference {
            assert_eq!(stats.count(w), n, "{w}");
        }
    }

    #[test]
    fn word_table_is_bounded() {
        let mut w = WordStats::new(1024);
        for i in 0..5000 {
            w.add_text(&format!("word{i}x common"));
        }
        assert!(w.words_len() <= 1024);
        assert!(w.count("common") >= 1);
    }

    #[test]
    fn tables_filled_apart_count_as_one_thread() {
        // Enough distinct words and pairs that both bounded tables forget (the forgetting
        // depends on each table's history): filling them apart, all the pairs first, must
        // give the counts of filling both text by text.
        let texts: Vec<String> = (0..3000)
            .map(|i| {
                format!(
                    "word{i}x common w{} the w{} Đà{} common",
                    i % 700,
                    i % 97,
                    i % 50
                )
            })
            .collect();
        let events: Vec<WordEvents> = texts.iter().map(|t| WordEvents::of(t)).collect();
        let mut one = WordStats::new(1024);
        events.iter().for_each(|ev| one.add_events(ev));
        let mut apart = WordStats::new(1024);
        let (mut pairs, mut words) = apart.tables_mut();
        events.iter().for_each(|ev| pairs.add(ev));
        events.iter().for_each(|ev| words.add(ev));
        // Both tables forgot: the first text's own word and its pair.
        assert_eq!(one.count("word0x"), 0);
        assert_eq!(one.pair("word0x", "common"), 0);
        assert_eq!(one.count("word2999x"), 1);
        assert_eq!(one.pair("word2999x", "common"), 1);
        for t in &texts {
            let ws: Vec<&str> = t.split(' ').collect();
            for w in &ws {
                assert_eq!(one.count(w), apart.count(w), "{w}");
            }
            for p in ws.windows(2) {
                assert_eq!(one.pair(p[0], p[1]), apart.pair(p[0], p[1]), "{p:?}");
            }
        }
        assert_eq!(one.words_len(), apart.words_len());
        assert_eq!(one.pairs.len(), apart.pairs.len());
    }
}
