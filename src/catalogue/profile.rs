//! The hardening profiles and the values each one writes, after
//! `../shared/profiles.md` (Mozilla server-side TLS guidelines 6.0).
//!
//! The 2017 article tlsmend started from allowed TLS 1.0 and 1.1; RFC 8996
//! deprecated both, so `intermediate` (the default) allows TLS 1.2 and 1.3.
//!
//! The values are data: one row per profile in [`PROFILES`], versioned by
//! the guidelines release they follow ([`GUIDELINES_VERSION`]). Rules read
//! the row; none of them carries a profile value of its own.

use crate::target::versions::{Capability, OPENSSL_3, Release};

/// TLS protocol versions, oldest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    Ssl2,
    Ssl3,
    Tls10,
    Tls11,
    Tls12,
    Tls13,
}

impl Version {
    pub const ALL_TLS: [Version; 4] = [
        Version::Tls10,
        Version::Tls11,
        Version::Tls12,
        Version::Tls13,
    ];
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Profile {
    Modern,
    Intermediate,
    Old,
}

/// Mozilla intermediate TLS 1.2 ciphers (OpenSSL names).
pub const INTERMEDIATE_CIPHERS: &str = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
/// Added by Mozilla 5.7 (2023) and still common: not weak, so not churned.
pub const MOZILLA_57_DHE: &str =
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305";
/// Mozilla old: the intermediate list plus CBC suites and 3DES.
pub const OLD_CIPHERS: &str = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA:DHE-RSA-AES128-SHA256:DHE-RSA-AES256-SHA256:AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA256:AES256-SHA256:AES128-SHA:AES256-SHA:DES-CBC3-SHA";

pub const GNUTLS_INTERMEDIATE: &str = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-RSA:+ECDHE-ECDSA";
pub const GNUTLS_MODERN: &str = "NORMAL:-VERS-ALL:+VERS-TLS1.3";
pub const GNUTLS_OLD: &str = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:+VERS-TLS1.1:+VERS-TLS1.0";
/// Intermediate for a GnuTLS older than 3.6, or of unknown version: it names
/// no `VERS-TLS1.3` (which GnuTLS < 3.6 rejects, failing the whole string),
/// and still gets TLS 1.3 from `NORMAL` on 3.6+.
pub const GNUTLS_PORTABLE_INTERMEDIATE: &str = "NORMAL:-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1";
/// Old for a GnuTLS older than 3.6, or of unknown version.
pub const GNUTLS_PORTABLE_OLD: &str = "NORMAL:-VERS-SSL3.0";
/// What OpenSSL 3 needs in the old profile's cipher list to negotiate
/// TLS 1.0/1.1 and SHA-1 signatures (Mozilla's generator appends it too).
pub const SECLEVEL_0: &str = "@SECLEVEL=0";

pub const HSTS_MAX_AGE: u64 = 63_072_000;

/// The version of Mozilla's server-side TLS guidelines the table follows
/// (`mozilla/ssl-config-generator`, `src/static/guidelines/6.0.json`).
pub const GUIDELINES_VERSION: &str = "6.0";

/// One profile's values, as data: what tlsmend writes and accepts.
#[derive(Debug)]
pub struct ProfileValues {
    pub profile: Profile,
    /// Which Mozilla guidelines release the values come from (`old` is 5.8's:
    /// 6.0 has no old configuration).
    pub guidelines: &'static str,
    pub versions: &'static [Version],
    /// TLS 1.2 cipher list (OpenSSL names); `None`: TLS 1.3 only.
    pub openssl_ciphers: Option<&'static str>,
    pub tls13_ciphersuites: &'static str,
    pub groups: &'static str,
    pub gnutls_priority: &'static str,
    pub honor_cipher_order: bool,
    pub hsts_max_age: u64,
    pub min_rsa_bits: u32,
    pub min_ec_bits: u32,
    pub min_dh_bits: u32,
    /// On OpenSSL 3 the cipher list needs `@SECLEVEL=0`, or OpenSSL refuses
    /// TLS 1.0/1.1 and the profile's own clients.
    pub needs_seclevel_0_on_openssl3: bool,
    pub for_whom: &'static str,
    /// The lowest TLS version for TLS between mail servers (Postfix
    /// `smtp_tls_mandatory_protocols`, and the opt-in floor of opportunistic
    /// TLS): TLS 1.2 even in modern, since other MTAs lag behind clients.
    pub mta_floor: Version,
    /// The Postfix cipher grade for mandatory TLS on the server
    /// (`smtpd_tls_mandatory_ciphers`); Postfix's grade lists are never
    /// rewritten (postconf(5): "strongly encouraged not to change").
    pub postfix_mandatory_grade: &'static str,
}

const TLS13_SUITES: &str =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

/// The profiles' table, in the order modern, intermediate, old.
pub const PROFILES: [ProfileValues; 3] = [
    ProfileValues {
        profile: Profile::Modern,
        guidelines: "6.0",
        versions: &[Version::Tls13],
        openssl_ciphers: None,
        tls13_ciphersuites: TLS13_SUITES,
        groups: "X25519MLKEM768:X25519:prime256v1:secp384r1",
        gnutls_priority: GNUTLS_MODERN,
        honor_cipher_order: false,
        hsts_max_age: HSTS_MAX_AGE,
        min_rsa_bits: 2048,
        min_ec_bits: 256,
        min_dh_bits: 2048,
        needs_seclevel_0_on_openssl3: false,
        for_whom: "clients from 2020 on (TLS 1.3 only)",
        mta_floor: Version::Tls12,
        postfix_mandatory_grade: "high",
    },
    ProfileValues {
        profile: Profile::Intermediate,
        guidelines: "6.0",
        versions: &[Version::Tls12, Version::Tls13],
        openssl_ciphers: Some(INTERMEDIATE_CIPHERS),
        tls13_ciphersuites: TLS13_SUITES,
        groups: "X25519MLKEM768:X25519:prime256v1:secp384r1",
        gnutls_priority: GNUTLS_INTERMEDIATE,
        honor_cipher_order: false,
        hsts_max_age: HSTS_MAX_AGE,
        min_rsa_bits: 2048,
        min_ec_bits: 256,
        min_dh_bits: 2048,
        needs_seclevel_0_on_openssl3: false,
        for_whom: "general purpose (the default)",
        mta_floor: Version::Tls12,
        postfix_mandatory_grade: "high",
    },
    ProfileValues {
        profile: Profile::Old,
        guidelines: "5.8",
        versions: &[
            Version::Tls10,
            Version::Tls11,
            Version::Tls12,
            Version::Tls13,
        ],
        openssl_ciphers: Some(OLD_CIPHERS),
        tls13_ciphersuites: TLS13_SUITES,
        groups: "X25519:prime256v1:secp384r1",
        gnutls_priority: GNUTLS_OLD,
        honor_cipher_order: true,
        hsts_max_age: HSTS_MAX_AGE,
        min_rsa_bits: 2048,
        min_ec_bits: 256,
        min_dh_bits: 1024,
        needs_seclevel_0_on_openssl3: true,
        for_whom: "legacy clients only (TLS 1.0 and 1.1, CBC and 3DES: weak)",
        mta_floor: Version::Tls10,
        postfix_mandatory_grade: "medium",
    },
];

impl Profile {
    /// This profile's row of [`PROFILES`].
    pub fn values(self) -> &'static ProfileValues {
        PROFILES
            .iter()
            .find(|v| v.profile == self)
            .expect("every profile has a row")
    }

