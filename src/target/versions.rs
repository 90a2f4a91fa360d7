//! Which versions of httpd, OpenSSL and GnuTLS the target runs, read from
//! the root tlsmend works on, never by running anything in it.
//!
//! A value that one version accepts can stop another from starting: httpd
//! before 2.4.36, or linked with OpenSSL before 1.1.1, refuses `TLSv1.3` in
//! `SSLProtocol` ("Illegal protocol"); GnuTLS before 3.6 rejects a priority
//! string that names `VERS-TLS1.3` (GNUTLS_E_INVALID_REQUEST). So every rule
//! that writes such a value asks [`TargetVersions`] first, and when a version
//! is unknown it writes only what every release accepts.
//!
//! Where a version comes from, first found wins:
//! 1. the overrides `--apache-version`, `--openssl-version`, `--gnutls-version`;
//! 2. the dpkg database under the root (`var/lib/dpkg/status`), installed
//!    packages only;
//! 3. the version strings inside the binaries and libraries under the root
//!    (`Apache/2.4.57` in httpd, OpenSSL's `OPENSSL_VERSION_TEXT` in
//!    libcrypto, `Enabled GnuTLS 3.7.9 logging` in libgnutls).
//!
//! The rpm database is not read: on current RHEL and Fedora it is a binary
//! SQLite file (a Berkeley DB before), which cannot be read reliably without
//! running rpm. On those systems step 3 finds the versions.

use crate::discover::Root;
use std::path::Path;

/// A release number, `major.minor.patch`; distribution suffixes (`-2+deb12u1`,
/// OpenSSL's letter `1.1.1w`) and a dpkg epoch (`1:`) are dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Release(pub u32, pub u32, pub u32);

impl std::str::FromStr for Release {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        // A dpkg epoch (`1:2.4.57-2`) comes before the upstream version.
        let t = t.split_once(':').map_or(t, |(e, rest)| {
            if e.bytes().all(|b| b.is_ascii_digit()) {
                rest
            } else {
                t
            }
        });
        let end = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let mut it = t[..end].split('.');
        let num = |x: Option<&str>| x.and_then(|x| x.parse::<u32>().ok());
        match (num(it.next()), num(it.next()), it.next()) {
            (Some(a), Some(b), None) => Ok(Release(a, b, 0)),
            (Some(a), Some(b), Some(c)) => match c.parse() {
                Ok(c) => Ok(Release(a, b, c)),
                Err(_) if c.is_empty() => Ok(Release(a, b, 0)),
                Err(_) => Err(format!("{s:?} is not a version such as 2.4.57")),
            },
            _ => Err(format!("{s:?} is not a version such as 2.4.57")),
        }
    }
}

impl std::fmt::Display for Release {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// A version and where it was read, for notes and reasons.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Known {
    pub release: Release,
    pub from: String,
}

/// The versions of the target's httpd, OpenSSL and GnuTLS: the overrides
/// before [`TargetVersions::resolve`], every version found after.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TargetVersions {
    pub apache: Option<Known>,
    pub openssl: Option<Known>,
    pub gnutls: Option<Known>,
}

/// Whether the target can do something, and if not or not known, why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Capability {
    Yes,
    No(String),
    Unknown(String),
}

/// httpd accepts `TLSv1.3` in `SSLProtocol`, and `SSLCipherSuite TLSv1.3 ...`,
/// from 2.4.36 (with OpenSSL 1.1.1+: [`TargetVersions::apache_tls13`]).
pub const HTTPD_TLS13: Release = Release(2, 4, 36);
/// `SSLOpenSSLConfCmd Curves ...` works from httpd 2.4.11.
pub const HTTPD_CONF_CMD_CURVES: Release = Release(2, 4, 11);
/// OpenSSL knows the X25519MLKEM768 group from 3.5.
pub const OPENSSL_MLKEM: Release = Release(3, 5, 0);
/// `SSLSessionTickets` exists from httpd 2.4.11.
pub const HTTPD_SESSION_TICKETS: Release = Release(2, 4, 11);
/// OpenSSL speaks TLS 1.3 from 1.1.1.
pub const OPENSSL_TLS13: Release = Release(1, 1, 1);
/// OpenSSL 3's default security level refuses TLS 1.0 and 1.1.
pub const OPENSSL_3: Release = Release(3, 0, 0);
/// GnuTLS knows `VERS-TLS1.3` from 3.6.
pub const GNUTLS_TLS13: Release = Release(3, 6, 0);

