//! The `tlsmend` binary: parses arguments, runs the library, prints, and maps
//! outcomes to exit codes (see `tlsmend --help`).

use anyhow::{Context, Result, bail};
use clap::Parser;
use serde_json::json;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tlsmend::catalogue::profile::Profile;
use tlsmend::cli::{Cli, Command, Format, Target};
use tlsmend::discover::Root;
use tlsmend::plan::Report;
use tlsmend::review::{self, Painter, TermPrompt};
use tlsmend::servers::{self, Options};
use tlsmend::session;
use tlsmend::syntax::Syntax;

/// `println!` for which a closed stdout (`| head`, EPIPE) is an ordinary
/// end: the line is dropped and the command goes on with what it still has
/// to do (a rollback finishes restoring every file).
macro_rules! say {
    ($($t:tt)*) => {{
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}

/// `eprintln!` that does not panic when stderr is closed.
macro_rules! tell {
    ($($t:tt)*) => {{
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if let Some(i) = e.downcast_ref::<tlsmend::signals::Interrupted>() {
                tell!("tlsmend: {i}");
                return ExitCode::from(tlsmend::signals::exit_code(i.sig));
            }
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            tell!("tlsmend: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn run(cli: Cli) -> Result<u8> {
    let root = Root::new(cli.root.clone());
    if let Some(d) = root.dir()
        && !d.is_dir()
    {
        bail!("--root {} is not a directory", d.display());
    }
    match cli.command {
        Command::Audit { target, format } => audit(&root, &target, format),
        Command::Apply {
            target,
            dry_run,
            yes,
            backup_dir,
            only,
            skip,
            no_validate,
            reload,
        } => {
            let backup_dir = backup_dir.unwrap_or_else(|| default_backup_dir(&root));
            let how = How {
                dry_run,
                yes,
                backup_dir,
                only,
                skip,
                validate: !no_validate,
                reload,
            };
            apply(&root, &target, &how)
        }
        Command::Rollback {
            run,
            backup_dir,
            force,
            list,
        } => {
            let backup_dir = backup_dir.unwrap_or_else(|| default_backup_dir(&root));
            rollback(&root, &backup_dir, run.as_deref(), force, list)
        }
        Command::Roundtrip { syntax, files } => roundtrip(syntax, &files),
        Command::Verify {
            target,
            host,
            addresses,
        } => verify(&root, &target, &host, &addresses),
        Command::Rules { explain } => rules(explain.as_deref()),
    }
}

fn rules(explain: Option<&str>) -> Result<u8> {
    let mut out = std::io::stdout().lock();
    if let Some(id) = explain {
        let rule = servers::lookup(id)
            .with_context(|| format!("no rule {id:?}; `tlsmend rules` lists them"))?;
        write!(out, "{}", rule.explain())?;
        return Ok(0);
    }
    for r in servers::catalogue() {
        let opt = if r.is_opt_in() {
            "  [opt-in: --with]"
        } else {
            ""
        };
        writeln!(out, "{:<34} {}{opt}", r.id, r.summary)?;
    }
    Ok(0)
}

fn default_backup_dir(root: &Root) -> PathBuf {
    root.host(Path::new("/var/backups/tlsmend"))
}

fn options(target: &Target, only: &[String], skip: &[String]) -> Options {
    if target.profile == Profile::Old {
        tell!(
            "tlsmend: warning: the old profile keeps TLS 1.0, 1.1, CBC suites and 3DES for legacy clients; it is weak, use it only when such clients must be served"
        );
    }
    Options {
        servers: target.servers.clone(),
        profile: target.profile,
        tls_library: target.tls_library,
        postfix_version: target.postfix_version,
        versions: tlsmend::target::versions::TargetVersions::overrides(
            target.apache_version,
            target.openssl_version,
            target.gnutls_version,
        ),
        only: only.to_vec(),
        skip: skip.to_vec(),
        with: target.with.clone(),
        offer_opt_in: false,
        offline: target.offline,
        ldap_uri: target.ldap_uri.clone(),
    }
}

fn audit_report(root: &Root, target: &Target, only: &[String], skip: &[String]) -> Result<Report> {
    let opts = options(target, only, skip);
    opts.check_rule_names().map_err(anyhow::Error::msg)?;
    Ok(servers::audit(root, &opts)?)
}

fn audit(root: &Root, target: &Target, format: Format) -> Result<u8> {
    for said in tlsmend::journal::interrupted_notes(&default_backup_dir(root)) {
        tell!("tlsmend: warning: {said}");
    }
    let report = audit_report(root, target, &[], &[])?;
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => {
            let findings: Vec<_> = report
                .findings
                .iter()
                .map(|f| {
                    json!({
                        "rule": f.rule,
                        "severity": f.severity.as_str(),
                        "file": report.files[f.file].shown().to_string_lossy(),
                        "line": f.line,
                        "current": f.current,
                        "wanted": f.wanted,
                        "reason": f.reason,
                        "fixable": f.change.is_some(),
                        "blocked": f.blocked,
                    })
                })
                .collect();
            let doc = json!({ "profile": target.profile.name(), "findings": findings, "notes": report.notes });
            writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
        }
        Format::Text => {
            let p = Painter::for_terminal(std::io::stdout().is_terminal());
            for n in &report.notes {
                writeln!(out, "note: {n}")?;
            }
            let mut order: Vec<_> = report.findings.iter().collect();
            order.sort_by(|a, b| {
                (a.severity, report.files[a.file].shown(), a.line).cmp(&(
                    b.severity,
                    report.files[b.file].shown(),
                    b.line,
                ))
            });
            for f in order {
                let sev = match f.severity.as_str() {
                    "high" => p.paint("31;1", "HIGH  "),
                    "medium" => p.paint("33", "MEDIUM"),
                    "low" => "LOW   ".to_string(),
                    _ => "INFO  ".to_string(),
                };
                writeln!(
                    out,
                    "{sev} {} {}:{}",
                    f.rule,
                    report.files[f.file].shown().display(),
                    f.line
                )?;
                if let Some(c) = &f.current {
                    writeln!(out, "       current: {c}")?;
                }
                if let Some(w) = &f.wanted {
                    writeln!(out, "       wanted:  {w}")?;
                }
                writeln!(out, "       why:     {}", f.reason)?;
                match (&f.change, &f.blocked) {
                    (Some(_), _) => writeln!(out, "       fix:     planned (tlsmend apply)")?,
                    (None, Some(b)) => writeln!(out, "       fix:     not planned: {b}")?,
                    (None, None) => {}
                }
            }
            let fixable = report.fixable().count();
            writeln!(
                out,
                "{} finding(s), {} fixable by `tlsmend apply` (profile {})",
                report.findings.len(),
                fixable,
                target.profile.name()
            )?;
        }
    }
    Ok(if report.findings.is_empty() { 0 } else { 1 })
}

/// How `apply` runs, from its flags.
struct How {
    dry_run: bool,
    yes: bool,
    backup_dir: PathBuf,
    only: Vec<String>,
    skip: Vec<String>,
    validate: bool,
    reload: bool,
}

/// The terminal side of the pipeline's messages.
struct Console {
    /// Set when stdout is closed (`| head`): what must still be done
    /// (reload, probe, rollback) goes on; only the printing stops.
    stdout_closed: bool,
}

impl session::Reporter for Console {
    fn say(&mut self, line: &str) {
        if !self.stdout_closed && writeln!(std::io::stdout(), "{line}").is_err() {
            self.stdout_closed = true;
        }
    }
    fn warn(&mut self, line: &str) {
        let _ = writeln!(std::io::stderr(), "{line}");
    }
    fn raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        std::io::stdout().write_all(bytes)
    }
}

fn apply(root: &Root, target: &Target, how: &How) -> Result<u8> {
    let mut opts = options(target, &how.only, &how.skip);
    opts.check_rule_names().map_err(anyhow::Error::msg)?;
    if !how.dry_run && !how.yes && !std::io::stdin().is_terminal() {
        bail!(
            "the interactive review needs a terminal; use --yes to apply every change or --dry-run to see them"
        );
    }
    // The review offers opt-in rules after the profile's changes.
    opts.offer_opt_in = !how.dry_run && !how.yes;
    // One writing run per root, from planning to the end of the reload.
    let _lock = if how.dry_run {
        for said in tlsmend::journal::interrupted_notes(&how.backup_dir) {
            tell!("tlsmend: warning: {said}");
        }
        None
    } else {
        tlsmend::signals::install();
        let l = lock(root.dir())?;
        for said in tlsmend::journal::recover(&how.backup_dir, &l.root) {
            tell!("tlsmend: note: {said}");
        }
        Some(l)
    };
    let mut console = Console {
        stdout_closed: false,
    };
    let report = session::plan(root, &opts, &mut console)?;
    if report.changes.is_empty() {
        tell!(
            "tlsmend: nothing to change (profile {})",
            target.profile.name()
        );
        return Ok(0);
    }
    if how.dry_run {
        session::dry_run(&report, root, &mut console)?;
        tell!(
            "tlsmend: {} change(s) pending; nothing written (dry run)",
            report.changes.len()
        );
        return Ok(1);
    }
    let selected = if how.yes {
        (0..report.changes.len()).collect()
    } else {
        let term = dialoguer::console::Term::stdout();
        let painter = Painter::for_terminal(true);
        match review::review(&report, root, painter, &mut TermPrompt(term))? {
            Some(s) => s,
            None => {
                say!("quit: nothing was written");
                return Ok(0);
            }
        }
    };
    if selected.is_empty() {
        say!("no change approved: nothing was written");
        return Ok(0);
    }
    let settings = session::Settings {
        backup_dir: how.backup_dir.clone(),
        validate: how.validate,
        reload: how.reload,
    };
    session::write_selected(&report, root, &opts, &settings, &selected, &mut console)
}

/// The lock of a root (see `tlsmend::lock`), saying when it has to wait.
fn lock(root: Option<&Path>) -> Result<tlsmend::lock::RootLock> {
    let canonical = tlsmend::lock::canonical_root(root).with_context(|| {
        format!(
            "cannot resolve the root {}",
            root.unwrap_or(Path::new("/")).display()
        )
    })?;
    tlsmend::lock::lock_root(&canonical, tlsmend::lock::WAIT, &mut |s| {
        tell!("tlsmend: {s}")
    })
    .map_err(anyhow::Error::msg)
}

fn rollback(
    root: &Root,
    backup_dir: &Path,
    run: Option<&str>,
    force: bool,
    list: bool,
) -> Result<u8> {
    let runs = tlsmend::backup::list_runs(backup_dir).map_err(anyhow::Error::msg)?;
    if list {
        if runs.is_empty() {
            say!("no runs in {}", backup_dir.display());
        }
        for r in &runs {
            let state = r.describe();
            say!(
                "{}  {} file(s), {} live LDAP change(s)  {state}",
                r.id,
                r.entries.len(),
                r.ldap.len()
            );
            for e in &r.entries {
                say!("    {}", e.shown.display());
            }
            for l in &r.ldap {
                let attrs: Vec<&str> = l.change.mods.iter().map(|m| m.attr.as_str()).collect();
                say!(
                    "    {} on {}: {}",
                    l.change.dn,
                    l.change.uri,
                    attrs.join(", ")
                );
            }
        }
        return Ok(0);
    }
    let chosen = match run {
        Some(id) => runs.iter().find(|r| r.id == id).with_context(|| {
            format!(
                "no run {id} in {} (tlsmend rollback --list shows them)",
                backup_dir.display()
            )
        }),
        None => runs
            .iter()
            .rev()
            .find(|r| !r.rolled_back)
            .with_context(|| format!("no run to roll back in {}", backup_dir.display())),
    };
    if let Ok(c) = chosen {
        tlsmend::backup::check_root(c, root.dir()).map_err(anyhow::Error::msg)?;
    }
    tlsmend::signals::install();
    let run_root = chosen.as_ref().ok().and_then(|c| c.root.as_deref());
    let _lock = lock(run_root.or(root.dir()))?;
    // The leftovers of killed runs go even when there is nothing to restore.
    for said in tlsmend::journal::recover(backup_dir, &_lock.root) {
        tell!("tlsmend: note: {said}");
    }
    let chosen = chosen?;
    let deferred = tlsmend::signals::defer();
    let done = tlsmend::backup::rollback(chosen, force);
    drop(deferred);
    if let Some(sig) = tlsmend::signals::taken() {
        let what = match &done {
            Ok(_) => format!("the rollback of run {} was finished first", chosen.id),
            Err(e) => format!("during the rollback, which failed: {e}"),
        };
        return Err(tlsmend::signals::Interrupted { sig, what }.into());
    }
    let done = done.map_err(anyhow::Error::msg)?;
    for d in done {
        match d {
            tlsmend::backup::Restore::Restored(p) => say!("restored {}", p.display()),
            tlsmend::backup::Restore::AlreadyOriginal(p) => {
                say!("unchanged {} (already the original)", p.display())
            }
            tlsmend::backup::Restore::Ldap(what) => {
                say!("restored {what} (inverse change file)")
            }
        }
    }
    say!("run {} rolled back", chosen.id);
    if chosen.entries.iter().any(|e| {
        let p = e.path.to_string_lossy();
        p.contains("/apache2/") || p.contains("/httpd/")
    }) {
        say!(
            "restart Apache with apache2ctl stop; apache2ctl start (httpd keeps an OCSP stapling cache across graceful restarts and exits when a rollback removes it)"
        );
    }
    Ok(0)
}

fn roundtrip(syntax: Option<Syntax>, files: &[PathBuf]) -> Result<u8> {
    let mut failed = 0;
    for f in files {
        let Some(s) = syntax.or_else(|| Syntax::guess(f)) else {
            bail!(
                "cannot tell the syntax of {} from its path; pass --syntax",
                f.display()
            );
        };
        let bytes = std::fs::read(f).with_context(|| format!("cannot read {}", f.display()))?;
        match s.check(f, &bytes) {
            Ok(()) => say!(
                "ok    {} ({s:?}, {} bytes round-trip)",
                f.display(),
                bytes.len()
            ),
            Err(e) => {
                failed += 1;
                say!("FAIL  {}", f.display());
                tell!("{e}");
            }
        }
    }
    Ok(if failed == 0 { 0 } else { 1 })
}

fn verify(root: &Root, target: &Target, host: &str, addresses: &[String]) -> Result<u8> {
    let opts = options(target, &[], &[]);
    let checks = if addresses.is_empty() {
        tlsmend::live::verify::declared(root, &opts, host)?
    } else {
        addresses
            .iter()
            .map(|a| tlsmend::live::verify::for_address(a))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(anyhow::Error::msg)?
    };
    if checks.is_empty() {
        bail!("the configurations declare no TLS service to probe; name one as HOST:PORT");
    }
    // The audit says which configuration line governs each problem.
    let report = servers::audit(root, &opts).ok();
    let p = Painter::for_terminal(std::io::stdout().is_terminal());
    let mut out = std::io::stdout().lock();
    let mut problems = 0;
    for c in &checks {
        match tlsmend::live::verify::run(c, target.profile) {
            Ok((seen, mut found)) => {
                // An opt-in rule's problems count only when asked for (--with).
                found.retain(|f| opts.wants(f.rule));
                writeln!(
                    out,
                    "{} {seen}",
                    if found.is_empty() {
                        p.paint("32", "ok  ")
                    } else {
                        p.paint("31;1", "FAIL")
                    }
                )?;
                for f in found {
                    problems += 1;
                    writeln!(out, "     {}: {}", f.rule, f.what)?;
                    let places = report
                        .as_ref()
                        .map(|r| tlsmend::live::verify::governing(r, f.rule))
                        .unwrap_or_default();
                    if places.is_empty() {
                        writeln!(
                            out,
                            "     the configuration already asks for better: reload or restart the daemon"
                        )?;
                    }
                    for place in places {
                        writeln!(out, "     governed by {place} (tlsmend apply fixes it)")?;
                    }
                }
            }
            Err(e) => {
                problems += 1;
                writeln!(out, "{} {}: {e}", p.paint("31;1", "DOWN"), c.target())?;
            }
        }
    }
    Ok(if problems == 0 { 0 } else { 1 })
}
