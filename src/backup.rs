//! Run folders: the originals of every file a run writes, and a manifest
//! (path, SHA-256 before and after, mode, owner), so that `rollback` can
//! restore a run and refuse to overwrite a file edited since.
//!
//! A run folder is built under a hidden `.NAME.partial` name and renamed into
//! place only when complete, so a listed run always has all its originals.
//!
//! An original is kept as a hard link to its own inode wherever the run
//! folder is on its file system and the file has no other name: the write
//! that follows renames a new file over the original's *name*, which leaves
//! that inode, and so the backup, as it was. No byte is copied and no inode
//! is made, and on ext4 a rename that does not drop the last link frees
//! nothing. Elsewhere (another file system, a file that has other hard links
//! or refuses the link, a symbolic link swapped in) the original's bytes, as
//! read and checked, are copied into a new 0600 file.
//!
//! Until its file is renamed over, a linked backup *is* the file in place,
//! and something writing into that file (an editor saving in place in the
//! moment between tlsmend's last check and its rename) writes into the
//! backup too. So once the files are written, [`settle`] reads every backup
//! back: one that does not hold exactly the bytes recorded as
//! `sha256_before`, or that still shares its inode (a file not replaced
//! after a failure), is replaced by a private copy of the bytes tlsmend
//! read; a run killed before that is detached by the next command that
//! notices it ([`detach`]). One window stays open: a program that opened
//! the old file before its rename can still write into its inode (the
//! backup) through that descriptor. Rollback checks every backup against
//! the hash before it writes anything, so such a backup is refused, never
//! restored.
//!
//! Folders are 0700: backups of /etc are not world-readable. A copy is
//! 0600; a link keeps the original's own mode and owner (changing them would
//! change the original), never wider than the file had in place, and is
//! reached only through the 0700 folder.

use crate::live::ldapmodify::{LdapChange, LdapMod};
use crate::write::{FsFlush, Owner, write_atomic};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One file a run changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Where the file is written: absolute, canonical (symlinks resolved).
    pub path: PathBuf,
    /// The path the user knows it by.
    pub shown: PathBuf,
    pub before: String,
    pub after: String,
    pub owner: Owner,
    /// The original's file name inside the run folder.
    pub stored: String,
}

impl Entry {
    /// Where the original is kept in `run_dir`.
    pub fn backup_in(&self, run_dir: &Path) -> PathBuf {
        run_dir.join("files").join(&self.stored)
    }
}

/// A change made on a running LDAP server: what was applied and the
/// change file that undoes it, both kept in the run folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LdapRecord {
    pub change: LdapChange,
    pub applied: String,
    pub inverse: String,
}

/// Where a run stands, from the journal in its folder: the journal is
/// written (with the folder) before the first file is replaced and removed
/// when every write is done, so a run killed half-way keeps one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// Every file was written.
    Complete,
    /// Writing, by the process `pid` (or it was killed while writing).
    Writing { pid: u32 },
    /// A write failed and putting back the files already written failed
    /// too (the reason); the originals are in the folder.
    Failed(String),
    /// A run killed while writing, noticed by a later tlsmend command.
    Interrupted { pid: u32 },
}

#[derive(Clone, Debug)]
pub struct Run {
    pub id: String,
    pub dir: PathBuf,
    pub created: u64,
    /// Its place in the backup dir's sequence of runs (1, 2, ...; 0 in
    /// runs made before tlsmend recorded it): the order of runs.
    pub seq: u64,
    /// The canonical root the run was made on (`None` in runs made before
    /// tlsmend recorded it).
    pub root: Option<PathBuf>,
    pub entries: Vec<Entry>,
    pub ldap: Vec<LdapRecord>,
    pub rolled_back: bool,
    pub state: State,
}

