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
    writes: "`SSLUseStapling on` after the certificate directives (set in place when it is off, a `#SSLUseStapling` line there uncommented), and once `SSLStaplingCache` with the layout's path (Debian `\"shmcb:${APACHE_RUN_DIR}/ssl_stapling(128000)\"`, RHEL and Arch `\"shmcb:/run/httpd/ssl_stapling(128000)\"`, ...) in mod_ssl's global file (Debian mods-available/ssl.conf, RHEL conf.d/ssl.conf, FreeBSD and Arch extra/httpd-ssl.conf, SUSE ssl-global.conf, Alpine conf.d/ssl.conf), reusing a `#SSLStaplingCache` line there, else after SSLSessionCache; at the end of the main file when the tree has no such file, never in a site file that a2dissite can switch off. `SSLUseStapling on` with no cache anywhere is a high finding fixed the same way. An SSLStaplingCache inside a virtual host is commented out. All parts are one change, approved together.",
    refuses: "A certificate without an OCSP responder (several CAs, Let's Encrypt among them, ended OCSP in 2025: stapling gains nothing and logs errors) or self-signed: no finding. No issuer certificate configured (not in the file, no SSLCertificateChainFile/SSLCACertificateFile/Path): reported, not written, as mod_ssl cannot build the OCSP request (AH02217).",
    versions: "Apache httpd 2.4 with mod_ssl and OpenSSL with OCSP support (2.3.3+).",
    sources: &[
        "mod_ssl, SSLUseStapling <https://httpd.apache.org/docs/2.4/mod/mod_ssl.html#sslusestapling>",
        "mod_ssl, SSLStaplingCache <https://httpd.apache.org/docs/2.4/mod/mod_ssl.html#sslstaplingcache>",
        "RFC 6066, Certificate Status Request <https://www.rfc-editor.org/rfc/rfc6066#section-8>",
    ],
};

/// The certificate directives a new `SSLUseStapling` follows.
const CERT_GROUP: &[&str] = &[
    "SSLCertificateFile",
    "SSLCertificateKeyFile",
    "SSLCertificateChainFile",
    "SSLCACertificateFile",
    "SSLCACertificatePath",
];

/// What a new `SSLStaplingCache` follows in mod_ssl's global file, closest first.
const CACHE_NEIGHBOURS: &[&str] = &[
    "SSLStaplingStandardCacheTimeout",
    "SSLSessionCacheTimeout",
    "SSLSessionCache",
    "SSLRandomSeed",
    "SSLPassPhraseDialog",
];

