//! What tlsmend needs to know about a certificate: the kind and size of its
//! public key, and whether it names an OCSP responder.
//!
//! A small, bounds-checked DER reader over the first `CERTIFICATE` block of a
//! PEM file (Courier's files hold key and certificate together). It reads
//! only the fields named here and never trusts a length it was given.

use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyKind {
    Rsa,
    Ec,
    Ed25519,
    Ed448,
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    pub key: KeyKind,
    pub bits: u32,
    pub ocsp_responder: Option<String>,
    /// Issuer and subject are the same name.
    pub self_signed: bool,
    /// How many certificates the file holds (a chain has more than one).
    pub certificates: usize,
}

impl CertInfo {
    /// True when the key is below 2048 bits RSA or 256 bits EC.
    pub fn is_weak(&self) -> bool {
        match self.key {
            KeyKind::Rsa => self.bits < 2048,
            KeyKind::Ec => self.bits < 256,
            _ => false,
        }
    }
    pub fn describe(&self) -> String {
        match &self.key {
            KeyKind::Rsa => format!("RSA {} bits", self.bits),
            KeyKind::Ec => format!("EC {} bits", self.bits),
            KeyKind::Ed25519 => "Ed25519".into(),
            KeyKind::Ed448 => "Ed448".into(),
            KeyKind::Other(oid) => format!("key algorithm {oid}"),
        }
    }
}

#[derive(Debug)]
pub enum CertError {
    Unreadable(std::io::Error),
    NoCertificate,
    Malformed(&'static str),
}

impl std::fmt::Display for CertError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CertError::Unreadable(e) => write!(f, "cannot read it: {e}"),
            CertError::NoCertificate => f.write_str("it holds no PEM CERTIFICATE block"),
            CertError::Malformed(what) => write!(f, "its certificate is malformed ({what})"),
        }
    }
}

/// Reads the certificate file `path`. A file read well before is not read
/// (nor even `stat`ed) again in the same process: a hosting tree names the
/// same few certificates in thousands of virtual hosts, several rules look
/// at each, and tlsmend never writes a certificate, so one run sees one
/// state of each. A file that could not be read is tried again. Paths are
/// told apart by their bytes ([`crate::discover::ByPath`]): a file named
/// two ways is read twice, never taken for another.
pub fn read(path: &Path) -> Result<CertInfo, CertError> {
    type Seen = crate::discover::ByPath<CertInfo>;
    static SEEN: std::sync::Mutex<Option<Seen>> = std::sync::Mutex::new(None);
    if let Some(hit) = SEEN
        .lock()
        .ok()
        .and_then(|c| c.as_ref().and_then(|c| c.get(path.as_os_str()).cloned()))
    {
        return Ok(hit);
    }
    let bytes = std::fs::read(path).map_err(CertError::Unreadable)?;
    let info = parse_pem(&bytes)?;
    if let Ok(mut c) = SEEN.lock() {
        c.get_or_insert_with(Default::default)
            .insert(path.as_os_str().to_owned(), info.clone());
    }
    Ok(info)
}

pub fn parse_pem(pem: &[u8]) -> Result<CertInfo, CertError> {
    let der = pem_block(pem, "CERTIFICATE").ok_or(CertError::NoCertificate)?;
    let mut info = parse_der(&der).map_err(CertError::Malformed)?;
    info.certificates = String::from_utf8_lossy(pem)
        .matches("-----BEGIN CERTIFICATE-----")
        .count();
    Ok(info)
}

fn pem_block(pem: &[u8], label: &str) -> Option<Vec<u8>> {
    let text = String::from_utf8_lossy(pem);
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text[start..].find(&end)?;
    base64_decode(&text[start..stop])
}

pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut acc, mut n) = (0u32, 0);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            b if b.is_ascii_whitespace() => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((acc >> n) as u8);
        }
    }
    Some(out)
}

/// One DER element: tag, content.
struct Tlv<'a> {
    tag: u8,
    body: &'a [u8],
}

fn tlv(b: &[u8]) -> Result<(Tlv<'_>, &[u8]), &'static str> {
    let tag = *b.first().ok_or("truncated")?;
    let first = *b.get(1).ok_or("truncated")?;
    let (len, head) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            return Err("unsupported length");
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *b.get(2 + i).ok_or("truncated")? as usize;
        }
        (len, 2 + n)
    };
    let end = head.checked_add(len).ok_or("length overflow")?;
    let body = b.get(head..end).ok_or("truncated")?;
    Ok((Tlv { tag, body }, &b[end..]))
}

fn children(b: &[u8]) -> Result<Vec<Tlv<'_>>, &'static str> {
    let mut out = Vec::new();
    let mut rest = b;
    while !rest.is_empty() {
        let (t, r) = tlv(rest)?;
        out.push(t);
        rest = r;
    }
    Ok(out)
}

fn oid_string(b: &[u8]) -> String {
    let mut parts = Vec::new();
    if let Some(&f) = b.first() {
        parts.push((f / 40) as u64);
        parts.push((f % 40) as u64);
    }
    let mut v: u64 = 0;
    for &c in b.iter().skip(1) {
        v = (v << 7) | u64::from(c & 0x7f);
        if c & 0x80 == 0 {
            parts.push(v);
            v = 0;
        }
    }
    parts
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(".")
}

