//! Issue 9 (real machines) for the mail servers and OpenLDAP: Courier's sh
//! (items 4 and 5, and issue 10's "nothing of the configuration is ever
//! executed"), templates (item 6), slapd.conf scope (item 7) and the
//! distributions' layouts (item 2). Each test builds a small root.

mod common;
use common::*;
use std::path::Path;

fn write(root: &Path, path: &str, body: &str) {
    let p = root.join(path.trim_start_matches('/'));
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, body).unwrap();
}

fn dry(root: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["apply", "--root", root.to_str().unwrap(), "--dry-run"];
    args.extend_from_slice(extra);
    let o = run(&args);
    (code(&o), text(&o.stdout), text(&o.stderr))
}

const GNUTLS: &[&str] = &["--server", "courier", "--tls-library", "gnutls"];

// Item 4: `export`, `;`, `.` sourcing and comments after values are read as
// sh reads them; the assignment that takes effect is the one edited, in the
// file that holds it, and every other byte stays.
#[test]
fn courier_sh_files_are_read_as_sh_and_the_effective_assignment_is_edited() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        "/etc/default/courier-tls",
        "# shared by imapd-ssl and pop3d-ssl\nexport COURIERTLS=/usr/bin/couriertls\nTLS_PRIORITY=\"NORMAL\"\n",
    );
    write(
        t.path(),
        "/etc/courier/imapd-ssl",
        ". /etc/default/courier-tls\nexport IMAPDSTARTTLS=YES ; IMAP_TLS_REQUIRED=0 # ops, 2023\nD=/etc/courier\nTLS_CERTFILE=\"$D/imapd.pem\"\n",
    );
    write(t.path(), "/etc/courier/imapd.pem", "");
    let (c, diff, err) = dry(t.path(), GNUTLS);
    assert_eq!(c, 1, "{err}{diff}");
    assert!(
        diff.contains("-export IMAPDSTARTTLS=YES ; IMAP_TLS_REQUIRED=0 # ops, 2023\n+export IMAPDSTARTTLS=YES ; IMAP_TLS_REQUIRED=1 # ops, 2023\n"),
        "{diff}"
    );
    assert!(
        diff.contains("--- etc/default/courier-tls")
            && diff.contains("+TLS_PRIORITY=\"NORMAL:-VERS-"),
        "the priority is edited where it is set, in the sourced file: {diff}"
    );
    let doc = audit_doc(t.path(), GNUTLS);
    let notes = doc["notes"].to_string();
    assert!(notes.contains("IMAP files in /etc/courier"), "{notes}");
    // TLS_CERTFILE="$D/imapd.pem" expands to a file that exists.
    assert!(
        !doc["findings"].to_string().contains("TLS_CERTFILE names"),
        "{}",
        doc["findings"]
    );
}

