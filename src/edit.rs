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
            self.first.start, self.first.end, self.second.start, self.second.end
        )
    }
}

impl std::error::Error for Overlap {}

/// Applies `patches` to `original`. Insertions at the same offset keep the
/// order they were given in.
pub fn apply_patches(original: &[u8], patches: &[Patch]) -> Result<Vec<u8>, Overlap> {
    let mut order: Vec<&Patch> = patches.iter().collect();
    order.sort_by_key(|p| (p.span.start, p.span.end));
    for w in order.windows(2) {
        let (a, b) = (w[0].span, w[1].span);
        if b.start < a.end || (a == b && !a.is_empty()) {
            return Err(Overlap {
                first: a,
                second: b,
            });
        }
    }
    let mut out =
        Vec::with_capacity(original.len() + patches.iter().map(|p| p.bytes.len()).sum::<usize>());
    let mut at = 0;
    for p in order {
        out.extend_from_slice(&original[at..p.span.start]);
        out.extend_from_slice(&p.bytes);
        at = p.span.end;
    }
    out.extend_from_slice(&original[at..]);
    Ok(out)
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
}
