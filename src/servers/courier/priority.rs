//! `courier.priority`: on a GnuTLS build of couriertls, `TLS_PRIORITY` is
//! the only protocol and cipher control; a string in the wrong dialect
//! fails every handshake.

use super::{Ctx, Var};
use crate::catalogue::profile::{Priority, Profile, read_priority};
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::edit::Patch;
use crate::plan::{Change, Severity};
use crate::target::versions::TargetVersions;

pub const PRIORITY: Rule = Rule {
    id: "courier.priority",
    server: Server::Courier,
    severity: Severity::High,
    activation: Activation::Default,
    summary: "GnuTLS builds: TLS_PRIORITY allows only the profile's versions and is a GnuTLS string",
    checks: "On a GnuTLS build of couriertls, TLS_PRIORITY is the only protocol and cipher control (TLS_PROTOCOL and TLS_CIPHER_LIST are not read). The string is read as GnuTLS reads it: a base keyword (NORMAL, SECURE128, ...) then +/- items; every protocol version it leaves enabled must be in the profile. A value that is not a GnuTLS priority string (an OpenSSL cipher list such as HIGH:!aNULL, the 2017 article's advice) is broken: GnuTLS rejects it and every handshake fails while imapd still listens. Absent: couriertls uses NORMAL:-CTYPE-OPENPGP, which accepts TLS 1.0 and 1.1.",
    writes: "TLS_PRIORITY set to the profile's GnuTLS string: intermediate NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-RSA:+ECDHE-ECDSA; modern NORMAL:-VERS-ALL:+VERS-TLS1.3; old: nothing when absent (the default already allows TLS 1.0), the old string over a broken one. A broken value is replaced whatever the profile. An existing string that already leaves out the versions below the profile's floor (NORMAL:-VERS-TLS1.0:-VERS-TLS1.1 for intermediate) is kept. On a GnuTLS older than 3.6, or of unknown version (--gnutls-version names it), strings naming no VERS-TLS1.3: intermediate NORMAL:-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1, old NORMAL:-VERS-SSL3.0.",
    refuses: "modern on a GnuTLS older than 3.6 or of unknown version: reported, nothing written (modern is TLS 1.3 only and such a GnuTLS rejects VERS-TLS1.3). Otherwise never on a GnuTLS build. It does not run on an OpenSSL build (TLS_PRIORITY is ignored there: courier.ignored) or when the library is unknown (courier.tls-library).",
    versions: "couriertls linked with GnuTLS (Debian, Ubuntu). VERS-TLS1.3 needs GnuTLS 3.6 or later.",
    sources: &[
        "courier-libs tcpd/libcouriergnutls.c (GnuTLS build) <https://github.com/svarshavchik/courier-libs/blob/master/tcpd/libcouriergnutls.c>",
        "GnuTLS manual, Priority strings <https://www.gnutls.org/manual/html_node/Priority-Strings.html>",
        "RFC 8996, Deprecating TLS 1.0 and TLS 1.1 <https://www.rfc-editor.org/rfc/rfc8996>",
        "Mozilla server-side TLS guidelines 6.0 <https://ssl-config.mozilla.org/guidelines/6.0.json>",
    ],
};

impl Ctx<'_> {
    pub(super) fn gnutls(&mut self, profile: Profile, versions: &TargetVersions) {
        let judge = move |v: &str| matches!(read_priority(v), Priority::Gnutls(vs) if !vs.is_empty() && vs.iter().all(|&x| profile.allows(x)));
        self.report.notes.push(format!(
            "courier: {}",
            TargetVersions::describe("GnuTLS", versions.gnutls.as_ref())
        ));
        // VERS-TLS1.3 only for a GnuTLS known to be 3.6+: an older one
        // rejects the whole string and every handshake fails.
        let (wanted, note) = match profile.gnutls_priority_for(&versions.gnutls_tls13()) {
            Ok((w, note)) => (w, note.map(|n| format!(" ({n})")).unwrap_or_default()),
            Err(why) => {
                let found = self.cfg.assignments("TLS_PRIORITY");
                let weak: Vec<_> = found
                    .iter()
                    .filter(|(f, a)| !judge(&a.value_str(self.bytes(*f))))
                    .map(|&(f, a)| (f, a.name.start(), Some(a.value_str(self.bytes(f)))))
                    .collect();
                let weak = if found.is_empty() {
                    vec![(self.cfg.last, 0, None)]
                } else {
                    weak
                };
                for (f, at, current) in weak {
                    let mut finding = self.finding("courier.priority", Severity::High, f, at);
                    finding.reason = match &current {
                        Some(v) if read_priority(v) == Priority::WrongDialect => "this is not a GnuTLS priority string (it reads like an OpenSSL cipher list): GnuTLS rejects it and every TLS handshake fails while imapd still listens".into(),
                        Some(_) => format!("the priority string allows protocol versions outside the {} profile", profile.name()).into(),
                        None => "TLS_PRIORITY is not set, so GnuTLS's NORMAL priority accepts TLS 1.0 and 1.1 on 993 and STARTTLS".into(),
                    };
                    finding.current = current.map(Into::into);
                    finding.wanted = Some(profile.gnutls_priority().into());
                    finding.blocked = Some(why.clone());
                    self.push(finding, None);
                }
                return;
            }
        };
        // A wrong-dialect value is worse than weak: say so on its own.
        for (f, a) in self.cfg.assignments("TLS_PRIORITY") {
            let value = a.value_str(self.bytes(f));
            // A command substitution or template is reported by `var`.
            if self.cfg.value_of(f, a).is_some() && read_priority(&value) == Priority::WrongDialect
            {
                let mut finding =
                    self.finding("courier.priority", Severity::High, f, a.name.start());
                finding.current = Some(value.into());
                finding.wanted = Some(wanted.into());
                finding.reason = format!(
                    "this is not a GnuTLS priority string (it reads like an OpenSSL cipher list): GnuTLS rejects it and every TLS handshake fails while imapd still listens{note}"
                ).into();
                let file = finding.file;
                let text = Self::render(wanted, a.quote(self.bytes(f)));
                let change = Change {
                    ldap: None,
                    rule: "courier.priority",
                    reason: "replace a broken priority string with the profile's GnuTLS string"
                        .into(),
                    edits: vec![(file, Patch::replace(a.value, text))],
                };
                self.push(finding, Some(change));
            }
        }
        let not_broken_but_weak =
            move |v: &str| read_priority(v) == Priority::WrongDialect || judge(v);
        self.var(&Var {
            rule: "courier.priority",
            name: "TLS_PRIORITY",
            wanted: wanted.into(),
            default_ok: profile == Profile::Old,
            judge: &not_broken_but_weak,
            severity: Severity::High,
            reason: format!("the priority string allows protocol versions outside the {} profile{note}", profile.name()),
            explain: None,
            absent_reason: format!("TLS_PRIORITY is not set, so GnuTLS's NORMAL priority accepts TLS 1.0 and 1.1 on 993 and STARTTLS; on this GnuTLS build TLS_PROTOCOL and TLS_CIPHER_LIST (the 2017 article's advice) are ignored{note}"),
        });
    }
}
