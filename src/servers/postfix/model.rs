//! A Postfix instance as Postfix reads it: `main.cf` and `master.cf` of a
//! configuration directory, the Postfix version, built-in defaults for
//! parameters that are absent, and `$name` expansion, so that rules judge the
//! values Postfix will actually use.
//!
//! The version comes from `--postfix-version`, else `postconf -d` on the
//! running machine, else the dpkg database inside `--root`; when it is
//! unknown, tlsmend writes only syntax that every Postfix 3.x accepts.

use crate::catalogue::profile::Version;
use crate::discover::{ConfigFile, Root};
use crate::error::{Error, Result};
use crate::syntax::Syntax;
use crate::syntax::postfix_main::{self, MainCf};
use crate::syntax::postfix_master::{self, MasterCf};
use std::path::{Path, PathBuf};

/// `major.minor` of Postfix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PostfixVersion(pub u32, pub u32);

impl std::str::FromStr for PostfixVersion {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let mut it = s.trim().split(['.', '-', '+', '~']);
        let major = it.next().and_then(|x| x.parse().ok());
        let minor = it.next().and_then(|x| x.parse().ok());
        match (major, minor) {
            (Some(a), Some(b)) => Ok(PostfixVersion(a, b)),
            _ => Err(format!("{s:?} is not a Postfix version such as 3.7")),
        }
    }
}

impl std::fmt::Display for PostfixVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

/// Where the version came from, for notes.
pub fn detect_version(
    root: &Root,
    over: Option<PostfixVersion>,
) -> Option<(PostfixVersion, String)> {
    if let Some(v) = over {
        return Some((v, "--postfix-version".into()));
    }
    if root.dir().is_none()
        && let Ok(o) = std::process::Command::new("postconf")
            .args(["-dh", "mail_version"])
            .output()
        && o.status.success()
        && let Ok(v) = String::from_utf8_lossy(&o.stdout).parse()
    {
        return Some((v, "postconf -d mail_version".into()));
    }
    let v = crate::target::versions::dpkg_version(root, "postfix")?;
    let v = v.split_once(':').map_or(v.as_str(), |(_, rest)| rest);
    Some((v.parse().ok()?, "the dpkg database".into()))
}

/// One Postfix configuration directory, parsed.
pub struct Instance {
    pub dir: PathBuf,
    pub main: (ConfigFile, MainCf),
    pub master: Option<(ConfigFile, MasterCf)>,
}

impl Instance {
    pub fn load(root: &Root, dir: &Path) -> Result<Instance> {
        let main_path = dir.join("main.cf");
        let f = ConfigFile::load(root, &main_path, Syntax::PostfixMain)?;
        let m = postfix_main::parse(&f.source.path, &f.source.bytes)?;
        let master_path = dir.join("master.cf");
        let master = if root.exists(&master_path) {
            let f = ConfigFile::load(root, &master_path, Syntax::PostfixMaster)?;
            let m = postfix_master::parse(&f.source.path, &f.source.bytes)?;
            Some((f, m))
        } else {
            None
        };
        Ok(Instance {
            dir: dir.to_path_buf(),
            main: (f, m),
            master,
        })
    }

    pub fn main_bytes(&self) -> &[u8] {
        &self.main.0.source.bytes
    }

    /// The raw value of `name` in main.cf (last definition), if set.
    pub fn raw(&self, name: &str) -> Option<String> {
        let b = self.main_bytes();
        self.main.1.lookup(b, name).0.map(|e| e.value(b))
    }

    /// The value Postfix uses: main.cf, else the built-in default;
    /// `$name` references expanded.
    pub fn effective(&self, name: &str, version: Option<PostfixVersion>) -> Option<String> {
        let raw = self
            .raw(name)
            .or_else(|| default(name, version, self.compat_level()).map(str::to_string))?;
        Some(self.expand(&raw, version, 0))
    }

    fn compat_level(&self) -> Option<PostfixVersion> {
        self.raw("compatibility_level").and_then(|v| v.parse().ok())
    }

    /// Expands `$name`, `${name}`, `${name?text}` and `${name:text}`.
    pub fn expand(&self, s: &str, version: Option<PostfixVersion>, depth: usize) -> String {
        if depth > 20 || !s.contains('$') {
            return s.to_string();
        }
        let lookup = |n: &str| -> String {
            self.raw(n)
                .or_else(|| default(n, version, self.compat_level()).map(str::to_string))
                .map(|v| self.expand(&v, version, depth + 1))
                .unwrap_or_default()
        };
        let b = s.as_bytes();
        let mut out = String::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] != b'$' || i + 1 >= b.len() {
                out.push(b[i] as char);
                i += 1;
                continue;
            }
            if b[i + 1] == b'{' {
                let Some(close) = s[i..].find('}') else {
                    out.push_str(&s[i..]);
                    break;
                };
                let inner = &s[i + 2..i + close];
                if let Some((n, text)) = inner.split_once('?') {
                    if !lookup(n).is_empty() {
                        out.push_str(text);
                    }
                } else if let Some((n, text)) = inner.split_once(':') {
                    if lookup(n).is_empty() {
                        out.push_str(text);
                    }
                } else {
                    out.push_str(&lookup(inner));
                }
                i += close + 1;
            } else {
                let n: String = s[i + 1..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if n.is_empty() {
                    out.push('$');
                    i += 1;
                } else {
                    out.push_str(&lookup(&n));
                    i += 1 + n.len();
                }
            }
        }
        out
    }
}

