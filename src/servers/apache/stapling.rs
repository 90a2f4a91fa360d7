//! `apache.stapling`: OCSP stapling on for each TLS virtual host whose
//! certificate names an OCSP responder, with the one `SSLStaplingCache` it
//! needs in the server config (and never inside a virtual host).

use super::settings::on_off;
use super::{Ctx, comment_out};
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::edit::Patch;
use crate::plan::{Change, Finding, Severity};
use crate::style;

pub const STAPLING: Rule = Rule {
    id: "apache.stapling",
    server: Server::Apache,
    severity: Severity::Low,
    activation: Activation::Default,
    summary: "OCSP stapling for certificates that name an OCSP responder, cache in the server config",
    checks: "Each TLS virtual host whose certificate (SSLCertificateFile, read from the target) names an OCSP responder in its Authority Information Access extension and is not self-signed: SSLUseStapling must be on (its own or the server config's). SSLStaplingCache must be in the server config: httpd refuses it inside <VirtualHost>, and SSLUseStapling on with no cache anywhere makes httpd exit at start (AH01958) although `apache2ctl -t` says Syntax OK.",
    writes: "`SSLUseStapling on` next to the certificate (set in place when it is off), and once `SSLStaplingCache \"shmcb:${APACHE_RUN_DIR}/ssl_stapling(128000)\"` (Debian) or `\"shmcb:/run/httpd/ssl_stapling(128000)\"` (RHEL) before the virtual host, in the server config; an SSLStaplingCache inside a virtual host is commented out. All parts are one change, approved together.",
    refuses: "A certificate without an OCSP responder (several CAs, Let's Encrypt among them, ended OCSP in 2025: stapling gains nothing and logs errors) or self-signed: no finding. No issuer certificate configured (not in the file, no SSLCertificateChainFile/SSLCACertificateFile/Path): reported, not written, as mod_ssl cannot build the OCSP request (AH02217).",
    versions: "Apache httpd 2.4 with mod_ssl and OpenSSL with OCSP support (2.3.3+).",
    sources: &[
        "mod_ssl, SSLUseStapling <https://httpd.apache.org/docs/2.4/mod/mod_ssl.html#sslusestapling>",
        "mod_ssl, SSLStaplingCache <https://httpd.apache.org/docs/2.4/mod/mod_ssl.html#sslstaplingcache>",
        "RFC 6066, Certificate Status Request <https://www.rfc-editor.org/rfc/rfc6066#section-8>",
    ],
};

impl Ctx<'_> {
    pub(super) fn stapling(&mut self) {
        let tree = self.tree;
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
            let Some((item, _, path)) = self.vhost_certificate(v) else {
                continue;
            };
            // An unreadable certificate is apache.certificate's finding.
            let Ok(info) = crate::target::cert::read(&path) else {
                continue;
            };
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
                let cache = tree.layout.places().stapling_cache;
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
