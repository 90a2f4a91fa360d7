//! `courier.starttls` and `courier.tls-required`: STARTTLS offered on port
//! 143, and no login before it.

use super::{Ctx, Var};
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::plan::Severity;

pub const STARTTLS: Rule = Rule {
    id: "courier.starttls",
    server: Server::Courier,
    severity: Severity::High,
    activation: Activation::Default,
    summary: "IMAPDSTARTTLS=YES",
    checks: "IMAPDSTARTTLS as the start script sees it: imapd is sourced first and imapd-ssl last, so the last assignment wins; the value must be YES (any case). Absent means port 143 offers no STARTTLS and every login there is in clear text.",
    writes: "IMAPDSTARTTLS=YES, for every profile and TLS library: the value is replaced in place (its quotes kept) or, when absent, added to imapd-ssl by uncommenting a `#IMAPDSTARTTLS=` line, else after its `##NAME: IMAPDSTARTTLS` section, else at the end of the file.",
    refuses: "Never: every profile and build wants STARTTLS on port 143.",
    versions: "Courier IMAP 4.x and 5.x (imapd and imapd-ssl as Debian, RHEL/EPEL and upstream install them), with either TLS library.",
    sources: &[
        "Courier imapd(8) <https://www.courier-mta.org/imap/imapd.html>",
        "RFC 8314, Cleartext Considered Obsolete <https://www.rfc-editor.org/rfc/rfc8314>",
    ],
};

pub const TLS_REQUIRED: Rule = Rule {
    id: "courier.tls-required",
    server: Server::Courier,
    severity: Severity::High,
    activation: Activation::Default,
    summary: "IMAP_TLS_REQUIRED=1: no login before STARTTLS",
    checks: "IMAP_TLS_REQUIRED, last assignment wins; only 1 counts. Absent or 0: imapd accepts LOGIN and AUTHENTICATE on port 143 before STARTTLS, so passwords cross the network in clear text. It matters only when Courier can do TLS at all (COURIERTLS and TLS_CERTFILE set; courier.certificate reports a missing TLS_CERTFILE).",
    writes: "IMAP_TLS_REQUIRED=1, for every profile and TLS library, in place or added to imapd-ssl as courier.starttls does.",
    refuses: "Never.",
    versions: "Courier IMAP 4.x and 5.x (imapd and imapd-ssl as Debian, RHEL/EPEL and upstream install them), with either TLS library.",
    sources: &[
        "Courier imapd(8) <https://www.courier-mta.org/imap/imapd.html>",
        "RFC 8314, Cleartext Considered Obsolete <https://www.rfc-editor.org/rfc/rfc8314>",
    ],
};

impl Ctx<'_> {
    pub(super) fn starttls(&mut self) {
        let yes = |v: &str| v.eq_ignore_ascii_case("YES");
        self.var(&Var {
            rule: "courier.starttls",
            name: "IMAPDSTARTTLS",
            wanted: "YES".into(),
            default_ok: false,
            judge: &yes,
            severity: Severity::High,
            reason: "without STARTTLS on port 143, logins there travel in clear text".into(),
            explain: None,
            absent_reason: "IMAPDSTARTTLS is not set, so port 143 offers no STARTTLS".into(),
        });
        let one = |v: &str| v == "1";
        self.var(&Var {
            rule: "courier.tls-required",
            name: "IMAP_TLS_REQUIRED",
            wanted: "1".into(),
            default_ok: false,
            judge: &one,
            severity: Severity::High,
            reason:
                "clients may log in on port 143 before STARTTLS, sending passwords in clear text"
                    .into(),
            explain: None,
            absent_reason: "IMAP_TLS_REQUIRED defaults to 0: clients may log in before STARTTLS"
                .into(),
        });
    }
}
