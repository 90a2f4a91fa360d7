//! `courier.certificate` and `courier.weak-key`: the files couriertls reads
//! its key, certificate and trusted CAs from.

use super::Ctx;
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::plan::Severity;
use std::path::Path;

pub const CERTIFICATE: Rule = Rule {
    id: "courier.certificate",
    server: Server::Courier,
    severity: Severity::Medium,
    activation: Activation::Default,
    summary: "TLS_CERTFILE and TLS_TRUSTCERTS set and readable (audit only)",
    checks: "TLS_CERTFILE (the server's key and certificate in one PEM file) and TLS_TRUSTCERTS (CA certificates, a file or a directory) are set, and readable under the root. A missing or unreadable TLS_CERTFILE makes couriertls fail every handshake.",
    writes: "Nothing: audit only.",
    refuses: "Always: tlsmend does not issue, move or re-own certificates; point the setting at a readable file.",
    versions: "Courier IMAP 4.x and 5.x (imapd and imapd-ssl as Debian, RHEL/EPEL and upstream install them), with either TLS library.",
    sources: &[
        "Courier couriertls(1) <https://www.courier-mta.org/couriertls.html>",
        "Courier imapd(8) <https://www.courier-mta.org/imap/imapd.html>",
    ],
};

pub const WEAK_KEY: Rule = Rule {
    id: "courier.weak-key",
    server: Server::Courier,
    severity: Severity::High,
    activation: Activation::Default,
    summary: "certificate key of at least 2048 bits RSA or 256 bits EC (audit only)",
    checks: "The key of the certificate in TLS_CERTFILE: RSA below 2048 bits or EC below 256 bits is reported (the profiles' minimums, all three).",
    writes: "Nothing: audit only.",
    refuses: "Always: a longer key means a new key and certificate, which only their owner can issue.",
    versions: "Courier IMAP 4.x and 5.x (imapd and imapd-ssl as Debian, RHEL/EPEL and upstream install them), with either TLS library.",
    sources: &[
        "Courier couriertls(1) <https://www.courier-mta.org/couriertls.html>",
        "Mozilla server-side TLS guidelines 6.0 <https://ssl-config.mozilla.org/guidelines/6.0.json>",
        "NIST SP 800-57 Part 1 Rev. 5, key sizes <https://doi.org/10.6028/NIST.SP.800-57pt1r5>",
    ],
};

impl Ctx<'_> {
    pub(super) fn certificates(&mut self) {
        for (name, rule_reason) in [
            ("TLS_CERTFILE", "the server certificate and key"),
            (
                "TLS_TRUSTCERTS",
                "the trusted CA certificates (needed to verify client certificates)",
            ),
        ] {
            let last = self.cfg.last;
            let found = self
                .cfg
                .assignments(name)
                .last()
                .map(|&(f, a)| (f, a, self.cfg.value_of(f, a)));
            let found = match found {
                Some((f, a, None)) => {
                    self.unjudgeable("courier.certificate", Severity::Medium, f, a);
                    continue;
                }
                Some((f, a, Some(v))) => Some((f, a.name.start(), v)),
                None => None,
            };
            let Some((f, at, value)) = found else {
                let mut finding = self.finding("courier.certificate", Severity::Medium, last, 0);
                finding.reason =
                    format!("{name} is not set: couriertls lacks {rule_reason}").into();
                finding.blocked = Some(format!("audit only: set {name} to a readable file"));
                self.push(finding, None);
                continue;
            };
            let host = self
                .root
                .resolve(Path::new(&value))
                .map(|p| self.root.host(&p));
            let readable = host.as_ref().is_ok_and(|h| {
                std::fs::metadata(h).is_ok() && (h.is_dir() || std::fs::File::open(h).is_ok())
            });
            if !readable {
                let mut finding = self.finding("courier.certificate", Severity::Medium, f, at);
                finding.current = Some(value.clone().into());
                finding.reason =
                    format!("{name} names {value}, which does not exist or cannot be read").into();
                finding.blocked = Some("audit only: point it at a readable file".into());
                self.push(finding, None);
                continue;
            }
            if name != "TLS_CERTFILE" {
                continue;
            }
            let Ok(host) = host else { continue };
            if let Ok(info) = crate::target::cert::read(&host)
                && info.is_weak()
            {
                let file = self.report.file(&self.cfg.files[f].0);
                let line = self.cfg.files[f].0.source.line_of(at);
                let why = "GnuTLS serves this key even with a hardened priority string; a key this small can be factored";
                let finding =
                    crate::servers::weak_key("courier.weak-key", file, line, &value, &info, why);
                self.push(finding, None);
            }
        }
    }
}
