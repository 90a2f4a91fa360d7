//! Every corpus file in `../shared/corpus/<format>/` parses, its syntax tree
//! covers every byte, and it prints back byte-for-byte; every file under
//! `<format>/invalid/` is rejected with a line and column.

use std::path::{Path, PathBuf};
use tlsmend::syntax::{apache, courier};

fn corpus_dir(format: &str) -> PathBuf {
    let base = std::env::var_os("TLSMEND_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    let dir = base.join(format);
    assert!(
        dir.is_dir(),
        "corpus folder {} is missing (set TLSMEND_CORPUS)",
        dir.display()
    );
    dir
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn check_format(format: &str, accepts: fn(&Path, &[u8]) -> Result<(), String>) {
    let dir = corpus_dir(format);
    let valid = files(&dir);
    assert!(!valid.is_empty(), "no corpus files in {}", dir.display());
    let mut failures = Vec::new();
    for f in &valid {
        let bytes = std::fs::read(f).unwrap();
        if let Err(e) = accepts(f, &bytes) {
            failures.push(format!("{}: {e}", f.display()));
        }
        // Printing an untouched file goes through the same patch path as an edit.
        assert_eq!(tlsmend::edit::apply_patches(&bytes, &[]).unwrap(), bytes);
    }
    assert!(
        failures.is_empty(),
        "{} of {} files rejected:\n{}",
        failures.len(),
        valid.len(),
        failures.join("\n")
    );
    for f in files(&dir.join("invalid")) {
        let bytes = std::fs::read(&f).unwrap();
        match accepts(&f, &bytes) {
            Ok(()) => panic!("{} is invalid but was accepted", f.display()),
            Err(e) => assert!(
                e.contains(&format!("{}:", f.display()))
                    && e.split(':').filter(|p| p.parse::<usize>().is_ok()).count() >= 2,
                "error for {} lacks path:line:column: {e}",
                f.display()
            ),
        }
    }
}

#[test]
fn apache_corpus_round_trips() {
    check_format("apache", |p, b| {
        let c = apache::parse(p, b).map_err(|e| e.to_string())?;
        apache::check_tiling(&c.nodes, 0, b.len())
    });
}

#[test]
fn courier_corpus_round_trips() {
    check_format("courier", |p, b| {
        courier::parse(p, b)
            .map_err(|e| e.to_string())?
            .check_tiling(b.len())
    });
}

/// Our own tricky cases: CRLF, no final newline, non-UTF-8 bytes, tabs,
/// trailing blanks, continuations (comments too), quotes, mixed-case tags.
#[test]
fn tricky_fixtures_round_trip() {
    for (dir, syntax) in [
        ("apache", tlsmend::syntax::Syntax::Apache),
        ("courier", tlsmend::syntax::Syntax::Courier),
    ] {
        let d = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/tricky")
            .join(dir);
        let fs = files(&d);
        assert!(!fs.is_empty());
        for f in fs {
            let b = std::fs::read(&f).unwrap();
            syntax.check(&f, &b).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

#[test]
fn postfix_main_corpus_round_trips() {
    check_format("postfix-main", |p, b| {
        tlsmend::syntax::Syntax::PostfixMain
            .check(p, b)
            .map_err(|e| e.to_string())
    });
}

#[test]
fn postfix_master_corpus_round_trips() {
    check_format("postfix-master", |p, b| {
        tlsmend::syntax::Syntax::PostfixMaster
            .check(p, b)
            .map_err(|e| e.to_string())
    });
}

#[test]
fn ldif_corpus_round_trips() {
    check_format("ldif", |p, b| {
        tlsmend::syntax::Syntax::Ldif
            .check(p, b)
            .map_err(|e| e.to_string())
    });
}

#[test]
fn slapd_conf_corpus_round_trips() {
    check_format("slapd-conf", |p, b| {
        tlsmend::syntax::Syntax::SlapdConf
            .check(p, b)
            .map_err(|e| e.to_string())
    });
}

#[test]
fn ldap_conf_corpus_round_trips() {
    check_format("ldap-conf", |p, b| {
        tlsmend::syntax::Syntax::LdapConf
            .check(p, b)
            .map_err(|e| e.to_string())
    });
}

/// slapd.d files carry `# CRC32 xxxxxxxx` over every byte after that line;
/// tlsmend's CRC-32 must agree with slapd's on the real files of the corpus.
#[test]
fn slapd_d_crc32_agrees_with_slapd() {
    let dir = corpus_dir("ldif");
    let (mut agree, mut differ) = (Vec::new(), Vec::new());
    for f in files(&dir) {
        let b = std::fs::read(&f).unwrap();
        if let Some(c) = tlsmend::syntax::ldif::crc_line(&b) {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            if c.stated == c.computed {
                agree.push(name)
            } else {
                differ.push(name)
            }
        }
    }
    // Files slapd wrote itself agree; a few in the corpus were edited by hand
    // after slapd wrote them (bootstrap copies), which is what tlsmend reports.
    assert!(agree.len() >= 5, "agree: {agree:?}, differ: {differ:?}");
    assert!(
        agree.iter().any(|n| n.contains("cn=config.ldif")),
        "{agree:?}"
    );
    eprintln!("CRC agrees: {agree:?}\nCRC differs (edited by hand): {differ:?}");
}
