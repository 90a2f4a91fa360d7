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
    assert_eq!(v["found"][0]["server"], "apache");
    assert_eq!(v["found"][0]["services"].as_array().unwrap().len(), 3);
    assert!(
        v["not_found"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["server"] == "postfix")
    );
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
    assert!(
        err.contains("tlsmend: found: apache: /etc/apache2/apache2.conf")
            && err.contains("TLS services (3)"),
        "apply says what it found: {err}"
    );
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
        out.contains(
            "not found: postfix (looked for /etc/postfix/main.cf, /usr/local/etc/postfix/main.cf"
        ),
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

/// A certificate that names an OCSP responder, with its issuer in the file.
fn ocsp_cert() -> String {
    let p = repo().join("tests/cases/apache-stapling/root/etc/ssl/shop.crt");
    std::fs::read_to_string(p).unwrap()
}

/// A Debian tree whose mod_ssl file has certbot-era commented stapling lines.
fn debian_stapling_root(site_extra: &str) -> tempfile::TempDir {
    let site = format!(
        "<VirtualHost *:443>\n\tServerName shop.example\n\tSSLEngine on\n\tSSLCertificateFile /etc/ssl/shop.crt\n\tSSLCertificateKeyFile /etc/ssl/shop.key\n{site_extra}\tSSLProtocol -all +TLSv1.2 +TLSv1.3\n</VirtualHost>\n"
    );
    let t = tree(&[
        (
            "/etc/apache2/apache2.conf",
            "IncludeOptional mods-enabled/*.load\nIncludeOptional mods-enabled/*.conf\nIncludeOptional sites-enabled/*.conf\n",
        ),
        (
            "/etc/apache2/mods-available/ssl.load",
            "LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so\n",
        ),
        (
            "/etc/apache2/mods-available/ssl.conf",
            "<IfModule mod_ssl.c>\n\tSSLSessionCache\t\tshmcb:${APACHE_RUN_DIR}/ssl_scache(512000)\n\tSSLSessionCacheTimeout  300\n\t#SSLStaplingCache shmcb:/tmp/old(100)\n\tSSLCipherSuite ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256\n\tSSLHonorCipherOrder off\n\tSSLProtocol -all +TLSv1.2 +TLSv1.3\n\tSSLSessionTickets off\n</IfModule>\n",
        ),
        ("/etc/apache2/sites-available/shop.conf", &site),
        ("/etc/ssl/shop.crt", &ocsp_cert()),
    ]);
    let e = t.path().join("etc/apache2");
    std::fs::create_dir_all(e.join("mods-enabled")).unwrap();
    std::fs::create_dir_all(e.join("sites-enabled")).unwrap();
    for m in ["ssl.load", "ssl.conf"] {
        std::os::unix::fs::symlink(
            format!("../mods-available/{m}"),
            e.join("mods-enabled").join(m),
        )
        .unwrap();
    }
    std::os::unix::fs::symlink(
        "../sites-available/shop.conf",
        e.join("sites-enabled/shop.conf"),
    )
    .unwrap();
    t
}

#[test]
fn the_stapling_cache_goes_in_mod_ssl_s_file_reusing_its_comment() {
    let t = debian_stapling_root("\t#SSLUseStapling On\n");
    let (c, diff, err) = dry_run(t.path());
    assert_eq!(c, 1, "{err}");
    // The cache: the commented line of mods-available/ssl.conf, not a site
    // file that a2dissite switches off.
    assert!(
        diff.contains("-\t#SSLStaplingCache shmcb:/tmp/old(100)\n+\tSSLStaplingCache \"shmcb:${APACHE_RUN_DIR}/ssl_stapling(128000)\"\n"),
        "{diff}"
    );
    let site = diff.split("sites-available/shop.conf").nth(2).unwrap_or("");
    assert!(!site.contains("SSLStaplingCache"), "{diff}");
    // `#SSLUseStapling On` in the virtual host is reused, not left beside a new line.
    assert!(
        site.contains("-\t#SSLUseStapling On\n+\tSSLUseStapling on\n"),
        "{diff}"
    );
}

#[test]
fn a_new_sslusestapling_follows_the_certificate_group() {
    let t = debian_stapling_root("");
    let (c, diff, err) = dry_run(t.path());
    assert_eq!(c, 1, "{err}");
    assert!(
        diff.contains("\tSSLCertificateKeyFile /etc/ssl/shop.key\n+\tSSLUseStapling on\n"),
        "{diff}"
    );
}

#[test]
fn stapling_on_without_a_cache_is_high() {
    let t = debian_stapling_root("\tSSLUseStapling on\n");
    let (c, out, err) = audit(t.path(), &[]);
    assert_eq!(c, 1, "{err}");
    assert!(
        out.contains("HIGH   apache.stapling") && out.contains("AH01958"),
        "{out}"
    );
    let (_c, diff, _err) = dry_run(t.path());
    assert!(
        diff.contains("+\tSSLStaplingCache \"shmcb:${APACHE_RUN_DIR}/ssl_stapling(128000)\""),
        "{diff}"
    );
}

