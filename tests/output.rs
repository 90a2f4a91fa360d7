//! Output at scale and on terminals (issue 12): identical findings grouped
//! with their first places, --verbose and -q, the "not planned" lines
//! grouped, colour choice (--color, NO_COLOR, CLICOLOR_FORCE, TERM=dumb),
//! no progress when stderr is not a terminal, control bytes escaped.

mod common;
use common::*;
use std::path::{Path, PathBuf};

/// The demo with `n` more TLS sites alike: the same weak SSLProtocol and
/// each a missing certificate (a finding tlsmend does not fix).
fn scale(n: usize) -> (tempfile::TempDir, PathBuf) {
    let (t, root) = demo_copy();
    for i in 1..=n {
        std::fs::write(
            root.join(format!("etc/apache2/sites-enabled/s{i:04}.conf")),
            format!(
                "<VirtualHost *:443>\n    ServerName s{i}.example.test\n    SSLEngine on\n    SSLCertificateFile /etc/ssl/missing.crt\n    SSLCertificateKeyFile /etc/ssl/missing.key\n    SSLProtocol all -SSLv3\n</VirtualHost>\n"
            ),
        )
        .unwrap();
    }
    (t, root)
}

fn tls(root: &Path, args: &[&str]) -> std::process::Output {
    let mut a = vec!["--root", root.to_str().unwrap()];
    a.extend_from_slice(args);
    run(&a)
}

#[test]
fn identical_findings_are_grouped_and_verbose_lists_every_place() {
    let (_t, root) = scale(40);
    let o = tls(&root, &["audit", "--server", "apache"]);
    assert_eq!(code(&o), 1);
    let out = text(&o.stdout);
    // 40 sites and the demo's mods-enabled/ssl.conf say "all -SSLv3".
    assert!(
        out.contains("HIGH   apache.protocol in 41 places\n"),
        "{out}"
    );
    assert!(
        out.contains("                ... and 38 more (--verbose lists every place)"),
        "{out}"
    );
    assert!(
        out.contains("MEDIUM apache.certificate in 40 places\n"),
        "{out}"
    );
    assert!(out.lines().count() < 80, "a readable report: {out}");
    let v = text(&tls(&root, &["audit", "--server", "apache", "--verbose"]).stdout);
    assert!(!v.contains("more (--verbose"), "{v}");
    assert!(v.contains("s0040.conf:6"), "{v}");
    let q = tls(&root, &["audit", "--server", "apache", "-q"]);
    assert_eq!(code(&q), 1);
    let q = text(&q.stdout);
    assert_eq!(q.lines().count(), 1, "-q: the summary only: {q}");
    assert!(q.contains("finding(s)"), "{q}");
}

#[test]
fn not_planned_lines_are_grouped() {
    let (_t, root) = scale(40);
    let o = tls(&root, &["apply", "--server", "apache", "--dry-run"]);
    assert_eq!(code(&o), 1);
    let err = text(&o.stderr);
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("not planned: apache.certificate"))
        .collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].contains("and 37 more (--verbose lists them)"),
        "{err}"
    );
    let o = tls(&root, &["apply", "--server", "apache", "--dry-run", "-v"]);
    let err = text(&o.stderr);
    assert!(
        err.contains("s0040.conf:4") && !err.contains("more (--verbose"),
        "{err}"
    );
    let o = tls(&root, &["apply", "--server", "apache", "--dry-run", "-q"]);
    assert!(
        !text(&o.stderr).contains("not planned"),
        "{}",
        text(&o.stderr)
    );
}

/// Whether `s` has a colour escape (SGR: ESC [ digits ; ... m); progress
/// spinners use other escapes on a terminal.
fn has_sgr(s: &str) -> bool {
    s.split("\x1b[").skip(1).any(|rest| {
        let end = rest.find(|c: char| !(c.is_ascii_digit() || c == ';'));
        end.is_some_and(|e| e > 0 && rest[e..].starts_with('m'))
    })
}

#[test]
fn colour_follows_the_flag_and_the_environment() {
    let (_t, root) = demo_copy();
    let r = root.to_str().unwrap();
    let audit = |flags: &[&str], env: &[(&str, &str)]| {
        let mut c = bin();
        c.args(["audit", "--root", r]).args(flags);
        for (k, v) in env {
            c.env(k, v);
        }
        c.env_remove("CLICOLOR_FORCE");
        for (k, v) in env {
            c.env(k, v);
        }
        has_sgr(&text(&c.output().unwrap().stdout))
    };
    assert!(!audit(&[], &[]), "no colour into a pipe");
    assert!(audit(&["--color", "always"], &[]));
    assert!(audit(&[], &[("CLICOLOR_FORCE", "1")]));
    assert!(!audit(&[], &[("CLICOLOR_FORCE", "0")]), "0 does not force");
    assert!(!audit(&[], &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]));
    assert!(!audit(&["--color", "never"], &[("CLICOLOR_FORCE", "1")]));
    // On a terminal: colour, unless TERM=dumb or NO_COLOR.
    let on_tty = |env: &[(&str, &str)]| {
        let pty = pty::spawn_with(&["audit", "--root", r], env);
        let (_, screen) = pty.finish();
        has_sgr(&screen)
    };
    assert!(on_tty(&[]));
    assert!(!on_tty(&[("TERM", "dumb")]));
    // CI machines export CI=true; TERM=dumb still means no colour there.
    assert!(!on_tty(&[("TERM", "dumb"), ("CI", "true")]));
    assert!(!on_tty(&[("NO_COLOR", "1")]));
    assert!(!on_tty(&[("CLICOLOR", "0")]));
}

#[test]
fn no_progress_when_stderr_is_not_a_terminal() {
    let (t, root) = scale(20);
    let o = apply_yes(&root, t.path(), &["--server", "apache", "--no-validate"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(!err.contains('\x1b') && !err.contains('\r'), "{err:?}");
    assert!(!err.contains("writing"), "{err}");
}

#[test]
fn control_bytes_from_a_file_never_reach_the_terminal_raw() {
    let (_t, root) = demo_copy();
    let shop = root.join("etc/apache2/sites-available/shop.conf");
    let s = std::fs::read_to_string(&shop).unwrap().replace(
        "SSLProtocol all -SSLv3 -TLSv1",
        "SSLProtocol all -SSLv3 -TLSv1 # \x1b[2J\x1b]0;pwned\x07",
    );
    std::fs::write(&shop, s).unwrap();
    let o = tls(&root, &["audit", "--only", "apache.protocol"]);
    let out = text(&o.stdout);
    assert!(out.contains("shop.conf"), "{out}");
    assert!(!out.contains('\x1b') && !out.contains('\x07'), "{out:?}");
    // The dry-run diff stays byte-exact.
    let o = tls(&root, &["apply", "--dry-run", "--only", "apache.protocol"]);
    let diff = o.stdout;
    assert!(
        diff.windows(4).any(|w| w == b"\x1b[2J"),
        "the patch keeps the file's bytes"
    );
}
