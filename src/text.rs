//! Character tests and case folding shared by the stages, with exact fast paths.
//!
//! `char::is_alphabetic` and `char::to_lowercase` search Unicode tables for every
//! non-ASCII character; on Vietnamese, Greek or Cyrillic news that search dominated the
//! clean, dedup and language profiles. Here they are answered from tables built once from
//! the standard library itself (letters and digits over the Basic Multilingual Plane,
//! case below U+2000), so the results are the same by construction.

use std::sync::OnceLock;
use unicode_normalization::char::canonical_combining_class;
use unicode_normalization::{is_nfc_quick, is_nfkc_quick, IsNormalized};

/// Code points answered from the tables.
const TABLE: usize = 0x2000;
/// Marks a code point whose lower case is not one character (`İ` → `i̇`).
const NOT_ONE: char = '\u{FFFF}';

/// The characters below a limit for which a test holds, one bit each: the test's own
/// answers, looked up instead of worked out again.
pub struct CharSet(Vec<u64>);

impl CharSet {
    /// `limit` at most 0x10000 (the surrogates, which are no characters, are left out).
    pub fn new(limit: u32, test: impl Fn(char) -> bool) -> Self {
        let limit = limit.min(0x1_0000);
        let mut bits = vec![0u64; limit.div_ceil(64) as usize];
        for u in 0..limit {
            if char::from_u32(u).is_some_and(&test) {
                bits[(u / 64) as usize] |= 1 << (u % 64);
            }
        }
        CharSet(bits)
    }

    /// The test's answer, or `None` past the limit.
    #[inline]
    pub fn get(&self, c: char) -> Option<bool> {
        let u = u32::from(c);
        self.0
            .get((u / 64) as usize)
            .map(|w| (w >> (u % 64)) & 1 == 1)
    }
}

struct Tables {
    lower: Vec<char>,
    /// Letters over the whole Basic Multilingual Plane: kana, han and hangul are tested
    /// as often as Latin letters.
    alpha: CharSet,
    /// Digits over the Basic Multilingual Plane too: line keys test every CJK character.
    numeric: CharSet,
    /// NFC on its own and never combining with a neighbour (quick check "yes",
    /// combining class 0), over the Basic Multilingual Plane.
    stable: CharSet,
    /// The same for NFKC.
    stable_k: CharSet,
}

fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| {
        let lower = (0..TABLE as u32)
            .map(|i| {
                let mut l = char::from_u32(i).map(char::to_lowercase);
                match l.as_mut().map(|l| (l.next(), l.next())) {
                    Some((Some(one), None)) => one,
                    _ => NOT_ONE,
                }
            })
            .collect();
        let starter = |c: char| canonical_combining_class(c) == 0;
        Tables {
            lower,
            alpha: CharSet::new(0x10000, char::is_alphabetic),
            numeric: CharSet::new(0x10000, char::is_numeric),
            stable: CharSet::new(0x10000, |c| {
                starter(c) && is_nfc_quick(std::iter::once(c)) == IsNormalized::Yes
            }),
            stable_k: CharSet::new(0x10000, |c| {
                starter(c) && is_nfkc_quick(std::iter::once(c)) == IsNormalized::Yes
            }),
        }
    })
}

/// `c.is_alphabetic()`, faster.
#[inline]
pub fn is_alphabetic(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    tables().alpha.get(c).unwrap_or_else(|| c.is_alphabetic())
}

/// True when `s` is surely in NFC: every character is NFC on its own and never combines
/// with a neighbour. Decoded input is NFC already, so this settles most texts without
/// the normalisation tables; `false` only means "check properly".
pub fn surely_nfc(s: &str) -> bool {
    surely_stable(s, &tables().stable)
}

/// [`surely_nfc`] for one non-ASCII character.
#[inline]
pub fn surely_nfc_char(c: char) -> bool {
    tables().stable.get(c) == Some(true)
}

/// [`surely_nfkc`] for one non-ASCII character.
#[inline]
pub fn surely_nfkc_char(c: char) -> bool {
    tables().stable_k.get(c) == Some(true)
}

/// [`surely_nfc`] for NFKC.
pub fn surely_nfkc(s: &str) -> bool {
    surely_stable(s, &tables().stable_k)
}

fn surely_stable(s: &str, set: &CharSet) -> bool {
    s.is_ascii() || s.chars().all(|c| c.is_ascii() || set.get(c) == Some(true))
}

/// `c.is_numeric()`, faster.
#[inline]
pub fn is_numeric(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_digit();
    }
    tables().numeric.get(c).unwrap_or_else(|| c.is_numeric())
}

/// `c.is_alphanumeric()`, faster.
#[inline]
pub fn is_alphanumeric(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    is_alphabetic(c) || is_numeric(c)
}