// Item 4 and issue 10: a command substitution is never run, not by the
// audit, not by validation (which used to source the file with sh), and its
// value is reported as impossible to judge.
#[test]
fn courier_command_substitution_is_reported_and_never_run() {
    let t = tempfile::tempdir().unwrap();
    let marker = t.path().join("ran");
    write(
        t.path(),
        "/etc/courier/imapd-ssl",
        &format!(
            "COURIERTLS=/usr/bin/couriertls\nIMAPDSTARTTLS=YES\nIMAP_TLS_REQUIRED=0\nTLS_CERTFILE=/etc/courier/imapd.pem\nTLS_TRUSTCERTS=$(touch${{IFS}}{})\nTLS_PRIORITY=`echo NORMAL`\n",
            marker.display()
        ),
    );
    write(t.path(), "/etc/courier/imapd.pem", "");
    let doc = audit_doc(t.path(), GNUTLS);
    let f = doc["findings"].as_array().unwrap();
    for name in ["TLS_TRUSTCERTS", "TLS_PRIORITY"] {
        let x = f
            .iter()
            .find(|x| {
                x["reason"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("{name} runs a command"))
            })
            .unwrap_or_else(|| panic!("{name}: {f:?}"));
        assert_eq!(x["fixable"], false, "{x}");
    }
    let o = run(&[
        "apply",
        "--root",
        t.path().to_str().unwrap(),
        "--yes",
        "--server",
        "courier",
        "--tls-library",
        "gnutls",
    ]);
    assert_eq!(code(&o), 0, "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(!marker.exists(), "validation ran the file's $(...)");
    let after = std::fs::read_to_string(t.path().join("etc/courier/imapd-ssl")).unwrap();
    assert!(after.contains("IMAP_TLS_REQUIRED=1\n"), "{after}");
    assert!(after.contains("TLS_PRIORITY=`echo NORMAL`\n"), "{after}");
}

// Issue 10: the fuzzer's Courier panic, through the binary.
#[test]
fn courier_crlf_comment_ending_in_a_backslash_is_no_panic() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "/etc/courier/imapd-ssl", "#A=\\\r\n");
    let (c, _, err) = dry(t.path(), GNUTLS);
    assert_ne!(c, 101, "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

// Item 5: only `imapd`, no COURIERTLS, no TLS_CERTFILE: IMAP_TLS_REQUIRED=1
// would be ignored while LOGIN stays in clear text. Say what is missing,
// plan nothing.
#[test]
fn courier_without_tls_set_up_plans_nothing_and_says_what_is_missing() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        "/etc/courier/imapd",
        "ADDRESS=0\nPORT=143\nIMAPDSTARTTLS=NO\nIMAP_TLS_REQUIRED=0\n",
    );
    let (c, diff, err) = dry(t.path(), GNUTLS);
    assert_eq!(c, 0, "nothing can take effect: {diff}{err}");
    let doc = audit_doc(t.path(), GNUTLS);
    let f = doc["findings"].as_array().unwrap();
    let x = f
        .iter()
        .find(|x| x["rule"] == "courier.starttls")
        .unwrap_or_else(|| panic!("{f:?}"));
    let why = x["reason"].as_str().unwrap();
    assert!(
        why.contains("COURIERTLS and TLS_CERTFILE not set") && why.contains("no TLS set up"),
        "{x}"
    );
    assert_eq!(x["fixable"], false);
    assert!(
        !f.iter().any(|x| x["rule"] == "courier.tls-required"),
        "{f:?}"
    );
}

// Item 4: pop3d-ssl shares the dialect and is audited (POP3_STARTTLS,
// POP3_TLS_REQUIRED, TLS_*).
#[test]
fn courier_pop3d_ssl_is_audited() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "/etc/courier/pop3d", "POP3DSTART=YES\n");
    write(
        t.path(),
        "/etc/courier/pop3d-ssl",
        "POP3DSSLSTART=YES\nPOP3_STARTTLS=NO\nPOP3_TLS_REQUIRED=0\nCOURIERTLS=/usr/bin/couriertls\nTLS_CERTFILE=/etc/courier/pop3d.pem\nTLS_PRIORITY=\"NORMAL\"\n",
    );
    write(t.path(), "/etc/courier/pop3d.pem", "");
    let (c, diff, err) = dry(t.path(), GNUTLS);
    assert_eq!(c, 1, "{err}");
    for want in [
        "+POP3_STARTTLS=YES\n",
        "+POP3_TLS_REQUIRED=1\n",
        "+TLS_PRIORITY=\"NORMAL:-VERS-",
    ] {
        assert!(diff.contains(want), "{want}: {diff}");
    }
    assert!(diff.contains("--- etc/courier/pop3d-ssl"), "{diff}");
}

// Item 2: FreeBSD's ports install Courier-IMAP under /usr/local/etc.
#[test]
fn courier_freebsd_layout_is_found_and_named() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        "/usr/local/etc/courier-imap/imapd-ssl",
        "IMAPDSTARTTLS=YES\nIMAP_TLS_REQUIRED=0\nCOURIERTLS=/usr/local/bin/couriertls\nTLS_CERTFILE=/usr/local/share/courier-imap/imapd.pem\n",
    );
    let doc = audit_doc(t.path(), GNUTLS);
    assert!(
        doc["notes"]
            .to_string()
            .contains("/usr/local/etc/courier-imap (FreeBSD"),
        "{}",
        doc["notes"]
    );
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["rule"] == "courier.tls-required"),
        "{doc}"
    );
}

fn certs(root: &Path, dir: &str) {
    let from = repo().join("tests/fixtures/certs");
    let to = root.join(dir.trim_start_matches('/'));
    std::fs::create_dir_all(&to).unwrap();
    for f in ["rsa2048.crt", "rsa2048.key"] {
        std::fs::copy(from.join(f), to.join(f)).unwrap();
    }
}

const SLAPD_BACKEND_FIRST: &str = "include /etc/openldap/schema/core.schema\nbackend mdb\nTLSCertificateFile /etc/openldap/rsa2048.crt\nTLSCertificateKeyFile /etc/openldap/rsa2048.key\nTLSCipherSuite HIGH\ndatabase mdb\nsuffix \"dc=example,dc=org\"\n";

