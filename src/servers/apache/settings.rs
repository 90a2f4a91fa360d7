//! `apache.protocol`, `apache.ciphers`, `apache.honor-cipher-order`,
//! `apache.compression` and `apache.session-tickets`: the mod_ssl directives
//! that take one value each. [`settings`] says, per profile, what each one
//! wants and how an existing value is judged; [`super::Ctx::setting`] fixes a
//! weak value where it stands, or adds the directive once where it is missing.

use super::Ctx;
use super::model::{ApacheTree, Item, Layout};
use crate::catalogue::profile::{Profile, SECLEVEL_0, Version};
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::edit::Patch;
use crate::plan::{Change, Severity, Text};
use crate::style;
use crate::target::ciphers::{self, Verdict};
use crate::target::versions::{Capability, HTTPD_SESSION_TICKETS, TargetVersions};
use rustc_hash::FxHashMap;

pub const PROTOCOL: Rule = Rule {
    id: "apache.protocol",
    server: Server::Apache,
    severity: Severity::High,
    activation: Activation::Default,
    summary: "SSLProtocol allows only the profile's TLS versions",
    checks: "The SSLProtocol that applies to each TLS virtual host (its own, else the server config's), evaluated as mod_ssl does: a bare name starts a new set, `+`/`-` add and remove, `all` is SSLv3 to TLS 1.3. The set must be non-empty and hold only the profile's versions. No SSLProtocol at all means httpd's default `all -SSLv3`, which allows TLS 1.0 and 1.1. On Debian the finding says that OpenSSL 3's default security level may already refuse TLS 1.0/1.1 at run time, while the configuration still permits them.",
    writes: "modern: `-all +TLSv1.3`; intermediate: `-all +TLSv1.2 +TLSv1.3`; old: `-all +TLSv1 +TLSv1.1 +TLSv1.2 +TLSv1.3`. TLSv1.3 is named only where httpd is known to be 2.4.36+ and OpenSSL 1.1.1+ (dpkg database, version strings in the binaries, or --apache-version/--openssl-version); otherwise intermediate writes `-all +TLSv1.2` and old `-all +TLSv1 +TLSv1.1 +TLSv1.2`, and the finding says why. A weak value is set in place (server config or virtual host); a missing one is added once in the server config after the last SSL directive (uncommenting a `#SSLProtocol` there), or in each TLS virtual host when the server config has no SSL directive.",
    refuses: "modern on a target whose httpd or OpenSSL cannot do TLS 1.3, or whose versions are unknown: reported, not written (an older httpd refuses `TLSv1.3` at start, and modern allows nothing else). Otherwise a weak or missing value is always fixed in place; an unknown protocol name makes the value unjudgeable and it is replaced with the profile's.",
    versions: "Apache httpd 2.4 with mod_ssl and OpenSSL. TLS 1.3 needs httpd 2.4.36+ and OpenSSL 1.1.1+ (an older httpd refuses the name: \"Illegal protocol\").",
    sources: &[
        "mod_ssl, SSLProtocol <https://httpd.apache.org/docs/2.4/mod/mod_ssl.html#sslprotocol>",
        "RFC 8996, Deprecating TLS 1.0 and TLS 1.1 <https://www.rfc-editor.org/rfc/rfc8996>",
        "Mozilla server-side TLS guidelines <https://wiki.mozilla.org/Security/Server_Side_TLS>",
    ],
};

