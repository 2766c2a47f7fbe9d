//! Documents → Arrow `RecordBatch`, column by column.
//!
//! List, struct and batch arrays are assembled with the fallible `try_new` constructors and
//! the field definitions of the frozen schema, so a drift between `Document` and
//! `schema/document.schema.json` is an `Err` (caught by the tests), never a panic.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayBuilder, ArrayRef, Int32Array, ListArray, RecordBatch, StringBuilder, StructArray,
    TimestampMillisecondArray,
};
use arrow::buffer::{OffsetBuffer, ScalarBuffer};
use arrow::datatypes::SchemaRef;

use super::schema::{list_item, list_struct_fields};
use super::Document;
use crate::error::{Error, Result};

/// Largest single document accepted. Arrow `Utf8`/`List` offsets are `i32`; batches are
/// flushed at a few MB, so one document below this bound can never overflow them.
pub(crate) const MAX_DOC_BYTES: u64 = 1 << 30;

/// A string column being filled. Arrow's builder, because it knows its bytes are UTF-8
/// (they come from `&str`) and does not check them again when the array is made, as
/// `StringArray::try_new` would.
#[derive(Default)]
struct StrCol(StringBuilder);

impl StrCol {
    fn push(&mut self, s: Option<&str>) -> Result<()> {
        // The builder panics past `i32` offsets: refuse first.
        offset(self.0.values_slice().len() + s.map_or(0, str::len))?;
        match s {
            Some(s) => self.0.append_value(s),
            None => self.0.append_null(),
        }
        Ok(())
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn finish(mut self) -> Result<ArrayRef> {
        Ok(Arc::new(self.0.finish()))
    }
}

/// Offsets of a list column (one entry per row, plus the leading zero).
struct ListOffsets(Vec<i32>);

impl Default for ListOffsets {
    fn default() -> Self {
        ListOffsets(vec![0])
    }
}

impl ListOffsets {
    fn push(&mut self, child_len: usize) -> Result<()> {
        self.0.push(offset(child_len)?);
        Ok(())
    }
    fn finish(self) -> OffsetBuffer<i32> {
        // Monotonic by construction (child lengths only grow), which `new` asserts.
        OffsetBuffer::new(ScalarBuffer::from(self.0))
    }
}

fn offset(n: usize) -> Result<i32> {
    i32::try_from(n).map_err(|_| release_err("a batch column exceeds 2 GiB"))
}

fn release_err(reason: impl Into<String>) -> Error {
    Error::Release {
        path: "<batch>".into(),
        reason: reason.into(),
    }
}

fn arrow_err(e: arrow::error::ArrowError) -> Error {
    release_err(format!("building an Arrow batch: {e}"))
}

/// Rows buffered for one `RecordBatch`.
#[derive(Default)]
pub(crate) struct DocBatch {
    rows: usize,
    /// Rough uncompressed size of the buffered rows, used to cut batches.
    bytes: u64,
    id: StrCol,
    source: StrCol,
    source_id: StrCol,
    url: StrCol,
    title: StrCol,
    byline: StrCol,
    published: Vec<Option<i64>>,
    lang: StrCol,
    text: StrCol,
    paragraph_langs: (ListOffsets, StrCol),
    captions: (ListOffsets, StrCol),
    caption_langs: (ListOffsets, StrCol),
    parallel: (ListOffsets, [StrCol; 4]),
    credit: StrCol,
    tokens: (ListOffsets, Vec<i32>),
    n_tokens: Vec<i32>,
    dup_count: Vec<i32>,
}

/// Approximate in-memory size of a document's values, for batch and row-group cutting.
pub(crate) fn doc_bytes(d: &Document) -> u64 {
    let opt = |s: &Option<String>| s.as_ref().map_or(0, |s| s.len());
    let n = d.id.len()
        + d.source.len()
        + opt(&d.source_id)
        + opt(&d.url)
        + opt(&d.title)
        + opt(&d.byline)
        + 8
        + d.lang.len()
        + d.text.len()
        + d.paragraph_langs.iter().map(|s| s.len() + 4).sum::<usize>()
        + d.captions
            .iter()
            .map(|c| c.text.len() + c.lang.len() + 8)
            .sum::<usize>()
        + d.parallel
            .iter()
            .map(|p| p.src.len() + p.tgt.len() + p.src_lang.len() + p.tgt_lang.len() + 16)
            .sum::<usize>()
        + opt(&d.credit)
        + 4 * d.tokens.len()
        // offsets and fixed-width columns of one row
        + 16 * 4;
    n as u64
}

impl DocBatch {
    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Append one document, taking it: each large value is freed as soon as it is in the
    /// columns (the token ids become the column itself when the batch is empty), so a
    /// huge document is not held twice. Fails, leaving the batch unchanged, if a value
    /// does not fit the schema (a token id or `dup_count` above `i32::MAX`, a document
    /// above [`MAX_DOC_BYTES`]).
    pub(crate) fn push(&mut self, d: Document) -> Result<()> {
        let size = doc_bytes(&d);
        if size > MAX_DOC_BYTES {
            return Err(release_err(format!(
                "document `{}` is {size} bytes, above the {MAX_DOC_BYTES} byte limit",
                d.id
            )));
        }
        // Check everything that can fail before touching any column, so a rejected
        // document never leaves the columns with different lengths.
        if d.tokens.iter().any(|&t| i32::try_from(t).is_err()) {
            return Err(release_err(format!(
                "document `{}` has a token id above {} (tokens are int32)",
                d.id,
                i32::MAX
            )));
        }
        let n_tokens = i32::try_from(d.tokens.len())
            .map_err(|_| release_err(format!("document `{}` has too many tokens", d.id)))?;
        let dup_count = i32::try_from(d.dup_count).map_err(|_| {
            release_err(format!("document `{}` has dup_count above i32::MAX", d.id))
        })?;
        let Document {
            id,
            source,
            source_id,
            url,
            title,
            byline,
            published,
            lang,
            text,
            paragraph_langs,
            captions,
            parallel,
            credit,
            tokens,
            dup_count: _,
        } = d;

        self.id.push(Some(&id))?;
        self.source.push(Some(&source))?;
        self.source_id.push(source_id.as_deref())?;
        self.url.push(url.as_deref())?;
        self.title.push(title.as_deref())?;
        self.byline.push(byline.as_deref())?;
        self.published.push(published);
        self.lang.push(Some(&lang))?;
        self.text.push(Some(&text))?;
        drop(text);

        let (offs, vals) = &mut self.paragraph_langs;
        for l in &paragraph_langs {
            vals.push(Some(l))?;
        }
        offs.push(vals.len())?;

        let (offs, vals) = &mut self.captions;
        for c in &captions {
            vals.push(Some(&c.text))?;
        }
        offs.push(vals.len())?;
        let (offs, vals) = &mut self.caption_langs;
        for c in &captions {
            vals.push(Some(&c.lang))?;
        }
        offs.push(vals.len())?;

        let (offs, [src_lang, src, tgt_lang, tgt]) = &mut self.parallel;
        for p in &parallel {
            src_lang.push(Some(&p.src_lang))?;
            src.push(Some(&p.src))?;
            tgt_lang.push(Some(&p.tgt_lang))?;
            tgt.push(Some(&p.tgt))?;
        }
        offs.push(src_lang.len())?;

        self.credit.push(credit.as_deref())?;
        // Checked above; same size and alignment, so this converts in place.
        let tokens: Vec<i32> = tokens.into_iter().map(|t| t as i32).collect();
        let (offs, vals) = &mut self.tokens;
        if vals.is_empty() {
            *vals = tokens;
        } else {
            vals.extend_from_slice(&tokens);
        }
        offs.push(vals.len())?;
        self.n_tokens.push(n_tokens);
        self.dup_count.push(dup_count);

        self.rows += 1;
        self.bytes += size;
        Ok(())
    }