// Item 7: TLS directives after a `backend` line are global for slapd; only
// `database` starts a section. They used to be taken for outside the
// global part ("no TLSCertificateFile").
#[test]
fn slapd_conf_tls_after_a_backend_line_is_global() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "/etc/openldap/slapd.conf", SLAPD_BACKEND_FIRST);
    certs(t.path(), "/etc/openldap");
    let args = ["--server", "openldap", "--tls-library", "openssl"];
    let doc = audit_doc(t.path(), &args);
    let f = doc["findings"].as_array().unwrap();
    assert!(
        !f.iter().any(|x| x["rule"] == "openldap.certificate"),
        "{f:?}"
    );
    assert!(
        f.iter()
            .any(|x| x["rule"] == "openldap.cipher-suite" && x["line"] == 5),
        "{f:?}"
    );
    let (c, diff, err) = dry(t.path(), &args);
    assert_eq!(c, 1, "{err}");
    // The new directive joins the other TLS directives, before `database`.
    let at = diff.find("+TLSProtocolMin").expect(&diff);
    assert!(at < diff.find(" database mdb").expect(&diff), "{diff}");
}

// Item 7, checked against slapd itself: slaptest puts the TLS directives
// written after `backend` into cn=config.
#[test]
fn slaptest_reads_tls_after_backend_as_global() {
    if !have("slaptest") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    certs(t.path(), "/c");
    let conf = SLAPD_BACKEND_FIRST
        .replace(
            "/etc/openldap/schema/core.schema",
            "/etc/ldap/schema/core.schema",
        )
        .replace("/etc/openldap/", &format!("{}/c/", t.path().display()))
        .replace(
            "backend mdb\n",
            "modulepath /usr/lib/ldap\nmoduleload back_mdb\nbackend mdb\n",
        );
    let file = t.path().join("slapd.conf");
    std::fs::write(&file, conf).unwrap();
    let out = t.path().join("slapd.d");
    std::fs::create_dir_all(&out).unwrap();
    // Without -u, slaptest writes the cn=config it built (then fails to open
    // the database, which has no directory here: that says nothing of TLS).
    let o = std::process::Command::new("slaptest")
        .arg("-f")
        .arg(&file)
        .arg("-F")
        .arg(&out)
        .output()
        .unwrap();
    let cn = std::fs::read_to_string(out.join("cn=config.ldif"))
        .unwrap_or_else(|e| panic!("{e}: {}", text(&o.stderr)));
    assert!(cn.contains("olcTLSCertificateFile:"), "{cn}");
    assert!(cn.contains("olcTLSCipherSuite: HIGH"), "{cn}");
}

// Item 2: FreeBSD's ports keep OpenLDAP under /usr/local/etc/openldap.
#[test]
fn openldap_freebsd_layout_is_found_and_named() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        "/usr/local/etc/openldap/slapd.conf",
        &SLAPD_BACKEND_FIRST.replace("/etc/openldap", "/usr/local/etc/openldap"),
    );
    write(
        t.path(),
        "/usr/local/etc/openldap/ldap.conf",
        "BASE dc=example,dc=org\nTLS_REQCERT allow\n",
    );
    certs(t.path(), "/usr/local/etc/openldap");
    let args = ["--server", "openldap", "--tls-library", "openssl"];
    let doc = audit_doc(t.path(), &args);
    assert!(
        doc["notes"]
            .to_string()
            .contains("files in /usr/local/etc/openldap (FreeBSD ports)"),
        "{}",
        doc["notes"]
    );
    let f = doc["findings"].as_array().unwrap();
    for (rule, file) in [
        ("openldap.cipher-suite", "slapd.conf"),
        ("openldap.client-reqcert", "ldap.conf"),
    ] {
        assert!(
            f.iter().any(|x| x["rule"] == rule
                && x["file"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("usr/local/etc/openldap/{file}"))),
            "{rule}: {f:?}"
        );
    }
}

