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