impl Run {
    /// Its state in a word or a sentence, for `rollback --list`.
    pub fn describe(&self) -> String {
        if self.rolled_back {
            return "rolled back".into();
        }
        match &self.state {
            State::Complete => "applied".into(),
            State::Writing { pid } if crate::journal::pid_alive(*pid) => {
                format!("being written by process {pid}")
            }
            State::Writing { pid } | State::Interrupted { pid } => format!(
                "interrupted (process {pid} ended while writing; some files may be written): roll it back, or run apply again to finish"
            ),
            State::Failed(why) => format!(
                "FAILED, partly written and not undone ({why}): roll it back once the cause is fixed"
            ),
        }
    }
}

/// A file to back up and then write.
pub struct Pending<'a> {
    pub path: &'a Path,
    pub shown: &'a Path,
    pub original: &'a [u8],
    pub new: &'a [u8],
}

/// An I/O error that names its path.
fn at(p: &Path) -> impl Fn(std::io::Error) -> std::io::Error + '_ {
    move |e| std::io::Error::new(e.kind(), format!("{}: {e}", p.display()))
}

fn mkdir_private(p: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(p)
        .map_err(at(p))
}

fn write_private(p: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_private_unflushed(p, bytes)?.sync_all().map_err(at(p))
}

/// A new private file with `bytes`, left for the caller to flush (one
/// `syncfs` for a whole run folder instead of an fsync per file).
fn write_private_unflushed(p: &Path, bytes: &[u8]) -> std::io::Result<std::fs::File> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(p)
        .map_err(at(p))?;
    f.write_all(bytes).map_err(at(p))?;
    Ok(f)
}

/// How a run folder keeps an original.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kept {
    /// A hard link to the original's inode.
    Link,
    /// A private (0600) copy of the bytes read.
    Copy,
}

/// Keeps the original at `path` (canonical, holding `original`) as `dest`:
/// a hard link to its inode when the file has no other name and the file
/// system allows it, else a private copy of `original`. A link that turns
/// out not to be a regular file with the original's inode (the path was
/// swapped meanwhile) is replaced by a copy. The caller flushes `dest`
/// (see [`create_run`]).
fn keep_original(path: &Path, dest: &Path, original: &[u8]) -> std::io::Result<Kept> {
    use std::os::unix::fs::MetadataExt;
    let sole_name = std::fs::metadata(path).is_ok_and(|m| m.nlink() == 1);
    if sole_name && std::fs::hard_link(path, dest).is_ok() {
        let same = match (std::fs::metadata(path), std::fs::symlink_metadata(dest)) {
            (Ok(a), Ok(b)) => b.file_type().is_file() && (a.dev(), a.ino()) == (b.dev(), b.ino()),
            _ => false,
        };
        if same {
            return Ok(Kept::Link);
        }
        std::fs::remove_file(dest).map_err(at(dest))?;
    }
    write_private_unflushed(dest, original)?;
    Ok(Kept::Copy)
}

/// Why [`settle`] made a backup again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resettled {
    /// It no longer held the bytes read: something wrote into the file.
    Written,
    /// It held them, but had another name (a hard link made meanwhile).
    Shared,
}

/// Makes every backup of `run` hold its original on its own: a backup that
/// is not a regular file with the bytes of `sha256_before` and a single
/// name (see the module's doc) is replaced by a private copy of
/// `originals[k]`, the bytes read of entry `k`. Returns the entries made
/// again and why, so that the caller can say so; an error names the backup
/// that could not be made whole.
pub fn settle(run: &Run, originals: &[&[u8]]) -> std::io::Result<Vec<(usize, Resettled)>> {
    let mut remade = Vec::new();
    for (k, (e, original)) in run.entries.iter().zip(originals).enumerate() {
        let why = match read_backup(&e.backup_in(&run.dir)) {
            Some((bytes, 1)) if sha256_hex(&bytes) == e.before => continue,
            Some((bytes, _)) if sha256_hex(&bytes) == e.before => Resettled::Shared,
            _ => Resettled::Written,
        };
        replace_backup(run, e, original)?;
        remade.push((k, why));
    }
    if !remade.is_empty() {
        std::fs::File::open(run.dir.join("files"))?.sync_all()?;
    }
    Ok(remade)
}

