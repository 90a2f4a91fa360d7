//! Safety of writes: closed pipes, failed undos, locks, relative roots,
//! run order, interrupted runs, leftovers and signals (issue 10). Each test
//! runs the real binary on a small root made in a tempdir.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

const MAIN: &str = "smtpd_tls_cert_file = /etc/ssl/certs/x.pem\nsmtpd_tls_key_file = /etc/ssl/private/x.key\nsmtpd_tls_security_level = may\n";
const MASTER: &str = "smtp      inet  n       -       y       -       -       smtpd\n";
const SSL_CONF: &str =
    "<IfModule mod_ssl.c>\nSSLProtocol all -SSLv3\nSSLCipherSuite HIGH:!aNULL\n</IfModule>\n";

/// A root with a Postfix and an Apache file to change (two directories).
fn small_root() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    let pf = root.join("etc/postfix");
    std::fs::create_dir_all(&pf).unwrap();
    std::fs::write(pf.join("main.cf"), MAIN).unwrap();
    std::fs::write(pf.join("master.cf"), MASTER).unwrap();
    let ap = root.join("etc/apache2");
    std::fs::create_dir_all(ap.join("mods-enabled")).unwrap();
    std::fs::write(
        ap.join("apache2.conf"),
        "ServerRoot /etc/apache2\nIncludeOptional mods-enabled/*.conf\n",
    )
    .unwrap();
    std::fs::write(ap.join("mods-enabled/ssl.conf"), SSL_CONF).unwrap();
    (t, root)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn apply_args<'a>(root: &'a Path, backups: &'a Path) -> Vec<&'a str> {
    vec![
        "apply",
        "--root",
        s(root),
        "--yes",
        "--no-validate",
        "--tls-library",
        "openssl",
        "--backup-dir",
        s(backups),
    ]
}

/// Runs tlsmend with its stdout a pipe whose reading end is closed at once
/// (`| head -0`): every write to stdout fails with EPIPE.
fn closed_stdout(args: &[&str]) -> std::process::Output {
    let mut c: Child = bin()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(c.stdout.take());
    c.wait_with_output().unwrap()
}

