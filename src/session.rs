//! `apply` as a pipeline: plan → select → validate → commit → reload →
//! verify. Each stage is a function that takes the previous stage's value;
//! the binary chooses how changes are selected (all, or the interactive
//! review) and how messages are shown, through [`Reporter`]. Nothing here
//! prints: messages go to the reporter, so the pipeline's decisions do not
//! depend on whether stdout is open.
//!
//! The invariant the order keeps: nothing is written before every selected
//! change has passed the daemons' checkers (unless validation is off), and a
//! reload that does not come back rolls the run back before returning.

use crate::backup::{self, Run};
use crate::discover::Root;
use crate::live::{reload, validate};
use crate::plan::Report;
use crate::review;
use crate::servers::{self, Options};
use crate::signals;
use anyhow::{Result, bail};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the pipeline's messages go: `say` for results (stdout), `warn`
/// for notes and warnings (stderr), `raw` for the byte-exact dry-run diff.
pub trait Reporter {
    fn say(&mut self, line: &str);
    fn warn(&mut self, line: &str);
    fn raw(&mut self, bytes: &[u8]) -> std::io::Result<()>;
    /// `--verbose`: every place of a grouped message.
    fn verbose(&self) -> bool {
        false
    }
    /// Long work starts (`what`: "auditing", "writing 3 files"): a terminal
    /// may show progress until [`Reporter::stage_done`].
    fn stage(&mut self, _what: &str) {}
    fn stage_done(&mut self) {}
}

/// How many places a grouped "not planned" line names without `--verbose`.
const PLACES: usize = 3;

/// How `apply` runs, from its flags.
#[derive(Clone, Debug)]
pub struct Settings {
    pub backup_dir: PathBuf,
    pub validate: bool,
    pub reload: bool,
}

/// Stage 1: audit and plan. Reports the findings tlsmend will not fix.
pub fn plan(root: &Root, opts: &Options, r: &mut dyn Reporter) -> Result<Report> {
    opts.check_rule_names().map_err(anyhow::Error::msg)?;
    r.stage("reading and auditing the configuration");
    let report = servers::audit(root, opts);
    r.stage_done();
    let report = report?;
    // What was read, on stderr: stdout of a dry run is the diff alone.
    for l in report.summary.lines() {
        r.warn(&crate::output::escape::visible(&format!("tlsmend: {l}")));
    }
    // One line per rule and reason, with its first places: a tree of
    // thousands of sites says the same thing thousands of times.
    let mut groups: Vec<(&str, &str, Vec<String>)> = Vec::new();
    let mut at: std::collections::HashMap<(&str, &str), usize> = std::collections::HashMap::new();
    for f in report.findings.iter().filter(|f| f.change.is_none()) {
        if let Some(b) = &f.blocked {
            let place = format!("{}:{}", report.files[f.file].shown().display(), f.line);
            let k = *at.entry((f.rule, b.as_str())).or_insert_with(|| {
                groups.push((f.rule, b.as_str(), Vec::new()));
                groups.len() - 1
            });
            groups[k].2.push(place);
        }
    }
    let limit = if r.verbose() { usize::MAX } else { PLACES };
    for (rule, why, places) in groups {
        let mut at = places
            .iter()
            .take(limit)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if places.len() > limit {
            at.push_str(&format!(
                " and {} more (--verbose lists them)",
                places.len() - limit
            ));
        }
        let line = format!("tlsmend: not planned: {rule} at {at}: {why}");
        r.warn(&crate::output::escape::visible(&line));
    }
    Ok(report)
}

/// `--dry-run`: the unified diff of every planned change (and the LDAP
/// change files), byte-exact so that `patch -p0` applies it from the root.
pub fn dry_run(report: &Report, root: &Root, r: &mut dyn Reporter) -> Result<()> {
    let all: Vec<usize> = (0..report.changes.len()).collect();
    let files = report
        .render(&all)
        .map_err(|(f, e)| anyhow::anyhow!("{}: {e}", report.files[f].shown().display()))?;
    // Diffed on every core, a batch at a time, printed in order: a fleet's
    // diff is never held whole.
    for batch in files.chunks(256) {
        let diffs = crate::parallel::map(batch, |(f, new)| {
            let file = &report.files[*f];
            review::unified_diff(&root.diff_name(&file.real), &file.source.bytes, new, 3)
        });
        for d in diffs {
            r.raw(&d)?;
        }
    }
    for c in report.changes.iter().filter_map(|c| c.ldap.as_ref()) {
        r.raw(review::ldap_text(c).as_bytes())?;
    }
    Ok(())
}

