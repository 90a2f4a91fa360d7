//! `apache.protocol`, `apache.ciphers`, `apache.honor-cipher-order`,
//! `apache.compression` and `apache.session-tickets`: the mod_ssl directives
//! that take one value each. [`settings`] says, per profile, what each one
//! wants and how an existing value is judged; [`super::Ctx::setting`] fixes a
//! weak value where it stands, or adds the directive once where it is missing.

use super::Ctx;
use super::model::{ApacheTree, Item, Layout};
use crate::catalogue::profile::{Profile, Version, cipher_list_meets};
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::edit::Patch;
use crate::plan::{Change, Severity};
use crate::style;

pub const PROTOCOL: Rule = Rule {
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
};

pub const CIPHERS: Rule = Rule {
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
};

pub const HONOR_CIPHER_ORDER: Rule = Rule {
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
};

pub const COMPRESSION: Rule = Rule {
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
};

pub const SESSION_TICKETS: Rule = Rule {
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

pub(super) fn on_off(args: &[String], want_on: bool) -> bool {
    args.len() == 1 && args[0].eq_ignore_ascii_case(if want_on { "on" } else { "off" })
}

pub(super) fn settings(tree: &ApacheTree, profile: Profile) -> Vec<Setting> {
    let p = profile;
    let wanted_protocols = match p {
        Profile::Modern => "-all +TLSv1.3",
        Profile::Intermediate => "-all +TLSv1.2 +TLSv1.3",
        Profile::Old => "-all +TLSv1 +TLSv1.1 +TLSv1.2 +TLSv1.3",
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
            "allows protocol versions outside the {} profile (TLS 1.0 and 1.1 are deprecated by RFC 8996).{debian_note}",
            p.name()
        ),
        absent_reason: format!(
            "no SSLProtocol applies, so httpd's default `all -SSLv3` allows TLS 1.0 and 1.1 (deprecated by RFC 8996).{debian_note}"
        ),
        absent_severity: Severity::High,
    }];
    if let Some(list) = p.openssl_ciphers() {
        let acceptable = p.acceptable_ciphers();
        v.push(Setting {
            rule: "apache.ciphers",
            name: "SSLCipherSuite",
            wanted: list.into(),
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
                "the cipher list is not limited to the {} profile's forward-secret AEAD suites",
                p.name()
            ),
            absent_reason: "no SSLCipherSuite applies, so OpenSSL's default list (with CBC and non-forward-secret suites) is used".into(),
            absent_severity: Severity::Medium,
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
    });
    v
}

impl Ctx<'_> {
    pub(super) fn setting(&mut self, s: &Setting) {
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