/// Postfix's built-in default of the parameters tlsmend judges (from
/// mail_params.h), for `version` (`None`: unknown).
pub fn default(
    name: &str,
    version: Option<PostfixVersion>,
    compat: Option<PostfixVersion>,
) -> Option<&'static str> {
    let at_least = |v: PostfixVersion| version.is_some_and(|x| x >= v);
    Some(match name {
        "smtpd_tls_security_level" => "",
        "smtp_tls_security_level" => {
            if at_least(PostfixVersion(3, 11)) && compat.is_some_and(|c| c >= PostfixVersion(3, 11))
            {
                "may"
            } else {
                ""
            }
        }
        "smtpd_tls_protocols"
        | "smtp_tls_protocols"
        | "smtpd_tls_mandatory_protocols"
        | "smtp_tls_mandatory_protocols" => {
            if at_least(PostfixVersion(3, 6)) {
                ">=TLSv1"
            } else {
                "!SSLv2, !SSLv3"
            }
        }
        "smtpd_tls_mandatory_ciphers"
        | "smtp_tls_mandatory_ciphers"
        | "smtpd_tls_ciphers"
        | "smtp_tls_ciphers" => "medium",
        "smtpd_tls_auth_only" | "tls_preempt_cipherlist" => "no",
        "tls_medium_cipherlist" => "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH",
        "tls_eecdh_auto_curves" => "X25519 X448 prime256v1 secp384r1 secp521r1",
        "smtpd_sasl_type" => "cyrus",
        "smtpd_sasl_path" => "smtpd",
        _ => return None,
    })
}

/// The versions a Postfix protocol list enables; `None` for a list Postfix
/// would reject ("Invalid TLS protocol list": it then disables TLS).
///
/// Read as postconf(5) describes it: names without regard to case,
/// separators whitespace, commas or colons, `>=`/`<=` bounds (Postfix 3.6+)
/// with a name or a hexadecimal version (`0x0304`, `0304`, `304`: TLS 1.3),
/// `!` exclusions, and an empty list for every version. With exclusions the
/// range is contiguous: a disabled version disables every version above it
/// (`!SSLv2, !SSLv3, !TLSv1.1` leaves only TLS 1.0).
pub fn protocols(list: &str) -> Option<Vec<Version>> {
    const ALL: [(&str, Version); 6] = [
        ("SSLv2", Version::Ssl2),
        ("SSLv3", Version::Ssl3),
        ("TLSv1", Version::Tls10),
        ("TLSv1.1", Version::Tls11),
        ("TLSv1.2", Version::Tls12),
        ("TLSv1.3", Version::Tls13),
    ];
    let find = |n: &str| {
        ALL.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| *v)
    };
    // A bound: a name or a hexadecimal protocol number. A number above TLS
    // 1.3 is unknown to OpenSSL: as an upper bound it sets nothing (Postfix
    // logs a warning), as a lower bound tlsmend cannot vouch for it.
    let bound = |n: &str, upper: bool| -> Option<Version> {
        if let Some(v) = find(n) {
            return Some(v);
        }
        let hex = n
            .strip_prefix("0x")
            .or_else(|| n.strip_prefix("0X"))
            .unwrap_or(n);
        let num = u16::from_str_radix(hex, 16).ok()?;
        Some(match num {
            0x0002 => Version::Ssl2,
            0x0300 => Version::Ssl3,
            0x0301 => Version::Tls10,
            0x0302 => Version::Tls11,
            0x0303 => Version::Tls12,
            0x0304 => Version::Tls13,
            n if n > 0x0304 && upper => Version::Tls13,
            _ => return None,
        })
    };
    let mut include = Vec::new();
    let mut exclude = Vec::new();
    let (mut min, mut max) = (Version::Ssl2, Version::Tls13);
    let mut any = false;
    for t in list
        .split([',', ':', ' ', '\t', '\n', '\r'])
        .filter(|t| !t.is_empty())
    {
        any = true;
        if let Some(v) = t.strip_prefix(">=") {
            min = bound(v, false)?;
        } else if let Some(v) = t.strip_prefix("<=") {
            max = bound(v, true)?;
        } else if let Some(v) = t.strip_prefix('!') {
            exclude.push(find(v)?);
        } else {
            include.push(find(t)?);
        }
    }
    if !any {
        // An empty list means every protocol: Postfix's own minimum.
        return Some(Version::ALL_TLS.to_vec());
    }
    let base: Vec<Version> = if include.is_empty() {
        ALL.iter().map(|(_, v)| *v).collect()
    } else {
        include
    };
    // OpenSSL 3 no longer has SSLv2; SSLv3 only when explicitly built in.
    let enabled = |v: Version| {
        v != Version::Ssl2 && base.contains(&v) && !exclude.contains(&v) && v >= min && v <= max
    };
    // The contiguous run from the lowest enabled version up.
    let mut set = Vec::new();
    for v in ALL.iter().map(|(_, v)| *v) {
        if enabled(v) {
            set.push(v);
        } else if !set.is_empty() {
            break;
        }
    }
    Some(set)
}

