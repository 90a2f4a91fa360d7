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
    checks: "olcTLSCertificateFile / TLSCertificateFile is set (else the server offers neither StartTLS nor ldaps://), olcTLSCertificateKeyFile / TLSCertificateKeyFile is set with it, and the certificate is readable and parses under the root.",
    writes: "Nothing: audit only.",
    refuses: "Always: certificate and key must change together, in one modify operation, to files slapd (user openldap on Debian) can read; tlsmend does not install them.",
    versions: "OpenLDAP 2.4 to 2.6, linked with GnuTLS (Debian, Ubuntu) or OpenSSL (RHEL, SUSE, upstream default).",
    sources: &[
        "slapd-config(5) <https://www.openldap.org/software/man.cgi?query=slapd-config>",
        "slapd.conf(5) <https://www.openldap.org/software/man.cgi?query=slapd.conf>",
    ],
};

pub const WEAK_KEY: Rule = Rule {
    id: "openldap.weak-key",
    server: Server::Openldap,
    severity: Severity::High,
    activation: Activation::Default,
    summary: "certificate key of at least 2048 bits RSA or 256 bits EC (audit only)",
    checks: "The key of the server certificate (olcTLSCertificateFile / TLSCertificateFile): RSA below 2048 bits or EC below 256 bits is reported.",
    writes: "Nothing: audit only.",
    refuses: "Always: a longer key means a new key and certificate, which only their owner can issue.",
    versions: "OpenLDAP 2.4 to 2.6, linked with GnuTLS (Debian, Ubuntu) or OpenSSL (RHEL, SUSE, upstream default).",
    sources: &[
        "slapd-config(5) <https://www.openldap.org/software/man.cgi?query=slapd-config>",
        "Mozilla server-side TLS guidelines 6.0 <https://ssl-config.mozilla.org/guidelines/6.0.json>",
        "NIST SP 800-57 Part 1 Rev. 5, key sizes <https://doi.org/10.6028/NIST.SP.800-57pt1r5>",
    ],
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
        ).into();
        f.blocked = Some(format!(
            "audit only: configure {} and {} (one modify operation), then run tlsmend again",
            name(CERT),
            name(KEY)
        ));
        report.add_finding(f);
        return None;
    };
    if get(KEY).is_none() {
        let mut f = Finding::new("openldap.certificate", Severity::Medium, file, cert_line);
        f.reason = format!(
            "{} is set but {} is not: slapd cannot use the certificate",
            name(CERT),
            name(KEY)
        )
        .into();
        f.blocked = Some("audit only".into());
        report.add_finding(f);
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
            report.add_finding(f);
        }
        Some(Ok(_)) | None => {}
        Some(Err(e)) => {
            let mut f = Finding::new("openldap.certificate", Severity::Medium, file, cert_line);
            f.current = Some(cert_path.clone().into());
            f.reason = format!("the certificate {cert_path} cannot be used: {e}").into();
            f.blocked = Some(
                "audit only: install a readable certificate (slapd runs as openldap on Debian)"
                    .into(),
            );
            report.add_finding(f);
        }
    }
    Some(cert_line)
}