/// The index of the first byte of `b` that `hit` accepts. Bytes are tested a block of
/// 32 at a time without an early exit inside the block, which the compiler turns into a
/// few vector steps; `position` alone reads one byte per step. (It does so only when
/// `hit` is written with `==`, `<` and `|`: `matches!` and `||` keep it scalar.)
#[inline]
pub fn find_byte(b: &[u8], hit: impl Fn(u8) -> bool) -> Option<usize> {
    let mut blocks = b.chunks_exact(32);
    let mut at = 0;
    for block in &mut blocks {
        if block.iter().fold(0u8, |any, &x| any | u8::from(hit(x))) != 0 {
            return block.iter().position(|&x| hit(x)).map(|p| at + p);
        }
        at += 32;
    }
    blocks
        .remainder()
        .iter()
        .position(|&x| hit(x))
        .map(|p| at + p)
}

/// The index of the first byte `b[i]` for which `hit(b[i], b[i + 1])` holds (0 stands
/// for the byte after the end): [`find_byte`] over pairs, 32 pairs a step.
#[inline]
pub fn find_pair(b: &[u8], hit: impl Fn(u8, u8) -> bool) -> Option<usize> {
    let mut at = 0;
    while at < b.len() {
        // A block and the byte after it, as an array: fixed bounds let the compiler
        // unroll and vectorise the fold. The last block is padded with zeros, so that
        // short texts are not left to a byte-at-a-time loop.
        let mut padded = [0u8; 33];
        let block = match b
            .get(at..at + 33)
            .and_then(|w| <&[u8; 33]>::try_from(w).ok())
        {
            Some(block) => block,
            None => {
                let rest = &b[at..];
                padded[..rest.len()].copy_from_slice(rest);
                &padded
            }
        };
        if (0..32).fold(0u8, |any, i| any | u8::from(hit(block[i], block[i + 1]))) != 0 {
            // Only pairs that start inside `b` count.
            let end = (b.len() - at).min(32);
            if let Some(i) = (0..end).find(|&i| hit(block[i], block[i + 1])) {
                return Some(at + i);
            }
        }
        at += 32;
    }
    None
}

/// True when `s` has no whitespace but single ASCII spaces between words: then its
/// words are exactly `s.split(' ')`.
pub fn is_collapsed(s: &str) -> bool {
    let b = s.as_bytes();
    if b.first() == Some(&b' ') || b.last() == Some(&b' ') {
        return false;
    }
    // One pass over byte pairs for a double space; tab, line feed, vertical tab, form
    // feed, carriage return; and the first two bytes of the other Unicode spaces:
    // U+0085, U+00A0 (C2 85, C2 A0), U+1680 (E1 9A), U+2000–U+205F (E2 80, E2 81),
    // U+3000 (E3 80), where a closer look decides. Pairs, not lead bytes: E1 starts
    // most Vietnamese letters (E1 BA, E1 BB), which are not decoded.
    let mut from = 0;
    while let Some(p) = find_pair(&b[from..], |x, y| {
        ((x == b' ') & (y == b' '))
            | (x.wrapping_sub(b'\t') < 5)
            | ((x == 0xC2) & ((y == 0x85) | (y == 0xA0)))
            | ((x == 0xE1) & (y == 0x9A))
            | ((x == 0xE2) & ((y == 0x80) | (y == 0x81)))
            | ((x == 0xE3) & (y == 0x80))
    }) {
        let i = from + p;
        // A double space or an ASCII control space; otherwise `i` starts a character.
        if b[i] < 0x80 || s[i..].chars().next().is_some_and(char::is_whitespace) {
            return false;
        }
        from = i + 1;
    }
    true
}

/// Append `s.to_lowercase()` to `out`.
pub fn push_lower(out: &mut String, s: &str) {
    if s.is_ascii() {
        out.extend(s.bytes().map(|b| b.to_ascii_lowercase() as char));
        return;
    }
    // Final sigma depends on the neighbouring letters: leave it to the standard library.
    if s.contains('Σ') {
        out.push_str(&s.to_lowercase());
        return;
    }
    push_lower_chars(out, s);
}

/// Append `char::to_lowercase` of each character of `s`: like [`push_lower`] but
/// without the final-sigma rule of `str::to_lowercase`.
pub fn push_lower_chars(out: &mut String, s: &str) {
    if s.is_ascii() {
        out.extend(s.bytes().map(|b| b.to_ascii_lowercase() as char));
        return;
    }
    for c in s.chars() {
        push_lower_char(out, c);
    }
}

/// Append `c.to_lowercase()` to `out`, through the table when it knows `c`.
#[inline]
pub fn push_lower_char(out: &mut String, c: char) {
    match lower_char(c) {
        Some(l) => out.push(l),
        None => out.extend(c.to_lowercase()),
    }
}

/// `c.to_lowercase()` when it is one character and the table knows it; `None` sends the
/// caller to `char::to_lowercase`.
#[inline]
pub fn lower_char(c: char) -> Option<char> {
    let i = c as usize;
    if i < 0x80 {
        return Some(c.to_ascii_lowercase());
    }
    if i < TABLE {
        let l = tables().lower[i];
        return (l != NOT_ONE).then_some(l);
    }
    // CJK, kana and Hangul have no case.
    ((0x3000..0xA000).contains(&i) || (0xAC00..0xD7A4).contains(&i)).then_some(c)
}