fn integer_bits(b: &[u8]) -> u32 {
    let b = match b.iter().position(|&x| x != 0) {
        Some(p) => &b[p..],
        None => return 0,
    };
    (b.len() as u32 - 1) * 8 + (8 - b[0].leading_zeros())
}

fn parse_der(der: &[u8]) -> Result<CertInfo, &'static str> {
    let (cert, _) = tlv(der)?;
    let parts = children(cert.body)?;
    let tbs = parts.first().ok_or("no tbsCertificate")?;
    let fields = children(tbs.body)?;
    // [0] version is optional; then serial, signature, issuer, validity, subject, spki
    let skip = usize::from(fields.first().map(|f| f.tag) == Some(0xa0));
    let issuer = fields.get(skip + 2).ok_or("no issuer")?;
    let subject = fields.get(skip + 4).ok_or("no subject")?;
    let self_signed = issuer.body == subject.body;
    let spki = fields.get(skip + 5).ok_or("no subjectPublicKeyInfo")?;
    let spki_parts = children(spki.body)?;
    let alg = children(spki_parts.first().ok_or("no algorithm")?.body)?;
    let alg_oid = oid_string(alg.first().ok_or("no algorithm oid")?.body);
    let key_bits = spki_parts.get(1).ok_or("no key")?.body;
    let (key, bits) = match alg_oid.as_str() {
        "1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.10" => {
            let inner = key_bits.get(1..).ok_or("empty key")?; // skip unused-bits byte
            let (seq, _) = tlv(inner)?;
            let ints = children(seq.body)?;
            (
                KeyKind::Rsa,
                integer_bits(ints.first().ok_or("no modulus")?.body),
            )
        }
        "1.2.840.10045.2.1" => {
            let curve = alg.get(1).map(|c| oid_string(c.body)).unwrap_or_default();
            let bits = match curve.as_str() {
                "1.2.840.10045.3.1.7" => 256,
                "1.3.132.0.34" => 384,
                "1.3.132.0.35" => 521,
                "1.3.132.0.33" => 224,
                "1.2.840.10045.3.1.1" => 192,
                _ => 0,
            };
            (KeyKind::Ec, bits)
        }
        "1.3.101.112" => (KeyKind::Ed25519, 256),
        "1.3.101.113" => (KeyKind::Ed448, 456),
        other => (KeyKind::Other(other.to_string()), 0),
    };
    let mut ocsp_responder = None;
    if let Some(ext) = fields.iter().find(|f| f.tag == 0xa3) {
        let (seq, _) = tlv(ext.body)?;
        for e in children(seq.body)? {
            let e = children(e.body)?;
            if e.first().map(|o| oid_string(o.body)).as_deref() != Some("1.3.6.1.5.5.7.1.1") {
                continue;
            }
            let value = e.last().ok_or("empty extension")?;
            let (aia, _) = tlv(value.body)?;
            for desc in children(aia.body)? {
                let d = children(desc.body)?;
                if d.first().map(|o| oid_string(o.body)).as_deref() == Some("1.3.6.1.5.5.7.48.1")
                    && let Some(name) = d.get(1).filter(|n| n.tag == 0x86)
                {
                    ocsp_responder = Some(String::from_utf8_lossy(name.body).into_owned());
                }
            }
        }
    }
    Ok(CertInfo {
        key,
        bits,
        ocsp_responder,
        self_signed,
        certificates: 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round() {
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert!(base64_decode("a$b").is_none());
    }

    #[test]
    fn integer_bit_length() {
        assert_eq!(integer_bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(integer_bits(&[0x01]), 1);
    }

    #[test]
    fn garbage_does_not_panic() {
        for b in [
            &b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"[..],
            b"",
            b"xx",
        ] {
            assert!(parse_pem(b).is_err());
        }
    }
}

#[cfg(test)]
mod fixture_tests {
    use super::*;

    fn fixture(name: &str) -> CertInfo {
        read(
            &Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/certs")
                .join(name),
        )
        .unwrap()
    }

    #[test]
    fn reads_key_sizes_made_by_openssl() {
        let rsa = fixture("rsa2048.crt");
        assert_eq!(
            (
                rsa.key,
                rsa.bits,
                rsa.ocsp_responder,
                rsa.self_signed,
                rsa.certificates
            ),
            (KeyKind::Rsa, 2048, None, true, 1)
        );
        let weak = fixture("rsa1024.crt");
        assert_eq!(weak.bits, 1024);
        assert!(weak.is_weak());
        let ec = fixture("ec256.crt");
        assert_eq!((ec.key, ec.bits), (KeyKind::Ec, 256));
    }

    #[test]
    fn tells_a_chain_from_a_self_signed_certificate() {
        let leaf = fixture("leaf-chain.pem");
        assert!(!leaf.self_signed);
        assert_eq!(leaf.certificates, 2);
        assert!(fixture("ocsp.crt").self_signed);
    }

    #[test]
    fn reads_the_ocsp_responder() {
        assert_eq!(
            fixture("ocsp.crt").ocsp_responder.as_deref(),
            Some("http://ocsp.example.test/")
        );
    }
}