#[test]
fn a_closed_stdout_is_an_ordinary_end() {
    let (t, root) = small_root();
    let before = snapshot(&root);
    let backups = t.path().join("b");
    // apply: writes everything, prints nothing more, does not panic.
    let o = closed_stdout(&apply_args(&root, &backups));
    assert_ne!(code(&o), 101, "{}", text(&o.stderr));
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(!text(&o.stderr).contains("panicked"), "{}", text(&o.stderr));
    assert_ne!(snapshot(&root), before, "the run was written");
    // rollback --list
    let o = closed_stdout(&["rollback", "--list", "--backup-dir", s(&backups)]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(!text(&o.stderr).contains("panicked"), "{}", text(&o.stderr));
    // roundtrip
    let main = root.join("etc/postfix/main.cf");
    let master = root.join("etc/postfix/master.cf");
    let o = closed_stdout(&["roundtrip", s(&main), s(&master)]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(!text(&o.stderr).contains("panicked"), "{}", text(&o.stderr));
    // rollback itself: restores every file although nothing can be printed.
    let o = closed_stdout(&["rollback", "--backup-dir", s(&backups)]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert_eq!(snapshot(&root), before, "rolled back completely");
    // audit and rules stop quietly too.
    for args in [vec!["audit", "--root", s(&root)], vec!["rules"]] {
        let o = closed_stdout(&args);
        assert!(!text(&o.stderr).contains("panicked"), "{}", text(&o.stderr));
        assert_ne!(code(&o), 101);
    }
}

/// A run of `apply` stopped at a pause point of its commit.
struct Paused {
    child: Child,
    dir: tempfile::TempDir,
    point: String,
}

impl Paused {
    /// Starts `args` paused at `point`; waits until it is there.
    fn start(args: &[&str], point: &str) -> Paused {
        let dir = tempfile::tempdir().unwrap();
        let child = bin()
            .args(args)
            .env(
                "TLSMEND_TEST_PAUSE",
                format!("{point}:{}", dir.path().display()),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut p = Paused {
            child,
            dir,
            point: point.to_string(),
        };
        let ready = p.dir.path().join(format!("{point}.ready"));
        let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while !ready.exists() {
            if let Ok(Some(st)) = p.child.try_wait() {
                let out = p.child.stderr.take().map(|mut e| {
                    let mut s = String::new();
                    std::io::Read::read_to_string(&mut e, &mut s).unwrap();
                    s
                });
                panic!("the run ended ({st}) before reaching {point}: {out:?}");
            }
            assert!(std::time::Instant::now() < until, "never reached {point}");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        p
    }
    /// Lets it go on and waits for its end.
    fn finish(self) -> std::process::Output {
        std::fs::write(self.dir.path().join(format!("{}.go", self.point)), "").unwrap();
        self.child.wait_with_output().unwrap()
    }
}

/// The single run folder in `backups`, and its manifest's file paths in
/// the order they are written.
fn the_run(backups: &Path) -> (PathBuf, Vec<PathBuf>) {
    let runs: Vec<PathBuf> = std::fs::read_dir(backups)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(runs[0].join("manifest.json")).unwrap())
            .unwrap();
    let files = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| PathBuf::from(f["path"].as_str().unwrap()))
        .collect();
    (runs[0].clone(), files)
}

/// `chattr +i` on paths, undone on drop (even when the test fails).
struct Immutable(Vec<PathBuf>);

impl Immutable {
    fn set(paths: Vec<PathBuf>) -> Option<Immutable> {
        for p in &paths {
            let ok = std::process::Command::new("chattr")
                .arg("+i")
                .arg(p)
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                return None;
            }
        }
        Some(Immutable(paths))
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::process::Command::new("chattr")
                .arg("-i")
                .arg(p)
                .status();
        }
    }
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

#[test]
fn a_failed_undo_keeps_the_run_folder_and_names_it() {
    if !is_root() {
        eprintln!("SKIPPED: chattr +i needs root");
        return;
    }
    let (t, root) = small_root();
    let before = snapshot(&root);
    let backups = t.path().join("b");
    let p = Paused::start(&apply_args(&root, &backups), "before-write-1");
    let (run_dir, files) = the_run(&backups);
    assert!(files.len() >= 2, "{files:?}");
    // The first file is written; now its directory and the second file's
    // become immutable: the second write fails, and so does the undo.
    let mut dirs: Vec<PathBuf> = files[..2]
        .iter()
        .map(|f| f.parent().unwrap().to_path_buf())
        .collect();
    dirs.dedup();
    let Some(guard) = Immutable::set(dirs) else {
        eprintln!("SKIPPED: chattr +i does not work here");
        let _ = p.finish();
        return;
    };
    let o = p.finish();
    let err = text(&o.stderr);
    assert_eq!(code(&o), 2, "{err}");
    assert!(err.contains("restoring failed"), "{err}");
    assert!(
        err.contains(&run_dir.display().to_string()),
        "names the run folder: {err}"
    );
    assert!(
        run_dir.join("manifest.json").is_file(),
        "the run folder stays"
    );
    assert_ne!(snapshot(&root), before, "the first file is still written");
    let o = run(&["rollback", "--list", "--backup-dir", s(&backups)]);
    let list = text(&o.stdout);
    assert!(
        list.contains(&run_dir.file_name().unwrap().to_string_lossy().to_string())
            && list.contains("FAILED"),
        "{list}"
    );
    drop(guard);
    let o = run(&["rollback", "--backup-dir", s(&backups)]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert_eq!(
        snapshot(&root),
        before,
        "rollback restores the original tree"
    );
}

#[test]
fn a_second_run_on_the_same_root_waits_then_refuses_naming_the_first() {
    let (t, root) = small_root();
    let (t2, other) = small_root();
    let backups = t.path().join("b");
    let p = Paused::start(&apply_args(&root, &backups), "before-write-0");
    let first = p.child.id();
    let started = std::time::Instant::now();
    let o = run(&apply_args(&root, &t.path().join("b2")));
    let err = text(&o.stderr);
    assert_eq!(code(&o), 2, "{err}");
    assert!(err.contains(&format!("PID {first}")), "{err}");
    assert!(err.contains("waiting for the tlsmend run"), "{err}");
    assert!(started.elapsed() >= std::time::Duration::from_secs(2));
    assert!(
        !t.path().join("b2").exists(),
        "the second run wrote nothing"
    );
    // rollback of the same root is refused too; another root is free.
    let o = run(&["rollback", "--root", s(&root), "--backup-dir", s(&backups)]);
    assert!(
        text(&o.stderr).contains(&format!("PID {first}")),
        "{}",
        text(&o.stderr)
    );
    let o = run(&apply_args(&other, &t2.path().join("b")));
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let o = p.finish();
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
}

#[test]
fn a_file_saved_during_the_commit_is_not_overwritten() {
    let (t, root) = small_root();
    let before = snapshot(&root);
    let backups = t.path().join("b");
    let p = Paused::start(&apply_args(&root, &backups), "before-write-1");
    let (_run_dir, files) = the_run(&backups);
    // An editor saves the second file after the backups were made.
    let mut edited = std::fs::read(&files[1]).unwrap();
    edited.extend_from_slice(b"# saved by an editor\n");
    std::fs::write(&files[1], &edited).unwrap();
    let o = p.finish();
    let err = text(&o.stderr);
    assert_eq!(code(&o), 2, "{err}");
    assert!(
        err.contains("changed on disk while tlsmend was writing"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&files[1]).unwrap(),
        edited,
        "the edit is kept"
    );
    let mut expected = before.clone();
    for (p, b) in &mut expected {
        if *p == files[1] {
            *b = edited.clone();
        }
    }
    assert_eq!(snapshot(&root), expected, "the first file was restored");
}

/// The bytes of the backup of entry `k` in `run_dir`, and its link count.
fn backup_of(run_dir: &Path, k: usize) -> (PathBuf, Vec<u8>, u64) {
    use std::os::unix::fs::MetadataExt;
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("manifest.json")).unwrap())
            .unwrap();
    let p = run_dir
        .join("files")
        .join(m["files"][k]["stored"].as_str().unwrap());
    let links = std::fs::symlink_metadata(&p).unwrap().nlink();
    (p.clone(), std::fs::read(&p).unwrap(), links)
}

/// `rollback` of the last run on `root` succeeds and gives back `before`.
fn rolls_back_to(root: &Path, backups: &Path, before: &[(PathBuf, Vec<u8>)]) {
    let o = run(&["rollback", "--root", s(root), "--backup-dir", s(backups)]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert_eq!(
        snapshot(root),
        before,
        "rollback restores the original tree"
    );
}

/// The bytes of `path` in a snapshot.
fn in_snapshot<'a>(snap: &'a [(PathBuf, Vec<u8>)], path: &Path) -> &'a [u8] {
    &snap.iter().find(|(p, _)| p == path).unwrap().1
}

