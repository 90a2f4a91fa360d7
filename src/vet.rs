//! The planner's safety net: nothing is shown or written that tlsmend would
//! not accept back.
//!
//! After every server has planned, and before anything is shown, each
//! change is checked:
//! - a file that is not valid for its format before any change (a main.cf
//!   line with no `=`, a master.cf service with a wrong field count) is never
//!   edited: the changes that touch it are dropped, its syntax findings say
//!   why, and the other files of the server are still planned;
//! - each change, rendered alone, must leave every file it touches valid
//!   for its format (parsed back, lossless, no daemon-refused line); on an
//!   Apache file, reading back only the runs of whole lines the change
//!   replaces proves it when [`apache_regions`] says so, and changes proved
//!   that way on runs apart from one another are valid in any combination,
//!   so the file is not read back whole for them;
//! - a change that touches the same bytes as an earlier one is dropped, not
//!   the run (found through an index of the accepted patches, not by
//!   rendering: near-linear in the number of changes);
//! - on a file where rendering it once per change would cost more than
//!   re-reading 64 MiB (one vhosts file of a hosting panel holding
//!   thousands of sites), the per-change renders are skipped and the file is
//!   checked with all its changes together, below;
//! - all the changes rendered together must leave every file valid, and
//!   planning again on that result (an overlay [`Root`], nothing written)
//!   must plan nothing.
//!
//! A change that fails is dropped and its findings say why; the rest of the
//! run goes on. Apart from broken input files, a dropped change is a bug in
//! a rule, and the message asks for a report.

use crate::discover::{ConfigFile, Root};
use crate::edit::{AcceptedPatches, Patch, apply_borrowed_patches, apply_patches, first_overlap};
use crate::plan::{Finding, Report};
use crate::servers::Options;
use crate::source::Span;
use crate::syntax::Syntax;
use crate::syntax::apache_regions::{self, LineStarts};
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Planned bytes by host path, for an overlay [`Root`].
type Planned = crate::discover::ByPath<std::sync::Arc<[u8]>>;

const REPORT: &str = "this is a bug in tlsmend: please report it with the file";

/// Why `bytes` would not be accepted as `syntax`, `None` when it would be:
/// it parses losslessly and has none of the lines the daemon refuses to
/// start with.
pub fn invalid(syntax: Syntax, path: &Path, bytes: &[u8]) -> Option<String> {
    if let Err(e) = syntax.check(path, bytes) {
        return Some(e.to_string());
    }
    refused(syntax, path, bytes)
}

/// [`invalid`] for a file as it was read: parsing is not done again for a
/// file its reader parsed whole ([`ConfigFile::parsed_whole`]: every site
/// file of an Apache tree), only the daemon's own refusals are looked for.
fn invalid_as_read(file: &ConfigFile) -> Option<String> {
    if file.parsed_whole() {
        return refused(file.syntax, file.shown(), &file.source.bytes);
    }
    invalid(file.syntax, file.shown(), &file.source.bytes)
}

/// Why the daemon would refuse `bytes`, which parse as `syntax`: the
/// lines it will not start with.
fn refused(syntax: Syntax, path: &Path, bytes: &[u8]) -> Option<String> {
    match syntax {
        Syntax::PostfixMain => {
            let cf = crate::syntax::postfix_main::parse(path, bytes).ok()?;
            let bad = cf.entries.iter().find(|e| e.eq.is_none())?;
            let line = crate::source::Source::new(path, bytes.to_vec()).line_of(bad.span.start());
            Some(format!(
                "line {line} has no '=' (postconf: \"missing '=' after attribute name\")"
            ))
        }
        Syntax::PostfixMaster => {
            let cf = crate::syntax::postfix_master::parse(path, bytes).ok()?;
            let src = crate::source::Source::new(path, bytes.to_vec());
            if let Some(bad) = cf.services.iter().find(|s| !s.commented() && !s.valid()) {
                let line = src.line_of(bad.span.start());
                return Some(format!(
                    "line {line} is a service without its 8 fields (Postfix: \"bad field count\")"
                ));
            }
            let at = cf
                .services
                .iter()
                .filter(|s| !s.commented())
                .find_map(|s| s.bad_option(bytes))?;
            Some(format!(
                "line {} has a -o with no name=value after it",
                src.line_of(at.start())
            ))
        }
        // tlsmend reads LDIF only as slapd.d files, which hold entries: a
        // change record (`changetype:`, an ldapmodify file) is not one.
        Syntax::Ldif => {
            let l = crate::syntax::ldif::parse(path, bytes).ok()?;
            let at = l.lines.iter().find(|x| x.is(bytes, "changetype"))?;
            let line = crate::source::Source::new(path, bytes.to_vec()).line_of(at.span.start());
            Some(format!(
                "line {line} is a change record (changetype:), which a slapd.d file cannot hold"
            ))
        }
        _ => None,
    }
}

