//! The `tlsmend` binary: parses arguments, runs the library, prints, and maps
//! outcomes to exit codes (see `tlsmend --help`).

use anyhow::{Context, Result, bail};
use clap::Parser;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tlsmend::catalogue::profile::Profile;
use tlsmend::cli::{Cli, ColorWhen, Command, Format, Target};
use tlsmend::discover::Root;

/// mimalloc instead of glibc's malloc: the parsers and rules make millions
/// of small allocations, and at 10,000 sites glibc's malloc and free took
/// about a quarter of an audit (measured in benches/scale.sh). Its 2.x line
/// (the `v2` feature), which holds fewer pages beyond what is in use: at
/// 10,000 sites the audit's peak was 138 MiB against 170 MiB with 3.x, for
/// the same time (medians of 11 paired runs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use tlsmend::output;
use tlsmend::plan::Report;
use tlsmend::review::{self, Painter, TtyPrompt};
use tlsmend::servers::{self, Options};
use tlsmend::session;
use tlsmend::syntax::Syntax;
use tlsmend::waivers::Waivers;

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

/// The output settings every command shares.
#[derive(Clone, Copy, Debug)]
struct Ui {
    color: anstream::ColorChoice,
    quiet: bool,
    verbose: bool,
}

impl Ui {
    fn painter(&self) -> Painter {
        Painter::for_stdout(self.color)
    }
}

fn run(cli: Cli) -> Result<u8> {
    let ui = Ui {
        color: match cli.color {
            ColorWhen::Auto => anstream::ColorChoice::Auto,
            ColorWhen::Always => anstream::ColorChoice::Always,
            ColorWhen::Never => anstream::ColorChoice::Never,
        },
        quiet: cli.quiet,
        verbose: cli.verbose,
    };
    ui.color.write_global();
    let root = Root::new(cli.root.clone());
    if let Some(d) = root.dir()
        && !d.is_dir()
    {
        bail!("--root {} is not a directory", d.display());
    }
    match cli.command {
        Command::Audit {
            target,
            format,
            only,
            skip,
            fail_on,
            waivers,
        } => {
            let policy = Policy {
                only,
                skip,
                fail_on: fail_on.severity(),
                waivers,
            };
            audit(&root, &target, format, &policy, &ui)
        }
        Command::Apply {
            target,
            dry_run,
            yes,
            backup_dir,
            only,
            skip,
            no_validate,
            reload,
            format,
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
                format: not_sarif(format)?,
            };
            apply(&root, &target, &how, &ui)
        }
        Command::Rollback {
            run,
            backup_dir,
            force,
            list,
            format,
        } => {
            let backup_dir = backup_dir.unwrap_or_else(|| default_backup_dir(&root));
            let format = not_sarif(format)?;
            if list && matches!(format, Format::Json) {
                return list_json(&backup_dir);
            }
            rollback(&root, &backup_dir, run.as_deref(), force, list)
        }
        Command::Roundtrip { syntax, files } => roundtrip(syntax, &files),
        Command::Verify {
            target,
            host,
            addresses,
            format,
        } => verify(&root, &target, &host, &addresses, not_sarif(format)?, &ui),
        Command::Man => {
            std::io::stdout().write_all(&tlsmend::cli::man_page()?)?;
            Ok(0)
        }
        Command::Completions { shell } => {
            std::io::stdout().write_all(&tlsmend::cli::completions(shell))?;
            Ok(0)
        }
        Command::Rules { explain, format } => rules(explain.as_deref(), not_sarif(format)?),
    }
}

/// SARIF describes findings: only `audit` has them.
fn not_sarif(f: Format) -> Result<Format> {
    if matches!(f, Format::Sarif) {
        bail!("--format sarif is for audit only; use --format json here");
    }
    Ok(f)
}

/// Prints one JSON document on stdout.
fn print_json(doc: &serde_json::Value) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", serde_json::to_string_pretty(doc)?)?;
    Ok(())
}

fn list_json(backup_dir: &Path) -> Result<u8> {
    let runs = tlsmend::backup::list_runs(backup_dir).map_err(anyhow::Error::msg)?;
    print_json(&output::json::runs(&runs, backup_dir))?;
    Ok(0)
}

