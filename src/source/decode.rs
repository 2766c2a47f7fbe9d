//! Bytes → text: BOMs, UTF-16 without BOM, UTF-8 (fast path), damaged UTF-8, legacy
//! encodings (chardetng + encoding_rs, TCVN3/VNI), and binary detection.

use super::sanitize::Repairs;
use super::vietnamese::{self, Legacy, Sniff};
use super::RejectReason;

/// Why bytes could not become text: a reason and a one-line explanation.
pub(crate) type Refusal = (RejectReason, String);

/// Decode `bytes` to text (not yet cleaned). Guesses and repairs are recorded in `r`.
pub(crate) fn bytes_to_text(mut bytes: Vec<u8>, r: &mut Repairs) -> Result<String, Refusal> {
    // Byte-order marks are authoritative. UTF-32 before UTF-16: FF FE 00 00 starts both.
    if let Some(rest) = bytes.strip_prefix(b"\x00\x00\xFE\xFF") {
        return Ok(decode_utf32(rest, true, r));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE\x00\x00") {
        return Ok(decode_utf32(rest, false, r));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return Ok(decode_utf16(rest, encoding_rs::UTF_16LE, r));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return Ok(decode_utf16(rest, encoding_rs::UTF_16BE, r));
    }
    let utf8_bom = bytes.starts_with(b"\xEF\xBB\xBF");
    if utf8_bom {
        bytes.drain(..3);
    } else if bytes.contains(&0) {
        if let Some(enc) = sniff_utf16(&bytes) {
            r.guessed_encoding = Some(format!("{} without BOM", enc.name()));
            return Ok(decode_utf16(&bytes, enc, r));
        }
    }
    // C-string / preallocation padding: not part of the text, and not a sign of binary.
    let body_len = bytes.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
    if body_len == 0 && !bytes.is_empty() {
        return Err((RejectReason::Binary, "only NUL bytes".to_string()));
    }
    r.trailing_nuls = bytes.len() - body_len;
    bytes.truncate(body_len);
    if !utf8_bom {
        if let Some(kind) = binary_signature(&bytes) {
            return Err((RejectReason::Binary, format!("{kind} data")));
        }
        if bytes.contains(&0x1B) && is_iso_2022_jp(&bytes) {
            let (text, had_errors) = encoding_rs::ISO_2022_JP.decode_without_bom_handling(&bytes);
            r.guessed_encoding = Some("ISO-2022-JP".to_string());
            if had_errors {
                r.undecodable += count_replacements(&text);
            }
            return Ok(text.into_owned());
        }
    }
    // simdutf8 checks valid UTF-8 several times faster than `String::from_utf8` on text
    // that is not all ASCII; copying the checked text costs less than checking it again.
    if let Ok(text) = simdutf8::basic::from_utf8(&bytes) {
        return Ok(text.to_string());
    }
    match String::from_utf8(bytes) {
        Ok(s) => Ok(s),
        Err(e) => decode_non_utf8(e.as_bytes(), e.utf8_error(), r),
    }
}

/// Not valid UTF-8: repair it if it is UTF-8 with a little damage, else a legacy encoding.
fn decode_non_utf8(
    bytes: &[u8],
    err: std::str::Utf8Error,
    r: &mut Repairs,
) -> Result<String, Refusal> {
    let stats = Utf8Stats::of(bytes);
    if err.error_len().is_none() {
        // Valid up to an incomplete sequence at the very end: a cut-off UTF-8 file, unless
        // it is one lone high byte in otherwise-ASCII text (a legacy "café" at EOF).
        let tail = bytes.len() - err.valid_up_to();
        if stats.multibyte_chars > 0 || tail >= 2 {
            r.truncated_utf8 = tail;
            return Ok(String::from_utf8_lossy(&bytes[..err.valid_up_to()]).into_owned());
        }
        return decode_legacy(bytes, r);
    }
    // Real UTF-8 content with a little damage: repair it. Otherwise it is probably another
    // encoding altogether.
    let dominant = stats.multibyte_chars >= stats.invalid_sequences
        && stats.invalid_bytes.saturating_mul(20) <= bytes.len();
    let lightly_damaged =
        stats.multibyte_chars >= 2 && stats.invalid_bytes <= (bytes.len() / 100).max(16);
    if dominant || lightly_damaged {
        return Ok(utf8_lossy(bytes, r));
    }
    decode_legacy(bytes, r)
}

