//! `openldap.tls-library`: which TLS library slapd and libldap link, found
//! in the binaries of the root; every other rule's values depend on it.

use crate::catalogue::rule::{Activation, Rule, Server};
use crate::discover::Root;
use crate::plan::{Finding, Report, Severity};
use crate::target::tlslib::{self, TlsLibrary};
use std::path::Path;

pub const TLS_LIBRARY: Rule = Rule {
    id: "openldap.tls-library",
    server: Server::Openldap,
    severity: Severity::Medium,
    activation: Activation::Default,
    summary: "the TLS library slapd and libldap use could not be found (audit only)",
    checks: "Which TLS library slapd and libldap link, read from the dynamic section of /usr/sbin/slapd, /usr/libexec/slapd, /usr/lib/openldap/slapd, /usr/bin/ldapsearch or /usr/bin/ldapwhoami under the root. --tls-library overrides it.",
    writes: "Nothing: audit only.",
    refuses: "Always: the cipher setting's dialect depends on the library (a value of the wrong one makes slapd fail), so without it nothing is judged or written; pass --tls-library gnutls or --tls-library openssl.",
    versions: "OpenLDAP 2.4 to 2.6, linked with GnuTLS (Debian, Ubuntu) or OpenSSL (RHEL, SUSE, upstream default).",
    sources: &[
        "slapd-config(5) <https://www.openldap.org/software/man.cgi?query=slapd-config>",
        "OpenLDAP libraries/libldap/tls_g.c (GnuTLS backend) <https://git.openldap.org/openldap/openldap/-/blob/master/libraries/libldap/tls_g.c>",
        "OpenLDAP libraries/libldap/tls_o.c (OpenSSL backend) <https://git.openldap.org/openldap/openldap/-/blob/master/libraries/libldap/tls_o.c>",
    ],
};

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

/// The finding when no binary tells the library: nothing else is checked.
pub(super) fn unknown(o: &super::OpenLdap, report: &mut Report) {
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
        report.add_finding(f);
    }
}