#[test]
fn a_backup_written_into_during_the_commit_is_made_again_from_the_bytes_read() {
    // A linked backup is the original's inode: a program writing into the
    // file in the moment before its rename would write into the backup.
    // Here the first file's backup is written into once its file is
    // replaced; the run puts it right and says so.
    let (t, root) = small_root();
    let before = snapshot(&root);
    let backups = t.path().join("b");
    let p = Paused::start(&apply_args(&root, &backups), "before-write-1");
    let (run_dir, files) = the_run(&backups);
    let (first, _, links) = backup_of(&run_dir, 0);
    assert_eq!(
        links, 1,
        "the first file is replaced: its backup is its old inode alone"
    );
    std::fs::write(&first, "written into\n").unwrap();
    let o = p.finish();
    let err = text(&o.stderr);
    assert_eq!(code(&o), 0, "{err}");
    assert!(err.contains("another program wrote into it"), "{err}");
    let (_, bytes, links) = backup_of(&run_dir, 0);
    assert_eq!(bytes, in_snapshot(&before, &files[0]));
    assert_eq!(links, 1);
    rolls_back_to(&root, &backups, &before);
}

#[test]
fn a_failed_run_restores_the_bytes_read_and_keeps_backups_of_their_own() {
    let (t, root) = small_root();
    let before = snapshot(&root);
    let backups = t.path().join("b");
    let p = Paused::start(&apply_args(&root, &backups), "before-write-1");
    let (run_dir, files) = the_run(&backups);
    // The first file is replaced and its backup then written into; an
    // editor saves the second file in place, into the inode its backup
    // shares, so the run stops and undoes the first from the bytes read.
    let (first, _, _) = backup_of(&run_dir, 0);
    std::fs::write(&first, "written into\n").unwrap();
    assert_eq!(
        backup_of(&run_dir, 1).2,
        2,
        "the second backup is a link to the file"
    );
    let mut edited = std::fs::read(&files[1]).unwrap();
    edited.extend_from_slice(b"# saved by an editor\n");
    std::fs::write(&files[1], &edited).unwrap();
    let o = p.finish();
    let err = text(&o.stderr);
    assert_eq!(code(&o), 2, "{err}");
    assert!(
        err.contains("changed on disk while tlsmend was writing"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&files[0]).unwrap(),
        in_snapshot(&before, &files[0])
    );
    assert_eq!(
        std::fs::read(&files[1]).unwrap(),
        edited,
        "the edit is kept"
    );
    // The second file was never replaced, so the run stays (failed): both
    // backups now hold the originals on their own, whatever is done to the
    // files in place.
    assert!(run_dir.join("manifest.json").is_file(), "the run stays");
    for (k, f) in files[..2].iter().enumerate() {
        let (_, bytes, links) = backup_of(&run_dir, k);
        assert_eq!(
            (bytes.as_slice(), links),
            (in_snapshot(&before, f), 1),
            "{}",
            f.display()
        );
    }
    std::fs::write(&files[1], "edited again\n").unwrap();
    assert_eq!(backup_of(&run_dir, 1).1, in_snapshot(&before, &files[1]));
    let o = run(&[
        "rollback",
        "--force",
        "--root",
        s(&root),
        "--backup-dir",
        s(&backups),
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert_eq!(
        snapshot(&root),
        before,
        "rollback restores the original tree"
    );
}

#[test]
fn rollback_checks_every_backup_before_it_writes_anything() {
    let (t, root) = small_root();
    let before = snapshot(&root);
    let backups = t.path().join("b");
    let o = run(&apply_args(&root, &backups));
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let applied = snapshot(&root);
    let (run_dir, files) = the_run(&backups);
    assert!(files.len() >= 2);
    // The last backup is damaged: not even the first file is restored.
    let (last, _, _) = backup_of(&run_dir, files.len() - 1);
    std::fs::write(&last, "damaged\n").unwrap();
    let o = run(&["rollback", "--root", s(&root), "--backup-dir", s(&backups)]);
    let err = text(&o.stderr);
    assert_eq!(code(&o), 2, "{err}");
    assert!(err.contains("does not match its manifest hash"), "{err}");
    assert_eq!(snapshot(&root), applied, "nothing was restored");
    assert_ne!(applied, before);
    // --force restores the others, names the one it cannot, exits 2, and
    // the run stays listed.
    let o = run(&[
        "rollback",
        "--force",
        "--root",
        s(&root),
        "--backup-dir",
        s(&backups),
    ]);
    let err = text(&o.stderr);
    assert_eq!(code(&o), 2, "{err}");
    assert!(err.contains("NOT restored"), "{err}");
    let last = files.last().unwrap();
    for f in &files {
        let want = if f == last { &applied } else { &before };
        assert_eq!(
            std::fs::read(f).unwrap(),
            in_snapshot(want, f),
            "{}",
            f.display()
        );
    }
    assert!(!run_dir.join("rolled-back").exists());
}

#[test]
fn a_killed_run_whose_file_is_then_written_in_place_says_its_backup_is_lost() {
    // The second file was never replaced, so its backup is still its inode
    // when the run is killed; an editor then writes into the file in place
    // before any tlsmend command runs again.
    let (t, root) = small_root();
    let before = snapshot(&root);
    let backups = t.path().join("b");
    let mut p = Paused::start(&apply_args(&root, &backups), "before-write-1");
    let (_run_dir, files) = the_run(&backups);
    p.child.kill().unwrap();
    p.child.wait().unwrap();
    std::fs::write(&files[1], "edited in place\n").unwrap();
    let o = run(&["rollback", "--root", s(&root), "--backup-dir", s(&backups)]);
    let err = text(&o.stderr);
    assert_eq!(code(&o), 2, "{err}");
    assert!(err.contains("no longer holds its original"), "{err}");
    assert!(err.contains("nothing was restored"), "{err}");
    let o = run(&[
        "rollback",
        "--force",
        "--root",
        s(&root),
        "--backup-dir",
        s(&backups),
    ]);
    let err = text(&o.stderr);
    assert_eq!(code(&o), 2, "{err}");
    assert!(err.contains("NOT restored"), "{err}");
    assert_eq!(
        std::fs::read(&files[0]).unwrap(),
        in_snapshot(&before, &files[0])
    );
    assert_eq!(std::fs::read(&files[1]).unwrap(), b"edited in place\n");
}

#[test]
fn backups_on_another_file_system_are_private_copies() {
    use std::os::unix::fs::MetadataExt;
    let (t, root) = small_root();
    let Ok(shm) = tempfile::tempdir_in("/dev/shm") else {
        eprintln!("SKIPPED: no /dev/shm");
        return;
    };
    let dev = |p: &Path| std::fs::metadata(p).unwrap().dev();
    if dev(shm.path()) == dev(t.path()) {
        eprintln!("SKIPPED: /dev/shm is on the same file system as the tree");
        return;
    }
    let before = snapshot(&root);
    let backups = shm.path().join("b");
    let o = run(&apply_args(&root, &backups));
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let (run_dir, files) = the_run(&backups);
    assert!(!files.is_empty());
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("manifest.json")).unwrap())
            .unwrap();
    for (e, path) in m["files"].as_array().unwrap().iter().zip(&files) {
        let copy = run_dir.join("files").join(e["stored"].as_str().unwrap());
        assert_eq!(std::fs::metadata(&copy).unwrap().mode() & 0o7777, 0o600);
        assert_eq!(std::fs::read(&copy).unwrap(), in_snapshot(&before, path));
    }
    rolls_back_to(&root, &backups, &before);
}

