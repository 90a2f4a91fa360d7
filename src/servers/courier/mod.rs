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

use crate::catalogue::profile::{Priority, Profile, Version, cipher_list_meets, read_priority};
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::discover::{self, ConfigFile, Root};
use crate::edit::Patch;
use crate::error::Result;
use crate::plan::{Change, Finding, Report, Severity};
use crate::source::Span;
use crate::syntax::Syntax;
use crate::syntax::courier::{self, Assignment, File, LineKind};
use crate::target::tlslib::{self, TlsLibrary};
use crate::target::versions::TargetVersions;
use std::path::{Path, PathBuf};

pub const RULES: &[Rule] = &[
    Rule {
        id: "courier.starttls",
        server: Server::Courier,
        severity: Severity::Medium,
        activation: Activation::Default,
        summary: "IMAPDSTARTTLS=YES",
        checks: "",
        writes: "",
        refuses: "",
        versions: "",
        sources: &[],
    },
    Rule {
        id: "courier.tls-required",
        server: Server::Courier,
        severity: Severity::Medium,
        activation: Activation::Default,
        summary: "IMAP_TLS_REQUIRED=1: no login before STARTTLS",
        checks: "",
        writes: "",
        refuses: "",
        versions: "",
        sources: &[],
    },
    Rule {
        id: "courier.priority",
        server: Server::Courier,
        severity: Severity::Medium,
        activation: Activation::Default,
        summary: "GnuTLS builds: TLS_PRIORITY allows only the profile's versions and is a GnuTLS string",
        checks: "",
        writes: "",
        refuses: "",
        versions: "",
        sources: &[],
    },
    Rule {
        id: "courier.protocol",
        server: Server::Courier,
        severity: Severity::Medium,
        activation: Activation::Default,
        summary: "OpenSSL builds: TLS_PROTOCOL and TLS_STARTTLS_PROTOCOL at the profile's floor",
        checks: "",
        writes: "",
        refuses: "",
        versions: "",
        sources: &[],
    },
    Rule {
        id: "courier.ciphers",
        server: Server::Courier,
        severity: Severity::Medium,
        activation: Activation::Default,
        summary: "OpenSSL builds: TLS_CIPHER_LIST limited to the profile's ciphers (not for modern)",
        checks: "",
        writes: "",
        refuses: "",
        versions: "",
        sources: &[],
    },
    Rule {
        id: "courier.ignored",
        server: Server::Courier,
        severity: Severity::Medium,
        activation: Activation::Default,
        summary: "a setting this build of couriertls ignores (no-op, audit only)",
        checks: "",
        writes: "",
        refuses: "",
        versions: "",
        sources: &[],
    },
    Rule {
        id: "courier.tls-library",
        server: Server::Courier,
        severity: Severity::Medium,
        activation: Activation::Default,
        summary: "the TLS library couriertls links could not be found (audit only)",
        checks: "",
        writes: "",
        refuses: "",
        versions: "",
        sources: &[],
    },
    Rule {
        id: "courier.certificate",
        server: Server::Courier,
        severity: Severity::Medium,
        activation: Activation::Default,
        summary: "TLS_CERTFILE and TLS_TRUSTCERTS set and readable (audit only)",
        checks: "",
        writes: "",
        refuses: "",
        versions: "",
        sources: &[],
    },
    Rule {
        id: "courier.weak-key",
        server: Server::Courier,
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
        id: "courier.line-endings",
        server: Server::Courier,
        severity: Severity::Medium,
        activation: Activation::Default,
        summary: "CRLF line endings: sh keeps the CR in every value (audit only)",
        checks: "",
        writes: "",
        refuses: "",
        versions: "",
        sources: &[],
    },
    Rule {
        id: "courier.imaps-off",
        server: Server::Courier,
        severity: Severity::Medium,
        activation: Activation::Default,
        summary: "IMAPDSSLSTART commented out, as the article asks (RFC 8314 prefers 993: --skip it to keep)",
        checks: "",
        writes: "",
        refuses: "",
        versions: "",
        sources: &[],
    },
];

/// Courier's IMAP files, parsed: `imapd` first, `imapd-ssl` last (it wins).
pub struct CourierConfig {
    pub files: Vec<(ConfigFile, File)>,
}