#[test]
fn a_missing_setting_lands_after_its_relatives_not_between_the_stapling_lines() {
    let t = tree(&[(
        "/etc/httpd/conf/httpd.conf",
        "ServerRoot /etc/httpd\nLoadModule ssl_module modules/mod_ssl.so\nSSLProtocol -all +TLSv1.2 +TLSv1.3\nSSLCipherSuite ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256\nSSLUseStapling on\nSSLStaplingCache shmcb:/run/httpd/ssl_stapling(128000)\n<VirtualHost *:443>\nSSLEngine on\n</VirtualHost>\n",
    )]);
    let (c, diff, err) = dry_run(t.path());
    assert_eq!(c, 1, "{err}");
    assert!(
        diff.contains(" SSLCipherSuite ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256\n+SSLCompression off\n+SSLSessionTickets off\n"),
        "{diff}"
    );
    assert!(
        diff.contains(" SSLUseStapling on\n SSLStaplingCache"),
        "the stapling pair stays together: {diff}"
    );
}

const WEAK_VHOST: &str = "<VirtualHost *:443>\n    ServerName www.example\n    SSLEngine on\n    SSLProtocol all\n</VirtualHost>\n";

/// Each distribution's tree, with the Includes its packaging uses
/// (ServerRoot-relative where it does), and the file its TLS vhost is in.
/// A layout's name, its files (machine path, text) and its TLS vhost's file.
type LayoutCase = (&'static str, Vec<(&'static str, String)>, &'static str);

fn layouts() -> Vec<LayoutCase> {
    let v = WEAK_VHOST.to_string();
    vec![
        (
            "FreeBSD",
            vec![
                (
                    "/usr/local/etc/apache24/httpd.conf",
                    "ServerRoot \"/usr/local\"\nLoadModule ssl_module libexec/apache24/mod_ssl.so\nIncludeOptional etc/apache24/modules.d/[0-9][0-9][0-9]_*.conf\nInclude etc/apache24/extra/httpd-ssl.conf\nInclude etc/apache24/Includes/*.conf\n".into(),
                ),
                (
                    "/usr/local/etc/apache24/extra/httpd-ssl.conf",
                    "Listen 443\nSSLSessionCache \"shmcb:/var/run/ssl_scache(512000)\"\n".into(),
                ),
                ("/usr/local/etc/apache24/Includes/www.conf", v.clone()),
            ],
            "usr/local/etc/apache24/Includes/www.conf",
        ),
        (
            "Alpine",
            vec![
                (
                    "/etc/apache2/httpd.conf",
                    "ServerTokens OS\nServerRoot /var/www\nLoadModule ssl_module modules/mod_ssl.so\nIncludeOptional /etc/apache2/conf.d/*.conf\n".into(),
                ),
                (
                    "/etc/apache2/conf.d/ssl.conf",
                    "Listen 443\nSSLSessionCache shmcb:/var/cache/mod_ssl/scache(512000)\n".into(),
                ),
                ("/etc/apache2/conf.d/www.conf", v.clone()),
            ],
            "etc/apache2/conf.d/www.conf",
        ),
        (
            "SUSE",
            vec![
                (
                    "/etc/apache2/httpd.conf",
                    "Include /etc/apache2/uid.conf\nInclude /etc/apache2/listen.conf\nInclude /etc/apache2/ssl-global.conf\nLoadModule ssl_module /usr/lib64/apache2/mod_ssl.so\nIncludeOptional /etc/apache2/vhosts.d/*.conf\n".into(),
                ),
                ("/etc/apache2/uid.conf", "User wwwrun\n".into()),
                ("/etc/apache2/listen.conf", "Listen 443\n".into()),
                (
                    "/etc/apache2/ssl-global.conf",
                    "<IfModule mod_ssl.c>\n\tSSLSessionCache shmcb:/var/lib/apache2/ssl_scache(512000)\n</IfModule>\n".into(),
                ),
                ("/etc/apache2/vhosts.d/www.conf", v.clone()),
            ],
            "etc/apache2/vhosts.d/www.conf",
        ),
        (
            "Gentoo",
            vec![
                (
                    "/etc/apache2/httpd.conf",
                    "ServerRoot \"/usr/lib64/apache2\"\nLoadModule ssl_module modules/mod_ssl.so\nInclude modules.d/*.conf\nInclude vhosts.d/*.conf\n".into(),
                ),
                (
                    "/etc/apache2/modules.d/40_mod_ssl.conf",
                    "<IfDefine SSL>\n<IfModule ssl_module>\nSSLSessionCache shmcb:/var/run/ssl_scache(512000)\n</IfModule>\n</IfDefine>\n".into(),
                ),
                ("/etc/apache2/vhosts.d/www.conf", v.clone()),
            ],
            "etc/apache2/vhosts.d/www.conf",
        ),
        (
            "Arch",
            vec![
                (
                    "/etc/httpd/conf/httpd.conf",
                    "ServerRoot \"/etc/httpd\"\nLoadModule ssl_module modules/mod_ssl.so\nInclude conf/extra/httpd-ssl.conf\nInclude conf/extra/httpd-vhosts.conf\n".into(),
                ),
                (
                    "/etc/httpd/conf/extra/httpd-ssl.conf",
                    "Listen 443\n#SSLStaplingCache \"shmcb:/run/httpd/ssl_stapling(32768)\"\n".into(),
                ),
                ("/etc/httpd/conf/extra/httpd-vhosts.conf", v.clone()),
            ],
            "etc/httpd/conf/extra/httpd-vhosts.conf",
        ),
        (
            "RHEL/Fedora",
            vec![
                (
                    "/etc/httpd/conf/httpd.conf",
                    "ServerRoot \"/etc/httpd\"\nInclude conf.modules.d/*.conf\nIncludeOptional conf.d/*.conf\n".into(),
                ),
                (
                    "/etc/httpd/conf.modules.d/00-ssl.conf",
                    "LoadModule ssl_module modules/mod_ssl.so\n".into(),
                ),
                ("/etc/httpd/conf.d/ssl.conf", format!("Listen 443 https\n{v}")),
            ],
            "etc/httpd/conf.d/ssl.conf",
        ),
    ]
}

