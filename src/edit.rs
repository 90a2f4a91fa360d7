//! Byte patches: the only way tlsmend changes a file.
//!
//! A patch replaces one span of the original bytes (an empty span inserts).
//! Patches are sorted, checked for overlap and applied back to front; bytes
//! outside every patch are copied unchanged, so an untouched line cannot
//! change.

use crate::source::Span;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    pub span: Span,
    pub bytes: Vec<u8>,
}

impl Patch {
    pub fn replace(span: Span, bytes: impl Into<Vec<u8>>) -> Self {
        Patch {
            span,
            bytes: bytes.into(),
        }
    }
    pub fn insert(at: usize, bytes: impl Into<Vec<u8>>) -> Self {
        Patch {
            span: Span::empty(at),
            bytes: bytes.into(),
        }
    }
}

/// Two patches that would change the same bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overlap {
    pub first: Span,
    pub second: Span,
}

impl std::fmt::Display for Overlap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "two planned changes touch the same bytes ({}..{} and {}..{})",
            self.first.start(),
            self.first.end(),
            self.second.start(),
            self.second.end()
        )
    }
}

impl std::error::Error for Overlap {}

/// The first two of `patches` that change the same bytes, if any: spans
/// that intersect, an insertion strictly inside a span, or one span twice.
/// Insertions at one point, and a span next to another, do not overlap.
pub fn first_overlap(patches: &[&Patch]) -> Option<Overlap> {
    let mut order = patches.to_vec();
    order.sort_by_key(|p| (p.span.start(), p.span.end()));
    overlap_in_order(&order)
}

/// [`first_overlap`] of patches already sorted by start and end: checking
/// neighbours is enough.
fn overlap_in_order(order: &[&Patch]) -> Option<Overlap> {
    order.windows(2).find_map(|w| {
        let (a, b) = (w[0].span, w[1].span);
        (b.start() < a.end() || (a == b && !a.is_empty())).then_some(Overlap {
            first: a,
            second: b,
        })
    })
}

/// Applies `patches` to `original`. Insertions at the same offset keep the
/// order they were given in.
pub fn apply_patches(original: &[u8], patches: &[Patch]) -> Result<Vec<u8>, Overlap> {
    apply_borrowed_patches(original, patches.iter().collect())
}

/// [`apply_patches`] for patches held elsewhere (the changes' own edits),
/// not copied into a list of their own.
pub fn apply_borrowed_patches(original: &[u8], mut order: Vec<&Patch>) -> Result<Vec<u8>, Overlap> {
    // Stable: insertions at one offset keep their order.
    order.sort_by_key(|p| (p.span.start(), p.span.end()));
    if let Some(o) = overlap_in_order(&order) {
        return Err(o);
    }
    let mut out =
        Vec::with_capacity(original.len() + order.iter().map(|p| p.bytes.len()).sum::<usize>());
    let mut at = 0;
    for p in order {
        out.extend_from_slice(&original[at..p.span.start()]);
        out.extend_from_slice(&p.bytes);
        at = p.span.end();
    }
    out.extend_from_slice(&original[at..]);
    Ok(out)
}

/// The patches of the changes accepted so far, by file and start, so that
/// a new change is checked against all of them without rendering a file:
/// it finds the first accepted change whose patches overlap the new one's,
/// as [`apply_patches`] judges overlap. Accepted patches never overlap one
/// another (a change that would is not accepted), so ordered by start they
/// are ordered by end too, and a search walks back only over what it hits:
/// thousands of changes on one file stay near-linear.
#[derive(Debug, Default)]
pub struct AcceptedPatches {
    by_file: rustc_hash::FxHashMap<usize, std::collections::BTreeSet<(usize, usize, usize)>>,
}

impl AcceptedPatches {
    /// Records change `change`'s `edits` (file index, patch) as accepted.
    /// Its own patches that overlap one another (a rule's bug, which vet
    /// drops) are recorded as the span they cover together, so that the
    /// accepted spans stay apart and the search stays exact.
    pub fn accept(&mut self, change: usize, edits: &[(usize, Patch)]) {
        // Most changes are one patch: nothing to sort or merge.
        if let [(f, p)] = edits {
            self.by_file
                .entry(*f)
                .or_default()
                .insert((p.span.start(), p.span.end(), change));
            return;
        }
        let mut spans: Vec<(usize, usize, usize)> = edits
            .iter()
            .map(|(f, p)| (*f, p.span.start(), p.span.end()))
            .collect();
        spans.sort_unstable();
        let mut merged: Vec<(usize, usize, usize)> = Vec::with_capacity(spans.len());
        for (f, start, end) in spans {
            match merged.last_mut() {
                Some((g, _, e)) if *g == f && start < *e => *e = (*e).max(end),
                _ => merged.push((f, start, end)),
            }
        }
        for (f, start, end) in merged {
            self.by_file
                .entry(f)
                .or_default()
                .insert((start, end, change));
        }
    }

