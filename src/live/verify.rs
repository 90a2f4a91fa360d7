//! `tlsmend verify`: which services the configurations declare, what the
//! running daemons actually do on them (see [`crate::live::probe`]), and, for each
//! difference from the profile, the configuration line that governs it.

use crate::catalogue::profile::{Profile, Version};
use crate::discover::{self, Root};
use crate::live::probe::{self, Endpoint, Wrap};
use crate::plan::Report;
use crate::servers::apache::model::ApacheTree;
use crate::servers::postfix::model::{self as postfix_conf, Instance};
use crate::servers::{Options, Server, courier::CourierConfig};
use std::path::Path;

/// One thing to probe.
#[derive(Clone, Debug)]
pub enum Check {
    /// TLS versions and key; for HTTPS also HSTS.
    Tls {
        server: Server,
        endpoint: Endpoint,
        https: bool,
    },
    /// `GET /` on port 80 for a name that is also served over TLS.
    Redirect {
        host: String,
        port: u16,
        name: String,
    },
    /// IMAP on 143: LOGINDISABLED before STARTTLS.
    ImapLogin { host: String, port: u16 },
    /// Submission: no AUTH and no mail before STARTTLS.
    Submission { host: String, port: u16 },
}

impl Check {
    /// Where the check probes, as `DOWN` lines name it.
    pub fn target(&self) -> String {
        match self {
            Check::Tls { endpoint, .. } => endpoint.to_string(),
            Check::Redirect { host, port, name } => format!("{host}:{port} (HTTP, Host: {name})"),
            Check::ImapLogin { host, port } => {
                format!("{host}:{port} (IMAP, LOGIN before STARTTLS)")
            }
            Check::Submission { host, port } => {
                format!("{host}:{port} (SMTP submission, AUTH before STARTTLS)")
            }
        }
    }

    fn tls(
        server: Server,
        host: impl Into<String>,
        port: u16,
        wrap: Wrap,
        name: Option<String>,
        https: bool,
    ) -> Check {
        Check::Tls {
            server,
            endpoint: Endpoint {
                host: host.into(),
                port,
                wrap,
                name,
            },
            https,
        }
    }
}

/// What the probe found wrong, with the rule whose findings govern it.
#[derive(Clone, Debug)]
pub struct Problem {
    pub rule: &'static str,
    pub what: String,
}

fn version_name(v: Version) -> &'static str {
    match v {
        Version::Ssl2 => "SSL 2",
        Version::Ssl3 => "SSL 3",
        Version::Tls10 => "TLS 1.0",
        Version::Tls11 => "TLS 1.1",
        Version::Tls12 => "TLS 1.2",
        Version::Tls13 => "TLS 1.3",
    }
}

fn port_of(addr: &str) -> Option<u16> {
    addr.rsplit(':').next()?.trim_end_matches('/').parse().ok()
}