pub const CIPHERS: Rule = Rule {
    id: "apache.ciphers",
    server: Server::Apache,
    severity: Severity::High,
    activation: Activation::Default,
    summary: "SSLCipherSuite uses only the profile's TLS 1.2 ciphers (not for modern)",
    checks: "The SSLCipherSuite (TLS 1.2 and below: no protocol argument, or `SSL`) that applies to each TLS virtual host. The list is judged by what it expands to: the host's OpenSSL library (the one tlsmend is linked with, which may differ from the target's) parses it at the @SECLEVEL written in it and lists the TLS 1.2 suites it enables. A list whose expansion is a non-empty subset of the profile's acceptable suites (Mozilla's intermediate list, the 5.7 list with DHE, and for old the old list) meets the profile, however it is written (`ECDHE+AESGCM:!AES128` is kept). `@SECLEVEL=0` fails every profile but old. `PROFILE=SYSTEM` (RHEL/Fedora crypto-policies) and `@SYSTEM` hand the choice to the system policy, whose levels are TLS 1.2+: they meet the profile and are reported as info only. A list OpenSSL rejects entirely (no cipher matched) is broken, since httpd refuses to start with it, unless every name in it is an acceptable suite (the target's OpenSSL may know a name the host's does not). `SSLCipherSuite TLSv1.3 ...` sets TLS 1.3 suites and is not judged here. Not run for modern (TLS 1.3 only).",
    writes: "intermediate: Mozilla's intermediate list (ECDHE with AES-GCM and ChaCha20-Poly1305); old: Mozilla 5.8's old list, ending in `@SECLEVEL=0` when the target's OpenSSL is 3.x (OpenSSL 3's default security level otherwise refuses TLS 1.0 and 1.1; left out when the version is unknown, since an OpenSSL before 1.1.0 rejects the whole list). Set in place, or added once in the server config (or per TLS virtual host) when missing.",
    refuses: "`PROFILE=SYSTEM` and `@SYSTEM`: reported (info), never replaced: the system crypto policy decides, and replacing it would detach the host from its policy.",
    versions: "Apache httpd 2.4 with mod_ssl and OpenSSL; the expansion uses the OpenSSL library tlsmend runs with (on Debian 12, OpenSSL 3.0), so a list that depends on the target's build can expand differently there.",
    sources: &[
        "mod_ssl, SSLCipherSuite <https://httpd.apache.org/docs/2.4/mod/mod_ssl.html#sslciphersuite>",
        "OpenSSL ciphers(1), cipher list format <https://docs.openssl.org/3.0/man1/openssl-ciphers/>",
        "Mozilla server-side TLS guidelines <https://wiki.mozilla.org/Security/Server_Side_TLS>",
        "RHEL crypto-policies <https://docs.redhat.com/en/documentation/red_hat_enterprise_linux/9/html/security_hardening/using-the-system-wide-cryptographic-policies_security-hardening>",
    ],
};

pub const HONOR_CIPHER_ORDER: Rule = Rule {
    id: "apache.honor-cipher-order",
    server: Server::Apache,
    severity: Severity::Low,
    activation: Activation::Default,
    summary: "SSLHonorCipherOrder as the profile says (off; on for old)",
    checks: "The SSLHonorCipherOrder that applies to each TLS virtual host. For modern and intermediate every allowed suite is strong, so the client's order may win (Mozilla: off); httpd's default is off, so an absent directive is fine. For old, weak suites remain for legacy clients, so the server's order must win (on).",
    writes: "modern, intermediate: `off` in place of `on`. old: `on`, set in place or added once in the server config (or per TLS virtual host).",
    refuses: "nothing: the value is a plain on/off.",
    versions: "Apache httpd 2.4 with mod_ssl (all releases).",
    sources: &[
        "mod_ssl, SSLHonorCipherOrder <https://httpd.apache.org/docs/2.4/mod/mod_ssl.html#sslhonorcipherorder>",
        "Mozilla server-side TLS guidelines <https://wiki.mozilla.org/Security/Server_Side_TLS>",
    ],
};

pub const COMPRESSION: Rule = Rule {
    id: "apache.compression",
    server: Server::Apache,
    severity: Severity::High,
    activation: Activation::Default,
    summary: "SSLCompression off, explicitly",
    checks: "The SSLCompression that applies to each TLS virtual host: `on` enables TLS compression and the CRIME attack. Off is httpd's default since 2.4.4 (CHANGES: the directive came in 2.4.3, defaulting to on); an absent directive is reported as info.",
    writes: "`SSLCompression off`: set in place of `on`, or added once in the server config (or per TLS virtual host), as the 2017 article asks, so that an older build or an included file cannot turn it on.",
    refuses: "nothing.",
    versions: "Apache httpd 2.4.3+ (the directive exists since 2.4.3; off by default since 2.4.4). Since 2.4.30 mod_ssl refuses `on` when OpenSSL has no compression method.",
    sources: &[
        "mod_ssl, SSLCompression <https://httpd.apache.org/docs/2.4/mod/mod_ssl.html#sslcompression>",
        "RFC 7457, Summarizing Known Attacks on TLS (CRIME, section 2.6) <https://www.rfc-editor.org/rfc/rfc7457>",
    ],
};

