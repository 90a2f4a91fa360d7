//! What the audit found on a machine, server by server, and where it looked
//! for what it did not find: the "found" summary `audit` and `apply` print
//! before their findings, so that "0 finding(s)" never stands for "nothing
//! was read".
//!
//! Each server contributes one [`Found`] from what its loader read (the
//! builders below, one per server, kept small); a server that is absent
//! contributes the places searched ([`Missing`]); a server whose files
//! cannot be read or parsed contributes an error, and the other servers are
//! still audited.

use crate::catalogue::rule::Server;
use std::path::PathBuf;

/// One server found under the root.
#[derive(Clone, Debug)]
pub struct Found {
    pub server: Server,
    /// The files read, main file first (machine paths).
    pub files: Vec<PathBuf>,
    /// The distribution layout whose places were used, e.g.
    /// `Debian (/etc/apache2/apache2.conf)`.
    pub layout: Option<String>,
    /// The daemon's version and where it came from, when known.
    pub version: Option<String>,
    /// The TLS library and where it came from, when known.
    pub tls_library: Option<String>,
    /// The TLS services configured: virtual hosts, listeners, `ldaps://`.
    pub services: Vec<String>,
    /// What the user should know about what was found (no mod_ssl, virtual
    /// hosts made by macros that were not audited).
    pub remarks: Vec<String>,
}

impl Found {
    pub fn new(server: Server) -> Found {
        Found {
            server,
            files: Vec::new(),
            layout: None,
            version: None,
            tls_library: None,
            services: Vec::new(),
            remarks: Vec::new(),
        }
    }

    /// The summary lines, the first naming the server.
    pub fn lines(&self) -> Vec<String> {
        let mut head = format!("{}:", self.server.name());
        match self.files.first() {
            Some(main) => head.push_str(&format!(" {}", main.display())),
            None => head.push_str(" no file"),
        }
        if self.files.len() > 1 {
            head.push_str(&format!(" (+{} more file(s))", self.files.len() - 1));
        }
        if let Some(l) = &self.layout {
            head.push_str(&format!(", layout {l}"));
        }
        let mut out = vec![head];
        let what = [
            self.version.as_deref().unwrap_or("version unknown"),
            self.tls_library.as_deref().unwrap_or("TLS library unknown"),
        ];
        out.push(format!("  {}", what.join(", ")));
        if self.services.is_empty() {
            out.push("  TLS services: none configured".into());
        } else {
            out.push(format!(
                "  TLS services ({}): {}",
                self.services.len(),
                self.services.join(", ")
            ));
        }
        // Remarks may quote configuration text: no secret among it.
        for r in &self.remarks {
            out.push(format!("  {}", crate::redact::text(r)));
        }
        out
    }
}

/// A server that was looked for and not found.
#[derive(Clone, Debug)]
pub struct Missing {
    pub server: Server,
    /// The places searched, as a sentence part (`/etc/apache2/apache2.conf,
    /// /etc/httpd/conf/httpd.conf`).
    pub searched: String,
}

/// A server whose configuration could not be read: the others are audited.
#[derive(Clone, Debug)]
pub struct Broken {
    pub server: Server,
    pub error: String,
}

/// Everything the summary says.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub found: Vec<Found>,
    pub missing: Vec<Missing>,
    pub broken: Vec<Broken>,
}

impl Summary {
    /// The text block `audit` and `apply` print.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for f in &self.found {
            let mut l = f.lines().into_iter();
            if let Some(h) = l.next() {
                out.push(format!("found: {h}"));
            }
            out.extend(l.map(|x| format!("       {x}")));
        }
        for m in &self.missing {
            out.push(format!(
                "not found: {} (looked for {})",
                m.server.name(),
                m.searched
            ));
        }
        out
    }

    /// Nothing was found at all: the root is empty or wrong.
    pub fn nothing(&self) -> bool {
        self.found.is_empty() && self.broken.is_empty()
    }
}

/// The name a message gives a server.
pub fn title(server: Server) -> &'static str {
    match server {
        Server::Apache => "Apache",
        Server::Courier => "Courier IMAP or POP3",
        Server::Postfix => "Postfix",
        Server::Openldap => "OpenLDAP",
    }
}

