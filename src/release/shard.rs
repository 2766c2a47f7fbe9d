//! One split's Parquet shards: documents are buffered into Arrow batches, batches into
//! row groups, row groups into shard files. Shards are written under temporary names;
//! the final name (which contains the shard count and the file's own hash) is only known
//! once the whole split is written.

use std::io::Write;
use std::path::{Path, PathBuf};

use arrow::array::ArrayRef;
use arrow::datatypes::SchemaRef;
use parquet::arrow::arrow_writer::{compute_leaves, ArrowColumnWriter, ArrowRowGroupWriterFactory};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::errors::{ParquetError, Result as PqResult};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::ColumnPath;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::batch::{batch_arrow_bytes, DocBatch};
use super::{Document, FORMAT_VERSION};
use crate::config::ReleaseConfig;
use crate::error::{Error, Result};

/// zstd level: 3 is zstd's own default, a good size/speed balance. Fixed, because the
/// level changes the bytes and releases must be reproducible.
const ZSTD_LEVEL: i32 = 3;
/// A batch is handed to the Parquet writer after this many rows or bytes. Small enough to
/// bound memory, large enough that per-batch overhead does not matter.
const BATCH_ROWS: usize = 4096;
const BATCH_BYTES: u64 = 8 << 20;
/// Columns whose values are (nearly) unique per row: a dictionary would only cost time
/// before the writer falls back to plain encoding.
const NO_DICTIONARY: &[&str] = &["id", "url", "text", "title"];

/// The Parquet writer settings for a shard of `split`. Everything that ends up in the file
/// is fixed here, so the same rows always give the same bytes.
pub(crate) fn writer_properties(split: &str, schema_sha256: &str) -> Result<WriterProperties> {
    let zstd = ZstdLevel::try_new(ZSTD_LEVEL).map_err(|e| Error::Parquet {
        path: PathBuf::new(),
        reason: e.to_string(),
    })?;
    let mut b = WriterProperties::builder()
        .set_compression(Compression::ZSTD(zstd))
        // Page-level statistics give readers a column index for page skipping.
        .set_statistics_enabled(EnabledStatistics::Page)
        // A fixed string: the parquet-rs default names the library version, which would
        // change bytes on a dependency bump without any change in quire.
        .set_created_by(format!("quire version {}", crate::TOOL_VERSION))
        // Row groups are cut by size below, never by the library's row-count default.
        .set_max_row_group_row_count(None)
        .set_key_value_metadata(Some(vec![
            KeyValue::new("quire.format_version".into(), FORMAT_VERSION.to_string()),
            KeyValue::new("quire.tool_version".into(), crate::TOOL_VERSION.to_string()),
            KeyValue::new("quire.schema".into(), schema_sha256.to_string()),
            KeyValue::new("quire.split".into(), split.to_string()),
        ]));
    for col in NO_DICTIONARY {
        b = b.set_column_dictionary_enabled(ColumnPath::from(*col), false);
    }
    // Minimum and maximum of the article text serve no reader (nobody prunes pages by a
    // text range), and the writer keeps both as whole copies of a value until the column
    // chunk closes: two more copies of a huge document while it is encoded.
    b = b.set_column_statistics_enabled(ColumnPath::from("text"), EnabledStatistics::None);
    // Token ids: plain little-endian integers compress smaller under zstd than dictionary
    // indices do (the vocabulary is large; each column chunk would carry its own
    // dictionary): the whole-corpus tokens column is 47.4 MB instead of 49.5 MB.
    let tokens = ColumnPath::new(vec!["tokens".into(), "list".into(), "item".into()]);
    b = b.set_column_dictionary_enabled(tokens, false);
    Ok(b.build())
}

/// A file writer that hashes and counts what passes through it, so a finished shard's
/// sha256 is known without reading it back.
struct HashingFile {
    file: std::fs::File,
    hasher: Sha256,
    bytes: u64,
}

