//! Rules for Apache httpd 2.4 with mod_ssl (ids `apache.*`).
//!
//! Every directive that is weaker than the profile is fixed where it stands,
//! in the server config or in the virtual host that overrides it. A setting
//! that is missing everywhere is added once in the server config next to the
//! other SSL directives (uncommenting a `#Directive` there if one exists), or,
//! when the server config has no SSL directives, in each TLS virtual host.
//! A setting that already meets the profile is never touched.

pub mod model;

use crate::catalogue::profile::{HSTS_MAX_AGE, Profile, SECLEVEL_0, Version, cipher_list_meets};
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::discover::Root;
use crate::edit::Patch;
use crate::plan::{Change, Finding, Report, Severity};
use crate::servers::apache::model::{ApacheTree, Item, Layout};
use crate::source::Span;
use crate::style;
use crate::syntax::apache::{Config, Node};
use crate::target::versions::{Capability, HTTPD_SESSION_TICKETS, TargetVersions};
use std::path::{Path, PathBuf};

pub const RULES: &[Rule] = &[
    Rule {
        id: "apache.protocol",
        server: Server::Apache,
        severity: Severity::Medium,
        activation: Activation::Default,
        summary: "SSLProtocol allows only the profile's TLS versions",
        checks: "",
        writes: "",
        refuses: "",
        versions: "",
        sources: &[],
    },
    Rule {
        id: "apache.ciphers",
        server: Server::Apache,
        severity: Severity::Medium,
        activation: Activation::Default,
        summary: "SSLCipherSuite uses only the profile's TLS 1.2 ciphers (not for modern)",
        checks: "",
        writes: "",
        refuses: "",
        versions: "",
        sources: &[],
    },
    Rule {
        id: "apache.honor-cipher-order",
        server: Server::Apache,
        severity: Severity::Medium,
        activation: Activation::Default,
        summary: "SSLHonorCipherOrder as the profile says (off; on for old)",
        checks: "",
        writes: "",
        refuses: "",
        versions: "",
        sources: &[],
    },
    Rule {
        id: "apache.compression",
        server: Server::Apache,
        severity: Severity::Medium,
        activation: Activation::Default,
        summary: "SSLCompression off, explicitly",
        checks: "",
        writes: "",
        refuses: "",
        versions: "",
        sources: &[],
    },
    Rule {
        id: "apache.session-tickets",
        server: Server::Apache,
        severity: Severity::Medium,
        activation: Activation::Default,
        summary: "SSLSessionTickets off",
        checks: "",
        writes: "",
        refuses: "",
        versions: "",
        sources: &[],
    },
    Rule {
        id: "apache.hsts",
        server: Server::Apache,
        severity: Severity::Medium,
        activation: Activation::Default,
        summary: "Strict-Transport-Security sent once, with `always set`, on every TLS virtual host",
        checks: "",
        writes: "",
        refuses: "",
        versions: "",
        sources: &[],
    },
    Rule {
        id: "apache.redirect",
        server: Server::Apache,
        severity: Severity::Medium,
        activation: Activation::Default,
        summary: "a port-80 virtual host whose name is also served over TLS redirects to https",
        checks: "",
        writes: "",
        refuses: "",
        versions: "",
        sources: &[],
    },
    Rule {
        id: "apache.stapling",
        server: Server::Apache,
        severity: Severity::Medium,
        activation: Activation::Default,
        summary: "OCSP stapling for certificates that name an OCSP responder, cache in the server config",
        checks: "",
        writes: "",
        refuses: "",
        versions: "",
        sources: &[],
    },
    Rule {
        id: "apache.weak-key",
        server: Server::Apache,
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
        id: "apache.certificate",
        server: Server::Apache,
        severity: Severity::Medium,
        activation: Activation::Default,
        summary: "the certificate file exists and can be read (audit only)",
        checks: "",
        writes: "",
        refuses: "",
        versions: "",
        sources: &[],
    },
];

struct Ctx<'a> {
    tree: &'a ApacheTree,
    root: &'a Root,
    report: &'a mut Report,
}

/// Whether a directive's arguments meet the profile.
type Judge = Box<dyn Fn(&[String]) -> bool>;

/// One directive with a single wanted value.
struct Setting {
    rule: &'static str,
    name: &'static str,
    wanted: String,
    /// Is httpd's built-in default (the directive absent) good enough?
    default_ok: bool,
    judge: Judge,
    severity: Severity,
    reason: String,
    absent_reason: String,
    absent_severity: Severity,
    /// Report, never write: the target cannot take any value that meets
    /// the profile (modern on an httpd or OpenSSL without TLS 1.3).
    blocked: Option<String>,
    /// Report the directive's absence, never add it: the target's httpd may
    /// not know the directive (a value already there proves it does).
    absent_blocked: Option<String>,
}

