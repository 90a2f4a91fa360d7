//! Checks against the real daemons' own tools, from Debian's packages:
//! `apache2ctl -t`, `sh` sourcing Courier's files, `gnutls-cli` validating
//! priority strings, and the real `couriertls` binary's linkage.
//!
//! Without the tools these tests print `SKIPPED: <reason>` and pass, so that
//! plain `cargo test` runs anywhere; with `TLSMEND_REQUIRE_DAEMONS=1` (set by
//! `.ci/run`) a missing tool is a failure.

mod common;
use common::*;
use std::path::Path;
use std::process::Command;
use tlsmend::policy::profile::Profile;

fn have(tool: &str) -> bool {
    let found = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        .iter()
        .any(|d| Path::new(d).join(tool).exists());
    if !found {
        assert!(
            std::env::var_os("TLSMEND_REQUIRE_DAEMONS").is_none(),
            "{tool} is not installed but TLSMEND_REQUIRE_DAEMONS is set (.ci/run installs it)"
        );
        eprintln!("SKIPPED: {tool} is not installed (install it, or run .ci/run)");
    }
    found
}

fn apache2ctl_t(confdir: &Path) -> (bool, String) {
    let o = Command::new("apache2ctl")
        .arg("-t")
        .env("APACHE_CONFDIR", confdir)
        .output()
        .unwrap();
    (
        o.status.success(),
        format!("{}{}", text(&o.stdout), text(&o.stderr)),
    )
}