// Item 2: FreeBSD's ports keep Postfix under /usr/local/etc/postfix.
#[test]
fn postfix_freebsd_layout_is_found_and_named() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        "/usr/local/etc/postfix/main.cf",
        "myhostname = mx.example.org\nsmtpd_tls_cert_file = /usr/local/etc/ssl/mx.crt\nsmtpd_tls_key_file = /usr/local/etc/ssl/mx.key\nsmtpd_tls_security_level = may\nsmtpd_tls_protocols = !SSLv2\n",
    );
    write(
        t.path(),
        "/usr/local/etc/postfix/master.cf",
        "smtp      inet  n       -       n       -       -       smtpd\n",
    );
    let args = ["--server", "postfix", "--postfix-version", "3.8"];
    let doc = audit_doc(t.path(), &args);
    assert!(
        doc["notes"]
            .to_string()
            .contains("main.cf in /usr/local/etc/postfix (FreeBSD ports)"),
        "{}",
        doc["notes"]
    );
    let (c, diff, err) = dry(t.path(), &args);
    assert_eq!(c, 1, "{err}");
    assert!(diff.contains("--- usr/local/etc/postfix/main.cf"), "{diff}");
    assert!(diff.contains("+smtpd_tls_mandatory_protocols"), "{diff}");
}

fn templated(doc: &serde_json::Value, rule: &str, line: u64) -> bool {
    doc["findings"].as_array().unwrap().iter().any(|x| {
        x["rule"] == rule
            && x["line"] == line
            && x["fixable"] == false
            && x["reason"]
                .as_str()
                .unwrap()
                .starts_with("templated: fix the template")
    })
}

// Item 6: a mail stack's main.cf rendered from a template (Jinja, ERB,
// {VARS}): the markup is reported, never replaced; the literal lines
// around it are still fixed.
#[test]
fn postfix_main_cf_templates_are_reported_not_replaced() {
    let t = tempfile::tempdir().unwrap();
    let main = "# Managed by Ansible: edits are overwritten\nmyhostname = {{ mail_hostname }}\nsmtpd_tls_chain_files = /etc/ssl/mail.pem\nsmtp_tls_security_level = {{ OUTBOUND_TLS_LEVEL|default('dane') }}\nsmtpd_tls_security_level = <%= @inbound_level %>\nsmtpd_tls_mandatory_protocols = {TLS_PROTOCOLS}\nsmtpd_tls_mandatory_ciphers = medium\n";
    write(t.path(), "/etc/postfix/main.cf", main);
    write(
        t.path(),
        "/etc/postfix/master.cf",
        "smtp      inet  n       -       y       -       -       smtpd\n",
    );
    let args = ["--server", "postfix", "--postfix-version", "3.7"];
    let doc = audit_doc(t.path(), &args);
    assert!(templated(&doc, "postfix.smtp-security-level", 4), "{doc}");
    assert!(templated(&doc, "postfix.smtpd-security-level", 5), "{doc}");
    assert!(templated(&doc, "postfix.mandatory-protocols", 6), "{doc}");
    let (c, diff, err) = dry(t.path(), &args);
    assert_eq!(c, 1, "{err}");
    for kept in ["{{ OUTBOUND", "<%= @inbound", "{TLS_PROTOCOLS}"] {
        assert!(
            !diff.lines().any(|l| l.starts_with('-') && l.contains(kept)),
            "{kept} replaced: {diff}"
        );
    }
    assert!(
        diff.contains("-smtpd_tls_mandatory_ciphers = medium"),
        "{diff}"
    );
}

// Item 6: Courier and OpenLDAP files rendered from templates.
#[test]
fn courier_and_openldap_templates_are_reported_not_replaced() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        "/etc/courier/imapd-ssl",
        "COURIERTLS=/usr/bin/couriertls\nTLS_CERTFILE=/etc/courier/imapd.pem\nIMAPDSTARTTLS=YES\nIMAP_TLS_REQUIRED={{ imap_tls_required }}\nTLS_PRIORITY=\"<%= @priority %>\"\n",
    );
    write(t.path(), "/etc/courier/imapd.pem", "");
    let doc = audit_doc(t.path(), GNUTLS);
    assert!(templated(&doc, "courier.tls-required", 4), "{doc}");
    assert!(templated(&doc, "courier.priority", 5), "{doc}");
    let (c, diff, err) = dry(t.path(), GNUTLS);
    assert_eq!(c, 0, "nothing literal to fix: {diff}{err}");

    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        "/etc/openldap/slapd.conf",
        &SLAPD_BACKEND_FIRST.replace("TLSCipherSuite HIGH", "TLSCipherSuite {{ ldap_ciphers }}"),
    );
    write(
        t.path(),
        "/etc/openldap/ldap.conf",
        "TLS_CACERT /etc/openldap/rsa2048.crt\nTLS_CIPHER_SUITE ${LDAP_CIPHERS}\n",
    );
    certs(t.path(), "/etc/openldap");
    let args = ["--server", "openldap", "--tls-library", "openssl"];
    let doc = audit_doc(t.path(), &args);
    assert!(templated(&doc, "openldap.cipher-suite", 5), "{doc}");
    assert!(templated(&doc, "openldap.client-cipher-suite", 2), "{doc}");
    let (_, diff, _) = dry(t.path(), &args);
    assert!(
        !diff.contains("-TLSCipherSuite") && !diff.contains("-TLS_CIPHER_SUITE"),
        "{diff}"
    );
}

