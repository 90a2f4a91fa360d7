//! A real pseudo-terminal for driving the interactive review with keys.

use super::{bin, text};
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const PROMPT: &str = "Apply this change [y,n,a,f,d,r,s,k,q,?]?";
/// The question for an opt-in rule's change (default answer no).
pub const OPT_IN_PROMPT: &str = "Apply this change [y,N,r,s,k,q,?]?";
/// The question for a whole rule, in a large plan.
pub const GROUP_PROMPT: &str = "Apply the changes of this rule [y,n,o,k,q,?]?";
/// The last question, after the summary of what will be written.
pub const CONFIRM: &str = "Write them? [y/N]";

pub struct Pty {
    master: std::fs::File,
    screen: Arc<Mutex<Vec<u8>>>,
    child: Child,
}

pub fn spawn(args: &[&str]) -> Pty {
    spawn_env(args, None)
}

pub fn spawn_env(args: &[&str], no_color: Option<&str>) -> Pty {
    match no_color {
        Some(v) => spawn_with(args, &[("NO_COLOR", v)]),
        None => spawn_with(args, &[]),
    }
}

/// Spawns in a pty with TERM=xterm and `env` on top.
pub fn spawn_with(args: &[&str], env: &[(&str, &str)]) -> Pty {
    spawn_full(args, env, None)
}

/// Spawns in a pty with stdout redirected to `stdout` (the review must
/// still be shown on the terminal).
pub fn spawn_redirected(args: &[&str], stdout: std::fs::File) -> Pty {
    spawn_full(args, &[], Some(stdout))
}

fn spawn_full(args: &[&str], env: &[(&str, &str)], stdout: Option<std::fs::File>) -> Pty {
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
    cmd.env("TERM", "xterm").env_remove("CLICOLOR_FORCE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = match stdout {
        Some(f) => Stdio::from(f),
        None => Stdio::from(slave.try_clone().unwrap()),
    };
    cmd.args(args)
        .stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(out)
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
    pub fn screen(&self) -> String {
        text(&self.screen.lock().unwrap())
    }
    /// Waits until the prompt has been shown `n` times, then presses `key`.
    pub fn answer(&mut self, n: usize, key: &str) {
        self.answer_to(PROMPT, n, key);
    }
    /// The same for the opt-in rules' question.
    pub fn answer_opt_in(&mut self, n: usize, key: &str) {
        self.answer_to(OPT_IN_PROMPT, n, key);
    }
    /// Answers the summary's last question.
    pub fn confirm(&mut self, key: &str) {
        self.answer_to(CONFIRM, 1, key);
    }
    /// Waits until `prompt` has been shown `n` times, then presses `key`.
    pub fn answer_to(&mut self, prompt: &str, n: usize, key: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.screen().matches(prompt).count() < n {
            assert!(
                Instant::now() < deadline,
                "prompt {n} never came:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        self.master.write_all(key.as_bytes()).unwrap();
    }
    pub fn finish(mut self) -> (i32, String) {
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
