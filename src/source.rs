//! A configuration file's bytes, byte spans into them, and parse errors that
//! point at a line and column.
//!
//! Every syntax tree in `crate::syntax` holds [`Span`]s into one [`Source`];
//! nothing is copied out of the file until a value is asked for, so printing an
//! untouched file is returning its bytes.

use std::fmt;
use std::path::{Path, PathBuf};

/// A half-open byte range `start..end` into a source file.
///
/// Held as two 32-bit offsets: a tree of 10,000 sites holds millions of
/// spans, and no file tlsmend reads is larger than [`MAX_FILE`] (a larger
/// one is refused when it is read, before any span into it is made).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    start: u32,
    end: u32,
}

/// The largest file a [`Span`] can point into.
pub const MAX_FILE: usize = u32::MAX as usize;

/// `at` as a span offset; larger files are refused before they are parsed.
fn offset(at: usize) -> u32 {
    u32::try_from(at).expect("files larger than source::MAX_FILE are refused when read")
}

impl Span {
    /// The empty span at `u32::MAX`: never a section's or a line's (each
    /// holds a byte), so a marker for "none" where an `Option<Span>` would
    /// take 12 bytes instead of 8.
    pub const MAX: Span = Span {
        start: u32::MAX,
        end: u32::MAX,
    };
    pub fn new(start: usize, end: usize) -> Self {
        debug_assert!(start <= end);
        Span {
            start: offset(start),
            end: offset(end),
        }
    }
    pub fn empty(at: usize) -> Self {
        Span::new(at, at)
    }
    pub fn start(&self) -> usize {
        self.start as usize
    }
    pub fn end(&self) -> usize {
        self.end as usize
    }
    pub fn len(&self) -> usize {
        self.end() - self.start()
    }
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
    pub fn slice<'a>(&self, bytes: &'a [u8]) -> &'a [u8] {
        &bytes[self.start()..self.end()]
    }
}

/// One file as read from disk: where it was found (the path shown to users)
/// and every byte of it.
#[derive(Clone, Debug)]
pub struct Source {
    pub path: PathBuf,
    /// Shared, not copied, with whatever else holds the same bytes (the
    /// planned bytes a second plan reads through an overlay root).
    pub bytes: std::sync::Arc<[u8]>,
    /// Offsets where lines start, computed on first use.
    line_starts: std::sync::OnceLock<Vec<u32>>,
    line_ending: std::sync::OnceLock<&'static [u8]>,
}

impl Source {
    pub fn new(path: impl Into<PathBuf>, bytes: impl Into<std::sync::Arc<[u8]>>) -> Self {
        Source {
            path: path.into(),
            bytes: bytes.into(),
            line_starts: std::sync::OnceLock::new(),
            line_ending: std::sync::OnceLock::new(),
        }
    }

    pub fn text(&self, span: Span) -> String {
        String::from_utf8_lossy(span.slice(&self.bytes)).into_owned()
    }

    /// 1-based line and column (in bytes) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        // 32-bit and sized exactly: a report holds one per file it names.
        // (No file past 4 GiB is parsed, so no line of one is asked for.)
        let starts = self.line_starts.get_or_init(|| {
            let newlines = || memchr::memchr_iter(b'\n', &self.bytes);
            let mut starts = Vec::with_capacity(newlines().count() + 1);
            starts.push(0);
            starts.extend(newlines().map(|i| u32::try_from(i + 1).unwrap_or(u32::MAX)));
            starts
        });
        let offset = offset.min(self.bytes.len());
        let line = starts.partition_point(|&s| s as usize <= offset);
        (line, offset - starts[line - 1] as usize + 1)
    }

    pub fn line_of(&self, offset: usize) -> usize {
        self.line_col(offset).0
    }

    /// The line ending this file mostly uses; `\n` for a file with none.
    pub fn line_ending(&self) -> &'static [u8] {
        self.line_ending.get_or_init(|| {
            // Most files hold no CR at all: one scan says so.
            if memchr::memchr(b'\r', &self.bytes).is_none() {
                return b"\n";
            }
            let (mut lf, mut crlf) = (0, 0);
            for i in memchr::memchr_iter(b'\n', &self.bytes) {
                lf += 1;
                crlf += usize::from(i > 0 && self.bytes[i - 1] == b'\r');
            }
            if crlf * 2 > lf { b"\r\n" } else { b"\n" }
        })
    }
}

