//! One file included by several virtual hosts (certbot's
//! `Include /etc/letsencrypt/options-ssl-apache.conf` in every
//! `-le-ssl.conf`) is one place, however many scopes reach it.
//!
//! The rules judge each scope on its own, so the same line may be found
//! once per virtual host that includes it. This pass, run after the rules,
//! makes each place one finding (naming the virtual hosts it serves) and one
//! change; when two scopes want different bytes at the same place, the
//! first plan stands only if it is the same edit, else the later one is
//! blocked with the reason, so `apply` never meets two changes on the same
//! bytes.

use super::model::ApacheTree;
use crate::edit::Patch;
use crate::plan::Report;
use rustc_hash::FxHashMap;
use std::collections::BTreeSet;
use std::collections::hash_map::Entry;

/// Merges the findings from `first_finding` and the changes from
/// `first_change` on (the Apache rules' part of `report`).
pub(super) fn merge(
    tree: &ApacheTree,
    report: &mut Report,
    first_finding: usize,
    first_change: usize,
) {
    parameters(tree, report, first_finding, first_change);
    // Identical edits inside one change (one line planned once per scope).
    for c in &mut report.changes[first_change..] {
        if c.edits.len() < 2 {
            continue; // most changes: nothing to compare, nothing to copy
        }
        let mut seen: Vec<(usize, Patch)> = Vec::new();
        c.edits.retain(|e| {
            let new = !seen.contains(e);
            if new {
                seen.push(e.clone());
            }
            new
        });
    }
    // Identical changes: one, that every finding points at (the first of
    // each rule and edit list; hashed, so a fleet of thousands stays linear).
    let mut same: FxHashMap<usize, usize> = FxHashMap::default();
    let mut first_of: FxHashMap<(&str, EditKey), usize> = FxHashMap::with_capacity_and_hasher(
        report.changes.len() - first_change,
        Default::default(),
    );
    for c in first_change..report.changes.len() {
        let key = (report.changes[c].rule, sorted(&report.changes[c].edits));
        match first_of.entry(key) {
            Entry::Occupied(k) => {
                same.insert(c, *k.get());
            }
            Entry::Vacant(v) => {
                v.insert(c);
            }
        }
    }
    drop(first_of);
    // Different changes on the same bytes: the later is blocked.
    let mut conflict: FxHashMap<usize, usize> = FxHashMap::default();
    let mut standing = crate::edit::AcceptedPatches::default();
    for c in first_change..report.changes.len() {
        if same.contains_key(&c) {
            continue;
        }
        match standing.first_overlap(&report.changes[c].edits) {
            Some((k, _, _)) => {
                conflict.insert(c, k);
            }
            None => standing.accept(c, &report.changes[c].edits),
        }
    }
    for f in &mut report.findings[first_finding..] {
        let Some(c) = f.change else { continue };
        // A duplicate of a blocked change is blocked with it.
        let c = same.get(&c).copied().unwrap_or(c);
        if let Some(&k) = conflict.get(&c) {
            f.change = None;
            f.blocked = Some(format!(
                "this place is shared by virtual hosts that need different edits here (another is planned by [{}] {}): give each virtual host its own copy of the file, or edit it by hand",
                report.changes[k].rule, report.changes[k].reason
            ));
        } else {
            f.change = Some(c);
        }
    }
    // One finding per place and what it says: the first of each, counted.
    // Taken out of the report and filtered in place, not copied.
    let mut findings = std::mem::take(&mut report.findings);
    let ours = &findings[first_finding..];
    let mut first: Vec<usize> = Vec::with_capacity(ours.len());
    let mut place: FxHashMap<FindingKey, usize> =
        FxHashMap::with_capacity_and_hasher(ours.len(), Default::default());
    for (i, f) in ours.iter().enumerate() {
        let key: FindingKey = (
            f.rule,
            f.file,
            f.line,
            f.current.as_deref(),
            f.wanted.as_deref(),
            f.change,
            f.blocked.as_deref(),
        );
        first.push(*place.entry(key).or_insert(i));
    }
    drop(place);
    let mut reached = vec![0usize; ours.len()];
    for &k in &first {
        reached[k] += 1;
    }
    let count: Vec<usize> = (0..first.len())
        .filter(|&i| first[i] == i)
        .map(|i| reached[i])
        .collect();
    drop(reached);
    let mut at = 0;
    findings.retain(|_| {
        let keep = at < first_finding || first[at - first_finding] == at - first_finding;
        at += 1;
        keep
    });
    drop(first);
    let kept = &mut findings[first_finding..];
    for (f, n) in kept.iter_mut().zip(count) {
        // In a macro body, an edit changes every Use: it stands only when
        // every Use wanted it.
        if let Some(c) = f.change
            && let Some(uses) = macro_uses(tree, report, c)
            && n < uses
        {
            // The body's edits leave the change (a change may hold other
            // parts, such as the stapling cache, that still stand).
            let bodies: Vec<(std::path::PathBuf, crate::source::Span)> = tree
                .macro_bodies
                .iter()
                .map(|(mf, sp, _)| (tree.files[*mf].0.host.clone(), *sp))
                .collect();
            let files = &report.files;
            report.changes[c].edits.retain(|(ef, p)| {
                !bodies.iter().any(|(h, sp)| {
                    files[*ef].host == *h
                        && sp.start() <= p.span.start()
                        && p.span.end() <= sp.end()
                })
            });
            f.change = None;
            f.blocked = Some(format!(
                "this line is in a <Macro> body expanded by {uses} Use lines and only {n} of them need this change: edit the Use arguments or give those sites their own directive"
            ));
        }
        if n < 2 {
            continue;
        }
        let hosts = serving(tree, report, f.file, f.line);
        f.reason = if hosts.is_empty() {
            format!("{} (one place, reached {n} times)", f.reason).into()
        } else {
            format!(
                "{} (one place, serving {} virtual hosts: {})",
                f.reason,
                hosts.len(),
                hosts.into_iter().collect::<Vec<_>>().join(", ")
            )
            .into()
        };
    }
    report.findings = findings;
    // Drop the changes nothing points at any more (duplicates, conflicts),
    // keeping indices of the others.
    let mut used = vec![false; report.changes.len()];
    used[..first_change].fill(true);
    for c in report.findings.iter().filter_map(|f| f.change) {
        used[c] = true;
    }
    let mut remap: Vec<Option<usize>> = vec![None; report.changes.len()];
    let mut next = 0;
    for (i, u) in used.iter().enumerate() {
        if *u {
            remap[i] = Some(next);
            next += 1;
        }
    }
    let mut at = 0;
    report.changes.retain(|_| {
        at += 1;
        used[at - 1]
    });
    for f in &mut report.findings {
        f.change = f.change.and_then(|c| remap[c]);
    }
}

