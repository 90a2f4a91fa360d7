//! The TLS protocol lists of the SMTP server and client, judged as
//! Postfix parses them (model::protocols) and written in the syntax the
//! detected version knows:
//! - `postfix.mandatory-protocols`: `smtpd_tls_mandatory_protocols` and
//!   `smtp_tls_mandatory_protocols`, used where TLS is required;
//! - `postfix.opportunistic-protocols` (opt-in): `smtpd_tls_protocols` and
//!   `smtp_tls_protocols`, used by opportunistic TLS, where a failed
//!   handshake means plain text, so Postfix advises leaving them alone;
//! - `postfix.protocol-syntax`: an opportunistic list Postfix cannot parse,
//!   which silently disables TLS.

use super::Param;
use crate::catalogue::profile::{Profile, Version};
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::plan::Severity;
use crate::servers::postfix::model::{self, PostfixVersion, protocols, uses_bounds};

pub const MANDATORY_PROTOCOLS: Rule = Rule {
    id: "postfix.mandatory-protocols",
    server: Server::Postfix,
    severity: Severity::High,
    activation: Activation::Default,
    summary: "smtpd/smtp_tls_mandatory_protocols at the profile's floor (TLS where it is required: submission, encrypt/dane/verify)",
    checks: "The effective smtpd_tls_mandatory_protocols and smtp_tls_mandatory_protocols (main.cf, else Postfix's default: `>=TLSv1` from 3.6, `!SSLv2, !SSLv3` before; master.cf `-o` too), read as Postfix reads a protocol list: names without regard to case, `>=`/`<=` bounds with names or hexadecimal versions (`>=0x0304` is TLS 1.3; Postfix 3.6+), `!` exclusions leaving a contiguous range. A list is weak when it enables a version below the floor, and broken when Postfix cannot parse it (an unknown name, or `>=` before 3.6): Postfix then logs \"Invalid TLS protocol list\" and disables TLS.",
    writes: "intermediate: `>=TLSv1.2` on Postfix 3.6+, `!SSLv2, !SSLv3, !TLSv1, !TLSv1.1` before 3.6 or when the version is unknown, for both. modern: smtpd_tls_mandatory_protocols `>=TLSv1.3` (before 3.6: `!SSLv2, !SSLv3, !TLSv1, !TLSv1.1, !TLSv1.2`), smtp_tls_mandatory_protocols stays at TLS 1.2 (mandatory TLS to other MTAs, which lag behind clients). old: TLS 1.0 and up. A strong list in a syntax the version cannot parse is rewritten with the same floor.",
    refuses: "Never lowers a floor: a list already at or above the profile's floor (e.g. `>=TLSv1.3` in intermediate, `>=0x0304`) is kept, and a rewrite for syntax keeps its floor. Does not touch a templated value. Writes `>=` only when the Postfix version is known to be 3.6 or later.",
    versions: "Postfix 2.3 and later; the `>=`/`<=` and hexadecimal forms from Postfix 3.6; TLS 1.3 needs OpenSSL 1.1.1.",
    sources: &[
        "postconf(5), smtpd_tls_mandatory_protocols <https://www.postfix.org/postconf.5.html#smtpd_tls_mandatory_protocols>",
        "postconf(5), smtp_tls_mandatory_protocols <https://www.postfix.org/postconf.5.html#smtp_tls_mandatory_protocols>",
        "Postfix TLS_README <https://www.postfix.org/TLS_README.html>",
        "RFC 8996, Deprecating TLS 1.0 and TLS 1.1 <https://www.rfc-editor.org/rfc/rfc8996>",
        "Mozilla server-side TLS guidelines 6.0 <https://wiki.mozilla.org/Security/Server_Side_TLS>",
    ],
};

pub const OPPORTUNISTIC_PROTOCOLS: Rule = Rule {
    id: "postfix.opportunistic-protocols",
    server: Server::Postfix,
    severity: Severity::Low,
    activation: Activation::OptIn,
    summary: "smtpd_tls_protocols/smtp_tls_protocols at TLS 1.2 (Mozilla's stance; opt-in: a refused handshake on port 25 means plain text)",
    checks: "The effective smtpd_tls_protocols and smtp_tls_protocols, used by opportunistic TLS (security level may: port 25 inbound, the SMTP client outbound), read as for postfix.mandatory-protocols. Weak when a version below TLS 1.2 is enabled (TLS 1.0 for the old profile).",
    writes: "`>=TLSv1.2` on Postfix 3.6+, `!SSLv2, !SSLv3, !TLSv1, !TLSv1.1` before or when the version is unknown, for every profile but old (modern too: TLS 1.3 only would push more mail to plain text).",
    refuses: "Opt-in (run with --with postfix.opportunistic-protocols): with opportunistic TLS, a peer that cannot do TLS 1.2 does not fail, it falls back to plain text, so raising the floor here sends more mail in clear. Postfix's documentation and RFC 7435 advise keeping the defaults. Never lowers a stronger list; leaves a list Postfix cannot parse to postfix.protocol-syntax; does not touch a templated value.",
    versions: "Postfix 2.3 and later; `>=` from 3.6.",
    sources: &[
        "postconf(5), smtpd_tls_protocols <https://www.postfix.org/postconf.5.html#smtpd_tls_protocols>",
        "postconf(5), smtp_tls_protocols <https://www.postfix.org/postconf.5.html#smtp_tls_protocols>",
        "Postfix TLS_README <https://www.postfix.org/TLS_README.html>",
        "RFC 7435, Opportunistic Security <https://www.rfc-editor.org/rfc/rfc7435>",
        "Mozilla server-side TLS guidelines 6.0 <https://wiki.mozilla.org/Security/Server_Side_TLS>",
    ],
};

