//! Character-level cleaning of decoded text: HTML entities, line endings, control and
//! invisible format characters, NFC. Every change is counted in [`Repairs`] so the report
//! can say what was done to a document.

use std::borrow::Cow;
use unicode_normalization::UnicodeNormalization;

/// What decoding and cleaning changed in one document; rendered as notes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Repairs {
    /// Encoding that had to be guessed (no BOM, not UTF-8), e.g. "windows-1252".
    pub guessed_encoding: Option<String>,
    /// Bytes of invalid UTF-8 replaced by U+FFFD.
    pub invalid_utf8: usize,
    /// Bytes of an incomplete UTF-8 sequence dropped at the end of the input.
    pub truncated_utf8: usize,
    /// Malformed sequences in UTF-16/legacy input replaced by U+FFFD.
    pub undecodable: usize,
    /// NULs removed inside the text.
    pub nuls: usize,
    /// NULs removed at the end of the input (C-string / preallocation padding).
    pub trailing_nuls: usize,
    /// C0 (other than `\t`, `\n`, `\r`), DEL and C1 control characters removed or mapped.
    pub controls: usize,
    /// ANSI/ECMA-48 escape sequences removed.
    pub escapes: usize,
    /// Zero-width, bidi and other invisible format characters removed.
    pub format: usize,
    /// HTML character references unescaped.
    pub entities: usize,
    /// The text was not in NFC.
    pub nfc: bool,
    /// U+FFFD present in the final text (pre-existing or from decoding).
    pub replacement_chars: usize,
}

impl Repairs {
    /// One human-readable note per repair class, in a fixed order.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(enc) = &self.guessed_encoding {
            notes.push(format!("decoded as {enc} (detected)"));
        }
        if self.invalid_utf8 > 0 {
            notes.push(format!(
                "replaced {} invalid UTF-8 bytes",
                self.invalid_utf8
            ));
        }
        if self.truncated_utf8 > 0 {
            notes.push(format!(
                "dropped {} bytes of a truncated UTF-8 sequence at end of input",
                self.truncated_utf8
            ));
        }
        if self.undecodable > 0 {
            notes.push(format!(
                "replaced {} undecodable byte sequences",
                self.undecodable
            ));
        }
        let nuls = self.nuls + self.trailing_nuls;
        if nuls > 0 {
            notes.push(format!("removed {nuls} NUL characters"));
        }
        if self.controls > 0 {
            notes.push(format!("stripped {} control characters", self.controls));
        }
        if self.escapes > 0 {
            notes.push(format!("stripped {} ANSI escape sequences", self.escapes));
        }
        if self.format > 0 {
            notes.push(format!(
                "stripped {} zero-width/bidi format characters",
                self.format
            ));
        }
        if self.entities > 0 {
            notes.push(format!("unescaped {} HTML entities", self.entities));
        }
        if self.nfc {
            notes.push("normalized to Unicode NFC".to_string());
        }
        notes
    }
}

/// Clean one decoded text: entities once, then line endings, controls, format characters,
/// then NFC (last, because removing characters can make new composable pairs meet).
/// Text that needs none of it is returned as is, without a copy.
pub(crate) fn clean(text: String, r: &mut Repairs) -> String {
    let text = match unescape_entities(&text, r) {
        Cow::Borrowed(_) => text,
        Cow::Owned(s) => s,
    };
    let text = scrub(&text, r).unwrap_or(text);
    to_nfc(text, r)
}

/// Clean a one-line metadata field (title, byline, …): like [`clean`], then line breaks
/// become spaces and the ends are trimmed. `None` if nothing is left.
pub(crate) fn clean_field(text: &str, r: &mut Repairs) -> Option<String> {
    let cleaned = clean(text.to_string(), r);
    let one_line = if cleaned.contains('\n') {
        cleaned.replace('\n', " ")
    } else {
        cleaned
    };
    let trimmed = one_line.trim();
    if trimmed.is_empty() {
        None
    } else if trimmed.len() == one_line.len() {
        Some(one_line)
    } else {
        Some(trimmed.to_string())
    }
}

/// Longest `&…;` reference looked at; the longest HTML5 entity name has 31 characters.
const MAX_ENTITY_LEN: usize = 40;

