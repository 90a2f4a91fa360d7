//! What the fuzz targets check, shared so that each target is one line.

use std::path::Path;
use tlsmend::discover::Root;
use tlsmend::servers::Options;
use tlsmend::syntax::Syntax;

/// Parses `data` as `syntax`: it must not panic or hang, accepted input
/// must be tiled by its tree (so that printing it gives `data` back), and a
/// rejection must render its excerpt without panicking.
pub fn roundtrip(syntax: Syntax, data: &[u8]) {
    let path = Path::new("/fuzz/input");
    match syntax.check(path, data) {
        Ok(()) => {
            // The validity check the planner relies on must not panic either.
            let _ = tlsmend::vet::invalid(syntax, path, data);
        }
        Err(e) => {
            let shown = e.to_string();
            assert!(
                !shown.contains("not lossless"),
                "accepted input does not print back: {shown}"
            );
        }
    }
}

/// Where the one file of the planner's root goes, chosen by the first byte.
const FILES: [(&str, Syntax); 7] = [
    ("etc/postfix/main.cf", Syntax::PostfixMain),
    ("etc/postfix/master.cf", Syntax::PostfixMaster),
    ("etc/apache2/apache2.conf", Syntax::Apache),
    ("etc/courier/imapd-ssl", Syntax::Courier),
    ("etc/ldap/slapd.conf", Syntax::SlapdConf),
    ("etc/ldap/ldap.conf", Syntax::LdapConf),
    ("etc/ldap/slapd.d/cn=config.ldif", Syntax::Ldif),
];

/// A main.cf that lets a fuzzed master.cf be planned (SASL set).
const MAIN_FOR_MASTER: &[u8] = b"smtpd_tls_cert_file=/etc/ssl/certs/a.pem\nsmtpd_tls_key_file=/etc/ssl/private/a.key\nsmtpd_sasl_type=dovecot\nsmtpd_sasl_path=private/auth\n";

/// The first byte picks the file, the rest is its content. Audit and plan
/// on a root holding only that file; apply every planned change; the result
/// must be valid for its format, and planning again must plan nothing.
pub fn plan_and_replan(data: &[u8]) {
    let Some((&pick, content)) = data.split_first() else {
        return;
    };
    let (path, syntax) = FILES[pick as usize % FILES.len()];
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(path);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, content).unwrap();
    if syntax == Syntax::PostfixMaster {
        std::fs::write(dir.path().join("etc/postfix/main.cf"), MAIN_FOR_MASTER).unwrap();
    }
    let root = Root::new(Some(dir.path().to_path_buf()));
    let mut opts = Options::new(tlsmend::catalogue::profile::Profile::Intermediate);
    opts.tls_library = Some(tlsmend::target::tlslib::TlsLibrary::Openssl);
    // Input the planner cannot read is an error to report, not a plan.
    let Ok(report) = tlsmend::servers::audit(&root, &opts) else {
        return;
    };
    // A change the safety net held back is a planner bug it caught.
    if let Some(f) = report.findings.iter().find(|f| {
        f.blocked
            .as_deref()
            .is_some_and(|b| b.contains("this is a bug in tlsmend"))
    }) {
        panic!("{}: {}", f.rule, f.blocked.as_deref().unwrap_or_default());
    }
    let all: Vec<usize> = (0..report.changes.len()).collect();
    let rendered = report
        .render(&all)
        .unwrap_or_else(|(f, o)| panic!("planned changes overlap in file {f}: {o}"));
    for (f, bytes) in &rendered {
        let cf = &report.files[*f];
        if tlsmend::vet::invalid(cf.syntax, cf.shown(), &cf.source.bytes).is_none() {
            assert_eq!(
                tlsmend::vet::invalid(cf.syntax, cf.shown(), bytes),
                None,
                "a valid file was planned into an invalid one"
            );
        }
        std::fs::write(&cf.host, bytes).unwrap();
    }
    if rendered.is_empty() {
        return;
    }
    let again = tlsmend::servers::audit(&root, &opts).expect("the planned result reads back");
    let left: Vec<_> = again.changes.iter().map(|c| c.rule).collect();
    assert!(left.is_empty(), "planning again still plans {left:?}");
}
