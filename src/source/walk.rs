//! Input discovery: a deterministic, symlink-safe walk of the input roots.
//!
//! `std::fs` rather than `fs_err` here: fs_err puts the absolute path into the message and
//! hides the OS error code (needed to tell ELOOP apart). Rejections name the input by its
//! root-relative `source` instead, so reports do not depend on where the inputs live.

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::fs::{self, FileType, Metadata};
use std::io;
use std::path::{Path, PathBuf};

use super::{Compression, Discovery, Format, InputFile, RejectReason, Rejection};
use crate::error::{Error, Result};

/// Walk the inputs; see [`super::discover`].
pub(crate) fn discover(inputs: &[PathBuf]) -> Result<Discovery> {
    let mut w = Walker::default();
    for input in inputs {
        w.root(input)?;
    }
    Ok(Discovery {
        files: w.files,
        problems: w.problems,
    })
}

/// Identity of a directory, to detect cycles.
#[cfg(unix)]
type DirId = (u64, u64);
#[cfg(not(unix))]
type DirId = PathBuf;

#[cfg(unix)]
fn dir_id(_path: &Path, md: &Metadata) -> DirId {
    use std::os::unix::fs::MetadataExt;
    (md.dev(), md.ino())
}
#[cfg(not(unix))]
fn dir_id(path: &Path, _md: &Metadata) -> DirId {
    fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// A directory entry: its name and, when the OS reported it, its type (not followed).
type Entry = (OsString, Option<FileType>);

/// One directory being listed.
struct Frame {
    /// Path used to read its entries.
    path: PathBuf,
    /// Escaped root-relative name plus `/` (empty for the root).
    prefix: String,
    id: DirId,
    entries: std::vec::IntoIter<Entry>,
}

#[derive(Default)]
struct Walker {
    files: Vec<InputFile>,
    problems: Vec<Rejection>,
    /// Directories entered so far; a directory symlink is followed only to a new one,
    /// which bounds the walk even with many links to the same place.
    visited: HashSet<DirId>,
}

impl Walker {
    fn problem(&mut self, source: String, reason: RejectReason, detail: String) {
        self.problems.push(Rejection {
            source,
            reason,
            detail,
        });
    }

    fn root(&mut self, input: &Path) -> Result<()> {
        let name = root_name(input);
        let lmeta = match fs::symlink_metadata(input) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(Error::NoInput(format!("`{}`", escape_path(input))));
            }
            Err(e) => {
                self.problem(name, RejectReason::Unreadable, os_message(&e));
                return Ok(());
            }
        };
        // An input named on the command line is followed even if it is a symlink.
        let (meta, path) = if lmeta.file_type().is_symlink() {
            let resolved = fs::canonicalize(input).and_then(|p| fs::metadata(&p).map(|m| (m, p)));
            match resolved {
                Ok(r) => r,
                Err(e) => {
                    let (reason, detail) = link_error(&e, &link_text(input));
                    self.problem(name, reason, detail);
                    return Ok(());
                }
            }
        } else {
            (lmeta, input.to_path_buf())
        };
        if meta.is_dir() {
            let root_canon = match fs::canonicalize(&path) {
                Ok(p) => p,
                Err(e) => {
                    self.problem(name, RejectReason::Unreadable, os_message(&e));
                    return Ok(());
                }
            };
            let id = dir_id(&path, &meta);
            let mut stack = Vec::new();
            self.enter(&mut stack, path, String::new(), id, name);
            self.walk(&mut stack, &root_canon);
        } else {
            let file_name = input.file_name().unwrap_or(input.as_os_str());
            self.file(name, path, file_name, &meta);
        }
        Ok(())
    }

    /// A regular file (or the target of a followed symlink) named `name`.
    fn file(&mut self, source: String, path: PathBuf, name: &OsStr, meta: &Metadata) {
        if !meta.is_file() {
            self.problem(
                source,
                RejectReason::NotRegularFile,
                format!("{} (not read)", file_kind(&meta.file_type())),
            );
            return;
        }
        match classify_name(name) {
            Some((format, compression)) => self.files.push(InputFile {
                path,
                source,
                format,
                compression,
                bytes: meta.len(),
            }),
            None => self.problem(
                source,
                RejectReason::UnsupportedExtension,
                "not .txt or .jsonl (optionally .gz/.zst)".to_string(),
            ),
        }
    }

    /// List a directory and push it on the stack; an unreadable one is reported.
    fn enter(
        &mut self,
        stack: &mut Vec<Frame>,
        path: PathBuf,
        prefix: String,
        id: DirId,
        source: String,
    ) {
        // `DirId` is `Copy` on unix but a `PathBuf` elsewhere.
        #[allow(clippy::clone_on_copy)]
        self.visited.insert(id.clone());
        match read_sorted(&path) {
            Ok((entries, err)) => {
                if let Some(e) = err {
                    self.problem(
                        source.clone(),
                        RejectReason::Unreadable,
                        format!("directory listing incomplete: {}", os_message(&e)),
                    );
                }
                stack.push(Frame {
                    path,
                    prefix,
                    id,
                    entries: entries.into_iter(),
                });
            }
            Err(e) => self.problem(
                source,
                RejectReason::Unreadable,
                format!("cannot list directory: {}", os_message(&e)),
            ),
        }
    }

    fn walk(&mut self, stack: &mut Vec<Frame>, root_canon: &Path) {
        loop {
            let Some(frame) = stack.last_mut() else {
                return;
            };
            let Some((name, ftype)) = frame.entries.next() else {
                stack.pop();
                continue;
            };
            let path = frame.path.join(&name);
            let source = format!("{}{}", frame.prefix, escape_bytes(&name_bytes(&name)));
            let ftype = match ftype {
                Some(t) => t,
                None => match fs::symlink_metadata(&path) {
                    Ok(m) => m.file_type(),
                    Err(e) => {
                        self.problem(source, RejectReason::Unreadable, os_message(&e));
                        continue;
                    }
                },
            };
            if ftype.is_symlink() {
                self.link(stack, path, source, &name, root_canon);
            } else if ftype.is_dir() {
                match fs::symlink_metadata(&path) {
                    Ok(md) => {
                        let id = dir_id(&path, &md);
                        // Only a bind mount can make a real directory its own ancestor.
                        if stack.iter().any(|f| f.id == id) {
                            self.problem(
                                source,
                                RejectReason::SymlinkLoop,
                                "directory contains itself (bind mount cycle)".to_string(),
                            );
                        } else {
                            let prefix = format!("{source}/");
                            self.enter(stack, path, prefix, id, source);
                        }
                    }
                    Err(e) => self.problem(source, RejectReason::Unreadable, os_message(&e)),
                }
            } else if ftype.is_file() {
                // Skip the stat for files that would be skipped anyway.
                if classify_name(&name).is_none() {
                    self.problem(
                        source,
                        RejectReason::UnsupportedExtension,
                        "not .txt or .jsonl (optionally .gz/.zst)".to_string(),
                    );
                    continue;
                }
                match fs::symlink_metadata(&path) {
                    Ok(md) => self.file(source, path, &name, &md),
                    Err(e) => self.problem(source, RejectReason::Unreadable, os_message(&e)),
                }
            } else {
                self.problem(
                    source,
                    RejectReason::NotRegularFile,
                    format!("{} (not read)", file_kind(&ftype)),
                );
            }
        }
    }

    /// A symlink inside the walk: followed only to a target inside the root.
    fn link(
        &mut self,
        stack: &mut Vec<Frame>,
        path: PathBuf,
        source: String,
        name: &OsStr,
        root_canon: &Path,
    ) {
        let text = link_text(&path);
        let target = match fs::canonicalize(&path) {
            Ok(t) => t,
            Err(e) => {
                let (reason, detail) = link_error(&e, &text);
                self.problem(source, reason, detail);
                return;
            }
        };
        if !target.starts_with(root_canon) {
            self.problem(
                source,
                RejectReason::SymlinkOutsideRoot,
                format!("symlink to `{text}` leaves the input root (not followed)"),
            );
            return;
        }
        let md = match fs::metadata(&target) {
            Ok(m) => m,
            Err(e) => {
                self.problem(source, RejectReason::Unreadable, os_message(&e));
                return;
            }
        };
        if md.is_dir() {
            let id = dir_id(&target, &md);
            if stack.iter().any(|f| f.id == id) {
                self.problem(
                    source,
                    RejectReason::SymlinkLoop,
                    format!(
                        "symlink to `{text}` points to a directory containing it (not followed)"
                    ),
                );
            } else if self.visited.contains(&id) {
                self.problem(
                    source,
                    RejectReason::SymlinkLoop,
                    format!("symlink to `{text}`: directory already walked (not followed)"),
                );
            } else {
                let prefix = format!("{source}/");
                self.enter(stack, target, prefix, id, source);
            }
        } else {
            // Open the resolved path: nothing can redirect it between walk and read.
            self.file(source, target, name, &md);
        }
    }
}

