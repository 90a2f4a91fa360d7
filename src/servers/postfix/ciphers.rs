//! Cipher rules of Postfix, which chooses ciphers by grade (`export`, `low`,
//! `medium`, `high`, `null`) whose lists Postfix's documentation asks not
//! to change:
//! - `postfix.mandatory-ciphers`: the grade of mandatory TLS
//!   (`smtpd_tls_mandatory_ciphers`, `smtp_tls_mandatory_ciphers`);
//! - `postfix.high-cipherlist`, `postfix.medium-cipherlist`: a hand-set
//!   grade list, reported and never rewritten (audit only);
//! - `postfix.preempt`: whose cipher order wins.

use super::Param;
use crate::catalogue::profile::Profile;
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::plan::{Finding, Severity};

pub const MANDATORY_CIPHERS: Rule = Rule {
    id: "postfix.mandatory-ciphers",
    server: Server::Postfix,
    severity: Severity::High,
    activation: Activation::Default,
    summary: "smtpd_tls_mandatory_ciphers = high, smtp_tls_mandatory_ciphers at least medium (grades only: the grade lists stay Postfix's)",
    checks: "The effective smtpd_tls_mandatory_ciphers and smtp_tls_mandatory_ciphers (main.cf, else Postfix's default `medium`; master.cf `-o` too). Grades are compared without regard to case, as Postfix's name_code table does (`HIGH` is high), and ranked null < export < low < medium < high; `null` (no encryption at all) is the weakest. An unknown grade makes Postfix refuse TLS (\"invalid cipher grade\").",
    writes: "smtpd_tls_mandatory_ciphers = high (the old profile: medium, which keeps 3DES) for the server's mandatory TLS (submission); smtp_tls_mandatory_ciphers = medium for the client's mandatory TLS to other MTAs. Never tls_medium_cipherlist or tls_high_cipherlist.",
    refuses: "Never lowers a grade: `high` (any case) stays in every profile. Does not touch a templated value. Never rewrites the grade lists themselves: postconf(5) on tls_medium_cipherlist says \"You are strongly encouraged not to change this setting\".",
    versions: "Postfix 2.3 and later.",
    sources: &[
        "postconf(5), smtpd_tls_mandatory_ciphers <https://www.postfix.org/postconf.5.html#smtpd_tls_mandatory_ciphers>",
        "postconf(5), smtp_tls_mandatory_ciphers <https://www.postfix.org/postconf.5.html#smtp_tls_mandatory_ciphers>",
        "postconf(5), tls_medium_cipherlist <https://www.postfix.org/postconf.5.html#tls_medium_cipherlist>",
        "Postfix TLS_README <https://www.postfix.org/TLS_README.html>",
    ],
};

pub const HIGH_CIPHERLIST: Rule = Rule {
    id: "postfix.high-cipherlist",
    server: Server::Postfix,
    severity: Severity::Low,
    activation: Activation::Default,
    summary: "a hand-set tls_high_cipherlist: Postfix advises leaving it alone (audit only)",
    checks: "Whether main.cf sets tls_high_cipherlist, the OpenSSL cipher list behind the `high` grade (the 2017 article set it).",
    writes: "Nothing: audit only.",
    refuses: "Always: Postfix's documentation advises against changing the grade lists, and a hand-made list can break TLS with peers, which on port 25 means plain text. The finding suggests removing the line so that Postfix's default applies; tlsmend raises the grade of mandatory TLS instead (postfix.mandatory-ciphers).",
    versions: "Postfix 2.3 and later.",
    sources: &[
        "postconf(5), tls_high_cipherlist <https://www.postfix.org/postconf.5.html#tls_high_cipherlist>",
        "Postfix TLS_README <https://www.postfix.org/TLS_README.html>",
    ],
};

pub const MEDIUM_CIPHERLIST: Rule = Rule {
    id: "postfix.medium-cipherlist",
    server: Server::Postfix,
    severity: Severity::Low,
    activation: Activation::Default,
    summary: "a hand-set tls_medium_cipherlist: Postfix strongly encourages not changing it (audit only)",
    checks: "Whether main.cf sets tls_medium_cipherlist, the OpenSSL cipher list behind the `medium` grade that opportunistic TLS uses by default (earlier tlsmend versions and many tutorials set it to a Mozilla list).",
    writes: "Nothing: audit only.",
    refuses: "Always: postconf(5) says \"You are strongly encouraged not to change this setting\". The medium grade serves opportunistic TLS on port 25 and outbound, where a handshake refused for want of a common cipher means plain text (RFC 7435). The finding suggests removing the line.",
    versions: "Postfix 2.3 and later.",
    sources: &[
        "postconf(5), tls_medium_cipherlist <https://www.postfix.org/postconf.5.html#tls_medium_cipherlist>",
        "RFC 7435, Opportunistic Security <https://www.rfc-editor.org/rfc/rfc7435>",
    ],
};

