//! The TLS security levels of the SMTP server and client
//! (`postfix.smtpd-security-level`, `postfix.smtp-security-level`):
//! `smtpd_tls_security_level` and `smtp_tls_security_level`, with the legacy
//! `*_use_tls`/`*_enforce_tls` they replace.

use crate::catalogue::rule::{Activation, Rule, Server};
use crate::plan::{Change, Finding, Severity};
use crate::syntax::postfix_master::Service;

pub const SMTPD_SECURITY_LEVEL: Rule = Rule {
    id: "postfix.smtpd-security-level",
    server: Server::Postfix,
    severity: Severity::Medium,
    activation: Activation::Default,
    summary: "smtpd_tls_security_level at least may (encrypt stays); encrypt on the public port 25 is reported",
    checks: "The effective smtpd_tls_security_level: the last definition in main.cf, else the legacy smtpd_enforce_tls (encrypt) or smtpd_use_tls (may), else Postfix's empty default (no TLS), and each master.cf `-o smtpd_tls_security_level`. Level names are compared without regard to case, as Postfix's name_code table does (`Encrypt` is encrypt), and ranked none < may < encrypt. A value with template markup is reported as templated.\nIt also reports `encrypt` in main.cf when it applies to the public `smtp inet` service (port 25, directly or behind postscreen) with no `-o smtpd_tls_security_level` lowering it there: RFC 3207 says a publicly-referenced SMTP server must not require STARTTLS, and postconf(5) says the same.",
    writes: "`smtpd_tls_security_level = may` in place of an empty, `none` or unknown value (or added after the last TLS parameter); `-o smtpd_tls_security_level=may` in place of a master.cf override that turns TLS off. Every profile writes the same: opportunistic TLS on port 25 is what Postfix's documentation recommends.",
    refuses: "Never lowers a level: `encrypt` (any case) stays. Does not write while smtpd has no certificate (smtpd_tls_chain_files or smtpd_tls_cert_file): STARTTLS would fail. Does not touch a templated value. `encrypt` on the public port 25 is a finding only (audit): whether the server is public is the administrator's call; add `-o smtpd_tls_security_level=may` to the smtp service, or set may in main.cf and encrypt on submission.",
    versions: "Postfix 2.3 and later (smtpd_tls_security_level); the legacy smtpd_use_tls/smtpd_enforce_tls are read for older configurations.",
    sources: &[
        "postconf(5), smtpd_tls_security_level <https://www.postfix.org/postconf.5.html#smtpd_tls_security_level>",
        "Postfix TLS_README, server-side TLS <https://www.postfix.org/TLS_README.html>",
        "RFC 3207, SMTP Service Extension for Secure SMTP over TLS, section 4 <https://www.rfc-editor.org/rfc/rfc3207#section-4>",
        "RFC 7435, Opportunistic Security <https://www.rfc-editor.org/rfc/rfc7435>",
    ],
};

pub const SMTP_SECURITY_LEVEL: Rule = Rule {
    id: "postfix.smtp-security-level",
    server: Server::Postfix,
    severity: Severity::Medium,
    activation: Activation::Default,
    summary: "smtp_tls_security_level at least may (encrypt, dane, verify, secure stay)",
    checks: "The effective smtp_tls_security_level of the SMTP client: main.cf, else the legacy smtp_enforce_tls/smtp_use_tls, else Postfix's default (empty before 3.11, `may` from 3.11 with compatibility_level 3.11), and each master.cf `-o smtp_tls_security_level` (e.g. on a relay transport). Names are compared without regard to case (`DANE` is dane) and ranked none < may < encrypt < dane < dane-only < fingerprint < verify < secure.",
    writes: "`smtp_tls_security_level = may` in place of an empty, `none` or unknown value, or added; `-o smtp_tls_security_level=may` for an override that turns TLS off. The same for every profile.",
    refuses: "Never lowers a level: encrypt, dane, dane-only, fingerprint, verify and secure (any case) stay as they are. Does not touch a templated value.",
    versions: "Postfix 2.3 and later; dane and dane-only from 2.11.",
    sources: &[
        "postconf(5), smtp_tls_security_level <https://www.postfix.org/postconf.5.html#smtp_tls_security_level>",
        "Postfix TLS_README, client-side TLS security levels <https://www.postfix.org/TLS_README.html>",
        "RFC 7435, Opportunistic Security <https://www.rfc-editor.org/rfc/rfc7435>",
    ],
};