/// The Apache contribution: main file, layout, versions and TLS virtual hosts.
pub fn apache(
    tree: &crate::servers::apache::model::ApacheTree,
    versions: &crate::target::versions::TargetVersions,
) -> Found {
    use crate::target::versions::TargetVersions;
    let mut f = Found::new(Server::Apache);
    f.files = tree.files.iter().map(|(c, _)| c.path.clone()).collect();
    f.layout = Some(tree.layout.describe());
    f.version = Some(TargetVersions::describe("httpd", versions.apache.as_ref()));
    f.tls_library = Some(TargetVersions::describe(
        "OpenSSL",
        versions.openssl.as_ref(),
    ));
    for v in 0..tree.vhosts.len() {
        if !tree.vhost_is_tls(v) {
            continue;
        }
        let vh = &tree.vhosts[v];
        let name = tree
            .server_name(v)
            .unwrap_or_else(|| "(no ServerName)".into());
        let file = &tree.files[vh.file].0;
        f.services.push(format!(
            "{name} {} ({}:{})",
            vh.addresses.join(" "),
            file.path.display(),
            file.source.line_of(vh.open.name.start())
        ));
    }
    if !tree.has_module("ssl_module") {
        f.remarks.push(
            "mod_ssl is not loaded (no LoadModule ssl_module): Apache serves no TLS; enable it (a2enmod ssl, or install mod_ssl) before hardening".into(),
        );
    }
    f.remarks.extend(tree.remarks.iter().cloned());
    f
}

/// The Courier contribution: its files, and the TLS library couriertls
/// links (with its version, when known).
pub fn courier(
    cfg: &crate::servers::courier::CourierConfig,
    library: Option<(crate::target::tlslib::TlsLibrary, String)>,
    versions: &crate::target::versions::TargetVersions,
) -> Found {
    use crate::target::tlslib::TlsLibrary;
    use crate::target::versions::TargetVersions;
    let mut f = Found::new(Server::Courier);
    f.tls_library = library.map(|(lib, how)| {
        let v = match lib {
            TlsLibrary::Gnutls => TargetVersions::describe("GnuTLS", versions.gnutls.as_ref()),
            TlsLibrary::Openssl => TargetVersions::describe("OpenSSL", versions.openssl.as_ref()),
        };
        format!("{v}, couriertls links it (from {how})")
    });
    f.files = cfg
        .files
        .iter()
        .rev()
        .map(|(c, _)| c.path.clone())
        .collect();
    f.layout = f
        .files
        .first()
        .and_then(|p| p.parent())
        .map(|d| d.display().to_string());
    let on = |name: &str| cfg.value(name).is_some_and(|v| v.trim() == "1");
    if on("IMAPDSTARTTLS") {
        f.services.push("IMAP STARTTLS (imapd)".into());
    }
    if cfg
        .value("IMAPDSSLSTART")
        .is_some_and(|v| v.trim() == "YES")
    {
        f.services.push("IMAPS (imapd-ssl)".into());
    }
    f
}

/// The Postfix contribution: each instance's main.cf and its TLS services.
pub fn postfix(
    inst: &crate::servers::postfix::model::Instance,
    version: Option<&(crate::servers::postfix::model::PostfixVersion, String)>,
    versions: &crate::target::versions::TargetVersions,
) -> Found {
    let mut f = Found::new(Server::Postfix);
    f.files.push(inst.main.0.path.clone());
    if let Some((m, _)) = &inst.master {
        f.files.push(m.path.clone());
    }
    f.layout = Some(inst.dir.display().to_string());
    f.version = version.map(|(v, how)| format!("Postfix {v} (from {how})"));
    // Postfix builds with OpenSSL only.
    f.tls_library = Some(crate::target::versions::TargetVersions::describe(
        "OpenSSL",
        versions.openssl.as_ref(),
    ));
    let set = |name: &str| inst.raw(name).is_some_and(|v| !v.trim().is_empty());
    if set("smtpd_tls_cert_file") || set("smtpd_tls_chain_files") {
        f.services.push("smtpd TLS (main.cf)".into());
    }
    if inst
        .raw("smtp_tls_security_level")
        .is_some_and(|v| v.trim() != "none")
    {
        f.services.push("smtp client TLS (main.cf)".into());
    }
    f
}

/// The OpenLDAP contribution: cn=config, slapd.conf and ldap.conf as found.
pub fn openldap(o: &crate::servers::openldap::OpenLdap) -> Found {
    let mut f = Found::new(Server::Openldap);
    for (c, _) in [&o.slapd_conf, &o.ldap_conf].into_iter().flatten() {
        f.files.push(c.path.clone());
    }
    if let Some((c, _)) = &o.cn_config {
        f.files.insert(0, c.path.clone());
    }
    f.layout = f
        .files
        .first()
        .and_then(|p| {
            p.ancestors()
                .find(|a| a.ends_with("ldap") || a.ends_with("openldap"))
        })
        .map(|d| d.display().to_string());
    if o.cn_config.is_some() {
        f.services.push("slapd (cn=config)".into());
    } else if o.slapd_conf.is_some() {
        f.services.push("slapd (slapd.conf)".into());
    }
    if o.ldap_conf.is_some() {
        f.services.push("LDAP clients (ldap.conf)".into());
    }
    f
}
