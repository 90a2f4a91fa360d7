//! Hardening rules per server, and the profiles they apply.
//!
//! [`audit`] is the one entry point: it discovers the servers' files under a
//! root, parses them, and runs each server's rules into one [`Report`].

pub mod apache;
pub mod courier;
pub mod found;
pub mod openldap;
pub mod postfix;
pub mod template;

use crate::catalogue::profile::Profile;
use crate::discover::{self, Root};
use crate::error::{Error, Result};
use crate::plan::{Report, Text};
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
    f.current = Some(format!("{path}: {}", info.describe()).into());
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

/// Audits every server asked for. A server whose files cannot be read or
/// parsed is reported in `report.summary.broken` and the others are still
/// audited; finding no configuration at all is an error naming the places
/// searched, and so is a server named by `--server` that is absent.
pub fn audit(root: &Root, opts: &Options) -> Result<Report> {
    // The target's versions, read once: the overrides, else the root.
    let resolved = Options {
        versions: opts.versions.resolve(root),
        ..opts.clone()
    };
    let opts = &resolved;
    let mut report = Report::default();
    let wants = |s: Server| opts.servers.is_empty() || opts.servers.contains(&s);
    for server in [
        Server::Apache,
        Server::Courier,
        Server::Postfix,
        Server::Openldap,
    ] {
        if !wants(server) {
            continue;
        }
        match audit_one(server, root, opts, &mut report) {
            Ok(None) => {}
            Ok(Some(searched)) => report
                .summary
                .missing
                .push(found::Missing { server, searched }),
            // A parse error may quote the offending line.
            Err(e) => report.summary.broken.push(found::Broken {
                server,
                error: crate::redact::text(&e.to_string()),
            }),
        }
    }
    let where_ = root
        .dir()
        .map(|d| format!(" under {}", d.display()))
        .unwrap_or_default();
    for m in &report.summary.missing {
        if opts.servers.contains(&m.server) {
            return Err(Error::Other(format!(
                "no {} configuration found{where_} (looked for {})",
                found::title(m.server),
                m.searched
            )));
        }
    }
    if report.summary.nothing() {
        let places: Vec<String> = report
            .summary
            .missing
            .iter()
            .map(|m| format!("  {}: {}", m.server.name(), m.searched))
            .collect();
        return Err(Error::Other(format!(
            "no configuration found{where_}; looked for:\n{}\n(is --root the directory that stands for / ?)",
            places.join("\n")
        )));
    }
    report.filter_rules(|rule| opts.wants(rule));
    // Planning again on the planned result (an overlay root) is the check
    // itself, so it is not checked again.
    if !root.is_overlay() {
        crate::vet::vet(root, opts, &mut report);
    }
    redact_findings(&mut report.findings);
    report.planning_done();
    Ok(report)
}

/// Findings quote lines; no secret among them leaves the file. Equal texts
/// are shared (one cipher list quoted by 10,000 findings), so each is
/// redacted once; the map holds each original, so that no other text is
/// made at its address while the map lives.
fn redact_findings(findings: &mut [crate::plan::Finding]) {
    let mut redacted: rustc_hash::FxHashMap<*const str, (Text, Option<Text>)> = Default::default();
    for f in findings {
        for v in [&mut f.current, &mut f.wanted].into_iter().flatten() {
            let (_, shown) = redacted
                .entry(std::sync::Arc::as_ptr(v))
                .or_insert_with(|| {
                    let shown = crate::redact::text(v);
                    // Text with nothing to hide stays shared with its equals.
                    (v.clone(), (shown != **v).then(|| shown.into()))
                });
            if let Some(shown) = shown {
                *v = shown.clone();
            }
        }
    }
}