/// Counts over a not-quite-UTF-8 buffer.
struct Utf8Stats {
    /// Valid non-ASCII characters.
    multibyte_chars: usize,
    /// Maximal invalid subsequences (each would become one U+FFFD).
    invalid_sequences: usize,
    invalid_bytes: usize,
}

impl Utf8Stats {
    fn of(bytes: &[u8]) -> Self {
        let mut s = Utf8Stats {
            multibyte_chars: 0,
            invalid_sequences: 0,
            invalid_bytes: 0,
        };
        for chunk in bytes.utf8_chunks() {
            s.multibyte_chars += chunk.valid().bytes().filter(|&b| b >= 0xC0).count();
            if !chunk.invalid().is_empty() {
                s.invalid_sequences += 1;
                s.invalid_bytes += chunk.invalid().len();
            }
        }
        s
    }
}

/// Lossy UTF-8: invalid sequences become U+FFFD (never truncated), except an incomplete
/// sequence at the very end, which is dropped.
fn utf8_lossy(bytes: &[u8], r: &mut Repairs) -> String {
    let mut out = String::with_capacity(bytes.len() + 16);
    let mut chunks = bytes.utf8_chunks().peekable();
    while let Some(chunk) = chunks.next() {
        out.push_str(chunk.valid());
        let bad = chunk.invalid();
        if bad.is_empty() {
            continue;
        }
        let at_end = chunks.peek().is_none();
        let incomplete = std::str::from_utf8(bad).is_err_and(|e| e.error_len().is_none());
        if at_end && incomplete {
            r.truncated_utf8 += bad.len();
        } else {
            r.invalid_utf8 += bad.len();
            out.push('\u{FFFD}');
        }
    }
    out
}

/// Control bytes that do not occur in text in any ASCII-compatible encoding.
fn is_binary_control(b: u8) -> bool {
    b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1B)
}

/// Not UTF-8: refuse binary, then TCVN3/VNI, then whatever chardetng guesses.
fn decode_legacy(bytes: &[u8], r: &mut Repairs) -> Result<String, Refusal> {
    let controls = bytes.iter().filter(|&&b| is_binary_control(b)).count();
    if controls > 1 + bytes.len() / 100 {
        return Err((
            RejectReason::Binary,
            format!(
                "not text: invalid UTF-8 with {controls} control bytes in {} bytes",
                bytes.len()
            ),
        ));
    }
    let mut detector = chardetng::EncodingDetector::new();
    // A megabyte is plenty to decide, and bounds the detector's cost on huge files.
    detector.feed(&bytes[..bytes.len().min(1 << 20)], true);
    let encoding = detector.guess(None, false);
    let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
    // TCVN3/VNI bytes are valid in every Latin code page, so detectors pick one of those.
    if encoding.is_single_byte() {
        match vietnamese::sniff(bytes, encoding) {
            Sniff::NotVietnamese => {}
            Sniff::Decoded(Legacy::Windows1258, text) => {
                r.guessed_encoding = Some("windows-1258".to_string());
                return Ok(text);
            }
            Sniff::Decoded(kind, text) => {
                r.guessed_encoding = Some(format!("legacy Vietnamese {}", kind.name()));
                return Ok(text);
            }
            Sniff::Undecodable(_, detail) => {
                return Err((RejectReason::LegacyVietnameseEncoding, detail));
            }
        }
    }
    r.guessed_encoding = Some(encoding.name().to_string());
    if had_errors {
        r.undecodable += count_replacements(&text);
    }
    Ok(text.into_owned())
}

fn count_replacements(s: &str) -> usize {
    s.matches('\u{FFFD}').count()
}

/// UTF-16 without BOM, recognised by NULs in every other byte (ASCII and Latin text).
fn sniff_utf16(bytes: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let head = &bytes[..bytes.len().min(4096)];
    let pairs = head.len() / 2;
    if pairs == 0 {
        return None;
    }
    let even = head.iter().step_by(2).filter(|&&b| b == 0).count();
    let odd = head.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
    // Most code units of Latin-script text have a zero high byte; the low bytes are
    // almost never zero. Text with stray NULs has them at both parities.
    let looks = |zeros: usize, other: usize| zeros * 10 >= pairs * 3 && other * 50 <= pairs;
    if looks(odd, even) {
        Some(encoding_rs::UTF_16LE)
    } else if looks(even, odd) {
        Some(encoding_rs::UTF_16BE)
    } else {
        None
    }
}

fn decode_utf16(bytes: &[u8], enc: &'static encoding_rs::Encoding, r: &mut Repairs) -> String {
    let (text, had_errors) = enc.decode_without_bom_handling(bytes);
    if had_errors {
        r.undecodable += count_replacements(&text);
    }
    text.into_owned()
}

