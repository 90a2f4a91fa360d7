//! Lossless parser for Apache httpd 2.4 configuration files.
//!
//! Grammar: `grammars/apache.ebnf`. The tree holds spans into the file and
//! covers every byte: trivia (blank and comment lines), directives and nested
//! sections, each with its indentation and line ending. Logical lines may run
//! over several physical lines joined by a trailing backslash; a comment line
//! continues the same way, as in httpd's own reader.
//!
//! Names compare case-insensitively; arguments keep their quotes, escapes and
//! `${VAR}` references as written.

#[cfg(doc)]
use super::lex::PhysLines;
use super::lex::{is_hspace, trim_end};
use crate::source::{ParseError, Span};
use nom::{IResult, Parser};
use std::path::Path;

/// A file's tree, flat: every node in the order of the file, each section
/// followed by the nodes inside it ([`Section::inside`] counts them).
/// One allocation for the whole tree, and nodes that own nothing: a tree
/// of 10,000 sites is built and let go twice per run, and a box and a list
/// per section cost more than the parse (and the drop, a walk of its own).
/// [`siblings`] reads it as a tree.
#[derive(Debug, Clone)]
pub struct Config {
    pub nodes: Vec<Node>,
}

impl Config {
    /// The nodes at the top level of the file, each with the nodes inside it.
    pub fn top(&self) -> Siblings<'_> {
        siblings(&self.nodes)
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Node {
    Trivia(Trivia),
    Directive(Directive),
    Section(Section),
}

/// A blank line or a comment line (with any continuation lines).
#[derive(Debug, Clone, Copy)]
pub struct Trivia {
    pub span: Span,
    pub indent: Span,
    /// For a comment: the text after `#`, up to the line ending.
    pub comment: Option<Span>,
}

/// One logical line `Name arg...`, or the opening line of a section.
///
/// Its indentation and line ending are not stored but derived
/// ([`Directive::indent`], [`Directive::eol`]): the indentation runs from
/// the line's start to the name (or to a section's `<`), the line ending
/// is the last 0 to 2 bytes of the line. A tree of 10,000 sites keeps
/// hundreds of thousands of directives, so each is 28 bytes, not 40.
#[derive(Debug, Clone, Copy)]
pub struct Directive {
    /// The whole logical line, indentation and line ending included.
    pub span: Span,
    pub name: Span,
    /// What follows the name (before the `>` of a section's line), split
    /// into arguments only when asked ([`Directive::args`]): a tree of
    /// 10,000 sites holds hundreds of thousands of directives, and the
    /// rules read the arguments of a few of them.
    pub args_region: Span,
    /// The length of the line ending (`\n` or `\r\n`; none at the end of
    /// a file without a final newline).
    eol_len: u8,
    /// The opening line of a section: a `<` stands between the
    /// indentation and the name.
    opens_section: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct Arg {
    /// The argument as written, quotes included.
    pub span: Span,
    pub quote: Option<u8>,
}

#[derive(Debug, Clone, Copy)]
pub struct Section {
    /// The `<Name args>` line; `name` excludes the `<`.
    pub open: Directive,
    /// The `</Name>` line. Empty when an inner section's closing line also
    /// closed this one (`</VirtualHost> </IfModule>`).
    pub close: Span,
    /// How many nodes after this one are inside it (at any depth).
    inside: u32,
}

impl Section {
    /// How many nodes after this one in the flat list are inside it.
    pub fn inside(&self) -> usize {
        self.inside as usize
    }
}

/// The nodes of a sibling list (a file's top level, or what a section
/// holds: [`Config::top`], or the second half of a pair) one by one, each
/// with the nodes inside it (empty but for a section), in the file's
/// order.
///
/// # Panics
/// When `nodes` is not such a list (a slice cut across a section, whose
/// count then reaches past its end); [`parse`] makes only such lists.
pub fn siblings(nodes: &[Node]) -> Siblings<'_> {
    Siblings { rest: nodes }
}

/// See [`siblings`].
#[derive(Debug, Clone)]
pub struct Siblings<'a> {
    rest: &'a [Node],
}

impl<'a> Iterator for Siblings<'a> {
    type Item = (&'a Node, &'a [Node]);
    fn next(&mut self) -> Option<Self::Item> {
        let (node, after) = self.rest.split_first()?;
        let inside = match node {
            Node::Section(s) => s.inside(),
            _ => 0,
        };
        let (children, rest) = after.split_at(inside);
        self.rest = rest;
        Some((node, children))
    }
}

impl Node {
    pub fn span(&self) -> Span {
        match self {
            Node::Trivia(t) => t.span,
            Node::Directive(d) => d.span,
            Node::Section(s) => {
                Span::new(s.open.span.start(), s.close.end().max(s.open.span.end()))
            }
        }
    }
}

