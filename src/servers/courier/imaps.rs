//! `courier.imaps-off`: the 2017 article's "comment out IMAPDSSLSTART",
//! which switches off implicit TLS on port 993. RFC 8314 prefers 993, so
//! the rule is opt-in (`--with courier.imaps-off`, or offered last in the
//! interactive review with the default answer no).

use super::Ctx;
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::edit::Patch;
use crate::plan::{Change, Severity};

pub const IMAPS_OFF: Rule = Rule {
    id: "courier.imaps-off",
    server: Server::Courier,
    severity: Severity::Low,
    activation: Activation::OptIn,
    summary: "IMAPDSSLSTART commented out, as the 2017 article asks: switches off IMAPS on 993, which RFC 8314 prefers (opt-in)",
    checks: "IMAPDSSLSTART=YES (any case), which starts imapd-ssl: implicit TLS on port 993. The 2017 article asks to comment it out and leave only STARTTLS on 143; RFC 8314 (2018) prefers implicit TLS for mail access, so this rule is opt-in: it runs only with --with courier.imaps-off, and the interactive review offers its change after the profile's, with the default answer no.",
    writes: "`#` before IMAPDSSLSTART=YES (the line is commented out, its bytes kept), for every profile and TLS library; only when asked for.",
    refuses: "Never writes unless asked for (--with courier.imaps-off, or y in the review). It does not touch an IMAPDSSLSTART that is already NO or commented out.",
    versions: "Courier IMAP 4.x and 5.x (imapd and imapd-ssl as Debian, RHEL/EPEL and upstream install them), with either TLS library.",
    sources: &[
        "RFC 8314, Cleartext Considered Obsolete <https://www.rfc-editor.org/rfc/rfc8314>",
        "Courier imapd(8) <https://www.courier-mta.org/imap/imapd.html>",
    ],
};

impl Ctx<'_> {
    pub(super) fn imaps_off(&mut self) {
        for (f, a) in self.cfg.assignments("IMAPDSSLSTART") {
            let b = self.bytes(f);
            if !a.value_str(b).eq_ignore_ascii_case("YES") {
                continue;
            }
            let mut finding = self.finding("courier.imaps-off", Severity::Low, f, a.name.start());
            finding.current = Some("IMAPDSSLSTART=YES".into());
            finding.wanted = Some("#IMAPDSSLSTART=YES (commented out)".into());
            finding.reason = "the 2017 article asks to leave only STARTTLS on port 143; RFC 8314 prefers implicit TLS on 993 (IMAPS) over STARTTLS, so this switches off the preferred port: opt-in, not part of any profile".into();
            let file = finding.file;
            let change = Change {
                ldap: None,
                rule: "courier.imaps-off",
                reason: "comment out IMAPDSSLSTART so imapd-ssl no longer starts on 993; note that RFC 8314 prefers implicit TLS on 993 over STARTTLS on 143, so most setups should answer no".into(),
                edits: vec![(file, Patch::insert(a.name.start(), "#"))],
            };
            self.push(finding, Some(change));
        }
    }
}
