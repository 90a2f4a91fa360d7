//! Lossless parser for Courier's shell-style configuration files
//! (`imapd`, `imapd-ssl`, `pop3d`, `pop3d-ssl`, `esmtpd`, `esmtpd-ssl`,
//! `esmtpd-msa`, `authdaemonrc`, ...).
//!
//! Grammar: `grammars/courier.ebnf`. The files are POSIX sh fragments that
//! Courier's start scripts source, and real ones use more of sh than plain
//! `NAME=value`: `export NAME=value`, `A=1; B=2`, `. /etc/default/courier`,
//! `NAME=value # comment`. Each line is read as what it is: a list of
//! commands separated by `;`, each an assignment (exported or not), an
//! `export NAME` without a value, a sourcing (`.` or `source`), or an
//! *opaque* command kept byte for byte and never evaluated. A line joined by
//! `&&`, `||`, `|` or `&` is opaque as a whole: its assignments happen only
//! sometimes, or in a subshell. Nothing is ever executed: a value holding a
//! command substitution (`$(...)` or backquotes) is marked as such so that
//! the rules can say it cannot be judged.
//!
//! `##NAME: X:0` headers are kept apart because Courier's sysconftool merges
//! upgrades by them, `#NAME=value` lines are recognised as commented-out
//! assignments so that they can be uncommented, and `@placeholder@` lines of
//! the `.dist.in` templates are accepted. The only errors are quotes and
//! substitutions that are never closed.

use super::lex::{hspace, is_hspace};
use crate::source::{ParseError, Span};
use nom::bytes::complete::take_while1;
use nom::{IResult, Parser};
use std::path::Path;

#[derive(Debug, Clone)]
pub struct File {
    pub lines: Vec<Line>,
}

/// One statement line: usually one physical line, more when a quoted value
/// or a backslash-newline runs on.
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
    /// Commands separated by `;`, perhaps followed by a `# comment`.
    Commands(Vec<Command>),
    /// `#NAME=value`: `hash` is the span of the `#`.
    Commented {
        hash: Span,
        assignment: Assignment,
    },
    /// A template line such as `@INIT_LOCALE@`.
    Placeholder,
}

/// One simple command of a line.
#[derive(Debug, Clone)]
pub enum Command {
    /// `NAME=word`, or one `NAME=word` of `export A=1 B=2`.
    Assign(Assignment),
    /// `export NAME` (or one name of `export A B`): marks an earlier or later
    /// assignment for the environment; no value of its own.
    Export(Span),
    /// `. FILE` or `source FILE`: `path` is the word as written.
    Source { path: Span },
    /// Anything else, as written: never evaluated, never edited.
    Opaque(Span),
}

#[derive(Debug, Clone)]
pub struct Assignment {
    pub name: Span,
    /// The value as written, quotes included; empty for `NAME=`.
    pub value: Span,
    /// Written as `export NAME=value`.
    pub exported: bool,
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
    /// Whether the value runs a command (`$(...)` or backquotes outside
    /// single quotes): its value is known only by running it, which tlsmend
    /// never does.
    pub fn substitution(&self, bytes: &[u8]) -> bool {
        has_substitution(self.value.slice(bytes))
    }
}

