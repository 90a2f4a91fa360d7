//! Lossless parser for Courier's shell-style configuration files
//! (`imapd`, `imapd-ssl`, `pop3d-ssl`, `authdaemonrc`, ...).
//!
//! Grammar: `grammars/courier.ebnf`. The files are POSIX sh fragments that
//! Courier's start scripts source, so the accepted language is the subset of
//! sh they are written in: `NAME=value` assignments whose value is a shell
//! word (double- or single-quoted parts, bare parts, backslash escapes; a
//! quoted part may run over several lines), comments, blank lines, and
//! `@placeholder@` lines of the `.dist.in` templates. `##NAME: X:0` headers are
//! kept apart because Courier's sysconftool merges upgrades by them, and
//! `#NAME=value` lines are recognised as commented-out assignments so that they
//! can be uncommented. Anything else is an error, not a guess.

use super::lex::{hspace, is_hspace};
use crate::source::{ParseError, Span};
use nom::bytes::complete::take_while1;
use nom::{IResult, Parser};
use std::path::Path;

#[derive(Debug, Clone)]
pub struct File {
    pub lines: Vec<Line>,
}

/// One statement: usually one physical line, more when a quoted value runs on.
#[derive(Debug, Clone)]
pub struct Line {
    /// Everything, line ending included.
    pub span: Span,
    pub kind: LineKind,
}

#[derive(Debug, Clone)]
pub enum LineKind {
    Blank,
    Comment,
    /// `##NAME: TLS_PRIORITY:0`; `name` is `TLS_PRIORITY`.
    Header {
        name: Span,
    },
    Assignment(Assignment),
    /// `#NAME=value`: `hash` is the span of the `#`.
    Commented {
        hash: Span,
        assignment: Assignment,
    },
    /// A template line such as `@INIT_LOCALE@`.
    Placeholder,
}

#[derive(Debug, Clone)]
pub struct Assignment {
    pub name: Span,
    /// The value as written, quotes included; empty for `NAME=`.
    pub value: Span,
    /// End of the statement before its line ending (after any trailing comment).
    pub end: Span,
}

impl Assignment {
    pub fn name_str(&self, bytes: &[u8]) -> String {
        String::from_utf8_lossy(self.name.slice(bytes)).into_owned()
    }
    /// The value as the shell sees it (quotes removed, escapes resolved,
    /// `$VAR` left as written).
    pub fn value_str(&self, bytes: &[u8]) -> String {
        String::from_utf8_lossy(&unquote(self.value.slice(bytes))).into_owned()
    }
    /// The quote character the value starts with, if any.
    pub fn quote(&self, bytes: &[u8]) -> Option<u8> {
        match self.value.slice(bytes).first() {
            Some(&q) if q == b'"' || q == b'\'' => Some(q),
            _ => None,
        }
    }
}

fn unquote(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'\'' => {
                let end = raw[i + 1..]
                    .iter()
                    .position(|&b| b == b'\'')
                    .map_or(raw.len(), |p| i + 1 + p);
                out.extend_from_slice(&raw[i + 1..end]);
                i = end + 1;
            }
            b'"' => {
                i += 1;
                while i < raw.len() && raw[i] != b'"' {
                    if raw[i] == b'\\' && i + 1 < raw.len() && b"$`\"\\\n".contains(&raw[i + 1]) {
                        if raw[i + 1] != b'\n' {
                            out.push(raw[i + 1]);
                        }
                        i += 2;
                    } else {
                        out.push(raw[i]);
                        i += 1;
                    }
                }
                i += 1;
            }
            b'\\' if i + 1 < raw.len() => {
                if raw[i + 1] != b'\n' {
                    out.push(raw[i + 1]);
                }
                i += 2;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

pub fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn name(i: &[u8]) -> IResult<&[u8], &[u8]> {
    let (rest, n) = take_while1(is_name_byte).parse(i)?;
    if n[0].is_ascii_digit() {
        return Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Alpha,
        )));
    }
    Ok((rest, n))
}

