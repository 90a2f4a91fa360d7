//! Rules for OpenLDAP (ids `openldap.*`), on its three surfaces:
//! cn=config in `slapd.d` (the usual setup), legacy `slapd.conf`, and the
//! clients' `ldap.conf`; the 2017 article calls slapd.conf's directives
//! "ldap.conf counterparts", but they configure different programs and are
//! kept apart here.
//!
//! Values depend on the TLS library (see [`crate::target::tlslib`]): a GnuTLS build
//! (Debian's) takes a priority string in the cipher-suite setting and
//! ignores the protocol minimum; an OpenSSL build takes a cipher list and
//! honours the minimum. A setting the library ignores is reported as a
//! no-op, never written as if it were a fix, and an OpenSSL list in a GnuTLS
//! setting (slapd refuses to start) is reported as broken.
//!
//! cn=config changes go together, in one change: on a running server as one
//! ldapmodify operation (certificate and key together), offline as one edit
//! of `cn=config.ldif` with its CRC32 recomputed; a file whose CRC was
//! already wrong is reported and left alone.

use crate::catalogue::profile::{Priority, Profile, Version, cipher_list_meets, read_priority};
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::discover::{ConfigFile, Root};
use crate::edit::{Patch, apply_patches};
use crate::error::Result;
use crate::live::ldapmodify::{LdapChange, LdapMod};
use crate::plan::{Change, Finding, Report, Severity};
use crate::servers::Options;
use crate::source::Span;
use crate::syntax::Syntax;
use crate::syntax::ldif::{self, Ldif};
use crate::syntax::openldap_conf::{self, Conf, Dialect, Kind};
use crate::target::tlslib::{self, TlsLibrary};
use crate::target::versions::TargetVersions;
use std::path::{Path, PathBuf};

pub const RULES: &[Rule] = &[
    Rule {
        id: "openldap.cipher-suite",
        server: Server::Openldap,
        severity: Severity::Medium,
        activation: Activation::Default,
        summary: "server cipher suite: a GnuTLS priority string or an OpenSSL list that allows only the profile's versions and suites",
        checks: "",
        writes: "",
        refuses: "",
        versions: "",
        sources: &[],
    },
    Rule {
        id: "openldap.protocol-min",
        server: Server::Openldap,
        severity: Severity::Medium,
        activation: Activation::Default,
        summary: "OpenSSL builds: server TLSProtocolMin at the profile's floor (3.3 = TLS 1.2)",
        checks: "",
        writes: "",
        refuses: "",
        versions: "",
        sources: &[],
    },
    Rule {
        id: "openldap.ignored",
        server: Server::Openldap,
        severity: Severity::Medium,
        activation: Activation::Default,
        summary: "a setting this TLS library ignores, such as TLSProtocolMin with GnuTLS (no-op, audit only)",
        checks: "",
        writes: "",
        refuses: "",
        versions: "",
        sources: &[],
    },
    Rule {
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
    },
    Rule {
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
    },
    Rule {
        id: "openldap.crc",
        server: Server::Openldap,
        severity: Severity::Medium,
        activation: Activation::Default,
        summary: "a slapd.d file whose CRC32 line is already wrong: edited by hand (audit only)",
        checks: "",
        writes: "",
        refuses: "",
        versions: "",
        sources: &[],
    },
    Rule {
        id: "openldap.tls-library",
        server: Server::Openldap,
        severity: Severity::Medium,
        activation: Activation::Default,
        summary: "the TLS library slapd and libldap use could not be found (audit only)",
        checks: "",
        writes: "",
        refuses: "",
        versions: "",
        sources: &[],
    },
    Rule {
        id: "openldap.client-reqcert",
        server: Server::Openldap,
        severity: Severity::Medium,
        activation: Activation::Default,
        summary: "ldap.conf TLS_REQCERT demand (never and allow accept any server)",
        checks: "",
        writes: "",
        refuses: "",
        versions: "",
        sources: &[],
    },
    Rule {
        id: "openldap.client-cipher-suite",
        server: Server::Openldap,
        severity: Severity::Medium,
        activation: Activation::Default,
        summary: "ldap.conf TLS_CIPHER_SUITE in the library's dialect, at the profile",
        checks: "",
        writes: "",
        refuses: "",
        versions: "",
        sources: &[],
    },
    Rule {
        id: "openldap.client-cacert",
        server: Server::Openldap,
        severity: Severity::Medium,
        activation: Activation::Default,
        summary: "ldap.conf names the CA that clients verify servers against (audit only)",
        checks: "",
        writes: "",
        refuses: "",
        versions: "",
        sources: &[],
    },
    Rule {
        id: "openldap.client-protocol-min",
        server: Server::Openldap,
        severity: Severity::Medium,
        activation: Activation::Default,
        summary: "OpenSSL builds: ldap.conf TLS_PROTOCOL_MIN at the profile's floor",
        checks: "",
        writes: "",
        refuses: "",
        versions: "",
        sources: &[],
    },
];

