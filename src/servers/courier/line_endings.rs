//! `courier.line-endings`: the start scripts source these files with sh,
//! which keeps a CR at the end of every value.

use super::Ctx;
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::plan::Severity;

pub const LINE_ENDINGS: Rule = Rule {
    id: "courier.line-endings",
    server: Server::Courier,
    severity: Severity::Medium,
    activation: Activation::Default,
    summary: "CRLF line endings: sh keeps the CR in every value (audit only)",
    checks: "",
    writes: "",
    refuses: "",
    versions: "",
    sources: &[],
};

impl Ctx<'_> {
    /// The start scripts source these files with sh, which keeps a CR at
    /// the end of every value: `TLS_PRIORITY` then fails every handshake.
    pub(super) fn line_endings(&mut self) {
        for f in 0..self.cfg.files.len() {
            let b = self.bytes(f);
            let Some(at) = b.windows(2).position(|w| w == b"\r\n") else {
                continue;
            };
            let mut finding = self.finding("courier.line-endings", Severity::High, f, at);
            finding.reason = "this file has CRLF line endings: sh keeps the CR in every value, so TLS_PRIORITY and paths are wrong and every TLS handshake fails while imapd still listens".into();
            finding.blocked = Some("audit only: convert the file to LF line endings (dos2unix), then run tlsmend again".into());
            self.push(finding, None);
        }
    }
}
