//! Body text → tokens → shingle hashes.
//!
//! Normal form before shingling: HTML entities decoded (`&amp;` and `&` must agree), NFKC
//! (which also folds full-width forms and no-break spaces), lower case plus the folds it
//! misses (`ß` = `ss`, final sigma). A token is a run of letters, digits and combining
//! marks; everything else — punctuation, quotes of any style, dashes, whitespace, line
//! breaks — only separates tokens, so curly quotes, dash styles and re-wrapping change
//! nothing. Digits are kept (figures tell wire stories apart). In scripts written without
//! spaces (Han, kana, Thai, Lao, Khmer, Myanmar) every character is a token of its own.
//!
//! All hashes here are fixed functions of the text (no random seeds, no std `Hasher`), so
//! sketches are the same on every machine and every run.

use std::borrow::Cow;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// The splitmix64 finaliser: a fast bijective mix of 64 bits.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Characters of scripts written without spaces between words: each is a token.
pub(crate) fn is_unspaced(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0EFF     // Thai, Lao
        | 0x1000..=0x109F   // Myanmar
        | 0x1780..=0x17FF   // Khmer
        | 0x3040..=0x30FF   // Hiragana, Katakana
        | 0x31F0..=0x31FF   // Katakana phonetic extensions
        | 0x3400..=0x4DBF   // CJK extension A
        | 0x4E00..=0x9FFF   // CJK unified ideographs
        | 0xF900..=0xFAFF   // CJK compatibility ideographs
        | 0x20000..=0x3FFFF) // CJK extensions B and later
}

/// The tokens of a body, as hashes, with the script counts that choose the shingle kind.
#[derive(Debug, Default)]
pub(crate) struct Tokens {
    pub hashes: Vec<u64>,
    /// Letters and digits seen.
    pub letters: usize,
    /// Of which in scripts written without spaces.
    pub unspaced: usize,
}

impl Tokens {
    /// Share of the letters written in scripts without spaces (0 for no letters).
    pub fn unspaced_share(&self) -> f64 {
        if self.letters == 0 {
            0.0
        } else {
            self.unspaced as f64 / self.letters as f64
        }
    }
}

/// Split a body into token hashes (see the module doc for the normal form).
#[cfg(test)]
pub(crate) fn tokens(text: &str) -> Tokens {
    tokens_of_parts(std::slice::from_ref(&text))
}

/// [`tokens`] of `parts` joined by blank lines, without building the joined text: a line
/// break only separates tokens, and no HTML entity or normal-form change crosses one.
pub(crate) fn tokens_of_parts(parts: &[&str]) -> Tokens {
    let mut t = TokenSplit::default();
    // Room for a token every 4 bytes, reserved up front (growing from empty by doubling
    // copied the hashes ~twice): a word of spaced text takes 5–7 bytes, so only text
    // mostly in kana or Han (3 bytes a token) grows past it, once.
    let bytes: usize = parts.iter().map(|p| p.len()).sum();
    t.out.hashes.reserve(bytes / 4 + 1);
    for part in parts {
        let decoded: Cow<'_, str> = if part.contains('&') {
            html_escape::decode_html_entities(part)
        } else {
            Cow::Borrowed(part)
        };
        // Most text is NFKC already (all ASCII is): skip the normaliser's buffering then.
        // The check that every character is surely NFKC on its own rides along with the
        // split; only a part that fails it is split again from its normal form.
        let mark = t.out.hashes.len();
        let (letters, unspaced) = (t.out.letters, t.out.unspaced);
        if !t.split(&decoded, true) {
            t.out.hashes.truncate(mark);
            (t.out.letters, t.out.unspaced, t.word) = (letters, unspaced, None);
            t.split(&nfkc_by_segments(&decoded), false);
        }
        t.flush();
    }
    t.out
}

/// `s.nfkc()`, normalising only the stretches that need it. A character that is NFKC on
/// its own and never combines with what precedes it (quick check "yes", combining class
/// 0: [`crate::text::surely_nfkc_char`]) is a boundary the normal form does not cross, so
/// each stretch from such a character up to the next one is normalised on its own, and
/// a stretch with no other character is copied as it is. A page with one no-break space
/// or ellipsis no longer sends every character through the normaliser.
fn nfkc_by_segments(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    // Start of the current stretch (the last boundary character seen), and whether a
    // character that is not one follows it; bytes before `copied` are in `out`.
    let (mut stretch, mut copied, mut dirty) = (0, 0, false);
    for (i, c) in s.char_indices() {
        if c.is_ascii() || crate::text::surely_nfkc_char(c) {
            if dirty {
                out.extend(s[stretch..i].nfkc());
                copied = i;
                dirty = false;
            }
            stretch = i;
        } else if !dirty {
            out.push_str(&s[copied..stretch]);
            copied = stretch;
            dirty = true;
        }
    }
    if dirty {
        out.extend(s[stretch..].nfkc());
    } else {
        out.push_str(&s[copied..]);
    }
    out
}

