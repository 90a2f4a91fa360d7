//! The SMTP server's certificate: present and readable
//! (`postfix.certificate`), with a strong key (`postfix.weak-key`), and its
//! Diffie-Hellman group (`postfix.dh-params`); all audit only.

use crate::catalogue::rule::{Activation, Rule, Server};
use crate::plan::{Finding, Severity};
use std::path::Path;

pub const CERTIFICATE: Rule = Rule {
    id: "postfix.certificate",
    server: Server::Postfix,
    severity: Severity::Medium,
    activation: Activation::Default,
    summary: "smtpd has a certificate and key, readable (audit only)",
    checks: "That smtpd has a certificate (smtpd_tls_chain_files, else smtpd_tls_cert_file with smtpd_tls_key_file, the key possibly in the same file) and that the file can be read and parsed, under --root when given.",
    writes: "Nothing: audit only.",
    refuses: "Always: a certificate is issued, not written; the finding says which setting is missing or which file cannot be used.",
    versions: "Postfix 2.2 and later; smtpd_tls_chain_files from 3.4.",
    sources: &[
        "postconf(5), smtpd_tls_chain_files <https://www.postfix.org/postconf.5.html#smtpd_tls_chain_files>",
        "postconf(5), smtpd_tls_cert_file <https://www.postfix.org/postconf.5.html#smtpd_tls_cert_file>",
        "Postfix TLS_README, server certificate and key <https://www.postfix.org/TLS_README.html>",
    ],
};

pub const WEAK_KEY: Rule = Rule {
    id: "postfix.weak-key",
    server: Server::Postfix,
    severity: Severity::Medium,
    activation: Activation::Default,
    summary: "certificate key of at least 2048 bits RSA or 256 bits EC (audit only)",
    checks: "The public key of smtpd's certificate (first file of smtpd_tls_chain_files, else smtpd_tls_cert_file): RSA below 2048 bits or EC below 256 bits is weak.",
    writes: "Nothing: audit only.",
    refuses: "Always: a new key and certificate must be issued. Postfix itself still serves a 1024-bit RSA key (verified on Debian 12), so only the audit catches it.",
    versions: "Every Postfix version.",
    sources: &[
        "postconf(5), smtpd_tls_cert_file <https://www.postfix.org/postconf.5.html#smtpd_tls_cert_file>",
        "Mozilla server-side TLS guidelines 6.0 <https://wiki.mozilla.org/Security/Server_Side_TLS>",
    ],
};

pub const DH_PARAMS: Rule = Rule {
    id: "postfix.dh-params",
    server: Server::Postfix,
    severity: Severity::Medium,
    activation: Activation::Default,
    summary: "smtpd_tls_dh1024_param_file holds a DH group of at least 2048 bits (audit only)",
    checks: "The file named by smtpd_tls_dh1024_param_file (despite its name, the group for all non-export DHE suites), read under --root: the size of its prime. Below the profile's minimum (2048 bits; 1024 for old) is weak: DHE key exchange with a 1024-bit group is within reach of a well-funded attacker (Logjam). A file that cannot be read is reported too (Postfix then logs a warning and uses its built-in group).",
    writes: "Nothing: audit only.",
    refuses: "Always: the finding says how to fix it: make a 2048-bit group (`openssl dhparam -out /etc/postfix/dh2048.pem 2048`) and point smtpd_tls_dh1024_param_file at it, or remove the setting so that Postfix uses its built-in 2048-bit group.",
    versions: "Postfix 2.2 and later; the built-in group is 2048 bits from Postfix 3.1.",
    sources: &[
        "postconf(5), smtpd_tls_dh1024_param_file <https://www.postfix.org/postconf.5.html#smtpd_tls_dh1024_param_file>",
        "Postfix FORWARD_SECRECY_README <https://www.postfix.org/FORWARD_SECRECY_README.html>",
        "RFC 7919, Negotiated FFDHE parameters <https://www.rfc-editor.org/rfc/rfc7919>",
        "Mozilla server-side TLS guidelines 6.0 (dh_param_size 2048) <https://wiki.mozilla.org/Security/Server_Side_TLS>",
    ],
};

impl super::Ctx<'_> {
    /// A DH parameters file with a group below the profile's minimum.
    pub(super) fn dh_params(&mut self, min_bits: u32) {
        let b = self.main_bytes();
        let name = "smtpd_tls_dh1024_param_file";
        let Some(e) = self.inst.main.1.lookup(b, name).0 else {
            return;
        };
        let line = self.main_line(e.name.start());
        let file = self.inst.expand(&e.value(b), self.version, 0);
        let file = file.trim();
        if file.is_empty() {
            return;
        }
        let fix = format!(
            "audit only: make a 2048-bit group (openssl dhparam -out /etc/postfix/dh2048.pem 2048) and set {name} to it, or remove {name} so that Postfix uses its built-in 2048-bit group"
        );
        let read = self
            .root
            .resolve(Path::new(file))
            .map_err(|e| e.to_string())
            .and_then(|p| crate::target::dh::dh_bits(&self.root.host(&p)));
        let mut f = Finding::new(DH_PARAMS.id, Severity::Medium, self.main_file, line);
        match read {
            Ok(bits) if bits >= min_bits => return,
            Ok(bits) => {
                f.current = Some(format!("{name} = {file}: a {bits}-bit DH group").into());
                f.wanted = Some(format!("a DH group of at least {min_bits} bits").into());
                f.reason = format!(
                    "DHE key exchange uses a {bits}-bit group: groups below 2048 bits are within reach of a well-funded attacker (Logjam); Mozilla asks for 2048"
                ).into();
            }
            Err(why) => {
                f.severity = Severity::Low;
                f.current = Some(format!("{name} = {file}").into());
                f.reason = format!(
                    "the DH parameters cannot be used ({why}): Postfix logs a warning and falls back to its built-in group"
                ).into();
            }
        }
        f.blocked = Some(fix);
        self.push(f, None);
    }

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
            .map_or(0, |e| self.main_line(e.name.start()));
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
            f.current = Some(file.clone().into());
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
                f.current = Some(file.clone().into());
                f.reason = format!("the certificate {file} cannot be used: {e}").into();
                f.blocked = Some("audit only: install a valid certificate".into());
                self.push(f, None);
            }
            Err(_) => {}
        }
    }
}
