//! The mail submission services of master.cf (RFC 8314): `postfix.submission`
//! (587, STARTTLS required) and `postfix.submissions` (465, implicit TLS,
//! opt-in). Each is uncommented where Debian ships it commented out
//! (only the `-o` lines it needs), inserted where it is missing, laid out
//! like its neighbours, and planned only when SASL is configured. An
//! existing service keeps its `syslog_name` (log tools key on it) and a
//! client restriction list that already admits only authenticated clients.

use super::Ctx;
use super::levels::{ENCRYPT, level_rank};
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
    checks: "The master.cf service on port 587 (`submission`, `587`, `ADDR:submission`): its `-o` overrides, `$name` references expanded from main.cf, values compared as Postfix reads them (`Encrypt` is encrypt). It meets the rule with smtpd_tls_security_level encrypt (or stronger), smtpd_sasl_auth_enable=yes, smtpd_tls_auth_only=yes, smtpd_sasl_security_options containing noanonymous, and a smtpd_client_restrictions list that contains permit_sasl_authenticated and ends in reject (Debian's `$mua_client_restrictions` pattern, e.g. `permit_mynetworks,permit_sasl_authenticated,reject`, qualifies). A missing service, or Debian's commented-out one, is reported. `reject_sender_login_mismatch` without smtpd_sender_login_maps is reported (it refuses every message).",
    writes: "For a missing or weak override: `-o syslog_name=postfix/submission` (new services only), `-o smtpd_tls_security_level=encrypt`, `-o smtpd_sasl_auth_enable=yes`, `-o smtpd_tls_auth_only=yes`, `-o smtpd_sasl_security_options=noanonymous`, `-o smtpd_client_restrictions=permit_sasl_authenticated,reject`, and `-o smtpd_sender_restrictions=reject_sender_login_mismatch` when smtpd_sender_login_maps is set. Debian's commented-out service is uncommented with the `-o` lines it needs (its other `#  -o` lines stay commented); a missing one is inserted after `smtp`, with its columns. The same for every profile: the protocol floor of submission is postfix.mandatory-protocols'.",
    refuses: "Writes nothing unless SASL is configured (smtpd_sasl_type and smtpd_sasl_path, or Cyrus with its smtpd.conf): a submission service that cannot authenticate rejects every client. Never renames the syslog_name of an existing service; never rewrites a restriction list that already admits only authenticated clients; never lowers a stronger value; never adds reject_sender_login_mismatch without smtpd_sender_login_maps; does not touch a templated value.",
    versions: "Postfix 2.3 and later (smtpd_tls_security_level in -o); the master.cf layout of Postfix 3.x.",
    sources: &[
        "Postfix SASL_README, enabling SASL authentication in the Postfix SMTP server <https://www.postfix.org/SASL_README.html#server_sasl_enable>",
        "master(5) <https://www.postfix.org/master.5.html>",
        "postconf(5), smtpd_client_restrictions <https://www.postfix.org/postconf.5.html#smtpd_client_restrictions>",
        "RFC 6409, Message Submission for Mail <https://www.rfc-editor.org/rfc/rfc6409>",
        "RFC 8314, Cleartext Considered Obsolete <https://www.rfc-editor.org/rfc/rfc8314>",
    ],
};

pub const SUBMISSIONS: Rule = Rule {
    id: "postfix.submissions",
    server: Server::Postfix,
    severity: Severity::Low,
    activation: Activation::OptIn,
    summary: "master.cf submissions service on 465 with implicit TLS (RFC 8314) and SASL, when SASL is configured (opt-in)",
    checks: "The master.cf service on port 465 (`submissions`, the older `smtps`, `465`): like postfix.submission, plus `-o smtpd_tls_wrappermode=yes` (TLS from the first byte). A missing service, or Debian's commented-out one, is reported.",
    writes: "For a missing or weak override: `-o syslog_name=postfix/submissions` (new services only), `-o smtpd_tls_wrappermode=yes`, `-o smtpd_tls_security_level=encrypt` (so that the mandatory protocols and ciphers apply), `-o smtpd_sasl_auth_enable=yes`, `-o smtpd_tls_auth_only=yes`, `-o smtpd_sasl_security_options=noanonymous`, `-o smtpd_client_restrictions=permit_sasl_authenticated,reject`. Debian's commented-out `submissions` (or `smtps`) block is uncommented with the lines it needs; a missing one is inserted after the submission service (or `smtp`).",
    refuses: "Opt-in (run with --with postfix.submissions, or accept it in the interactive review): RFC 8314 recommends implicit TLS for submission, but enabling it opens a new listening port, which needs a firewall opening, clients configured for it, and a free port 465 (Postfix's master exits when it cannot bind), none of which tlsmend can check from the files; submission on 587 with STARTTLS required already keeps credentials off the wire. The same guard rails as postfix.submission: nothing without SASL, no syslog_name renamed, no good restriction list rewritten, no templated value touched.",
    versions: "Postfix 3.0 and later (smtpd_tls_wrappermode from 2.x; the `submissions` service name needs it in /etc/services, present on current distributions).",
    sources: &[
        "RFC 8314, Cleartext Considered Obsolete, section 3.3 <https://www.rfc-editor.org/rfc/rfc8314#section-3.3>",
        "postconf(5), smtpd_tls_wrappermode <https://www.postfix.org/postconf.5.html#smtpd_tls_wrappermode>",
        "Postfix SASL_README <https://www.postfix.org/SASL_README.html>",
    ],
};