/// The rank of a TLS security level, as Postfix's name_code table reads it
/// (case-insensitive); `None` for a name Postfix does not know.
pub(super) fn level_rank(v: &str) -> Option<u8> {
    const LEVELS: [&str; 8] = [
        "none",
        "may",
        "encrypt",
        "dane",
        "dane-only",
        "fingerprint",
        "verify",
        "secure",
    ];
    let v = v.trim();
    if v.is_empty() {
        return Some(0);
    }
    LEVELS
        .iter()
        .position(|l| l.eq_ignore_ascii_case(v))
        .map(|p| p as u8)
}

/// Whether `s` is the public SMTP service: `smtp` (or port 25) on `inet`,
/// with or without a listen address.
pub(super) fn is_public_smtp(b: &[u8], s: &Service) -> bool {
    let name = s.field(b, 0);
    let port = name.rsplit(':').next().unwrap_or("");
    s.field(b, 1) == "inet" && (port == "smtp" || port == "25")
}

/// The rank of `encrypt`: TLS required.
pub(super) const ENCRYPT: u8 = 2;

impl super::Ctx<'_> {
    /// `encrypt` in main.cf reaches the public `smtp inet` service on port
    /// 25 (or the smtpd behind postscreen there) unless that service
    /// lowers it with `-o`: a finding, never a change.
    fn encrypt_on_port_25(&mut self, current: &str, line: usize) {
        let Some((mf, m)) = &self.inst.master else {
            return;
        };
        let b = &mf.source.bytes;
        let active = |s: &&Service| !s.commented() && s.valid();
        let Some(smtp) = m
            .services
            .iter()
            .filter(active)
            .find(|s| is_public_smtp(b, s))
        else {
            return;
        };
        let mut services = vec![smtp];
        if smtp.field(b, 7) == "postscreen"
            && let Some(pass) = m
                .services
                .iter()
                .filter(active)
                .find(|s| s.field(b, 0) == "smtpd" && s.field(b, 1) == "pass")
        {
            services.push(pass);
        }
        let lowered = services.iter().any(|s| {
            s.override_value(b, "smtpd_tls_security_level")
                .is_some_and(|(_, v)| {
                    level_rank(&self.inst.expand(&v, self.version, 0)).is_some_and(|r| r < ENCRYPT)
                })
        });
        if lowered {
            return;
        }
        let current = format!(
            "smtpd_tls_security_level = {current} (applies to {} in master.cf line {})",
            smtp.id(b),
            mf.source.line_of(smtp.span.start())
        );
        let file = self.main_file;
        self.port_25_requires_tls(file, line, current);
    }

    /// The finding for TLS required on the public port 25 (RFC 3207).
    pub(super) fn port_25_requires_tls(&mut self, file: usize, line: usize, current: String) {
        let mut f = Finding::new(SMTPD_SECURITY_LEVEL.id, Severity::Medium, file, line);
        f.current = Some(current.into());
        f.wanted = Some("smtpd_tls_security_level = may on port 25".into());
        f.reason = "the public SMTP service on port 25 requires STARTTLS: mail from servers that cannot do TLS is refused. RFC 3207 says a publicly-referenced SMTP server must not require TLS, and postconf(5) says the same; require TLS on submission instead".into();
        f.blocked = Some("audit only: if this server receives mail from the Internet, add `-o smtpd_tls_security_level=may` to the smtp service in master.cf (or set may in main.cf and encrypt on submission)".into());
        self.push(f, None);
    }

    pub(super) fn security_levels(&mut self) {
        for (rule, name, legacy_use, legacy_enforce, min) in [
            (
                "postfix.smtpd-security-level",
                "smtpd_tls_security_level",
                "smtpd_use_tls",
                "smtpd_enforce_tls",
                1u8,
            ),
            (
                "postfix.smtp-security-level",
                "smtp_tls_security_level",
                "smtp_use_tls",
                "smtp_enforce_tls",
                1u8,
            ),
        ] {
            let b = self.main_bytes();
            let (eff, _) = self.inst.main.1.lookup(b, name);
            let yes = |n: &str| {
                self.inst
                    .effective(n, self.version)
                    .is_some_and(|v| v.trim().eq_ignore_ascii_case("yes"))
            };
            if let Some(e) = eff
                && (super::templated(&e.value(b)) || super::templated(&self.eff_value(e)))
            {
                let line = self.main_line(e.name.start());
                let file = self.main_file;
                self.templated_finding(rule, file, line, format!("{name} = {}", e.value(b)));
                continue;
            }
            let (current, entry) = match eff {
                Some(e) => (self.eff_value(e), Some(e)),
                None if yes(legacy_enforce) => ("encrypt".to_string(), None),
                None if yes(legacy_use) => ("may".to_string(), None),
                None => (
                    self.inst.effective(name, self.version).unwrap_or_default(),
                    None,
                ),
            };
            if let Some(r) = level_rank(&current)
                && r >= min
            {
                if name == "smtpd_tls_security_level" && r >= ENCRYPT {
                    let line = entry.map_or(self.insert_line(), |e| self.main_line(e.name.start()));
                    self.encrypt_on_port_25(&current, line);
                }
                continue;
            }
            let (line, at_entry) = match entry {
                Some(e) => (self.main_line(e.name.start()), true),
                None => (self.insert_line(), false),
            };
            let mut f = Finding::new(rule, Severity::High, self.main_file, line);
            f.current = Some(
                format!(
                    "{name} = {}",
                    if current.is_empty() {
                        "(empty: no TLS)"
                    } else {
                        &current
                    }
                )
                .into(),
            );
            f.wanted = Some(format!("{name} = may").into());
            f.reason = if name.starts_with("smtpd") {
                "the SMTP server offers no STARTTLS, so mail and logins arrive in clear text".into()
            } else {
                "the SMTP client never uses TLS, even when the receiving server offers it".into()
            };
            if name.starts_with("smtpd") && !self.has_certificate() {
                f.blocked = Some("smtpd has no certificate (smtpd_tls_chain_files or smtpd_tls_cert_file/smtpd_tls_key_file): configure one first".into());
                self.push(f, None);
                continue;
            }
            let patches = match entry {
                Some(e) if at_entry => self.set_entry(e, "may"),
                _ => vec![self.insert_main(name, "may")],
            };
            let file = self.main_file;
            let reason = format!("{name} = may: {}", f.reason);
            self.push(
                f,
                Some(Change {
                    ldap: None,
                    rule,
                    reason: reason.into(),
                    edits: patches.into_iter().map(|p| (file, p)).collect(),
                }),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_levels_rank() {
        assert_eq!(level_rank(""), Some(0));
        assert_eq!(level_rank("dane"), Some(3));
        // Postfix's name_code tables ignore case: these are not unknown.
        assert_eq!(level_rank("Encrypt"), Some(ENCRYPT));
        assert_eq!(level_rank("DANE"), Some(3));
        assert_eq!(level_rank(" MAY "), Some(1));
        assert!(level_rank("secure") > level_rank("verify"));
        assert!(level_rank("fingerprint") > level_rank("dane-only"));
        assert_eq!(level_rank("bogus"), None);
    }
}
