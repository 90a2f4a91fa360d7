//! Lossless parser for Postfix `main.cf`.
//!
//! Grammar: `grammars/postfix-main.ebnf`. Entries are `name = value` logical
//! lines (see [`super::postfix_lines`]); `#` starts a comment only at the
//! start of a line, so mid-line it is part of the value; `$name`, `${name}`,
//! `${name?value}` and `${name:value}` are kept as written. A logical line
//! without `=` is kept (so the file still round-trips) and marked: Postfix
//! refuses such a file, and tlsmend reports it instead of editing it.

use super::lex::{PhysLine, hspace, is_hspace, trim_end};
use super::postfix_lines::{Group, LineKind, groups};
use crate::source::{ParseError, Span};
use std::path::Path;

#[derive(Debug, Clone)]
pub struct MainCf {
    pub groups: Vec<Group>,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub span: Span,
    pub name: Span,
    /// The `=`; `None` when the line has none (Postfix: "missing '='").
    pub eq: Option<Span>,
    /// The value's text on each physical line, trimmed; comment lines have none.
    pub segments: Vec<Span>,
    pub lines: Vec<(PhysLine, LineKind)>,
}

impl Entry {
    pub fn name_str(&self, bytes: &[u8]) -> String {
        String::from_utf8_lossy(self.name.slice(bytes)).into_owned()
    }
    /// The value as Postfix joins it: segments separated by one space.
    pub fn value(&self, bytes: &[u8]) -> String {
        self.segments
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| String::from_utf8_lossy(s.slice(bytes)).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }
    pub fn line_end(&self) -> usize {
        self.span.end()
    }
}

fn trimmed(bytes: &[u8], start: usize, end: usize) -> Span {
    let s = &bytes[start..end];
    let t = trim_end(s);
    let t_len = t
        .iter()
        .rposition(|&b| !(is_hspace(b) || b == b'\r'))
        .map_or(0, |p| p + 1);
    Span::new(start, start + t_len.min(t.len()))
}

pub fn parse(path: &Path, bytes: &[u8]) -> Result<MainCf, ParseError> {
    crate::source::fits(path, bytes)?;
    let gs = groups(bytes);
    let mut entries = Vec::new();
    for g in &gs {
        let Group::Entry { lines } = g else { continue };
        let first = lines[0].0.content;
        let text = first.slice(bytes);
        let name_len = text
            .iter()
            .take_while(|&&b| !is_hspace(b) && b != b'=' && b != b'\r')
            .count();
        let name = Span::new(first.start(), first.start() + name_len);
        let (after, _) = hspace(&text[name_len..]).expect("hspace");
        let eq_at = first.start() + (text.len() - after.len());
        let mut segments = Vec::new();
        let eq = if after.first() == Some(&b'=') && name_len > 0 {
            let (v, _) = hspace(&after[1..]).expect("hspace");
            let vstart = first.end() - v.len();
            segments.push(trimmed(bytes, vstart, first.end()));
            for (l, k) in &lines[1..] {
                if *k == LineKind::Continued {
                    let c = l.content.slice(bytes);
                    let ind = c.iter().take_while(|&&b| is_hspace(b)).count();
                    segments.push(trimmed(bytes, l.content.start() + ind, l.content.end()));
                }
            }
            Some(Span::new(eq_at, eq_at + 1))
        } else {
            None
        };
        entries.push(Entry {
            span: g.span(),
            name,
            eq,
            segments,
            lines: lines.clone(),
        });
    }
    Ok(MainCf {
        groups: gs,
        entries,
    })
}

impl MainCf {
    pub fn check_tiling(&self, len: usize) -> Result<(), String> {
        super::lex::check_spans(self.groups.iter().map(|g| g.span()), len)
    }

    /// The entry that takes effect for `name` (the last one), and the
    /// earlier ones it shadows.
    pub fn lookup(&self, bytes: &[u8], name: &str) -> (Option<&Entry>, Vec<&Entry>) {
        let all: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| e.eq.is_some() && e.name.slice(bytes) == name.as_bytes())
            .collect();
        match all.split_last() {
            Some((last, rest)) => (Some(last), rest.to_vec()),
            None => (None, Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> MainCf {
        let m = parse(Path::new("main.cf"), s.as_bytes()).unwrap();
        m.check_tiling(s.len()).unwrap();
        m
    }

    #[test]
    fn entries_values_and_continuations() {
        let s = "a=1\nb  =  x # not a comment  \n# c\nc =\n    one,\n# inside\n\n    two\r\n";
        let m = p(s);
        let b = s.as_bytes();
        assert_eq!(m.entries.len(), 3);
        assert_eq!(m.entries[0].value(b), "1");
        assert_eq!(m.entries[1].value(b), "x # not a comment");
        assert_eq!(m.entries[2].value(b), "one, two");
        assert_eq!(m.entries[2].lines.len(), 5);
    }

    #[test]
    fn the_last_definition_wins() {
        let s = "x = 1\ny = 2\nx = 3\n";
        let m = p(s);
        let (eff, shadowed) = m.lookup(s.as_bytes(), "x");
        assert_eq!(eff.unwrap().value(s.as_bytes()), "3");
        assert_eq!(shadowed.len(), 1);
    }

    #[test]
    fn a_line_without_equals_is_kept_and_marked() {
        let s = "smt\n  -o x=yes\nok = 1";
        let m = p(s);
        assert!(m.entries[0].eq.is_none());
        assert_eq!(m.entries[1].value(s.as_bytes()), "1");
    }
}
