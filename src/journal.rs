//! What a killed run leaves, found and cleared by the next one.
//!
//! A run folder holds a journal from before the first file is replaced
//! until the last is written ([`crate::backup::State`]). A later `apply` or
//! `rollback`, holding the root's lock ([`crate::lock`]), calls [`recover`]:
//! a run still marked as writing whose process is gone was interrupted; it
//! is marked so, and the user is told how to finish or undo it. Before
//! that, and at every later recover while the run is left behind (or
//! failed), each backup of a file it never replaced (a hard link to that
//! file, [`crate::backup`]) becomes a copy of its own. Leftovers of
//! killed runs go too: unfinished `.ID.partial` backup folders, the
//! `.tlsmend-*.tmp` files of atomic writes next to configuration files (an
//! Apache `Include dir/` would read them), and staging copies
//! (`tlsmend-stage-PID-*`) in the temporary directory.

use crate::backup::{self, Run, State, sha256_hex};
use crate::live::validate::STAGE;
use std::path::{Path, PathBuf};

/// Whether a process exists and has not ended (a zombie, killed but not
/// yet reaped, has ended; a PID of 0 is unknown: treated as gone).
pub fn pid_alive(pid: u32) -> bool {
    if pid == 0 || pid > i32::MAX as u32 {
        return false;
    }
    // SAFETY: signal 0 only checks that the process exists.
    let r = unsafe { libc::kill(pid as libc::pid_t, 0) };
    let exists = r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X']))
    });
    exists && !zombie
}

/// The PID in a run id (`2026-11-29T21-30-05Z-PID` or `...-PID-N`).
fn pid_of_id(id: &str) -> Option<u32> {
    let rest = id.split_once("Z-")?.1;
    rest.split('-').next()?.parse().ok()
}

/// How many files of `run` have the bytes the run wrote.
pub fn written(run: &Run) -> usize {
    run.entries
        .iter()
        .filter(|e| std::fs::read(&e.path).is_ok_and(|b| sha256_hex(&b) == e.after))
        .count()
}

/// Whether `run` is marked as writing by a process that is gone. `root` is
/// the canonical root whose lock this process holds: a run on it cannot
/// be writing in another process.
pub fn is_interrupted(run: &Run, locked_root: Option<&Path>) -> bool {
    let State::Writing { pid } = run.state else {
        return false;
    };
    if run.rolled_back {
        return false;
    }
    let ours = locked_root.is_some() && run.root.as_deref() == locked_root;
    !pid_alive(pid) || (ours && pid != std::process::id())
}

/// Under the lock of the canonical `root`: marks the interrupted runs in
/// `backup_dir`, and removes the leftovers of killed runs. Returns what it
/// found and did, one sentence each.
pub fn recover(backup_dir: &Path, root: &Path) -> Vec<String> {
    let mut said = Vec::new();
    let canonical = std::fs::canonicalize(backup_dir);
    let backup_dir = canonical.as_deref().unwrap_or(backup_dir);
    // Unfinished backup folders: a run killed before it wrote anything.
    if let Ok(rd) = std::fs::read_dir(backup_dir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(id) = name
                .strip_prefix('.')
                .and_then(|n| n.strip_suffix(".partial"))
            else {
                continue;
            };
            if pid_of_id(id).is_some_and(pid_alive) {
                continue;
            }
            match std::fs::remove_dir_all(e.path()) {
                Ok(()) => said.push(format!(
                    "removed {}, the unfinished backup folder of a run killed before it wrote anything",
                    e.path().display()
                )),
                Err(err) => said.push(format!("cannot remove {}: {err}", e.path().display())),
            }
        }
    }
    let runs = match backup::list_runs(backup_dir) {
        Ok(r) => r,
        Err(e) => {
            said.push(e);
            Vec::new()
        }
    };
    let mut dirs: Vec<PathBuf> = Vec::new();
    for run in &runs {
        if run.root.as_deref().is_some_and(|r| r != root) {
            continue;
        }
        dirs.extend(
            run.entries
                .iter()
                .filter(|e| e.path.is_absolute() && e.path.starts_with(root))
                .filter_map(|e| e.path.parent().map(Path::to_path_buf)),
        );
        // A run left behind keeps backups of its own (again at every
        // recover, in case a detach was cut short or failed).
        let left_behind =
            matches!(run.state, State::Interrupted { .. } | State::Failed(_)) && !run.rolled_back;
        let interrupted = is_interrupted(run, Some(root));
        if left_behind || interrupted {
            said.extend(backup::detach(run));
        }
        if !interrupted {
            continue;
        }
        let State::Writing { pid } = run.state else {
            continue;
        };
        let _ = backup::set_state(run, &State::Interrupted { pid });
        said.push(format!(
            "run {} was interrupted (process {pid} ended while writing; {} of its {} file(s) have the new bytes, the others the old ones). Undo it: tlsmend rollback {} --backup-dir {}; or finish it: run tlsmend apply again",
            run.id,
            written(run),
            run.entries.len(),
            run.id,
            backup_dir.display()
        ));
    }
    dirs.sort();
    dirs.dedup();
    for d in dirs {
        said.extend(remove_temporaries(&d));
    }
    said.extend(remove_stage_copies(false));
    said
}