#[test]
fn a_relative_root_is_recorded_absolute_and_rolled_back_from_anywhere() {
    let (t, root) = small_root();
    let before = snapshot(&root);
    let o = bin()
        .current_dir(t.path())
        .args([
            "apply",
            "--root",
            "root",
            "--yes",
            "--no-validate",
            "--tls-library",
            "openssl",
            "--backup-dir",
            "b",
        ])
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let after = snapshot(&root);
    assert_ne!(after, before);
    let (_, files) = the_run(&t.path().join("b"));
    assert!(files.iter().all(|f| f.is_absolute()), "{files:?}");
    // A decoy: the same relative tree, as written, somewhere else.
    let decoy = tempfile::tempdir().unwrap();
    copy_tree(&root, &decoy.path().join("root"));
    let decoy_before = snapshot(decoy.path());
    let backups = t.path().join("b");
    // Another root than the run's is refused.
    let o = bin()
        .current_dir(decoy.path())
        .args(["rollback", "--root", "root", "--backup-dir", s(&backups)])
        .output()
        .unwrap();
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("was made on the root"),
        "{}",
        text(&o.stderr)
    );
    let o = bin()
        .current_dir(decoy.path())
        .args(["rollback", "--backup-dir", s(&backups)])
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert_eq!(snapshot(&root), before, "the run's own tree is restored");
    assert_eq!(
        snapshot(decoy.path()),
        decoy_before,
        "the decoy is untouched"
    );
}

