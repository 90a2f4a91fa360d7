//! `apache.hsts`: every TLS virtual host sends one Strict-Transport-Security
//! header (mod_headers), long enough, never weakened.

use super::model::Item;
use super::{Ctx, comment_out};
use crate::catalogue::profile::HSTS_MAX_AGE;
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::plan::{Change, Severity};

pub const HSTS: Rule = Rule {
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
};

impl Ctx<'_> {
    pub(super) fn hsts(&mut self) {
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
}
