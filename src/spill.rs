//! The binary encoding of the build's spill records (one article after the read pass,
//! read back by the statistics and write passes).
//!
//! JSON cost more CPU to write and parse than the stages around it, and every reader had
//! to scan a whole record to find the fields it wanted. Here a record is its payload
//! length (`u64`, little-endian) then the payload; the payload's fields are in a fixed
//! order, the ones the partial readers want first, so they stop early and borrow the
//! strings from the buffer. Integers are LEB128 varints, strings a varint byte length
//! then UTF-8, options a tag byte (0 = none, 1 = some). The file is temporary and read
//! only by the build that wrote it, so the layout carries no version.

use crate::article::{Article, Block, HeadRole};
use crate::clean::Draft;
use crate::dedup::ContentKey;

/// A spill record that does not decode (truncated or damaged file).
#[derive(Debug, thiserror::Error)]
#[error("corrupt spill record: {0}")]
pub struct CodecError(pub &'static str);

pub(crate) type CodecResult<T> = std::result::Result<T, CodecError>;

/// Appends encoded values to a buffer.
pub(crate) struct Enc<'a>(pub &'a mut Vec<u8>);

impl Enc<'_> {
    pub fn u8(&mut self, v: u8) {
        self.0.push(v);
    }

    pub fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    pub fn str(&mut self, s: &str) {
        self.varint(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }

    pub fn opt_str(&mut self, s: Option<&str>) {
        match s {
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
            None => self.u8(0),
        }
    }
}

/// Reads encoded values from a buffer; every read checks the bounds.
pub(crate) struct Dec<'a>(pub &'a [u8]);

impl<'a> Dec<'a> {
    pub fn bytes(&mut self, n: usize) -> CodecResult<&'a [u8]> {
        if n > self.0.len() {
            return Err(CodecError("truncated"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    pub fn u8(&mut self) -> CodecResult<u8> {
        Ok(self.bytes(1)?[0])
    }

    pub fn varint(&mut self) -> CodecResult<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= u64::from(b & 0x7F) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(CodecError("varint too long"))
    }

    /// A length or count: a varint that must fit what is left of the buffer, so a
    /// damaged one cannot ask for a huge allocation.
    pub fn len(&mut self) -> CodecResult<usize> {
        let n = self.varint()?;
        match usize::try_from(n) {
            Ok(n) if n <= self.0.len() => Ok(n),
            _ => Err(CodecError("length past the end")),
        }
    }

    pub fn str(&mut self) -> CodecResult<&'a str> {
        let n = self.len()?;
        // The same check as `std::str::from_utf8`, with SIMD: a build validates every
        // spilled string twice (statistics and write passes), mostly non-ASCII text.
        simdutf8::basic::from_utf8(self.bytes(n)?).map_err(|_| CodecError("invalid UTF-8"))
    }

    pub fn opt_str(&mut self) -> CodecResult<Option<&'a str>> {
        match self.u8()? {
            0 => Ok(None),
            1 => self.str().map(Some),
            _ => Err(CodecError("bad option tag")),
        }
    }

    /// The end of a record: nothing may be left over.
    pub fn finish(&self) -> CodecResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(CodecError("trailing bytes"))
        }
    }
}

/// The payload of one record: the key, the article, the draft decisions.
/// `line_keys` are the blocks' [`crate::clean::LineStats::key`]s, one per block, or empty
/// when the build counts no lines.
pub(crate) fn encode(
    key: &ContentKey,
    article: &Article,
    line_keys: &[u64],
    draft: &Draft,
    out: &mut Vec<u8>,
) {
    let mut e = Enc(out);
    // The head readers' fields first (see `decode_head`), then the blocks and line keys
    // the statistics pass reads (see `decode_blocks`), then the rest.
    e.str(&article.source);
    e.opt_str(article.source_id.as_deref());
    e.varint(article.blocks.len() as u64);
    for b in &article.blocks {
        e.str(&b.text);
        e.u8(match b.role {
            None => 0,
            Some(HeadRole::Title) => 1,
            Some(HeadRole::Dateline) => 2,
            Some(HeadRole::Byline) => 3,
        });
    }
    e.varint(line_keys.len() as u64);
    for k in line_keys {
        e.0.extend_from_slice(&k.to_le_bytes());
    }
    e.0.extend_from_slice(key);
    e.opt_str(article.url.as_deref());
    e.opt_str(article.title.as_deref());
    match article.published {
        Some(ms) => {
            e.u8(1);
            e.0.extend_from_slice(&ms.to_le_bytes());
        }
        None => e.u8(0),
    }
    e.opt_str(article.byline.as_deref());
    e.varint(article.notes.len() as u64);
    for n in &article.notes {
        e.str(n);
    }
    draft.encode(&mut e);
}

/// The line keys after the blocks: none, or one per block.
fn decode_line_keys(d: &mut Dec, blocks: usize) -> CodecResult<Vec<u64>> {
    let n = d.len()?;
    if n != 0 && n != blocks {
        return Err(CodecError("line keys do not match the blocks"));
    }
    let bytes = d.bytes(n.checked_mul(8).ok_or(CodecError("truncated"))?)?;
    Ok(bytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
        .collect())
}

