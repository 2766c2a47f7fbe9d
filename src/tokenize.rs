//! Stage `tokenize`: clean text → token ids, with the tokenizer that ships in the release.
//!
//! The default tokenizer (Qwen2 byte-level BPE, Apache-2.0, see `src/tokenize/NOTICE`) is
//! compiled into the binary so a build needs no file and no network. Any HuggingFace
//! `tokenizer.json` can replace it; its original bytes are what the release ships as
//! `tokenizer.json`, so a consumer re-encodes with exactly the file we used.
//!
//! Long texts are encoded in pieces (one 16 MB call took 2.2 GB of memory). The pieces are cut
//! where the pre-tokenizer would cut anyway, so for the default byte-level BPE the ids of the
//! pieces, concatenated, are the ids of the whole text; see `plan_chunks`.

use std::borrow::Cow;
use std::ops::Range;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use sha2::{Digest, Sha256};
use tokenizers::pipeline::{EncodeOptions, Override, PipelineToken, PipelineTokenizer};
use unicode_normalization::char::canonical_combining_class;
use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

use crate::error::{Error, Result};

/// Name of the embedded default tokenizer, as recorded in the manifest.
pub const EMBEDDED_NAME: &str = "qwen2-bytelevel-bpe";

/// The bytes of the default tokenizer exactly as published, so its sha256 in a release
/// matches the file in `src/tokenize/` and in `../shared/tokenizers/`.
static EMBEDDED_JSON: &[u8] = include_bytes!("tokenize/qwen2-bytelevel-bpe.tokenizer.json");

/// The embedded default's `tokenizer.json`, without building the tokenizer.
pub fn embedded_json() -> &'static [u8] {
    EMBEDDED_JSON
}

/// A loaded tokenizer plus what a release records about it. Cloning is cheap (one `Arc`).
#[derive(Clone)]
pub struct Tokenizer {
    inner: Arc<Inner>,
}

struct Inner {
    pipeline: PipelineTokenizer,
    /// Original bytes (not the canonicalised form), so the shipped file is the user's file.
    json: Cow<'static, [u8]>,
    name: String,
    sha256: String,
    /// Bit `i` set = id `i` is in the vocabulary or the added tokens. `None` when the
    /// vocabulary layout was not recognised; decode then trusts the ids.
    known_ids: Option<Vec<u64>>,
    /// Options for every encode: no special tokens added, and special-token text in an
    /// article (`<|endoftext|>` typed in a page) encoded as ordinary text so a scraped page
    /// can never inject a control token into training data, and decode gives the text back.
    options: EncodeOptions,
    /// The file's normalizer is NFC alone and [`Tokenizer::encode`] runs it instead of the
    /// pipeline (see [`lift_nfc`]).
    nfc_outside: bool,
}

// The pipeline shares one tokenizer across its worker threads.
const _: fn() = || {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Tokenizer>();
};

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokenizer")
            .field("name", &self.inner.name)
            .field("sha256", &self.inner.sha256)
            .field("json_bytes", &self.inner.json.len())
            .finish()
    }
}

impl Tokenizer {
    /// The default tokenizer compiled into the binary. Parsed once per process (the vocabulary
    /// is 5 MB of JSON); later calls return a clone.
    pub fn embedded() -> Result<Self> {
        static EMBEDDED: OnceLock<std::result::Result<Tokenizer, String>> = OnceLock::new();
        let loaded = EMBEDDED.get_or_init(|| {
            Tokenizer::from_embedded_bytes()
                .map_err(|reason| format!("embedded {EMBEDDED_NAME}: {reason}"))
        });
        match loaded {
            Ok(tok) => Ok(tok.clone()),
            Err(reason) => Err(Error::Tokenizer {
                path: format!("<embedded {EMBEDDED_NAME}>"),
                reason: reason.clone(),
            }),
        }
    }

    /// Load any HuggingFace `tokenizer.json`. The name is the file name without `.json` and
    /// without a `.tokenizer` before it (`qwen2-bytelevel-bpe.tokenizer.json` →
    /// `qwen2-bytelevel-bpe`, `tokenizer.json` → `tokenizer`).
    pub fn from_file(path: &Path) -> Result<Self> {
        let err = |reason: String| Error::Tokenizer {
            path: path.display().to_string(),
            reason,
        };
        let bytes = fs_err::read(path).map_err(|e| err(e.to_string()))?;
        Tokenizer::from_bytes(Cow::Owned(bytes), name_from_path(path)).map_err(err)
    }

