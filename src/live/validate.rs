//! The daemons' own checkers, run on a staging copy before anything in
//! place is replaced, each through [`runner`] (clean environment, no stdin,
//! a time limit, no network): `apache2 -t` with the variables of `envvars`
//! read as data, never sourced (or `httpd -t -f` for other layouts),
//! `postfix check` and `postconf -n`, `slaptest`, `sh -n` and tlsmend's own
//! reading of Courier's sh (never sourced: nothing of a configuration is
//! executed), and
//! `gnutls-cli --priority ... -l` for every GnuTLS priority string written.
//!
//! Each checker runs twice, on a staging copy as it is and with the changes
//! written over its files (for httpd, which only reads, the same copy; for
//! the others a fresh one): only what the changes make fail counts (a `--root` image whose
//! certificates live elsewhere may fail either way, which says nothing about
//! tlsmend). A failure is traced to the change that causes it by checking
//! the changes one at a time. A checker that is not installed is reported,
//! never taken for a pass.

use crate::catalogue::profile::{Priority, read_priority};
use crate::discover::Root;
use crate::live::apache_env;
use crate::live::runner::{self, Sandbox};
use crate::plan::Report;
use crate::syntax::Syntax;
use crate::syntax::courier;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What validation found.
#[derive(Debug, Default)]
pub struct Validation {
    /// Checkers that passed, for the user.
    pub passed: Vec<String>,
    /// Said once each: checkers that are missing or cannot judge.
    pub notes: Vec<String>,
    /// `(change index, checker, its message)` for every change that fails.
    pub failures: Vec<(usize, String, String)>,
}

/// The files of one checker's scope: the directory to copy, the checker.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Scope {
    /// A configuration directory (host path) and how to check it.
    Dir(PathBuf, Checker),
    /// One Courier file (host path).
    Courier(PathBuf),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Checker {
    ApacheDebian,
    ApacheRedhat,
    Postfix,
    SlapdD,
    SlapdConf,
}

fn tool(name: &str) -> bool {
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        .iter()
        .any(|d| Path::new(d).join(name).exists())
}

/// Which scope a file of the report belongs to.
fn scope_of(report: &Report, root: &Root, f: usize) -> Option<Scope> {
    let file = &report.files[f];
    let real = &file.real;
    let host_dir = |p: &str| root.host(Path::new(p));
    match file.syntax {
        // Debian's apache2ctl reads apache2.conf: SUSE's and Alpine's
        // /etc/apache2 (httpd.conf) are not its to judge.
        Syntax::Apache
            if real.starts_with("/etc/apache2")
                && root.exists(Path::new("/etc/apache2/apache2.conf")) =>
        {
            Some(Scope::Dir(host_dir("/etc/apache2"), Checker::ApacheDebian))
        }
        Syntax::Apache
            if real.starts_with("/etc/httpd")
                && root.exists(Path::new("/etc/httpd/conf/httpd.conf")) =>
        {
            Some(Scope::Dir(host_dir("/etc/httpd"), Checker::ApacheRedhat))
        }
        Syntax::PostfixMain | Syntax::PostfixMaster => Some(Scope::Dir(
            file.host.parent()?.to_path_buf(),
            Checker::Postfix,
        )),
        Syntax::Courier => Some(Scope::Courier(file.host.clone())),
        Syntax::Ldif => Some(Scope::Dir(
            file.host.parent()?.to_path_buf(),
            Checker::SlapdD,
        )),
        Syntax::SlapdConf => Some(Scope::Dir(
            file.host.parent()?.to_path_buf(),
            Checker::SlapdConf,
        )),
        _ => None,
    }
}

fn checker_name(c: Checker) -> &'static str {
    match c {
        Checker::ApacheDebian => "apache2 -t",
        Checker::ApacheRedhat => "httpd -t",
        Checker::Postfix => "postfix check",
        Checker::SlapdD => "slaptest -F",
        Checker::SlapdConf => "slaptest -u -f",
    }
}

