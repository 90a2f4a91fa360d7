//! `openldap.protocol-min` and `openldap.ignored`: the server's and the
//! clients' protocol minimum, honoured by OpenSSL builds only; a GnuTLS
//! build ignores it, so there it is reported as a no-op.

use super::{CIPHER, PROTO, Surface, Want};
use crate::catalogue::profile::{Profile, Version};
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::plan::{Finding, Report, Severity};
use crate::target::tlslib::TlsLibrary;

pub const PROTOCOL_MIN: Rule = Rule {
    id: "openldap.protocol-min",
    server: Server::Openldap,
    severity: Severity::High,
    activation: Activation::Default,
    summary: "OpenSSL builds: server TLSProtocolMin at the profile's floor (3.3 = TLS 1.2)",
    checks: "OpenSSL builds only: olcTLSProtocolMin (TLSProtocolMin in slapd.conf) read as major.minor, 3.1 TLS 1.0, 3.2 TLS 1.1, 3.3 TLS 1.2, 3.4 TLS 1.3; absent or below the profile's floor is reported.",
    writes: "3.3 (intermediate), 3.4 (modern), 3.1 (old), in the same change as the cipher suite (see openldap.cipher-suite for how cn=config and slapd.conf are changed).",
    refuses: "On GnuTLS builds it never writes it: libldap's GnuTLS backend ignores it (openldap.ignored reports it as a no-op) and the priority string carries the floor. As openldap.cipher-suite when the CRC is wrong or there is no certificate.",
    versions: "OpenLDAP 2.4 to 2.6, linked with GnuTLS (Debian, Ubuntu) or OpenSSL (RHEL, SUSE, upstream default).",
    sources: &[
        "slapd-config(5) <https://www.openldap.org/software/man.cgi?query=slapd-config>",
        "slapd.conf(5) <https://www.openldap.org/software/man.cgi?query=slapd.conf>",
        "OpenLDAP libraries/libldap/tls_o.c (OpenSSL backend) <https://git.openldap.org/openldap/openldap/-/blob/master/libraries/libldap/tls_o.c>",
        "RFC 8996, Deprecating TLS 1.0 and TLS 1.1 <https://www.rfc-editor.org/rfc/rfc8996>",
    ],
};

pub const IGNORED: Rule = Rule {
    id: "openldap.ignored",
    server: Server::Openldap,
    severity: Severity::Low,
    activation: Activation::Default,
    summary: "a setting this TLS library ignores, such as TLSProtocolMin with GnuTLS (no-op, audit only)",
    checks: "On GnuTLS builds: olcTLSProtocolMin / TLSProtocolMin (server) and ldap.conf TLS_PROTOCOL_MIN (clients). libldap's GnuTLS backend (tls_g.c) never reads the protocol minimum; the priority string in the cipher-suite setting is what limits versions.",
    writes: "Nothing: audit only (low severity).",
    refuses: "Always: it is a no-op; remove it, or leave it for documentation. The versions are judged by openldap.cipher-suite.",
    versions: "OpenLDAP 2.4 to 2.6 linked with GnuTLS.",
    sources: &[
        "slapd-config(5) <https://www.openldap.org/software/man.cgi?query=slapd-config>",
        "OpenLDAP libraries/libldap/tls_g.c (GnuTLS backend) <https://git.openldap.org/openldap/openldap/-/blob/master/libraries/libldap/tls_g.c>",
    ],
};

pub(super) fn protocol_min_value(p: Profile) -> &'static str {
    match p {
        Profile::Modern => "3.4",
        Profile::Intermediate => "3.3",
        Profile::Old => "3.1",
    }
}

/// `3.3` means TLS 1.2; OpenLDAP also accepts `771` style numbers.
pub(super) fn protocol_min_version(v: &str) -> Option<Version> {
    let (major, minor) = v.trim().split_once('.')?;
    if major != "3" {
        return None;
    }
    Some(match minor.trim() {
        "0" => Version::Ssl3,
        "1" => Version::Tls10,
        "2" => Version::Tls11,
        "3" => Version::Tls12,
        "4" => Version::Tls13,
        _ => return None,
    })
}

/// The server's protocol minimum: a no-op finding on GnuTLS, the finding
/// and wanted value on OpenSSL when it is below the profile's floor.
pub(super) fn server(
    s: &Surface,
    lib: TlsLibrary,
    profile: Profile,
    cert_line: usize,
    report: &mut Report,
) -> Option<(Finding, Want)> {
    let (get, name, file) = (s.get, s.name, s.file);
    let proto = get(PROTO);
    match lib {
        TlsLibrary::Gnutls => {
            if let Some((v, line)) = proto {
                let mut f = Finding::new("openldap.ignored", Severity::Low, file, line);
                f.current = Some(format!("{}: {v}", name(PROTO)).into());
                f.reason = format!(
                    "GnuTLS builds ignore {}: it protects nothing; the versions come from {}",
                    name(PROTO),
                    name(CIPHER)
                )
                .into();
                f.blocked = Some("no-op: remove it, or leave it for documentation".into());
                report.add_finding(f);
            }
        }
        TlsLibrary::Openssl => {
            let ok = proto
                .as_ref()
                .and_then(|(v, _)| protocol_min_version(v))
                .is_some_and(|v| v >= profile.floor());
            if !ok {
                let w = protocol_min_value(profile);
                let mut f = Finding::new(
                    "openldap.protocol-min",
                    Severity::High,
                    file,
                    proto.as_ref().map_or(cert_line, |p| p.1),
                );
                f.current = proto
                    .as_ref()
                    .map(|p| format!("{}: {}", name(PROTO), p.0))
                    .map(Into::into);
                f.wanted = Some(format!("{}: {w}", name(PROTO)).into());
                f.reason = "the server accepts TLS versions below the profile's floor (TLS 1.0 and 1.1 are deprecated by RFC 8996)".into();
                return Some((
                    f,
                    Want {
                        rule: "openldap.protocol-min",
                        setting: PROTO,
                        value: w.into(),
                    },
                ));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_min_values() {
        assert_eq!(protocol_min_version("3.3"), Some(Version::Tls12));
        assert_eq!(protocol_min_version("3.1"), Some(Version::Tls10));
        assert_eq!(protocol_min_version("banana"), None);
    }
}