impl CourierConfig {
    pub fn load(root: &Root) -> Result<Option<CourierConfig>> {
        let mut files = Vec::new();
        let mut paths = discover::courier_files(root);
        paths.sort_by_key(|p| p.file_name().is_some_and(|n| n == "imapd-ssl"));
        for p in paths {
            let f = ConfigFile::load(root, &p, Syntax::Courier)?;
            let parsed = courier::parse(&f.source.path, &f.source.bytes)?;
            files.push((f, parsed));
        }
        Ok(if files.is_empty() {
            None
        } else {
            Some(CourierConfig { files })
        })
    }

    /// Every assignment of `name`, in the order the daemon reads them.
    fn assignments(&self, name: &str) -> Vec<(usize, &Assignment)> {
        let mut v = Vec::new();
        for (i, (f, parsed)) in self.files.iter().enumerate() {
            for (_, a) in parsed.assignments() {
                if a.name.slice(&f.source.bytes) == name.as_bytes() {
                    v.push((i, a));
                }
            }
        }
        v
    }

    pub fn value(&self, name: &str) -> Option<String> {
        self.assignments(name)
            .last()
            .map(|(f, a)| a.value_str(&self.files[*f].0.source.bytes))
    }
}

/// Which library couriertls uses, and how tlsmend knows.
pub fn detect_library(
    cfg: &CourierConfig,
    root: &Root,
    over: Option<TlsLibrary>,
) -> Option<(TlsLibrary, String)> {
    if let Some(l) = over {
        return Some((l, "--tls-library".into()));
    }
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(v) = cfg.value("COURIERTLS").filter(|v| v.starts_with('/')) {
        candidates.push(PathBuf::from(v));
    }
    for c in [
        "/usr/bin/couriertls",
        "/usr/lib/courier/bin/couriertls",
        "/usr/sbin/couriertls",
        "/usr/libexec/courier/couriertls",
    ] {
        candidates.push(PathBuf::from(c));
    }
    let refs: Vec<&Path> = candidates.iter().map(PathBuf::as_path).collect();
    tlslib::detect_in_root(root, &refs)
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
    absent_reason: String,
}

