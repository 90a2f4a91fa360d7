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
    summary: "ldap.conf TLS_REQCERT demand (never and allow accept any server), only when the CA holds a certificate",
    checks: "ldap.conf TLS_REQCERT: never and allow accept any server certificate (a man in the middle reads every bind password); demand (the default), hard and try verify it. demand can only work when the CA it verifies against holds a certificate: TLS_CACERT must be a file with at least one PEM certificate, or TLS_CACERTDIR (each of its `;`-separated directories) must hold one: any readable file with a PEM certificate on GnuTLS, which loads every file of the directory; a certificate under a subject-hash name (xxxxxxxx.0) on OpenSSL, which looks certificates up by hash.",
    writes: "TLS_REQCERT demand in place of never or allow, for every profile and TLS library.",
    refuses: "When neither TLS_CACERT nor TLS_CACERTDIR is set, when they do not exist, or when they hold no usable certificate (an empty directory; on OpenSSL, certificates without hash names): demand would then make every connection fail verification. The finding says what is missing.",
    versions: "OpenLDAP 2.4 to 2.6, linked with GnuTLS (Debian, Ubuntu) or OpenSSL (RHEL, SUSE, upstream default). `;`-separated TLS_CACERTDIR lists: OpenLDAP 2.5+.",
    sources: &[
        "ldap.conf(5) <https://www.openldap.org/software/man.cgi?query=ldap.conf>",
        "OpenLDAP libraries/libldap/tls_g.c (GnuTLS backend) <https://git.openldap.org/openldap/openldap/-/blob/master/libraries/libldap/tls_g.c>",
        "OpenLDAP libraries/libldap/tls_o.c (OpenSSL backend) <https://git.openldap.org/openldap/openldap/-/blob/master/libraries/libldap/tls_o.c>",
    ],
};

