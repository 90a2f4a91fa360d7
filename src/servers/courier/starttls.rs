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
    summary: "IMAPDSTARTTLS=YES (POP3: POP3_STARTTLS=YES)",
    checks: "IMAPDSTARTTLS (POP3: POP3_STARTTLS) as the start script sees it: imapd is sourced first and imapd-ssl last (pop3d, then pop3d-ssl), files they source with `.` where the `.` line stands, so the last assignment wins; the value must be YES (any case). Absent means port 143 (110) offers no STARTTLS and every login there is in clear text. A value that runs a command ($(...), backquotes) is reported as impossible to judge, never run.",
    writes: "IMAPDSTARTTLS=YES (POP3_STARTTLS=YES), for every profile and TLS library: the value is replaced in place (its quotes kept) or, when absent, added to imapd-ssl (pop3d-ssl) by uncommenting a `#IMAPDSTARTTLS=` line, else after its `##NAME: IMAPDSTARTTLS` section, else at the end of the file.",
    refuses: "When Courier has no TLS set up (COURIERTLS or TLS_CERTFILE not set): the finding says what is missing and nothing is written, for no TLS setting can take effect there. A value that runs a command is reported, not replaced.",
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
    summary: "IMAP_TLS_REQUIRED=1 (POP3: POP3_TLS_REQUIRED=1): no login before STARTTLS",
    checks: "IMAP_TLS_REQUIRED (POP3: POP3_TLS_REQUIRED), last assignment wins; only 1 counts. Absent or 0: imapd accepts LOGIN and AUTHENTICATE on port 143 before STARTTLS, so passwords cross the network in clear text. It matters only when Courier can do TLS at all (COURIERTLS and TLS_CERTFILE set; courier.certificate reports a missing TLS_CERTFILE).",
    writes: "IMAP_TLS_REQUIRED=1 (POP3_TLS_REQUIRED=1), for every profile and TLS library, in place or added to imapd-ssl (pop3d-ssl) as courier.starttls does.",
    refuses: "When Courier has no TLS set up (COURIERTLS or TLS_CERTFILE not set): Courier would ignore the setting and logins would stay in clear text, so courier.starttls reports what is missing and nothing is written.",
    versions: "Courier IMAP 4.x and 5.x (imapd and imapd-ssl as Debian, RHEL/EPEL and upstream install them), with either TLS library.",
    sources: &[
        "Courier imapd(8) <https://www.courier-mta.org/imap/imapd.html>",
        "RFC 8314, Cleartext Considered Obsolete <https://www.rfc-editor.org/rfc/rfc8314>",
    ],
};

impl Ctx<'_> {
    pub(super) fn starttls(&mut self) {
        let service = self.cfg.service;
        let yes = |v: &str| v.eq_ignore_ascii_case("YES");
        self.var(&Var {
            rule: "courier.starttls",
            name: service.starttls,
            wanted: "YES".into(),
            default_ok: false,
            judge: &yes,
            severity: Severity::High,
            reason: format!(
                "without STARTTLS on the plain {} port, logins there travel in clear text",
                service.name
            ),
            explain: None,
            absent_reason: format!(
                "{} is not set, so the plain {} port offers no STARTTLS",
                service.starttls, service.name
            ),
        });
        let one = |v: &str| v == "1";
        self.var(&Var {
            rule: "courier.tls-required",
            name: service.tls_required,
            wanted: "1".into(),
            default_ok: false,
            judge: &one,
            severity: Severity::High,
            reason: format!(
                "clients may log in on the plain {} port before STARTTLS, sending passwords in clear text",
                service.name
            ),
            explain: None,
            absent_reason: format!(
                "{} defaults to 0: clients may log in before STARTTLS",
                service.tls_required
            ),
        });
    }
}
