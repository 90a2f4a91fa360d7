//! `postfix.smtpd-auth-only`: no SMTP AUTH before STARTTLS.

use super::Param;
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::plan::Severity;

pub const SMTPD_AUTH_ONLY: Rule = Rule {
    id: "postfix.smtpd-auth-only",
    server: Server::Postfix,
    severity: Severity::Medium,
    activation: Activation::Default,
    summary: "smtpd_tls_auth_only = yes: no AUTH before STARTTLS",
    checks: "",
    writes: "",
    refuses: "",
    versions: "",
    sources: &[],
};

pub(super) fn params() -> Vec<Param> {
    vec![Param {
        rule: "postfix.smtpd-auth-only",
        name: "smtpd_tls_auth_only",
        wanted: "yes".into(),
        rewrite: None,
        judge: Box::new(|val| val.trim().eq_ignore_ascii_case("yes")),
        severity: Severity::High,
        reason:
            "SMTP AUTH is offered before STARTTLS, so passwords can cross the network in clear text"
                .into(),
    }]
}