    fn from_bytes(json: Cow<'static, [u8]>, name: String) -> std::result::Result<Self, String> {
        let text = std::str::from_utf8(&json).map_err(|e| format!("not UTF-8 JSON: {e}"))?;
        let mut value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        // Read the id layout from the file as written: the HF format is documented, the
        // canonical form is this crate's internal business.
        let known_ids = known_ids(&value)?;
        // rc.3's reader only accepts the canonical spelling; older files (every file on the
        // Hub today) need this upgrade pass first.
        tokenizers::canonicalize_value(&mut value).map_err(|e| e.to_string())?;
        let nfc_outside = lift_nfc(&mut value);
        let canonical = value.to_string();
        drop(value);
        Tokenizer::assemble(json, name, known_ids, &canonical, nfc_outside)
    }

    /// The embedded tokenizer without the generic upgrade pass: parsing its 5 MB into a
    /// `serde_json::Value`, re-serialising and dropping it costs ~0.5 CPU-s, a large part
    /// of a small build. [`embedded_canonical`] spells the file canonically by a few small
    /// edits instead, and the id layout is read by a typed pass; the tests prove both give
    /// what [`Tokenizer::from_bytes`] computes. Should the file ever differ, that path is
    /// taken instead.
    fn from_embedded_bytes() -> std::result::Result<Self, String> {
        let name = EMBEDDED_NAME.to_string();
        let json = Cow::Borrowed(EMBEDDED_JSON);
        let fast = std::str::from_utf8(EMBEDDED_JSON).ok().and_then(|text| {
            let (ids, all_special) = known_ids_typed(text)?;
            Some((
                embedded_canonical(text, all_special)?,
                Some(ids),
                all_special,
            ))
        });
        match fast {
            Some((canonical, known_ids, nfc_outside)) => {
                Tokenizer::assemble(json, name, known_ids, &canonical, nfc_outside)
            }
            None => Tokenizer::from_bytes(json, name),
        }
    }

    /// A tokenizer from its original bytes, its id layout and its canonical spelling.
    fn assemble(
        json: Cow<'static, [u8]>,
        name: String,
        known_ids: Option<Vec<u64>>,
        canonical: &str,
        nfc_outside: bool,
    ) -> std::result::Result<Self, String> {
        let pipeline = tokenizers::from_json(canonical).map_err(|e| e.to_string())?;
        let sha256 = hex::encode(Sha256::digest(&json));
        let options = EncodeOptions {
            add_special_tokens: false,
            encode_special_tokens: true,
            // A file that asks for truncation or padding must not silently cut or pad
            // articles: a release stores every token of every text.
            truncation: Override::Off,
            padding: Override::Off,
        };
        Ok(Tokenizer {
            inner: Arc::new(Inner {
                pipeline,
                json,
                name,
                sha256,
                known_ids,
                options,
                nfc_outside,
            }),
        })
    }

    /// `qwen2-bytelevel-bpe` for the default, else the file name without its `.json` suffix.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Hex sha256 of [`Self::json`].
    pub fn sha256(&self) -> &str {
        &self.inner.sha256
    }

    /// The original `tokenizer.json` bytes, written into the release unchanged.
    pub fn json(&self) -> &[u8] {
        &self.inner.json
    }

    /// Token ids of `text`, no special tokens added. Texts longer than `max_chunk_bytes` are
    /// encoded in pieces cut at paragraph breaks, then other whitespace, then letter/punctuation
    /// boundaries, and only inside a "word" longer than the limit at any character boundary;
    /// 0 means no limit. For the default tokenizer the result equals one call on the whole
    /// text except around such hard cuts. Memory stays proportional to the piece size.
    pub fn encode(&self, text: &str, max_chunk_bytes: usize) -> Result<Vec<u32>> {
        let inner = &*self.inner;
        // ~4 bytes per token for byte-level BPE on news text; a guess, not a limit.
        let mut out: Vec<PipelineToken> = Vec::with_capacity(text.len() / 4 + 1);
        for range in chunk_ranges(text, max_chunk_bytes) {
            let piece = &text[range.clone()];
            let composed: String;
            let piece = if inner.nfc_outside && !crate::text::is_nfc(piece) {
                composed = piece.nfc().collect();
                &composed
            } else {
                piece
            };
            inner
                .pipeline
                .encode_into(piece, &inner.options, &mut out)
                .map_err(|e| Error::Encode {
                    source_name: format!("{}-byte text", text.len()),
                    reason: format!(
                        "tokenizer {} on bytes {}..{}: {e}",
                        inner.name, range.start, range.end
                    ),
                })?;
        }
        // Same size and alignment (repr(transparent)), so this collects in place.
        Ok(out.into_iter().map(u32::from).collect())
    }

    /// Text of `ids`. Special tokens are kept (no id from [`Self::encode`] is one). For the
    /// default tokenizer `decode(encode(t)) == NFC(t)`, so exactly `t` for the NFC text the
    /// pipeline produces. An id outside the vocabulary is an error, not silently dropped.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        let inner = &*self.inner;
        if let Some(known) = &inner.known_ids {
            if let Some(bad) = ids.iter().find(|&&id| !bit_is_set(known, id)) {
                return Err(Error::Encode {
                    source_name: format!("{} token ids", ids.len()),
                    reason: format!("id {bad} is not in tokenizer {}", inner.name),
                });
            }
        }
        inner
            .pipeline
            .decode(ids, false)
            .map_err(|e| Error::Encode {
                source_name: format!("{} token ids", ids.len()),
                reason: format!("tokenizer {} cannot decode: {e}", inner.name),
            })
    }
}

