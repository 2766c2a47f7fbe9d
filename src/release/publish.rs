//! Getting a release onto disk without ever exposing a half-written one.
//!
//! Everything is written into `.{name}.tmp-XXXX` beside the output, fsynced, and only then
//! renamed into place, under an exclusive lock on `.{name}.lock` so two builds into the
//! same output cannot interleave their swaps. A killed build leaves only the hidden
//! temporary directory, which has no `manifest.json`/`SHA256SUMS` until the very end and
//! so never verifies.

use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};

use super::manifest::is_quire_release;
use crate::error::{Error, Result};

/// A temporary release directory that becomes the output on [`Staging::publish`].
pub(crate) struct Staging {
    out: PathBuf,
    parent: PathBuf,
    name: OsString,
    /// Removed on drop, so a build that fails with an error cleans up after itself.
    tmp: tempfile::TempDir,
}

fn release_err(path: &Path, reason: impl Into<String>) -> Error {
    Error::Release {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Split the output path into its parent directory and final name.
fn split_output(out: &Path) -> Result<(PathBuf, OsString)> {
    let name = out
        .file_name()
        .ok_or_else(|| release_err(out, "output path has no final name component"))?;
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((parent, name.to_os_string()))
}

/// `.{name}{suffix}`: hidden siblings of the output (temporary dirs, the lock file).
fn hidden_name(name: &OsString, suffix: &str) -> OsString {
    let mut s = OsString::from(".");
    s.push(name);
    s.push(suffix);
    s
}

/// Refuse to replace anything but nothing, an empty directory or a quire release.
/// A symlink is refused even if it points at a release: replacing it would silently turn
/// it into a directory and leave the real target stale.
pub(crate) fn check_replaceable(out: &Path) -> Result<()> {
    let meta = match std::fs::symlink_metadata(out) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(out, e)),
    };
    if meta.file_type().is_symlink() {
        return Err(release_err(
            out,
            "exists and is a symlink; refusing to replace it",
        ));
    }
    if !meta.is_dir() {
        return Err(release_err(
            out,
            "exists and is not a directory; refusing to replace it",
        ));
    }
    let mut entries = std::fs::read_dir(out).map_err(|e| Error::io(out, e))?;
    if entries.next().is_none() || is_quire_release(out) {
        return Ok(());
    }
    Err(release_err(
        out,
        "exists and is neither empty nor a quire release; refusing to replace it",
    ))
}

/// fsync a directory, so renames and new entries inside it survive a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io(dir, e))
}

/// Write a file and fsync it.
pub(crate) fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut f = File::create(path).map_err(|e| Error::io(path, e))?;
    f.write_all(bytes).map_err(|e| Error::io(path, e))?;
    f.sync_all().map_err(|e| Error::io(path, e))
}

impl Staging {
    /// Check the output can be replaced (early, so a long build does not fail at the end
    /// for a reason known at the start) and create the temporary directory beside it.
    pub(crate) fn create(out: &Path) -> Result<Self> {
        check_replaceable(out)?;
        let (parent, name) = split_output(out)?;
        std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
        let prefix = hidden_name(&name, ".tmp-");
        let tmp = tempfile::Builder::new()
            .prefix(&prefix)
            .tempdir_in(&parent)
            .map_err(|e| Error::io(&parent, e))?;
        // tempfile creates 0700 directories; a published dataset should be readable like
        // any directory the user creates.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755))
                .map_err(|e| Error::io(tmp.path(), e))?;
        }
        Ok(Staging {
            out: out.to_path_buf(),
            parent,
            name,
            tmp,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// Write `rel` (a checked relative path) inside the staging directory, creating parent
    /// directories, and fsync it.
    pub(crate) fn write_file(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        let path = self.tmp.path().join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        write_synced(&path, bytes)
    }

    /// fsync every directory of the staging tree (files are fsynced as they are written).
    fn sync_tree(&self) -> Result<()> {
        let mut stack = vec![self.tmp.path().to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))? {
                let entry = entry.map_err(|e| Error::io(&dir, e))?;
                let ft = entry.file_type().map_err(|e| Error::io(entry.path(), e))?;
                if ft.is_dir() {
                    stack.push(entry.path());
                }
            }
            sync_dir(&dir)?;
        }
        Ok(())
    }

    /// Make the staged release the output: fsync, lock, swap, fsync the parent, drop the
    /// old release.
    pub(crate) fn publish(self) -> Result<()> {
        self.sync_tree()?;
        let lock_path = self.parent.join(hidden_name(&self.name, ".lock"));
        // The lock file is never deleted: removing a lock file others may hold open is
        // what makes lock files racy.
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io(&lock_path, e))?;
        lock_exclusive(&lock).map_err(|e| Error::io(&lock_path, e))?;