impl Directive {
    /// A directive from its spans (`indent` and `eol` as the parser finds
    /// them; each must end where the name, or a section's `<`, starts, and
    /// where the line does).
    fn new(span: Span, indent: Span, name: Span, args_region: Span, eol: Span) -> Directive {
        let opens_section = name.start() != indent.end();
        debug_assert!(name.start() == indent.end() + usize::from(opens_section));
        debug_assert!(eol.end() == span.end() && eol.len() <= 2);
        Directive {
            span,
            name,
            args_region,
            eol_len: eol.len() as u8,
            opens_section,
        }
    }
    /// The indentation before the name (or before a section's `<`).
    pub fn indent(&self) -> Span {
        Span::new(
            self.span.start(),
            self.name.start() - usize::from(self.opens_section),
        )
    }
    /// The line ending (empty on a last line without one).
    pub fn eol(&self) -> Span {
        Span::new(self.span.end() - usize::from(self.eol_len), self.span.end())
    }
    pub fn name_is(&self, bytes: &[u8], name: &str) -> bool {
        self.name.slice(bytes).eq_ignore_ascii_case(name.as_bytes())
    }
    /// The arguments as written, split from `bytes`, the file's bytes.
    pub fn args(&self, bytes: &[u8]) -> Vec<Arg> {
        self.each_arg(bytes).collect()
    }
    /// [`Directive::args`] one by one, split as they are asked for.
    pub fn each_arg<'b>(&self, bytes: &'b [u8]) -> impl Iterator<Item = Arg> + 'b {
        Arguments::new(bytes, self.args_region)
    }
    /// The span from the first argument to the end of the last one.
    pub fn args_span(&self, bytes: &[u8]) -> Option<Span> {
        let mut args = Arguments::new(bytes, self.args_region);
        let first = args.next()?;
        let last = args.last().unwrap_or(first);
        Some(Span::new(first.span.start(), last.span.end()))
    }
    /// Unquoted, unescaped argument values.
    pub fn arg_values(&self, bytes: &[u8]) -> Vec<String> {
        Arguments::new(bytes, self.args_region)
            .map(|a| a.value(bytes))
            .collect()
    }
}

impl Arg {
    /// Unquoted, unescaped value, as httpd reads it.
    pub fn value(&self, bytes: &[u8]) -> String {
        self.text(bytes).into_owned()
    }
    /// [`Arg::value`], borrowed from `bytes` when it is the argument as
    /// written (unquoted UTF-8, the common case): no string is made.
    pub fn text<'b>(&self, bytes: &'b [u8]) -> std::borrow::Cow<'b, str> {
        let raw = self.span.slice(bytes);
        let Some(q) = self.quote else {
            // from_utf8 checks valid text faster than from_utf8_lossy.
            return match std::str::from_utf8(raw) {
                Ok(text) => std::borrow::Cow::Borrowed(text),
                Err(_) => String::from_utf8_lossy(raw),
            };
        };
        let inner = &raw[1..];
        let inner = if inner.last() == Some(&q) {
            &inner[..inner.len() - 1]
        } else {
            inner
        };
        let mut out = Vec::with_capacity(inner.len());
        let mut i = 0;
        while i < inner.len() {
            // httpd's ap_getword_conf: a backslash escapes the quote character only.
            if inner[i] == b'\\' && inner.get(i + 1) == Some(&q) {
                out.push(q);
                i += 2;
            } else {
                out.push(inner[i]);
                i += 1;
            }
        }
        std::borrow::Cow::Owned(String::from_utf8_lossy(&out).into_owned())
    }
}

/// One logical line: physical lines joined by trailing backslashes.
struct Logical {
    span: Span,
    /// From the first byte to the end of the last content (before its eol).
    body: Span,
    eol: Span,
}

fn ends_with_continuation(content: &[u8]) -> bool {
    trim_end(content).last() == Some(&b'\\')
}

/// Whether a logical line of `bytes` opens or closes a section: its text
/// after the indentation starts with `<`. Only such a line makes
/// [`parse`] fail (a tag that does not match, a `<` line without its `>`,
/// a section never closed) or give a section, so without one `bytes`
/// parses into directives and trivia; found without building the tree.
pub fn has_section_line(bytes: &[u8]) -> bool {
    LogicalLines::new(bytes).any(|l| {
        let body = l.body.slice(bytes);
        body.iter().find(|&&b| !is_hspace(b)) == Some(&b'<')
    })
}

/// Room for a node or a line start per 24 bytes of `bytes` (lines are
/// rarely shorter), made up front instead of five or six doublings per
/// site file; at most 64 Ki of them (2.75 MiB of nodes): a larger file
/// grows its list as it goes.
fn lines_up_front(bytes: &[u8]) -> usize {
    (bytes.len() / 24 + 4).min(1 << 16)
}

