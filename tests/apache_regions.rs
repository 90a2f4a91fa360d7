//! The planner's safety net skips reading a planned Apache file back whole
//! when the lines a change replaces prove it valid
//! (`syntax::apache_regions`). Here that proof is held against the whole
//! read-back on every corpus file and on hand-made edge cases, under
//! thousands of random edits: whenever the proof says valid, the whole file
//! must parse, alone and in any pair of proved changes.

use std::path::{Path, PathBuf};
use tlsmend::edit::{Patch, apply_patches};
use tlsmend::source::Span;
use tlsmend::syntax::Syntax;
use tlsmend::syntax::apache_regions::{LineStarts, apart, proved_runs};

/// A small deterministic generator (xorshift64*), so that a failure can be
/// replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Pieces that edits are made of: whole directive lines, and the bytes that
/// make the structure (line endings, continuations, sections, comments).
const PIECES: &[&str] = &[
    "    Header always set Strict-Transport-Security \"max-age=63072000\"\n",
    "SSLProtocol -all +TLSv1.2 +TLSv1.3\n",
    "SSLUseStapling On\r\n",
    "#SSLCipherSuite HIGH\n",
    "  Options -Indexes \\\n",
    "        +FollowSymLinks\n",
    "<IfModule mod_ssl.c>\n",
    "</IfModule>\n",
    "</VirtualHost>\n",
    "<Directory /x>\n</Directory>\n",
    "\\\n",
    "\\",
    "\n",
    "\r\n",
    "\r",
    "x",
    " ",
    "\"",
    "<",
    ">",
    "#",
    "",
];

fn text(rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..rng.below(4) {
        out.extend_from_slice(PIECES[rng.below(PIECES.len())].as_bytes());
    }
    out
}

/// A random patch on `bytes`: an insertion or a replacement, at a line
/// start, a random byte or the end.
fn patch(rng: &mut Rng, bytes: &[u8]) -> Patch {
    let starts: Vec<usize> = std::iter::once(0)
        .chain(
            bytes
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .collect();
    let at = match rng.below(3) {
        0 => starts[rng.below(starts.len())],
        1 => rng.below(bytes.len() + 1),
        _ => bytes.len(),
    }
    .min(bytes.len());
    let end = if rng.below(2) == 0 {
        at
    } else {
        (at + rng.below(60)).min(bytes.len())
    };
    Patch::replace(Span::new(at, end), text(rng))
}

fn valid(path: &Path, bytes: &[u8]) -> bool {
    Syntax::Apache.check(path, bytes).is_ok()
}

fn inputs() -> Vec<(PathBuf, Vec<u8>)> {
    let dir = std::env::var_os("TLSMEND_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"))
        .join("apache");
    let mut out: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .map(|p| {
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect();
    out.sort();
    for (name, b) in [
        ("empty", &b""[..]),
        (
            "no-final-newline",
            b"<VirtualHost *:443>\n  SSLEngine on\n</VirtualHost>",
        ),
        (
            "crlf",
            b"<IfModule x>\r\n  A b \\\r\n    c\r\n</IfModule>\r\n",
        ),
        ("continued-comment", b"# a \\\n  b\nSSLProtocol all\n"),
        ("ends-continued", b"A b\nC d \\\n"),
        (
            "double-close",
            b"<IfModule x>\n<VirtualHost *>\nA b\n</VirtualHost> </IfModule>\n",
        ),
    ] {
        out.push((PathBuf::from(name), b.to_vec()));
    }
    out.retain(|(p, b)| valid(p, b));
    out
}

/// Whenever the proof holds, reading the whole result back agrees; and so
/// does every pair of proved changes whose runs are apart. The proof must
/// also hold often enough for this to test something.
#[test]
fn a_proved_change_leaves_the_whole_file_valid() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut tried, mut proved, mut pairs) = (0, 0, 0);
    for (path, bytes) in inputs() {
        let lines = LineStarts::of(&bytes);
        let mut done: Vec<(Patch, Vec<Span>)> = Vec::new();
        for _ in 0..300 {
            let p = patch(&mut rng, &bytes);
            tried += 1;
            let Some(runs) = proved_runs(&path, &bytes, &lines, &[&p]) else {
                continue;
            };
            proved += 1;
            let after = apply_patches(&bytes, std::slice::from_ref(&p)).unwrap();
            assert!(
                valid(&path, &after),
                "{}: proved valid but is not: {:?} -> {:?}",
                path.display(),
                p.span,
                String::from_utf8_lossy(&p.bytes)
            );
            for (q, q_runs) in done.iter().rev().take(8) {
                let apart_all = runs.iter().all(|r| q_runs.iter().all(|s| apart(*r, *s)));
                let Ok(both) = apply_patches(&bytes, &[q.clone(), p.clone()]) else {
                    continue;
                };
                if apart_all {
                    pairs += 1;
                    assert!(
                        valid(&path, &both),
                        "{}: two proved changes apart are not valid together: {:?} {:?} / {:?} {:?}",
                        path.display(),
                        q.span,
                        String::from_utf8_lossy(&q.bytes),
                        p.span,
                        String::from_utf8_lossy(&p.bytes)
                    );
                }
            }
            done.push((p, runs));
        }
    }
    eprintln!("proved {proved} of {tried}, {pairs} pairs");
    assert!(proved * 5 >= tried, "proved {proved} of {tried}");
    assert!(pairs > 1000, "only {pairs} pairs checked");
}

/// What the proof must refuse, each a change that breaks the file or
/// would need the context to judge.
#[test]
fn edits_that_need_the_whole_file_are_not_proved() {
    let path = Path::new("x.conf");
    let bytes = b"<VirtualHost *:443>\n  SSLEngine on \\\n    \n  A b\n</VirtualHost>\nC d";
    let lines = LineStarts::of(bytes);
    let refused = |p: Patch| proved_runs(path, bytes, &lines, &[&p]).is_none();
    // A closing tag, a section, a line left continued into the next one.
    assert!(refused(Patch::insert(42, "</VirtualHost>\n")));
    assert!(refused(Patch::insert(42, "<If true>\nA b\n</If>\n")));
    assert!(refused(Patch::insert(42, "X y \\\n")));
    assert!(refused(Patch::insert(42, "X y")));
    // The opening line of the section: its run does not balance.
    assert!(refused(Patch::replace(Span::new(1, 12), "VirtualHost")));
    // Proved: a directive line, a value inside a continued line, a line
    // added after the last one with no final newline (joined to it).
    let ok = |p: Patch| proved_runs(path, bytes, &lines, &[&p]);
    assert_eq!(
        ok(Patch::insert(42, "X y\n")),
        Some(vec![Span::new(42, 42)])
    );
    assert_eq!(
        ok(Patch::replace(Span::new(22, 31), "SSLEngine")),
        Some(vec![Span::new(20, 42)])
    );
    assert!(ok(Patch::insert(bytes.len(), "\nE f\n")).is_some());
    assert!(refused(Patch::insert(bytes.len(), "\n</X>\n")));
}