impl TargetVersions {
    /// The versions named on the command line.
    pub fn overrides(
        apache: Option<Release>,
        openssl: Option<Release>,
        gnutls: Option<Release>,
    ) -> TargetVersions {
        let known = |r: Option<Release>, flag: &str| {
            r.map(|release| Known {
                release,
                from: flag.into(),
            })
        };
        TargetVersions {
            apache: known(apache, "--apache-version"),
            openssl: known(openssl, "--openssl-version"),
            gnutls: known(gnutls, "--gnutls-version"),
        }
    }

    /// These versions, with every one not given read from the root.
    pub fn resolve(&self, root: &Root) -> TargetVersions {
        let dpkg = Dpkg::read(root);
        let apache = self.apache.clone().or_else(|| {
            dpkg.first(&["apache2-bin", "apache2"])
                .or_else(|| from_binaries(root, HTTPD_BINARIES, apache_in))
        });
        let openssl = self.openssl.clone().or_else(|| {
            dpkg.first(&[
                "libssl3t64",
                "libssl3",
                "libssl1.1",
                "libssl1.0.2",
                "libssl1.0.0",
                "openssl",
            ])
            .or_else(|| from_binaries(root, &libs(LIBCRYPTO), openssl_in))
        });
        let gnutls = self.gnutls.clone().or_else(|| {
            dpkg.first(&[
                "libgnutls30t64",
                "libgnutls30",
                "libgnutls-deb0-28",
                "libgnutls28",
            ])
            .or_else(|| from_binaries(root, &libs(LIBGNUTLS), gnutls_in))
        });
        TargetVersions {
            apache,
            openssl,
            gnutls,
        }
    }

    /// Can httpd be told `TLSv1.3`? Needs httpd 2.4.36+ and OpenSSL 1.1.1+.
    pub fn apache_tls13(&self) -> Capability {
        let a = self.apache.as_ref();
        let o = self.openssl.as_ref();
        if let Some(a) = a.filter(|a| a.release < HTTPD_TLS13) {
            return Capability::No(format!(
                "httpd {} (from {}) predates TLS 1.3 support (2.4.36): it refuses `TLSv1.3` at start (\"Illegal protocol\")",
                a.release, a.from
            ));
        }
        if let Some(o) = o.filter(|o| o.release < OPENSSL_TLS13) {
            return Capability::No(format!(
                "OpenSSL {} (from {}) predates TLS 1.3 (1.1.1): httpd refuses `TLSv1.3` at start (\"Illegal protocol\")",
                o.release, o.from
            ));
        }
        match (a, o) {
            (Some(_), Some(_)) => Capability::Yes,
            (None, _) => Capability::Unknown(
                "the httpd version is unknown (pass --apache-version): TLS 1.3 needs httpd 2.4.36+ and OpenSSL 1.1.1+, and an older httpd refuses `TLSv1.3` at start".into(),
            ),
            (_, None) => Capability::Unknown(
                "the OpenSSL version is unknown (pass --openssl-version): TLS 1.3 needs OpenSSL 1.1.1+ and httpd 2.4.36+, and an older one refuses `TLSv1.3` at start".into(),
            ),
        }
    }

    /// Does httpd know a directive that appeared in `since`?
    pub fn apache_has(&self, directive: &str, since: Release) -> Capability {
        match &self.apache {
            Some(a) if a.release >= since => Capability::Yes,
            Some(a) => Capability::No(format!(
                "httpd {} (from {}) has no {directive} (it appeared in {since}): it would refuse to start",
                a.release, a.from
            )),
            None => Capability::Unknown(format!(
                "the httpd version is unknown (pass --apache-version): {directive} needs httpd {since}+ and an older httpd refuses to start with it"
            )),
        }
    }

    /// Does GnuTLS know `VERS-TLS1.3`? From 3.6.
    pub fn gnutls_tls13(&self) -> Capability {
        match &self.gnutls {
            Some(g) if g.release >= GNUTLS_TLS13 => Capability::Yes,
            Some(g) => Capability::No(format!(
                "GnuTLS {} (from {}) predates TLS 1.3 (3.6): it rejects a priority string naming VERS-TLS1.3",
                g.release, g.from
            )),
            None => Capability::Unknown(
                "the GnuTLS version is unknown (pass --gnutls-version): VERS-TLS1.3 needs GnuTLS 3.6+, and an older one rejects the whole priority string".into(),
            ),
        }
    }

    /// The OpenSSL release, when known.
    pub fn openssl_release(&self) -> Option<Release> {
        self.openssl.as_ref().map(|k| k.release)
    }

