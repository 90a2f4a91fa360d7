//! Atomic replacement of files: a temporary file in the same directory with
//! the original's mode and owner, flushed to disk, renamed over the
//! original, then the directory flushed.
//!
//! Callers pass the *resolved* path (symlinks followed inside the root), so a
//! symlink such as Debian's `sites-enabled/x.conf` is written through to its
//! target and stays a symlink.
//!
//! One file ([`write_atomic_if`]) pays an fsync of the file and one of its
//! directory. Many files ([`stage_all`], [`Staged::replace_if`],
//! [`sync_dirs`]) pay one flush for all of them, in three steps:
//!
//! 1. every temporary file is written (nothing in place changes), then one
//!    `syncfs(2)` per file system flushes all of them together; the file
//!    system is opened before the first write, so that a write-back error of
//!    any of them is reported by that `syncfs`;
//! 2. each temporary file is renamed over its original;
//! 3. each directory that holds a renamed file is flushed once.
//!
//! Why a crash anywhere still leaves each file old or new: a rename only
//! ever moves in a file whose bytes, mode and owner are already on disk
//! (step 1 finished before the first rename), and rename(2) replaces a name
//! atomically; until step 3 a crash may lose a rename, which leaves the old
//! file, never a mix. A crash before a rename leaves a `.tlsmend-*.tmp` file,
//! which the next run removes ([`crate::journal::remove_temporaries`]).
//! Callers write the backups and the journal saying "writing" to disk before
//! step 2 ([`crate::backup::create_run`]), and remove the journal only after
//! step 3, so a run recorded as applied has every new file on disk. A backup
//! that is a hard link to the original's inode is on disk by then too (its
//! name and the inode's link count, flushed with the run folder), so a rename
//! that drops the original's name never drops its last link, crash or not.

use std::collections::HashSet;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The message of [`write_atomic_if`] when the file changed on disk.
pub const CHANGED_MEANWHILE: &str =
    "changed on disk while tlsmend was writing (another program saved it); it was not overwritten";

/// Mode and owner to give a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Owner {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

impl Owner {
    pub fn of(path: &Path) -> std::io::Result<Owner> {
        let m = std::fs::metadata(path)?;
        Ok(Owner {
            mode: m.mode() & 0o7777,
            uid: m.uid(),
            gid: m.gid(),
        })
    }
}

/// Replaces `path` with `bytes`, keeping `owner` (the original's when `None`).
pub fn write_atomic(path: &Path, bytes: &[u8], owner: Option<Owner>) -> std::io::Result<()> {
    write_atomic_if(path, bytes, owner, None)
}

/// [`write_atomic`], but only if `path` still has the SHA-256 `expected`
/// immediately before the rename (an editor or another run saving the file
/// meanwhile is not overwritten): otherwise an error of kind
/// `ErrorKind::Other` saying so, and `path` is untouched.
pub fn write_atomic_if(
    path: &Path,
    bytes: &[u8],
    owner: Option<Owner>,
    expected: Option<&str>,
) -> std::io::Result<()> {
    let (staged, file) = stage(path, bytes, owner)?;
    file.sync_all()?;
    drop(file);
    staged.replace_if(expected)?;
    std::fs::File::open(dir_of(path))?.sync_all()?;
    Ok(())
}