#[test]
fn every_supported_layout_is_found_and_said() {
    for (name, files, vhost_file) in layouts() {
        let refs: Vec<(&str, &str)> = files.iter().map(|(p, b)| (*p, b.as_str())).collect();
        let t = tree(&refs);
        if name == "Gentoo" {
            // The package's links from ServerRoot back to /etc/apache2.
            let lib = t.path().join("usr/lib64/apache2");
            std::fs::create_dir_all(&lib).unwrap();
            for d in ["modules.d", "vhosts.d"] {
                std::os::unix::fs::symlink(format!("/etc/apache2/{d}"), lib.join(d)).unwrap();
            }
        }
        let (c, out, err) = audit(t.path(), &[]);
        assert_eq!(c, 1, "{name}: {out}{err}");
        assert!(
            out.contains(&format!("layout {name} (")),
            "{name}: the layout is named: {out}"
        );
        assert!(
            out.contains("TLS services (1): www.example *:443"),
            "{name}: {out}"
        );
        assert!(
            out.lines()
                .any(|l| l.contains("apache.protocol") && l.contains(vhost_file)),
            "{name}: the vhost's SSLProtocol is found in {vhost_file}: {out}"
        );
    }
}

/// A control panel's sites: one macro, one `Use` per site.
fn panel_root(macro_body: &str, uses: &str) -> tempfile::TempDir {
    tree(&[
        (
            "/etc/apache2/apache2.conf",
            "LoadModule ssl_module x.so\nLoadModule macro_module y.so\nSSLProtocol -all +TLSv1.2 +TLSv1.3\nSSLCipherSuite ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256\nSSLHonorCipherOrder off\nSSLSessionTickets off\nIncludeOptional sites-enabled/*.conf\n",
        ),
        (
            "/etc/apache2/sites-enabled/panel.conf",
            &format!("{macro_body}\n{uses}UndefMacro SSLSite\n"),
        ),
    ])
}

#[test]
fn macro_made_virtual_hosts_are_audited_as_expanded() {
    let t = panel_root(
        "<Macro SSLSite $domain $port>\n<VirtualHost *:$port>\n  ServerName $domain\n  SSLEngine on\n  SSLProtocol all\n</VirtualHost>\n</Macro>\n",
        "Use SSLSite one.example 443\nUse SSLSite two.example 8443\n",
    );
    let (c, out, err) = audit(t.path(), &[]);
    assert_eq!(c, 1, "{out}{err}");
    assert!(
        out.contains("sites-enabled/panel.conf:9: `Use SSLSite` makes a virtual host")
            && out.contains("panel.conf:10:")
            && out.contains("TLS services (2): one.example *:443"),
        "{out}{err}"
    );
    // Every Use agrees: one finding at the macro body, one edit there.
    assert!(
        out.contains("apache.protocol") && out.contains("one.example:443, two.example:8443"),
        "{out}"
    );
    let (c, diff, err) = dry_run(t.path());
    assert_eq!(c, 1, "{err}");
    assert!(
        diff.contains("-  SSLProtocol all\n+  SSLProtocol -all +TLSv1.2 +TLSv1.3\n"),
        "{diff}"
    );
}

