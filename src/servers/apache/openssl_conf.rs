//! `apache.openssl-conf-cmd` and `apache.dh-params`: what mod_ssl hands to
//! OpenSSL's SSL_CONF API (`SSLOpenSSLConfCmd`), which is applied after
//! SSLProtocol and SSLCipherSuite and overrides them, and the size of the
//! Diffie-Hellman group DHE suites use (`SSLOpenSSLConfCmd DHParameters`, or
//! `DH PARAMETERS` appended to the certificate file, which mod_ssl reads).

use super::Ctx;
use super::model::Item;
use crate::catalogue::profile::{Profile, Version};
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::edit::Patch;
use crate::plan::{Change, Severity};
use crate::target::ciphers::{self, Verdict};
use crate::target::versions::Capability;
use std::path::PathBuf;

pub const OPENSSL_CONF_CMD: Rule = Rule {
    id: "apache.openssl-conf-cmd",
    server: Server::Apache,
    severity: Severity::High,
    activation: Activation::Default,
    summary: "SSLOpenSSLConfCmd does not undo the profile (protocols, ciphers, groups, options)",
    checks: "Every `SSLOpenSSLConfCmd COMMAND VALUE` (command names compared case-insensitively, as OpenSSL's SSL_CONF does for configuration files). mod_ssl applies them after SSLProtocol and SSLCipherSuite, so they override both. `MinProtocol` below the profile's lowest version (or `None`) and `Protocol` enabling a version the profile refuses (`ALL`, `TLSv1`, `+TLSv1.1`; with OpenSSL 1.1.0+ mod_ssl's own minimum version still holds, with 1.0.2 it does not) are weaker. `MaxProtocol` below the profile's lowest version leaves no version at all. `CipherString` is judged like SSLCipherSuite, by what the host's OpenSSL expands it to (not for modern). `Ciphersuites` (TLS 1.3) may name only TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256 and TLS_AES_128_CCM_SHA256. `Curves`/`Groups` must not name a curve below 256 bits. `Options` must not turn on `Compression` or `UnsafeLegacyRenegotiation`.",
    writes: "The value in place, on the SSLOpenSSLConfCmd line: MinProtocol: the profile's lowest version (`TLSv1.2`; modern `TLSv1.3`; old `TLSv1`). Protocol: only removals, which every OpenSSL from 1.0.2 knows (`-SSLv3,-TLSv1,-TLSv1.1`; modern adds `-TLSv1.2`; old `-SSLv3`), plus the removals already written, leaving the versions to SSLProtocol. CipherString: the profile's TLS 1.2 list (old's ending in `@SECLEVEL=0` on OpenSSL 3, as apache.ciphers writes it). Ciphersuites: the profile's TLS 1.3 suites.",
    refuses: "modern's MinProtocol and Protocol where httpd or OpenSSL cannot do TLS 1.3, or their versions are unknown: reported, not written (nothing would be left to negotiate). MaxProtocol, Curves/Groups and Options are reported, not written: the right group list depends on the target's OpenSSL (X25519MLKEM768 needs 3.5), and options and a maximum version are deliberate choices. A `CipherString` that hands over to the system policy (`PROFILE=SYSTEM`) is kept.",
    versions: "Apache httpd 2.4.8+ built with OpenSSL 1.0.2+ (SSLOpenSSLConfCmd). `Curves` needs 2.4.11+; `Groups`, `Ciphersuites` and TLSv1.3 need OpenSSL 1.1.1+. The CipherString expansion uses the OpenSSL tlsmend runs with, which may differ from httpd's.",
    sources: &[
        "mod_ssl, SSLOpenSSLConfCmd <https://httpd.apache.org/docs/2.4/mod/mod_ssl.html#sslopensslconfcmd>",
        "OpenSSL SSL_CONF_cmd(3), supported configuration file commands <https://docs.openssl.org/3.0/man3/SSL_CONF_cmd/>",
        "Mozilla server-side TLS guidelines <https://wiki.mozilla.org/Security/Server_Side_TLS>",
    ],
};