/// The directory holding `path` (`.` for a bare name).
fn dir_of(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// A new file's bytes in a temporary file beside it, not yet in place; the
/// temporary file is removed if it is dropped unused.
#[derive(Debug)]
pub struct Staged {
    tmp: tempfile::TempPath,
    path: PathBuf,
}

/// Writes `bytes` to a temporary file beside `path` with `owner` (the
/// original's when `None`); returns it and its open file, not flushed.
fn stage(
    path: &Path,
    bytes: &[u8],
    owner: Option<Owner>,
) -> std::io::Result<(Staged, std::fs::File)> {
    let owner = match owner {
        Some(o) => o,
        None => Owner::of(path)?,
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".tlsmend-")
        .suffix(".tmp")
        .tempfile_in(dir_of(path))?;
    tmp.write_all(bytes)?;
    let file = tmp.as_file();
    // chown first: it may clear set-id bits that the chmod then restores.
    if let Err(e) = std::os::unix::fs::fchown(file, Some(owner.uid), Some(owner.gid)) {
        // Only root may give a file away; a user editing their own files keeps theirs.
        let mine = Owner::of(tmp.path())?;
        if (mine.uid != owner.uid || mine.gid != owner.gid)
            && e.kind() != std::io::ErrorKind::PermissionDenied
        {
            return Err(e);
        }
    }
    file.set_permissions(std::fs::Permissions::from_mode(owner.mode))?;
    let (file, tmp) = tmp.into_parts();
    Ok((
        Staged {
            tmp,
            path: path.to_path_buf(),
        },
        file,
    ))
}

/// Step 1 of the module's many-file write: the temporary files of `files`
/// (path, new bytes, owner), all on disk when this returns. On an error,
/// which names its file, no temporary file is left and nothing in place
/// changed.
pub fn stage_all(files: &[(&Path, &[u8], Owner)]) -> std::io::Result<Vec<Staged>> {
    let flush = FsFlush::open(files.iter().map(|(p, _, _)| dir_of(p)))?;
    let mut staged = Vec::with_capacity(files.len());
    for (path, bytes, owner) in files {
        // The file is closed at once: thousands of open files would run
        // into the limit on descriptors.
        let (s, _file) = stage(path, bytes, Some(*owner)).map_err(at(path))?;
        staged.push(s);
    }
    flush.flush()?;
    Ok(staged)
}

impl Staged {
    /// Step 2: renames the temporary file over the original, only if the
    /// original still has the SHA-256 `expected` (see [`write_atomic_if`]).
    pub fn replace_if(self, expected: Option<&str>) -> std::io::Result<()> {
        if let Some(want) = expected {
            let now = std::fs::read(&self.path).map(|b| crate::backup::sha256_hex(&b))?;
            if now != want {
                return Err(std::io::Error::other(CHANGED_MEANWHILE));
            }
        }
        self.tmp.persist(&self.path).map_err(|e| e.error)
    }
}

/// Step 3: flushes each directory holding one of `paths`, once.
pub fn sync_dirs<'a>(paths: impl IntoIterator<Item = &'a Path>) -> std::io::Result<()> {
    let mut done = HashSet::new();
    for p in paths {
        let dir = dir_of(p);
        if done.insert(dir.to_path_buf()) {
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(at(dir))?;
        }
    }
    Ok(())
}

/// An I/O error that names its path.
fn at(p: &Path) -> impl Fn(std::io::Error) -> std::io::Error + '_ {
    move |e| std::io::Error::new(e.kind(), format!("{}: {e}", p.display()))
}

/// The file systems holding some directories, opened so that one
/// `syncfs(2)` each flushes everything written to them since, and reports
/// any write-back error of that data.
pub struct FsFlush {
    fs: Vec<(PathBuf, std::fs::File)>,
}

impl FsFlush {
    /// Opens one directory per file system among `dirs`.
    pub fn open<'a>(dirs: impl IntoIterator<Item = &'a Path>) -> std::io::Result<FsFlush> {
        let mut seen_dirs = HashSet::new();
        let mut devices = HashSet::new();
        let mut fs = Vec::new();
        for d in dirs {
            if !seen_dirs.insert(d) {
                continue;
            }
            let dev = std::fs::metadata(d).map_err(at(d))?.dev();
            if devices.insert(dev) {
                fs.push((d.to_path_buf(), std::fs::File::open(d).map_err(at(d))?));
            }
        }
        Ok(FsFlush { fs })
    }

    /// Flushes every file system, data and metadata, to disk.
    pub fn flush(&self) -> std::io::Result<()> {
        for (dir, f) in &self.fs {
            // SAFETY: syncfs only reads the descriptor, which `f` keeps open.
            if unsafe { libc::syncfs(f.as_raw_fd()) } != 0 {
                return Err(at(dir)(std::io::Error::last_os_error()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_mode_and_replaces_content() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f.conf");
        std::fs::write(&p, "old").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&p, b"new", None).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        assert_eq!(Owner::of(&p).unwrap().mode, 0o640);
        let left: Vec<_> = std::fs::read_dir(d.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file is left behind");
    }
}