        // Checked again under the lock: another build or a user may have put something
        // at the output path since `create`.
        check_replaceable(&self.out)?;
        let exists = std::fs::symlink_metadata(&self.out).is_ok();
        if exists {
            swap(self.tmp.path(), &self.out, &self.parent, &self.name)?;
        } else {
            std::fs::rename(self.tmp.path(), &self.out).map_err(|e| Error::io(&self.out, e))?;
        }
        sync_dir(&self.parent)?;
        drop(lock);
        // After a swap the temporary path holds the previous release; after a plain rename
        // it is gone. Either way removing it is cleanup only: the new release is already in
        // place and a leftover hidden `.tmp-` directory is harmless, so errors are ignored.
        let _ = self.tmp.close();
        Ok(())
    }
}

/// Exchange `new` and `out` so that `out` is the new release and `new` the old one.
fn swap(new: &Path, out: &Path, parent: &Path, name: &OsString) -> Result<()> {
    #[cfg(target_os = "linux")]
    {
        match exchange(new, out) {
            Ok(()) => return Ok(()),
            // Filesystems without RENAME_EXCHANGE (or old kernels) get the two-rename
            // fallback below.
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOSYS)) => {}
            Err(e) => return Err(Error::io(out, e)),
        }
    }
    swap_by_renames(new, out, parent, name)
}

/// Not atomic, but never half-written: between the two renames `out` does not exist at
/// all, and a failure of the second rename puts the old release back.
fn swap_by_renames(new: &Path, out: &Path, parent: &Path, name: &OsString) -> Result<()> {
    let aside = tempfile::Builder::new()
        .prefix(&hidden_name(name, ".old-"))
        .tempdir_in(parent)
        .map_err(|e| Error::io(parent, e))?;
    let aside_path = aside.path().join("release");
    std::fs::rename(out, &aside_path).map_err(|e| Error::io(out, e))?;
    if let Err(e) = std::fs::rename(new, out) {
        let _ = std::fs::rename(&aside_path, out);
        return Err(Error::io(out, e));
    }
    // `aside` (holding the old release) is removed on drop; the swap is done either way.
    let _ = aside.close();
    Ok(())
}

/// `renameat2(RENAME_EXCHANGE)`: atomically swap two existing paths.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let to_c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
    };
    let (ca, cb) = (to_c(a)?, to_c(b)?);
    // SAFETY: both pointers are valid NUL-terminated strings that outlive the call; the
    // raw syscall is used instead of the glibc wrapper so glibc < 2.28 links too.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Block until an exclusive lock on `file` is held (released when the file is closed).
#[cfg(unix)]
fn lock_exclusive(file: &File) -> std::io::Result<()> {
    use std::os::unix::io::AsRawFd;
    loop {
        // SAFETY: the descriptor is owned by `file`, which is alive for the call.
        // flock instead of `File::lock`: the crate's declared MSRV (1.88) predates it.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
        if rc == 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

#[cfg(not(unix))]
fn lock_exclusive(_file: &File) -> std::io::Result<()> {
    // Non-Unix builds are not a target; the swap itself is still never half-written.
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_foreign_outputs() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("rel");
        check_replaceable(&out).unwrap(); // missing: fine
        std::fs::create_dir(&out).unwrap();
        check_replaceable(&out).unwrap(); // empty: fine
        std::fs::write(out.join("precious.txt"), b"x").unwrap();
        assert!(check_replaceable(&out).is_err());
        std::fs::write(out.join("manifest.json"), br#"{"format":"quire-release"}"#).unwrap();
        check_replaceable(&out).unwrap(); // a (possibly older) quire release
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        assert!(check_replaceable(&file).is_err());
        #[cfg(unix)]
        {
            let link = dir.path().join("link");
            std::os::unix::fs::symlink(&out, &link).unwrap();
            assert!(check_replaceable(&link).is_err());
        }
    }

    #[test]
    fn publish_replaces_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("rel");
        for round in 0..2 {
            let s = Staging::create(&out).unwrap();
            s.write_file("manifest.json", br#"{"format":"quire-release"}"#)
                .unwrap();
            s.write_file("sub/x", format!("{round}").as_bytes())
                .unwrap();
            s.publish().unwrap();
            assert_eq!(
                std::fs::read(out.join("sub/x")).unwrap(),
                format!("{round}").as_bytes()
            );
        }
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, [".rel.lock", "rel"]);
    }

    #[test]
    fn swaps_exchange_and_fallback() {
        type Swap = fn(&Path, &Path, &Path, &OsString) -> Result<()>;
        for f in [swap as Swap, swap_by_renames as Swap] {
            let dir = tempfile::tempdir().unwrap();
            let (new, out) = (dir.path().join("new"), dir.path().join("out"));
            std::fs::create_dir(&new).unwrap();
            std::fs::create_dir(&out).unwrap();
            std::fs::write(new.join("v"), b"new").unwrap();
            std::fs::write(out.join("v"), b"old").unwrap();
            f(&new, &out, dir.path(), &OsString::from("out")).unwrap();
            assert_eq!(std::fs::read(out.join("v")).unwrap(), b"new");
            // The old release is either at `new` (exchange) or already removed (renames);
            // nothing else is left behind.
            let left: Vec<_> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .filter(|n| n != "out" && n != "new")
                .collect();
            assert!(left.is_empty(), "{left:?}");
        }
    }
}