/// One submission service: what it is called, where it listens, and what
/// its `-o` overrides must say.
pub(super) struct Spec {
    rule: &'static str,
    /// The service name to write, and the one of a commented-out block.
    names: &'static [&'static str],
    port: &'static str,
    pub(super) overrides: &'static [(&'static str, &'static str)],
    what: &'static str,
}

/// The `-o` overrides of the submission service, from the article, updated.
pub(super) const SUBMISSION_SPEC: Spec = Spec {
    rule: SUBMISSION.id,
    names: &["submission"],
    port: "587",
    overrides: &[
        ("syslog_name", "postfix/submission"),
        ("smtpd_tls_security_level", "encrypt"),
        ("smtpd_sasl_auth_enable", "yes"),
        ("smtpd_tls_auth_only", "yes"),
        ("smtpd_sasl_security_options", "noanonymous"),
        (
            "smtpd_client_restrictions",
            "permit_sasl_authenticated,reject",
        ),
    ],
    what: "mail clients should submit on port 587 with STARTTLS required and SASL authentication, not on port 25",
};

pub(super) const SUBMISSIONS_SPEC: Spec = Spec {
    rule: SUBMISSIONS.id,
    names: &["submissions", "smtps"],
    port: "465",
    overrides: &[
        ("syslog_name", "postfix/submissions"),
        ("smtpd_tls_wrappermode", "yes"),
        ("smtpd_tls_security_level", "encrypt"),
        ("smtpd_sasl_auth_enable", "yes"),
        ("smtpd_tls_auth_only", "yes"),
        ("smtpd_sasl_security_options", "noanonymous"),
        (
            "smtpd_client_restrictions",
            "permit_sasl_authenticated,reject",
        ),
    ],
    what: "RFC 8314 recommends implicit TLS for mail submission: port 465, TLS from the first byte, with SASL authentication",
};

impl Spec {
    /// Whether `s` is this service: its name or port, with or without a
    /// listen address.
    pub(super) fn matches(&self, b: &[u8], s: &Service) -> bool {
        let name = s.field(b, 0);
        let port = name.rsplit(':').next().unwrap_or("");
        s.field(b, 1) == "inet" && (self.names.contains(&port) || port == self.port)
    }
}

