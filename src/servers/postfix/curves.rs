//! `postfix.curves`: `tls_eecdh_auto_curves` names only strong groups.

use super::Param;
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::plan::Severity;

pub const CURVES: Rule = Rule {
    id: "postfix.curves",
    server: Server::Postfix,
    severity: Severity::Medium,
    activation: Activation::Default,
    summary: "tls_eecdh_auto_curves names only strong curves",
    checks: "",
    writes: "",
    refuses: "",
    versions: "",
    sources: &[],
};

const GOOD_CURVES: &[&str] = &[
    "X25519",
    "X448",
    "prime256v1",
    "secp384r1",
    "secp521r1",
    "X25519MLKEM768",
    "P-256",
    "P-384",
    "P-521",
];

pub(super) fn params() -> Vec<Param> {
    vec![Param {
        rule: "postfix.curves",
        name: "tls_eecdh_auto_curves",
        wanted: "X25519 prime256v1 secp384r1".into(),
        rewrite: None,
        judge: Box::new(|val| {
            val.split([' ', ',', ':', '\t'])
                .filter(|c| !c.is_empty())
                .all(|c| GOOD_CURVES.contains(&c))
        }),
        severity: Severity::Medium,
        reason: "names a curve weaker than P-256".into(),
    }]
}
