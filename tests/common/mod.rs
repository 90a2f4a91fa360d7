//! Helpers shared by the integration tests: run the real binary, copy trees.
#![allow(dead_code)]

pub mod pty;
pub mod schema;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tlsmend"));
    // The colour decision reads these; a test sets the ones it means.
    for name in ["NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "CI"] {
        c.env_remove(name);
    }
    c
}

pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run tlsmend")
}

pub fn code(o: &Output) -> i32 {
    o.status.code().expect("exited normally")
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `tlsmend audit --root ROOT --format json EXTRA...` as a document; the
/// audit must succeed (exit 0 or 1).
pub fn audit_doc(root: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "audit",
        "--root",
        root.to_str().unwrap(),
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let o = run(&args);
    assert!(code(&o) <= 1, "{}", text(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// The findings of `audit_doc` for one server.
pub fn server_findings(root: &Path, server: &str, extra: &[&str]) -> Vec<serde_json::Value> {
    let mut args = vec!["--server", server];
    args.extend_from_slice(extra);
    audit_doc(root, &args)["findings"]
        .as_array()
        .unwrap()
        .clone()
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `cp -a`: keeps symlinks, modes and bytes.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    let st = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", from.display()))
        .arg(to)
        .status()
        .unwrap();
    assert!(st.success());
}

/// Every regular file below `dir` (links not followed) with its bytes.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            if m.is_dir() {
                stack.push(p);
            } else if m.file_type().is_symlink() {
                out.push((
                    p.clone(),
                    std::fs::read_link(&p)
                        .unwrap()
                        .into_os_string()
                        .into_encoded_bytes(),
                ));
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// Writes a synthetic couriertls that links `libs`, as a stand-in binary.
pub fn fake_couriertls(root: &Path, libs: &[&str]) {
    let p = root.join("usr/bin/couriertls");
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, tlsmend::target::tlslib::synthetic_elf(libs)).unwrap();
}

/// Whether a daemon's tool is installed. Without it a test prints
/// `SKIPPED: <reason>` and passes, unless `TLSMEND_REQUIRE_DAEMONS` is set
/// (by `tests/run-all`, so by CI), where a missing tool is a failure.
pub fn have(tool: &str) -> bool {
    let found = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        .iter()
        .any(|d| Path::new(d).join(tool).exists());
    if !found {
        assert!(
            std::env::var_os("TLSMEND_REQUIRE_DAEMONS").is_none(),
            "{tool} is not installed but TLSMEND_REQUIRE_DAEMONS is set (tests/run-all installs it)"
        );
        eprintln!("SKIPPED: {tool} is not installed (install it, or run tests/run-all as root)");
    }
    found
}

/// A fresh copy of the demo tree: (its temporary directory, the root in it).
pub fn demo_copy() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    copy_tree(&repo().join("demo"), &root);
    (t, root)
}

/// `tlsmend apply --root ROOT --yes --backup-dir DIR/b` plus `extra`.
pub fn apply_yes(root: &Path, dir: &Path, extra: &[&str]) -> Output {
    let (r, b) = (root.to_str().unwrap(), dir.join("b"));
    let mut args = vec![
        "apply",
        "--root",
        r,
        "--yes",
        "--backup-dir",
        b.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run(&args)
}