/// Checks every planned change as the module doc says, dropping those that
/// fail. `root` and `opts` are the ones the report was planned with.
pub fn vet(root: &Root, opts: &Options, report: &mut Report) {
    vet_within(root, opts, report, CHANGE_BY_CHANGE_BUDGET)
}

/// [`vet`], with the per-file cost above which changes are checked together
/// only.
fn vet_within(root: &Root, opts: &Options, report: &mut Report, budget: usize) {
    let mut drop: BTreeMap<usize, String> = BTreeMap::new();
    // Only files a change touches matter here.
    let touched: BTreeSet<usize> = report
        .changes
        .iter()
        .flat_map(|c| c.edits.iter().map(|(f, _)| *f))
        .collect();
    // Files and changes are checked on every core; the verdicts are used
    // in order below.
    let touched: Vec<usize> = touched.into_iter().collect();
    let shared: &Report = report;
    let checked = checked_change_by_change(report, budget);
    let read: Vec<(Option<String>, Option<LineStarts>)> = crate::parallel::map(&touched, |&f| {
        let file = &shared.files[f];
        let why = invalid_as_read(file);
        let lines = (why.is_none() && file.syntax == Syntax::Apache && checked.contains(&f))
            .then(|| LineStarts::of(&file.source.bytes));
        (why, lines)
    });
    let mut broken: FxHashMap<usize, String> = FxHashMap::default();
    let mut lines: FxHashMap<usize, LineStarts> = FxHashMap::default();
    for (&f, (why, starts)) in touched.iter().zip(read) {
        if let Some(why) = why {
            broken.insert(f, why);
        }
        if let Some(starts) = starts {
            lines.insert(f, starts);
        }
    }
    // The first plan's tree was just freed: its pages go back before the
    // checks below fill worker threads' heaps.
    crate::memory::release_freed();
    let mut kept = change_by_change(report, &broken, &checked, &lines, &mut drop);
    // Not needed by the second plan, which is the peak of the run's memory.
    std::mem::drop(lines);
    // Together, then planned again, a few rounds: each round drops at least
    // one change or ends.
    // In the first round, a file checked change by change is known valid
    // with all its kept changes: the last of them was rendered with all the
    // others on that file, or every one was proved on its own runs of
    // lines, apart from the others'.
    let mut known_valid = checked;
    for _ in 0..4 {
        let (rendered, bad) = render_kept(report, &kept, &known_valid);
        known_valid = FxHashSet::default();
        if !bad.is_empty() {
            for (f, why) in bad {
                for &c in &kept {
                    if touches(report, c, f) {
                        drop.entry(c).or_insert_with(|| {
                            format!("together with the other changes it leaves {} invalid: {why}; {REPORT}", report.files[f].shown().display())
                        });
                    }
                }
            }
            kept.retain(|c| !drop.contains_key(c));
            continue;
        }
        if kept.is_empty() {
            // Nothing to render: planning again would read the same files.
            break;
        }
        // The checks' memory, freed, goes back before the plan made again,
        // which is the run's peak.
        crate::memory::release_freed();
        let overlay = root.with_overlay(rendered);
        // Should the narrower plan fail (a server not found again), the
        // whole plan is made again, as before.
        let again = crate::servers::audit(&overlay, &replan_options(report, &kept, opts))
            .or_else(|_| crate::servers::audit(&overlay, opts));
        let again = match again {
            Ok(r) => r,
            Err(e) => {
                for &c in &kept {
                    drop.insert(
                        c,
                        format!("planning again on the result fails ({e}); {REPORT}"),
                    );
                }
                break;
            }
        };
        let blamed = blame(report, &kept, &drop, &again);
        if blamed.is_empty() {
            break;
        }
        for (c, why) in blamed {
            drop.insert(c, why);
        }
        kept.retain(|c| !drop.contains_key(c));
    }
    drop_changes(report, drop);
}