// Issue 10: `apply --root IMAGE` used to source the image's Courier file on
// the host to validate it, so this `$(...)` ran (as root). It must not.
#[test]
fn courier_validation_never_runs_the_image_s_shell() {
    let t = tempfile::tempdir().unwrap();
    let marker = t.path().join("ran");
    write(
        t.path(),
        "/etc/courier/imapd-ssl",
        &format!(
            "COURIERTLS=/usr/bin/couriertls\nIMAPDSTARTTLS=YES\nIMAP_TLS_REQUIRED=0\nTLS_TRUSTCERTS=$(touch${{IFS}}{})\n",
            marker.display()
        ),
    );
    let o = run(&[
        "apply",
        "--root",
        t.path().to_str().unwrap(),
        "--yes",
        "--server",
        "courier",
        "--tls-library",
        "gnutls",
        "--only",
        "courier.tls-required",
    ]);
    assert_eq!(code(&o), 0, "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(!marker.exists(), "validation ran the file's $(...)");
    let after = std::fs::read_to_string(t.path().join("etc/courier/imapd-ssl")).unwrap();
    assert!(after.contains("IMAP_TLS_REQUIRED=1\n"), "{after}");
}

// Items 4 and 2: imapd-ssl and pop3d-ssl sourcing one shared file: its weak
// value is one finding and one edit, not two edits of the same bytes
// (which would abort the run).
#[test]
fn courier_file_shared_by_imap_and_pop3_is_edited_once() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        "/etc/default/courier-tls",
        "COURIERTLS=/usr/bin/couriertls\nTLS_PRIORITY=\"NORMAL\"\n",
    );
    for (f, p) in [("imapd-ssl", "IMAP"), ("pop3d-ssl", "POP3")] {
        let (on, req) = if p == "IMAP" {
            ("IMAPDSTARTTLS", "IMAP_TLS_REQUIRED")
        } else {
            ("POP3_STARTTLS", "POP3_TLS_REQUIRED")
        };
        write(
            t.path(),
            &format!("/etc/courier/{f}"),
            &format!(
                ". /etc/default/courier-tls\n{on}=YES\n{req}=1\nTLS_CERTFILE=/etc/courier/x.pem\n"
            ),
        );
    }
    write(t.path(), "/etc/courier/x.pem", "");
    let (c, diff, err) = dry(t.path(), GNUTLS);
    assert_eq!(c, 1, "{err}");
    assert_eq!(diff.matches("+TLS_PRIORITY=").count(), 1, "{diff}");
    let doc = audit_doc(t.path(), GNUTLS);
    let n = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["rule"] == "courier.priority")
        .count();
    assert_eq!(n, 1, "{doc}");
}

// Item 4: "edit the assignment that takes effect": imapd is read first and
// imapd-ssl last; an overridden assignment in imapd is left as it is.
#[test]
fn courier_only_the_assignment_that_takes_effect_is_edited() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        "/etc/courier/imapd",
        "IMAPDSTARTTLS=NO\nIMAP_TLS_REQUIRED=0\n",
    );
    write(
        t.path(),
        "/etc/courier/imapd-ssl",
        "COURIERTLS=/usr/bin/couriertls\nTLS_CERTFILE=/etc/courier/imapd.pem\nIMAPDSTARTTLS=YES\nIMAP_TLS_REQUIRED=0\n",
    );
    write(t.path(), "/etc/courier/imapd.pem", "");
    let (c, diff, err) = dry(
        t.path(),
        &[
            GNUTLS,
            &[
                "--only",
                "courier.starttls",
                "--only",
                "courier.tls-required",
            ],
        ]
        .concat(),
    );
    assert_eq!(c, 1, "{err}");
    assert!(!diff.contains("--- etc/courier/imapd\n"), "{diff}");
    assert!(
        diff.contains("-IMAP_TLS_REQUIRED=0\n+IMAP_TLS_REQUIRED=1\n"),
        "{diff}"
    );
}
