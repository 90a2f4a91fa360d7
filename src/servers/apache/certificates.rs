//! `apache.certificate` and `apache.weak-key`: the certificate each TLS
//! virtual host serves exists, can be read, and has a key of a safe size.
//! Both are audit only: tlsmend never issues keys or certificates.

use super::Ctx;
use super::model::{ApacheTree, Item, ServedCertificate};
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::discover::Root;
use crate::plan::Severity;
use crate::target::cert::CertInfo;
use rustc_hash::FxHashMap;
use std::path::{Path, PathBuf};

pub const CERTIFICATE: Rule = Rule {
    id: "apache.certificate",
    server: Server::Apache,
    severity: Severity::Medium,
    activation: Activation::Default,
    summary: "the certificate file exists and can be read (audit only)",
    checks: "The certificate file each TLS virtual host names (SSLCertificateFile) exists on the target, can be read and holds a PEM certificate; httpd will not start otherwise. A path with an undefined ${VAR} is skipped.",
    writes: "nothing: audit only.",
    refuses: "Always: installing a certificate is the administrator's (or the ACME client's) job.",
    versions: "Apache httpd 2.4 with mod_ssl.",
    sources: &[
        "mod_ssl, SSLCertificateFile <https://httpd.apache.org/docs/2.4/mod/mod_ssl.html#sslcertificatefile>",
    ],
};

pub const WEAK_KEY: Rule = Rule {
    id: "apache.weak-key",
    server: Server::Apache,
    severity: Severity::High,
    activation: Activation::Default,
    summary: "certificate key of at least 2048 bits RSA or 256 bits EC (audit only)",
    checks: "The key of the certificate each TLS virtual host serves (SSLCertificateFile, its own or the server config's, read from the target): RSA below 2048 bits or EC below 256 bits is weak.",
    writes: "nothing: audit only.",
    refuses: "Always: a new key and certificate must be issued, which tlsmend does not do. OpenSSL 3 at its default security level refuses a 1024-bit RSA key, so httpd will not start with it although `apache2ctl -t` passes.",
    versions: "Apache httpd 2.4 with mod_ssl and OpenSSL.",
    sources: &[
        "mod_ssl, SSLCertificateFile <https://httpd.apache.org/docs/2.4/mod/mod_ssl.html#sslcertificatefile>",
        "Mozilla server-side TLS guidelines <https://wiki.mozilla.org/Security/Server_Side_TLS>",
    ],
};

/// A file argument of a mod_ssl directive as a path on the host (relative
/// paths are relative to ServerRoot); `None` with an unresolved `${VAR}`.
pub(super) fn cert_path(tree: &ApacheTree, root: &Root, raw: &str) -> Option<PathBuf> {
    if raw.contains("${") {
        return None;
    }
    let p = Path::new(raw);
    let machine = if p.is_absolute() {
        p.to_path_buf()
    } else {
        tree.server_root.join(p)
    };
    Some(root.host(&root.resolve(&machine).ok()?))
}

/// The `SSLCertificateFile` that applies to TLS virtual host `v` (its own,
/// or the server config's), with its value and the host path; `None` for a
/// virtual host without TLS, which serves no certificate. Worked out for
/// every TLS virtual host on the first call and kept in the tree, which is
/// always asked with the root it was read from; each value is resolved to
/// a path once (a fleet's virtual hosts often name one file).
pub(super) fn vhost_certificate<'t>(
    tree: &'t ApacheTree,
    root: &Root,
    v: usize,
) -> Option<(&'t Item, &'t str, &'t Path)> {
    let all = tree.certificates.get_or_init(|| {
        let global = tree.last_named(None, "SSLCertificateFile");
        let mut paths: FxHashMap<String, Option<PathBuf>> = FxHashMap::default();
        (0..tree.vhosts.len())
            .map(|v| {
                if !tree.vhost_is_tls(v) {
                    return None;
                }
                let item = tree.last_named(Some(v), "SSLCertificateFile").or(global)?;
                let raw = tree.first_arg(&tree.items[item]);
                let raw = raw.unwrap_or_default();
                let path = match paths.get(&raw) {
                    Some(known) => known.clone()?,
                    None => {
                        let found = cert_path(tree, root, &raw);
                        paths.insert(raw.clone(), found.clone());
                        found?
                    }
                };
                Some(ServedCertificate { item, raw, path })
            })
            .collect()
    });
    let c = all.get(v)?.as_ref()?;
    Some((&tree.items[c.item], &c.raw, &c.path))
}