/// For a run left behind (killed while writing, or failed), without the
/// bytes read at hand: each backup that still shares its inode with the
/// file in place, which the run never replaced, becomes a private copy of
/// itself while it still holds its original, so that later edits of that
/// file leave it as it is; a copy a settle killed half-way left is removed.
/// Returns one sentence for each backup that no longer holds its original
/// (something wrote into the file in place before it was detached) or
/// could not be detached. Cheap when there is nothing to do (a `stat` each).
pub fn detach(run: &Run) -> Vec<String> {
    use std::os::unix::fs::MetadataExt;
    let mut said = Vec::new();
    let mut changed = false;
    for e in &run.entries {
        let kept = e.backup_in(&run.dir);
        let _ = std::fs::remove_file(tmp_beside(&kept));
        if std::fs::symlink_metadata(&kept).is_ok_and(|m| m.is_file() && m.nlink() == 1) {
            continue;
        }
        match read_backup(&kept) {
            Some((bytes, _)) if sha256_hex(&bytes) == e.before => {
                match replace_backup(run, e, &bytes) {
                    Ok(()) => changed = true,
                    Err(err) => said.push(format!(
                        "run {}: the backup of {} still shares the file's inode and could not be made a copy of its own: {err}",
                        run.id,
                        e.shown.display()
                    )),
                }
            }
            _ => said.push(format!(
                "run {}: the backup of {} no longer holds its original (the file was written into in place before tlsmend could detach it); rollback cannot restore that file",
                run.id,
                e.shown.display()
            )),
        }
    }
    if changed
        && let Err(err) = std::fs::File::open(run.dir.join("files")).and_then(|d| d.sync_all())
    {
        said.push(format!("{}: {err}", run.dir.display()));
    }
    said
}

/// Replaces the backup of `e` in `run` with a private copy of `original`.
fn replace_backup(run: &Run, e: &Entry, original: &[u8]) -> std::io::Result<()> {
    replace_private(&e.backup_in(&run.dir), original)
}

/// The temporary file beside `dest` that [`replace_private`] writes first:
/// `.NAME.tmp` in the same folder.
fn tmp_beside(dest: &Path) -> PathBuf {
    let name = dest.file_name().unwrap_or_default().to_string_lossy();
    dest.with_file_name(format!(".{name}.tmp"))
}

/// Replaces the private file `dest` with `bytes` atomically: written and
/// flushed beside it, then renamed over it (the caller flushes the folder).
fn replace_private(dest: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = tmp_beside(dest);
    let _ = std::fs::remove_file(&tmp);
    write_private(&tmp, bytes)?;
    std::fs::rename(&tmp, dest).map_err(at(dest))
}

/// The bytes of the backup at `kept` and its number of names, read from one
/// open file; `None` if it is not a regular file that can be read.
fn read_backup(kept: &Path) -> Option<(Vec<u8>, u64)> {
    use std::io::Read;
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(kept)
        .ok()?;
    let m = f.metadata().ok()?;
    if !m.file_type().is_file() {
        return None;
    }
    let mut bytes = Vec::with_capacity(m.len() as usize);
    f.read_to_end(&mut bytes).ok()?;
    Some((bytes, m.nlink()))
}

