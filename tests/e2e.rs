//! End to end on live daemons, on loopback only: a deliberately weak server
//! is probed, hardened with `apply --yes --reload`, probed again, rolled
//! back (weak again, byte for byte), and a reload that fails is rolled back
//! automatically. Apache runs from a copy of the demo tree through
//! `APACHE_CONFDIR` on 127.0.0.1:80/443; slapd from a temporary cn=config on
//! a free port. Every daemon started here is stopped by PID.
//!
//! Without the daemons these tests print `SKIPPED:` and pass; with
//! `TLSMEND_REQUIRE_DAEMONS=1` (set by `.ci/run`) a missing daemon fails.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn have(tool: &str) -> bool {
    let found = ["/usr/sbin", "/usr/bin"]
        .iter()
        .any(|d| Path::new(d).join(tool).exists());
    if !found {
        assert!(
            std::env::var_os("TLSMEND_REQUIRE_DAEMONS").is_none(),
            "{tool} is not installed but TLSMEND_REQUIRE_DAEMONS is set"
        );
        eprintln!("SKIPPED: {tool} is not installed (install it, or run .ci/run)");
    }
    found
}

/// Apache from a demo copy on 127.0.0.1:80 and :443.
struct Apache {
    dir: tempfile::TempDir,
}

impl Apache {
    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }
    fn confdir(&self) -> PathBuf {
        self.root().join("etc/apache2")
    }
    fn ctl(&self, what: &str) -> (bool, String) {
        let o = Command::new("apache2ctl")
            .arg(what)
            .env("APACHE_CONFDIR", self.confdir())
            .output()
            .unwrap();
        (
            o.status.success(),
            format!("{}{}", text(&o.stdout), text(&o.stderr)),
        )
    }
    fn new() -> Apache {
        let dir = tempfile::tempdir().unwrap();
        let a = Apache { dir };
        copy_tree(&repo().join("demo"), &a.root());
        // Loopback only.
        let ports = a.confdir().join("ports.conf");
        let p = std::fs::read_to_string(&ports)
            .unwrap()
            .replace("Listen 80\n", "Listen 127.0.0.1:80\n")
            .replace("Listen 443\n", "Listen 127.0.0.1:443\n");
        assert!(
            !p.lines()
                .any(|l| l.trim() == "Listen 80" || l.trim() == "Listen 443")
        );
        std::fs::write(&ports, p).unwrap();
        a
    }
    fn start(&self) {
        let (ok, out) = self.ctl("start");
        assert!(ok, "apache2ctl start: {out}");
        wait_until(
            || probe_line(&self.root(), "127.0.0.1:443").is_some(),
            "apache to answer on 443",
        );
    }
    fn pid(&self) -> Option<i32> {
        std::fs::read_to_string("/var/run/apache2/apache2.pid")
            .ok()?
            .trim()
            .parse()
            .ok()
    }
}

impl Apache {
    /// Stops httpd and waits for its process to go.
    fn stop(&self) {
        let pid = self.pid();
        let _ = self.ctl("stop");
        if let Some(pid) = pid {
            let deadline = Instant::now() + Duration::from_secs(10);
            while Path::new(&format!("/proc/{pid}/status")).exists()
                && !std::fs::read_to_string(format!("/proc/{pid}/status"))
                    .unwrap_or_default()
                    .contains("zombie")
                && Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(100));
            }
            let alive = std::fs::read_to_string(format!("/proc/{pid}/status"))
                .is_ok_and(|s| !s.contains("zombie"));
            if alive {
                let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            }
        }
    }
}

impl Drop for Apache {
    fn drop(&mut self) {
        self.stop();
    }
}