/// Unescape HTML character references exactly once (`&amp;amp;` → `&amp;`). Only complete
/// references ending in `;` are touched, so "AT&T" or "R&D;" stay as they are.
fn unescape_entities<'a>(s: &'a str, r: &mut Repairs) -> Cow<'a, str> {
    let b = s.as_bytes();
    let Some(first) = s.find('&') else {
        return Cow::Borrowed(s);
    };
    let mut out: Option<String> = None;
    let mut last = 0;
    let mut i = first;
    while i < b.len() {
        if b[i] != b'&' {
            i += 1;
            continue;
        }
        let window = &b[i + 1..b.len().min(i + 1 + MAX_ENTITY_LEN)];
        let Some(semi) = window.iter().position(|&c| c == b';') else {
            i += 1;
            continue;
        };
        let name = &window[..semi];
        if name.is_empty() || !name.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'#') {
            i += 1;
            continue;
        }
        let end = i + 1 + semi + 1;
        // `&` and `;` are ASCII, so both ends are char boundaries.
        let reference = &s[i..end];
        match html_escape::decode_html_entities(reference) {
            Cow::Owned(decoded) if decoded != reference => {
                let o = out.get_or_insert_with(|| String::with_capacity(s.len()));
                o.push_str(&s[last..i]);
                o.push_str(&decoded);
                r.entities += 1;
                last = end;
                i = end;
            }
            _ => i += 1,
        }
    }
    match out {
        Some(mut o) => {
            o.push_str(&s[last..]);
            Cow::Owned(o)
        }
        None => Cow::Borrowed(s),
    }
}

