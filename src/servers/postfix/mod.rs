//! Rules for Postfix `main.cf` and `master.cf` (ids `postfix.*`).
//!
//! Rules judge the value Postfix will use: the last definition in main.cf
//! (earlier ones are reported as shadowed), overridden per service by
//! master.cf `-o`, and Postfix's built-in default for the detected version
//! where a parameter is absent. The definition that takes effect is the one
//! edited. Postfix is where a naive tool breaks mail for a whole
//! organisation, so the guard rails matter as much as the values: no
//! parameter the version does not know, no submission service without SASL,
//! no `reject_sender_login_mismatch` without `smtpd_sender_login_maps`, no
//! setting that is already stronger made weaker (`encrypt`, `dane`, `high`,
//! `>=TLSv1.3` stay).

mod master;
pub mod model;

use crate::catalogue::profile::{Profile, Version, cipher_list_meets};
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::discover::Root;
use crate::edit::Patch;
use crate::plan::{Change, Finding, Report, Severity};
use crate::servers::postfix::model::{Instance, PostfixVersion, protocols};
use crate::source::Span;
use crate::syntax::postfix_lines::LineKind;
use crate::syntax::postfix_main::Entry;
use std::path::Path;

pub const RULES: &[Rule] = &[
    Rule {
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
    },
    Rule {
        id: "postfix.smtpd-auth-only",
        server: Server::Postfix,
        severity: Severity::Medium,
        activation: Activation::Default,
        summary: "smtpd_tls_auth_only = yes: no AUTH before STARTTLS",
        checks: "",
        writes: "",
        refuses: "",
        versions: "",
        sources: &[],
    },
    Rule {
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
    },
    Rule {
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
    },
    Rule {
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
    },
    Rule {
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
    },
    Rule {
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
    },
    Rule {
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
    },
    Rule {
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
    },
    Rule {
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
    },
    Rule {
        id: "postfix.shadowed",
        server: Server::Postfix,
        severity: Severity::Medium,
        activation: Activation::Default,
        summary: "an earlier definition of a parameter that a later one overrides (audit only)",
        checks: "",
        writes: "",
        refuses: "",
        versions: "",
        sources: &[],
    },
    Rule {
        id: "postfix.syntax",
        server: Server::Postfix,
        severity: Severity::Medium,
        activation: Activation::Default,
        summary: "a main.cf line without '=' or a master.cf service without 8 fields: Postfix refuses it (audit only)",
        checks: "",
        writes: "",
        refuses: "",
        versions: "",
        sources: &[],
    },
    Rule {
        id: "postfix.submission",
        server: Server::Postfix,
        severity: Severity::Medium,
        activation: Activation::Default,
        summary: "master.cf submission service on 587 with STARTTLS required and SASL, when SASL is configured",
        checks: "",
        writes: "",
        refuses: "",
        versions: "",
        sources: &[],
    },
];

/// How a parameter's current value reads.
type Judge = Box<dyn Fn(&str) -> bool>;
/// The value to write instead of a given current one.
type Rewrite = Box<dyn Fn(&str) -> String>;

pub(super) struct Param {
    pub(super) rule: &'static str,
    pub(super) name: &'static str,
    /// The value to write; `rewrite` may derive it from the current value.
    pub(super) wanted: String,
    pub(super) rewrite: Option<Rewrite>,
    pub(super) judge: Judge,
    pub(super) severity: Severity,
    pub(super) reason: String,
}

pub(super) struct Ctx<'a> {
    pub(super) inst: &'a Instance,
    pub(super) root: &'a Root,
    pub(super) version: Option<PostfixVersion>,
    pub(super) report: &'a mut Report,
    pub(super) main_file: usize,
    /// Whether a change of this run already adds the tlsmend comment header
    /// at the end of main.cf.
    pub(super) header_planned: bool,
}

pub(super) fn level_rank(v: &str) -> Option<u8> {
    Some(match v.trim() {
        "" | "none" => 0,
        "may" => 1,
        "encrypt" | "dane" | "dane-only" | "fingerprint" | "verify" | "secure" => 2,
        _ => return None,
    })
}

fn grade_ok(v: &str) -> bool {
    matches!(v.trim(), "medium" | "high")
}

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
    let preempt = profile == Profile::Old;
    v.push(Param {
        rule: "postfix.preempt",
        name: "tls_preempt_cipherlist",
        wanted: if preempt { "yes" } else { "no" }.into(),
        rewrite: None,
        judge: Box::new(move |val| val.trim().eq_ignore_ascii_case(if preempt { "yes" } else { "no" })),
        severity: Severity::Low,
        reason: if preempt {
            "the old profile keeps weak suites, so the server's order must win".into()
        } else {
            "every suite the profile allows is strong: clients choose the one fastest for them (Mozilla)".into()
        },
    });
    v.push(Param {
        rule: "postfix.smtpd-auth-only",
        name: "smtpd_tls_auth_only",
        wanted: "yes".into(),
        rewrite: None,
        judge: Box::new(|val| val.trim().eq_ignore_ascii_case("yes")),
        severity: Severity::High,
        reason:
            "SMTP AUTH is offered before STARTTLS, so passwords can cross the network in clear text"
                .into(),
    });
    v.push(Param {
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
    });
    v
}