/// [`split_table`] entries: the character's lower case in the low 21 bits, what the split
/// does with it in [`KIND`], and [`NOT_NFKC`].
const KIND: u32 = 0x7 << 24;
/// Not a letter, digit or mark: ends the word being read.
const SEPARATOR: u32 = 1 << 24;
/// A letter or digit whose lower case is the one character stored.
const LETTER: u32 = 2 << 24;
/// A combining mark: part of the word being read, if any.
const MARK: u32 = 3 << 24;
/// Left to the general path (kind 0): an unspaced script, a lower case of several
/// characters, or a fold beyond lower-casing (`ß`, `ς`).
const GENERAL: u32 = 0;
/// Not surely NFKC on its own ([`crate::text::surely_nfkc_char`] is false).
const NOT_NFKC: u32 = 1 << 31;
/// Characters below this are looked up in [`split_table`]: Latin, Greek, Cyrillic,
/// Vietnamese, and the general punctuation news uses (dashes, curly quotes).
const SPLIT_TABLE: u32 = 0x2100;

/// For each character below [`SPLIT_TABLE`], what [`TokenSplit::split`] does with it,
/// worked out once from the general path's own tests: one lookup instead of the NFKC,
/// lower-case, script and letter tests, each a lookup of its own (Vietnamese has a
/// non-ASCII letter every few bytes). `tokens_match_the_reference` checks every
/// character of the plane against the tokens' definition.
fn split_table() -> &'static [u32] {
    static T: std::sync::OnceLock<Vec<u32>> = std::sync::OnceLock::new();
    T.get_or_init(|| {
        (0..SPLIT_TABLE)
            .map(|u| char::from_u32(u).map_or(GENERAL, split_entry))
            .collect()
    })
}

/// The [`split_table`] entry of `c`.
fn split_entry(c: char) -> u32 {
    let nfkc = if crate::text::surely_nfkc_char(c) {
        0
    } else {
        NOT_NFKC
    };
    let kind = match crate::text::lower_char(c) {
        Some(l) if is_unspaced(l) || matches!(l, 'ß' | 'ς') => GENERAL,
        Some(l) if crate::text::is_alphanumeric(l) => LETTER | l as u32,
        Some(l) if is_combining_mark(l) => MARK | l as u32,
        Some(_) => SEPARATOR,
        None => GENERAL,
    };
    nfkc | kind
}

/// The state of a split: the tokens so far and the word being read.
#[derive(Default)]
struct TokenSplit {
    out: Tokens,
    /// FNV-1a state of the word being read, if any.
    word: Option<u64>,
}

/// ASCII bytes as the split reads them: a letter or digit in lower case, 0 for a byte that
/// only separates tokens.
const ASCII_FOLD: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut i = 0;
    while i < 128 {
        let x = i as u8;
        if x.is_ascii_alphanumeric() {
            t[i] = x.to_ascii_lowercase();
        }
        i += 1;
    }
    t
};

/// The split's running state, as locals: kept in the struct across characters, the word
/// hash and the counters went through memory at every byte (each token push may
/// reallocate the vector beside them, so the compiler could not keep them in registers).
struct Run<'a> {
    hashes: &'a mut Vec<u64>,
    /// FNV-1a state of the word being read; meaningful only while `open`.
    h: u64,
    open: bool,
    letters: usize,
    unspaced: usize,
}

impl Run<'_> {
    #[inline(always)]
    fn flush(&mut self) {
        if self.open {
            self.hashes.push(mix64(self.h));
            self.open = false;
        }
    }

    #[inline(always)]
    fn hash(&mut self, c: u64) {
        let h = if self.open { self.h } else { FNV_OFFSET };
        self.h = (h ^ c).wrapping_mul(FNV_PRIME);
        self.open = true;
    }

    /// One ASCII byte, not yet lower-cased: all of English text and the spaces and
    /// figures of most others, done without the Unicode tests.
    #[inline(always)]
    fn ascii(&mut self, x: u8) {
        match ASCII_FOLD[usize::from(x & 0x7F)] {
            0 => self.flush(),
            l => {
                self.hash(u64::from(l));
                self.letters += 1;
            }
        }
    }

    /// One character, lower-cased.
    #[inline]
    fn push(&mut self, c: char) {
        if is_unspaced(c) {
            self.flush();
            // Tagged so a one-character token never equals a word token by construction.
            self.hashes.push(mix64((c as u64) | (1 << 40)));
            self.letters += 1;
            self.unspaced += 1;
        } else if crate::text::is_alphanumeric(c) {
            // The case folds lower-casing misses: "Straße" = "STRASSE", final sigma.
            match c {
                'ß' => {
                    self.hash('s' as u64);
                    self.hash('s' as u64);
                }
                'ς' => self.hash('σ' as u64),
                _ => self.hash(c as u64),
            }
            self.letters += 1;
        } else if self.open && is_combining_mark(c) {
            self.hash(c as u64);
        } else {
            self.flush();
        }
    }
}