/// A change that would rewrite a macro parameter (`SSLProtocol $proto` in a
/// `<Macro>` body) would fix every `Use` with one literal: it is blocked, and
/// the finding says to change the `Use` lines.
fn parameters(tree: &ApacheTree, report: &mut Report, first_finding: usize, first_change: usize) {
    // Only a macro body has parameters.
    if tree.macro_bodies.is_empty() {
        return;
    }
    let param_spans: Vec<(&std::path::Path, crate::source::Span)> = tree
        .items
        .iter()
        .filter(|i| tree.from_parameter(i))
        .filter_map(|i| {
            Some((
                tree.files[i.file()].0.host.as_path(),
                i.directive.args_span(tree.bytes(i.file()))?,
            ))
        })
        .collect();
    if param_spans.is_empty() {
        return;
    }
    let mut blocked = Vec::new();
    for c in first_change..report.changes.len() {
        let hits = report.changes[c].edits.iter().any(|(f, p)| {
            let host = report.files[*f].host.as_path();
            param_spans.iter().any(|(h, sp)| {
                *h == host
                    && p.span.start() < sp.end()
                    && sp.start() < p.span.end().max(p.span.start() + 1)
            })
        });
        if hits {
            blocked.push(c);
        }
    }
    for f in &mut report.findings[first_finding..] {
        if f.change.is_some_and(|c| blocked.contains(&c)) {
            f.change = None;
            f.blocked = Some(
                "the value comes from a <Macro> parameter: change the arguments of the Use lines (one literal in the macro body would override every Use)".into(),
            );
        }
    }
}

/// How many `Use`s expanded the macro body that change `c` edits, if any.
fn macro_uses(tree: &ApacheTree, report: &Report, c: usize) -> Option<usize> {
    report.changes[c].edits.iter().find_map(|(f, p)| {
        let host = &report.files[*f].host;
        tree.macro_bodies
            .iter()
            .find(|(mf, sp, _)| {
                &tree.files[*mf].0.host == host
                    && sp.start() <= p.span.start()
                    && p.span.end() <= sp.end()
            })
            .map(|b| b.2)
    })
}

fn sorted(edits: &[(usize, Patch)]) -> EditKey<'_> {
    let mut v: EditKey = edits
        .iter()
        .map(|(f, p)| (*f, p.span.start(), p.span.end(), p.bytes.as_slice()))
        .collect();
    v.sort();
    v
}

/// A change's edits, comparable whatever their order.
type EditKey<'a> = Vec<(usize, usize, usize, &'a [u8])>;

/// What makes two findings the same place saying the same thing.
type FindingKey<'a> = (
    &'static str,
    usize,
    usize,
    Option<&'a str>,
    Option<&'a str>,
    Option<usize>,
    Option<&'a str>,
);

