//! Real machines' layouts, on small roots written here: each distribution's
//! Apache places, certbot's shared options file, control-panel virtual
//! hosts, macros, and what `audit` says it found (or did not find).

mod common;
use common::*;
use std::path::Path;

/// Writes `files` (machine path, text) under a new root.
fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    for (p, body) in files {
        let host = t.path().join(p.trim_start_matches('/'));
        std::fs::create_dir_all(host.parent().unwrap()).unwrap();
        std::fs::write(host, body).unwrap();
    }
    t
}

fn audit(root: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec![
        "audit",
        "--root",
        root.to_str().unwrap(),
        "--apache-version",
        "2.4.62",
        "--openssl-version",
        "3.0.15",
    ];
    args.extend_from_slice(extra);
    let o = run(&args);
    (code(&o), text(&o.stdout), text(&o.stderr))
}

fn dry_run(root: &Path) -> (i32, String, String) {
    let o = run(&[
        "apply",
        "--dry-run",
        "--root",
        root.to_str().unwrap(),
        "--apache-version",
        "2.4.62",
        "--openssl-version",
        "3.0.15",
    ]);
    (code(&o), text(&o.stdout), text(&o.stderr))
}

const OPTIONS_SSL: &str = "# certbot's options-ssl-apache.conf\n\
SSLEngine on\n\
SSLProtocol             all -SSLv2 -SSLv3 -TLSv1 -TLSv1.1\n\
SSLCipherSuite          ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA\n\
SSLHonorCipherOrder     off\n\
SSLSessionTickets       off\n\
SSLOptions +StrictRequire\n";

fn le_site(name: &str) -> String {
    format!(
        "<IfModule mod_ssl.c>\n<VirtualHost *:443>\n    ServerName {name}\n    DocumentRoot /var/www/{name}\n\
SSLCertificateFile /etc/letsencrypt/live/{name}/fullchain.pem\n\
SSLCertificateKeyFile /etc/letsencrypt/live/{name}/privkey.pem\n\
Include /etc/letsencrypt/options-ssl-apache.conf\n</VirtualHost>\n</IfModule>\n"
    )
}

/// A Debian tree with certbot's three `-le-ssl.conf` sites sharing one
/// options file, and no SSL directive in the server config.
fn certbot_root() -> tempfile::TempDir {
    let sites: Vec<String> = ["a.example", "b.example", "c.example"]
        .iter()
        .map(|n| le_site(n))
        .collect();
    tree(&[
        (
            "/etc/apache2/apache2.conf",
            "ServerRoot /etc/apache2\nLoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so\nIncludeOptional sites-enabled/*.conf\n",
        ),
        ("/etc/letsencrypt/options-ssl-apache.conf", OPTIONS_SSL),
        (
            "/etc/apache2/sites-enabled/a.example-le-ssl.conf",
            &sites[0],
        ),
        (
            "/etc/apache2/sites-enabled/b.example-le-ssl.conf",
            &sites[1],
        ),
        (
            "/etc/apache2/sites-enabled/c.example-le-ssl.conf",
            &sites[2],
        ),
    ])
}

#[test]
fn certbot_shared_options_file_is_one_place() {
    let t = certbot_root();
    let (c, out, err) = audit(t.path(), &["--format", "json"]);
    assert_eq!(c, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let ciphers: Vec<_> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "apache.ciphers")
        .collect();
    assert_eq!(ciphers.len(), 1, "one place, one finding: {ciphers:?}");
    let reason = ciphers[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("3 virtual hosts")
            && reason.contains("a.example:443")
            && reason.contains("c.example:443"),
        "{reason}"
    );
    let (c, diff, err) = dry_run(t.path());
    assert_eq!(c, 1, "{err}");
    assert!(!err.contains("same bytes"), "{err}");
    let cipher_lines = diff
        .lines()
        .filter(|l| l.starts_with("+SSLCipherSuite"))
        .count();
    assert_eq!(cipher_lines, 1, "{diff}");
    assert!(
        diff.contains("etc/letsencrypt/options-ssl-apache.conf"),
        "{diff}"
    );
}