impl Ctx<'_> {
    /// The edit that adds `SSLStaplingCache`: in mod_ssl's global file of
    /// the layout when the tree reads it (a site file can be switched off by
    /// a2dissite, leaving stapling without a cache), reusing a commented
    /// `#SSLStaplingCache` there, else after its closest related directive;
    /// without that file, at the end of the main file; never in a virtual host.
    fn stapling_cache(&mut self) -> (usize, Patch) {
        let tree = self.tree;
        let places = tree.layout.places();
        let cache = places.stapling_cache;
        let global = places.ssl_global.iter().find_map(|g| {
            tree.files.iter().position(|(c, _)| {
                c.real == std::path::Path::new(g) || c.path == std::path::Path::new(g)
            })
        });
        let sample = |f: usize| {
            tree.server_items()
                .find(|i| i.file() == f)
                .map(|i| i.directive.name.slice(self.bytes(f)).to_vec())
                .unwrap_or_else(|| b"SSLStaplingCache".to_vec())
        };
        if let Some(g) = global {
            let text = format!(
                "{} {cache}",
                style::name_case("SSLStaplingCache", &sample(g))
            );
            // The server-config items of that file, outside virtual hosts.
            let in_file: Vec<&super::model::Item> =
                tree.server_items().filter(|i| i.file() == g).collect();
            let parents = in_file.iter().map(|i| i.parent()).chain([None]);
            let mut seen = Vec::new();
            for p in parents {
                if seen.contains(&p) {
                    continue;
                }
                seen.push(p);
                if let Some((body, _)) = self.commented(g, p, "SSLStaplingCache") {
                    return (self.file_id(g), Patch::replace(body, text));
                }
            }
            let anchor = CACHE_NEIGHBOURS
                .iter()
                .find_map(|n| in_file.iter().rfind(|i| tree.is(i, n)))
                .or_else(|| {
                    in_file
                        .iter()
                        .rfind(|i| tree.name_of(i).to_ascii_uppercase().starts_with("SSL"))
                })
                .or(in_file.last());
            if let Some(a) = anchor {
                let indent = a.directive.indent().slice(self.bytes(g)).to_vec();
                return (self.file_id(g), self.insert_after(a, &indent, &text));
            }
            let b = self.bytes(g);
            let mut line = Vec::new();
            if !b.is_empty() && !b.ends_with(b"\n") {
                line.extend_from_slice(self.eol(g));
            }
            line.extend(style::line(b"", &text, self.eol(g)));
            return (self.file_id(g), Patch::insert(b.len(), line));
        }
        // No module file in the tree: the main file, which no a2dissite
        // switches off, at its end, guarded as mod_ssl's own files are (a
        // bare SSL directive stops httpd when the module is not loaded).
        let name = style::name_case("SSLStaplingCache", &sample(0));
        let eol = self.eol(0);
        let b = self.bytes(0);
        let mut lines = Vec::new();
        if !b.is_empty() && !b.ends_with(b"\n") {
            lines.extend_from_slice(eol);
        }
        lines.extend(style::line(b"", "<IfModule mod_ssl.c>", eol));
        lines.extend(style::line(b"    ", &format!("{name} {cache}"), eol));
        lines.extend(style::line(b"", "</IfModule>", eol));
        (self.file_id(0), Patch::insert(b.len(), lines))
    }

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
            .named("SSLStaplingCache")
            .filter(|i| i.vhost().is_some())
        {
            let mut f = self.finding(
                "apache.stapling",
                Severity::High,
                item.file(),
                item.directive.name.start(),
            );
            f.current = Some(tree.args(item).join(" ").into());
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
            let Ok(info) = crate::target::cert::read(path) else {
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
                vh.open.name.start(),
            );
            f.current = own_stapling.map(|i| tree.args(i).join(" ")).map(Into::into);
            f.wanted = Some("SSLUseStapling on".into());
            f.reason = format!(
                "the certificate names an OCSP responder ({}); stapling saves clients a lookup that leaks their visit",
                info.ocsp_responder.as_deref().unwrap_or("")
            ).into();
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
                self.report.add_finding(f);
                continue;
            }
            let file = f.file;
            let (patch_file, patch) = match own_stapling {
                Some(i) => (file, self.set_args(i, "on")),
                None => {
                    let b = self.bytes(item.file());
                    let text = format!(
                        "{} on",
                        style::name_case("SSLUseStapling", item.directive.name.slice(b))
                    );
                    let reused = (item.vhost() == Some(v))
                        .then(|| self.commented(item.file(), item.parent(), "SSLUseStapling"))
                        .flatten();
                    if let Some((body, _)) = reused {
                        // `#SSLUseStapling On` in the virtual host: uncommented.
                        (self.file_id(item.file()), Patch::replace(body, text))
                    } else if item.vhost() == Some(v) {
                        // After the certificate group, not inside it.
                        let anchor = tree
                            .vhost_items(v)
                            .filter(|i| {
                                i.file() == item.file()
                                    && i.parent() == item.parent()
                                    && CERT_GROUP.iter().any(|n| tree.is(i, n))
                            })
                            .last()
                            .unwrap_or(item);
                        let indent = anchor.directive.indent().slice(b).to_vec();
                        (
                            self.file_id(item.file()),
                            self.insert_after(anchor, &indent, &text),
                        )
                    } else {
                        (file, self.insert_in_vhost(v, &text))
                    }
                }
            };
            stapling_edits.push((patch_file, patch));
            if !cache_planned {
                cache_planned = true;
                stapling_edits.push(self.stapling_cache());
            }
            stapling_findings.push(f);
        }
        // SSLUseStapling on with no cache anywhere: httpd exits at start.
        if !cache_in_server
            && let Some(on) = tree
                .named("SSLUseStapling")
                .filter(|i| !i.per_dir)
                .find(|i| on_off(&tree.args(i), true))
        {
            let mut f = self.finding(
                "apache.stapling",
                Severity::High,
                on.file(),
                on.directive.name.start(),
            );
            f.current = Some("SSLUseStapling on, no SSLStaplingCache".into());
            f.wanted = Some(
                format!(
                    "SSLStaplingCache {} in the server config",
                    tree.layout.places().stapling_cache
                )
                .into(),
            );
            f.reason = "SSLUseStapling on needs an SSLStaplingCache in the server config: without one httpd exits at start (AH01958) although `apachectl -t` says Syntax OK".into();
            if !cache_planned {
                stapling_edits.push(self.stapling_cache());
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
            self.report.add_finding(f);
        }
    }
}