/// Why a shell word could not be read, and where.
struct WordError {
    at: usize,
    message: &'static str,
}

/// Reads a shell word starting at `at`; returns its end. `single_line`
/// stops at the line's end (for commented-out assignments).
fn word_end(bytes: &[u8], mut at: usize, single_line: bool) -> Result<usize, WordError> {
    let limit = if single_line {
        bytes[at..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |p| at + p)
    } else {
        bytes.len()
    };
    while at < limit {
        match bytes[at] {
            b'"' => {
                let open = at;
                at += 1;
                loop {
                    if at >= limit {
                        return Err(WordError {
                            at: open,
                            message: "this double quote is never closed",
                        });
                    }
                    match bytes[at] {
                        b'\\' => at += 2,
                        b'"' => {
                            at += 1;
                            break;
                        }
                        _ => at += 1,
                    }
                }
            }
            b'\'' => {
                let open = at;
                match bytes[at + 1..limit].iter().position(|&b| b == b'\'') {
                    Some(p) => at += p + 2,
                    None => {
                        return Err(WordError {
                            at: open,
                            message: "this single quote is never closed",
                        });
                    }
                }
            }
            b'\\' => at = (at + 2).min(limit),
            b if is_hspace(b)
                || b == b'\n'
                || b == b'\r'
                || b == b';'
                || b == b'&'
                || b == b'|' =>
            {
                break;
            }
            _ => at += 1,
        }
    }
    Ok(at.min(limit))
}

/// Parses `name=word` at `at`; returns the assignment and where it stops
/// (before trailing blanks, comment and line ending).
fn assignment_at(
    bytes: &[u8],
    at: usize,
    single_line: bool,
) -> Result<Option<(Span, Span)>, WordError> {
    let Ok((rest, n)) = name(&bytes[at..]) else {
        return Ok(None);
    };
    if rest.first() != Some(&b'=') {
        return Ok(None);
    }
    let name_span = Span::new(at, at + n.len());
    let value_start = name_span.end + 1;
    let value_end = word_end(bytes, value_start, single_line)?;
    Ok(Some((name_span, Span::new(value_start, value_end))))
}

fn line_end(bytes: &[u8], at: usize) -> (usize, usize) {
    let nl = bytes[at..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| at + p);
    let content_end = if nl > at && bytes[nl - 1] == b'\r' && nl < bytes.len() {
        nl - 1
    } else {
        nl
    };
    (content_end, (nl + 1).min(bytes.len()))
}

pub fn parse(path: &Path, bytes: &[u8]) -> Result<File, ParseError> {
    let err = |at: usize, msg: &str| ParseError::at(path, bytes, at, msg);
    let mut lines = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let start = at;
        let (_, ind) = hspace(&bytes[at..]).expect("hspace");
        let text = start + ind.len();
        let (content_end, next) = line_end(bytes, text);
        let content = &bytes[text..content_end];
        let kind = if content.is_empty() {
            at = next;
            LineKind::Blank
        } else if content.starts_with(b"##NAME:") {
            at = next;
            let after = 7 + hspace(&content[7..]).expect("hspace").1.len();
            let n = content[after..]
                .iter()
                .take_while(|&&b| is_name_byte(b))
                .count();
            LineKind::Header {
                name: Span::new(text + after, text + after + n),
            }
        } else if content[0] == b'#' {
            at = next;
            match assignment_at(bytes, text + 1, true) {
                Ok(Some((name, value))) if trailing_ok(bytes, value.end, content_end) => {
                    LineKind::Commented {
                        hash: Span::new(text, text + 1),
                        assignment: Assignment {
                            name,
                            value,
                            end: Span::empty(content_end),
                        },
                    }
                }
                _ => LineKind::Comment,
            }
        } else if content[0] == b'@' && content.len() > 1 && trim(content).ends_with(b"@") {
            at = next;
            LineKind::Placeholder
        } else {
            match assignment_at(bytes, text, false) {
                Err(e) => return Err(err(e.at, e.message)),
                Ok(None) => {
                    return Err(err(
                        text,
                        "expected NAME=value, a comment or a blank line (tlsmend reads Courier files as plain sh assignments)",
                    ));
                }
                Ok(Some((name, value))) => {
                    let (content_end, next) = line_end(bytes, value.end);
                    if !trailing_ok(bytes, value.end, content_end) {
                        let (_, sp) = hspace(&bytes[value.end..]).expect("hspace");
                        return Err(err(
                            value.end + sp.len(),
                            "unexpected text after the value: quote the value if it contains spaces",
                        ));
                    }
                    at = next;
                    LineKind::Assignment(Assignment {
                        name,
                        value,
                        end: Span::empty(content_end),
                    })
                }
            }
        };
        lines.push(Line {
            span: Span::new(start, at),
            kind,
        });
    }
    Ok(File { lines })
}

