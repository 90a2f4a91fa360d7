//! Diffie-Hellman parameter files: the size of the group they hold.
//!
//! Read with OpenSSL's PEM reader, which skips other blocks, so a
//! certificate file with `DH PARAMETERS` appended (as mod_ssl reads it) is
//! read as well as a file of its own.

use std::path::Path;

/// The size in bits of the prime of the first `DH PARAMETERS` block in the
/// PEM file at `path`.
pub fn dh_bits(path: &Path) -> Result<u32, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let dh = openssl::dh::Dh::params_from_pem(&pem)
        .map_err(|_| format!("{} holds no PEM DH PARAMETERS", path.display()))?;
    Ok(dh.prime_p().num_bits() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let none = t.path().join("none.pem");
        std::fs::write(&none, b"nothing").unwrap();
        assert!(dh_bits(&none).unwrap_err().contains("no PEM DH PARAMETERS"));
    }
}
