//! master.cf `-o` overrides that weaken a TLS parameter for one service:
//! judged by the rule that owns the parameter in main.cf (see
//! [`super::params`]), so this file holds no rule of its own.

use super::{Ctx, level_rank, params, templated};
use crate::catalogue::profile::Profile;
use crate::edit::Patch;
use crate::plan::{Change, Finding, Severity};
use crate::syntax::postfix_master::Override;

impl Ctx<'_> {
    /// A `-o` that overrides a TLS parameter with something weaker, on any
    /// active service (the submission service's own values are its rule's).
    pub(super) fn service_overrides(&mut self, profile: Profile) {
        let Some((mf, m)) = &self.inst.master else {
            return;
        };
        let b = &mf.source.bytes;
        let file = self.report.file(mf);
        let ps = params(profile, self.version);
        for s in m.services.iter().filter(|s| !s.commented() && s.valid()) {
            let own = super::submission::own_overrides(b, s);
            for o in &s.overrides {
                let name = String::from_utf8_lossy(o.name.slice(b)).into_owned();
                let value =
                    self.inst
                        .expand(&String::from_utf8_lossy(o.value.slice(b)), self.version, 0);
                if own.iter().any(|(n, _)| *n == name) {
                    continue;
                }
                let raw = String::from_utf8_lossy(o.value.slice(b)).into_owned();
                if templated(&raw) || templated(&value) {
                    let rule = match name.as_str() {
                        "smtpd_tls_security_level" => Some("postfix.smtpd-security-level"),
                        "smtp_tls_security_level" => Some("postfix.smtp-security-level"),
                        n => ps.iter().find(|p| p.name == n).map(|p| p.rule),
                    };
                    if let Some(rule) = rule {
                        let line = mf.source.line_of(o.span.start());
                        self.templated_finding(
                            rule,
                            file,
                            line,
                            format!("{} -o {name}={raw}", s.id(b)),
                        );
                    }
                    continue;
                }
                // Several rules may judge one parameter (syntax, then
                // strength): the first that finds it wanting owns it.
                let verdict: Option<(&'static str, String, String)> = if ps
                    .iter()
                    .any(|p| p.name == name)
                {
                    ps.iter()
                        .filter(|p| p.name == name)
                        .find(|p| !(p.judge)(&value))
                        .map(|p| {
                            let wanted = p
                                .rewrite
                                .as_ref()
                                .map_or_else(|| p.wanted.clone(), |r| r(&value));
                            (p.rule, wanted, p.reason.clone())
                        })
                } else if name == "smtpd_tls_security_level"
                    && super::levels::is_public_smtp(b, s)
                    && level_rank(&value).is_some_and(|r| r >= super::levels::ENCRYPT)
                {
                    let line = mf.source.line_of(o.span.start());
                    self.port_25_requires_tls(file, line, format!("{} -o {name}={raw}", s.id(b)));
                    None
                } else if name == "smtpd_tls_security_level" || name == "smtp_tls_security_level" {
                    let rule = if name.starts_with("smtpd") {
                        "postfix.smtpd-security-level"
                    } else {
                        "postfix.smtp-security-level"
                    };
                    (level_rank(&value).is_none_or(|r| r < 1)).then(|| {
                        (
                            rule,
                            "may".to_string(),
                            "this service turns TLS off".to_string(),
                        )
                    })
                } else {
                    None
                };
                let Some((rule, wanted, reason)) = verdict else {
                    continue;
                };
                let mut f = Finding::new(
                    rule,
                    Severity::High,
                    file,
                    mf.source.line_of(o.span.start()),
                );
                f.current = Some(format!("{} -o {name}={value}", s.id(b)).into());
                f.wanted = Some(format!("-o {name}={wanted}").into());
                f.reason = format!(
                    "the {} service overrides main.cf with a weaker value: {reason}",
                    s.id(b)
                )
                .into();
                let change = Change {
                    ldap: None,
                    rule,
                    reason: format!("{}: -o {name}={wanted}", s.id(b)).into(),
                    edits: vec![(file, Patch::replace(o.value, override_value(o, &wanted)))],
                };
                self.push(f, Some(change));
            }
        }
    }
}

/// A value fit for `-o`: outside braces it may hold no blank, and Postfix
/// lists are as good with bare commas.
pub(super) fn override_value(o: &Override, value: &str) -> String {
    if o.braced {
        value.to_string()
    } else {
        value.split_whitespace().collect::<Vec<_>>().join("")
    }
}
