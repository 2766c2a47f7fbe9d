//! One unit → one [`RawDoc`]: byte decoding, cleaning, JSONL fields, final checks.

use serde_json::Value;

use super::decode::{bytes_to_text, Refusal};
use super::sanitize::{clean, clean_field, Repairs};
use super::{Format, RawDoc, RejectReason, Rejection, Unit};
use crate::config::SourceConfig;

pub(crate) fn decode_unit(unit: Unit, cfg: &SourceConfig) -> Result<RawDoc, Rejection> {
    let (source, bytes, is_json) = match unit {
        Unit::Text { source, bytes } => (source, bytes, false),
        Unit::JsonLine {
            source,
            line,
            bytes,
        } => (format!("{source}#L{line}"), bytes, true),
    };
    let result = if bytes.len() as u64 > cfg.max_doc_bytes {
        Err((
            RejectReason::TooLarge,
            format!("larger than max_doc_bytes ({} bytes)", cfg.max_doc_bytes),
        ))
    } else if is_json {
        json_doc(bytes)
    } else {
        text_doc(bytes)
    };
    match result {
        Ok(mut doc) => {
            doc.source = source;
            Ok(doc)
        }
        Err((reason, detail)) => Err(Rejection {
            source,
            reason,
            detail,
        }),
    }
}

fn text_doc(bytes: Vec<u8>) -> Result<RawDoc, Refusal> {
    let n = bytes.len() as u64;
    if bytes.is_empty() {
        return Err((RejectReason::Empty, "0 bytes".to_string()));
    }
    let mut r = Repairs::default();
    let raw = bytes_to_text(bytes, &mut r)?;
    let text = clean(raw, &mut r);
    check_text(&text, &r)?;
    Ok(RawDoc {
        text,
        format: Some(Format::Text),
        notes: r.notes(),
        bytes: n,
        ..RawDoc::default()
    })
}

