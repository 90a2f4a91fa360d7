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
//!
//! This module holds the audit entry, the files, the server settings' names
//! and the helpers shared by slapd.conf and ldap.conf; each rule, with its
//! catalogue entry, lives in its own file, and each surface's writer in
//! `cn_config.rs`, `slapd_conf.rs` and `client.rs`.

mod certificate;
mod cipher_suite;
mod client;
mod cn_config;
mod dh_params;
mod library;
mod protocol_min;
mod slapd_conf;

pub use library::detect_library;

use crate::catalogue::profile::Profile;
use crate::catalogue::rule::Rule;
use crate::discover::{ConfigFile, Root};
use crate::edit::Patch;
use crate::error::Result;
use crate::plan::{Finding, Report};
use crate::servers::Options;
use crate::servers::template;
use crate::syntax::Syntax;
use crate::syntax::ldif::{self, Ldif};
use crate::syntax::openldap_conf::{self, Conf, Dialect, Kind};
use crate::target::tlslib::TlsLibrary;
use crate::target::versions::TargetVersions;
use std::path::PathBuf;

/// The OpenLDAP rules, in the order `tlsmend rules` lists them.
pub const RULES: &[Rule] = &[
    cipher_suite::CIPHER_SUITE,
    protocol_min::PROTOCOL_MIN,
    protocol_min::IGNORED,
    certificate::CERTIFICATE,
    certificate::WEAK_KEY,
    dh_params::DH_PARAMS,
    cn_config::CRC,
    library::TLS_LIBRARY,
    client::CLIENT_REQCERT,
    client::CLIENT_CIPHER_SUITE,
    client::CLIENT_CACERT,
    client::CLIENT_PROTOCOL_MIN,
];

/// Where each distribution keeps OpenLDAP's files (`slapd.d/`,
/// `slapd.conf`, `ldap.conf`): the first directory holding any of them is
/// the one used, and named in the notes.
pub const LAYOUTS: &[(&str, &str)] = &[
    ("Debian, Ubuntu", "/etc/ldap"),
    ("RHEL, Fedora, SUSE, Alpine, Arch", "/etc/openldap"),
    ("FreeBSD ports", "/usr/local/etc/openldap"),
];