pub const PREEMPT: Rule = Rule {
    id: "postfix.preempt",
    server: Server::Postfix,
    severity: Severity::Low,
    activation: Activation::Default,
    summary: "tls_preempt_cipherlist = no (yes for old)",
    checks: "The effective tls_preempt_cipherlist (main.cf, else Postfix's default `no`), compared without regard to case as Postfix reads a boolean.",
    writes: "intermediate and modern: `no` (every suite allowed is strong, so the client picks the one fastest for it, as Mozilla advises); old: `yes` (weak suites are kept for legacy clients, so the server's order must win).",
    refuses: "Does not touch a templated value.",
    versions: "Postfix 2.8 and later.",
    sources: &[
        "postconf(5), tls_preempt_cipherlist <https://www.postfix.org/postconf.5.html#tls_preempt_cipherlist>",
        "Mozilla server-side TLS guidelines 6.0 <https://wiki.mozilla.org/Security/Server_Side_TLS>",
    ],
};

/// The rank of a Postfix cipher grade, as its name_code table reads it
/// (case-insensitive); `None` for a grade Postfix does not know.
pub(super) fn grade_rank(v: &str) -> Option<u8> {
    const GRADES: [&str; 5] = ["null", "export", "low", "medium", "high"];
    GRADES
        .iter()
        .position(|g| g.eq_ignore_ascii_case(v.trim()))
        .map(|p| p as u8)
}

pub(super) fn params(profile: Profile) -> Vec<Param> {
    let mut v = Vec::new();
    for (name, grade) in [
        (
            "smtpd_tls_mandatory_ciphers",
            profile.values().postfix_mandatory_grade,
        ),
        ("smtp_tls_mandatory_ciphers", "medium"),
    ] {
        let min = grade_rank(grade).expect("a Postfix grade");
        v.push(Param {
            rule: MANDATORY_CIPHERS.id,
            name,
            wanted: grade.into(),
            rewrite: None,
            judge: Box::new(move |val| grade_rank(val).is_some_and(|r| r >= min)),
            severity: Severity::High,
            reason: format!(
                "mandatory TLS uses a cipher grade below {grade}{}",
                if grade == "high" {
                    " (the medium grade keeps non-forward-secret and CBC suites)"
                } else {
                    " (export, low and null grades allow broken or no encryption)"
                }
            ),
        });
    }
    v
}

pub(super) fn preempt_params(profile: Profile) -> Vec<Param> {
    let preempt = profile == Profile::Old;
    vec![Param {
        rule: PREEMPT.id,
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
    /// A hand-set grade list: reported, never rewritten.
    pub(super) fn cipherlists(&mut self) {
        let b = self.main_bytes();
        for (rule, name) in [
            (HIGH_CIPHERLIST.id, "tls_high_cipherlist"),
            (MEDIUM_CIPHERLIST.id, "tls_medium_cipherlist"),
        ] {
            if let (Some(e), _) = self.inst.main.1.lookup(b, name) {
                let mut f = Finding::new(
                    rule,
                    Severity::Low,
                    self.main_file,
                    self.main_line(e.name.start()),
                );
                f.current = Some(format!("{name} = {}", e.value(b)).into());
                f.reason = format!(
                    "Postfix's documentation strongly encourages leaving {name} at its default: a hand-made list can leave a peer without a common cipher, and with opportunistic TLS that means plain text; tlsmend raises the grade of mandatory TLS instead"
                ).into();
                f.blocked = Some(format!(
                    "audit only: consider removing {name} so that Postfix's default applies"
                ));
                self.push(f, None);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades_rank_without_regard_to_case() {
        assert_eq!(grade_rank("HIGH"), grade_rank("high"));
        assert!(grade_rank("High") > grade_rank("medium"));
        assert!(grade_rank("export") < grade_rank("low"));
        assert!(grade_rank("null") < grade_rank("export"));
        assert_eq!(grade_rank("bogus"), None);
    }
}
