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
    pty.confirm("y");
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
    pty.confirm("y");
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

/// Issue 12: the review's new keys.
fn apache_args<'a>(root: &'a Path, backups: &'a Path) -> Vec<&'a str> {
    vec![
        "apply",
        "--root",
        root.to_str().unwrap(),
        "--backup-dir",
        backups.to_str().unwrap(),
        "--server",
        "apache",
        "--no-validate",
    ]
}

fn read(root: &Path, f: &str) -> String {
    std::fs::read_to_string(root.join(f)).unwrap()
}

#[test]
fn ctrl_d_quits_like_q() {
    let (t, root) = demo_copy();
    let before = snapshot(&root);
    let backups = t.path().join("b");
    let mut pty = spawn(&args(&root, &backups));
    pty.answer(1, "y");
    pty.answer(2, "\x04");
    let (code, screen) = pty.finish();
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("quit: nothing was written"), "{screen}");
    assert_eq!(snapshot(&root), before);
    assert!(!backups.exists());
}

#[test]
fn rule_and_file_keys_and_going_back() {
    // The demo's Apache plan, in order: protocol x3, ciphers x2,
    // compression, hsts x2, redirect, stapling.
    let (t, root) = demo_copy();
    let backups = t.path().join("b");
    let mut pty = spawn(&apache_args(&root, &backups));
    pty.answer(1, "r"); // [1/10] protocol: this and the other two
    pty.answer(2, "s"); // [4/10] ciphers: skip both
    // [6/10] compression in ssl.conf: with the rest of ssl.conf, which is
    // the stapling change too (its cache goes in mod_ssl's global file).
    pty.answer(3, "f");
    pty.answer(4, "d"); // [7/10] hsts in default-ssl.conf: skip the file's rest
    pty.answer(5, "y"); // [8/10] hsts in shop.conf
    pty.answer(6, "k"); // [9/10] redirect: back to shop's hsts
    pty.answer(7, "n"); // [8/10] again: no hsts after all
    pty.answer(8, "?"); // [9/10] help, then asked again
    pty.answer(9, "n"); // [9/10] no redirect
    pty.confirm("y");
    let (code, screen) = pty.finish();
    assert_eq!(code, 0, "{screen}");
    for shown in ["[1/10]", "[4/10]", "[6/10]", "[7/10]"] {
        assert_eq!(screen.matches(shown).count(), 1, "{shown}:\n{screen}");
    }
    assert_eq!(
        screen.matches("[8/10]").count(),
        2,
        "k asks again:\n{screen}"
    );
    assert!(
        !screen.contains("[10/10]"),
        "f answered the stapling change, which writes ssl.conf too:\n{screen}"
    );
    assert!(
        !screen.contains("[2/10]") && !screen.contains("[5/10]"),
        "r and s answered the rest of their rule:\n{screen}"
    );
    assert!(screen.contains("r - apply this change and the remaining ones of the same rule"));
    assert!(
        screen.contains("About to write 5 change(s) to 3 file(s):"),
        "{screen}"
    );
    let ssl = read(&root, "etc/apache2/mods-available/ssl.conf");
    assert!(
        ssl.contains("SSLProtocol -all +TLSv1.2") && ssl.contains("SSLCipherSuite HIGH:!aNULL")
    );
    let dflt = read(&root, "etc/apache2/sites-available/default-ssl.conf");
    assert!(dflt.contains("SSLProtocol -all") && !dflt.contains("Strict-Transport-Security"));
    let shop = read(&root, "etc/apache2/sites-available/shop.conf");
    assert!(
        shop.contains("SSLUseStapling on") && shop.contains("Header add Strict"),
        "{shop}"
    );
    assert!(!read(&root, "etc/apache2/sites-available/000-default.conf").contains("Redirect"));
}

#[test]
fn the_summary_is_confirmed_before_anything_is_written() {
    let (t, root) = demo_copy();
    let before = snapshot(&root);
    let backups = t.path().join("b");
    let mut pty = spawn(&apache_args(&root, &backups));
    pty.answer(1, "a");
    pty.confirm("n");
    let (code, screen) = pty.finish();
    assert_eq!(code, 0, "{screen}");
    assert!(
        screen.contains("About to write 10 change(s) to 4 file(s):"),
        "{screen}"
    );
    assert!(
        screen.contains(
            "etc/apache2/sites-enabled/shop.conf  (apache.protocol, apache.hsts, apache.stapling)"
        ),
        "{screen}"
    );
    assert!(screen.contains("quit: nothing was written"), "{screen}");
    assert_eq!(snapshot(&root), before);
}

#[test]
fn a_large_plan_is_offered_rule_by_rule() {
    let (t, root) = demo_copy();
    for i in 0..30 {
        std::fs::write(
            root.join(format!("etc/apache2/sites-enabled/s{i:02}.conf")),
            format!("<VirtualHost *:443>\n    ServerName s{i}.example.test\n    SSLEngine on\n    SSLProtocol all\n</VirtualHost>\n"),
        )
        .unwrap();
    }
    let backups = t.path().join("b");
    let mut pty = spawn(&apache_args(&root, &backups));
    pty.answer_to(GROUP_PROMPT, 1, "y"); // apache.protocol: all 33
    for n in 2..=6 {
        pty.answer_to(GROUP_PROMPT, n, "n");
    }
    pty.confirm("y");
    let (code, screen) = pty.finish();
    assert_eq!(code, 0, "{screen}");
    assert!(
        screen.contains("[rule 1/6] apache.protocol: 33 change(s) in 33 file(s)"),
        "{screen}"
    );
    assert_eq!(screen.matches(PROMPT).count(), 0, "no question per change");
    for i in 0..30 {
        let s = read(&root, &format!("etc/apache2/sites-enabled/s{i:02}.conf"));
        assert!(s.contains("SSLProtocol -all +TLSv1.2"), "{s}");
        assert!(!s.contains("Strict-Transport-Security"), "{s}");
    }
}

#[test]
fn the_review_uses_the_terminal_when_stdout_is_redirected() {
    let (t, root) = demo_copy();
    let backups = t.path().join("b");
    let log = t.path().join("log");
    let mut pty = spawn_redirected(&args(&root, &backups), std::fs::File::create(&log).unwrap());
    pty.answer(1, "y");
    pty.answer(2, "y");
    pty.answer_opt_in(1, "n");
    pty.confirm("y");
    let (code, screen) = pty.finish();
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("[1/3] courier.tls-required"), "{screen}");
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("wrote "), "results go to stdout: {log}");
    assert!(!log.contains("Apply this change"), "{log}");
}