fn rules(explain: Option<&str>, format: Format) -> Result<u8> {
    if matches!(format, Format::Json) {
        let mut doc = output::json::rules();
        if let Some(id) = explain {
            servers::lookup(id)
                .with_context(|| format!("no rule {id:?}; `tlsmend rules` lists them"))?;
            if let Some(list) = doc["rules"].as_array_mut() {
                list.retain(|r| r["id"] == id);
            }
        }
        print_json(&doc)?;
        return Ok(0);
    }
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

fn audit_report(
    root: &Root,
    target: &Target,
    only: &[String],
    skip: &[String],
    ui: &Ui,
) -> Result<Report> {
    let opts = options(target, only, skip);
    opts.check_rule_names().map_err(anyhow::Error::msg)?;
    let mut console = Console::new(*ui);
    session::Reporter::stage(&mut console, "reading and auditing the configuration");
    let report = servers::audit(root, &opts);
    session::Reporter::stage_done(&mut console);
    Ok(report?)
}

/// What `audit` reports and what makes it fail.
struct Policy {
    only: Vec<String>,
    skip: Vec<String>,
    fail_on: tlsmend::plan::Severity,
    waivers: Option<PathBuf>,
}

fn audit(root: &Root, target: &Target, format: Format, policy: &Policy, ui: &Ui) -> Result<u8> {
    if !ui.quiet {
        for said in tlsmend::journal::interrupted_notes(&default_backup_dir(root)) {
            tell!("tlsmend: warning: {said}");
        }
    }
    let report = audit_report(root, target, &policy.only, &policy.skip, ui)?;
    let waivers = match &policy.waivers {
        Some(f) => Waivers::load(f, false),
        None => Waivers::load(&root.host(Path::new("/etc/tlsmend/waivers.toml")), true),
    }
    .map_err(anyhow::Error::msg)?;
    let today = tlsmend::waivers::today();
    let (shown, waived_of) = output::audit::shown(
        &report,
        root,
        &waivers,
        &today,
        matches!(format, Format::Json),
    );
    let waived = shown.iter().filter(|s| s.item.waived.is_some()).count();
    let failing = shown
        .iter()
        .filter(|s| s.item.waived.is_none() && s.item.severity <= policy.fail_on)
        .count();
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => {
            let total = shown.len();
            let findings = shown.into_iter().map(|s| s.json).collect();
            let mut doc = output::json::audit(&report, root, target.profile.name(), findings);
            doc["summary"]["findings"] = total.into();
            doc["summary"]["waived"] = waived.into();
            doc["summary"]["failing"] = failing.into();
            writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
        }
        Format::Sarif => {
            let doc = output::sarif::audit(&report, root, &|i| waived_of[i].clone());
            writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
        }
        Format::Text => {
            let p = ui.painter();
            let total = shown.len();
            if !ui.quiet {
                for l in report.summary.lines() {
                    writeln!(out, "{}", output::escape::visible(&l))?;
                }
                for n in &report.notes {
                    writeln!(out, "note: {}", output::escape::visible(n))?;
                }
                let items: Vec<_> = shown.into_iter().map(|s| s.item).collect();
                write!(out, "{}", output::text::render(&items, p, ui.verbose))?;
            }
            let fixable = report.fixable().count();
            let waived_note = if waived > 0 {
                format!(", {waived} waived")
            } else {
                String::new()
            };
            writeln!(
                out,
                "{} finding(s), {} fixable by `tlsmend apply`{waived_note} (profile {})",
                total,
                fixable,
                target.profile.name()
            )?;
        }
    }
    broken_servers(&report);
    // A server that could not be read is an error whatever the findings:
    // part of the machine was not judged.
    Ok(if !report.summary.broken.is_empty() {
        2
    } else if failing == 0 {
        0
    } else {
        1
    })
}

/// The servers whose configuration could not be read, on stderr: the
/// others were audited, and the run exits 2.
fn broken_servers(report: &Report) {
    for b in &report.summary.broken {
        let line = format!(
            "tlsmend: error: {} not audited: {}",
            b.server.name(),
            b.error
        );
        tell!("{}", output::escape::visible(&line));
    }
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
    format: Format,
}

