//! Legacy Vietnamese font encodings: TCVN3 (ABC, `.VnTime`) and VNI-Windows (`VNI-Times`).
//!
//! Both put Vietnamese letters on byte values that are also valid Windows-1252, so a
//! cp1252 fallback silently yields mojibake ("ViÖt Nam", "Vieät Nam"). They are recognised
//! by their byte patterns and decoded with their tables; input that looks like one of them
//! but uses bytes outside the table is rejected rather than guessed.
//!
//! TCVN3 is single-byte: toned lowercase letters on 0xA1–0xFE (it has no toned capitals;
//! documents used an all-caps font with the same codes, so such headings decode lowercase).
//! VNI is composing: an ASCII vowel followed by a mark byte (`e` + `ä` = ệ), plus a few
//! single-byte letters (`ñ` = đ, `ö` = ư, `ô` = ơ, `í` = í …).

/// Which legacy encoding a text was found to be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Legacy {
    Tcvn3,
    Vni,
    /// Not a font encoding, but detectors mistake short Windows-1258 texts for cp1252.
    Windows1258,
}

impl Legacy {
    pub fn name(self) -> &'static str {
        match self {
            Legacy::Tcvn3 => "TCVN3 (ABC)",
            Legacy::Vni => "VNI-Windows",
            Legacy::Windows1258 => "windows-1258",
        }
    }
}

/// Outcome of sniffing bytes for a legacy Vietnamese encoding.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Sniff {
    /// No sign of TCVN3/VNI.
    NotVietnamese,
    /// Decoded with the table (not yet NFC: VNI yields base letters + combining marks).
    Decoded(Legacy, String),
    /// Looks like TCVN3/VNI but uses bytes the table does not cover.
    Undecodable(Legacy, String),
}

const GRAVE: char = '\u{300}';
const ACUTE: char = '\u{301}';
const CIRCUMFLEX: char = '\u{302}';
const TILDE: char = '\u{303}';
const BREVE: char = '\u{306}';
const HOOK: char = '\u{309}';
const DOT: char = '\u{323}';

/// Windows-1252 punctuation in 0x80–0x9F (and NBSP), passed through by both decoders:
/// documents typed in Word with these fonts still got smart quotes and dashes there.
fn cp1252_punctuation(b: u8) -> Option<char> {
    Some(match b {
        0x80 => '€',
        0x82 => '‚',
        0x84 => '„',
        0x85 => '…',
        0x86 => '†',
        0x87 => '‡',
        0x89 => '‰',
        0x8B => '‹',
        0x91 => '‘',
        0x92 => '’',
        0x93 => '“',
        0x94 => '”',
        0x95 => '•',
        0x96 => '–',
        0x97 => '—',
        0x99 => '™',
        0x9B => '›',
        0xA0 => '\u{A0}',
        _ => return None,
    })
}

