//! `postfix.submission`: the master.cf submission service on 587 that the
//! article asks for, uncommented where Debian ships it commented out,
//! inserted after `smtp` where it is missing, and planned only when SASL is
//! configured.

use super::Ctx;
use super::master::override_value;
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::edit::Patch;
use crate::plan::{Change, Finding, Severity};
use crate::syntax::lex::PhysLine;
use crate::syntax::postfix_lines::LineKind;
use crate::syntax::postfix_master::Service;
use std::path::Path;

pub const SUBMISSION: Rule = Rule {
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
};

impl Ctx<'_> {
    fn sasl_configured(&self) -> Result<String, String> {
        let ty = self
            .inst
            .effective("smtpd_sasl_type", self.version)
            .unwrap_or_default();
        let path = self
            .inst
            .effective("smtpd_sasl_path", self.version)
            .unwrap_or_default();
        let explicit = self.inst.raw("smtpd_sasl_type").is_some()
            && self.inst.raw("smtpd_sasl_path").is_some();
        if ty != "cyrus" && explicit && !path.is_empty() {
            return Ok(format!("smtpd_sasl_type = {ty}, smtpd_sasl_path = {path}"));
        }
        if ty == "cyrus" {
            for dir in [
                "/etc/postfix/sasl",
                "/etc/sasl2",
                "/usr/lib/sasl2",
                "/usr/lib/x86_64-linux-gnu/sasl2",
                "/usr/lib64/sasl2",
            ] {
                let p = Path::new(dir).join(format!("{path}.conf"));
                if self.root.exists(&p) {
                    return Ok(format!("Cyrus SASL with {}", p.display()));
                }
            }
            return Err(format!(
                "SASL is not configured: smtpd_sasl_type is cyrus but no {path}.conf exists in /etc/postfix/sasl or /etc/sasl2; set smtpd_sasl_type and smtpd_sasl_path (e.g. dovecot, private/auth)"
            ));
        }
        Err("SASL is not configured: set smtpd_sasl_type and smtpd_sasl_path (e.g. dovecot, private/auth)".into())
    }

    pub(super) fn submission(&mut self) {
        let Some((mf, m)) = &self.inst.master else {
            return;
        };
        let b = &mf.source.bytes;
        let file = self.report.file(mf);
        let active = m
            .services
            .iter()
            .find(|s| !s.commented() && s.valid() && is_submission(b, s));
        let commented = m
            .services
            .iter()
            .filter(|s| {
                s.commented()
                    && s.valid()
                    && s.field(b, 0) == "submission"
                    && s.field(b, 1) == "inet"
            })
            .max_by_key(|s| s.overrides.len());
        let smtp = m.services.iter().find(|s| {
            !s.commented() && s.valid() && s.field(b, 0) == "smtp" && s.field(b, 1) == "inet"
        });
        let login_maps = self
            .inst
            .raw("smtpd_sender_login_maps")
            .is_some_and(|v| !v.trim().is_empty());
        let mut wanted: Vec<(&str, String)> =
            OVERRIDES.iter().map(|(n, v)| (*n, v.to_string())).collect();
        if login_maps {
            wanted.push((
                "smtpd_sender_restrictions",
                "reject_sender_login_mismatch".into(),
            ));
        }
        let line = active
            .or(commented)
            .or(smtp)
            .map_or(1, |s| mf.source.line_of(s.span.start));
        let mut f = Finding::new("postfix.submission", Severity::Medium, file, line);
        f.wanted = Some(
            wanted
                .iter()
                .map(|(n, v)| format!("-o {n}={v}"))
                .collect::<Vec<_>>()
                .join(" "),
        );

        // A sender restriction that refuses every message is worse than none.
        if let Some(s) = active
            && !login_maps
            && let Some((_, v)) = s.override_value(b, "smtpd_sender_restrictions")
            && v.contains("reject_sender_login_mismatch")
        {
            let mut g = Finding::new(
                "postfix.submission",
                Severity::High,
                file,
                mf.source.line_of(s.span.start),
            );
            g.current = Some(format!("-o smtpd_sender_restrictions={v}"));
            g.reason = "reject_sender_login_mismatch without smtpd_sender_login_maps refuses every message".into();
            g.blocked = Some("audit only: set smtpd_sender_login_maps in main.cf, or drop reject_sender_login_mismatch".into());
            self.push(g, None);
        }

        let mut edits: Vec<Patch> = Vec::new();
        let mut current = Vec::new();
        let target = match (active, commented) {
            (Some(s), _) => Some(s),
            (None, Some(s)) => {
                edits.push(Patch::replace(s.hash.expect("commented"), ""));
                current.push("commented out".to_string());
                Some(s)
            }
            (None, None) => None,
        };
        let indent = target
            .and_then(|s| own_override_indent(b, s))
            .unwrap_or_else(|| {
                override_indent(b, m.services.iter().filter(|s| !s.commented()).collect())
            });
        let eol = mf.source.line_ending();
        let mut missing: Vec<String> = Vec::new();
        match target {
            Some(s) => {
                for (name, value) in &wanted {
                    let o = s
                        .overrides
                        .iter()
                        .rfind(|o| o.name.slice(b) == name.as_bytes());
                    let ok = |v: &str| submission_value_ok(name, v);
                    match o {
                        Some(o) => {
                            let v = String::from_utf8_lossy(o.value.slice(b)).into_owned();
                            if let Some(h) = o.hash {
                                edits.push(Patch::replace(h, ""));
                            }
                            if !ok(&self.inst.expand(&v, self.version, 0)) {
                                current.push(format!("-o {name}={v}"));
                                edits.push(Patch::replace(o.value, override_value(o, value)));
                            }
                        }
                        None => missing.push(format!("{indent}-o {name}={value}")),
                    }
                }
                if !missing.is_empty() {
                    let at = s.span.end;
                    let mut bytes = Vec::new();
                    if !b[..at].ends_with(b"\n") {
                        bytes.extend_from_slice(eol);
                    }
                    for l in &missing {
                        bytes.extend_from_slice(l.as_bytes());
                        bytes.extend_from_slice(eol);
                    }
                    edits.push(Patch::insert(at, bytes));
                    current.push(format!(
                        "missing {}",
                        missing
                            .iter()
                            .map(|m| m.trim())
                            .collect::<Vec<_>>()
                            .join(" ")
                    ));
                }
            }
            None => {
                let Some(smtp) = smtp else {
                    f.reason =
                        "no submission service, and no smtp/inet service to place one after".into();
                    f.blocked = Some("add a submission service by hand".into());
                    self.push(f, None);
                    return;
                };
                let mut text = service_line(b, smtp, "submission");
                text.extend_from_slice(eol);
                for (name, value) in &wanted {
                    text.extend_from_slice(format!("{indent}-o {name}={value}").as_bytes());
                    text.extend_from_slice(eol);
                }
                let at = smtp.span.end;
                let mut bytes = Vec::new();
                if !b[..at].ends_with(b"\n") {
                    bytes.extend_from_slice(eol);
                }
                bytes.extend(text);
                edits.push(Patch::insert(at, bytes));
                current.push("no submission service".into());
            }
        }
        // Uncommenting the lines of an otherwise good service is no change.
        let changes_value = !current.is_empty();
        if !changes_value {
            return;
        }
        f.current = Some(current.join("; "));
        f.reason = "mail clients should submit on port 587 with STARTTLS required and SASL authentication, not on port 25".into();
        if !login_maps {
            f.reason.push_str(" (reject_sender_login_mismatch, which the article adds, is left out: it needs smtpd_sender_login_maps, or every message is refused)");
        }
        match self.sasl_configured() {
            Err(why) => {
                f.blocked = Some(why);
                self.push(f, None);
            }
            Ok(how) => {
                let change = Change {
                    ldap: None,
                    rule: "postfix.submission",
                    reason: format!("submission on 587: STARTTLS required, SASL ({how})"),
                    edits: edits.into_iter().map(|p| (file, p)).collect(),
                };
                self.push(f, Some(change));
            }
        }
    }
}