    /// The lowest accepted change with a patch overlapping one of `edits`
    /// in the same file: that change, the file and the two spans.
    pub fn first_overlap(&self, edits: &[(usize, Patch)]) -> Option<(usize, usize, Overlap)> {
        let mut first: Option<(usize, usize, Overlap)> = None;
        for (f, p) in edits {
            let Some(set) = self.by_file.get(f) else {
                continue;
            };
            let (s, e) = (p.span.start(), p.span.end());
            for &(start, end, k) in set.range(..(e, 0, 0)).rev() {
                if end <= s {
                    break;
                }
                if first.as_ref().is_none_or(|(m, _, _)| k < *m) {
                    let accepted = Span::new(start, end);
                    first = Some((
                        k,
                        *f,
                        Overlap {
                            first: accepted.min(p.span),
                            second: accepted.max(p.span),
                        },
                    ));
                }
            }
        }
        first
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_apply_and_keep_the_rest() {
        let src = b"one two three";
        let out = apply_patches(
            src,
            &[
                Patch::replace(Span::new(4, 7), "2"),
                Patch::insert(0, ">"),
                Patch::insert(13, "!"),
            ],
        )
        .unwrap();
        assert_eq!(out, b">one 2 three!");
        assert_eq!(apply_patches(src, &[]).unwrap(), src);
    }

    #[test]
    fn overlapping_patches_are_refused() {
        let r = apply_patches(
            b"abcdef",
            &[
                Patch::replace(Span::new(0, 3), "x"),
                Patch::replace(Span::new(2, 4), "y"),
            ],
        );
        assert!(r.is_err());
    }

    #[test]
    fn insertions_at_one_point_keep_their_order() {
        let out = apply_patches(b"ab", &[Patch::insert(1, "1"), Patch::insert(1, "2")]).unwrap();
        assert_eq!(out, b"a12b");
    }

    #[test]
    fn accepted_patches_find_the_first_overlap_as_apply_judges_it() {
        let p = |a: usize, b: usize| (0usize, Patch::replace(Span::new(a, b), "x"));
        let ins = |f: usize, at: usize| (f, Patch::insert(at, "y"));
        let mut s = AcceptedPatches::default();
        s.accept(0, &[p(10, 20)]);
        s.accept(1, &[p(30, 40), ins(0, 25)]);
        s.accept(2, &[(1, Patch::replace(Span::new(10, 20), "z"))]);
        let first = |e: &[(usize, Patch)]| s.first_overlap(e).map(|(k, _, _)| k);
        assert_eq!(first(&[p(20, 25)]), None, "spans that touch");
        assert_eq!(first(&[p(20, 30)]), Some(1), "an insertion inside the span");
        assert_eq!(first(&[p(15, 16)]), Some(0));
        assert_eq!(first(&[p(19, 31)]), Some(0));
        assert_eq!(first(&[p(24, 26)]), Some(1));
        assert_eq!(first(&[ins(0, 25)]), None, "insertions at one point");
        assert_eq!(first(&[ins(0, 10)]), None, "an insertion before a span");
        assert_eq!(first(&[ins(0, 35)]), Some(1));
        assert_eq!(first(&[p(10, 20)]), Some(0), "the same span");
        assert_eq!(first(&[p(0, 100)]), Some(0));
        assert_eq!(first(&[ins(1, 15)]), Some(2), "by file");
        // A change whose own patches overlap (vet drops it) still blocks
        // what overlaps any of them.
        let mut t = AcceptedPatches::default();
        t.accept(0, &[p(10, 30), ins(0, 15)]);
        assert_eq!(t.first_overlap(&[p(20, 25)]).map(|(k, _, _)| k), Some(0));
        // The same verdicts as apply_patches on the two changes together.
        let all = [p(10, 20), p(30, 40), ins(0, 25)];
        for probe in [
            p(20, 25),
            p(20, 30),
            p(15, 16),
            ins(0, 25),
            ins(0, 10),
            p(10, 20),
        ] {
            let mut v: Vec<Patch> = all.iter().map(|(_, q)| q.clone()).collect();
            v.push(probe.1.clone());
            assert_eq!(
                apply_patches(b"0123456789012345678901234567890123456789012", &v).is_err(),
                first(std::slice::from_ref(&probe)).is_some(),
                "{probe:?}"
            );
        }
    }
}
