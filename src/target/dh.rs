//! Diffie-Hellman parameter files, as daemons load them for DHE key
//! exchange (`TLS_DHPARAMS`, `olcTLSDHParamFile`, `SSLOpenSSLConfCmd
//! DHParameters`, ...): the size of the group. Mozilla's guidelines ask for
//! at least 2048 bits (`dh_param_size`).
//!
//! Read with OpenSSL's PEM reader, which skips other blocks, so a
//! certificate file with `DH PARAMETERS` appended (as mod_ssl reads it) is
//! read as well as a file of its own.

use std::path::Path;

/// The size in bits of the DH group (its prime p) of the first PEM
/// `DH PARAMETERS` block in the file at `path`; other PEM blocks in the file
/// are skipped, as OpenSSL and GnuTLS do.
pub fn dh_bits(path: &Path) -> Result<u32, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let dh = openssl::dh::Dh::params_from_pem(&pem)
        .map_err(|_| format!("{} holds no PEM DH parameters", path.display()))?;
    Ok(dh.prime_p().num_bits().unsigned_abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_sizes() {
        let t = tempfile::tempdir().unwrap();
        for (dh, bits) in [
            (openssl::dh::Dh::get_1024_160().unwrap(), 1024),
            (openssl::dh::Dh::get_2048_256().unwrap(), 2048),
        ] {
            let p = t.path().join(format!("dh{bits}.pem"));
            std::fs::write(&p, dh.params_to_pem().unwrap()).unwrap();
            assert_eq!(dh_bits(&p), Ok(bits));
        }
        let p = t.path().join("none.pem");
        std::fs::write(&p, "# nothing\n").unwrap();
        assert!(dh_bits(&p).unwrap_err().contains("no PEM DH parameters"));
        assert!(dh_bits(&t.path().join("gone")).is_err());
    }

    #[test]
    fn reads_the_group_size_also_after_a_certificate() {
        let t = tempfile::tempdir().unwrap();
        let dh = openssl::dh::Dh::get_2048_256().unwrap();
        let mut pem = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/certs/leaf.crt"),
        )
        .unwrap();
        pem.extend(dh.params_to_pem().unwrap());
        let p = t.path().join("cert+dh.pem");
        std::fs::write(&p, pem).unwrap();
        assert_eq!(dh_bits(&p), Ok(2048));
    }
}