/// Stage 3: the daemons' own checkers on a staging copy. An error means
/// nothing may be written.
pub fn check(report: &Report, root: &Root, selected: &[usize], r: &mut dyn Reporter) -> Result<()> {
    r.stage(&format!(
        "checking {} change(s) with the daemons' own checkers",
        selected.len()
    ));
    let v = validate::validate(report, root, selected);
    r.stage_done();
    for n in &v.notes {
        r.warn(&format!("tlsmend: note: {n}"));
    }
    if !v.failures.is_empty() {
        for (c, checker, message) in &v.failures {
            let change = &report.changes[*c];
            r.warn(&format!(
                "tlsmend: {checker} rejects change [{}] {}:",
                change.rule, change.reason
            ));
            for line in message.lines().take(12) {
                r.warn(&format!("    {line}"));
            }
        }
        bail!("the daemons' own checkers reject the result (above); nothing was written");
    }
    for p in &v.passed {
        r.warn(&format!("tlsmend: checked with {p}"));
    }
    Ok(())
}

/// Which daemons run before the change: `--reload` reloads (and judges)
/// only those.
pub fn running_before(
    report: &Report,
    root: &Root,
    opts: &Options,
) -> (reload::Targets, Vec<String>) {
    let files: Vec<PathBuf> = report.files.iter().map(|f| f.host.clone()).collect();
    reload::running(reload::targets(report, &files), root, opts)
}

/// Stage 4: write the selected changes with a run folder; `None` when they
/// change nothing.
pub fn commit(
    report: &Report,
    selected: &[usize],
    backup_dir: &Path,
    r: &mut dyn Reporter,
) -> Result<Option<Run>> {
    r.stage(&format!(
        "writing {} change(s) with a backup",
        selected.len()
    ));
    let mut warnings = Vec::new();
    let result = crate::commit::commit(report, selected, backup_dir, &mut |w| {
        warnings.push(w.to_string())
    });
    r.stage_done();
    for w in &warnings {
        r.warn(w);
    }
    if let Some(sig) = signals::taken() {
        let what = match result {
            Ok(Some(run)) => {
                for e in &run.entries {
                    r.say(&format!("wrote {}", e.shown.display()));
                }
                format!(
                    "the commit was finished first: run {} is written (undo it with: tlsmend rollback {} --backup-dir {}); the daemons were not reloaded",
                    run.id,
                    run.id,
                    run.dir.parent().unwrap_or(backup_dir).display()
                )
            }
            Ok(None) => "nothing was written".to_string(),
            Err(e) => format!("during the commit, which then failed: {e}"),
        };
        return Err(signals::Interrupted { sig, what }.into());
    }
    let Some(run) = result? else {
        return Ok(None);
    };
    signals::set_context(Some(format!(
        "run {} was written (undo it with: tlsmend rollback {} --backup-dir {}); the reload or probe did not finish",
        run.id,
        run.id,
        run.dir.parent().unwrap_or(backup_dir).display()
    )));
    for e in &run.entries {
        r.say(&format!("wrote {}", e.shown.display()));
    }
    for l in &run.ldap {
        r.say(&format!(
            "changed {} on {} with ldapmodify (live: no reload needed)",
            l.change.dn, l.change.uri
        ));
    }
    r.say(&format!(
        "{} change(s) applied; originals saved in {}\nundo with: tlsmend rollback {} --backup-dir {}",
        selected.len(),
        run.dir.display(),
        run.id,
        run.dir.parent().unwrap_or(backup_dir).display()
    ));
    Ok(Some(run))
}

/// The daemons whose files the run wrote, narrowed to those that ran
/// before the change when that is known.
pub fn to_reload(report: &Report, run: &Run, running: Option<reload::Targets>) -> reload::Targets {
    let written: Vec<PathBuf> = run.entries.iter().map(|e| e.path.clone()).collect();
    let mut targets = reload::targets(report, &written);
    if let Some(up) = running {
        targets.apache_confdir = targets
            .apache_confdir
            .filter(|_| up.apache_confdir.is_some());
        targets.postfix_dirs.retain(|d| up.postfix_dirs.contains(d));
        targets.courier &= up.courier;
    }
    targets
}

