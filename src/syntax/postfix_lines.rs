//! Postfix's logical lines, shared by `main.cf` and `master.cf`.
//!
//! As in Postfix's `readllines()`: a line that starts with whitespace
//! continues the previous logical line; comment lines (`#` after optional
//! whitespace) and blank lines are skipped, also *inside* a continued entry,
//! which ends only at the next line that starts with neither whitespace nor
//! `#`. A comment or blank line after an entry's last continuation belongs
//! to no entry. Grammar: `grammars/postfix-main.ebnf`.

use super::lex::{PhysLine, is_hspace, physical_lines};
use crate::source::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Blank,
    Comment,
    /// Starts with whitespace and has text: a continuation.
    Continued,
    /// Starts with neither: the first line of an entry.
    First,
}

pub fn kind(bytes: &[u8], l: &PhysLine) -> LineKind {
    let c = l.content.slice(bytes);
    let ind = c
        .iter()
        .take_while(|&&b| is_hspace(b) || b == b'\r')
        .count();
    if ind == c.len() {
        LineKind::Blank
    } else if c[ind] == b'#' {
        LineKind::Comment
    } else if ind > 0 {
        LineKind::Continued
    } else {
        LineKind::First
    }
}

/// A run of physical lines: trivia, or one entry with its continuations
/// (and the comment/blank lines between them).
#[derive(Debug, Clone)]
pub enum Group {
    Trivia { line: PhysLine, kind: LineKind },
    Entry { lines: Vec<(PhysLine, LineKind)> },
}

impl Group {
    pub fn span(&self) -> Span {
        match self {
            Group::Trivia { line, .. } => line.span(),
            Group::Entry { lines } => Span::new(
                lines[0].0.content.start(),
                lines[lines.len() - 1].0.eol.end(),
            ),
        }
    }
}

pub fn groups(bytes: &[u8]) -> Vec<Group> {
    let lines: Vec<(PhysLine, LineKind)> = physical_lines(bytes)
        .into_iter()
        .map(|l| (l, kind(bytes, &l)))
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let (line, k) = lines[i];
        if k != LineKind::First {
            // A continuation with no entry before it: Postfix warns and ignores it.
            out.push(Group::Trivia { line, kind: k });
            i += 1;
            continue;
        }
        let mut last = i;
        let mut j = i + 1;
        while j < lines.len() {
            match lines[j].1 {
                LineKind::Blank | LineKind::Comment => j += 1,
                LineKind::Continued => {
                    last = j;
                    j += 1;
                }
                LineKind::First => break,
            }
        }
        out.push(Group::Entry {
            lines: lines[i..=last].to_vec(),
        });
        i = last + 1;
    }
    out
}

/// Whitespace-separated tokens of `segments` (spans into `bytes`); a token
/// that starts with `{` runs to the matching `}` (Postfix 3.0 grouping), even
/// across segments.
pub fn tokens(bytes: &[u8], segments: &[Span]) -> Vec<Token> {
    let mut out = Vec::new();
    let mut open: Option<(usize, usize)> = None; // (start, depth)
    for seg in segments {
        let mut k = seg.start();
        while k < seg.end() {
            let b = bytes[k];
            if let Some((start, depth)) = open.as_mut() {
                if b == b'{' {
                    *depth += 1;
                } else if b == b'}' {
                    *depth -= 1;
                    if *depth == 0 {
                        out.push(Token {
                            span: Span::new(*start, k + 1),
                            braced: true,
                        });
                        open = None;
                    }
                }
                k += 1;
                continue;
            }
            if is_hspace(b) || b == b'\r' {
                k += 1;
                continue;
            }
            if b == b'{' {
                open = Some((k, 1));
                k += 1;
                continue;
            }
            let start = k;
            while k < seg.end() && !is_hspace(bytes[k]) && bytes[k] != b'\r' {
                k += 1;
            }
            out.push(Token {
                span: Span::new(start, k),
                braced: false,
            });
        }
    }
    if let Some((start, _)) = open {
        let end = segments.last().map_or(start, |s| s.end());
        out.push(Token {
            span: Span::new(start, end),
            braced: true,
        });
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub span: Span,
    pub braced: bool,
}

impl Token {
    pub fn text(&self, bytes: &[u8]) -> String {
        String::from_utf8_lossy(self.span.slice(bytes)).into_owned()
    }
    /// For `{ name = value }`: the text inside the braces, trimmed.
    pub fn inner(&self, bytes: &[u8]) -> Span {
        if !self.braced {
            return self.span;
        }
        let s = self.span.slice(bytes);
        let end = if s.last() == Some(&b'}') {
            s.len() - 1
        } else {
            s.len()
        };
        let mut a = 1;
        let mut b = end;
        while a < b && is_hspace(s[a]) {
            a += 1;
        }
        while b > a && (is_hspace(s[b - 1]) || s[b - 1] == b'\r' || s[b - 1] == b'\n') {
            b -= 1;
        }
        Span::new(self.span.start() + a, self.span.start() + b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_inside_a_continued_entry_do_not_end_it() {
        let b = b"a = 1,\n# c\n\n  2\n# after\nb = 3\n  \n";
        let g = groups(b);
        assert_eq!(g.len(), 4);
        assert!(matches!(&g[0], Group::Entry { lines } if lines.len() == 4));
        assert!(matches!(
            g[1],
            Group::Trivia {
                kind: LineKind::Comment,
                ..
            }
        ));
        assert!(matches!(&g[2], Group::Entry { lines } if lines.len() == 1));
        assert!(matches!(
            g[3],
            Group::Trivia {
                kind: LineKind::Blank,
                ..
            }
        ));
    }

    #[test]
    fn braces_group_tokens() {
        let b = b"-o { name = a b } x";
        let t = tokens(b, &[Span::new(0, b.len())]);
        assert_eq!(t.len(), 3);
        assert!(t[1].braced);
        assert_eq!(t[1].inner(b).slice(b), b"name = a b");
    }
}