    /// The GnuTLS release, when known.
    pub fn gnutls_release(&self) -> Option<Release> {
        self.gnutls.as_ref().map(|k| k.release)
    }

    /// One line for the report: `httpd 2.4.57 (from ...)` or `httpd version unknown`.
    pub fn describe(name: &str, k: Option<&Known>) -> String {
        match k {
            Some(k) => format!("{name} {} (from {})", k.release, k.from),
            None => format!("{name} version unknown"),
        }
    }
}

/// The installed packages of the dpkg database under the root.
struct Dpkg(Vec<(String, String)>);

impl Dpkg {
    fn read(root: &Root) -> Dpkg {
        let path = Path::new("/var/lib/dpkg/status");
        let Some(text) = root
            .resolve(path)
            .ok()
            .and_then(|p| std::fs::read(root.host(&p)).ok())
        else {
            return Dpkg(Vec::new());
        };
        Dpkg(dpkg_installed(&String::from_utf8_lossy(&text)))
    }

    /// The version of the first of `packages` that is installed.
    fn first(&self, packages: &[&str]) -> Option<Known> {
        packages.iter().find_map(|p| {
            let (_, v) = self.0.iter().find(|(name, _)| name == p)?;
            Some(Known {
                release: v.parse().ok()?,
                from: format!("dpkg: {p} {v}"),
            })
        })
    }
}

/// `(package, version)` of every installed package in a dpkg status file.
/// A package whose state is not `installed` (removed with its configuration
/// left, half-installed) does not count.
pub fn dpkg_installed(status: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for block in status.replace("\r\n", "\n").split("\n\n") {
        let field = |name: &str| {
            block
                .lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
                .map(str::trim)
        };
        let installed =
            field("Status").is_some_and(|s| s.split_whitespace().last() == Some("installed"));
        if let (true, Some(p), Some(v)) = (installed, field("Package"), field("Version")) {
            out.push((p.to_string(), v.to_string()));
        }
    }
    out
}

/// The installed version of `package` in the dpkg database under the root,
/// as dpkg writes it (`3.7.11-0+deb12u1`).
pub fn dpkg_version(root: &Root, package: &str) -> Option<String> {
    Dpkg::read(root)
        .0
        .into_iter()
        .find(|(p, _)| p == package)
        .map(|(_, v)| v)
}

const HTTPD_BINARIES: &[&str] = &[
    "/usr/sbin/apache2",
    "/usr/sbin/httpd",
    "/usr/local/apache2/bin/httpd",
];
const LIBCRYPTO: &[&str] = &[
    "libcrypto.so.3",
    "libcrypto.so.1.1",
    "libcrypto.so.10",
    "libcrypto.so.1.0.2",
    "libcrypto.so.1.0.0",
];
const LIBGNUTLS: &[&str] = &["libgnutls.so.30", "libgnutls.so.28"];

/// Every library directory joined with every name, in search order.
fn libs(names: &[&str]) -> Vec<String> {
    let mut v = Vec::new();
    for n in names {
        for d in crate::target::tlslib::LIB_DIRS {
            v.push(format!("{d}/{n}"));
        }
    }
    v
}

/// The version found in the first readable file of `candidates` (machine
/// paths under the root) by `scan`. The files are read as bytes, never run.
fn from_binaries<S: AsRef<str>>(
    root: &Root,
    candidates: &[S],
    scan: fn(&[u8]) -> Option<Release>,
) -> Option<Known> {
    for c in candidates {
        let machine = Path::new(c.as_ref());
        let Ok(real) = root.resolve(machine) else {
            continue;
        };
        let Ok(bytes) = std::fs::read(root.host(&real)) else {
            continue;
        };
        if let Some(release) = scan(&bytes) {
            return Some(Known {
                release,
                from: format!("the version string in {}", machine.display()),
            });
        }
    }
    None
}

/// The digits-and-dots version that starts at `at`, if it has a minor part.
fn version_at(b: &[u8], at: usize) -> Option<(Release, usize)> {
    let rest = b.get(at..)?;
    let len = rest
        .iter()
        .position(|c| !(c.is_ascii_digit() || *c == b'.'))
        .unwrap_or(rest.len());
    let s = std::str::from_utf8(&rest[..len]).ok()?;
    let s = s.trim_end_matches('.');
    if s.matches('.').count() < 1 {
        return None;
    }
    Some((s.parse().ok()?, at + len))
}

fn find_all<'a>(b: &'a [u8], needle: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    b.windows(needle.len())
        .enumerate()
        .filter(move |(_, w)| *w == needle)
        .map(move |(i, _)| i + needle.len())
}