/// The terminal side of the pipeline's messages.
struct Console {
    /// Set when stdout is closed (`| head`): what must still be done
    /// (reload, probe, rollback) goes on; only the printing stops.
    stdout_closed: bool,
    ui: Ui,
    /// The spinner of the stage under way, on a terminal's stderr only.
    progress: Option<indicatif::ProgressBar>,
}

impl Console {
    fn new(ui: Ui) -> Console {
        Console {
            stdout_closed: false,
            ui,
            progress: None,
        }
    }
}

impl session::Reporter for Console {
    fn say(&mut self, line: &str) {
        if !self.stdout_closed && writeln!(std::io::stdout(), "{line}").is_err() {
            self.stdout_closed = true;
        }
    }
    fn warn(&mut self, line: &str) {
        if self.ui.quiet && is_note(line) {
            return;
        }
        let _ = writeln!(std::io::stderr(), "{line}");
    }
    fn raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        std::io::stdout().write_all(bytes)
    }
    fn verbose(&self) -> bool {
        self.ui.verbose
    }
    fn stage(&mut self, what: &str) {
        if self.ui.quiet || !std::io::stderr().is_terminal() {
            return;
        }
        let pb = indicatif::ProgressBar::new_spinner();
        pb.set_message(format!("{what}..."));
        pb.enable_steady_tick(std::time::Duration::from_millis(120));
        self.progress = Some(pb);
    }
    fn stage_done(&mut self) {
        if let Some(pb) = self.progress.take() {
            pb.finish_and_clear();
        }
    }
}

/// Lines `-q` leaves out: notes, the found summary, "not planned", which
/// checkers ran.
fn is_note(line: &str) -> bool {
    [
        "tlsmend: note:",
        "tlsmend: found:",
        "tlsmend: not found:",
        "tlsmend:  ",
        "tlsmend: not planned:",
        "tlsmend: checked with",
    ]
    .iter()
    .any(|p| line.starts_with(p))
}

fn apply(root: &Root, target: &Target, how: &How, ui: &Ui) -> Result<u8> {
    let mut opts = options(target, &how.only, &how.skip);
    opts.check_rule_names().map_err(anyhow::Error::msg)?;
    let json = matches!(how.format, Format::Json);
    if json && !how.dry_run && !how.yes {
        bail!("--format json is for --dry-run and --yes; the interactive review is for a person");
    }
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
    let mut console = Console::new(*ui);
    let report = session::plan(root, &opts, &mut console)?;
    broken_servers(&report);
    let broken = !report.summary.broken.is_empty();
    if json && how.dry_run {
        print_json(&output::json::plan(&report, root, target.profile.name()))?;
        return Ok(if broken {
            2
        } else if report.changes.is_empty() {
            0
        } else {
            1
        });
    }
    // The servers that were read are planned (and shown by --dry-run), but
    // nothing is written while part of the machine is unknown, in JSON too.
    if broken && !how.dry_run {
        tell!(
            "tlsmend: nothing written: a server's configuration could not be read (above); fix it, or leave it out with --server"
        );
        return Ok(2);
    }
    if json {
        return apply_json(&report, root, &opts, how);
    }
    let code = apply_planned(root, target, how, &opts, &report, &mut console)?;
    Ok(if broken { 2 } else { code })
}

