//! Rules for Courier IMAP's `imapd-ssl` and `imapd` (ids `courier.*`).
//!
//! The daemon sources `imapd` then `imapd-ssl`, so a value in `imapd-ssl`
//! wins; missing settings are added to `imapd-ssl`. Which settings mean
//! anything depends on the TLS library `couriertls` is linked with: a GnuTLS
//! build (Debian's) reads only `TLS_PRIORITY`; an OpenSSL build reads
//! `TLS_PROTOCOL`, `TLS_STARTTLS_PROTOCOL` and `TLS_CIPHER_LIST`. tlsmend
//! writes only what the build reads, reports the rest as no-ops, and reports
//! a priority string of the wrong dialect as broken (the 2017 article's
//! OpenSSL-style advice makes every GnuTLS handshake fail).
//!
//! This module holds the audit entry, the parsed files and the helpers the
//! rules share (reading a variable, replacing or inserting an assignment);
//! each rule, with its catalogue entry, lives in its own file.

mod certificate;
mod dh_params;
mod ignored;
mod imaps;
pub mod layout;
mod line_endings;
mod no_tls;
mod priority;
pub mod protocol;
mod shell;
mod starttls;

pub use ignored::detect_library;

use crate::catalogue::profile::Profile;
use crate::catalogue::rule::Rule;
use crate::discover::{self, ConfigFile, Root};
use crate::edit::Patch;
use crate::error::Result;
use crate::plan::{Change, Finding, Report, Severity};
use crate::source::Span;
use crate::syntax::courier::{Assignment, File, LineKind};
use crate::target::tlslib::TlsLibrary;
use crate::target::versions::TargetVersions;
use layout::Service;

/// The Courier rules, in the order `tlsmend rules` lists them.
pub const RULES: &[Rule] = &[
    starttls::STARTTLS,
    starttls::TLS_REQUIRED,
    priority::PRIORITY,
    protocol::PROTOCOL,
    protocol::CIPHERS,
    ignored::IGNORED,
    ignored::TLS_LIBRARY,
    certificate::CERTIFICATE,
    certificate::WEAK_KEY,
    dh_params::DH_PARAMS,
    line_endings::LINE_ENDINGS,
    imaps::IMAPS_OFF,
];

/// One Courier service's files, parsed and evaluated: the base file first,
/// the `-ssl` file last (it wins), each sourced file where it is sourced.
pub struct CourierConfig {
    pub service: &'static Service,
    pub files: Vec<(ConfigFile, File)>,
    /// Where settings are added: the `-ssl` file when there is one.
    pub last: usize,
    /// Every assignment in the order the shell runs them.
    steps: Vec<shell::Step>,
    /// What was found and what could not be evaluated.
    pub notes: Vec<String>,
}

impl CourierConfig {
    /// Courier IMAP, the service the live probes check.
    pub fn load(root: &Root) -> Result<Option<CourierConfig>> {
        Self::load_service(root, &layout::IMAP)
    }

    pub fn load_service(root: &Root, service: &'static Service) -> Result<Option<CourierConfig>> {
        let Some((layout, paths)) = discover::courier_files(root, &service.files) else {
            return Ok(None);
        };
        let ev = shell::evaluate(root, &paths)?;
        let last = ev
            .files
            .iter()
            .rposition(|(f, _)| f.path == paths[paths.len() - 1])
            .unwrap_or(0);
        let mut notes = vec![format!(
            "courier: {} files in {} ({layout})",
            service.name,
            paths[0]
                .parent()
                .map_or(String::new(), |d| d.display().to_string())
        )];
        notes.extend(ev.notes.into_iter().map(|n| format!("courier: {n}")));
        Ok(Some(CourierConfig {
            service,
            files: ev.files,
            last,
            steps: ev.steps,
            notes,
        }))
    }

