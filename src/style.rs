//! The look of a line tlsmend writes: its neighbours' indentation, the
//! file's directive-name case and line ending.

/// `canonical` spelled in the case of `sample` (a name already in the file):
/// all-lowercase and all-uppercase files keep their convention.
pub fn name_case(canonical: &str, sample: &[u8]) -> String {
    let letters: Vec<u8> = sample
        .iter()
        .copied()
        .filter(u8::is_ascii_alphabetic)
        .collect();
    if letters.len() > 1 && letters.iter().all(u8::is_ascii_lowercase) {
        canonical.to_ascii_lowercase()
    } else if letters.len() > 1 && letters.iter().all(u8::is_ascii_uppercase) {
        canonical.to_ascii_uppercase()
    } else {
        canonical.to_string()
    }
}

/// One more level of indentation after `indent`: a tab where the file
/// indents with tabs, four spaces otherwise.
pub fn deeper(indent: &[u8]) -> Vec<u8> {
    let mut v = indent.to_vec();
    if indent.contains(&b'\t') {
        v.push(b'\t');
    } else {
        v.extend_from_slice(b"    ");
    }
    v
}

/// `indent + text + eol`.
pub fn line(indent: &[u8], text: &str, eol: &[u8]) -> Vec<u8> {
    let mut v = indent.to_vec();
    v.extend_from_slice(text.as_bytes());
    v.extend_from_slice(eol);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_follows_the_file() {
        assert_eq!(name_case("SSLProtocol", b"sslengine"), "sslprotocol");
        assert_eq!(name_case("SSLProtocol", b"SSLENGINE"), "SSLPROTOCOL");
        assert_eq!(name_case("SSLProtocol", b"SSLEngine"), "SSLProtocol");
        assert_eq!(deeper(b"\t"), b"\t\t");
        assert_eq!(deeper(b"  "), b"      ");
    }
}
