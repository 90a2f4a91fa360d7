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
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.chars().map(char_shown).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

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
