//! `courier.protocol` and `courier.ciphers`: on an OpenSSL build of
//! couriertls, `TLS_PROTOCOL`, `TLS_STARTTLS_PROTOCOL` and `TLS_CIPHER_LIST`.

use super::{Ctx, Var};
use crate::catalogue::profile::{Profile, Version, cipher_list_meets};
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::plan::Severity;
use crate::target::versions::TargetVersions;

pub const PROTOCOL: Rule = Rule {
    id: "courier.protocol",
    server: Server::Courier,
    severity: Severity::High,
    activation: Activation::Default,
    summary: "OpenSSL builds: TLS_PROTOCOL and TLS_STARTTLS_PROTOCOL are an exact entry of couriertls's table at the profile's floor",
    checks: "On an OpenSSL build of couriertls: TLS_PROTOCOL (implicit TLS on 993) and TLS_STARTTLS_PROTOCOL (STARTTLS on 143; a bare `$TLS_PROTOCOL` follows TLS_PROTOCOL). couriertls compares the value with strcmp against its table, op_list: TLSv1.2++, TLSv1.2+, TLSv1.2 (TLS 1.2 and up), TLSv1.1++, TLSv1.1+, TLSv1.1 (TLS 1.1 and up), TLSv1, TLS1 (TLS 1.0 and up); `++` also sets server cipher preference (TLSv1.2++) and refuses renegotiation. Any other value, TLSv1.3, TLS1_2 and a different case included, falls to the table's last entry, TLS 1.0 and up, and is reported as weak. Absent: TLS 1.0 and up.",
    writes: "TLSv1.2++ for intermediate (an existing TLSv1.2 or TLSv1.2+ meets the floor and is kept) and for modern: the table has no TLS 1.3-only entry, so modern on an OpenSSL Courier cannot be TLS 1.3 only; the run says so in a note and courier.ciphers keeps TLS 1.2 to the intermediate suites. old: TLSv1 over an unknown value, nothing when absent. Both settings get the same value; a `$TLS_PROTOCOL` reference is kept.",
    refuses: "Never on an OpenSSL build. It does not run on a GnuTLS build (the settings are ignored there: courier.ignored) or when the library is unknown (courier.tls-library).",
    versions: "couriertls linked with OpenSSL 1.0.1 or later (the TLSv1.1 and TLSv1.2 rows need SSL_OP_NO_TLSv1 and SSL_OP_NO_TLSv1_1); courier-libs since 2016.",
    sources: &[
        "courier-libs tcpd/libcouriertls.c (OpenSSL build) <https://github.com/svarshavchik/courier-libs/blob/master/tcpd/libcouriertls.c>",
        "Courier couriertls(1) <https://www.courier-mta.org/couriertls.html>",
        "RFC 8996, Deprecating TLS 1.0 and TLS 1.1 <https://www.rfc-editor.org/rfc/rfc8996>",
        "Mozilla server-side TLS guidelines 6.0 <https://ssl-config.mozilla.org/guidelines/6.0.json>",
    ],
};

pub const CIPHERS: Rule = Rule {
    id: "courier.ciphers",
    server: Server::Courier,
    severity: Severity::Medium,
    activation: Activation::Default,
    summary: "OpenSSL builds: TLS_CIPHER_LIST limited to the profile's ciphers (modern: intermediate's, as TLS 1.2 stays on)",
    checks: "On an OpenSSL build: TLS_CIPHER_LIST names only suites the profile allows (intermediate's six ECDHE AEAD suites, also Mozilla 5.7's DHE additions; old's longer list); keywords such as HIGH cannot be proven strong. Absent: couriertls uses TLSv1:HIGH:!LOW:!MEDIUM:!EXP:!NULL:!aNULL@STRENGTH, which includes CBC suites without forward secrecy.",
    writes: "The profile's TLS 1.2 list (OpenSSL names), in place or inserted; old's ends in @SECLEVEL=0 on OpenSSL 3 (--openssl-version or the root's), without which OpenSSL refuses TLS 1.0 and 1.1. modern writes the intermediate list, because TLS_PROTOCOL cannot exclude TLS 1.2 on couriertls (see courier.protocol).",
    refuses: "Never on an OpenSSL build; not run on GnuTLS builds or an unknown library.",
    versions: "couriertls linked with OpenSSL.",
    sources: &[
        "courier-libs tcpd/libcouriertls.c (OpenSSL build) <https://github.com/svarshavchik/courier-libs/blob/master/tcpd/libcouriertls.c>",
        "Courier couriertls(1) <https://www.courier-mta.org/couriertls.html>",
        "Mozilla server-side TLS guidelines 6.0 <https://ssl-config.mozilla.org/guidelines/6.0.json>",
    ],
};