/// The `-o` overrides that belong to a submission rule on service `s`.
pub(super) fn own_overrides(b: &[u8], s: &Service) -> &'static [(&'static str, &'static str)] {
    [&SUBMISSION_SPEC, &SUBMISSIONS_SPEC]
        .into_iter()
        .find(|spec| spec.matches(b, s))
        .map_or(&[], |spec| spec.overrides)
}

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
        self.submission_service(&SUBMISSION_SPEC);
        self.submission_service(&SUBMISSIONS_SPEC);
    }

    fn submission_service(&mut self, spec: &Spec) {
        let Some((mf, m)) = &self.inst.master else {
            return;
        };
        let b = &mf.source.bytes;
        let file = self.report.file(mf);
        let active = m
            .services
            .iter()
            .find(|s| !s.commented() && s.valid() && spec.matches(b, s));
        let commented = m
            .services
            .iter()
            .filter(|s| {
                s.commented()
                    && s.valid()
                    && spec.names.contains(&s.field(b, 0).as_str())
                    && s.field(b, 1) == "inet"
            })
            .max_by_key(|s| s.overrides.len());
        let smtp = m.services.iter().find(|s| {
            !s.commented() && s.valid() && s.field(b, 0) == "smtp" && s.field(b, 1) == "inet"
        });
        // A new submissions service goes after submission, else after smtp.
        let after = if spec.port == "465" {
            m.services
                .iter()
                .find(|s| !s.commented() && s.valid() && SUBMISSION_SPEC.matches(b, s))
                .or(smtp)
        } else {
            smtp
        };
        let login_maps = self
            .inst
            .raw("smtpd_sender_login_maps")
            .is_some_and(|v| !v.trim().is_empty());
        let mut wanted: Vec<(&str, String)> = spec
            .overrides
            .iter()
            // An existing service keeps its syslog_name: log tools key on it.
            .filter(|(n, _)| active.is_none() || *n != "syslog_name")
            .map(|(n, v)| (*n, v.to_string()))
            .collect();
        if login_maps && spec.rule == SUBMISSION.id {
            wanted.push((
                "smtpd_sender_restrictions",
                "reject_sender_login_mismatch".into(),
            ));
        }
        let line = active
            .or(commented)
            .or(smtp)
            .map_or(1, |s| mf.source.line_of(s.span.start()));
        let mut f = Finding::new(spec.rule, Severity::Medium, file, line);
        f.wanted = Some(
            wanted
                .iter()
                .map(|(n, v)| format!("-o {n}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
                .into(),
        );

        // A sender restriction that refuses every message is worse than none.
        if let Some(s) = active
            && !login_maps
            && let Some((_, v)) = s.override_value(b, "smtpd_sender_restrictions")
            && v.contains("reject_sender_login_mismatch")
        {
            let mut g = Finding::new(
                spec.rule,
                Severity::High,
                file,
                mf.source.line_of(s.span.start()),
            );
            g.current = Some(format!("-o smtpd_sender_restrictions={v}").into());
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
        let mut templated = Vec::new();
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
                            // Two overrides on one commented line share its `#`.
                            if let Some(h) = o.hash
                                && !edits.iter().any(|p| p.span == h)
                            {
                                edits.push(Patch::replace(h, ""));
                            }
                            let expanded = self.inst.expand(&v, self.version, 0);
                            if super::templated(&v) || super::templated(&expanded) {
                                templated.push((
                                    mf.source.line_of(o.span.start()),
                                    format!("{} -o {name}={v}", s.id(b)),
                                ));
                            } else if !ok(&expanded) {
                                current.push(format!("-o {name}={v}"));
                                edits.push(Patch::replace(o.value, override_value(o, value)));
                            }
                        }
                        None => missing.push(format!("{indent}-o {name}={value}")),
                    }
                }
                if !missing.is_empty() {
                    let at = s.span.end();
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
                let Some(after) = after else {
                    f.reason = format!(
                        "no {} service, and no smtp/inet service to place one after",
                        spec.names[0]
                    )
                    .into();
                    f.blocked = Some(format!("add a {} service by hand", spec.names[0]));
                    self.push(f, None);
                    return;
                };
                let mut text = service_line(b, after, spec.names[0]);
                text.extend_from_slice(eol);
                for (name, value) in &wanted {
                    text.extend_from_slice(format!("{indent}-o {name}={value}").as_bytes());
                    text.extend_from_slice(eol);
                }
                let at = after.span.end();
                let mut bytes = Vec::new();
                if !b[..at].ends_with(b"\n") {
                    bytes.extend_from_slice(eol);
                }
                bytes.extend(text);
                edits.push(Patch::insert(at, bytes));
                current.push(format!("no {} service", spec.names[0]));
            }
        }
        for (line, current) in templated {
            self.templated_finding(spec.rule, file, line, current);
        }
        // Uncommenting the lines of an otherwise good service is no change.
        let changes_value = !current.is_empty();
        if !changes_value {
            return;
        }
        f.current = Some(current.join("; ").into());
        f.reason = if !login_maps && spec.rule == SUBMISSION.id {
            format!("{} (reject_sender_login_mismatch, which the article adds, is left out: it needs smtpd_sender_login_maps, or every message is refused)", spec.what).into()
        } else {
            spec.what.into()
        };
        match self.sasl_configured() {
            Err(why) => {
                f.blocked = Some(why);
                self.push(f, None);
            }
            Ok(how) => {
                let change = Change {
                    ldap: None,
                    rule: spec.rule,
                    reason: if spec.port == "465" {
                        format!("submissions on 465: implicit TLS, SASL ({how})").into()
                    } else {
                        format!("submission on 587: STARTTLS required, SASL ({how})").into()
                    },
                    edits: edits.into_iter().map(|p| (file, p)).collect(),
                };
                self.push(f, Some(change));
            }
        }
    }
}

fn submission_value_ok(name: &str, v: &str) -> bool {
    let words: Vec<&str> = v
        .split([',', ' ', '\t', '\n', '\r'])
        .filter(|w| !w.is_empty())
        .collect();
    let yes = |v: &str| v.trim().eq_ignore_ascii_case("yes");
    match name {
        "syslog_name" => !v.trim().is_empty(),
        "smtpd_tls_security_level" => level_rank(v).is_some_and(|r| r >= ENCRYPT),
        "smtpd_sasl_auth_enable" | "smtpd_tls_auth_only" | "smtpd_tls_wrappermode" => yes(v),
        "smtpd_sasl_security_options" => {
            words.iter().any(|w| w.eq_ignore_ascii_case("noanonymous"))
        }
        // Only authenticated clients get through: Debian's
        // `$mua_client_restrictions` pattern (permit_mynetworks first) too.
        "smtpd_client_restrictions" => {
            words.contains(&"permit_sasl_authenticated") && words.last() == Some(&"reject")
        }
        "smtpd_sender_restrictions" => words.contains(&"reject_sender_login_mismatch"),
        _ => true,
    }
}

/// The indentation of a service's first `-o` line (after its `#` when the
/// service is commented out).
fn own_override_indent(b: &[u8], s: &Service) -> Option<String> {
    let o = s.overrides.first()?;
    let line_start = b[..o.span.start()]
        .iter()
        .rposition(|&x| x == b'\n')
        .map_or(0, |p| p + 1);
    let from = o.hash.map_or(line_start, |h| h.end());
    let indent = &b[from..o.span.start()];
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
        .map(|t| t.span.start() - first.content.start())
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