/// `2026-11-29T21-30-05Z`-style UTC timestamp, sortable as text.
fn timestamp(secs: u64) -> String {
    let rem = secs % 86_400;
    format!(
        "{}T{:02}-{:02}-{:02}Z",
        crate::civil::date(secs / 86_400),
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn entry_json(e: &Entry) -> Value {
    json!({
        "path": e.path.to_string_lossy(),
        "shown": e.shown.to_string_lossy(),
        "sha256_before": e.before,
        "sha256_after": e.after,
        "mode": format!("{:o}", e.owner.mode),
        "uid": e.owner.uid,
        "gid": e.owner.gid,
        "stored": e.stored,
    })
}

/// Keeps the originals (linked or copied, see the module's doc) in a new,
/// complete run folder and returns it. No file in place changes.
/// `root` is the canonical root the files are in; paths are recorded
/// absolute and canonical, so that rollback works from any directory.
pub fn create_run(
    backup_dir: &Path,
    root: &Path,
    files: &[Pending],
    ldap: &[&LdapChange],
) -> std::io::Result<Run> {
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    create_run_at(backup_dir, root, files, ldap, created)
}

/// The next number in the backup dir's sequence of runs.
fn next_seq(backup_dir: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(backup_dir) else {
        return 1;
    };
    rd.flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("manifest.json")).ok())
        .filter_map(|t| serde_json::from_str::<Value>(&t).ok())
        .filter_map(|v| v["seq"].as_u64())
        .max()
        .unwrap_or(0)
        + 1
}

