//! How tlsmend runs an external checker: nothing of the host's or the
//! image's environment leaks in, nothing waits on a terminal, nothing runs
//! for ever, nothing reaches the network.
//!
//! Every checker ([`run`]) gets:
//! - a clean environment: only `PATH=/usr/sbin:/usr/bin:/sbin:/bin`,
//!   `LANG=C` and what the caller names (for Apache, the variables read
//!   from `envvars` as data, see [`super::apache_env`]);
//! - stdin closed (`/dev/null`), stdout and stderr captured;
//! - a time limit ([`LIMIT`]): past it the whole process group is killed
//!   and the check fails saying so;
//! - no network and a private mount namespace, with `unshare --net
//!   --mount` when tlsmend runs as root and `unshare` is installed (only
//!   the namespace's own loopback is up, as Postfix's check needs one);
//! - when the caller allows it ([`Sandbox::unprivileged`]), the user
//!   `nobody` (`setpriv --reuid --regid --clear-groups`) when tlsmend runs
//!   as root. Only checkers that read no root-only file can: `apache2 -t`
//!   stats the certificate and key files (under `/etc/ssl/private`, 0710),
//!   `postfix check` is reserved for the superuser, `slaptest` reads the
//!   server's key, and all of them read the 0700 staging copy; they run as
//!   root, in the namespaces above. `gnutls-cli -l` runs as `nobody`.
//!
//! The output comes back with secrets redacted ([`crate::redact`]).

use std::ffi::OsString;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long a checker may run.
pub const LIMIT: Duration = Duration::from_secs(60);

/// The search path every checker gets.
pub const PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";

/// What a checker may do beyond the defaults.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sandbox {
    /// Run as `nobody` when tlsmend is root (the checker must not need root
    /// and must be able to read what it checks).
    pub unprivileged: bool,
}

/// A checker's verdict: whether it exited 0, and what it printed
/// (redacted; a time-out is said in `stderr`).
#[derive(Debug)]
pub struct Outcome {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// stdout then stderr, trimmed.
    pub fn output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr).trim().to_string()
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn tool(name: &str) -> Option<String> {
    ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.exists())
        .map(|p| p.display().to_string())
}

/// `program` as an absolute path: as given when it has a `/`, else found
/// in [`PATH`] (never in the caller's own PATH).
fn resolve(program: &str) -> Option<String> {
    if program.contains('/') {
        return Path::new(program).exists().then(|| program.to_string());
    }
    PATH.split(':')
        .map(|d| Path::new(d).join(program))
        .find(|p| p.is_file())
        .map(|p| p.display().to_string())
}

/// The command line that runs `program args` under the sandbox, as it will
/// be executed (for messages and tests).
pub fn command_line(program: &str, args: &[OsString], sandbox: Sandbox) -> Vec<OsString> {
    let mut argv: Vec<OsString> = Vec::new();
    if is_root() {
        if let Some(unshare) = tool("unshare") {
            argv.push(unshare.into());
            argv.extend(["--net", "--mount", "--"].map(OsString::from));
            // The new network namespace has only `lo`, down: Postfix's check
            // stops without a loopback interface. Bring it up, then exec.
            if let Some(ip) = tool("ip") {
                argv.extend(
                    [
                        "/bin/sh".to_string(),
                        "-c".into(),
                        format!("{ip} link set lo up 2>/dev/null; exec \"$0\" \"$@\""),
                    ]
                    .map(OsString::from),
                );
            }
        }
        if sandbox.unprivileged
            && let Some(setpriv) = tool("setpriv")
        {
            let (uid, gid) = nobody();
            argv.push(setpriv.into());
            argv.extend(
                [
                    format!("--reuid={uid}"),
                    format!("--regid={gid}"),
                    "--clear-groups".into(),
                    "--".into(),
                ]
                .map(OsString::from),
            );
        }
    }
    argv.push(program.into());
    argv.extend(args.iter().cloned());
    argv
}