/// `Apache/2.4.57` (httpd's `AP_SERVER_BASEVERSION`, in its `Server` header).
pub fn apache_in(b: &[u8]) -> Option<Release> {
    find_all(b, b"Apache/").find_map(|at| version_at(b, at).map(|v| v.0))
}

/// OpenSSL's `OPENSSL_VERSION_TEXT`: `OpenSSL 3.0.19 27 Jan 2026`,
/// `OpenSSL 1.1.1w  11 Sep 2023`, `OpenSSL 1.1.1k  FIPS 25 Mar 2021`. The date after the number tells it from
/// other mentions of OpenSSL in the library.
pub fn openssl_in(b: &[u8]) -> Option<Release> {
    find_all(b, b"OpenSSL ").find_map(|at| {
        let (v, mut end) = version_at(b, at)?;
        // An optional letter (1.1.1w), then one or two spaces and a day.
        if b.get(end).is_some_and(|c| c.is_ascii_lowercase()) {
            end += 1;
        }
        // RHEL's text carries `FIPS` before the date.
        let rest = b.get(end..(end + 10).min(b.len()))?;
        let after = rest.iter().position(|&c| c != b' ')?;
        let tail = &rest[after..];
        let dated = after > 0 && (tail[0].is_ascii_digit() || tail.starts_with(b"FIPS "));
        dated.then_some(v)
    })
}