pub fn audit(
    tree: &ApacheTree,
    root: &Root,
    profile: Profile,
    versions: &TargetVersions,
    report: &mut Report,
) {
    report.notes.push(format!(
        "apache: {}, {}",
        TargetVersions::describe("httpd", versions.apache.as_ref()),
        TargetVersions::describe("OpenSSL", versions.openssl.as_ref())
    ));
    if let Capability::No(why) | Capability::Unknown(why) = versions.apache_tls13() {
        report
            .notes
            .push(format!("apache: no TLSv1.3 is written: {why}"));
    }
    let mut cx = Ctx { tree, root, report };
    for s in settings(tree, profile, versions) {
        cx.setting(&s);
    }
    cx.hsts();
    cx.redirect();
    cx.certificates_and_stapling();
}

fn protocols(args: &[String]) -> Option<Vec<Version>> {
    let mut set: Vec<Version> = Vec::new();
    for a in args {
        let (op, name) = match a.as_bytes().first() {
            Some(b'+') | Some(b'-') => (a.as_bytes()[0], &a[1..]),
            _ => (b'=', a.as_str()),
        };
        let which = match name.to_ascii_lowercase().as_str() {
            "all" => vec![
                Version::Ssl3,
                Version::Tls10,
                Version::Tls11,
                Version::Tls12,
                Version::Tls13,
            ],
            "sslv2" => vec![Version::Ssl2],
            "sslv3" => vec![Version::Ssl3],
            "tlsv1" => vec![Version::Tls10],
            "tlsv1.1" => vec![Version::Tls11],
            "tlsv1.2" => vec![Version::Tls12],
            "tlsv1.3" => vec![Version::Tls13],
            _ => return None,
        };
        if op == b'=' {
            set.clear();
        }
        for v in which {
            set.retain(|&x| x != v);
            if op != b'-' {
                set.push(v);
            }
        }
    }
    Some(set)
}

fn on_off(args: &[String], want_on: bool) -> bool {
    args.len() == 1 && args[0].eq_ignore_ascii_case(if want_on { "on" } else { "off" })
}