/// A PID that no process has (one that just ended).
fn dead_pid() -> u32 {
    let mut c = std::process::Command::new("true").spawn().unwrap();
    let pid = c.id();
    c.wait().unwrap();
    pid
}

/// Leftovers of killed runs planted where tlsmend leaves them: a
/// temporary file next to a configuration file, an unfinished backup
/// folder and a staging copy of a dead process.
fn plant_leftovers(conf_dir: &Path, backups: &Path) -> Vec<PathBuf> {
    let pid = dead_pid();
    let tmp = conf_dir.join(".tlsmend-AbC123.tmp");
    std::fs::write(&tmp, "half").unwrap();
    let partial = backups.join(format!(".2026-01-01T00-00-00Z-{pid}.partial"));
    std::fs::create_dir_all(partial.join("files")).unwrap();
    let stage = std::env::temp_dir().join(format!("tlsmend-stage-{pid}-XyZ"));
    std::fs::create_dir_all(stage.join("postfix")).unwrap();
    vec![tmp, partial, stage]
}

#[test]
fn a_killed_run_is_noticed_and_undone_and_its_leftovers_removed() {
    let (t, root) = small_root();
    let before = snapshot(&root);
    let backups = t.path().join("b");
    let mut p = Paused::start(&apply_args(&root, &backups), "before-write-1");
    let (run_dir, files) = the_run(&backups);
    p.child.kill().unwrap();
    p.child.wait().unwrap();
    assert!(
        run_dir.join("journal.json").is_file(),
        "the journal is there"
    );
    // The second file was never replaced: its backup is still its inode.
    let ino = |p: &Path| std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(p).unwrap());
    let (second, _, links) = backup_of(&run_dir, 1);
    assert_eq!((links, ino(&second)), (2, ino(&files[1])));
    let shared = ino(&files[1]);
    let left = plant_leftovers(files[0].parent().unwrap(), &backups);
    // audit and a dry run say so too (they change nothing).
    let o = run(&[
        "apply",
        "--root",
        s(&root),
        "--dry-run",
        "--backup-dir",
        s(&backups),
    ]);
    assert!(
        text(&o.stderr).contains("was interrupted"),
        "{}",
        text(&o.stderr)
    );
    // The next apply notices the interrupted run, says how to undo or
    // finish it, clears the leftovers and finishes what is left.
    let o = run(&apply_args(&root, &backups));
    let err = text(&o.stderr);
    assert_eq!(code(&o), 0, "{err}");
    let id = run_dir.file_name().unwrap().to_string_lossy().to_string();
    assert!(err.contains(&format!("run {id} was interrupted")), "{err}");
    assert!(err.contains(&format!("tlsmend rollback {id}")), "{err}");
    assert!(err.contains("1 of its"), "{err}");
    // Noticing the run made that backup a copy of its own, with the original.
    let (second, bytes, links) = backup_of(&run_dir, 1);
    assert_ne!(ino(&second), shared);
    assert_eq!(
        (bytes.as_slice(), links),
        (in_snapshot(&before, &files[1]), 1)
    );
    for l in &left {
        assert!(!l.exists(), "{} is removed", l.display());
    }
    // (The staging copy, in the shared temporary directory, may be
    // removed by a test running at the same time: only the others are
    // surely named by this run.)
    for l in &left[..2] {
        assert!(err.contains(&l.display().to_string()), "says so: {err}");
    }
    let o = run(&["rollback", "--list", "--backup-dir", s(&backups)]);
    assert!(
        text(&o.stdout).contains("interrupted"),
        "{}",
        text(&o.stdout)
    );
    // Undo both: the finishing run, then the interrupted one.
    for _ in 0..2 {
        let o = run(&["rollback", "--backup-dir", s(&backups)]);
        assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    }
    assert_eq!(snapshot(&root), before);
}