#[test]
fn a_setting_made_of_a_macro_parameter_is_reported_not_rewritten() {
    let t = panel_root(
        "<Macro SSLSite $domain $proto>\n<VirtualHost *:443>\n  ServerName $domain\n  SSLEngine on\n  SSLProtocol $proto\n</VirtualHost>\n</Macro>\n",
        "Use SSLSite one.example all\nUse SSLSite two.example TLSv1.2\n",
    );
    let (c, out, err) = audit(t.path(), &[]);
    assert_eq!(c, 1, "{out}{err}");
    assert!(
        out.contains("current: all") && out.contains("<Macro> parameter"),
        "{out}"
    );
    let (_c, diff, _err) = dry_run(t.path());
    assert!(!diff.contains("SSLProtocol"), "{diff}");
}

/// A Debian image whose httpd checker fails as it is (its certificate lives
/// outside the image).
#[test]
fn a_checker_that_fails_before_the_change_is_quoted_and_hints_name_the_image() {
    if !have("apache2ctl") {
        return;
    }
    let t = tree(&[(
        "/etc/apache2/apache2.conf",
        "LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so\nLoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so\nListen 127.0.0.1:4443\n<VirtualHost *:4443>\n    ServerName img.example\n    SSLEngine on\n    SSLCertificateFile /etc/ssl/tlsmend-no-such.crt\n    SSLProtocol all\n</VirtualHost>\n",
    )]);
    let root = t.path().to_str().unwrap();
    let o = run(&[
        "apply",
        "--yes",
        "--root",
        root,
        "--only",
        "apache.protocol",
        "--apache-version",
        "2.4.62",
        "--openssl-version",
        "3.0.15",
        "--backup-dir",
        t.path().join("backups").to_str().unwrap(),
    ]);
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert_eq!(code(&o), 0, "{out}{err}");
    assert!(
        err.contains("apache2 -t already fails on")
            && err
                .contains("SSLCertificateFile: file '/etc/ssl/tlsmend-no-such.crt' does not exist")
            && err.contains("cannot be judged"),
        "the checker's real error, not its last line: {err}"
    );
    assert!(
        !err.contains("The Apache error log") && !err.contains("tlsmend-stage-"),
        "{err}"
    );
    assert!(
        out.contains(&format!("APACHE_CONFDIR={root}/etc/apache2 apache2ctl -t"))
            && !out.contains("apache2ctl graceful"),
        "hints name the image: {out}"
    );
}

#[test]
fn a_layout_without_a_checker_here_is_said_not_checked_with_debian_s() {
    let (_, files, _) = layouts().into_iter().find(|l| l.0 == "SUSE").unwrap();
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, b)| (*p, b.as_str())).collect();
    let t = tree(&refs);
    let o = run(&[
        "apply",
        "--yes",
        "--root",
        t.path().to_str().unwrap(),
        "--only",
        "apache.protocol",
        "--apache-version",
        "2.4.62",
        "--openssl-version",
        "3.0.15",
        "--backup-dir",
        t.path().join("backups").to_str().unwrap(),
    ]);
    let err = text(&o.stderr);
    assert_eq!(code(&o), 0, "{err}");
    assert!(
        err.contains("no httpd checker here for")
            && err.contains("vhosts.d/www.conf")
            && !err.contains("apache2 -t already fails"),
        "{err}"
    );
    let out = text(&o.stdout);
    assert!(
        out.contains("httpd -t -f /etc/apache2/httpd.conf") && !out.contains("APACHE_CONFDIR"),
        "{out}"
    );
}

#[test]
fn a_macro_body_is_edited_only_when_every_use_wants_it() {
    let plain =
        std::fs::read_to_string(repo().join("tests/cases/apache-stapling/root/etc/ssl/plain.crt"))
            .unwrap();
    let t = panel_root(
        "<Macro SSLSite $domain $cert>\n<VirtualHost *:443>\n  ServerName $domain\n  SSLEngine on\n  SSLCertificateFile /etc/ssl/$cert.crt\n</VirtualHost>\n</Macro>\n",
        "Use SSLSite shop.example shop\nUse SSLSite plain.example plain\n",
    );
    std::fs::create_dir_all(t.path().join("etc/ssl")).unwrap();
    std::fs::write(t.path().join("etc/ssl/shop.crt"), ocsp_cert()).unwrap();
    std::fs::write(t.path().join("etc/ssl/plain.crt"), plain).unwrap();
    let (_c, out, _err) = audit(t.path(), &[]);
    assert!(
        out.contains("apache.stapling") && out.contains("expanded by 2 Use lines and only 1"),
        "{out}"
    );
    let (_c, diff, _err) = dry_run(t.path());
    assert!(!diff.contains("SSLUseStapling"), "{diff}");
}
