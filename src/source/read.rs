//! Streaming the units of one file: open safely, decompress with a size cap, split JSONL
//! into lines in bounded memory.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read};

use super::walk::os_message;
use super::{Compression, Format, InputFile, RejectReason, Rejection, Unit};
use crate::config::SourceConfig;

/// Iterator over the units of one file; see [`super::open`]. Opens the file lazily, on the
/// first `next()`, so holding many of these costs no file descriptors.
pub(crate) struct Units {
    file: InputFile,
    max_doc: u64,
    max_decompressed: u64,
    state: State,
}

enum State {
    Pending,
    Lines(LineReader),
    Done,
}

pub(crate) fn open(file: &InputFile, cfg: &SourceConfig) -> Units {
    Units {
        file: file.clone(),
        max_doc: cfg.max_doc_bytes,
        max_decompressed: cfg.max_decompressed_bytes,
        state: State::Pending,
    }
}

impl Iterator for Units {
    type Item = Result<Unit, Rejection>;

    fn next(&mut self) -> Option<Self::Item> {
        if let State::Pending = self.state {
            let reader = match self.open_reader() {
                Ok(r) => r,
                Err(rej) => {
                    self.state = State::Done;
                    return Some(Err(rej));
                }
            };
            match self.file.format {
                Format::Text => {
                    self.state = State::Done;
                    return Some(self.read_text(reader));
                }
                Format::Jsonl => {
                    self.state = State::Lines(LineReader {
                        reader: BufReader::with_capacity(64 << 10, reader),
                        line: 0,
                        buf: Vec::new(),
                    });
                }
            }
        }
        let item = match &mut self.state {
            State::Lines(lines) => lines.next_line(self.max_doc),
            _ => return None,
        };
        match item {
            None => {
                self.state = State::Done;
                None
            }
            Some(Ok(Line::Unit(line, bytes))) => Some(Ok(Unit::JsonLine {
                source: self.file.source.clone(),
                line,
                bytes,
            })),
            Some(Ok(Line::TooLong(line))) => Some(Err(Rejection {
                source: format!("{}#L{line}", self.file.source),
                reason: RejectReason::TooLarge,
                detail: format!("line longer than max_doc_bytes ({} bytes)", self.max_doc),
            })),
            Some(Err(e)) => {
                self.state = State::Done;
                Some(Err(self.read_error(e)))
            }
        }
    }
}

type Reader = Box<dyn Read + Send>;

impl Units {
    fn reject(&self, reason: RejectReason, detail: String) -> Rejection {
        Rejection {
            source: self.file.source.clone(),
            reason,
            detail,
        }
    }

    fn open_reader(&self) -> Result<Reader, Rejection> {
        let file = open_regular(&self.file.path).map_err(|e| match e.get_ref() {
            Some(inner) if inner.is::<NotRegular>() => {
                self.reject(RejectReason::NotRegularFile, e.to_string())
            }
            _ => self.reject(RejectReason::Unreadable, os_message(&e)),
        })?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        if self.file.compression == Compression::None
            && self.file.format == Format::Text
            && len > self.max_doc
        {
            // Refused from the size on disk, before reading anything.
            return Err(self.too_large());
        }
        let file = TaggedFile(file);
        Ok(match self.file.compression {
            Compression::None => Box::new(file),
            Compression::Gzip => Box::new(Capped::new(
                flate2::read::MultiGzDecoder::new(BufReader::new(file)),
                self.max_decompressed,
            )),
            Compression::Zstd => {
                let decoder = zstd::stream::read::Decoder::new(file).map_err(|e| {
                    self.reject(
                        RejectReason::Unreadable,
                        format!("cannot start zstd decoder: {e}"),
                    )
                })?;
                Box::new(Capped::new(decoder, self.max_decompressed))
            }
        })
    }

    fn too_large(&self) -> Rejection {
        self.reject(
            RejectReason::TooLarge,
            format!("larger than max_doc_bytes ({} bytes)", self.max_doc),
        )
    }