/// The services the configurations under `root` declare, probed on `host`.
pub fn declared(root: &Root, opts: &Options, host: &str) -> crate::error::Result<Vec<Check>> {
    let wants = |s: Server| opts.servers.is_empty() || opts.servers.contains(&s);
    let mut checks = Vec::new();
    if wants(Server::Apache)
        && let Some(main) = discover::apache_main(root)
    {
        let tree = ApacheTree::load(root, main)?;
        let mut ports: Vec<(u16, bool)> = Vec::new();
        for i in tree.server_items().filter(|i| tree.is(i, "Listen")) {
            let args = tree.args(i);
            let Some(port) = args.first().and_then(|a| port_of(a)) else {
                continue;
            };
            let tls_vhost = (0..tree.vhosts.len())
                .any(|v| tree.vhost_is_tls(v) && tree.vhost_port(v) == Some(port));
            let https = tls_vhost || args.get(1).is_some_and(|p| p.eq_ignore_ascii_case("https"));
            if !ports.contains(&(port, https)) {
                ports.push((port, https));
            }
        }
        let tls_names: Vec<String> = (0..tree.vhosts.len())
            .filter(|&v| tree.vhost_is_tls(v))
            .flat_map(|v| tree.vhost_names(v))
            .collect();
        for (port, https) in ports {
            if https {
                let name = (0..tree.vhosts.len())
                    .filter(|&v| tree.vhost_is_tls(v) && tree.vhost_port(v) == Some(port))
                    .find_map(|v| tree.server_name(v));
                checks.push(Check::tls(
                    Server::Apache,
                    host,
                    port,
                    Wrap::Implicit,
                    name,
                    true,
                ));
            } else {
                for v in (0..tree.vhosts.len())
                    .filter(|&v| tree.vhost_port(v) == Some(port) && !tree.vhost_is_tls(v))
                {
                    // A redirect tlsmend refuses (self-signed twin, other
                    // ports) is not expected either.
                    if let Some(name) = tree.server_name(v).filter(|n| {
                        let n = n.to_ascii_lowercase();
                        tls_names.contains(&n)
                            && crate::servers::apache::redirect_refusal(&tree, root, v, &n)
                                .is_none()
                    }) {
                        checks.push(Check::Redirect {
                            host: host.into(),
                            port,
                            name,
                        });
                    }
                }
            }
        }
    }
    if wants(Server::Postfix) {
        for dir in postfix_conf::instance_dirs(root)? {
            let inst = Instance::load(root, &dir)?;
            let Some((mf, m)) = &inst.master else {
                continue;
            };
            let b = &mf.source.bytes;
            for s in m.services.iter().filter(|s| {
                !s.commented() && s.valid() && s.field(b, 1) == "inet" && s.field(b, 7) == "smtpd"
            }) {
                let name = s.field(b, 0);
                let svc = name.rsplit(':').next().unwrap_or(&name).to_string();
                let port = match svc.as_str() {
                    "smtp" => 25,
                    "submission" => 587,
                    "smtps" | "submissions" => 465,
                    p => match p.parse() {
                        Ok(n) => n,
                        Err(_) => continue,
                    },
                };
                let wrapper = s
                    .override_value(b, "smtpd_tls_wrappermode")
                    .is_some_and(|(_, v)| v == "yes");
                let wrap = if wrapper || port == 465 {
                    Wrap::Implicit
                } else {
                    Wrap::Smtp
                };
                checks.push(Check::tls(Server::Postfix, host, port, wrap, None, false));
                if port == 587 {
                    checks.push(Check::Submission {
                        host: host.into(),
                        port,
                    });
                }
            }
        }
    }
    if wants(Server::Courier)
        && let Some(cfg) = CourierConfig::load(root)?
    {
        let port = cfg
            .value("PORT")
            .and_then(|p| p.parse().ok())
            .unwrap_or(143);
        if cfg
            .value("IMAPDSTARTTLS")
            .is_some_and(|v| v.eq_ignore_ascii_case("YES"))
        {
            checks.push(Check::tls(
                Server::Courier,
                host,
                port,
                Wrap::Imap,
                None,
                false,
            ));
        }
        checks.push(Check::ImapLogin {
            host: host.into(),
            port,
        });
        if cfg
            .value("IMAPDSSLSTART")
            .is_some_and(|v| v.eq_ignore_ascii_case("YES"))
        {
            let port = cfg
                .value("SSLPORT")
                .and_then(|p| p.parse().ok())
                .unwrap_or(993);
            checks.push(Check::tls(
                Server::Courier,
                host,
                port,
                Wrap::Implicit,
                None,
                false,
            ));
        }
    }
    if wants(Server::Openldap)
        && (root.exists(Path::new("/etc/ldap/slapd.d"))
            || root.exists(Path::new("/etc/openldap/slapd.d")))
    {
        let services = std::fs::read_to_string(root.host(Path::new("/etc/default/slapd")))
            .ok()
            .and_then(|t| {
                t.lines().find_map(|l| {
                    l.trim()
                        .strip_prefix("SLAPD_SERVICES=")
                        .map(|v| v.trim_matches('"').to_string())
                })
            })
            .unwrap_or_else(|| "ldap:///".into());
        for url in services.split_whitespace() {
            let (wrap, default_port) = if url.starts_with("ldaps://") {
                (Wrap::Implicit, 636)
            } else if url.starts_with("ldap://") {
                (Wrap::Ldap, 389)
            } else {
                continue;
            };
            let hostport = url.split("://").nth(1).unwrap_or("").trim_end_matches('/');
            let port = port_of(hostport).unwrap_or(default_port);
            checks.push(Check::tls(Server::Openldap, host, port, wrap, None, false));
        }
    }
    Ok(checks)
}