/// Read-only, without the lock (for `audit` and `apply --dry-run`): the
/// interrupted runs in `backup_dir`, one sentence each saying what to do.
pub fn interrupted_notes(backup_dir: &Path) -> Vec<String> {
    let Ok(runs) = backup::list_runs(backup_dir) else {
        return Vec::new();
    };
    runs.iter()
        .filter(|r| is_interrupted(r, None) || matches!(r.state, State::Interrupted { .. }) && !r.rolled_back)
        .map(|r| {
            format!(
                "run {} in {} was interrupted while writing ({} of its {} file(s) have the new bytes): undo it with tlsmend rollback {} --backup-dir {}, or finish it with tlsmend apply",
                r.id,
                backup_dir.display(),
                written(r),
                r.entries.len(),
                r.id,
                backup_dir.display()
            )
        })
        .collect()
}

/// Removes `.tlsmend-*.tmp` files (regular files only) in `dir`.
pub fn remove_temporaries(dir: &Path) -> Vec<String> {
    let mut said = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return said;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !(name.starts_with(".tlsmend-") && name.ends_with(".tmp")) {
            continue;
        }
        if !e.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        match std::fs::remove_file(e.path()) {
            Ok(()) => said.push(format!(
                "removed {}, a temporary file of an interrupted write",
                e.path().display()
            )),
            Err(err) => said.push(format!("cannot remove {}: {err}", e.path().display())),
        }
    }
    said
}

/// Removes staging copies in the temporary directory: this process's own
/// (`mine`, on an interruption) or those of processes that are gone.
pub fn remove_stage_copies(mine: bool) -> Vec<String> {
    let mut said = Vec::new();
    let tmp = std::env::temp_dir();
    let Ok(rd) = std::fs::read_dir(&tmp) else {
        return said;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(STAGE)
            .and_then(|r| r.split_once('-'))
            .and_then(|(p, _)| p.parse::<u32>().ok())
        else {
            continue;
        };
        let remove = if mine {
            pid == std::process::id()
        } else {
            pid != std::process::id() && !pid_alive(pid)
        };
        if !remove {
            continue;
        }
        let p = e.path();
        let r = if e.file_type().is_ok_and(|t| t.is_dir()) {
            std::fs::remove_dir_all(&p)
        } else {
            std::fs::remove_file(&p)
        };
        if !mine {
            match r {
                Ok(()) => said.push(format!(
                    "removed {}, a staging copy left by a killed run",
                    p.display()
                )),
                Err(err) => said.push(format!("cannot remove {}: {err}", p.display())),
            }
        }
    }
    said
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_give_their_pid() {
        assert_eq!(pid_of_id("2026-11-29T21-30-05Z-4242"), Some(4242));
        assert_eq!(pid_of_id("2026-11-29T21-30-05Z-4242-3"), Some(4242));
        assert_eq!(pid_of_id("nonsense"), None);
        assert!(pid_alive(std::process::id()));
    }
}
