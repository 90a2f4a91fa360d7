//! Text from configuration files made safe for a terminal: control bytes
//! (ESC, CR, BEL, C1 controls) and bidirectional overrides are shown as
//! escapes, so a comment cannot rewrite the screen or reorder what is shown.
//! Tabs stay tabs. Only what is *shown* is escaped: the `--dry-run` diff
//! and the files written stay byte-exact.

use std::borrow::Cow;

/// Whether a character must not reach a terminal raw.
fn unsafe_char(c: char) -> bool {
    (c.is_control() && c != '\t' && c != '\n')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// [`unsafe_char`] for an ASCII byte.
fn unsafe_ascii(b: u8) -> bool {
    (b < 0x20 && b != b'\t' && b != b'\n') || b == 0x7f
}

/// One character as shown: itself, or an escape such as `\x1b` or `\u{202e}`.
pub fn char_shown(c: char) -> Cow<'static, str> {
    if !unsafe_char(c) {
        return Cow::Owned(c.to_string());
    }
    match c {
        '\r' => Cow::Borrowed("\\r"),
        c if (c as u32) < 0x100 => Cow::Owned(format!("\\x{:02x}", c as u32)),
        c => Cow::Owned(format!("\\u{{{:x}}}", c as u32)),
    }
}

/// `s` with every unsafe character escaped (newlines kept).
pub fn visible(s: &str) -> Cow<'_, str> {
    // ASCII (the usual case, and a 700 kB summary line at 10,000 sites)
    // is read a block of bytes at a time, without stopping inside a block
    // (which lets the compiler test many bytes at once): its only unsafe
    // characters are the C0 controls and DEL.
    let unsafe_in = |block: &[u8]| block.iter().fold(false, |any, &b| any | unsafe_ascii(b));
    if s.is_ascii() && !s.as_bytes().chunks(256).any(unsafe_in) {
        return Cow::Borrowed(s);
    }
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.chars().map(char_shown).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ascii_byte_is_unsafe_as_its_character_is() {
        for b in 0..=0x7fu8 {
            assert_eq!(unsafe_ascii(b), unsafe_char(char::from(b)), "{b:#x}");
            let s = format!("ab{}cd", char::from(b));
            assert_eq!(
                matches!(visible(&s), Cow::Borrowed(_)),
                !unsafe_char(char::from(b)),
                "{b:#x}"
            );
        }
    }

    /// A control byte is found in any block of a long line, and escaped.
    #[test]
    fn a_control_byte_deep_in_a_long_ascii_line_is_escaped() {
        for at in [0, 255, 256, 300, 511, 512, 999] {
            let mut s = "x".repeat(1000);
            s.replace_range(at..at + 1, "\x1b");
            let shown = visible(&s);
            assert_eq!(shown.len(), 1003, "{at}");
            assert_eq!(&shown[at..at + 4], "\\x1b", "{at}");
        }
        assert!(matches!(visible(&"x".repeat(1000)), Cow::Borrowed(_)));
    }

    #[test]
    fn escapes_controls_keeps_text() {
        assert_eq!(visible("SSLProtocol all"), "SSLProtocol all");
        assert_eq!(visible("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(visible("x\ry\u{7}"), "x\\ry\\x07");
        assert_eq!(visible("\u{9b}"), "\\x9b");
        assert_eq!(visible("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(visible("tab\tok\n"), "tab\tok\n");
        assert_eq!(visible("Zürich"), "Zürich");
    }
}
