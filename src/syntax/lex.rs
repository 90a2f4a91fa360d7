//! Byte-level building blocks shared by the line-oriented parsers: physical
//! lines with their line endings, horizontal whitespace, and offsets.
//!
//! Every function here returns spans that cover its input exactly, so parsers
//! built from them keep the lossless invariant (spans tile the file).

use crate::source::Span;
use nom::bytes::complete::take_while;
use nom::{IResult, Offset, Parser};

/// One physical line: the content and its line ending (`\n`, `\r\n` or
/// nothing at the end of the file). A lone `\r` stays in the content.
#[derive(Clone, Copy, Debug)]
pub struct PhysLine {
    pub content: Span,
    pub eol: Span,
}

impl PhysLine {
    pub fn span(&self) -> Span {
        Span::new(self.content.start(), self.eol.end())
    }
}

pub const fn is_hspace(b: u8) -> bool {
    b == b' ' || b == b'\t' || b == b'\x0b' || b == b'\x0c'
}

pub fn hspace(i: &[u8]) -> IResult<&[u8], &[u8]> {
    take_while(is_hspace).parse(i)
}

fn line_body(i: &[u8]) -> IResult<&[u8], &[u8]> {
    let end = memchr::memchr(b'\n', i).unwrap_or(i.len());
    Ok((&i[end..], &i[..end]))
}

/// Splits `bytes` into physical lines; the spans tile `0..bytes.len()`.
pub fn physical_lines(bytes: &[u8]) -> Vec<PhysLine> {
    PhysLines::new(bytes).collect()
}

/// The physical lines of a file one by one, as [`physical_lines`] lists
/// them, for a parser that needs no list of them.
pub struct PhysLines<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> PhysLines<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        PhysLines { bytes, at: 0 }
    }
}

impl Iterator for PhysLines<'_> {
    type Item = PhysLine;
    fn next(&mut self) -> Option<PhysLine> {
        let rest = self.bytes.get(self.at..).filter(|r| !r.is_empty())?;
        let start = self.bytes.offset(rest);
        let (after, body) = line_body(rest).expect("take_till cannot fail on complete input");
        let mut content_end = start + body.len();
        let mut eol_end = content_end;
        if !after.is_empty() {
            eol_end += 1; // the '\n'
            if body.last() == Some(&b'\r') {
                content_end -= 1;
            }
        }
        self.at = eol_end;
        Some(PhysLine {
            content: Span::new(start, content_end),
            eol: Span::new(content_end, eol_end),
        })
    }
}

/// Checks that `spans`, in order, cover `0..len` with no gap or overlap:
/// the lossless invariant every parser keeps.
pub fn check_spans(spans: impl IntoIterator<Item = Span>, len: usize) -> Result<(), String> {
    let mut at = 0;
    for s in spans {
        if s.start() != at {
            return Err(format!(
                "gap or overlap at byte {at} (next span starts at {})",
                s.start()
            ));
        }
        at = s.end();
    }
    if at == len {
        Ok(())
    } else {
        Err(format!("spans end at byte {at} of {len}"))
    }
}

/// Length of the leading horizontal whitespace of `s`.
pub fn indent_len(s: &[u8]) -> usize {
    s.iter().take_while(|&&b| is_hspace(b)).count()
}

/// `s` without trailing horizontal whitespace.
pub fn trim_end(s: &[u8]) -> &[u8] {
    let n = s.iter().rev().take_while(|&&b| is_hspace(b)).count();
    &s[..s.len() - n]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn physical_lines_tile_the_input() {
        for input in [&b""[..], b"a", b"a\n", b"a\r\nb", b"\n\n", b"x\ry\r\n"] {
            let lines = physical_lines(input);
            let mut at = 0;
            for l in &lines {
                assert_eq!(l.content.start(), at);
                at = l.eol.end();
            }
            assert_eq!(at, input.len());
        }
        let l = physical_lines(b"a\r\nb");
        assert_eq!(l[0].eol, Span::new(1, 3));
        assert!(l[1].eol.is_empty());
    }
}