/// Each change alone, then against the ones kept before it: the changes
/// kept, in order; why each other one is dropped goes into `drop`.
fn change_by_change(
    report: &Report,
    broken: &FxHashMap<usize, String>,
    checked: &FxHashSet<usize>,
    lines: &FxHashMap<usize, LineStarts>,
    drop: &mut BTreeMap<usize, String>,
) -> Vec<usize> {
    let changes: Vec<usize> = (0..report.changes.len()).collect();
    let alone = crate::parallel::map(&changes, |&c| {
        why_not_alone(report, broken, checked, lines, c)
    });
    let mut accepted = AcceptedPatches::default();
    let mut kept_on = KeptOn::default();
    let mut kept: Vec<usize> = Vec::new();
    for (c, alone) in alone.into_iter().enumerate() {
        let runs = match alone {
            Alone::Refused(why) => {
                drop.insert(c, why);
                continue;
            }
            Alone::Fits(runs) => runs,
        };
        if let Some(why) = why_not_with(report, &accepted, &kept_on, checked, c, &runs) {
            drop.insert(c, why);
            continue;
        }
        accepted.accept(c, &report.changes[c].edits);
        kept_on.keep(report, checked, c, runs);
        kept.push(c);
    }
    kept
}

/// The options for planning again: only the servers that the kept changes
/// belong to (a change to one server's files cannot change another's plan,
/// and on a hardened fleet most servers have nothing planned), else all.
fn replan_options(report: &Report, kept: &[usize], opts: &Options) -> Options {
    let mut servers: Vec<crate::servers::Server> = Vec::new();
    for &c in kept {
        let Some(rule) = crate::servers::lookup(report.changes[c].rule) else {
            return opts.clone();
        };
        if !servers.contains(&rule.server) {
            servers.push(rule.server);
        }
    }
    Options {
        servers,
        ..opts.clone()
    }
}

/// What rendering and re-reading one file costs per change, at most, before
/// its changes are checked together only: on a file of 10 MiB with 20,000
/// changes (one vhosts file of a hosting panel), rendering it once per
/// change would read 200 GB.
const CHANGE_BY_CHANGE_BUDGET: usize = 64 << 20;

/// The files whose changes are each rendered and re-read on their own (the
/// size of the file times the changes on it is within
/// [`CHANGE_BY_CHANGE_BUDGET`]). On the others every change is still
/// checked for overlap on its own, and all of them are rendered and
/// re-read together (a file they leave invalid loses all its changes).
fn checked_change_by_change(report: &Report, budget: usize) -> FxHashSet<usize> {
    let mut changes_on: FxHashMap<usize, usize> = FxHashMap::default();
    for c in 0..report.changes.len() {
        for f in touched_files(report, c) {
            *changes_on.entry(f).or_default() += 1;
        }
    }
    changes_on
        .into_iter()
        .filter(|&(f, n)| n.saturating_mul(report.files[f].source.bytes.len()) <= budget)
        .map(|(f, _)| f)
        .collect()
}