fn create_run_at(
    backup_dir: &Path,
    root: &Path,
    files: &[Pending],
    ldap: &[&LdapChange],
    created: u64,
) -> std::io::Result<Run> {
    mkdir_private(backup_dir)?;
    let backup_dir = &std::fs::canonicalize(backup_dir)?;
    let seq = next_seq(backup_dir);
    let mut id = format!("{}-{}", timestamp(created), std::process::id());
    let mut n = 1;
    while backup_dir.join(&id).exists() {
        n += 1;
        id = format!("{}-{}-{n}", timestamp(created), std::process::id());
    }
    let partial = backup_dir.join(format!(".{id}.partial"));
    // A run folder that cannot be completed (a full disk) does not stay.
    let made = (|| -> std::io::Result<_> {
        mkdir_private(&partial.join("files"))?;
        // Every file of the folder is written, then all are flushed by one
        // syncfs (opened first, so that it reports any write-back error of
        // them) before the folder is renamed into place: a listed run, and
        // its journal, is on disk whole (see crate::write).
        let flush = FsFlush::open([partial.as_path()])?;
        let mut entries = Vec::new();
        for (i, f) in files.iter().enumerate() {
            let name = f
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let stored = format!("{i:04}-{name}");
            let path = std::fs::canonicalize(f.path).map_err(at(f.path))?;
            keep_original(&path, &partial.join("files").join(&stored), f.original)?;
            entries.push(Entry {
                path,
                shown: f.shown.to_path_buf(),
                before: sha256_hex(f.original),
                after: sha256_hex(f.new),
                owner: Owner::of(f.path)?,
                stored,
            });
        }
        let mut records = Vec::new();
        for (i, c) in ldap.iter().enumerate() {
            let applied = format!("ldap-{i:04}.ldif");
            let inverse = format!("ldap-{i:04}-inverse.ldif");
            write_private_unflushed(&partial.join(&applied), c.ldif().as_bytes())?;
            write_private_unflushed(&partial.join(&inverse), c.inverse_ldif().as_bytes())?;
            records.push(LdapRecord {
                change: (*c).clone(),
                applied,
                inverse,
            });
        }
        let manifest = json!({
            "tool": "tlsmend",
            "version": env!("CARGO_PKG_VERSION"),
            "id": id,
            "created_unix": created,
            "seq": seq,
            "root": root.to_string_lossy(),
            "files": entries.iter().map(entry_json).collect::<Vec<_>>(),
            "ldap": records.iter().map(|r| json!({
                "uri": r.change.uri,
                "dn": r.change.dn,
                "applied": r.applied,
                "inverse": r.inverse,
                "mods": r.change.mods.iter().map(|m| json!({"attr": m.attr, "old": m.old, "new": m.new})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        });
        write_private_unflushed(
            &partial.join("manifest.json"),
            serde_json::to_string_pretty(&manifest)?.as_bytes(),
        )?;
        let pid = std::process::id();
        write_private_unflushed(
            &partial.join(JOURNAL),
            journal_json(&State::Writing { pid }).as_bytes(),
        )?;
        flush.flush()?;
        std::fs::File::open(&partial)?.sync_all()?;
        let dir = backup_dir.join(&id);
        std::fs::rename(&partial, &dir)?;
        Ok((entries, records, pid, dir))
    })();
    let (entries, records, pid, dir) = made.inspect_err(|_| {
        let _ = std::fs::remove_dir_all(&partial);
    })?;
    std::fs::File::open(backup_dir)?.sync_all()?;
    Ok(Run {
        id,
        dir,
        created,
        seq,
        root: Some(root.to_path_buf()),
        entries,
        ldap: records,
        rolled_back: false,
        state: State::Writing { pid },
    })
}

/// The journal's name in a run folder.
pub const JOURNAL: &str = "journal.json";

fn journal_json(state: &State) -> String {
    let v = match state {
        State::Complete => json!({"state": "complete"}),
        State::Writing { pid } => json!({"state": "writing", "pid": pid}),
        State::Failed(why) => json!({"state": "failed", "why": why}),
        State::Interrupted { pid } => json!({"state": "interrupted", "pid": pid}),
    };
    v.to_string()
}

fn read_journal(dir: &Path) -> State {
    let Ok(text) = std::fs::read_to_string(dir.join(JOURNAL)) else {
        return State::Complete;
    };
    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let pid = v["pid"].as_u64().unwrap_or(0) as u32;
    match v["state"].as_str() {
        Some("complete") => State::Complete,
        Some("failed") => State::Failed(v["why"].as_str().unwrap_or("").to_string()),
        Some("interrupted") => State::Interrupted { pid },
        // A journal cut short is a run that was writing.
        _ => State::Writing { pid },
    }
}

/// Replaces the journal of `run` (atomically, synced).
pub fn set_state(run: &Run, state: &State) -> std::io::Result<()> {
    replace_private(&run.dir.join(JOURNAL), journal_json(state).as_bytes())?;
    std::fs::File::open(&run.dir)?.sync_all()
}

/// Every write of `run` is done: its journal goes.
pub fn finish(run: &Run) -> std::io::Result<()> {
    std::fs::remove_file(run.dir.join(JOURNAL))?;
    std::fs::File::open(&run.dir)?.sync_all()
}

/// Undoing a failed write failed: the run stays, marked with why.
pub fn mark_failed(run: &Run, why: &str) -> std::io::Result<()> {
    set_state(run, &State::Failed(why.to_string()))
}

fn read_run(dir: &Path) -> Result<Run, String> {
    let text = std::fs::read_to_string(dir.join("manifest.json"))
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let v: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}/manifest.json: {e}", dir.display()))?;
    let bad = || format!("{}/manifest.json is not a tlsmend manifest", dir.display());
    let mut entries = Vec::new();
    for f in v["files"].as_array().ok_or_else(bad)? {
        let s = |k: &str| f[k].as_str().map(str::to_string).ok_or_else(bad);
        entries.push(Entry {
            path: PathBuf::from(s("path")?),
            shown: PathBuf::from(s("shown")?),
            before: s("sha256_before")?,
            after: s("sha256_after")?,
            owner: Owner {
                mode: u32::from_str_radix(&s("mode")?, 8).map_err(|_| bad())?,
                uid: f["uid"].as_u64().ok_or_else(bad)? as u32,
                gid: f["gid"].as_u64().ok_or_else(bad)? as u32,
            },
            stored: s("stored")?,
        });
    }
    let mut ldap = Vec::new();
    for r in v["ldap"].as_array().cloned().unwrap_or_default() {
        let s = |k: &str| r[k].as_str().map(str::to_string).ok_or_else(bad);
        let mut mods = Vec::new();
        for m in r["mods"].as_array().ok_or_else(bad)? {
            mods.push(LdapMod {
                attr: m["attr"].as_str().ok_or_else(bad)?.to_string(),
                old: m["old"]
                    .as_array()
                    .ok_or_else(bad)?
                    .iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect(),
                new: m["new"].as_str().ok_or_else(bad)?.to_string(),
            });
        }
        ldap.push(LdapRecord {
            change: LdapChange {
                uri: s("uri")?,
                dn: s("dn")?,
                mods,
            },
            applied: s("applied")?,
            inverse: s("inverse")?,
        });
    }
    Ok(Run {
        ldap,
        id: v["id"].as_str().ok_or_else(bad)?.to_string(),
        dir: dir.to_path_buf(),
        created: v["created_unix"].as_u64().unwrap_or(0),
        seq: v["seq"].as_u64().unwrap_or(0),
        root: v["root"].as_str().map(PathBuf::from),
        entries,
        rolled_back: dir.join("rolled-back").exists(),
        state: read_journal(dir),
    })
}

/// Runs, oldest first: by sequence number, then (older runs) by time.
pub fn list_runs(backup_dir: &Path) -> Result<Vec<Run>, String> {
    let rd = match std::fs::read_dir(backup_dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot list {}: {e}", backup_dir.display())),
    };
    let mut runs = Vec::new();
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !e.path().join("manifest.json").is_file() {
            continue;
        }
        runs.push(read_run(&e.path())?);
    }
    runs.sort_by(|a, b| (a.seq, a.created, &a.id).cmp(&(b.seq, b.created, &b.id)));
    Ok(runs)
}

/// Whether `run` may be rolled back with `root` (the `--root` given, or
/// none): the roots must be the same tree.
pub fn check_root(run: &Run, root: Option<&Path>) -> Result<(), String> {
    let (Some(mine), Some(given)) = (&run.root, root) else {
        return Ok(());
    };
    let given = std::fs::canonicalize(given).map_err(|e| format!("{}: {e}", given.display()))?;
    if &given != mine {
        return Err(format!(
            "run {} was made on the root {}, not {}; nothing was restored",
            run.id,
            mine.display(),
            given.display()
        ));
    }
    Ok(())
}

/// Why the paths a run recorded cannot be trusted to name the files it
/// wrote: relative paths (runs of older versions, which depended on the
/// directory tlsmend ran in), a root that moved, a path outside the root or
/// whose directory now resolves elsewhere (a symlink swapped in).
fn where_refused(run: &Run, force: bool) -> Vec<String> {
    let mut refused = Vec::new();
    if let Some(root) = &run.root
        && std::fs::canonicalize(root).ok().as_ref() != Some(root)
    {
        refused.push(format!(
            "the root {} of run {} is gone or moved",
            root.display(),
            run.id
        ));
    }
    for e in &run.entries {
        if !e.path.is_absolute() {
            if !force {
                refused.push(format!(
                    "{} is recorded relative to the directory run {} was made in (an older tlsmend); run rollback from that directory with --force",
                    e.path.display(),
                    run.id
                ));
            }
            continue;
        }
        if let Some(root) = &run.root
            && !e.path.starts_with(root)
        {
            refused.push(format!(
                "{} is outside the run's root {}",
                e.path.display(),
                root.display()
            ));
        }
        if let Some(dir) = e.path.parent()
            && std::fs::canonicalize(dir).ok().as_deref() != Some(dir)
        {
            refused.push(format!(
                "{} is gone or now resolves elsewhere (a symbolic link?)",
                dir.display()
            ));
        }
    }
    refused
}

/// What rollback did or would do to one file.
#[derive(Debug, PartialEq, Eq)]
pub enum Restore {
    Restored(PathBuf),
    AlreadyOriginal(PathBuf),
    /// An entry of a live LDAP server, restored with its inverse change file.
    Ldap(String),
    /// With `force`: a file whose backup no longer holds its original, left
    /// as it is (why), while the others are restored.
    NotRestored(PathBuf, String),
}

/// The bytes of the backup of `e` in `run`, read and checked against its
/// `sha256_before`; or why they cannot be restored.
fn original_in(run: &Run, e: &Entry) -> Result<Vec<u8>, String> {
    match std::fs::read(e.backup_in(&run.dir)) {
        Ok(original) if sha256_hex(&original) == e.before => Ok(original),
        Ok(_) => Err(format!(
            "the backup of {} does not match its manifest hash (it changed after run {}); it cannot be restored from it",
            e.shown.display(),
            run.id
        )),
        Err(err) => Err(format!(
            "the backup of {} in run {} is missing: {err}",
            e.shown.display(),
            run.id
        )),
    }
}

/// Restores every file of `run`. A file whose content is neither what the
/// run wrote nor the original was edited since: refused, unless `force`.
/// A file whose backup no longer holds its original: refused, unless
/// `force`, which restores the others and names it
/// ([`Restore::NotRestored`]; the run is then not marked rolled back).
/// Every file is checked before any is written.
pub fn rollback(run: &Run, force: bool) -> Result<Vec<Restore>, String> {
    let mut plan = Vec::new();
    let mut skipped = Vec::new();
    let mut refused = where_refused(run, force);
    // A live server's values must still be what the run set.
    for r in &run.ldap {
        let attrs: Vec<&str> = r.change.mods.iter().map(|m| m.attr.as_str()).collect();
        match crate::live::ldapmodify::current_values(&r.change.uri, &r.change.dn, &attrs) {
            Ok(now) => {
                for (m, (_, vals)) in r.change.mods.iter().zip(now) {
                    if vals != [m.new.clone()] && !force {
                        refused.push(format!(
                            "{} of {} on {} changed after run {} (use --force to restore it)",
                            m.attr, r.change.dn, r.change.uri, run.id
                        ));
                    }
                }
            }
            Err(e) => refused.push(e),
        }
    }
    for e in &run.entries {
        let current = std::fs::read(&e.path).map(|b| sha256_hex(&b));
        let overwrite = match current {
            Ok(h) if h == e.before => false,
            Ok(h) if h == e.after => true,
            Ok(_) | Err(_) if force => true,
            Ok(_) => {
                refused.push(format!(
                    "{} changed after run {} (use --force to overwrite it)",
                    e.shown.display(),
                    run.id
                ));
                continue;
            }
            Err(err) => {
                refused.push(format!(
                    "{}: {err} (use --force to recreate it)",
                    e.path.display()
                ));
                continue;
            }
        };
        if !overwrite {
            plan.push((e, None));
            continue;
        }
        match original_in(run, e) {
            Ok(original) => plan.push((e, Some(original))),
            Err(why) if force => skipped.push(Restore::NotRestored(e.shown.clone(), why)),
            Err(why) => refused.push(format!("{why} (use --force to restore the others)")),
        }
    }
    if !refused.is_empty() {
        return Err(format!("nothing was restored:\n  {}", refused.join("\n  ")));
    }
    let mut done = Vec::new();
    for r in &run.ldap {
        let inverse = std::fs::read_to_string(run.dir.join(&r.inverse))
            .map_err(|e| format!("{}: {e}", r.inverse))?;
        crate::live::ldapmodify::run_ldapmodify(&r.change.uri, &inverse)?;
        done.push(Restore::Ldap(format!(
            "{} on {}",
            r.change.dn, r.change.uri
        )));
    }
    for (e, original) in plan {
        let Some(original) = original else {
            done.push(Restore::AlreadyOriginal(e.shown.clone()));
            continue;
        };
        write_atomic(&e.path, &original, Some(e.owner))
            .map_err(|err| format!("cannot restore {}: {err}", e.path.display()))?;
        done.push(Restore::Restored(e.shown.clone()));
    }
    if !skipped.is_empty() {
        // Not wholly rolled back: the run stays listed as it was.
        done.extend(skipped);
        return Ok(done);
    }
    write_private(&run.dir.join("rolled-back"), b"")
        .or_else(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Ok(())
            } else {
                Err(e)
            }
        })
        .map_err(|e| e.to_string())?;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_original_is_kept_as_a_link_to_its_sole_inode_else_as_a_private_copy() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("a.conf");
        std::fs::write(&f, "old").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        let linked = d.path().join("linked");
        assert_eq!(keep_original(&f, &linked, b"old").unwrap(), Kept::Link);
        let ino = |p: &Path| std::fs::metadata(p).unwrap().ino();
        assert_eq!(ino(&linked), ino(&f));
        // A symbolic link swapped in for the file: the link made would be
        // the symbolic link itself, so the bytes read are copied instead.
        let target = d.path().join("target.conf");
        std::fs::write(&target, "new").unwrap();
        let sym = d.path().join("sym.conf");
        std::os::unix::fs::symlink(&target, &sym).unwrap();
        let copied = d.path().join("copied");
        assert_eq!(keep_original(&sym, &copied, b"read").unwrap(), Kept::Copy);
        // A file with another name could be written into through it after
        // the run: copied.
        let twice = d.path().join("twice.conf");
        std::fs::write(&twice, "read").unwrap();
        std::fs::hard_link(&twice, d.path().join("other-name")).unwrap();
        let of_twice = d.path().join("of-twice");
        assert_eq!(
            keep_original(&twice, &of_twice, b"read").unwrap(),
            Kept::Copy
        );
        // A file that cannot be linked (here: gone) is copied from the bytes read.
        let gone = d.path().join("gone");
        assert_eq!(
            keep_original(&d.path().join("missing"), &gone, b"read").unwrap(),
            Kept::Copy
        );
        for c in [&copied, &of_twice, &gone] {
            let m = std::fs::symlink_metadata(c).unwrap();
            assert!(m.file_type().is_file());
            assert_eq!(m.mode() & 0o7777, 0o600);
            assert_eq!(std::fs::read(c).unwrap(), b"read");
        }
    }

    #[test]
    fn timestamps_are_utc_dates() {
        assert_eq!(timestamp(0), "1970-01-01T00-00-00Z");
        assert_eq!(timestamp(1_796_000_000), "2026-11-30T00-53-20Z");
    }

    #[test]
    fn runs_of_the_same_second_are_listed_in_the_order_they_were_made() {
        let d = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(d.path()).unwrap();
        let f = root.join("a.conf");
        std::fs::write(&f, "old").unwrap();
        let b = d.path().join("b");
        let mut made = Vec::new();
        for _ in 0..12 {
            let p = Pending {
                path: &f,
                shown: &f,
                original: b"old",
                new: b"new",
            };
            made.push(
                create_run_at(&b, &root, &[p], &[], 1_796_000_000)
                    .unwrap()
                    .id,
            );
        }
        let listed: Vec<String> = list_runs(&b).unwrap().into_iter().map(|r| r.id).collect();
        assert_eq!(listed, made);
    }

    #[test]
    fn run_round_trip_and_rollback() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("a.conf");
        std::fs::write(&f, "old").unwrap();
        let root = std::fs::canonicalize(d.path()).unwrap();
        let f = root.join("a.conf");
        let run = create_run(
            &d.path().join("b"),
            &root,
            &[Pending {
                path: &f,
                shown: &f,
                original: b"old",
                new: b"new",
            }],
            &[],
        )
        .unwrap();
        write_atomic(&f, b"new", None).unwrap();
        let runs = list_runs(&d.path().join("b")).unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].entries, run.entries);
        std::fs::write(&f, "edited").unwrap();
        assert!(
            rollback(&runs[0], false)
                .unwrap_err()
                .contains("changed after run")
        );
        assert_eq!(std::fs::read(&f).unwrap(), b"edited");
        std::fs::write(&f, "new").unwrap();
        assert_eq!(
            rollback(&runs[0], false).unwrap(),
            vec![Restore::Restored(f.clone())]
        );
        assert_eq!(std::fs::read(&f).unwrap(), b"old");
        assert!(list_runs(&d.path().join("b")).unwrap()[0].rolled_back);
    }
}
