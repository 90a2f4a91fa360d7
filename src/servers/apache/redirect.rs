//! `apache.redirect`: a port-80 virtual host whose name is also served over
//! TLS sends its visitors to https with mod_alias's `Redirect`.

use super::Ctx;
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::plan::{Change, Severity};

pub const REDIRECT: Rule = Rule {
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
};

impl Ctx<'_> {
    pub(super) fn redirect(&mut self) {
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
}