/// Where each logical line of `bytes` starts.
pub fn logical_line_starts(bytes: &[u8]) -> Vec<usize> {
    let mut starts = Vec::with_capacity(lines_up_front(bytes));
    starts.extend(LogicalLines::new(bytes).map(|l| l.span.start()));
    starts
}

/// The logical lines of a file one by one: physical lines joined while one
/// ends with a backslash (before its line ending) and another follows.
/// Each physical line ends at a `\n` (a `\r` before it is part of the
/// line ending) or at the end of the file, as [`PhysLines`] splits them;
/// the `\n`s are found with `memchr` and nothing is built per physical
/// line (a tree of 10,000 sites has a million of them, read twice).
struct LogicalLines<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> LogicalLines<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        LogicalLines { bytes, at: 0 }
    }
}

impl Iterator for LogicalLines<'_> {
    type Item = Logical;
    fn next(&mut self) -> Option<Logical> {
        let bytes = self.bytes;
        let start = self.at;
        if start >= bytes.len() {
            return None;
        }
        // Where the physical line being read starts.
        let mut line = start;
        let (content_end, end) = loop {
            let Some(k) = memchr::memchr(b'\n', &bytes[line..]) else {
                break (bytes.len(), bytes.len());
            };
            let newline = line + k;
            let content_end = match k > 0 && bytes[newline - 1] == b'\r' {
                true => newline - 1,
                false => newline,
            };
            let next = newline + 1;
            if next < bytes.len() && ends_with_continuation(&bytes[line..content_end]) {
                line = next;
                continue;
            }
            break (content_end, next);
        };
        self.at = end;
        Some(Logical {
            span: Span::new(start, end),
            body: Span::new(start, content_end),
            eol: Span::new(content_end, end),
        })
    }
}

/// `\` + optional blanks + a line ending, inside a logical line.
fn continuation(i: &[u8]) -> IResult<&[u8], &[u8]> {
    let (rest, _) = nom::bytes::complete::tag(&b"\\"[..]).parse(i)?;
    let (rest2, _) = nom::bytes::complete::take_while(is_hspace).parse(rest)?;
    let (rest3, _) = nom::branch::alt((
        nom::bytes::complete::tag(&b"\r\n"[..]),
        nom::bytes::complete::tag(&b"\n"[..]),
    ))
    .parse(rest2)?;
    Ok((rest3, &i[..i.len() - rest3.len()]))
}

/// The length of the blanks, line endings (httpd counts CR as white space
/// too: apr_isspace) and continuations at the start of `i`: what separates
/// two arguments. Byte by byte, trying a continuation only at a backslash
/// (the rules split arguments hundreds of thousands of times per run).
fn separator_len(i: &[u8]) -> usize {
    let mut k = 0;
    while let Some(&b) = i.get(k) {
        if is_hspace(b) || b == b'\r' || b == b'\n' {
            k += 1;
        } else if b == b'\\'
            && let Ok((rest, _)) = continuation(&i[k..])
        {
            k = i.len() - rest.len();
        } else {
            break;
        }
    }
    k
}

/// A quoted argument: from the quote to the matching unescaped quote, or to
/// the end of the line when it is never closed (httpd takes the rest).
fn quoted(i: &[u8]) -> (usize, u8) {
    let q = i[0];
    let mut k = 1;
    while k < i.len() {
        if i[k] == b'\\' && k + 1 < i.len() {
            k += 2;
        } else if i[k] == q {
            return (k + 1, q);
        } else {
            k += 1;
        }
    }
    (i.len(), q)
}

/// A table of the bytes that are blanks or one of `extra`: a scanner
/// stopping at them costs a load and a test per byte.
const fn blanks_and(extra: &[u8]) -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = is_hspace(b as u8);
        b += 1;
    }
    let mut k = 0;
    while k < extra.len() {
        table[extra[k] as usize] = true;
        k += 1;
    }
    table
}

/// The bytes a bare argument may end at: blanks, CR, LF, and a backslash
/// when it starts a continuation ([`bare_word`] checks which).
static MAY_END_WORD: [bool; 256] = blanks_and(b"\r\n\\");

fn bare_word(i: &[u8]) -> IResult<&[u8], &[u8]> {
    let mut k = 0;
    loop {
        let Some(at) = i[k..].iter().position(|&b| MAY_END_WORD[usize::from(b)]) else {
            k = i.len();
            break;
        };
        k += at;
        // A backslash that starts no continuation is part of the word.
        if i[k] == b'\\' && continuation(&i[k..]).is_err() {
            k += 1;
            continue;
        }
        break;
    }
    if k == 0 {
        return Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::TakeWhile1,
        )));
    }
    Ok((&i[k..], &i[..k]))
}