    /// Build the `RecordBatch` (in schema column order) and reset the buffer.
    pub(crate) fn take(&mut self, schema: &SchemaRef) -> Result<RecordBatch> {
        let b = std::mem::take(self);
        let list = |col: &str, offsets: ListOffsets, values: ArrayRef| -> Result<ArrayRef> {
            let arr = ListArray::try_new(list_item(schema, col)?, offsets.finish(), values, None)
                .map_err(arrow_err)?;
            Ok(Arc::new(arr))
        };
        let structs = |col: &str, cols: Vec<StrCol>| -> Result<ArrayRef> {
            let arrays = cols
                .into_iter()
                .map(StrCol::finish)
                .collect::<Result<Vec<_>>>()?;
            let fields = list_struct_fields(schema, col)?;
            let arr = StructArray::try_new(fields, arrays, None).map_err(arrow_err)?;
            Ok(Arc::new(arr))
        };

        let (pl_offs, pl_vals) = b.paragraph_langs;
        let (cap_offs, cap_vals) = b.captions;
        let (cl_offs, cl_vals) = b.caption_langs;
        let (par_offs, par_cols) = b.parallel;
        let (tok_offs, tok_vals) = b.tokens;
        let columns: Vec<ArrayRef> = vec![
            b.id.finish()?,
            b.source.finish()?,
            b.source_id.finish()?,
            b.url.finish()?,
            b.title.finish()?,
            b.byline.finish()?,
            Arc::new(TimestampMillisecondArray::from(b.published)),
            b.lang.finish()?,
            b.text.finish()?,
            list("paragraph_langs", pl_offs, pl_vals.finish()?)?,
            list("captions", cap_offs, cap_vals.finish()?)?,
            list("caption_langs", cl_offs, cl_vals.finish()?)?,
            list("parallel", par_offs, structs("parallel", par_cols.into())?)?,
            b.credit.finish()?,
            list("tokens", tok_offs, Arc::new(Int32Array::from(tok_vals)))?,
            Arc::new(Int32Array::from(b.n_tokens)),
            Arc::new(Int32Array::from(b.dup_count)),
        ];
        RecordBatch::try_new(schema.clone(), columns).map_err(arrow_err)
    }
}

/// Uncompressed Arrow size of a batch's values (what a reader holds in memory), reported
/// as `num_bytes` in the dataset card.
pub(crate) fn batch_arrow_bytes(batch: &RecordBatch) -> u64 {
    batch
        .columns()
        .iter()
        .map(|c| c.to_data().get_slice_memory_size().unwrap_or(0) as u64)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::schema::document_schema;
    use crate::release::{Caption, ParallelPair};

    #[test]
    fn empty_and_full_rows_build() {
        let schema = document_schema().unwrap().arrow.clone();
        let mut b = DocBatch::default();
        assert_eq!(b.take(&schema).unwrap().num_rows(), 0);
        b.push(Document::default()).unwrap();
        b.push(Document {
            id: "x".into(),
            source_id: Some("s".into()),
            published: Some(-5),
            paragraph_langs: vec!["en".into()],
            captions: vec![Caption {
                text: "c".into(),
                lang: "en".into(),
            }],
            parallel: vec![ParallelPair {
                src_lang: "en".into(),
                src: "a".into(),
                tgt_lang: "fr".into(),
                tgt: "b".into(),
            }],
            tokens: vec![1, 2, 3],
            dup_count: 2,
            ..Document::default()
        })
        .unwrap();
        let batch = b.take(&schema).unwrap();
        assert_eq!(batch.num_rows(), 2);
        assert!(batch_arrow_bytes(&batch) > 0);
        assert_eq!(b.rows(), 0);
    }

    #[test]
    fn the_first_documents_token_ids_become_the_column_without_a_copy() {
        let tokens: Vec<u32> = (0..1000).collect();
        let at = tokens.as_ptr() as usize;
        let mut b = DocBatch::default();
        b.push(Document {
            tokens,
            ..Document::default()
        })
        .unwrap();
        assert_eq!(b.tokens.1.as_ptr() as usize, at);
        b.push(Document {
            tokens: vec![7, 8],
            ..Document::default()
        })
        .unwrap();
        assert_eq!(b.tokens.0 .0, [0, 1000, 1002]);
        assert_eq!(b.tokens.1[999..], [999, 7, 8]);
    }

    #[test]
    fn out_of_range_values_are_errors_and_leave_the_batch_consistent() {
        let schema = document_schema().unwrap().arrow.clone();
        let mut b = DocBatch::default();
        let bad = Document {
            tokens: vec![u32::MAX],
            ..Document::default()
        };
        assert!(b.push(bad).is_err());
        let bad = Document {
            dup_count: u32::MAX,
            ..Document::default()
        };
        assert!(b.push(bad).is_err());
        b.push(Document::default()).unwrap();
        assert_eq!(b.take(&schema).unwrap().num_rows(), 1);
    }
}
