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
    checks: "The effective smtpd_tls_auth_only (main.cf, else Postfix's default `no`; master.cf `-o` too), read as Postfix reads a boolean (`yes` in any case).",
    writes: "`smtpd_tls_auth_only = yes`, in place or after the last TLS parameter, for every profile.",
    refuses: "Does not touch a templated value. A submission service's own `-o smtpd_tls_auth_only` belongs to postfix.submission.",
    versions: "Postfix 2.2 and later.",
    sources: &[
        "postconf(5), smtpd_tls_auth_only <https://www.postfix.org/postconf.5.html#smtpd_tls_auth_only>",
        "Postfix TLS_README, server-side TLS <https://www.postfix.org/TLS_README.html>",
        "RFC 3207, section 4.1 <https://www.rfc-editor.org/rfc/rfc3207#section-4.1>",
    ],
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
