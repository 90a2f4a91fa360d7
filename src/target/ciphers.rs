//! What an OpenSSL cipher list means, judged by what it expands to rather
//! than by how it is written: `ECDHE+AESGCM:!AES128` names no suite, yet
//! enables only two, both strong.
//!
//! The expansion uses the OpenSSL library tlsmend is linked with (the host's,
//! not necessarily the target's): the list is set on a fresh context, at the
//! `@SECLEVEL` written in it (else the host's default), with TLS 1.2 as the
//! highest version, and the suites OpenSSL would offer are read back. A
//! target built against another OpenSSL may expand a keyword list
//! differently; rules that use this say so.

use crate::catalogue::profile::{Profile, cipher_list_meets};
use foreign_types::ForeignType;
use openssl::ssl::{Ssl, SslCipher, SslContextBuilder, SslMethod, SslVersion};
use openssl::stack::Stack;

unsafe extern "C" {
    // libssl, linked by openssl-sys; not bound by the openssl crates.
    fn SSL_get1_supported_ciphers(
        s: *mut openssl_sys::SSL,
    ) -> *mut openssl_sys::stack_st_SSL_CIPHER;
}

/// The TLS 1.2-and-below suites (OpenSSL names) that `list` enables, in
/// OpenSSL's order; `Err` when OpenSSL rejects the whole list.
///
/// Remembered per list for the life of the process: a hosting tree repeats
/// the same few lists in thousands of virtual hosts, and a fresh OpenSSL
/// context for each costs more than reading the whole tree.
pub fn expand(list: &str) -> Result<Vec<String>, String> {
    static SEEN: std::sync::Mutex<Option<ExpandCache>> = std::sync::Mutex::new(None);
    if let Some(hit) = SEEN
        .lock()
        .ok()
        .and_then(|c| c.as_ref().and_then(|c| c.get(list).cloned()))
    {
        return hit;
    }
    let got = expand_uncached(list);
    if let Ok(mut c) = SEEN.lock() {
        c.get_or_insert_with(Default::default)
            .insert(list.to_string(), got.clone());
    }
    got
}

type ExpandCache = std::collections::HashMap<String, Result<Vec<String>, String>>;

fn expand_uncached(list: &str) -> Result<Vec<String>, String> {
    let err = |e: openssl::error::ErrorStack| e.to_string();
    let mut b = SslContextBuilder::new(SslMethod::tls()).map_err(err)?;
    b.set_max_proto_version(Some(SslVersion::TLS1_2))
        .map_err(err)?;
    b.set_cipher_list(list).map_err(|e| {
        format!(
            "OpenSSL rejects it ({})",
            e.errors()
                .first()
                .and_then(|x| x.reason())
                .unwrap_or("no cipher match")
        )
    })?;
    let ctx = b.build();
    let ssl = Ssl::new(&ctx).map_err(err)?;
    // SAFETY: `ssl` is a valid SSL for the whole call; the function returns
    // a new stack (or NULL) that the caller owns and frees with
    // sk_SSL_CIPHER_free, which `Stack`'s Drop does. The ciphers in it are
    // static tables of libssl: `SslCipher` never frees them.
    let names = unsafe {
        let p = SSL_get1_supported_ciphers(ssl.as_ptr());
        if p.is_null() {
            return Ok(Vec::new());
        }
        let stack: Stack<SslCipher> = Stack::from_ptr(p);
        stack
            .iter()
            .map(|c| c.name().to_string())
            .filter(|n| !n.starts_with("TLS_"))
            .collect()
    };
    Ok(names)
}

/// How an OpenSSL cipher list (TLS 1.2 and below) compares with a profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every suite it enables is one the profile accepts.
    Meets,
    /// `PROFILE=SYSTEM` (RHEL/Fedora crypto-policies) or `@SYSTEM`: the
    /// system policy decides, and its levels meet the profile.
    SystemPolicy,
    /// It enables suites outside the profile (named), or `@SECLEVEL=0`
    /// where the profile does not need it.
    Weaker { outside: Vec<String>, why: String },
    /// OpenSSL rejects it entirely: the daemon cannot use it.
    Broken(String),
}

/// Whether `list` is a hand-over to the system's crypto policy.
pub fn is_system_policy(list: &str) -> bool {
    let first = list.split([':', ',', ' ']).next().unwrap_or("").trim();
    first.eq_ignore_ascii_case("PROFILE=SYSTEM") || first.eq_ignore_ascii_case("@SYSTEM")
}

