//! The planner never plans what the daemon refuses and never gives up a
//! whole run for one bad change (issue 10, "bad input"): each case was a
//! reproduced defect of the Postfix planner; `tlsmend::vet` is the net
//! under all of them.

use std::path::{Path, PathBuf};
use tlsmend::discover::Root;
use tlsmend::plan::Report;
use tlsmend::servers::Options;

const MAIN: &str = "smtpd_tls_cert_file=/etc/ssl/certs/ssl-cert-snakeoil.pem\n\
smtpd_tls_key_file=/etc/ssl/private/ssl-cert-snakeoil.key\n\
smtpd_sasl_type=dovecot\nsmtpd_sasl_path=private/auth\n";
const SMTP: &str = "smtp      inet  n       -       y       -       -       smtpd\n";

fn root_with(files: &[(&str, &[u8])]) -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    for (path, bytes) in files {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    (t, root)
}

fn plan(root: &Path) -> Report {
    let opts = Options::new(tlsmend::catalogue::profile::Profile::Intermediate);
    tlsmend::servers::audit(&Root::new(Some(root.to_path_buf())), &opts).unwrap()
}

/// Applies every planned change (the render must not fail) and returns
/// the plan made on the result.
fn apply_all(root: &Path, report: &Report) -> Report {
    let all: Vec<usize> = (0..report.changes.len()).collect();
    let rendered = report.render(&all).expect("no two planned changes overlap");
    for (f, bytes) in rendered {
        std::fs::write(&report.files[f].host, bytes).unwrap();
    }
    plan(root)
}

fn read(root: &Path, p: &str) -> String {
    String::from_utf8(std::fs::read(root.join(p)).unwrap()).unwrap()
}

fn no_changes_left(again: &Report) {
    let left: Vec<_> = again.changes.iter().map(|c| (c.rule, &c.reason)).collect();
    assert!(left.is_empty(), "planning again still plans {left:?}");
}

#[test]
fn an_empty_last_value_without_a_final_newline_gets_its_value_on_its_own_line() {
    let main = format!("{MAIN}smtp_tls_security_level=");
    let (_t, root) = root_with(&[("etc/postfix/main.cf", main.as_bytes())]);
    let report = plan(&root);
    assert!(
        report
            .changes
            .iter()
            .any(|c| c.rule == "postfix.smtp-security-level"),
        "the empty level is fixed, not held back: {:?}",
        report.findings
    );
    let again = apply_all(&root, &report);
    let text = read(&root, "etc/postfix/main.cf");
    assert!(
        text.contains("\nsmtp_tls_security_level=may\nsmtpd_tls_security_level=may\n"),
        "{text}"
    );
    for l in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        assert!(
            l.contains('='),
            "postconf refuses the line {l:?} in\n{text}"
        );
    }
    assert!(
        !text.ends_with('\n'),
        "the file keeps its unterminated last line"
    );
    no_changes_left(&again);
}

#[test]
fn a_dangling_o_in_master_cf_is_reported_and_the_file_left_alone() {
    let master =
        format!("{SMTP}submission inet n       -       y       -       -       smtpd\n  -o\n");
    let (_t, root) = root_with(&[
        ("etc/postfix/main.cf", MAIN.as_bytes()),
        ("etc/postfix/master.cf", master.as_bytes()),
    ]);
    let report = plan(&root);
    let master_file = report
        .files
        .iter()
        .position(|f| f.host.ends_with("master.cf"))
        .unwrap();
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.rule == "postfix.syntax" && f.file == master_file && f.line == 3),
        "{:?}",
        report.findings
    );
    assert!(
        !report
            .changes
            .iter()
            .any(|c| c.edits.iter().any(|(f, _)| *f == master_file)),
        "a master.cf Postfix cannot run is not edited"
    );
    assert!(
        report
            .changes
            .iter()
            .any(|c| c.rule == "postfix.mandatory-protocols"),
        "main.cf is still fixed"
    );
    let again = apply_all(&root, &report);
    assert_eq!(read(&root, "etc/postfix/master.cf"), master);
    no_changes_left(&again);
}

#[test]
fn two_commented_overrides_on_one_line_are_uncommented_once() {
    let master = format!(
        "{SMTP}#submission inet n       -       y       -       -       smtpd\n#  -o smtpd_tls_security_level= -o smtpd_sasl_auth_enable=\n"
    );
    let (_t, root) = root_with(&[
        ("etc/postfix/main.cf", MAIN.as_bytes()),
        ("etc/postfix/master.cf", master.as_bytes()),
    ]);
    let report = plan(&root);
    assert!(
        report
            .changes
            .iter()
            .any(|c| c.rule == "postfix.submission"),
        "{:?}",
        report.findings
    );
    let again = apply_all(&root, &report);
    let text = read(&root, "etc/postfix/master.cf");
    assert!(
        text.contains("\n  -o smtpd_tls_security_level=encrypt -o smtpd_sasl_auth_enable=yes\n"),
        "{text}"
    );
    no_changes_left(&again);
}

