//! Cipher rules of Postfix: the mandatory cipher grade and
//! `tls_medium_cipherlist` (`postfix.ciphers`), a hand-set
//! `tls_high_cipherlist` (`postfix.high-cipherlist`, audit only) and the
//! server's cipher preference (`postfix.preempt`).

use super::Param;
use crate::catalogue::profile::{Profile, cipher_list_meets};
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::plan::{Finding, Severity};

pub const CIPHERS: Rule = Rule {
    id: "postfix.ciphers",
    server: Server::Postfix,
    severity: Severity::Medium,
    activation: Activation::Default,
    summary: "mandatory cipher grade medium or high, and tls_medium_cipherlist limited to the profile's suites",
    checks: "",
    writes: "",
    refuses: "",
    versions: "",
    sources: &[],
};

pub const HIGH_CIPHERLIST: Rule = Rule {
    id: "postfix.high-cipherlist",
    server: Server::Postfix,
    severity: Severity::Medium,
    activation: Activation::Default,
    summary: "a hand-set tls_high_cipherlist: Postfix advises leaving it alone (audit only)",
    checks: "",
    writes: "",
    refuses: "",
    versions: "",
    sources: &[],
};

pub const PREEMPT: Rule = Rule {
    id: "postfix.preempt",
    server: Server::Postfix,
    severity: Severity::Medium,
    activation: Activation::Default,
    summary: "tls_preempt_cipherlist = no (yes for old)",
    checks: "",
    writes: "",
    refuses: "",
    versions: "",
    sources: &[],
};

fn grade_ok(v: &str) -> bool {
    matches!(v.trim(), "medium" | "high")
}

pub(super) fn params(profile: Profile) -> Vec<Param> {
    let mut v = Vec::new();
    for name in ["smtpd_tls_mandatory_ciphers", "smtp_tls_mandatory_ciphers"] {
        v.push(Param {
            rule: "postfix.ciphers",
            name,
            wanted: "medium".into(),
            rewrite: None,
            judge: Box::new(grade_ok),
            severity: Severity::High,
            reason: "a cipher grade below medium allows export-grade or NULL ciphers".into(),
        });
    }
    let list = profile
        .openssl_ciphers()
        .unwrap_or(crate::catalogue::profile::INTERMEDIATE_CIPHERS);
    let acceptable = if profile == Profile::Old {
        Profile::Old.acceptable_ciphers()
    } else {
        Profile::Intermediate.acceptable_ciphers()
    };
    v.push(Param {
        rule: "postfix.ciphers",
        name: "tls_medium_cipherlist",
        wanted: list.into(),
        rewrite: None,
        judge: Box::new(move |val| cipher_list_meets(val, &acceptable)),
        severity: Severity::Medium,
        reason: "the medium grade (used for opportunistic and mandatory TLS) includes CBC and non-forward-secret suites; Postfix advises changing the grade's list rather than tls_high_cipherlist".into(),
    });
    v
}

pub(super) fn preempt_params(profile: Profile) -> Vec<Param> {
    let preempt = profile == Profile::Old;
    vec![Param {
        rule: "postfix.preempt",
        name: "tls_preempt_cipherlist",
        wanted: if preempt { "yes" } else { "no" }.into(),
        rewrite: None,
        judge: Box::new(move |val| {
            val.trim()
                .eq_ignore_ascii_case(if preempt { "yes" } else { "no" })
        }),
        severity: Severity::Low,
        reason: if preempt {
            "the old profile keeps weak suites, so the server's order must win".into()
        } else {
            "every suite the profile allows is strong: clients choose the one fastest for them (Mozilla)".into()
        },
    }]
}

impl super::Ctx<'_> {
    pub(super) fn high_cipherlist(&mut self) {
        let b = self.main_bytes();
        if let (Some(e), _) = self.inst.main.1.lookup(b, "tls_high_cipherlist") {
            let mut f = Finding::new(
                "postfix.high-cipherlist",
                Severity::Low,
                self.main_file,
                self.main_line(e.name.start),
            );
            f.current = Some(e.value(b));
            f.reason = "Postfix advises leaving tls_high_cipherlist at its default (the 2017 article set it); tlsmend sets the mandatory grade and tls_medium_cipherlist instead".into();
            f.blocked = Some("audit only: consider removing it".into());
            self.push(f, None);
        }
    }
}
