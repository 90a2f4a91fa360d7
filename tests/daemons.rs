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
use tlsmend::catalogue::profile::Profile;

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
    let (t, root) = demo_copy();
    let confdir = root.join("etc/apache2");
    let (ok, out) = apache2ctl_t(&confdir);
    assert!(
        ok,
        "the demo must be valid before tlsmend touches it:\n{out}"
    );
    let o = apply_yes(&root, t.path(), &["--tls-library", "gnutls"]);
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
    let (t, root) = demo_copy();
    let o = apply_yes(
        &root,
        t.path(),
        &["--server", "courier", "--tls-library", "gnutls"],
    );
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
fn real_slapd_is_detected_as_gnutls_through_libldap() {
    if !have("slapd") {
        return;
    }
    let root = tlsmend::discover::Root::new(None);
    let (lib, how) = tlsmend::servers::openldap::detect_library(&root, None).expect("detected");
    assert_eq!(
        lib,
        tlsmend::target::tlslib::TlsLibrary::Gnutls,
        "Debian's slapd and libldap use GnuTLS"
    );
    assert!(
        how.starts_with("/usr/sbin/slapd links GnuTLS through libldap"),
        "{how}"
    );
}

#[test]
fn real_couriertls_is_detected_as_gnutls() {
    if !have("couriertls") {
        return;
    }
    assert_eq!(
        tlsmend::target::tlslib::detect(Path::new("/usr/bin/couriertls")),
        Some(tlsmend::target::tlslib::TlsLibrary::Gnutls),
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
        "smtpd_tls_mandatory_protocols = >=TLSv1.2",
        "smtp_tls_mandatory_protocols = >=TLSv1.2",
        "smtpd_tls_mandatory_ciphers = high",
        "smtpd_tls_auth_only = yes",
        "smtpd_tls_security_level = may",
    ] {
        assert!(
            n.lines().any(|l| l == line),
            "postconf -n lacks {line:?}:\n{n}"
        );
    }
    // Opportunistic TLS keeps Postfix's defaults (issue 8, item 3).
    for name in [
        "smtpd_tls_protocols",
        "smtp_tls_protocols",
        "tls_medium_cipherlist",
    ] {
        assert!(
            !n.lines().any(|l| l.starts_with(&format!("{name} ="))),
            "{name} written:\n{n}"
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
    let v: tlsmend::servers::postfix::model::PostfixVersion = want.parse().unwrap();
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

/// A slapd of the test's own, on loopback and a private ldapi socket, from
/// a temporary cn=config with a generated certificate; stopped by PID on drop.
struct Slapd {
    dir: tempfile::TempDir,
    port: u16,
    ldapi: String,
    running: bool,
}

impl Slapd {
    fn root(&self) -> std::path::PathBuf {
        self.dir.path().join("root")
    }
    fn slapd_d(&self) -> std::path::PathBuf {
        self.root().join("etc/ldap/slapd.d")
    }
    fn new(extra: &str) -> Slapd {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let st = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
            ])
            .arg("-keyout")
            .arg(d.join("key.pem"))
            .arg("-out")
            .arg(d.join("cert.pem"))
            .output()
            .unwrap();
        assert!(st.status.success());
        let init = format!(
            "dn: cn=config\nobjectClass: olcGlobal\ncn: config\nolcPidFile: {0}/slapd.pid\nolcArgsFile: {0}/slapd.args\nolcTLSCertificateFile: {0}/cert.pem\nolcTLSCertificateKeyFile: {0}/key.pem\n{extra}\ndn: cn=schema,cn=config\nobjectClass: olcSchemaConfig\ncn: schema\n\ndn: olcDatabase={{-1}}frontend,cn=config\nobjectClass: olcDatabaseConfig\nobjectClass: olcFrontendConfig\nolcDatabase: {{-1}}frontend\n\ndn: olcDatabase={{0}}config,cn=config\nobjectClass: olcDatabaseConfig\nolcDatabase: {{0}}config\nolcAccess: {{0}}to * by dn.exact=gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth manage by * break\n",
            d.display()
        );
        std::fs::write(d.join("init.ldif"), init).unwrap();
        let s = Slapd {
            port: free_port(),
            ldapi: format!(
                "ldapi://{}",
                d.join("ldapi").display().to_string().replace('/', "%2F")
            ),
            dir,
            running: false,
        };
        std::fs::create_dir_all(s.slapd_d()).unwrap();
        let o = Command::new("slapadd")
            .args(["-n0", "-F"])
            .arg(s.slapd_d())
            .arg("-l")
            .arg(s.dir.path().join("init.ldif"))
            .output()
            .unwrap();
        assert!(o.status.success(), "slapadd: {}", text(&o.stderr));
        s
    }
    fn start(&mut self) {
        let urls = format!("ldap://127.0.0.1:{}/ {}", self.port, self.ldapi);
        let o = Command::new("slapd")
            .args(["-h", &urls, "-F"])
            .arg(self.slapd_d())
            .output()
            .unwrap();
        assert!(o.status.success(), "slapd: {}", text(&o.stderr));
        self.running = true;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !Command::new("ldapwhoami")
            .args(["-Q", "-Y", "EXTERNAL", "-H", &self.ldapi])
            .output()
            .unwrap()
            .status
            .success()
        {
            assert!(
                std::time::Instant::now() < deadline,
                "slapd did not come up"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
    fn stop(&mut self) {
        if !self.running {
            return;
        }
        let pid = std::fs::read_to_string(self.dir.path().join("slapd.pid")).unwrap_or_default();
        if let Ok(pid) = pid.trim().parse::<i32>() {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while Path::new(&format!("/proc/{pid}")).exists()
                && std::time::Instant::now() < deadline
            {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
        self.running = false;
    }
    /// Whether a StartTLS handshake at exactly `version` succeeds (OpenSSL's
    /// client at security level 0, so that the verdict is the server's).
    fn accepts(&self, version: &str) -> bool {
        let o = Command::new("openssl")
            .args([
                "s_client",
                "-connect",
                &format!("127.0.0.1:{}", self.port),
                "-starttls",
                "ldap",
                version,
                "-cipher",
                "DEFAULT:@SECLEVEL=0",
            ])
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let out = text(&o.stdout);
        out.lines()
            .any(|l| l.starts_with("New, ") && !l.contains("(NONE)"))
    }
    fn cipher_suite(&self) -> String {
        text_of(Command::new("ldapsearch").args([
            "-Q",
            "-LLL",
            "-o",
            "ldif-wrap=no",
            "-Y",
            "EXTERNAL",
            "-H",
            &self.ldapi,
            "-b",
            "cn=config",
            "-s",
            "base",
            "olcTLSCipherSuite",
        ]))
    }
    /// `ldapwhoami -ZZ` and `ldapsearch -ZZ` (StartTLS required) both work,
    /// verifying the server's certificate.
    fn starttls_whoami(&self) -> bool {
        let url = format!("ldap://127.0.0.1:{}/", self.port);
        let ok = |c: &mut Command| {
            c.env("LDAPTLS_CACERT", self.dir.path().join("cert.pem"))
                .output()
                .unwrap()
                .status
                .success()
        };
        ok(Command::new("ldapwhoami").args(["-x", "-ZZ", "-H", &url]))
            && ok(Command::new("ldapsearch").args([
                "-x",
                "-ZZ",
                "-H",
                &url,
                "-b",
                "",
                "-s",
                "base",
                "supportedExtension",
            ]))
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn have_ldap() -> bool {
    have("slapd") && have("slapadd") && have("slaptest") && have("ldapmodify") && have("openssl")
}

#[test]
fn slapd_live_apply_with_ldapmodify_and_rollback() {
    if !have_ldap() {
        return;
    }
    let mut s = Slapd::new("");
    s.start();
    assert!(
        s.accepts("-tls1"),
        "the weak server accepts TLS 1.0 before tlsmend"
    );
    // tlsmend's own probe agrees, and maps the problem to the rule.
    let url = format!("ldap://127.0.0.1:{}", s.port);
    let o = run(&["verify", &url]);
    assert_eq!(code(&o), 1, "{}", text(&o.stdout));
    assert!(
        text(&o.stdout).contains("TLS 1.0 accepted")
            && text(&o.stdout).contains("openldap.cipher-suite"),
        "{}",
        text(&o.stdout)
    );
    // --dry-run prints the change file, and changes nothing.
    let o = run(&[
        "apply",
        "--root",
        s.root().to_str().unwrap(),
        "--ldap-uri",
        &s.ldapi,
        "--dry-run",
        "--server",
        "openldap",
        "--tls-library",
        "gnutls",
    ]);
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));
    let change = text(&o.stdout);
    assert!(
        change.contains("dn: cn=config\nchangetype: modify\nreplace: olcTLSCipherSuite\n"),
        "{change}"
    );
    assert!(
        !s.cipher_suite().contains("olcTLSCipherSuite"),
        "the dry run changed nothing"
    );
    let b = s.dir.path().join("backups");
    // slapd runs on this machine's libgnutls, which is outside the root:
    // name its version, as for the library.
    let gnutls = tlsmend::target::versions::TargetVersions::default()
        .resolve(&tlsmend::discover::Root::new(None))
        .gnutls_release()
        .expect("this machine's GnuTLS version (dpkg: libgnutls30)")
        .to_string();
    let o = run(&[
        "apply",
        "--root",
        s.root().to_str().unwrap(),
        "--ldap-uri",
        &s.ldapi,
        "--yes",
        "--server",
        "openldap",
        "--tls-library",
        "gnutls",
        "--gnutls-version",
        &gnutls,
        "--backup-dir",
        b.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(
        text(&o.stdout).contains("with ldapmodify"),
        "{}",
        text(&o.stdout)
    );
    assert!(
        s.cipher_suite().contains(&format!(
            "olcTLSCipherSuite: {}",
            Profile::Intermediate.gnutls_priority()
        )),
        "{}",
        s.cipher_suite()
    );
    assert!(
        !s.accepts("-tls1") && !s.accepts("-tls1_1"),
        "TLS 1.0 and 1.1 refused after apply"
    );
    assert!(
        s.accepts("-tls1_2") && s.accepts("-tls1_3"),
        "TLS 1.2 and 1.3 accepted"
    );
    assert!(s.starttls_whoami(), "ldapwhoami -ZZ works");
    let o = run(&["verify", &url]);
    assert_eq!(code(&o), 0, "{}", text(&o.stdout));
    // An outside witness, once. testssl speaks LDAP StartTLS only through
    // openssl s_client (--ssl-native), so its TLS 1.0 verdict is weaker
    // than tlsmend's own probe above; it still must not see TLS 1.0.
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
                "-t",
                "ldap",
                "--ssl-native",
            ])
            .arg(format!("127.0.0.1:{}", s.port))
            .output()
            .unwrap();
        let t = text(&o.stdout);
        assert!(
            t.contains("TLS 1      not offered") && t.contains("TLS 1.2    offered"),
            "testssl: {t}"
        );
    }
    assert!(
        text(&o.stdout)
            .contains("TLS 1.0 refused, TLS 1.1 refused, TLS 1.2 accepted, TLS 1.3 accepted"),
        "{}",
        text(&o.stdout)
    );
    // The inverse change file is in the run; planning again finds nothing.
    let run_dir = std::fs::read_dir(&b)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert!(
        std::fs::read_to_string(run_dir.join("ldap-0000-inverse.ldif"))
            .unwrap()
            .contains("delete: olcTLSCipherSuite")
    );
    let o = run(&[
        "apply",
        "--root",
        s.root().to_str().unwrap(),
        "--ldap-uri",
        &s.ldapi,
        "--dry-run",
        "--server",
        "openldap",
        "--tls-library",
        "gnutls",
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o.stdout));
    let o = run(&["rollback", "--backup-dir", b.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(
        !s.cipher_suite().contains("olcTLSCipherSuite"),
        "rollback restored the previous (absent) value: {}",
        s.cipher_suite()
    );
    assert!(
        s.accepts("-tls1"),
        "the weak behaviour is back after rollback"
    );
}

#[test]
fn slapd_offline_edit_keeps_slaptest_quiet_and_starts() {
    if !have_ldap() {
        return;
    }
    // An OpenSSL cipher list in a GnuTLS build: slapd would refuse to start.
    let mut s = Slapd::new("olcTLSCipherSuite: HIGH:!aNULL\nolcTLSProtocolMin: 3.3\n");
    let slaptest = |s: &Slapd| {
        Command::new("slaptest")
            .arg("-F")
            .arg(s.slapd_d())
            .output()
            .unwrap()
    };
    let o = run(&[
        "apply",
        "--root",
        s.root().to_str().unwrap(),
        "--yes",
        "--server",
        "openldap",
        "--tls-library",
        "gnutls",
        "--backup-dir",
        s.dir.path().join("b").to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let o = slaptest(&s);
    let all = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert!(
        o.status.success() && !all.contains("checksum error"),
        "slaptest: {all}"
    );
    s.start();
    assert!(
        !s.accepts("-tls1") && s.accepts("-tls1_2"),
        "the offline edit is what slapd now uses"
    );
    s.stop();
    // slaptest does check the CRC: a byte changed by hand makes it complain.
    let f = s.slapd_d().join("cn=config.ldif");
    let good = std::fs::read_to_string(&f).unwrap();
    std::fs::write(&f, good.replace("cn: config", "cn: CONFIG")).unwrap();
    assert!(text(&slaptest(&s).stderr).contains("checksum error"));
    let o = run(&[
        "audit",
        "--root",
        s.root().to_str().unwrap(),
        "--server",
        "openldap",
        "--tls-library",
        "gnutls",
        "--format",
        "json",
    ]);
    assert!(
        text(&o.stdout).contains("openldap.crc"),
        "{}",
        text(&o.stdout)
    );
}

#[test]
fn slapd_d_files_written_by_slapd_have_the_crc_tlsmend_computes() {
    if !have_ldap() {
        return;
    }
    let s = Slapd::new("");
    let mut checked = 0;
    let mut stack = vec![s.slapd_d()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let b = std::fs::read(&p).unwrap();
                let c = tlsmend::syntax::ldif::crc_line(&b).expect("slapd writes a CRC line");
                assert_eq!(c.stated, c.computed, "{}", p.display());
                checked += 1;
            }
        }
    }
    assert!(checked >= 4, "{checked}");
}

#[test]
fn a_change_the_checker_rejects_is_never_written() {
    if !have("apache2ctl") {
        return;
    }
    // tlsmend reads <IfDefine> as if it held, so it believes mod_headers is
    // loaded; apache2ctl -t knows better. The checker must win.
    let (t, root) = demo_copy();
    std::fs::write(
        root.join("etc/apache2/mods-available/headers.load"),
        "<IfDefine NEVER_DEFINED>\nLoadModule headers_module /usr/lib/apache2/modules/mod_headers.so\n</IfDefine>\n",
    )
    .unwrap();
    let shop = root.join("etc/apache2/sites-available/shop.conf");
    let without_header: String = std::fs::read_to_string(&shop)
        .unwrap()
        .lines()
        .filter(|l| !l.contains("Header add"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&shop, without_header).unwrap();
    let before = snapshot(&root);
    let o = apply_yes(&root, t.path(), &["--server", "apache"]);
    let err = text(&o.stderr);
    assert_eq!(code(&o), 2, "{err}");
    assert!(
        err.contains("apache2 -t rejects change [apache.hsts]")
            && err.contains("Invalid command 'Header'"),
        "{err}"
    );
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(snapshot(&root), before, "nothing in place was replaced");
    assert!(!t.path().join("b").exists(), "no backup run either");
    // --no-validate writes, with a warning.
    let o = apply_yes(&root, t.path(), &["--server", "apache", "--no-validate"]);
    assert_eq!(code(&o), 0);
    assert!(
        text(&o.stderr).contains("--no-validate"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn gnutls_cli_validation_catches_a_bad_priority() {
    if !have("gnutls-cli") {
        return;
    }
    assert!(tlsmend::live::validate::gnutls_accepts("NORMAL:-VERS-TLS1.0").is_ok());
    let e = tlsmend::live::validate::gnutls_accepts("NORMAL:+BOGUS").unwrap_err();
    assert!(e.contains("Syntax error"), "{e}");
}

#[test]
fn apply_reports_the_checkers_it_ran() {
    if !have("apache2ctl") || !have("postfix") || !have("gnutls-cli") {
        return;
    }
    let (t, root) = demo_copy();
    let o = apply_yes(&root, t.path(), &["--tls-library", "gnutls"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let err = text(&o.stderr);
    for checker in [
        "apache2 -t",
        "postfix check",
        "sh -n and tlsmend's reading of the assignments",
        "gnutls-cli",
    ] {
        assert!(
            err.contains(&format!("checked with {checker}")),
            "{checker}: {err}"
        );
    }
}

/// The files an Include reads are the ones httpd reads, in its order, as
/// `apache2 -t -D DUMP_INCLUDES` lists them: a wildcard skips dot files
/// unless it starts with a literal `.` (and never reads `.` or `..`), a
/// directory is read whole (dot files too) and its subdirectories with it,
/// a wildcard matching a directory reads that directory whole, a wildcard
/// before more of the pattern does not follow links, `*/..` is undone
/// before matching (for a plain path too), `**` is `*`, `[^a]` is
/// `[!a]`, a backslash escapes (in a class too), a `[` never closed is a
/// plain `[`, `*.conf`
/// does not read `.conf`, a trailing `/` keeps directories only, and a
/// plain name after a wildcard follows links; with a root spelled with `//`
/// too.
#[test]
fn an_include_reads_the_files_httpd_reads() {
    if !have("apache2") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let conf = t.path().join("etc/apache2");
    for f in [
        "conf.d/a.conf",
        "conf.d/.old.conf",
        "conf.d/b.conf",
        "extra/x.conf",
        "extra/.y.conf",
        "extra/sub/z.conf",
        "extra/sub/deeper/w.conf",
        "dots/.one.conf",
        "dots/two.conf",
        "inner/site1/site.conf",
        "inner/.hidden/site.conf",
        "inner/file/site.conf",
        "all/m.conf",
        "all/dir/n.conf",
        "inner/top.conf",
        "elsewhere/site.conf",
        "stars/s.conf",
        "stars/.t.conf",
        "caret/a.conf",
        "caret/b.conf",
        "caret/^x.conf",
        "esc/.a.conf",
        "esc/b.conf",
        "lit[1.conf",
        "open/c[",
        "open/d",
        "conf.d/.conf",
        "top2.conf",
        "far/top2.conf",
        "far/sub/keep",
        "slash/f.conf",
        "slash/d/g.conf",
        "elsewhere2/h.conf",
        "elsewhere3/x.conf",
        "lit2/a/keep",
        "cls/-.conf",
        "cls/a.conf",
        "cls/b.conf",
        "cls/].conf",
        "cls/!.conf",
    ] {
        let p = conf.join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, format!("# {f}\n")).unwrap();
    }
    std::fs::write(conf.join("inner/plain"), "# not a directory\n").unwrap();
    // A wildcard with more of the pattern after it keeps directories as
    // the listing says, so httpd does not follow this link.
    std::os::unix::fs::symlink("../elsewhere", conf.join("inner/link")).unwrap();
    // `..` is undone lexically, as httpd spells the path, not after the
    // link: `sub/../top2.conf` is `top2.conf`, not `far/top2.conf`.
    std::os::unix::fs::symlink("far/sub", conf.join("sub")).unwrap();
    // A pattern ending in `/` keeps real directories only.
    std::os::unix::fs::symlink("../elsewhere2", conf.join("slash/ld")).unwrap();
    // A plain name after a wildcard is followed, link or not.
    std::os::unix::fs::symlink("../../elsewhere3", conf.join("lit2/a/conf")).unwrap();
    std::fs::write(
        conf.join("apache2.conf"),
        "ServerName localhost\nListen 127.0.0.1:9\n\
         Include conf.d/*.conf\nInclude extra\nInclude dots/.*\n\
         Include inner/*/site.conf\nInclude all/*\n\
         Include inner/*/../top.conf\nInclude stars/**.conf\n\
         Include caret/[^a]*.conf\nInclude esc/\\.*\nInclude lit[1.conf\nInclude open/*[\n\
         Include sub/../top2.conf\nIncludeOptional slash/*/\nInclude lit2/*/conf/x.conf\n\
         Include cls/[a\\-z].conf\nInclude cls/[\\]\\!].conf\n",
    )
    .unwrap();
    let o = Command::new("apache2")
        .args(["-t", "-D", "DUMP_INCLUDES", "-d"])
        .arg(&conf)
        .arg("-f")
        .arg(conf.join("apache2.conf"))
        .output()
        .unwrap();
    let root = t.path().to_str().unwrap();
    let httpd: Vec<String> = text(&o.stdout)
        .lines()
        .filter_map(|l| l.trim_start().split_once(") "))
        .map(|(_, path)| path.strip_prefix(root).unwrap_or(path).to_string())
        .collect();
    assert!(
        httpd.len() > 5,
        "apache2 listed no includes:\n{}",
        text(&o.stdout)
    );
    // The root as given, and spelled with a `//` inside (`--root /srv//x`).
    let parent = t.path().parent().unwrap().display();
    let name = t.path().file_name().unwrap().to_str().unwrap();
    for root in [
        t.path().to_path_buf(),
        std::path::PathBuf::from(format!("{parent}//{name}")),
    ] {
        let tree = tlsmend::servers::apache::model::ApacheTree::load(
            &tlsmend::discover::Root::new(Some(root.clone())),
            &tlsmend::servers::apache::layout::DEBIAN,
        )
        .unwrap();
        let ours: Vec<String> = tree
            .files
            .iter()
            .map(|(f, _)| f.path.display().to_string())
            .collect();
        assert_eq!(ours, httpd, "--root {}", root.display());
    }
}
