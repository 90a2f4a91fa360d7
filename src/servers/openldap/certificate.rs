//! `openldap.certificate` and `openldap.weak-key`: the server's certificate
//! and key (cn=config or slapd.conf), audit only.

use super::{CERT, KEY, Surface};
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::discover::Root;
use crate::plan::{Finding, Report, Severity};
use std::path::Path;

pub const CERTIFICATE: Rule = Rule {
    id: "openldap.certificate",
    server: Server::Openldap,
    severity: Severity::Medium,
    activation: Activation::Default,
    summary: "the server has a certificate and key it can read (audit only)",
    checks: "",
    writes: "",
    refuses: "",
    versions: "",
    sources: &[],
};

pub const WEAK_KEY: Rule = Rule {
    id: "openldap.weak-key",
    server: Server::Openldap,
    severity: Severity::Medium,
    activation: Activation::Default,
    summary: "certificate key of at least 2048 bits RSA or 256 bits EC (audit only)",
    checks: "",
    writes: "",
    refuses: "",
    versions: "",
    sources: &[],
};

/// Checks the certificate and key; returns the certificate's line, or
/// `None` when there is none (then TLS is off and nothing else applies).
pub(super) fn server(s: &Surface, root: &Root, report: &mut Report) -> Option<usize> {
    let (get, name, file) = (s.get, s.name, s.file);
    let cert = get(CERT);
    let Some((cert_path, cert_line)) = cert else {
        let mut f = Finding::new("openldap.certificate", Severity::Medium, file, 1);
        f.reason = format!(
            "no {} is configured: the server offers no StartTLS and no ldaps://, so binds cross the network in clear text",
            name(CERT)
        );
        f.blocked = Some(format!(
            "audit only: configure {} and {} (one modify operation), then run tlsmend again",
            name(CERT),
            name(KEY)
        ));
        report.findings.push(f);
        return None;
    };
    if get(KEY).is_none() {
        let mut f = Finding::new("openldap.certificate", Severity::Medium, file, cert_line);
        f.reason = format!(
            "{} is set but {} is not: slapd cannot use the certificate",
            name(CERT),
            name(KEY)
        );
        f.blocked = Some("audit only".into());
        report.findings.push(f);
    }
    let info = root
        .resolve(Path::new(&cert_path))
        .ok()
        .map(|p| crate::target::cert::read(&root.host(&p)));
    match info {
        Some(Ok(info)) if info.is_weak() => {
            let f = crate::servers::weak_key(
                "openldap.weak-key",
                file,
                cert_line,
                &cert_path,
                &info,
                "a key this small can be factored",
            );
            report.findings.push(f);
        }
        Some(Ok(_)) | None => {}
        Some(Err(e)) => {
            let mut f = Finding::new("openldap.certificate", Severity::Medium, file, cert_line);
            f.current = Some(cert_path.clone());
            f.reason = format!("the certificate {cert_path} cannot be used: {e}");
            f.blocked = Some(
                "audit only: install a readable certificate (slapd runs as openldap on Debian)"
                    .into(),
            );
            report.findings.push(f);
        }
    }
    Some(cert_line)
}
