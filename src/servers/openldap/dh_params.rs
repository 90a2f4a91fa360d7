//! `openldap.dh-params`: the Diffie-Hellman group slapd uses for DHE key
//! exchange, from `olcTLSDHParamFile` (cn=config) or `TLSDHParamFile`
//! (slapd.conf).

use super::{DH, Surface};
use crate::catalogue::profile::Profile;
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::discover::Root;
use crate::plan::{Finding, Report, Severity};
use std::path::Path;

pub const DH_PARAMS: Rule = Rule {
    id: "openldap.dh-params",
    server: Server::Openldap,
    severity: Severity::High,
    activation: Activation::Default,
    summary: "olcTLSDHParamFile / TLSDHParamFile holds a DH group of at least 2048 bits (audit only)",
    checks: "The file olcTLSDHParamFile (TLSDHParamFile in slapd.conf) names, read as slapd reads it: a PEM DH PARAMETERS block (gnutls_dh_params_import_pkcs3 on GnuTLS builds, PEM_read_bio_DHparams on OpenSSL builds), whose prime is the group offered in DHE handshakes. A group below the profile's minimum (2048 bits for intermediate and modern, 1024 for old) is reported; a file that exists but holds no DH parameters too (a GnuTLS slapd then fails to set up TLS). Checked only when the server has a certificate; an absent setting or a missing file is not judged.",
    writes: "Nothing: audit only.",
    refuses: "Always: a new group must be generated (openssl dhparam -out FILE 3072, or certtool --generate-dh-params --sec-param high), readable by slapd; the finding says so.",
    versions: "OpenLDAP 2.4 to 2.6, linked with GnuTLS or OpenSSL.",
    sources: &[
        "slapd-config(5), olcTLSDHParamFile <https://www.openldap.org/software/man.cgi?query=slapd-config>",
        "slapd.conf(5), TLSDHParamFile <https://www.openldap.org/software/man.cgi?query=slapd.conf>",
        "RFC 7919, Negotiated Finite Field Diffie-Hellman Ephemeral Parameters <https://www.rfc-editor.org/rfc/rfc7919>",
        "Mozilla server-side TLS guidelines 6.0 (dh_param_size) <https://ssl-config.mozilla.org/guidelines/6.0.json>",
    ],
};

/// Reports a DH parameter file below the profile's minimum, or one that
/// holds no parameters.
pub(super) fn server(s: &Surface, root: &Root, profile: Profile, report: &mut Report) {
    let Some((value, line)) = (s.get)(DH) else {
        return;
    };
    let Ok(host) = root.resolve(Path::new(&value)).map(|p| root.host(&p)) else {
        return;
    };
    if value.is_empty() || !host.is_file() {
        return;
    }
    let min = profile.values().min_dh_bits;
    let mut f = Finding::new("openldap.dh-params", Severity::High, s.file, line);
    match crate::target::dh::dh_bits(&host) {
        Ok(bits) if bits >= min => return,
        Ok(bits) => {
            f.current = Some(format!("{}: {value} (a {bits}-bit DH group)", (s.name)(DH)).into());
            f.wanted = Some(format!("a DH group of at least {min} bits").into());
            f.reason = format!(
                "slapd offers this {bits}-bit group in DHE key exchanges; groups below 2048 bits are within reach of precomputation attacks (Logjam)"
            ).into();
        }
        Err(e) => {
            f.severity = Severity::Medium;
            f.current = Some(format!("{}: {value}", (s.name)(DH)).into());
            f.reason = format!("the file holds no DH parameters slapd can load ({e})").into();
        }
    }
    f.blocked = Some(format!(
        "audit only: generate a new group of at least 2048 bits (openssl dhparam -out {value} 3072), readable by slapd, then restart it"
    ));
    report.add_finding(f);
}