/// The arguments in `bytes[region]`, one by one (splitting never fails).
struct Arguments<'b> {
    bytes: &'b [u8],
    at: usize,
    end: usize,
}

impl<'b> Arguments<'b> {
    fn new(bytes: &'b [u8], region: Span) -> Self {
        Arguments {
            bytes,
            at: region.start(),
            end: region.end(),
        }
    }
}

impl Iterator for Arguments<'_> {
    type Item = Arg;
    fn next(&mut self) -> Option<Arg> {
        let bytes = self.bytes;
        if self.at >= self.end {
            return None;
        }
        self.at += separator_len(&bytes[self.at..self.end]);
        if self.at >= self.end {
            return None;
        }
        let rest = &bytes[self.at..self.end];
        let len;
        let mut quote = None;
        if rest[0] == b'"' || rest[0] == b'\'' {
            let (n, q) = quoted(rest);
            len = n;
            quote = Some(q);
        } else {
            let (r, _) = bare_word(rest).expect("a non-separator byte starts a word");
            len = rest.len() - r.len();
        }
        let arg = Arg {
            span: Span::new(self.at, self.at + len),
            quote,
        };
        self.at += len;
        Some(arg)
    }
}

/// The bytes that end a directive's or a section's name: blanks, `>`, CR,
/// LF and a backslash (the scan of a name runs hundreds of thousands of
/// times per load).
static ENDS_NAME: [bool; 256] = blanks_and(b">\r\n\\");

/// The name at the start of `i` (possibly empty) and what follows it.
fn name_token(i: &[u8]) -> IResult<&[u8], &[u8]> {
    let len = i
        .iter()
        .position(|&b| ENDS_NAME[usize::from(b)])
        .unwrap_or(i.len());
    Ok((&i[len..], &i[..len]))
}

/// Deeper nesting than any real configuration; it bounds the recursion of
/// every walk over the tree.
pub const MAX_DEPTH: usize = 128;

/// The places in a tree's list of the sections open at a point of the
/// parse, innermost last. At most [`MAX_DEPTH`], so held in place rather
/// than in a list allocated per file.
struct OpenSections {
    at: [usize; MAX_DEPTH],
    len: usize,
}

impl Default for OpenSections {
    fn default() -> Self {
        OpenSections {
            at: [0; MAX_DEPTH],
            len: 0,
        }
    }
}

impl OpenSections {
    fn len(&self) -> usize {
        self.len
    }
    /// # Panics
    /// Past [`MAX_DEPTH`], which the parser checks first.
    fn push(&mut self, at: usize) {
        self.at[self.len] = at;
        self.len += 1;
    }
    fn pop(&mut self) -> Option<usize> {
        self.len = self.len.checked_sub(1)?;
        Some(self.at[self.len])
    }
}