fn trim(s: &[u8]) -> &[u8] {
    super::lex::trim_end(s)
}

/// After a value only blanks and a `# comment` may follow on that line.
fn trailing_ok(bytes: &[u8], from: usize, content_end: usize) -> bool {
    let rest = &bytes[from..content_end];
    let (after, sp) = hspace(rest).expect("hspace");
    after.is_empty() || (!sp.is_empty() && after[0] == b'#')
}

impl File {
    /// Checks that the lines cover `0..len` with no gap or overlap.
    pub fn check_tiling(&self, len: usize) -> Result<(), String> {
        super::lex::check_spans(self.lines.iter().map(|l| l.span), len)
    }

    pub fn assignments<'a>(&'a self) -> impl Iterator<Item = (&'a Line, &'a Assignment)> + 'a {
        self.lines.iter().filter_map(|l| match &l.kind {
            LineKind::Assignment(a) => Some((l, a)),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> File {
        let f = parse(Path::new("imapd-ssl"), s.as_bytes()).unwrap();
        let mut at = 0;
        for l in &f.lines {
            assert_eq!(l.span.start, at);
            at = l.span.end;
        }
        assert_eq!(at, s.len());
        f
    }

    #[test]
    fn kinds_of_lines() {
        let s = "##NAME: TLS_PRIORITY:0\n#\n#IMAPDSSLSTART=YES\nA=\"x y\" # note\n\nB='q'\r\n@INIT@\nC=$A";
        let f = p(s);
        let b = s.as_bytes();
        assert!(
            matches!(&f.lines[0].kind, LineKind::Header { name } if name.slice(b) == b"TLS_PRIORITY")
        );
        assert!(matches!(f.lines[1].kind, LineKind::Comment));
        assert!(
            matches!(&f.lines[2].kind, LineKind::Commented { assignment, .. } if assignment.value_str(b) == "YES")
        );
        let LineKind::Assignment(a) = &f.lines[3].kind else {
            panic!()
        };
        assert_eq!(a.value_str(b), "x y");
        assert!(matches!(f.lines[5].kind, LineKind::Assignment(_)));
        assert!(matches!(f.lines[6].kind, LineKind::Placeholder));
        let LineKind::Assignment(c) = &f.lines[7].kind else {
            panic!()
        };
        assert_eq!(c.value_str(b), "$A");
    }

    #[test]
    fn a_quoted_value_may_span_lines() {
        let f = p("D=\"|| dotforward\n./Maildir\"\nE=1\n");
        assert_eq!(f.lines.len(), 2);
    }

    #[test]
    fn errors_point_at_the_problem() {
        let e = parse(Path::new("f"), b"A=1\nB=\"open\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 3));
        let e = parse(Path::new("f"), b"A = 1\n").unwrap_err();
        assert_eq!((e.line, e.column), (1, 1));
        let e = parse(Path::new("f"), b"A=1 2\n").unwrap_err();
        assert_eq!((e.line, e.column), (1, 5));
    }
}
