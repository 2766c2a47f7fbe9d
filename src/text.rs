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
pub struct CharSet {
    bits: Vec<u64>,
    /// Whether the set holds all of U+00C0–U+01BF and U+1E80–U+1EFF: worked out once
    /// here for [`surely_stable`].
    latin: bool,
}

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
        // Latin-1 letters, Latin Extended-A and -B up to U+01BF, and U+1E80–U+1EFF (most
        // of Vietnamese): characters that [`surely_stable`] may pass by their lead bytes
        // alone when the set holds them all.
        let full = |w: usize| bits.get(w) == Some(&u64::MAX);
        let latin = (0xC0 / 64..=0x1BF / 64).all(full) && (0x1E80 / 64..=0x1EFF / 64).all(full);
        CharSet { bits, latin }
    }

    /// The test's answer, or `None` past the limit.
    #[inline]
    pub fn get(&self, c: char) -> Option<bool> {
        let u = u32::from(c);
        self.bits
            .get((u / 64) as usize)
            .map(|w| (w >> (u % 64)) & 1 == 1)
    }
}

struct Tables {
    lower: Vec<char>,
    /// [`latin_letter_lower`]'s answers by [`latin_index`]: the lower case as UTF-8 (first
    /// byte lowest) with its length in the top byte, 0 where the lower case is not one
    /// character.
    latin_lower: Vec<u32>,
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
        let lower: Vec<char> = (0..TABLE as u32)
            .map(|i| {
                let mut l = char::from_u32(i).map(char::to_lowercase);
                match l.as_mut().map(|l| (l.next(), l.next())) {
                    Some((Some(one), None)) => one,
                    _ => NOT_ONE,
                }
            })
            .collect();
        let starter = |c: char| canonical_combining_class(c) == 0;
        // Each letter of the two ranges goes where `latin_index` finds it from its bytes,
        // so the table's layout is written down once.
        let mut latin_lower = vec![0u32; LATIN_INDEXES];
        for c in ('\u{C0}'..='\u{1BF}').chain('\u{1E80}'..='\u{1EFF}') {
            let (mut from, mut to) = ([0u8; 4], [0u8; 4]);
            let l = lower[c as usize];
            let Some((i, _)) = latin_index(c.encode_utf8(&mut from).as_bytes()) else {
                continue;
            };
            if let (Some(slot), true) = (latin_lower.get_mut(i), l != NOT_ONE) {
                let n = l.encode_utf8(&mut to).len();
                *slot = u32::from_le_bytes(to) | (n as u32) << 24;
            }
        }
        Tables {
            lower,
            latin_lower,
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

/// Whether `s` is NFC: surely so by the character table, else by the quick check (which
/// says "maybe" only around combining marks).
pub fn is_nfc(s: &str) -> bool {
    surely_nfc(s) || is_nfc_quick(s.chars()) == IsNormalized::Yes
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

/// Every character of `s` is ASCII or in `set` (which covers the Basic Multilingual
/// Plane only). The other characters are looked up from their bytes here, on the spot:
/// in Vietnamese every few letters carry a mark, and the general `chars` decoder made
/// this check cost as much as the text's BPE merges. A set's 64-bit words each hold the
/// 64 characters that share all but the last byte of their UTF-8 form, so the lead (and
/// second) byte pick the word and the last byte's low six bits the bit. ASCII is skipped
/// up to 8 bytes a step.
fn surely_stable(s: &str, set: &CharSet) -> bool {
    if s.is_ascii() {
        return true;
    }
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let x = b[i];
        // From ASCII or a Latin letter, straight to the next character outside those
        // ranges: the lead bytes C3–C6, and E1 followed by BA or BB, start characters the
        // set holds. A vectorised search over byte pairs; continuation bytes never match.
        // At any other character (in CJK text, nearly every one) the search would stop
        // where it starts.
        if set.latin && (x < 0x80 || starts_latin(x, b.get(i + 1).copied().unwrap_or(0))) {
            match find_pair(&b[i..], |x, y| (x >= 0xC0) & !starts_latin(x, y)) {
                Some(p) => i += p,
                None => return true,
            }
        }
        let x = b[i];
        if x < 0x80 {
            i += match b.get(i..i + 8).and_then(|c| <[u8; 8]>::try_from(c).ok()) {
                Some(c) => {
                    // Up to the first non-ASCII byte of the eight (byte i is ASCII).
                    let high = u64::from_le_bytes(c) & 0x8080_8080_8080_8080;
                    if high == 0 {
                        8
                    } else {
                        (high.trailing_zeros() / 8) as usize
                    }
                }
                None => 1,
            };
            continue;
        }
        let cont = |k: usize| usize::from(b.get(i + k).copied().unwrap_or(0) & 0x3F);
        let (word, last, len) = if x < 0xE0 {
            (usize::from(x & 0x1F), cont(1), 2)
        } else if x < 0xF0 {
            (usize::from(x & 0x0F) << 6 | cont(1), cont(2), 3)
        } else {
            // Beyond the plane the set covers.
            return false;
        };
        if set.bits.get(word).is_none_or(|w| (w >> last) & 1 == 0) {
            return false;
        }
        i += len;
    }
    true
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

/// An ASCII byte [`normal_form`] reads as a space: space, tab, line feed, vertical tab,
/// form feed, carriage return (the ASCII characters `char::is_whitespace` accepts).
/// Written with `==`, `<` and `|`, so [`find_byte`] can search for it vectorised.
#[inline]
pub const fn is_ascii_space(x: u8) -> bool {
    (x == b' ') | (x.wrapping_sub(b'\t') < 5)
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
    irregular_space(s, 0).is_none()
}

/// The first whitespace character of `s` from byte `from` on that is not a single ASCII
/// space: a space after a space, tab, line feed, vertical tab, form feed, carriage
/// return, or a Unicode space.
pub fn irregular_space(s: &str, mut from: usize) -> Option<usize> {
    let b = s.as_bytes();
    // One pass over byte pairs for a double space, the ASCII control spaces, and the
    // first two bytes of the other Unicode spaces: U+0085, U+00A0 (C2 85, C2 A0), U+1680
    // (E1 9A), U+2000–U+205F (E2 80, E2 81), U+3000 (E3 80), where a closer look decides.
    // Pairs, not lead bytes: E1 starts most Vietnamese letters (E1 BA, E1 BB), which are
    // not decoded.
    while let Some(p) = find_pair(b.get(from..)?, |x, y| {
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
            return Some(i);
        }
        from = i + 1;
    }
    None
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

/// About how many bytes [`normal_form`] hands its sink at a time.
pub const NORMAL_CHUNK: usize = 8 << 10;

/// Which numerals a piece of [`normal_form`] holds (line keys read every digit as `0`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Numerals {
    /// ASCII digits.
    pub ascii: bool,
    /// Other characters of `char::is_numeric`.
    pub other: bool,
}

/// ASCII as [`normal_form`] writes it: lower case, and the ASCII characters of
/// `char::is_whitespace` (U+000B included) as a space.
static NORMAL_ASCII: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut i = 0;
    while i < 128 {
        let b = i as u8;
        t[i] = if is_ascii_space(b) {
            b' '
        } else {
            b.to_ascii_lowercase()
        };
        i += 1;
    }
    t
};

thread_local! {
    /// [`normal_form`]'s chunk buffer, made once per thread: a block is usually far
    /// shorter than a chunk, and zeroing a fresh buffer per block would cost more than
    /// the block itself.
    static NORMAL_BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The normal form exact dedup and line statistics compare `text` by: lower case
/// (`char::to_lowercase`), each run of whitespace one space, none at either end. It goes
/// to `sink` in pieces of whole characters, each cut at the first character boundary at or
/// past [`NORMAL_CHUNK`] bytes of output (a space that might end the text is held back),
/// so the pieces depend on the normal form alone; empty pieces are never handed over.
///
/// With `check_nfc`, stops with `false` at the first character that may not be NFC on its
/// own ([`surely_nfc_char`]): the normal form of such text is defined on its NFC, which the
/// caller makes before calling again without the check.
///
/// One pass, ASCII a byte at a time without branches on the byte's kind: exact dedup
/// and line keys both read every byte of every article.
pub fn normal_form(text: &str, check_nfc: bool, sink: &mut dyn FnMut(&[u8], Numerals)) -> bool {
    NORMAL_BUF.with(|buf| match buf.try_borrow_mut() {
        Ok(mut buf) => normal_form_in(text, check_nfc, &mut buf, sink),
        // Only if a sink itself asked for a normal form: a buffer of its own, then.
        Err(_) => normal_form_in(text, check_nfc, &mut Vec::new(), sink),
    })
}

fn normal_form_in(
    text: &str,
    check_nfc: bool,
    out: &mut Vec<u8>,
    sink: &mut dyn FnMut(&[u8], Numerals),
) -> bool {
    // One character adds at most 3 lower-case characters of at most 4 bytes.
    out.resize(NORMAL_CHUNK + 16, 0);
    let b = text.as_bytes();
    let mut i = 0;
    let mut n = 0;
    // The last byte written is a space, or nothing is written yet: a space now is dropped.
    let mut space = true;
    let mut nums = Numerals::default();
    // The letters `latin_letter_lower` reads are all NFC on their own when the NFC set
    // holds their whole ranges (it does; `CharSet` checks).
    let latin = !check_nfc || tables().stable.latin;
    loop {
        let mut digits = false;
        while i < b.len() && n < NORMAL_CHUNK {
            #[cfg(target_arch = "x86_64")]
            if let Some(chunk) = b.get(i..i + 16) {
                let step = ascii_step(chunk, &mut out[n..n + 16], space, NORMAL_CHUNK - n);
                if step.taken > 0 {
                    n += step.taken;
                    i += step.taken;
                    space = step.ends_in_space;
                    digits |= step.digits;
                    continue;
                }
            }
            let x = b[i];
            if x >= 0x80 {
                break;
            }
            let c = NORMAL_ASCII[usize::from(x)];
            let is_space = c == b' ';
            out[n] = c;
            n += usize::from(!(is_space & space));
            space = is_space;
            digits |= x.wrapping_sub(b'0') < 10;
            i += 1;
        }
        nums.ascii |= digits;
        if n >= NORMAL_CHUNK {
            // A trailing space is held back: the text may end there.
            let held = usize::from(space);
            sink(&out[..n - held], nums);
            out[0] = b' ';
            n = held;
            nums = Numerals::default();
            continue;
        }
        // `i` is at a character boundary: only whole characters are stepped over.
        if latin {
            if let Some((l, width, len)) = latin_letter_lower(&b[i..]) {
                // `out` has room past `n` (flushed at NORMAL_CHUNK): the bytes past the
                // width are overwritten next.
                out[n..n + 4].copy_from_slice(&l.to_le_bytes());
                n += width;
                space = false;
                i += len;
                continue;
            }
        }
        let Some(c) = text.get(i..).and_then(|rest| rest.chars().next()) else {
            break;
        };
        i += c.len_utf8();
        if c.is_whitespace() {
            out[n] = b' ';
            n += usize::from(!space);
            space = true;
            continue;
        }
        if check_nfc && !surely_nfc_char(c) {
            return false;
        }
        match lower_char(c) {
            Some(l) => n += l.encode_utf8(&mut out[n..]).len(),
            None => {
                for l in c.to_lowercase() {
                    n += l.encode_utf8(&mut out[n..]).len();
                }
            }
        }
        space = false;
        nums.other |= is_numeric(c);
    }
    if space && n > 0 {
        n -= 1;
    }
    if n > 0 {
        sink(&out[..n], nums);
    }
    true
}

/// What [`ascii_step`] did.
#[cfg(target_arch = "x86_64")]
struct AsciiStep {
    /// Bytes read, and as many written: 0 when the first byte needs the byte-at-a-time path.
    taken: usize,
    /// The last byte taken is a space.
    ends_in_space: bool,
    /// A byte taken is an ASCII digit.
    digits: bool,
}

/// [`normal_form`] of the plain stretch that starts `src` (16 bytes), written to `dst`
/// (16 bytes) in one vector step: printable ASCII and single spaces, lower-cased, up to
/// the first byte that is not ASCII, a control byte (tabs, line feeds and the like become
/// a space), or a space after a space (`space`: the byte before `src` was one, or nothing
/// is written yet), and at most `room` bytes. Those bytes the byte-at-a-time path reads;
/// the rest of English text and the ASCII runs of other Latin text go 16 at a time,
/// where the byte loop's dependence on the last byte's kind held it to a byte every few
/// cycles. Bytes past `taken` in `dst` are overwritten by whatever comes next.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn ascii_step(src: &[u8], dst: &mut [u8], space: bool, room: usize) -> AsciiStep {
    use std::arch::x86_64::*;
    assert!(src.len() >= 16 && dst.len() >= 16);
    // SAFETY: SSE2 is part of x86_64; both slices hold 16 bytes (asserted), as the
    // unaligned load and store read and write.
    unsafe {
        let v = _mm_loadu_si128(src.as_ptr().cast());
        let byte_mask = |m: __m128i| _mm_movemask_epi8(m) as u32;
        let spaces = byte_mask(_mm_cmpeq_epi8(v, _mm_set1_epi8(b' ' as i8)));
        // Signed: bytes from 0x80 (negative) count as well as the controls.
        let not_plain = byte_mask(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
        let dropped = spaces & (spaces << 1 | u32::from(space));
        let stop = not_plain | dropped | 1 << room.min(16);
        let taken = stop.trailing_zeros() as usize;
        if taken == 0 {
            return AsciiStep {
                taken,
                ends_in_space: space,
                digits: false,
            };
        }
        let between = |lo: u8, hi: u8| {
            _mm_and_si128(
                _mm_cmpgt_epi8(v, _mm_set1_epi8(lo as i8 - 1)),
                _mm_cmplt_epi8(v, _mm_set1_epi8(hi as i8 + 1)),
            )
        };
        let upper = between(b'A', b'Z');
        let lower = _mm_add_epi8(v, _mm_and_si128(upper, _mm_set1_epi8(0x20)));
        _mm_storeu_si128(dst.as_mut_ptr().cast(), lower);
        let digits = byte_mask(between(b'0', b'9'));
        let kept = (1u32 << taken) - 1;
        AsciiStep {
            taken,
            ends_in_space: spaces >> (taken - 1) & 1 != 0,
            digits: digits & kept != 0,
        }
    }
}

/// Whether a character whose UTF-8 form starts with bytes `x`, `y` is in the ranges
/// [`CharSet`]'s `latin` covers: U+00C0–U+01BF (lead bytes C3–C6) or U+1E80–U+1EFF (E1 BA,
/// E1 BB). Written with `==`, `&` and `|` only, so the byte-pair searches that call it
/// stay vectorised.
#[inline(always)]
pub(crate) fn starts_latin(x: u8, y: u8) -> bool {
    (x.wrapping_sub(0xC3) <= 3) | ((x == 0xE1) & ((y == 0xBA) | (y == 0xBB)))
}

/// The lower case of the character `b` starts with, when it is in the [`starts_latin`]
/// ranges and its lower case is one character: the accented Latin letters, Vietnamese's
/// among them (and × and ÷). `(lower, width, len)`: the lower case's UTF-8 bytes as a
/// number (first byte lowest, at most 3 bytes), how many they are, and the length of the
/// character read. Looked up by the character's bytes, so neither decoded, nor looked up
/// again by code point, nor encoded. None of these characters is whitespace or a numeral.
/// `None` for anything else.
#[inline(always)]
pub(crate) fn latin_letter_lower(b: &[u8]) -> Option<(u32, usize, usize)> {
    let (index, len) = latin_index(b)?;
    let e = *tables().latin_lower.get(index)?;
    (e != 0).then_some((e & 0xFF_FFFF, (e >> 24) as usize, len))
}

/// Places in [`Tables::latin_lower`]: U+00C0–U+01BF, then U+1E80–U+1EFF.
const LATIN_INDEXES: usize = 256 + 128;

/// The place of the character `b` starts with in [`Tables::latin_lower`], and its length,
/// when [`starts_latin`] says it is in the table's ranges.
#[inline(always)]
fn latin_index(b: &[u8]) -> Option<(usize, usize)> {
    match *b {
        // Lead bytes C3–C6: U+00C0–U+01BF, 64 to a lead byte.
        [x, y, ..] if x < 0xE0 && starts_latin(x, y) => {
            Some((usize::from(x - 0xC3) << 6 | usize::from(y & 0x3F), 2))
        }
        // E1 BA, E1 BB: U+1E80–U+1EFF.
        [x, y, z, ..] if starts_latin(x, y) => Some((
            256 + (usize::from(y - 0xBA) << 6 | usize::from(z & 0x3F)),
            3,
        )),
        _ => None,
    }
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

    /// The pieces [`normal_form`] hands over, or `None` when it stops at a character.
    fn pieces(text: &str, check_nfc: bool) -> Option<Vec<(Vec<u8>, Numerals)>> {
        let mut got = Vec::new();
        normal_form(text, check_nfc, &mut |p, n| got.push((p.to_vec(), n))).then_some(got)
    }

    /// The normal form by its definition, word by word.
    fn normal_by_words(text: &str) -> String {
        let words: Vec<String> = text
            .split_whitespace()
            .map(|w| w.chars().flat_map(char::to_lowercase).collect())
            .collect();
        words.join(" ")
    }

    #[test]
    fn ascii_space_bytes_are_the_ascii_whitespace_characters() {
        for x in 0..=255u8 {
            let want = x.is_ascii() && char::from(x).is_whitespace();
            assert_eq!(is_ascii_space(x), want, "{x:#04x}");
        }
    }

    #[test]
    fn normal_form_is_the_lower_case_words_joined_by_one_space() {
        let long_spaced = "Ab  \t 12 \u{1ec7}\u{a0}".repeat(3000);
        let long_ascii = format!("{} x", "Word ".repeat(5000));
        for t in [
            "",
            " \t\x0b\x0c\r\n",
            "  Đà   Nẵng\u{a0}\tTOKYO\n東京  ",
            "ΟΔΟΣ Σ İstanbul\u{3000}x\u{85}y ٣٤",
            "MiXeD\x1cCase \u{2028}end ",
            &long_spaced,
            &long_ascii,
        ] {
            let got = pieces(t, true).unwrap();
            let joined: Vec<u8> = got.iter().flat_map(|(p, _)| p.clone()).collect();
            assert_eq!(String::from_utf8(joined).unwrap(), normal_by_words(t));
            for (p, nums) in &got {
                assert!(!p.is_empty() && p.len() < NORMAL_CHUNK + 16);
                let p = std::str::from_utf8(p).unwrap();
                assert_eq!(nums.ascii, p.bytes().any(|b| b.is_ascii_digit()), "{p:?}");
                let other = p.chars().any(|c| !c.is_ascii() && c.is_numeric());
                assert_eq!(nums.other, other, "{p:?}");
            }
        }
    }

    /// The accented Latin and Vietnamese letters the normal form reads from their bytes:
    /// every code point of their ranges, between ASCII, spaces and each other.
    #[test]
    fn latin_letters_read_from_bytes_lower_as_the_standard_library() {
        let mut answered = 0;
        for cp in (0xC0..0x1C0).chain(0x1E80..0x1F00) {
            let c = char::from_u32(cp).unwrap();
            let mut buf = [0u8; 4];
            let bytes = c.encode_utf8(&mut buf).as_bytes();
            match latin_letter_lower(bytes) {
                Some((l, width, len)) => {
                    answered += 1;
                    assert_eq!(len, c.len_utf8());
                    // The lower case's bytes, then zeros.
                    let all = l.to_le_bytes();
                    let lower = c.to_lowercase().collect::<String>();
                    assert_eq!(lower.as_bytes(), &all[..width], "{c:?}");
                    assert!(all[width..].iter().all(|&x| x == 0), "{c:?}");
                    assert!(!c.is_whitespace() && !c.is_numeric() && surely_nfc_char(c));
                }
                None => assert_ne!(
                    c.to_lowercase().count(),
                    1,
                    "{c:?} left to the general path"
                ),
            }
            for t in [
                format!("A{c}b {c}{c}\tx"),
                format!("{c}"),
                format!(" {c}Ể9 "),
            ] {
                let joined: Vec<u8> = pieces(&t, true)
                    .unwrap()
                    .iter()
                    .flat_map(|(p, _)| p.clone())
                    .collect();
                assert_eq!(String::from_utf8(joined).unwrap(), normal_by_words(&t));
                assert_eq!(pieces(&t, true), pieces(&t, false), "{t:?}");
            }
        }
        assert!(answered > 370, "{answered}");
        // Other lead bytes, and a text cut short, are not read here.
        for b in [
            &[0xC2, 0xA0][..],
            &[0xC7, 0x84],
            &[0xE1, 0xB8, 0x80],
            &[0xC3],
            &[0xE1, 0xBA],
        ] {
            assert_eq!(latin_letter_lower(b), None, "{b:x?}");
        }
    }

    /// Random mixes of what the 16-byte steps take (letters of both cases, digits,
    /// punctuation, single spaces) and what stops them (double spaces, tabs, line feeds,
    /// other controls, accented and CJK letters, non-ASCII spaces) at every offset, in
    /// texts long enough to span several pieces.
    #[test]
    fn ascii_steps_give_the_normal_form_and_its_pieces() {
        let parts = [
            "Hello", "WORLD", "x", "2024", "e.g.", "A-Z", "@[`{", " ", " ", " ", "  ", "\t", "\n",
            "\x0b", "\x01", "\x7f", "Đà", "ữ", "東京", "\u{a0}", "\u{3000}", "٣",
        ];
        let mut rng = TestRng::new();
        // Digits just past a piece's end, read by a step that the piece's end cuts short.
        // (Each "x\t" puts the steps two bytes further from the pieces' ends.)
        let cut_before_digits = (1..8).map(|s| {
            format!(
                "{}{}bbbb9999",
                "x\t".repeat(s),
                "a".repeat(NORMAL_CHUNK - 2 * s - 4)
            )
        });
        let random = (0..300).map(|round| {
            let len = if round % 50 == 0 {
                6000
            } else {
                1 + rng.next() % 60
            };
            (0..len).map(|_| rng.pick(&parts)).collect::<String>()
        });
        for text in cut_before_digits.chain(random) {
            let got = pieces(&text, true).unwrap();
            let joined: Vec<u8> = got.iter().flat_map(|(p, _)| p.clone()).collect();
            let normal = normal_by_words(&text);
            assert_eq!(String::from_utf8(joined).unwrap(), normal, "{text:?}");
            // Cut where the normal form itself would be cut, whatever the spacing.
            assert_eq!(pieces(&normal, true).unwrap(), got, "{text:?}");
            for (p, nums) in &got {
                let p = std::str::from_utf8(p).unwrap();
                assert_eq!(nums.ascii, p.bytes().any(|b| b.is_ascii_digit()), "{p:?}");
            }
        }
    }

    #[test]
    fn normal_form_pieces_depend_on_the_normal_form_alone() {
        // The same words spaced differently reach a chunk's end at different input
        // offsets; a piece boundary that fell on a space is the subtle case.
        for gap in ["", "a", "ab", "abc"] {
            let words = format!("{gap}{}", "wxyz ".repeat(4000));
            let spaced = words.replace(' ', " \n\t ");
            assert_eq!(pieces(&words, true), pieces(&spaced, true), "{gap}");
            let cut = pieces(&words, true).unwrap();
            assert!(cut.len() > 1);
            assert!(cut[..cut.len() - 1]
                .iter()
                .all(|(p, _)| p.len() >= NORMAL_CHUNK - 1));
        }
    }

    #[test]
    fn normal_form_stops_where_nfc_is_in_doubt() {
        let nfd = "Vie\u{0323}\u{0302}t";
        assert_eq!(pieces(nfd, true), None);
        let got = pieces(nfd, false).unwrap();
        assert_eq!(got[0].0, "vie\u{0323}\u{0302}t".as_bytes());
    }

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
    fn surely_stable_decodes_like_chars() {
        let set = &tables().stable;
        // The NFC set takes the jump over Latin letters; the NFKC set (U+0132 "Ĳ" has a
        // compatibility decomposition) does not. Both are checked below.
        assert!(set.latin);
        assert!(!tables().stable_k.latin);
        for set in [set, &tables().stable_k] {
            let by_chars = |s: &str| s.chars().all(|c| c.is_ascii() || set.get(c) == Some(true));
            for i in 0..=0x10FFFFu32 {
                let Some(c) = char::from_u32(i) else { continue };
                for s in [
                    format!("{c}"),
                    format!("ab{c}"),
                    format!("{c}\u{1ec7}x{c}"),
                    // ASCII runs longer and shorter than the 8-byte step, and the
                    // Vietnamese letters the jump passes over.
                    format!("abcdefghijk{c}lmnopqrstuvwxyz 0123{c}x"),
                    format!("Việt Nam đã {c} những ngày ưu tiên {c}"),
                ] {
                    assert_eq!(surely_stable(&s, set), by_chars(&s), "{i:#x}");
                }
            }
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