    pub fn name(self) -> &'static str {
        match self {
            Profile::Modern => "modern",
            Profile::Intermediate => "intermediate",
            Profile::Old => "old",
        }
    }

    /// The protocol versions the profile allows.
    pub fn versions(self) -> &'static [Version] {
        self.values().versions
    }

    pub fn allows(self, v: Version) -> bool {
        self.versions().contains(&v)
    }

    /// The lowest version the profile allows.
    pub fn floor(self) -> Version {
        self.versions()[0]
    }

    /// TLS 1.2 cipher list to write; `None` for modern (TLS 1.3 only).
    pub fn openssl_ciphers(self) -> Option<&'static str> {
        self.values().openssl_ciphers
    }

    /// Cipher names an existing list may use and still meet the profile.
    pub fn acceptable_ciphers(self) -> Vec<&'static str> {
        let mut v: Vec<&str> = INTERMEDIATE_CIPHERS
            .split(':')
            .chain(MOZILLA_57_DHE.split(':'))
            .collect();
        if self == Profile::Old {
            v.extend(OLD_CIPHERS.split(':'));
            // Required there on OpenSSL 3, so not held against the list.
            v.push(SECLEVEL_0);
        }
        v
    }

    pub fn gnutls_priority(self) -> &'static str {
        self.values().gnutls_priority
    }

    /// The GnuTLS priority string to write on a GnuTLS that can (`tls13`
    /// is [`Capability::Yes`]) or cannot, or may not, do TLS 1.3: the
    /// profile's own string, or one naming no `VERS-TLS1.3` with a note
    /// saying why. `Err(why)`: modern is TLS 1.3 only, so on such a GnuTLS
    /// nothing can be written that both starts and meets it.
    pub fn gnutls_priority_for(
        self,
        tls13: &Capability,
    ) -> Result<(&'static str, Option<String>), String> {
        let why = match tls13 {
            Capability::Yes => return Ok((self.gnutls_priority(), None)),
            Capability::No(why) | Capability::Unknown(why) => why,
        };
        match self {
            Profile::Modern => Err(format!(
                "{why}; the modern profile is TLS 1.3 only, so nothing is written (use --profile intermediate, or name the version)"
            )),
            Profile::Intermediate => Ok((
                GNUTLS_PORTABLE_INTERMEDIATE,
                Some(format!(
                    "{why}; so the string names no VERS-TLS1.3 (NORMAL still brings TLS 1.3 where GnuTLS has it)"
                )),
            )),
            Profile::Old => Ok((
                GNUTLS_PORTABLE_OLD,
                Some(format!("{why}; so the string names no VERS-TLS1.3")),
            )),
        }
    }

    /// The TLS 1.2 cipher list to write for a target whose OpenSSL is
    /// `openssl`: the old profile's gets `@SECLEVEL=0` on OpenSSL 3, whose
    /// default security level otherwise refuses TLS 1.0/1.1 (and the very
    /// clients old exists for). On an unknown OpenSSL it is left out: an
    /// OpenSSL before 1.1.0 rejects the whole list.
    pub fn openssl_ciphers_for(self, openssl: Option<Release>) -> Option<String> {
        let list = self.openssl_ciphers()?;
        let v = self.values();
        Some(
            if v.needs_seclevel_0_on_openssl3 && openssl.is_some_and(|o| o >= OPENSSL_3) {
                format!("{list}:{SECLEVEL_0}")
            } else {
                list.to_string()
            },
        )
    }

    pub fn honor_cipher_order(self) -> bool {
        self.values().honor_cipher_order
    }
}

