//! `openldap.cipher-suite`: the server's cipher setting, judged in the
//! dialect of the library slapd links (a GnuTLS priority string or an
//! OpenSSL cipher list).

use super::{CIPHER, Surface, Want};
use crate::catalogue::profile::{Priority, Profile, cipher_list_meets, read_priority};
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::plan::{Finding, Report, Severity};
use crate::target::tlslib::TlsLibrary;
use crate::target::versions::TargetVersions;

pub const CIPHER_SUITE: Rule = Rule {
    id: "openldap.cipher-suite",
    server: Server::Openldap,
    severity: Severity::High,
    activation: Activation::Default,
    summary: "server cipher suite: a GnuTLS priority string or an OpenSSL list that allows only the profile's versions and suites",
    checks: "olcTLSCipherSuite in cn=config (TLSCipherSuite in slapd.conf's global part), in the dialect of the library slapd links. GnuTLS: a priority string whose enabled versions are all in the profile (it is GnuTLS's only protocol control). OpenSSL: a cipher list naming only the profile's suites (keywords such as HIGH cannot be proven strong). A value in the other library's dialect is broken: an OpenSSL list on GnuTLS makes slapd refuse the change (ldapmodify error 80) or fail at start. Checked only when the server has a certificate.",
    writes: "GnuTLS: the profile's GnuTLS priority string (intermediate NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-RSA:+ECDHE-ECDSA, modern NORMAL:-VERS-ALL:+VERS-TLS1.3). On a GnuTLS older than 3.6, or of unknown version (--gnutls-version names it), strings naming no VERS-TLS1.3: intermediate NORMAL:-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1, old NORMAL:-VERS-SSL3.0. OpenSSL: the profile's TLS 1.2 cipher list (modern has none and nothing is written); old's ends in @SECLEVEL=0 on OpenSSL 3, without which OpenSSL refuses TLS 1.0 and 1.1. cn=config changes go in one change: one ldapmodify operation on the running server (ldapi:/// unless --ldap-uri), or, for a --root image or with --offline, an edit of cn=config.ldif with its CRC32 recomputed. slapd.conf: in the global part, after its last TLS directive.",
    refuses: "modern on a GnuTLS older than 3.6 or of unknown version: reported, nothing written (modern is TLS 1.3 only and such a GnuTLS rejects VERS-TLS1.3). When cn=config.ldif's CRC32 is already wrong (openldap.crc); when no certificate is configured (openldap.certificate): TLS is off and a cipher suite alone enables nothing.",
    versions: "OpenLDAP 2.4 to 2.6, linked with GnuTLS (Debian, Ubuntu) or OpenSSL (RHEL, SUSE, upstream default). VERS-TLS1.3 needs GnuTLS 3.6 or later.",
    sources: &[
        "slapd-config(5) <https://www.openldap.org/software/man.cgi?query=slapd-config>",
        "slapd.conf(5) <https://www.openldap.org/software/man.cgi?query=slapd.conf>",
        "GnuTLS manual, Priority strings <https://www.gnutls.org/manual/html_node/Priority-Strings.html>",
        "OpenLDAP libraries/libldap/tls_g.c (GnuTLS backend) <https://git.openldap.org/openldap/openldap/-/blob/master/libraries/libldap/tls_g.c>",
        "Mozilla server-side TLS guidelines 6.0 <https://ssl-config.mozilla.org/guidelines/6.0.json>",
    ],
};

/// What a cipher-suite value is worth for `lib` under `profile`.
pub(super) enum Verdict {
    Ok,
    Weak,
    /// The other library's dialect: the server or client fails outright.
    Broken,
}

pub(super) fn judge_suite(lib: TlsLibrary, profile: Profile, value: &str) -> Verdict {
    match lib {
        TlsLibrary::Gnutls => match read_priority(value) {
            Priority::WrongDialect => Verdict::Broken,
            Priority::Gnutls(vs) if !vs.is_empty() && vs.iter().all(|&v| profile.allows(v)) => {
                Verdict::Ok
            }
            Priority::Gnutls(_) => Verdict::Weak,
        },
        TlsLibrary::Openssl => {
            if matches!(read_priority(value), Priority::Gnutls(_)) {
                Verdict::Broken
            } else if cipher_list_meets(value, &profile.acceptable_ciphers()) {
                Verdict::Ok
            } else {
                Verdict::Weak
            }
        }
    }
}

