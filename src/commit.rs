//! Writing approved changes: all or nothing.
//!
//! Before anything in place is replaced, every new file is parsed again
//! (tlsmend never writes what it could not read back), every original is
//! checked to be unchanged on disk since it was read, and a complete backup
//! run is made (each original hard-linked or copied, [`crate::backup`]),
//! with a journal that says it is writing. Then the files are written
//! atomically: all new files flushed together, then renamed one by one,
//! each only if its hash is still the one read (checked again just before
//! its rename), then their directories flushed ([`crate::write`]), then
//! every backup read back and, if something wrote into it, made again from
//! the bytes read ([`backup::settle`]). If one write fails, the files
//! already written are restored from the bytes read and read back, and the
//! run folder is removed only when every one is verified restored (else it
//! is kept, settled, and marked failed). The journal goes when the last
//! write is done, so a run killed in between is found by the next command
//! ([`crate::journal`]). SIGINT, SIGTERM and SIGHUP wait for the end of the
//! commit ([`crate::signals`]); the binary holds the root's lock
//! ([`crate::lock`]) around all of it.

use crate::backup::{self, Pending, Run, sha256_hex};
use crate::error::{Error, Result};
use crate::live::ldapmodify::{LdapChange, run_ldapmodify};
use crate::plan::Report;
use crate::write::{stage_all, sync_dirs, write_atomic};
use std::path::Path;

