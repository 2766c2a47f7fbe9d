//! `quire lang`: language labels for JSONL records, one `{"id","text"}` object a line.

use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};

use super::LangId;
use crate::error::{Error, Result};

#[derive(Deserialize)]
struct Record {
    /// Echoed back as given (string or number).
    id: serde_json::Value,
    text: String,
}

#[derive(Serialize)]
struct LangOut<'a> {
    id: &'a serde_json::Value,
    lang: &'a str,
}

#[derive(Serialize)]
struct SegmentsOut<'a> {
    id: &'a serde_json::Value,
    segments: Vec<SegmentOut<'a>>,
}

#[derive(Serialize)]
struct SegmentOut<'a> {
    text: &'a str,
    lang: &'a str,
}

/// Read `{"id","text"}` records, one a line, and write `{"id","lang"}` for each; with
/// `segments`, `{"id","segments":[{"text","lang"}]}` where every segment text is a
/// substring of the input text, in order (lines, and the parts of one-line bilingual forms).
///
/// Blank lines are skipped. A line that is not such a record stops the run with an error
/// naming its line number: a silently shorter output would misalign whatever is joined to
/// it by id. Returns the number of records written.
pub fn run_jsonl(
    mut input: impl BufRead,
    mut output: impl Write,
    segments: bool,
    lang: &LangId,
) -> Result<u64> {
    let mut line = Vec::new();
    // Records are serialised here first, so that a failed write is a plain I/O error
    // (a closed pipe stays recognisable).
    let mut buf = Vec::new();
    let mut n_line = 0u64;
    let mut written = 0u64;
    let out_err = |e| Error::io("<output>", e);
    loop {
        line.clear();
        let read = input
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::io("<input>", e))?;
        if read == 0 {
            break;
        }
        n_line += 1;
        let text = match std::str::from_utf8(&line) {
            Ok(t) => t.trim(),
            Err(e) => return Err(bad_line(n_line, &format!("not UTF-8 ({e})"))),
        };
        if text.is_empty() {
            continue;
        }
        let rec: Record = serde_json::from_str(text)
            .map_err(|e| bad_line(n_line, &format!("expected {{\"id\", \"text\"}}: {e}")))?;
        buf.clear();
        if segments {
            let segs = lang.segments(&rec.text);
            let out = SegmentsOut {
                id: &rec.id,
                segments: segs
                    .iter()
                    .map(|s| SegmentOut {
                        text: s.text,
                        lang: s.lang,
                    })
                    .collect(),
            };
            serde_json::to_writer(&mut buf, &out)?;
        } else {
            let d = lang.detect(&rec.text);
            serde_json::to_writer(
                &mut buf,
                &LangOut {
                    id: &rec.id,
                    lang: d.lang,
                },
            )?;
        }
        buf.push(b'\n');
        output.write_all(&buf).map_err(out_err)?;
        written += 1;
    }
    output.flush().map_err(out_err)?;
    Ok(written)
}

/// A malformed input line, named by its number.
fn bad_line(n: u64, reason: &str) -> Error {
    Error::io(
        format!("<input> line {n}"),
        std::io::Error::new(std::io::ErrorKind::InvalidData, reason.to_string()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LangConfig;

    fn run(input: &str, segments: bool) -> Result<(u64, String)> {
        let mut out = Vec::new();
        let n = run_jsonl(
            input.as_bytes(),
            &mut out,
            segments,
            &LangId::new(&LangConfig::default()),
        )?;
        Ok((n, String::from_utf8(out).unwrap_or_default()))
    }

    #[test]
    fn labels_each_record() {
        let input = "{\"id\":\"a\",\"text\":\"The conference attracted many delegates.\"}\n\n\
                     {\"id\":7,\"text\":\"Hội nghị đã thu hút đông đảo đại biểu.\"}\r\n\
                     {\"id\":\"c\",\"text\":\"42\"}";
        let (n, out) = run(input, false).unwrap();
        assert_eq!(n, 3);
        assert_eq!(
            out,
            "{\"id\":\"a\",\"lang\":\"en\"}\n{\"id\":7,\"lang\":\"vi\"}\n{\"id\":\"c\",\"lang\":\"und\"}\n"
        );
    }

    #[test]
    fn segments_are_substrings_in_order() {
        let text = "Toàn cảnh hội nghị.\nOverview of the conference\nHe repeated his question. (彼は質問を繰り返しました。)";
        let input = serde_json::json!({"id": "m", "text": text}).to_string();
        let (n, out) = run(&input, true).unwrap();
        assert_eq!(n, 1);
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        let segs = v["segments"].as_array().unwrap();
        let langs: Vec<&str> = segs.iter().map(|s| s["lang"].as_str().unwrap()).collect();
        assert_eq!(langs, ["vi", "en", "en", "ja"]);
        let mut pos = 0;
        for s in segs {
            let t = s["text"].as_str().unwrap();
            let at = text[pos..]
                .find(t)
                .expect("segment is a substring, in order");
            pos += at + t.len();
        }
    }

    #[test]
    fn malformed_lines_name_their_number() {
        let input = "{\"id\":\"a\",\"text\":\"fine\"}\n{\"id\":\"b\"}\n";
        let err = run(input, false).unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
        let err = run("not json\n", true).unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
        let mut bad = b"{\"id\":\"a\",\"text\":\"".to_vec();
        bad.extend_from_slice(&[0xff, 0xfe]);
        bad.extend_from_slice(b"\"}\n");
        let mut out = Vec::new();
        let err = run_jsonl(
            &bad[..],
            &mut out,
            false,
            &LangId::new(&LangConfig::default()),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("line 1") && err.contains("UTF-8"), "{err}");
    }
}