impl TokenSplit {
    /// Split `text` on, or, when `check_nfkc`, stop with `false` at the first non-ASCII
    /// character that is not surely NFKC on its own (the tokens before it are kept: the
    /// caller rolls them back).
    fn split(&mut self, text: &str, check_nfkc: bool) -> bool {
        let accept = |c: char| !check_nfkc || crate::text::surely_nfkc_char(c);
        let mut run = Run {
            hashes: &mut self.out.hashes,
            h: self.word.unwrap_or(FNV_OFFSET),
            open: self.word.is_some(),
            letters: self.out.letters,
            unspaced: self.out.unspaced,
        };
        let b = text.as_bytes();
        let mut i = 0;
        let mut accepted = true;
        while i < b.len() {
            let x = b[i];
            if x.is_ascii() {
                run.ascii(x);
                i += 1;
                continue;
            }
            let Some(c) = text[i..].chars().next() else {
                break;
            };
            i += c.len_utf8();
            // Latin, Greek, Cyrillic, Vietnamese and the common punctuation: one lookup
            // settles the character.
            if let Some(&entry) = split_table().get(c as usize) {
                if check_nfkc && entry & NOT_NFKC != 0 {
                    accepted = false;
                    break;
                }
                let l = entry & 0x1F_FFFF;
                match entry & KIND {
                    SEPARATOR => {
                        run.flush();
                        continue;
                    }
                    LETTER => {
                        run.hash(u64::from(l));
                        run.letters += 1;
                        continue;
                    }
                    MARK => {
                        if run.open {
                            run.hash(u64::from(l));
                        }
                        continue;
                    }
                    // Unspaced scripts, several lower-case characters, special folds: the
                    // general path below (which accepts the character, as just checked).
                    _ => {}
                }
            }
            if !accept(c) {
                accepted = false;
                break;
            }
            match crate::text::lower_char(c) {
                Some(l) => run.push(l),
                None => c.to_lowercase().for_each(|l| run.push(l)),
            }
        }
        let Run {
            h,
            open,
            letters,
            unspaced,
            ..
        } = run;
        self.word = open.then_some(h);
        self.out.letters = letters;
        self.out.unspaced = unspaced;
        accepted
    }

    fn flush(&mut self) {
        if let Some(h) = self.word.take() {
            self.out.hashes.push(mix64(h));
        }
    }
}

/// Turn token hashes into the hashes of their `n`-token shingles, in text order (not
/// de-duplicated), in place: shingle `i` is written where token `i` was, after the last
/// read of that token. A body shorter than `n` tokens gives one shingle of all its
/// tokens; an empty body gives none.
pub(crate) fn shingle_in_place(hashes: &mut Vec<u64>, n: usize) {
    if hashes.is_empty() {
        return;
    }
    let n = n.clamp(1, hashes.len());
    let count = hashes.len() - n + 1;
    for i in 0..count {
        // Order-sensitive chain of a bijective mix: "a b" and "b a" differ.
        hashes[i] = hashes[i..i + n]
            .iter()
            .fold(0x5348_494e_474c_4553_u64, |h, &t| mix64(h ^ t));
    }
    hashes.truncate(count);
}