/// The names of the virtual hosts whose scope reaches `line` of report file `file`.
fn serving(tree: &ApacheTree, report: &Report, file: usize, line: usize) -> BTreeSet<String> {
    let host = &report.files[file].host;
    tree.items
        .iter()
        .filter(|i| &tree.files[i.file()].0.host == host && tree.line(i) == line)
        .filter_map(|i| i.vhost())
        .map(|v| {
            let port = tree
                .vhost_port(v)
                .map(|p| format!(":{p}"))
                .unwrap_or_default();
            format!(
                "{}{port}",
                tree.server_name(v)
                    .unwrap_or_else(|| "(no ServerName)".into())
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::Root;
    use crate::plan::{Change, Finding, Severity};
    use crate::servers::apache::layout::DEBIAN;

    /// Virtual hosts `a.test`, `b.test`, ... each including one file that
    /// holds `SSLProtocol all`; scope `i` plans `wanted[i]` for it.
    fn planned(wanted: &[&str]) -> Report {
        let t = tempfile::tempdir().unwrap();
        let w = |p: &str, b: &str| {
            let h = t.path().join(p);
            std::fs::create_dir_all(h.parent().unwrap()).unwrap();
            std::fs::write(h, b).unwrap();
        };
        let main: String = (0..wanted.len())
            .map(|i| {
                let name = char::from(b'a' + i as u8);
                format!("<VirtualHost *:443>\nServerName {name}.test\nInclude /etc/shared.conf\n</VirtualHost>\n")
            })
            .collect();
        w("etc/apache2/apache2.conf", &main);
        w("etc/shared.conf", "SSLProtocol all\n");
        let root = Root::new(Some(t.path().to_path_buf()));
        let tree = ApacheTree::load(&root, &DEBIAN).unwrap();
        let mut report = Report::default();
        let items: Vec<_> = tree
            .items
            .iter()
            .filter(|i| tree.is(i, "SSLProtocol"))
            .collect();
        assert_eq!(items.len(), wanted.len(), "reached through every scope");
        for (i, item) in items.iter().enumerate() {
            let file = report.file(&tree.files[item.file()].0);
            let span = item.directive.args_span(tree.bytes(item.file())).unwrap();
            let c = report.add_change(Change {
                rule: "apache.protocol",
                reason: format!("SSLProtocol {}", wanted[i]).into(),
                edits: vec![(file, Patch::replace(span, wanted[i]))],
                ldap: None,
            });
            let mut f = Finding::new("apache.protocol", Severity::High, file, 1);
            f.reason = "weak".into();
            f.change = Some(c);
            report.add_finding(f);
        }
        merge(&tree, &mut report, 0, 0);
        report
    }

    #[test]
    fn the_same_edit_through_two_scopes_is_one_place() {
        let r = planned(&["-all +TLSv1.2", "-all +TLSv1.2"]);
        assert_eq!(r.changes.len(), 1);
        assert_eq!(r.findings.len(), 1);
        assert!(
            r.findings[0]
                .reason
                .contains("serving 2 virtual hosts: a.test:443, b.test:443"),
            "{}",
            r.findings[0].reason
        );
        assert!(r.render(&[0]).is_ok());
    }

    #[test]
    fn scopes_that_disagree_on_the_same_bytes_block_the_later_edit() {
        let r = planned(&["-all +TLSv1.2", "-all +TLSv1.3"]);
        assert_eq!(r.changes.len(), 1, "only the first plan stands");
        let blocked: Vec<_> = r.findings.iter().filter(|f| f.change.is_none()).collect();
        assert_eq!(blocked.len(), 1);
        assert!(
            blocked[0]
                .blocked
                .as_deref()
                .is_some_and(|b| b.contains("shared by virtual hosts that need different edits")),
            "{blocked:?}"
        );
        let all: Vec<usize> = (0..r.changes.len()).collect();
        assert!(
            r.render(&all).is_ok(),
            "apply no longer meets two changes on the same bytes"
        );
    }

    #[test]
    fn a_duplicate_of_a_blocked_edit_is_blocked_too() {
        // a wants 1.2; b and c want 1.3: b is blocked, and c (the same edit
        // as b) must not carry b's change into apply.
        let r = planned(&["-all +TLSv1.2", "-all +TLSv1.3", "-all +TLSv1.3"]);
        assert_eq!(r.changes.len(), 1, "only the first plan stands");
        let blocked = r.findings.iter().filter(|f| f.change.is_none()).count();
        assert_eq!(
            blocked, 1,
            "one blocked place, reached twice: {:?}",
            r.findings
        );
        let all: Vec<usize> = (0..r.changes.len()).collect();
        assert!(r.render(&all).is_ok());
    }
}