/// Whether a protocol list uses the `>=`/`<=` syntax of Postfix 3.6+.
pub fn uses_bounds(list: &str) -> bool {
    list.contains(">=") || list.contains("<=")
}

/// Where each distribution keeps the primary instance's `main.cf`.
pub const LAYOUTS: &[(&str, &str)] = &[
    (
        "Debian, Ubuntu, RHEL, Fedora, SUSE, Alpine, Arch, NetBSD base",
        "/etc/postfix",
    ),
    ("FreeBSD ports", "/usr/local/etc/postfix"),
    ("NetBSD/pkgsrc", "/usr/pkg/etc/postfix"),
];

/// The primary instance's directory and its layout's name, first found.
pub fn primary(root: &Root) -> Option<(&'static str, PathBuf)> {
    LAYOUTS
        .iter()
        .map(|(name, dir)| (*name, PathBuf::from(dir)))
        .find(|(_, d)| root.exists(&d.join("main.cf")))
}

/// The places searched, for "not found" messages.
pub fn searched() -> String {
    LAYOUTS
        .iter()
        .map(|(_, d)| format!("{d}/main.cf"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The primary instance's directory, then its `multi_instance_directories`.
pub fn instance_dirs(root: &Root) -> Result<Vec<PathBuf>> {
    let Some((_, primary)) = primary(root) else {
        return Ok(Vec::new());
    };
    let mut dirs = vec![primary.clone()];
    let inst = Instance::load(root, &primary)?;
    if let Some(list) = inst.raw("multi_instance_directories") {
        for d in list.split([',', ' ', '\t']).filter(|d| !d.is_empty()) {
            let p = PathBuf::from(d);
            if !root.exists(&p.join("main.cf")) {
                return Err(Error::Other(format!(
                    "multi_instance_directories names {d}, which has no main.cf{}",
                    root.dir()
                        .map(|r| format!(" under {}", r.display()))
                        .unwrap_or_default()
                )));
            }
            dirs.push(p);
        }
    }
    Ok(dirs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Version::*;

    #[test]
    fn protocol_lists() {
        assert_eq!(protocols(">=TLSv1.2"), Some(vec![Tls12, Tls13]));
        assert_eq!(
            protocols("!SSLv2, !SSLv3, !TLSv1, !TLSv1.1"),
            Some(vec![Tls12, Tls13])
        );
        assert_eq!(
            protocols("!SSLv2, !SSLv3"),
            Some(vec![Tls10, Tls11, Tls12, Tls13])
        );
        assert_eq!(protocols("TLSv1.3"), Some(vec![Tls13]));
        assert_eq!(protocols(">=TLSv1"), Some(vec![Tls10, Tls11, Tls12, Tls13]));
        assert_eq!(protocols("bogusproto"), None);
        assert_eq!(protocols(""), Some(vec![Tls10, Tls11, Tls12, Tls13]));
    }

    #[test]
    fn protocol_lists_as_postfix_reads_them() {
        // Names ignore case; hexadecimal bounds (Postfix 3.6+).
        assert_eq!(protocols(">=tlsv1.2"), Some(vec![Tls12, Tls13]));
        assert_eq!(protocols(">=0x0304"), Some(vec![Tls13]));
        assert_eq!(protocols(">=0304"), Some(vec![Tls13]));
        assert_eq!(protocols(">=303"), Some(vec![Tls12, Tls13]));
        assert_eq!(protocols("<=0x0303"), Some(vec![Ssl3, Tls10, Tls11, Tls12]));
        assert_eq!(protocols(">=TLSv1.2, <=0305"), Some(vec![Tls12, Tls13]));
        assert_eq!(protocols(">=0x0305"), None);
        assert_eq!(protocols("!0x0301"), None);
        // Exclusions leave a contiguous range.
        assert_eq!(protocols("!SSLv2, !SSLv3, !TLSv1.1"), Some(vec![Tls10]));
        assert_eq!(
            protocols("!SSLv2:!SSLv3:!TLSv1:!TLSv1.1"),
            Some(vec![Tls12, Tls13])
        );
    }

    #[test]
    fn versions_parse() {
        assert_eq!(
            "3.7.11".parse::<PostfixVersion>().unwrap(),
            PostfixVersion(3, 7)
        );
        assert!("x".parse::<PostfixVersion>().is_err());
        assert_eq!(
            default("smtpd_tls_protocols", Some(PostfixVersion(3, 5)), None),
            Some("!SSLv2, !SSLv3")
        );
        assert_eq!(
            default(
                "smtp_tls_security_level",
                Some(PostfixVersion(3, 11)),
                Some(PostfixVersion(3, 11))
            ),
            Some("may")
        );
        assert_eq!(
            default(
                "smtp_tls_security_level",
                Some(PostfixVersion(3, 11)),
                Some(PostfixVersion(3, 6))
            ),
            Some("")
        );
    }
}
