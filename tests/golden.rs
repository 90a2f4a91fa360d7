//! Planned output for each rule, as golden diffs: `tests/cases/<case>/` holds
//! a `root/` tree, the `args` to run with, and `expected.diff`, the exact
//! `apply --dry-run` output. Each case is then applied, planned again
//! (nothing), audited (nothing fixable) and rolled back (byte-identical).
//! `TLSMEND_BLESS=1 cargo test --test golden` rewrites the expected files.

mod common;
use common::*;
use std::path::Path;

/// `fake-elf`: one line per stand-in binary, `PATH LIB...`, written into the
/// copied root as a minimal ELF file that needs those libraries.
fn fake_elves(root: &Path, spec: &str) {
    for line in spec.lines().filter(|l| !l.trim().is_empty()) {
        let mut w = line.split_whitespace();
        let path = root.join(w.next().unwrap().trim_start_matches('/'));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let libs: Vec<&str> = w.collect();
        std::fs::write(path, tlsmend::target::tlslib::synthetic_elf(&libs)).unwrap();
    }
}

fn check_case(
    name: &str,
    src_root: &Path,
    args: &[String],
    expected_path: &Path,
    elves: Option<String>,
) {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    copy_tree(src_root, &root);
    if let Some(spec) = &elves {
        fake_elves(&root, spec);
    }
    let before = snapshot(&root);
    let root_s = root.to_str().unwrap();
    let mut dry: Vec<&str> = vec!["apply", "--root", root_s, "--dry-run"];
    dry.extend(args.iter().map(String::as_str));
    let o = run(&dry);
    let expected = std::fs::read(expected_path).unwrap_or_default();
    if std::env::var_os("TLSMEND_BLESS").is_some() {
        std::fs::write(expected_path, &o.stdout).unwrap();
    } else {
        assert!(
            o.stdout == expected,
            "{name}: dry-run output differs from {}\n--- got:\n{}\n--- stderr:\n{}",
            expected_path.display(),
            text(&o.stdout),
            text(&o.stderr)
        );
    }
    assert_eq!(
        code(&o),
        if o.stdout.is_empty() { 0 } else { 1 },
        "{name}: {}",
        text(&o.stderr)
    );
    assert_eq!(snapshot(&root), before, "{name}: --dry-run wrote something");

    let backups = t.path().join("backups");
    let mut yes: Vec<&str> = vec![
        "apply",
        "--root",
        root_s,
        "--yes",
        "--backup-dir",
        backups.to_str().unwrap(),
    ];
    yes.extend(args.iter().map(String::as_str));
    let o = run(&yes);
    assert_eq!(code(&o), 0, "{name}: apply --yes: {}", text(&o.stderr));

    // Idempotence: planning again on the result plans nothing.
    let o = run(&dry);
    assert_eq!(
        code(&o),
        0,
        "{name}: second plan is not empty:\n{}",
        text(&o.stdout)
    );
    assert!(o.stdout.is_empty());
    let mut audit: Vec<&str> = vec!["audit", "--root", root_s, "--format", "json"];
    audit.extend(args.iter().map(String::as_str).filter(|a| {
        !a.starts_with("--only") && !a.starts_with("apache.") && !a.starts_with("courier.")
    }));
    let o = run(&audit);
    assert!(code(&o) <= 1, "{name}: audit failed: {}", text(&o.stderr));
    if !args.iter().any(|a| a == "--only") {
        assert!(
            !text(&o.stdout).contains("\"fixable\": true"),
            "{name}: audit after apply still finds fixable findings:\n{}",
            text(&o.stdout)
        );
    }

    if !expected.is_empty() {
        let o = run(&["rollback", "--backup-dir", backups.to_str().unwrap()]);
        assert_eq!(code(&o), 0, "{name}: rollback: {}", text(&o.stderr));
        assert_eq!(
            snapshot(&root),
            before,
            "{name}: rollback did not restore every byte"
        );
    }
}

#[test]
fn golden_cases() {
    let cases = repo().join("tests/cases");
    let mut names: Vec<String> = std::fs::read_dir(&cases)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("root").is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 7, "cases are missing: {names:?}");
    for name in names {
        let dir = cases.join(&name);
        let args: Vec<String> = std::fs::read_to_string(dir.join("args"))
            .unwrap()
            .split_whitespace()
            .map(String::from)
            .collect();
        let elves = std::fs::read_to_string(dir.join("fake-elf")).ok();
        check_case(
            &name,
            &dir.join("root"),
            &args,
            &dir.join("expected.diff"),
            elves,
        );
    }
}

#[test]
fn demo_tree() {
    let args = vec!["--tls-library".to_string(), "gnutls".to_string()];
    check_case(
        "demo",
        &repo().join("demo"),
        &args,
        &repo().join("tests/cases/demo.diff"),
        None,
    );
}