/// Writes the `selected` changes of `report` (and makes the changes to live
/// LDAP servers among them); `None` when they change nothing. `warn` hears
/// what the user must know of a run that succeeded.
pub fn commit(
    report: &Report,
    selected: &[usize],
    backup_dir: &Path,
    warn: &mut dyn FnMut(&str),
) -> Result<Option<Run>> {
    let rendered = report.render(selected).map_err(|(f, e)| {
        Error::Other(format!(
            "{}: {e}; nothing was written",
            report.files[f].shown().display()
        ))
    })?;
    let rendered: Vec<_> = rendered
        .into_iter()
        .filter(|(f, new)| **new != *report.files[*f].source.bytes)
        .collect();
    let ldap: Vec<&LdapChange> = selected
        .iter()
        .filter_map(|&c| report.changes[c].ldap.as_deref())
        .collect();
    if rendered.is_empty() && ldap.is_empty() {
        return Ok(None);
    }
    for (f, new) in &rendered {
        let file = &report.files[*f];
        file.syntax.check(file.shown(), new).map_err(|e| {
            Error::Other(format!(
                "tlsmend produced a file it cannot read back (a bug; nothing was written): {e}"
            ))
        })?;
        let now = std::fs::read(&file.host).map_err(|err| Error::Io {
            path: file.host.clone(),
            action: "read",
            err,
        })?;
        if *now != *file.source.bytes {
            return Err(Error::Other(format!(
                "{} changed on disk since tlsmend read it; nothing was written. Run tlsmend again to plan against the new content.",
                file.shown().display()
            )));
        }
    }
    let pending: Vec<Pending> = rendered
        .iter()
        .map(|(f, new)| {
            let file = &report.files[*f];
            Pending {
                path: &file.host,
                shown: file.shown(),
                original: &file.source.bytes,
                new,
            }
        })
        .collect();
    // From the first backup to the last write, SIGINT, SIGTERM and SIGHUP
    // wait (when the binary installed crate::signals): no half-done run.
    let _deferred = crate::signals::defer();
    let root = root_of(report).map_err(|err| Error::Io {
        path: report
            .files
            .first()
            .map_or_else(|| "/".into(), |f| f.host.clone()),
        action: "resolve the root of",
        err,
    })?;
    let run = backup::create_run(backup_dir, &root, &pending, &ldap).map_err(|err| {
        Error::Other(format!(
            "cannot create a backup run in {}: {err}; nothing was written",
            backup_dir.display()
        ))
    })?;
    // All new files are written and flushed together, then renamed one by
    // one, then their directories flushed: see crate::write for why a crash
    // at any point leaves each file old or new.
    let files: Vec<_> = pending
        .iter()
        .zip(&run.entries)
        .map(|(p, e)| (p.path, p.new, e.owner))
        .collect();
    let originals: Vec<&[u8]> = pending.iter().map(|p| p.original).collect();
    test_pause("before-staging");
    let staged = match stage_all(&files) {
        Ok(s) => s,
        Err(err) => {
            return Err(Error::Other(format!(
                "cannot write {err}; {}",
                undo_outcome(&run, &originals, backup_dir, &[])
            )));
        }
    };
    for (k, (p, s)) in pending.iter().zip(staged).enumerate() {
        test_pause(&format!("before-write-{k}"));
        let e = &run.entries[k];
        if let Err(err) = s.replace_if(Some(&e.before)) {
            let undo = undo_files(&run, &originals, k + 1);
            return Err(Error::Other(format!(
                "cannot write {}: {err}; {}",
                p.path.display(),
                undo_outcome(&run, &originals, backup_dir, &undo)
            )));
        }
    }
    if let Err(err) = sync_dirs(pending.iter().map(|p| p.path)) {
        let undo = undo_files(&run, &originals, pending.len());
        return Err(Error::Other(format!(
            "cannot flush {err}; {}",
            undo_outcome(&run, &originals, backup_dir, &undo)
        )));
    }
    // Every file is replaced: each backup must now hold its original alone
    // (a linked backup written into before its rename is put right from
    // the bytes read, see crate::backup). If one cannot be, the run is
    // undone rather than left without its original.
    match backup::settle(&run, &originals) {
        Ok(remade) => {
            for (k, why) in remade {
                let shown = run.entries[k].shown.display();
                warn(&match why {
                    backup::Resettled::Written => format!(
                        "tlsmend: warning: {shown}: another program wrote into it while tlsmend replaced it; that write is not in the new file, and the backup holds the bytes tlsmend had read"
                    ),
                    backup::Resettled::Shared => format!(
                        "tlsmend: warning: {shown}: its backup gained another name (a hard link) while tlsmend wrote; the backup is now a copy of its own"
                    ),
                });
            }
        }
        Err(err) => {
            let undo = undo_files(&run, &originals, pending.len());
            return Err(Error::Other(format!(
                "cannot keep the originals in {}: {err}; {}",
                run.dir.display(),
                undo_outcome(&run, &originals, backup_dir, &undo)
            )));
        }
    }
    for (k, c) in ldap.iter().enumerate() {
        if let Err(e) = run_ldapmodify(&c.uri, &c.ldif()) {
            // Undo what this run already did, newest first, then report.
            let mut undo = Vec::new();
            for done in ldap[..k].iter().rev() {
                if let Err(e2) = run_ldapmodify(&done.uri, &done.inverse_ldif()) {
                    undo.push(e2);
                }
            }
            undo.extend(undo_files(&run, &originals, run.entries.len()));
            let tail = if undo.is_empty() {
                let _ = std::fs::remove_dir_all(&run.dir);
                "nothing was changed".to_string()
            } else {
                keep_failed(&run, &originals, &undo);
                format!(
                    "undoing failed: {}; the originals stay in {}: tlsmend rollback {} --backup-dir {} restores them once the cause is fixed",
                    undo.join("; "),
                    run.dir.display(),
                    run.id,
                    backup_dir.display()
                )
            };
            return Err(Error::Other(format!(
                "{e}; {tail}. If slapd is stopped, use --offline to edit slapd.d instead"
            )));
        }
    }
    backup::finish(&run).map_err(|err| Error::Io {
        path: run.dir.clone(),
        action: "close the journal of",
        err,
    })?;
    Ok(Some(run))
}