/// The files change `c` touches, each once, in increasing order. Most
/// changes touch one file: nothing is allocated for them.
fn touched_files(report: &Report, c: usize) -> impl Iterator<Item = usize> {
    let edits = &report.changes[c].edits;
    let one = edits
        .first()
        .map(|(f, _)| *f)
        .filter(|f| edits.iter().all(|(g, _)| g == f));
    let mut many: Vec<usize> = Vec::new();
    if one.is_none() {
        many = edits.iter().map(|(f, _)| *f).collect();
        many.sort_unstable();
        many.dedup();
    }
    one.into_iter().chain(many)
}

/// Change `c`'s patches on file `f`.
fn patches_on(report: &Report, c: usize, f: usize) -> impl Iterator<Item = &Patch> {
    report.changes[c]
        .edits
        .iter()
        .filter(move |(g, _)| *g == f)
        .map(|(_, p)| p)
}

/// What checking a change on its own found.
enum Alone {
    /// Why it cannot go in.
    Refused(String),
    /// It can; for each Apache file where that was proved by reading back
    /// only the lines it replaces, those runs of lines
    /// ([`apache_regions::proved_runs`]).
    Fits(Vec<(usize, Vec<Span>)>),
}

/// Change `c` checked on its own terms.
fn why_not_alone(
    report: &Report,
    broken: &FxHashMap<usize, String>,
    checked: &FxHashSet<usize>,
    lines: &FxHashMap<usize, LineStarts>,
    c: usize,
) -> Alone {
    let change = &report.changes[c];
    for (f, _) in &change.edits {
        if let Some(why) = broken.get(f) {
            return Alone::Refused(format!(
                "{} is not valid as it is ({why}): tlsmend edits no file it cannot fully read; fix that line first",
                report.files[*f].shown().display()
            ));
        }
    }
    let mut proved = Vec::new();
    for f in touched_files(report, c) {
        let own: Vec<&Patch> = patches_on(report, c, f).collect();
        let file = &report.files[f];
        if let Some(o) = first_overlap(&own) {
            return Alone::Refused(format!(
                "its own patches overlap in {} ({o}); {REPORT}",
                file.shown().display()
            ));
        }
        if !checked.contains(&f) {
            continue;
        }
        if let Some(starts) = lines.get(&f)
            && let Some(runs) =
                apache_regions::proved_runs(file.shown(), &file.source.bytes, starts, &own)
        {
            proved.push((f, runs));
            continue;
        }
        let own: Vec<Patch> = own.into_iter().cloned().collect();
        let Ok(bytes) = apply_patches(&file.source.bytes, &own) else {
            continue;
        };
        if let Some(why) = invalid(file.syntax, file.shown(), &bytes) {
            return Alone::Refused(format!(
                "the result would not be valid: {}: {why}; {REPORT}",
                file.shown().display()
            ));
        }
    }
    Alone::Fits(proved)
}

/// The kept changes' patches on each file checked change by change, and,
/// on files where every kept change was proved on its own runs of lines,
/// those runs.
#[derive(Default)]
struct KeptOn {
    /// The kept patches on each checked file, as (change, index in its
    /// edits): cloned only when a file is read back whole.
    patches: FxHashMap<usize, Vec<(usize, usize)>>,
    runs: FxHashMap<usize, Vec<Span>>,
    /// Files where some kept change was read back whole.
    unproved: FxHashSet<usize>,
}

impl KeptOn {
    fn keep(
        &mut self,
        report: &Report,
        checked: &FxHashSet<usize>,
        c: usize,
        proved: Vec<(usize, Vec<Span>)>,
    ) {
        for (i, (f, _)) in report.changes[c].edits.iter().enumerate() {
            if checked.contains(f) {
                self.patches.entry(*f).or_default().push((c, i));
            }
        }
        for f in touched_files(report, c).filter(|f| checked.contains(f)) {
            // Runs count only while every kept change on the file is proved
            // apart from the others: a change read back whole together with
            // an earlier one (its runs touch theirs) may leave a line that
            // joins the next, which a later run's proof cannot see.
            match proved.iter().find(|(g, _)| *g == f) {
                Some((_, runs)) if self.proved_apart(f, Some(runs)) => {
                    self.runs.entry(f).or_default().extend(runs)
                }
                _ => {
                    self.unproved.insert(f);
                }
            }
        }
    }