/// TCVN3 table for 0xA1–0xFE; `None` marks bytes the encoding leaves unassigned.
fn tcvn3(b: u8) -> Option<char> {
    Some(match b {
        0xA1 => 'Ă',
        0xA2 => 'Â',
        0xA3 => 'Ê',
        0xA4 => 'Ô',
        0xA5 => 'Ơ',
        0xA6 => 'Ư',
        0xA7 => 'Đ',
        0xA8 => 'ă',
        0xA9 => 'â',
        0xAA => 'ê',
        0xAB => 'ô',
        0xAC => 'ơ',
        0xAD => 'ư',
        0xAE => 'đ',
        0xB5 => 'à',
        0xB6 => 'ả',
        0xB7 => 'ã',
        0xB8 => 'á',
        0xB9 => 'ạ',
        0xBB => 'ằ',
        0xBC => 'ẳ',
        0xBD => 'ẵ',
        0xBE => 'ắ',
        0xC6 => 'ặ',
        0xC7 => 'ầ',
        0xC8 => 'ẩ',
        0xC9 => 'ẫ',
        0xCA => 'ấ',
        0xCB => 'ậ',
        0xCC => 'è',
        0xCE => 'ẻ',
        0xCF => 'ẽ',
        0xD0 => 'é',
        0xD1 => 'ẹ',
        0xD2 => 'ề',
        0xD3 => 'ể',
        0xD4 => 'ễ',
        0xD5 => 'ế',
        0xD6 => 'ệ',
        0xD7 => 'ì',
        0xD8 => 'ỉ',
        0xDC => 'ĩ',
        0xDD => 'í',
        0xDE => 'ị',
        0xDF => 'ò',
        0xE1 => 'ỏ',
        0xE2 => 'õ',
        0xE3 => 'ó',
        0xE4 => 'ọ',
        0xE5 => 'ồ',
        0xE6 => 'ổ',
        0xE7 => 'ỗ',
        0xE8 => 'ố',
        0xE9 => 'ộ',
        0xEA => 'ờ',
        0xEB => 'ở',
        0xEC => 'ỡ',
        0xED => 'ớ',
        0xEE => 'ợ',
        0xEF => 'ù',
        0xF1 => 'ủ',
        0xF2 => 'ũ',
        0xF3 => 'ú',
        0xF4 => 'ụ',
        0xF5 => 'ừ',
        0xF6 => 'ử',
        0xF7 => 'ữ',
        0xF8 => 'ứ',
        0xF9 => 'ự',
        0xFA => 'ỳ',
        0xFB => 'ỷ',
        0xFC => 'ỹ',
        0xFD => 'ý',
        0xFE => 'ỵ',
        _ => return None,
    })
}

/// VNI tone-mark bytes (lower- and upper-case forms) that follow a vowel.
fn vni_tone(b: u8) -> Option<char> {
    Some(match b {
        0xF9 | 0xD9 => ACUTE,
        0xF8 | 0xD8 => GRAVE,
        0xFB | 0xDB => HOOK,
        0xF5 | 0xD5 => TILDE,
        0xEF | 0xCF => DOT,
        _ => return None,
    })
}

/// VNI circumflex (+ tone) bytes after `a`, `e`, `o`.
fn vni_circumflex(b: u8) -> Option<Option<char>> {
    Some(match b {
        0xE2 | 0xC2 => None,
        0xE1 | 0xC1 => Some(ACUTE),
        0xE0 | 0xC0 => Some(GRAVE),
        0xE5 | 0xC5 => Some(HOOK),
        0xE3 | 0xC3 => Some(TILDE),
        0xE4 | 0xC4 => Some(DOT),
        _ => return None,
    })
}

/// VNI breve (+ tone) bytes after `a`.
fn vni_breve(b: u8) -> Option<Option<char>> {
    Some(match b {
        0xEA | 0xCA => None,
        0xE9 | 0xC9 => Some(ACUTE),
        0xE8 | 0xC8 => Some(GRAVE),
        0xFA | 0xDA => Some(HOOK),
        0xFC | 0xDC => Some(TILDE),
        0xEB | 0xCB => Some(DOT),
        _ => return None,
    })
}

/// VNI single-byte letters.
fn vni_letter(b: u8) -> Option<char> {
    Some(match b {
        0xF1 => 'đ',
        0xD1 => 'Đ',
        0xF4 => 'ơ',
        0xD4 => 'Ơ',
        0xF6 => 'ư',
        0xD6 => 'Ư',
        0xED => 'í',
        0xCD => 'Í',
        0xEC => 'ì',
        0xCC => 'Ì',
        0xE6 => 'ỉ',
        0xC6 => 'Ỉ',
        0xF3 => 'ĩ',
        0xD3 => 'Ĩ',
        0xF2 => 'ị',
        0xD2 => 'Ị',
        _ => return None,
    })
}

/// Result of reading bytes as one encoding.
struct Scan {
    text: String,
    /// Non-ASCII bytes the table does not cover.
    unmapped: usize,
}

fn scan_tcvn3(bytes: &[u8]) -> Scan {
    let mut text = String::with_capacity(bytes.len() + bytes.len() / 2);
    let mut unmapped = 0;
    for &b in bytes {
        if b < 0x80 {
            text.push(char::from(b));
            continue;
        }
        match tcvn3(b).or_else(|| cp1252_punctuation(b)) {
            Some(c) => text.push(c),
            None => {
                unmapped += 1;
                text.push('\u{FFFD}');
            }
        }
    }
    Scan { text, unmapped }
}