/// `dir/foo.tokenizer.json` → `foo`; `dir/tokenizer.json` → `tokenizer`; `x.bin` → `x`.
fn name_from_path(path: &Path) -> String {
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let base = file.strip_suffix(".json").unwrap_or(&file);
    let base = match base.strip_suffix(".tokenizer") {
        Some(stem) if !stem.is_empty() => stem,
        _ => base,
    };
    if base.is_empty() {
        "tokenizer".to_string()
    } else {
        base.to_string()
    }
}

/// Every id the file defines (model vocabulary + added tokens) as a bitset, and a check that
/// they fit the release's `list<int32>` column.
fn known_ids(value: &serde_json::Value) -> std::result::Result<Option<Vec<u64>>, String> {
    let mut ids: Vec<u64> = Vec::new();
    let vocab = value.get("model").and_then(|m| m.get("vocab"));
    match vocab {
        // BPE, WordPiece, WordLevel: {"token": id}.
        Some(serde_json::Value::Object(map)) => {
            for v in map.values() {
                match v.as_u64() {
                    Some(id) => ids.push(id),
                    None => return Ok(None),
                }
            }
        }
        // Unigram: [["piece", score], …], the id is the position.
        Some(serde_json::Value::Array(list)) => ids.extend(0..list.len() as u64),
        _ => return Ok(None),
    }
    if let Some(added) = value.get("added_tokens").and_then(|a| a.as_array()) {
        for tok in added {
            match tok.get("id").and_then(|id| id.as_u64()) {
                Some(id) => ids.push(id),
                None => return Ok(None),
            }
        }
    }
    id_bits(ids).map(Some)
}

/// The embedded file in the canonical spelling that `canonicalize_value` gives it: version
/// 2.0, the byte-level step moved from the pre-tokenizer into the model; with
/// `lift_nfc`, also the edit [`lift_nfc`] makes. `None` when a piece to edit is not found
/// exactly once.
fn embedded_canonical(text: &str, lift_nfc: bool) -> Option<String> {
    const EDITS: [(&str, &str); 4] = [
        (r#"{"version":"1.0","#, r#"{"version":"2.0","#),
        (
            r#",{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":false,"use_regex":false}]}"#,
            "]}",
        ),
        (
            r#""model":{"type":"BPE","#,
            r#""model":{"type":"BPE","byte_level":true,"#,
        ),
        (r#""normalizer":{"type":"NFC"}"#, r#""normalizer":null"#),
    ];
    let mut out = text.to_string();
    for (from, to) in EDITS.iter().take(if lift_nfc { 4 } else { 3 }) {
        let mut at = out.match_indices(from).map(|(i, _)| i);
        let (Some(i), None) = (at.next(), at.next()) else {
            return None;
        };
        out.replace_range(i..i + from.len(), to);
    }
    Some(out)
}

/// Take a normalizer that is NFC alone out of the (canonical) file, for
/// [`Tokenizer::encode`] to run: a text is then composed only when it is not NFC already,
/// which a table lookup per character settles for nearly every article, where the
/// pipeline's own check costs two hash lookups per non-Latin character. Only when every
/// added token is special: those are not matched in an article's text at all (see
/// `EncodeOptions::encode_special_tokens`), so composing before the pipeline or inside
/// it gives the same ids. Returns whether it was taken out.
fn lift_nfc(value: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    let nfc_alone = value.get("normalizer") == Some(&serde_json::json!({"type": "NFC"}));
    let all_special = match value.get("added_tokens") {
        None | Some(Value::Null) => true,
        Some(Value::Array(added)) => added
            .iter()
            .all(|t| t.get("special") == Some(&Value::Bool(true))),
        Some(_) => false,
    };
    if !(nfc_alone && all_special) {
        return false;
    }
    value["normalizer"] = Value::Null;
    true
}

/// The bitset of [`known_ids`] by a typed pass that keeps only the ids, for files of the
/// usual shape (`None` otherwise, or when the ids are too large); and whether every added
/// token is special.
fn known_ids_typed(text: &str) -> Option<(Vec<u64>, bool)> {
    #[derive(serde::Deserialize)]
    struct Layout {
        model: ModelIds,
        added_tokens: Vec<AddedId>,
    }
    #[derive(serde::Deserialize)]
    struct ModelIds {
        vocab: VocabIds,
    }
    #[derive(serde::Deserialize)]
    struct AddedId {
        id: u64,
        special: bool,
    }
    let layout: Layout = serde_json::from_str(text).ok()?;
    let all_special = layout.added_tokens.iter().all(|a| a.special);
    let mut ids = layout.model.vocab.0;
    ids.extend(layout.added_tokens.iter().map(|a| a.id));
    Some((id_bits(ids).ok()?, all_special))
}

/// The ids of a `{"piece": id, ...}` vocabulary (an error for a value that is not a `u64`).
struct VocabIds(Vec<u64>);

impl<'de> serde::Deserialize<'de> for VocabIds {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::{IgnoredAny, MapAccess, Visitor};
        struct Ids;
        impl<'de> Visitor<'de> for Ids {
            type Value = VocabIds;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a vocabulary object")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<VocabIds, A::Error> {
                let mut ids = Vec::new();
                while map.next_key::<IgnoredAny>()?.is_some() {
                    ids.push(map.next_value::<u64>()?);
                }
                Ok(VocabIds(ids))
            }
        }
        d.deserialize_map(Ids)
    }
}

