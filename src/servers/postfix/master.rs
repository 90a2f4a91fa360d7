//! master.cf `-o` overrides that weaken a TLS parameter for one service:
//! judged by the rule that owns the parameter in main.cf (see
//! [`super::params`]), so this file holds no rule of its own.

use super::{Ctx, level_rank, params};
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
            let is_submission = super::submission::is_submission(b, s);
            for o in &s.overrides {
                let name = String::from_utf8_lossy(o.name.slice(b)).into_owned();
                let value =
                    self.inst
                        .expand(&String::from_utf8_lossy(o.value.slice(b)), self.version, 0);
                if is_submission && super::submission::OVERRIDES.iter().any(|(n, _)| *n == name) {
                    continue;
                }
                let verdict: Option<(&'static str, String, String)> = if let Some(p) =
                    ps.iter().find(|p| p.name == name)
                {
                    let wanted = p
                        .rewrite
                        .as_ref()
                        .map_or_else(|| p.wanted.clone(), |r| r(&value));
                    (!(p.judge)(&value)).then(|| (p.rule, wanted, p.reason.clone()))
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
                let mut f =
                    Finding::new(rule, Severity::High, file, mf.source.line_of(o.span.start));
                f.current = Some(format!("{} -o {name}={value}", s.id(b)));
                f.wanted = Some(format!("-o {name}={wanted}"));
                f.reason = format!(
                    "the {} service overrides main.cf with a weaker value: {reason}",
                    s.id(b)
                );
                let change = Change {
                    ldap: None,
                    rule,
                    reason: format!("{}: -o {name}={wanted}", s.id(b)),
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
