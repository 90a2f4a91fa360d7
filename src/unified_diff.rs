//! The unified diff of one file's old and new bytes: `similar`'s patience
//! diff, written as its `UnifiedDiff` writes it but with each line's own
//! bytes and each hunk at its place, and made without its cost (a dry run
//! of 10,000 site files spent more than half its instructions in
//! `TextDiff`: each line decoded as UTF-8 to split it, hashed with SipHash
//! into maps grown from empty, compared as bytes).
//!
//! Here the lines are split on bytes, and each distinct line is given a
//! number once; `similar`'s patience algorithm then runs on the numbers.
//! The diff depends only on which lines are equal (patience keeps the
//! lines that occur once, in the order of their positions, and Myers
//! between them compares only for equality), so the operations are the
//! ones `similar` finds on the lines themselves. They are grouped into
//! hunks by `similar` too. Two things differ from its writer, so that
//! `patch` applies the diff to the file as it is: a line that is not
//! UTF-8 is written as it is, not decoded lossily, and a hunk's header
//! names the lines where the hunk is (`in_place`). Tests compare the
//! two writers on generated files and apply every diff.

use rustc_hash::FxHashMap;
use similar::{Algorithm, ChangeTag, DiffOp};
use std::io::Write;

/// The unified diff of `old` to `new` under `---`/`+++` headers naming
/// `name`, with `context` lines around each change; empty when they have
/// the same lines.
pub fn unified_diff(name: &str, old: &[u8], new: &[u8], context: usize) -> Vec<u8> {
    let (old_lines, new_lines) = (lines(old), lines(new));
    let (old_ids, new_ids) = numbered(&old_lines, &new_lines);
    let ops = in_place(similar::capture_diff_slices(
        Algorithm::Patience,
        &old_ids,
        &new_ids,
    ));
    let mut out = Vec::new();
    let hunks = similar::group_diff_ops(ops, context);
    // similar 2.7 makes no empty group; its own writer skips one all the
    // same, and so does this one (a hunk header needs an operation).
    for (k, hunk) in hunks.iter().filter(|h| !h.is_empty()).enumerate() {
        if k == 0 {
            out.extend_from_slice(format!("--- {name}\n+++ {name}\n").as_bytes());
        }
        write_hunk(&mut out, hunk, &old_lines, &new_lines);
    }
    out
}

/// `ops` with each deletion's place in the new file and each insertion's
/// place in the old file where they are: similar 2.7's patience sometimes
/// gives another (mitsuhiko/similar#78), and a hunk that starts with such
/// an operation then names the wrong first line in its header, so that
/// `patch` has to search for it or applies it elsewhere. The operations
/// follow both files in order, so each place is where the ones before it
/// end; the lines they name are not changed.
fn in_place(ops: Vec<DiffOp>) -> Vec<DiffOp> {
    let (mut old_at, mut new_at) = (0, 0);
    ops.into_iter()
        .map(|op| {
            let op = match op {
                DiffOp::Delete {
                    old_index, old_len, ..
                } => DiffOp::Delete {
                    old_index,
                    old_len,
                    new_index: new_at,
                },
                DiffOp::Insert {
                    new_index, new_len, ..
                } => DiffOp::Insert {
                    old_index: old_at,
                    new_index,
                    new_len,
                },
                other => other,
            };
            old_at = op.old_range().end;
            new_at = op.new_range().end;
            op
        })
        .collect()
}

/// One hunk: its `@@` header, then each line with its tag.
fn write_hunk(out: &mut Vec<u8>, hunk: &[DiffOp], old: &[&[u8]], new: &[&[u8]]) {
    let header = similar::udiff::UnifiedHunkHeader::new(hunk);
    writeln!(out, "{header}").expect("writing to a Vec cannot fail");
    for op in hunk {
        for change in op.iter_changes(old, new) {
            out.push(match change.tag() {
                ChangeTag::Equal => b' ',
                ChangeTag::Delete => b'-',
                ChangeTag::Insert => b'+',
            });
            // The line's own bytes: `similar` writes it decoded lossily
            // (a Latin-1 comment's byte as U+FFFD), which `patch` cannot
            // apply to the file.
            let line = change.value();
            out.extend_from_slice(line);
            if !matches!(line.last(), Some(b'\r' | b'\n')) {
                out.extend_from_slice(b"\n\\ No newline at end of file\n");
            }
        }
    }
}