fn apply_planned(
    root: &Root,
    target: &Target,
    how: &How,
    opts: &Options,
    report: &Report,
    console: &mut Console,
) -> Result<u8> {
    if report.changes.is_empty() {
        tell!(
            "tlsmend: nothing to change (profile {})",
            target.profile.name()
        );
        return Ok(0);
    }
    if how.dry_run {
        session::dry_run(report, root, console)?;
        tell!(
            "tlsmend: {} change(s) pending; nothing written (dry run)",
            report.changes.len()
        );
        return Ok(1);
    }
    let selected = if how.yes {
        (0..report.changes.len()).collect()
    } else {
        let mut tty = TtyPrompt::open().map_err(|e| {
            anyhow::anyhow!(
                "the interactive review needs a terminal, and /dev/tty cannot be opened ({e}); use --yes to apply every change or --dry-run to see them"
            )
        })?;
        let painter = Painter::for_terminal(true);
        match review::review(report, root, painter, &mut tty)? {
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
    session::write_selected(report, root, opts, &settings, &selected, console)?;
    Ok(0)
}

/// Collects the pipeline's messages for apply's JSON result; warnings
/// still go to stderr as they come.
#[derive(Default)]
struct Collector {
    messages: Vec<String>,
    warnings: Vec<String>,
}

impl session::Reporter for Collector {
    fn say(&mut self, line: &str) {
        self.messages.extend(line.lines().map(str::to_string));
    }
    fn warn(&mut self, line: &str) {
        tell!("{line}");
        self.warnings.push(line.to_string());
    }
    fn raw(&mut self, _bytes: &[u8]) -> std::io::Result<()> {
        Ok(())
    }
}

/// `apply --yes --format json`: every change, and one document saying what
/// was written, where the originals are, and what was reloaded.
fn apply_json(report: &Report, root: &Root, opts: &servers::Options, how: &How) -> Result<u8> {
    let mut c = Collector::default();
    let selected: Vec<usize> = (0..report.changes.len()).collect();
    let run = if selected.is_empty() {
        None
    } else {
        let settings = session::Settings {
            backup_dir: how.backup_dir.clone(),
            validate: how.validate,
            reload: how.reload,
        };
        session::write_selected(report, root, opts, &settings, &selected, &mut c)?
    };
    let pick = |prefix: &str| -> Vec<String> {
        c.messages
            .iter()
            .filter_map(|m| m.strip_prefix(prefix).map(str::to_string))
            .collect()
    };
    let doc = output::json::applied(&output::json::Applied {
        run: run.as_ref(),
        selected: selected.len(),
        backup_dir: &how.backup_dir,
        reloaded: pick("reloaded: "),
        probed: pick("probed: "),
        messages: c.messages.clone(),
        warnings: c.warnings.clone(),
    });
    print_json(&doc)?;
    Ok(0)
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
    let mut not_restored = 0;
    for d in done {
        match d {
            tlsmend::backup::Restore::NotRestored(p, why) => {
                not_restored += 1;
                eprintln!("tlsmend: NOT restored {}: {why}", p.display());
            }
            tlsmend::backup::Restore::Restored(p) => say!("restored {}", p.display()),
            tlsmend::backup::Restore::AlreadyOriginal(p) => {
                say!("unchanged {} (already the original)", p.display())
            }
            tlsmend::backup::Restore::Ldap(what) => {
                say!("restored {what} (inverse change file)")
            }
        }
    }
    if not_restored > 0 {
        eprintln!(
            "tlsmend: run {} is rolled back except {not_restored} file(s) named above, left as they are; the run stays listed",
            chosen.id
        );
        return Ok(2);
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

fn verify(
    root: &Root,
    target: &Target,
    host: &str,
    addresses: &[String],
    format: Format,
    ui: &Ui,
) -> Result<u8> {
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
    let p = ui.painter();
    let json = matches!(format, Format::Json);
    let mut out = std::io::stdout().lock();
    let mut problems = 0;
    let mut services = Vec::new();
    for c in &checks {
        match tlsmend::live::verify::run(c, target.profile) {
            Ok((seen, mut found)) => {
                // An opt-in rule's problems count only when asked for (--with).
                found.retain(|f| opts.wants(f.rule));
                let places = |rule: &str| {
                    report
                        .as_ref()
                        .map(|r| tlsmend::live::verify::governing(r, rule))
                        .unwrap_or_default()
                };
                problems += found.len();
                if json {
                    let status = if found.is_empty() { "ok" } else { "fail" };
                    let found = found
                        .iter()
                        .map(|f| (f.rule.to_string(), f.what.clone(), places(f.rule)))
                        .collect();
                    services.push(output::json::verified(&seen, status, found));
                    continue;
                }
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
                    writeln!(out, "     {}: {}", f.rule, f.what)?;
                    let places = places(f.rule);
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
                if json {
                    services.push(output::json::down(&c.target(), &e));
                    continue;
                }
                writeln!(out, "{} {}: {e}", p.paint("31;1", "DOWN"), c.target())?;
            }
        }
    }
    drop(out);
    if json {
        print_json(&output::json::verify(
            target.profile.name(),
            services,
            problems,
        ))?;
    }
    Ok(if problems == 0 { 0 } else { 1 })
}