/// One entry of couriertls's protocol table.
#[derive(Debug)]
pub struct OpEntry {
    /// The exact `TLS_PROTOCOL` value (compared with `strcmp`).
    pub name: &'static str,
    /// The lowest version the entry leaves enabled (OpenSSL's `SSL_OP_NO_*`
    /// options turn off everything below it; nothing above is turned off).
    pub floor: Version,
    /// `++`: `SSL_OP_CIPHER_SERVER_PREFERENCE` (`TLSv1.2++` only) and
    /// `SSL_OP_NO_RENEGOTIATION`.
    pub plus_plus: bool,
}

/// couriertls's `TLS_PROTOCOL` table on an OpenSSL build, as data.
///
/// Source: courier-libs `tcpd/libcouriertls.c`, `struct proto_ops op_list[]`
/// and `tls_create_int()`, which walks the table with
/// `strcmp(opp->n, protocol)` and, finding no entry, uses the terminating
/// one: `SSL_OP_ALL|SSL_OP_NO_SSLv2|SSL_OP_NO_SSLv3`, that is TLS 1.0 and
/// up (<https://github.com/svarshavchik/courier-libs/blob/master/tcpd/libcouriertls.c>).
/// `TLSv1.2+` and `TLSv1.2` set the same options; the `TLSv1.1` and `TLSv1.2`
/// rows exist when OpenSSL defines `SSL_OP_NO_TLSv1`/`SSL_OP_NO_TLSv1_1`
/// (every OpenSSL since 1.0.1). There is no TLS 1.3 row: `TLSv1.3` is not
/// in the table and means TLS 1.0 and up.
pub const OP_LIST: &[OpEntry] = &[
    OpEntry {
        name: "TLSv1.2++",
        floor: Version::Tls12,
        plus_plus: true,
    },
    OpEntry {
        name: "TLSv1.2+",
        floor: Version::Tls12,
        plus_plus: false,
    },
    OpEntry {
        name: "TLSv1.2",
        floor: Version::Tls12,
        plus_plus: false,
    },
    OpEntry {
        name: "TLSv1.1++",
        floor: Version::Tls11,
        plus_plus: true,
    },
    OpEntry {
        name: "TLSv1.1+",
        floor: Version::Tls11,
        plus_plus: false,
    },
    OpEntry {
        name: "TLSv1.1",
        floor: Version::Tls11,
        plus_plus: false,
    },
    OpEntry {
        name: "TLSv1",
        floor: Version::Tls10,
        plus_plus: false,
    },
    OpEntry {
        name: "TLS1",
        floor: Version::Tls10,
        plus_plus: false,
    },
];

/// The lowest version couriertls accepts with this `TLS_PROTOCOL` value:
/// the table's entry for an exact match, TLS 1.0 for anything else.
pub fn couriertls_floor(value: &str) -> Version {
    OP_LIST
        .iter()
        .find(|e| e.name == value)
        .map_or(Version::Tls10, |e| e.floor)
}

/// What tlsmend writes into `TLS_PROTOCOL` and `TLS_STARTTLS_PROTOCOL`.
/// The table's highest floor is TLS 1.2, so modern gets `TLSv1.2++` too.
pub fn wanted_protocol(profile: Profile) -> &'static str {
    match profile {
        Profile::Modern | Profile::Intermediate => "TLSv1.2++",
        Profile::Old => "TLSv1",
    }
}

/// The floor a value must reach: the profile's, capped at the highest one
/// the table can express (TLS 1.2).
fn required_floor(profile: Profile) -> Version {
    profile.floor().min(Version::Tls12)
}

/// Why a value below the floor is weak, in couriertls's own terms.
fn explain(name: &str, value: &str, profile: Profile) -> String {
    if OP_LIST.iter().any(|e| e.name == value) {
        format!(
            "{name}={value} lets couriertls accept TLS versions below the {} profile's floor",
            profile.name()
        )
    } else {
        let names: Vec<&str> = OP_LIST.iter().map(|e| e.name).collect();
        format!(
            "couriertls matches {name} exactly against its table ({}); {value:?} is not in it, so couriertls falls back to TLS 1.0 and up",
            names.join(", ")
        )
    }
}