pub fn parse(path: &Path, bytes: &[u8]) -> Result<Config, ParseError> {
    crate::source::fits(path, bytes)?;
    let err = |at: usize, msg: String| ParseError::at(path, bytes, at, msg);
    // Every node in the file's order; each open section's place in
    // `nodes`, innermost last: its node is completed when it closes.
    // Not trimmed at the end, since a tree lives only while it is read.
    let mut nodes: Vec<Node> = Vec::with_capacity(lines_up_front(bytes));
    let mut stack = OpenSections::default();
    for line in LogicalLines::new(bytes) {
        let body = line.body.slice(bytes);
        let indent_n = body.iter().take_while(|&&b| is_hspace(b)).count();
        let indent = Span::new(line.body.start(), line.body.start() + indent_n);
        let text_start = indent.end();
        let text = &bytes[text_start..line.body.end()];
        let node = if text.is_empty() || text.iter().all(|&b| is_hspace(b) || b == b'\r') {
            Node::Trivia(Trivia {
                span: line.span,
                indent,
                comment: None,
            })
        } else if text[0] == b'#' {
            Node::Trivia(Trivia {
                span: line.span,
                indent,
                comment: Some(Span::new(text_start + 1, line.body.end())),
            })
        } else if text.starts_with(b"</") {
            // One or more closing tags: `</VirtualHost>` or `</VirtualHost> </IfModule>`.
            let mut at = text_start;
            let mut first = true;
            while at < line.body.end() {
                let rest = &bytes[at..line.body.end()];
                if !rest.starts_with(b"</") {
                    return Err(err(
                        at,
                        "expected only closing tags after a closing tag".into(),
                    ));
                }
                let (r, name) = name_token(&rest[2..]).expect("a name never fails");
                let name_start = at + 2;
                let (r2, _) = super::lex::hspace(r).expect("hspace cannot fail");
                if r2.first() != Some(&b'>') {
                    return Err(err(
                        name_start + name.len(),
                        "a closing tag must end with '>'".into(),
                    ));
                }
                let Some(open_at) = stack.pop() else {
                    return Err(err(
                        at,
                        format!(
                            "</{}> closes a section that was never opened; remove it or add the matching <{}> line",
                            String::from_utf8_lossy(name),
                            String::from_utf8_lossy(name)
                        ),
                    ));
                };
                let inside = nodes.len() - open_at - 1;
                let Node::Section(open) = &mut nodes[open_at] else {
                    unreachable!("the stack holds the places of sections");
                };
                if !open.open.name.slice(bytes).eq_ignore_ascii_case(name) {
                    let (ol, _) = crate::source::line_col(bytes, open.open.span.start());
                    return Err(err(
                        at,
                        format!(
                            "</{}> does not match <{}> opened on line {}",
                            String::from_utf8_lossy(name),
                            String::from_utf8_lossy(open.open.name.slice(bytes)),
                            ol
                        ),
                    ));
                }
                open.close = if first {
                    line.span
                } else {
                    Span::empty(line.span.end())
                };
                first = false;
                // Fewer nodes than bytes, and no file has more than
                // `u32::MAX` bytes (`source::fits` above).
                open.inside = u32::try_from(inside)
                    .expect("a file of at most u32::MAX bytes has fewer nodes");
                let after_gt = rest.len() - r2.len() + 1;
                let (r3, _) = super::lex::hspace(&rest[after_gt..]).expect("hspace");
                at += rest.len() - r3.len();
            }
            continue;
        } else if text[0] == b'<' {
            let (_, name) = name_token(&text[1..]).expect("a name never fails");
            if name.is_empty() {
                return Err(err(
                    text_start + 1,
                    "a section needs a name after '<'".into(),
                ));
            }
            let trimmed = trim_end(text);
            if trimmed.last() != Some(&b'>') {
                return Err(err(
                    text_start + trimmed.len(),
                    format!(
                        "the <{}> line must end with '>'",
                        String::from_utf8_lossy(name)
                    ),
                ));
            }
            let name_span = Span::new(text_start + 1, text_start + 1 + name.len());
            let args_region = Span::new(name_span.end(), text_start + trimmed.len() - 1);
            let open = Directive::new(line.span, indent, name_span, args_region, line.eol);
            if stack.len() >= MAX_DEPTH {
                return Err(err(
                    text_start,
                    format!(
                        "sections are nested more than {MAX_DEPTH} deep; tlsmend stops here rather than guess"
                    ),
                ));
            }
            stack.push(nodes.len());
            // Completed when it closes.
            Node::Section(Section {
                open,
                close: Span::MAX,
                inside: 0,
            })
        } else {
            let (_, name) = name_token(text).expect("a name never fails");
            let name_len = name.len().max(1);
            let name_span = Span::new(text_start, text_start + name_len);
            Node::Directive(Directive::new(
                line.span,
                indent,
                name_span,
                Span::new(name_span.end(), line.body.end()),
                line.eol,
            ))
        };
        nodes.push(node);
    }
    if let Some(open_at) = stack.pop() {
        let Node::Section(Section { open, .. }) = nodes[open_at] else {
            unreachable!("the stack holds the places of sections");
        };
        let name = String::from_utf8_lossy(open.name.slice(bytes)).into_owned();
        return Err(err(
            open.indent().end(),
            format!("<{name}> is never closed: add a </{name}> line after its contents"),
        ));
    }
    Ok(Config { nodes })
}

