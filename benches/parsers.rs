//! Throughput of each lossless parser on the real-world corpus
//! (`../shared/corpus/<format>/`, or `TLSMEND_CORPUS`): every file of a
//! format is parsed once per iteration, and divan prints bytes per second.
//!
//! Run with `cargo bench --bench parsers`. A benchmark, never a timed test.

use divan::counter::BytesCount;
use std::path::{Path, PathBuf};
use tlsmend::syntax::{apache, courier, ldif, openldap_conf, postfix_main, postfix_master};

fn main() {
    divan::main();
}

/// The corpus files of `format` that its parser accepts, with their bytes.
fn corpus(format: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let base = std::env::var_os("TLSMEND_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    let dir = base.join(format);
    let mut files: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus folder {}: {e} (set TLSMEND_CORPUS)", dir.display()))
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter_map(|p| std::fs::read(&p).ok().map(|b| (p, b)))
        .filter(|(p, b)| parse(format, p, b))
        .collect();
    files.sort();
    files
}

/// Parses one file as `format`; whether it was accepted.
fn parse(format: &str, path: &Path, bytes: &[u8]) -> bool {
    match format {
        "apache" => divan::black_box(apache::parse(path, bytes)).is_ok(),
        "courier" => divan::black_box(courier::parse(path, bytes)).is_ok(),
        "postfix-main" => divan::black_box(postfix_main::parse(path, bytes)).is_ok(),
        "postfix-master" => divan::black_box(postfix_master::parse(path, bytes)).is_ok(),
        "ldif" => divan::black_box(ldif::parse(path, bytes)).is_ok(),
        "slapd-conf" => divan::black_box(openldap_conf::parse(
            path,
            bytes,
            openldap_conf::Dialect::SlapdConf,
        ))
        .is_ok(),
        "ldap-conf" => divan::black_box(openldap_conf::parse(
            path,
            bytes,
            openldap_conf::Dialect::LdapConf,
        ))
        .is_ok(),
        other => panic!("no parser for {other}"),
    }
}

#[divan::bench(args = ["apache", "courier", "postfix-main", "postfix-master", "ldif", "slapd-conf", "ldap-conf"])]
fn corpus_throughput(bencher: divan::Bencher, format: &str) {
    let files = corpus(format);
    let total: usize = files.iter().map(|(_, b)| b.len()).sum();
    bencher.counter(BytesCount::new(total)).bench(|| {
        for (p, b) in &files {
            parse(format, p, b);
        }
    });
}

/// Postfix main.cf with 10,000 parameters (the "keep ≤ 50 ms").
#[divan::bench]
fn postfix_main_10000_parameters(bencher: divan::Bencher) {
    let text: String = (0..10_000)
        .map(|i| format!("param_{i} = value_{i}, other\n    continued_{i}\n"))
        .collect();
    bencher.counter(BytesCount::new(text.len())).bench(|| {
        divan::black_box(postfix_main::parse(Path::new("main.cf"), text.as_bytes())).is_ok()
    });
}