/// Runs `program args` as the module doc says, with `env` added to the
/// clean environment.
pub fn run(
    program: &str,
    args: &[OsString],
    env: &[(String, String)],
    sandbox: Sandbox,
) -> Outcome {
    run_for(program, args, env, sandbox, LIMIT)
}

/// [`run`] with another time limit.
pub fn run_for(
    program: &str,
    args: &[OsString],
    env: &[(String, String)],
    sandbox: Sandbox,
    limit: Duration,
) -> Outcome {
    let Some(program) = resolve(program) else {
        return Outcome {
            ok: false,
            stdout: String::new(),
            stderr: format!("cannot run {program}: not found in {PATH}"),
        };
    };
    let program = program.as_str();
    let argv = command_line(program, args, sandbox);
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .env_clear()
        .env("PATH", PATH)
        .env("LANG", "C")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so that the time limit kills its children.
        .process_group(0);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Outcome {
                ok: false,
                stdout: String::new(),
                stderr: format!("cannot run {program}: {e}"),
            };
        }
    };
    let drain = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(r) = r {
                let _ = r.take(1 << 20).read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if start.elapsed() < limit => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                // SAFETY: kill(2) on our child's own process group.
                unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
                let _ = child.wait();
                break None;
            }
        }
    };
    let text = |h: std::thread::JoinHandle<Vec<u8>>| {
        crate::redact::text(&String::from_utf8_lossy(&h.join().unwrap_or_default()))
    };
    let (stdout, mut stderr) = (text(out), text(err));
    let ok = match status {
        Some(s) => s.success(),
        None => {
            stderr = format!(
                "{program} did not finish within {} seconds and was killed\n{stderr}",
                limit.as_secs()
            );
            false
        }
    };
    Outcome { ok, stdout, stderr }
}

/// `nobody`'s uid and gid (65534 when /etc/passwd does not say).
fn nobody() -> (u32, u32) {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.first() == Some(&"nobody") && f.len() > 3)
                .then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))
                .flatten()
        })
        .unwrap_or((65534, 65534))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checker_gets_a_clean_environment_no_stdin_and_a_time_limit() {
        // cargo runs the tests with CARGO_MANIFEST_DIR set: it must not leak.
        assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some());
        let o = run(
            "/bin/sh",
            &["-c".into(), "env; read x && echo read-something".into()],
            &[("GIVEN".into(), "yes".into())],
            Sandbox::default(),
        );
        let out = o.output();
        assert!(!out.contains("CARGO_MANIFEST_DIR"), "{out}");
        assert!(out.contains("GIVEN=yes"), "{out}");
        assert!(out.contains(&format!("PATH={PATH}")), "{out}");
        assert!(!out.contains("read-something"), "stdin is closed: {out}");
        let start = Instant::now();
        let o = run_for(
            "/bin/sh",
            &["-c".into(), "sleep 30 & sleep 30".into()],
            &[],
            Sandbox::default(),
            Duration::from_millis(300),
        );
        assert!(!o.ok);
        assert!(
            o.output().contains("did not finish within"),
            "{}",
            o.output()
        );
        assert!(start.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn as_root_a_checker_has_no_network_and_may_run_as_nobody() {
        if !is_root() || tool("unshare").is_none() {
            eprintln!("SKIPPED: needs root and unshare");
            return;
        }
        let o = run(
            "/bin/cat",
            &["/proc/self/net/dev".into()],
            &[],
            Sandbox { unprivileged: true },
        );
        let ifaces: Vec<&str> = o
            .stdout
            .lines()
            .skip(2)
            .filter_map(|l| l.split(':').next())
            .map(str::trim)
            .collect();
        assert_eq!(ifaces, ["lo"], "{}", o.output());
        let o = run(
            "/usr/bin/id",
            &["-u".into()],
            &[],
            Sandbox { unprivileged: true },
        );
        assert_eq!(o.output(), nobody().0.to_string());
    }
}