/// Entries of `dir` sorted by the raw bytes of their names, plus the error that cut the
/// listing short, if any (the entries read before it are kept).
fn read_sorted(dir: &Path) -> io::Result<(Vec<Entry>, Option<io::Error>)> {
    let mut entries = Vec::new();
    let mut error = None;
    for entry in fs::read_dir(dir)? {
        match entry {
            Ok(e) => entries.push((e.file_name(), e.file_type().ok())),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    entries.sort_by(|a, b| name_bytes(&a.0).cmp(&name_bytes(&b.0)));
    Ok((entries, error))
}

/// Format and compression from a file name: `.txt`/`.jsonl`, optionally `.gz`/`.zst`,
/// any case.
pub(crate) fn classify_name(name: &OsStr) -> Option<(Format, Compression)> {
    let bytes = name_bytes(name);
    let lower = bytes.to_ascii_lowercase();
    let (stem, compression) = if let Some(s) = lower.strip_suffix(b".gz") {
        (s, Compression::Gzip)
    } else if let Some(s) = lower.strip_suffix(b".zst") {
        (s, Compression::Zstd)
    } else {
        (&lower[..], Compression::None)
    };
    let format = if stem.ends_with(b".txt") {
        Format::Text
    } else if stem.ends_with(b".jsonl") {
        Format::Jsonl
    } else {
        return None;
    };
    Some((format, compression))
}

#[cfg(unix)]
fn name_bytes(name: &OsStr) -> std::borrow::Cow<'_, [u8]> {
    use std::os::unix::ffi::OsStrExt;
    std::borrow::Cow::Borrowed(name.as_bytes())
}
#[cfg(not(unix))]
fn name_bytes(name: &OsStr) -> std::borrow::Cow<'_, [u8]> {
    std::borrow::Cow::Owned(name.to_string_lossy().into_owned().into_bytes())
}