/// Audits one server into `report`: `Ok(Some(places))` when it is absent.
fn audit_one(
    server: Server,
    root: &Root,
    opts: &Options,
    report: &mut Report,
) -> Result<Option<String>> {
    match server {
        Server::Apache => {
            let Some(places) = discover::apache_main(root) else {
                return Ok(Some(apache::layout::searched()));
            };
            let tree = ApacheTree::load(root, places)?;
            // A plan on planned bytes is never shown: that Apache was found
            // is all its summary needs (not 10,000 services described).
            // Otherwise the summary, which only reads the tree, is made
            // beside the lighter half of the rules.
            let shown = !root.is_overlay();
            let found = apache::audit(&tree, root, opts.profile, &opts.versions, report, || {
                shown.then(|| found::apache(&tree, &opts.versions))
            });
            report
                .summary
                .found
                .push(found.unwrap_or_else(|| found::Found::new(Server::Apache)));
        }
        Server::Courier => {
            let services = courier::load_all(root)?;
            if services.is_empty() {
                return Ok(Some(format!(
                    "imapd, imapd-ssl, pop3d and pop3d-ssl in {}",
                    courier::layout::searched()
                )));
            }
            for cfg in &services {
                let lib = courier::detect_library(cfg, root, opts.tls_library);
                report
                    .summary
                    .found
                    .push(found::courier(cfg, lib, &opts.versions));
                courier::audit(
                    cfg,
                    root,
                    opts.profile,
                    opts.tls_library,
                    &opts.versions,
                    report,
                );
            }
        }
        Server::Postfix => {
            let dirs = crate::servers::postfix::model::instance_dirs(root)?;
            if dirs.is_empty() {
                return Ok(Some(crate::servers::postfix::model::searched()));
            }
            if let Some((layout, dir)) = crate::servers::postfix::model::primary(root) {
                report
                    .notes
                    .push(format!("postfix: main.cf in {} ({layout})", dir.display()));
            }
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
                report
                    .summary
                    .found
                    .push(found::postfix(&inst, version.as_ref(), &opts.versions));
                postfix::audit(
                    &inst,
                    root,
                    opts.profile,
                    version.as_ref().map(|v| v.0),
                    report,
                );
            }
        }
        Server::Openldap => {
            let Some(o) = openldap::OpenLdap::load(root)? else {
                return Ok(Some(format!(
                    "slapd.d/cn=config.ldif, slapd.conf and ldap.conf in {}",
                    openldap::searched()
                )));
            };
            report.summary.found.push(found::openldap(&o));
            // A --root image is edited offline unless a server URI is named.
            let mode = if opts.offline || (root.dir().is_some() && opts.ldap_uri.is_none()) {
                openldap::Mode::Offline
            } else {
                openldap::Mode::Online {
                    uri: opts.ldap_uri.clone().unwrap_or_else(|| "ldapi:///".into()),
                }
            };
            openldap::audit(&o, root, opts, &mode, report);
        }
    }
    Ok(None)
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
    use super::*;
    use crate::catalogue::rule::PRIMARY_SOURCES;

    /// A text shared by many findings is redacted in each of them, once;
    /// a text with nothing to hide stays shared.
    #[test]
    fn shared_texts_are_redacted_in_every_finding() {
        let secret: Text = "olcRootPW: hunter2".into();
        let plain: Text = "SSLProtocol all".into();
        let mut findings: Vec<crate::plan::Finding> = (0..3)
            .map(|i| {
                let mut f = crate::plan::Finding::new("x", crate::plan::Severity::Low, 0, i);
                f.current = Some(secret.clone());
                f.wanted = Some(plain.clone());
                f
            })
            .collect();
        findings[2].current = Some("olcRootPW: hunter2".into());
        redact_findings(&mut findings);
        let first = findings[0].current.clone().unwrap();
        assert!(
            !first.contains("hunter2") && first.contains("<redacted>"),
            "{first}"
        );
        for f in &findings {
            assert_eq!(f.current.as_deref(), Some(&*first));
            assert!(std::sync::Arc::ptr_eq(f.wanted.as_ref().unwrap(), &plain));
        }
    }

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