/// Without `--reload`: how to make each daemon use the new files.
pub fn reload_hints(targets: &reload::Targets, root: &Root, r: &mut dyn Reporter) {
    // Under --root the files are an image, not what the daemons here run:
    // the hints name the image's files and commands.
    if let Some(d) = root.dir() {
        r.say(&format!(
            "{} is an image, not this machine's live configuration: nothing to reload here",
            d.display()
        ));
        if let Some(c) = &targets.apache_confdir {
            // Debian's apache2ctl reads apache2.conf; SUSE and Alpine keep
            // httpd.conf in the same directory.
            if c.join("apache2.conf").exists() {
                r.say(&format!(
                    "check Apache's files there: APACHE_CONFDIR={} apache2ctl -t",
                    c.display()
                ));
            } else {
                r.say(&format!(
                    "check Apache's files where the image runs: httpd -t -f {}",
                    root.machine(&c.join("httpd.conf")).display()
                ));
            }
        }
        for p in &targets.postfix_dirs {
            r.say(&format!(
                "check Postfix's files there: postfix -c {} check",
                p.display()
            ));
        }
        if targets.courier {
            r.say("Courier reads only the live /etc/courier: the image's files take effect where the image runs");
        }
        return;
    }
    if targets.apache_confdir.is_some() {
        r.say("reload Apache to use them: apache2ctl -t && apache2ctl graceful (or run apply with --reload)");
    }
    if !targets.postfix_dirs.is_empty() {
        r.say("reload Postfix to use them: postfix reload");
    }
    if targets.courier {
        r.say("restart Courier to use them: /usr/sbin/imapd stop; /usr/sbin/imapd start (and imapd-ssl, pop3d and pop3d-ssl likewise, for the files that changed)");
    }
}

/// Stages 5 and 6: reload what was written and probe it; when a daemon
/// does not come back serving what the profile allows, roll the run back,
/// restart the daemons and fail.
pub fn reload_and_verify(
    targets: &reload::Targets,
    run: &Run,
    root: &Root,
    opts: &Options,
    r: &mut dyn Reporter,
) -> Result<()> {
    let (done, notes) = reload::reload(targets, root, reload::Mode::Graceful);
    for d in &done {
        r.say(&format!("reloaded: {d}"));
    }
    for n in &notes {
        r.warn(&format!("tlsmend: note: {n}"));
    }
    match reload::probe(targets, root, opts, Duration::from_secs(10)) {
        Ok(seen) => {
            for s in seen {
                r.say(&format!("probed: {s}"));
            }
            Ok(())
        }
        Err(why) => {
            r.warn(&format!("tlsmend: after the reload: {why}"));
            r.warn(&format!(
                "tlsmend: rolling back run {} and reloading again",
                run.id
            ));
            let restored = {
                let _deferred = signals::defer();
                backup::rollback(run, false).map_err(anyhow::Error::msg)?
            };
            for x in restored {
                if let backup::Restore::Restored(p) = x {
                    r.warn(&format!("tlsmend: restored {}", p.display()));
                }
            }
            let (done, notes) = reload::reload(targets, root, reload::Mode::Restart);
            for d in done {
                r.warn(&format!("tlsmend: reloaded again: {d}"));
            }
            for n in notes {
                r.warn(&format!("tlsmend: note: {n}"));
            }
            bail!(
                "the new configuration did not come up ({why}); run {} was rolled back",
                run.id
            )
        }
    }
}

/// The whole pipeline after selection: validate, commit, then reload and
/// verify (or print how to reload). Returns the run written, `None` when
/// the changes left every file as it was.
pub fn write_selected(
    report: &Report,
    root: &Root,
    opts: &Options,
    settings: &Settings,
    selected: &[usize],
    r: &mut dyn Reporter,
) -> Result<Option<Run>> {
    if settings.validate {
        check(report, root, selected, r)?;
    } else {
        r.warn("tlsmend: warning: --no-validate: the daemons' checkers were not run on the result");
    }
    let running = settings.reload.then(|| running_before(report, root, opts));
    let Some(run) = commit(report, selected, &settings.backup_dir, r)? else {
        r.say("the approved changes leave every file as it was: nothing was written");
        return Ok(None);
    };
    let running = running.map(|(up, notes)| {
        for n in notes {
            r.warn(&format!("tlsmend: note: {n}"));
        }
        up
    });
    let targets = to_reload(report, &run, running);
    if !settings.reload {
        reload_hints(&targets, root, r);
        return Ok(Some(run));
    }
    reload_and_verify(&targets, &run, root, opts, r)?;
    Ok(Some(run))
}
