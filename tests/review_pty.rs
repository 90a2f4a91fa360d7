//! The interactive review driven through a real pseudo-terminal with real
//! keystrokes: approve some, refuse some, ask for help, approve all, quit.

mod common;
use common::*;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PROMPT: &str = "Apply this change [y,n,a,q,?]?";

struct Pty {
    master: std::fs::File,
    screen: Arc<Mutex<Vec<u8>>>,
    child: Child,
}

fn spawn(args: &[&str]) -> Pty {
    spawn_env(args, None)
}

fn spawn_env(args: &[&str], no_color: Option<&str>) -> Pty {
    let (mut master, mut slave) = (0, 0);
    let ws = libc::winsize {
        ws_row: 50,
        ws_col: 200,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes two descriptors into the given ints.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &ws,
        )
    };
    assert_eq!(rc, 0, "openpty failed");
    // SAFETY: both descriptors were just opened and are owned here.
    let slave = unsafe { OwnedFd::from_raw_fd(slave) };
    let master = unsafe { std::fs::File::from_raw_fd(master) };
    let mut cmd = bin();
    if let Some(v) = no_color {
        cmd.env("NO_COLOR", v);
    }
    cmd.args(args)
        .env("TERM", "xterm")
        .stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave));
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY as _, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd.spawn().expect("spawn tlsmend in a pty");
    drop(cmd);
    let screen = Arc::new(Mutex::new(Vec::new()));
    let mut reader = master.try_clone().unwrap();
    let sink = screen.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    Pty {
        master,
        screen,
        child,
    }
}

impl Pty {
    fn screen(&self) -> String {
        text(&self.screen.lock().unwrap())
    }
    /// Waits until the prompt has been shown `n` times, then presses `key`.
    fn answer(&mut self, n: usize, key: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.screen().matches(PROMPT).count() < n {
            assert!(
                Instant::now() < deadline,
                "prompt {n} never came:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        self.master.write_all(key.as_bytes()).unwrap();
    }
    fn finish(mut self) -> (i32, String) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(100));
                return (st.code().unwrap_or(-1), self.screen());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("tlsmend did not exit:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn courier_root() -> (tempfile::TempDir, std::path::PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    copy_tree(&repo().join("demo"), &root);
    (t, root)
}

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
    let (t, root) = courier_root();
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
    let (t, root) = courier_root();
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
    let (t, root) = courier_root();
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
        let (t, root) = courier_root();
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