fn scan_vni(bytes: &[u8]) -> Scan {
    let mut text = String::with_capacity(bytes.len() + bytes.len() / 2);
    let mut unmapped = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let base = if b < 0x80 {
            char::from(b)
        } else {
            match vni_letter(b).or_else(|| cp1252_punctuation(b)) {
                Some(c) => c,
                None => {
                    unmapped += 1;
                    '\u{FFFD}'
                }
            }
        };
        text.push(base);
        i += 1;
        let lower = base.to_lowercase().next().unwrap_or(base);
        if !matches!(lower, 'a' | 'e' | 'i' | 'o' | 'u' | 'y' | 'ơ' | 'ư') {
            continue;
        }
        let Some(&m) = bytes.get(i) else { break };
        let marks: Option<(Option<char>, Option<char>)> = if let Some(t) = vni_tone(m) {
            Some((None, Some(t)))
        } else if let (true, Some(t)) = (matches!(lower, 'a' | 'e' | 'o'), vni_circumflex(m)) {
            Some((Some(CIRCUMFLEX), t))
        } else if let (true, Some(t)) = (lower == 'a', vni_breve(m)) {
            Some((Some(BREVE), t))
        } else if lower == 'y' && (m == 0xEE || m == 0xCE) {
            Some((None, Some(DOT)))
        } else {
            None
        };
        if let Some((vowel_mark, tone)) = marks {
            text.extend(vowel_mark);
            text.extend(tone);
            i += 1;
        }
    }
    Scan { text, unmapped }
}

/// Bytes looked at to decide; the chosen table then decodes the whole text.
const SAMPLE: usize = 64 << 10;

/// Look for TCVN3/VNI (and Windows-1258 mistaken for cp1252) in bytes that are not UTF-8
/// and that `rival` (the byte-level detector's single-byte guess) would otherwise decode.
///
/// Each table is tried on a sample; a reading counts as Vietnamese when at least three
/// distinct multi-letter words it changed are well-formed Vietnamese syllables, they make
/// up three quarters of the changed words, and there are more of them than in the rival
/// reading. Western text read through these tables gives words like "prộsident" or
/// "seủalú", and only a few short accidental matches ("pồ" for Norwegian "på"); Windows-1258
/// Vietnamese read as VNI looks half-Vietnamese but its own reading is entirely so. A
/// Vietnamese reading that leaves bytes outside the table is refused instead of guessed.
pub(crate) fn sniff(bytes: &[u8], rival: &'static encoding_rs::Encoding) -> Sniff {
    if bytes.is_ascii() {
        return Sniff::NotVietnamese;
    }
    let sample = sample_of(bytes);
    let floor = SyllableStats::of(&rival.decode_without_bom_handling(sample).0).valid;
    // (valid words, fully mapped on the sample, kind)
    let mut best: Option<(usize, bool, Legacy)> = None;
    for kind in [Legacy::Tcvn3, Legacy::Vni, Legacy::Windows1258] {
        let scan = scan(kind, sample);
        let stats = SyllableStats::of(&scan.text);
        if !stats.is_vietnamese() || stats.valid <= floor {
            continue;
        }
        // Windows-1258 differs from cp1252 mostly in tone-mark positions, which Italian
        // "può" can hit too; real Vietnamese also has the letters cp1252 lacks.
        if kind == Legacy::Windows1258
            && scan
                .text
                .chars()
                .filter(|c| "ĂăĐđƠơƯư".contains(*c))
                .nth(1)
                .is_none()
        {
            continue;
        }
        let candidate = (stats.valid, scan.unmapped == 0, kind);
        // A clean reading beats one with unmapped bytes; then more valid words win.
        if best.is_none_or(|b| (candidate.1, candidate.0) > (b.1, b.0)) {
            best = Some(candidate);
        }
    }
    let Some((valid, _, kind)) = best else {
        return Sniff::NotVietnamese;
    };
    let full = scan(kind, bytes);
    if full.unmapped == 0 {
        Sniff::Decoded(kind, full.text)
    } else {
        Sniff::Undecodable(
            kind,
            format!(
                "legacy Vietnamese encoding {} ({valid} Vietnamese words) with {} bytes outside its table",
                kind.name(),
                full.unmapped
            ),
        )
    }
}

