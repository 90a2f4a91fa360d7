//! `postfix.curves`: `tls_eecdh_auto_curves` names only strong groups.
//! Postfix's default list is strong, so an absent parameter is never added.

use super::Param;
use crate::catalogue::profile::Profile;
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::plan::Severity;

pub const CURVES: Rule = Rule {
    id: "postfix.curves",
    server: Server::Postfix,
    severity: Severity::Medium,
    activation: Activation::Default,
    summary: "tls_eecdh_auto_curves names only strong groups (?optional groups, X25519MLKEM768 and DEFAULT understood)",
    checks: "Each group named in tls_eecdh_auto_curves (separated by whitespace, commas or colons), without regard to case: strong are X25519, X448, P-256/prime256v1, P-384/secp384r1, P-521/secp521r1, the hybrid post-quantum X25519MLKEM768, SecP256r1MLKEM768 and SecP384r1MLKEM1024, and OpenSSL's `DEFAULT` list. A `?` prefix (an optional group, Postfix 3.11+), OpenSSL 3.5's `*` key-share marker and `/` tuple separators are read through. A list with any weaker group (secp192r1, secp224r1, brainpool...) is weak.",
    writes: "The profile's groups without X25519MLKEM768 (tlsmend cannot tell whether Postfix's OpenSSL is 3.5 or later): `X25519 prime256v1 secp384r1`, in place of a weak list.",
    refuses: "Never adds the parameter when it is absent (Postfix's default `X25519 X448 prime256v1 secp384r1 secp521r1` is strong, and a group the OpenSSL does not know would be written blind). Keeps a strong list, including optional and post-quantum groups. Does not touch a templated value.",
    versions: "Postfix 3.2 and later (tls_eecdh_auto_curves); `?` optional groups from Postfix 3.11; X25519MLKEM768 needs OpenSSL 3.5.",
    sources: &[
        "postconf(5), tls_eecdh_auto_curves <https://www.postfix.org/postconf.5.html#tls_eecdh_auto_curves>",
        "Mozilla server-side TLS guidelines 6.0 <https://wiki.mozilla.org/Security/Server_Side_TLS>",
    ],
};

const GOOD_GROUPS: &[&str] = &[
    "X25519",
    "X448",
    "prime256v1",
    "secp384r1",
    "secp521r1",
    "P-256",
    "P-384",
    "P-521",
    "X25519MLKEM768",
    "SecP256r1MLKEM768",
    "SecP384r1MLKEM1024",
    "DEFAULT",
];

/// Whether every group of a `tls_eecdh_auto_curves` value is strong.
pub(super) fn groups_strong(val: &str) -> bool {
    let mut any = false;
    for g in val
        .split([' ', ',', ':', '\t', '\n', '\r', '/'])
        .map(|g| g.trim_start_matches(['?', '*']))
        .filter(|g| !g.is_empty())
    {
        if !GOOD_GROUPS.iter().any(|k| k.eq_ignore_ascii_case(g)) {
            return false;
        }
        any = true;
    }
    any
}

pub(super) fn params(profile: Profile) -> Vec<Param> {
    let wanted = profile
        .values()
        .groups
        .split(':')
        .filter(|g| !g.eq_ignore_ascii_case("X25519MLKEM768"))
        .collect::<Vec<_>>()
        .join(" ");
    vec![Param {
        rule: CURVES.id,
        name: "tls_eecdh_auto_curves",
        wanted,
        rewrite: None,
        judge: Box::new(groups_strong),
        severity: Severity::Medium,
        reason: "names a group weaker than P-256".into(),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_and_post_quantum_groups_are_strong() {
        assert!(groups_strong("X25519 X448 prime256v1 secp384r1 secp521r1"));
        assert!(groups_strong("?X25519MLKEM768 X25519 prime256v1"));
        assert!(groups_strong("x25519mlkem768:x25519"));
        assert!(groups_strong("*X25519MLKEM768 / *X25519:P-256"));
        assert!(groups_strong("DEFAULT"));
        assert!(!groups_strong("prime256v1 secp192r1"));
        assert!(!groups_strong("?secp224r1 X25519"));
        assert!(!groups_strong(""));
    }
}