impl<'a> Ctx<'a> {
    pub(super) fn cert_path(&self, raw: &str) -> Option<PathBuf> {
        cert_path(self.tree, self.root, raw)
    }

    pub(super) fn vhost_certificate(&self, v: usize) -> Option<(&'a Item, &'a str, &'a Path)> {
        vhost_certificate(self.tree, self.root, v)
    }

    pub(super) fn certificates(&mut self) {
        let tree = self.tree;
        for v in 0..tree.vhosts.len() {
            if !tree.vhost_is_tls(v) {
                continue;
            }
            let Some((item, raw, path)) = self.vhost_certificate(v) else {
                continue;
            };
            let info: CertInfo = match crate::target::cert::read(path) {
                Ok(i) => i,
                Err(e) => {
                    let mut f = self.finding(
                        "apache.certificate",
                        Severity::Medium,
                        item.file(),
                        item.directive.name.start(),
                    );
                    f.current = Some(raw.into());
                    f.reason = format!(
                        "the certificate {} cannot be used: {e}; httpd will not start with it",
                        path.display()
                    )
                    .into();
                    f.blocked = Some("audit only: install a valid certificate".into());
                    self.push(f, None);
                    continue;
                }
            };
            if info.is_weak() {
                let file = self.file_id(item.file());
                let line = tree.files[item.file()]
                    .0
                    .source
                    .line_of(item.directive.name.start());
                let why = "a key this small can be factored or is refused by current clients; OpenSSL 3 refuses to start httpd with it at the default security level";
                let f = crate::servers::weak_key("apache.weak-key", file, line, raw, &info, why);
                self.push(f, None);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::servers::apache::layout::DEBIAN;

    /// Each TLS virtual host gets the certificate that applies to it (its
    /// own, else the server config's), relative values resolved against
    /// ServerRoot, one value shared by many resolved alike (a path, or none
    /// for a `${VAR}` nothing defines); a virtual host without TLS gets
    /// none.
    #[test]
    fn each_tls_virtual_host_gets_the_certificate_that_applies_to_it() {
        let t = tempfile::tempdir().unwrap();
        let conf = t.path().join("etc/apache2");
        std::fs::create_dir_all(conf.join("ssl")).unwrap();
        for f in ["ssl/a.pem", "ssl/b.pem"] {
            std::fs::write(conf.join(f), "").unwrap();
        }
        std::fs::write(
            conf.join("apache2.conf"),
            "SSLCertificateFile ssl/a.pem\n\
             <VirtualHost *:443>\nSSLEngine on\n</VirtualHost>\n\
             <VirtualHost *:80>\nSSLCertificateFile ssl/b.pem\n</VirtualHost>\n\
             <VirtualHost *:443>\nSSLEngine on\nSSLCertificateFile ssl/b.pem\n</VirtualHost>\n\
             <VirtualHost *:8443>\nSSLEngine on\nSSLCertificateFile /etc/apache2/ssl/b.pem\n</VirtualHost>\n\
             <VirtualHost *:4443>\nSSLEngine on\nSSLCertificateFile ssl/b.pem\n</VirtualHost>\n\
             <VirtualHost *:5443>\nSSLEngine on\nSSLCertificateFile ${NONE}/c.pem\n</VirtualHost>\n\
             <VirtualHost *:6443>\nSSLEngine on\nSSLCertificateFile ${NONE}/c.pem\n</VirtualHost>\n",
        )
        .unwrap();
        let root = Root::new(Some(t.path().to_path_buf()));
        let tree = ApacheTree::load(&root, &DEBIAN).unwrap();
        let got: Vec<Option<(String, PathBuf)>> = (0..tree.vhosts.len())
            .map(|v| {
                vhost_certificate(&tree, &root, v)
                    .map(|(_, raw, path)| (raw.to_string(), path.to_path_buf()))
            })
            .collect();
        let at = |f: &str| conf.join(f);
        assert_eq!(
            got,
            [
                Some(("ssl/a.pem".into(), at("ssl/a.pem"))),
                None,
                Some(("ssl/b.pem".into(), at("ssl/b.pem"))),
                Some(("/etc/apache2/ssl/b.pem".into(), at("ssl/b.pem"))),
                // A value seen before is resolved as it was the first time,
                // to a path or to none.
                Some(("ssl/b.pem".into(), at("ssl/b.pem"))),
                None,
                None,
            ]
        );
    }
}