fn scan(kind: Legacy, bytes: &[u8]) -> Scan {
    match kind {
        Legacy::Tcvn3 => scan_tcvn3(bytes),
        Legacy::Vni => scan_vni(bytes),
        Legacy::Windows1258 => Scan {
            text: encoding_rs::WINDOWS_1258
                .decode_without_bom_handling(bytes)
                .0
                .into_owned(),
            unmapped: 0,
        },
    }
}

/// The first [`SAMPLE`] bytes, cut at an ASCII space or line break so no VNI letter+mark
/// pair is split.
fn sample_of(bytes: &[u8]) -> &[u8] {
    if bytes.len() <= SAMPLE {
        return bytes;
    }
    let cut = bytes[SAMPLE..]
        .iter()
        .position(|&b| b == b' ' || b == b'\n')
        .map_or(bytes.len(), |p| SAMPLE + p);
    &bytes[..cut]
}

/// How Vietnamese the non-ASCII words of a candidate decoding look.
struct SyllableStats {
    /// Multi-letter words with non-ASCII letters, including ones with U+FFFD (bytes the
    /// table does not cover), which never count as valid.
    words: usize,
    /// Those that are Vietnamese syllables.
    valid: usize,
    /// Distinct valid ones, ignoring case (capped; only "at least 3" matters).
    distinct: usize,
}

impl SyllableStats {
    fn of(text: &str) -> Self {
        let mut st = SyllableStats {
            words: 0,
            valid: 0,
            distinct: 0,
        };
        let mut seen: Vec<String> = Vec::new();
        let is_word_char =
            |c: char| c.is_alphabetic() || c == '\u{FFFD}' || ('\u{300}'..='\u{36F}').contains(&c);
        for word in text.split(|c: char| !is_word_char(c)) {
            // Single letters ("è", "å" as a word) match by accident too easily.
            if word.is_ascii() || word.chars().nth(1).is_none() {
                continue;
            }
            st.words += 1;
            if !word.contains('\u{FFFD}') && is_syllable(word) {
                st.valid += 1;
                if seen.len() < 3 {
                    let lower = word.to_lowercase();
                    if !seen.contains(&lower) {
                        seen.push(lower);
                    }
                }
            }
        }
        st.distinct = seen.len();
        st
    }

    fn is_vietnamese(&self) -> bool {
        self.distinct >= 3 && self.valid * 4 >= self.words * 3
    }
}

const INITIALS: [&str; 28] = [
    "ngh", "ch", "gh", "gi", "kh", "ng", "nh", "ph", "qu", "th", "tr", "b", "c", "d", "đ", "g",
    "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "",
];
const FINALS: [&str; 9] = ["ng", "nh", "ch", "c", "m", "n", "p", "t", ""];
const NUCLEI: &[&str] = &[
    "a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y", "ai", "ao", "au", "ay", "âu", "ây",
    "eo", "êu", "ia", "iê", "iu", "oa", "oă", "oe", "oi", "oo", "ôi", "ơi", "ua", "uâ", "uê", "ui",
    "uô", "uơ", "uy", "ưa", "ưi", "ươ", "ưu", "yê", "iêu", "oai", "oao", "oay", "oeo", "uây",
    "uôi", "ươi", "ươu", "uya", "uyê", "uyu", "yêu",
];