fn settings(tree: &ApacheTree, profile: Profile, versions: &TargetVersions) -> Vec<Setting> {
    let p = profile;
    // TLSv1.3 only where httpd (2.4.36+) and OpenSSL (1.1.1+) are known to
    // take it: an older httpd refuses the name at start ("Illegal protocol").
    let tls13 = versions.apache_tls13();
    let wanted_protocols = match (p, &tls13) {
        (Profile::Modern, _) => "-all +TLSv1.3",
        (Profile::Intermediate, Capability::Yes) => "-all +TLSv1.2 +TLSv1.3",
        (Profile::Intermediate, _) => "-all +TLSv1.2",
        (Profile::Old, Capability::Yes) => "-all +TLSv1 +TLSv1.1 +TLSv1.2 +TLSv1.3",
        (Profile::Old, _) => "-all +TLSv1 +TLSv1.1 +TLSv1.2",
    };
    let (protocol_blocked, protocol_note) = match (&tls13, p) {
        (Capability::Yes, _) => (None, String::new()),
        (Capability::No(why) | Capability::Unknown(why), Profile::Modern) => (
            Some(format!(
                "{why}; the modern profile is TLS 1.3 only, so nothing is written (use --profile intermediate, or name the versions with --apache-version and --openssl-version)"
            )),
            String::new(),
        ),
        (Capability::No(why) | Capability::Unknown(why), _) => {
            (None, format!(" Written without TLSv1.3: {why}."))
        }
    };
    let debian_note = if tree.layout == Layout::Debian {
        " Debian's OpenSSL 3 may already refuse TLS 1.0/1.1 at its default security level, but the configuration still permits them and another build or @SECLEVEL=0 would enable them."
    } else {
        ""
    };
    let mut v = vec![Setting {
        rule: "apache.protocol",
        name: "SSLProtocol",
        wanted: wanted_protocols.into(),
        default_ok: false,
        judge: Box::new(move |a| {
            protocols(a).is_some_and(|s| !s.is_empty() && s.iter().all(|&v| p.allows(v)))
        }),
        severity: Severity::High,
        reason: format!(
            "allows protocol versions outside the {} profile (TLS 1.0 and 1.1 are deprecated by RFC 8996).{debian_note}{protocol_note}",
            p.name()
        ),
        absent_reason: format!(
            "no SSLProtocol applies, so httpd's default `all -SSLv3` allows TLS 1.0 and 1.1 (deprecated by RFC 8996).{debian_note}{protocol_note}"
        ),
        absent_severity: Severity::High,
        blocked: protocol_blocked,
        absent_blocked: None,
    }];
    if let Some(list) = p.openssl_ciphers_for(versions.openssl_release()) {
        let acceptable = p.acceptable_ciphers();
        // Old on OpenSSL 3: without @SECLEVEL=0 OpenSSL refuses TLS 1.0/1.1,
        // the very clients the profile exists for. Written with the list; an
        // existing list that meets old is kept without it (never weaken a
        // list whose SSLProtocol may not even allow TLS 1.0).
        let seclevel_note = if list.ends_with(SECLEVEL_0) {
            "; on OpenSSL 3 the old profile needs @SECLEVEL=0, or OpenSSL refuses TLS 1.0 and 1.1 (Mozilla's generator appends it too)".to_string()
        } else if p.values().needs_seclevel_0_on_openssl3 && versions.openssl.is_none() {
            "; the OpenSSL version is unknown (pass --openssl-version), so @SECLEVEL=0 is not added: on OpenSSL 3 TLS 1.0 and 1.1 stay refused".to_string()
        } else {
            String::new()
        };
        v.push(Setting {
            rule: "apache.ciphers",
            name: "SSLCipherSuite",
            wanted: list,
            default_ok: false,
            judge: Box::new(move |a| {
                let list = match a {
                    [l] => l,
                    [proto, l] if proto.eq_ignore_ascii_case("SSL") => l,
                    _ => return true, // `SSLCipherSuite TLSv1.3 ...` sets TLS 1.3 suites: not this rule
                };
                cipher_list_meets(list, &acceptable)
            }),
            severity: Severity::High,
            reason: format!(
                "the cipher list is not limited to the {} profile's forward-secret AEAD suites{seclevel_note}",
                p.name()
            ),
            absent_reason: format!("no SSLCipherSuite applies, so OpenSSL's default list (with CBC and non-forward-secret suites) is used{seclevel_note}"),
            absent_severity: Severity::Medium,
            blocked: None,
            absent_blocked: None,
        });
    }
    let honor = p.honor_cipher_order();
    v.push(Setting {
        rule: "apache.honor-cipher-order",
        name: "SSLHonorCipherOrder",
        wanted: if honor { "on" } else { "off" }.into(),
        default_ok: !honor,
        judge: Box::new(move |a| on_off(a, honor)),
        severity: Severity::Low,
        reason: if honor {
            "the old profile keeps weak suites for legacy clients, so the server's order must win".into()
        } else {
            "every suite the profile allows is strong, so Mozilla lets clients choose the one fastest for them (the 2017 article's `on` predates this)".into()
        },
        absent_reason: "httpd's default is off; the old profile needs the server's order".into(),
        absent_severity: Severity::Medium,
        blocked: None,
        absent_blocked: None,
    });
    v.push(Setting {
        rule: "apache.compression",
        name: "SSLCompression",
        wanted: "off".into(),
        default_ok: false,
        judge: Box::new(|a| on_off(a, false)),
        severity: Severity::High,
        reason: "TLS compression enables the CRIME attack".into(),
        absent_reason: "off is httpd's default since 2.4.3; set explicitly so that an older build or an included file cannot turn it on".into(),
        absent_severity: Severity::Info,
        blocked: None,
        absent_blocked: None,
    });
    v.push(Setting {
        rule: "apache.session-tickets",
        name: "SSLSessionTickets",
        wanted: "off".into(),
        default_ok: false,
        judge: Box::new(|a| on_off(a, false)),
        severity: Severity::Medium,
        reason: "session ticket keys are never rotated by httpd, which undoes forward secrecy".into(),
        absent_reason: "session tickets are on by default, and httpd never rotates their keys, which undoes forward secrecy".into(),
        absent_severity: Severity::Medium,
        blocked: None,
        // SSLSessionTickets appeared in 2.4.11: added only where httpd is
        // known to have it (an existing line proves it, and is fixed anyway).
        absent_blocked: match versions.apache_has("SSLSessionTickets", HTTPD_SESSION_TICKETS) {
            Capability::Yes => None,
            Capability::No(why) | Capability::Unknown(why) => Some(why),
        },
    });
    v
}

fn eol_of(span_bytes: &[u8]) -> usize {
    if span_bytes.ends_with(b"\r\n") {
        2
    } else if span_bytes.ends_with(b"\n") {
        1
    } else {
        0
    }
}

impl<'a> Ctx<'a> {
    fn file_id(&mut self, tree_file: usize) -> usize {
        self.report.file(&self.tree.files[tree_file].0)
    }