#[test]
fn an_empty_root_is_exit_2_with_the_places_searched() {
    let t = tempfile::tempdir().unwrap();
    let (c, _out, err) = audit(t.path(), &[]);
    assert_eq!(c, 2, "{err}");
    for p in [
        "/etc/apache2/apache2.conf",
        "/etc/httpd/conf/httpd.conf",
        "/usr/local/etc/apache24/httpd.conf",
        "/etc/postfix/main.cf",
    ] {
        assert!(err.contains(p), "{p} not named: {err}");
    }
}

#[test]
fn a_hardened_server_says_what_was_found() {
    let t = tree(&[(
        "/etc/apache2/apache2.conf",
        "LoadModule ssl_module x.so\nSSLProtocol -all +TLSv1.2 +TLSv1.3\nSSLCipherSuite ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256\nSSLHonorCipherOrder off\nSSLSessionTickets off\n",
    )]);
    let (c, out, err) = audit(t.path(), &[]);
    assert_eq!(c, 0, "{out}{err}");
    assert!(
        out.contains("found: apache: /etc/apache2/apache2.conf, layout Debian/Ubuntu"),
        "{out}"
    );
    assert!(out.contains("TLS services: none configured"), "{out}");
    assert!(out.contains("httpd 2.4.62"), "{out}");
    assert!(
        out.contains("not found: postfix (looked for /etc/postfix/main.cf)"),
        "{out}"
    );
}

#[test]
fn apache_without_mod_ssl_is_said() {
    let t = tree(&[(
        "/etc/httpd/conf/httpd.conf",
        "ServerRoot /etc/httpd\nLoadModule mpm_event_module modules/mod_mpm_event.so\nListen 80\n",
    )]);
    let (c, out, err) = audit(t.path(), &[]);
    assert_eq!(c, 0, "{err}");
    assert!(out.contains("layout RHEL/Fedora"), "{out}");
    assert!(out.contains("mod_ssl is not loaded"), "{out}");
}

#[test]
fn one_broken_server_does_not_hide_the_others() {
    let t = tree(&[
        (
            "/etc/apache2/apache2.conf",
            "<VirtualHost *:443>\nSSLEngine on\n",
        ),
        (
            "/etc/postfix/main.cf",
            "smtpd_tls_cert_file = /etc/ssl/x.pem\nsmtpd_tls_protocols = !SSLv2\n",
        ),
    ]);
    let (c, out, err) = audit(t.path(), &["--postfix-version", "3.7"]);
    assert_eq!(c, 2, "{out}{err}");
    assert!(err.contains("apache not audited"), "{err}");
    assert!(err.contains("apache2.conf:1:1"), "{err}");
    assert!(
        out.contains("found: postfix: /etc/postfix/main.cf"),
        "{out}"
    );
    assert!(
        out.contains("postfix."),
        "the postfix findings are there: {out}"
    );
}

#[test]
fn a_bad_include_names_the_line_that_includes_it() {
    let t = tree(&[(
        "/etc/apache2/apache2.conf",
        "LoadModule ssl_module x.so\n\nInclude conf-enabled/missing.conf\n",
    )]);
    std::os::unix::fs::symlink("loop.conf", t.path().join("etc/apache2/loop.conf")).unwrap();
    let (c, _out, err) = audit(t.path(), &[]);
    assert_eq!(c, 2);
    assert!(err.contains("apache2.conf:3:1"), "{err}");
    std::fs::write(
        t.path().join("etc/apache2/apache2.conf"),
        "LoadModule ssl_module x.so\nInclude loop.conf\n",
    )
    .unwrap();
    let (c, _out, err) = audit(t.path(), &[]);
    assert_eq!(c, 2);
    assert!(
        err.contains("apache2.conf:2:1") && err.contains("symbolic links"),
        "{err}"
    );
}