/// Whether `word` is one well-formed Vietnamese syllable: initial consonant(s), a vowel
/// nucleus from the closed set, an allowed final, at most one tone mark.
fn is_syllable(word: &str) -> bool {
    use unicode_normalization::UnicodeNormalization;
    let mut bases: Vec<char> = Vec::with_capacity(word.len());
    let mut tones = 0;
    for c in word.chars().flat_map(char::to_lowercase).nfd() {
        match c {
            GRAVE | ACUTE | TILDE | HOOK | DOT => tones += 1,
            CIRCUMFLEX | BREVE | '\u{31B}' => {
                let Some(last) = bases.last_mut() else {
                    return false;
                };
                *last = match (*last, c) {
                    ('a', CIRCUMFLEX) => 'â',
                    ('e', CIRCUMFLEX) => 'ê',
                    ('o', CIRCUMFLEX) => 'ô',
                    ('a', BREVE) => 'ă',
                    ('o', '\u{31B}') => 'ơ',
                    ('u', '\u{31B}') => 'ư',
                    _ => return false,
                };
            }
            'a'..='z' | 'đ' => bases.push(c),
            _ => return false,
        }
    }
    if tones > 1 || bases.is_empty() {
        return false;
    }
    let s: String = bases.into_iter().collect();
    INITIALS.iter().any(|init| {
        s.strip_prefix(init).is_some_and(|rest| {
            FINALS.iter().any(|fin| {
                rest.strip_suffix(fin)
                    .is_some_and(|nucleus| NUCLEI.contains(&nucleus))
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_normalization::UnicodeNormalization;

    fn nfc(s: &str) -> String {
        s.nfc().collect()
    }

    fn decoded(bytes: &[u8]) -> (Legacy, String) {
        match sniff(bytes, encoding_rs::WINDOWS_1252) {
            Sniff::Decoded(kind, text) => (kind, nfc(&text)),
            other => panic!("not decoded: {other:?}"),
        }
    }

    // Bytes below were produced by the bench's independent TCVN3/VNI encoders.
    const TCVN3_HOI_NGHI: &[u8] = b"H\xe9i ngh\xde \xae\xb7 thu h\xf3t \xae\xabng \xae\xb6o \xae\xb9i bi\xd3u trong v\xb5 ngo\xb5i n\xad\xedc tham d\xf9.";
    const VNI_ONG: &[u8] = b"O\xc2ng Yamada Takio, \xd1a\xefi s\xf6\xf9 Nha\xe4t Ba\xfbn ta\xefi Vie\xe4t Nam pha\xf9t bie\xe5u.";

    #[test]
    fn tcvn3_is_decoded() {
        let (kind, text) = decoded(TCVN3_HOI_NGHI);
        assert_eq!(kind, Legacy::Tcvn3);
        assert_eq!(
            text,
            "Hội nghị đã thu hút đông đảo đại biểu trong và ngoài nước tham dự."
        );
    }

    #[test]
    fn tcvn3_classic_forms() {
        let (_, text) = decoded(b"C\xe9ng h\xdfa x\xb7 h\xe9i ch\xf1 ngh\xdca Vi\xd6t Nam");
        assert_eq!(text, "Cộng hòa xã hội chủ nghĩa Việt Nam");
        let (_, text) = decoded(b"\xa7\xe9c l\xcbp - T\xf9 do - H\xb9nh ph\xf3c");
        assert_eq!(text, "Độc lập - Tự do - Hạnh phúc");
    }

    #[test]
    fn vni_is_decoded() {
        let (kind, text) = decoded(VNI_ONG);
        assert_eq!(kind, Legacy::Vni);
        assert_eq!(
            text,
            "Ông Yamada Takio, Đại sứ Nhật Bản tại Việt Nam phát biểu."
        );
        let (_, text) = decoded(b"Co\xe4ng hoa\xf8 xa\xf5 ho\xe4i chu\xfb ngh\xf3a Vie\xe4t Nam, \xf1\xf6\xf4\xefc, \xd1a\xf8 Na\xfcng, My\xf5 Ky\xee");
        assert_eq!(
            text,
            "Cộng hoà xã hội chủ nghĩa Việt Nam, được, Đà Nẵng, Mỹ Kỵ"
        );
    }

    #[test]
    fn vni_uppercase_marks() {
        let (_, text) = decoded(b"VIE\xc4T NAM \xd1A\xd8 NA\xdcNG");
        assert_eq!(text, "VIỆT NAM ĐÀ NẴNG");
    }

    #[test]
    fn western_cp1252_is_not_vietnamese() {
        let samples: [&[u8]; 5] = [
            b"Le pr\xe9sident a d\xe9clar\xe9 que l'\xe9conomie \xe9tait \xabtr\xe8s forte\xbb. No\xebl, na\xeff, ma\xefs, Lo\xefc. \xa9 2023 Soci\xe9t\xe9 G\xe9n\xe9rale\xae.",
            b"Die Bundesregierung hat f\xfcr das n\xe4chste Jahr gr\xf6\xdfere Ausgaben geplant. M\xfcller sagte: \x84Wir m\xfcssen schneller werden.\x93",
            b"El presidente se\xf1al\xf3 que la econom\xeda espa\xf1ola creci\xf3. \xbfQu\xe9 pasar\xe1? \xa1Ol\xe9! A\xf1o, ni\xf1o, pa\xeds, le\xeddo, o\xedr.",
            b"O governo portugu\xeas anunciou que a economia cresceu tr\xeas por cento. N\xe3o h\xe1 raz\xe3o para p\xe2nico. A\xe7\xf5es, cora\xe7\xe3o.",
            b"\x93Meeting Japan\x94 conference \x96 the ministry\x92s annual event, caf\xe9 talks",
        ];
        for s in samples {
            assert_eq!(
                sniff(s, encoding_rs::WINDOWS_1252),
                Sniff::NotVietnamese,
                "{}",
                String::from_utf8_lossy(s)
            );
        }
        assert_eq!(
            sniff(b"plain ascii", encoding_rs::WINDOWS_1252),
            Sniff::NotVietnamese
        );
    }

    #[test]
    fn syllables() {
        for w in [
            "việt", "nghiêng", "giữa", "gì", "quốc", "người", "khuỷu", "được", "Ông", "ĐẠI",
            "xoong", "thuở", "yêu", "oà", "hoà", "khuya",
        ] {
            assert!(is_syllable(w), "{w}");
        }
        for w in [
            "prộsident",
            "seủalú",
            "aủo",
            "fỹr",
            "trốs",
            "ộtộ",
            "cafộ",
            "grửòere",
            "việtt",
            "vìệt",
            "ý1",
            "siờ",
        ] {
            assert!(!is_syllable(w), "{w}");
        }
    }

    #[test]
    fn short_windows_1258_is_not_left_to_cp1252() {
        let b = b"Ch\xfd\xf5ng tri\xccnh ho\xf2p t\xe2\xf2p hu\xe2\xecn l\xfd\xf2c";
        match sniff(b, encoding_rs::WINDOWS_1252) {
            Sniff::Decoded(Legacy::Windows1258, t) => {
                assert_eq!(nfc(&t), "Chương trình họp tập huấn lực")
            }
            other => panic!("{other:?}"),
        }
        // When the detector already chose Windows-1258 there is nothing to add.
        assert_eq!(sniff(b, encoding_rs::WINDOWS_1258), Sniff::NotVietnamese);
    }

    #[test]
    fn long_text_is_decided_on_a_sample_but_decoded_whole() {
        let mut bytes = TCVN3_HOI_NGHI.repeat(2000);
        assert!(bytes.len() > SAMPLE);
        let (kind, text) = decoded(&bytes);
        assert_eq!(kind, Legacy::Tcvn3);
        assert!(text.ends_with("ngoài nước tham dự."));
        // A byte outside the table after the sample still refuses the whole text.
        bytes.extend_from_slice(b" \xb0");
        assert!(matches!(
            sniff(&bytes, encoding_rs::WINDOWS_1252),
            Sniff::Undecodable(..)
        ));
    }

    #[test]
    fn vietnamese_with_bytes_outside_the_table_is_rejected() {
        let mut bytes = TCVN3_HOI_NGHI.to_vec();
        bytes.extend_from_slice(b" \xb0\xb1\xb2");
        match sniff(&bytes, encoding_rs::WINDOWS_1252) {
            Sniff::Undecodable(Legacy::Tcvn3, detail) => assert!(detail.contains("TCVN3")),
            other => panic!("{other:?}"),
        }
    }
}