#[test]
fn apache2ctl_accepts_the_hardened_demo() {
    if !have("apache2ctl") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    copy_tree(&repo().join("demo"), &root);
    let confdir = root.join("etc/apache2");
    let (ok, out) = apache2ctl_t(&confdir);
    assert!(
        ok,
        "the demo must be valid before tlsmend touches it:\n{out}"
    );
    let o = run(&[
        "apply",
        "--root",
        root.to_str().unwrap(),
        "--yes",
        "--tls-library",
        "gnutls",
        "--backup-dir",
        t.path().join("b").to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let (ok, out) = apache2ctl_t(&confdir);
    assert!(
        ok && out.contains("Syntax OK"),
        "apache2ctl -t rejects tlsmend's result:\n{out}"
    );
    // The checker really reads this tree: a broken line makes it fail.
    let site = confdir.join("sites-available/shop.conf");
    let good = std::fs::read(&site).unwrap();
    std::fs::write(&site, [&good[..], b"NotADirective here\n"].concat()).unwrap();
    assert!(
        !apache2ctl_t(&confdir).0,
        "apache2ctl -t must fail on a bogus directive"
    );
    std::fs::write(&site, good).unwrap();
    let o = run(&[
        "audit",
        "--root",
        root.to_str().unwrap(),
        "--tls-library",
        "gnutls",
        "--format",
        "json",
    ]);
    assert!(
        !text(&o.stdout).contains("\"fixable\": true"),
        "{}",
        text(&o.stdout)
    );
    for p in [Profile::Modern, Profile::Old] {
        let name = p.name();
        let o = run(&[
            "apply",
            "--root",
            root.to_str().unwrap(),
            "--yes",
            "--profile",
            name,
            "--server",
            "apache",
            "--backup-dir",
            t.path().join("b").to_str().unwrap(),
        ]);
        assert_eq!(code(&o), 0, "{}", text(&o.stderr));
        let (ok, out) = apache2ctl_t(&confdir);
        assert!(ok, "apache2ctl -t rejects the {name} profile:\n{out}");
    }
}

fn gnutls_accepts(priority: &str) -> bool {
    let o = Command::new("gnutls-cli")
        .args(["--priority", priority, "-l"])
        .output()
        .unwrap();
    let all = format!("{}{}", text(&o.stdout), text(&o.stderr));
    // gnutls-cli exits 0 on a bad string too: its message is the verdict.
    !all.contains("Syntax error")
}

#[test]
fn gnutls_cli_accepts_every_profile_priority_string() {
    if !have("gnutls-cli") {
        return;
    }
    assert!(
        !gnutls_accepts("NORMAL:+BOGUS"),
        "gnutls-cli must reject a bad string, or this test proves nothing"
    );
    for p in [Profile::Modern, Profile::Intermediate, Profile::Old] {
        assert!(
            gnutls_accepts(p.gnutls_priority()),
            "{} profile: {}",
            p.name(),
            p.gnutls_priority()
        );
    }
}

#[test]
fn courier_files_source_cleanly_after_apply() {
    if !have("gnutls-cli") || !have("dash") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    copy_tree(&repo().join("demo"), &root);
    let o = run(&[
        "apply",
        "--root",
        root.to_str().unwrap(),
        "--yes",
        "--server",
        "courier",
        "--tls-library",
        "gnutls",
        "--backup-dir",
        t.path().join("b").to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let f = root.join("etc/courier/imapd-ssl");
    let st = Command::new("dash").arg("-n").arg(&f).status().unwrap();
    assert!(st.success(), "sh -n rejects {}", f.display());
    // What the daemon sees: imapd then imapd-ssl, in a clean environment.
    let script = format!(
        "set -a; . '{}'; . '{}'; printf '%s|%s' \"$TLS_PRIORITY\" \"$IMAP_TLS_REQUIRED\"",
        root.join("etc/courier/imapd").display(),
        f.display()
    );
    let o = Command::new("env")
        .args(["-i", "/bin/sh", "-c", &script])
        .output()
        .unwrap();
    assert!(
        o.stderr.is_empty(),
        "sourcing printed errors: {}",
        text(&o.stderr)
    );
    let seen = text(&o.stdout);
    let (priority, required) = seen.split_once('|').unwrap();
    assert_eq!(priority, Profile::Intermediate.gnutls_priority());
    assert_eq!(required, "1");
    assert!(gnutls_accepts(priority));
}

#[test]
fn real_couriertls_is_detected_as_gnutls() {
    if !have("couriertls") {
        return;
    }
    assert_eq!(
        tlsmend::tlslib::detect(Path::new("/usr/bin/couriertls")),
        Some(tlsmend::tlslib::TlsLibrary::Gnutls),
        "Debian's couriertls links GnuTLS"
    );
}

#[test]
fn the_machine_s_own_files_are_understood() {
    if !have("apache2ctl") || !have("couriertls") {
        return;
    }
    // Read-only: audit the real /etc; it must parse (exit 0 or 1, never 2).
    let o = run(&["audit", "--format", "json"]);
    assert!(code(&o) <= 1, "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.contains("GnuTLS build (/usr/bin/couriertls links GnuTLS)"),
        "{out}"
    );
    for f in [
        "/etc/apache2/apache2.conf",
        "/etc/apache2/mods-available/ssl.conf",
        "/etc/courier/imapd-ssl",
        "/etc/courier/imapd",
    ] {
        let o = run(&["roundtrip", f]);
        assert_eq!(code(&o), 0, "{f}: {}", text(&o.stderr));
    }
}

#[test]
fn postfix_check_accepts_the_hardened_machine_config() {
    if !have("postfix") || !have("postconf") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    copy_tree(Path::new("/etc/postfix"), &root.join("etc/postfix"));
    let dir = root.join("etc/postfix");
    // Submission needs SASL: configure it in the copy, as an administrator would.
    let main = dir.join("main.cf");
    let mut cf = std::fs::read_to_string(&main).unwrap();
    cf.push_str("smtpd_sasl_type = dovecot\nsmtpd_sasl_path = private/auth\n");
    std::fs::write(&main, cf).unwrap();
    let version = text_of(Command::new("postconf").args(["-dh", "mail_version"]));
    let postfix_check = |dir: &Path| {
        Command::new("postfix")
            .arg("-c")
            .arg(dir)
            .arg("check")
            .output()
            .unwrap()
    };
    assert!(
        postfix_check(&dir).status.success(),
        "the copy must pass before tlsmend touches it"
    );
    let o = run(&[
        "apply",
        "--root",
        root.to_str().unwrap(),
        "--yes",
        "--server",
        "postfix",
        "--postfix-version",
        version.trim(),
        "--backup-dir",
        t.path().join("b").to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let o = postfix_check(&dir);
    assert!(
        o.status.success(),
        "postfix check rejects the result: {}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    let o = Command::new("postconf")
        .arg("-c")
        .arg(&dir)
        .arg("-n")
        .output()
        .unwrap();
    let n = text(&o.stdout);
    assert!(
        !text(&o.stderr).contains("warning"),
        "postconf warns: {}",
        text(&o.stderr)
    );
    for line in [
        "smtpd_tls_protocols = >=TLSv1.2",
        "smtpd_tls_mandatory_protocols = >=TLSv1.2",
        "smtp_tls_protocols = >=TLSv1.2",
        "smtpd_tls_auth_only = yes",
        "smtpd_tls_security_level = may",
    ] {
        assert!(
            n.lines().any(|l| l == line),
            "postconf -n lacks {line:?}:\n{n}"
        );
    }
    let p = text_of(Command::new("postconf").arg("-c").arg(&dir).arg("-P"));
    for line in [
        "submission/inet/smtpd_tls_security_level = encrypt",
        "submission/inet/smtpd_sasl_auth_enable = yes",
        "submission/inet/smtpd_client_restrictions = permit_sasl_authenticated,reject",
    ] {
        assert!(
            p.lines().any(|l| l == line),
            "postconf -P lacks {line:?}:\n{p}"
        );
    }
    // The intended values are what Postfix's own parser reads; and planning
    // again finds nothing to do.
    let o = run(&[
        "apply",
        "--root",
        root.to_str().unwrap(),
        "--dry-run",
        "--server",
        "postfix",
        "--postfix-version",
        version.trim(),
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o.stdout));
}

fn text_of(c: &mut Command) -> String {
    let o = c.output().unwrap();
    assert!(o.status.success(), "{c:?}: {}", text(&o.stderr));
    text(&o.stdout)
}

#[test]
fn postfix_version_comes_from_postconf_on_the_machine() {
    if !have("postconf") {
        return;
    }
    let o = run(&["audit", "--server", "postfix", "--format", "json"]);
    assert!(code(&o) <= 1, "{}", text(&o.stderr));
    let want = text_of(Command::new("postconf").args(["-dh", "mail_version"]));
    let v: tlsmend::postfix_conf::PostfixVersion = want.parse().unwrap();
    assert!(
        text(&o.stdout).contains(&format!(
            "postfix: version {v} (from postconf -d mail_version)"
        )),
        "{}",
        text(&o.stdout)
    );
    for f in ["/etc/postfix/main.cf", "/etc/postfix/master.cf"] {
        assert_eq!(code(&run(&["roundtrip", f])), 0);
    }
}
