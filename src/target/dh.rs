//! Diffie-Hellman parameter files, as daemons read them (Postfix
//! `smtpd_tls_dh1024_param_file`, Apache `SSLOpenSSLConfCmd DHParameters` or
//! a block appended to the certificate, Courier `TLS_DHPARAMS`, OpenLDAP
//! `olcTLSDHParamFile`): how many bits the group's prime has. DHE needs at
//! least 2048 (Mozilla `dh_param_size`); tutorials' files often hold 1024.

use std::path::Path;

/// The size in bits of the prime of the first DH parameters block in the
/// PEM file at `path` (other blocks, such as a certificate before it, are
/// skipped).
pub fn dh_bits(path: &Path) -> Result<u32, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    dh_bits_pem(&bytes)
}

/// [`dh_bits`] on the bytes of a PEM file.
pub fn dh_bits_pem(pem: &[u8]) -> Result<u32, String> {
    // "DH PARAMETERS" and "X9.42 DH PARAMETERS" both count.
    let start = find(pem, b"-----BEGIN ")
        .into_iter()
        .find(|&at| {
            let line = pem[at..].split(|&b| b == b'\n').next().unwrap_or(&[]);
            !find(line, b"DH PARAMETERS-----").is_empty()
        })
        .ok_or("no DH PARAMETERS block")?;
    let dh = openssl::dh::Dh::params_from_pem(&pem[start..])
        .map_err(|e| format!("DH parameters cannot be read: {e}"))?;
    Ok(dh.prime_p().num_bits() as u32)
}

/// Every offset where `needle` starts in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Vec<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return Vec::new();
    }
    (0..=hay.len() - needle.len())
        .filter(|&i| &hay[i..i + needle.len()] == needle)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prime_size_is_read() {
        // RFC 5114's 1024-bit group: the size old tutorials generate.
        let pem = openssl::dh::Dh::get_1024_160()
            .unwrap()
            .params_to_pem()
            .unwrap();
        assert_eq!(dh_bits_pem(&pem), Ok(1024));
        let big = openssl::dh::Dh::get_2048_256()
            .unwrap()
            .params_to_pem()
            .unwrap();
        assert_eq!(dh_bits_pem(&big), Ok(2048));
        // After a certificate, as Apache allows.
        let mut both = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".to_vec();
        both.extend_from_slice(&pem);
        assert_eq!(dh_bits_pem(&both), Ok(1024));
        assert!(dh_bits_pem(b"not a pem").is_err());
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("dh.pem");
        std::fs::write(&p, &pem).unwrap();
        assert_eq!(dh_bits(&p), Ok(1024));
        assert!(dh_bits(&dir.path().join("missing")).is_err());
    }
}