impl Write for HashingFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// A shard written to its temporary path, fsynced, waiting for its final name.
#[derive(Debug, Clone)]
pub(crate) struct FinishedShard {
    pub temp_path: PathBuf,
    pub rows: u64,
    pub tokens: u64,
    pub bytes: u64,
    pub sha256: String,
    /// Uncompressed Arrow size of the rows (dataset card `num_bytes`).
    pub arrow_bytes: u64,
}

/// A Parquet file being written, one row group at a time, column by column.
///
/// This is what `ArrowWriter` does (the same calls, so the same bytes), but a batch's
/// columns are taken by value and each is freed as soon as it is encoded. A batch that
/// is one huge document would otherwise keep its text alive while the token ids (the
/// largest column to encode) go through the writer.
struct ParquetFile {
    file: SerializedFileWriter<HashingFile>,
    factory: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
    /// The row group being written: one writer per leaf column.
    row_group: Option<Vec<ArrowColumnWriter>>,
}

impl ParquetFile {
    fn create(sink: HashingFile, schema: SchemaRef, props: WriterProperties) -> PqResult<Self> {
        // The file writer and its factory as `ArrowWriter` sets them up (schema
        // conversion, the embedded Arrow schema): nothing of ArrowWriter's is buffered yet.
        let (file, factory) =
            ArrowWriter::try_new(sink, schema.clone(), Some(props))?.into_serialized_writer()?;
        Ok(ParquetFile {
            file,
            factory,
            schema,
            row_group: None,
        })
    }

    /// Encode one batch's columns (in schema order) into the current row group. With
    /// `parallel`, the columns are encoded on the worker threads at once (each column
    /// chunk has its own writer and buffers, so the bytes are the same); otherwise one
    /// after another, each freed as soon as it is encoded.
    fn write(&mut self, columns: Vec<ArrayRef>, parallel: bool) -> PqResult<()> {
        let writers = match &mut self.row_group {
            Some(writers) => writers,
            slot => slot.insert(
                self.factory
                    .create_column_writers(self.file.flushed_row_groups().len())?,
            ),
        };
        let too_many = || ParquetError::General("more leaf columns than column writers".into());
        let mut writers = writers.iter_mut();
        if parallel {
            let mut jobs = Vec::with_capacity(writers.len());
            for (field, column) in self.schema.fields().iter().zip(&columns) {
                for leaf in compute_leaves(field, column)? {
                    jobs.push((writers.next().ok_or_else(too_many)?, leaf));
                }
            }
            // Text and token ids are nearly all the work: one job each, one per thread.
            return jobs
                .into_par_iter()
                .with_max_len(1)
                .try_for_each(|(writer, leaf)| writer.write(&leaf));
        }
        for (field, column) in self.schema.fields().iter().zip(columns) {
            for leaf in compute_leaves(field, &column)? {
                writers.next().ok_or_else(too_many)?.write(&leaf)?;
            }
            // `column` (the batch's only reference to it) is freed here.
        }
        Ok(())
    }

    /// Encoded size of the row group so far (what `ArrowWriter::in_progress_size` says).
    fn in_progress_size(&self) -> usize {
        self.row_group
            .iter()
            .flatten()
            .map(|w| w.get_estimated_total_bytes())
            .sum()
    }

    /// Write the buffered row group, if any, to the file.
    fn flush(&mut self) -> PqResult<()> {
        let Some(writers) = self.row_group.take() else {
            return Ok(());
        };
        let mut row_group = self.file.next_row_group()?;
        for writer in writers {
            writer.close()?.append_to_row_group(&mut row_group)?;
        }
        row_group.close()?;
        Ok(())
    }

    /// Flush, write the footer and give back the sink.
    fn into_inner(mut self) -> PqResult<HashingFile> {
        self.flush()?;
        self.file.into_inner()
    }
}