/// The OpenLDAP files of a machine.
pub struct OpenLdap {
    pub cn_config: Option<(ConfigFile, Ldif)>,
    pub slapd_conf: Option<(ConfigFile, Conf)>,
    pub ldap_conf: Option<(ConfigFile, Conf)>,
}

impl OpenLdap {
    pub fn load(root: &Root) -> Result<Option<OpenLdap>> {
        let first = |paths: &[&str]| paths.iter().map(PathBuf::from).find(|p| root.exists(p));
        let cn_config = match first(&[
            "/etc/ldap/slapd.d/cn=config.ldif",
            "/etc/openldap/slapd.d/cn=config.ldif",
        ]) {
            Some(p) => {
                let f = ConfigFile::load(root, &p, Syntax::Ldif)?;
                let l = ldif::parse(&f.source.path, &f.source.bytes)?;
                Some((f, l))
            }
            None => None,
        };
        let conf = |p: Option<PathBuf>, syntax, dialect| -> Result<Option<(ConfigFile, Conf)>> {
            let Some(p) = p else { return Ok(None) };
            let f = ConfigFile::load(root, &p, syntax)?;
            let c = openldap_conf::parse(&f.source.path, &f.source.bytes, dialect)?;
            Ok(Some((f, c)))
        };
        let slapd_conf = conf(
            first(&["/etc/ldap/slapd.conf", "/etc/openldap/slapd.conf"]),
            Syntax::SlapdConf,
            Dialect::SlapdConf,
        )?;
        let ldap_conf = conf(
            first(&["/etc/ldap/ldap.conf", "/etc/openldap/ldap.conf"]),
            Syntax::LdapConf,
            Dialect::LdapConf,
        )?;
        if cn_config.is_none() && slapd_conf.is_none() && ldap_conf.is_none() {
            return Ok(None);
        }
        Ok(Some(OpenLdap {
            cn_config,
            slapd_conf,
            ldap_conf,
        }))
    }
}

pub fn detect_library(root: &Root, over: Option<TlsLibrary>) -> Option<(TlsLibrary, String)> {
    if let Some(l) = over {
        return Some((l, "--tls-library".into()));
    }
    let c = [
        "/usr/sbin/slapd",
        "/usr/libexec/slapd",
        "/usr/lib/openldap/slapd",
        "/usr/bin/ldapsearch",
        "/usr/bin/ldapwhoami",
    ];
    let paths: Vec<&Path> = c.iter().map(Path::new).collect();
    tlslib::detect_in_root(root, &paths)
}

/// How cn=config is changed: on the running server, or in its files.
#[derive(Clone, Debug)]
pub enum Mode {
    Online { uri: String },
    Offline,
}

/// The names of one server setting in cn=config and in slapd.conf.
#[derive(Clone, Copy)]
struct Setting {
    olc: &'static str,
    conf: &'static str,
}

const CIPHER: Setting = Setting {
    olc: "olcTLSCipherSuite",
    conf: "TLSCipherSuite",
};
const PROTO: Setting = Setting {
    olc: "olcTLSProtocolMin",
    conf: "TLSProtocolMin",
};
const CERT: Setting = Setting {
    olc: "olcTLSCertificateFile",
    conf: "TLSCertificateFile",
};
const KEY: Setting = Setting {
    olc: "olcTLSCertificateKeyFile",
    conf: "TLSCertificateKeyFile",
};

fn protocol_min_value(p: Profile) -> &'static str {
    match p {
        Profile::Modern => "3.4",
        Profile::Intermediate => "3.3",
        Profile::Old => "3.1",
    }
}