/// `ids` as a bitset, after checking they fit the release's `list<int32>` column.
fn id_bits(ids: Vec<u64>) -> std::result::Result<Vec<u64>, String> {
    let max = ids.iter().copied().max().unwrap_or(0);
    if max > i32::MAX as u64 {
        return Err(format!(
            "token id {max} does not fit the release's int32 token column"
        ));
    }
    let mut bits = vec![0u64; (max as usize) / 64 + 1];
    for id in ids {
        bits[(id / 64) as usize] |= 1 << (id % 64);
    }
    Ok(bits)
}

fn bit_is_set(bits: &[u64], id: u32) -> bool {
    bits.get((id / 64) as usize)
        .is_some_and(|word| word & (1 << (id % 64)) != 0)
}

/// Byte ranges, in order and covering `text`, each at most `max` bytes long (a hard cut may
/// round up to finish one character when `max` < 4), cut so that encoding the pieces gives
/// the same ids as encoding the whole.
fn chunk_ranges(text: &str, max: usize) -> Vec<Range<usize>> {
    plan_chunks(text, max).into_iter().map(|(r, _)| r).collect()
}

/// Which rule chose the end of a piece.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    /// After the last newline of a whitespace run holding two or more `\n`.
    Paragraph,
    /// Before a whitespace run without newline, or after the last newline of a run.
    Space,
    /// Between a letter or digit and punctuation/digit ([`token_cut`]).
    Token,
    /// Inside a "word" longer than `max` ([`hard_cut`]); ids may differ around it.
    Hard,
    /// The end of the text.
    End,
}

/// [`chunk_ranges`] with the rule behind each cut, so tests can check each rule's claim.
///
/// Why these cut points: the Qwen2/GPT-2-style pre-tokenizer regex attaches the last space
/// of a whitespace run to the FOLLOWING word (`" word"`), keeps the rest of the run as its own
/// token, and glues newlines to a preceding punctuation run (`".\n\n"`) and to the whitespace
/// before them (`" \n\n"`). So in a maximal whitespace run
/// * without a newline, the only safe cut is just before the run (`foo|   bar`): cutting after
///   it would separate `" bar"`'s space from its word;
/// * with a newline, the only safe cut is just after the last newline (`foo.\n\n|bar`): before
///   the run would separate `".\n\n"`, and after an earlier newline would split the `"\n\n"`
///   token. A run with two or more newlines is a paragraph break and is preferred.
///
/// Whitespace never composes under NFC, so these cuts are also safe for the NFC normaliser.
/// The tests check the equality on real multi-language text at every such position, and
/// that the naive cut (after the run) breaks it.
///
/// One forward pass; a piece is closed only when the next candidate would not fit, at the
/// latest candidate that does, so pieces are as large as `max` allows.
fn plan_chunks(text: &str, max: usize) -> Vec<(Range<usize>, Cut)> {
    let n = text.len();
    if max == 0 || n <= max {
        return vec![(0..n, Cut::End)];
    }
    let mut chunker = Chunker {
        text,
        max,
        start: 0,
        para: None,
        space: None,
        out: Vec::with_capacity(n / max + 2),
    };
    let mut run: Option<Run> = None;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            let r = run.get_or_insert(Run {
                start: i,
                last_newline_end: None,
                newlines: 0,
            });
            if c == '\n' || c == '\r' {
                r.last_newline_end = Some(i + c.len_utf8());
                r.newlines += usize::from(c == '\n');
            }
        } else if let Some(r) = run.take() {
            chunker.end_of_run(r);
        }
    }
    if let Some(r) = run.take() {
        chunker.end_of_run(r);
    }
    while n - chunker.start > max {
        chunker.emit();
    }
    if chunker.start < n {
        chunker.out.push((chunker.start..n, Cut::End));
    }
    chunker.out
}

/// A maximal run of whitespace.
struct Run {
    start: usize,
    /// Byte after its last `\r` or `\n`.
    last_newline_end: Option<usize>,
    newlines: usize,
}