/// A check for an address given on the command line: `HOST:PORT`, the port
/// saying how TLS starts, or `SCHEME://HOST:PORT` with `https`, `http`,
/// `smtp`, `submission`, `imap`, `imaps`, `ldap`, `ldaps` or `tls`.
pub fn for_address(addr: &str) -> Result<Check, String> {
    let (scheme, rest) = match addr.split_once("://") {
        Some((s, r)) => (Some(s), r),
        None => (None, addr),
    };
    let (host, port) = rest
        .trim_end_matches('/')
        .rsplit_once(':')
        .ok_or_else(|| format!("{addr}: expected [SCHEME://]HOST:PORT"))?;
    let port: u16 = port.parse().map_err(|_| format!("{addr}: bad port"))?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let scheme = scheme.unwrap_or(match port {
        25 | 587 => "smtp",
        465 => "smtps",
        143 => "imap",
        993 => "imaps",
        389 => "ldap",
        636 => "ldaps",
        80 => "http",
        _ => "https",
    });
    let tls = |server, wrap, https| Check::tls(server, host.clone(), port, wrap, None, https);
    Ok(match scheme {
        "https" => tls(Server::Apache, Wrap::Implicit, true),
        "http" => Check::Redirect {
            host: host.clone(),
            port,
            name: host.clone(),
        },
        "smtp" | "submission" => tls(Server::Postfix, Wrap::Smtp, false),
        "smtps" => tls(Server::Postfix, Wrap::Implicit, false),
        "imap" => tls(Server::Courier, Wrap::Imap, false),
        "imaps" => tls(Server::Courier, Wrap::Implicit, false),
        "ldap" => tls(Server::Openldap, Wrap::Ldap, false),
        "ldaps" => tls(Server::Openldap, Wrap::Implicit, false),
        "tls" => tls(Server::Apache, Wrap::Implicit, false),
        other => return Err(format!("{addr}: unknown scheme {other:?}")),
    })
}

/// The rule whose findings govern protocol versions on `server`.
fn protocol_rule(server: Server) -> &'static str {
    match server {
        Server::Apache => "apache.protocol",
        Server::Courier => "courier.priority",
        Server::Postfix => "postfix.mandatory-protocols",
        Server::Openldap => "openldap.cipher-suite",
    }
}

/// Port 25 is Postfix's opportunistic TLS (security level may): a peer
/// refused there falls back to plain text, so its protocol floor is the
/// opt-in rule's, not the profile's (Postfix TLS_README, RFC 7435).
fn opportunistic_rule(server: Server, endpoint: &Endpoint) -> Option<&'static str> {
    (server == Server::Postfix && endpoint.port == 25 && endpoint.wrap == Wrap::Smtp)
        .then_some("postfix.opportunistic-protocols")
}

fn key_rule(server: Server) -> &'static str {
    match server {
        Server::Apache => "apache.weak-key",
        Server::Courier => "courier.weak-key",
        Server::Postfix => "postfix.weak-key",
        Server::Openldap => "openldap.weak-key",
    }
}

