//! `courier.starttls` and `courier.tls-required`: STARTTLS offered on port
//! 143, and no login before it.

use super::{Ctx, Var};
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::plan::Severity;

pub const STARTTLS: Rule = Rule {
    id: "courier.starttls",
    server: Server::Courier,
    severity: Severity::Medium,
    activation: Activation::Default,
    summary: "IMAPDSTARTTLS=YES",
    checks: "",
    writes: "",
    refuses: "",
    versions: "",
    sources: &[],
};

pub const TLS_REQUIRED: Rule = Rule {
    id: "courier.tls-required",
    server: Server::Courier,
    severity: Severity::Medium,
    activation: Activation::Default,
    summary: "IMAP_TLS_REQUIRED=1: no login before STARTTLS",
    checks: "",
    writes: "",
    refuses: "",
    versions: "",
    sources: &[],
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
            absent_reason: "IMAP_TLS_REQUIRED defaults to 0: clients may log in before STARTTLS"
                .into(),
        });
    }
}
