//! The clients' `ldap.conf` (ids `openldap.client-*`): server certificate
//! verification, the CA it rests on, and the clients' cipher list and
//! protocol minimum.

use super::cipher_suite::{Verdict, judge_suite, wanted_suite};
use super::protocol_min::{protocol_min_value, protocol_min_version};
use super::{conf_get, conf_patch};
use crate::catalogue::profile::Profile;
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::discover::{ConfigFile, Root};
use crate::plan::{Change, Finding, Report, Severity};
use crate::servers::Options;
use crate::syntax::openldap_conf::Conf;
use crate::target::tlslib::TlsLibrary;
use std::path::Path;

pub const CLIENT_REQCERT: Rule = Rule {
    id: "openldap.client-reqcert",
    server: Server::Openldap,
    severity: Severity::High,
    activation: Activation::Default,
    summary: "ldap.conf TLS_REQCERT demand (never and allow accept any server)",
    checks: "",
    writes: "",
    refuses: "",
    versions: "",
    sources: &[],
};

pub const CLIENT_CIPHER_SUITE: Rule = Rule {
    id: "openldap.client-cipher-suite",
    server: Server::Openldap,
    severity: Severity::High,
    activation: Activation::Default,
    summary: "ldap.conf TLS_CIPHER_SUITE in the library's dialect, at the profile",
    checks: "",
    writes: "",
    refuses: "",
    versions: "",
    sources: &[],
};

pub const CLIENT_CACERT: Rule = Rule {
    id: "openldap.client-cacert",
    server: Server::Openldap,
    severity: Severity::Low,
    activation: Activation::Default,
    summary: "ldap.conf names the CA that clients verify servers against (audit only)",
    checks: "ldap.conf sets TLS_CACERT or TLS_CACERTDIR. Without either, clients verify LDAP servers only against the TLS library's default store, if any.",
    writes: "Nothing: audit only (low severity).",
    refuses: "Always: which CA signed your LDAP servers is yours to say.",
    versions: "OpenLDAP 2.4 to 2.6, linked with GnuTLS (Debian, Ubuntu) or OpenSSL (RHEL, SUSE, upstream default).",
    sources: &["ldap.conf(5) <https://www.openldap.org/software/man.cgi?query=ldap.conf>"],
};

pub const CLIENT_PROTOCOL_MIN: Rule = Rule {
    id: "openldap.client-protocol-min",
    server: Server::Openldap,
    severity: Severity::Medium,
    activation: Activation::Default,
    summary: "OpenSSL builds: ldap.conf TLS_PROTOCOL_MIN at the profile's floor",
    checks: "OpenSSL builds only: ldap.conf TLS_PROTOCOL_MIN, read as the server's (3.3 is TLS 1.2); absent or below the profile's floor is reported.",
    writes: "TLS_PROTOCOL_MIN 3.3 (intermediate), 3.4 (modern), 3.1 (old), replacing the value or added after the file's last TLS_ line.",
    refuses: "On GnuTLS builds: libldap ignores it there (openldap.ignored).",
    versions: "OpenLDAP 2.4 to 2.6, linked with GnuTLS (Debian, Ubuntu) or OpenSSL (RHEL, SUSE, upstream default).",
    sources: &[
        "ldap.conf(5) <https://www.openldap.org/software/man.cgi?query=ldap.conf>",
        "OpenLDAP libraries/libldap/tls_o.c (OpenSSL backend) <https://git.openldap.org/openldap/openldap/-/blob/master/libraries/libldap/tls_o.c>",
        "RFC 8996, Deprecating TLS 1.0 and TLS 1.1 <https://www.rfc-editor.org/rfc/rfc8996>",
    ],
};

