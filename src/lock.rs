//! One lock per root: two tlsmend runs that write (apply, rollback) never
//! work on the same tree at once. The lock is an `flock` on a file named
//! after the canonical root (in /run/lock, else the temporary directory),
//! so it is released by the kernel when the holder ends, even by `kill -9`.
//! The holder writes its PID into the file; a second run waits a few
//! seconds, then refuses naming that PID.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a second run waits for the first before refusing.
pub const WAIT: Duration = Duration::from_secs(3);

/// A held lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct RootLock {
    _file: File,
    pub path: PathBuf,
    pub root: PathBuf,
}

/// The canonical form of a root (`/` when none is given): the key of its
/// lock and what run folders record.
pub fn canonical_root(root: Option<&Path>) -> std::io::Result<PathBuf> {
    std::fs::canonicalize(root.unwrap_or(Path::new("/")))
}

/// The lock file of a canonical root.
pub fn lock_path(root: &Path) -> PathBuf {
    let dir = Path::new("/run/lock");
    let dir = if dir.is_dir() && writable(dir) {
        dir.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    let key = crate::backup::sha256_hex(root.as_os_str().as_encoded_bytes());
    dir.join(format!("tlsmend-{}.lock", &key[..16]))
}

fn writable(dir: &Path) -> bool {
    let c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).unwrap_or_default();
    // SAFETY: a valid NUL-terminated path.
    unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
}

fn try_flock(f: &File) -> std::io::Result<bool> {
    // SAFETY: flock on an open descriptor.
    let r = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if r == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(e)
    }
}

/// Takes the lock of the canonical `root`, waiting up to `wait` (calling
/// `waiting` once with the holder's PID when it has to wait). The error
/// names the other run's PID and the lock file.
pub fn lock_root(
    root: &Path,
    wait: Duration,
    waiting: &mut dyn FnMut(&str),
) -> Result<RootLock, String> {
    let path = lock_path(root);
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o644)
        .open(&path)
        // Another user's lock file: flock works on a read-only descriptor
        // too (the PID in it is then the last writer's).
        .or_else(|_| File::open(&path))
        .map_err(|e| format!("cannot open the lock file {}: {e}", path.display()))?;
    let until = Instant::now() + wait;
    let mut told = false;
    loop {
        match try_flock(&file) {
            Ok(true) => break,
            Ok(false) => {
                let holder = holder(&mut file);
                if Instant::now() >= until {
                    return Err(format!(
                        "another tlsmend run (PID {holder}) is working on {}: waited {} s for it, nothing was done; try again when it has finished (lock file {})",
                        root.display(),
                        wait.as_secs(),
                        path.display()
                    ));
                }
                if !told {
                    told = true;
                    waiting(&format!(
                        "waiting for the tlsmend run with PID {holder} on {}",
                        root.display()
                    ));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(format!("cannot lock {}: {e}", path.display())),
        }
    }
    let _ = file.set_len(0);
    let _ = file.rewind();
    let _ = write!(file, "{}\n{}\n", std::process::id(), root.display());
    let _ = file.flush();
    Ok(RootLock {
        _file: file,
        path,
        root: root.to_path_buf(),
    })
}

fn holder(file: &mut File) -> String {
    let mut s = String::new();
    let _ = file.rewind();
    let _ = file.read_to_string(&mut s);
    s.lines()
        .next()
        .filter(|l| !l.is_empty())
        .unwrap_or("unknown")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_root_is_refused_naming_the_pid() {
        let d = tempfile::tempdir().unwrap();
        let root = canonical_root(Some(d.path())).unwrap();
        let first = lock_root(&root, WAIT, &mut |_| {}).unwrap();
        let mut said = Vec::new();
        let err = lock_root(&root, Duration::from_millis(200), &mut |s| {
            said.push(s.to_string())
        })
        .unwrap_err();
        assert!(
            err.contains(&format!("PID {}", std::process::id())),
            "{err}"
        );
        assert_eq!(said.len(), 1);
        drop(first);
        lock_root(&root, WAIT, &mut |_| {}).unwrap();
    }
}