/// Judges `list` against `profile`'s acceptable suites by its expansion.
/// Remembered like `expand` (thousands of virtual hosts, a few lists), and
/// shared: a verdict names up to dozens of suites, which each virtual host
/// would otherwise copy.
pub fn judge(list: &str, profile: Profile) -> std::sync::Arc<Verdict> {
    type Judged = rustc_hash::FxHashMap<Profile, rustc_hash::FxHashMap<String, Arc<Verdict>>>;
    use std::sync::Arc;
    static SEEN: std::sync::Mutex<Option<Judged>> = std::sync::Mutex::new(None);
    if let Some(hit) = SEEN
        .lock()
        .ok()
        .and_then(|c| c.as_ref().and_then(|c| c.get(&profile)?.get(list).cloned()))
    {
        return hit;
    }
    let got = Arc::new(judge_uncached(list, profile));
    // Two threads may judge the same list at once: the first verdict kept
    // is the one every caller gets.
    match SEEN.lock() {
        Ok(mut c) => c
            .get_or_insert_with(Default::default)
            .entry(profile)
            .or_default()
            .entry(list.to_string())
            .or_insert(got)
            .clone(),
        Err(_) => got,
    }
}

fn judge_uncached(list: &str, profile: Profile) -> Verdict {
    if is_system_policy(list) {
        return Verdict::SystemPolicy;
    }
    let acceptable = profile.acceptable_ciphers();
    let seclevel0 = list
        .split([':', ',', ' '])
        .any(|e| e.trim().eq_ignore_ascii_case("@SECLEVEL=0"));
    if seclevel0 && !profile.values().needs_seclevel_0_on_openssl3 {
        return Verdict::Weaker {
            outside: Vec::new(),
            why: "@SECLEVEL=0 switches off OpenSSL's own floor (small keys and DH groups, SHA-1 signatures, TLS 1.0/1.1), which only the old profile needs".into(),
        };
    }
    match expand(list) {
        Ok(suites) if suites.is_empty() => Verdict::Broken("it enables no TLS 1.2 suite".into()),
        Ok(suites) => {
            let outside: Vec<String> = suites
                .iter()
                .filter(|s| !acceptable.contains(&s.as_str()))
                .cloned()
                .collect();
            if outside.is_empty() {
                Verdict::Meets
            } else {
                let why = format!(
                    "it enables {} suite(s) outside the {} profile: {}",
                    outside.len(),
                    profile.name(),
                    outside.join(":")
                );
                Verdict::Weaker { outside, why }
            }
        }
        // Names this OpenSSL does not know may be known to the target's:
        // judged by name, a list of acceptable names still meets.
        Err(_) if cipher_list_meets(list, &acceptable) => Verdict::Meets,
        Err(e) => Verdict::Broken(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::profile::{INTERMEDIATE_CIPHERS, MOZILLA_57_DHE, OLD_CIPHERS};

    /// The verdict itself, for comparing.
    fn judge(list: &str, profile: Profile) -> Verdict {
        (*super::judge(list, profile)).clone()
    }

    /// A list judged again gets the verdict judged first, shared, not a
    /// copy; the same list under another profile is judged apart.
    #[test]
    fn verdicts_are_shared() {
        let list = "ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA";
        let first = super::judge(list, Profile::Intermediate);
        assert!(std::sync::Arc::ptr_eq(
            &first,
            &super::judge(list, Profile::Intermediate)
        ));
        assert!(matches!(*first, Verdict::Weaker { .. }));
        let old = super::judge(list, Profile::Old);
        assert!(!std::sync::Arc::ptr_eq(&first, &old));
    }

    #[test]
    fn keyword_lists_are_judged_by_their_expansion() {
        let p = Profile::Intermediate;
        assert_eq!(judge(INTERMEDIATE_CIPHERS, p), Verdict::Meets);
        assert_eq!(
            judge(&format!("{INTERMEDIATE_CIPHERS}:{MOZILLA_57_DHE}"), p),
            Verdict::Meets
        );
        // Stricter than the profile: two suites, both in it.
        assert_eq!(
            expand("ECDHE+AESGCM:!AES128").unwrap(),
            [
                "ECDHE-ECDSA-AES256-GCM-SHA384",
                "ECDHE-RSA-AES256-GCM-SHA384"
            ]
        );
        assert_eq!(judge("ECDHE+AESGCM:!AES128", p), Verdict::Meets);
        assert_eq!(judge("ECDHE+AESGCM", p), Verdict::Meets);
        assert!(matches!(
            judge("HIGH:!aNULL:!MD5", p),
            Verdict::Weaker { .. }
        ));
        assert!(matches!(
            judge("ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA", p),
            Verdict::Weaker { outside, .. } if outside == ["AES128-SHA"]
        ));
        assert!(matches!(
            judge(&format!("{INTERMEDIATE_CIPHERS}:@SECLEVEL=0"), p),
            Verdict::Weaker { .. }
        ));
        assert_eq!(
            judge(&format!("{OLD_CIPHERS}:@SECLEVEL=0"), Profile::Old),
            Verdict::Meets
        );
        assert_eq!(judge("PROFILE=SYSTEM", p), Verdict::SystemPolicy);
        assert_eq!(judge("@SYSTEM", p), Verdict::SystemPolicy);
        assert!(matches!(
            judge("NOSUCHCIPHER:ALSONOT", p),
            Verdict::Broken(_)
        ));
    }
}
