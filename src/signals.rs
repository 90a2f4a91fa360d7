//! SIGINT, SIGTERM and SIGHUP while tlsmend writes.
//!
//! [`install`] blocks the three signals in every thread and hands them to
//! a thread of their own. Outside a commit a signal ends the process at
//! once (after removing this process's staging copies), saying so and what
//! was already written. During a commit ([`defer`]) it is only recorded:
//! the commit runs to its end (or its own undo), and the caller then says
//! which, and exits non-zero ([`taken`]). The run is never cut in half.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

static INSTALLED: AtomicBool = AtomicBool::new(false);
static DEFERRING: AtomicBool = AtomicBool::new(false);
static PENDING: AtomicI32 = AtomicI32::new(0);
/// What to say if a signal ends the process now (what was written).
static CONTEXT: Mutex<Option<String>> = Mutex::new(None);

fn set() -> libc::sigset_t {
    // SAFETY: a sigset_t initialised by sigemptyset before use.
    unsafe {
        let mut s: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut s);
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaddset(&mut s, sig);
        }
        s
    }
}

/// The signal's name.
pub fn name(sig: i32) -> &'static str {
    match sig {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        libc::SIGHUP => "SIGHUP",
        _ => "a signal",
    }
}

/// The exit code for a signal: 128 + its number, as a shell shows it.
pub fn exit_code(sig: i32) -> u8 {
    (128 + sig).clamp(0, 255) as u8
}

/// Takes over SIGINT, SIGTERM and SIGHUP for the process. Call it before
/// any other thread is started. Children started later get the default
/// handling back (std resets the signal mask of a child).
pub fn install() {
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return;
    }
    let s = set();
    // SAFETY: blocks the signals in this thread; threads started later
    // inherit the mask.
    unsafe {
        libc::pthread_sigmask(libc::SIG_BLOCK, &s, std::ptr::null_mut());
    }
    std::thread::spawn(move || {
        loop {
            let mut sig: libc::c_int = 0;
            // SAFETY: waits for one of the blocked signals.
            if unsafe { libc::sigwait(&s, &mut sig) } != 0 {
                continue;
            }
            if DEFERRING.load(Ordering::SeqCst) {
                PENDING.store(sig, Ordering::SeqCst);
                continue;
            }
            crate::journal::remove_stage_copies(true);
            let context = CONTEXT
                .lock()
                .ok()
                .and_then(|c| c.clone())
                .unwrap_or_else(|| "nothing was written".to_string());
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "tlsmend: interrupted by {}: {context}",
                name(sig)
            );
            std::process::exit(i32::from(exit_code(sig)));
        }
    });
}

/// While the returned guard lives, the three signals are recorded instead
/// of ending the process.
pub fn defer() -> Deferred {
    DEFERRING.store(true, Ordering::SeqCst);
    Deferred(())
}

pub struct Deferred(());

impl Drop for Deferred {
    fn drop(&mut self) {
        DEFERRING.store(false, Ordering::SeqCst);
    }
}

/// The signal received while deferred, if any (taken: asked once).
pub fn taken() -> Option<i32> {
    match PENDING.swap(0, Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// What to say if a signal ends the process from now on (after a commit:
/// which run was written and how to undo it).
pub fn set_context(what: Option<String>) {
    if let Ok(mut c) = CONTEXT.lock() {
        *c = what;
    }
}

/// A run stopped by a signal after finishing (or undoing) what it was
/// writing: `what` says which. The binary exits with [`exit_code`].
#[derive(Debug)]
pub struct Interrupted {
    pub sig: i32,
    pub what: String,
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "interrupted by {}: {}", name(self.sig), self.what)
    }
}

impl std::error::Error for Interrupted {}