/// Runs one check: a line describing what was seen, and the problems.
pub fn run(check: &Check, profile: Profile) -> Result<(String, Vec<Problem>), String> {
    let mut problems = Vec::new();
    match check {
        Check::Tls {
            server,
            endpoint,
            https,
        } => {
            let v = probe::versions(endpoint)?;
            let protocols = opportunistic_rule(*server, endpoint).unwrap_or(protocol_rule(*server));
            let mut seen = Vec::new();
            for ver in Version::ALL_TLS {
                let ok = v.accepted.contains(&ver);
                seen.push(format!(
                    "{} {}",
                    version_name(ver),
                    if ok { "accepted" } else { "refused" }
                ));
                if ok && !profile.allows(ver) {
                    problems.push(Problem {
                        rule: protocols,
                        what: format!(
                            "{} is accepted; the {} profile refuses it",
                            version_name(ver),
                            profile.name()
                        ),
                    });
                }
            }
            if !v.accepted.iter().any(|&x| profile.allows(x)) {
                problems.push(Problem {
                    rule: protocols,
                    what: format!(
                        "no version the {} profile allows is accepted: clients cannot connect",
                        profile.name()
                    ),
                });
            }
            if let Some((key, weak)) = &v.key {
                seen.push(format!("key {key}"));
                if *weak {
                    problems.push(Problem {
                        rule: key_rule(*server),
                        what: format!("the server presents a weak key ({key})"),
                    });
                }
            }
            if *https && !v.accepted.is_empty() {
                let n = probe::hsts_headers(endpoint)?;
                seen.push(format!("HSTS headers: {n}"));
                if n != 1 {
                    problems.push(Problem {
                        rule: "apache.hsts",
                        what: format!("{n} Strict-Transport-Security headers (want exactly one)"),
                    });
                }
            }
            Ok((format!("{endpoint}: {}", seen.join(", ")), problems))
        }
        Check::Redirect { host, port, name } => {
            let (status, location) = probe::http_redirect(host, *port, name)?;
            let good = matches!(status, 301 | 308)
                && location
                    .as_deref()
                    .is_some_and(|l| l.starts_with("https://"));
            if !good {
                problems.push(Problem {
                    rule: "apache.redirect",
                    what: format!(
                        "http://{name}/ answers {status} without a permanent redirect to https"
                    ),
                });
            }
            Ok((
                format!(
                    "{host}:{port} (HTTP, Host: {name}): {status} {}",
                    location.unwrap_or_default()
                ),
                problems,
            ))
        }
        Check::ImapLogin { host, port } => {
            let disabled = probe::imap_login_disabled(host, *port)?;
            if !disabled {
                problems.push(Problem {
                    rule: "courier.tls-required",
                    what: "IMAP allows LOGIN before STARTTLS (no LOGINDISABLED)".into(),
                });
            }
            Ok((
                format!(
                    "{host}:{port} (IMAP): LOGIN before STARTTLS {}",
                    if disabled { "refused" } else { "allowed" }
                ),
                problems,
            ))
        }
        Check::Submission { host, port } => {
            let (auth, required) = probe::smtp_before_starttls(host, *port)?;
            if auth {
                problems.push(Problem {
                    rule: "postfix.smtpd-auth-only",
                    what: "submission offers AUTH before STARTTLS".into(),
                });
            }
            if !required {
                problems.push(Problem {
                    rule: "postfix.submission",
                    what: "submission accepts mail before STARTTLS".into(),
                });
            }
            let seen = format!(
                "{host}:{port} (submission): AUTH before STARTTLS {}, STARTTLS {}",
                if auth { "offered" } else { "not offered" },
                if required { "required" } else { "not required" }
            );
            Ok((seen, problems))
        }
    }
}

/// Where the configuration governs a problem: the audit's findings of its
/// rule, as `file:line`.
pub fn governing(report: &Report, rule: &str) -> Vec<String> {
    let mut places: Vec<String> = Vec::new();
    for f in report.findings.iter().filter(|f| f.rule == rule) {
        let p = format!("{}:{}", report.files[f.file].shown().display(), f.line);
        if !places.contains(&p) {
            places.push(p);
        }
    }
    places
}

#[cfg(test)]
mod tests {
    use super::*;

    // See: issue 8, item 8. verify expects no redirect where apply refuses one.
    #[test]
    fn no_redirect_is_expected_where_tlsmend_refuses_one() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("etc/apache2");
        std::fs::create_dir_all(&d).unwrap();
        let certs = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/certs");
        std::fs::copy(certs.join("leaf.crt"), d.join("leaf.crt")).unwrap();
        std::fs::copy(certs.join("rsa2048.crt"), d.join("self.crt")).unwrap();
        let mut conf = String::from("Listen 80\nListen 443\n");
        for (name, cert) in [("ok.test", "leaf.crt"), ("self.test", "self.crt")] {
            conf.push_str(&format!(
                "<VirtualHost *:443>\n ServerName {name}\n SSLEngine on\n SSLCertificateFile {cert}\n</VirtualHost>\n<VirtualHost *:80>\n ServerName {name}\n</VirtualHost>\n"
            ));
        }
        std::fs::write(d.join("apache2.conf"), conf).unwrap();
        let root = Root::new(Some(t.path().to_path_buf()));
        let checks = declared(&root, &Options::new(Profile::Intermediate), "127.0.0.1").unwrap();
        let redirects: Vec<&str> = checks
            .iter()
            .filter_map(|c| match c {
                Check::Redirect { name, .. } => Some(name.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(redirects, ["ok.test"]);
    }
}