/// `$(...)` or a backquote outside single quotes.
pub fn has_substitution(raw: &[u8]) -> bool {
    let mut i = 0;
    let mut in_double = false;
    while i < raw.len() {
        match raw[i] {
            b'\\' => i += 1,
            b'"' => in_double = !in_double,
            b'\'' if !in_double => {
                i += raw[i + 1..]
                    .iter()
                    .position(|&b| b == b'\'')
                    .map_or(raw.len(), |p| p + 1);
            }
            b'`' => return true,
            b'$' if raw.get(i + 1) == Some(&b'(') => return true,
            _ => {}
        }
        i += 1;
    }
    false
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

/// Where the closing byte `close` of a `$(`, `${` or backquote opened at
/// `open` is, skipping quoted parts and nested openings.
fn closing(bytes: &[u8], open: usize, mut at: usize, limit: usize) -> Result<usize, WordError> {
    let close = match bytes[open] {
        b'`' => b'`',
        _ if bytes[open + 1] == b'{' => b'}',
        _ => b')',
    };
    let opener = if close == b')' { Some(b'(') } else { None };
    let mut depth = 0usize;
    while at < limit {
        match bytes[at] {
            b'\\' => at += 2,
            b'\'' if close != b'`' => {
                at += bytes[at + 1..limit]
                    .iter()
                    .position(|&b| b == b'\'')
                    .map_or(limit - at, |p| p + 2);
            }
            b if Some(b) == opener => {
                depth += 1;
                at += 1;
            }
            b if b == close => {
                if depth == 0 {
                    return Ok(at + 1);
                }
                depth -= 1;
                at += 1;
            }
            _ => at += 1,
        }
    }
    Err(WordError {
        at: open,
        message: "this command substitution or expansion is never closed",
    })
}

/// The end of the line's content: before `\r\n`, `\n` or the end.
fn content_limit(bytes: &[u8], at: usize) -> usize {
    let nl = bytes[at..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| at + p);
    if nl > at && nl < bytes.len() && bytes[nl - 1] == b'\r' {
        nl - 1
    } else {
        nl
    }
}

/// Reads a shell word starting at `at`; returns its end. `single_line`
/// stops at the line's content end (for commented-out assignments).
fn word_end(bytes: &[u8], mut at: usize, single_line: bool) -> Result<usize, WordError> {
    let limit = if single_line {
        content_limit(bytes, at)
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
                        b'`' => at = closing(bytes, at, at + 1, limit)?,
                        b'$' if at + 1 < limit && matches!(bytes[at + 1], b'(' | b'{') => {
                            at = closing(bytes, at, at + 2, limit)?
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
            b'`' => at = closing(bytes, at, at + 1, limit)?,
            b'$' if at + 1 < limit && matches!(bytes[at + 1], b'(' | b'{') => {
                at = closing(bytes, at, at + 2, limit)?
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

/// `NAME=...` in the word `w`: the name's and the value's spans.
fn split_assignment(bytes: &[u8], w: Span) -> Option<(Span, Span)> {
    let (rest, n) = name(w.slice(bytes)).ok()?;
    if rest.first() != Some(&b'=') {
        return None;
    }
    let name = Span::new(w.start(), w.start() + n.len());
    Some((name, Span::new(name.end() + 1, w.end())))
}

/// Skips blanks and backslash-newlines (a line continued).
fn skip_blanks(bytes: &[u8], mut at: usize) -> usize {
    loop {
        if at < bytes.len() && is_hspace(bytes[at]) {
            at += 1;
        } else if bytes[at..].starts_with(b"\\\n") {
            at += 2;
        } else if bytes[at..].starts_with(b"\\\r\n") {
            at += 3;
        } else {
            return at;
        }
    }
}

fn at_line_end(bytes: &[u8], at: usize) -> bool {
    at >= bytes.len() || bytes[at] == b'\n' || bytes[at..].starts_with(b"\r\n")
}

/// Words that open and close compound commands: assignments between them
/// happen only sometimes, so they are opaque.
const OPENERS: &[&[u8]] = &[b"if", b"case", b"for", b"while", b"until", b"{", b"("];
const CLOSERS: &[&[u8]] = &[b"fi", b"esac", b"done", b"}", b")"];

/// What one simple command (its words) is.
fn classify(bytes: &[u8], words: &[Span], depth: &mut usize) -> Vec<Command> {
    let whole = Span::new(words[0].start(), words[words.len() - 1].end());
    let first = words[0].slice(bytes);
    if OPENERS.contains(&first) {
        *depth += 1;
    } else if CLOSERS.contains(&first) {
        *depth = depth.saturating_sub(1);
    }
    if *depth > 0 || OPENERS.contains(&first) || CLOSERS.contains(&first) {
        return vec![Command::Opaque(whole)];
    }
    let opaque = vec![Command::Opaque(whole)];
    match first {
        b"export" if words.len() > 1 => {
            let mut out = Vec::new();
            for &w in &words[1..] {
                if let Some((name, value)) = split_assignment(bytes, w) {
                    out.push(Command::Assign(Assignment {
                        name,
                        value,
                        exported: true,
                    }));
                } else if name(w.slice(bytes)).is_ok_and(|(rest, _)| rest.is_empty()) {
                    out.push(Command::Export(w));
                } else {
                    return opaque;
                }
            }
            out
        }
        b"." | b"source" if words.len() == 2 => vec![Command::Source { path: words[1] }],
        _ => {
            let mut out = Vec::new();
            for &w in words {
                match split_assignment(bytes, w) {
                    Some((name, value)) => out.push(Command::Assign(Assignment {
                        name,
                        value,
                        exported: false,
                    })),
                    // `A=1 cmd`: A is set for cmd only.
                    None => return opaque,
                }
            }
            out
        }
    }
}

/// Reads the commands of one statement line from `at`; returns them and
/// where the line's comment or ending starts.
fn commands(
    bytes: &[u8],
    mut at: usize,
    depth: &mut usize,
) -> Result<(Vec<Command>, usize), WordError> {
    let mut out = Vec::new();
    let mut joined = false;
    let mut first_start = None;
    let mut last_end = at;
    loop {
        at = skip_blanks(bytes, at);
        if at_line_end(bytes, at) || bytes[at] == b'#' {
            break;
        }
        let mut words = Vec::new();
        loop {
            at = skip_blanks(bytes, at);
            if at_line_end(bytes, at) || b"#;&|".contains(&bytes[at]) {
                break;
            }
            let end = word_end(bytes, at, false)?.max(at + 1);
            words.push(Span::new(at, end));
            at = end;
        }
        if let (Some(w0), Some(wn)) = (words.first(), words.last()) {
            first_start.get_or_insert(w0.start());
            last_end = wn.end();
            out.extend(classify(bytes, &words, depth));
        }
        if at < bytes.len() && b";&|".contains(&bytes[at]) {
            joined |= bytes[at] != b';';
            at += 1;
            last_end = at;
        } else {
            break;
        }
    }
    if joined && let Some(s) = first_start {
        out = vec![Command::Opaque(Span::new(s, last_end))];
    }
    Ok((out, at))
}

pub fn parse(path: &Path, bytes: &[u8]) -> Result<File, ParseError> {
    crate::source::fits(path, bytes)?;
    let err = |e: WordError| ParseError::at(path, bytes, e.at, e.message);
    let mut lines = Vec::new();
    let mut depth = 0;
    let mut at = 0;
    while at < bytes.len() {
        let start = at;
        let (_, ind) = hspace(&bytes[at..]).expect("hspace");
        let text = start + ind.len();
        let content_end = content_limit(bytes, text);
        let next_line = |from: usize| {
            bytes[from..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(bytes.len(), |p| from + p + 1)
        };
        let content = &bytes[text..content_end];
        let kind = if content.is_empty() {
            at = next_line(text);
            LineKind::Blank
        } else if content.starts_with(b"##NAME:") {
            at = next_line(text);
            let after = 7 + hspace(&content[7..]).expect("hspace").1.len();
            let n = content[after..]
                .iter()
                .take_while(|&&b| is_name_byte(b))
                .count();
            LineKind::Header {
                name: Span::new(text + after, text + after + n),
            }
        } else if content[0] == b'#' {
            at = next_line(text);
            match commented(bytes, text, content_end) {
                Some(assignment) => LineKind::Commented {
                    hash: Span::new(text, text + 1),
                    assignment,
                },
                None => LineKind::Comment,
            }
        } else if content[0] == b'@' && content.len() > 1 && trim(content).ends_with(b"@") {
            at = next_line(text);
            LineKind::Placeholder
        } else {
            let (cmds, stop) = commands(bytes, text, &mut depth).map_err(err)?;
            at = next_line(stop);
            LineKind::Commands(cmds)
        };
        lines.push(Line {
            span: Span::new(start, at),
            kind,
        });
    }
    Ok(File { lines })
}

/// `#NAME=value` with only blanks and a `# comment` after the value.
fn commented(bytes: &[u8], hash: usize, content_end: usize) -> Option<Assignment> {
    let (rest, n) = name(&bytes[hash + 1..content_end]).ok()?;
    if rest.first() != Some(&b'=') {
        return None;
    }
    let name = Span::new(hash + 1, hash + 1 + n.len());
    let end = word_end(bytes, name.end() + 1, true).ok()?;
    if end > content_end || !trailing_ok(&bytes[end..content_end]) {
        return None;
    }
    Some(Assignment {
        name,
        value: Span::new(name.end() + 1, end),
        exported: false,
    })
}

fn trim(s: &[u8]) -> &[u8] {
    super::lex::trim_end(s)
}

/// After a value only blanks and a `# comment` may follow on that line.
fn trailing_ok(rest: &[u8]) -> bool {
    let (after, sp) = hspace(rest).expect("hspace");
    after.is_empty() || (!sp.is_empty() && after[0] == b'#')
}

impl File {
    /// Checks that the lines cover `0..len` with no gap or overlap.
    pub fn check_tiling(&self, len: usize) -> Result<(), String> {
        super::lex::check_spans(self.lines.iter().map(|l| l.span), len)
    }

    fn commands(&self) -> impl Iterator<Item = (&Line, &Command)> {
        self.lines.iter().flat_map(|l| match &l.kind {
            LineKind::Commands(c) => c.iter().map(move |c| (l, c)).collect::<Vec<_>>(),
            _ => Vec::new(),
        })
    }

    /// Every assignment, in file order.
    pub fn assignments(&self) -> impl Iterator<Item = (&Line, &Assignment)> {
        self.commands().filter_map(|(l, c)| match c {
            Command::Assign(a) => Some((l, a)),
            _ => None,
        })
    }

    /// Every command, in file order, for callers that follow sourcing.
    pub fn all_commands(&self) -> impl Iterator<Item = &Command> {
        self.commands().map(|(_, c)| c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> File {
        let f = parse(Path::new("imapd-ssl"), s.as_bytes()).unwrap();
        f.check_tiling(s.len()).unwrap();
        f
    }

    fn names(f: &File, s: &str) -> Vec<(String, String, bool)> {
        f.assignments()
            .map(|(_, a)| {
                (
                    a.name_str(s.as_bytes()),
                    a.value_str(s.as_bytes()),
                    a.exported,
                )
            })
            .collect()
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
        assert!(matches!(f.lines[6].kind, LineKind::Placeholder));
        let got = names(&f, s);
        assert_eq!(got[0].1, "x y");
        assert_eq!(got[1].1, "q");
        assert_eq!(got[2].1, "$A");
    }

    #[test]
    fn a_quoted_value_may_span_lines() {
        let f = p("D=\"|| dotforward\n./Maildir\"\nE=1\n");
        assert_eq!(f.lines.len(), 2);
    }

    // Issue 9, item 4: the sh that real Courier files are written in.
    #[test]
    fn sh_statements_are_read_as_what_they_are() {
        let s = "export TLS_CERTFILE=/a.pem\nA=1; B=\"2 3\" ; export A\n. /etc/default/courier\nsource x\nC=v # why\nD=1 E=2\n";
        let f = p(s);
        assert_eq!(
            names(&f, s),
            [
                ("TLS_CERTFILE".into(), "/a.pem".into(), true),
                ("A".into(), "1".into(), false),
                ("B".into(), "2 3".into(), false),
                ("C".into(), "v".into(), false),
                ("D".into(), "1".into(), false),
                ("E".into(), "2".into(), false),
            ]
        );
        let sources: Vec<&[u8]> = f
            .all_commands()
            .filter_map(|c| match c {
                Command::Source { path } => Some(path.slice(s.as_bytes())),
                _ => None,
            })
            .collect();
        assert_eq!(sources, [&b"/etc/default/courier"[..], b"x"]);
    }

    #[test]
    fn other_shell_is_opaque_and_kept() {
        let s = "A=1 2\nA = 1\n[ -f x ] && B=1\nif true; then\n  C=1\nfi\nD=`hostname` E=$(cat /x \"y z\")\necho a|tr a b\n";
        let f = p(s);
        let got = names(&f, s);
        assert_eq!(got.len(), 2, "{got:?}");
        let b = s.as_bytes();
        let subs: Vec<bool> = f.assignments().map(|(_, a)| a.substitution(b)).collect();
        assert_eq!(subs, [true, true]);
        let opaque = f
            .all_commands()
            .filter(|c| matches!(c, Command::Opaque(_)))
            .count();
        assert_eq!(opaque, 8);
    }

    #[test]
    fn substitution_is_seen_outside_single_quotes_only() {
        assert!(has_substitution(b"\"$(id)\""));
        assert!(has_substitution(b"a`id`"));
        assert!(!has_substitution(b"'$(id)'"));
        assert!(!has_substitution(b"\\$(id)"));
        assert!(!has_substitution(b"${HOME}/x"));
    }

    // Issue 10: found by fuzzing, a CRLF comment whose value ends in a
    // backslash ("slice index starts at 5 but ends at 4").
    #[test]
    fn crlf_comment_ending_in_a_backslash_does_not_panic() {
        p("#A=\\\r\n");
        p("A=\\\r\n");
        p("#A=\"\\\r\n");
    }

    #[test]
    fn errors_point_at_the_problem() {
        let e = parse(Path::new("f"), b"A=1\nB=\"open\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 3));
        let e = parse(Path::new("f"), b"A=$(open\n").unwrap_err();
        assert_eq!((e.line, e.column), (1, 3));
    }
}