/// The canonical root of a report's files: each file's host path is the
/// root joined with its real machine path.
fn root_of(report: &Report) -> std::io::Result<std::path::PathBuf> {
    let Some(f) = report.files.first() else {
        return std::fs::canonicalize("/");
    };
    let depth = f.real.components().count().saturating_sub(1);
    let mut root = f.host.clone();
    for _ in 0..depth {
        root.pop();
    }
    if root.as_os_str().is_empty() {
        root.push(".");
    }
    std::fs::canonicalize(root)
}

/// Puts back the originals of the first `n` files of `run` (newest first),
/// from `originals` (the bytes read, which its backups were made of), and
/// reads each back: the errors of those not verified restored.
fn undo_files(run: &Run, originals: &[&[u8]], n: usize) -> Vec<String> {
    let mut errors = Vec::new();
    for (e, original) in run.entries[..n].iter().zip(originals).rev() {
        let now = std::fs::read(&e.path).map(|b| sha256_hex(&b));
        match now {
            Ok(h) if h == e.before => continue,
            Ok(h) if h == e.after => {}
            Ok(_) => {
                errors.push(format!(
                    "{}: changed by another program meanwhile; not overwritten",
                    e.shown.display()
                ));
                continue;
            }
            Err(err) => {
                errors.push(format!("{}: {err}", e.shown.display()));
                continue;
            }
        }
        let restored = write_atomic(&e.path, original, Some(e.owner)).and_then(|()| {
            let back = std::fs::read(&e.path)?;
            if sha256_hex(&back) == e.before {
                Ok(())
            } else {
                Err(std::io::Error::other("read back differs from the original"))
            }
        });
        if let Err(err) = restored {
            errors.push(format!("{}: {err}", e.shown.display()));
        }
    }
    errors
}

/// Records in the run's journal that undoing failed, so that the run stays
/// listed (and restorable) with the reason; first makes each backup hold
/// its original alone (a file not replaced still shares its inode with
/// a linked backup, and may be edited in place later).
fn keep_failed(run: &Run, originals: &[&[u8]], errors: &[String]) {
    let mut why = errors.join("; ");
    if let Err(err) = backup::settle(run, originals) {
        why.push_str(&format!(
            "; and a backup could not be made a copy of its own ({err}): check it before rolling back"
        ));
    }
    let _ = backup::mark_failed(run, &why);
}

/// What became of the files already written when a write failed: restored
/// (and the run folder removed), or kept in the run folder, which is named.
fn undo_outcome(run: &Run, originals: &[&[u8]], backup_dir: &Path, errors: &[String]) -> String {
    if errors.is_empty() {
        let _ = std::fs::remove_dir_all(&run.dir);
        return "nothing was changed (any file already written was put back and read back)"
            .to_string();
    }
    keep_failed(run, originals, errors);
    format!(
        "restoring failed for {}; the originals stay in {}: tlsmend rollback {} --backup-dir {} restores them once the cause is fixed",
        errors.join(", "),
        run.dir.display(),
        run.id,
        backup_dir.display()
    )
}

/// A test hook: with `TLSMEND_TEST_PAUSE=POINT:DIR`, the run stops at
/// `POINT` (`before-staging`: the backups are made and no new file is
/// written yet; `before-write-K`: every new file is on disk beside its
/// original and K of them are renamed into place),
/// creates `DIR/POINT.ready` holding its PID and waits (at most two
/// minutes) until `DIR/POINT.go` exists. Tests use it to act at an exact
/// moment of a commit (a second run, an edit, a signal, a failing disk).
pub fn test_pause(point: &str) {
    let Some(spec) = std::env::var_os("TLSMEND_TEST_PAUSE") else {
        return;
    };
    let spec = spec.to_string_lossy();
    let Some((at, dir)) = spec.split_once(':') else {
        return;
    };
    if at != point {
        return;
    }
    let dir = Path::new(dir);
    let _ = std::fs::write(
        dir.join(format!("{point}.ready")),
        std::process::id().to_string(),
    );
    let go = dir.join(format!("{point}.go"));
    let until = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !go.exists() && std::time::Instant::now() < until {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}