pub const PROTOCOL_SYNTAX: Rule = Rule {
    id: "postfix.protocol-syntax",
    server: Server::Postfix,
    severity: Severity::High,
    activation: Activation::Default,
    summary: "smtpd_tls_protocols/smtp_tls_protocols that Postfix cannot parse (TLS silently off) rewritten, keeping their floor",
    checks: "Whether Postfix can parse smtpd_tls_protocols and smtp_tls_protocols: an unknown protocol name (`bogusproto`), a hexadecimal version in an exclusion, or `>=`/`<=` before Postfix 3.6. Postfix accepts such a file (postfix check says nothing) and at run time logs \"Invalid TLS protocol list\" and disables TLS: STARTTLS disappears and mail goes in plain text.",
    writes: "A list with a readable floor (`>=TLSv1.2` on Postfix 3.5) in the syntax the version knows with the same floor (`!SSLv2, !SSLv3, !TLSv1, !TLSv1.1`); an unreadable list becomes Postfix's own default for the version (`>=TLSv1` from 3.6, `!SSLv2, !SSLv3` before), as Postfix advises for opportunistic TLS.",
    refuses: "Does not touch a list Postfix can parse (raising it is postfix.opportunistic-protocols, opt-in) or a templated value.",
    versions: "Postfix 2.3 and later; `>=`/`<=` from 3.6.",
    sources: &[
        "postconf(5), smtpd_tls_protocols <https://www.postfix.org/postconf.5.html#smtpd_tls_protocols>",
        "postconf(5), smtp_tls_protocols <https://www.postfix.org/postconf.5.html#smtp_tls_protocols>",
    ],
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

fn floor_name(floor: Version) -> &'static str {
    match floor {
        Version::Tls13 => "TLS 1.3",
        Version::Tls12 => "TLS 1.2",
        Version::Tls11 => "TLS 1.1",
        _ => "TLS 1.0",
    }
}

/// Whether `version` parses `val`: `>=`/`<=` needs Postfix 3.6.
fn parses(val: &str, version: Option<PostfixVersion>) -> bool {
    (version.is_some_and(|v| v >= PostfixVersion(3, 6)) || !uses_bounds(val))
        && protocols(val).is_some_and(|s| !s.is_empty())
}

/// The list to write for `val`: the floor, or `val`'s own floor where that
/// is higher (a strong list in the wrong syntax keeps its strength).
fn raised(val: &str, floor: Version, version: Option<PostfixVersion>) -> String {
    let min = protocols(val)
        .and_then(|s| s.into_iter().min())
        .filter(|&m| m > floor)
        .unwrap_or(floor);
    protocol_value(min, version)
}

pub(super) fn params(profile: Profile, version: Option<PostfixVersion>) -> Vec<Param> {
    let mut v = Vec::new();
    let mta = profile.values().mta_floor;
    for (name, mandatory_floor) in [
        ("smtpd_tls_protocols", None),
        ("smtpd_tls_mandatory_protocols", Some(profile.floor())),
        ("smtp_tls_protocols", None),
        ("smtp_tls_mandatory_protocols", Some(mta)),
    ] {
        match mandatory_floor {
            Some(floor) => v.push(Param {
                rule: MANDATORY_PROTOCOLS.id,
                name,
                wanted: protocol_value(floor, version),
                rewrite: Some(Box::new(move |val| raised(val, floor, version))),
                judge: Box::new(move |val| {
                    parses(val, version)
                        && protocols(val).is_some_and(|set| set.iter().all(|&x| x >= floor))
                }),
                severity: Severity::High,
                reason: format!(
                    "TLS where it is required (submission, encrypt and stronger levels) allows protocol versions below {} (TLS 1.0 and 1.1 are deprecated by RFC 8996); a list Postfix cannot parse disables TLS altogether",
                    floor_name(floor)
                ),
            }),
            None => {
                let default = model::default(name, version, None).unwrap_or("!SSLv2, !SSLv3");
                v.push(Param {
                    rule: PROTOCOL_SYNTAX.id,
                    name,
                    wanted: default.into(),
                    rewrite: Some(Box::new(move |val| {
                        if protocols(val).is_some_and(|s| !s.is_empty()) {
                            raised(val, Version::Tls10, version)
                        } else {
                            default.to_string()
                        }
                    })),
                    judge: Box::new(move |val| parses(val, version)),
                    severity: Severity::High,
                    reason: "Postfix cannot parse this protocol list: it logs \"Invalid TLS protocol list\" and disables TLS, so mail goes in plain text".into(),
                });
                v.push(Param {
                    rule: OPPORTUNISTIC_PROTOCOLS.id,
                    name,
                    wanted: protocol_value(mta, version),
                    rewrite: Some(Box::new(move |val| raised(val, mta, version))),
                    // A list Postfix cannot parse is postfix.protocol-syntax's.
                    judge: Box::new(move |val| {
                        !parses(val, version)
                            || protocols(val).is_some_and(|set| set.iter().all(|&x| x >= mta))
                    }),
                    severity: Severity::Low,
                    reason: format!(
                        "opportunistic TLS allows protocol versions below {} (Mozilla's stance; Postfix advises the defaults, since a refused handshake means plain text)",
                        floor_name(mta)
                    ),
                });
            }
        }
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