pub const DH_PARAMS: Rule = Rule {
    id: "apache.dh-params",
    server: Server::Apache,
    severity: Severity::Medium,
    activation: Activation::Default,
    summary: "Diffie-Hellman group of at least 2048 bits (audit only)",
    checks: "The DH parameters mod_ssl uses for DHE suites: the file named by `SSLOpenSSLConfCmd DHParameters FILE`, and `DH PARAMETERS` appended to each TLS virtual host's SSLCertificateFile (mod_ssl reads them from there). A group below the profile's minimum (2048 bits; 1024 for old) is a finding; its severity is low when the cipher list that applies enables no DHE suite (expanded with the host's OpenSSL), since the group is then unused. Without either, mod_ssl picks a group matching the key size, which is fine.",
    writes: "nothing: audit only.",
    refuses: "Always: generating parameters (`openssl dhparam 2048`, or dropping the file so that mod_ssl picks a group itself) is left to the administrator.",
    versions: "Apache httpd 2.4 with mod_ssl and OpenSSL: DH parameters appended to the (first) SSLCertificateFile are read by every 2.4, and without any httpd 2.4.7+ picks a group matching the key size; SSLOpenSSLConfCmd DHParameters needs 2.4.8+ with OpenSSL 1.0.2+.",
    sources: &[
        "mod_ssl, SSLCertificateFile (DH parameters) <https://httpd.apache.org/docs/2.4/mod/mod_ssl.html#sslcertificatefile>",
        "mod_ssl, SSLOpenSSLConfCmd <https://httpd.apache.org/docs/2.4/mod/mod_ssl.html#sslopensslconfcmd>",
        "RFC 7919, Negotiated FFDHE parameters <https://www.rfc-editor.org/rfc/rfc7919>",
        "Mozilla server-side TLS guidelines (dh_param_size) <https://wiki.mozilla.org/Security/Server_Side_TLS>",
    ],
};

/// TLS 1.3 suites a `Ciphersuites` value may name.
const TLS13_OK: &[&str] = &[
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_AES_128_CCM_SHA256",
];

fn ssl_conf_version(name: &str) -> Option<Version> {
    Some(match name.to_ascii_lowercase().as_str() {
        "sslv3" => Version::Ssl3,
        "tlsv1" => Version::Tls10,
        "tlsv1.1" => Version::Tls11,
        "tlsv1.2" => Version::Tls12,
        "tlsv1.3" => Version::Tls13,
        _ => return None,
    })
}

fn version_name(v: Version) -> &'static str {
    match v {
        Version::Ssl2 => "SSLv2",
        Version::Ssl3 => "SSLv3",
        Version::Tls10 => "TLSv1",
        Version::Tls11 => "TLSv1.1",
        Version::Tls12 => "TLSv1.2",
        Version::Tls13 => "TLSv1.3",
    }
}

/// The versions a `Protocol` value turns on (`ALL` or a name without `-`).
fn protocol_enables(value: &str) -> Vec<Version> {
    let mut on = Vec::new();
    for e in value
        .split([',', ' '])
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        if e.starts_with('-') {
            continue;
        }
        let name = e.trim_start_matches('+');
        if name.eq_ignore_ascii_case("ALL") {
            on.extend([
                Version::Ssl3,
                Version::Tls10,
                Version::Tls11,
                Version::Tls12,
                Version::Tls13,
            ]);
        } else if let Some(v) = ssl_conf_version(name) {
            on.push(v);
        }
    }
    on
}

/// Removals only, with names every OpenSSL since 1.0.2 knows.
fn protocol_removals(p: Profile) -> String {
    [
        Version::Ssl3,
        Version::Tls10,
        Version::Tls11,
        Version::Tls12,
    ]
    .iter()
    .filter(|&&v| !p.allows(v))
    .map(|&v| format!("-{}", version_name(v)))
    .collect::<Vec<_>>()
    .join(",")
}

