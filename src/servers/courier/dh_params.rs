//! `courier.dh-params`: the Diffie-Hellman group couriertls uses for DHE
//! key exchange, read from `TLS_DHPARAMS` (both TLS libraries read it).

use super::Ctx;
use crate::catalogue::profile::Profile;
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::plan::Severity;
use std::path::Path;

pub const DH_PARAMS: Rule = Rule {
    id: "courier.dh-params",
    server: Server::Courier,
    severity: Severity::High,
    activation: Activation::Default,
    summary: "TLS_DHPARAMS holds a DH group of at least 2048 bits (audit only)",
    checks: "The file TLS_DHPARAMS names (last assignment wins), read as couriertls reads it: the PEM DH PARAMETERS block, whose prime is the group couriertls offers in every DHE handshake (libcouriertls.c load_dh_params on OpenSSL builds, the dhfile of libcouriergnutls.c on GnuTLS builds). A group below the profile's minimum (2048 bits for intermediate and modern, 1024 for old) is reported; a file that exists but holds no DH parameters is reported too. An absent setting or a missing file is not judged.",
    writes: "Nothing: audit only.",
    refuses: "Always: a new group must be generated (Courier's mkdhparams, or openssl dhparam -out FILE 3072), which takes time and belongs to the administrator; the finding says so.",
    versions: "Courier IMAP 4.x and 5.x with either TLS library (the GnuTLS priority string written for intermediate leaves DHE out, but the file is still loaded, and old and existing strings may allow DHE).",
    sources: &[
        "courier-libs tcpd/libcouriertls.c (OpenSSL build) <https://github.com/svarshavchik/courier-libs/blob/master/tcpd/libcouriertls.c>",
        "courier-libs tcpd/libcouriergnutls.c (GnuTLS build) <https://github.com/svarshavchik/courier-libs/blob/master/tcpd/libcouriergnutls.c>",
        "RFC 7919, Negotiated Finite Field Diffie-Hellman Ephemeral Parameters <https://www.rfc-editor.org/rfc/rfc7919>",
        "Mozilla server-side TLS guidelines 6.0 (dh_param_size) <https://ssl-config.mozilla.org/guidelines/6.0.json>",
        "Imperfect Forward Secrecy (Logjam), 2015 <https://weakdh.org/>",
    ],
};

impl Ctx<'_> {
    pub(super) fn dh_params(&mut self, profile: Profile) {
        let Some((f, at, value)) = self
            .cfg
            .assignments("TLS_DHPARAMS")
            .last()
            .and_then(|&(f, a)| Some((f, a.name.start(), self.cfg.value_of(f, a)?)))
        else {
            return;
        };
        let Ok(host) = self
            .root
            .resolve(Path::new(&value))
            .map(|p| self.root.host(&p))
        else {
            return;
        };
        if value.is_empty() || !host.is_file() {
            return;
        }
        let min = profile.values().min_dh_bits;
        let mut finding = self.finding("courier.dh-params", Severity::High, f, at);
        match crate::target::dh::dh_bits(&host) {
            Ok(bits) if bits >= min => return,
            Ok(bits) => {
                finding.current = Some(format!("{value}: a {bits}-bit DH group").into());
                finding.wanted = Some(format!("a DH group of at least {min} bits").into());
                finding.reason = format!(
                    "couriertls offers this {bits}-bit group in every DHE key exchange; groups below 2048 bits are within reach of precomputation attacks (Logjam)"
                ).into();
            }
            Err(e) => {
                finding.severity = Severity::Medium;
                finding.current = Some(value.clone().into());
                finding.reason = format!(
                    "TLS_DHPARAMS names a file that holds no DH parameters couriertls can load ({e})"
                ).into();
            }
        }
        finding.blocked = Some(format!(
            "audit only: generate a new group of at least 2048 bits (Courier's mkdhparams, or openssl dhparam -out {value} 3072), then restart Courier"
        ));
        self.push(finding, None);
    }
}
