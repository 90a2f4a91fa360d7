//! Writing approved changes: all or nothing.
//!
//! Before anything in place is replaced, every new file is parsed again
//! (tlsmend never writes what it could not read back), every original is
//! checked to be unchanged on disk since it was read, and a complete backup
//! run is made. Then the files are written one by one, atomically; if one
//! write fails, the files already written are restored from the run.

use crate::backup::{self, Pending, Run};
use crate::error::{Error, Result};
use crate::live::ldapmodify::{LdapChange, run_ldapmodify};
use crate::plan::Report;
use crate::write::write_atomic;
use std::path::Path;

/// Writes the `selected` changes of `report` (and makes the changes to live
/// LDAP servers among them); `None` when they change nothing.
pub fn commit(report: &Report, selected: &[usize], backup_dir: &Path) -> Result<Option<Run>> {
    let rendered = report.render(selected).map_err(|(f, e)| {
        Error::Other(format!(
            "{}: {e}; nothing was written",
            report.files[f].shown().display()
        ))
    })?;
    let rendered: Vec<_> = rendered
        .into_iter()
        .filter(|(f, new)| *new != report.files[*f].source.bytes)
        .collect();
    let ldap: Vec<&LdapChange> = selected
        .iter()
        .filter_map(|&c| report.changes[c].ldap.as_ref())
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
        if now != file.source.bytes {
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
    let run = backup::create_run(backup_dir, &pending, &ldap).map_err(|err| Error::Io {
        path: backup_dir.to_path_buf(),
        action: "create a backup run in",
        err,
    })?;
    for (k, p) in pending.iter().enumerate() {
        if let Err(err) = write_atomic(p.path, p.new, None) {
            let mut undo_errors = Vec::new();
            for (e, q) in run.entries.iter().zip(&pending).take(k) {
                if let Err(e2) = write_atomic(q.path, q.original, Some(e.owner)) {
                    undo_errors.push(format!("{}: {e2}", q.path.display()));
                }
            }
            let _ = std::fs::remove_dir_all(&run.dir);
            let undo = if undo_errors.is_empty() {
                "the files already written were restored".to_string()
            } else {
                format!(
                    "restoring failed for {}; originals are in {}",
                    undo_errors.join(", "),
                    run.dir.display()
                )
            };
            return Err(Error::Other(format!(
                "cannot write {}: {err}; {undo}",
                p.path.display()
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
            for (e2, p) in run.entries.iter().zip(&pending) {
                if let Err(e3) = write_atomic(p.path, p.original, Some(e2.owner)) {
                    undo.push(format!("{}: {e3}", p.path.display()));
                }
            }
            let _ = std::fs::remove_dir_all(&run.dir);
            let tail = if undo.is_empty() {
                "nothing was changed".to_string()
            } else {
                format!("undoing failed: {}", undo.join("; "))
            };
            return Err(Error::Other(format!(
                "{e}; {tail}. If slapd is stopped, use --offline to edit slapd.d instead"
            )));
        }
    }
    Ok(Some(run))
}
