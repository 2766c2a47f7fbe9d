//! The shingle samples, spilled to an anonymous temporary file while documents are added
//! and read back by position while candidates are verified. Only an offset per document
//! stays in memory.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Appends samples; one record per slot: `count: u32`, then the sample, little-endian.
pub(crate) struct SpillWriter {
    dir: PathBuf,
    out: BufWriter<File>,
    /// Start of every record, plus the end of the last one.
    offsets: Vec<u64>,
}

impl SpillWriter {
    /// A new spill file in `dir` (removed by the OS when closed).
    pub fn new(dir: &Path) -> Result<Self> {
        let file = tempfile::tempfile_in(dir).map_err(|e| Error::io(dir, e))?;
        Ok(SpillWriter {
            dir: dir.to_path_buf(),
            out: BufWriter::with_capacity(1 << 20, file),
            offsets: vec![0],
        })
    }

    /// Append the sample of the next slot.
    pub fn push(&mut self, count: u32, sample: &[u32]) -> Result<()> {
        let mut bytes = Vec::with_capacity(4 * (sample.len() + 1));
        bytes.extend_from_slice(&count.to_le_bytes());
        for v in sample {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        self.out
            .write_all(&bytes)
            .map_err(|e| Error::io(&self.dir, e))?;
        let end = self.offsets.last().copied().unwrap_or(0) + bytes.len() as u64;
        self.offsets.push(end);
        Ok(())
    }

    /// Flush the file and switch to reading it.
    pub fn finish(self) -> Result<SpillReader> {
        let file = self
            .out
            .into_inner()
            .map_err(|e| Error::io(&self.dir, e.into_error()))?;
        Ok(SpillReader {
            dir: self.dir,
            file: Reader::new(file),
            offsets: self.offsets,
        })
    }
}

/// Reads samples back by slot; safe to share between threads.
pub(crate) struct SpillReader {
    dir: PathBuf,
    file: Reader,
    offsets: Vec<u64>,
}

impl SpillReader {
    /// The `(count, sample)` of `slot`, the sample read into `buf`.
    pub fn read(&self, slot: u32, buf: &mut Vec<u32>) -> Result<u32> {
        let slot = slot as usize;
        let (start, end) = match (self.offsets.get(slot), self.offsets.get(slot + 1)) {
            (Some(&s), Some(&e)) if e >= s + 4 => (s, e),
            _ => {
                return Err(Error::io(
                    &self.dir,
                    std::io::Error::other(format!("dedup spill has no record {slot}")),
                ))
            }
        };
        let mut bytes = vec![0u8; (end - start) as usize];
        self.file
            .read_exact_at(&mut bytes, start)
            .map_err(|e| Error::io(&self.dir, e))?;
        let mut words = bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
        let count = words.next().unwrap_or(0);
        buf.clear();
        buf.extend(words);
        Ok(count)
    }
}

/// Positioned reads: `pread` on Unix (no shared cursor, so threads do not contend); a
/// locked seek-and-read elsewhere.
#[cfg(unix)]
struct Reader(File);

#[cfg(unix)]
impl Reader {
    fn new(file: File) -> Self {
        Reader(file)
    }

    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(&self.0, buf, offset)
    }
}

#[cfg(not(unix))]
struct Reader(std::sync::Mutex<File>);

#[cfg(not(unix))]
impl Reader {
    fn new(file: File) -> Self {
        Reader(std::sync::Mutex::new(file))
    }

    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = self
            .0
            .lock()
            .map_err(|_| std::io::Error::other("dedup spill lock poisoned"))?;
        file.seek(SeekFrom::Start(offset))?;
        file.read_exact(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_in_any_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = SpillWriter::new(dir.path()).unwrap();
        w.push(3, &[1, 2, 3]).unwrap();
        w.push(0, &[]).unwrap();
        w.push(900, &[7; 500]).unwrap();
        let r = w.finish().unwrap();
        let mut buf = Vec::new();
        assert_eq!(r.read(2, &mut buf).unwrap(), 900);
        assert_eq!(buf, vec![7; 500]);
        assert_eq!(r.read(0, &mut buf).unwrap(), 3);
        assert_eq!(buf, vec![1, 2, 3]);
        assert_eq!(r.read(1, &mut buf).unwrap(), 0);
        assert!(buf.is_empty());
        assert!(r.read(3, &mut buf).is_err());
    }
}