/// The `-o` overrides of the submission service, from the article, updated.
pub(super) const OVERRIDES: &[(&str, &str)] = &[
    ("syslog_name", "postfix/submission"),
    ("smtpd_tls_security_level", "encrypt"),
    ("smtpd_sasl_auth_enable", "yes"),
    ("smtpd_tls_auth_only", "yes"),
    ("smtpd_sasl_security_options", "noanonymous"),
    (
        "smtpd_client_restrictions",
        "permit_sasl_authenticated,reject",
    ),
];

fn submission_value_ok(name: &str, v: &str) -> bool {
    let words: Vec<&str> = v
        .split([',', ' ', '\t'])
        .filter(|w| !w.is_empty())
        .collect();
    match name {
        "syslog_name" => !v.is_empty(),
        "smtpd_tls_security_level" => v.trim() == "encrypt",
        "smtpd_sasl_auth_enable" | "smtpd_tls_auth_only" => v.trim() == "yes",
        "smtpd_sasl_security_options" => words.contains(&"noanonymous"),
        "smtpd_client_restrictions" => words == ["permit_sasl_authenticated", "reject"],
        "smtpd_sender_restrictions" => words.contains(&"reject_sender_login_mismatch"),
        _ => true,
    }
}

pub(super) fn is_submission(b: &[u8], s: &Service) -> bool {
    let name = s.field(b, 0);
    let port = name.rsplit(':').next().unwrap_or("");
    s.field(b, 1) == "inet" && (port == "submission" || port == "587")
}

/// The indentation of a service's first `-o` line (after its `#` when the
/// service is commented out).
fn own_override_indent(b: &[u8], s: &Service) -> Option<String> {
    let o = s.overrides.first()?;
    let line_start = b[..o.span.start]
        .iter()
        .rposition(|&x| x == b'\n')
        .map_or(0, |p| p + 1);
    let from = o.hash.map_or(line_start, |h| h.end);
    let indent = &b[from..o.span.start];
    (indent.iter().all(|&x| x == b' ' || x == b'\t') && !indent.is_empty())
        .then(|| String::from_utf8_lossy(indent).into_owned())
}

/// The indentation of the file's active `-o` lines, two spaces by default.
fn override_indent(b: &[u8], services: Vec<&Service>) -> String {
    for s in services {
        for (line, kind) in &s.lines {
            if *kind != LineKind::Continued {
                continue;
            }
            let c = line.content.slice(b);
            let n = c.iter().take_while(|&&x| x == b' ' || x == b'\t').count();
            if c[n..].starts_with(b"-o") {
                return String::from_utf8_lossy(&c[..n]).into_owned();
            }
        }
    }
    "  ".into()
}

/// A service line for `name`, with `like`'s fields and column layout.
fn service_line(b: &[u8], like: &Service, name: &str) -> Vec<u8> {
    let first: &PhysLine = &like.lines[0].0;
    let cols: Vec<usize> = like
        .tokens
        .iter()
        .take(8)
        .map(|t| t.span.start - first.content.start)
        .collect();
    let mut out = String::from(name);
    for i in 1..8 {
        let col = cols.get(i).copied().unwrap_or(0);
        let pad = if out.len() < col { col - out.len() } else { 1 };
        out.push_str(&" ".repeat(pad));
        out.push_str(&like.field(b, i));
    }
    out.into_bytes()
}