fn wait_until(mut f: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `tlsmend verify` of one declared service, its output line, if it answers.
fn probe_line(root: &Path, endpoint: &str) -> Option<String> {
    let o = run(&[
        "verify",
        "--root",
        root.to_str().unwrap(),
        "--server",
        "apache",
    ]);
    let out = text(&o.stdout);
    out.lines()
        .find(|l| l.contains(endpoint) && !l.starts_with("DOWN"))
        .map(str::to_string)
}

fn verify(root: &Path) -> (i32, String) {
    let o = run(&[
        "verify",
        "--root",
        root.to_str().unwrap(),
        "--server",
        "apache",
    ]);
    (code(&o), text(&o.stdout))
}

#[test]
fn apache_weak_then_hardened_then_rolled_back_then_a_failed_reload_is_undone() {
    if !have("apache2ctl") {
        return;
    }
    let a = Apache::new();
    let original = snapshot(&a.root());
    a.start();
    let (c, out) = verify(&a.root());
    assert_eq!(c, 1, "{out}");
    assert!(
        out.contains("TLS 1.0 accepted") && out.contains("HSTS headers: 0"),
        "weak before: {out}"
    );
    assert!(
        out.contains("127.0.0.1:80 (HTTP, Host: demo.example.test): 200"),
        "{out}"
    );

    // Harden and reload: the probe after the reload is part of apply.
    let b = a.dir.path().join("backups");
    let o = run(&[
        "apply",
        "--root",
        a.root().to_str().unwrap(),
        "--server",
        "apache",
        "--yes",
        "--reload",
        "--backup-dir",
        b.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(
        text(&o.stdout).contains("reloaded: apache2ctl graceful"),
        "{}",
        text(&o.stdout)
    );
    let (c, out) = verify(&a.root());
    assert_eq!(c, 0, "hardened: {out}");
    for want in [
        "TLS 1.0 refused",
        "TLS 1.1 refused",
        "TLS 1.2 accepted",
        "TLS 1.3 accepted",
        "HSTS headers: 1",
        ": 301 https://demo.example.test/",
    ] {
        assert!(out.contains(want), "{want}: {out}");
    }

    // Rollback: the weak behaviour is back, and the files byte for byte.
    let o = run(&["rollback", "--backup-dir", b.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert_eq!(
        snapshot(&a.root()),
        original,
        "rollback restores every byte"
    );
    assert!(
        text(&o.stdout).contains("apache2ctl stop; apache2ctl start"),
        "{}",
        text(&o.stdout)
    );
    a.stop();
    let (ok, out) = a.ctl("start");
    assert!(ok, "{out}");
    wait_until(
        || probe_line(&a.root(), "127.0.0.1:443").is_some_and(|l| l.contains("TLS 1.0 accepted")),
        &format!(
            "the weak server after rollback ({out}); last probe: {}",
            verify(&a.root()).1
        ),
    );

    // A reload that fails: a 1024-bit key runs only at @SECLEVEL=0, which
    // the profile's cipher list drops, so httpd exits on the graceful
    // restart; apache2ctl -t cannot see it. tlsmend must undo the run.
    let site = a.confdir().join("sites-available/default-ssl.conf");
    let weak = std::fs::read_to_string(&site)
        .unwrap()
        .replace("ssl/demo.crt", "ssl/weak.crt")
        .replace("ssl/demo.key", "ssl/weak.key");
    std::fs::write(&site, weak).unwrap();
    std::fs::copy(
        repo().join("tests/fixtures/certs/rsa1024.crt"),
        a.confdir().join("ssl/weak.crt"),
    )
    .unwrap();
    std::fs::copy(
        repo().join("tests/fixtures/certs/rsa1024.key"),
        a.confdir().join("ssl/weak.key"),
    )
    .unwrap();
    let (ok, out) = a.ctl("graceful");
    assert!(ok, "{out}");
    wait_until(
        || probe_line(&a.root(), "127.0.0.1:443").is_some_and(|l| l.contains("RSA 1024 bits")),
        "the weak-key server",
    );
    let before = snapshot(&a.root());
    let o = run(&[
        "apply",
        "--root",
        a.root().to_str().unwrap(),
        "--server",
        "apache",
        "--yes",
        "--reload",
        "--backup-dir",
        b.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2, "{}{}", text(&o.stdout), text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains("does not answer after the reload") && err.contains("was rolled back"),
        "{err}"
    );
    let after: Vec<_> = snapshot(&a.root())
        .into_iter()
        .filter(|(p, _)| !p.starts_with(a.root().join("var")))
        .collect();
    let before: Vec<_> = before
        .into_iter()
        .filter(|(p, _)| !p.starts_with(a.root().join("var")))
        .collect();
    assert_eq!(after, before, "the configuration is back to what it was");
    wait_until(
        || probe_line(&a.root(), "127.0.0.1:443").is_some(),
        "apache to be back after the automatic rollback",
    );
}

#[test]
fn apply_without_reload_says_how_to_reload() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    copy_tree(&repo().join("demo"), &root);
    let o = run(&[
        "apply",
        "--root",
        root.to_str().unwrap(),
        "--server",
        "apache",
        "--yes",
        "--no-validate",
        "--backup-dir",
        t.path().join("b").to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("apache2ctl -t && apache2ctl graceful"),
        "{}",
        text(&o.stdout)
    );
}