fn protocol_floor(v: &str) -> Option<Version> {
    let v = v.trim_end_matches('+');
    Some(match v {
        "TLSv1" | "TLS1" | "TLSv1.0" => Version::Tls10,
        "TLSv1.1" | "TLS1_1" => Version::Tls11,
        "TLSv1.2" | "TLS1_2" => Version::Tls12,
        "TLSv1.3" | "TLS1_3" => Version::Tls13,
        _ => return None,
    })
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
    let yes = |v: &str| v.eq_ignore_ascii_case("YES");
    cx.var(&Var {
        rule: "courier.starttls",
        name: "IMAPDSTARTTLS",
        wanted: "YES".into(),
        default_ok: false,
        judge: &yes,
        severity: Severity::High,
        reason: "without STARTTLS on port 143, logins there travel in clear text".into(),
        absent_reason: "IMAPDSTARTTLS is not set, so port 143 offers no STARTTLS".into(),
    });
    let one = |v: &str| v == "1";
    cx.var(&Var {
        rule: "courier.tls-required",
        name: "IMAP_TLS_REQUIRED",
        wanted: "1".into(),
        default_ok: false,
        judge: &one,
        severity: Severity::High,
        reason: "clients may log in on port 143 before STARTTLS, sending passwords in clear text"
            .into(),
        absent_reason: "IMAP_TLS_REQUIRED defaults to 0: clients may log in before STARTTLS".into(),
    });
    match detect_library(cfg, root, over) {
        None => {
            let last = cfg.files.len() - 1;
            let mut f = cx.finding("courier.tls-library", Severity::Medium, last, 0);
            f.reason = "cannot tell whether couriertls uses GnuTLS or OpenSSL (no couriertls binary found); protocol and cipher settings were not checked".into();
            f.blocked = Some("pass --tls-library gnutls or --tls-library openssl".into());
            cx.push(f, None);
        }
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
    cx.imaps_off();
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
        if let Some(c) = change {
            f.change = Some(self.report.add_change(c));
        }
        self.report.findings.push(f);
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
        for &(f, a) in &found {
            let b = self.bytes(f);
            let current = a.value_str(b);
            if (v.judge)(&current) {
                continue;
            }
            let mut finding = self.finding(v.rule, v.severity, f, a.name.start);
            finding.current = Some(current);
            finding.wanted = Some(v.wanted.clone());
            finding.reason = v.reason.clone();
            let file = finding.file;
            let text = Self::render(&v.wanted, a.quote(b));
            let change = Change {
                ldap: None,
                rule: v.rule,
                reason: format!("{}={}: {}", v.name, text, v.reason),
                edits: vec![(file, Patch::replace(a.value, text))],
            };
            self.push(finding, Some(change));
        }
        if !found.is_empty() || v.default_ok {
            return;
        }
        self.insert(v.rule, v.name, &v.wanted, v.severity, &v.absent_reason);
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
        let f = self.cfg.files.len() - 1;
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
        finding.wanted = Some(wanted.to_string());
        finding.reason = reason.to_string();
        let patch = if let Some((hash, a)) = commented {
            finding.line = self.cfg.files[f].0.source.line_of(hash.start);
            finding.current = Some(format!(
                "(commented out) {}",
                String::from_utf8_lossy(&b[hash.start..a.value.end])
            ));
            let text = format!("{name}={}", Self::render(wanted, a.quote(b)));
            Patch::replace(Span::new(hash.start, a.value.end), text)
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
                    let at = parsed.lines[k - 1].span.end;
                    finding.line = self.cfg.files[f]
                        .0
                        .source
                        .line_of(parsed.lines[h].span.start);
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
            reason: format!("{name}={wanted}: {reason}"),
            edits: vec![(file, patch)],
        };
        self.push(finding, Some(change));
    }

    fn gnutls(&mut self, profile: Profile, versions: &TargetVersions) {
        let judge = move |v: &str| matches!(read_priority(v), Priority::Gnutls(vs) if !vs.is_empty() && vs.iter().all(|&x| profile.allows(x)));
        self.report.notes.push(format!(
            "courier: {}",
            TargetVersions::describe("GnuTLS", versions.gnutls.as_ref())
        ));
        // VERS-TLS1.3 only for a GnuTLS known to be 3.6+: an older one
        // rejects the whole string and every handshake fails.
        let (wanted, note) = match profile.gnutls_priority_for(&versions.gnutls_tls13()) {
            Ok((w, note)) => (w, note.map(|n| format!(" ({n})")).unwrap_or_default()),
            Err(why) => {
                let found = self.cfg.assignments("TLS_PRIORITY");
                let weak: Vec<_> = found
                    .iter()
                    .filter(|(f, a)| !judge(&a.value_str(self.bytes(*f))))
                    .map(|&(f, a)| (f, a.name.start, Some(a.value_str(self.bytes(f)))))
                    .collect();
                let weak = if found.is_empty() {
                    vec![(self.cfg.files.len() - 1, 0, None)]
                } else {
                    weak
                };
                for (f, at, current) in weak {
                    let mut finding = self.finding("courier.priority", Severity::High, f, at);
                    finding.reason = match &current {
                        Some(v) if read_priority(v) == Priority::WrongDialect => "this is not a GnuTLS priority string (it reads like an OpenSSL cipher list): GnuTLS rejects it and every TLS handshake fails while imapd still listens".into(),
                        Some(_) => format!("the priority string allows protocol versions outside the {} profile", profile.name()),
                        None => "TLS_PRIORITY is not set, so GnuTLS's NORMAL priority accepts TLS 1.0 and 1.1 on 993 and STARTTLS".into(),
                    };
                    finding.current = current;
                    finding.wanted = Some(profile.gnutls_priority().into());
                    finding.blocked = Some(why.clone());
                    self.push(finding, None);
                }
                return;
            }
        };
        // A wrong-dialect value is worse than weak: say so on its own.
        for (f, a) in self.cfg.assignments("TLS_PRIORITY") {
            let value = a.value_str(self.bytes(f));
            if read_priority(&value) == Priority::WrongDialect {
                let mut finding = self.finding("courier.priority", Severity::High, f, a.name.start);
                finding.current = Some(value);
                finding.wanted = Some(wanted.into());
                finding.reason = format!(
                    "this is not a GnuTLS priority string (it reads like an OpenSSL cipher list): GnuTLS rejects it and every TLS handshake fails while imapd still listens{note}"
                );
                let file = finding.file;
                let text = Self::render(wanted, a.quote(self.bytes(f)));
                let change = Change {
                    ldap: None,
                    rule: "courier.priority",
                    reason: "replace a broken priority string with the profile's GnuTLS string"
                        .into(),
                    edits: vec![(file, Patch::replace(a.value, text))],
                };
                self.push(finding, Some(change));
            }
        }
        let not_broken_but_weak =
            move |v: &str| read_priority(v) == Priority::WrongDialect || judge(v);
        self.var(&Var {
            rule: "courier.priority",
            name: "TLS_PRIORITY",
            wanted: wanted.into(),
            default_ok: profile == Profile::Old,
            judge: &not_broken_but_weak,
            severity: Severity::High,
            reason: format!("the priority string allows protocol versions outside the {} profile{note}", profile.name()),
            absent_reason: format!("TLS_PRIORITY is not set, so GnuTLS's NORMAL priority accepts TLS 1.0 and 1.1 on 993 and STARTTLS; on this GnuTLS build TLS_PROTOCOL and TLS_CIPHER_LIST (the 2017 article's advice) are ignored{note}"),
        });
    }

    fn openssl(&mut self, profile: Profile, versions: &TargetVersions) {
        let wanted = match profile {
            Profile::Modern => "TLSv1.3",
            Profile::Intermediate => "TLSv1.2",
            Profile::Old => "TLSv1",
        };
        let judge = move |v: &str| protocol_floor(v).is_some_and(|fl| fl >= profile.floor());
        self.var(&Var {
            rule: "courier.protocol",
            name: "TLS_PROTOCOL",
            wanted: wanted.into(),
            default_ok: profile == Profile::Old,
            judge: &judge,
            severity: Severity::High,
            reason: format!("allows versions below the {} profile's floor (an unknown value falls back to TLS 1.0 or higher)", profile.name()),
            absent_reason: "TLS_PROTOCOL is not set, so couriertls accepts TLS 1.0 and higher".into(),
        });
        let follows = move |v: &str| v == "$TLS_PROTOCOL" || v == "${TLS_PROTOCOL}" || judge(v);
        self.var(&Var {
            rule: "courier.protocol",
            name: "TLS_STARTTLS_PROTOCOL",
            wanted: wanted.into(),
            default_ok: profile == Profile::Old,
            judge: &follows,
            severity: Severity::High,
            reason: "the STARTTLS protocol floor on port 143 is below the profile's".into(),
            absent_reason:
                "TLS_STARTTLS_PROTOCOL is not set, so STARTTLS on port 143 accepts TLS 1.0".into(),
        });
        // Old on OpenSSL 3 gets @SECLEVEL=0, or OpenSSL refuses TLS 1.0/1.1.
        if let Some(list) = profile.openssl_ciphers_for(versions.openssl_release()) {
            let ok = profile.acceptable_ciphers();
            let judge = move |v: &str| cipher_list_meets(v, &ok);
            self.var(&Var {
                rule: "courier.ciphers",
                name: "TLS_CIPHER_LIST",
                wanted: list,
                default_ok: false,
                judge: &judge,
                severity: Severity::Medium,
                reason: format!(
                    "the cipher list is not limited to the {} profile's suites",
                    profile.name()
                ),
                absent_reason: "TLS_CIPHER_LIST is not set, so OpenSSL's default list is used"
                    .into(),
            });
        }
    }

    fn ignored(&mut self, name: &str, lib: &str, instead: &str) {
        for (f, a) in self.cfg.assignments(name) {
            let value = a.value_str(self.bytes(f));
            if value.is_empty() || value.starts_with('$') {
                continue; // Debian's `TLS_STARTTLS_PROTOCOL="$TLS_PROTOCOL"` says nothing by itself
            }
            let mut finding = self.finding("courier.ignored", Severity::Low, f, a.name.start);
            finding.current = Some(value);
            finding.reason = format!(
                "this {lib} build of couriertls ignores {name}: it protects nothing; {instead} is what applies"
            );
            finding.blocked = Some("no-op: remove it, or leave it for documentation".into());
            self.push(finding, None);
        }
    }

    /// The start scripts source these files with sh, which keeps a CR at
    /// the end of every value: `TLS_PRIORITY` then fails every handshake.
    fn line_endings(&mut self) {
        for f in 0..self.cfg.files.len() {
            let b = self.bytes(f);
            let Some(at) = b.windows(2).position(|w| w == b"\r\n") else {
                continue;
            };
            let mut finding = self.finding("courier.line-endings", Severity::High, f, at);
            finding.reason = "this file has CRLF line endings: sh keeps the CR in every value, so TLS_PRIORITY and paths are wrong and every TLS handshake fails while imapd still listens".into();
            finding.blocked = Some("audit only: convert the file to LF line endings (dos2unix), then run tlsmend again".into());
            self.push(finding, None);
        }
    }

    fn certificates(&mut self) {
        for (name, rule_reason) in [
            ("TLS_CERTFILE", "the server certificate and key"),
            (
                "TLS_TRUSTCERTS",
                "the trusted CA certificates (needed to verify client certificates)",
            ),
        ] {
            let last = self.cfg.files.len() - 1;
            let found = self
                .cfg
                .assignments(name)
                .last()
                .map(|&(f, a)| (f, a.name.start, a.value_str(self.bytes(f))));
            let Some((f, at, value)) = found else {
                let mut finding = self.finding("courier.certificate", Severity::Medium, last, 0);
                finding.reason = format!("{name} is not set: couriertls lacks {rule_reason}");
                finding.blocked = Some(format!("audit only: set {name} to a readable file"));
                self.push(finding, None);
                continue;
            };
            let host = self
                .root
                .resolve(Path::new(&value))
                .map(|p| self.root.host(&p));
            let readable = host.as_ref().is_ok_and(|h| {
                std::fs::metadata(h).is_ok() && (h.is_dir() || std::fs::File::open(h).is_ok())
            });
            if !readable {
                let mut finding = self.finding("courier.certificate", Severity::Medium, f, at);
                finding.current = Some(value.clone());
                finding.reason =
                    format!("{name} names {value}, which does not exist or cannot be read");
                finding.blocked = Some("audit only: point it at a readable file".into());
                self.push(finding, None);
                continue;
            }
            if name != "TLS_CERTFILE" {
                continue;
            }
            let Ok(host) = host else { continue };
            if let Ok(info) = crate::target::cert::read(&host)
                && info.is_weak()
            {
                let file = self.report.file(&self.cfg.files[f].0);
                let line = self.cfg.files[f].0.source.line_of(at);
                let why = "GnuTLS serves this key even with a hardened priority string; a key this small can be factored";
                let finding =
                    crate::servers::weak_key("courier.weak-key", file, line, &value, &info, why);
                self.push(finding, None);
            }
        }
    }

    fn imaps_off(&mut self) {
        for (f, a) in self.cfg.assignments("IMAPDSSLSTART") {
            let b = self.bytes(f);
            if !a.value_str(b).eq_ignore_ascii_case("YES") {
                continue;
            }
            let mut finding = self.finding("courier.imaps-off", Severity::Low, f, a.name.start);
            finding.current = Some("IMAPDSSLSTART=YES".into());
            finding.wanted = Some("#IMAPDSSLSTART=YES (commented out)".into());
            finding.reason = "the article asks to leave only STARTTLS on port 143; note that RFC 8314 recommends implicit TLS on 993 instead: keep it with --skip courier.imaps-off".into();
            let file = finding.file;
            let change = Change {
ldap: None,
                rule: "courier.imaps-off",
                reason: "comment out IMAPDSSLSTART so imapd-ssl no longer starts on 993 (RFC 8314 prefers 993: --skip courier.imaps-off keeps it)".into(),
                edits: vec![(file, Patch::insert(a.name.start, "#"))],
            };
            self.push(finding, Some(change));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openssl_protocol_values() {
        assert_eq!(protocol_floor("TLSv1.2++"), Some(Version::Tls12));
        assert_eq!(protocol_floor("TLSv1"), Some(Version::Tls10));
        assert_eq!(protocol_floor("TLS1_2"), Some(Version::Tls12));
        assert_eq!(protocol_floor("SSL23"), None);
    }

    #[test]
    fn values_keep_their_quotes() {
        assert_eq!(Ctx::render("YES", None), "YES");
        assert_eq!(Ctx::render("a:b", None), "\"a:b\"");
        assert_eq!(Ctx::render("1", Some(b'\'')), "'1'");
    }
}
