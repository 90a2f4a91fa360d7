//! Parsers never panic, and whatever they accept they cover byte for byte:
//! corpus files mutated thousands of times (flipped, inserted, deleted and
//! truncated bytes, deterministic seed) and a few adversarial inputs.

use std::path::Path;
use tlsmend::syntax::Syntax;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const INTERESTING: &[u8] = b"<>/\\\"'#\r\n \t=$@{}";

fn mutate(rng: &mut Rng, base: &[u8]) -> Vec<u8> {
    let mut b = base.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(b.len() + 1);
        let byte = if rng.below(2) == 0 {
            INTERESTING[rng.below(INTERESTING.len())]
        } else {
            rng.next() as u8
        };
        match rng.below(4) {
            0 if at < b.len() => b[at] = byte,
            1 => b.insert(at, byte),
            2 if at < b.len() => {
                b.remove(at);
            }
            _ => b.truncate(at),
        }
    }
    b
}

fn fuzz(format: &str, syntax: Syntax) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus")
        .join(format);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut accepted = 0;
    for i in 0..3000 {
        let base = std::fs::read(&files[i % files.len()]).unwrap();
        let input = mutate(&mut rng, &base);
        let r = std::panic::catch_unwind(|| syntax.check(Path::new("fuzz"), &input));
        match r {
            Err(_) => panic!(
                "{format} parser panicked on a mutation of {}",
                files[i % files.len()].display()
            ),
            Ok(Ok(())) => accepted += 1,
            Ok(Err(e)) => assert!(e.line >= 1 && e.column >= 1),
        }
    }
    assert!(
        accepted > 100,
        "the mutations should mostly stay parseable ({accepted})"
    );
}

#[test]
fn apache_parser_survives_mutations() {
    fuzz("apache", Syntax::Apache);
}

#[test]
fn courier_parser_survives_mutations() {
    fuzz("courier", Syntax::Courier);
}

#[test]
fn adversarial_inputs() {
    let deep = "<IfModule a>\n".repeat(100_000) + &"</IfModule>\n".repeat(100_000);
    let cases: Vec<Vec<u8>> = vec![
        deep.into_bytes(),
        b"\\\n".repeat(50_000),
        b"\"".repeat(10_000),
        vec![b'\r'; 10_000],
        vec![0xff; 1000],
        b"A=\"".to_vec(),
        b"#".to_vec(),
        b"<".to_vec(),
        b"</".to_vec(),
        b"\\".to_vec(),
    ];
    for c in cases {
        for s in [Syntax::Apache, Syntax::Courier] {
            let _ = s.check(Path::new("x"), &c);
        }
    }
}
