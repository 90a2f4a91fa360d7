//! Findings and the changes planned to fix them.
//!
//! A finding says what is wrong at one place (rule, severity, file:line,
//! current and wanted value, reason). A change is the byte patches that fix
//! one or more findings; it is the unit a user approves. Rules only *plan*:
//! nothing here touches a file. Planning again on the patched result must
//! plan nothing, which the tests check for every rule.

use crate::discover::ConfigFile;
use crate::edit::{Overlap, Patch, apply_patches};

/// A file index and its new bytes.
pub type Rendered = (usize, Vec<u8>);

pub use crate::catalogue::rule::Severity;

/// Text a finding or a change shows (reason, current and wanted value).
/// Shared: a rule that finds the same thing in 10,000 virtual hosts says
/// the same kilobyte of reason 10,000 times, and [`Report`] keeps one copy.
pub type Text = std::sync::Arc<str>;

#[derive(Clone, Debug)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    /// Index into [`Report::files`].
    pub file: usize,
    pub line: usize,
    pub current: Option<Text>,
    pub wanted: Option<Text>,
    pub reason: Text,
    /// The change that fixes it, or `None` with `blocked` saying why not.
    pub change: Option<usize>,
    pub blocked: Option<String>,
}

impl Finding {
    /// A finding with nothing yet said about it but where it is.
    pub fn new(rule: &'static str, severity: Severity, file: usize, line: usize) -> Finding {
        Finding {
            rule,
            severity,
            file,
            line,
            current: None,
            wanted: None,
            reason: "".into(),
            change: None,
            blocked: None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Change {
    pub rule: &'static str,
    pub reason: Text,
    /// `(file index, patch)`; a change may touch several files when its
    /// parts only work together (stapling and its cache).
    pub edits: Vec<(usize, Patch)>,
    /// A change to a running server instead of a file (OpenLDAP cn=config);
    /// boxed, since every other change of a run holds `None` in its place
    /// (a change is 64 bytes instead of 128).
    pub ldap: Option<Box<crate::live::ldapmodify::LdapChange>>,
}

#[derive(Debug, Default)]
pub struct Report {
    pub files: Vec<ConfigFile>,
    pub findings: Vec<Finding>,
    pub changes: Vec<Change>,
    /// Things the user should know that are not findings (a missing checker,
    /// an undetected TLS library).
    pub notes: Vec<String>,
    /// What was found per server, what was looked for and not found, and
    /// the servers whose files could not be read (`servers::found`).
    pub summary: crate::servers::found::Summary,
    /// Files by host path.
    index: crate::discover::ByPath<usize>,
    /// One copy of each text the findings and changes hold.
    texts: rustc_hash::FxHashSet<Text>,
    /// The addresses of the copies in `texts` (which keeps them alive, so
    /// no other text can be at one): a text that is already the kept copy
    /// (a rule hands out the same text for 10,000 virtual hosts) is known
    /// without hashing its contents.
    kept: rustc_hash::FxHashSet<usize>,
}

impl Report {
    /// The index of `file` in this report, adding it on first use.
    pub fn file(&mut self, file: &ConfigFile) -> usize {
        match self.index.get(file.host.as_os_str()) {
            Some(&i) => i,
            None => self.own_file(file.clone()),
        }
    }

    /// Appends the files, findings and changes of `part` (planned apart,
    /// on another thread) as if they had been added here after the others,
    /// in the same order: its indices become this report's.
    pub fn absorb(&mut self, mut part: Report) {
        self.notes.append(&mut part.notes);
        if self.files.is_empty()
            && self.changes.is_empty()
            && self.findings.is_empty()
            && self.texts.is_empty()
        {
            // Nothing to renumber against: the part's lists are taken as
            // they are, not copied one by one into lists grown to hold them.
            self.files = part.files;
            self.index = part.index;
            self.changes = part.changes;
            self.findings = part.findings;
            self.texts = part.texts;
            self.kept = part.kept;
            return;
        }
        self.changes.reserve_exact(part.changes.len());
        self.findings.reserve_exact(part.findings.len());
        let files: Vec<usize> = part.files.into_iter().map(|f| self.own_file(f)).collect();
        let base = self.changes.len();
        for mut c in part.changes {
            for (f, _) in &mut c.edits {
                *f = files[*f];
            }
            self.changes.push(c);
        }
        for mut f in part.findings {
            f.file = files[f.file];
            f.change = f.change.map(|c| c + base);
            self.findings.push(f);
        }
        for text in part.texts {
            let at = address(&text);
            if self.texts.insert(text) {
                self.kept.insert(at);
            }
        }
    }

    /// [`Report::file`] for a file this report may keep.
    fn own_file(&mut self, file: ConfigFile) -> usize {
        if let Some(&i) = self.index.get(file.host.as_os_str()) {
            return i;
        }
        self.index
            .insert(file.host.as_os_str().to_owned(), self.files.len());
        self.files.push(file);
        self.files.len() - 1
    }

    pub fn add_change(&mut self, mut change: Change) -> usize {
        self.share(&mut change.reason);
        self.changes.push(change);
        self.changes.len() - 1
    }

    /// Adds a finding, its texts shared with the report's earlier ones.
    pub fn add_finding(&mut self, mut finding: Finding) {
        self.share(&mut finding.reason);
        if let Some(t) = &mut finding.current {
            self.share(t);
        }
        if let Some(t) = &mut finding.wanted {
            self.share(t);
        }
        self.findings.push(finding);
    }

    /// Forgets the copies kept for sharing once planning is over: texts of
    /// findings and changes dropped since, and values from before redaction,
    /// are then held by nothing.
    pub fn planning_done(&mut self) {
        self.texts = Default::default();
        self.kept = Default::default();
    }

    /// Points `text` at the report's copy of the same text, keeping this
    /// one when it is the first.
    fn share(&mut self, text: &mut Text) {
        if self.kept.contains(&address(text)) {
            return;
        }
        match self.texts.get(&**text) {
            Some(kept) => *text = kept.clone(),
            None => {
                self.kept.insert(address(text));
                self.texts.insert(text.clone());
            }
        }
    }

    pub fn fixable(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.change.is_some())
    }

    /// Drops findings and changes whose rule is not wanted (and unlinks
    /// findings from dropped changes).
    pub fn filter_rules(&mut self, wanted: impl Fn(&str) -> bool) {
        self.findings.retain(|f| wanted(f.rule));
        let rules: Vec<&'static str> = self.changes.iter().map(|c| c.rule).collect();
        self.retain_changes(|i| wanted(rules[i]));
    }

    /// Keeps the changes whose index passes `keep`, renumbering the
    /// findings' links (a finding of a dropped change loses its link).
    pub fn retain_changes(&mut self, keep: impl Fn(usize) -> bool) {
        let mut kept = Vec::new();
        let mut remap = rustc_hash::FxHashMap::default();
        for (i, c) in self.changes.drain(..).enumerate() {
            if keep(i) {
                remap.insert(i, kept.len());
                kept.push(c);
            }
        }
        self.changes = kept;
        for f in &mut self.findings {
            f.change = f.change.and_then(|c| remap.get(&c).copied());
        }
    }

    /// The new bytes of every file that the selected changes touch.
    pub fn render(&self, selected: &[usize]) -> Result<Vec<Rendered>, (usize, Overlap)> {
        let mut per_file: rustc_hash::FxHashMap<usize, Vec<Patch>> = Default::default();
        for &c in selected {
            for (f, p) in &self.changes[c].edits {
                per_file.entry(*f).or_default().push(p.clone());
            }
        }
        let mut out: Vec<Rendered> = Vec::new();
        let mut files: Vec<usize> = per_file.keys().copied().collect();
        files.sort();
        for f in files {
            let bytes =
                apply_patches(&self.files[f].source.bytes, &per_file[&f]).map_err(|e| (f, e))?;
            out.push((f, bytes));
        }
        Ok(out)
    }
}

/// Where a text's bytes are, as a number (a report is sent between
/// threads, which a raw pointer is not).
fn address(text: &Text) -> usize {
    std::sync::Arc::as_ptr(text).cast::<u8>().addr()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::Patch;
    use crate::source::Source;
    use crate::syntax::Syntax;
    use std::path::PathBuf;

    fn file(name: &str) -> ConfigFile {
        ConfigFile::new(crate::discover::FileRead {
            path: PathBuf::from(name),
            real: PathBuf::from(name),
            host: PathBuf::from(name),
            source: Source::new(name, b"x\n".to_vec()),
            syntax: Syntax::Apache,
        })
    }

    /// A part planned apart and absorbed keeps one copy of each text too:
    /// its copy of a text this report already kept is not kept again, and
    /// a text added later is pointed at the one copy, whichever copy it is.
    #[test]
    fn texts_of_an_absorbed_part_are_kept_once() {
        let reason = |r: &mut Report, f: usize, text: &Text| {
            let mut finding = Finding::new("x", Severity::Low, f, 1);
            finding.reason = text.clone();
            r.add_finding(finding);
            r.findings.last().unwrap().reason.clone()
        };
        let mine: Text = String::from("weak").into();
        let theirs: Text = String::from("weak").into();
        let only: Text = String::from("only theirs").into();
        let mut r = Report::default();
        let f = r.file(&file("a"));
        reason(&mut r, f, &mine);
        let mut part = Report::default();
        let g = part.file(&file("a"));
        reason(&mut part, g, &theirs);
        reason(&mut part, g, &only);
        r.absorb(part);
        assert_eq!(r.texts.len(), 2);
        assert_eq!(r.kept.len(), 2);
        assert!(std::sync::Arc::ptr_eq(&reason(&mut r, f, &theirs), &mine));
        assert!(std::sync::Arc::ptr_eq(&reason(&mut r, f, &mine), &mine));
        assert!(std::sync::Arc::ptr_eq(&reason(&mut r, f, &only), &only));
        let copy: Text = String::from("only theirs").into();
        assert!(std::sync::Arc::ptr_eq(&reason(&mut r, f, &copy), &only));
    }

    /// The same text found in many places is kept once, however the rule
    /// built it; a different text is kept apart.
    #[test]
    fn equal_texts_are_kept_once() {
        let mut r = Report::default();
        let f = r.file(&file("a"));
        for reason in ["weak ciphers", "weak ciphers", "old protocols"] {
            let mut finding = Finding::new("x", Severity::Low, f, 1);
            finding.reason = reason.to_string().into();
            finding.wanted = Some(String::from("strong").into());
            let c = r.add_change(Change {
                rule: "x",
                reason: reason.to_string().into(),
                edits: vec![],
                ldap: None,
            });
            finding.change = Some(c);
            r.add_finding(finding);
        }
        let [a, b, c] = &r.findings[..] else { panic!() };
        assert!(std::sync::Arc::ptr_eq(&a.reason, &b.reason));
        assert!(!std::sync::Arc::ptr_eq(&a.reason, &c.reason));
        assert_eq!(&*c.reason, "old protocols");
        assert!(std::sync::Arc::ptr_eq(
            a.wanted.as_ref().unwrap(),
            c.wanted.as_ref().unwrap()
        ));
        assert!(std::sync::Arc::ptr_eq(&a.reason, &r.changes[1].reason));
        // Once planning is over the report keeps no copy of its own.
        r.planning_done();
        assert!(r.texts.is_empty());
    }

    /// A report planned in two parts and joined reads as one planned in
    /// one go: files first seen in the second part come after the first's,
    /// and every index points where it pointed.
    #[test]
    fn absorbing_a_part_keeps_its_links_and_the_order() {
        let plan = |r: &mut Report, name: &str, rule: &'static str| {
            let f = r.file(&file(name));
            let c = r.add_change(Change {
                rule,
                reason: "".into(),
                edits: vec![(f, Patch::insert(0, rule))],
                ldap: None,
            });
            let mut finding = Finding::new(rule, Severity::Low, f, 1);
            finding.change = Some(c);
            r.findings.push(finding);
        };
        let mut whole = Report::default();
        plan(&mut whole, "a", "one");
        plan(&mut whole, "b", "two");
        plan(&mut whole, "a", "three");
        let mut report = Report::default();
        plan(&mut report, "a", "one");
        let mut part = Report::default();
        plan(&mut part, "b", "two");
        plan(&mut part, "a", "three");
        report.absorb(part);
        let names = |r: &Report| -> Vec<(PathBuf, &'static str, Vec<u8>)> {
            r.findings
                .iter()
                .map(|f| {
                    let c = &r.changes[f.change.unwrap()];
                    let (cf, p) = &c.edits[0];
                    assert_eq!(*cf, f.file);
                    (r.files[f.file].host.clone(), c.rule, p.bytes.clone())
                })
                .collect()
        };
        assert_eq!(names(&report), names(&whole));
        let hosts = |r: &Report| r.files.iter().map(|f| f.host.clone()).collect::<Vec<_>>();
        assert_eq!(hosts(&report), hosts(&whole));
        assert_eq!(report.file(&file("b")), 1);
    }

    /// A part absorbed by a report that holds nothing yet (its lists are
    /// taken whole) reads as the part itself, keeps the notes the report
    /// had, and still keeps one copy of each text.
    #[test]
    fn a_part_absorbed_by_an_empty_report_is_taken_whole() {
        let mut part = Report::default();
        let (a, b) = (part.file(&file("a")), part.file(&file("b")));
        for (f, rule) in [(a, "one"), (b, "two"), (a, "three")] {
            let c = part.add_change(Change {
                rule,
                reason: "weak".to_string().into(),
                edits: vec![(f, Patch::insert(0, rule))],
                ldap: None,
            });
            let mut finding = Finding::new(rule, Severity::Low, f, 1);
            finding.change = Some(c);
            finding.reason = "weak".to_string().into();
            part.add_finding(finding);
        }
        part.notes.push("from the part".into());
        let mut report = Report::default();
        report.notes.push("before".into());
        report.absorb(part);
        assert_eq!(report.notes, ["before", "from the part"]);
        let rows: Vec<(&'static str, usize, usize)> = report
            .findings
            .iter()
            .map(|f| (f.rule, f.file, f.change.unwrap()))
            .collect();
        assert_eq!(rows, [("one", 0, 0), ("two", 1, 1), ("three", 0, 2)]);
        assert_eq!(report.file(&file("b")), 1, "the file index came along");
        assert_eq!(report.file(&file("c")), 2);
        let later: Text = String::from("weak").into();
        let mut finding = Finding::new("x", Severity::Low, 0, 1);
        finding.reason = later;
        report.add_finding(finding);
        assert!(std::sync::Arc::ptr_eq(
            &report.findings[3].reason,
            &report.findings[0].reason
        ));
    }
}