/// Hashes of the `n`-token shingles of `tokens` ([`shingle_in_place`] on a copy).
#[cfg(test)]
pub(crate) fn shingles(tokens: &[u64], n: usize) -> Vec<u64> {
    let mut hashes = tokens.to_vec();
    shingle_in_place(&mut hashes, n);
    hashes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<u64> {
        tokens(s).hashes
    }

    #[test]
    fn punctuation_quotes_dashes_and_wrapping_do_not_matter() {
        let a = "He said \u{201c}it\u{2019}s fine\u{201d} \u{2013} at 5.30 & left.";
        let b = "he said \"it's fine\" - at 5.30 &amp; left";
        let c = "He said\n\"it's\u{a0}fine\" --\r\nat 5.30 &\nleft.";
        assert_eq!(toks(a), toks(b));
        assert_eq!(toks(a), toks(c));
        assert_eq!(toks("Straße ΟΔΟΣ"), toks("STRASSE οδος"));
        // Digits are kept.
        assert_ne!(toks("rose 5 pct"), toks("rose 6 pct"));
    }

    /// The tokens as first defined: every character decoded, tested and lower-cased.
    fn reference_tokens(text: &str) -> Vec<u64> {
        let nfkc: String = text.nfkc().collect();
        let mut hashes = Vec::new();
        let mut word: Option<u64> = None;
        let mut each = |c: char| {
            if is_unspaced(c) {
                hashes.extend(word.take().map(mix64));
                hashes.push(mix64((c as u64) | (1 << 40)));
            } else if c.is_alphanumeric() || (word.is_some() && is_combining_mark(c)) {
                let folded: &[char] = match c {
                    'ß' => &['s', 's'],
                    'ς' => &['σ'],
                    _ => std::slice::from_ref(&c),
                };
                let mut h = word.unwrap_or(FNV_OFFSET);
                for &f in folded {
                    h = (h ^ f as u64).wrapping_mul(FNV_PRIME);
                }
                word = Some(h);
            } else {
                hashes.extend(word.take().map(mix64));
            }
        };
        nfkc.chars()
            .flat_map(char::to_lowercase)
            .for_each(&mut each);
        hashes.extend(word.map(mix64));
        hashes
    }

    #[test]
    fn tokens_match_the_reference() {
        let texts = [
            "",
            "Plain ASCII, with 3.5 figures; and-dashes (brackets) x2",
            "Thủ tướng Phạm Minh Chính tiếp Đại sứ NGƯỜI Việt Vie\u{0323}\u{0302}t",
            "日本とベトナムの外交関係 東京都 Ｔｏｋｙｏ ｶﾀｶﾅ 中国2024年",
            "ΟΔΟΣ ΣΟΦΟΣ Straße İstanbul ǅemal a\u{301}b \u{301}x é\u{301}",
            "no\u{a0}break … ﬁ ① ² ㍿ ภาษาไทย ພາສາລາວ",
        ];
        for text in texts {
            assert_eq!(toks(text), reference_tokens(text), "{text:?}");
        }
        for i in 0..0x1_0000u32 {
            let Some(c) = char::from_u32(i) else { continue };
            for text in [format!("a{c}B"), format!("{c}1 {c}\u{301}x{c}")] {
                assert_eq!(toks(&text), reference_tokens(&text), "{i:#x}");
            }
        }
    }

    #[test]
    fn normalising_by_stretches_is_nfkc() {
        // Each character of the plane between boundary characters, composing neighbours
        // (combining marks, Hangul jamo) and characters NFKC rewrites.
        let marks = [
            "",
            "\u{301}",
            "\u{323}\u{302}",
            "\u{1161}\u{11a8}",
            "\u{a0}",
            "\u{2026}",
        ];
        for i in 0..0x1_0000u32 {
            let Some(c) = char::from_u32(i) else { continue };
            for m in marks {
                for s in [
                    format!("a{c}{m}b"),
                    format!("{c}{m}"),
                    format!("\u{1100}{c}{m}\u{ff21}"),
                    format!("e{m}{c}\u{1100}{m}"),
                ] {
                    assert_eq!(
                        nfkc_by_segments(&s),
                        s.nfkc().collect::<String>(),
                        "{i:#x} {m:?}"
                    );
                }
            }
        }
        for s in [
            "",
            "plain",
            "Vie\u{0323}\u{0302}t \u{ff21}\u{ff22} x\u{a0}y…",
            "\u{301}a",
        ] {
            assert_eq!(nfkc_by_segments(s), s.nfkc().collect::<String>(), "{s:?}");
        }
    }

    #[test]
    fn composition_and_width_fold() {
        // NFD Vietnamese and full-width Latin fold to the same tokens as NFC / ASCII.
        assert_eq!(toks("Vie\u{0323}\u{0302}t Nam"), toks("Việt Nam"));
        assert_eq!(toks("\u{ff21}\u{ff22}\u{ff23} 2024"), toks("abc 2024"));
    }

    #[test]
    fn unspaced_scripts_give_one_token_per_character() {
        let t = tokens("东京大学 is big");
        assert_eq!(t.hashes.len(), 6);
        assert_eq!(t.unspaced, 4);
        assert!(t.unspaced_share() > 0.3);
        assert_eq!(tokens("").unspaced_share(), 0.0);
    }

    #[test]
    fn shingles_are_ordered_windows() {
        let t = toks("a b c d");
        assert_eq!(shingles(&t, 2).len(), 3);
        assert_eq!(shingles(&t, 9).len(), 1);
        assert!(shingles(&[], 3).is_empty());
        assert_ne!(shingles(&toks("a b"), 2), shingles(&toks("b a"), 2));
    }
}