/// Display name of an input root: its last component, never the absolute path.
fn root_name(input: &Path) -> String {
    match input.file_name() {
        Some(n) => escape_bytes(&name_bytes(n)),
        None => ".".to_string(),
    }
}

fn escape_path(p: &Path) -> String {
    escape_bytes(&name_bytes(p.as_os_str()))
}

/// Printable, lossless rendering of raw name bytes: invalid UTF-8 as `\xE9`, controls as
/// `\n`, `\t`, `\r`, `\x01`, `\u{85}`, invisible format characters as `\u{202E}`, and `\`
/// doubled, so a name can never inject a line or spoof its display.
pub(crate) fn escape_bytes(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if (c as u32) < 0x20 || c == '\u{7F}' => {
                    let _ = write!(out, "\\x{:02X}", c as u32);
                }
                c if is_invisible(c) => {
                    let _ = write!(out, "\\u{{{:X}}}", c as u32);
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02X}");
        }
    }
    out
}

/// C1 controls and format characters that could hide or reorder a displayed name.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{80}'..='\u{9F}'
        | '\u{AD}'
        | '\u{61C}'
        | '\u{180E}'
        | '\u{200B}'..='\u{200F}'
        | '\u{2028}'..='\u{202E}'
        | '\u{2060}'..='\u{2069}'
        | '\u{FEFF}'
        | '\u{FFF9}'..='\u{FFFB}')
}

/// The symlink's own text (part of the input, so deterministic), escaped.
fn link_text(path: &Path) -> String {
    fs::read_link(path)
        .map(|t| escape_path(&t))
        .unwrap_or_else(|_| "?".to_string())
}

/// Why a symlink could not be resolved.
fn link_error(e: &io::Error, text: &str) -> (RejectReason, String) {
    if is_loop(e) {
        (
            RejectReason::SymlinkLoop,
            format!("symlink to `{text}` loops (not followed)"),
        )
    } else if e.kind() == io::ErrorKind::NotFound {
        (
            RejectReason::DanglingSymlink,
            format!("symlink to `{text}`: target does not exist"),
        )
    } else {
        (
            RejectReason::Unreadable,
            format!("symlink to `{text}`: {}", os_message(e)),
        )
    }
}

#[cfg(unix)]
fn is_loop(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::ELOOP)
}
#[cfg(not(unix))]
fn is_loop(_e: &io::Error) -> bool {
    false
}

/// The OS error text without any path ("Permission denied (os error 13)").
pub(crate) fn os_message(e: &io::Error) -> String {
    e.to_string()
}