#[test]
fn rollback_restores_a_killed_run_and_removes_its_leftovers() {
    let (t, root) = small_root();
    let before = snapshot(&root);
    let backups = t.path().join("b");
    let mut p = Paused::start(&apply_args(&root, &backups), "before-write-1");
    let (_, files) = the_run(&backups);
    p.child.kill().unwrap();
    p.child.wait().unwrap();
    let left = plant_leftovers(files[0].parent().unwrap(), &backups);
    let o = run(&["rollback", "--backup-dir", s(&backups)]);
    let err = text(&o.stderr);
    assert_eq!(code(&o), 0, "{err}");
    assert!(err.contains("was interrupted"), "{err}");
    for l in &left {
        assert!(!l.exists(), "{} is removed", l.display());
    }
    assert_eq!(snapshot(&root), before, "the exact original tree");
}

fn signal(pid: u32, sig: i32) {
    // SAFETY: sends a signal to a child of this test.
    assert_eq!(unsafe { libc::kill(pid as i32, sig) }, 0);
}

#[test]
fn a_signal_during_the_commit_finishes_it_then_says_so() {
    for (sig, name) in [
        (libc::SIGINT, "SIGINT"),
        (libc::SIGTERM, "SIGTERM"),
        (libc::SIGHUP, "SIGHUP"),
    ] {
        let (t, root) = small_root();
        let backups = t.path().join("b");
        let p = Paused::start(&apply_args(&root, &backups), "before-write-1");
        let (run_dir, files) = the_run(&backups);
        signal(p.child.id(), sig);
        std::thread::sleep(std::time::Duration::from_millis(100));
        let o = p.finish();
        let err = text(&o.stderr);
        assert_eq!(code(&o), 128 + sig, "{err}");
        assert!(err.contains(&format!("interrupted by {name}")), "{err}");
        assert!(err.contains("the commit was finished first"), "{err}");
        assert!(err.contains("tlsmend rollback"), "{err}");
        // Every file has its new bytes and the run is complete.
        let m: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(run_dir.join("manifest.json")).unwrap())
                .unwrap();
        for (f, e) in files.iter().zip(m["files"].as_array().unwrap()) {
            let now = tlsmend::backup::sha256_hex(&std::fs::read(f).unwrap());
            assert_eq!(now, e["sha256_after"].as_str().unwrap(), "{}", f.display());
        }
        assert!(
            !run_dir.join("journal.json").exists(),
            "the run is complete"
        );
    }
}