pub const SESSION_TICKETS: Rule = Rule {
    id: "apache.session-tickets",
    server: Server::Apache,
    severity: Severity::Medium,
    activation: Activation::Default,
    summary: "SSLSessionTickets off",
    checks: "The SSLSessionTickets that applies to each TLS virtual host. Tickets are on by default, and httpd never rotates the ticket key while it runs, which undoes forward secrecy for every session resumed with it.",
    writes: "`SSLSessionTickets off`: set in place of `on`, or added once in the server config (or per TLS virtual host) when absent.",
    refuses: "A missing directive is not added unless httpd is known to be 2.4.11+ (dpkg database, version string in the binary, or --apache-version): it is reported with the reason. An existing line proves httpd knows it, and is fixed anyway.",
    versions: "Apache httpd 2.4.11+ (an older httpd refuses the directive at start).",
    sources: &[
        "mod_ssl, SSLSessionTickets <https://httpd.apache.org/docs/2.4/mod/mod_ssl.html#sslsessiontickets>",
        "Mozilla server-side TLS guidelines <https://wiki.mozilla.org/Security/Server_Side_TLS>",
    ],
};

/// Whether a directive's arguments meet the profile.
pub(super) type Judge = Box<dyn Fn(&[String]) -> bool>;

/// One directive with a single wanted value.
pub(super) struct Setting {
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
    /// Appended to a reason that replaces `reason` (the cipher list's
    /// expansion): what the target's versions change in `wanted`.
    note: String,
    /// Report, never write: the target cannot take any value that meets
    /// the profile (modern on an httpd or OpenSSL without TLS 1.3).
    blocked: Option<String>,
    /// Report the directive's absence, never add it: the target's httpd may
    /// not know the directive (a value already there proves it does).
    absent_blocked: Option<String>,
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

/// The TLS 1.2 list of `SSLCipherSuite [SSL] list`; `None` for
/// `SSLCipherSuite TLSv1.3 ...`, which sets TLS 1.3 suites.
fn tls12_list(args: &[String]) -> Option<&str> {
    match args {
        [l] => Some(l),
        [proto, l] if proto.eq_ignore_ascii_case("SSL") => Some(l),
        _ => None,
    }
}

/// The settings a missing one is written next to.
const RELATED: &[&str] = &[
    "SSLProtocol",
    "SSLCipherSuite",
    "SSLHonorCipherOrder",
    "SSLCompression",
    "SSLSessionTickets",
    "SSLOpenSSLConfCmd",
];

pub(super) fn on_off(args: &[String], want_on: bool) -> bool {
    args.len() == 1 && args[0].eq_ignore_ascii_case(if want_on { "on" } else { "off" })
}

pub(super) fn settings(
    tree: &ApacheTree,
    profile: Profile,
    versions: &TargetVersions,
) -> Vec<Setting> {
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
        note: String::new(),
        blocked: protocol_blocked,
        absent_blocked: None,
    }];
    if let Some(list) = p.openssl_ciphers_for(versions.openssl_release()) {
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
                tls12_list(a).is_none_or(|l| {
                    matches!(*ciphers::judge(l, p), Verdict::Meets | Verdict::SystemPolicy)
                })
            }),
            severity: Severity::High,
            reason: format!(
                "the cipher list is not limited to the {} profile's forward-secret AEAD suites{seclevel_note}",
                p.name()
            ),
            absent_reason: format!("no SSLCipherSuite applies, so OpenSSL's default list (with CBC and non-forward-secret suites) is used{seclevel_note}"),
            absent_severity: Severity::Medium,
            note: seclevel_note,
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
        note: String::new(),
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
        absent_reason: "off is httpd's default since 2.4.4; set explicitly so that an older build or an included file cannot turn it on".into(),
        absent_severity: Severity::Info,
        note: String::new(),
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
        note: String::new(),
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