/// A whole record: the key, the article, its blocks' line keys, the draft.
pub(crate) fn decode(payload: &[u8]) -> CodecResult<(ContentKey, Article, Vec<u64>, Draft)> {
    let mut d = Dec(payload);
    let source = d.str()?.to_string();
    let source_id = d.opt_str()?.map(str::to_string);
    let n = d.len()?;
    let mut blocks = Vec::with_capacity(n);
    for _ in 0..n {
        let text = d.str()?.to_string();
        let role = match d.u8()? {
            0 => None,
            1 => Some(HeadRole::Title),
            2 => Some(HeadRole::Dateline),
            3 => Some(HeadRole::Byline),
            _ => return Err(CodecError("bad block role")),
        };
        blocks.push(Block { text, role });
    }
    let line_keys = decode_line_keys(&mut d, n)?;
    let mut key: ContentKey = [0; 16];
    key.copy_from_slice(d.bytes(16)?);
    let url = d.opt_str()?.map(str::to_string);
    let title = d.opt_str()?.map(str::to_string);
    let published = match d.u8()? {
        0 => None,
        1 => {
            let mut b = [0u8; 8];
            b.copy_from_slice(d.bytes(8)?);
            Some(i64::from_le_bytes(b))
        }
        _ => return Err(CodecError("bad option tag")),
    };
    let byline = d.opt_str()?.map(str::to_string);
    let n = d.len()?;
    let mut notes = Vec::with_capacity(n);
    for _ in 0..n {
        notes.push(d.str()?.to_string());
    }
    let draft = Draft::decode(&mut d)?;
    d.finish()?;
    let article = Article {
        source,
        source_id,
        url,
        title,
        published,
        byline,
        blocks,
        notes,
    };
    Ok((key, article, line_keys, draft))
}

/// The article's `source` and `source_id` only (for the audit file's removed copies).
pub(crate) fn decode_head(payload: &[u8]) -> CodecResult<(&str, Option<&str>)> {
    let mut d = Dec(payload);
    Ok((d.str()?, d.opt_str()?))
}

/// The article's block texts and their line keys only (for the corpus statistics).
pub(crate) fn decode_blocks(payload: &[u8]) -> CodecResult<(Vec<&str>, Vec<u64>)> {
    let mut d = Dec(payload);
    d.str()?;
    d.opt_str()?;
    let n = d.len()?;
    let mut texts = Vec::with_capacity(n);
    for _ in 0..n {
        texts.push(d.str()?);
        d.u8()?;
    }
    let keys = decode_line_keys(&mut d, n)?;
    Ok((texts, keys))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clean::Cleaner;
    use crate::config::CleanConfig;

    fn sample() -> (ContentKey, Article, Vec<u64>, Draft) {
        let article = Article {
            source: "feed.jsonl:7".into(),
            source_id: Some("id-ü".into()),
            url: None,
            title: Some("Tiêu đề".into()),
            published: Some(-1_234_567_890_123),
            byline: Some("By Someone".into()),
            blocks: vec![
                Block {
                    text: "Tiêu đề".into(),
                    role: Some(HeadRole::Title),
                },
                Block {
                    text: "Body line one, long enough to be a paragraph of the story.".into(),
                    role: None,
                },
                Block {
                    text: String::new(),
                    role: Some(HeadRole::Byline),
                },
                Block {
                    text: "Share on Facebook".into(),
                    role: Some(HeadRole::Dateline),
                },
            ],
            notes: vec!["unescaped 1 HTML entities".into()],
        };
        let draft = Cleaner::new(&CleanConfig::default()).draft(&article);
        let key = std::array::from_fn(|i| (i * 37) as u8);
        let line_keys = vec![1, u64::MAX, 0, 0x0123_4567_89AB_CDEF];
        (key, article, line_keys, draft)
    }

    #[test]
    fn records_round_trip_whole_and_in_part() {
        let (key, article, line_keys, draft) = sample();
        let mut buf = Vec::new();
        encode(&key, &article, &line_keys, &draft, &mut buf);
        let (k, a, l, d) = decode(&buf).unwrap();
        assert_eq!((k, &a, &l, &d), (key, &article, &line_keys, &draft));
        assert_eq!(decode_head(&buf).unwrap(), ("feed.jsonl:7", Some("id-ü")));
        let texts: Vec<&str> = article.blocks.iter().map(|b| b.text.as_str()).collect();
        assert_eq!(decode_blocks(&buf).unwrap(), (texts.clone(), line_keys));

        // Without line keys (a build that counts no lines).
        let mut buf = Vec::new();
        encode(&key, &article, &[], &draft, &mut buf);
        assert_eq!(decode(&buf).unwrap().2, Vec::<u64>::new());
        assert_eq!(decode_blocks(&buf).unwrap(), (texts, Vec::new()));
        // Keys that do not match the blocks are refused.
        let mut buf = Vec::new();
        encode(&key, &article, &[7], &draft, &mut buf);
        assert!(decode(&buf).is_err());

        let empty = Article::default();
        let mut buf = Vec::new();
        encode(&key, &empty, &[], &Draft::default(), &mut buf);
        assert_eq!(
            decode(&buf).unwrap(),
            (key, empty, Vec::new(), Draft::default())
        );
    }

    #[test]
    fn truncated_or_damaged_records_are_errors() {
        let (key, article, line_keys, draft) = sample();
        let mut buf = Vec::new();
        encode(&key, &article, &line_keys, &draft, &mut buf);
        for cut in 0..buf.len() {
            assert!(decode(&buf[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = buf.clone();
        longer.push(0);
        assert!(decode(&longer).is_err());
        // Every single-byte change either fails or decodes to something; never a panic.
        for i in 0..buf.len() {
            for v in [0x00, 0x02, 0x7F, 0x80, 0xFF] {
                let mut bad = buf.clone();
                bad[i] = v;
                let _ = decode(&bad);
                let _ = decode_head(&bad);
                let _ = decode_blocks(&bad);
            }
        }
        assert!(Dec(&[0xFF; 11]).varint().is_err());
        assert!(Dec(&[0x85, 0x80, 0x80, 0x80, 0x01]).len().is_err());
        assert!(Dec(&[2, 0xC3, 0x28]).str().is_err());
    }
}