    /// A whole `.txt`: at most `max_doc + 1` bytes are ever buffered.
    fn read_text(&self, reader: Reader) -> Result<Unit, Rejection> {
        let initial = match self.file.compression {
            Compression::None => self.file.bytes.min(self.max_doc) as usize + 1,
            _ => 64 << 10,
        };
        let mut bytes = Vec::with_capacity(initial);
        reader
            .take(self.max_doc.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| self.read_error(e))?;
        if bytes.len() as u64 > self.max_doc {
            return Err(self.too_large());
        }
        Ok(Unit::Text {
            source: self.file.source.clone(),
            bytes,
        })
    }

    fn read_error(&self, e: io::Error) -> Rejection {
        if let Some(inner) = e.get_ref() {
            if inner.is::<CapExceeded>() {
                return self.reject(
                    RejectReason::DecompressedTooLarge,
                    format!(
                        "decompresses to more than max_decompressed_bytes ({} bytes)",
                        self.max_decompressed
                    ),
                );
            }
            if let Some(FileError(os)) = inner.downcast_ref::<FileError>() {
                return self.reject(RejectReason::Unreadable, os.clone());
            }
        }
        match self.file.compression {
            Compression::None => self.reject(RejectReason::Unreadable, os_message(&e)),
            Compression::Gzip => self.reject(
                RejectReason::CorruptCompressed,
                format!("corrupt or truncated gzip stream: {e}"),
            ),
            Compression::Zstd => self.reject(
                RejectReason::CorruptCompressed,
                format!("corrupt or truncated zstd stream: {e}"),
            ),
        }
    }
}

/// The path turned out not to be a regular file when opened.
#[derive(Debug)]
struct NotRegular;

impl fmt::Display for NotRegular {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a regular file (changed since the walk?)")
    }
}

impl std::error::Error for NotRegular {}

/// Open for reading without ever blocking: a FIFO swapped in after the walk would
/// otherwise hang `open()` forever. The type is checked on the open descriptor.
fn open_regular(path: &std::path::Path) -> io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK);
    }
    let file = opts.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::other(NotRegular));
    }
    Ok(file)
}

/// An I/O error from the file itself, as opposed to one made by the decompressor.
#[derive(Debug)]
struct FileError(String);

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FileError {}

/// Marks read errors of the underlying file so they are not reported as corrupt
/// compression when they surface through a decoder.
struct TaggedFile(File);

impl Read for TaggedFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(|e| {
            if e.kind() == io::ErrorKind::Interrupted {
                e
            } else {
                io::Error::new(e.kind(), FileError(e.to_string()))
            }
        })
    }
}

/// The decompressed stream went past `max_decompressed_bytes`.
#[derive(Debug)]
struct CapExceeded;

impl fmt::Display for CapExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("decompressed size cap exceeded")
    }
}

impl std::error::Error for CapExceeded {}

/// Passes through at most `cap` bytes, then fails if the stream has more: reading stops at
/// the cap, so a decompression bomb never expands past it.
struct Capped<R> {
    inner: R,
    remaining: u64,
}

impl<R: Read> Capped<R> {
    fn new(inner: R, cap: u64) -> Self {
        Capped {
            inner,
            remaining: cap,
        }
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.remaining == 0 {
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::other(CapExceeded)),
            };
        }
        let max = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..max])?;
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// One step of JSONL splitting.
enum Line {
    /// A non-blank line (1-based number, bytes without the line ending).
    Unit(u64, Vec<u8>),
    /// A line over the size cap; it was read past without being kept.
    TooLong(u64),
}

struct LineReader {
    reader: BufReader<Reader>,
    line: u64,
    buf: Vec<u8>,
}

