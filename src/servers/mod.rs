//! Hardening rules per server, and the profiles they apply.
//!
//! [`audit`] is the one entry point: it discovers the servers' files under a
//! root, parses them, and runs each server's rules into one [`Report`].

pub mod apache;
pub mod courier;
pub mod openldap;
pub mod postfix;
pub mod template;

use crate::catalogue::profile::Profile;
use crate::discover::{self, Root};
use crate::error::{Error, Result};
use crate::plan::Report;
use crate::servers::apache::model::ApacheTree;
use crate::target::tlslib::TlsLibrary;

use crate::catalogue::rule::Rule;
pub use crate::catalogue::rule::Server;

#[derive(Clone, Debug)]
pub struct Options {
    /// Empty: every server found.
    pub servers: Vec<Server>,
    pub profile: Profile,
    pub tls_library: Option<TlsLibrary>,
    pub postfix_version: Option<crate::servers::postfix::model::PostfixVersion>,
    /// httpd, OpenSSL and GnuTLS versions: the overrides (`--apache-version`
    /// ...) as given; [`audit`] resolves the rest from the root, once.
    pub versions: crate::target::versions::TargetVersions,
    /// Rules asked for (`--only`), empty for all, and rules left out (`--skip`).
    pub only: Vec<String>,
    pub skip: Vec<String>,
    /// Opt-in rules asked for (`--with`).
    pub with: Vec<String>,
    /// The interactive review: opt-in rules not asked for are still planned,
    /// to be offered after the profile's changes (default answer no).
    pub offer_opt_in: bool,
    /// OpenLDAP: edit slapd.d files instead of changing the running server.
    pub offline: bool,
    /// OpenLDAP: where the running server is reached (default `ldapi:///`).
    pub ldap_uri: Option<String>,
}

impl Options {
    pub fn new(profile: Profile) -> Options {
        Options {
            servers: Vec::new(),
            profile,
            tls_library: None,
            postfix_version: None,
            versions: Default::default(),
            only: Vec::new(),
            skip: Vec::new(),
            with: Vec::new(),
            offer_opt_in: false,
            offline: false,
            ldap_uri: None,
        }
    }

    /// Whether `rule` is asked for: named by `--only` (or no `--only`),
    /// not skipped, and, for an opt-in rule, named by `--with` or to be
    /// offered in the review.
    pub fn wants(&self, rule: &str) -> bool {
        let opted = match lookup(rule) {
            Some(r) if r.is_opt_in() => self.offer_opt_in || self.with.iter().any(|w| w == rule),
            _ => true,
        };
        opted
            && (self.only.is_empty() || self.only.iter().any(|o| o == rule))
            && !self.skip.iter().any(|s| s == rule)
    }