    /// Every assignment of `name`, in the order the daemon reads them.
    fn assignments(&self, name: &str) -> Vec<(usize, &Assignment)> {
        self.steps
            .iter()
            .filter(|s| {
                s.assignment.name.slice(&self.files[s.file].0.source.bytes) == name.as_bytes()
            })
            .map(|s| (s.file, &s.assignment))
            .collect()
    }

    /// The value that takes effect, expanded; `None` when unset, and
    /// `Some(None)`-like unknowns (a command substitution) are `None` too:
    /// use [`CourierConfig::runs_command`] to tell them apart.
    pub fn value(&self, name: &str) -> Option<String> {
        self.last_step(name).and_then(|s| s.value.clone())
    }

    fn last_step(&self, name: &str) -> Option<&shell::Step> {
        self.steps.iter().rev().find(|s| {
            s.assignment.name.slice(&self.files[s.file].0.source.bytes) == name.as_bytes()
        })
    }

    /// Whether the assignment of `name` that takes effect runs a command.
    pub fn runs_command(&self, name: &str) -> bool {
        self.last_step(name).is_some_and(|s| s.value.is_none())
    }

    /// The expanded value of one assignment (`None`: it runs a command or
    /// is template markup).
    pub(crate) fn value_of(&self, f: usize, a: &Assignment) -> Option<String> {
        self.step_of(f, a).and_then(|s| s.value.clone())
    }

    fn step_of(&self, f: usize, a: &Assignment) -> Option<&shell::Step> {
        self.steps
            .iter()
            .find(|s| s.file == f && s.assignment.name == a.name)
    }
}

struct Ctx<'a> {
    cfg: &'a CourierConfig,
    root: &'a Root,
    report: &'a mut Report,
}

/// One variable with its wanted value and judge.
struct Var<'j> {
    rule: &'static str,
    name: &'static str,
    wanted: String,
    default_ok: bool,
    judge: &'j dyn Fn(&str) -> bool,
    severity: Severity,
    reason: String,
    /// A reason for this value in particular, in place of `reason`.
    explain: Option<&'j dyn Fn(&str) -> String>,
    absent_reason: String,
}

pub fn audit(
    cfg: &CourierConfig,
    root: &Root,
    profile: Profile,
    over: Option<TlsLibrary>,
    versions: &TargetVersions,
    report: &mut Report,
) {
    let mut cx = Ctx { cfg, root, report };
    cx.report.notes.extend(cfg.notes.iter().cloned());
    if !cx.tls_set_up() {
        cx.line_endings();
        return;
    }
    cx.starttls();
    match detect_library(cfg, root, over) {
        None => cx.unknown_library(),
        Some((TlsLibrary::Gnutls, how)) => {
            cx.report
                .notes
                .push(format!("courier: GnuTLS build ({how})"));
            cx.gnutls(profile, versions);
            for name in ["TLS_PROTOCOL", "TLS_STARTTLS_PROTOCOL", "TLS_CIPHER_LIST"] {
                cx.ignored(name, "GnuTLS", "TLS_PRIORITY");
            }
        }
        Some((TlsLibrary::Openssl, how)) => {
            cx.report
                .notes
                .push(format!("courier: OpenSSL build ({how})"));
            cx.openssl(profile, versions);
            cx.ignored(
                "TLS_PRIORITY",
                "OpenSSL",
                "TLS_PROTOCOL and TLS_CIPHER_LIST",
            );
        }
    }
    cx.line_endings();
    cx.certificates();
    cx.dh_params(profile);
    if std::ptr::eq(cfg.service, &layout::IMAP) {
        cx.imaps_off();
    }
    // IMAP and POP3 share the library and its version: said once.
    let mut seen = std::collections::HashSet::new();
    report
        .notes
        .retain(|n| !n.starts_with("courier: ") || seen.insert(n.clone()));
}

