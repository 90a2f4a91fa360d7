//! Proving that patches keep a valid Apache file valid by reading back only
//! the logical lines they touch, not the whole file.
//!
//! httpd's reader (and [`super::apache`]) sees a file as a sequence of
//! logical lines, each read on its own, and sections as brackets matched
//! on a stack. So in a valid file, a run of whole logical lines whose
//! sections balance can be replaced by another such run and the file stays
//! valid, provided:
//! - the run starts where a logical line starts (nothing before it
//!   continues into it: the bytes before are untouched);
//! - the new run ends its last line (a line ending with no continuation
//!   backslash) or reaches the end of the file, so it cannot swallow the
//!   line after it;
//! - the new run opens no section, so the nesting depth around it cannot
//!   pass [`super::apache::MAX_DEPTH`];
//! - the old and the new run each parse on their own (so each is balanced).
//!
//! Runs that meet these conditions and do not overlap can be replaced in any
//! combination. Whatever is not proved this way is read back whole by the
//! caller.

use super::apache::{has_section_line, logical_line_starts, parse};
use crate::edit::{Patch, apply_patches};
use crate::source::Span;
use std::path::Path;

/// Where the logical lines of a file start, for finding the run of whole
/// lines around a patch.
#[derive(Debug, Clone)]
pub struct LineStarts {
    starts: Vec<usize>,
    len: usize,
}

impl LineStarts {
    pub fn of(bytes: &[u8]) -> Self {
        LineStarts {
            starts: logical_line_starts(bytes),
            len: bytes.len(),
        }
    }

    /// The run of whole logical lines that holds `span`: empty at `span`
    /// when it is an insertion where a line starts.
    fn around(&self, span: Span) -> Span {
        let first = self.starts.partition_point(|&s| s <= span.start());
        if span.is_empty() && first > 0 && self.starts[first - 1] == span.start() {
            return span;
        }
        let start = if first == 0 {
            0
        } else {
            self.starts[first - 1]
        };
        let after = self
            .starts
            .partition_point(|&s| s < span.end().max(start + 1));
        let end = self.starts.get(after).copied().unwrap_or(self.len);
        Span::new(start, end.max(span.end()))
    }
}

/// The runs of whole logical lines that `patches` (one change's, on one
/// file) replace, when the module doc's conditions prove the result valid;
/// `None` when they do not (read the whole result back instead).
/// `bytes` must be a valid file and `lines` its [`LineStarts`].
pub fn proved_runs(
    path: &Path,
    bytes: &[u8],
    lines: &LineStarts,
    patches: &[&Patch],
) -> Option<Vec<Span>> {
    let mut order: Vec<&Patch> = patches.to_vec();
    order.sort_by_key(|p| (p.span.start(), p.span.end()));
    // Runs around each patch, merged where they share bytes (two patches
    // on one line).
    let mut runs: Vec<(Span, Vec<&Patch>)> = Vec::new();
    for p in order {
        let run = lines.around(p.span);
        match runs.last_mut() {
            Some((last, members)) if run.start() < last.end() => {
                *last = Span::new(last.start(), last.end().max(run.end()));
                members.push(p);
            }
            _ => runs.push((run, vec![p])),
        }
    }
    let mut out = Vec::with_capacity(runs.len());
    for (run, members) in runs {
        let old = run.slice(bytes);
        let shifted: Vec<Patch> = members
            .iter()
            .map(|p| {
                Patch::replace(
                    Span::new(p.span.start() - run.start(), p.span.end() - run.start()),
                    p.bytes.clone(),
                )
            })
            .collect();
        let new = apply_patches(old, &shifted).ok()?;
        if run.end() < bytes.len() && !ends_its_line(&new) {
            return None;
        }
        // Lines that open or close no section always parse, into no
        // section: the tree is built only for runs that hold one.
        if has_section_line(old) && parse(path, old).is_err() {
            return None;
        }
        // A section line in the result fails to parse or makes a section:
        // either way the run is not proved on its own.
        if has_section_line(&new) {
            return None;
        }
        out.push(run);
    }
    Some(out)
}

/// Whether `run` is empty or ends with a line ending that no continuation
/// backslash joins to the next line.
fn ends_its_line(run: &[u8]) -> bool {
    if run.is_empty() {
        return true;
    }
    if run.last() != Some(&b'\n') {
        return false;
    }
    let body = &run[..run.len() - 1];
    let body = body.strip_suffix(b"\r").unwrap_or(body);
    super::lex::trim_end(body).last() != Some(&b'\\')
}

/// Whether two runs (from [`proved_runs`], of different changes) can both
/// be replaced: they share no byte, and an empty one (an insertion between
/// lines) is not inside the other.
pub fn apart(a: Span, b: Span) -> bool {
    let inside = |p: usize, s: Span| s.start() < p && p < s.end();
    match (a.is_empty(), b.is_empty()) {
        (true, true) => true,
        (true, false) => !inside(a.start(), b),
        (false, true) => !inside(b.start(), a),
        (false, false) => a.end() <= b.start() || b.end() <= a.start(),
    }
}
