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

/// Apache from a demo copy on 127.0.0.1:80 and :443.
struct Apache {
    dir: tempfile::TempDir,
    /// One Apache at a time in this process: they share the ports and the
    /// pid file (the file lock serialises processes, not threads).
    _one_at_a_time: std::sync::MutexGuard<'static, ()>,
}

static ONE_APACHE: std::sync::Mutex<()> = std::sync::Mutex::new(());

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
        let a = Apache {
            dir,
            _one_at_a_time: ONE_APACHE.lock().unwrap_or_else(|e| e.into_inner()),
        };
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
    // --reload never starts a daemon that is not running, nor rolls back
    // because of it.
    let scratch = tempfile::tempdir().unwrap();
    copy_tree(&a.root(), scratch.path());
    let o = run(&[
        "apply",
        "--root",
        scratch.path().to_str().unwrap(),
        "--server",
        "apache",
        "--yes",
        "--reload",
        "--backup-dir",
        scratch.path().join("b").to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(
        text(&o.stderr).contains("Apache is not running: not reloaded"),
        "{}",
        text(&o.stderr)
    );
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

    // The modern profile, TLS 1.3 only, through the interactive review with
    // real keystrokes: [a]ll.
    let root_s = a.root().to_str().unwrap().to_string();
    let mut pty = common::pty::spawn(&[
        "apply",
        "--root",
        &root_s,
        "--server",
        "apache",
        "--profile",
        "modern",
        "--reload",
        "--backup-dir",
        b.to_str().unwrap(),
    ]);
    pty.answer(1, "a");
    pty.confirm("y");
    let (c, screen) = pty.finish();
    assert_eq!(c, 0, "{screen}");
    assert!(screen.contains("reloaded: apache2ctl graceful"), "{screen}");
    let o = run(&[
        "verify",
        "--root",
        a.root().to_str().unwrap(),
        "--server",
        "apache",
        "--profile",
        "modern",
    ]);
    let out = text(&o.stdout);
    assert_eq!(code(&o), 0, "modern: {out}");
    assert!(
        out.contains("TLS 1.0 refused, TLS 1.1 refused, TLS 1.2 refused, TLS 1.3 accepted"),
        "{out}"
    );
    // An outside witness, once: testssl sees the same protocols.
    if have("testssl") {
        let o = Command::new("timeout")
            .args([
                "300",
                "testssl",
                "--protocols",
                "--quiet",
                "--color",
                "0",
                "--warnings",
                "off",
                "127.0.0.1:443",
            ])
            .output()
            .unwrap();
        let t = text(&o.stdout);
        for line in [
            "TLS 1      not offered",
            "TLS 1.1    not offered",
            "TLS 1.2    not offered",
            "TLS 1.3    offered",
        ] {
            assert!(t.contains(line), "testssl: {line}: {t}");
        }
    }
    let o = run(&["rollback", "--backup-dir", b.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert_eq!(
        snapshot(&a.root()),
        original,
        "rollback restores every byte"
    );
    a.stop();
    let (ok, out) = a.ctl("start");
    assert!(ok, "{out}");
    wait_until(
        || probe_line(&a.root(), "127.0.0.1:443").is_some_and(|l| l.contains("TLS 1.0 accepted")),
        "the weak server again",
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
        (err.contains("httpd exited after the graceful restart")
            || err.contains("does not answer after the reload"))
            && err.contains("was rolled back"),
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
        &format!("apache to be back after the automatic rollback: {err}"),
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
    // Under --root the hint names the image's files, not the host's daemon.
    assert!(
        text(&o.stdout).contains(&format!(
            "APACHE_CONFDIR={}/etc/apache2 apache2ctl -t",
            root.display()
        )) && !text(&o.stdout).contains("apache2ctl graceful"),
        "{}",
        text(&o.stdout)
    );
}

fn verify_server(root: Option<&Path>, server: &str) -> (i32, String) {
    let mut args = vec!["verify", "--server", server];
    if let Some(r) = root {
        args.extend(["--root", r.to_str().unwrap()]);
    }
    let o = run(&args);
    (code(&o), text(&o.stdout))
}

fn testssl(starttls: Option<&str>, target: &str) -> Option<String> {
    if !have("testssl") {
        return None;
    }
    let mut c = Command::new("timeout");
    c.args([
        "300",
        "testssl",
        "--protocols",
        "--quiet",
        "--color",
        "0",
        "--warnings",
        "off",
    ]);
    if let Some(p) = starttls {
        c.args(["-t", p]);
    }
    Some(text(&c.arg(target).output().unwrap().stdout))
}

/// Postfix from a copy of the machine's /etc/postfix (Debian's "Local only":
/// loopback), with SASL configured so that submission is planned.
struct Postfix {
    dir: tempfile::TempDir,
}

impl Postfix {
    fn conf(&self) -> PathBuf {
        self.dir.path().join("root/etc/postfix")
    }
    fn cmd(&self, verb: &str) -> (bool, String) {
        let o = Command::new("postfix")
            .arg("-c")
            .arg(self.conf())
            .arg(verb)
            .output()
            .unwrap();
        (
            o.status.success(),
            format!("{}{}", text(&o.stdout), text(&o.stderr)),
        )
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = self.cmd("stop");
        let pid = std::fs::read_to_string("/var/spool/postfix/pid/master.pid")
            .ok()
            .and_then(|p| p.trim().parse::<u32>().ok());
        if let Some(pid) = pid {
            let deadline = Instant::now() + Duration::from_secs(10);
            while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// A stand-in for Dovecot's auth socket at Postfix's `private/auth`: it
/// answers the server handshake (PLAIN only), so that smtpd on submission
/// can list its SASL mechanisms. Without it every EHLO there ends in "fatal:
/// no SASL authentication mechanisms", and master throttles the service,
/// so a probe of 587 can time out on a busy machine.
struct FakeDovecotAuth {
    path: PathBuf,
}

impl FakeDovecotAuth {
    fn start() -> FakeDovecotAuth {
        use std::io::{Read, Write};
        use std::os::unix::fs::PermissionsExt;
        let path = PathBuf::from("/var/spool/postfix/private/auth");
        let _ = std::fs::remove_file(&path);
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { break };
                std::thread::spawn(move || {
                    let _ = conn.write_all(
                        b"VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nSPID\t1\nCUID\t1\nCOOKIE\t0123456789abcdef0123456789abcdef\nDONE\n",
                    );
                    let mut sink = [0u8; 512];
                    while matches!(conn.read(&mut sink), Ok(n) if n > 0) {}
                });
            }
        });
        FakeDovecotAuth { path }
    }
}

impl Drop for FakeDovecotAuth {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[test]
fn postfix_weak_then_hardened_then_rolled_back() {
    if !have("postfix") || !have("postconf") {
        return;
    }
    let p = Postfix {
        dir: tempfile::tempdir().unwrap(),
    };
    let root = p.dir.path().join("root");
    copy_tree(Path::new("/etc/postfix"), &p.conf());
    let main = p.conf().join("main.cf");
    let mut cf = std::fs::read_to_string(&main).unwrap();
    assert!(
        cf.contains("inet_interfaces = loopback-only"),
        "this test runs Postfix on loopback only"
    );
    cf.push_str("smtpd_sasl_type = dovecot\nsmtpd_sasl_path = private/auth\n");
    std::fs::write(&main, cf).unwrap();
    let _auth = FakeDovecotAuth::start();
    let original = snapshot(&root);
    let (ok, out) = p.cmd("start");
    assert!(ok, "postfix start: {out}");
    wait_until(
        || {
            verify_server(Some(&root), "postfix")
                .1
                .contains("127.0.0.1:25 (SMTP STARTTLS): TLS")
        },
        "postfix on 25",
    );
    // Port 25 is opportunistic TLS: its floor is the opt-in rule's, so ask
    // for it to see the weakness (probed at @SECLEVEL=0, so TLS 1.0/1.1 show
    // even with OpenSSL 3's client).
    let o = run(&[
        "verify",
        "--root",
        root.to_str().unwrap(),
        "--server",
        "postfix",
        "--with",
        "postfix.opportunistic-protocols",
    ]);
    let out = text(&o.stdout);
    assert_eq!(code(&o), 1, "{out}");
    assert!(out.contains("TLS 1.0 accepted"), "weak before: {out}");
    let before_25 = versions_on(&out, "127.0.0.1:25 (SMTP STARTTLS)");
    assert!(before_25.contains("TLS 1.2 accepted"), "{out}");

    let version = text(
        &Command::new("postconf")
            .args(["-dh", "mail_version"])
            .output()
            .unwrap()
            .stdout,
    );
    let b = p.dir.path().join("backups");
    let o = run(&[
        "apply",
        "--root",
        root.to_str().unwrap(),
        "--server",
        "postfix",
        "--postfix-version",
        version.trim(),
        "--yes",
        "--reload",
        "--backup-dir",
        b.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}{}", text(&o.stdout), text(&o.stderr));
    let (c, out) = verify_server(Some(&root), "postfix");
    assert_eq!(c, 0, "hardened: {out}");
    // See: issue 8, item 3. Port 25 accepts the same versions before and
    // after (a refused handshake there means plain text); submission, where
    // TLS is required, refuses TLS 1.0 and 1.1.
    assert_eq!(
        versions_on(&out, "127.0.0.1:25 (SMTP STARTTLS)"),
        before_25,
        "port 25 unchanged: {out}"
    );
    for want in [
        "127.0.0.1:587 (SMTP STARTTLS): TLS 1.0 refused, TLS 1.1 refused, TLS 1.2 accepted, TLS 1.3 accepted",
        "127.0.0.1:587 (submission): AUTH before STARTTLS not offered, STARTTLS required",
    ] {
        assert!(out.contains(want), "{want}: {out}");
    }
    // A second opinion on port 25 (testssl speaks EHLO after STARTTLS, which
    // on 587 makes smtpd look for the absent Dovecot socket and exit).
    if let Some(t) = testssl(Some("smtp"), "127.0.0.1:25") {
        assert!(t.contains("TLS 1.2    offered"), "testssl: {t}");
        assert_eq!(
            t.contains("TLS 1      offered"),
            before_25.contains("TLS 1.0 accepted"),
            "testssl and the probe agree on TLS 1.0: {t}"
        );
    }
    let o = run(&["rollback", "--backup-dir", b.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert_eq!(snapshot(&root), original, "rollback restores every byte");
    let (ok, out) = p.cmd("reload");
    assert!(ok, "{out}");
    wait_until(
        || text(&run(&["verify", "127.0.0.1:587"]).stdout).contains("DOWN"),
        "submission gone after rollback",
    );
    let (_, out) = verify_server(Some(&root), "postfix");
    assert_eq!(
        versions_on(&out, "127.0.0.1:25 (SMTP STARTTLS)"),
        before_25,
        "{out}"
    );
}

/// The versions part of a verify line (`TLS 1.0 accepted, ...`), without
/// the key and anything after.
fn versions_on(out: &str, endpoint: &str) -> String {
    let line = out
        .lines()
        .find(|l| l.contains(endpoint))
        .unwrap_or_else(|| panic!("{endpoint} not probed: {out}"));
    let after = line.split_once(": ").map_or("", |(_, r)| r);
    after
        .split(", ")
        .filter(|p| p.starts_with("TLS "))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Courier reads /etc/courier only, so this test changes the machine's
/// files (to listen on loopback, then through tlsmend) and restores them.
struct Courier {
    saved: Vec<(PathBuf, Vec<u8>)>,
}

impl Courier {
    fn ctl(verb: &str) {
        for s in ["/usr/sbin/imapd", "/usr/sbin/imapd-ssl"] {
            let _ = Command::new(s).arg(verb).output();
        }
    }
}

impl Drop for Courier {
    fn drop(&mut self) {
        Courier::ctl("stop");
        for (p, b) in &self.saved {
            std::fs::write(p, b).unwrap();
        }
    }
}

#[test]
fn courier_weak_then_hardened_then_rolled_back() {
    if !have("couriertls") || !Path::new("/usr/sbin/imapd").exists() {
        return;
    }
    let files = [
        PathBuf::from("/etc/courier/imapd"),
        PathBuf::from("/etc/courier/imapd-ssl"),
    ];
    let c = Courier {
        saved: files
            .iter()
            .map(|f| (f.clone(), std::fs::read(f).unwrap()))
            .collect(),
    };
    Courier::ctl("stop");
    // Loopback only.
    let imapd = std::fs::read_to_string(&files[0])
        .unwrap()
        .replace("\nADDRESS=0\n", "\nADDRESS=127.0.0.1\n");
    let ssl = std::fs::read_to_string(&files[1])
        .unwrap()
        .replace("\nSSLADDRESS=0\n", "\nSSLADDRESS=127.0.0.1\n");
    assert!(
        imapd.contains("\nADDRESS=127.0.0.1\n") && ssl.contains("\nSSLADDRESS=127.0.0.1\n"),
        "Debian's files set ADDRESS=0"
    );
    std::fs::write(&files[0], imapd).unwrap();
    std::fs::write(&files[1], ssl).unwrap();
    let before: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    Courier::ctl("start");
    wait_until(
        || {
            verify_server(None, "courier")
                .1
                .contains("127.0.0.1:143 (IMAP STARTTLS): TLS")
        },
        "imapd on 143",
    );
    let (code1, out) = verify_server(None, "courier");
    assert_eq!(code1, 1, "{out}");
    assert!(
        out.contains("TLS 1.0 accepted") && out.contains("LOGIN before STARTTLS allowed"),
        "weak before: {out}"
    );

    let t = tempfile::tempdir().unwrap();
    let b = t.path().join("backups");
    let o = run(&[
        "apply",
        "--server",
        "courier",
        "--yes",
        "--reload",
        "--backup-dir",
        b.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}{}", text(&o.stdout), text(&o.stderr));
    let (code2, out) = verify_server(None, "courier");
    assert_eq!(code2, 0, "hardened: {out}");
    for want in [
        "127.0.0.1:143 (IMAP STARTTLS): TLS 1.0 refused, TLS 1.1 refused, TLS 1.2 accepted, TLS 1.3 accepted",
        "LOGIN before STARTTLS refused",
    ] {
        assert!(out.contains(want), "{want}: {out}");
    }
    // courier.imaps-off is opt-in (RFC 8314 prefers 993): IMAPS stays on,
    // hardened by the same TLS_PRIORITY.
    assert!(
        out.contains(
            "127.0.0.1:993 (TLS): TLS 1.0 refused, TLS 1.1 refused, TLS 1.2 accepted, TLS 1.3 accepted"
        ),
        "imapd-ssl still serves 993, hardened: {out}"
    );
    if let Some(t) = testssl(Some("imap"), "127.0.0.1:143") {
        assert!(
            t.contains("TLS 1      not offered") && t.contains("TLS 1.2    offered"),
            "testssl: {t}"
        );
    }
    let o = run(&["rollback", "--backup-dir", b.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let after: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    assert!(after == before, "rollback restores every byte");
    Courier::ctl("stop");
    Courier::ctl("start");
    wait_until(
        || {
            verify_server(None, "courier")
                .1
                .contains("TLS 1.0 accepted")
        },
        "the weak Courier after rollback",
    );
    drop(c);
}

// Issue 8, item 7: `--profile old` on OpenSSL 3 (Debian 12) must really let
// TLS 1.0 clients in: its cipher list carries @SECLEVEL=0, or OpenSSL's
// default security level refuses them and the profile is a lie.
#[test]
fn apache_old_profile_accepts_tls_1_0_on_openssl_3() {
    if !have("apache2ctl") {
        return;
    }
    let a = Apache::new();
    // A demo whose default site is already at the security level OpenSSL 3
    // sets by default: TLS 1.0 refused before the run.
    let site = a.confdir().join("sites-available/default-ssl.conf");
    let s = std::fs::read_to_string(&site).unwrap().replace(
        "SSLCipherSuite ALL:@SECLEVEL=0",
        "SSLCipherSuite HIGH:!aNULL",
    );
    std::fs::write(&site, s).unwrap();
    a.start();
    wait_until(
        || probe_line(&a.root(), "127.0.0.1:443").is_some_and(|l| l.contains("TLS 1.0 refused")),
        "TLS 1.0 refused before the run (OpenSSL 3's default security level)",
    );
    let b = a.dir.path().join("backups");
    let o = run(&[
        "apply",
        "--root",
        a.root().to_str().unwrap(),
        "--server",
        "apache",
        "--profile",
        "old",
        "--yes",
        "--reload",
        "--backup-dir",
        b.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}{}", text(&o.stdout), text(&o.stderr));
    let line = probe_line(&a.root(), "127.0.0.1:443").unwrap_or_default();
    for want in ["TLS 1.0 accepted", "TLS 1.1 accepted", "TLS 1.2 accepted"] {
        assert!(line.contains(want), "{want}: {line}");
    }
    let written = std::fs::read_to_string(&site).unwrap();
    assert!(
        written.contains(":DES-CBC3-SHA:@SECLEVEL=0"),
        "the old list with @SECLEVEL=0: {written}"
    );
    // Planned again: nothing, the list with @SECLEVEL=0 meets old.
    let o = run(&[
        "apply",
        "--root",
        a.root().to_str().unwrap(),
        "--server",
        "apache",
        "--profile",
        "old",
        "--dry-run",
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o.stdout));
}