/// Whether every entry of an OpenSSL cipher string is an explicitly named
/// suite from `acceptable` (exclusions like `!aNULL` are fine). Keywords such
/// as `HIGH` or `ALL`, and `@SECLEVEL=0`, cannot be proven strong; the old
/// profile lists `@SECLEVEL=0` among its acceptable entries, since it needs
/// it on OpenSSL 3.
pub fn cipher_list_meets(list: &str, acceptable: &[&str]) -> bool {
    let mut named = 0;
    for entry in list.split([':', ',', ' ']).filter(|e| !e.is_empty()) {
        if entry.starts_with('!') || entry.starts_with('-') || entry == "@STRENGTH" {
            continue;
        }
        if entry.starts_with("@SECLEVEL=") {
            if entry == SECLEVEL_0 && !acceptable.contains(&entry) {
                return false;
            }
            continue;
        }
        if !acceptable.contains(&entry) {
            return false;
        }
        named += 1;
    }
    named > 0
}

/// How a GnuTLS priority string reads to tlsmend.
#[derive(Debug, PartialEq, Eq)]
pub enum Priority {
    /// A GnuTLS string, with the protocol versions it leaves enabled.
    Gnutls(Vec<Version>),
    /// Not a GnuTLS priority string: most likely an OpenSSL cipher list,
    /// which GnuTLS rejects, failing every handshake.
    WrongDialect,
}

const GNUTLS_BASES: &[&str] = &[
    "NORMAL",
    "PERFORMANCE",
    "SECURE",
    "SECURE128",
    "SECURE192",
    "SECURE256",
    "SUITEB128",
    "SUITEB192",
    "LEGACY",
    "PFS",
    "NONE",
    "SYSTEM",
];