/// GnuTLS's own `Enabled GnuTLS 3.7.9 logging...` debug message.
pub fn gnutls_in(b: &[u8]) -> Option<Release> {
    find_all(b, b"Enabled GnuTLS ").find_map(|at| version_at(b, at).map(|v| v.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Release {
        s.parse().unwrap()
    }

    #[test]
    fn releases_parse_from_package_and_upstream_versions() {
        assert_eq!(r("2.4.57-2"), Release(2, 4, 57));
        assert_eq!(r("1:2.4.29-1ubuntu4"), Release(2, 4, 29));
        assert_eq!(r("3.0.19-1~deb12u2"), Release(3, 0, 19));
        assert_eq!(r("1.1.1w-0+deb11u1"), Release(1, 1, 1));
        assert_eq!(r("3.7.9-2+deb12u4"), Release(3, 7, 9));
        assert_eq!(r("3.5"), Release(3, 5, 0));
        assert!("x".parse::<Release>().is_err());
        assert!("3".parse::<Release>().is_err());
        assert!(r("2.4.36") > r("2.4.9"));
    }

    #[test]
    fn dpkg_status_counts_installed_packages_only() {
        let status = "Package: apache2-bin\nStatus: install ok installed\nVersion: 2.4.29-1\n\nPackage: libssl1.1\nStatus: deinstall ok config-files\nVersion: 1.1.1n-0\n\nPackage: libssl1.0.0\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0.2g-1ubuntu4\n";
        assert_eq!(
            dpkg_installed(status),
            vec![
                ("apache2-bin".to_string(), "2.4.29-1".to_string()),
                ("libssl1.0.0".to_string(), "1.0.2g-1ubuntu4".to_string()),
            ]
        );
    }

    #[test]
    fn version_strings_are_found_in_binaries() {
        assert_eq!(
            apache_in(b"\0Directory \"\0Apache/2.4.71\0 Server at \0"),
            Some(Release(2, 4, 71))
        );
        assert_eq!(
            openssl_in(b"OpenSSL 3 is great\0\x03\0OpenSSL 3.0.19 27 Jan 2026\x003.0.19\0"),
            Some(Release(3, 0, 19))
        );
        assert_eq!(
            openssl_in(b"\0OpenSSL 1.1.1w  11 Sep 2023\0"),
            Some(Release(1, 1, 1))
        );
        assert_eq!(openssl_in(b"compiled with OpenSSL 3.0.0\0"), None);
        assert_eq!(
            gnutls_in(b"config\0\0Enabled GnuTLS 3.7.9 logging...\n\0"),
            Some(Release(3, 7, 9))
        );
    }

    /// Real files, where this machine has them (Debian 12 in the test image).
    #[test]
    fn reads_this_machines_own_files() {
        for (path, scan) in [
            (
                "/usr/sbin/apache2",
                apache_in as fn(&[u8]) -> Option<Release>,
            ),
            ("/usr/lib/x86_64-linux-gnu/libcrypto.so.3", openssl_in),
            ("/usr/lib/x86_64-linux-gnu/libgnutls.so.30", gnutls_in),
        ] {
            if let Ok(b) = std::fs::read(path) {
                assert!(scan(&b).is_some(), "no version string found in {path}");
            }
        }
    }

    #[test]
    fn capabilities_follow_the_versions() {
        let v = |a: Option<&str>, o: Option<&str>, g: Option<&str>| {
            TargetVersions::overrides(a.map(r), o.map(r), g.map(r))
        };
        assert_eq!(
            v(Some("2.4.57"), Some("3.0.2"), None).apache_tls13(),
            Capability::Yes
        );
        assert!(matches!(
            v(Some("2.4.29"), Some("3.0.2"), None).apache_tls13(),
            Capability::No(_)
        ));
        assert!(matches!(
            v(Some("2.4.57"), Some("1.0.2"), None).apache_tls13(),
            Capability::No(_)
        ));
        assert!(matches!(
            v(None, Some("3.0.2"), None).apache_tls13(),
            Capability::Unknown(_)
        ));
        assert!(matches!(
            v(Some("2.4.10"), None, None).apache_has("SSLSessionTickets", HTTPD_SESSION_TICKETS),
            Capability::No(_)
        ));
        assert!(matches!(
            v(None, None, Some("3.5.8")).gnutls_tls13(),
            Capability::No(_)
        ));
        assert_eq!(v(None, None, Some("3.6.0")).gnutls_tls13(), Capability::Yes);
    }

    fn write(root: &Path, path: &str, bytes: &[u8]) {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }

    #[test]
    fn resolve_reads_dpkg_then_binaries_and_overrides_win() {
        let t = tempfile::tempdir().unwrap();
        let root = Root::new(Some(t.path().to_path_buf()));
        assert_eq!(
            TargetVersions::default().resolve(&root),
            TargetVersions::default()
        );
        // Binaries only (an rpm system): the version strings.
        write(t.path(), "usr/sbin/httpd", b"\x7fELF\0Apache/2.4.37\0");
        write(
            t.path(),
            "usr/lib64/libcrypto.so.1.1.1k",
            b"\0OpenSSL 1.1.1k  FIPS 25 Mar 2021\0",
        );
        std::os::unix::fs::symlink(
            "libcrypto.so.1.1.1k",
            t.path().join("usr/lib64/libcrypto.so.1.1"),
        )
        .unwrap();
        write(
            t.path(),
            "usr/lib64/libgnutls.so.30",
            b"\0Enabled GnuTLS 3.6.16 logging...\n\0",
        );
        let v = TargetVersions::default().resolve(&root);
        assert_eq!(v.apache.as_ref().unwrap().release, Release(2, 4, 37));
        assert_eq!(
            v.apache.as_ref().unwrap().from,
            "the version string in /usr/sbin/httpd"
        );
        assert_eq!(v.openssl_release(), Some(Release(1, 1, 1)));
        assert_eq!(v.gnutls_release(), Some(Release(3, 6, 16)));
        // A dpkg database wins over the binaries.
        write(
            t.path(),
            "var/lib/dpkg/status",
            b"Package: apache2-bin\nStatus: install ok installed\nVersion: 2.4.29-1ubuntu4.27\n\nPackage: libssl1.1\nStatus: install ok installed\nVersion: 1.1.1-1ubuntu2.1~18.04.23\n\nPackage: libgnutls30\nStatus: install ok installed\nVersion: 3.5.18-1ubuntu1.6\n",
        );
        let v = TargetVersions::default().resolve(&root);
        assert_eq!(
            v.apache.as_ref().unwrap().from,
            "dpkg: apache2-bin 2.4.29-1ubuntu4.27"
        );
        assert_eq!(v.apache.as_ref().unwrap().release, Release(2, 4, 29));
        assert_eq!(v.openssl_release(), Some(Release(1, 1, 1)));
        assert_eq!(v.gnutls_release(), Some(Release(3, 5, 18)));
        assert!(matches!(v.apache_tls13(), Capability::No(_)));
        assert!(matches!(v.gnutls_tls13(), Capability::No(_)));
        // An override wins over both.
        let over = TargetVersions::overrides(Some(Release(2, 4, 62)), None, Some(Release(3, 7, 9)));
        let v = over.resolve(&root);
        assert_eq!(v.apache.as_ref().unwrap().from, "--apache-version");
        assert_eq!(v.apache.as_ref().unwrap().release, Release(2, 4, 62));
        assert_eq!(v.gnutls_release(), Some(Release(3, 7, 9)));
        assert_eq!(v.apache_tls13(), Capability::Yes);
    }
}
