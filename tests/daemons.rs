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
