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
    pty.answer_opt_in(1, "?"); // [3/3] courier.imaps-off (opt-in): help, then asked again
    pty.answer_opt_in(2, "\r"); // Enter: the default answer, no
    let (code, screen) = pty.finish();
    assert_eq!(code, 0, "{screen}");
    assert!(
        screen.contains("[1/3] courier.tls-required") && screen.contains("[3/3] courier.imaps-off"),
        "{screen}"
    );
    // Issue 8: switching off IMAPS on 993 is opt-in, offered last with the
    // default answer no, and says why (RFC 8314).
    assert!(
        screen.contains(
            "opt-in rule, not part of the profile (unattended runs need --with courier.imaps-off); the default answer is no"
        ) && screen.contains("RFC 8314"),
        "the opt-in note was shown:\n{screen}"
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
    assert!(
        f.contains("\nIMAPDSSLSTART=YES\n") && !f.contains("#IMAPDSSLSTART=YES"),
        "Enter kept IMAPS on 993"
    );
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
    // [a]ll does not reach opt-in rules: they are still asked; n skips.
    pty.answer_opt_in(1, "n");
    let (code, screen) = pty.finish();
    assert_eq!(code, 0, "{screen}");
    assert_eq!(
        screen.matches(PROMPT).count(),
        2,
        "no profile question after [a]ll:\n{screen}"
    );
    assert_eq!(screen.matches(OPT_IN_PROMPT).count(), 1, "{screen}");
    let f = std::fs::read_to_string(root.join("etc/courier/imapd-ssl")).unwrap();
    assert!(
        f.contains("\nIMAP_TLS_REQUIRED=0\n")
            && f.contains("TLS_PRIORITY=\"NORMAL:")
            && f.contains("\nIMAPDSSLSTART=YES\n")
            && !f.contains("#IMAPDSSLSTART=YES")
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
