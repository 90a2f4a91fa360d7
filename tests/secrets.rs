//! Secrets never leave their files (issue 10): passwords and private keys
//! are redacted in audit (text and JSON), dry-run diffs, parse-error
//! excerpts and findings' quoted lines, and the redacted dry-run diff still
//! applies with `patch`.

mod common;
use common::*;
use std::path::Path;

const SECRET: &str = "hunter2";

fn root_with(files: &[(&str, &str)]) -> (tempfile::TempDir, std::path::PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    for (path, text) in files {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    (t, root)
}

fn secret_free(what: &str, out: &std::process::Output) {
    for s in [&out.stdout, &out.stderr] {
        let t = text(s);
        assert!(!t.contains(SECRET), "{what} shows the secret:\n{t}");
    }
}

/// main.cf and slapd.conf with passwords right next to lines tlsmend
/// changes, so that a diff's context would show them.
/// With `broken`, main.cf also has a line without `=` that names a
/// password, which the `postfix.syntax` finding quotes.
fn secret_root(broken: bool) -> (tempfile::TempDir, std::path::PathBuf) {
    let main = format!(
        "smtpd_tls_cert_file=/etc/ssl/certs/a.pem\n\
         smtpd_tls_key_file=/etc/ssl/private/a.key\n\
         smtp_sasl_password_maps = inline:{{ [mx.example]:587=user:hunter2 }}\n\
         smtp_tls_security_level = none\n\
         {}smtpd_tls_mandatory_protocols = SSLv3\n",
        if broken {
            "smtp_sasl_password hunter2\n"
        } else {
            ""
        }
    );
    root_with(&[
        ("etc/postfix/main.cf", &main),
        (
            "etc/ldap/slapd.conf",
            "include /etc/ldap/schema/core.schema\n\
             TLSCertificateFile /etc/ssl/certs/a.pem\n\
             TLSCipherSuite NORMAL:+VERS-TLS1.0\n\
             rootpw hunter2\n\
             TLSProtocolMin 3.1\n\
             TLSCertificateKeyFile /etc/ssl/private/a.key\n\
             database mdb\n\
             rootpw {SSHA}hunter2\n",
        ),
    ])
}

#[test]
fn audit_and_its_json_never_show_a_password() {
    let (_t, root) = secret_root(true);
    let r = root.to_str().unwrap();
    let o = run(&["audit", "--root", r]);
    assert!(
        text(&o.stdout).contains("postfix.syntax"),
        "{}",
        text(&o.stdout)
    );
    secret_free("audit", &o);
    secret_free(
        "audit --format json",
        &run(&["audit", "--root", r, "--format", "json"]),
    );
}

#[test]
fn the_dry_run_diff_shows_no_password_and_still_applies_with_patch() {
    let (t, root) = secret_root(false);
    let r = root.to_str().unwrap();
    let o = run(&[
        "apply",
        "--dry-run",
        "--root",
        r,
        "--tls-library",
        "openssl",
    ]);
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));
    secret_free("apply --dry-run", &o);
    let diff = text(&o.stdout);
    assert!(diff.contains("+smtp_tls_security_level = may"), "{diff}");
    assert!(diff.contains("slapd.conf"), "{diff}");
    // What --yes would write, from the library: the patched tree must be it.
    let report = tlsmend::servers::audit(&tlsmend::discover::Root::new(Some(root.clone())), &{
        let mut o =
            tlsmend::servers::Options::new(tlsmend::catalogue::profile::Profile::Intermediate);
        o.tls_library = Some(tlsmend::target::tlslib::TlsLibrary::Openssl);
        o
    })
    .unwrap();
    let all: Vec<usize> = (0..report.changes.len()).collect();
    let want = report.render(&all).unwrap();
    assert!(!want.is_empty());
    let patched = t.path().join("patched");
    copy_tree(&root, &patched);
    let p = std::process::Command::new("patch")
        .args(["-p0", "--batch", "--fuzz=0", "-d"])
        .arg(&patched)
        .stdin(
            std::fs::File::open({
                let d = t.path().join("d.diff");
                std::fs::write(&d, &o.stdout).unwrap();
                d
            })
            .unwrap(),
        )
        .output()
        .unwrap();
    assert!(p.status.success(), "{}{}", text(&p.stdout), text(&p.stderr));
    for (f, bytes) in want {
        let rel = report.files[f].host.strip_prefix(&root).unwrap();
        assert_eq!(
            text(&std::fs::read(patched.join(rel)).unwrap()),
            text(&bytes),
            "{}",
            rel.display()
        );
    }
}

#[test]
fn a_parse_error_inside_a_private_key_does_not_quote_it() {
    let bytes =
        b"SSLEngine on\n-----BEGIN PRIVATE KEY-----\nMIIhunter2AAA\n-----END PRIVATE KEY-----\n";
    let at = bytes.windows(3).position(|w| w == b"MII").unwrap();
    let e = tlsmend::source::ParseError::at(Path::new("/x.conf"), bytes, at, "bad");
    let shown = e.to_string();
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(shown.contains("<redacted>"), "{shown}");
    let e = tlsmend::source::ParseError::at(Path::new("/s.conf"), b"rootpw hunter2 x\n", 15, "bad");
    assert!(!e.to_string().contains(SECRET), "{e}");
}