impl Ctx<'_> {
    pub(super) fn openssl(&mut self, profile: Profile, versions: &TargetVersions) {
        let wanted = wanted_protocol(profile);
        if profile == Profile::Modern {
            self.report.notes.push(
                "courier: modern on an OpenSSL build: couriertls's TLS_PROTOCOL table has no TLS 1.3-only entry (TLSv1.3 is not in it and means TLS 1.0 and up), so TLS_PROTOCOL gets TLSv1.2++, TLS 1.2 stays enabled and TLS_CIPHER_LIST gets the intermediate list".into(),
            );
        }
        let judge = move |v: &str| couriertls_floor(v) >= required_floor(profile);
        let explain_p = move |v: &str| explain("TLS_PROTOCOL", v, profile);
        self.var(&Var {
            rule: "courier.protocol",
            name: "TLS_PROTOCOL",
            wanted: wanted.into(),
            default_ok: profile == Profile::Old,
            judge: &judge,
            severity: Severity::High,
            reason: format!(
                "allows versions below the {} profile's floor",
                profile.name()
            ),
            explain: Some(&explain_p),
            absent_reason: "TLS_PROTOCOL is not set, so couriertls accepts TLS 1.0 and higher"
                .into(),
        });
        let follows = move |v: &str| v == "$TLS_PROTOCOL" || v == "${TLS_PROTOCOL}" || judge(v);
        let explain_s = move |v: &str| explain("TLS_STARTTLS_PROTOCOL", v, profile);
        self.var(&Var {
            rule: "courier.protocol",
            name: "TLS_STARTTLS_PROTOCOL",
            wanted: wanted.into(),
            default_ok: profile == Profile::Old,
            judge: &follows,
            severity: Severity::High,
            reason: "the STARTTLS protocol floor on port 143 is below the profile's".into(),
            explain: Some(&explain_s),
            absent_reason:
                "TLS_STARTTLS_PROTOCOL is not set, so STARTTLS on port 143 accepts TLS 1.0".into(),
        });
        // Modern keeps TLS 1.2 here (see above): its suites are intermediate's.
        let suites = if profile == Profile::Modern {
            Profile::Intermediate
        } else {
            profile
        };
        // Old on OpenSSL 3 gets @SECLEVEL=0, or OpenSSL refuses TLS 1.0/1.1.
        if let Some(list) = suites.openssl_ciphers_for(versions.openssl_release()) {
            let ok = suites.acceptable_ciphers();
            let judge = move |v: &str| cipher_list_meets(v, &ok);
            self.var(&Var {
                rule: "courier.ciphers",
                name: "TLS_CIPHER_LIST",
                wanted: list,
                default_ok: false,
                judge: &judge,
                severity: Severity::Medium,
                reason: format!(
                    "the cipher list is not limited to the {} profile's suites",
                    suites.name()
                ),
                explain: None,
                absent_reason: "TLS_CIPHER_LIST is not set, so couriertls uses its built-in TLSv1:HIGH:!LOW:!MEDIUM:!EXP:!NULL:!aNULL@STRENGTH, which includes CBC suites without forward secrecy"
                    .into(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::profile::PROFILES;

    /// Every value tlsmend can write, for every profile, is an exact entry
    /// of couriertls's table, and it meets the floor it is judged by (so a
    /// second run plans nothing).
    #[test]
    fn every_written_value_is_in_the_couriertls_table() {
        for row in &PROFILES {
            let p = row.profile;
            let w = wanted_protocol(p);
            assert!(
                OP_LIST.iter().any(|e| e.name == w),
                "{}: {w} is not in op_list",
                p.name()
            );
            assert!(couriertls_floor(w) >= required_floor(p), "{}", p.name());
        }
        assert_eq!(wanted_protocol(Profile::Intermediate), "TLSv1.2++");
        assert_eq!(wanted_protocol(Profile::Modern), "TLSv1.2++");
    }

    /// Anything not in the table, TLSv1.3 included, is TLS 1.0 and up,
    /// and so fails intermediate and modern.
    #[test]
    fn values_outside_the_table_mean_tls_1_0() {
        for v in [
            "TLSv1.3",
            "TLSv1.3++",
            "TLS1_2",
            "TLS1_3",
            "TLSv1.0",
            "tlsv1.2",
            "TLSV1.2",
            "TLSv1.2+++",
            " TLSv1.2",
            "TLSv1.2 ",
            "SSL23",
            "SSLv3",
            "",
            "TLSv1.2:TLSv1.3",
        ] {
            assert_eq!(couriertls_floor(v), Version::Tls10, "{v:?}");
            for p in [Profile::Intermediate, Profile::Modern] {
                assert!(couriertls_floor(v) < required_floor(p), "{v:?}");
            }
            assert!(explain("TLS_PROTOCOL", v, Profile::Intermediate).contains("TLS 1.0 and up"));
        }
        for (v, fl) in [
            ("TLSv1.2++", Version::Tls12),
            ("TLSv1.2+", Version::Tls12),
            ("TLSv1.2", Version::Tls12),
            ("TLSv1.1++", Version::Tls11),
            ("TLSv1.1+", Version::Tls11),
            ("TLSv1.1", Version::Tls11),
            ("TLSv1", Version::Tls10),
            ("TLS1", Version::Tls10),
        ] {
            assert_eq!(couriertls_floor(v), fl, "{v}");
        }
        assert_eq!(OP_LIST.len(), 8);
        assert!(OP_LIST.iter().filter(|e| e.plus_plus).count() == 2);
    }
}