struct OpenShard {
    writer: ParquetFile,
    path: PathBuf,
    batch: DocBatch,
    rows: u64,
    tokens: u64,
    arrow_bytes: u64,
    row_groups: usize,
    /// Uncompressed bytes handed to the current row group.
    row_group_bytes: u64,
}

/// Writes the shards of one split.
pub(crate) struct SplitWriter {
    split: String,
    data_dir: PathBuf,
    schema: SchemaRef,
    schema_sha256: String,
    row_group_bytes: u64,
    row_groups_per_shard: usize,
    open: Option<OpenShard>,
    finished: Vec<FinishedShard>,
}

impl SplitWriter {
    pub(crate) fn new(
        split: &str,
        data_dir: &Path,
        schema: SchemaRef,
        schema_sha256: &str,
        cfg: &ReleaseConfig,
    ) -> Self {
        SplitWriter {
            split: split.to_string(),
            data_dir: data_dir.to_path_buf(),
            schema,
            schema_sha256: schema_sha256.to_string(),
            row_group_bytes: cfg.row_group_bytes,
            row_groups_per_shard: cfg.row_groups_per_shard,
            open: None,
            finished: Vec::new(),
        }
    }

    fn open_shard(&mut self) -> Result<OpenShard> {
        // Temporary names are hidden and never match the final pattern; a build killed
        // here leaves them only inside the `.tmp-` directory.
        let path = self.data_dir.join(format!(
            ".partial-{}-{:05}.parquet",
            self.split,
            self.finished.len()
        ));
        let file = std::fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
        let props = writer_properties(&self.split, &self.schema_sha256)?;
        let sink = HashingFile {
            file,
            hasher: Sha256::new(),
            bytes: 0,
        };
        let writer = ParquetFile::create(sink, self.schema.clone(), props)
            .map_err(|e| parquet_err(&path, e))?;
        Ok(OpenShard {
            writer,
            path,
            batch: DocBatch::default(),
            rows: 0,
            tokens: 0,
            arrow_bytes: 0,
            row_groups: 0,
            row_group_bytes: 0,
        })
    }

    pub(crate) fn write(&mut self, doc: Document) -> Result<()> {
        if self.open.is_none() {
            let shard = self.open_shard()?;
            self.open = Some(shard);
        }
        let Some(shard) = self.open.as_mut() else {
            return Ok(()); // just set above
        };
        let tokens = doc.tokens.len() as u64;
        shard.batch.push(doc)?;
        shard.rows += 1;
        shard.tokens += tokens;
        let batch_bytes = BATCH_BYTES.min(self.row_group_bytes);
        if shard.batch.rows() < BATCH_ROWS && shard.batch.bytes() < batch_bytes {
            return Ok(());
        }
        write_batch(&self.schema, shard)?;
        // The row-group size is checked only after whole batches, so a row group
        // overshoots its target by at most one batch. `row_group_bytes` counts the
        // uncompressed Arrow bytes; the writer's own (encoded) estimate is a backstop.
        let in_progress = shard.writer.in_progress_size() as u64;
        if shard.row_group_bytes < self.row_group_bytes && in_progress < self.row_group_bytes {
            return Ok(());
        }
        shard
            .writer
            .flush()
            .map_err(|e| parquet_err(&shard.path, e))?;
        shard.row_groups += 1;
        shard.row_group_bytes = 0;
        if shard.row_groups >= self.row_groups_per_shard {
            if let Some(shard) = self.open.take() {
                self.finished.push(close(shard)?);
            }
        }
        Ok(())
    }

    /// Close the open shard (if any) and return every shard of the split, in order.
    pub(crate) fn finish(mut self) -> Result<Vec<FinishedShard>> {
        if let Some(mut shard) = self.open.take() {
            write_batch(&self.schema, &mut shard)?;
            let done = close(shard)?;
            self.finished.push(done);
        }
        Ok(self.finished)
    }
}

