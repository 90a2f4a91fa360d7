//! `postfix.protocols`: the TLS protocol lists of the SMTP server and
//! client (`smtpd_tls_protocols`, `smtpd_tls_mandatory_protocols`,
//! `smtp_tls_protocols`, `smtp_tls_mandatory_protocols`), judged as Postfix
//! parses them and written in the syntax the detected version knows.

use super::Param;
use crate::catalogue::profile::{Profile, Version};
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::plan::Severity;
use crate::servers::postfix::model::{PostfixVersion, protocols};

pub const PROTOCOLS: Rule = Rule {
    id: "postfix.protocols",
    server: Server::Postfix,
    severity: Severity::Medium,
    activation: Activation::Default,
    summary: "smtpd/smtp (mandatory) TLS protocols at the profile's floor, in the syntax the version knows",
    checks: "",
    writes: "",
    refuses: "",
    versions: "",
    sources: &[],
};

/// The protocol list to write for `allowed`, in the syntax `version` knows.
fn protocol_value(floor: Version, version: Option<PostfixVersion>) -> String {
    let name = |v: Version| match v {
        Version::Tls10 => "TLSv1",
        Version::Tls11 => "TLSv1.1",
        Version::Tls12 => "TLSv1.2",
        _ => "TLSv1.3",
    };
    if version.is_some_and(|v| v >= PostfixVersion(3, 6)) {
        format!(">={}", name(floor))
    } else {
        let mut ex = vec!["!SSLv2", "!SSLv3"];
        for (v, n) in [
            (Version::Tls10, "!TLSv1"),
            (Version::Tls11, "!TLSv1.1"),
            (Version::Tls12, "!TLSv1.2"),
        ] {
            if v < floor {
                ex.push(n);
            }
        }
        ex.join(", ")
    }
}

pub(super) fn params(profile: Profile, version: Option<PostfixVersion>) -> Vec<Param> {
    let mut v = Vec::new();
    let plain_floor = if profile == Profile::Modern {
        Version::Tls12
    } else {
        profile.floor()
    };
    for (name, mandatory) in [
        ("smtpd_tls_protocols", false),
        ("smtpd_tls_mandatory_protocols", true),
        ("smtp_tls_protocols", false),
        ("smtp_tls_mandatory_protocols", true),
    ] {
        let floor = if mandatory {
            profile.floor()
        } else {
            plain_floor
        };
        // `>=`/`<=` before Postfix 3.6 is a list it cannot parse: TLS off.
        let range_ok = move |val: &str| {
            version.is_some_and(|v| v >= PostfixVersion(3, 6)) || !val.contains(['>', '<'])
        };
        v.push(Param {
            rule: "postfix.protocols",
            name,
            wanted: protocol_value(floor, version),
            // A strong list in the wrong syntax keeps its strength in the right one.
            rewrite: Some(Box::new(move |val| {
                let min = protocols(val).and_then(|s| s.into_iter().min()).filter(|&m| m > floor).unwrap_or(floor);
                protocol_value(min, version)
            })),
            judge: Box::new(move |val| {
                range_ok(val) && protocols(val).is_some_and(|set| !set.is_empty() && set.iter().all(|&x| x >= floor))
            }),
            severity: Severity::High,
            reason: format!(
                "allows protocol versions below {} (TLS 1.0 and 1.1 are deprecated by RFC 8996); a list Postfix cannot parse disables TLS altogether",
                match floor {
                    Version::Tls13 => "TLS 1.3",
                    Version::Tls12 => "TLS 1.2",
                    _ => "TLS 1.0",
                }
            ),
        });
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_values_follow_the_version() {
        assert_eq!(
            protocol_value(Version::Tls12, Some(PostfixVersion(3, 7))),
            ">=TLSv1.2"
        );
        assert_eq!(
            protocol_value(Version::Tls12, Some(PostfixVersion(3, 5))),
            "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1"
        );
        assert_eq!(
            protocol_value(Version::Tls12, None),
            "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1"
        );
        assert_eq!(
            protocol_value(Version::Tls13, None),
            "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1, !TLSv1.2"
        );
    }
}
