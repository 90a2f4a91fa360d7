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
    checks: "Every mod_headers `Header` directive that names Strict-Transport-Security, read with mod_headers' full syntax: `Header [onsuccess|always] add|append|echo|edit|edit*|merge|set|setifempty|unset|note header [[expr=]value [replacement] [early|env=[!]var|expr=...]]`. Only the value-setting actions (set, add, append, merge, setifempty) are judged; the value's max-age must reach two years (63072000). A longer max-age, includeSubDomains and preload are never lowered or dropped, and an `env=`/`expr=` condition is kept. `add`, `append` and `merge` can send two headers (or one joined, invalid value) and become `set`. An `onsuccess` header (the default table) is kept: it is sent on every 2xx response, and `always` would add a second header next to a proxied backend's; it becomes `always` only in a virtual host that redirects every request (`Redirect /`), where no 2xx response is ever sent. Each TLS virtual host (HSTS in the server config or in its <Location>/<Directory> sections counts) must send the header once; a second unconditional value-setting header in the same virtual host is commented out, keeping the strongest.",
    writes: "A missing header: `Header always set Strict-Transport-Security \"max-age=63072000\"` at the end of the TLS virtual host. A short max-age without includeSubDomains: raised to 63072000, other directives kept. A short max-age with includeSubDomains is raised one step of hstspreload.org's deployment ladder (5 minutes, 1 week, 1 month, 2 years) to the next rung above it; a value already on a rung is reported with the next rung as wanted (the step is the administrator's, after checking every subdomain).",
    refuses: "max-age=0 (a deliberate withdrawal of HSTS), a value on a rung of the staged roll-out (tlsmend cannot know how long it has been in place), an `expr=` value it cannot read, and a virtual host whose last HSTS directive is `Header unset Strict-Transport-Security` (a deliberate removal): reported, not written. Without mod_headers the insertion is reported and not written.",
    versions: "Apache httpd 2.4 with mod_headers; `setifempty` and `note` need 2.4.7+, `merge` 2.4.5+, `expr=` values 2.4.10+.",
    sources: &[
        "mod_headers, Header <https://httpd.apache.org/docs/2.4/mod/mod_headers.html#header>",
        "RFC 6797, HTTP Strict Transport Security <https://www.rfc-editor.org/rfc/rfc6797>",
        "hstspreload.org, deployment recommendations <https://hstspreload.org/#deployment-recommendations>",
    ],
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
