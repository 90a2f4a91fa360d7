//! `courier.line-endings`: the start scripts source these files with sh,
//! which keeps a CR at the end of every value.

use super::Ctx;
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::plan::Severity;

pub const LINE_ENDINGS: Rule = Rule {
    id: "courier.line-endings",
    server: Server::Courier,
    severity: Severity::High,
    activation: Activation::Default,
    summary: "CRLF line endings: sh keeps the CR in every value (audit only)",
    checks: "Each Courier file for a CR LF pair. The start scripts source the files with sh, which keeps the CR at the end of every value: TLS_PRIORITY and file names then carry a stray CR and every handshake fails while imapd still listens.",
    writes: "Nothing: audit only.",
    refuses: "Always: converting the line endings rewrites every line of the file; run dos2unix on it, then tlsmend again.",
    versions: "Courier IMAP 4.x and 5.x (imapd and imapd-ssl as Debian, RHEL/EPEL and upstream install them), with either TLS library.",
    sources: &[
        "Courier imapd(8) <https://www.courier-mta.org/imap/imapd.html>",
        "POSIX sh, Token Recognition <https://pubs.opengroup.org/onlinepubs/9799919799/utilities/V3_chap02.html>",
    ],
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