/// `3.3` means TLS 1.2; OpenLDAP also accepts `771` style numbers.
fn protocol_min_version(v: &str) -> Option<Version> {
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

/// What a cipher-suite value is worth for `lib` under `profile`.
enum Verdict {
    Ok,
    Weak,
    /// The other library's dialect: the server or client fails outright.
    Broken,
}

fn judge_suite(lib: TlsLibrary, profile: Profile, value: &str) -> Verdict {
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
fn wanted_suite(
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

/// One planned server setting.
struct Want {
    rule: &'static str,
    setting: Setting,
    value: String,
}

pub fn audit(o: &OpenLdap, root: &Root, opts: &Options, mode: &Mode, report: &mut Report) {
    let lib = detect_library(root, opts.tls_library);
    let Some((lib, how)) = lib else {
        let f = o
            .cn_config
            .as_ref()
            .map(|x| &x.0)
            .or(o.slapd_conf.as_ref().map(|x| &x.0))
            .or(o.ldap_conf.as_ref().map(|x| &x.0));
        if let Some(file) = f {
            let file = report.file(file);
            let mut f = Finding::new("openldap.tls-library", Severity::Medium, file, 1);
            f.reason = "cannot tell whether slapd and libldap use GnuTLS or OpenSSL (no slapd or ldapsearch binary found); cipher and protocol settings were not checked".into();
            f.blocked = Some("pass --tls-library gnutls or --tls-library openssl".into());
            report.findings.push(f);
        }
        return;
    };
    report.notes.push(format!("openldap: {lib} build ({how})"));
    if lib == TlsLibrary::Gnutls {
        report.notes.push(format!(
            "openldap: {}",
            TargetVersions::describe("GnuTLS", opts.versions.gnutls.as_ref())
        ));
    }
    let profile = opts.profile;
    if let Some((f, l)) = &o.cn_config {
        cn_config(f, l, root, lib, profile, opts, mode, report);
    }
    if let Some((f, c)) = &o.slapd_conf {
        slapd_conf(f, c, root, lib, profile, opts, report);
    }
    if let Some((f, c)) = &o.ldap_conf {
        ldap_conf(f, c, root, lib, profile, opts, report);
    }
}

/// The server-side judgement shared by cn=config and slapd.conf: findings
/// pushed, wanted settings returned. `get` reads a setting: its value and
/// the line it is on.
#[allow(clippy::too_many_arguments)]
fn server_rules(
    get: &dyn Fn(Setting) -> Option<(String, usize)>,
    name: fn(Setting) -> &'static str,
    file: usize,
    root: &Root,
    lib: TlsLibrary,
    profile: Profile,
    versions: &TargetVersions,
    report: &mut Report,
) -> Vec<(Finding, Want)> {
    let mut planned = Vec::new();
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
        return planned;
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
    // Cipher suite.
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
    if let Some(sev) = severity {
        let line = suite.as_ref().map_or(cert_line, |s| s.1);
        let mut f = Finding::new("openldap.cipher-suite", sev, file, line);
        f.current = suite.as_ref().map(|s| format!("{}: {}", name(CIPHER), s.0));
        match wanted {
            Ok(Some((w, note))) => {
                f.wanted = Some(format!("{}: {w}", name(CIPHER)));
                f.reason = format!("{reason}{note}");
                planned.push((
                    f,
                    Want {
                        rule: "openldap.cipher-suite",
                        setting: CIPHER,
                        value: w,
                    },
                ));
            }
            Err(why) => {
                f.reason = reason;
                f.blocked = Some(why);
                report.findings.push(f);
            }
            Ok(None) => {}
        }
    }
    // Protocol minimum.
    let proto = get(PROTO);
    match lib {
        TlsLibrary::Gnutls => {
            if let Some((v, line)) = proto {
                let mut f = Finding::new("openldap.ignored", Severity::Low, file, line);
                f.current = Some(format!("{}: {v}", name(PROTO)));
                f.reason = format!(
                    "GnuTLS builds ignore {}: it protects nothing; the versions come from {}",
                    name(PROTO),
                    name(CIPHER)
                );
                f.blocked = Some("no-op: remove it, or leave it for documentation".into());
                report.findings.push(f);
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
                f.current = proto.as_ref().map(|p| format!("{}: {}", name(PROTO), p.0));
                f.wanted = Some(format!("{}: {w}", name(PROTO)));
                f.reason = "the server accepts TLS versions below the profile's floor (TLS 1.0 and 1.1 are deprecated by RFC 8996)".into();
                planned.push((
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
    planned
}

#[allow(clippy::too_many_arguments)]
fn cn_config(
    f: &ConfigFile,
    l: &Ldif,
    root: &Root,
    lib: TlsLibrary,
    profile: Profile,
    opts: &Options,
    mode: &Mode,
    report: &mut Report,
) {
    let b = &f.source.bytes;
    let file = report.file(f);
    let Some(rec) = l.record(b, "cn=config") else {
        return;
    };
    let lines: Vec<&ldif::Line> = l.record_lines(rec).collect();
    let get = |s: Setting| -> Option<(String, usize)> {
        lines.iter().find(|x| x.is(b, s.olc)).map(|x| {
            (
                x.value_str(b).unwrap_or_default(),
                f.source.line_of(x.span.start),
            )
        })
    };
    // A CRC that is already wrong means someone edited the file by hand.
    let crc = ldif::crc_line(b);
    let crc_wrong = crc.as_ref().is_some_and(|c| c.stated != c.computed);
    if let Some(c) = crc.as_ref().filter(|_| crc_wrong) {
        let mut g = Finding::new("openldap.crc", Severity::High, file, 2);
        g.current = Some(format!(
            "# CRC32 {} (the content's CRC32 is {})",
            c.stated, c.computed
        ));
        g.reason = "this slapd.d file was edited by hand after slapd wrote it; slaptest warns \"checksum error\"".into();
        g.blocked = Some("audit only: tlsmend does not edit it offline; check it with slaptest -F, or change it with ldapmodify".into());
        report.findings.push(g);
    }
    let planned = server_rules(
        &get,
        |s| s.olc,
        file,
        root,
        lib,
        profile,
        &opts.versions,
        report,
    );
    let planned: Vec<(Finding, Want)> = planned
        .into_iter()
        .filter(|(_, w)| opts.wants(w.rule))
        .collect();
    if planned.is_empty() {
        return;
    }
    let rule = planned[0].1.rule;
    let reason = format!(
        "cn=config: {}",
        planned
            .iter()
            .map(|(_, w)| format!("{}: {}", w.setting.olc, w.value))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let change = match mode {
        Mode::Online { uri } => {
            let mods = planned
                .iter()
                .map(|(_, w)| LdapMod {
                    attr: w.setting.olc.into(),
                    old: lines
                        .iter()
                        .filter(|x| x.is(b, w.setting.olc))
                        .filter_map(|x| x.value_str(b))
                        .collect(),
                    new: w.value.clone(),
                })
                .collect();
            Change {
                rule,
                reason: format!("{reason} (ldapmodify on {uri})"),
                edits: Vec::new(),
                ldap: Some(LdapChange {
                    uri: uri.clone(),
                    dn: "cn=config".into(),
                    mods,
                }),
            }
        }
        Mode::Offline => {
            if crc_wrong {
                for (mut fi, _) in planned {
                    fi.blocked =
                        Some("the file's CRC32 is already wrong (see openldap.crc)".into());
                    report.findings.push(fi);
                }
                return;
            }
            let eol = f.source.line_ending();
            let mut patches = Vec::new();
            for (_, w) in &planned {
                let text = format!("{}: {}", w.setting.olc, w.value);
                match lines.iter().find(|x| x.is(b, w.setting.olc)) {
                    Some(x) => {
                        patches.push(Patch::replace(Span::new(x.span.start, x.text_end()), text))
                    }
                    None => {
                        let anchor = lines.iter().rev().find(|x| {
                            x.name(b)
                                .is_some_and(|n| n.to_ascii_lowercase().starts_with(b"olctls"))
                        });
                        let before = lines.iter().find(|x| x.is(b, "structuralObjectClass"));
                        let at = match (anchor, before) {
                            (Some(a), _) => a.span.end,
                            (None, Some(s)) => s.span.start,
                            (None, None) => lines.last().map_or(b.len(), |x| x.span.end),
                        };
                        let mut bytes = Vec::new();
                        if at > 0 && !b[..at].ends_with(b"\n") {
                            bytes.extend_from_slice(eol);
                        }
                        bytes.extend_from_slice(text.as_bytes());
                        bytes.extend_from_slice(eol);
                        patches.push(Patch::insert(at, bytes));
                    }
                }
            }
            // The CRC covers the result: compute it from the patched bytes.
            if let Some(c) = crc {
                let patched = apply_patches(b, &patches).expect("distinct attribute lines");
                let new_crc = ldif::crc_line(&patched)
                    .map(|n| n.computed)
                    .unwrap_or_default();
                patches.push(Patch::replace(c.digits, new_crc));
            }
            Change {
                rule,
                reason: format!(
                    "{reason} (offline edit of {}, CRC32 recomputed)",
                    f.shown().display()
                ),
                edits: patches.into_iter().map(|p| (file, p)).collect(),
                ldap: None,
            }
        }
    };
    let c = report.add_change(change);
    for (mut fi, _) in planned {
        fi.change = Some(c);
        report.findings.push(fi);
    }
}

fn conf_get<'a>(
    f: &'a ConfigFile,
    c: &'a Conf,
    upto: usize,
) -> impl Fn(&str) -> Option<(String, usize, usize)> + 'a {
    move |kw: &str| {
        let b = &f.source.bytes;
        c.stmts[..upto]
            .iter()
            .enumerate()
            .rev()
            .find(|(_, s)| s.is(b, kw))
            .map(|(i, s)| (s.args(b).join(" "), f.source.line_of(s.span.start), i))
    }
}

/// Sets `kw`'s value in place, or inserts `kw value` after `after` (a
/// statement index) or at `fallback`.
fn conf_patch(
    f: &ConfigFile,
    c: &Conf,
    existing: Option<usize>,
    kw: &str,
    value: &str,
    after: Option<usize>,
    fallback: usize,
) -> Patch {
    let b = &f.source.bytes;
    let eol = f.source.line_ending();
    if let Some(i) = existing {
        let s = &c.stmts[i];
        return match s.args_span() {
            Some(span) => Patch::replace(span, value.to_string()),
            None => Patch::insert(s.text_end(), format!(" {value}")),
        };
    }
    let at = after.map_or(fallback, |i| c.stmts[i].span.end);
    // The separator after the keyword: the neighbour's (a tab where it uses
    // tabs), else the file's first directive's.
    let sep_of = |s: &openldap_conf::Stmt| match &s.kind {
        Kind::Directive { keyword, args } if !args.is_empty() => {
            Some(&b[keyword.end..args[0].start])
        }
        _ => None,
    };
    let sep = after
        .and_then(|i| sep_of(&c.stmts[i]))
        .or_else(|| c.stmts.iter().find_map(sep_of));
    let sep = sep
        .filter(|s| s.iter().all(|&x| x == b' ' || x == b'\t'))
        .unwrap_or(b" ");
    let mut bytes = Vec::new();
    if at > 0 && !b[..at].ends_with(b"\n") {
        bytes.extend_from_slice(eol);
    }
    bytes.extend_from_slice(kw.as_bytes());
    bytes.extend_from_slice(sep);
    bytes.extend_from_slice(value.as_bytes());
    bytes.extend_from_slice(eol);
    Patch::insert(at, bytes)
}

fn slapd_conf(
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
    let global = c.global_end(b);
    let get3 = conf_get(f, c, global);
    let get = |s: Setting| get3(s.conf).map(|(v, l, _)| (v, l));
    let planned = server_rules(
        &get,
        |s| s.conf,
        file,
        root,
        lib,
        profile,
        &opts.versions,
        report,
    );
    // New directives go after the last TLS directive of the global part,
    // else after its last directive: never into a database section.
    let last_tls = (0..global).rev().find(|&i| {
        c.stmts[i]
            .keyword(b)
            .is_some_and(|k| k.to_ascii_uppercase().starts_with(b"TLS"))
    });
    let last_any = (0..global).rev().find(|&i| c.stmts[i].keyword(b).is_some());
    for (mut fi, w) in planned {
        if !opts.wants(w.rule) {
            continue;
        }
        let existing = get3(w.setting.conf).map(|(_, _, i)| i);
        let patch = conf_patch(
            f,
            c,
            existing,
            w.setting.conf,
            &w.value,
            last_tls.or(last_any),
            0,
        );
        let change = Change {
            rule: w.rule,
            reason: format!(
                "{} {} in the global part of slapd.conf",
                w.setting.conf, w.value
            ),
            edits: vec![(file, patch)],
            ldap: None,
        };
        fi.change = Some(report.add_change(change));
        report.findings.push(fi);
    }
}

fn ldap_conf(
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
    if let Ok(Some((w, note))) = wanted_suite(lib, profile, &opts.versions)
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
        fi.reason = format!("{reason}{note}");
        plan(
            fi,
            "openldap.client-cipher-suite",
            "TLS_CIPHER_SUITE",
            &w,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_min_values() {
        assert_eq!(protocol_min_version("3.3"), Some(Version::Tls12));
        assert_eq!(protocol_min_version("3.1"), Some(Version::Tls10));
        assert_eq!(protocol_min_version("banana"), None);
    }

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