fn write_batch(schema: &SchemaRef, shard: &mut OpenShard) -> Result<()> {
    if shard.batch.rows() == 0 {
        return Ok(());
    }
    let batch = shard.batch.take(schema)?;
    let size = batch_arrow_bytes(&batch);
    shard.arrow_bytes += size;
    shard.row_group_bytes += size;
    let (_, columns, _) = batch.into_parts();
    // An ordinary batch (up to BATCH_BYTES and one document) is encoded column by column
    // in parallel; a batch of one huge document one column at a time, to hold less.
    let parallel = size <= 2 * BATCH_BYTES;
    shard
        .writer
        .write(columns, parallel)
        .map_err(|e| parquet_err(&shard.path, e))
}

/// Write the footer, fsync, and record size and hash.
fn close(shard: OpenShard) -> Result<FinishedShard> {
    let OpenShard {
        writer,
        path,
        rows,
        tokens,
        arrow_bytes,
        ..
    } = shard;
    let mut sink = writer.into_inner().map_err(|e| parquet_err(&path, e))?;
    sink.flush().map_err(|e| Error::io(&path, e))?;
    sink.file.sync_all().map_err(|e| Error::io(&path, e))?;
    Ok(FinishedShard {
        temp_path: path,
        rows,
        tokens,
        bytes: sink.bytes,
        sha256: hex::encode(sink.hasher.finalize()),
        arrow_bytes,
    })
}

fn parquet_err(path: &Path, e: parquet::errors::ParquetError) -> Error {
    Error::Parquet {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::schema::document_schema;
    use crate::release::test_support::sample_docs;

    fn sink(dir: &Path, name: &str) -> HashingFile {
        HashingFile {
            file: std::fs::File::create(dir.join(name)).unwrap(),
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// The sample documents in batches of two.
    fn batches(schema: &SchemaRef) -> Vec<arrow::array::RecordBatch> {
        let docs: Vec<Document> = sample_docs().into_iter().map(|(_, d)| d).collect();
        docs.chunks(2)
            .map(|chunk| {
                let mut b = DocBatch::default();
                for d in chunk {
                    b.push(d.clone()).unwrap();
                }
                b.take(schema).unwrap()
            })
            .collect()
    }

    #[test]
    fn column_by_column_writes_the_bytes_arrow_writer_writes() {
        let dir = tempfile::tempdir().unwrap();
        let schema = document_schema().unwrap().arrow.clone();
        let props = || writer_properties("train", "abc").unwrap();
        let batches = batches(&schema);
        assert!(batches.len() >= 3);

        // One column at a time, all at once on a pool of threads, and alternately.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        for (name, parallel) in [
            ("serial", [false; 2]),
            ("parallel", [true; 2]),
            ("mixed", [true, false]),
        ] {
            let mut ours =
                ParquetFile::create(sink(dir.path(), name), schema.clone(), props()).unwrap();
            let theirs_name = format!("theirs-{name}");
            let mut theirs = ArrowWriter::try_new(
                sink(dir.path(), &theirs_name),
                schema.clone(),
                Some(props()),
            )
            .unwrap();
            for (i, batch) in batches.iter().enumerate() {
                pool.install(|| ours.write(batch.columns().to_vec(), parallel[i % 2]))
                    .unwrap();
                theirs.write(batch).unwrap();
                assert_eq!(ours.in_progress_size(), theirs.in_progress_size());
                if i == 0 {
                    ours.flush().unwrap();
                    theirs.flush().unwrap();
                }
            }
            let ours = ours.into_inner().unwrap();
            let theirs = theirs.into_inner().unwrap();
            assert_eq!(ours.bytes, theirs.bytes);
            let read = |name: &str| std::fs::read(dir.path().join(name)).unwrap();
            assert_eq!(read(name), read(&theirs_name), "{name}");
            assert_eq!(ours.hasher.finalize(), Sha256::digest(read(name)));
        }
    }
}