/// Every Courier service found (IMAP, POP3), each from its own layout.
pub fn load_all(root: &Root) -> Result<Vec<CourierConfig>> {
    let mut out = Vec::new();
    for s in layout::SERVICES {
        if let Some(c) = CourierConfig::load_service(root, s)? {
            out.push(c);
        }
    }
    Ok(out)
}

impl<'a> Ctx<'a> {
    fn bytes(&self, f: usize) -> &'a [u8] {
        &self.cfg.files[f].0.source.bytes
    }

    fn finding(&mut self, rule: &'static str, severity: Severity, f: usize, at: usize) -> Finding {
        let file = self.report.file(&self.cfg.files[f].0);
        let line = self.cfg.files[f].0.source.line_of(at);
        Finding::new(rule, severity, file, line)
    }

    fn push(&mut self, mut f: Finding, change: Option<Change>) {
        // A file two services read (one both source, such as a shared
        // /etc/default file) is judged by each: the same finding and the
        // same edit are made once.
        let dup_change = change.as_ref().is_some_and(|c| {
            self.report
                .changes
                .iter()
                .any(|o| o.rule == c.rule && o.edits == c.edits)
        });
        let dup_finding = self.report.findings.iter().any(|o| {
            o.rule == f.rule && o.file == f.file && o.line == f.line && o.reason == f.reason
        });
        if dup_change || (change.is_none() && dup_finding) {
            return;
        }
        if let Some(c) = change {
            f.change = Some(self.report.add_change(c));
        }
        self.report.add_finding(f);
    }

    /// The value as written, in the quotes it had (or double quotes when it
    /// needs them).
    fn render(value: &str, quote: Option<u8>) -> String {
        let plain = value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_./-,:=+@%".contains(&b));
        match quote {
            Some(b'\'') if !value.contains('\'') => format!("'{value}'"),
            Some(_) => format!("\"{value}\""),
            None if plain && !value.contains(':') => value.to_string(),
            None => format!("\"{value}\""),
        }
    }

    fn var(&mut self, v: &Var) {
        let found = self.cfg.assignments(v.name);
        // Only the assignment that takes effect (the last, in sourcing
        // order) is judged and edited: an earlier one is overridden.
        for &(f, a) in found.iter().rev().take(1) {
            let b = self.bytes(f);
            if self.cfg.value_of(f, a).is_none() {
                self.unjudgeable(v.rule, v.severity, f, a);
                continue;
            }
            // As written: the rules judge a `$TLS_PROTOCOL` reference themselves.
            let current = a.value_str(b);
            if (v.judge)(&current) {
                continue;
            }
            let mut finding = self.finding(v.rule, v.severity, f, a.name.start());
            let reason = v.explain.map_or_else(|| v.reason.clone(), |e| e(&current));
            finding.current = Some(current.into());
            finding.wanted = Some(v.wanted.clone().into());
            finding.reason = reason.clone().into();
            let file = finding.file;
            let text = Self::render(&v.wanted, a.quote(b));
            let change = Change {
                ldap: None,
                rule: v.rule,
                reason: format!("{}={}: {}", v.name, text, reason).into(),
                edits: vec![(file, Patch::replace(a.value, text))],
            };
            self.push(finding, Some(change));
        }
        if !found.is_empty() || v.default_ok {
            return;
        }
        self.insert(v.rule, v.name, &v.wanted, v.severity, &v.absent_reason);
    }

    /// A value that runs a command (`$(...)`, backquotes): tlsmend would
    /// have to run it to know it, and never does. Template markup: the
    /// template is the source. Either way nothing is planned.
    fn unjudgeable(&mut self, rule: &'static str, severity: Severity, f: usize, a: &Assignment) {
        let b = self.bytes(f);
        let templated = self.cfg.step_of(f, a).and_then(|s| s.templated);
        let mut finding = self.finding(rule, severity, f, a.name.start());
        finding.current = Some(
            String::from_utf8_lossy(a.value.slice(b))
                .into_owned()
                .into(),
        );
        match templated {
            Some(kind) => {
                finding.reason = crate::servers::template::reason(kind, "Courier").into();
                finding.blocked = Some(crate::servers::template::BLOCKED.into());
            }
            None => {
                finding.reason = format!(
                    "{} runs a command ($(...) or backquotes): its value cannot be judged without running it, and tlsmend never runs configuration",
                    a.name_str(b)
                ).into();
                finding.blocked = Some("write the value literally, then run tlsmend again".into());
            }
        }
        self.push(finding, None);
    }

    /// Adds `name=value` to imapd-ssl: uncommenting `#name=...` if there is
    /// one, else after the `##NAME: name` section's comments, else at the end.
    fn insert(
        &mut self,
        rule: &'static str,
        name: &str,
        wanted: &str,
        severity: Severity,
        reason: &str,
    ) {
        let f = self.cfg.last;
        let b = self.bytes(f);
        let parsed = &self.cfg.files[f].1;
        let eol = self.cfg.files[f].0.source.line_ending();
        let commented = parsed.lines.iter().rev().find_map(|l| match &l.kind {
            LineKind::Commented { hash, assignment }
                if assignment.name.slice(b) == name.as_bytes() =>
            {
                Some((hash, assignment))
            }
            _ => None,
        });
        let mut finding = self.finding(rule, severity, f, 0);
        finding.wanted = Some(wanted.to_string().into());
        finding.reason = reason.to_string().into();
        let patch = if let Some((hash, a)) = commented {
            finding.line = self.cfg.files[f].0.source.line_of(hash.start());
            finding.current = Some(
                format!(
                    "(commented out) {}",
                    String::from_utf8_lossy(&b[hash.start()..a.value.end()])
                )
                .into(),
            );
            let text = format!("{name}={}", Self::render(wanted, a.quote(b)));
            Patch::replace(Span::new(hash.start(), a.value.end()), text)
        } else {
            let header = parsed.lines.iter().position(|l| matches!(&l.kind, LineKind::Header { name: n } if n.slice(b) == name.as_bytes()));
            let text = format!("{name}={}", Self::render(wanted, None));
            match header {
                Some(h) => {
                    let mut k = h + 1;
                    while k < parsed.lines.len()
                        && matches!(parsed.lines[k].kind, LineKind::Comment)
                    {
                        k += 1;
                    }
                    let at = parsed.lines[k - 1].span.end();
                    finding.line = self.cfg.files[f]
                        .0
                        .source
                        .line_of(parsed.lines[h].span.start());
                    let mut bytes = Vec::new();
                    if !b[..at].ends_with(b"\n") {
                        bytes.extend_from_slice(eol);
                    }
                    // Debian's files leave a blank line between a section's comments and its value.
                    bytes.extend_from_slice(eol);
                    bytes.extend(crate::style::line(b"", &text, eol));
                    let bytes = if k < parsed.lines.len()
                        && matches!(parsed.lines[k].kind, LineKind::Blank)
                    {
                        bytes
                    } else {
                        bytes[eol.len()..].to_vec()
                    };
                    Patch::insert(at, bytes)
                }
                None => {
                    finding.line = self.cfg.files[f].0.source.line_of(b.len());
                    let mut bytes = Vec::new();
                    if !b.is_empty() && !b.ends_with(b"\n") {
                        bytes.extend_from_slice(eol);
                    }
                    bytes.extend(crate::style::line(b"", &text, eol));
                    Patch::insert(b.len(), bytes)
                }
            }
        };
        let file = finding.file;
        let change = Change {
            ldap: None,
            rule,
            reason: format!("{name}={wanted}: {reason}").into(),
            edits: vec![(file, patch)],
        };
        self.push(finding, Some(change));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_their_quotes() {
        assert_eq!(Ctx::render("YES", None), "YES");
        assert_eq!(Ctx::render("a:b", None), "\"a:b\"");
        assert_eq!(Ctx::render("1", Some(b'\'')), "'1'");
    }
}