pub fn line_col(bytes: &[u8], offset: usize) -> (usize, usize) {
    let offset = offset.min(bytes.len());
    let before = &bytes[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    (line, offset - line_start + 1)
}

/// A file that could not be parsed: what is wrong and where.
#[derive(Debug, Clone)]
pub struct ParseError {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
    /// The offending line, lossily decoded, without its line ending.
    pub excerpt: String,
}

impl ParseError {
    pub fn at(path: &Path, bytes: &[u8], offset: usize, message: impl Into<String>) -> Self {
        let (line, column) = line_col(bytes, offset);
        let start = offset.min(bytes.len()) + 1 - column;
        let end = bytes[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |p| start + p);
        let excerpt = String::from_utf8_lossy(&bytes[start..end])
            .trim_end_matches('\r')
            .to_string();
        // A password on the line, or a line of a private key, is not shown.
        let excerpt = crate::redact::line_in(bytes, start, &excerpt);
        ParseError {
            path: path.to_path_buf(),
            line,
            column,
            message: message.into(),
            excerpt,
        }
    }
}

/// Refuses a file too large for a [`Span`] into it: every parser asks this
/// before it makes one.
pub fn fits(path: &Path, bytes: &[u8]) -> Result<(), ParseError> {
    too_large(path, bytes.len()).map_or(Ok(()), Err)
}

fn too_large(path: &Path, len: usize) -> Option<ParseError> {
    (len > MAX_FILE).then(|| ParseError {
        path: path.to_path_buf(),
        line: 1,
        column: 1,
        message: format!(
            "this file is {len} bytes, larger than the 4 GiB tlsmend can read; it is not a configuration file tlsmend can edit, so leave it out of the tree (or --root) it reads"
        ),
        excerpt: String::new(),
    })
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}:{}:{}: {}",
            self.path.display(),
            self.line,
            self.column,
            self.message
        )?;
        // Control bytes of the file are shown escaped, and the caret still
        // points under the right character.
        writeln!(f, "  | {}", crate::output::escape::visible(&self.excerpt))?;
        let pad: String = self
            .excerpt
            .chars()
            .take(self.column.saturating_sub(1))
            .map(|c| match c {
                '\t' => "\t".to_string(),
                c => " ".repeat(crate::output::escape::char_shown(c).chars().count()),
            })
            .collect();
        write!(f, "  | {pad}^")
    }
}

impl std::error::Error for ParseError {}

#[cfg(test)]
mod tests {
    use super::*;

    /// The line ending a file mostly uses, with and without a CR anywhere.
    #[test]
    fn the_line_ending_is_the_one_most_lines_use() {
        for (text, eol) in [
            ("", "\n"),
            ("no ending", "\n"),
            ("a\nb\n", "\n"),
            ("a\r\nb\r\n", "\r\n"),
            ("a\r\nb\r\nc\n", "\r\n"),
            ("a\r\nb\nc\n", "\n"),
            ("a\r\nb\n", "\n"),
            ("a\rb\rc\n", "\n"),
            ("\r\n", "\r\n"),
        ] {
            let src = Source::new("t", text.as_bytes().to_vec());
            assert_eq!(src.line_ending(), eol.as_bytes(), "{text:?}");
        }
    }

    /// A span reaches the last byte a 32-bit offset can name, and a file
    /// one byte larger is refused with its path before any span is made.
    #[test]
    fn files_beyond_32_bit_offsets_are_refused() {
        let s = Span::new(MAX_FILE - 1, MAX_FILE);
        assert_eq!((s.start(), s.end(), s.len()), (MAX_FILE - 1, MAX_FILE, 1));
        assert!(too_large(Path::new("/etc/x.conf"), MAX_FILE).is_none());
        let e = too_large(Path::new("/etc/x.conf"), MAX_FILE + 1).unwrap();
        let shown = e.to_string();
        assert!(
            shown.starts_with(
                "/etc/x.conf:1:1: this file is 4294967296 bytes, larger than the 4 GiB"
            ),
            "{shown}"
        );
        assert!(fits(Path::new("x"), b"small").is_ok());
    }

    #[test]
    fn line_and_column_are_one_based() {
        let b = b"ab\ncd\r\nef";
        assert_eq!(line_col(b, 0), (1, 1));
        assert_eq!(line_col(b, 4), (2, 2));
        assert_eq!(line_col(b, 7), (3, 1));
        assert_eq!(line_col(b, 99), (3, 3));
    }

    #[test]
    fn indexed_line_and_column_agree_with_the_scan() {
        let b = b"ab\ncd\r\nef\n".to_vec();
        let s = Source::new("x", b.clone());
        for o in 0..=b.len() + 1 {
            assert_eq!(s.line_col(o), line_col(&b, o), "offset {o}");
        }
    }

    #[test]
    fn error_shows_the_line_with_a_caret() {
        let e = ParseError::at(Path::new("f.conf"), b"one\n  two\r\n", 6, "bad");
        let shown = e.to_string();
        assert!(shown.starts_with("f.conf:2:3: bad"), "{shown}");
        assert!(shown.ends_with("  |   ^"), "{shown}");
    }

    #[test]
    fn error_excerpt_escapes_control_bytes() {
        // Issue 12: an ESC in a configuration line must not reach the terminal.
        let e = ParseError::at(Path::new("f.conf"), b"a\x1b[2Jb x\n", 7, "bad");
        let shown = e.to_string();
        assert!(!shown.contains('\x1b'), "{shown:?}");
        assert!(shown.contains("  | a\\x1b[2Jb x\n"), "{shown}");
        assert!(
            shown.ends_with("  |           ^"),
            "the caret under x: {shown:?}"
        );
    }
}