pub(super) fn ldap_conf(
    f: &ConfigFile,
    c: &Conf,
    root: &Root,
    lib: TlsLibrary,
    profile: Profile,
    opts: &Options,
    report: &mut Report,
) {
    let b = &f.source.bytes;
    let file = report.file(f);
    let get = conf_get(f, c, c.stmts.len());
    let last_tls = (0..c.stmts.len()).rev().find(|&i| {
        c.stmts[i]
            .keyword(b)
            .is_some_and(|k| k.to_ascii_uppercase().starts_with(b"TLS_"))
    });
    let end = b.len();
    let plan = |fi: Finding,
                rule: &'static str,
                kw: &str,
                value: &str,
                existing: Option<usize>,
                report: &mut Report| {
        let mut fi = fi;
        if opts.wants(rule) && fi.blocked.is_none() {
            let patch = conf_patch(f, c, existing, kw, value, last_tls, end);
            let change = Change {
                rule,
                reason: format!("{kw} {value} in {}", f.shown().display()),
                edits: vec![(file, patch)],
                ldap: None,
            };
            fi.change = Some(report.add_change(change));
        }
        report.findings.push(fi);
    };
    // TLS_REQCERT: never/allow accept any server certificate.
    if let Some((v, line, i)) = get("TLS_REQCERT")
        && matches!(v.to_ascii_lowercase().as_str(), "never" | "allow")
    {
        let mut fi = Finding::new("openldap.client-reqcert", Severity::High, file, line);
        fi.current = Some(format!("TLS_REQCERT {v}"));
        fi.wanted = Some("TLS_REQCERT demand".into());
        fi.reason = "clients accept any server certificate, so a man in the middle can read every bind password".into();
        let ca = get("TLS_CACERT").or_else(|| get("TLS_CACERTDIR"));
        match ca {
            Some((p, _, _)) if root.exists(Path::new(&p)) => {}
            Some((p, _, _)) => fi.blocked = Some(format!("{p} (TLS_CACERT/TLS_CACERTDIR) does not exist: with demand every connection would fail; fix the CA path first")),
            None => fi.blocked = Some("no TLS_CACERT or TLS_CACERTDIR: with demand, clients could verify no server; set the CA first".into()),
        }
        plan(
            fi,
            "openldap.client-reqcert",
            "TLS_REQCERT",
            "demand",
            Some(i),
            report,
        );
    }
    // Without a CA, verifying the server (TLS_REQCERT demand) fails or
    // falls back to whatever the TLS library's defaults hold.
    if get("TLS_CACERT").is_none() && get("TLS_CACERTDIR").is_none() {
        let mut fi = Finding::new("openldap.client-cacert", Severity::Low, file, 1);
        fi.reason = "neither TLS_CACERT nor TLS_CACERTDIR is set: clients verify LDAP servers only against the TLS library's default store, if any".into();
        fi.blocked = Some(
            "audit only: set TLS_CACERT to the CA bundle that signed your LDAP servers".into(),
        );
        report.findings.push(fi);
    }
    let suite = get("TLS_CIPHER_SUITE");
    let verdict = suite.as_ref().map(|(v, _, _)| judge_suite(lib, profile, v));
    if let Some(w) = wanted_suite(lib, profile)
        && !matches!(verdict, Some(Verdict::Ok))
    {
        let (sev, reason) = match (&verdict, lib) {
            (Some(Verdict::Broken), _) => (Severity::High, format!("not in this {lib} build's dialect: every client StartTLS fails (Connect error -11)")),
            (Some(_), _) => (Severity::High, format!("allows versions or suites outside the {} profile", profile.name())),
            (None, TlsLibrary::Gnutls) => (Severity::Medium, "not set: clients accept TLS 1.0 and 1.1 (with GnuTLS, TLS_PROTOCOL_MIN does not restrict them; the priority string does)".into()),
            (None, TlsLibrary::Openssl) => (Severity::Low, "not set: OpenSSL's default list".into()),
        };
        let line = suite
            .as_ref()
            .map_or_else(|| f.source.line_of(end), |s| s.1);
        let mut fi = Finding::new("openldap.client-cipher-suite", sev, file, line);
        fi.current = suite.as_ref().map(|s| format!("TLS_CIPHER_SUITE {}", s.0));
        fi.wanted = Some(format!("TLS_CIPHER_SUITE {w}"));
        fi.reason = reason;
        plan(
            fi,
            "openldap.client-cipher-suite",
            "TLS_CIPHER_SUITE",
            w,
            suite.as_ref().map(|s| s.2),
            report,
        );
    }
    let proto = get("TLS_PROTOCOL_MIN");
    match lib {
        TlsLibrary::Gnutls => {
            if let Some((v, line, _)) = proto {
                let mut fi = Finding::new("openldap.ignored", Severity::Low, file, line);
                fi.current = Some(format!("TLS_PROTOCOL_MIN {v}"));
                fi.reason = "GnuTLS builds of libldap ignore TLS_PROTOCOL_MIN (verified: clients still connect with TLS 1.0); TLS_CIPHER_SUITE is what restricts versions".into();
                fi.blocked = Some("no-op: remove it, or leave it for documentation".into());
                report.findings.push(fi);
            }
        }
        TlsLibrary::Openssl => {
            let ok = proto
                .as_ref()
                .and_then(|(v, _, _)| protocol_min_version(v))
                .is_some_and(|v| v >= profile.floor());
            if !ok {
                let w = protocol_min_value(profile);
                let line = proto
                    .as_ref()
                    .map_or_else(|| f.source.line_of(end), |p| p.1);
                let mut fi =
                    Finding::new("openldap.client-protocol-min", Severity::Medium, file, line);
                fi.current = proto.as_ref().map(|p| format!("TLS_PROTOCOL_MIN {}", p.0));
                fi.wanted = Some(format!("TLS_PROTOCOL_MIN {w}"));
                fi.reason = "clients accept TLS versions below the profile's floor".into();
                plan(
                    fi,
                    "openldap.client-protocol-min",
                    "TLS_PROTOCOL_MIN",
                    w,
                    proto.as_ref().map(|p| p.2),
                    report,
                );
            }
        }
    }
}