    /// Whether `runs`, proved for a new change on `f`, are apart from the
    /// runs of every change kept on `f` (all proved too): then every
    /// combination of them is valid, and nothing needs reading back.
    fn proved_apart(&self, f: usize, runs: Option<&Vec<Span>>) -> bool {
        let Some(runs) = runs else { return false };
        if self.unproved.contains(&f) {
            return false;
        }
        let kept = self.runs.get(&f).map(Vec::as_slice).unwrap_or_default();
        runs.iter()
            .all(|r| kept.iter().all(|k| apache_regions::apart(*r, *k)))
    }
}

/// Why change `c` cannot join the changes kept before it (`accepted`, and
/// their patches on each checked file in `kept_on`): their patches overlap,
/// or together they leave one of `c`'s files invalid. `proved` are `c`'s
/// runs from [`why_not_alone`].
fn why_not_with(
    report: &Report,
    accepted: &AcceptedPatches,
    kept_on: &KeptOn,
    checked: &FxHashSet<usize>,
    c: usize,
    proved: &[(usize, Vec<Span>)],
) -> Option<String> {
    if let Some((_, f, o)) = accepted.first_overlap(&report.changes[c].edits) {
        return Some(format!(
            "it would change bytes of {} that an earlier change already changes ({o}); {REPORT}",
            report.files[f].shown().display()
        ));
    }
    for f in touched_files(report, c).filter(|f| checked.contains(f)) {
        // With no change kept before it on this file, its check alone was
        // this one.
        let Some(before) = kept_on.patches.get(&f) else {
            continue;
        };
        let runs = proved.iter().find(|(g, _)| *g == f).map(|(_, r)| r);
        if kept_on.proved_apart(f, runs) {
            continue;
        }
        let patches: Vec<Patch> = before
            .iter()
            .map(|&(k, i)| &report.changes[k].edits[i].1)
            .chain(patches_on(report, c, f))
            .cloned()
            .collect();
        let file = &report.files[f];
        let Ok(bytes) = apply_patches(&file.source.bytes, &patches) else {
            continue;
        };
        if let Some(why) = invalid(file.syntax, file.shown(), &bytes) {
            return Some(format!(
                "together with the changes before it, it leaves {} invalid: {why}; {REPORT}",
                file.shown().display()
            ));
        }
    }
    None
}

/// The new bytes of every file the kept changes touch, by host path, and
/// the files whose result is not valid.
fn render_kept(
    report: &Report,
    kept: &[usize],
    known_valid: &FxHashSet<usize>,
) -> (Planned, Vec<(usize, String)>) {
    let mut out = Planned::default();
    let mut bad = Vec::new();
    let mut per_file: BTreeMap<usize, Vec<&Patch>> = BTreeMap::new();
    for &c in kept {
        for (f, p) in &report.changes[c].edits {
            per_file.entry(*f).or_default().push(p);
        }
    }
    for (f, patches) in per_file {
        let file = &report.files[f];
        // Overlaps were ruled out change by change above.
        let Ok(bytes) = apply_borrowed_patches(&file.source.bytes, patches) else {
            bad.push((f, "two changes overlap".to_string()));
            continue;
        };
        if !known_valid.contains(&f)
            && let Some(why) = invalid(file.syntax, file.shown(), &bytes)
        {
            bad.push((f, why));
        }
        out.insert(file.host.clone().into_os_string(), bytes.into());
    }
    (out, bad)
}

fn touches(report: &Report, c: usize, f: usize) -> bool {
    report.changes[c].edits.iter().any(|(g, _)| *g == f)
}