/// The places searched, for "not found" messages.
pub fn searched() -> String {
    LAYOUTS
        .iter()
        .map(|(_, d)| *d)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The OpenLDAP files of a machine.
pub struct OpenLdap {
    /// The directory they were found in, and its layout's name.
    pub layout: (&'static str, PathBuf),
    pub cn_config: Option<(ConfigFile, Ldif)>,
    pub slapd_conf: Option<(ConfigFile, Conf)>,
    pub ldap_conf: Option<(ConfigFile, Conf)>,
}

impl OpenLdap {
    pub fn load(root: &Root) -> Result<Option<OpenLdap>> {
        let names = ["slapd.d/cn=config.ldif", "slapd.conf", "ldap.conf"];
        let Some((layout, dir)) = LAYOUTS
            .iter()
            .map(|(n, d)| (*n, PathBuf::from(d)))
            .find(|(_, d)| names.iter().any(|f| root.exists(&d.join(f))))
        else {
            return Ok(None);
        };
        let first = |name: &str| Some(dir.join(name)).filter(|p| root.exists(p));
        let cn_config = match first("slapd.d/cn=config.ldif") {
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
        let slapd_conf = conf(first("slapd.conf"), Syntax::SlapdConf, Dialect::SlapdConf)?;
        let ldap_conf = conf(first("ldap.conf"), Syntax::LdapConf, Dialect::LdapConf)?;
        if cn_config.is_none() && slapd_conf.is_none() && ldap_conf.is_none() {
            return Ok(None);
        }
        Ok(Some(OpenLdap {
            layout: (layout, dir),
            cn_config,
            slapd_conf,
            ldap_conf,
        }))
    }
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
const DH: Setting = Setting {
    olc: "olcTLSDHParamFile",
    conf: "TLSDHParamFile",
};

/// One planned server setting.
struct Want {
    rule: &'static str,
    setting: Setting,
    value: String,
}

pub fn audit(o: &OpenLdap, root: &Root, opts: &Options, mode: &Mode, report: &mut Report) {
    let lib = detect_library(root, opts.tls_library);
    let Some((lib, how)) = lib else {
        library::unknown(o, report);
        return;
    };
    report.notes.push(format!(
        "openldap: files in {} ({})",
        o.layout.1.display(),
        o.layout.0
    ));
    report.notes.push(format!("openldap: {lib} build ({how})"));
    if lib == TlsLibrary::Gnutls {
        report.notes.push(format!(
            "openldap: {}",
            TargetVersions::describe("GnuTLS", opts.versions.gnutls.as_ref())
        ));
    }
    let profile = opts.profile;
    if let Some((f, l)) = &o.cn_config {
        cn_config::cn_config(f, l, root, lib, profile, opts, mode, report);
    }
    if let Some((f, c)) = &o.slapd_conf {
        slapd_conf::slapd_conf(f, c, root, lib, profile, opts, report);
    }
    if let Some((f, c)) = &o.ldap_conf {
        client::ldap_conf(f, c, root, lib, profile, opts, report);
    }
}

/// One server surface (cn=config or slapd.conf) as the server rules read
/// it: `get` gives a setting's value and line, `name` its name there.
struct Surface<'a> {
    get: &'a dyn Fn(Setting) -> Option<(String, usize)>,
    name: fn(Setting) -> &'static str,
    file: usize,
}

/// The server-side judgement shared by cn=config and slapd.conf: findings
/// pushed, wanted settings returned.
fn server_rules(
    s: &Surface,
    root: &Root,
    lib: TlsLibrary,
    profile: Profile,
    versions: &TargetVersions,
    report: &mut Report,
) -> Vec<(Finding, Want)> {
    let mut planned = Vec::new();
    // Template markup (issue 9, item 6) is reported, never judged or replaced.
    let templ = |st: Setting| {
        (s.get)(st).and_then(|(v, line)| {
            template::markup(&v, template::Format::Ldap).map(|k| (k, v, line))
        })
    };
    for (st, rule) in [
        (CERT, "openldap.certificate"),
        (KEY, "openldap.certificate"),
        (CIPHER, "openldap.cipher-suite"),
        (PROTO, "openldap.protocol-min"),
        (DH, "openldap.dh-params"),
    ] {
        if let Some((kind, v, line)) = templ(st) {
            let mut f = Finding::new(rule, crate::plan::Severity::Medium, s.file, line);
            f.current = Some(format!("{} {v}", (s.name)(st)).into());
            f.reason = template::reason(kind, "slapd").into();
            f.blocked = Some(template::BLOCKED.into());
            report.add_finding(f);
        }
    }
    let cert_line = match templ(CERT).or(templ(KEY)) {
        Some((_, _, line)) => line,
        None => match certificate::server(s, root, report) {
            Some(line) => line,
            None => return planned,
        },
    };
    if templ(DH).is_none() {
        dh_params::server(s, root, profile, report);
    }
    planned.extend(cipher_suite::server(
        s, lib, profile, versions, cert_line, report,
    ));
    planned.extend(protocol_min::server(s, lib, profile, cert_line, report));
    planned.retain(|(_, w)| templ(w.setting).is_none());
    planned
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
            .map(|(i, s)| (s.args(b).join(" "), f.source.line_of(s.span.start()), i))
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
    let at = after.map_or(fallback, |i| c.stmts[i].span.end());
    // The separator after the keyword: the neighbour's (a tab where it uses
    // tabs), else the file's first directive's.
    let sep_of = |s: &openldap_conf::Stmt| match &s.kind {
        Kind::Directive { keyword, args } if !args.is_empty() => {
            Some(&b[keyword.end()..args[0].start()])
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