/// The lines of `bytes`, each with its line ending, as `similar` splits
/// them: after `\r\n`, after `\n`, and after a `\r` not followed by `\n`.
pub(crate) fn lines(bytes: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::with_capacity(bytes.len() / 32 + 1);
    let mut start = 0;
    for at in memchr::memchr2_iter(b'\r', b'\n', bytes) {
        if at < start {
            // The `\n` of a `\r\n` already split.
            continue;
        }
        let end = match bytes[at] {
            b'\r' if bytes.get(at + 1) == Some(&b'\n') => at + 2,
            _ => at + 1,
        };
        out.push(&bytes[start..end]);
        start = end;
    }
    if start < bytes.len() {
        out.push(&bytes[start..]);
    }
    out
}

/// Each line of `old` and `new` as a number, equal numbers for equal lines.
fn numbered<'a>(old: &[&'a [u8]], new: &[&'a [u8]]) -> (Vec<u32>, Vec<u32>) {
    let mut ids: FxHashMap<&'a [u8], u32> = FxHashMap::default();
    ids.reserve(old.len() + new.len());
    let mut number = |lines: &[&'a [u8]]| -> Vec<u32> {
        lines
            .iter()
            .map(|&line| {
                let next = ids.len() as u32;
                *ids.entry(line).or_insert(next)
            })
            .collect()
    };
    let old_ids = number(old);
    let new_ids = number(new);
    (old_ids, new_ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `similar` itself writes for the two files.
    fn similar_writes(name: &str, old: &[u8], new: &[u8], context: usize) -> Vec<u8> {
        let diff = similar::TextDiff::configure()
            .algorithm(Algorithm::Patience)
            .diff_lines(old, new);
        let mut out = Vec::new();
        diff.unified_diff()
            .context_radius(context)
            .header(name, name)
            .to_writer(&mut out)
            .unwrap();
        out
    }

    /// A small deterministic generator (xorshift), so that the files
    /// below are the same on every run.
    struct Gen(u64);
    impl Gen {
        fn next(&mut self, below: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % below
        }
    }

    /// A file of lines drawn from a few, so that lines repeat (patience's
    /// unique lines and Myers between them both matter), with CRLF, lone
    /// CR, a missing final newline and bytes that are not UTF-8.
    fn file(g: &mut Gen, lines: u64) -> Vec<u8> {
        const WORDS: [&[u8]; 8] = [
            b"<VirtualHost *:443>",
            b"    SSLEngine on",
            b"</VirtualHost>",
            b"",
            b"# caf\xe9",
            b"    ServerName a",
            b"    ServerName b",
            b"\xff\xfe",
        ];
        const ENDS: [&[u8]; 4] = [b"\n", b"\n", b"\r\n", b"\r"];
        let mut out = Vec::new();
        let n = g.next(lines + 1);
        for k in 0..n {
            out.extend_from_slice(WORDS[g.next(8) as usize]);
            if k + 1 < n || g.next(4) > 0 {
                out.extend_from_slice(ENDS[g.next(4) as usize]);
            }
        }
        out
    }

    /// What `similar` writes, its lines decoded lossily, on thousands of
    /// generated pairs where its operations are in place: a file and an
    /// edit of it (lines dropped, added and changed), and two unrelated
    /// files; files of more than 100 lines too, which `similar` numbers its
    /// own way before diffing.
    #[test]
    fn writes_what_similar_writes() {
        let mut g = Gen(0x9e37_79b9_7f4a_7c15);
        let mut compared = 0;
        for round in 0..4000 {
            let size = if round % 50 == 0 { 160 } else { 12 };
            let old = file(&mut g, size);
            let new = if round % 3 == 0 {
                file(&mut g, size)
            } else {
                let mut new = Vec::new();
                for line in lines(&old) {
                    match g.next(6) {
                        0 => {}
                        1 => {
                            new.extend_from_slice(&file(&mut g, 2));
                            new.extend_from_slice(line);
                        }
                        2 => new.extend_from_slice(&file(&mut g, 1)),
                        _ => new.extend_from_slice(line),
                    }
                }
                new
            };
            let context = g.next(4) as usize;
            let (old_lines, new_lines) = (lines(&old), lines(&new));
            let (old_ids, new_ids) = numbered(&old_lines, &new_lines);
            let ops = similar::capture_diff_slices(Algorithm::Patience, &old_ids, &new_ids);
            if in_place(ops.clone()) != ops {
                continue;
            }
            assert_eq!(
                String::from_utf8_lossy(&unified_diff("etc/x.conf", &old, &new, context)),
                String::from_utf8_lossy(&similar_writes("etc/x.conf", &old, &new, context)),
                "old {old:?}\nnew {new:?}\ncontext {context}"
            );
            compared += usize::from(old != new);
        }
        assert!(compared > 2000, "{compared}");
    }

    /// `diff` applied to `old` as `patch` applies it, hunk by hunk at the
    /// lines its header names (no search): the lines it removes and keeps
    /// must be there.
    fn applied(old: &[u8], diff: &[u8]) -> Vec<u8> {
        let old_lines = lines(old);
        let items = lines(diff);
        let mut out = Vec::new();
        let mut at = 0; // old lines copied so far
        let mut k = 2; // past the two header lines
        while k < items.len() {
            let header = String::from_utf8_lossy(items[k]);
            let old_side = header.split(' ').nth(1).unwrap().trim_start_matches('-');
            let (start, len) = match old_side.split_once(',') {
                Some((s, l)) => (s.parse::<usize>().unwrap(), l.parse::<usize>().unwrap()),
                None => (old_side.parse().unwrap(), 1),
            };
            // An empty side names the line before it.
            let first = if len == 0 { start } else { start - 1 };
            assert!(first >= at, "hunk before the last one's end: {header}");
            out.extend(old_lines[at..first].concat());
            // The new side starts where the new file is by then.
            let new_side = header.split(' ').nth(2).unwrap().trim_start_matches('+');
            let (new_start, new_len) = match new_side.split_once(',') {
                Some((s, l)) => (s.parse::<usize>().unwrap(), l.parse::<usize>().unwrap()),
                None => (new_side.parse().unwrap(), 1),
            };
            let new_first = if new_len == 0 {
                new_start
            } else {
                new_start - 1
            };
            assert_eq!(new_first, lines(&out).len(), "new side misplaced: {header}");
            at = first;
            let new_before = lines(&out).len();
            k += 1;
            while k < items.len() && !items[k].starts_with(b"@@ ") {
                let hint = items.get(k + 1) == Some(&&b"\\ No newline at end of file\n"[..]);
                let mut line = &items[k][1..];
                if hint {
                    line = line.strip_suffix(b"\n").unwrap();
                }
                match items[k][0] {
                    b' ' => {
                        assert_eq!(old_lines[at], line, "context differs: {header}");
                        out.extend_from_slice(line);
                        at += 1;
                    }
                    b'-' => {
                        assert_eq!(old_lines[at], line, "removed line differs: {header}");
                        at += 1;
                    }
                    b'+' => out.extend_from_slice(line),
                    other => panic!("unexpected line tag {other}"),
                }
                k += if hint { 2 } else { 1 };
            }
            // Each side holds as many lines as the header says.
            assert_eq!(at - first, len, "old side's length: {header}");
            let new_lines = lines(&out).len() - new_before;
            assert_eq!(new_lines, new_len, "new side's length: {header}");
        }
        out.extend(old_lines[at..].concat());
        out
    }

    /// Every diff applies at the lines its hunks name and gives the new
    /// file, on generated pairs: similar's own writer fails this where its
    /// patience names a deletion's or insertion's place wrongly.
    #[test]
    fn the_diff_applies_where_it_says() {
        let mut g = Gen(0x2545_f491_4f6c_dd1d);
        for round in 0..4000 {
            let size = if round % 50 == 0 { 160 } else { 12 };
            let (old, new) = (file(&mut g, size), file(&mut g, size));
            let context = g.next(4) as usize;
            let d = unified_diff("x", &old, &new, context);
            assert_eq!(
                applied(&old, &d),
                new,
                "{}\nold {old:?}\nnew {new:?}",
                String::from_utf8_lossy(&d)
            );
        }
        // The case that similar#78 shows: a hunk starting with a deletion.
        let d = unified_diff(
            "x",
            b"-- x\n-- x\n<V>\n++ y\n-- x\n-- x\n-- x\n</V>\n\n-- x\n",
            b"<V>\n# c\n<V>\n++ y\n++ y\n-- x\nS\n++ y\n",
            3,
        );
        assert!(
            d.starts_with(b"--- x\n+++ x\n@@ -1,10 +1,8 @@\n"),
            "{}",
            String::from_utf8_lossy(&d)
        );
    }

    #[test]
    fn splits_lines_as_similar_does() {
        let l = lines(b"a\r\nb\rc\n\nd");
        assert_eq!(l, [&b"a\r\n"[..], b"b\r", b"c\n", b"\n", b"d"]);
        assert!(lines(b"").is_empty());
        assert_eq!(lines(b"\r\r\n"), [&b"\r"[..], b"\r\n"]);
    }
}