struct Chunker<'a> {
    text: &'a str,
    max: usize,
    /// Start of the piece being built.
    start: usize,
    /// Latest paragraph cut after `start` (within `max` of it).
    para: Option<usize>,
    /// Latest other whitespace cut after `start` (within `max` of it).
    space: Option<usize>,
    out: Vec<(Range<usize>, Cut)>,
}

impl Chunker<'_> {
    fn end_of_run(&mut self, run: Run) {
        let cut = run.last_newline_end.unwrap_or(run.start);
        // A cut at the start of the text cuts nothing.
        if cut == 0 {
            return;
        }
        // Close pieces until this cut fits in the current one.
        while cut - self.start > self.max {
            self.emit();
        }
        if cut > self.start {
            if run.newlines >= 2 {
                self.para = Some(cut);
            } else {
                self.space = Some(cut);
            }
        }
    }

    /// Close the current piece at the best cut: paragraph, whitespace, a word/punctuation
    /// boundary, else a hard cut.
    fn emit(&mut self) {
        let (cut, kind) = match (self.para, self.space) {
            (Some(p), _) => (p, Cut::Paragraph),
            (None, Some(s)) => (s, Cut::Space),
            (None, None) => match token_cut(self.text, self.start, self.max) {
                Some(t) => (t, Cut::Token),
                None => (hard_cut(self.text, self.start, self.max), Cut::Hard),
            },
        };
        self.out.push((self.start..cut, kind));
        self.start = cut;
        self.para = None;
        self.space = self.space.filter(|&s| s > cut);
    }
}

/// The latest cut in `(start, start + max]` between a letter or digit and a following
/// character that is neither a letter nor whitespace (`日本語|。`, `word|,`, `5|%`, `abc|1`),
/// for long stretches without whitespace (CJK, Thai, minified text).
///
/// Why it keeps the ids: the pre-tokenizer's letter run (`\p{L}+`) and digit (`\p{N}`) tokens
/// end there whatever follows, and the next token starts there (punctuation attaches to the
/// FOLLOWING letters: `。日本`), with no lookbehind in the regex. The character after the cut
/// must also be a normalisation boundary (canonical combining class 0 and NFC quick-check
/// yes), so NFC cannot reorder or compose across it.
fn token_cut(text: &str, start: usize, max: usize) -> Option<usize> {
    static BOUNDARY: OnceLock<Option<regex::Regex>> = OnceLock::new();
    // The pattern is a constant; if it ever failed to compile the tier is skipped, which
    // only costs id equality at a hard cut.
    let re = BOUNDARY
        .get_or_init(|| regex::Regex::new(r"[\p{L}\p{N}][^\s\p{L}]").ok())
        .as_ref()?;
    let limit = start + max;
    // Look one character past the limit so a cut exactly at it can be judged.
    let mut end = (limit + 4).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut best = None;
    for m in re.find_iter(&text[start..end]) {
        let prev_len = text[start + m.start()..]
            .chars()
            .next()
            .map_or(1, char::len_utf8);
        let cut = start + m.start() + prev_len;
        if cut > limit {
            break;
        }
        if text[cut..].chars().next().is_some_and(is_nfc_boundary) {
            best = Some(cut);
        }
    }
    best
}

/// True when NFC treats text before `c` and from `c` on independently.
fn is_nfc_boundary(c: char) -> bool {
    canonical_combining_class(c) == 0 && is_nfc_quick(std::iter::once(c)) == IsNormalized::Yes
}