pub fn read_priority(s: &str) -> Priority {
    let mut parts = s.split(':');
    let base = parts.next().unwrap_or("").trim();
    let base_name = base.trim_start_matches('@');
    if !GNUTLS_BASES.contains(&base_name.split(',').next().unwrap_or("")) {
        return Priority::WrongDialect;
    }
    let mut versions: Vec<Version> = if base_name == "NONE" {
        Vec::new()
    } else {
        Version::ALL_TLS.to_vec()
    };
    for p in parts {
        let p = p.trim();
        if p.is_empty() {
            continue;
        }
        let (op, name) = p.split_at(1);
        let add = match op {
            "+" => true,
            "-" | "!" => false,
            "%" => continue,
            _ => return Priority::WrongDialect,
        };
        let which: Vec<Version> = match name {
            "VERS-ALL" | "VERS-TLS-ALL" => Version::ALL_TLS.to_vec(),
            "VERS-TLS1.0" => vec![Version::Tls10],
            "VERS-TLS1.1" => vec![Version::Tls11],
            "VERS-TLS1.2" => vec![Version::Tls12],
            "VERS-TLS1.3" => vec![Version::Tls13],
            "VERS-SSL3.0" => vec![Version::Ssl3],
            _ => continue,
        };
        for v in which {
            versions.retain(|&x| x != v);
            if add {
                versions.push(v);
            }
        }
    }
    versions.sort();
    Priority::Gnutls(versions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_strings_are_read() {
        assert_eq!(
            read_priority(GNUTLS_INTERMEDIATE),
            Priority::Gnutls(vec![Version::Tls12, Version::Tls13])
        );
        assert_eq!(
            read_priority("NORMAL:-VERS-TLS1.0:-VERS-TLS1.1"),
            Priority::Gnutls(vec![Version::Tls12, Version::Tls13])
        );
        assert_eq!(
            read_priority("NORMAL"),
            Priority::Gnutls(Version::ALL_TLS.to_vec())
        );
        assert_eq!(read_priority("HIGH:!aNULL"), Priority::WrongDialect);
        assert_eq!(
            read_priority("ECDHE-RSA-AES128-GCM-SHA256"),
            Priority::WrongDialect
        );
        assert_eq!(read_priority("NORMAL:BOGUS"), Priority::WrongDialect);
    }

    #[test]
    fn cipher_lists_are_judged_by_name() {
        let ok = Profile::Intermediate.acceptable_ciphers();
        assert!(cipher_list_meets(INTERMEDIATE_CIPHERS, &ok));
        assert!(cipher_list_meets(
            &format!("{INTERMEDIATE_CIPHERS}:{MOZILLA_57_DHE}"),
            &ok
        ));
        assert!(cipher_list_meets("ECDHE-RSA-AES128-GCM-SHA256:!aNULL", &ok));
        assert!(!cipher_list_meets("HIGH:!aNULL", &ok));
        assert!(!cipher_list_meets(
            "ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0",
            &ok
        ));
        assert!(!cipher_list_meets("", &ok));
        assert!(!cipher_list_meets("AES128-SHA", &ok));
        assert!(cipher_list_meets(
            "AES128-SHA",
            &Profile::Old.acceptable_ciphers()
        ));
    }

    /// Issue 8, item 7: old needs `@SECLEVEL=0` on OpenSSL 3, and judging
    /// must accept it there (only there).
    #[test]
    fn old_carries_seclevel_0_on_openssl_3_only() {
        let old = Profile::Old;
        let v3 = old.openssl_ciphers_for(Some(Release(3, 0, 19))).unwrap();
        assert_eq!(v3, format!("{OLD_CIPHERS}:@SECLEVEL=0"));
        assert!(cipher_list_meets(&v3, &old.acceptable_ciphers()));
        assert_eq!(
            old.openssl_ciphers_for(Some(Release(1, 1, 1))).unwrap(),
            OLD_CIPHERS
        );
        assert_eq!(old.openssl_ciphers_for(None).unwrap(), OLD_CIPHERS);
        assert_eq!(
            Profile::Intermediate
                .openssl_ciphers_for(Some(Release(3, 0, 0)))
                .unwrap(),
            INTERMEDIATE_CIPHERS
        );
        assert!(!cipher_list_meets(
            &format!("{INTERMEDIATE_CIPHERS}:@SECLEVEL=0"),
            &Profile::Intermediate.acceptable_ciphers()
        ));
    }

    /// Issue 8, item 6: GnuTLS < 3.6 (or unknown) gets no VERS-TLS1.3.
    #[test]
    fn gnutls_strings_follow_the_gnutls_version() {
        let no = Capability::No("GnuTLS 3.5.18 predates TLS 1.3".into());
        let (s, note) = Profile::Intermediate.gnutls_priority_for(&no).unwrap();
        assert!(!s.contains("VERS-TLS1.3"), "{s}");
        assert!(note.unwrap().contains("3.5.18"));
        assert_eq!(
            read_priority(s),
            Priority::Gnutls(vec![Version::Tls12, Version::Tls13])
        );
        let (s, _) = Profile::Old.gnutls_priority_for(&no).unwrap();
        assert!(!s.contains("VERS-TLS1.3"), "{s}");
        assert!(Profile::Modern.gnutls_priority_for(&no).is_err());
        assert_eq!(
            Profile::Intermediate
                .gnutls_priority_for(&Capability::Yes)
                .unwrap(),
            (GNUTLS_INTERMEDIATE, None)
        );
    }
}
