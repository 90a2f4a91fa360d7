//! `kill -9` at random moments of `apply --yes`, many times: every file is
//! always its old bytes or its new bytes, and `tlsmend rollback` then
//! restores the exact original tree with no temporary file or unfinished
//! backup folder left (issue 10).
//!
//! CI kills 200 runs (about a minute on a loaded two-core machine). The
//! long run: `TLSMEND_KILL_RUNS=1000 cargo test --release --test kill --
//! --nocapture` (any count; `TLSMEND_KILL_SEED=N` repeats a sequence). The
//! test prints how many kills landed before the run folder existed, while
//! writing, after the last write, and after the process had ended.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The tree: (relative path, bytes). Four files in three directories.
fn tree() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "etc/postfix/main.cf",
            "smtpd_tls_cert_file = /etc/ssl/certs/x.pem\nsmtpd_tls_key_file = /etc/ssl/private/x.key\nsmtpd_tls_security_level = may\nsmtp_tls_security_level = may\n",
        ),
        (
            "etc/postfix/master.cf",
            "smtp      inet  n       -       y       -       -       smtpd\n",
        ),
        (
            "etc/apache2/apache2.conf",
            "ServerRoot /etc/apache2\nIncludeOptional mods-enabled/*.conf\nIncludeOptional sites-enabled/*.conf\n",
        ),
        (
            "etc/apache2/mods-enabled/ssl.conf",
            "<IfModule mod_ssl.c>\nSSLProtocol all -SSLv3\nSSLCipherSuite HIGH:!aNULL\n</IfModule>\n",
        ),
        (
            "etc/apache2/sites-enabled/site.conf",
            "<VirtualHost *:443>\nSSLEngine on\nSSLProtocol +TLSv1 +TLSv1.1 +TLSv1.2\nSSLCertificateFile /x.pem\n</VirtualHost>\n",
        ),
    ]
}

fn make(root: &Path) {
    for (p, b) in tree() {
        let f = root.join(p);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, b).unwrap();
    }
}

fn apply(root: &Path, backups: &Path) -> std::process::Command {
    let mut c = bin();
    c.args([
        "apply",
        "--root",
        root.to_str().unwrap(),
        "--yes",
        "--no-validate",
        "--tls-library",
        "openssl",
        "--backup-dir",
        backups.to_str().unwrap(),
    ])
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null());
    c
}

/// Whether any `.partial` folder is in `backups`.
fn partials(backups: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(backups)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().ends_with(".partial"))
                .collect()
        })
        .unwrap_or_default()
}

/// Where the kill landed, judged from what it left.
#[derive(Debug, Default)]
struct Counts {
    before_run: usize,
    writing: usize,
    after_last_write: usize,
    ended: usize,
}

#[test]
fn kill_9_at_random_moments_never_leaves_a_half_done_tree() {
    let runs: usize = std::env::var("TLSMEND_KILL_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let seed: u64 = std::env::var("TLSMEND_KILL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("kill test: {runs} runs, TLSMEND_KILL_SEED={seed}");
    let mut rng = Rng(seed);
    let t = tempfile::tempdir().unwrap();
    // The reference: the original tree and the tree as fully applied.
    let reference = t.path().join("reference");
    make(&reference);
    let original = snapshot(&reference);
    // A whole run's duration: the shortest of three (the first is slowed by
    // cold caches).
    let mut full = Duration::MAX;
    for k in 0..3 {
        let r = t.path().join(format!("calibrate{k}"));
        make(&r);
        let t0 = Instant::now();
        let st = apply(&r, &t.path().join(format!("cb{k}")))
            .status()
            .unwrap();
        full = full.min(t0.elapsed());
        assert_eq!(st.code(), Some(0));
    }
    let st = apply(&reference, &t.path().join("rb")).status().unwrap();
    assert_eq!(st.code(), Some(0));
    let applied = snapshot(&reference);
    assert_ne!(original, applied);
    let rel = |snap: &[(PathBuf, Vec<u8>)], base: &Path| -> Vec<(PathBuf, Vec<u8>)> {
        snap.iter()
            .map(|(p, b)| (p.strip_prefix(base).unwrap().to_path_buf(), b.clone()))
            .collect()
    };
    let old = rel(&original, &reference);
    let new = rel(&applied, &reference);
    // Kill somewhere in 0..span, span starting at 1.2 × the duration of a
    // whole run and adapting to the machine's load: shorter after a run
    // that ended before its kill, longer after one killed in time.
    let mut span = full.as_micros() as f64 * 1.2;
    let mut counts = Counts::default();
    for i in 0..runs {
        let dir = t.path().join(format!("i{i}"));
        let root = dir.join("root");
        let backups = dir.join("b");
        make(&root);
        let mut child = apply(&root, &backups).spawn().unwrap();
        std::thread::sleep(Duration::from_micros(rng.next() % (span as u64 + 1)));
        let ended = matches!(child.try_wait(), Ok(Some(_)));
        span = if ended { span * 0.9 } else { span * 1.02 };
        let _ = child.kill();
        child.wait().unwrap();
        // Each file is its old bytes or its new bytes, nothing else, and
        // no other file appeared but temporary files of the atomic writes.
        let now = rel(&snapshot(&root), &root);
        let mut extra = Vec::new();
        for (p, b) in &now {
            let o = old.iter().find(|(q, _)| q == p);
            let n = new.iter().find(|(q, _)| q == p);
            match (o, n) {
                (Some((_, ob)), Some((_, nb))) => {
                    assert!(
                        b == ob || b == nb,
                        "run {i} (seed {seed}): {} is neither old nor new",
                        p.display()
                    )
                }
                _ => extra.push(p.clone()),
            }
        }
        assert!(
            extra.iter().all(|p| p
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".tlsmend-")),
            "run {i} (seed {seed}): unexpected files {extra:?}"
        );
        assert_eq!(
            now.len() - extra.len(),
            old.len(),
            "run {i}: a file vanished"
        );
        // Classify the moment.
        let run_dirs: Vec<PathBuf> = std::fs::read_dir(&backups)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
                    .collect()
            })
            .unwrap_or_default();
        if ended {
            counts.ended += 1;
        } else if run_dirs.is_empty() {
            counts.before_run += 1;
        } else if run_dirs[0].join("journal.json").exists() {
            counts.writing += 1;
        } else {
            counts.after_last_write += 1;
        }
        // The next command: rollback restores the exact original tree and
        // removes what the killed run left.
        let o = run(&[
            "rollback",
            "--root",
            root.to_str().unwrap(),
            "--backup-dir",
            backups.to_str().unwrap(),
        ]);
        if run_dirs.is_empty() {
            assert!(
                text(&o.stderr).contains("no run to roll back"),
                "run {i} (seed {seed}): {}",
                text(&o.stderr)
            );
        } else {
            assert_eq!(code(&o), 0, "run {i} (seed {seed}): {}", text(&o.stderr));
        }
        assert_eq!(
            rel(&snapshot(&root), &root),
            old,
            "run {i} (seed {seed}): rollback gives the exact original tree"
        );
        assert!(
            partials(&backups).is_empty(),
            "run {i} (seed {seed}): an unfinished backup folder is left"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
    eprintln!("kill test: {runs} kills (seed {seed}, a whole run takes {full:?}): {counts:?}");
    if runs >= 100 {
        assert!(
            counts.writing + counts.after_last_write > 0,
            "no kill landed after the backups were made: {counts:?}"
        );
    }
}