/// What to do with one character.
enum Action {
    Keep,
    /// Remove it.
    Drop,
    /// Replace it with this text.
    Map(&'static str),
}

/// Classify a non-ASCII character. Only chars whose UTF-8 lead byte passes
/// [`may_be_special`] get here.
fn classify(c: char, r: &mut Repairs) -> Action {
    match c {
        // NEL is a line break in EBCDIC-derived text.
        '\u{85}' => {
            r.controls += 1;
            Action::Map("\n")
        }
        '\u{80}'..='\u{9F}' => {
            r.controls += 1;
            Action::Drop
        }
        '\u{2028}' | '\u{2029}' => Action::Map("\n"),
        // Soft hyphen, Arabic letter mark, Mongolian vowel separator, zero-width and bidi
        // controls, word joiner and invisible operators, bidi isolates, BOM / ZWNBSP.
        '\u{AD}'
        | '\u{61C}'
        | '\u{180E}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}'
        | '\u{FEFF}' => {
            r.format += 1;
            Action::Drop
        }
        '\u{FFFD}' => {
            r.replacement_chars += 1;
            Action::Keep
        }
        _ => Action::Keep,
    }
}

/// Whether the character starting with these two UTF-8 bytes may be one [`classify`]
/// changes: U+0080–U+009F and U+00AD (C2), U+061C (D8 9C), U+180E (E1 A0), U+2000–U+207F
/// (E2 80/81), U+FEFF (EF BB) and U+FFF9–U+FFFF (EF BF). Everything else, e.g. every
/// Vietnamese or CJK letter, is skipped without decoding. Written with `==`, `<=`, `&`
/// and `|` only, so the search in [`scrub_runs`] that calls it stays vectorised.
#[inline(always)]
fn may_be_special(lead: u8, second: u8) -> bool {
    ((lead == 0xC2) & ((second <= 0x9F) | (second == 0xAD)))
        | ((lead == 0xD8) & (second == 0x9C))
        | ((lead == 0xE1) & (second == 0xA0))
        | ((lead == 0xE2) & ((second == 0x80) | (second == 0x81)))
        | ((lead == 0xEF) & ((second == 0xBB) | (second == 0xBF)))
}

fn utf8_width(lead: u8) -> usize {
    match lead {
        0x00..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

/// Line endings to `\n`, tab to space, controls/NUL/escape sequences/format chars removed.
/// Returns `None` when nothing changed (the common case costs one scan, no allocation).
fn scrub(s: &str, r: &mut Repairs) -> Option<String> {
    scrub_runs::<true>(s, r)
}

/// [`scrub`]; `SKIP` = jump straight to the next byte that may need a change (false
/// only to test that jump against looking at every character).
fn scrub_runs<const SKIP: bool>(s: &str, r: &mut Repairs) -> Option<String> {
    let b = s.as_bytes();
    let mut out: Option<String> = None;
    let mut last = 0;
    let mut i = 0;
    while i < b.len() {
        // Printable ASCII, line feeds and nearly every other character (all Vietnamese
        // and CJK letters) are kept as they are: a vectorised search over byte pairs
        // finds the next control byte or lead-and-second byte pair of a character
        // [`classify`] may change. Each hit starts a character.
        if SKIP {
            match crate::text::find_pair(&b[i..], |x, y| {
                ((x < 0x20) & (x != b'\n')) | (x == 0x7F) | may_be_special(x, y)
            }) {
                Some(p) => i += p,
                None => break,
            }
        }
        let x = b[i];
        let (len, action) = if x < 0x80 {
            if (0x20..0x7F).contains(&x) || x == b'\n' {
                i += 1;
                continue;
            }
            match x {
                b'\r' if b.get(i + 1) == Some(&b'\n') => (1, Action::Drop),
                b'\r' => (1, Action::Map("\n")),
                b'\t' => (1, Action::Map(" ")),
                0 => {
                    r.nuls += 1;
                    (1, Action::Drop)
                }
                // Form feed separates pages: keep it as a line break.
                0x0C => {
                    r.controls += 1;
                    (1, Action::Map("\n"))
                }
                0x1B => {
                    let n = escape_len(&b[i..]);
                    if n > 1 {
                        r.escapes += 1;
                    } else {
                        r.controls += 1;
                    }
                    (n, Action::Drop)
                }
                _ => {
                    r.controls += 1;
                    (1, Action::Drop)
                }
            }
        } else {
            let w = utf8_width(x);
            if !may_be_special(x, b.get(i + 1).copied().unwrap_or(0)) {
                i += w;
                continue;
            }
            match s[i..].chars().next() {
                Some(c) => (c.len_utf8(), classify(c, r)),
                None => (w, Action::Keep),
            }
        };
        match action {
            Action::Keep => {}
            Action::Drop | Action::Map(_) => {
                let o = out.get_or_insert_with(|| String::with_capacity(s.len()));
                o.push_str(&s[last..i]);
                if let Action::Map(m) = action {
                    o.push_str(m);
                }
                last = i + len;
            }
        }
        i += len;
    }
    out.map(|mut o| {
        o.push_str(&s[last..]);
        o
    })
}

/// Length of the escape sequence starting with ESC at `b[0]`; 1 if it is a lone ESC.
/// Handles CSI (`ESC [ params intermediates final`, e.g. colours), OSC (`ESC ] … BEL|ESC \`)
/// and the short `ESC intermediates final` forms (e.g. `ESC ( B`).
fn escape_len(b: &[u8]) -> usize {
    match b.get(1) {
        Some(b'[') => {
            let mut j = 2;
            while j < b.len() && (0x30..=0x3F).contains(&b[j]) {
                j += 1;
            }
            while j < b.len() && (0x20..=0x2F).contains(&b[j]) {
                j += 1;
            }
            if j < b.len() && (0x40..=0x7E).contains(&b[j]) {
                j + 1
            } else {
                // Unterminated: drop what is certainly part of it, never the text after.
                j.min(2)
            }
        }
        Some(b']') => {
            // Bounded so an unterminated OSC cannot swallow the article.
            let limit = b.len().min(512);
            let mut j = 2;
            while j < limit {
                match b[j] {
                    0x07 => return j + 1,
                    0x1B if b.get(j + 1) == Some(&b'\\') => return j + 2,
                    b'\n' => break,
                    _ => j += 1,
                }
            }
            1
        }
        Some(_) => {
            let mut j = 1;
            while j < b.len() && (0x20..=0x2F).contains(&b[j]) {
                j += 1;
            }
            if j < b.len() && (0x30..=0x7E).contains(&b[j]) {
                j + 1
            } else {
                1
            }
        }
        None => 1,
    }
}

/// NFC, computed only when the quick check says it may be needed.
fn to_nfc(s: String, r: &mut Repairs) -> String {
    if crate::text::is_nfc(&s) {
        return s;
    }
    let n: String = s.nfc().collect();
    if n != s {
        r.nfc = true;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cleaned(s: &str) -> (String, Repairs) {
        let mut r = Repairs::default();
        let out = clean(s.to_string(), &mut r);
        (out, r)
    }

    #[test]
    fn plain_text_is_untouched() {
        let (out, r) = cleaned("Hello, world.\nSecond line – “quoted” café 東京\n");
        assert_eq!(out, "Hello, world.\nSecond line – “quoted” café 東京\n");
        assert_eq!(r, Repairs::default());
        assert!(r.notes().is_empty());
    }

    #[test]
    fn line_endings_and_tabs() {
        let (out, r) = cleaned("a\r\nb\rc\n\td\r\r\ne");
        assert_eq!(out, "a\nb\nc\n d\n\ne");
        assert!(r.notes().is_empty(), "{:?}", r.notes());
    }

    #[test]
    fn controls_nul_and_ansi_are_stripped() {
        let s = "Trade and\u{7}\u{8}\u{b}\u{1b}[31m investment\u{1b}[0m\u{7f}\u{9b}\u{85}cooperation\0 here\0";
        let (out, r) = cleaned(s);
        assert_eq!(out, "Trade and investment\ncooperation here");
        assert_eq!(r.escapes, 2);
        assert_eq!(r.nuls, 2);
        // BEL, BS, VT, DEL, CSI (C1), NEL
        assert_eq!(r.controls, 6);
        let notes = r.notes();
        assert!(notes.contains(&"stripped 6 control characters".to_string()));
        assert!(notes.contains(&"stripped 2 ANSI escape sequences".to_string()));
        assert!(notes.contains(&"removed 2 NUL characters".to_string()));
    }

    #[test]
    fn escape_sequences_never_eat_text() {
        assert_eq!(escape_len(b"\x1b[1;31mX"), 7);
        assert_eq!(escape_len(b"\x1b(BX"), 3);
        assert_eq!(escape_len(b"\x1b]0;title\x07X"), 10);
        assert_eq!(escape_len(b"\x1b]0;never terminated\nX"), 1);
        assert_eq!(escape_len(b"\x1b"), 1);
        assert_eq!(escape_len(b"\x1b[\xc3\xa9"), 2);
        let (out, _) = cleaned("a\u{1b}[é");
        assert_eq!(out, "aé");
    }

    #[test]
    fn skipping_ascii_runs_changes_nothing() {
        let pieces = [
            "plain ascii text ",
            "\r\n",
            "\t",
            "\0",
            "\u{7}",
            "\u{7f}",
            "\u{1b}[31m",
            "\u{1b}]0;t\u{7}",
            "Việt ",
            "\u{85}",
            "\u{ad}",
            "\u{200b}",
            "\u{feff}",
            "\u{fffd}",
            "\u{2028}",
            "\u{61c}",
            "\u{180e}",
            "\u{c2}\u{a0}",
            "ệ“”",
            "東京",
            "~",
            "\n",
        ];
        let mut x: u32 = 2463534242;
        for len in 0..3000 {
            let mut s = String::new();
            for _ in 0..len % 40 {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                let p = pieces[(x % pieces.len() as u32) as usize];
                // Runs of every length around the 16-byte step.
                s.extend(std::iter::repeat_n(p, 1 + (x >> 8) as usize % 3));
            }
            let (mut fast, mut slow) = (Repairs::default(), Repairs::default());
            assert_eq!(
                scrub_runs::<true>(&s, &mut fast),
                scrub_runs::<false>(&s, &mut slow)
            );
            assert_eq!(fast, slow, "{s:?}");
        }
    }

    #[test]
    fn zero_width_and_bidi_are_stripped() {
        let s = "\u{202e}Vi\u{200b}et\u{2060}nam\u{feff} co\u{ad}op\u{202c} \u{2067}x\u{2069}\u{200e}\u{200f}\u{200c}\u{200d}\u{61c}";
        let (out, r) = cleaned(s);
        assert_eq!(out, "Vietnam coop x");
        assert_eq!(r.format, 13);
        assert_eq!(
            r.notes(),
            vec!["stripped 13 zero-width/bidi format characters".to_string()]
        );
    }

    #[test]
    fn entities_are_unescaped_exactly_once() {
        let s = "At the &#8220;Meet Japan 2023&#8221; event, the ministry&#x2019;s delegates &amp; partners&nbsp;signed &quot;deals&quot; &lt;USD&gt; &amp;amp; AT&T R&D; &bogus; &#0;";
        let (out, r) = cleaned(s);
        assert_eq!(
            out,
            "At the “Meet Japan 2023” event, the ministry’s delegates & partners\u{a0}signed \"deals\" <USD> &amp; AT&T R&D; &bogus; &#0;"
        );
        assert_eq!(r.entities, 10);
        assert_eq!(r.notes(), vec!["unescaped 10 HTML entities".to_string()]);
    }

    #[test]
    fn entities_that_decode_to_invisible_chars_are_stripped_too() {
        let (out, r) = cleaned("Vi&#8203;et&#13;&#10;x&shy;y");
        assert_eq!(out, "Viet\nxy");
        assert_eq!(r.entities, 4);
        assert_eq!(r.format, 2);
    }

    #[test]
    fn nfd_becomes_nfc() {
        let nfd = "Vie\u{302}\u{323}t Nam, O\u{302}ng, \u{110}a\u{323}i su\u{31b}\u{301}";
        let (out, r) = cleaned(nfd);
        assert_eq!(out, "Việt Nam, Ông, Đại sứ");
        assert!(r.nfc);
        let (again, r2) = cleaned(&out);
        assert_eq!(again, out);
        assert!(!r2.nfc);
    }

    #[test]
    fn removal_before_nfc_composes_neighbours() {
        // A ZWSP between a base letter and its combining mark.
        let (out, _) = cleaned("e\u{200b}\u{301}");
        assert_eq!(out, "é");
    }

    #[test]
    fn replacement_chars_are_counted() {
        let (_, r) = cleaned("a\u{fffd}b\u{fffd}");
        assert_eq!(r.replacement_chars, 2);
    }

    #[test]
    fn fields_become_one_trimmed_line() {
        let mut r = Repairs::default();
        assert_eq!(
            clean_field("  Title\r\nwith &amp; break ", &mut r).as_deref(),
            Some("Title with & break")
        );
        assert_eq!(clean_field(" \u{200b}\t", &mut r), None);
    }
}
