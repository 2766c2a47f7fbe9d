//! Input discovery, reading and decoding: files on disk → [`RawDoc`]s.
//!
//! Three steps with different costs, so the pipeline can run them differently:
//! [`discover`] walks the inputs once (sorted, safe against symlink escapes and loops),
//! [`open`] streams the [`Unit`]s of one file sequentially (a `.txt` is one unit, a `.jsonl`
//! one per line; decompression with a size cap happens here), and [`decode`] turns one unit
//! into a [`RawDoc`] (encoding detection, NFC, control-character stripping, entities). `decode`
//! is pure and is what runs in parallel.
//!
//! Nothing here fails the build: a bad input becomes a [`Rejection`] with a reason.

use serde::Serialize;
use std::path::PathBuf;

use crate::config::SourceConfig;
use crate::error::Result;

mod decode;
mod document;
mod read;
mod sanitize;
mod vietnamese;
mod walk;

/// How an input file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Format {
    /// One article per file, title on the first line.
    Text,
    /// One JSON object per line: `id`, `text`, optional `title`, `url`, `published`/`date`, `byline`.
    Jsonl,
}

/// Compression wrapping an input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// One regular file found under an input root.
#[derive(Debug, Clone)]
pub struct InputFile {
    /// Path to open. For a followed symlink this is the resolved target inside the root,
    /// so nothing can redirect the read between [`discover`] and [`open`].
    pub path: PathBuf,
    /// Stable display name: the path relative to the input root's parent-independent name,
    /// `/`-separated, with bytes that are not printable UTF-8 escaped. Never absolute.
    pub source: String,
    pub format: Format,
    pub compression: Compression,
    /// Size on disk in bytes.
    pub bytes: u64,
}

/// The result of walking the inputs.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Files to read, in a deterministic order.
    pub files: Vec<InputFile>,
    /// Entries skipped or rejected during the walk (FIFOs, symlinks leaving the root, loops,
    /// unreadable directories, unsupported extensions, …).
    pub problems: Vec<Rejection>,
}

/// Raw bytes of one article, before decoding.
#[derive(Debug, Clone)]
pub enum Unit {
    /// A whole `.txt` article.
    Text { source: String, bytes: Vec<u8> },
    /// One line of a `.jsonl` file (1-based line number).
    JsonLine {
        source: String,
        line: u64,
        bytes: Vec<u8>,
    },
}

/// A decoded article with whatever metadata the input carried.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawDoc {
    /// Where it came from: the file's display name, plus `#L<line>` for JSONL records.
    pub source: String,
    /// The input's own id (JSONL `id`), if any.
    pub source_id: Option<String>,
    pub url: Option<String>,
    pub title: Option<String>,
    /// As printed by the input (JSONL `published` or `date`), unparsed.
    pub published: Option<String>,
    pub byline: Option<String>,
    /// The article text: NFC, `\n` line endings, no control/zero-width/bidi characters,
    /// HTML entities unescaped once. For `.txt` inputs the first line is the title.
    pub text: String,
    pub format: Option<Format>,
    /// Repairs made while decoding (e.g. "replaced 15 invalid UTF-8 bytes"); each is reported.
    pub notes: Vec<String>,
    /// Input bytes this document was decoded from.
    pub bytes: u64,
}

/// Why an input produced no document. `skip` = nothing to do (empty, not an article);
/// `reject` = something is wrong with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    // skipped
    Empty,
    NotRegularFile,
    SymlinkOutsideRoot,
    SymlinkLoop,
    DanglingSymlink,
    UnsupportedExtension,
    // rejected
    Unreadable,
    Binary,
    UndecodableEncoding,
    LegacyVietnameseEncoding,
    TooLarge,
    DecompressedTooLarge,
    CorruptCompressed,
    InvalidJson,
    MissingText,
    /// quire failed on the article (a bug, caught so the rest of the corpus still builds).
    InternalError,
}

impl RejectReason {
    /// Stable snake_case key used in the manifest and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::Empty => "empty",
            RejectReason::NotRegularFile => "not_regular_file",
            RejectReason::SymlinkOutsideRoot => "symlink_outside_root",
            RejectReason::SymlinkLoop => "symlink_loop",
            RejectReason::DanglingSymlink => "dangling_symlink",
            RejectReason::UnsupportedExtension => "unsupported_extension",
            RejectReason::Unreadable => "unreadable",
            RejectReason::Binary => "binary",
            RejectReason::UndecodableEncoding => "undecodable_encoding",
            RejectReason::LegacyVietnameseEncoding => "legacy_vietnamese_encoding",
            RejectReason::TooLarge => "too_large",
            RejectReason::DecompressedTooLarge => "decompressed_too_large",
            RejectReason::CorruptCompressed => "corrupt_compressed",
            RejectReason::InvalidJson => "invalid_json",
            RejectReason::MissingText => "missing_text",
            RejectReason::InternalError => "internal_error",
        }
    }

    /// Skips are benign (nothing to build from); rejects point at a broken input.
    pub fn is_skip(self) -> bool {
        matches!(
            self,
            RejectReason::Empty
                | RejectReason::NotRegularFile
                | RejectReason::SymlinkOutsideRoot
                | RejectReason::SymlinkLoop
                | RejectReason::DanglingSymlink
                | RejectReason::UnsupportedExtension
        )
    }
}

/// An input that produced no document, with the reason and a one-line explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub source: String,
    pub reason: RejectReason,
    pub detail: String,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verb = if self.reason.is_skip() {
            "skipped"
        } else {
            "rejected"
        };
        write!(
            f,
            "{verb} `{}` ({}): {}",
            self.source,
            self.reason.as_str(),
            self.detail
        )
    }
}

/// Walk the inputs. Errors only when an input root itself does not exist.
///
/// Directories are walked depth-first with entries sorted by the raw bytes of their names.
/// Symlinks are followed only to targets inside the (canonicalized) root; loops, dangling
/// links, FIFOs/sockets/devices, unreadable directories and unsupported extensions become
/// [`Rejection`]s in [`Discovery::problems`].
pub fn discover(inputs: &[PathBuf]) -> Result<Discovery> {
    walk::discover(inputs)
}

/// Stream the units of one file. Read errors, size caps and corrupt compression come out as
/// `Err(Rejection)` items; after one, the iterator ends.
///
/// The file is opened on the first `next()`. A `.txt` yields one unit (at most
/// `max_doc_bytes` are buffered); a `.jsonl` yields one unit per non-blank line, streamed,
/// with over-long lines rejected individually (the iterator goes on after those).
pub fn open(
    file: &InputFile,
    cfg: &SourceConfig,
) -> Box<dyn Iterator<Item = std::result::Result<Unit, Rejection>> + Send> {
    Box::new(read::open(file, cfg))
}

/// Decode one unit into a document, or say why it cannot be one.
///
/// Pure: byte decoding (BOM, UTF-16, UTF-8 with repair, detected legacy encodings incl.
/// TCVN3/VNI), then cleaning (entities once, line endings, controls, zero-width/bidi,
/// NFC). Every repair is listed in [`RawDoc::notes`].
pub fn decode(unit: Unit, cfg: &SourceConfig) -> std::result::Result<RawDoc, Rejection> {
    document::decode_unit(unit, cfg)
}

/// Render raw file-name bytes for display the way [`InputFile::source`] does: invalid
/// UTF-8 as `\xE9`, controls as `\n`/`\x01`, invisible format characters as `\u{202E}`,
/// and `\` doubled.
pub fn escape_name(bytes: &[u8]) -> String {
    walk::escape_bytes(bytes)
}