    fn bytes(&self, f: usize) -> &'a [u8] {
        self.tree.bytes(f)
    }

    fn eol(&self, f: usize) -> &'static [u8] {
        self.tree.files[f].0.source.line_ending()
    }

    fn finding(
        &mut self,
        rule: &'static str,
        severity: Severity,
        tree_file: usize,
        at: usize,
    ) -> Finding {
        let file = self.file_id(tree_file);
        let line = self.tree.files[tree_file].0.source.line_of(at);
        Finding::new(rule, severity, file, line)
    }

    fn push(&mut self, mut f: Finding, change: Option<Change>) {
        if let Some(c) = change {
            f.change = Some(self.report.add_change(c));
        }
        self.report.findings.push(f);
    }

    /// Replaces an item's arguments with `wanted`, keeping a lone argument's quotes.
    fn set_args(&self, item: &Item, wanted: &str) -> Patch {
        let d = &item.directive;
        match d.args_span() {
            Some(span) => {
                let text = match (d.args.len(), d.args[0].quote) {
                    (1, Some(q)) => format!("{}{wanted}{}", q as char, q as char),
                    _ => wanted.to_string(),
                };
                Patch::replace(span, text)
            }
            None => Patch::insert(d.name.end, format!(" {wanted}")),
        }
    }

    /// A patch that puts `text` on a new line right after `item`.
    fn insert_after(&self, item: &Item, indent: &[u8], text: &str) -> Patch {
        let f = item.file;
        let eol = self.eol(f);
        let d = &item.directive;
        if d.eol.is_empty() {
            let mut v = eol.to_vec();
            v.extend(style::line(indent, text, b""));
            Patch::insert(d.span.end, v)
        } else {
            Patch::insert(d.span.end, style::line(indent, text, eol))
        }
    }

    /// `canonical` in the name case of virtual host `v`'s first directive.
    fn vhost_case(&self, v: usize, canonical: &str) -> String {
        let sample = self
            .tree
            .vhost_items(v)
            .next()
            .map(|i| i.directive.name.slice(self.bytes(i.file)))
            .unwrap_or_default();
        style::name_case(canonical, sample)
    }

    /// A patch that adds `text` as the last line of virtual host `v`.
    fn insert_in_vhost(&self, v: usize, text: &str) -> Patch {
        let vh = &self.tree.vhosts[v];
        let b = self.bytes(vh.file);
        let indent = vh
            .child_indent
            .map(|s| s.slice(b).to_vec())
            .unwrap_or_else(|| style::deeper(vh.open.indent.slice(b)));
        Patch::insert(
            vh.close.start,
            style::line(&indent, text, self.eol(vh.file)),
        )
    }

    /// A `#Name ...` comment line among the direct children of `parent`.
    fn commented(&self, file: usize, parent: Option<Span>, name: &str) -> Option<(Span, Span)> {
        let cfg: &Config = &self.tree.files[file].1;
        let b = self.bytes(file);
        let nodes = match parent {
            None => &cfg.nodes[..],
            Some(p) => children_of(&cfg.nodes, p)?,
        };
        nodes.iter().find_map(|n| {
            let Node::Trivia(t) = n else { return None };
            let c = t.comment?;
            let text = c.slice(b);
            let rest = text.get(name.len()..)?;
            let matches = text[..name.len()].eq_ignore_ascii_case(name.as_bytes())
                && rest.first().is_some_and(|&x| x == b' ' || x == b'\t')
                && !text.contains(&b'\n')
                && rest
                    .split(|&x| x == b' ' || x == b'\t')
                    .filter(|w| !w.is_empty())
                    .count()
                    <= 4;
            let end = t.span.end - eol_of(t.span.slice(b));
            matches.then(|| (Span::new(c.start - 1, end), t.span))
        })
    }

    fn setting(&mut self, s: &Setting) {
        let tree = self.tree;
        let items: Vec<&Item> = tree
            .items
            .iter()
            .filter(|i| !i.per_dir && tree.is(i, s.name))
            .collect();
        for item in &items {
            let args = tree.args(item);
            if (s.judge)(&args) {
                continue;
            }
            let mut f = self.finding(s.rule, s.severity, item.file, item.directive.name.start);
            f.current = Some(args.join(" "));
            f.wanted = Some(s.wanted.clone());
            f.reason = s.reason.clone();
            if let Some(why) = &s.blocked {
                f.blocked = Some(why.clone());
                self.push(f, None);
                continue;
            }
            let file = f.file;
            let change = Change {
                ldap: None,
                rule: s.rule,
                reason: format!("{} {}: {}", s.name, s.wanted, s.reason),
                edits: vec![(file, self.set_args(item, &s.wanted))],
            };
            self.push(f, Some(change));
        }
        if s.default_ok || items.iter().any(|i| i.vhost.is_none()) {
            return;
        }
        let covered: std::collections::HashSet<usize> =
            items.iter().filter_map(|i| i.vhost).collect();
        let uncovered: Vec<usize> = (0..tree.vhosts.len())
            .filter(|&v| tree.vhost_is_tls(v) && !covered.contains(&v))
            .collect();
        if uncovered.is_empty() {
            return;
        }
        if let Some(why) = s.blocked.as_ref().or(s.absent_blocked.as_ref()) {
            let vh = &tree.vhosts[uncovered[0]];
            let mut f = self.finding(s.rule, s.absent_severity, vh.file, vh.open.name.start);
            f.wanted = Some(s.wanted.clone());
            f.reason = s.absent_reason.clone();
            f.blocked = Some(why.clone());
            self.push(f, None);
            return;
        }
        let anchor = tree
            .server_items()
            .filter(|i| {
                tree.name_of(i).to_ascii_uppercase().starts_with("SSL")
                    && !tree.is(i, "SSLStaplingCache")
            })
            .last();
        match anchor {
            Some(anchor) => {
                let text = format!(
                    "{} {}",
                    style::name_case(s.name, anchor.directive.name.slice(self.bytes(anchor.file))),
                    s.wanted
                );
                let mut f = self.finding(
                    s.rule,
                    s.absent_severity,
                    anchor.file,
                    anchor.directive.name.start,
                );
                f.wanted = Some(s.wanted.clone());
                f.reason = s.absent_reason.clone();
                let file = f.file;
                let patch = match self.commented(anchor.file, anchor.parent, s.name) {
                    Some((body, _)) => {
                        f.line = tree.files[anchor.file].0.source.line_of(body.start);
                        f.current = Some(format!(
                            "(commented out) {}",
                            String::from_utf8_lossy(body.slice(self.bytes(anchor.file)))
                        ));
                        Patch::replace(body, text)
                    }
                    None => {
                        let indent = anchor
                            .directive
                            .indent
                            .slice(self.bytes(anchor.file))
                            .to_vec();
                        self.insert_after(anchor, &indent, &text)
                    }
                };
                let change = Change {
                    ldap: None,
                    rule: s.rule,
                    reason: format!(
                        "{} {} in the server config: {}",
                        s.name, s.wanted, s.absent_reason
                    ),
                    edits: vec![(file, patch)],
                };
                self.push(f, Some(change));
            }
            None => {
                for v in uncovered {
                    let vh = &tree.vhosts[v];
                    let last_ssl = tree
                        .vhost_items(v)
                        .filter(|i| {
                            i.file == vh.file
                                && tree.name_of(i).to_ascii_uppercase().starts_with("SSL")
                        })
                        .last();
                    let sample = last_ssl
                        .map(|i| i.directive.name.slice(self.bytes(i.file)).to_vec())
                        .unwrap_or_default();
                    let text = format!("{} {}", style::name_case(s.name, &sample), s.wanted);
                    let patch = match last_ssl {
                        Some(i) => {
                            let indent = i.directive.indent.slice(self.bytes(i.file)).to_vec();
                            self.insert_after(i, &indent, &text)
                        }
                        None => self.insert_in_vhost(v, &text),
                    };
                    let mut f =
                        self.finding(s.rule, s.absent_severity, vh.file, vh.open.name.start);
                    f.wanted = Some(s.wanted.clone());
                    f.reason = s.absent_reason.clone();
                    let file = f.file;
                    let change = Change {
                        ldap: None,
                        rule: s.rule,
                        reason: format!(
                            "{} {} in this virtual host: {}",
                            s.name, s.wanted, s.absent_reason
                        ),
                        edits: vec![(file, patch)],
                    };
                    self.push(f, Some(change));
                }
            }
        }
    }

    fn hsts(&mut self) {
        let tree = self.tree;
        let wanted = format!("always set Strict-Transport-Security \"max-age={HSTS_MAX_AGE}\"");
        let headers_ok = tree.has_module("headers_module");
        let is_hsts = |i: &Item| {
            tree.is(i, "Header")
                && tree
                    .args(i)
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case("Strict-Transport-Security"))
        };
        let global: Vec<&Item> = tree.server_items().filter(|i| is_hsts(i)).collect();
        for g in &global {
            self.check_hsts_directive(g, &wanted);
        }
        for v in 0..tree.vhosts.len() {
            if !tree.vhost_is_tls(v) {
                continue;
            }
            let own: Vec<&Item> = tree.vhost_items(v).filter(|i| is_hsts(i)).collect();
            for (k, item) in own.iter().enumerate() {
                if k == 0 {
                    self.check_hsts_directive(item, &wanted);
                    continue;
                }
                let mut f = self.finding(
                    "apache.hsts",
                    Severity::Medium,
                    item.file,
                    item.directive.name.start,
                );
                f.current = Some(tree.args(item).join(" "));
                f.reason = "a second Strict-Transport-Security header in the same virtual host: browsers may see two values".into();
                let file = f.file;
                let change = Change {
                    ldap: None,
                    rule: "apache.hsts",
                    reason: "comment out a duplicate Strict-Transport-Security header".into(),
                    edits: vec![(file, comment_out(item))],
                };
                self.push(f, Some(change));
            }
            if !own.is_empty() || !global.is_empty() {
                continue;
            }
            let vh = &tree.vhosts[v];
            let mut f = self.finding("apache.hsts", Severity::Medium, vh.file, vh.open.name.start);
            f.wanted = Some(format!("Header {wanted}"));
            f.reason = "this TLS virtual host does not send Strict-Transport-Security, so a first visit over http can be intercepted".into();
            if !headers_ok {
                f.blocked = Some(
                    "mod_headers is not enabled: enable it (a2enmod headers) and run tlsmend again"
                        .into(),
                );
                self.push(f, None);
                continue;
            }
            let text = format!("{} {wanted}", self.vhost_case(v, "Header"));
            let file = f.file;
            let change = Change {
                ldap: None,
                rule: "apache.hsts",
                reason: format!("send HSTS for two years: Header {wanted}"),
                edits: vec![(file, self.insert_in_vhost(v, &text))],
            };
            self.push(f, Some(change));
        }
    }

    /// `Header [always] set Strict-Transport-Security "max-age=N; ..."`.
    fn check_hsts_directive(&mut self, item: &Item, wanted: &str) {
        let args = self.tree.args(item);
        let lower: Vec<String> = args.iter().map(|a| a.to_ascii_lowercase()).collect();
        let always = lower.first().map(String::as_str) == Some("always");
        let action = lower.get(usize::from(always)).cloned().unwrap_or_default();
        let value = args
            .get(usize::from(always) + 2)
            .cloned()
            .unwrap_or_default();
        let max_age = value
            .split(';')
            .find_map(|p| {
                p.trim()
                    .to_ascii_lowercase()
                    .strip_prefix("max-age=")
                    .map(|v| v.trim_matches('"').parse::<u64>().unwrap_or(0))
            })
            .unwrap_or(0);
        let extra: Vec<&str> = value
            .split(';')
            .map(str::trim)
            .filter(|p| !p.to_ascii_lowercase().starts_with("max-age") && !p.is_empty())
            .collect();
        let condition_extra = args
            .get(usize::from(always) + 3..)
            .map(|r| r.join(" "))
            .unwrap_or_default();
        if always && action == "set" && max_age >= HSTS_MAX_AGE && condition_extra.is_empty() {
            return;
        }
        let mut new_value = format!("max-age={}", max_age.max(HSTS_MAX_AGE));
        for e in &extra {
            new_value.push_str("; ");
            new_value.push_str(e);
        }
        let new_args = format!("always set Strict-Transport-Security \"{new_value}\"");
        let mut f = self.finding(
            "apache.hsts",
            Severity::Medium,
            item.file,
            item.directive.name.start,
        );
        f.current = Some(args.join(" "));
        f.wanted = Some(format!("{wanted} (keeping includeSubDomains/preload)"));
        f.reason = if action != "set" {
            format!(
                "`Header {action}` can send the header twice; `always set` sends it once, on every response"
            )
        } else if !always {
            "without `always` the header is missing from error and redirect responses".into()
        } else if !condition_extra.is_empty() {
            "the header is sent only under a condition; HSTS belongs on every response".into()
        } else {
            format!("max-age {max_age} is shorter than two years ({HSTS_MAX_AGE})")
        };
        let file = f.file;
        let change = Change {
            ldap: None,
            rule: "apache.hsts",
            reason: format!("Header {new_args}"),
            edits: vec![(file, self.set_args(item, &new_args))],
        };
        self.push(f, Some(change));
    }

    fn redirect(&mut self) {
        let tree = self.tree;
        let tls_names: std::collections::HashSet<String> = (0..tree.vhosts.len())
            .filter(|&v| tree.vhost_is_tls(v))
            .flat_map(|v| tree.vhost_names(v))
            .collect();
        let alias_ok = tree.has_module("alias_module");
        for v in 0..tree.vhosts.len() {
            if tree.vhost_port(v) != Some(80) || tree.vhost_is_tls(v) {
                continue;
            }
            let Some(name) = tree.server_name(v) else {
                continue;
            };
            let host = name
                .split("://")
                .last()
                .unwrap_or(&name)
                .split(':')
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            if !tls_names.contains(&host) {
                continue; // never redirect a site that has no TLS twin
            }
            let redirects = tree.vhost_items(v).any(|i| {
                let args = tree.args(i);
                let to_https = args
                    .iter()
                    .any(|a| a.to_ascii_lowercase().starts_with("https://"));
                (tree.is(i, "Redirect")
                    || tree.is(i, "RedirectPermanent")
                    || tree.is(i, "RedirectMatch")
                    || tree.is(i, "RewriteRule"))
                    && to_https
            });
            if redirects {
                continue;
            }
            let vh = &tree.vhosts[v];
            let text = format!("Redirect permanent / https://{host}/");
            let mut f = self.finding(
                "apache.redirect",
                Severity::Medium,
                vh.file,
                vh.open.name.start,
            );
            f.wanted = Some(text.clone());
            f.reason = format!(
                "{host} is served over TLS, but this port-80 virtual host serves it in clear text"
            );
            if !alias_ok {
                f.blocked = Some(
                    "mod_alias is not enabled: enable it (a2enmod alias) and run tlsmend again"
                        .into(),
                );
                self.push(f, None);
                continue;
            }
            let text = format!(
                "{} permanent / https://{host}/",
                self.vhost_case(v, "Redirect")
            );
            let file = f.file;
            let change = Change {
                ldap: None,
                rule: "apache.redirect",
                reason: format!("redirect http://{host}/ permanently to https://{host}/"),
                edits: vec![(file, self.insert_in_vhost(v, &text))],
            };
            self.push(f, Some(change));
        }
    }

    fn cert_path(&self, raw: &str) -> Option<PathBuf> {
        if raw.contains("${") {
            return None;
        }
        let p = Path::new(raw);
        let machine = if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.tree.server_root.join(p)
        };
        Some(self.root.host(&self.root.resolve(&machine).ok()?))
    }

    fn certificates_and_stapling(&mut self) {
        let tree = self.tree;
        let global_cert = tree
            .server_items()
            .filter(|i| tree.is(i, "SSLCertificateFile"))
            .last();
        let global_stapling = tree
            .server_items()
            .filter(|i| tree.is(i, "SSLUseStapling"))
            .last();
        let cache_in_server = tree.server_items().any(|i| tree.is(i, "SSLStaplingCache"));
        let mut stapling_edits: Vec<(usize, Patch)> = Vec::new();
        let mut stapling_findings: Vec<Finding> = Vec::new();
        let mut cache_planned = cache_in_server;
        // SSLStaplingCache inside a virtual host is a configuration error.
        for item in tree
            .items
            .iter()
            .filter(|i| i.vhost.is_some() && tree.is(i, "SSLStaplingCache"))
        {
            let mut f = self.finding(
                "apache.stapling",
                Severity::High,
                item.file,
                item.directive.name.start,
            );
            f.current = Some(tree.args(item).join(" "));
            f.reason = "SSLStaplingCache is only valid in the server config; httpd refuses it inside <VirtualHost>".into();
            let file = f.file;
            stapling_edits.push((file, comment_out(item)));
            stapling_findings.push(f);
        }
        for v in 0..tree.vhosts.len() {
            if !tree.vhost_is_tls(v) {
                continue;
            }
            let own = tree
                .vhost_items(v)
                .filter(|i| tree.is(i, "SSLCertificateFile"))
                .last();
            let Some(item) = own.or(global_cert) else {
                continue;
            };
            let raw = tree.args(item).first().cloned().unwrap_or_default();
            let Some(path) = self.cert_path(&raw) else {
                continue;
            };
            let info = match crate::target::cert::read(&path) {
                Ok(i) => i,
                Err(e) => {
                    let mut f = self.finding(
                        "apache.certificate",
                        Severity::Medium,
                        item.file,
                        item.directive.name.start,
                    );
                    f.current = Some(raw.clone());
                    f.reason = format!(
                        "the certificate {} cannot be used: {e}; httpd will not start with it",
                        path.display()
                    );
                    f.blocked = Some("audit only: install a valid certificate".into());
                    self.push(f, None);
                    continue;
                }
            };
            if info.is_weak() {
                let file = self.file_id(item.file);
                let line = tree.files[item.file]
                    .0
                    .source
                    .line_of(item.directive.name.start);
                let why = "a key this small can be factored or is refused by current clients; OpenSSL 3 refuses to start httpd with it at the default security level";
                let f = crate::servers::weak_key("apache.weak-key", file, line, &raw, &info, why);
                self.push(f, None);
            }
            // Stapling asks the issuer's responder: a self-signed
            // certificate has none to ask.
            if info.ocsp_responder.is_none() || info.self_signed {
                continue;
            }
            let own_stapling = tree
                .vhost_items(v)
                .filter(|i| tree.is(i, "SSLUseStapling"))
                .last();
            if own_stapling
                .or(global_stapling)
                .is_some_and(|i| on_off(&tree.args(i), true))
            {
                continue;
            }
            let vh = &tree.vhosts[v];
            let mut f = self.finding(
                "apache.stapling",
                Severity::Low,
                vh.file,
                vh.open.name.start,
            );
            f.current = own_stapling.map(|i| tree.args(i).join(" "));
            f.wanted = Some("SSLUseStapling on".into());
            f.reason = format!(
                "the certificate names an OCSP responder ({}); stapling saves clients a lookup that leaks their visit",
                info.ocsp_responder.as_deref().unwrap_or("")
            );
            // mod_ssl needs the issuer's certificate to build the OCSP request
            // (AH02217 otherwise): in the file, or named by a chain or CA directive.
            let issuer_known = info.certificates >= 2
                || [
                    "SSLCertificateChainFile",
                    "SSLCACertificateFile",
                    "SSLCACertificatePath",
                ]
                .iter()
                .any(|d| {
                    tree.vhost_items(v)
                        .chain(tree.server_items())
                        .any(|i| tree.is(i, d))
                });
            if !issuer_known {
                f.blocked = Some(
                    "the issuer's certificate is not configured (add it to the certificate file or set SSLCertificateChainFile): mod_ssl cannot staple without it".into(),
                );
                self.report.findings.push(f);
                continue;
            }
            let file = f.file;
            let patch = match own_stapling {
                Some(i) => self.set_args(i, "on"),
                None => {
                    let b = self.bytes(item.file);
                    let indent = item.directive.indent.slice(b).to_vec();
                    let text = format!(
                        "{} on",
                        style::name_case("SSLUseStapling", item.directive.name.slice(b))
                    );
                    if item.vhost == Some(v) {
                        self.insert_after(item, &indent, &text)
                    } else {
                        self.insert_in_vhost(v, &text)
                    }
                }
            };
            stapling_edits.push((file, patch));
            if !cache_planned {
                cache_planned = true;
                let b = self.bytes(vh.file);
                let cache = match tree.layout {
                    Layout::Debian => "\"shmcb:${APACHE_RUN_DIR}/ssl_stapling(128000)\"",
                    Layout::Redhat => "\"shmcb:/run/httpd/ssl_stapling(128000)\"",
                };
                let text = format!(
                    "{} {cache}",
                    style::name_case("SSLStaplingCache", vh.open.name.slice(b))
                );
                let line = style::line(vh.open.indent.slice(b), &text, self.eol(vh.file));
                stapling_edits.push((file, Patch::insert(vh.open.span.start, line)));
            }
            stapling_findings.push(f);
        }
        if stapling_findings.is_empty() {
            return;
        }
        // One change: SSLUseStapling without a cache in the server config
        // stops httpd, so the parts are approved together.
        let change = self.report.add_change(Change {
ldap: None,
            rule: "apache.stapling",
            reason: "OCSP stapling where the certificate names a responder, with SSLStaplingCache in the server config".into(),
            edits: stapling_edits,
        });
        for mut f in stapling_findings {
            f.change = Some(change);
            self.report.findings.push(f);
        }
    }
}