impl Ctx<'_> {
    pub(super) fn setting(&mut self, s: &Setting) {
        let tree = self.tree;
        let items: Vec<&Item> = tree.named(s.name).filter(|i| !i.per_dir).collect();
        // The virtual hosts of a hosting tree repeat a few values: each
        // value is judged, and its finding's texts made, once. `None`: it
        // meets the profile.
        let mut judged: FxHashMap<Vec<String>, Option<(Text, Text)>> = FxHashMap::default();
        // The same, by the arguments as written: a value written alike is
        // found without splitting it again (a macro body's arguments are
        // not what they say, so those are split).
        let mut judged_as_written: FxHashMap<&[u8], Option<(Text, Text)>> = FxHashMap::default();
        let wanted: Text = s.wanted.as_str().into();
        let change_reason: Text = format!("{} {}: {}", s.name, s.wanted, s.reason).into();
        for item in &items {
            let written = item
                .subst
                .is_none()
                .then(|| item.directive.args_region.slice(tree.bytes(item.file())));
            let known = written.and_then(|w| judged_as_written.get(w));
            let verdict = match known {
                Some(verdict) => verdict.clone(),
                None => {
                    let args = tree.args(item);
                    let verdict = match judged.get(&args) {
                        Some(verdict) => verdict.clone(),
                        None => {
                            let verdict = (!(s.judge)(&args)).then(|| self.setting_texts(s, &args));
                            judged.insert(args, verdict.clone());
                            verdict
                        }
                    };
                    if let Some(w) = written {
                        judged_as_written.insert(w, verdict.clone());
                    }
                    verdict
                }
            };
            let Some((current, reason)) = verdict else {
                continue;
            };
            let mut f = self.finding(s.rule, s.severity, item.file(), item.directive.name.start());
            f.current = Some(current);
            f.wanted = Some(wanted.clone());
            f.reason = reason;
            if let Some(why) = &s.blocked {
                f.blocked = Some(why.clone());
                self.push(f, None);
                continue;
            }
            let file = f.file;
            let change = Change {
                ldap: None,
                rule: s.rule,
                reason: change_reason.clone(),
                edits: vec![(file, self.set_args(item, &s.wanted))],
            };
            self.push(f, Some(change));
        }
        if s.default_ok || items.iter().any(|i| i.vhost().is_none()) {
            return;
        }
        let mut covered = vec![false; tree.vhosts.len()];
        for v in items.iter().filter_map(|i| i.vhost()) {
            covered[v] = true;
        }
        let uncovered: Vec<usize> = (0..tree.vhosts.len())
            .filter(|&v| tree.vhost_is_tls(v) && !covered[v])
            .collect();
        if uncovered.is_empty() {
            return;
        }
        if let Some(why) = s.blocked.as_ref().or(s.absent_blocked.as_ref()) {
            let vh = &tree.vhosts[uncovered[0]];
            let mut f = self.finding(s.rule, s.absent_severity, vh.file, vh.open.name.start());
            f.wanted = Some(s.wanted.clone().into());
            f.reason = s.absent_reason.clone().into();
            f.blocked = Some(why.clone());
            self.push(f, None);
            return;
        }
        // After its closest relative: the protocol and cipher settings,
        // else any SSL directive but the stapling pair (never between
        // SSLUseStapling and its cache).
        let ssl = |i: &&Item| {
            let n = tree.name_of(i).to_ascii_uppercase();
            n.starts_with("SSL") && !n.starts_with("SSLSTAPLING") && n != "SSLUSESTAPLING"
        };
        let anchor = tree
            .server_items()
            .filter(|i| RELATED.iter().any(|r| tree.is(i, r)))
            .last()
            .or_else(|| tree.server_items().filter(ssl).last());
        match anchor {
            Some(anchor) => {
                let text = format!(
                    "{} {}",
                    style::name_case(
                        s.name,
                        anchor.directive.name.slice(self.bytes(anchor.file()))
                    ),
                    s.wanted
                );
                let mut f = self.finding(
                    s.rule,
                    s.absent_severity,
                    anchor.file(),
                    anchor.directive.name.start(),
                );
                f.wanted = Some(s.wanted.clone().into());
                f.reason = s.absent_reason.clone().into();
                let file = f.file;
                let patch = match self.commented(anchor.file(), anchor.parent(), s.name) {
                    Some((body, _)) => {
                        f.line = tree.files[anchor.file()].0.source.line_of(body.start());
                        f.current = Some(
                            format!(
                                "(commented out) {}",
                                String::from_utf8_lossy(body.slice(self.bytes(anchor.file())))
                            )
                            .into(),
                        );
                        Patch::replace(body, text)
                    }
                    None => {
                        let indent = anchor
                            .directive
                            .indent()
                            .slice(self.bytes(anchor.file()))
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
                    )
                    .into(),
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
                            i.file() == vh.file
                                && tree.name_of(i).to_ascii_uppercase().starts_with("SSL")
                        })
                        .last();
                    let sample = last_ssl
                        .map(|i| i.directive.name.slice(self.bytes(i.file())).to_vec())
                        .unwrap_or_default();
                    let text = format!("{} {}", style::name_case(s.name, &sample), s.wanted);
                    let patch = match last_ssl {
                        Some(i) => {
                            let indent = i.directive.indent().slice(self.bytes(i.file())).to_vec();
                            self.insert_after(i, &indent, &text)
                        }
                        None => self.insert_in_vhost(v, &text),
                    };
                    let mut f =
                        self.finding(s.rule, s.absent_severity, vh.file, vh.open.name.start());
                    f.wanted = Some(s.wanted.clone().into());
                    f.reason = s.absent_reason.clone().into();
                    let file = f.file;
                    let change = Change {
                        ldap: None,
                        rule: s.rule,
                        reason: format!(
                            "{} {} in this virtual host: {}",
                            s.name, s.wanted, s.absent_reason
                        )
                        .into(),
                        edits: vec![(file, patch)],
                    };
                    self.push(f, Some(change));
                }
            }
        }
    }

    /// The current value and the reason of a finding of `s` on a directive
    /// with `args`, which do not meet the profile.
    fn setting_texts(&self, s: &Setting, args: &[String]) -> (Text, Text) {
        let current: Text = args.join(" ").into();
        let detail = (s.rule == "apache.ciphers")
            .then(|| tls12_list(args).and_then(|l| self.cipher_detail(l)))
            .flatten();
        let reason = match detail {
            Some(why) => format!("{why}{}", s.note).into(),
            None => s.reason.as_str().into(),
        };
        (current, reason)
    }

    /// What `list` expands to, for the reason of an `apache.ciphers` finding.
    fn cipher_detail(&self, list: &str) -> Option<String> {
        let by = format!(
            "as expanded by the OpenSSL tlsmend runs with ({}), which may differ from httpd's",
            openssl::version::version()
        );
        match &*ciphers::judge(list, self.profile) {
            Verdict::Meets | Verdict::SystemPolicy => None,
            Verdict::Weaker { why, outside } if outside.is_empty() => Some(why.clone()),
            Verdict::Weaker { why, .. } => Some(format!("{why} ({by})")),
            Verdict::Broken(e) => Some(format!(
                "OpenSSL rejects the whole list: {e} ({by}); httpd refuses to start with a cipher list that matches nothing"
            )),
        }
    }

    /// `SSLCipherSuite PROFILE=SYSTEM` (or `@SYSTEM`): the system crypto
    /// policy decides; reported, never replaced.
    pub(super) fn system_cipher_policy(&mut self) {
        let tree = self.tree;
        if self.profile.openssl_ciphers().is_none() {
            return; // modern: TLS 1.3 only, no TLS 1.2 list to judge
        }
        for item in tree.named("SSLCipherSuite").filter(|i| !i.per_dir) {
            // Without the word SYSTEM as written (and no macro parameter to
            // stand for it), the list is not the system's: not split.
            let written = item.directive.args_region.slice(tree.bytes(item.file()));
            let says_system = memchr::memchr2_iter(b's', b'S', written).any(|at| {
                written
                    .get(at..at + 6)
                    .is_some_and(|w| w.eq_ignore_ascii_case(b"system"))
            });
            if item.subst.is_none() && !says_system {
                continue;
            }
            let args = tree.args(item);
            let Some(list) = tls12_list(&args) else {
                continue;
            };
            if !ciphers::is_system_policy(list) {
                continue;
            }
            let mut f = self.finding(
                "apache.ciphers",
                Severity::Info,
                item.file(),
                item.directive.name.start(),
            );
            f.current = Some(args.join(" ").into());
            f.reason = "the system crypto policy (RHEL/Fedora crypto-policies) chooses the suites; its levels allow TLS 1.2+ only and meet the profile".into();
            f.blocked = Some(
                "report only: the policy is changed with update-crypto-policies, not here".into(),
            );
            self.push(f, None);
        }
    }
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