fn checker_tool(c: Checker) -> &'static str {
    match c {
        Checker::ApacheDebian => "apache2",
        Checker::ApacheRedhat => "httpd",
        Checker::Postfix => "postfix",
        Checker::SlapdD | Checker::SlapdConf => "slaptest",
    }
}

/// Runs a checker through [`runner`]: clean environment, no stdin, a time
/// limit, no network; `(passed, its output)`.
fn sandboxed(program: &str, args: &[&std::ffi::OsStr], env: &[(String, String)]) -> (bool, String) {
    let args: Vec<std::ffi::OsString> = args.iter().map(|a| a.to_os_string()).collect();
    let o = runner::run(program, &args, env, Sandbox::default());
    (o.ok, o.output())
}

/// Runs a checker on a staged directory; `Ok(())` or its message.
fn check_dir(c: Checker, dir: &Path) -> (bool, String) {
    let d = dir.as_os_str();
    match c {
        // What `apache2ctl -t` runs, without sourcing the image's envvars:
        // its variables are read as data (crate::live::apache_env).
        Checker::ApacheDebian => {
            let mut env: Vec<(String, String)> = apache_env::read(dir, Path::new("/etc/apache2"))
                .vars
                .into_iter()
                .collect();
            env.push(("APACHE_CONFDIR".into(), dir.display().to_string()));
            sandboxed(
                "/usr/sbin/apache2",
                &["-d".as_ref(), d, "-t".as_ref()],
                &env,
            )
        }
        Checker::ApacheRedhat => sandboxed(
            "httpd",
            &[
                "-t".as_ref(),
                "-d".as_ref(),
                d,
                "-f".as_ref(),
                dir.join("conf/httpd.conf").as_os_str(),
            ],
            &[],
        ),
        Checker::Postfix => {
            let (ok, out) = sandboxed("postfix", &["-c".as_ref(), d, "check".as_ref()], &[]);
            if !ok {
                return (ok, out);
            }
            // postconf warns about what `check` lets pass (unknown values, duplicates).
            let args = ["-c".into(), d.to_os_string(), "-n".into()];
            let o = runner::run("postconf", &args, &[], Sandbox::default());
            let warnings = o.stderr.trim().to_string();
            (warnings.is_empty(), warnings)
        }
        Checker::SlapdD => {
            let (ok, out) = sandboxed("slaptest", &["-F".as_ref(), d], &[]);
            (ok && !out.contains("checksum error"), out)
        }
        Checker::SlapdConf => sandboxed(
            "slaptest",
            &[
                "-u".as_ref(),
                "-f".as_ref(),
                dir.join("slapd.conf").as_os_str(),
            ],
            &[],
        ),
    }
}

/// What a checker's output says is wrong: its error line and the line
/// that explains it (httpd prints `AH00526: Syntax error on line N of F:`
/// then the reason on stderr, and `Action '-t' failed.` and a pointer to
/// the error log on stdout), with the staging copy's paths named as the
/// configuration's own.
fn real_error(out: &str, staged: &Path, dir: &Path) -> String {
    let noise = |l: &str| {
        let l = l.trim();
        l.is_empty()
            || (l.starts_with("Action '") && l.ends_with("' failed."))
            || l.starts_with("The Apache error log may have more information")
    };
    let lines: Vec<&str> = out.lines().filter(|l| !noise(l)).collect();
    let start = lines
        .iter()
        .position(|l| {
            l.contains("AH0") || l.contains("rror") || l.contains("nvalid") || l.contains("fatal")
        })
        .unwrap_or(0);
    let text = lines
        .iter()
        .skip(start)
        .take(3)
        .map(|l| l.trim())
        .collect::<Vec<_>>()
        .join(" ");
    text.replace(&staged.display().to_string(), &dir.display().to_string())
}

