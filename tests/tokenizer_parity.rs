//! quire's token ids equal Python `tokenizers`' on the fixture texts, whole and chunked,
//! and decode gives the text back. The fixture is written by
//! `tests/fixtures/tokenizer/make_fixture.py` (see `meta.json` for the version).

use quire::tokenize::Tokenizer;
use unicode_normalization::UnicodeNormalization;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tokenizer");

fn read_jsonl(name: &str) -> Vec<serde_json::Value> {
    let path = format!("{FIXTURE}/{name}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{path}: {e}")))
        .collect()
}

struct Case {
    name: String,
    text: String,
    ids: Vec<u32>,
}

fn cases() -> Vec<Case> {
    let texts = read_jsonl("texts.jsonl");
    let ids = read_jsonl("expected_ids.jsonl");
    assert_eq!(texts.len(), ids.len(), "texts and ids differ in length");
    texts
        .iter()
        .zip(&ids)
        .map(|(t, i)| {
            assert_eq!(t["name"], i["name"], "fixture files out of order");
            Case {
                name: t["name"].as_str().unwrap_or_default().to_string(),
                text: t["text"].as_str().unwrap_or_default().to_string(),
                ids: i["ids"]
                    .as_array()
                    .unwrap_or_else(|| panic!("ids of {}", t["name"]))
                    .iter()
                    .map(|v| {
                        v.as_u64()
                            .and_then(|v| u32::try_from(v).ok())
                            .unwrap_or(u32::MAX)
                    })
                    .collect(),
            }
        })
        .collect()
}

fn tokenizer() -> Tokenizer {
    Tokenizer::embedded().unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn fixture_is_for_the_shipped_tokenizer() {
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{FIXTURE}/meta.json")).unwrap_or_default(),
    )
    .unwrap_or_else(|e| panic!("meta.json: {e}"));
    assert_eq!(
        meta["tokenizer_sha256"].as_str(),
        Some(tokenizer().sha256())
    );
    assert_eq!(meta["cases"].as_u64(), Some(cases().len() as u64));
}

#[test]
fn ids_equal_python_tokenizers() {
    let tok = tokenizer();
    let cases = cases();
    assert!(cases.len() >= 25, "only {} fixture cases", cases.len());
    let mut long = 0;
    let mut failures = Vec::new();
    for case in &cases {
        if case.text.len() > 65_536 {
            long += 1;
        }
        // 0 = one call; the others force chunking of everything longer than them.
        for max in [0, 1024, 4096, 65_536] {
            let ids = tok
                .encode(&case.text, max)
                .unwrap_or_else(|e| panic!("{e}"));
            if ids != case.ids {
                let at = ids
                    .iter()
                    .zip(&case.ids)
                    .take_while(|(a, b)| a == b)
                    .count();
                failures.push(format!(
                    "{} (max {max}): {} ids vs python {}, first difference at {at}",
                    case.name,
                    ids.len(),
                    case.ids.len()
                ));
            }
        }
    }
    assert!(
        long >= 1,
        "no fixture text is longer than the default chunk"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn decode_gives_back_the_nfc_text() {
    let tok = tokenizer();
    for case in cases() {
        let text = tok
            .decode(&case.ids)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let nfc: String = case.text.nfc().collect();
        assert!(
            text == nfc,
            "{}: decode differs from the NFC text",
            case.name
        );
    }
}