fn json_doc(bytes: Vec<u8>) -> Result<RawDoc, Refusal> {
    let n = bytes.len() as u64;
    let mut r = Repairs::default();
    let raw = bytes_to_text(bytes, &mut r)?;
    let value: Value =
        serde_json::from_str(&raw).map_err(|e| (RejectReason::InvalidJson, e.to_string()))?;
    let Value::Object(mut obj) = value else {
        return Err((
            RejectReason::InvalidJson,
            format!("expected a JSON object, found {}", kind(&value)),
        ));
    };
    // The text is taken out of the parsed object rather than copied: nothing reads the
    // field again.
    let text = match obj.get_mut("text") {
        Some(Value::String(s)) => clean(std::mem::take(s), &mut r),
        Some(other) => {
            return Err((
                RejectReason::MissingText,
                format!("`text` is {}, not a string", kind(other)),
            ))
        }
        None => return Err((RejectReason::MissingText, "no `text` field".to_string())),
    };
    check_text(&text, &r)?;
    let mut field = |name: &str| match obj.get(name) {
        Some(Value::String(s)) => clean_field(s, &mut r),
        _ => None,
    };
    let title = field("title");
    let url = field("url");
    let published = field("published").or_else(|| field("date"));
    let byline = field("byline");
    let source_id = match obj.get("id") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    Ok(RawDoc {
        source_id,
        url,
        title,
        published,
        byline,
        text,
        format: Some(Format::Jsonl),
        notes: r.notes(),
        bytes: n,
        ..RawDoc::default()
    })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Refuse cleaned text that is empty, or that decoding showed to be binary or garbage:
/// more than 5 % removed control characters, or more than 5 % U+FFFD.
fn check_text(text: &str, r: &Repairs) -> Result<(), Refusal> {
    let controls = r.controls + r.nuls;
    if controls > 0 || r.replacement_chars > 0 {
        let chars = text.chars().count() + controls;
        if controls * 20 > chars {
            return Err((
                RejectReason::Binary,
                format!("not text: {controls} control characters in {chars}"),
            ));
        }
        if r.replacement_chars * 20 > chars {
            return Err((
                RejectReason::UndecodableEncoding,
                format!(
                    "{} of {chars} characters could not be decoded",
                    r.replacement_chars
                ),
            ));
        }
    }
    if text.chars().all(char::is_whitespace) {
        let what = if text.is_empty() {
            "no text"
        } else {
            "only whitespace"
        };
        return Err((RejectReason::Empty, format!("{what} after cleaning")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn txt(bytes: &[u8]) -> Result<RawDoc, Rejection> {
        decode_unit(
            Unit::Text {
                source: "a/b.txt".to_string(),
                bytes: bytes.to_vec(),
            },
            &SourceConfig::default(),
        )
    }

    fn json(line: &str) -> Result<RawDoc, Rejection> {
        decode_unit(
            Unit::JsonLine {
                source: "feed.jsonl".to_string(),
                line: 7,
                bytes: line.as_bytes().to_vec(),
            },
            &SourceConfig::default(),
        )
    }

    fn reason(r: Result<RawDoc, Rejection>) -> RejectReason {
        match r {
            Ok(d) => panic!("document {d:?}"),
            Err(rej) => rej.reason,
        }
    }

    #[test]
    fn text_document() {
        let doc = txt(b"Title line\r\n\r\nBody &amp; more.\r\n").unwrap();
        assert_eq!(doc.source, "a/b.txt");
        assert_eq!(doc.text, "Title line\n\nBody & more.\n");
        assert_eq!(doc.format, Some(Format::Text));
        assert_eq!(doc.bytes, 32);
        assert_eq!(doc.notes, vec!["unescaped 1 HTML entities".to_string()]);
        assert_eq!(doc.title, None);
    }

    #[test]
    fn empty_and_whitespace_only_are_skipped() {
        for b in [
            &b""[..],
            b"\xEF\xBB\xBF\n",
            " \t\n\r\n\u{a0}\u{3000}\u{2003}\n\n\t \n".as_bytes(),
            "\u{200b}\u{feff}\n".as_bytes(),
            b"\xFF\xFE\n\x00",
        ] {
            let rej = txt(b).unwrap_err();
            assert_eq!(rej.reason, RejectReason::Empty, "{b:?}");
            assert!(rej.reason.is_skip());
        }
    }

    #[test]
    fn binary_is_rejected() {
        assert_eq!(
            reason(txt(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")),
            RejectReason::Binary
        );
        // Valid UTF-8 but mostly controls.
        assert_eq!(
            reason(txt(b"ab\x01\x02\x03\x04cd\x05\x06\x07\x08")),
            RejectReason::Binary
        );
        assert_eq!(reason(txt(&[0u8; 64])), RejectReason::Binary);
    }

    #[test]
    fn nul_bytes_are_stripped_not_truncating() {
        let doc =
            txt(b"Government stands\0 ready to create optimal conditions. More text here.\0\0\0")
                .unwrap();
        assert_eq!(
            doc.text,
            "Government stands ready to create optimal conditions. More text here."
        );
        assert_eq!(doc.notes, vec!["removed 4 NUL characters".to_string()]);
    }

    #[test]
    fn replacement_heavy_text_is_undecodable() {
        let s = "ab\u{fffd}\u{fffd}cd\u{fffd}";
        assert_eq!(reason(txt(s.as_bytes())), RejectReason::UndecodableEncoding);
    }

    #[test]
    fn invalid_utf8_gets_a_note() {
        let para = "At the conference, Minister of Foreign Affairs Bui Thanh Son said that cooperation between Vietnam and Japan is at its best in history. ";
        let mut b = format!("Hội nghị\n\n{para}").into_bytes();
        b.extend_from_slice(b"\xff\xfe\xc3\x28\xa0\xa1\xe2\x28\xa1\xf0\x28\x8c\xbc\xc0\xaf");
        b.extend_from_slice(format!("{para}{para}Việt Nam.").as_bytes());
        let doc = txt(&b).unwrap();
        assert!(doc.text.ends_with("in history. Việt Nam."));
        assert_eq!(
            doc.notes,
            vec!["replaced 12 invalid UTF-8 bytes".to_string()]
        );
    }

    #[test]
    fn tcvn3_document_is_decoded_to_nfc() {
        let doc = txt(b"H\xe9i ngh\xde \xae\xb7 thu h\xf3t \xae\xabng \xae\xb6o \xae\xb9i bi\xd3u trong v\xb5 ngo\xb5i n\xad\xedc tham d\xf9.").unwrap();
        assert_eq!(
            doc.text,
            "Hội nghị đã thu hút đông đảo đại biểu trong và ngoài nước tham dự."
        );
        assert_eq!(
            doc.notes,
            vec!["decoded as legacy Vietnamese TCVN3 (ABC) (detected)".to_string()]
        );
    }

    #[test]
    fn vni_document_is_decoded_to_nfc() {
        let doc = txt(b"Toa\xf8n ca\xfbnh ho\xe4i ngh\xf2. O\xc2ng Yamada Takio, \xd1a\xefi s\xf6\xf9 Nha\xe4t Ba\xfbn ta\xefi Vie\xe4t Nam pha\xf9t bie\xe5u.").unwrap();
        assert_eq!(
            doc.text,
            "Toàn cảnh hội nghị. Ông Yamada Takio, Đại sứ Nhật Bản tại Việt Nam phát biểu."
        );
        assert!(!doc.text.contains('\u{301}'));
    }

    #[test]
    fn utf16_bom_and_utf8_give_identical_text() {
        let body = "Hội nghị đã thu hút đông đảo đại biểu.\n“Meet Japan 2023”\n";
        let utf8 = txt(body.as_bytes()).unwrap().text;
        let mut le = vec![0xFF, 0xFE];
        le.extend(body.encode_utf16().flat_map(|u| u.to_le_bytes()));
        let mut be = vec![0xFE, 0xFF];
        be.extend(body.encode_utf16().flat_map(|u| u.to_be_bytes()));
        let bom8 = [b"\xEF\xBB\xBF".as_slice(), body.as_bytes()].concat();
        for b in [le, be, bom8] {
            let doc = txt(&b).unwrap();
            assert_eq!(doc.text, utf8);
            assert!(!doc.text.contains('\u{feff}') && !doc.text.contains('\0'));
        }
    }

    #[test]
    fn json_record() {
        let doc = json(r#"{"id": 42, "text": "Body\u200b &amp; text", "title": " A\nTitle ", "url": "https://x.vn/a?b=1&amp;c=2", "date": "2023-05-01", "byline": 7, "extra": [1]}"#).unwrap();
        assert_eq!(doc.source, "feed.jsonl#L7");
        assert_eq!(doc.source_id.as_deref(), Some("42"));
        assert_eq!(doc.text, "Body & text");
        assert_eq!(doc.title.as_deref(), Some("A Title"));
        assert_eq!(doc.url.as_deref(), Some("https://x.vn/a?b=1&c=2"));
        assert_eq!(doc.published.as_deref(), Some("2023-05-01"));
        assert_eq!(doc.byline, None);
        assert_eq!(doc.format, Some(Format::Jsonl));
        assert!(doc.notes.iter().any(|n| n.contains("zero-width")));
        let doc =
            json(r#"{"id": "abc", "text": "x", "published": "2024", "date": "2023"}"#).unwrap();
        assert_eq!(doc.source_id.as_deref(), Some("abc"));
        assert_eq!(doc.published.as_deref(), Some("2024"));
    }

    #[test]
    fn json_errors() {
        let r = json(r#"{"text": "unterminated"#).unwrap_err();
        assert_eq!(r.reason, RejectReason::InvalidJson);
        assert_eq!(r.source, "feed.jsonl#L7");
        assert!(r.detail.contains("EOF"), "{}", r.detail);
        assert_eq!(reason(json("[1,2]")), RejectReason::InvalidJson);
        assert_eq!(reason(json(r#"{"id": 1}"#)), RejectReason::MissingText);
        assert_eq!(reason(json(r#"{"text": 5}"#)), RejectReason::MissingText);
        assert_eq!(reason(json(r#"{"text": " \u3000 "}"#)), RejectReason::Empty);
        // A BOM on the first line is fine.
        assert!(json("\u{feff}{\"text\": \"x\"}").is_ok());
    }

    #[test]
    fn oversized_unit_is_refused() {
        let cfg = SourceConfig {
            max_doc_bytes: 4,
            ..SourceConfig::default()
        };
        let r = decode_unit(
            Unit::Text {
                source: "s".into(),
                bytes: b"12345".to_vec(),
            },
            &cfg,
        );
        assert_eq!(reason(r), RejectReason::TooLarge);
    }
}