#[test]
fn a_signal_while_validating_removes_the_private_staging_copy() {
    if !have("postfix") {
        return;
    }
    let (t, root) = small_root();
    let before = snapshot(&root);
    let backups = t.path().join("b");
    let mut args = apply_args(&root, &backups);
    args.retain(|a| *a != "--no-validate");
    args.extend(["--server", "postfix"]);
    let p = Paused::start(&args, "staged");
    let pid = p.child.id();
    let stages: Vec<PathBuf> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("tlsmend-stage-{pid}-"))
        })
        .collect();
    assert!(!stages.is_empty(), "a staging copy named after the PID");
    for st in &stages {
        use std::os::unix::fs::MetadataExt;
        assert_eq!(std::fs::metadata(st).unwrap().mode() & 0o777, 0o700);
    }
    signal(pid, libc::SIGTERM);
    let o = p.child.wait_with_output().unwrap();
    let err = text(&o.stderr);
    assert_eq!(code(&o), 128 + libc::SIGTERM, "{err}");
    assert!(
        err.contains("interrupted by SIGTERM: nothing was written"),
        "{err}"
    );
    for st in &stages {
        assert!(!st.exists(), "{} is removed", st.display());
    }
    assert_eq!(snapshot(&root), before);
}

/// A mount made by the test (root only), unmounted on drop.
struct Mount(PathBuf);

