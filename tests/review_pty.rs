//! The interactive review driven through a real pseudo-terminal with real
//! keystrokes: approve some, refuse some, ask for help, approve all, quit.

mod common;
use common::pty::*;
use common::*;
use std::path::Path;

fn args<'a>(root: &'a Path, backups: &'a Path) -> Vec<&'a str> {
    vec![
        "apply",
        "--root",
        root.to_str().unwrap(),
        "--backup-dir",
        backups.to_str().unwrap(),
        "--tls-library",
        "gnutls",
        "--server",
        "courier",
        "--only",
        "courier.tls-required",
        "--only",
        "courier.priority",
        "--only",
        "courier.imaps-off",
    ]
}

#[test]
fn approve_some_refuse_some_with_help() {
    let (t, root) = demo_copy();
    let backups = t.path().join("b");
    let mut pty = spawn(&args(&root, &backups));
    pty.answer(1, "y"); // [1/3] IMAP_TLS_REQUIRED=1
    pty.answer(2, "n"); // [2/3] TLS_PRIORITY: refused
    pty.answer(3, "?"); // [3/3] help, then asked again
    pty.answer(4, "y");
    let (code, screen) = pty.finish();
    assert_eq!(code, 0, "{screen}");
    assert!(
        screen.contains("[1/3] courier.tls-required") && screen.contains("[3/3] courier.imaps-off"),
        "{screen}"
    );
    assert!(
        screen.contains("q - quit: write nothing at all"),
        "help was shown:\n{screen}"
    );
    assert!(
        screen.contains("+IMAP_TLS_REQUIRED=1"),
        "the diff was shown:\n{screen}"
    );
    let f = std::fs::read_to_string(root.join("etc/courier/imapd-ssl")).unwrap();
    assert!(f.contains("\nIMAP_TLS_REQUIRED=1\n"));
    assert!(f.contains("\n#IMAPDSSLSTART=YES\n"));
    assert!(
        !f.contains("TLS_PRIORITY=\""),
        "the refused change was not written"
    );
}

#[test]
fn quit_writes_nothing() {
    let (t, root) = demo_copy();
    let before = snapshot(&root);
    let backups = t.path().join("b");
    let mut pty = spawn(&args(&root, &backups));
    pty.answer(1, "y");
    pty.answer(2, "q");
    let (code, screen) = pty.finish();
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("quit: nothing was written"), "{screen}");
    assert_eq!(snapshot(&root), before);
    assert!(!backups.exists());
}

#[test]
fn all_approves_the_rest() {
    let (t, root) = demo_copy();
    let backups = t.path().join("b");
    let mut pty = spawn(&args(&root, &backups));
    pty.answer(1, "n");
    pty.answer(2, "a");
    let (code, screen) = pty.finish();
    assert_eq!(code, 0, "{screen}");
    assert_eq!(
        screen.matches(PROMPT).count(),
        2,
        "no question after [a]ll:\n{screen}"
    );
    let f = std::fs::read_to_string(root.join("etc/courier/imapd-ssl")).unwrap();
    assert!(
        f.contains("\nIMAP_TLS_REQUIRED=0\n")
            && f.contains("TLS_PRIORITY=\"NORMAL:")
            && f.contains("#IMAPDSSLSTART=YES")
    );
}

#[test]
fn colour_on_a_terminal_unless_no_color() {
    for (no_color, coloured) in [(None, true), (Some("1"), false)] {
        let (t, root) = demo_copy();
        let backups = t.path().join("b");
        let mut pty = spawn_env(&args(&root, &backups), no_color);
        pty.answer(1, "q");
        let (_, screen) = pty.finish();
        assert_eq!(
            screen.contains("\x1b[32m"),
            coloured,
            "NO_COLOR={no_color:?}:\n{screen}"
        );
    }
}
