//! Install and documentation (issue 12): the .deb built by
//! packaging/build-deb holds the binary, man page, completions, README and
//! licence, installs with dpkg -i (as root, as in CI) and runs; the man page
//! renders with man -l; completions are generated for bash, zsh and fish.

mod common;
use common::*;
use std::process::Command;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn skip(why: &str) {
    assert!(
        std::env::var_os("TLSMEND_REQUIRE_DAEMONS").is_none(),
        "required in CI: {why}"
    );
    eprintln!("SKIPPED: {why}");
}

#[test]
fn the_man_page_renders_with_man_l() {
    if !have("man") {
        return skip("man is not installed (apt-get install man-db)");
    }
    let t = tempfile::tempdir().unwrap();
    let page = t.path().join("tlsmend.1");
    let o = run(&["man"]);
    assert_eq!(code(&o), 0);
    std::fs::write(&page, &o.stdout).unwrap();
    let r = Command::new("man")
        .arg("-l")
        .arg(&page)
        .env("MANWIDTH", "100")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .output()
        .unwrap();
    let shown = text(&r.stdout);
    assert!(r.status.success(), "{}", text(&r.stderr));
    for want in [
        "NAME",
        "SYNOPSIS",
        "OpenLDAP",
        "Exit codes",
        "audit",
        "rollback",
        "--color",
    ] {
        assert!(shown.contains(want), "{want}:\n{shown}");
    }
    assert!(!text(&r.stderr).contains("warning"), "{}", text(&r.stderr));
}

#[test]
fn completions_for_three_shells() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef tlsmend"),
        ("fish", "complete -c tlsmend"),
    ] {
        let o = run(&["completions", shell]);
        assert_eq!(code(&o), 0);
        let s = text(&o.stdout);
        assert!(s.contains(marker) && s.contains("rollback"), "{shell}: {s}");
    }
    if have("bash") {
        let o = run(&["completions", "bash"]);
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("c.bash");
        std::fs::write(&f, &o.stdout).unwrap();
        let st = Command::new("bash").arg("-n").arg(&f).status().unwrap();
        assert!(st.success(), "the bash completion script parses");
    }
}

#[test]
fn the_deb_holds_everything_and_installs() {
    if !have("dpkg-deb") {
        return skip("dpkg-deb is not installed");
    }
    let t = tempfile::tempdir().unwrap();
    let o = Command::new("bash")
        .arg(repo().join("packaging/build-deb"))
        .args(["--binary", env!("CARGO_BIN_EXE_tlsmend"), "--out"])
        .arg(t.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let deb = text(&o.stdout).trim().to_string();
    assert!(deb.ends_with(".deb"), "{deb}");
    let contents = Command::new("dpkg-deb")
        .args(["--contents", &deb])
        .output()
        .unwrap();
    let contents = text(&contents.stdout);
    for want in [
        "./usr/bin/tlsmend",
        "./usr/share/man/man1/tlsmend.1.gz",
        "./usr/share/bash-completion/completions/tlsmend",
        "./usr/share/zsh/vendor-completions/_tlsmend",
        "./usr/share/fish/vendor_completions.d/tlsmend.fish",
        "./usr/share/doc/tlsmend/README.md",
        "./usr/share/doc/tlsmend/copyright",
        "./usr/share/doc/tlsmend/json.md",
    ] {
        assert!(contents.contains(want), "{want}:\n{contents}");
    }
    let info = Command::new("dpkg-deb")
        .args(["--field", &deb, "Depends"])
        .output()
        .unwrap();
    assert!(
        text(&info.stdout).contains("libssl3"),
        "{}",
        text(&info.stdout)
    );
    if !is_root() {
        return skip("dpkg -i needs root");
    }
    // Install into this (CI's) machine, run it, remove it again.
    let i = Command::new("dpkg").args(["-i", &deb]).output().unwrap();
    assert!(
        i.status.success(),
        "dpkg -i: {}{}",
        text(&i.stdout),
        text(&i.stderr)
    );
    let v = Command::new("/usr/bin/tlsmend").arg("--version").output();
    let r = Command::new("dpkg")
        .args(["-r", "tlsmend"])
        .output()
        .unwrap();
    let v = v.unwrap();
    assert!(v.status.success());
    assert_eq!(
        text(&v.stdout).trim(),
        format!("tlsmend {}", env!("CARGO_PKG_VERSION"))
    );
    assert!(r.status.success(), "dpkg -r: {}", text(&r.stderr));
}