pub const CLIENT_CIPHER_SUITE: Rule = Rule {
    id: "openldap.client-cipher-suite",
    server: Server::Openldap,
    severity: Severity::High,
    activation: Activation::Default,
    summary: "an existing ldap.conf TLS_CIPHER_SUITE in the library's dialect, at the profile (never added)",
    checks: "An existing ldap.conf TLS_CIPHER_SUITE, judged as the server's cipher suite in the library's dialect: one in the other dialect breaks every client StartTLS (Connect error -11); one that allows versions or suites outside the profile is weak. An absent TLS_CIPHER_SUITE is not a finding: Mozilla's guidelines are for servers, and the server decides what is negotiated.",
    writes: "Only over a weak or wrong-dialect value: the value openldap.cipher-suite writes for the library and its version: the profile's GnuTLS priority string (GnuTLS; without VERS-TLS1.3 on a GnuTLS older than 3.6 or of unknown version) or TLS 1.2 cipher list (OpenSSL; old's with @SECLEVEL=0 on OpenSSL 3; nothing for modern, which has none). It never adds the setting: a client list locks the clients out of older servers.",
    refuses: "It never inserts a missing TLS_CIPHER_SUITE (see above); on OpenSSL under modern there is no list to write; nor under modern on a GnuTLS older than 3.6 or of unknown version (modern is TLS 1.3 only).",
    versions: "OpenLDAP 2.4 to 2.6, linked with GnuTLS (Debian, Ubuntu) or OpenSSL (RHEL, SUSE, upstream default).",
    sources: &[
        "ldap.conf(5) <https://www.openldap.org/software/man.cgi?query=ldap.conf>",
        "GnuTLS manual, Priority strings <https://www.gnutls.org/manual/html_node/Priority-Strings.html>",
        "OpenLDAP libraries/libldap/tls_g.c (GnuTLS backend) <https://git.openldap.org/openldap/openldap/-/blob/master/libraries/libldap/tls_g.c>",
        "Mozilla server-side TLS guidelines 6.0 <https://ssl-config.mozilla.org/guidelines/6.0.json>",
    ],
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
        // Template markup (issue 9, item 6) is reported, never replaced.
        if let Some(i) = existing
            && let Some(kind) = crate::servers::template::markup(
                &c.stmts[i].args(b).join(" "),
                crate::servers::template::Format::Ldap,
            )
        {
            fi.reason = crate::servers::template::reason(kind, "libldap").into();
            fi.blocked = Some(crate::servers::template::BLOCKED.into());
        }
        if opts.wants(rule) && fi.blocked.is_none() {
            let patch = conf_patch(f, c, existing, kw, value, last_tls, end);
            let change = Change {
                rule,
                reason: format!("{kw} {value} in {}", f.shown().display()).into(),
                edits: vec![(file, patch)],
                ldap: None,
            };
            fi.change = Some(report.add_change(change));
        }
        report.add_finding(fi);
    };
    // TLS_REQCERT: never/allow accept any server certificate.
    if let Some((v, line, i)) = get("TLS_REQCERT")
        && matches!(v.to_ascii_lowercase().as_str(), "never" | "allow")
    {
        let mut fi = Finding::new("openldap.client-reqcert", Severity::High, file, line);
        fi.current = Some(format!("TLS_REQCERT {v}").into());
        fi.wanted = Some("TLS_REQCERT demand".into());
        fi.reason = "clients accept any server certificate, so a man in the middle can read every bind password".into();
        let cacert = get("TLS_CACERT").map(|x| x.0);
        let cacertdir = get("TLS_CACERTDIR").map(|x| x.0);
        if let Err(why) = ca_usable(root, lib, cacert.as_deref(), cacertdir.as_deref()) {
            fi.blocked = Some(why);
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
        report.add_finding(fi);
    }
    // A client cipher list is never added: Mozilla's guidelines are for
    // servers, and a client list locks out older servers. Only an existing
    // one that is weak or in the wrong dialect is fixed.
    if let Some((v, line, i)) = get("TLS_CIPHER_SUITE")
        && let Ok(Some((w, note))) = wanted_suite(lib, profile, &opts.versions)
    {
        let reason = match judge_suite(lib, profile, &v) {
            Verdict::Ok => None,
            Verdict::Broken => Some(format!(
                "not in this {lib} build's dialect: every client StartTLS fails (Connect error -11)"
            )),
            Verdict::Weak => Some(format!(
                "allows versions or suites outside the {} profile",
                profile.name()
            )),
        };
        if let Some(reason) = reason {
            let mut fi = Finding::new("openldap.client-cipher-suite", Severity::High, file, line);
            fi.current = Some(format!("TLS_CIPHER_SUITE {v}").into());
            fi.wanted = Some(format!("TLS_CIPHER_SUITE {w}").into());
            fi.reason = format!("{reason}{note}").into();
            plan(
                fi,
                "openldap.client-cipher-suite",
                "TLS_CIPHER_SUITE",
                &w,
                Some(i),
                report,
            );
        }
    }
    let proto = get("TLS_PROTOCOL_MIN");
    match lib {
        TlsLibrary::Gnutls => {
            if let Some((v, line, _)) = proto {
                let mut fi = Finding::new("openldap.ignored", Severity::Low, file, line);
                fi.current = Some(format!("TLS_PROTOCOL_MIN {v}").into());
                fi.reason = "GnuTLS builds of libldap ignore TLS_PROTOCOL_MIN (verified: clients still connect with TLS 1.0); TLS_CIPHER_SUITE is what restricts versions".into();
                fi.blocked = Some("no-op: remove it, or leave it for documentation".into());
                report.add_finding(fi);
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
                fi.current = proto
                    .as_ref()
                    .map(|p| format!("TLS_PROTOCOL_MIN {}", p.0))
                    .map(Into::into);
                fi.wanted = Some(format!("TLS_PROTOCOL_MIN {w}").into());
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

/// Whether `TLS_REQCERT demand` can work: the CA file or one of the CA
/// directories holds at least one certificate the library will load. With
/// none, every connection would fail verification; the error says why.
fn ca_usable(
    root: &Root,
    lib: TlsLibrary,
    cacert: Option<&str>,
    cacertdir: Option<&str>,
) -> Result<(), String> {
    if cacert.is_none() && cacertdir.is_none() {
        return Err("no TLS_CACERT or TLS_CACERTDIR: with demand, clients could verify no server; set the CA first".into());
    }
    let mut problems = Vec::new();
    if let Some(p) = cacert {
        match root.resolve(Path::new(p)).map(|m| root.host(&m)) {
            Ok(h) if h.is_file() => {
                if holds_certificate(&h) {
                    return Ok(());
                }
                problems.push(format!("TLS_CACERT {p} holds no PEM certificate"));
            }
            _ => problems.push(format!("TLS_CACERT {p} does not exist or is not a file")),
        }
    }
    // libldap splits TLS_CACERTDIR at `;` (CERTPATHSEP, OpenLDAP 2.5+).
    for d in cacertdir.into_iter().flat_map(|d| d.split(';')) {
        let d = d.trim();
        if d.is_empty() {
            continue;
        }
        if dir_holds_certificate(root, lib, Path::new(d)) {
            return Ok(());
        }
        problems.push(match lib {
            TlsLibrary::Gnutls => format!("TLS_CACERTDIR {d} holds no readable PEM certificate"),
            TlsLibrary::Openssl => format!(
                "TLS_CACERTDIR {d} holds no certificate under a hash name (run openssl rehash on it)"
            ),
        });
    }
    Err(format!(
        "{}: with demand every connection would fail verification; put the CA certificate there first",
        problems.join("; ")
    ))
}

/// Whether a file holds at least one PEM certificate OpenSSL can parse
/// (PEM_read_bio_X509 skips other blocks).
fn holds_certificate(host: &Path) -> bool {
    std::fs::read(host).is_ok_and(|b| openssl::x509::X509::from_pem(&b).is_ok())
}

/// A CA directory as the library reads it: GnuTLS
/// (`gnutls_certificate_set_x509_trust_dir`) loads every file in it;
/// OpenSSL looks certificates up by subject hash, `xxxxxxxx.N`, so only
/// such names count.
fn dir_holds_certificate(root: &Root, lib: TlsLibrary, dir: &Path) -> bool {
    let Ok(machine) = root.resolve(dir) else {
        return false;
    };
    let Ok(entries) = std::fs::read_dir(root.host(&machine)) else {
        return false;
    };
    let hash_name = |n: &str| {
        n.split_once('.').is_some_and(|(h, k)| {
            h.len() == 8
                && h.bytes().all(|c| c.is_ascii_hexdigit())
                && !k.is_empty()
                && k.bytes().all(|c| c.is_ascii_digit())
        })
    };
    entries.flatten().any(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        let wanted = match lib {
            TlsLibrary::Gnutls => !name.starts_with('.'),
            TlsLibrary::Openssl => hash_name(&name),
        };
        wanted
            && root
                .resolve(&machine.join(&name))
                .map(|m| root.host(&m))
                .is_ok_and(|h| h.is_file() && holds_certificate(&h))
    })
}