/// The cipher-suite value to write for `lib` and the target's versions, with
/// a note (` (...)`, for the reason) when it is the portable one; `Err(why)`
/// when nothing that meets the profile would work (modern on a GnuTLS
/// without TLS 1.3). GnuTLS before 3.6 rejects `VERS-TLS1.3`; the old
/// profile's OpenSSL list gets `@SECLEVEL=0` on OpenSSL 3.
pub(super) fn wanted_suite(
    lib: TlsLibrary,
    profile: Profile,
    versions: &TargetVersions,
) -> std::result::Result<Option<(String, String)>, String> {
    match lib {
        TlsLibrary::Gnutls => {
            profile
                .gnutls_priority_for(&versions.gnutls_tls13())
                .map(|(w, note)| {
                    Some((
                        w.to_string(),
                        note.map(|n| format!(" ({n})")).unwrap_or_default(),
                    ))
                })
        }
        TlsLibrary::Openssl => Ok(profile
            .openssl_ciphers_for(versions.openssl_release())
            .map(|l| (l, String::new()))),
    }
}

/// The finding and wanted value when the server's suite does not meet the
/// profile; when nothing can be written (modern on a GnuTLS without
/// TLS 1.3), the finding goes to `report` as blocked.
pub(super) fn server(
    s: &Surface,
    lib: TlsLibrary,
    profile: Profile,
    versions: &TargetVersions,
    cert_line: usize,
    report: &mut Report,
) -> Option<(Finding, Want)> {
    let (get, name, file) = (s.get, s.name, s.file);
    let suite = get(CIPHER);
    let wanted = wanted_suite(lib, profile, versions);
    let verdict = suite.as_ref().map(|(v, _)| judge_suite(lib, profile, v));
    let (severity, reason) = match (&verdict, lib) {
        (Some(Verdict::Ok), _) => (None, String::new()),
        (Some(Verdict::Broken), TlsLibrary::Gnutls) => (Some(Severity::High), format!("this {} build needs a GnuTLS priority string; an OpenSSL cipher list makes slapd refuse to start (ldapmodify error 80)", lib)),
        (Some(Verdict::Broken), TlsLibrary::Openssl) => (Some(Severity::High), "this OpenSSL build needs an OpenSSL cipher list, not a GnuTLS priority string".into()),
        (Some(Verdict::Weak), _) => (Some(Severity::High), format!("allows versions or suites outside the {} profile", profile.name())),
        (None, TlsLibrary::Gnutls) => (Some(Severity::High), "not set: GnuTLS's NORMAL priority accepts TLS 1.0 and 1.1 (with GnuTLS, the cipher suite is also the only protocol control)".into()),
        (None, TlsLibrary::Openssl) => (Some(Severity::Medium), "not set: OpenSSL's default list is used".into()),
    };
    let sev = severity?;
    let line = suite.as_ref().map_or(cert_line, |s| s.1);
    let mut f = Finding::new("openldap.cipher-suite", sev, file, line);
    f.current = suite
        .as_ref()
        .map(|s| format!("{}: {}", name(CIPHER), s.0))
        .map(Into::into);
    match wanted {
        Ok(Some((w, note))) => {
            f.wanted = Some(format!("{}: {w}", name(CIPHER)).into());
            f.reason = format!("{reason}{note}").into();
            Some((
                f,
                Want {
                    rule: "openldap.cipher-suite",
                    setting: CIPHER,
                    value: w,
                },
            ))
        }
        Err(why) => {
            f.reason = reason.into();
            f.blocked = Some(why);
            report.add_finding(f);
            None
        }
        Ok(None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suites_are_judged_by_library() {
        let p = Profile::Intermediate;
        assert!(matches!(
            judge_suite(TlsLibrary::Gnutls, p, "HIGH:!aNULL"),
            Verdict::Broken
        ));
        assert!(matches!(
            judge_suite(TlsLibrary::Gnutls, p, "NORMAL"),
            Verdict::Weak
        ));
        assert!(matches!(
            judge_suite(TlsLibrary::Gnutls, p, "NORMAL:-VERS-TLS1.0:-VERS-TLS1.1"),
            Verdict::Ok
        ));
        assert!(matches!(
            judge_suite(TlsLibrary::Openssl, p, "NORMAL:-VERS-TLS1.0"),
            Verdict::Broken
        ));
        assert!(matches!(
            judge_suite(
                TlsLibrary::Openssl,
                p,
                crate::catalogue::profile::INTERMEDIATE_CIPHERS
            ),
            Verdict::Ok
        ));
    }
}