/// The name of this process's staging copies in the temporary directory:
/// `tlsmend-stage-PID-`, so that the copies of a killed run are known by
/// their dead PID and removed by the next run (`crate::journal`).
pub fn stage_prefix() -> String {
    format!("{STAGE}{}-", std::process::id())
}

/// The common prefix of staging copies.
pub const STAGE: &str = "tlsmend-stage-";

/// Copies `dir` to a fresh (0700) staging directory, with `files` (host path →
/// bytes) written over their copies.
fn stage(
    dir: &Path,
    files: &[(PathBuf, Vec<u8>)],
) -> std::io::Result<(tempfile::TempDir, PathBuf)> {
    use std::os::unix::fs::PermissionsExt;
    let t = tempfile::Builder::new()
        .prefix(&stage_prefix())
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()?;
    let name = dir
        .file_name()
        .map_or_else(|| PathBuf::from("stage"), PathBuf::from);
    let to = t.path().join(name);
    let st = Command::new("cp").arg("-a").arg(dir).arg(&to).status()?;
    if !st.success() {
        return Err(std::io::Error::other(format!(
            "cp -a {} failed",
            dir.display()
        )));
    }
    write_over(dir, &to, files)?;
    crate::commit::test_pause("staged");
    Ok((t, to))
}

/// Writes `files` (host path under `dir` → bytes) over their copies in the
/// staging copy `to` of `dir`.
fn write_over(dir: &Path, to: &Path, files: &[(PathBuf, Vec<u8>)]) -> std::io::Result<()> {
    for (host, bytes) in files {
        if let Ok(rel) = host.strip_prefix(dir) {
            std::fs::write(to.join(rel), bytes)?;
        }
    }
    Ok(())
}

/// A Courier file checked without running it: `sh -n` (which parses and
/// executes nothing; through [`runner`], in an empty environment) and tlsmend's own reading of
/// its assignments. The file is never sourced: a `$(...)` or backquote in a
/// value would run on this host, as root, so such values are reported as
/// impossible to judge instead. `Err` says why the file is not valid;
/// `Ok` carries the notes on values that cannot be judged.
fn check_courier(path: &Path, bytes: &[u8]) -> Result<Vec<String>, String> {
    let parsed = courier::parse(path, bytes).map_err(|e| e.to_string())?;
    let mut t = tempfile::Builder::new()
        .prefix(&stage_prefix())
        .tempfile()
        .map_err(|e| format!("cannot create a temporary file: {e}"))?;
    use std::io::Write;
    t.write_all(bytes)
        .map_err(|e| format!("cannot write a temporary file: {e}"))?;
    // The runner's environment is already empty (what `env -i` gave).
    let (ok, out) = sandboxed("/bin/sh", &["-n".as_ref(), t.path().as_os_str()], &[]);
    if !ok {
        return Err(format!("sh -n: {out}"));
    }
    let source = crate::source::Source::new(path.to_path_buf(), bytes.to_vec());
    Ok(parsed
        .assignments()
        .filter(|(_, a)| a.substitution(bytes))
        .map(|(_, a)| {
            format!(
                "{}:{}: {} runs a command ($(...) or backquotes): its value cannot be judged, and tlsmend does not run it",
                path.display(),
                source.line_of(a.name.start()),
                a.name_str(bytes)
            )
        })
        .collect())
}