fn decode_utf32(bytes: &[u8], big_endian: bool, r: &mut Repairs) -> String {
    let mut out = String::with_capacity(bytes.len() / 4);
    let mut units = bytes.chunks_exact(4);
    for unit in &mut units {
        let v = [unit[0], unit[1], unit[2], unit[3]];
        let cp = if big_endian {
            u32::from_be_bytes(v)
        } else {
            u32::from_le_bytes(v)
        };
        match char::from_u32(cp) {
            Some(c) => out.push(c),
            None => {
                r.undecodable += 1;
                out.push('\u{FFFD}');
            }
        }
    }
    if !units.remainder().is_empty() {
        r.undecodable += 1;
        out.push('\u{FFFD}');
    }
    out
}

/// ISO-2022-JP is 7-bit (so also valid UTF-8); recognise it by its escape sequences.
fn is_iso_2022_jp(bytes: &[u8]) -> bool {
    bytes.is_ascii()
        && bytes
            .windows(3)
            .any(|w| matches!(w, b"\x1b$B" | b"\x1b$@" | b"\x1b(J" | b"\x1b(I" | b"\x1b$("))
}

/// File-format signatures of things that are certainly not articles.
fn binary_signature(b: &[u8]) -> Option<&'static str> {
    const SIGNATURES: &[(&[u8], &str)] = &[
        (b"\x89PNG\r\n\x1a\n", "PNG image"),
        (b"GIF87a", "GIF image"),
        (b"GIF89a", "GIF image"),
        (b"\xFF\xD8\xFF", "JPEG image"),
        (b"%PDF-", "PDF"),
        (b"PK\x03\x04", "ZIP archive"),
        (b"PK\x05\x06", "ZIP archive"),
        (b"\x1F\x8B\x08", "gzip"),
        (b"\x28\xB5\x2F\xFD", "zstd"),
        (b"\xFD7zXZ\x00", "xz"),
        (b"7z\xBC\xAF\x27\x1C", "7z archive"),
        (b"Rar!\x1A\x07", "RAR archive"),
        (b"\x7FELF", "ELF executable"),
        (b"\x00\x05\x16\x07", "AppleDouble"),
        (b"\x00\x00\x00\x01Bud1", ".DS_Store"),
        (b"SQLite format 3\x00", "SQLite database"),
        (b"OggS\x00", "Ogg media"),
        (b"fLaC", "FLAC audio"),
        (b"\x1A\x45\xDF\xA3", "Matroska/WebM media"),
        (
            b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1",
            "OLE2 (legacy Office) document",
        ),
        (b"II*\x00", "TIFF image"),
        (b"MM\x00*", "TIFF image"),
        (b"\x00asm", "WebAssembly"),
        (b"wOFF", "WOFF font"),
        (b"wOF2", "WOFF2 font"),
    ];
    for (sig, kind) in SIGNATURES {
        if b.starts_with(sig) {
            return Some(kind);
        }
    }
    if b.len() >= 12 && b.starts_with(b"RIFF") {
        return Some(match &b[8..12] {
            b"WEBP" => "WebP image",
            b"WAVE" => "WAV audio",
            b"AVI " => "AVI video",
            _ => "RIFF data",
        });
    }
    if b.len() >= 12 && &b[4..8] == b"ftyp" {
        return Some("MP4/QuickTime media");
    }
    if b.len() >= 4 && b.starts_with(b"ID3") && (2..=4).contains(&b[3]) {
        return Some("MP3 audio");
    }
    if b.len() >= 4 && b.starts_with(b"BM") && b.len() >= 14 && b[6..10] == [0, 0, 0, 0] {
        return Some("BMP image");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: &[u8]) -> (String, Repairs) {
        let mut r = Repairs::default();
        let t = bytes_to_text(bytes.to_vec(), &mut r).unwrap_or_else(|e| panic!("refused: {e:?}"));
        (t, r)
    }

    fn refused(bytes: &[u8]) -> RejectReason {
        let mut r = Repairs::default();
        match bytes_to_text(bytes.to_vec(), &mut r) {
            Ok(t) => panic!("decoded to {t:?}"),
            Err((reason, _)) => reason,
        }
    }

    #[test]
    fn utf8_fast_path() {
        let (t, r) = text("Việt Nam – “Meet Japan 2023”".as_bytes());
        assert_eq!(t, "Việt Nam – “Meet Japan 2023”");
        assert_eq!(r, Repairs::default());
    }

    #[test]
    fn boms() {
        let body = "Hội nghị “Meet Japan 2023”";
        let (t, r) = text(&[b"\xEF\xBB\xBF".as_slice(), body.as_bytes()].concat());
        assert_eq!(t, body);
        assert!(r.guessed_encoding.is_none());
        let le: Vec<u8> = b"\xFF\xFE"
            .iter()
            .copied()
            .chain(body.encode_utf16().flat_map(|u| u.to_le_bytes()))
            .collect();
        assert_eq!(text(&le).0, body);
        let be: Vec<u8> = b"\xFE\xFF"
            .iter()
            .copied()
            .chain(body.encode_utf16().flat_map(|u| u.to_be_bytes()))
            .collect();
        assert_eq!(text(&be).0, body);
        let be32: Vec<u8> = b"\x00\x00\xFE\xFF"
            .iter()
            .copied()
            .chain(body.chars().flat_map(|c| (c as u32).to_be_bytes()))
            .collect();
        assert_eq!(text(&be32).0, body);
    }

    #[test]
    fn utf16_without_bom() {
        let body = "Takio also emphasized that 2023 is the year. Việt Nam.\n";
        let le: Vec<u8> = body.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        let (t, r) = text(&le);
        assert_eq!(t, body);
        assert_eq!(r.guessed_encoding.as_deref(), Some("UTF-16LE without BOM"));
        let be: Vec<u8> = body.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        let (t, r) = text(&be);
        assert_eq!(t, body);
        assert_eq!(r.guessed_encoding.as_deref(), Some("UTF-16BE without BOM"));
    }

    #[test]
    fn stray_nuls_are_not_utf16() {
        let (t, r) = text(b"Government stands\0 ready to create optimal conditions.\0\0\0");
        assert_eq!(t, "Government stands\0 ready to create optimal conditions.");
        assert_eq!(r.trailing_nuls, 3);
        assert!(r.guessed_encoding.is_none());
    }

    #[test]
    fn invalid_utf8_in_the_middle_is_replaced_not_truncated() {
        let mut b = "Phát biểu tại hội nghị, Minister of Foreign Affairs Bui Thanh Son said"
            .as_bytes()
            .to_vec();
        b.extend_from_slice(b"\xff\xfe\xc3\x28\xa0\xa1\xe2\x28\xa1\xf0\x28\x8c\xbc\xc0\xaf");
        b.extend_from_slice(b" that the relationship is at its best. The end.");
        let (t, r) = text(&b);
        assert!(t.starts_with("Phát biểu"));
        assert!(t.ends_with("at its best. The end."));
        // Three of the bench's 15 "bad" bytes are `(`, which is valid ASCII.
        assert_eq!(r.invalid_utf8, 12);
        assert!(r.guessed_encoding.is_none());
    }

    #[test]
    fn truncated_utf8_at_eof_is_dropped() {
        let mut b = "ngoài nước tham d".as_bytes().to_vec();
        b.extend_from_slice(b"\xe1\xbb");
        let (t, r) = text(&b);
        assert_eq!(t, "ngoài nước tham d");
        assert_eq!(r.truncated_utf8, 2);
        // Pure ASCII cut inside a 3-byte character is still UTF-8.
        let (t, r) = text(b"the end\xe2\x80");
        assert_eq!(t, "the end");
        assert_eq!(r.truncated_utf8, 2);
    }

    #[test]
    fn windows_1252() {
        let b = b"\x93Meeting Japan\x94 conference \x96 the ministry\x92s annual event, caf\xe9 talks. The Ministry of Foreign Affairs and the Embassy of Japan organised the event.";
        let (t, r) = text(b);
        assert!(
            t.starts_with("“Meeting Japan” conference – the ministry’s annual event, café talks.")
        );
        assert_eq!(r.guessed_encoding.as_deref(), Some("windows-1252"));
        // A lone cp1252 letter at EOF is not truncated UTF-8.
        assert_eq!(
            text(b"Cafe au lait at the caf\xe9").0,
            "Cafe au lait at the café"
        );
    }

    #[test]
    fn windows_1258_vietnamese() {
        // "Chương trình "Gặp gỡ Nhật Bản 2023". Ông Yamada Takio, Đại sứ Nhật Bản tại Việt Nam
        // phát biểu." in cp1258 (base letter + combining tone byte), from the bench encoder.
        let b = b"Ch\xfd\xf5ng tri\xccnh \"G\xe3\xf2p g\xf5\xde Nh\xe2\xf2t Ba\xd2n 2023\". \xd4ng Yamada Takio, \xd0a\xf2i s\xfd\xec Nh\xe2\xf2t Ba\xd2n ta\xf2i Vi\xea\xf2t Nam ph\xe1t bi\xea\xd2u.";
        let (t, r) = text(b);
        assert_eq!(r.guessed_encoding.as_deref(), Some("windows-1258"));
        let mut r2 = Repairs::default();
        let cleaned = crate::source::sanitize::clean(t, &mut r2);
        assert_eq!(
            cleaned,
            "Chương trình \"Gặp gỡ Nhật Bản 2023\". Ông Yamada Takio, Đại sứ Nhật Bản tại Việt Nam phát biểu."
        );
        assert!(r2.nfc);
    }

    #[test]
    fn shift_jis_with_5c_trail_bytes() {
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("代表団がプログラムに参加した。ソン外務大臣は表明した。日本とベトナムの協力関係について。\nJapanese Ambassador to Vietnam Yamada Takio said.\n");
        assert!(
            sjis.windows(2).any(|w| w[1] == 0x5C),
            "needs a 0x5C trail byte"
        );
        let (t, r) = text(&sjis);
        assert!(t.contains("ソン外務大臣は表明した。"), "{t}");
        assert_eq!(r.guessed_encoding.as_deref(), Some("Shift_JIS"));
        assert_eq!(r.undecodable, 0);
    }

    #[test]
    fn euc_jp() {
        let (euc, _, _) = encoding_rs::EUC_JP.encode("代表団がプログラムに参加した。ブイ・タイン・ソン外務大臣は、ベトナムと日本の協力は両国関係の歴史の中で最良の発展段階にあると強調した。\n");
        let (t, r) = text(&euc);
        assert!(t.contains("最良の発展段階にあると強調した。"), "{t}");
        assert_eq!(r.guessed_encoding.as_deref(), Some("EUC-JP"));
    }

    #[test]
    fn iso_2022_jp() {
        let (jis, _, _) = encoding_rs::ISO_2022_JP.encode("日本とベトナムの協力関係。");
        let (t, _) = text(&jis);
        assert_eq!(t, "日本とベトナムの協力関係。");
    }

    #[test]
    fn tcvn3_and_vni_are_decoded_not_mojibake() {
        let (t, r) = text(b"To\xb5n c\xb6nh h\xe9i ngh\xde. H\xe9i ngh\xde \xae\xb7 thu h\xf3t \xae\xabng \xae\xb6o \xae\xb9i bi\xd3u.");
        assert_eq!(
            t,
            "Toàn cảnh hội nghị. Hội nghị đã thu hút đông đảo đại biểu."
        );
        assert_eq!(
            r.guessed_encoding.as_deref(),
            Some("legacy Vietnamese TCVN3 (ABC)")
        );
        let (t, r) = text(b"O\xc2ng Yamada Takio, \xd1a\xefi s\xf6\xf9 Nha\xe4t Ba\xfbn ta\xefi Vie\xe4t Nam pha\xf9t bie\xe5u.");
        let mut r2 = Repairs::default();
        assert_eq!(
            crate::source::sanitize::clean(t, &mut r2),
            "Ông Yamada Takio, Đại sứ Nhật Bản tại Việt Nam phát biểu."
        );
        assert_eq!(
            r.guessed_encoding.as_deref(),
            Some("legacy Vietnamese VNI-Windows")
        );
    }

    #[test]
    fn binary_is_refused() {
        let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x000\x00\x00\x00 \x08\x02";
        assert_eq!(refused(png), RejectReason::Binary);
        // Deterministic pseudo-random bytes.
        let mut x: u32 = 2463534242;
        let random: Vec<u8> = (0..65536)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x >> 24) as u8
            })
            .collect();
        assert_eq!(refused(&random), RejectReason::Binary);
        assert_eq!(refused(&random[..64]), RejectReason::Binary);
        assert_eq!(refused(&[0u8; 1000]), RejectReason::Binary);
        assert_eq!(refused(b"\x1f\x8b\x08\x00\x00\x00"), RejectReason::Binary);
    }

    #[test]
    fn real_text_is_not_binary() {
        for s in [
            "BMW said on Monday",
            "ID3 tags",
            "RIFF raff",
            "GIF",
            "%PD",
            "a",
            "\u{1b}[31mred\u{1b}[0m",
        ] {
            assert_eq!(text(s.as_bytes()).0, s);
        }
    }
}
