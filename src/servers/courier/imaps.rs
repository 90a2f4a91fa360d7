//! `courier.imaps-off`: the 2017 article's "comment out IMAPDSSLSTART",
//! which switches off implicit TLS on port 993.

use super::Ctx;
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::edit::Patch;
use crate::plan::{Change, Severity};

pub const IMAPS_OFF: Rule = Rule {
    id: "courier.imaps-off",
    server: Server::Courier,
    severity: Severity::Low,
    activation: Activation::Default,
    summary: "IMAPDSSLSTART commented out, as the article asks (RFC 8314 prefers 993: --skip it to keep)",
    checks: "",
    writes: "",
    refuses: "",
    versions: "",
    sources: &[],
};

impl Ctx<'_> {
    pub(super) fn imaps_off(&mut self) {
        for (f, a) in self.cfg.assignments("IMAPDSSLSTART") {
            let b = self.bytes(f);
            if !a.value_str(b).eq_ignore_ascii_case("YES") {
                continue;
            }
            let mut finding = self.finding("courier.imaps-off", Severity::Low, f, a.name.start);
            finding.current = Some("IMAPDSSLSTART=YES".into());
            finding.wanted = Some("#IMAPDSSLSTART=YES (commented out)".into());
            finding.reason = "the article asks to leave only STARTTLS on port 143; note that RFC 8314 recommends implicit TLS on 993 instead: keep it with --skip courier.imaps-off".into();
            let file = finding.file;
            let change = Change {
                ldap: None,
                rule: "courier.imaps-off",
                reason: "comment out IMAPDSSLSTART so imapd-ssl no longer starts on 993 (RFC 8314 prefers 993: --skip courier.imaps-off keeps it)".into(),
                edits: vec![(file, Patch::insert(a.name.start, "#"))],
            };
            self.push(finding, Some(change));
        }
    }
}