/// Checks that the spans of the sibling list `nodes` tile `start..end` with
/// no gap or overlap.
pub fn check_tiling(nodes: &[Node], start: usize, end: usize) -> Result<(), String> {
    let mut at = start;
    for (n, children) in siblings(nodes) {
        let span = n.span();
        if span.start() != at {
            return Err(format!(
                "gap or overlap at byte {at} (node starts at {})",
                span.start()
            ));
        }
        if let Node::Section(s) = n {
            check_tiling(
                children,
                s.open.span.end(),
                s.close.start().max(s.open.span.end()),
            )?;
        }
        at = span.end();
    }
    if at != end {
        return Err(format!("nodes end at {at}, expected {end}"));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn p(s: &str) -> Config {
        let c = parse(Path::new("t.conf"), s.as_bytes()).unwrap();
        check_tiling(&c.nodes, 0, s.len()).unwrap();
        c
    }

    /// The paths of every Apache file of the shared corpus (or
    /// `TLSMEND_CORPUS`), valid and invalid; the loader's tests read it too.
    pub(crate) fn corpus_paths() -> Vec<std::path::PathBuf> {
        let corpus = std::env::var_os("TLSMEND_CORPUS")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"))
            .join("apache");
        let mut files = Vec::new();
        for dir in [corpus.clone(), corpus.join("invalid")] {
            let listing = std::fs::read_dir(&dir).unwrap_or_else(|e| {
                panic!("cannot list {} ({e}); set TLSMEND_CORPUS", dir.display())
            });
            files.extend(listing.flatten().map(|e| e.path()).filter(|p| p.is_file()));
        }
        files
    }

    /// The bytes of every file of [`corpus_paths`].
    fn corpus_files() -> Vec<Vec<u8>> {
        corpus_paths()
            .iter()
            .filter_map(|p| std::fs::read(p).ok())
            .collect()
    }

    /// The made cases `made`, then every corpus file.
    fn made_and_corpus(made: &[&[u8]]) -> Vec<Vec<u8>> {
        let mut all: Vec<Vec<u8>> = made.iter().map(|b| b.to_vec()).collect();
        all.extend(corpus_files());
        all
    }

    /// The logical lines are the physical lines ([`super::lex::PhysLines`])
    /// joined while one ends with a continuation and another follows: on
    /// every Apache corpus file and on made edge cases (CR before LF, a
    /// lone CR, blanks after the backslash, a backslash on the last line,
    /// no final newline, an empty line after a continuation).
    #[test]
    fn logical_lines_join_physical_lines() {
        fn reference(bytes: &[u8]) -> Vec<(Span, Span, Span)> {
            let mut phys = super::super::lex::PhysLines::new(bytes);
            let mut out = Vec::new();
            while let Some(first) = phys.next() {
                let mut last = first;
                while !last.eol.is_empty() && ends_with_continuation(last.content.slice(bytes)) {
                    match phys.next() {
                        Some(next) => last = next,
                        None => break,
                    }
                }
                out.push((
                    Span::new(first.content.start(), last.eol.end()),
                    Span::new(first.content.start(), last.content.end()),
                    last.eol,
                ));
            }
            out
        }
        let files = made_and_corpus(&[
            &b""[..],
            b"\n",
            b"a",
            b"a\\",
            b"a\\\n",
            b"a \\ \t\r\nb\r\n",
            b"a\\\r\r\nb",
            b"a\\\n\n\\\nc\\\n",
            b"x\ry\\\rz\n",
            b"\\\n\\\n\\",
            b"a\\\x0b\x0c\nb\\ \n",
        ]);
        assert!(files.len() > 50);
        for bytes in &files {
            let ours: Vec<(Span, Span, Span)> = LogicalLines::new(bytes)
                .map(|l| (l.span, l.body, l.eol))
                .collect();
            assert_eq!(
                ours,
                reference(bytes),
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    /// A run of lines with no section line parses, into no section: on
    /// every run of one to four logical lines of every Apache file of the
    /// shared corpus, valid and invalid, and on lines made for the edges
    /// (a `<` after a continuation, after blanks, in a comment).
    #[test]
    fn runs_without_a_section_line_parse_into_no_section() {
        let files = made_and_corpus(&[
            b"A b \\\n<c>\n# <x>\n \t</y>\n\t\x0b<z\nD \\\r\n  </q>\r\n",
            b"<If x>\nA\n</If>\n</Else>\n<a",
        ]);
        let (mut plain, mut sectioned) = (0, 0);
        for bytes in &files {
            let starts = logical_line_starts(bytes);
            for (k, &start) in starts.iter().enumerate() {
                for n in 1..=4 {
                    let end = starts.get(k + n).copied().unwrap_or(bytes.len());
                    let run = &bytes[start..end];
                    let parsed = parse(Path::new("t.conf"), run);
                    if has_section_line(run) {
                        sectioned += 1;
                        continue;
                    }
                    plain += 1;
                    let nodes = parsed.unwrap_or_else(|e| panic!("{e}: {run:?}")).nodes;
                    assert!(
                        !nodes.iter().any(|n| matches!(n, Node::Section(_))),
                        "{run:?}"
                    );
                }
            }
        }
        assert!(plain > 10_000 && sectioned > 1_000, "{plain} {sectioned}");
    }

    /// The derived indentation and line ending of every directive and
    /// section line: blanks up to the name or the `<`, and `\n`, `\r\n` or
    /// nothing at the end of the line, continued lines included.
    #[test]
    fn indent_and_eol_are_derived_from_the_line() {
        let src = "Listen 80\r\n\t<VirtualHost *:443>\n  \t SSLEngine on\r\n    Header set \\\r\n  X y\n\
                   <IfModule x>\nA b\n</IfModule>\n  </VirtualHost>\nLast line";
        let c = p(src);
        let b = src.as_bytes();
        // The flat list holds every node in the file's order.
        let seen: Vec<Directive> = c
            .nodes
            .iter()
            .filter_map(|n| match n {
                Node::Directive(d) => Some(*d),
                Node::Section(s) => Some(s.open),
                Node::Trivia(_) => None,
            })
            .collect();
        let shown: Vec<(&str, &str, &str)> = seen
            .iter()
            .map(|d| {
                let s = |sp: Span| std::str::from_utf8(sp.slice(b)).unwrap();
                (s(d.indent()), s(d.name), s(d.eol()))
            })
            .collect();
        assert_eq!(
            shown,
            [
                ("", "Listen", "\r\n"),
                ("\t", "VirtualHost", "\n"),
                ("  \t ", "SSLEngine", "\r\n"),
                ("    ", "Header", "\n"),
                ("", "IfModule", "\n"),
                ("", "A", "\n"),
                ("", "Last", ""),
            ]
        );
    }

    #[test]
    fn directives_sections_and_trivia() {
        let src = "# c\n\nListen 80\n<VirtualHost *:443>\n  SSLEngine on\n</VirtualHost>\n";
        let c = p(src);
        assert_eq!((c.top().count(), c.nodes.len()), (4, 5));
        let Some((Node::Section(s), children)) = c.top().nth(3) else {
            panic!()
        };
        assert!(s.open.name_is(src.as_bytes(), "virtualhost"));
        assert_eq!(s.open.arg_values(src.as_bytes()), vec!["*:443"]);
        assert_eq!((s.inside(), children.len()), (1, 1));
        assert!(
            matches!(children[0], Node::Directive(d) if d.name_is(src.as_bytes(), "sslengine"))
        );
    }

    /// The flat list reads back as the tree it stands for: sections inside
    /// sections, a closing line that closes two, and siblings after a
    /// nested section.
    #[test]
    fn siblings_read_the_flat_list_as_a_tree() {
        let src = "A 1
<IfModule x>
<VirtualHost *:443>
  B 2
  <Directory /d>
    C 3
  </Directory>
  D 4
</VirtualHost> </IfModule>
# end
";
        let c = p(src);
        let b = src.as_bytes();
        fn shape(nodes: &[Node], b: &[u8]) -> String {
            siblings(nodes)
                .map(|(n, inside)| match n {
                    Node::Directive(d) => String::from_utf8_lossy(d.name.slice(b)).into_owned(),
                    Node::Section(s) => format!(
                        "<{}>[{}]",
                        String::from_utf8_lossy(s.open.name.slice(b)),
                        shape(inside, b)
                    ),
                    Node::Trivia(_) => "#".into(),
                })
                .collect::<Vec<_>>()
                .join(" ")
        }
        assert_eq!(
            shape(&c.nodes, b),
            "A <IfModule>[<VirtualHost>[B <Directory>[C] D]] #"
        );
        let Node::Section(outer) = c.nodes[1] else {
            panic!()
        };
        assert_eq!(outer.inside(), 5);
        assert!(outer.close.is_empty() && outer.close.start() == src.find("# end").unwrap());
    }

    /// The name table holds exactly the bytes the name ends at.
    #[test]
    fn a_name_ends_at_a_blank_a_gt_a_line_ending_or_a_backslash() {
        for b in 0..=255u8 {
            let ends = is_hspace(b) || b">\r\n\\".contains(&b);
            let text = [b'A', b'b', b, b'c'];
            let (rest, name) = name_token(&text).unwrap();
            let expected: &[u8] = if ends { b"Ab" } else { &text };
            assert_eq!(name, expected, "byte {b:#04x}");
            assert_eq!(rest.len(), 4 - name.len());
        }
        assert_eq!(name_token(b"").unwrap().1, b"");
    }

    #[test]
    fn quoted_arguments_keep_escapes() {
        let src = r#"LogFormat "%h \"%r\" %>s" 'x y' bare"#;
        let c = p(src);
        let Node::Directive(d) = &c.nodes[0] else {
            panic!()
        };
        assert_eq!(
            d.arg_values(src.as_bytes()),
            vec![r#"%h "%r" %>s"#, "x y", "bare"]
        );
        assert!(d.eol().is_empty());
    }

    #[test]
    fn continuation_lines_join() {
        let src = "BrowserMatch \"MSIE\" \\\r\n    nokeepalive \\\n  x\nNext on\n";
        let c = p(src);
        assert_eq!(c.nodes.len(), 2);
        let Node::Directive(d) = &c.nodes[0] else {
            panic!()
        };
        assert_eq!(
            d.arg_values(src.as_bytes()),
            vec!["MSIE", "nokeepalive", "x"]
        );
    }

    /// What separates arguments: blanks of every kind (tab, vertical tab,
    /// form feed), a CR, and a continuation with blanks before its line
    /// ending; a backslash followed by anything else is part of a word, and
    /// so is one at the end of the file's last line (no line follows).
    #[test]
    fn arguments_split_where_httpd_splits_them() {
        let src = "Header \t\x0bset\x0c X-A \\x \\ \t\r\n  b\\ \\\n\tc\r d\\\n";
        let c = p(src);
        let Node::Directive(d) = &c.nodes[0] else {
            panic!()
        };
        assert_eq!(
            d.arg_values(src.as_bytes()),
            vec!["set", "X-A", "\\x", "b\\", "c", "d\\"]
        );
        let spans: Vec<&str> = d
            .args(src.as_bytes())
            .iter()
            .map(|a| std::str::from_utf8(a.span.slice(src.as_bytes())).unwrap())
            .collect();
        assert_eq!(spans, ["set", "X-A", "\\x", "b\\", "c", "d\\"]);
        assert_eq!(
            std::str::from_utf8(d.args_span(src.as_bytes()).unwrap().slice(src.as_bytes())),
            Ok("set\x0c X-A \\x \\ \t\r\n  b\\ \\\n\tc\r d\\")
        );
    }

    /// A bare word ends where the byte-by-byte reading httpd's splits it:
    /// checked against that reading on every suffix of tricky lines and of
    /// every corpus file.
    #[test]
    fn a_bare_word_ends_where_a_byte_by_byte_reading_ends_it() {
        fn reference(i: &[u8]) -> usize {
            let mut k = 0;
            while k < i.len() {
                if is_hspace(i[k]) || i[k] == b'\n' || i[k] == b'\r' {
                    break;
                }
                if i[k] == b'\\' && continuation(&i[k..]).is_ok() {
                    break;
                }
                k += 1;
            }
            k
        }
        let inputs = made_and_corpus(&[
            &b"a\\b\\ \n c\\"[..],
            b"x\\\r\ny \\\\\t\n",
            b"\\ \t \\x\x0c\x0bq\r",
            b"plain-word_with.dots/and:colons",
        ]);
        for input in &inputs {
            for start in 0..input.len().min(4096) {
                let i = &input[start..];
                let expected = reference(i);
                match bare_word(i) {
                    Ok((rest, word)) => {
                        assert_eq!((word.len(), rest.len()), (expected, i.len() - expected))
                    }
                    Err(_) => assert_eq!(expected, 0, "{:?}", &i[..i.len().min(20)]),
                }
            }
        }
    }

    /// Sections nest up to [`MAX_DEPTH`] deep; one more is refused at its
    /// opening line, not read past.
    #[test]
    fn sections_nest_up_to_the_limit_and_no_deeper() {
        let nested = |depth: usize| {
            let mut text = "<IfModule m>\n".repeat(depth);
            text.push_str("A b\n");
            text.push_str(&"</IfModule>\n".repeat(depth));
            text
        };
        let c = p(&nested(MAX_DEPTH));
        assert_eq!(c.nodes.len(), MAX_DEPTH + 1);
        let e = parse(Path::new("deep.conf"), nested(MAX_DEPTH + 1).as_bytes()).unwrap_err();
        let e = e.to_string();
        assert!(e.contains(&format!("deep.conf:{}:1", MAX_DEPTH + 1)), "{e}");
        assert!(e.contains("nested more than 128 deep"), "{e}");
    }

    #[test]
    fn two_closing_tags_on_one_line() {
        p("<IfModule ssl>\n<VirtualHost *:443>\nA b\n</VirtualHost> </IfModule>\n");
    }

    #[test]
    fn section_argument_may_hold_a_greater_than_sign() {
        let src = "<If \"%{REQUEST_URI} > '/a'\">\nRequire all denied\n</If>";
        let c = p(src);
        let Node::Section(s) = &c.nodes[0] else {
            panic!()
        };
        assert_eq!(
            s.open.arg_values(src.as_bytes()),
            vec!["%{REQUEST_URI} > '/a'"]
        );
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = parse(Path::new("x.conf"), b"<VirtualHost *:80>\nA\n").unwrap_err();
        assert_eq!((e.line, e.column), (1, 1));
        let e = parse(Path::new("x.conf"), b"A\n  </Directory>\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 3));
        let e = parse(Path::new("x.conf"), b"<Files a>\n</Directory>\n").unwrap_err();
        assert!(e.message.contains("does not match"), "{}", e.message);
        let e = parse(Path::new("x.conf"), b"<Files a\n").unwrap_err();
        assert_eq!(e.line, 1);
    }
}