impl LineReader {
    /// Next non-blank line. Never holds more than `max_doc` bytes of one line.
    fn next_line(&mut self, max_doc: u64) -> Option<io::Result<Line>> {
        loop {
            self.buf.clear();
            let mut len: u64 = 0;
            let mut too_long = false;
            let mut any = false;
            loop {
                let avail = match self.reader.fill_buf() {
                    Ok(a) => a,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Some(Err(e)),
                };
                if avail.is_empty() {
                    if !any {
                        return None;
                    }
                    break;
                }
                any = true;
                let (take, newline) = match avail.iter().position(|&b| b == b'\n') {
                    Some(p) => (p, true),
                    None => (avail.len(), false),
                };
                len += take as u64;
                if !too_long {
                    if len > max_doc {
                        too_long = true;
                        self.buf = Vec::new();
                    } else {
                        self.buf.extend_from_slice(&avail[..take]);
                    }
                }
                self.reader.consume(take + usize::from(newline));
                if newline {
                    break;
                }
            }
            self.line += 1;
            if too_long {
                return Some(Ok(Line::TooLong(self.line)));
            }
            if self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
            if self.buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Some(Ok(Line::Unit(self.line, std::mem::take(&mut self.buf))));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{open as open_units, Compression, Format, InputFile};
    use super::*;
    use std::io::Write;
    use std::path::Path;

    fn input(path: &Path, format: Format, compression: Compression) -> InputFile {
        InputFile {
            path: path.to_path_buf(),
            source: "dir/file".to_string(),
            format,
            compression,
            bytes: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
        }
    }

    fn cfg(max_doc: u64, max_decompressed: u64) -> SourceConfig {
        SourceConfig {
            max_doc_bytes: max_doc,
            max_decompressed_bytes: max_decompressed,
        }
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn collect(file: &InputFile, cfg: &SourceConfig) -> Vec<Result<Unit, Rejection>> {
        open_units(file, cfg).collect()
    }

    fn text_of(item: &Result<Unit, Rejection>) -> &[u8] {
        match item {
            Ok(Unit::Text { bytes, .. }) => bytes,
            other => panic!("{other:?}"),
        }
    }

    fn reason(item: &Result<Unit, Rejection>) -> RejectReason {
        match item {
            Err(r) => r.reason,
            Ok(u) => panic!("unit {u:?}"),
        }
    }

    #[test]
    fn plain_text_is_one_unit() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("a.txt");
        std::fs::write(&p, b"Title\n\nBody\n").unwrap();
        let items = collect(
            &input(&p, Format::Text, Compression::None),
            &SourceConfig::default(),
        );
        assert_eq!(items.len(), 1);
        assert_eq!(text_of(&items[0]), b"Title\n\nBody\n");
    }

    #[test]
    fn text_over_the_cap_is_too_large() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("a.txt");
        std::fs::write(&p, vec![b'a'; 101]).unwrap();
        let items = collect(&input(&p, Format::Text, Compression::None), &cfg(100, 1000));
        assert_eq!(reason(&items[0]), RejectReason::TooLarge);
        let items = collect(&input(&p, Format::Text, Compression::None), &cfg(101, 1000));
        assert_eq!(text_of(&items[0]).len(), 101);
    }

    #[test]
    fn gzip_single_and_multi_member() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("a.txt.gz");
        let mut data = gzip(b"first half, ");
        data.extend(gzip(b"second half"));
        std::fs::write(&p, data).unwrap();
        let items = collect(
            &input(&p, Format::Text, Compression::Gzip),
            &SourceConfig::default(),
        );
        assert_eq!(text_of(&items[0]), b"first half, second half");
    }