#[test]
fn random_bytes_as_main_cf_are_reported_not_edited_and_master_cf_is_still_fixed() {
    // Bytes that are no main.cf: lines with no '='.
    let mut junk = Vec::new();
    let mut x: u32 = 12345;
    for _ in 0..600 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        junk.push(match (x >> 16) % 8 {
            0 => b'\n',
            1 => b' ',
            _ => b'a' + ((x >> 8) % 26) as u8,
        });
    }
    // SASL is set, so the submission service can be fixed.
    junk.extend_from_slice(b"\nsmtpd_sasl_type=dovecot\nsmtpd_sasl_path=private/auth\n");
    let master = format!(
        "{SMTP}submission inet n       -       y       -       -       smtpd\n  -o smtpd_tls_security_level=may\n"
    );
    let (_t, root) = root_with(&[
        ("etc/postfix/main.cf", &junk),
        ("etc/postfix/master.cf", master.as_bytes()),
    ]);
    let report = plan(&root);
    let main_file = report
        .files
        .iter()
        .position(|f| f.host.ends_with("main.cf"))
        .unwrap();
    assert!(report.findings.iter().any(|f| f.rule == "postfix.syntax"));
    assert!(
        !report
            .changes
            .iter()
            .any(|c| c.edits.iter().any(|(f, _)| *f == main_file)),
        "a main.cf that does not parse as one gets no appended block"
    );
    assert!(
        report
            .changes
            .iter()
            .any(|c| c.rule == "postfix.submission"),
        "master.cf is still planned"
    );
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.rule == "postfix.smtpd-auth-only"
                && f.blocked
                    .as_deref()
                    .is_some_and(|b| b.contains("tlsmend edits no file it cannot fully read"))),
        "the findings on main.cf say why they are not fixed"
    );
    apply_all(&root, &report);
    assert_eq!(
        std::fs::read(root.join("etc/postfix/main.cf")).unwrap(),
        junk
    );
}

/// Found by the planner fuzz target on its first seconds: an ldapmodify
/// file (change records) as cn=config.ldif was planned, and planning again
/// planned olcTLSProtocolMin once more.
#[test]
fn a_change_record_as_cn_config_ldif_is_reported_not_planned() {
    let ldif = "dn: cn=config\nchangetype: modify\nadd: olcTLSCertificateKeyFile\n\
                olcTLSCertificateKeyFile: /etc/ssl/private/ldap.key\n-\n\
                add: olcTLSCertificateFile\nolcTLSCertificateFile: /etc/ssl/certs/ldap.crt\n";
    let (_t, root) = root_with(&[("etc/ldap/slapd.d/cn=config.ldif", ldif.as_bytes())]);
    let mut opts = Options::new(tlsmend::catalogue::profile::Profile::Intermediate);
    opts.tls_library = Some(tlsmend::target::tlslib::TlsLibrary::Openssl);
    let report = tlsmend::servers::audit(&Root::new(Some(root.to_path_buf())), &opts).unwrap();
    assert!(
        report.changes.is_empty(),
        "{:?}",
        report.changes.iter().map(|c| c.rule).collect::<Vec<_>>()
    );
    let held: Vec<_> = report
        .findings
        .iter()
        .filter_map(|f| f.blocked.as_deref())
        .collect();
    assert!(held.iter().any(|b| b.contains("change record")), "{held:?}");
    assert!(
        !held.iter().any(|b| b.contains("bug in tlsmend")),
        "{held:?}"
    );
}

/// Found by the planner fuzz target (a cn=config.ldif record without
/// `changetype:`, with binary bytes in a value): the cause was the missing
/// final newline. Two settings added at the end each got a line ending in
/// front, so the second followed a blank line, in a record of its own, and
/// planning again planned olcTLSProtocolMin once more (vet held both back).
#[test]
fn settings_added_at_the_end_of_a_cn_config_ldif_without_a_final_newline_stay_in_its_record() {
    let plain = b"dn: cn=config\nolcTLSCertificateKeyFile: /etc/ssl/private/ldap.key\n\
olcTLSCertificateFile: /etc/ssl/certs/ldap.crt"
        .to_vec();
    let mut fuzzed = b"dn: cn=config\nchaheaderngetype: modify\nadd: olcTLSCertificateKeyFile\n\
olcTLSCertificateKeyFile: /etc/ssl/private/ldap.key\n-\nadd: olcTLSCACertificateFile\n\
olcTLSCACertificateFile: /etc/ssl/certs/exa"
        .to_vec();
    fuzzed.extend_from_slice(b"\x92\0\0\0\0\0\0\0\n-\nadd: olcTLSCertificateFile\n");
    fuzzed.extend_from_slice(b"olcTLSCertificateFile: /etc/ssl/certs/ldap.crt");
    for ldif in [plain, fuzzed] {
        let (_t, root) = root_with(&[("etc/ldap/slapd.d/cn=config.ldif", &ldif)]);
        let mut opts = Options::new(tlsmend::catalogue::profile::Profile::Intermediate);
        opts.tls_library = Some(tlsmend::target::tlslib::TlsLibrary::Openssl);
        let root = Root::new(Some(root.to_path_buf()));
        let report = tlsmend::servers::audit(&root, &opts).unwrap();
        let held: Vec<_> = report
            .findings
            .iter()
            .filter_map(|f| f.blocked.as_deref())
            .filter(|b| b.contains("bug in tlsmend"))
            .collect();
        assert!(held.is_empty(), "{held:?}");
        let rules: Vec<_> = report.changes.iter().map(|c| c.rule).collect();
        assert!(!rules.is_empty(), "nothing planned");
        let all: Vec<usize> = (0..report.changes.len()).collect();
        let rendered = report.render(&all).expect("no two planned changes overlap");
        for (f, bytes) in &rendered {
            let text = String::from_utf8_lossy(bytes);
            assert!(
                !text.contains("\n\n"),
                "a blank line splits the record:\n{text}"
            );
            std::fs::write(&report.files[*f].host, bytes).unwrap();
        }
        let again = tlsmend::servers::audit(&root, &opts).expect("the planned result reads back");
        no_changes_left(&again);
    }
}