/// `s.to_lowercase()`, faster.
pub fn to_lower(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_lower(&mut out, s);
    out
}

/// Deterministic pseudo-random numbers for tests that compare a fast path with its plain
/// definition on many generated inputs (xorshift64: the same sequence on every run).
#[cfg(test)]
pub(crate) struct TestRng(u64);

#[cfg(test)]
impl TestRng {
    pub(crate) fn new() -> Self {
        TestRng(0x9E37_79B9_7F4A_7C15)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// One of `items`.
    pub(crate) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_agree_with_the_standard_library_on_every_code_point() {
        for i in 0..=0x10FFFFu32 {
            let Some(c) = char::from_u32(i) else {
                continue;
            };
            assert_eq!(is_alphabetic(c), c.is_alphabetic(), "{i:#x}");
            assert_eq!(is_alphanumeric(c), c.is_alphanumeric(), "{i:#x}");
            assert_eq!(is_numeric(c), c.is_numeric(), "{i:#x}");
            if c.is_whitespace() && c != ' ' {
                assert!(!is_collapsed(&format!("a{c}b")), "{i:#x}");
            } else if c != ' ' {
                assert!(is_collapsed(&format!("a {c}b")), "{i:#x}");
            }
            let s = c.to_string();
            assert_eq!(to_lower(&s), s.to_lowercase(), "{i:#x}");
            if let Some(l) = lower_char(c) {
                assert_eq!(
                    c.to_lowercase().collect::<String>(),
                    l.to_string(),
                    "{i:#x}"
                );
            }
        }
    }

    #[test]
    fn find_byte_finds_the_first_hit() {
        let b: Vec<u8> = (0..200u8).map(|i| i % 97).collect();
        for target in [0u8, 5, 50, 96, 97] {
            for start in [0, 1, 31, 32, 33, 150, 199, 200] {
                assert_eq!(
                    find_byte(&b[start..], |x| x == target),
                    b[start..].iter().position(|&x| x == target)
                );
            }
        }
    }

    #[test]
    fn find_pair_finds_the_first_hit() {
        let b: Vec<u8> = (0..200u8).map(|i| i % 97).collect();
        for target in [0u8, 5, 50, 95, 96, 97] {
            for start in [0, 1, 31, 32, 33, 150, 198, 199, 200] {
                let hit = |x: u8, y: u8| x == target && (y == target + 1 || y == 0);
                let slow = (start..b.len())
                    .find(|&i| hit(b[i], b.get(i + 1).copied().unwrap_or(0)))
                    .map(|i| i - start);
                assert_eq!(find_pair(&b[start..], hit), slow);
            }
        }
    }

    #[test]
    fn is_collapsed_agrees_with_its_definition() {
        let words = [
            "a", "Đà", "Nẵng", "ỨNG", "東京", "“x”", "—", "、", " ", "  ", "\t", "\u{a0}",
            "\u{85}", "\u{1680}", "\u{2009}", "\u{205f}", "\u{3000}", "\u{2028}", "\n",
        ];
        let mut rng = TestRng::new();
        for n in 0..4000 {
            let s: String = (0..n % 50).map(|_| rng.pick(&words)).collect();
            let slow = s.split_whitespace().collect::<Vec<_>>().join(" ") == s;
            assert_eq!(is_collapsed(&s), slow, "{s:?}");
        }
    }

    #[test]
    fn surely_nfc_never_says_yes_to_text_that_is_not() {
        for i in 0..0x10000u32 {
            let Some(c) = char::from_u32(i) else { continue };
            for s in [format!("a{c}"), format!("{c}\u{301}"), format!("e{c}b")] {
                if surely_nfc(&s) {
                    assert_eq!(is_nfc_quick(s.chars()), IsNormalized::Yes, "{i:#x}");
                }
                if surely_nfkc(&s) {
                    assert_eq!(is_nfkc_quick(s.chars()), IsNormalized::Yes, "{i:#x}");
                }
            }
        }
        assert!(surely_nfc("Đà Nẵng “quoted” — 東京 ひらがな Москва Αθήνα"));
        assert!(!surely_nfc("e\u{301}"));
    }

    #[test]
    fn words_lower_case_like_the_standard_library() {
        for w in [
            "Đà Nẵng",
            "ỨNG DỤNG",
            "ΟΔΟΣ ΣΟΦΟΣ",
            "Σ",
            "İstanbul",
            "МОСКВА",
            "東京Tower",
            "ﬁ Straße ẞ",
        ] {
            assert_eq!(to_lower(w), w.to_lowercase(), "{w}");
            let mut per_char = String::new();
            push_lower_chars(&mut per_char, w);
            assert_eq!(
                per_char,
                w.chars().flat_map(char::to_lowercase).collect::<String>()
            );
        }
    }
}
