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

mod auth_only;
mod certificate;
mod ciphers;
mod curves;
mod hygiene;
mod levels;
mod master;
pub mod model;
mod protocols;
mod submission;

use crate::catalogue::profile::Profile;
use crate::catalogue::rule::Rule;
use crate::discover::Root;
use crate::edit::Patch;
use crate::plan::{Change, Finding, Report, Severity};
use crate::servers::postfix::model::{Instance, PostfixVersion};
use crate::source::Span;
use crate::syntax::postfix_lines::LineKind;
use crate::syntax::postfix_main::Entry;

use levels::level_rank;

/// The catalogue's Postfix rules, in the order `tlsmend rules` lists them.
pub const RULES: &[Rule] = &[
    levels::SMTPD_SECURITY_LEVEL,
    auth_only::SMTPD_AUTH_ONLY,
    levels::SMTP_SECURITY_LEVEL,
    protocols::MANDATORY_PROTOCOLS,
    protocols::OPPORTUNISTIC_PROTOCOLS,
    protocols::PROTOCOL_SYNTAX,
    ciphers::MANDATORY_CIPHERS,
    ciphers::PREEMPT,
    curves::CURVES,
    ciphers::HIGH_CIPHERLIST,
    ciphers::MEDIUM_CIPHERLIST,
    certificate::CERTIFICATE,
    certificate::WEAK_KEY,
    certificate::DH_PARAMS,
    hygiene::SHADOWED,
    hygiene::SYNTAX,
    submission::SUBMISSION,
    submission::SUBMISSIONS,
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

/// Whether a value is template markup (see `servers::template`): tlsmend
/// reports it and never replaces it. Postfix's own `$name` and `${name}`
/// are values.
pub(super) fn templated(v: &str) -> bool {
    crate::servers::template::markup(v, crate::servers::template::Format::Postfix).is_some()
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

/// Every parameter rule that `param` judges in main.cf (and
/// `service_overrides` in master.cf `-o`), in the order their missing
/// parameters are inserted.
pub(super) fn params(profile: Profile, version: Option<PostfixVersion>) -> Vec<Param> {
    let mut v = protocols::params(profile, version);
    v.extend(ciphers::params(profile));
    v.extend(ciphers::preempt_params(profile));
    v.extend(auth_only::params());
    v.extend(curves::params(profile));
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
    cx.cipherlists();
    cx.certificate();
    cx.dh_params(profile.values().min_dh_bits);
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
        self.report.add_finding(f);
    }

    /// The finding for a parameter whose value is a template.
    pub(super) fn templated_finding(
        &mut self,
        rule: &'static str,
        file: usize,
        line: usize,
        current: String,
    ) {
        let mut f = Finding::new(rule, Severity::Medium, file, line);
        f.current = Some(current.into());
        f.reason = "templated: fix the template (this value is template markup, not a value Postfix can read; tlsmend cannot judge it and will not replace it)".into();
        f.blocked = Some("templated: fix the template that renders this file".into());
        self.push(f, None);
    }

    pub(super) fn eff_value(&self, e: &Entry) -> String {
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
                let seg = seg.unwrap_or(Span::empty(line.content.end()));
                let text = if k == 0
                    && seg.is_empty()
                    && b.get(seg.start().wrapping_sub(1)) == Some(&b'=')
                    && self.dominant_spaced()
                {
                    format!(" {wanted}")
                } else {
                    wanted.to_string()
                };
                if seg.is_empty() && seg.start() > 0 {
                    // An empty value is filled by replacing the byte before
                    // it too: an insertion at the same offset (a new line
                    // after a last line with no newline) then sorts after
                    // this value instead of splitting `name=` from it.
                    let mut with = vec![b[seg.start() - 1]];
                    with.extend_from_slice(text.as_bytes());
                    patches.push(Patch::replace(
                        Span::new(seg.start() - 1, seg.start()),
                        with,
                    ));
                } else {
                    patches.push(Patch::replace(seg, text));
                }
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
                if eq.start() > e.name.end() || b.get(eq.end()) == Some(&b' ') {
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
            Some(a) => self.main_line(a.name.start()),
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
            Some(a) => a.span.end(),
            None => b.len(),
        };
        // After a last line with no newline, each new line brings its own
        // line break first and the file still ends without one: every
        // insertion stays right alone or with the others (a user may pick
        // any of them), and none is glued to the line before.
        let unterminated = at > 0 && !b[..at].ends_with(b"\n");
        if unterminated {
            bytes.extend_from_slice(eol);
        }
        if anchor.is_none() && !self.header_planned {
            self.header_planned = true;
            bytes.extend_from_slice(eol);
            bytes.extend_from_slice(b"# TLS settings added by tlsmend");
            bytes.extend_from_slice(eol);
        }
        bytes.extend_from_slice(text.as_bytes());
        if !unterminated {
            bytes.extend_from_slice(eol);
        }
        Patch::insert(at, bytes)
    }

    fn param(&mut self, p: &Param) {
        let b = self.main_bytes();
        let (eff, _) = self.inst.main.1.lookup(b, p.name);
        match eff {
            Some(e) => {
                let current = self.eff_value(e);
                if templated(&e.value(b)) || templated(&current) {
                    let line = self.main_line(e.name.start());
                    let file = self.main_file;
                    self.templated_finding(
                        p.rule,
                        file,
                        line,
                        format!("{} = {}", p.name, e.value(b)),
                    );
                    return;
                }
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
                    self.main_line(e.name.start()),
                );
                f.current = Some(format!("{} = {}", p.name, e.value(b)).into());
                f.wanted = Some(format!("{} = {wanted}", p.name).into());
                f.reason = p.reason.clone().into();
                let file = self.main_file;
                let change = Change {
                    ldap: None,
                    rule: p.rule,
                    reason: format!("{} = {wanted}: {}", p.name, p.reason).into(),
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
                f.current =
                    Some(format!("{} not set: Postfix's default is {default:?}", p.name).into());
                f.wanted = Some(format!("{} = {}", p.name, p.wanted).into());
                f.reason = p.reason.clone().into();
                let file = self.main_file;
                let patch = self.insert_main(p.name, &p.wanted);
                let change = Change {
                    ldap: None,
                    rule: p.rule,
                    reason: format!("{} = {}: {}", p.name, p.wanted, p.reason).into(),
                    edits: vec![(file, patch)],
                };
                self.push(f, Some(change));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::rule::PRIMARY_SOURCES;

    #[test]
    fn every_rule_says_what_it_does_and_rests_on_a_primary_source() {
        for r in RULES {
            for (what, text) in [
                ("summary", r.summary),
                ("checks", r.checks),
                ("writes", r.writes),
                ("refuses", r.refuses),
                ("versions", r.versions),
            ] {
                assert!(!text.trim().is_empty(), "{}: empty {what}", r.id);
            }
            let first = r.sources.first().expect("a source");
            let url = first
                .split_once('<')
                .map(|(_, u)| u.trim_end_matches('>'))
                .unwrap_or("");
            assert!(
                PRIMARY_SOURCES.iter().any(|p| url.starts_with(p)),
                "{}: first source {first:?}",
                r.id
            );
            assert!(r.id.starts_with("postfix."), "{}", r.id);
        }
    }
}