/// The kept changes to blame for what planning again still plans: those
/// of the same rule on the same file, else every change on that file.
/// What a change held back here plans again is expected, not blamed.
fn blame(
    report: &Report,
    kept: &[usize],
    dropped: &BTreeMap<usize, String>,
    again: &Report,
) -> BTreeMap<usize, String> {
    let mut out = BTreeMap::new();
    for c2 in again.changes.iter().filter(|c| !c.edits.is_empty()) {
        let hosts: FxHashSet<&PathBuf> = c2
            .edits
            .iter()
            .map(|(f, _)| &again.files[*f].host)
            .collect();
        let on_file = |c: &usize| {
            report.changes[*c]
                .edits
                .iter()
                .any(|(f, _)| hosts.contains(&report.files[*f].host))
        };
        if dropped
            .keys()
            .any(|c| on_file(c) && report.changes[*c].rule == c2.rule)
        {
            continue;
        }
        let same_rule: Vec<usize> = kept
            .iter()
            .copied()
            .filter(|c| on_file(c) && report.changes[*c].rule == c2.rule)
            .collect();
        let guilty = if same_rule.is_empty() {
            kept.iter().copied().filter(on_file).collect()
        } else {
            same_rule
        };
        // In the order of the change's edits, each file once (not in the
        // set's hash order, which would vary with the root's path).
        let mut shown: Vec<String> = Vec::new();
        for (f, _) in &c2.edits {
            let host = again.files[*f].host.display().to_string();
            if !shown.contains(&host) {
                shown.push(host);
            }
        }
        for c in guilty {
            out.entry(c).or_insert_with(|| {
                format!(
                    "planning again after it still plans {} in {}: it would change the file at every run; {REPORT}",
                    c2.rule,
                    shown.join(", ")
                )
            });
        }
    }
    out
}

