//! Courier without TLS set up (issue 9, item 5): with neither `COURIERTLS`
//! nor `TLS_CERTFILE`, imapd and pop3d cannot start TLS at all, so
//! `IMAP_TLS_REQUIRED=1` and the other settings tlsmend writes would be read
//! by nothing while logins stay in clear text. As the Postfix rules do, say
//! what is missing and plan nothing that cannot take effect.

use super::Ctx;
use crate::plan::Severity;

impl Ctx<'_> {
    /// Whether the service can do TLS; when not, reports why (under
    /// `courier.starttls`, blocked) and the caller plans no TLS setting.
    pub(super) fn tls_set_up(&mut self) -> bool {
        let service = self.cfg.service;
        let missing: Vec<&str> = ["COURIERTLS", "TLS_CERTFILE"]
            .into_iter()
            .filter(|n| {
                !self.cfg.runs_command(n) && self.cfg.value(n).is_none_or(|v| v.trim().is_empty())
            })
            .collect();
        // One of the two set is a half set-up that courier.certificate
        // reports; neither is no TLS at all.
        if missing.len() < 2 {
            return true;
        }
        let last = self.cfg.last;
        let mut f = self.finding("courier.starttls", Severity::High, last, 0);
        let files: Vec<String> = self
            .cfg
            .files
            .iter()
            .map(|(c, _)| c.shown().display().to_string())
            .collect();
        f.current = Some(format!("{} not set", missing.join(" and ")).into());
        f.reason = format!(
            "Courier {} has no TLS set up ({} not set in {}): it cannot offer STARTTLS, and {}=1 or any TLS_* setting would be ignored while logins stay in clear text",
            service.name,
            missing.join(" and "),
            files.join(", "),
            service.tls_required
        ).into();
        f.blocked = Some(format!(
            "set up TLS first: set COURIERTLS to the couriertls binary and TLS_CERTFILE to the certificate and key (Courier keeps them in {}), then run tlsmend again",
            service.files[1]
        ));
        self.push(f, None);
        false
    }
}