/// GnuTLS priority strings that `bytes` (a rendered file) or an LDAP change
/// would put in place.
fn priorities_in(report: &Report, change: usize) -> Vec<String> {
    let mut out = Vec::new();
    let c = &report.changes[change];
    if let Some(l) = &c.ldap {
        out.extend(l.mods.iter().map(|m| m.new.clone()));
    }
    if let Ok(files) = report.render(&[change]) {
        for (f, new) in files {
            let file = &report.files[f];
            match file.syntax {
                Syntax::Courier => {
                    if let Ok(p) = courier::parse(&file.source.path, &new) {
                        for (_, a) in p.assignments() {
                            if a.name.slice(&new) == b"TLS_PRIORITY" {
                                out.push(a.value_str(&new));
                            }
                        }
                    }
                }
                _ => {
                    // Values written by a patch of this change, one per patch.
                    for (pf, patch) in &c.edits {
                        if *pf == f {
                            let text = String::from_utf8_lossy(&patch.bytes).into_owned();
                            out.extend(
                                text.split([' ', '\t', '\n', '\r', '='])
                                    .map(|w| w.trim_matches('"').to_string()),
                            );
                        }
                    }
                }
            }
        }
    }
    out.retain(|v| matches!(read_priority(v), Priority::Gnutls(_)) && v.contains(':'));
    out
}

pub fn gnutls_accepts(priority: &str) -> Result<(), String> {
    // It reads no file: it runs as nobody where it can.
    let args = ["--priority".into(), priority.into(), "-l".into()];
    let o = runner::run("gnutls-cli", &args, &[], Sandbox { unprivileged: true });
    if o.stderr.starts_with("cannot run") {
        return Err(o.stderr);
    }
    let all = o.output();
    // gnutls-cli exits 0 on a bad string too: its message is the verdict.
    match all.lines().find(|l| l.contains("Syntax error")) {
        Some(l) => Err(format!("gnutls-cli --priority {priority:?}: {}", l.trim())),
        None => Ok(()),
    }
}