/// Removes the changes in `drop`, each finding that pointed at one says why
/// it is held back; a dropped change that no finding pointed at gets one.
fn drop_changes(report: &mut Report, drop: BTreeMap<usize, String>) {
    if drop.is_empty() {
        return;
    }
    let mut orphans = Vec::new();
    for (&c, why) in &drop {
        let mut linked = false;
        for f in report.findings.iter_mut().filter(|f| f.change == Some(c)) {
            f.change = None;
            f.blocked = Some(format!("held back: {why}"));
            linked = true;
        }
        if !linked {
            let change = &report.changes[c];
            let Some((file, patch)) = change.edits.first() else {
                continue;
            };
            let severity = crate::servers::lookup(change.rule)
                .map(|r| r.severity)
                .unwrap_or(crate::plan::Severity::Medium);
            let line = report.files[*file].source.line_of(patch.span.start());
            let mut f = Finding::new(change.rule, severity, *file, line);
            f.reason = change.reason.clone();
            f.blocked = Some(format!("held back: {why}"));
            orphans.push(f);
        }
    }
    report.findings.extend(orphans);
    report.retain_changes(|c| !drop.contains_key(&c));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Change, Severity};

    /// A file read whole by its loader is not parsed again, but the lines
    /// its daemon refuses are still looked for; a file not marked is
    /// checked in full.
    #[test]
    fn a_file_parsed_whole_is_still_checked_for_refused_lines() {
        let read = |syntax, bytes: &[u8]| {
            ConfigFile::new(crate::discover::FileRead {
                path: PathBuf::from("/f"),
                real: PathBuf::from("/f"),
                host: PathBuf::from("/f"),
                source: crate::source::Source::new("/f", bytes.to_vec()),
                syntax,
            })
        };
        let main_cf = read(Syntax::PostfixMain, b"a = 1\nsmtpd_tls_cert_file\n");
        main_cf.mark_parsed_whole();
        let why = invalid_as_read(&main_cf).expect("a line without '=' is refused");
        assert!(why.starts_with("line 2 has no '='"), "{why}");
        let broken = read(Syntax::Apache, b"<VirtualHost *:443>\n");
        assert!(invalid_as_read(&broken).is_some());
        broken.mark_parsed_whole();
        assert_eq!(invalid_as_read(&broken), None, "marked: not parsed again");
    }

    fn change(rule: &'static str, file: usize, patch: Patch) -> Change {
        Change {
            rule,
            reason: "test".into(),
            edits: vec![(file, patch)],
            ldap: None,
        }
    }

    /// The net itself, under changes no rule plans today: a change that
    /// breaks its file, and a change overlapping an earlier one, are each
    /// dropped with their finding saying why; the good change stays.
    /// A main.cf with three changes planned on it: one good, one that
    /// breaks the file, one that overlaps the good one; vetted with
    /// `budget`.
    fn vetted(budget: usize) -> Report {
        let t = tempfile::tempdir().unwrap();
        let root = Root::new(Some(t.path().to_path_buf()));
        std::fs::create_dir_all(t.path().join("etc/other")).unwrap();
        std::fs::write(t.path().join("etc/other/x.cf"), "a = 1\nb = 2\n").unwrap();
        // An audit that finds no configuration at all fails: an empty
        // ldap.conf (nothing to plan) lets planning again find one.
        std::fs::create_dir_all(t.path().join("etc/ldap")).unwrap();
        std::fs::write(t.path().join("etc/ldap/ldap.conf"), "").unwrap();
        let cf =
            ConfigFile::load(&root, Path::new("/etc/other/x.cf"), Syntax::PostfixMain).unwrap();
        let mut report = Report::default();
        let f = report.file(&cf);
        let good = report.add_change(change(
            "postfix.syntax",
            f,
            Patch::replace(crate::source::Span::new(4, 5), "3"),
        ));
        let breaks = report.add_change(change("postfix.syntax", f, Patch::insert(12, "oops\n")));
        let overlaps = report.add_change(change(
            "postfix.syntax",
            f,
            Patch::replace(crate::source::Span::new(4, 5), "4"),
        ));
        for (i, c) in [good, breaks, overlaps].into_iter().enumerate() {
            let mut finding = Finding::new("postfix.syntax", Severity::High, f, i + 1);
            finding.change = Some(c);
            report.add_finding(finding);
        }
        let opts = Options::new(crate::catalogue::profile::Profile::Intermediate);
        vet_within(&root, &opts, &mut report, budget);
        report
    }

    /// The net itself, under changes no rule plans today: a change that
    /// breaks its file, and a change overlapping an earlier one, are each
    /// dropped with their finding saying why; the good change stays.
    #[test]
    fn a_bad_change_is_dropped_with_its_reason_and_the_run_goes_on() {
        let report = vetted(CHANGE_BY_CHANGE_BUDGET);
        assert_eq!(report.changes.len(), 1);
        assert_eq!(report.changes[0].edits[0].1.bytes, b"3");
        assert_eq!(report.findings[0].change, Some(0));
        let why = |i: usize| report.findings[i].blocked.clone().unwrap_or_default();
        assert!(why(1).contains("line 3 has no '='"), "{}", why(1));
        assert!(why(1).contains("bug in tlsmend"), "{}", why(1));
        assert!(why(2).contains("earlier change"), "{}", why(2));
        assert!(report.render(&[0]).is_ok());
    }

    /// Over the budget (a file too large to render once per change), an
    /// overlap is still found change by change, and a change that breaks
    /// the file is caught with the others together: every change on that
    /// file is held back, and nothing invalid is planned.
    #[test]
    fn over_the_budget_a_file_is_checked_with_its_changes_together() {
        let report = vetted(0);
        assert!(report.changes.is_empty(), "{:?}", report.changes);
        let why = |i: usize| report.findings[i].blocked.clone().unwrap_or_default();
        assert!(
            why(0).contains("together with the other changes"),
            "{}",
            why(0)
        );
        assert!(why(0).contains("line 3 has no '='"), "{}", why(0));
        assert!(
            why(1).contains("together with the other changes"),
            "{}",
            why(1)
        );
        assert!(why(2).contains("earlier change"), "{}", why(2));
    }

    #[test]
    fn planning_again_covers_only_the_servers_with_kept_changes() {
        let mut report = Report::default();
        for rule in [
            "apache.protocol",
            "postfix.mandatory-protocols",
            "apache.protocol",
        ] {
            report.changes.push(Change {
                rule,
                reason: "test".into(),
                edits: Vec::new(),
                ldap: None,
            });
        }
        let opts = Options::new(crate::catalogue::profile::Profile::Intermediate);
        use crate::servers::Server;
        assert_eq!(
            replan_options(&report, &[0, 2], &opts).servers,
            vec![Server::Apache]
        );
        assert_eq!(
            replan_options(&report, &[1, 0], &opts).servers,
            vec![Server::Postfix, Server::Apache]
        );
        report.changes[2].rule = "no.such-rule";
        assert!(
            replan_options(&report, &[0, 2], &opts).servers.is_empty(),
            "a change of no known rule: every server"
        );
    }

    /// Each file a change touches, once, in increasing order, whether its
    /// edits are on one file, several or none.
    #[test]
    fn the_files_a_change_touches_come_once_in_order() {
        let t = tempfile::tempdir().unwrap();
        let root = Root::new(Some(t.path().to_path_buf()));
        let mut report = Report::default();
        let files: Vec<usize> = ["a", "b", "c"]
            .iter()
            .map(|n| {
                std::fs::write(t.path().join(n), "x\n").unwrap();
                let cf =
                    ConfigFile::load(&root, Path::new(&format!("/{n}")), Syntax::Apache).unwrap();
                report.file(&cf)
            })
            .collect();
        let edit = |f: usize, at: usize| (files[f], Patch::insert(at, "y"));
        for (edits, want) in [
            (vec![], vec![]),
            (vec![edit(1, 0)], vec![files[1]]),
            (vec![edit(1, 0), edit(1, 1)], vec![files[1]]),
            (
                vec![edit(2, 0), edit(0, 0), edit(2, 1)],
                vec![files[0], files[2]],
            ),
        ] {
            let c = report.add_change(crate::plan::Change {
                rule: "apache.protocol",
                reason: "".into(),
                edits,
                ldap: None,
            });
            assert_eq!(touched_files(&report, c).collect::<Vec<_>>(), want);
        }
    }

    /// Two changes proved on the same line are read back together, and
    /// then the line they leave (ending in a continuation backslash) joins
    /// the next one: a third change proved on that next line alone must
    /// still be read back with them, not waved through as "apart" (found
    /// in review: it would have left `<VirtualHost>` unclosed).
    #[test]
    fn a_change_after_two_read_back_together_is_read_back_too() {
        let t = tempfile::tempdir().unwrap();
        let root = Root::new(Some(t.path().to_path_buf()));
        std::fs::write(
            t.path().join("site.conf"),
            "<VirtualHost *:443>\nA b c\nB d\n</VirtualHost>\n",
        )
        .unwrap();
        let cf = ConfigFile::load(&root, Path::new("/site.conf"), Syntax::Apache).unwrap();
        let mut report = Report::default();
        let f = report.file(&cf);
        let span = crate::source::Span::new;
        // `A \ c`, then `A b` with ` c` gone: together `A \` + `B d`.
        report.add_change(change(
            "apache.protocol",
            f,
            Patch::replace(span(22, 23), "\\"),
        ));
        report.add_change(change(
            "apache.protocol",
            f,
            Patch::replace(span(23, 25), ""),
        ));
        // `B d` deleted: `A \` would then swallow `</VirtualHost>`.
        report.add_change(change(
            "apache.protocol",
            f,
            Patch::replace(span(26, 30), ""),
        ));
        let checked: FxHashSet<usize> = [f].into_iter().collect();
        let lines: FxHashMap<usize, LineStarts> =
            [(f, LineStarts::of(&report.files[f].source.bytes))]
                .into_iter()
                .collect();
        let mut drop = BTreeMap::new();
        let kept = change_by_change(&report, &FxHashMap::default(), &checked, &lines, &mut drop);
        assert_eq!(kept, vec![0, 1]);
        assert!(
            drop[&2].contains("together with the changes before it"),
            "{drop:?}"
        );
    }
}