    #[test]
    fn zstd_text() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("a.txt.zst");
        std::fs::write(&p, zstd::encode_all(&b"zstd article"[..], 3).unwrap()).unwrap();
        let items = collect(
            &input(&p, Format::Text, Compression::Zstd),
            &SourceConfig::default(),
        );
        assert_eq!(text_of(&items[0]), b"zstd article");
    }

    #[test]
    fn truncated_or_corrupt_compression_yields_nothing() {
        let t = tempfile::tempdir().unwrap();
        let article = "The first paragraph is recoverable from a partial stream. ".repeat(20);
        let full = gzip(article.as_bytes());
        let p = t.path().join("cut.txt.gz");
        std::fs::write(&p, &full[..full.len() * 6 / 10]).unwrap();
        let items = collect(
            &input(&p, Format::Text, Compression::Gzip),
            &SourceConfig::default(),
        );
        assert_eq!(items.len(), 1);
        assert_eq!(reason(&items[0]), RejectReason::CorruptCompressed);

        // Bad CRC: flip a byte of the trailer.
        let mut bad = full.clone();
        let n = bad.len();
        bad[n - 6] ^= 0xFF;
        std::fs::write(&p, &bad).unwrap();
        let items = collect(
            &input(&p, Format::Text, Compression::Gzip),
            &SourceConfig::default(),
        );
        assert_eq!(reason(&items[0]), RejectReason::CorruptCompressed);

        // Not gzip at all.
        std::fs::write(&p, b"plain text named .gz").unwrap();
        let items = collect(
            &input(&p, Format::Text, Compression::Gzip),
            &SourceConfig::default(),
        );
        assert_eq!(reason(&items[0]), RejectReason::CorruptCompressed);

        let z = zstd::encode_all(article.as_bytes(), 3).unwrap();
        let pz = t.path().join("cut.txt.zst");
        std::fs::write(&pz, &z[..z.len() / 2]).unwrap();
        let items = collect(
            &input(&pz, Format::Text, Compression::Zstd),
            &SourceConfig::default(),
        );
        assert_eq!(items.len(), 1);
        assert_eq!(reason(&items[0]), RejectReason::CorruptCompressed);
    }

    #[test]
    fn gzip_bomb_stops_at_the_cap() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("bomb.txt.gz");
        {
            let f = std::fs::File::create(&p).unwrap();
            let mut e = flate2::write::GzEncoder::new(f, flate2::Compression::best());
            let zeros = vec![0u8; 1 << 20];
            for _ in 0..64 {
                e.write_all(&zeros).unwrap();
            }
            e.finish().unwrap();
        }
        assert!(std::fs::metadata(&p).unwrap().len() < 1 << 20);
        // Decompressed cap below the doc cap: the bomb is refused as such.
        let items = collect(
            &input(&p, Format::Text, Compression::Gzip),
            &cfg(16 << 20, 1 << 20),
        );
        assert_eq!(items.len(), 1);
        assert_eq!(reason(&items[0]), RejectReason::DecompressedTooLarge);
        // Doc cap below: refused as too large, still without expanding it all.
        let items = collect(
            &input(&p, Format::Text, Compression::Gzip),
            &cfg(1 << 20, 4 << 30),
        );
        assert_eq!(reason(&items[0]), RejectReason::TooLarge);
        // JSONL stream: the decompressed cap applies across lines.
        let items = collect(
            &input(&p, Format::Jsonl, Compression::Gzip),
            &cfg(1 << 20, 2 << 20),
        );
        assert_eq!(
            reason(items.last().unwrap()),
            RejectReason::DecompressedTooLarge
        );
        assert!(items.len() <= 2);
    }

    #[test]
    fn capped_reader_allows_exactly_the_cap() {
        let mut out = Vec::new();
        Capped::new(&b"12345"[..], 5).read_to_end(&mut out).unwrap();
        assert_eq!(out, b"12345");
        let err = Capped::new(&b"123456"[..], 5)
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert!(err.get_ref().unwrap().is::<CapExceeded>());
    }

    #[test]
    fn jsonl_lines_are_streamed_with_numbers() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("a.jsonl");
        let long = format!("{{\"text\":\"{}\"}}", "x".repeat(300));
        let data = format!("{{\"id\":1}}\r\n\n   \n{long}\n{{\"id\":5}}\n{{\"id\":6}}");
        std::fs::write(&p, data).unwrap();
        let items = collect(
            &input(&p, Format::Jsonl, Compression::None),
            &cfg(100, 1000),
        );
        assert_eq!(items.len(), 4);
        match &items[0] {
            Ok(Unit::JsonLine {
                source,
                line,
                bytes,
            }) => {
                assert_eq!(
                    (source.as_str(), *line, bytes.as_slice()),
                    ("dir/file", 1, &b"{\"id\":1}"[..])
                );
            }
            other => panic!("{other:?}"),
        }
        match &items[1] {
            Err(r) => {
                assert_eq!(r.reason, RejectReason::TooLarge);
                assert_eq!(r.source, "dir/file#L4");
            }
            other => panic!("{other:?}"),
        }
        let lines: Vec<u64> = items[2..]
            .iter()
            .map(|i| match i {
                Ok(Unit::JsonLine { line, .. }) => *line,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(lines, [5, 6]);
    }

    #[test]
    fn jsonl_gzip_and_truncation() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("a.jsonl.gz");
        let body: String = (1..=200)
            .map(|i| format!("{{\"id\":{i},\"text\":\"article {i}\"}}\n"))
            .collect();
        let gz = gzip(body.as_bytes());
        std::fs::write(&p, &gz).unwrap();
        let items = collect(
            &input(&p, Format::Jsonl, Compression::Gzip),
            &SourceConfig::default(),
        );
        assert_eq!(items.len(), 200);
        assert!(items.iter().all(|i| i.is_ok()));
        std::fs::write(&p, &gz[..gz.len() / 2]).unwrap();
        let items = collect(
            &input(&p, Format::Jsonl, Compression::Gzip),
            &SourceConfig::default(),
        );
        assert_eq!(
            reason(items.last().unwrap()),
            RejectReason::CorruptCompressed
        );
        // Only complete lines came out before the error.
        for i in &items[..items.len() - 1] {
            match i {
                Ok(Unit::JsonLine { bytes, .. }) => assert!(bytes.ends_with(b"\"}")),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn missing_or_special_files_are_rejections() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("gone.txt");
        let items = collect(
            &input(&p, Format::Text, Compression::None),
            &SourceConfig::default(),
        );
        assert_eq!(reason(&items[0]), RejectReason::Unreadable);
        assert!(!items
            .iter()
            .any(|i| matches!(i, Err(r) if r.detail.contains(t.path().to_str().unwrap()))));
        // A directory (e.g. swapped in after the walk).
        let items = collect(
            &input(t.path(), Format::Text, Compression::None),
            &SourceConfig::default(),
        );
        assert_eq!(reason(&items[0]), RejectReason::NotRegularFile);
        // A FIFO must not block.
        let fifo = t.path().join("fifo.txt");
        if matches!(std::process::Command::new("mkfifo").arg(&fifo).status(), Ok(s) if s.success())
        {
            let items = collect(
                &input(&fifo, Format::Text, Compression::None),
                &SourceConfig::default(),
            );
            assert_eq!(reason(&items[0]), RejectReason::NotRegularFile);
        }
    }

    #[test]
    fn unreadable_file_is_reported() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("locked.txt");
        std::fs::write(&p, b"secret").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o000)).unwrap();
        let items = collect(
            &input(&p, Format::Text, Compression::None),
            &SourceConfig::default(),
        );
        if std::fs::read(&p).is_ok() {
            eprintln!("running as root: permissions are not enforced; skipping");
            return;
        }
        assert_eq!(reason(&items[0]), RejectReason::Unreadable);
        assert!(matches!(&items[0], Err(r) if r.detail.contains("Permission denied")));
    }

    #[test]
    fn units_are_send() {
        fn is_send<T: Send>(_: &T) {}
        let f = InputFile {
            path: "x".into(),
            source: "x".into(),
            format: Format::Jsonl,
            compression: Compression::Zstd,
            bytes: 0,
        };
        is_send(&open_units(&f, &SourceConfig::default()));
    }
}
