//! `apply --reload`: after writing, reload each daemon whose files changed,
//! probe it, and say whether it came back serving what the profile allows.
//! The caller rolls the run back when it did not.
//!
//! Commands follow Debian's layout (`apache2ctl graceful` with
//! `APACHE_CONFDIR` for a `--root` tree, `postfix -c DIR reload`, Courier's
//! stop/start); cn=config changed through ldapmodify is live already.

use crate::discover::Root;
use crate::live::verify::{self, Check};
use crate::plan::Report;
use crate::servers::{Options, Server};
use crate::syntax::Syntax;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// What to reload: the daemons behind the files a run wrote.
#[derive(Debug, Default)]
pub struct Targets {
    pub apache_confdir: Option<PathBuf>,
    pub postfix_dirs: BTreeSet<PathBuf>,
    pub courier: bool,
    pub slapd_offline: bool,
}

pub fn targets(report: &Report, written: &[PathBuf]) -> Targets {
    let mut t = Targets::default();
    // A set: thousands of files written, each looked up once.
    let written: std::collections::HashSet<&PathBuf> = written.iter().collect();
    for f in report.files.iter().filter(|f| written.contains(&f.host)) {
        match f.syntax {
            Syntax::Apache => {
                // The directory apache2ctl reads: /etc/apache2 inside the root.
                let host = f.host.to_string_lossy();
                if let Some(i) = host.find("/etc/apache2/") {
                    t.apache_confdir = Some(PathBuf::from(&host[..i + "/etc/apache2".len()]));
                }
            }
            Syntax::PostfixMain | Syntax::PostfixMaster => {
                if let Some(d) = f.host.parent() {
                    t.postfix_dirs.insert(d.to_path_buf());
                }
            }
            Syntax::Courier => t.courier = true,
            Syntax::Ldif => t.slapd_offline = true,
            _ => {}
        }
    }
    t
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let o = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if o.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{:?} failed: {}{}",
            cmd,
            String::from_utf8_lossy(&o.stderr).trim(),
            String::from_utf8_lossy(&o.stdout).trim()
        ))
    }
}

/// How hard to reload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// After writing: a graceful reload, no connection dropped.
    Graceful,
    /// After rolling back: stop, then start. httpd keeps an
    /// `SSLStaplingCache` across graceful *and* plain restarts (both are the
    /// same process re-reading its files) and exits ("AH00820: shared memory
    /// segment too small") when a rollback removes it; a fresh process starts
    /// clean, and also starts a daemon that the failed reload left stopped.
    Restart,
}

/// Reloads the daemons; returns what was done, and notes for what cannot be.
pub fn reload(t: &Targets, root: &Root, mode: Mode) -> (Vec<String>, Vec<String>) {
    let (mut done, mut notes) = (Vec::new(), Vec::new());
    if let Some(dir) = &t.apache_confdir {
        let ctl = |verb: &str| {
            run(Command::new("apache2ctl")
                .arg(verb)
                .env("APACHE_CONFDIR", dir))
        };
        let r = match mode {
            Mode::Graceful => ctl("graceful").map(|()| "graceful"),
            Mode::Restart => {
                let _ = ctl("stop");
                let pid_file = apache_pid_file(dir);
                wait_for_exit(&pid_file);
                // An httpd that exited on a bad configuration leaves its PID
                // file behind; if that PID lingers as a zombie, httpd -k start
                // takes it for a running server and starts nothing.
                if !alive(&pid_file) {
                    let _ = std::fs::remove_file(&pid_file);
                }
                ctl("start").map(|()| "stop; apache2ctl start")
            }
        };
        match r {
            Ok(verb) => done.push(format!(
                "apache2ctl {verb} (APACHE_CONFDIR={})",
                dir.display()
            )),
            Err(e) => notes.push(e),
        }
    }
    for d in &t.postfix_dirs {
        match run(Command::new("postfix").arg("-c").arg(d).arg("reload")) {
            Ok(()) => done.push(format!("postfix -c {} reload", d.display())),
            Err(e) => notes.push(e),
        }
    }
    if t.courier {
        if root.dir().is_some() {
            notes.push(
                "Courier reads /etc/courier only: restart it yourself for a --root tree".into(),
            );
        } else {
            for script in ["/usr/sbin/imapd", "/usr/sbin/imapd-ssl"] {
                if !Path::new(script).exists() {
                    continue;
                }
                // Courier captures its environment at start: stop, then start.
                let _ = run(Command::new(script).arg("stop"));
                match run(Command::new(script).arg("start")) {
                    Ok(()) => done.push(format!("{script} stop; {script} start")),
                    Err(e) => notes.push(e),
                }
            }
        }
    }
    if t.slapd_offline {
        notes.push("slapd.d was edited offline: start slapd to use it (changes made with ldapmodify are live already)".into());
    }
    (done, notes)
}

