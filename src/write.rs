//! Atomic replacement of a file: a temporary file in the same directory,
//! the original's mode and owner, fsync, rename, fsync of the directory.
//!
//! Callers pass the *resolved* path (symlinks followed inside the root), so a
//! symlink such as Debian's `sites-enabled/x.conf` is written through to its
//! target and stays a symlink.

use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

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
    let owner = match owner {
        Some(o) => o,
        None => Owner::of(path)?,
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".tlsmend-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
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
    file.sync_all()?;
    if let Some(want) = expected {
        let now = std::fs::read(path).map(|b| crate::backup::sha256_hex(&b))?;
        if now != want {
            return Err(std::io::Error::other(CHANGED_MEANWHILE));
        }
    }
    tmp.persist(path).map_err(|e| e.error)?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
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