    /// Checks the rule ids named by `--only`, `--skip` and `--with`: each
    /// must exist, and `--with` names only opt-in rules.
    pub fn check_rule_names(&self) -> std::result::Result<(), String> {
        for (flag, ids) in [
            ("--only", &self.only),
            ("--skip", &self.skip),
            ("--with", &self.with),
        ] {
            for id in ids {
                let Some(rule) = lookup(id) else {
                    return Err(format!(
                        "{flag} {id}: no such rule; `tlsmend rules` lists them"
                    ));
                };
                if flag == "--with" && !rule.is_opt_in() {
                    return Err(format!(
                        "--with {id}: this rule is on by default; --with is for opt-in rules ({})",
                        opt_in_ids().join(", ")
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The audit-only finding for a certificate key below 2048 bits RSA or 256
/// bits EC, shared by every server's `*.weak-key` rule; `why` says what it
/// means for that daemon.
pub(crate) fn weak_key(
    rule: &'static str,
    file: usize,
    line: usize,
    path: &str,
    info: &crate::target::cert::CertInfo,
    why: &str,
) -> crate::plan::Finding {
    let mut f = crate::plan::Finding::new(rule, crate::plan::Severity::High, file, line);
    f.current = Some(format!("{path}: {}", info.describe()));
    f.wanted = Some("RSA >= 2048 bits or EC >= 256 bits".into());
    f.reason = why.into();
    f.blocked = Some("audit only: issue a new key and certificate".into());
    f
}

/// The whole catalogue, server by server, in the order `tlsmend rules` lists it.
pub fn catalogue() -> impl Iterator<Item = &'static Rule> {
    apache::RULES
        .iter()
        .chain(courier::RULES.iter())
        .chain(postfix::RULES.iter())
        .chain(openldap::RULES.iter())
}

/// The rule with this id.
pub fn lookup(id: &str) -> Option<&'static Rule> {
    catalogue().find(|r| r.id == id)
}

fn opt_in_ids() -> Vec<&'static str> {
    catalogue()
        .filter(|r| r.is_opt_in())
        .map(|r| r.id)
        .collect()
}

pub fn audit(root: &Root, opts: &Options) -> Result<Report> {
    // The target's versions, read once: the overrides, else the root.
    let resolved = Options {
        versions: opts.versions.resolve(root),
        ..opts.clone()
    };
    let opts = &resolved;
    let mut report = Report::default();
    let wants = |s: Server| opts.servers.is_empty() || opts.servers.contains(&s);
    let where_ = root
        .dir()
        .map(|d| format!(" under {}", d.display()))
        .unwrap_or_default();
    if wants(Server::Apache) {
        match discover::apache_main(root) {
            Some(main) => {
                let tree = ApacheTree::load(root, &main)?;
                apache::audit(&tree, root, opts.profile, &opts.versions, &mut report);
            }
            None if opts.servers.contains(&Server::Apache) => {
                return Err(Error::Other(format!(
                    "no Apache configuration found{where_} (looked for /etc/apache2/apache2.conf and /etc/httpd/conf/httpd.conf)"
                )));
            }
            None => {}
        }
    }
    if wants(Server::Courier) {
        let services = courier::load_all(root)?;
        if services.is_empty() && opts.servers.contains(&Server::Courier) {
            return Err(Error::Other(format!(
                "no Courier IMAP or POP3 configuration found{where_} (looked for imapd, imapd-ssl, pop3d and pop3d-ssl in {})",
                courier::layout::searched()
            )));
        }
        for cfg in &services {
            courier::audit(
                cfg,
                root,
                opts.profile,
                opts.tls_library,
                &opts.versions,
                &mut report,
            );
        }
    }
    if wants(Server::Postfix) {
        let dirs = crate::servers::postfix::model::instance_dirs(root)?;
        if dirs.is_empty() && opts.servers.contains(&Server::Postfix) {
            return Err(Error::Other(format!(
                "no Postfix configuration found{where_} (looked for {})",
                crate::servers::postfix::model::searched()
            )));
        }
        if let Some((layout, dir)) = crate::servers::postfix::model::primary(root) {
            report
                .notes
                .push(format!("postfix: main.cf in {} ({layout})", dir.display()));
        }
        if !dirs.is_empty() {
            let version =
                crate::servers::postfix::model::detect_version(root, opts.postfix_version);
            match &version {
                Some((v, how)) => report.notes.push(format!("postfix: version {v} (from {how})")),
                None => report.notes.push(
                    "postfix: version unknown (pass --postfix-version): writing only syntax every Postfix 3.x accepts".into(),
                ),
            }
            for d in dirs {
                let inst = crate::servers::postfix::model::Instance::load(root, &d)?;
                postfix::audit(
                    &inst,
                    root,
                    opts.profile,
                    version.as_ref().map(|v| v.0),
                    &mut report,
                );
            }
        }
    }
    if wants(Server::Openldap) {
        match openldap::OpenLdap::load(root)? {
            Some(o) => {
                // A --root image is edited offline unless a server URI is named.
                let mode = if opts.offline || (root.dir().is_some() && opts.ldap_uri.is_none()) {
                    openldap::Mode::Offline
                } else {
                    openldap::Mode::Online {
                        uri: opts.ldap_uri.clone().unwrap_or_else(|| "ldapi:///".into()),
                    }
                };
                openldap::audit(&o, root, opts, &mode, &mut report);
            }
            None if opts.servers.contains(&Server::Openldap) => {
                return Err(Error::Other(format!(
                    "no OpenLDAP configuration found{where_} (looked for slapd.d/cn=config.ldif, slapd.conf and ldap.conf in {})",
                    openldap::searched()
                )));
            }
            None => {}
        }
    }
    report.filter_rules(|rule| opts.wants(rule));
    Ok(report)
}

/// The rule list as `tlsmend audit --help` shows it.
pub fn rules_help() -> String {
    let mut s = String::from("Rules (tlsmend rules --explain RULE tells more):\n");
    for r in catalogue() {
        let opt = if r.is_opt_in() {
            " [opt-in: --with]"
        } else {
            ""
        };
        s.push_str(&format!("  {:<28} {}{opt}\n", r.id, r.summary));
    }
    s
}

#[cfg(test)]
mod tests {
    use crate::catalogue::rule::PRIMARY_SOURCES;

    #[test]
    fn every_rule_is_documented_and_rests_on_a_primary_source() {
        let mut seen = std::collections::HashSet::new();
        for r in super::catalogue() {
            assert!(seen.insert(r.id), "{} is in the catalogue twice", r.id);
            assert!(
                r.id.starts_with(&format!("{}.", r.server.name())),
                "{} is filed under {}",
                r.id,
                r.server.name()
            );
            for (field, text) in [
                ("summary", r.summary),
                ("checks", r.checks),
                ("writes", r.writes),
                ("refuses", r.refuses),
                ("versions", r.versions),
            ] {
                assert!(!text.trim().is_empty(), "{}: {field} is empty", r.id);
            }
            let first = r
                .sources
                .first()
                .unwrap_or_else(|| panic!("{}: no sources", r.id));
            assert!(
                PRIMARY_SOURCES
                    .iter()
                    .any(|p| first.contains(&format!("<{p}"))),
                "{}: first source {first:?} is not a primary source",
                r.id
            );
        }
    }
}
