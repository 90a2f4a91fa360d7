//! `courier.protocol` and `courier.ciphers`: on an OpenSSL build of
//! couriertls, `TLS_PROTOCOL`, `TLS_STARTTLS_PROTOCOL` and `TLS_CIPHER_LIST`.

use super::{Ctx, Var};
use crate::catalogue::profile::{Profile, Version, cipher_list_meets};
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::plan::Severity;

pub const PROTOCOL: Rule = Rule {
    id: "courier.protocol",
    server: Server::Courier,
    severity: Severity::High,
    activation: Activation::Default,
    summary: "OpenSSL builds: TLS_PROTOCOL and TLS_STARTTLS_PROTOCOL at the profile's floor",
    checks: "",
    writes: "",
    refuses: "",
    versions: "",
    sources: &[],
};

pub const CIPHERS: Rule = Rule {
    id: "courier.ciphers",
    server: Server::Courier,
    severity: Severity::Medium,
    activation: Activation::Default,
    summary: "OpenSSL builds: TLS_CIPHER_LIST limited to the profile's ciphers (not for modern)",
    checks: "",
    writes: "",
    refuses: "",
    versions: "",
    sources: &[],
};

fn protocol_floor(v: &str) -> Option<Version> {
    let v = v.trim_end_matches('+');
    Some(match v {
        "TLSv1" | "TLS1" | "TLSv1.0" => Version::Tls10,
        "TLSv1.1" | "TLS1_1" => Version::Tls11,
        "TLSv1.2" | "TLS1_2" => Version::Tls12,
        "TLSv1.3" | "TLS1_3" => Version::Tls13,
        _ => return None,
    })
}

impl Ctx<'_> {
    pub(super) fn openssl(&mut self, profile: Profile) {
        let wanted = match profile {
            Profile::Modern => "TLSv1.3",
            Profile::Intermediate => "TLSv1.2",
            Profile::Old => "TLSv1",
        };
        let judge = move |v: &str| protocol_floor(v).is_some_and(|fl| fl >= profile.floor());
        self.var(&Var {
            rule: "courier.protocol",
            name: "TLS_PROTOCOL",
            wanted: wanted.into(),
            default_ok: profile == Profile::Old,
            judge: &judge,
            severity: Severity::High,
            reason: format!("allows versions below the {} profile's floor (an unknown value falls back to TLS 1.0 or higher)", profile.name()),
            absent_reason: "TLS_PROTOCOL is not set, so couriertls accepts TLS 1.0 and higher".into(),
        });
        let follows = move |v: &str| v == "$TLS_PROTOCOL" || v == "${TLS_PROTOCOL}" || judge(v);
        self.var(&Var {
            rule: "courier.protocol",
            name: "TLS_STARTTLS_PROTOCOL",
            wanted: wanted.into(),
            default_ok: profile == Profile::Old,
            judge: &follows,
            severity: Severity::High,
            reason: "the STARTTLS protocol floor on port 143 is below the profile's".into(),
            absent_reason:
                "TLS_STARTTLS_PROTOCOL is not set, so STARTTLS on port 143 accepts TLS 1.0".into(),
        });
        if let Some(list) = profile.openssl_ciphers() {
            let ok = profile.acceptable_ciphers();
            let judge = move |v: &str| cipher_list_meets(v, &ok);
            self.var(&Var {
                rule: "courier.ciphers",
                name: "TLS_CIPHER_LIST",
                wanted: list.into(),
                default_ok: false,
                judge: &judge,
                severity: Severity::Medium,
                reason: format!(
                    "the cipher list is not limited to the {} profile's suites",
                    profile.name()
                ),
                absent_reason: "TLS_CIPHER_LIST is not set, so OpenSSL's default list is used"
                    .into(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openssl_protocol_values() {
        assert_eq!(protocol_floor("TLSv1.2++"), Some(Version::Tls12));
        assert_eq!(protocol_floor("TLSv1"), Some(Version::Tls10));
        assert_eq!(protocol_floor("TLS1_2"), Some(Version::Tls12));
        assert_eq!(protocol_floor("SSL23"), None);
    }
}
