//! The SMTP server's certificate: present and readable
//! (`postfix.certificate`) and with a strong key (`postfix.weak-key`), both
//! audit only.

use crate::catalogue::rule::{Activation, Rule, Server};
use crate::plan::{Finding, Severity};
use std::path::Path;

pub const CERTIFICATE: Rule = Rule {
    id: "postfix.certificate",
    server: Server::Postfix,
    severity: Severity::Medium,
    activation: Activation::Default,
    summary: "smtpd has a certificate and key, readable (audit only)",
    checks: "",
    writes: "",
    refuses: "",
    versions: "",
    sources: &[],
};

pub const WEAK_KEY: Rule = Rule {
    id: "postfix.weak-key",
    server: Server::Postfix,
    severity: Severity::Medium,
    activation: Activation::Default,
    summary: "certificate key of at least 2048 bits RSA or 256 bits EC (audit only)",
    checks: "",
    writes: "",
    refuses: "",
    versions: "",
    sources: &[],
};

impl super::Ctx<'_> {
    pub(super) fn has_certificate(&self) -> bool {
        [
            "smtpd_tls_chain_files",
            "smtpd_tls_cert_file",
            "smtpd_tls_eccert_file",
        ]
        .iter()
        .any(|n| self.inst.raw(n).is_some_and(|v| !v.trim().is_empty()))
    }

    pub(super) fn certificate(&mut self) {
        let b = self.main_bytes();
        let chain = self
            .inst
            .effective("smtpd_tls_chain_files", self.version)
            .filter(|v| !v.trim().is_empty());
        let cert = self
            .inst
            .effective("smtpd_tls_cert_file", self.version)
            .filter(|v| !v.trim().is_empty());
        let key = self
            .inst
            .effective("smtpd_tls_key_file", self.version)
            .filter(|v| !v.trim().is_empty());
        let (name, file) = match (&chain, &cert) {
            (Some(c), _) => (
                "smtpd_tls_chain_files",
                c.split([',', ' '])
                    .find(|s| !s.is_empty())
                    .unwrap_or("")
                    .to_string(),
            ),
            (None, Some(c)) => ("smtpd_tls_cert_file", c.clone()),
            (None, None) => {
                let mut f = Finding::new(
                    "postfix.certificate",
                    Severity::Medium,
                    self.main_file,
                    self.main_line(b.len()),
                );
                f.reason = "smtpd has no certificate (smtpd_tls_chain_files or smtpd_tls_cert_file and smtpd_tls_key_file): STARTTLS cannot work".into();
                f.blocked = Some("audit only: configure a certificate and key".into());
                self.push(f, None);
                return;
            }
        };
        let line = self
            .inst
            .main
            .1
            .lookup(b, name)
            .0
            .map_or(0, |e| self.main_line(e.name.start));
        let host = self
            .root
            .resolve(Path::new(&file))
            .map(|p| self.root.host(&p));
        // With a separate key file, the key must be readable too.
        if chain.is_none() && key.is_none() && cert.is_some() {
            let mut f = Finding::new(
                "postfix.certificate",
                Severity::Medium,
                self.main_file,
                line,
            );
            f.current = Some(file.clone());
            f.reason = "smtpd_tls_cert_file is set but smtpd_tls_key_file is not (unless the key is in the same file)".into();
            f.blocked =
                Some("audit only: set smtpd_tls_key_file, or use smtpd_tls_chain_files".into());
            self.push(f, None);
        }
        match host.as_ref().map(|h| crate::target::cert::read(h)) {
            Ok(Ok(info)) if info.is_weak() => {
                let why = "a key this small can be factored; OpenSSL 3 refuses it at its default security level";
                let f = crate::servers::weak_key(
                    "postfix.weak-key",
                    self.main_file,
                    line,
                    &file,
                    &info,
                    why,
                );
                self.push(f, None);
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                let mut f = Finding::new(
                    "postfix.certificate",
                    Severity::Medium,
                    self.main_file,
                    line,
                );
                f.current = Some(file.clone());
                f.reason = format!("the certificate {file} cannot be used: {e}");
                f.blocked = Some("audit only: install a valid certificate".into());
                self.push(f, None);
            }
            Err(_) => {}
        }
    }
}