/// Comments a directive out: a `#` before it, every original byte kept
/// behind it (continuation lines join the comment, as in httpd).
fn comment_out(item: &Item) -> Patch {
    Patch::insert(item.directive.indent.end, "#")
}

/// The direct children of the section whose span is `parent`.
fn children_of(nodes: &[Node], parent: Span) -> Option<&[Node]> {
    for n in nodes {
        if let Node::Section(s) = n {
            if n.span() == parent {
                return Some(&s.children);
            }
            let sp = n.span();
            if sp.start <= parent.start && parent.end <= sp.end {
                return children_of(&s.children, parent);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn protocol_lists_evaluate_like_mod_ssl() {
        use Version::*;
        assert_eq!(
            protocols(&s(&["-all", "+TLSv1.2", "+TLSv1.3"])),
            Some(vec![Tls12, Tls13])
        );
        assert_eq!(
            protocols(&s(&["all", "-SSLv3"])),
            Some(vec![Tls10, Tls11, Tls12, Tls13])
        );
        assert_eq!(protocols(&s(&["TLSv1.3"])), Some(vec![Tls13]));
        assert_eq!(
            protocols(&s(&["all", "-SSLv3", "-TLSv1", "-TLSv1.1"])),
            Some(vec![Tls12, Tls13])
        );
        assert_eq!(protocols(&s(&["bogus"])), None);
    }
}