pub fn audit(
    inst: &Instance,
    root: &Root,
    profile: Profile,
    version: Option<PostfixVersion>,
    report: &mut Report,
) {
    let main_file = report.file(&inst.main.0);
    let mut cx = Ctx {
        inst,
        root,
        version,
        report,
        main_file,
        header_planned: false,
    };
    cx.syntax();
    cx.security_levels();
    for p in params(profile, version) {
        cx.param(&p);
    }
    cx.shadowed();
    cx.high_cipherlist();
    cx.certificate();
    if inst.master.is_some() {
        cx.service_overrides(profile);
        cx.submission();
    }
}

impl<'a> Ctx<'a> {
    pub(super) fn main_bytes(&self) -> &'a [u8] {
        &self.inst.main.0.source.bytes
    }

    pub(super) fn main_line(&self, at: usize) -> usize {
        self.inst.main.0.source.line_of(at)
    }

    pub(super) fn push(&mut self, mut f: Finding, change: Option<Change>) {
        if let Some(c) = change {
            f.change = Some(self.report.add_change(c));
        }
        self.report.findings.push(f);
    }

    fn eff_value(&self, e: &Entry) -> String {
        self.inst
            .expand(&e.value(self.main_bytes()), self.version, 0)
    }

    /// Patches that give entry `e` the value `wanted`: the first value line
    /// gets it, later continuation lines go, comment lines stay.
    fn set_entry(&self, e: &Entry, wanted: &str) -> Vec<Patch> {
        let b = self.main_bytes();
        let mut patches = Vec::new();
        let target = e.segments.iter().position(|s| !s.is_empty()).unwrap_or(0);
        let mut seg_index = 0;
        for (k, (line, kind)) in e.lines.iter().enumerate() {
            let is_value_line = k == 0 || *kind == LineKind::Continued;
            if !is_value_line {
                continue;
            }
            let seg = e.segments.get(seg_index).copied();
            if seg_index == target {
                let seg = seg.unwrap_or(Span::empty(line.content.end));
                let text = if k == 0
                    && seg.is_empty()
                    && b.get(seg.start.wrapping_sub(1)) == Some(&b'=')
                    && self.dominant_spaced()
                {
                    format!(" {wanted}")
                } else {
                    wanted.to_string()
                };
                patches.push(Patch::replace(seg, text));
            } else if k > 0 {
                patches.push(Patch::replace(line.span(), ""));
            }
            seg_index += 1;
        }
        patches
    }

    /// Does the file write `name = value` (rather than `name=value`)?
    fn dominant_spaced(&self) -> bool {
        let b = self.main_bytes();
        let (mut spaced, mut tight) = (0, 0);
        for e in &self.inst.main.1.entries {
            if let Some(eq) = e.eq {
                if eq.start > e.name.end || b.get(eq.end) == Some(&b' ') {
                    spaced += 1
                } else {
                    tight += 1
                }
            }
        }
        spaced >= tight
    }

    /// The last TLS-related entry, after which new parameters go.
    fn tls_anchor(&self) -> Option<&'a Entry> {
        let b = self.main_bytes();
        self.inst
            .main
            .1
            .entries
            .iter()
            .rfind(|e| e.eq.is_some() && String::from_utf8_lossy(e.name.slice(b)).contains("tls"))
    }

    /// The line a finding about a missing parameter points at: where it goes.
    fn insert_line(&self) -> usize {
        match self.tls_anchor() {
            Some(a) => self.main_line(a.name.start),
            None => self.main_line(self.main_bytes().len()),
        }
    }

    /// A patch that adds `name = value` after the last TLS parameter, or at
    /// the end under a comment naming tlsmend.
    fn insert_main(&mut self, name: &str, value: &str) -> Patch {
        let b = self.main_bytes();
        let eol = self.inst.main.0.source.line_ending();
        let text = if self.dominant_spaced() {
            format!("{name} = {value}")
        } else {
            format!("{name}={value}")
        };
        let anchor = self.tls_anchor();
        let mut bytes = Vec::new();
        let at = match anchor {
            Some(a) => a.span.end,
            None => b.len(),
        };
        if at > 0 && !b[..at].ends_with(b"\n") {
            bytes.extend_from_slice(eol);
        }
        if anchor.is_none() && !self.header_planned {
            self.header_planned = true;
            bytes.extend_from_slice(eol);
            bytes.extend_from_slice(b"# TLS settings added by tlsmend");
            bytes.extend_from_slice(eol);
        }
        bytes.extend_from_slice(text.as_bytes());
        bytes.extend_from_slice(eol);
        Patch::insert(at, bytes)
    }

    fn syntax(&mut self) {
        let b = self.main_bytes();
        for e in self.inst.main.1.entries.iter().filter(|e| e.eq.is_none()) {
            let mut f = Finding::new(
                "postfix.syntax",
                Severity::High,
                self.main_file,
                self.main_line(e.span.start),
            );
            f.current = Some(String::from_utf8_lossy(e.lines[0].0.content.slice(b)).into_owned());
            f.reason = "this logical line has no '=': postconf stops with \"missing '=' after attribute name\", so Postfix will not start".into();
            f.blocked = Some("fix this line by hand; tlsmend does not guess what was meant".into());
            self.push(f, None);
        }
        if let Some((mf, m)) = &self.inst.master {
            let file = self.report.file(mf);
            for s in m.services.iter().filter(|s| !s.commented() && !s.valid()) {
                let mut f = Finding::new(
                    "postfix.syntax",
                    Severity::High,
                    file,
                    mf.source.line_of(s.span.start),
                );
                f.current = Some(
                    String::from_utf8_lossy(s.lines[0].0.content.slice(&mf.source.bytes))
                        .into_owned(),
                );
                f.reason =
                    "a master.cf service needs 8 fields: Postfix stops with \"bad field count\""
                        .into();
                f.blocked = Some("fix this line by hand".into());
                self.push(f, None);
            }
        }
    }

    fn has_certificate(&self) -> bool {
        [
            "smtpd_tls_chain_files",
            "smtpd_tls_cert_file",
            "smtpd_tls_eccert_file",
        ]
        .iter()
        .any(|n| self.inst.raw(n).is_some_and(|v| !v.trim().is_empty()))
    }

    fn security_levels(&mut self) {
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

    fn param(&mut self, p: &Param) {
        let b = self.main_bytes();
        let (eff, _) = self.inst.main.1.lookup(b, p.name);
        match eff {
            Some(e) => {
                let current = self.eff_value(e);
                if (p.judge)(&current) {
                    return;
                }
                let wanted = p
                    .rewrite
                    .as_ref()
                    .map_or_else(|| p.wanted.clone(), |r| r(&current));
                let mut f = Finding::new(
                    p.rule,
                    p.severity,
                    self.main_file,
                    self.main_line(e.name.start),
                );
                f.current = Some(format!("{} = {}", p.name, e.value(b)));
                f.wanted = Some(format!("{} = {wanted}", p.name));
                f.reason = p.reason.clone();
                let file = self.main_file;
                let change = Change {
                    ldap: None,
                    rule: p.rule,
                    reason: format!("{} = {wanted}: {}", p.name, p.reason),
                    edits: self
                        .set_entry(e, &wanted)
                        .into_iter()
                        .map(|x| (file, x))
                        .collect(),
                };
                self.push(f, Some(change));
            }
            None => {
                if p.name == "tls_eecdh_auto_curves" {
                    return; // Postfix's default list is strong; never write what may be unknown
                }
                let Some(default) = self.inst.effective(p.name, self.version) else {
                    return;
                };
                if (p.judge)(&default) {
                    return;
                }
                let mut f = Finding::new(p.rule, p.severity, self.main_file, self.insert_line());
                f.current = Some(format!(
                    "{} not set: Postfix's default is {default:?}",
                    p.name
                ));
                f.wanted = Some(format!("{} = {}", p.name, p.wanted));
                f.reason = p.reason.clone();
                let file = self.main_file;
                let patch = self.insert_main(p.name, &p.wanted);
                let change = Change {
                    ldap: None,
                    rule: p.rule,
                    reason: format!("{} = {}: {}", p.name, p.wanted, p.reason),
                    edits: vec![(file, patch)],
                };
                self.push(f, Some(change));
            }
        }
    }

    fn shadowed(&mut self) {
        let b = self.main_bytes();
        let mut seen = std::collections::HashMap::new();
        for e in self.inst.main.1.entries.iter().filter(|e| e.eq.is_some()) {
            seen.insert(e.name.slice(b), e);
        }
        for e in self.inst.main.1.entries.iter().filter(|e| e.eq.is_some()) {
            let last = seen[e.name.slice(b)];
            if std::ptr::eq(last, e) {
                continue;
            }
            let name = e.name_str(b);
            let mut f = Finding::new(
                "postfix.shadowed",
                Severity::Info,
                self.main_file,
                self.main_line(e.name.start),
            );
            f.current = Some(format!("{name} = {}", e.value(b)));
            f.reason = format!(
                "overridden by the definition on line {} (the last one wins); tlsmend edits that one",
                self.main_line(last.name.start)
            );
            f.blocked = Some("audit only: remove the earlier definition to avoid confusion".into());
            self.push(f, None);
        }
    }

    fn high_cipherlist(&mut self) {
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

    fn certificate(&mut self) {
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

    #[test]
    fn security_levels_rank() {
        assert_eq!(level_rank(""), Some(0));
        assert_eq!(level_rank("dane"), Some(2));
        assert_eq!(level_rank("bogus"), None);
    }
}