#[cfg(unix)]
fn file_kind(t: &FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_fifo() {
        "named pipe (FIFO)"
    } else if t.is_socket() {
        "socket"
    } else if t.is_block_device() {
        "block device"
    } else if t.is_char_device() {
        "character device"
    } else if t.is_dir() {
        "directory"
    } else {
        "not a regular file"
    }
}
#[cfg(not(unix))]
fn file_kind(t: &FileType) -> &'static str {
    if t.is_dir() {
        "directory"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn write(path: &Path, data: &[u8]) {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(path, data).unwrap();
    }

    fn sources(d: &Discovery) -> Vec<&str> {
        d.files.iter().map(|f| f.source.as_str()).collect()
    }

    fn problem<'a>(d: &'a Discovery, source: &str) -> &'a Rejection {
        d.problems
            .iter()
            .find(|p| p.source == source)
            .unwrap_or_else(|| panic!("no problem for {source}: {:?}", d.problems))
    }

    #[test]
    fn names_are_classified() {
        let c = |s: &str| classify_name(OsStr::new(s));
        assert_eq!(c("a.txt"), Some((Format::Text, Compression::None)));
        assert_eq!(c("A.TXT"), Some((Format::Text, Compression::None)));
        assert_eq!(c("a.jsonl.GZ"), Some((Format::Jsonl, Compression::Gzip)));
        assert_eq!(c("a.Txt.zst"), Some((Format::Text, Compression::Zstd)));
        for bad in [
            "a.bin",
            "a.png",
            "a.md",
            "txt",
            "a.gz",
            "a.txt.bz2",
            "a.json",
            "a.txt.gz.gz",
        ] {
            assert_eq!(c(bad), None, "{bad}");
        }
    }

    #[test]
    fn escaping() {
        assert_eq!(escape_bytes(b"caf\xe9_b\xe1o.txt"), "caf\\xE9_b\\xE1o.txt");
        assert_eq!(
            escape_bytes(b"name_with\nnewline.txt"),
            "name_with\\nnewline.txt"
        );
        assert_eq!(
            escape_bytes("a\\b\t\u{7}\u{202e}ü.txt".as_bytes()),
            "a\\\\b\\t\\x07\\u{202E}ü.txt"
        );
    }

    #[test]
    fn walk_is_sorted_relative_and_recursive() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("raw");
        write(&root.join("b.txt"), b"b");
        write(&root.join("a/z.jsonl"), b"{}");
        write(&root.join("a/B.txt"), b"B");
        write(&root.join("Z.txt.gz"), b"");
        write(&root.join("looks_like_file.txt/inner.txt"), b"x");
        write(&root.join("notes.md"), b"x");
        write(&root.join("img.PNG"), b"x");
        let d = discover(std::slice::from_ref(&root)).unwrap();
        assert_eq!(
            sources(&d),
            [
                "Z.txt.gz",
                "a/B.txt",
                "a/z.jsonl",
                "b.txt",
                "looks_like_file.txt/inner.txt"
            ]
        );
        assert_eq!(d.files[0].compression, Compression::Gzip);
        assert_eq!(d.files[2].format, Format::Jsonl);
        assert_eq!(d.files[3].bytes, 1);
        assert_eq!(
            problem(&d, "img.PNG").reason,
            RejectReason::UnsupportedExtension
        );
        assert_eq!(
            problem(&d, "notes.md").reason,
            RejectReason::UnsupportedExtension
        );
        // A file input is named by its file name.
        let d = discover(&[root.join("a/B.txt")]).unwrap();
        assert_eq!(sources(&d), ["B.txt"]);
    }

    #[test]
    fn sources_do_not_depend_on_the_root_location() {
        let t = tempfile::tempdir().unwrap();
        for parent in ["one", "two/deeper"] {
            write(&t.path().join(parent).join("raw/x/y.txt"), b"y");
        }
        let a = discover(&[t.path().join("one/raw")]).unwrap();
        let b = discover(&[t.path().join("two/deeper/raw/")]).unwrap();
        assert_eq!(sources(&a), sources(&b));
        assert_eq!(sources(&a), ["x/y.txt"]);
    }

    #[test]
    fn missing_input_is_an_error() {
        let t = tempfile::tempdir().unwrap();
        match discover(&[t.path().join("nope")]) {
            Err(Error::NoInput(_)) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn odd_file_names() {
        let t = tempfile::tempdir().unwrap();
        use std::os::unix::ffi::OsStrExt;
        write(&t.path().join("name_with\nnewline.txt"), b"x");
        write(
            &t.path().join(OsStr::from_bytes(b"latin1_caf\xe9.txt")),
            b"x",
        );
        let d = discover(&[t.path().to_path_buf()]).unwrap();
        assert_eq!(
            sources(&d),
            ["latin1_caf\\xE9.txt", "name_with\\nnewline.txt"]
        );
    }

    #[test]
    fn symlinks() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("raw");
        write(&root.join("article.txt"), b"x");
        write(&t.path().join("outside.txt"), b"secret");
        symlink("/etc/passwd", root.join("passwd_link.txt")).unwrap();
        symlink("../outside.txt", root.join("escape.txt")).unwrap();
        symlink("loop_b.txt", root.join("loop_a.txt")).unwrap();
        symlink("loop_a.txt", root.join("loop_b.txt")).unwrap();
        symlink("does/not/exist.txt", root.join("dangling.txt")).unwrap();
        symlink("article.txt", root.join("link_to_article.txt")).unwrap();
        fs::create_dir_all(root.join("dir_loop")).unwrap();
        symlink("..", root.join("dir_loop/up")).unwrap();
        symlink(".", root.join("dir_loop/self")).unwrap();
        symlink("..", root.join("up_out")).unwrap();
        let d = discover(std::slice::from_ref(&root)).unwrap();
        assert_eq!(sources(&d), ["article.txt", "link_to_article.txt"]);
        assert_eq!(
            d.files[1].path,
            fs::canonicalize(root.join("article.txt")).unwrap()
        );
        let reason = |s| problem(&d, s).reason;
        assert_eq!(reason("passwd_link.txt"), RejectReason::SymlinkOutsideRoot);
        assert_eq!(reason("escape.txt"), RejectReason::SymlinkOutsideRoot);
        assert_eq!(reason("up_out"), RejectReason::SymlinkOutsideRoot);
        assert_eq!(reason("loop_a.txt"), RejectReason::SymlinkLoop);
        assert_eq!(reason("loop_b.txt"), RejectReason::SymlinkLoop);
        assert_eq!(reason("dangling.txt"), RejectReason::DanglingSymlink);
        assert_eq!(reason("dir_loop/up"), RejectReason::SymlinkLoop);
        assert_eq!(reason("dir_loop/self"), RejectReason::SymlinkLoop);
        assert!(problem(&d, "passwd_link.txt")
            .detail
            .contains("/etc/passwd"));
        assert!(d.problems.iter().all(|p| p.reason.is_skip()));
    }

    #[test]
    fn in_root_directory_symlinks_are_followed_once() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("raw");
        write(&root.join("real/a.txt"), b"x");
        symlink("real", root.join("alias")).unwrap();
        symlink("real", root.join("alias2")).unwrap();
        // Many links to the same directories must not multiply the walk.
        let d = discover(std::slice::from_ref(&root)).unwrap();
        assert_eq!(sources(&d), ["alias/a.txt", "real/a.txt"]);
        assert_eq!(problem(&d, "alias2").reason, RejectReason::SymlinkLoop);
    }

    #[test]
    fn fifo_is_skipped_not_opened() {
        let t = tempfile::tempdir().unwrap();
        let fifo = t.path().join("fifo_named.txt");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !matches!(made, Ok(s) if s.success()) {
            eprintln!("mkfifo unavailable; skipping");
            return;
        }
        let d = discover(&[t.path().to_path_buf()]).unwrap();
        assert!(d.files.is_empty());
        let p = problem(&d, "fifo_named.txt");
        assert_eq!(p.reason, RejectReason::NotRegularFile);
        assert!(p.detail.contains("FIFO"));
        // Named directly as an input, too.
        let d = discover(&[fifo]).unwrap();
        assert_eq!(d.problems[0].reason, RejectReason::NotRegularFile);
    }

    #[test]
    fn unreadable_directory_is_reported() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("raw");
        write(&root.join("locked/inner.txt"), b"x");
        write(&root.join("ok.txt"), b"x");
        fs::set_permissions(root.join("locked"), fs::Permissions::from_mode(0o000)).unwrap();
        let d = discover(std::slice::from_ref(&root)).unwrap();
        let enforced = fs::read_dir(root.join("locked")).is_err();
        fs::set_permissions(root.join("locked"), fs::Permissions::from_mode(0o755)).unwrap();
        if !enforced {
            eprintln!("running as root: permissions are not enforced; skipping");
            return;
        }
        assert_eq!(sources(&d), ["ok.txt"]);
        let p = problem(&d, "locked");
        assert_eq!(p.reason, RejectReason::Unreadable);
        assert!(p.detail.contains("Permission denied"), "{}", p.detail);
    }
}
