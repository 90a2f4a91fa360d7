//! The comment lines of an Apache file, by the section they stand in
//! directly: all that the rules ask of a file's syntax tree once it is
//! loaded (to uncomment a `#SSLProtocol ...` line instead of adding one).
//!
//! The loader keeps this index per file and lets the tree itself go after
//! the file's walk: at 10,000 sites the nodes were a sixth of the peak of
//! the plan made again on the result.

use crate::source::Span;
use crate::syntax::apache::{Node, siblings};

/// One comment line (with any continuation lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommentLine {
    /// The whole line, indentation and line ending included.
    pub span: Span,
    /// The text after `#`, up to the line ending.
    pub comment: Span,
}

/// A file's comment lines, grouped by the section they are direct children
/// of, each group in the order of the file.
#[derive(Debug, Clone, Default)]
pub struct Comments {
    /// `(parent, line)`: the parent section's whole span, `None` at the top
    /// level of the file; sorted by parent, then by place in the file.
    lines: Vec<(Option<Span>, CommentLine)>,
}

impl Comments {
    /// The comment lines of the tree `nodes` (a whole file's).
    pub fn of(nodes: &[Node]) -> Comments {
        // Counted first (the flat list holds every node): one exact
        // allocation, none for a file without comments.
        let count = nodes
            .iter()
            .filter(|n| matches!(n, Node::Trivia(t) if t.comment.is_some()))
            .count();
        let mut lines = Vec::with_capacity(count);
        collect(nodes, None, &mut lines);
        // Stable: within one parent the lines stay in the file's order.
        lines.sort_by_key(|(parent, _)| parent.map(|p| (p.start(), p.end())));
        Comments { lines }
    }

    /// The comment lines that are direct children of the section whose
    /// whole span is `parent` (`None`: the top level), in the file's order.
    pub fn under(&self, parent: Option<Span>) -> impl Iterator<Item = &CommentLine> {
        let key = parent.map(|p| (p.start(), p.end()));
        let from = self
            .lines
            .partition_point(|(p, _)| p.map(|p| (p.start(), p.end())) < key);
        self.lines[from..]
            .iter()
            .take_while(move |(p, _)| *p == parent)
            .map(|(_, line)| line)
    }
}

fn collect(nodes: &[Node], parent: Option<Span>, out: &mut Vec<(Option<Span>, CommentLine)>) {
    for (node, inside) in siblings(nodes) {
        match node {
            Node::Trivia(t) => {
                if let Some(comment) = t.comment {
                    out.push((
                        parent,
                        CommentLine {
                            span: t.span,
                            comment,
                        },
                    ));
                }
            }
            Node::Directive(_) => {}
            Node::Section(_) => collect(inside, Some(node.span()), out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::apache;
    use std::path::Path;

    fn texts<'a>(bytes: &'a [u8], c: &Comments, parent: Option<Span>) -> Vec<&'a str> {
        c.under(parent)
            .map(|l| std::str::from_utf8(l.comment.slice(bytes)).unwrap())
            .collect()
    }

    #[test]
    fn comment_lines_are_found_under_their_own_section_in_file_order() {
        let bytes = b"#top1\n<VirtualHost *:443>\n  #a1\n  <Directory /x>\n    #inner\n  </Directory>\n  #a2\n</VirtualHost>\n#top2\n<VirtualHost *:80>\n  #b1\n</VirtualHost>\n";
        let cfg = apache::parse(Path::new("t.conf"), bytes).unwrap();
        let c = Comments::of(&cfg.nodes);
        let spans: Vec<Span> = cfg
            .top()
            .filter(|(n, _)| matches!(n, Node::Section(_)))
            .map(|(n, _)| n.span())
            .collect();
        assert_eq!(texts(bytes, &c, None), ["top1", "top2"]);
        assert_eq!(texts(bytes, &c, Some(spans[0])), ["a1", "a2"]);
        assert_eq!(texts(bytes, &c, Some(spans[1])), ["b1"]);
        let Some((Node::Section(_), first)) = cfg.top().nth(1) else {
            panic!("not a section")
        };
        let directory = siblings(first)
            .find(|(n, _)| matches!(n, Node::Section(_)))
            .unwrap()
            .0
            .span();
        assert_eq!(texts(bytes, &c, Some(directory)), ["inner"]);
        // A span that is no section's has no comment lines.
        assert!(texts(bytes, &c, Some(Span::new(0, 3))).is_empty());
    }

    #[test]
    fn a_file_without_comments_has_none_anywhere() {
        let bytes = b"Listen 80\n\n<VirtualHost *:80>\n</VirtualHost>\n";
        let cfg = apache::parse(Path::new("t.conf"), bytes).unwrap();
        let c = Comments::of(&cfg.nodes);
        assert!(texts(bytes, &c, None).is_empty());
        assert!(texts(bytes, &c, Some(cfg.top().nth(2).unwrap().0.span())).is_empty());
    }
}