impl Mount {
    fn new(args: &[&str], at: &Path) -> Option<Mount> {
        std::fs::create_dir_all(at).unwrap();
        let ok = std::process::Command::new("mount")
            .args(args)
            .arg(at)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Mount(at.to_path_buf()))
    }
    fn tmpfs(at: &Path, size: &str) -> Option<Mount> {
        Mount::new(&["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"], at)
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// Fills the file system of `dir` (a file `filler`), then frees `leave`
/// bytes of it.
fn fill(dir: &Path, leave: u64) {
    use std::io::Write;
    let p = dir.join("filler");
    let mut f = std::fs::File::create(&p).unwrap();
    let chunk = vec![b'x'; 4096];
    while f.write_all(&chunk).is_ok() {}
    let _ = f.sync_all();
    let len = f.metadata().unwrap().len();
    f.set_len(len.saturating_sub(leave)).unwrap();
}

/// The order in which apply writes the files of `small_root` (relative).
fn write_order() -> Vec<PathBuf> {
    let (t, root) = small_root();
    let b = t.path().join("b");
    let o = run(&apply_args(&root, &b));
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let canonical = std::fs::canonicalize(&root).unwrap();
    the_run(&b)
        .1
        .iter()
        .map(|f| f.strip_prefix(&canonical).unwrap().to_path_buf())
        .collect()
}

/// No run folder, partial or not, in `backups`.
fn no_runs(backups: &Path) -> bool {
    std::fs::read_dir(backups).map_or(true, |rd| rd.count() == 0)
}

#[test]
fn an_immutable_file_fails_the_run_and_earlier_writes_are_undone() {
    if !is_root() {
        eprintln!("SKIPPED: chattr +i needs root");
        return;
    }
    let order = write_order();
    let (t, root) = small_root();
    let before = snapshot(&root);
    let last = root.join(order.last().unwrap());
    let Some(_guard) = Immutable::set(vec![last.clone()]) else {
        eprintln!("SKIPPED: chattr +i does not work here");
        return;
    };
    let backups = t.path().join("b");
    let o = run(&apply_args(&root, &backups));
    let err = text(&o.stderr);
    assert_eq!(code(&o), 2, "{err}");
    assert!(
        err.contains(&format!("cannot write {}", last.display())),
        "{err}"
    );
    assert!(err.contains("nothing was changed"), "{err}");
    assert_eq!(snapshot(&root), before, "earlier writes were undone");
    assert!(no_runs(&backups), "no run folder for a run undone");
}

#[test]
fn a_full_disk_fails_the_run_before_anything_is_replaced() {
    if !is_root() {
        eprintln!("SKIPPED: mount needs root");
        return;
    }
    let order = write_order();
    let t = tempfile::tempdir().unwrap();
    let Some(_m) = Mount::tmpfs(&t.path().join("fs"), "4m") else {
        eprintln!("SKIPPED: cannot mount a tmpfs here");
        return;
    };
    // The root on the small file system; the second file is big, so that
    // once the disk is nearly full its new version does not fit while the
    // first file's does. Every new file is written (and flushed) before the
    // first one replaces its original, so the full disk stops the run with
    // nothing replaced.
    let (_t2, model) = small_root();
    let root = t.path().join("fs/root");
    copy_tree(&model, &root);
    let big = root.join(&order[1]);
    let mut b = std::fs::read(&big).unwrap();
    for _ in 0..8000 {
        b.extend_from_slice(b"# padding to make this file large: 64 bytes a line.........\n");
    }
    std::fs::write(&big, &b).unwrap();
    let before = snapshot(&root);
    let backups = t.path().join("b");
    let p = Paused::start(&apply_args(&root, &backups), "before-staging");
    fill(&t.path().join("fs"), 64 * 1024);
    let o = p.finish();
    let err = text(&o.stderr);
    assert_eq!(code(&o), 2, "{err}");
    assert!(
        err.contains(&format!("cannot write {}", big.display())),
        "{err}"
    );
    assert!(err.contains("No space left on device"), "{err}");
    assert!(err.contains("nothing was changed"), "{err}");
    std::fs::remove_file(t.path().join("fs/filler")).unwrap();
    assert_eq!(
        snapshot(&root),
        before,
        "nothing replaced, no temporary file"
    );
    assert!(no_runs(&backups));
}

#[test]
fn a_read_only_file_system_fails_the_run_naming_the_path() {
    if !is_root() {
        eprintln!("SKIPPED: mount needs root");
        return;
    }
    let (t, model) = small_root();
    let ro = t.path().join("ro");
    let Some(m) = Mount::new(&["--bind", model.to_str().unwrap()], &ro) else {
        eprintln!("SKIPPED: cannot bind-mount here");
        return;
    };
    let Some(_r) = Mount::new(&["-o", "remount,ro,bind"], &ro) else {
        eprintln!("SKIPPED: cannot remount read-only here");
        return;
    };
    let before = snapshot(&model);
    let backups = t.path().join("b");
    let o = run(&apply_args(&ro, &backups));
    let err = text(&o.stderr);
    assert_eq!(code(&o), 2, "{err}");
    assert!(err.contains("Read-only file system"), "{err}");
    assert!(
        err.contains(&format!("cannot write {}", ro.display())),
        "{err}"
    );
    assert!(err.contains("nothing was changed"), "{err}");
    assert_eq!(snapshot(&model), before);
    assert!(no_runs(&backups));
    drop(m);
}

#[test]
fn an_unwritable_or_full_backup_dir_fails_before_any_write() {
    if !is_root() {
        eprintln!("SKIPPED: chattr and mount need root");
        return;
    }
    let (t, root) = small_root();
    let before = snapshot(&root);
    let backups = t.path().join("b");
    std::fs::create_dir_all(&backups).unwrap();
    if let Some(_g) = Immutable::set(vec![backups.clone()]) {
        let o = run(&apply_args(&root, &backups));
        let err = text(&o.stderr);
        assert_eq!(code(&o), 2, "{err}");
        assert!(
            err.contains(&format!(
                "cannot create a backup run in {}",
                backups.display()
            )),
            "{err}"
        );
        assert!(err.contains("nothing was written"), "{err}");
        assert_eq!(snapshot(&root), before);
    }
    // A full disk while the originals are copied: no partial folder stays.
    let full = t.path().join("full");
    let Some(_m) = Mount::tmpfs(&full, "64k") else {
        eprintln!("SKIPPED: cannot mount a tmpfs here");
        return;
    };
    fill(&full, 0);
    let o = run(&apply_args(&root, &full.join("b")));
    let err = text(&o.stderr);
    assert_eq!(code(&o), 2, "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(snapshot(&root), before);
    assert!(no_runs(&full.join("b")), "no partial backup folder is left");
}

#[test]
fn audit_notices_an_interrupted_run_in_the_default_backup_dir() {
    let (_t, root) = small_root();
    let mut p = Paused::start(
        &[
            "apply",
            "--root",
            s(&root),
            "--yes",
            "--no-validate",
            "--tls-library",
            "openssl",
        ],
        "before-write-1",
    );
    p.child.kill().unwrap();
    p.child.wait().unwrap();
    let o = run(&["audit", "--root", s(&root)]);
    let err = text(&o.stderr);
    assert_eq!(code(&o), 1, "{err}");
    assert!(err.contains("was interrupted while writing"), "{err}");
    assert!(err.contains("tlsmend rollback"), "{err}");
}