/// Where httpd writes its PID, from the Debian envvars of `confdir`, read
/// as data (crate::live::apache_env), never sourced.
fn apache_pid_file(confdir: &Path) -> PathBuf {
    crate::live::apache_env::read(confdir, confdir)
        .vars
        .remove("APACHE_PID_FILE")
        .filter(|p| !p.is_empty())
        .map_or_else(
            || PathBuf::from("/var/run/apache2/apache2.pid"),
            PathBuf::from,
        )
}

/// Whether the process named by `pid_file` runs (a zombie does not count).
fn alive(pid_file: &Path) -> bool {
    std::fs::read_to_string(pid_file)
        .ok()
        .and_then(|p| p.trim().parse::<u32>().ok())
        .is_some_and(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/status"))
                .is_ok_and(|s| !s.contains("zombie"))
        })
}

/// Waits (up to ten seconds) until the process named by `pid_file` is gone.
fn wait_for_exit(pid_file: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && alive(pid_file) {
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Keeps only the daemons that are running now (one of their declared
/// services answers on loopback): `--reload` reloads what runs, and never
/// starts a daemon that was stopped, nor blames a change for its absence.
pub fn running(t: Targets, root: &Root, opts: &Options) -> (Targets, Vec<String>) {
    let mut notes = Vec::new();
    // Asked after the review: the tree as it is now, not as the plan
    // remembered it (a conf file removed meanwhile must not hide Apache).
    let root = &root.fresh();
    let answers = |server: Server| -> bool {
        let mut o = opts.clone();
        o.servers = vec![server];
        verify::declared(root, &o, "127.0.0.1")
            .unwrap_or_default()
            .iter()
            .any(|c| match c {
                Check::Tls { endpoint, .. } => {
                    crate::live::probe::answers(&endpoint.host, endpoint.port)
                }
                Check::Redirect { host, port, .. }
                | Check::ImapLogin { host, port }
                | Check::Submission { host, port } => crate::live::probe::answers(host, *port),
            })
    };
    let mut kept = Targets {
        slapd_offline: t.slapd_offline,
        ..Targets::default()
    };
    if t.apache_confdir.is_some() {
        if answers(Server::Apache) {
            kept.apache_confdir = t.apache_confdir;
        } else {
            notes.push("Apache is not running: not reloaded (start it to use the changes)".into());
        }
    }
    if !t.postfix_dirs.is_empty() {
        if answers(Server::Postfix) {
            kept.postfix_dirs = t.postfix_dirs;
        } else {
            notes.push("Postfix is not running: not reloaded".into());
        }
    }
    if t.courier {
        if answers(Server::Courier) {
            kept.courier = true;
        } else {
            notes.push("Courier IMAP is not running: not restarted".into());
        }
    }
    (kept, notes)
}

/// The servers whose daemons were reloaded, for the probe.
fn servers(t: &Targets) -> Vec<Server> {
    let mut v = Vec::new();
    if t.apache_confdir.is_some() {
        v.push(Server::Apache);
    }
    if !t.postfix_dirs.is_empty() {
        v.push(Server::Postfix);
    }
    if t.courier {
        v.push(Server::Courier);
    }
    v
}

/// Probes the reloaded daemons until they answer (up to `wait`). `Err`
/// describes what is broken: a daemon that does not answer, or one that
/// refuses every version the profile allows.
pub fn probe(
    t: &Targets,
    root: &Root,
    opts: &Options,
    wait: Duration,
) -> Result<Vec<String>, String> {
    let mut o = opts.clone();
    o.servers = servers(t);
    if o.servers.is_empty() {
        return Ok(Vec::new());
    }
    // The tree as the daemon has just read it: what the plan remembered
    // of it (links, listings) may have changed during the review.
    let checks: Vec<Check> =
        verify::declared(&root.fresh(), &o, "127.0.0.1").map_err(|e| e.to_string())?;
    // A graceful restart finishes after the command returns; a configuration
    // the daemon refuses makes it exit only once it has read it.
    std::thread::sleep(Duration::from_millis(1500));
    // httpd reads its files on the graceful restart and exits if it cannot
    // use them: its parent process must still be there.
    if let Some(dir) = &t.apache_confdir
        && !alive(&apache_pid_file(dir))
    {
        return Err("httpd exited after the graceful restart (see its error log)".into());
    }
    let mut seen = Vec::new();
    for c in checks.iter().filter(|c| matches!(c, Check::Tls { .. })) {
        let deadline = Instant::now() + wait;
        let result = loop {
            match verify::run(c, opts.profile) {
                Ok(r) => break Ok(r),
                Err(e) if Instant::now() >= deadline => break Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(250)),
            }
        };
        let (line, problems) =
            result.map_err(|e| format!("the daemon does not answer after the reload: {e}"))?;
        if let Some(p) = problems.iter().find(|p| p.what.starts_with("no version")) {
            return Err(format!("{line}: {}", p.what));
        }
        seen.push(line);
    }
    Ok(seen)
}