/// Checks the `selected` changes of `report`.
///
/// `selected` names each change once (as every caller builds it: all
/// changes, or the approved ones sorted).
pub fn validate(report: &Report, root: &Root, selected: &[usize]) -> Validation {
    debug_assert!(
        selected.windows(2).all(|w| w[0] < w[1]),
        "selected changes are sorted and unique"
    );
    let mut v = Validation::default();
    // Each file's scope, found once (a fleet's 30,000 changes touch 10,000
    // files, and finding a scope asks the file system).
    let mut scopes: Vec<Option<Option<Scope>>> = vec![None; report.files.len()];
    let mut by_scope: BTreeMap<Scope, Vec<usize>> = BTreeMap::new();
    // Apache files of a layout this machine has no checker for (SUSE,
    // Alpine, FreeBSD, or a file outside the configuration directory).
    let mut unchecked: Vec<String> = Vec::new();
    for &c in selected {
        for (f, _) in &report.changes[c].edits {
            let scope = scopes[*f].get_or_insert_with(|| scope_of(report, root, *f));
            match scope {
                Some(s) => {
                    let e = by_scope.entry(s.clone()).or_default();
                    // `selected` names each change once, and all its
                    // edits come together: a repeat can only be the last.
                    if e.last() != Some(&c) {
                        e.push(c);
                    }
                }
                None => {
                    let file = &report.files[*f];
                    let shown = file.shown().display().to_string();
                    if file.syntax == Syntax::Apache && !unchecked.contains(&shown) {
                        unchecked.push(shown);
                    }
                }
            }
        }
    }
    if !unchecked.is_empty() {
        v.notes.push(format!(
            "no httpd checker here for {}: run `httpd -t` (or `apachectl -t`) where this configuration runs",
            unchecked.join(", ")
        ));
    }
    let rendered = |changes: &[usize]| -> Vec<(PathBuf, Vec<u8>)> {
        report
            .render(changes)
            .map(|r| {
                r.into_iter()
                    .map(|(f, b)| (report.files[f].host.clone(), b))
                    .collect()
            })
            .unwrap_or_default()
    };
    for (scope, changes) in by_scope {
        match scope {
            Scope::Dir(dir, checker) => {
                let name = checker_name(checker);
                if !tool(checker_tool(checker)) {
                    v.notes.push(format!(
                        "{name} is not installed: the result was not checked with it"
                    ));
                    continue;
                }
                let Ok((_t0, base)) = stage(&dir, &[]) else {
                    v.notes
                        .push(format!("cannot stage {} to run {name}", dir.display()));
                    continue;
                };
                if checker == Checker::ApacheDebian {
                    for skipped in apache_env::read(&dir, Path::new("/etc/apache2")).skipped {
                        v.notes.push(format!(
                            "{}/{skipped} (tlsmend reads envvars as data and runs none of it)",
                            dir.display()
                        ));
                    }
                }
                let (base_ok, base_out) = check_dir(checker, &base);
                if !base_ok {
                    v.notes.push(format!(
                        "{name} already fails on {} as it is: {}; the result cannot be judged by it (tlsmend's changes were not checked with {name})",
                        dir.display(),
                        real_error(&base_out, &base, &dir)
                    ));
                    continue;
                }
                // httpd -t only reads its tree, so for Apache the changes are
                // written over the same staging copy (a second copy of a
                // fleet's 10,000 files would cost as much as the checker).
                // postfix check and slaptest may create things in theirs: a
                // fresh copy, so that the base run leaves nothing behind.
                let all = rendered(&changes);
                let reads_only = matches!(checker, Checker::ApacheDebian | Checker::ApacheRedhat);
                let (ok, out) = if reads_only {
                    match write_over(&dir, &base, &all) {
                        Ok(()) => check_dir(checker, &base),
                        Err(e) => (false, format!("cannot stage: {e}")),
                    }
                } else {
                    stage(&dir, &all)
                        .map(|(_t, d)| check_dir(checker, &d))
                        .unwrap_or((false, "cannot stage".into()))
                };
                if ok {
                    v.passed.push(format!("{name} ({})", dir.display()));
                    continue;
                }
                // Trace the failure to the changes that cause it.
                let mut blamed = false;
                for &c in &changes {
                    let (ok1, out1) = stage(&dir, &rendered(&[c]))
                        .map(|(_t, d)| check_dir(checker, &d))
                        .unwrap_or((false, String::new()));
                    if !ok1 {
                        v.failures.push((c, name.to_string(), out1));
                        blamed = true;
                    }
                }
                if !blamed {
                    v.failures
                        .push((changes[0], format!("{name} (the changes together)"), out));
                }
            }
            Scope::Courier(host) => {
                let Some(file) = report.files.iter().find(|f| f.host == host) else {
                    continue;
                };
                let path = file.source.path.clone();
                match check_courier(&path, &file.source.bytes) {
                    Err(e) => {
                        v.notes.push(format!(
                            "{} is not valid as it is, so its changes cannot be judged: {e}",
                            path.display()
                        ));
                        continue;
                    }
                    Ok(notes) => v.notes.extend(notes),
                }
                for c in changes {
                    if let Some((_, bytes)) = rendered(&[c]).into_iter().find(|(h, _)| *h == host)
                        && let Err(out) = check_courier(&path, &bytes)
                    {
                        v.failures
                            .push((c, "sh -n and tlsmend's sh reading".into(), out));
                    }
                }
                v.passed.push(format!(
                    "sh -n and tlsmend's reading of the assignments, nothing run ({})",
                    path.display()
                ));
            }
        }
    }
    // Every GnuTLS priority string that would be written.
    let mut missing_gnutls = false;
    for &c in selected {
        for p in priorities_in(report, c) {
            if !tool("gnutls-cli") {
                missing_gnutls = true;
                continue;
            }
            if let Err(e) = gnutls_accepts(&p) {
                v.failures.push((c, "gnutls-cli".into(), e));
            } else if !v.passed.iter().any(|x| x.starts_with("gnutls-cli")) {
                v.passed.push("gnutls-cli --priority ... -l".into());
            }
        }
    }
    if missing_gnutls {
        v.notes.push(
            "gnutls-cli is not installed: GnuTLS priority strings were not checked with it".into(),
        );
    }
    v
}