/// A `Protocol` value that enables nothing: the profile's removals, plus
/// the removals already written (a version switched off on purpose stays
/// off).
fn protocol_fix(value: &str, p: Profile) -> String {
    let mut out: Vec<String> = protocol_removals(p).split(',').map(String::from).collect();
    for e in value.split([',', ' ']).map(str::trim) {
        if e.starts_with('-')
            && !e.eq_ignore_ascii_case("-ALL")
            && !out.iter().any(|o| o.eq_ignore_ascii_case(e))
        {
            out.push(e.to_string());
        }
    }
    out.join(",")
}

/// The size in bits of a named elliptic curve, when its name says it.
fn curve_bits(name: &str) -> Option<u32> {
    let lower = name.to_ascii_lowercase();
    let rest = ["secp", "sect", "prime", "brainpoolp", "p-"]
        .iter()
        .find_map(|p| lower.strip_prefix(p))?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

impl<'a> Ctx<'a> {
    pub(super) fn openssl_conf_cmds(&mut self) {
        let tree = self.tree;
        let p = self.profile;
        // Modern's MinProtocol TLSv1.3 (and Protocol without TLSv1.2) leave
        // no version on a target without TLS 1.3, as SSLProtocol would.
        let no_tls13 = match (p, self.versions.apache_tls13()) {
            (Profile::Modern, Capability::No(why) | Capability::Unknown(why)) => Some(why),
            _ => None,
        };
        for item in tree.named("SSLOpenSSLConfCmd").filter(|i| !i.per_dir) {
            let args = tree.args(item);
            let [cmd, value] = args.as_slice() else {
                continue;
            };
            let floor = p.floor();
            let (why, fix): (String, Option<String>) = match cmd.to_ascii_lowercase().as_str() {
                "minprotocol" => match ssl_conf_version(value) {
                    Some(v) if v >= floor => continue,
                    _ => (
                        format!(
                            "MinProtocol {value} lowers the minimum version below the {} profile's ({}), overriding SSLProtocol",
                            p.name(),
                            version_name(floor)
                        ),
                        Some(version_name(floor).to_string()),
                    ),
                },
                "maxprotocol" => match ssl_conf_version(value) {
                    Some(v) if v < floor => (
                        format!(
                            "MaxProtocol {value} is below the {} profile's lowest version ({}): no version the profile allows is left, and clients cannot connect",
                            p.name(),
                            version_name(floor)
                        ),
                        None,
                    ),
                    _ => continue,
                },
                "protocol" => {
                    let mut bad: Vec<&str> = protocol_enables(value)
                        .into_iter()
                        .filter(|&v| !p.allows(v))
                        .map(version_name)
                        .collect();
                    if bad.is_empty() {
                        continue;
                    }
                    bad.sort();
                    bad.dedup();
                    (
                        format!(
                            "Protocol {value} enables {} outside the {} profile after SSLProtocol is applied (with OpenSSL 1.1.0+ mod_ssl's minimum version may still refuse them; with 1.0.2 they are back)",
                            bad.join(", "),
                            p.name()
                        ),
                        Some(protocol_fix(value, p)),
                    )
                }
                "cipherstring" => {
                    let Some(list) = p.openssl_ciphers_for(self.versions.openssl_release()) else {
                        continue; // modern: TLS 1.3 only
                    };
                    match &*ciphers::judge(value, p) {
                        Verdict::Meets | Verdict::SystemPolicy => continue,
                        Verdict::Weaker { why, outside } => (
                            if outside.is_empty() {
                                format!("CipherString overrides SSLCipherSuite, and {why}")
                            } else {
                                format!(
                                    "CipherString overrides SSLCipherSuite, and {why} (as expanded by the OpenSSL tlsmend runs with, {})",
                                    openssl::version::version()
                                )
                            },
                            Some(list),
                        ),
                        Verdict::Broken(e) => (
                            format!(
                                "CipherString overrides SSLCipherSuite, and OpenSSL rejects it: {e}"
                            ),
                            Some(list),
                        ),
                    }
                }
                "ciphersuites" => {
                    let bad: Vec<&str> = value
                        .split(':')
                        .map(str::trim)
                        .filter(|s| !s.is_empty() && !TLS13_OK.contains(s))
                        .collect();
                    if bad.is_empty() {
                        continue;
                    }
                    (
                        format!(
                            "Ciphersuites names TLS 1.3 suites outside the profile: {}",
                            bad.join(":")
                        ),
                        Some(p.values().tls13_ciphersuites.to_string()),
                    )
                }
                "curves" | "groups" => {
                    let weak: Vec<&str> = value
                        .split([':', ','])
                        .map(str::trim)
                        .filter(|g| curve_bits(g).is_some_and(|b| b < 256))
                        .collect();
                    if weak.is_empty() {
                        continue;
                    }
                    (
                        format!("{cmd} names curves below 256 bits: {}", weak.join(":")),
                        None,
                    )
                }
                "options" => {
                    let weak: Vec<&str> = value
                        .split([',', ' '])
                        .map(str::trim)
                        .filter(|o| {
                            let o = o.trim_start_matches('+');
                            o.eq_ignore_ascii_case("Compression")
                                || o.eq_ignore_ascii_case("UnsafeLegacyRenegotiation")
                        })
                        .collect();
                    if weak.is_empty() {
                        continue;
                    }
                    (
                        format!(
                            "Options {} turns on {} after SSLCompression and mod_ssl's own settings",
                            value,
                            weak.join(", ")
                        ),
                        None,
                    )
                }
                "dhparameters" => {
                    self.dh_file(item, value);
                    continue;
                }
                _ => continue,
            };
            let mut f = self.finding(
                "apache.openssl-conf-cmd",
                Severity::High,
                item.file(),
                item.directive.name.start(),
            );
            f.current = Some(format!("{cmd} {value}").into());
            f.reason = why.into();
            let cmd_is_version = ["minprotocol", "protocol"]
                .iter()
                .any(|c| cmd.eq_ignore_ascii_case(c));
            if let (Some(why), true, Some(_)) = (&no_tls13, cmd_is_version, &fix) {
                f.blocked = Some(format!(
                    "{why}; the modern profile is TLS 1.3 only, so nothing is written (use --profile intermediate, or name the versions with --apache-version and --openssl-version)"
                ));
                self.push(f, None);
                continue;
            }
            let Some(fix) = fix else {
                f.severity = Severity::Medium;
                f.blocked = Some(format!(
                    "report only: {cmd} is a deliberate choice that depends on the target's OpenSSL; change or remove it yourself"
                ));
                self.push(f, None);
                continue;
            };
            f.wanted = Some(format!("SSLOpenSSLConfCmd {cmd} {fix}").into());
            let arg = item.directive.args(self.bytes(item.file()))[1];
            let text = match arg.quote {
                Some(q) => format!("{}{fix}{}", q as char, q as char),
                None => fix.clone(),
            };
            let file = f.file;
            let change = Change {
                ldap: None,
                rule: "apache.openssl-conf-cmd",
                reason: format!("SSLOpenSSLConfCmd {cmd} {fix}: {}", f.reason).into(),
                edits: vec![(file, Patch::replace(arg.span, text))],
            };
            self.push(f, Some(change));
        }
        self.dh_in_certificates();
    }

    /// Resolves a file argument as mod_ssl does (relative to ServerRoot).
    fn server_file(&self, raw: &str) -> Option<PathBuf> {
        self.cert_path(raw)
    }

    /// Whether a DHE suite can be negotiated where `item` applies: the
    /// SSLCipherSuite of its virtual host (else the server config's), or
    /// OpenSSL's default list (which has DHE) when there is none.
    fn dhe_in_use(&self, item: &Item) -> bool {
        let tree = self.tree;
        let own = item.vhost().and_then(|v| {
            tree.vhost_items(v)
                .filter(|i| tree.is(i, "SSLCipherSuite") && tree.args(i).len() == 1)
                .last()
        });
        let list = own.or_else(|| {
            tree.server_items()
                .filter(|i| tree.is(i, "SSLCipherSuite") && tree.args(i).len() == 1)
                .last()
        });
        let Some(list) = list.and_then(|i| tree.first_arg(i)) else {
            return true;
        };
        ciphers::expand(&list).map_or(true, |s| s.iter().any(|c| c.starts_with("DHE-")))
    }

    fn dh_finding(&mut self, item: &Item, raw: &str, bits: u32) {
        let min = self.profile.values().min_dh_bits;
        if bits >= min {
            return;
        }
        let used = self.dhe_in_use(item);
        let mut f = self.finding(
            "apache.dh-params",
            if used {
                Severity::Medium
            } else {
                Severity::Low
            },
            item.file(),
            item.directive.name.start(),
        );
        f.current = Some(format!("{raw}: DH group of {bits} bits").into());
        f.wanted = Some(format!("a DH group of at least {min} bits").into());
        f.reason = if used {
            format!(
                "DHE suites are enabled and use this {bits}-bit group, which is within reach of precomputation attacks (Logjam)"
            ).into()
        } else {
            format!(
                "no DHE suite is enabled now (by the cipher list, expanded with the host's OpenSSL), so the {bits}-bit group is unused; DHE suites added later would use it"
            ).into()
        };
        f.blocked = Some("audit only: generate a new group (openssl dhparam 2048), or remove the parameters to let mod_ssl pick one".into());
        self.push(f, None);
    }

    fn dh_file(&mut self, item: &'a Item, raw: &str) {
        let Some(path) = self.server_file(raw) else {
            return;
        };
        match crate::target::dh::dh_bits(&path) {
            Ok(bits) => self.dh_finding(item, raw, bits),
            Err(e) => {
                let mut f = self.finding(
                    "apache.dh-params",
                    Severity::Medium,
                    item.file(),
                    item.directive.name.start(),
                );
                f.current = Some(raw.to_string().into());
                f.reason = format!(
                    "{e}; httpd refuses to start when SSLOpenSSLConfCmd DHParameters cannot be loaded"
                ).into();
                f.blocked =
                    Some("audit only: point DHParameters at a PEM DH PARAMETERS file".into());
                self.push(f, None);
            }
        }
    }

    /// `DH PARAMETERS` appended to a TLS virtual host's certificate file.
    fn dh_in_certificates(&mut self) {
        let tree = self.tree;
        // By path, as the path compares (`ssl//x.pem` is `ssl/x.pem`).
        let mut seen: rustc_hash::FxHashSet<&std::path::Path> = Default::default();
        for v in 0..tree.vhosts.len() {
            if !tree.vhost_is_tls(v) {
                continue;
            }
            let Some((item, raw, path)) = self.vhost_certificate(v) else {
                continue;
            };
            if !seen.insert(path) {
                continue;
            }
            let has_dh = std::fs::read(path).is_ok_and(|b| {
                b.windows(b"DH PARAMETERS-----".len())
                    .any(|w| w == b"DH PARAMETERS-----")
            });
            if !has_dh {
                continue;
            }
            if let Ok(bits) = crate::target::dh::dh_bits(path) {
                self.dh_finding(item, raw, bits);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_values_read_like_ssl_conf() {
        assert_eq!(protocol_enables("-ALL,TLSv1.2"), [Version::Tls12]);
        assert!(protocol_enables("ALL,-TLSv1").contains(&Version::Tls10));
        assert_eq!(protocol_enables("+TLSv1.1"), [Version::Tls11]);
        assert_eq!(
            protocol_removals(Profile::Intermediate),
            "-SSLv3,-TLSv1,-TLSv1.1"
        );
        assert_eq!(protocol_removals(Profile::Old), "-SSLv3");
        assert_eq!(
            protocol_fix("ALL,-SSLv3,-TLSv1.3", Profile::Intermediate),
            "-SSLv3,-TLSv1,-TLSv1.1,-TLSv1.3"
        );
        assert_eq!(curve_bits("secp224r1"), Some(224));
        assert_eq!(curve_bits("P-384"), Some(384));
        assert_eq!(curve_bits("prime192v1"), Some(192));
        assert_eq!(curve_bits("X25519"), None);
        assert_eq!(curve_bits("ffdhe2048"), None);
    }
}
