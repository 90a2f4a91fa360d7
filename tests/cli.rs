//! The command line as users and scripts call it: exit codes, errors with
//! file:line:column, writes that keep symlinks, modes and owners, backups
//! that are private, and refusals that leave everything as it was.

mod common;
use common::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

#[test]
fn audit_exit_codes_and_json() {
    let (_t, root) = demo_copy();
    let r = root.to_str().unwrap();
    let o = run(&[
        "audit",
        "--root",
        r,
        "--tls-library",
        "gnutls",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 1);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let rule = |id: &str| findings.iter().filter(|f| f["rule"] == id).count();
    assert_eq!(rule("apache.protocol"), 3);
    assert_eq!(
        rule("apache.redirect"),
        1,
        "static.example.test has no TLS twin and is not redirected"
    );
    assert_eq!(rule("courier.weak-key"), 1);
    assert!(
        findings
            .iter()
            .all(|f| f["path"].as_str().unwrap().starts_with(r)
                && f["file"].as_str().unwrap().starts_with("etc/")
                && f["line"].as_u64().unwrap() > 0)
    );

    let empty = tempfile::tempdir().unwrap();
    let o = run(&["audit", "--root", empty.path().to_str().unwrap()]);
    assert_eq!(
        code(&o),
        2,
        "finding no configuration at all is an error, not all well"
    );
    assert!(
        text(&o.stderr).contains("/etc/apache2/apache2.conf"),
        "the places searched are named"
    );
    let o = run(&[
        "audit",
        "--root",
        empty.path().to_str().unwrap(),
        "--server",
        "apache",
    ]);
    assert_eq!(code(&o), 2);
    assert!(
        text(&o.stderr).contains("no Apache configuration found"),
        "{}",
        text(&o.stderr)
    );
    let o = run(&["audit", "--root", "/nonexistent/x"]);
    assert_eq!(code(&o), 2);
}

#[test]
fn courier_without_a_known_library_says_so() {
    let (_t, root) = demo_copy();
    let o = run(&[
        "audit",
        "--root",
        root.to_str().unwrap(),
        "--server",
        "courier",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 1);
    let out = text(&o.stdout);
    assert!(
        out.contains("courier.tls-library") && out.contains("--tls-library gnutls"),
        "{out}"
    );
    assert!(
        !out.contains("courier.priority"),
        "no priority advice without knowing the library"
    );
    fake_couriertls(&root, &["libgnutls.so.30"]);
    let out = text(
        &run(&[
            "audit",
            "--root",
            root.to_str().unwrap(),
            "--server",
            "courier",
        ])
        .stdout,
    );
    assert!(
        out.contains("courier.priority")
            && out.contains("GnuTLS build (/usr/bin/couriertls links GnuTLS)"),
        "{out}"
    );
}

#[test]
fn parse_errors_name_file_line_and_column_and_write_nothing() {
    let (_t, root) = demo_copy();
    let site = root.join("etc/apache2/sites-available/static.conf");
    std::fs::write(&site, "<VirtualHost *:80>\n    ServerName x\n").unwrap();
    let before = snapshot(&root);
    let o = run(&[
        "apply",
        "--root",
        root.to_str().unwrap(),
        "--yes",
        "--tls-library",
        "gnutls",
    ]);
    assert_eq!(code(&o), 2);
    let err = text(&o.stderr);
    assert!(
        err.contains("sites-enabled/static.conf:1:1: <VirtualHost> is never closed"),
        "{err}"
    );
    assert_eq!(snapshot(&root), before);
}

#[test]
fn include_cycles_and_missing_targets_are_errors() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("etc/apache2");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("apache2.conf"), "Listen 80\nInclude a.conf\n").unwrap();
    std::fs::write(d.join("a.conf"), "# a\nInclude apache2.conf\n").unwrap();
    let o = run(&["audit", "--root", t.path().to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(
        text(&o.stderr).contains("a.conf:2:1: Include cycle"),
        "{}",
        text(&o.stderr)
    );
    std::fs::write(d.join("a.conf"), "Include missing.conf\n").unwrap();
    let o = run(&["audit", "--root", t.path().to_str().unwrap()]);
    assert!(
        text(&o.stderr).contains("a.conf:1:1: Include target")
            && text(&o.stderr).contains("does not exist"),
        "{}",
        text(&o.stderr)
    );
    std::fs::write(
        d.join("a.conf"),
        "Include nothing/*.conf\nIncludeOptional none/*.conf\n",
    )
    .unwrap();
    let o = run(&["audit", "--root", t.path().to_str().unwrap()]);
    assert!(
        text(&o.stderr).contains("matches no file"),
        "{}",
        text(&o.stderr)
    );
    std::fs::write(
        d.join("a.conf"),
        "IncludeOptional none/*.conf\nIncludeOptional gone.conf\n",
    )
    .unwrap();
    assert_eq!(
        code(&run(&["audit", "--root", t.path().to_str().unwrap()])),
        0
    );
}

#[test]
fn apply_keeps_symlinks_modes_and_makes_private_backups() {
    let (t, root) = demo_copy();
    let target = root.join("etc/apache2/sites-available/default-ssl.conf");
    let link = root.join("etc/apache2/sites-enabled/default-ssl.conf");
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
    let original_inode = std::fs::metadata(&target).unwrap().ino();
    // As root, give the file an owner of its own: the write must keep it.
    let is_root = std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false);
    if is_root {
        std::os::unix::fs::chown(&target, Some(4321), Some(4322)).unwrap();
    }
    let backups = t.path().join("b");
    let o = run(&[
        "apply",
        "--root",
        root.to_str().unwrap(),
        "--yes",
        "--tls-library",
        "gnutls",
        "--backup-dir",
        backups.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link is still a link"
    );
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        Path::new("../sites-available/default-ssl.conf")
    );
    assert!(
        std::fs::read_to_string(&target)
            .unwrap()
            .contains("+TLSv1.2 +TLSv1.3")
    );
    assert_eq!(std::fs::metadata(&target).unwrap().mode() & 0o7777, 0o640);
    if is_root {
        let m = std::fs::metadata(&target).unwrap();
        assert_eq!((m.uid(), m.gid()), (4321, 4322), "owner kept");
    }
    let runs: Vec<_> = std::fs::read_dir(&backups)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(
        runs.len(),
        1,
        "one complete run folder, no partial one: {runs:?}"
    );
    assert_eq!(std::fs::metadata(&runs[0]).unwrap().mode() & 0o777, 0o700);
    let manifest = std::fs::read_to_string(runs[0].join("manifest.json")).unwrap();
    assert!(manifest.contains("sha256_before") && manifest.contains("default-ssl.conf"));
    // The backups are on the tree's file system: each is a hard link to the
    // original's inode, which the write renamed away from, with the
    // original's mode and owner, inside the 0700 folder.
    let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let entries = manifest["files"].as_array().unwrap();
    assert!(!entries.is_empty());
    for e in entries {
        let kept =
            std::fs::symlink_metadata(runs[0].join("files").join(e["stored"].as_str().unwrap()))
                .unwrap();
        assert!(kept.file_type().is_file());
        assert_eq!(format!("{:o}", kept.mode() & 0o7777), e["mode"], "{e}");
        assert_eq!(
            (kept.uid(), kept.gid()),
            (
                e["uid"].as_u64().unwrap() as u32,
                e["gid"].as_u64().unwrap() as u32
            )
        );
        if e["path"]
            .as_str()
            .unwrap()
            .ends_with("sites-available/default-ssl.conf")
        {
            assert_eq!(kept.ino(), original_inode, "the original's own inode");
            assert_eq!(kept.mode() & 0o7777, 0o640);
        }
    }
    assert_ne!(std::fs::metadata(&target).unwrap().ino(), original_inode);
    let o = run(&[
        "rollback",
        "--list",
        "--backup-dir",
        backups.to_str().unwrap(),
    ]);
    assert!(text(&o.stdout).contains("applied"));
    // An edit made after the run is not overwritten without --force.
    std::fs::write(&target, "edited by hand\n").unwrap();
    let o = run(&["rollback", "--backup-dir", backups.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(
        text(&o.stderr).contains("changed after run"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "edited by hand\n"
    );
    let o = run(&[
        "rollback",
        "--force",
        "--backup-dir",
        backups.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert_eq!(
        std::fs::read(&target).unwrap(),
        std::fs::read(repo().join("demo/etc/apache2/sites-available/default-ssl.conf")).unwrap()
    );
    assert_eq!(std::fs::metadata(&target).unwrap().mode() & 0o7777, 0o640);
}

#[test]
fn default_backup_dir_is_inside_the_root() {
    let (_t, root) = demo_copy();
    let o = run(&[
        "apply",
        "--root",
        root.to_str().unwrap(),
        "--yes",
        "--tls-library",
        "gnutls",
        "--only",
        "courier.tls-required",
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(root.join("var/backups/tlsmend").read_dir().unwrap().count() == 1);
    let o = run(&["rollback", "--root", root.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("restored"));
}

#[test]
fn only_and_skip_select_rules() {
    let (_t, root) = demo_copy();
    let r = root.to_str().unwrap();
    let o = run(&[
        "apply",
        "--root",
        r,
        "--dry-run",
        "--tls-library",
        "gnutls",
        "--only",
        "courier.imaps-off",
        "--with",
        "courier.imaps-off",
    ]);
    assert_eq!(code(&o), 1);
    let d = text(&o.stdout);
    assert!(
        d.contains("+#IMAPDSSLSTART=YES") && !d.contains("apache2"),
        "{d}"
    );
    let o = run(&[
        "apply",
        "--root",
        r,
        "--dry-run",
        "--tls-library",
        "gnutls",
        "--skip",
        "courier.imaps-off",
    ]);
    assert!(!text(&o.stdout).contains("#IMAPDSSLSTART"));
    // Issue 8: courier.imaps-off is opt-in: without --with, unattended runs
    // keep IMAPS on 993.
    let o = run(&["apply", "--root", r, "--dry-run", "--tls-library", "gnutls"]);
    let d = text(&o.stdout);
    assert!(
        d.contains("+IMAP_TLS_REQUIRED=1") && !d.contains("#IMAPDSSLSTART"),
        "{d}"
    );
    let o = run(&["apply", "--root", r, "--dry-run", "--only", "apache.nope"]);
    assert_eq!(code(&o), 2);
    assert!(text(&o.stderr).contains("tlsmend rules"));
}

#[test]
fn review_refuses_without_a_terminal() {
    let (_t, root) = demo_copy();
    let before = snapshot(&root);
    let o = bin()
        .args([
            "apply",
            "--root",
            root.to_str().unwrap(),
            "--tls-library",
            "gnutls",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    let e = text(&o.stderr);
    assert!(e.contains("--yes") && e.contains("--dry-run"), "{e}");
    assert_eq!(snapshot(&root), before);
}

#[test]
fn blocked_findings_say_what_is_missing() {
    let root = repo().join("tests/cases/apache-modules-missing/root");
    let o = run(&["audit", "--root", root.to_str().unwrap()]);
    let out = text(&o.stdout);
    assert!(
        out.contains("mod_headers is not enabled") && out.contains("mod_alias is not enabled"),
        "{out}"
    );
}

#[test]
fn roundtrip_command() {
    let corpus = repo().join("../shared/corpus");
    let a =
        corpus.join("apache/certbot__apache-conf-files__passing__two-blocks-one-line-1693.conf");
    let c = corpus.join("courier/email-demo__etc__courier__imapd-ssl");
    let o = run(&["roundtrip", a.to_str().unwrap(), c.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let bad = corpus.join("apache/invalid");
    let f = std::fs::read_dir(&bad)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let o = run(&["roundtrip", "--syntax", "apache", f.to_str().unwrap()]);
    assert_eq!(code(&o), 1);
    assert!(text(&o.stderr).contains(":1:1:"), "{}", text(&o.stderr));
    let t = tempfile::tempdir().unwrap();
    let odd = t.path().join("mystery");
    std::fs::write(&odd, "x").unwrap();
    assert_eq!(code(&run(&["roundtrip", odd.to_str().unwrap()])), 2);
}

#[test]
fn a_file_changed_after_planning_is_refused() {
    let (t, root) = demo_copy();
    let r = tlsmend::discover::Root::new(Some(root.clone()));
    let mut opts =
        tlsmend::servers::Options::new(tlsmend::catalogue::profile::Profile::Intermediate);
    opts.tls_library = Some(tlsmend::target::tlslib::TlsLibrary::Gnutls);
    let report = tlsmend::servers::audit(&r, &opts).unwrap();
    let imapd = root.join("etc/courier/imapd-ssl");
    let mut b = std::fs::read(&imapd).unwrap();
    b.extend_from_slice(b"# edited meanwhile\n");
    std::fs::write(&imapd, &b).unwrap();
    let before = snapshot(&root);
    let all: Vec<usize> = (0..report.changes.len()).collect();
    let err = tlsmend::commit::commit(&report, &all, &t.path().join("b"), &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("imapd-ssl changed on disk since tlsmend read it"),
        "{err}"
    );
    assert_eq!(snapshot(&root), before, "no other file was written either");
    assert!(
        !t.path().join("b").exists(),
        "no backup run for a refused write"
    );
}

#[test]
fn audit_only_rules_report_without_planning() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("etc/apache2");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::copy(
        repo().join("tests/fixtures/certs/rsa1024.crt"),
        d.join("weak.crt"),
    )
    .unwrap();
    std::fs::write(
        d.join("apache2.conf"),
        "SSLProtocol -all +TLSv1.2 +TLSv1.3\n<VirtualHost *:443>\n SSLEngine on\n SSLCertificateFile weak.crt\n</VirtualHost>\n<VirtualHost *:443>\n SSLEngine on\n SSLCertificateFile /etc/ssl/gone.pem\n</VirtualHost>\n",
    )
    .unwrap();
    let o = run(&[
        "audit",
        "--root",
        t.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = v["findings"].as_array().unwrap();
    let weak = f
        .iter()
        .find(|x| x["rule"] == "apache.weak-key")
        .expect("weak key reported");
    assert_eq!(weak["line"], 4);
    assert_eq!(weak["fixable"], false);
    assert!(weak["current"].as_str().unwrap().contains("RSA 1024 bits"));
    let gone = f
        .iter()
        .find(|x| x["rule"] == "apache.certificate")
        .expect("missing certificate reported");
    assert_eq!(gone["line"], 8);
    let courier = repo().join("tests/cases/courier-openssl/root");
    let t2 = tempfile::tempdir().unwrap();
    copy_tree(&courier, t2.path());
    let o = run(&[
        "audit",
        "--root",
        t2.path().to_str().unwrap(),
        "--tls-library",
        "openssl",
        "--format",
        "json",
    ]);
    let out = text(&o.stdout);
    assert!(
        out.contains("TLS_CERTFILE names /missing/imapd.pem"),
        "{out}"
    );
    assert!(out.contains("TLS_TRUSTCERTS is not set"), "{out}");
    assert!(out.contains("ignores TLS_PRIORITY"), "{out}");
}

#[test]
fn rules_are_listed_with_their_ids() {
    let listed = text(&run(&["rules"]).stdout);
    let help = text(&run(&["audit", "--help"]).stdout);
    for rule in tlsmend::servers::catalogue() {
        let id = rule.id;
        assert!(listed.contains(id) && help.contains(id), "{id}");
        let explained = run(&["rules", "--explain", id]);
        assert!(explained.status.success(), "{id}");
        assert!(text(&explained.stdout).starts_with(id), "{id}");
        assert!(
            std::fs::read_to_string(repo().join("README.md"))
                .unwrap()
                .contains(&format!("`{id}`")),
            "README lists {id}"
        );
    }
}

#[test]
fn rule_flags_are_checked_against_the_catalogue() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().to_str().unwrap();
    let o = run(&["audit", "--root", root, "--with", "apache.protocol"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("on by default"),
        "{}",
        text(&o.stderr)
    );
    let o = run(&[
        "apply",
        "--root",
        root,
        "--dry-run",
        "--skip",
        "apache.nonesuch",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("no such rule"),
        "{}",
        text(&o.stderr)
    );
    let o = run(&["rules", "--explain", "apache.nonesuch"]);
    assert_eq!(o.status.code(), Some(2));
}

fn postfix_root(main: &str, master: &str) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("etc/postfix");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("main.cf"), main).unwrap();
    std::fs::write(d.join("master.cf"), master).unwrap();
    t
}

const SMTP: &str = "smtp      inet  n       -       y       -       -       smtpd\n";

fn audit_json(root: &Path, extra: &[&str]) -> Vec<serde_json::Value> {
    server_findings(root, "postfix", extra)
}

#[test]
fn postfix_submission_needs_sasl_and_says_so() {
    let t = postfix_root("smtpd_tls_cert_file = /x.pem\n", SMTP);
    let f = audit_json(t.path(), &[]);
    let sub = f
        .iter()
        .find(|x| x["rule"] == "postfix.submission")
        .unwrap();
    assert_eq!(sub["fixable"], false);
    assert!(
        sub["blocked"]
            .as_str()
            .unwrap()
            .contains("SASL is not configured"),
        "{sub}"
    );
    // The Cyrus default counts once its smtpd.conf exists.
    std::fs::create_dir_all(t.path().join("etc/postfix/sasl")).unwrap();
    std::fs::write(
        t.path().join("etc/postfix/sasl/smtpd.conf"),
        "pwcheck_method: saslauthd\n",
    )
    .unwrap();
    let f = audit_json(t.path(), &[]);
    assert_eq!(
        f.iter()
            .find(|x| x["rule"] == "postfix.submission")
            .unwrap()["fixable"],
        true
    );
}

#[test]
fn reject_sender_login_mismatch_only_with_login_maps() {
    let sasl = "smtpd_sasl_type = dovecot\nsmtpd_sasl_path = private/auth\n";
    let t = postfix_root(sasl, SMTP);
    let o = run(&[
        "apply",
        "--root",
        t.path().to_str().unwrap(),
        "--server",
        "postfix",
        "--dry-run",
        "--only",
        "postfix.submission",
    ]);
    let d = text(&o.stdout);
    assert!(
        d.contains("+submission inet n       -       y       -       -       smtpd\n"),
        "{d}"
    );
    assert!(!d.contains("reject_sender_login_mismatch"), "{d}");
    let t = postfix_root(
        &format!("{sasl}smtpd_sender_login_maps = hash:/etc/postfix/senders\n"),
        SMTP,
    );
    let o = run(&[
        "apply",
        "--root",
        t.path().to_str().unwrap(),
        "--server",
        "postfix",
        "--dry-run",
        "--only",
        "postfix.submission",
    ]);
    assert!(text(&o.stdout).contains("-o smtpd_sender_restrictions=reject_sender_login_mismatch"));
    // An existing one without maps refuses every message: reported, never written.
    let master = format!(
        "{SMTP}submission inet n - y - - smtpd\n  -o smtpd_sender_restrictions=reject_sender_login_mismatch\n"
    );
    let t = postfix_root(sasl, &master);
    let f = audit_json(t.path(), &[]);
    assert!(f.iter().any(|x| {
        x["rule"] == "postfix.submission"
            && x["reason"]
                .as_str()
                .unwrap()
                .contains("refuses every message")
    }));
}

#[test]
fn postfix_reports_what_it_will_not_touch() {
    let main = "smtpd_tls_cert_file = /x.pem\nsmt\n  -o tls_preempt_cipherlist=yes\nsmtpd_tls_protocols = !SSLv2\nsmtpd_tls_protocols = >=TLSv1.2\ntls_high_cipherlist = HIGH\n";
    let t = postfix_root(main, &format!("{SMTP}bad inet n - y\n"));
    let f = audit_json(t.path(), &["--postfix-version", "3.7"]);
    let rules: Vec<(&str, u64)> = f
        .iter()
        .map(|x| (x["rule"].as_str().unwrap(), x["line"].as_u64().unwrap()))
        .collect();
    assert!(rules.contains(&("postfix.syntax", 2)), "{rules:?}");
    assert!(rules.contains(&("postfix.shadowed", 4)), "{rules:?}");
    assert!(rules.contains(&("postfix.high-cipherlist", 6)), "{rules:?}");
    assert!(
        rules.iter().any(|(r, l)| *r == "postfix.syntax" && *l == 2),
        "master.cf bad field count: {rules:?}"
    );
    assert!(
        !rules
            .iter()
            .any(|(r, l)| *r == "postfix.protocol-syntax" && *l == 5),
        "the effective >=TLSv1.2 stays"
    );
}

#[test]
fn postfix_multi_instance_directories_are_audited() {
    let t = postfix_root(
        "multi_instance_directories = /etc/postfix-out\nsmtpd_tls_cert_file = /x.pem\n",
        SMTP,
    );
    let out = t.path().join("etc/postfix-out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("main.cf"), "smtp_tls_security_level = none\n").unwrap();
    let f = audit_json(t.path(), &[]);
    assert!(f.iter().any(|x| x["rule"] == "postfix.smtp-security-level"
        && x["file"].as_str().unwrap().ends_with("postfix-out/main.cf")));
    std::fs::remove_dir_all(&out).unwrap();
    let o = run(&[
        "audit",
        "--root",
        t.path().to_str().unwrap(),
        "--server",
        "postfix",
    ]);
    assert_eq!(code(&o), 2);
    assert!(
        text(&o.stderr).contains("/etc/postfix-out, which has no main.cf"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn courier_files_with_crlf_are_reported() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("etc/courier");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("imapd-ssl"),
        "IMAPDSTARTTLS=YES\r\nIMAP_TLS_REQUIRED=1\r\n",
    )
    .unwrap();
    let o = run(&[
        "audit",
        "--root",
        t.path().to_str().unwrap(),
        "--tls-library",
        "gnutls",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = v["findings"].as_array().unwrap();
    assert!(
        f.iter()
            .any(|x| x["rule"] == "courier.line-endings" && x["line"] == 1),
        "{f:?}"
    );
}

/// `apply --dry-run` on a Postfix root: the diff it would write.
fn postfix_dry_run(root: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "apply",
        "--root",
        root.to_str().unwrap(),
        "--server",
        "postfix",
        "--dry-run",
    ];
    args.extend_from_slice(extra);
    let o = run(&args);
    assert!(code(&o) <= 1, "{}", text(&o.stderr));
    text(&o.stdout)
}

// See: issue 8, item 2. `Encrypt`, `DANE`, `HIGH` are Postfix values (its
// name_code tables ignore case): they were read as unknown and replaced by
// weaker ones. Hex protocol bounds, optional groups and DEFAULT are kept.
#[test]
fn postfix_values_are_read_without_regard_to_case_and_never_lowered() {
    let main = "smtpd_tls_cert_file = /x.pem\n\
                smtpd_tls_security_level = Encrypt\n\
                smtp_tls_security_level = DANE\n\
                smtpd_tls_auth_only = YES\n\
                smtpd_tls_mandatory_ciphers = HIGH\n\
                smtp_tls_mandatory_ciphers = High\n\
                smtpd_tls_mandatory_protocols = >=0x0304\n\
                smtp_tls_mandatory_protocols = >=0303, <=0x0304\n\
                smtpd_tls_protocols = >=TLSv1.2\n\
                smtp_tls_protocols = >=tlsv1.2\n\
                tls_preempt_cipherlist = No\n\
                tls_eecdh_auto_curves = ?X25519MLKEM768 X25519 DEFAULT\n";
    let master = format!(
        "{SMTP}  -o smtpd_tls_security_level=may\nrelay unix - - n - - smtp\n  -o smtp_tls_security_level=Verify\n"
    );
    let t = postfix_root(main, &master);
    let f = audit_json(t.path(), &["--postfix-version", "3.8"]);
    assert!(
        f.iter().all(|x| x["fixable"] == false),
        "no change planned: {f:?}"
    );
    let d = postfix_dry_run(
        t.path(),
        &[
            "--postfix-version",
            "3.8",
            "--profile",
            "modern",
            "--with",
            "postfix.opportunistic-protocols",
        ],
    );
    assert!(!d.contains("main.cf"), "nothing in main.cf is weaker: {d}");
    assert!(!d.contains("Verify"), "{d}");
}

// See: issue 8, item 2. A template is not a value: reported, never replaced.
#[test]
fn postfix_templated_values_are_reported_not_replaced() {
    let main = "smtpd_tls_cert_file = /x.pem\n\
                smtpd_tls_security_level = {{ postfix_tls_level }}\n\
                smtpd_tls_mandatory_protocols = <%= @protocols %>\n\
                smtpd_tls_mandatory_ciphers = {% if strict %}high{% endif %}\n\
                smtp_tls_security_level = $(get_level)\n";
    let master = format!(
        "{SMTP}relay unix - - n - - smtp\n  -o smtp_tls_mandatory_protocols={{{{ relay_protocols }}}}\n"
    );
    let t = postfix_root(main, &master);
    let d = postfix_dry_run(t.path(), &["--postfix-version", "3.8"]);
    for kept in [
        "{{ postfix_tls_level }}",
        "<%= @protocols %>",
        "{% if strict %}",
        "$(get_level)",
        "{{ relay_protocols }}",
    ] {
        assert!(
            !d.lines().any(|l| l.starts_with('-') && l.contains(kept)),
            "{kept} replaced: {d}"
        );
    }
    let f = audit_json(t.path(), &["--postfix-version", "3.8"]);
    let templated: Vec<&str> = f
        .iter()
        .filter(|x| {
            x["reason"]
                .as_str()
                .unwrap()
                .contains("templated: fix the template")
        })
        .map(|x| x["rule"].as_str().unwrap())
        .collect();
    for rule in [
        "postfix.smtpd-security-level",
        "postfix.mandatory-protocols",
        "postfix.mandatory-ciphers",
        "postfix.smtp-security-level",
    ] {
        assert!(templated.contains(&rule), "{rule}: {templated:?}");
    }
    assert_eq!(templated.len(), 5, "{templated:?}");
}

// See: issue 8, item 3. Opportunistic TLS (port 25, the SMTP client) keeps
// Postfix's defaults; what is mandatory is raised; the grade lists are
// never rewritten.
#[test]
fn postfix_raises_mandatory_tls_and_leaves_opportunistic_tls_alone() {
    let main = "smtpd_tls_cert_file = /x.pem\n\
                smtpd_tls_key_file = /x.key\n\
                smtpd_tls_security_level = may\n\
                smtp_tls_security_level = may\n\
                smtpd_tls_protocols = !SSLv2, !SSLv3\n\
                tls_medium_cipherlist = AES128-SHA:RC4-SHA\n";
    let t = postfix_root(main, SMTP);
    let d = postfix_dry_run(t.path(), &["--postfix-version", "3.7"]);
    for want in [
        "+smtpd_tls_mandatory_protocols = >=TLSv1.2\n",
        "+smtp_tls_mandatory_protocols = >=TLSv1.2\n",
        "+smtpd_tls_mandatory_ciphers = high\n",
    ] {
        assert!(d.contains(want), "{want}: {d}");
    }
    for never in [
        "-smtpd_tls_protocols",
        "+smtpd_tls_protocols",
        "+smtp_tls_protocols",
        "-tls_medium_cipherlist",
        "+tls_medium_cipherlist",
        "+tls_high_cipherlist",
    ] {
        assert!(!d.contains(never), "{never}: {d}");
    }
    // Modern: the server's mandatory TLS is 1.3 only, outbound stays at 1.2.
    let d = postfix_dry_run(
        t.path(),
        &["--postfix-version", "3.7", "--profile", "modern"],
    );
    assert!(
        d.contains("+smtpd_tls_mandatory_protocols = >=TLSv1.3\n"),
        "{d}"
    );
    assert!(
        d.contains("+smtp_tls_mandatory_protocols = >=TLSv1.2\n"),
        "{d}"
    );
    // The hand-set medium list is reported, not rewritten.
    let f = audit_json(t.path(), &["--postfix-version", "3.7"]);
    let m = f
        .iter()
        .find(|x| x["rule"] == "postfix.medium-cipherlist")
        .expect("reported");
    assert_eq!(m["fixable"], false);
    // Mozilla's stricter stance is opt-in.
    let d = postfix_dry_run(
        t.path(),
        &[
            "--postfix-version",
            "3.7",
            "--with",
            "postfix.opportunistic-protocols",
        ],
    );
    assert!(d.contains("+smtpd_tls_protocols = >=TLSv1.2\n"), "{d}");
    assert!(d.contains("+smtp_tls_protocols = >=TLSv1.2\n"), "{d}");
    // A list Postfix cannot parse (TLS silently off) is still fixed by default.
    let t = postfix_root(&format!("{main}smtp_tls_protocols = >=TLSv1.2\n"), SMTP);
    let d = postfix_dry_run(t.path(), &["--postfix-version", "3.5"]);
    assert!(
        d.contains("+smtp_tls_protocols = !SSLv2, !SSLv3, !TLSv1, !TLSv1.1\n"),
        "{d}"
    );
}

// See: issue 8, item 3. RFC 3207: a publicly-referenced SMTP server must not
// require TLS. Reported, never changed; not when port 25 lowers it.
#[test]
fn postfix_encrypt_on_public_port_25_is_reported() {
    let main = "smtpd_tls_cert_file = /x.pem\nsmtpd_tls_security_level = encrypt\n";
    let t = postfix_root(main, SMTP);
    let f = audit_json(t.path(), &[]);
    let w = f
        .iter()
        .find(|x| {
            x["rule"] == "postfix.smtpd-security-level"
                && x["reason"].as_str().unwrap().contains("RFC 3207")
        })
        .expect("encrypt on port 25 is reported");
    assert_eq!(w["fixable"], false);
    let d = postfix_dry_run(t.path(), &[]);
    assert!(!d.contains("-smtpd_tls_security_level"), "{d}");
    let t = postfix_root(main, &format!("{SMTP}  -o smtpd_tls_security_level=may\n"));
    let f = audit_json(t.path(), &[]);
    assert!(
        !f.iter()
            .any(|x| x["reason"].as_str().unwrap().contains("RFC 3207")),
        "{f:?}"
    );
    // The same when the smtp service itself requires it.
    let t = postfix_root(
        "smtpd_tls_cert_file = /x.pem\nsmtpd_tls_security_level = may\n",
        &format!("{SMTP}  -o smtpd_tls_security_level=encrypt\n"),
    );
    let f = audit_json(t.path(), &[]);
    let w = f
        .iter()
        .find(|x| x["reason"].as_str().unwrap().contains("RFC 3207"))
        .expect("-o encrypt on port 25 is reported");
    assert_eq!(w["fixable"], false);
    assert!(w["file"].as_str().unwrap().ends_with("master.cf"), "{w}");
}

// See: issue 8, item 9. Debian's `$mua_client_restrictions` pattern already
// admits only authenticated clients, and an existing service's syslog_name
// is what log tools key on: both stay.
#[test]
fn postfix_submission_keeps_a_good_restriction_list_and_its_log_name() {
    let main = "smtpd_tls_cert_file = /x.pem\n\
                smtpd_sasl_type = dovecot\n\
                smtpd_sasl_path = private/auth\n\
                mua_client_restrictions = permit_mynetworks,permit_sasl_authenticated,reject\n";
    let master = format!(
        "{SMTP}submission inet n - y - - smtpd\n  -o smtpd_tls_security_level=Encrypt\n  -o smtpd_sasl_auth_enable=yes\n  -o smtpd_tls_auth_only=yes\n  -o smtpd_sasl_security_options=noanonymous\n  -o smtpd_client_restrictions=$mua_client_restrictions\n"
    );
    let t = postfix_root(main, &master);
    let d = postfix_dry_run(t.path(), &["--only", "postfix.submission"]);
    assert!(!d.contains("master.cf"), "{d}");
    // A weak list is still fixed, and still without a syslog_name.
    let t = postfix_root(
        main,
        &master.replace("$mua_client_restrictions", "permit_mynetworks"),
    );
    let d = postfix_dry_run(t.path(), &["--only", "postfix.submission"]);
    assert!(
        d.contains("+  -o smtpd_client_restrictions=permit_sasl_authenticated,reject\n"),
        "{d}"
    );
    assert!(!d.contains("syslog_name"), "{d}");
}

// See: issue 8, item 9. Implicit TLS on 465 (RFC 8314), opt-in, with the
// same guard rails: Debian's commented block uncommented selectively.
#[test]
fn postfix_submissions_on_465_is_offered_with_the_same_guard_rails() {
    let master = format!(
        "{SMTP}#submissions     inet  n       -       y       -       -       smtpd\n#  -o syslog_name=postfix/submissions\n#  -o smtpd_tls_wrappermode=yes\n#  -o smtpd_sasl_auth_enable=yes\n#  -o smtpd_reject_unlisted_recipient=no\n"
    );
    let sasl =
        "smtpd_tls_cert_file = /x.pem\nsmtpd_sasl_type = dovecot\nsmtpd_sasl_path = private/auth\n";
    let t = postfix_root(sasl, &master);
    let d = postfix_dry_run(t.path(), &[]);
    assert!(!d.contains("+submissions"), "opt-in: {d}");
    let d = postfix_dry_run(t.path(), &["--with", "postfix.submissions"]);
    for want in [
        "+submissions     inet  n       -       y       -       -       smtpd\n",
        "+  -o syslog_name=postfix/submissions\n",
        "+  -o smtpd_tls_wrappermode=yes\n",
        "+  -o smtpd_tls_security_level=encrypt\n",
        "+  -o smtpd_client_restrictions=permit_sasl_authenticated,reject\n",
        " #  -o smtpd_reject_unlisted_recipient=no\n",
    ] {
        assert!(d.contains(want), "{want}: {d}");
    }
    // Without SASL: reported, not written.
    let t = postfix_root("smtpd_tls_cert_file = /x.pem\n", &master);
    let f = audit_json(t.path(), &["--with", "postfix.submissions"]);
    let s = f
        .iter()
        .find(|x| x["rule"] == "postfix.submissions")
        .unwrap();
    assert_eq!(s["fixable"], false);
    assert!(s["blocked"].as_str().unwrap().contains("SASL"), "{s}");
}

// See: issue 8, item 10. A 1024-bit DH group in smtpd_tls_dh1024_param_file.
#[test]
fn postfix_small_dh_parameters_are_reported() {
    let t = postfix_root(
        "smtpd_tls_cert_file = /x.pem\nsmtpd_tls_dh1024_param_file = /etc/postfix/dh.pem\n",
        SMTP,
    );
    let dh = t.path().join("etc/postfix/dh.pem");
    let small = openssl::dh::Dh::get_1024_160().unwrap();
    std::fs::write(&dh, small.params_to_pem().unwrap()).unwrap();
    let f = audit_json(t.path(), &[]);
    let x = f
        .iter()
        .find(|x| x["rule"] == "postfix.dh-params")
        .expect("reported");
    assert_eq!(x["fixable"], false);
    assert!(x["current"].as_str().unwrap().contains("1024-bit"), "{x}");
    assert!(x["blocked"].as_str().unwrap().contains("2048"), "{x}");
    let big = openssl::dh::Dh::get_2048_256().unwrap();
    std::fs::write(&dh, big.params_to_pem().unwrap()).unwrap();
    let f = audit_json(t.path(), &[]);
    assert!(!f.iter().any(|x| x["rule"] == "postfix.dh-params"), "{f:?}");
}

/// Audits `apache2.conf` (and the certificates named) in a fresh root;
/// returns the root and the JSON findings of `rule`.
fn apache_findings(
    conf: &str,
    certs: &[(&str, &str)],
    rule: &str,
) -> (tempfile::TempDir, Vec<serde_json::Value>) {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("etc/apache2");
    std::fs::create_dir_all(&d).unwrap();
    for (name, fixture) in certs {
        std::fs::copy(
            repo().join("tests/fixtures/certs").join(fixture),
            d.join(name),
        )
        .unwrap();
    }
    std::fs::write(d.join("apache2.conf"), conf).unwrap();
    let o = run(&[
        "audit",
        "--root",
        t.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o.stderr)));
    let f = v["findings"].as_array().unwrap();
    let f = f.iter().filter(|x| x["rule"] == rule).cloned().collect();
    (t, f)
}

/// The dry-run diff of `--only rule` on a root.
fn dry_run_only(root: &Path, rule: &str) -> String {
    let o = run(&[
        "apply",
        "--root",
        root.to_str().unwrap(),
        "--dry-run",
        "--only",
        rule,
    ]);
    text(&o.stdout)
}

// See: issue 8, item 8. A redirect to a self-signed or snakeoil twin, one on
// a virtual host that also listens on another port, and one over the ACME
// challenge path each break a client.
#[test]
fn redirect_never_breaks_a_client() {
    let tls = |name: &str, cert: &str| {
        format!(
            "<VirtualHost *:443>\n ServerName {name}\n SSLEngine on\n SSLCertificateFile {cert}\n</VirtualHost>\n"
        )
    };
    let plain = |addr: &str, name: &str, extra: &str| {
        format!("<VirtualHost {addr}>\n ServerName {name}\n{extra}</VirtualHost>\n")
    };
    let conf = [
        tls("ok.test", "leaf.crt"),
        plain("*:80", "ok.test", ""),
        tls("self.test", "self.crt"),
        plain("*:80", "self.test", ""),
        tls("snake.test", "/etc/ssl/certs/ssl-cert-snakeoil.pem"),
        plain("*:80", "snake.test", ""),
        tls("keys.test", "leaf.crt"),
        plain("*:80 *:11371", "keys.test", ""),
        tls("acme.test", "leaf.crt"),
        plain(
            "*:80",
            "acme.test",
            " Alias /.well-known/acme-challenge/ /var/lib/acme/\n",
        ),
        // The challenge answered in a section; and a virtual host after
        // those that answer it, which does not.
        tls("loc.test", "leaf.crt"),
        plain(
            "*:80",
            "loc.test",
            " <Location /.well-known/acme-challenge/>\n  Require all granted\n </Location>\n",
        ),
        tls("after.test", "leaf.crt"),
        plain("*:80", "after.test", ""),
    ]
    .concat();
    let (t, f) = apache_findings(
        &conf,
        &[("leaf.crt", "leaf.crt"), ("self.crt", "rsa2048.crt")],
        "apache.redirect",
    );
    assert_eq!(f.len(), 7, "{f:#?}");
    let about = |name: &str| {
        f.iter()
            .find(|x| x["reason"].as_str().unwrap().starts_with(name))
            .unwrap_or_else(|| panic!("{name}: {f:#?}"))
    };
    assert_eq!(about("ok.test")["fixable"], true);
    let blocked = |name: &str| about(name)["blocked"].as_str().unwrap_or("").to_string();
    assert!(blocked("self.test").contains("self-signed"), "{f:#?}");
    assert!(blocked("snake.test").contains("snakeoil"), "{f:#?}");
    assert!(blocked("keys.test").contains("*:11371"), "{f:#?}");
    assert_eq!(about("acme.test")["fixable"], true);
    let diff = dry_run_only(t.path(), "apache.redirect");
    assert!(
        diff.contains("+ Redirect permanent / https://ok.test/\n"),
        "{diff}"
    );
    assert!(
        diff.contains(
            "+ RedirectMatch permanent ^/(?!\\.well-known/acme-challenge/)(.*)$ https://acme.test/$1\n"
        ),
        "{diff}"
    );
    assert!(
        diff.contains(
            "+ RedirectMatch permanent ^/(?!\\.well-known/acme-challenge/)(.*)$ https://loc.test/$1\n"
        ) && diff.contains("+ Redirect permanent / https://after.test/\n"),
        "{diff}"
    );
    assert_eq!(diff.matches("\n+ Redirect").count(), 4, "{diff}");
}

// A name that certbot renews by webroot keeps the ACME challenge path on
// http; a name renewed another way, or not by certbot, is redirected whole.
// (The renewal folder is listed once, not opened per name.)
#[test]
fn a_webroot_renewal_keeps_the_challenge_path_on_http() {
    let site = |name: &str| {
        format!(
            "<VirtualHost *:443>\n ServerName {name}\n SSLEngine on\n SSLCertificateFile leaf.crt\n</VirtualHost>\n<VirtualHost *:80>\n ServerName {name}\n</VirtualHost>\n"
        )
    };
    let conf = ["web.test", "standalone.test", "none.test"]
        .map(site)
        .concat();
    let (t, f) = apache_findings(&conf, &[("leaf.crt", "leaf.crt")], "apache.redirect");
    assert_eq!(f.len(), 3, "{f:#?}");
    let renewal = t.path().join("etc/letsencrypt/renewal");
    std::fs::create_dir_all(&renewal).unwrap();
    std::fs::write(
        renewal.join("web.test.conf"),
        "[renewalparams]\nauthenticator = webroot\n",
    )
    .unwrap();
    std::fs::write(
        renewal.join("standalone.test.conf"),
        "[renewalparams]\nauthenticator = standalone\n",
    )
    .unwrap();
    let diff = dry_run_only(t.path(), "apache.redirect");
    assert!(
        diff.contains(
            "+ RedirectMatch permanent ^/(?!\\.well-known/acme-challenge/)(.*)$ https://web.test/$1\n"
        ),
        "{diff}"
    );
    for name in ["standalone.test", "none.test"] {
        assert!(
            diff.contains(&format!("+ Redirect permanent / https://{name}/\n")),
            "{diff}"
        );
    }
    assert_eq!(diff.matches("\n+ Redirect").count(), 3, "{diff}");
}

// See: issue 8, item 5. A keyword list stricter than the profile, and the
// system crypto policy, are kept; a weaker or broken list is replaced, and
// the finding says what it expands to.
#[test]
fn cipher_lists_are_judged_by_what_openssl_makes_of_them() {
    let vhost = |list: &str| {
        format!("<VirtualHost *:443>\n SSLEngine on\n SSLCipherSuite {list}\n</VirtualHost>\n")
    };
    let conf = [
        "SSLCipherSuite ECDHE+AESGCM:!AES128\n".to_string(),
        vhost("PROFILE=SYSTEM"),
        vhost("HIGH:!aNULL"),
        vhost("NOSUCHSUITE"),
        vhost("ECDHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES256-GCM-SHA384"),
        // The system policy in any case, quoted, after the protocol.
        vhost("\"SSL\" '@system'"),
    ]
    .concat();
    let (t, f) = apache_findings(&conf, &[], "apache.ciphers");
    let at = |line: u64| f.iter().filter(|x| x["line"] == line).collect::<Vec<_>>();
    assert!(at(1).is_empty(), "stricter than the profile: {f:#?}");
    assert!(at(16).is_empty(), "names only acceptable suites: {f:#?}");
    for line in [4, 20] {
        let system = at(line);
        assert_eq!(system.len(), 1, "{f:#?}");
        assert_eq!(system[0]["severity"], "info");
        assert_eq!(system[0]["fixable"], false);
    }
    let weak = at(8);
    assert_eq!(weak[0]["fixable"], true, "{f:#?}");
    let why = weak[0]["reason"].as_str().unwrap();
    assert!(
        why.contains("AES256-SHA") && why.contains("OpenSSL"),
        "{why}"
    );
    let broken = at(12);
    assert!(
        broken[0]["reason"]
            .as_str()
            .unwrap()
            .contains("rejects the whole list"),
        "{f:#?}"
    );
    let diff = dry_run_only(t.path(), "apache.ciphers");
    assert!(
        !diff.contains("-SSLCipherSuite ECDHE+AESGCM")
            && !diff.contains("-    SSLCipherSuite PROFILE"),
        "{diff}"
    );
    assert_eq!(diff.matches("\n- SSLCipherSuite").count(), 2, "{diff}");
}

// See: issue 11. A setting's verdict is remembered by its value as written,
// except in a macro body, where one text stands for each Use's values.
#[test]
fn a_setting_in_a_macro_is_judged_for_each_use() {
    let conf = "<Macro P $p>\nSSLProtocol $p\n</Macro>\nUse P TLSv1.2\nUse P all\nUse P TLSv1.2\n";
    let (_t, f) = apache_findings(conf, &[], "apache.protocol");
    let current: Vec<&str> = f.iter().map(|x| x["current"].as_str().unwrap()).collect();
    assert_eq!(current, ["all"], "{f:#?}");
}

// See: issue 8, item 4. HSTS is never weakened: a staged roll-out, a
// withdrawal (max-age=0) and an explicit unset are reported, not rewritten;
// the rewrites themselves are pinned by tests/cases/apache-hsts-variants.
#[test]
fn hsts_refusals_say_why() {
    let t = tempfile::tempdir().unwrap();
    copy_tree(
        &repo().join("tests/cases/apache-hsts-variants/root"),
        t.path(),
    );
    let o = run(&[
        "audit",
        "--root",
        t.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let f: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["rule"] == "apache.hsts")
        .collect();
    let blocked = |current: &str| {
        let x = f
            .iter()
            .find(|x| x["current"].as_str().is_some_and(|c| c.contains(current)))
            .unwrap_or_else(|| panic!("{current}: {f:#?}"));
        assert_eq!(x["fixable"], false, "{x:#?}");
        x["blocked"].as_str().unwrap().to_string()
    };
    assert!(blocked("max-age=604800; includeSubDomains").contains("staged roll-out"));
    assert!(blocked("max-age=0").contains("withdrawal"));
    assert!(blocked("unset Strict-Transport-Security").contains("deliberate"));
    assert!(
        !f.iter().any(|x| x["current"]
            .as_str()
            .is_some_and(|c| c.contains("94608000"))),
        "a longer max-age with preload is kept: {f:#?}"
    );
    let step = f
        .iter()
        .find(|x| {
            x["current"]
                .as_str()
                .is_some_and(|c| c.contains("max-age=600; includeSubDomains env=HTTPS"))
        })
        .unwrap();
    assert!(
        step["reason"]
            .as_str()
            .unwrap()
            .contains("raised one step, to 604800"),
        "{step:#?}"
    );
}

// See: issue 8, item 10. SSLOpenSSLConfCmd is applied after SSLProtocol and
// SSLCipherSuite and overrides them; DH groups are read where mod_ssl reads
// them (DHParameters, or appended to the certificate file).
#[test]
fn openssl_conf_cmd_cannot_undo_the_profile() {
    let certs = repo().join("tests/fixtures/certs");
    let conf = [
        "SSLProtocol -all +TLSv1.2 +TLSv1.3",
        "SSLCipherSuite ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256",
        "SSLOpenSSLConfCmd MinProtocol TLSv1",
        "SSLOpenSSLConfCmd Protocol \"ALL,-SSLv3\"",
        "SSLOpenSSLConfCmd CipherString HIGH:!aNULL",
        "SSLOpenSSLConfCmd Ciphersuites TLS_AES_128_CCM_8_SHA256:TLS_AES_256_GCM_SHA384",
        "SSLOpenSSLConfCmd Groups secp224r1:X25519",
        "SSLOpenSSLConfCmd DHParameters dh1024.pem",
        "SSLOpenSSLConfCmd Curves X25519:prime256v1",
        "SSLOpenSSLConfCmd MinProtocol TLSv1.2",
        "SSLOpenSSLConfCmd Protocol -ALL,TLSv1.2,TLSv1.3",
        "<VirtualHost *:443>",
        " SSLEngine on",
        " SSLCertificateFile certdh.pem",
        "</VirtualHost>",
        "",
    ]
    .join("\n");
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("etc/apache2");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("apache2.conf"), &conf).unwrap();
    std::fs::copy(certs.join("dh1024.pem"), d.join("dh1024.pem")).unwrap();
    let mut pem = std::fs::read(certs.join("leaf.crt")).unwrap();
    pem.extend(std::fs::read(certs.join("dh1024.pem")).unwrap());
    std::fs::write(d.join("certdh.pem"), pem).unwrap();
    let o = run(&[
        "audit",
        "--root",
        t.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let all = v["findings"].as_array().unwrap();
    let of = |rule: &str| -> Vec<(u64, bool)> {
        all.iter()
            .filter(|x| x["rule"] == rule)
            .map(|x| (x["line"].as_u64().unwrap(), x["fixable"] == true))
            .collect()
    };
    assert_eq!(
        of("apache.openssl-conf-cmd"),
        [(3, true), (4, true), (5, true), (6, true), (7, false)],
        "{all:#?}"
    );
    let dh: Vec<&serde_json::Value> = all
        .iter()
        .filter(|x| x["rule"] == "apache.dh-params")
        .collect();
    assert_eq!(dh.len(), 2, "{all:#?}");
    assert!(
        dh.iter().all(|x| x["fixable"] == false
            && x["current"].as_str().unwrap().contains("1024 bits")
            && x["severity"] == "low"),
        "no DHE suite is enabled: {dh:#?}"
    );
    assert_eq!(dh[0]["line"], 8);
    assert_eq!(dh[1]["line"], 14);
    let diff = dry_run_only(t.path(), "apache.openssl-conf-cmd");
    for want in [
        "+SSLOpenSSLConfCmd MinProtocol TLSv1.2\n",
        "+SSLOpenSSLConfCmd Protocol \"-SSLv3,-TLSv1,-TLSv1.1\"\n",
        "+SSLOpenSSLConfCmd CipherString ECDHE-ECDSA-AES128-GCM-SHA256:",
        "+SSLOpenSSLConfCmd Ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256\n",
    ] {
        assert!(diff.contains(want), "{want}: {diff}");
    }
}

fn courier_root(imapd_ssl: &str) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("etc/courier");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("imapd-ssl"), imapd_ssl).unwrap();
    // TLS set up, as every imapd-ssl Courier installs has it: without it
    // tlsmend plans nothing (issue 9, item 5).
    std::fs::write(d.join("imapd"), "COURIERTLS=/usr/bin/couriertls\n").unwrap();
    t
}

fn courier_findings(root: &Path, extra: &[&str]) -> Vec<serde_json::Value> {
    server_findings(root, "courier", extra)
}

// Issue 8: couriertls (OpenSSL) matches TLS_PROTOCOL exactly against its
// op_list; TLSv1.3 is not in it and means TLS 1.0 and up.
#[test]
fn courier_openssl_tls_protocol_outside_the_table_is_tls_1_0() {
    let t = courier_root(
        "IMAPDSTARTTLS=YES\nIMAP_TLS_REQUIRED=1\nTLS_PROTOCOL=TLSv1.3\nTLS_STARTTLS_PROTOCOL=TLS1_2\n",
    );
    for profile in ["modern", "intermediate"] {
        let f = courier_findings(
            t.path(),
            &["--tls-library", "openssl", "--profile", profile],
        );
        for (line, value) in [(3, "TLSv1.3"), (4, "TLS1_2")] {
            let p = f
                .iter()
                .find(|x| x["rule"] == "courier.protocol" && x["line"] == line)
                .unwrap_or_else(|| panic!("{profile}: {value} reported: {f:?}"));
            assert!(
                p["reason"].as_str().unwrap().contains("TLS 1.0 and up"),
                "{p}"
            );
        }
        let o = run(&[
            "apply",
            "--root",
            t.path().to_str().unwrap(),
            "--dry-run",
            "--tls-library",
            "openssl",
            "--profile",
            profile,
        ]);
        let d = text(&o.stdout);
        assert!(
            d.contains("+TLS_PROTOCOL=TLSv1.2++\n")
                && d.contains("+TLS_STARTTLS_PROTOCOL=TLSv1.2++\n"),
            "{profile}: {d}"
        );
        // Modern on OpenSSL keeps TLS 1.2, so it needs the intermediate list.
        assert!(d.contains("+TLS_CIPHER_LIST="), "{profile}: {d}");
    }
    // Values in the table at the floor are kept, with or without `++`.
    for v in ["TLSv1.2", "TLSv1.2+", "TLSv1.2++"] {
        let t = courier_root(&format!(
            "TLS_PROTOCOL={v}\nTLS_STARTTLS_PROTOCOL=\"$TLS_PROTOCOL\"\n"
        ));
        for profile in ["modern", "intermediate"] {
            let f = courier_findings(
                t.path(),
                &["--tls-library", "openssl", "--profile", profile],
            );
            assert!(
                !f.iter().any(|x| x["rule"] == "courier.protocol"),
                "{v} {profile}: {f:?}"
            );
        }
    }
}

fn ldap_root(ldap_conf: &str) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("etc/ldap");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("ldap.conf"), ldap_conf).unwrap();
    t
}

fn ldap_run(root: &Path, lib: &str, extra: &[&str]) -> (Vec<serde_json::Value>, String) {
    let r = root.to_str().unwrap();
    let mut args = vec![
        "audit",
        "--root",
        r,
        "--server",
        "openldap",
        "--tls-library",
        lib,
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let o = run(&args);
    assert!(code(&o) <= 1, "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut args = vec![
        "apply",
        "--root",
        r,
        "--server",
        "openldap",
        "--tls-library",
        lib,
        "--dry-run",
    ];
    args.extend_from_slice(extra);
    let o = run(&args);
    assert!(code(&o) <= 1, "{}", text(&o.stderr));
    (v["findings"].as_array().unwrap().clone(), text(&o.stdout))
}

// Issue 8: a client cipher list is never added (Mozilla's guidelines are
// server-side; a client list locks out older servers); only an existing
// weak or wrong-dialect one is fixed.
#[test]
fn ldap_conf_client_cipher_list_is_never_added() {
    for lib in ["gnutls", "openssl"] {
        let t = ldap_root("BASE dc=example,dc=test\nTLS_REQCERT demand\n");
        let (f, d) = ldap_run(t.path(), lib, &[]);
        assert!(
            !f.iter()
                .any(|x| x["rule"] == "openldap.client-cipher-suite"),
            "{lib}: {f:?}"
        );
        assert!(!d.contains("TLS_CIPHER_SUITE"), "{lib}: {d}");
    }
    let t = ldap_root("TLS_CIPHER_SUITE HIGH:!aNULL\n");
    let (f, d) = ldap_run(t.path(), "gnutls", &[]);
    assert!(
        f.iter()
            .any(|x| x["rule"] == "openldap.client-cipher-suite" && x["line"] == 1),
        "{f:?}"
    );
    assert!(
        d.contains("-TLS_CIPHER_SUITE HIGH:!aNULL\n+TLS_CIPHER_SUITE NORMAL:"),
        "{d}"
    );
    let t = ldap_root("TLS_CIPHER_SUITE NORMAL:-VERS-TLS1.0:-VERS-TLS1.1\n");
    let (f, _) = ldap_run(t.path(), "gnutls", &[]);
    assert!(
        !f.iter()
            .any(|x| x["rule"] == "openldap.client-cipher-suite")
    );
}

// Issue 8: TLS_REQCERT demand is written only when the CA file or directory
// holds at least one certificate; an empty CA directory made every
// connection fail.
#[test]
fn ldap_conf_demand_only_with_a_certificate_to_verify_against() {
    let ca = std::fs::read(repo().join("tests/fixtures/certs/ca.crt")).unwrap();
    let reqcert = |f: &[serde_json::Value]| {
        f.iter()
            .find(|x| x["rule"] == "openldap.client-reqcert")
            .cloned()
            .unwrap_or_else(|| panic!("reqcert reported: {f:?}"))
    };
    // An empty directory, then one with a certificate.
    let t = ldap_root("TLS_CACERTDIR /etc/ldap/cacerts\nTLS_REQCERT never\n");
    let dir = t.path().join("etc/ldap/cacerts");
    std::fs::create_dir_all(&dir).unwrap();
    for lib in ["gnutls", "openssl"] {
        let (f, d) = ldap_run(t.path(), lib, &[]);
        let r = reqcert(&f);
        assert_eq!(r["fixable"], false, "{lib}: {r}");
        assert!(
            r["blocked"].as_str().unwrap().contains("/etc/ldap/cacerts"),
            "{r}"
        );
        assert!(!d.contains("demand"), "{lib}: {d}");
    }
    std::fs::write(dir.join("site-ca.pem"), &ca).unwrap();
    let (f, d) = ldap_run(t.path(), "gnutls", &[]);
    assert_eq!(reqcert(&f)["fixable"], true);
    assert!(d.contains("+TLS_REQCERT demand"), "{d}");
    // OpenSSL finds CA certificates by hash name only.
    let (f, _) = ldap_run(t.path(), "openssl", &[]);
    assert!(
        reqcert(&f)["blocked"]
            .as_str()
            .unwrap()
            .contains("openssl rehash"),
        "{f:?}"
    );
    std::os::unix::fs::symlink("site-ca.pem", dir.join("0a1b2c3d.0")).unwrap();
    let (f, d) = ldap_run(t.path(), "openssl", &[]);
    assert_eq!(reqcert(&f)["fixable"], true, "{f:?}");
    assert!(d.contains("+TLS_REQCERT demand"), "{d}");
    // A CA file with no certificate in it.
    let t = ldap_root("TLS_CACERT /etc/ldap/ca.pem\nTLS_REQCERT allow\n");
    std::fs::write(t.path().join("etc/ldap/ca.pem"), "# to be filled in\n").unwrap();
    let (f, d) = ldap_run(t.path(), "gnutls", &[]);
    assert!(
        reqcert(&f)["blocked"]
            .as_str()
            .unwrap()
            .contains("holds no PEM certificate"),
        "{f:?}"
    );
    assert!(!d.contains("demand"), "{d}");
    std::fs::write(t.path().join("etc/ldap/ca.pem"), &ca).unwrap();
    let (_, d) = ldap_run(t.path(), "gnutls", &[]);
    assert!(d.contains("+TLS_REQCERT demand"), "{d}");
}

fn write_dh(path: &Path, bits: u32) {
    let dh = match bits {
        1024 => openssl::dh::Dh::get_1024_160(),
        _ => openssl::dh::Dh::get_2048_256(),
    }
    .unwrap();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, dh.params_to_pem().unwrap()).unwrap();
}

// Issue 8: a DH group below 2048 bits is a finding (audit only, with what to
// do): Courier TLS_DHPARAMS, OpenLDAP olcTLSDHParamFile / TLSDHParamFile.
#[test]
fn small_dh_groups_are_reported() {
    let t = courier_root("TLS_DHPARAMS=/etc/courier/dhparams.pem\n");
    let dh = t.path().join("etc/courier/dhparams.pem");
    for (bits, reported) in [(1024, true), (2048, false)] {
        write_dh(&dh, bits);
        let f = courier_findings(t.path(), &["--tls-library", "gnutls"]);
        let found = f
            .iter()
            .find(|x| x["rule"] == "courier.dh-params" && x["line"] == 1);
        assert_eq!(found.is_some(), reported, "{bits}: {f:?}");
        if let Some(x) = found {
            assert_eq!(x["fixable"], false);
            assert!(x["current"].as_str().unwrap().contains("1024-bit"), "{x}");
            assert!(
                x["blocked"].as_str().unwrap().contains("openssl dhparam"),
                "{x}"
            );
        }
    }
    // slapd.conf and cn=config.
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("etc/ldap");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::copy(
        repo().join("tests/fixtures/certs/rsa2048.crt"),
        d.join("server.crt"),
    )
    .unwrap();
    write_dh(&d.join("dh.pem"), 1024);
    std::fs::write(
        d.join("slapd.conf"),
        "TLSCertificateFile /etc/ldap/server.crt\nTLSCertificateKeyFile /etc/ldap/server.key\nTLSCipherSuite NORMAL:-VERS-TLS1.0:-VERS-TLS1.1\nTLSDHParamFile /etc/ldap/dh.pem\n",
    )
    .unwrap();
    let (f, _) = ldap_run(t.path(), "gnutls", &[]);
    assert!(
        f.iter()
            .any(|x| x["rule"] == "openldap.dh-params" && x["line"] == 4 && x["fixable"] == false),
        "{f:?}"
    );
    std::fs::remove_file(d.join("slapd.conf")).unwrap();
    std::fs::create_dir_all(d.join("slapd.d")).unwrap();
    std::fs::write(
        d.join("slapd.d/cn=config.ldif"),
        "dn: cn=config\nobjectClass: olcGlobal\ncn: config\nolcTLSCertificateFile: /etc/ldap/server.crt\nolcTLSCertificateKeyFile: /etc/ldap/server.key\nolcTLSCipherSuite: NORMAL:-VERS-TLS1.0:-VERS-TLS1.1\nolcTLSDHParamFile: /etc/ldap/dh.pem\n",
    )
    .unwrap();
    let (f, _) = ldap_run(t.path(), "gnutls", &[]);
    assert!(
        f.iter()
            .any(|x| x["rule"] == "openldap.dh-params" && x["line"] == 7),
        "{f:?}"
    );
    write_dh(&d.join("dh.pem"), 2048);
    let (f, _) = ldap_run(t.path(), "gnutls", &[]);
    assert!(
        !f.iter().any(|x| x["rule"] == "openldap.dh-params"),
        "{f:?}"
    );
}

// profiles.md: on GnuTLS builds the protocol minimum is a no-op, reported as
// such and never written, and only GnuTLS priority strings are written.
#[test]
fn gnutls_builds_get_no_op_reports_and_gnutls_strings_only() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("etc/ldap");
    std::fs::create_dir_all(d.join("slapd.d")).unwrap();
    std::fs::copy(
        repo().join("tests/fixtures/certs/rsa2048.crt"),
        d.join("server.crt"),
    )
    .unwrap();
    std::fs::write(
        d.join("slapd.d/cn=config.ldif"),
        "dn: cn=config\nobjectClass: olcGlobal\ncn: config\nolcTLSCertificateFile: /etc/ldap/server.crt\nolcTLSCertificateKeyFile: /etc/ldap/server.key\nolcTLSCipherSuite: HIGH:!aNULL\nolcTLSProtocolMin: 3.3\n",
    )
    .unwrap();
    std::fs::write(d.join("ldap.conf"), "TLS_PROTOCOL_MIN 3.3\n").unwrap();
    let (f, diff) = ldap_run(t.path(), "gnutls", &[]);
    for (file, line) in ["cn=config.ldif", "ldap.conf"].iter().zip([7, 1]) {
        assert!(
            f.iter().any(|x| x["rule"] == "openldap.ignored"
                && x["line"] == line
                && x["fixable"] == false
                && x["file"].as_str().unwrap().ends_with(file)),
            "{file}: {f:?}"
        );
    }
    assert!(
        diff.contains("+olcTLSCipherSuite: NORMAL:") && !diff.contains("ECDHE-RSA-AES"),
        "{diff}"
    );
    assert!(
        diff.lines()
            .filter(|l| l.starts_with('+') || l.starts_with('-'))
            .all(|l| !l.contains("ProtocolMin") && !l.contains("PROTOCOL_MIN")),
        "{diff}"
    );
    let t = courier_root("TLS_PROTOCOL=TLSv1.2\nTLS_CIPHER_LIST=HIGH:!aNULL\n");
    let f = courier_findings(t.path(), &["--tls-library", "gnutls"]);
    assert_eq!(
        f.iter().filter(|x| x["rule"] == "courier.ignored").count(),
        2,
        "{f:?}"
    );
    let o = run(&[
        "apply",
        "--root",
        t.path().to_str().unwrap(),
        "--dry-run",
        "--tls-library",
        "gnutls",
    ]);
    let d = text(&o.stdout);
    assert!(
        d.contains("+TLS_PRIORITY=\"NORMAL:")
            && !d.contains("+TLS_CIPHER_LIST")
            && !d.contains("+TLS_PROTOCOL"),
        "{d}"
    );
}

// Issue 8, item 6: the versions of the target decide what can be written.

const APACHE_VHOST: &str = "LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so\nListen 443\n<VirtualHost *:443>\n    ServerName www.example.test\n    SSLEngine on\n    SSLCertificateFile /etc/ssl/certs/www.pem\n</VirtualHost>\n";

/// A Debian httpd root with one TLS virtual host and no SSL settings, and
/// `status` as its dpkg database (none when empty).
fn apache_root(status: &str) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("etc/apache2");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("apache2.conf"), APACHE_VHOST).unwrap();
    if !status.is_empty() {
        let s = t.path().join("var/lib/dpkg");
        std::fs::create_dir_all(&s).unwrap();
        std::fs::write(s.join("status"), status).unwrap();
    }
    t
}

fn dpkg(packages: &[(&str, &str)]) -> String {
    packages
        .iter()
        .map(|(p, v)| format!("Package: {p}\nStatus: install ok installed\nVersion: {v}\n"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn dry_run(root: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["apply", "--root", root.to_str().unwrap(), "--dry-run"];
    args.extend_from_slice(extra);
    let o = run(&args);
    assert!(code(&o) <= 1, "{}", text(&o.stderr));
    o
}

fn finding<'a>(doc: &'a serde_json::Value, rule: &str) -> &'a serde_json::Value {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule} finding in {doc:#}"))
}

#[test]
fn apache_writes_tls13_only_where_httpd_and_openssl_take_it() {
    // Ubuntu 18.04's httpd 2.4.29 predates TLS 1.3 support (2.4.36):
    // `TLSv1.3` would stop it at start ("Illegal protocol").
    let old = apache_root(&dpkg(&[
        ("apache2-bin", "2.4.29-1ubuntu4.27"),
        ("libssl1.1", "1.1.1-1ubuntu2.1~18.04.23"),
    ]));
    let o = dry_run(old.path(), &[]);
    let diff = text(&o.stdout);
    assert!(diff.contains("+    SSLProtocol -all +TLSv1.2\n"), "{diff}");
    assert!(!diff.contains("TLSv1.3"), "{diff}");
    assert!(
        diff.contains("SSLSessionTickets off"),
        "2.4.29 has it: {diff}"
    );
    let doc = audit_doc(old.path(), &[]);
    let f = finding(&doc, "apache.protocol");
    assert!(f["reason"].as_str().unwrap().contains("2.4.29"), "{f}");
    assert_eq!(f["fixable"], true, "{f}");

    // Debian 12: both take TLS 1.3.
    let new = apache_root(&dpkg(&[
        ("apache2-bin", "2.4.62-1~deb12u2"),
        ("libssl3", "3.0.15-1~deb12u1"),
    ]));
    let diff = text(&dry_run(new.path(), &[]).stdout);
    assert!(
        diff.contains("SSLProtocol -all +TLSv1.2 +TLSv1.3"),
        "{diff}"
    );

    // An httpd new enough, but an OpenSSL before 1.1.1: no TLS 1.3.
    let diff = text(&dry_run(new.path(), &["--openssl-version", "1.0.2"]).stdout);
    assert!(!diff.contains("TLSv1.3"), "{diff}");

    // Overrides win over the dpkg database.
    let diff = text(&dry_run(old.path(), &["--apache-version", "2.4.62"]).stdout);
    assert!(
        diff.contains("SSLProtocol -all +TLSv1.2 +TLSv1.3"),
        "{diff}"
    );

    // Modern needs TLS 1.3: on 2.4.29 nothing is written, and the finding says why.
    let doc = audit_doc(old.path(), &["--profile", "modern"]);
    let f = finding(&doc, "apache.protocol");
    assert_eq!(f["fixable"], false, "{f}");
    assert!(f["blocked"].as_str().unwrap().contains("2.4.29"), "{f}");
    let diff = text(&dry_run(old.path(), &["--profile", "modern"]).stdout);
    assert!(!diff.contains("SSLProtocol"), "{diff}");
}

#[test]
fn apache_of_unknown_version_gets_what_every_2_4_accepts_and_a_note() {
    let t = apache_root("");
    let diff = text(&dry_run(t.path(), &[]).stdout);
    assert!(diff.contains("+    SSLProtocol -all +TLSv1.2\n"), "{diff}");
    assert!(!diff.contains("TLSv1.3"), "{diff}");
    assert!(
        !diff.contains("SSLSessionTickets"),
        "SSLSessionTickets needs 2.4.11: {diff}"
    );
    let doc = audit_doc(t.path(), &[]);
    let notes = doc["notes"].to_string();
    assert!(notes.contains("httpd version unknown"), "{notes}");
    assert!(notes.contains("no TLSv1.3 is written"), "{notes}");
    let f = finding(&doc, "apache.protocol");
    assert!(
        f["reason"].as_str().unwrap().contains("--apache-version"),
        "{f}"
    );
    let f = finding(&doc, "apache.session-tickets");
    assert_eq!(f["fixable"], false, "{f}");
    assert!(f["blocked"].as_str().unwrap().contains("2.4.11"), "{f}");
    // An SSLSessionTickets line already there proves httpd knows it: fixed.
    let conf = t.path().join("etc/apache2/apache2.conf");
    std::fs::write(
        &conf,
        APACHE_VHOST.replace(
            "    SSLEngine on\n",
            "    SSLEngine on\n    SSLSessionTickets on\n",
        ),
    )
    .unwrap();
    let diff = text(&dry_run(t.path(), &[]).stdout);
    assert!(diff.contains("+    SSLSessionTickets off"), "{diff}");
}

#[test]
fn apache_versions_are_read_from_the_binaries_without_dpkg() {
    // An rpm system: no dpkg database; the version strings in httpd and
    // libcrypto tell (the files are read, never run).
    let t = apache_root("");
    let w = |p: &str, b: &[u8]| {
        let p = t.path().join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b).unwrap();
    };
    w(
        "usr/sbin/apache2",
        b"\x7fELF\0\0Apache/2.4.29\0 Server at \0",
    );
    w(
        "usr/lib/x86_64-linux-gnu/libcrypto.so.1.1",
        b"\0OpenSSL 1.1.1  11 Sep 2018\0",
    );
    let diff = text(&dry_run(t.path(), &[]).stdout);
    assert!(!diff.contains("TLSv1.3"), "{diff}");
    assert!(diff.contains("SSLSessionTickets off"), "{diff}");
    let notes = audit_doc(t.path(), &[])["notes"].to_string();
    assert!(
        notes.contains("httpd 2.4.29 (from the version string in /usr/sbin/apache2)"),
        "{notes}"
    );
    w(
        "usr/sbin/apache2",
        b"\x7fELF\0\0Apache/2.4.41\0 Server at \0",
    );
    let diff = text(&dry_run(t.path(), &[]).stdout);
    assert!(diff.contains("-all +TLSv1.2 +TLSv1.3"), "{diff}");
}

/// A Courier root whose couriertls links GnuTLS, with `status` as dpkg's.
fn courier_gnutls_root(status: &str) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("etc/courier");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("imapd"),
        "IMAPDSTART=YES\nCOURIERTLS=/usr/bin/couriertls\n",
    )
    .unwrap();
    std::fs::write(
        d.join("imapd-ssl"),
        "IMAPDSTARTTLS=YES\nIMAP_TLS_REQUIRED=1\nTLS_PRIORITY=\"NORMAL\"\n",
    )
    .unwrap();
    fake_couriertls(t.path(), &["libgnutls.so.30", "libc.so.6"]);
    if !status.is_empty() {
        let s = t.path().join("var/lib/dpkg");
        std::fs::create_dir_all(&s).unwrap();
        std::fs::write(s.join("status"), status).unwrap();
    }
    t
}

#[test]
fn gnutls_priority_strings_name_tls13_only_for_gnutls_3_6() {
    // Debian 9's GnuTLS 3.5.8 rejects VERS-TLS1.3 (GNUTLS_E_INVALID_REQUEST).
    let old = courier_gnutls_root(&dpkg(&[("libgnutls30", "3.5.8-5+deb9u6")]));
    let o = dry_run(old.path(), &["--server", "courier"]);
    let diff = text(&o.stdout);
    assert!(
        diff.contains("+TLS_PRIORITY=\"NORMAL:-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1\""),
        "{diff}"
    );
    assert!(!diff.contains("VERS-TLS1.3"), "{diff}");
    let doc = audit_doc(old.path(), &["--server", "courier"]);
    let f = finding(&doc, "courier.priority");
    assert!(f["reason"].as_str().unwrap().contains("3.5.8"), "{f}");
    // Modern is TLS 1.3 only: refused, not written.
    let doc = audit_doc(old.path(), &["--server", "courier", "--profile", "modern"]);
    let f = finding(&doc, "courier.priority");
    assert_eq!(f["fixable"], false, "{f}");
    assert!(f["blocked"].as_str().unwrap().contains("3.5.8"), "{f}");

    // Unknown: the portable string, and a note.
    let unknown = courier_gnutls_root("");
    let diff = text(&dry_run(unknown.path(), &["--server", "courier"]).stdout);
    assert!(!diff.contains("VERS-TLS1.3"), "{diff}");
    assert!(diff.contains("-VERS-TLS1.1"), "{diff}");
    let notes = audit_doc(unknown.path(), &["--server", "courier"])["notes"].to_string();
    assert!(notes.contains("GnuTLS version unknown"), "{notes}");

    // 3.6+, by dpkg or by override: the full intermediate string.
    let new = courier_gnutls_root(&dpkg(&[("libgnutls30", "3.7.9-2+deb12u3")]));
    let diff = text(&dry_run(new.path(), &["--server", "courier"]).stdout);
    assert!(diff.contains("+VERS-TLS1.3:+VERS-TLS1.2"), "{diff}");
    let diff = text(
        &dry_run(
            old.path(),
            &["--server", "courier", "--gnutls-version", "3.6.16"],
        )
        .stdout,
    );
    assert!(diff.contains("+VERS-TLS1.3:+VERS-TLS1.2"), "{diff}");
}

#[test]
fn openldap_gnutls_cipher_suite_follows_the_gnutls_version() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("etc/ldap");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("slapd.conf"),
        "TLSCertificateFile /etc/ldap/server.pem\nTLSCertificateKeyFile /etc/ldap/server.key\nTLSCipherSuite NORMAL\n",
    )
    .unwrap();
    let slapd = t.path().join("usr/sbin/slapd");
    std::fs::create_dir_all(slapd.parent().unwrap()).unwrap();
    std::fs::write(
        &slapd,
        tlsmend::target::tlslib::synthetic_elf(&["libgnutls.so.30", "libc.so.6"]),
    )
    .unwrap();
    let s = t.path().join("var/lib/dpkg");
    std::fs::create_dir_all(&s).unwrap();
    std::fs::write(s.join("status"), dpkg(&[("libgnutls30", "3.5.8-5+deb9u6")])).unwrap();
    let diff = text(&dry_run(t.path(), &["--server", "openldap"]).stdout);
    assert!(
        diff.contains("+TLSCipherSuite NORMAL:-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1"),
        "{diff}"
    );
    assert!(!diff.contains("VERS-TLS1.3"), "{diff}");
    let doc = audit_doc(t.path(), &["--server", "openldap", "--profile", "modern"]);
    let f = finding(&doc, "openldap.cipher-suite");
    assert_eq!(f["fixable"], false, "{f}");
    assert!(f["blocked"].as_str().unwrap().contains("3.5.8"), "{f}");
    let diff = text(
        &dry_run(
            t.path(),
            &["--server", "openldap", "--gnutls-version", "3.7.9"],
        )
        .stdout,
    );
    assert!(diff.contains("+VERS-TLS1.3"), "{diff}");
}

// Issue 8, item 7: `--profile old` on OpenSSL 3 needs @SECLEVEL=0.
#[test]
fn old_profile_appends_seclevel_0_on_openssl_3_only() {
    let t = apache_root(&dpkg(&[
        ("apache2-bin", "2.4.62-1~deb12u2"),
        ("libssl3", "3.0.15-1~deb12u1"),
    ]));
    let diff = text(&dry_run(t.path(), &["--profile", "old"]).stdout);
    assert!(diff.contains(":DES-CBC3-SHA:@SECLEVEL=0\n"), "{diff}");
    // Written, then judged as meeting old: planning again plans nothing.
    let o = apply_yes(t.path(), t.path(), &["--profile", "old", "--no-validate"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let o = dry_run(t.path(), &["--profile", "old"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stdout));
    // Not for intermediate, which judges @SECLEVEL=0 weak.
    let doc = audit_doc(t.path(), &[]);
    let f = finding(&doc, "apache.ciphers");
    assert!(
        f["current"].as_str().unwrap().contains("@SECLEVEL=0"),
        "{f}"
    );
    // OpenSSL 1.1.1 does not need it.
    let t = apache_root(&dpkg(&[
        ("apache2-bin", "2.4.38-3+deb10u10"),
        ("libssl1.1", "1.1.1n-0+deb10u6"),
    ]));
    let diff = text(&dry_run(t.path(), &["--profile", "old"]).stdout);
    assert!(diff.contains(":DES-CBC3-SHA\n"), "{diff}");
    assert!(!diff.contains("SECLEVEL"), "{diff}");
}

// The merge of target versions into the split Courier and OpenLDAP rules:
// Courier's OpenSSL cipher list for old carries @SECLEVEL=0 on OpenSSL 3
// (its protocol value still comes from couriertls's table), and an existing
// weak ldap.conf client list on GnuTLS 3.5 gets the string without
// VERS-TLS1.3.
#[test]
fn courier_and_ldap_conf_follow_the_target_versions() {
    let t = courier_root("IMAPDSTARTTLS=YES\nIMAP_TLS_REQUIRED=1\n");
    let s = t.path().join("var/lib/dpkg");
    std::fs::create_dir_all(&s).unwrap();
    std::fs::write(s.join("status"), dpkg(&[("libssl3", "3.0.15-1~deb12u1")])).unwrap();
    let args = ["--server", "courier", "--tls-library", "openssl"];
    let old = text(&dry_run(t.path(), &[&args[..], &["--profile", "old"]].concat()).stdout);
    assert!(old.contains(":DES-CBC3-SHA:@SECLEVEL=0\"\n"), "{old}");
    let mid = text(&dry_run(t.path(), &args).stdout);
    assert!(
        mid.contains("+TLS_PROTOCOL=TLSv1.2++\n") && !mid.contains("SECLEVEL"),
        "{mid}"
    );

    let l = tempfile::tempdir().unwrap();
    let d = l.path().join("etc/ldap");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("ldap.conf"),
        "TLS_CACERT /etc/ssl/certs/ca.pem\nTLS_CIPHER_SUITE NORMAL\n",
    )
    .unwrap();
    let args = ["--server", "openldap", "--tls-library", "gnutls"];
    let diff = text(
        &dry_run(
            l.path(),
            &[&args[..], &["--gnutls-version", "3.5.8"]].concat(),
        )
        .stdout,
    );
    assert!(
        diff.contains("+TLS_CIPHER_SUITE NORMAL:-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1\n"),
        "{diff}"
    );
    let diff = text(
        &dry_run(
            l.path(),
            &[&args[..], &["--gnutls-version", "3.7.9"]].concat(),
        )
        .stdout,
    );
    assert!(
        diff.contains("+TLS_CIPHER_SUITE NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:"),
        "{diff}"
    );
}

// SSLOpenSSLConfCmd follows the target's versions as SSLProtocol and
// SSLCipherSuite do: old's CipherString gets @SECLEVEL=0 on OpenSSL 3, and
// modern's MinProtocol TLSv1.3 is not written where TLS 1.3 cannot be.
#[test]
fn openssl_conf_cmd_follows_the_target_versions() {
    let conf = [
        "SSLOpenSSLConfCmd MinProtocol SSLv3",
        "SSLOpenSSLConfCmd CipherString ALL",
        "<VirtualHost *:443>",
        " SSLEngine on",
        "</VirtualHost>",
        "",
    ]
    .join("\n");
    let (t, _) = apache_findings(&conf, &[], "apache.openssl-conf-cmd");
    let root = t.path().to_str().unwrap();
    let dry = |extra: &[&str]| {
        let mut args = vec![
            "apply",
            "--root",
            root,
            "--dry-run",
            "--only",
            "apache.openssl-conf-cmd",
        ];
        args.extend_from_slice(extra);
        text(&run(&args).stdout)
    };
    let old3 = dry(&[
        "--profile",
        "old",
        "--apache-version",
        "2.4.57",
        "--openssl-version",
        "3.0.13",
    ]);
    assert!(
        old3.contains("+SSLOpenSSLConfCmd CipherString ECDHE-ECDSA-AES128-GCM-SHA256:")
            && old3.contains(":@SECLEVEL=0\n"),
        "{old3}"
    );
    let old11 = dry(&[
        "--profile",
        "old",
        "--apache-version",
        "2.4.57",
        "--openssl-version",
        "1.1.1",
    ]);
    assert!(!old11.contains("@SECLEVEL=0"), "{old11}");
    let modern_new = dry(&[
        "--profile",
        "modern",
        "--apache-version",
        "2.4.57",
        "--openssl-version",
        "3.0.13",
    ]);
    assert!(
        modern_new.contains("+SSLOpenSSLConfCmd MinProtocol TLSv1.3\n"),
        "{modern_new}"
    );
    let modern_old = dry(&[
        "--profile",
        "modern",
        "--apache-version",
        "2.4.29",
        "--openssl-version",
        "1.1.0",
    ]);
    assert!(!modern_old.contains("MinProtocol"), "{modern_old}");
}

// A Strict-Transport-Security line in a <Macro> body is read anew at every
// Use: each Use gives it another value, so one Use needing a longer max-age
// and one already at two years are told apart (the HSTS rule reads each way
// of writing a Header line once, never a macro body's).
#[test]
fn hsts_in_a_macro_body_is_judged_per_use() {
    let conf = "LoadModule headers_module /usr/lib/apache2/modules/mod_headers.so\n\
                <Macro Site $age>\n\
                <VirtualHost *:443>\n\
                \x20   SSLEngine on\n\
                \x20   Header always set Strict-Transport-Security \"max-age=$age\"\n\
                </VirtualHost>\n\
                </Macro>\n\
                Use Site 600\n\
                Use Site 63072000\n";
    let (_t, f) = apache_findings(conf, &[], "apache.hsts");
    // One finding, for the Use of 600 alone: read as the Use of 600, the
    // other Use would be found too, and the two made one place reached
    // twice.
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(
        f[0]["current"].as_str().unwrap().ends_with("max-age=600"),
        "{f:#?}"
    );
    let reason = f[0]["reason"].as_str().unwrap();
    assert!(
        !reason.contains("reached") && !reason.contains("serving"),
        "{reason}"
    );
}
