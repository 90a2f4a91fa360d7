//! `courier.ignored` and `courier.tls-library`: which TLS library couriertls
//! links decides which settings mean anything; the others are reported as
//! no-ops.

use super::{CourierConfig, Ctx};
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::discover::Root;
use crate::plan::Severity;
use crate::target::tlslib::{self, TlsLibrary};
use std::path::{Path, PathBuf};

pub const IGNORED: Rule = Rule {
    id: "courier.ignored",
    server: Server::Courier,
    severity: Severity::Low,
    activation: Activation::Default,
    summary: "a setting this build of couriertls ignores (no-op, audit only)",
    checks: "Settings the linked library never reads: on a GnuTLS build TLS_PROTOCOL, TLS_STARTTLS_PROTOCOL and TLS_CIPHER_LIST (a bare `$TLS_PROTOCOL` reference is skipped); on an OpenSSL build TLS_PRIORITY. libcouriergnutls.c reads TLS_PRIORITY only; libcouriertls.c reads TLS_PROTOCOL and TLS_CIPHER_LIST only.",
    writes: "Nothing: audit only (low severity).",
    refuses: "Always: a no-op harms nothing by itself, but it protects nothing either; remove it, or leave it for documentation. The setting that applies is judged by courier.priority or by courier.protocol and courier.ciphers.",
    versions: "Courier IMAP 4.x and 5.x (imapd and imapd-ssl as Debian, RHEL/EPEL and upstream install them), with either TLS library.",
    sources: &[
        "courier-libs tcpd/libcouriergnutls.c (GnuTLS build) <https://github.com/svarshavchik/courier-libs/blob/master/tcpd/libcouriergnutls.c>",
        "courier-libs tcpd/libcouriertls.c (OpenSSL build) <https://github.com/svarshavchik/courier-libs/blob/master/tcpd/libcouriertls.c>",
    ],
};

pub const TLS_LIBRARY: Rule = Rule {
    id: "courier.tls-library",
    server: Server::Courier,
    severity: Severity::Medium,
    activation: Activation::Default,
    summary: "the TLS library couriertls links could not be found (audit only)",
    checks: "Which TLS library couriertls links, read from the dynamic section of the couriertls binary under the root: COURIERTLS when it names an absolute path, else /usr/bin/couriertls, /usr/lib/courier/bin/couriertls, /usr/sbin/couriertls, /usr/libexec/courier/couriertls. --tls-library overrides it.",
    writes: "Nothing: audit only.",
    refuses: "Always: without the library tlsmend cannot tell which settings couriertls reads, so it judges and writes none of the protocol and cipher settings; pass --tls-library gnutls or --tls-library openssl.",
    versions: "Courier IMAP 4.x and 5.x (imapd and imapd-ssl as Debian, RHEL/EPEL and upstream install them), with either TLS library.",
    sources: &[
        "Courier couriertls(1) <https://www.courier-mta.org/couriertls.html>",
        "courier-libs tcpd/libcouriergnutls.c (GnuTLS build) <https://github.com/svarshavchik/courier-libs/blob/master/tcpd/libcouriergnutls.c>",
        "courier-libs tcpd/libcouriertls.c (OpenSSL build) <https://github.com/svarshavchik/courier-libs/blob/master/tcpd/libcouriertls.c>",
    ],
};

/// Which library couriertls uses, and how tlsmend knows.
pub fn detect_library(
    cfg: &CourierConfig,
    root: &Root,
    over: Option<TlsLibrary>,
) -> Option<(TlsLibrary, String)> {
    if let Some(l) = over {
        return Some((l, "--tls-library".into()));
    }
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(v) = cfg.value("COURIERTLS").filter(|v| v.starts_with('/')) {
        candidates.push(PathBuf::from(v));
    }
    for c in [
        "/usr/bin/couriertls",
        "/usr/lib/courier/bin/couriertls",
        "/usr/sbin/couriertls",
        "/usr/libexec/courier/couriertls",
    ] {
        candidates.push(PathBuf::from(c));
    }
    let refs: Vec<&Path> = candidates.iter().map(PathBuf::as_path).collect();
    tlslib::detect_in_root(root, &refs)
}

impl Ctx<'_> {
    pub(super) fn unknown_library(&mut self) {
        let last = self.cfg.last;
        let mut f = self.finding("courier.tls-library", Severity::Medium, last, 0);
        f.reason = "cannot tell whether couriertls uses GnuTLS or OpenSSL (no couriertls binary found); protocol and cipher settings were not checked".into();
        f.blocked = Some("pass --tls-library gnutls or --tls-library openssl".into());
        self.push(f, None);
    }

    pub(super) fn ignored(&mut self, name: &str, lib: &str, instead: &str) {
        for (f, a) in self.cfg.assignments(name) {
            let value = a.value_str(self.bytes(f));
            if value.is_empty() || value.starts_with('$') || self.cfg.value_of(f, a).is_none() {
                continue; // Debian's `TLS_STARTTLS_PROTOCOL="$TLS_PROTOCOL"` says nothing by itself
            }
            let mut finding = self.finding("courier.ignored", Severity::Low, f, a.name.start());
            finding.current = Some(value.into());
            finding.reason = format!(
                "this {lib} build of couriertls ignores {name}: it protects nothing; {instead} is what applies"
            ).into();
            finding.blocked = Some("no-op: remove it, or leave it for documentation".into());
            self.push(finding, None);
        }
    }
}