/// A character boundary in `(start, start + max]`, the latest one that does not put a
/// combining mark (or anything NFC could compose with what precedes it) at the start of the
/// next piece. Ids may differ from the whole text's around such a cut: it is only used
/// inside a "word" longer than `max`.
fn hard_cut(text: &str, start: usize, max: usize) -> usize {
    let limit = (start + max).min(text.len());
    let mut cut = limit;
    while cut > start && !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut best = cut;
    while best > start {
        if text[best..].chars().next().is_some_and(is_nfc_boundary) {
            break;
        }
        best -= 1;
        while best > start && !text.is_char_boundary(best) {
            best -= 1;
        }
    }
    if best > start {
        return best;
    }
    if cut > start {
        return cut;
    }
    // `max` is smaller than the first character: take that whole character.
    let mut end = start + 1;
    while end < text.len() && !text.is_char_boundary(end) {
        end += 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok() -> Tokenizer {
        match Tokenizer::embedded() {
            Ok(t) => t,
            Err(e) => panic!("embedded tokenizer: {e}"),
        }
    }

    fn enc(t: &Tokenizer, text: &str, max: usize) -> Vec<u32> {
        match t.encode(text, max) {
            Ok(ids) => ids,
            Err(e) => panic!("encode: {e}"),
        }
    }

    fn nfc(text: &str) -> String {
        unicode_normalization::UnicodeNormalization::nfc(text).collect()
    }

    /// Real text (the project's sample articles) plus Vietnamese, Japanese, Chinese, emoji
    /// and every kind of whitespace run the cut rules distinguish.
    fn sample() -> String {
        let mut s = String::new();
        let mut paths: Vec<_> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/raw"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        paths.sort();
        for path in paths {
            s.push_str(&std::fs::read_to_string(path).unwrap_or_default());
            s.push_str("\n\n");
        }
        s.push_str(
            "Thủ tướng Phạm Minh Chính tiếp Đại sứ Nhật Bản.  Hai bên nhất trí\tthúc đẩy hợp tác.\n\n\
             日本とベトナムの外交関係樹立50周年を記念する行事が、17日に開かれた。参加者は約200人で、\
             両国の文化交流について話し合った。「友好の絆を深めたい」と述べた。\n\
             中国国家统计局公布的数据显示，经济增长5.2%。专家认为：“复苏势头良好”。\n \n\
             Emoji 👍🏽 and 👨‍👩‍👧 family.\u{a0}NBSP\u{3000}ideographic space.\r\n\
             trailing spaces   \n\n\n\n   indented line\n\t\ttabs!  ?! (quoted)  \"x\" it's don't\n",
        );
        s
    }

    fn floor(text: &str, mut k: usize) -> usize {
        k = k.min(text.len());
        while !text.is_char_boundary(k) {
            k -= 1;
        }
        k
    }

    /// Does cutting `text` at `i` keep the ids? Checked on a window around `i`: the claim is
    /// about any text, so a window is as good a witness as the whole text and much cheaper.
    fn cut_keeps_ids(t: &Tokenizer, text: &str, i: usize) -> bool {
        let lo = floor(text, i.saturating_sub(120));
        let hi = floor(text, i + 120);
        let mut ids = enc(t, &text[lo..i], 0);
        ids.extend(enc(t, &text[i..hi], 0));
        ids == enc(t, &text[lo..hi], 0)
    }

    /// The fast path of [`Tokenizer::from_embedded_bytes`] hands the reader the same JSON
    /// document and finds the same ids as the generic path.
    #[test]
    fn embedded_fast_path_matches_the_upgrade_pass() {
        let text = std::str::from_utf8(EMBEDDED_JSON).unwrap();
        let fast =
            embedded_canonical(text, true).expect("the embedded file has the expected spelling");
        let mut value: serde_json::Value = serde_json::from_str(text).unwrap();
        let ids = known_ids(&value).unwrap();
        assert!(ids.is_some());
        assert_eq!(known_ids_typed(text), ids.map(|ids| (ids, true)));
        tokenizers::canonicalize_value(&mut value).unwrap();
        assert!(lift_nfc(&mut value));
        let fast_value: serde_json::Value = serde_json::from_str(&fast).unwrap();
        assert_eq!(fast_value, value);
        // And the two readings behave the same.
        let generic = Tokenizer::from_bytes(Cow::Borrowed(EMBEDDED_JSON), "g".into()).unwrap();
        let text = sample();
        let ids = enc(&generic, &text, 0);
        assert_eq!(enc(&tok(), &text, 0), ids);
        assert_eq!(tok().decode(&ids).ok(), generic.decode(&ids).ok());
        // A file without the pieces is not edited.
        assert_eq!(embedded_canonical(r#"{"version":"2.0"}"#, false), None);
    }

    /// With its NFC normalizer run outside the pipeline, the default tokenizer gives the
    /// ids the file's own pipeline gives, NFC text or not, whole or in pieces.
    #[test]
    fn nfc_outside_the_pipeline_gives_the_pipelines_ids() {
        let t = tok();
        assert!(t.inner.nfc_outside);
        let text = std::str::from_utf8(EMBEDDED_JSON).unwrap();
        let own = tokenizers::from_json(&embedded_canonical(text, false).unwrap()).unwrap();
        let own_ids = |piece: &str| {
            let mut out = Vec::new();
            own.encode_into(piece, &t.inner.options, &mut out).unwrap();
            out.into_iter().map(u32::from).collect::<Vec<u32>>()
        };
        let decomposed: String = sample().nfd().collect();
        for text in [
            sample(),
            decomposed.clone(),
            "\u{0301}leading mark, Vie\u{0323}\u{0302}t Nam, q\u{0303} <|endoftext|>\u{0338}"
                .to_string(),
        ] {
            assert_eq!(enc(&t, &text, 0), own_ids(&text));
            let mut pieces = Vec::new();
            for range in chunk_ranges(&text, 300) {
                pieces.extend(own_ids(&text[range]));
            }
            assert_eq!(enc(&t, &text, 300), pieces);
        }
        assert!(!crate::text::is_nfc(&decomposed));
    }

    #[test]
    fn nfc_stays_in_the_pipeline_unless_it_is_the_whole_normalizer_and_tokens_are_special() {
        let lifted = |json: serde_json::Value| {
            let mut v = json;
            let was = v.clone();
            let out = lift_nfc(&mut v);
            assert_eq!(out, v != was);
            out
        };
        let nfc = serde_json::json!({"type": "NFC"});
        let special = serde_json::json!([{"id": 1, "content": "<s>", "special": true}]);
        let plain = serde_json::json!([{"id": 1, "content": "x\u{301}", "special": false}]);
        assert!(lifted(
            serde_json::json!({"normalizer": nfc, "added_tokens": special})
        ));
        assert!(lifted(serde_json::json!({"normalizer": nfc})));
        assert!(!lifted(
            serde_json::json!({"normalizer": nfc, "added_tokens": plain})
        ));
        let seq = serde_json::json!({"type": "Sequence", "normalizers": [nfc]});
        assert!(!lifted(serde_json::json!({"normalizer": seq})));
        assert!(!lifted(serde_json::json!({"normalizer": {"type": "NFKC"}})));
        assert!(!lifted(serde_json::json!({"normalizer": null})));
    }

    #[test]
    fn embedded_loads_and_describes_itself() {
        let t = tok();
        assert_eq!(t.name(), "qwen2-bytelevel-bpe");
        assert_eq!(t.json(), EMBEDDED_JSON);
        assert_eq!(
            t.sha256(),
            "c2510074f2899ed9fd08da3bfdfd4943afb81f6558e640cee5d07265cfac4d3c"
        );
        assert_eq!(enc(&t, "", 1024), Vec::<u32>::new());
        assert_eq!(enc(&t, "Hello world", 0), vec![9707, 1879]);
    }

    #[test]
    fn special_token_text_is_plain_text() {
        let t = tok();
        let ids = enc(&t, "a <|endoftext|> b<|im_start|>", 0);
        assert!(!ids.iter().any(|&id| id >= 151_643), "{ids:?}");
        assert_eq!(
            t.decode(&ids).ok().as_deref(),
            Some("a <|endoftext|> b<|im_start|>")
        );
    }

    #[test]
    fn decode_round_trips_and_rejects_unknown_ids() {
        let t = tok();
        let text = sample();
        assert_eq!(t.decode(&enc(&t, &text, 4096)).ok(), Some(nfc(&text)));
        // NFD in, NFC out: the normaliser is part of the tokenizer.
        let nfd = "Vie\u{323}\u{302}t Nam";
        assert_eq!(t.decode(&enc(&t, nfd, 0)).ok(), Some(nfc(nfd)));
        assert!(t.decode(&[0, 999_999]).is_err());
        assert!(t.decode(&[151_643]).is_ok());
    }

    #[test]
    fn chunks_cover_text_and_respect_limit() {
        let text = sample();
        for max in [
            1,
            2,
            3,
            5,
            16,
            100,
            1000,
            4096,
            text.len() - 1,
            text.len(),
            0,
        ] {
            let ranges = chunk_ranges(&text, max);
            let mut pos = 0;
            for r in &ranges {
                assert_eq!(r.start, pos);
                assert!(r.end > r.start, "empty piece at {pos} for max {max}");
                assert!(max == 0 || r.len() <= max.max(4), "piece {r:?} > {max}");
                assert!(text.is_char_boundary(r.end));
                pos = r.end;
            }
            assert_eq!(pos, text.len());
        }
        assert_eq!(chunk_ranges("", 10), vec![0..0]);
    }

    /// The claim the chunking rests on, at every position each rule would pick in real text:
    /// the ids do not change. And the naive whitespace cut (after the run) does change them,
    /// so the test would notice a rule that was merely lucky.
    #[test]
    fn every_candidate_cut_keeps_ids() {
        let t = tok();
        let text = sample();
        let is_nl = |c: char| c == '\n' || c == '\r';
        let (mut space_cuts, mut naive_cuts, mut naive_breaks) = (0, 0, 0);
        for (i, next) in text.char_indices().skip(1) {
            let prev = text[..i].chars().next_back().unwrap_or('x');
            let run_after = || text[i..].chars().take_while(|c| c.is_whitespace());
            let before_run =
                !prev.is_whitespace() && next.is_whitespace() && !run_after().any(is_nl);
            let after_last_newline = is_nl(prev) && !run_after().any(is_nl);
            if before_run || after_last_newline {
                assert!(
                    cut_keeps_ids(&t, &text, i),
                    "cut at {i}: {:?}|{:?}",
                    &text[floor(&text, i.saturating_sub(12))..i],
                    &text[i..floor(&text, i + 12)]
                );
                space_cuts += 1;
            }
            if prev == ' ' && !next.is_whitespace() {
                naive_cuts += 1;
                naive_breaks += usize::from(!cut_keeps_ids(&t, &text, i));
            }
        }
        assert!(space_cuts > 4000, "only {space_cuts} cuts checked");
        assert!(
            naive_breaks * 10 > naive_cuts * 9,
            "naive cut broke ids only {naive_breaks} of {naive_cuts} times"
        );
    }

    /// Every cut the planner makes, except hard cuts, keeps the ids; with small limits on
    /// text without spaces (CJK) the token rule does the work.
    #[test]
    fn planned_cuts_keep_ids() {
        let t = tok();
        let text = sample();
        let whole = enc(&t, &text, 0);
        let mut seen = std::collections::BTreeMap::new();
        for max in [40, 64, 100, 150, 333, 1000, 5000] {
            let plan = plan_chunks(&text, max);
            for (r, kind) in &plan {
                *seen.entry(format!("{kind:?}")).or_insert(0) += 1;
                if !matches!(kind, Cut::Hard | Cut::End) {
                    assert!(
                        cut_keeps_ids(&t, &text, r.end),
                        "{kind:?} cut at {} (max {max}): {:?}|{:?}",
                        r.end,
                        &text[floor(&text, r.end.saturating_sub(12))..r.end],
                        &text[r.end..floor(&text, r.end + 12)]
                    );
                }
            }
            if !plan.iter().any(|(_, k)| *k == Cut::Hard) {
                assert_eq!(enc(&t, &text, max), whole, "max {max}");
            }
        }
        for kind in ["Paragraph", "Space", "Token", "Hard"] {
            assert!(seen.contains_key(kind), "no {kind} cut in {seen:?}");
        }
        let cjk = "日本とベトナムの外交関係樹立50周年を記念する行事が、17日に開かれた。".repeat(40);
        let plan = plan_chunks(&cjk, 100);
        assert!(plan.iter().all(|(_, k)| *k != Cut::Hard), "{plan:?}");
        assert_eq!(enc(&t, &cjk, 100), enc(&t, &cjk, 0));
    }

    #[test]
    fn paragraphs_preferred_and_hard_cut_keeps_marks() {
        let text = format!(
            "{}\n\n{} {}",
            "a".repeat(50),
            "b".repeat(30),
            "c".repeat(30)
        );
        assert_eq!(chunk_ranges(&text, 80)[0], 0..52);
        // 'e' + combining acute repeated: a hard cut never lands before the mark.
        let word = "e\u{301}".repeat(100);
        for r in chunk_ranges(&word, 10) {
            assert!(word[r.start..].starts_with('e'), "{r:?}");
        }
        let cjk = "日本語".repeat(100);
        assert_eq!(chunk_ranges(&cjk, 1).len(), 300);
    }

    #[test]
    fn hostile_text_encodes() {
        let t = tok();
        let long_word = "x".repeat(200_000);
        let ids = enc(&t, &long_word, 65_536);
        assert_eq!(t.decode(&ids).ok().as_deref(), Some(long_word.as_str()));
        let spaces = " ".repeat(100_000) + "\n".repeat(100_000).as_str() + "end";
        assert_eq!(enc(&t, &spaces, 4096), enc(&t, &spaces, 0));
        let controls: String = (0u8..0x80).map(char::from).collect::<String>().repeat(50);
        let ids = enc(&t, &controls, 1024);
        assert_eq!(t.decode(&ids).ok(), Some(controls));
    }

    #[test]
    fn from_file_names_and_errors() {
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("tempdir: {e}"),
        };
        let path = dir.path().join("my-vocab.tokenizer.json");
        if let Err(e) = std::fs::write(&path, EMBEDDED_JSON) {
            panic!("write: {e}");
        }
        let t = match Tokenizer::from_file(&path) {
            Ok(t) => t,
            Err(e) => panic!("from_file: {e}"),
        };
        assert_eq!(t.name(), "my-vocab");
        assert_eq!(t.sha256(), tok().sha256());
        assert_eq!(enc(&t, "Hello world", 0), vec![9707, 1879]);

        let missing = dir.path().join("nope.json");
        let err = Tokenizer::from_file(&missing).err().map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(|e| e.contains("nope.json")),
            "{err:?}"
        );
        for (name, body) in [
            ("bad.json", &b"{\"model\": 3}"[..]),
            ("notjson.json", b"\xff\xfe"),
            ("empty.json", b""),
        ] {
            let bad = dir.path().join(name);
            if let Err(e) = std::fs::write(&bad, body) {
                panic!("write: {e}");
            }
            let err = Tokenizer::from_file(&bad).err().map(|e| e.to_string());
            assert!(err.as_deref().is_some_and(|e| e.contains(name)), "{err:?}");
        }
        assert_eq!(name_from_path(Path::new("x/tokenizer.json")), "tokenizer");
        assert_eq!(name_from_path(Path::new(".json")), "tokenizer");
        assert_eq!(name_from_path(Path::new("a/b.tokenizer")), "b");
    }
}
