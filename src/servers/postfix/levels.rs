//! The TLS security levels of the SMTP server and client
//! (`postfix.smtpd-security-level`, `postfix.smtp-security-level`):
//! `smtpd_tls_security_level` and `smtp_tls_security_level`, with the legacy
//! `*_use_tls`/`*_enforce_tls` they replace.

use crate::catalogue::rule::{Activation, Rule, Server};
use crate::plan::{Change, Finding, Severity};

pub const SMTPD_SECURITY_LEVEL: Rule = Rule {
    id: "postfix.smtpd-security-level",
    server: Server::Postfix,
    severity: Severity::Medium,
    activation: Activation::Default,
    summary: "smtpd_tls_security_level at least may (encrypt stays)",
    checks: "",
    writes: "",
    refuses: "",
    versions: "",
    sources: &[],
};

pub const SMTP_SECURITY_LEVEL: Rule = Rule {
    id: "postfix.smtp-security-level",
    server: Server::Postfix,
    severity: Severity::Medium,
    activation: Activation::Default,
    summary: "smtp_tls_security_level at least may (encrypt, dane, verify, secure stay)",
    checks: "",
    writes: "",
    refuses: "",
    versions: "",
    sources: &[],
};

pub(super) fn level_rank(v: &str) -> Option<u8> {
    Some(match v.trim() {
        "" | "none" => 0,
        "may" => 1,
        "encrypt" | "dane" | "dane-only" | "fingerprint" | "verify" | "secure" => 2,
        _ => return None,
    })
}

impl super::Ctx<'_> {
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
                    .is_some_and(|v| v.trim() == "yes")
            };
            let (current, entry) = match eff {
                Some(e) => (self.eff_value(e), Some(e)),
                None if yes(legacy_enforce) => ("encrypt".to_string(), None),
                None if yes(legacy_use) => ("may".to_string(), None),
                None => (
                    self.inst.effective(name, self.version).unwrap_or_default(),
                    None,
                ),
            };
            if level_rank(&current).is_some_and(|r| r >= min) {
                continue;
            }
            let (line, at_entry) = match entry {
                Some(e) => (self.main_line(e.name.start), true),
                None => (self.insert_line(), false),
            };
            let mut f = Finding::new(rule, Severity::High, self.main_file, line);
            f.current = Some(format!(
                "{name} = {}",
                if current.is_empty() {
                    "(empty: no TLS)"
                } else {
                    &current
                }
            ));
            f.wanted = Some(format!("{name} = may"));
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
                    reason,
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
        assert_eq!(level_rank("dane"), Some(2));
        assert_eq!(level_rank("bogus"), None);
    }
}
