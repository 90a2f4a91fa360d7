//! SARIF 2.1.0 for `audit --format sarif`, the format code-scanning
//! dashboards read: one run, the rules of the catalogue that have results,
//! one result per finding located by the path the diff headers use.

use crate::discover::Root;
use crate::plan::{Finding, Report, Severity};
use crate::servers;
use serde_json::{Value, json};

/// SARIF's level for a severity: high is an error, medium a warning, the
/// rest notes.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

fn message(f: &Finding) -> String {
    let mut m = f.reason.to_string();
    if let Some(c) = &f.current {
        m.push_str(&format!(" Current: {c}."));
    }
    if let Some(w) = &f.wanted {
        m.push_str(&format!(" Wanted: {w}."));
    }
    match (&f.change, &f.blocked) {
        (Some(_), _) => m.push_str(" Fixable by `tlsmend apply`."),
        (None, Some(b)) => m.push_str(&format!(" Not planned: {b}")),
        (None, None) => {}
    }
    m
}

/// The SARIF log of an audit. `waived(i)` gives the reason a finding is
/// waived, shown as a suppression.
pub fn audit(report: &Report, root: &Root, waived: &dyn Fn(usize) -> Option<String>) -> Value {
    let mut ids: Vec<&str> = report.findings.iter().map(|f| f.rule).collect();
    ids.sort();
    ids.dedup();
    let rules: Vec<Value> = ids
        .iter()
        .map(|id| match servers::lookup(id) {
            Some(r) => json!({
                "id": r.id,
                "shortDescription": { "text": r.summary },
                "fullDescription": { "text": r.checks },
                "help": { "text": r.explain() },
                "defaultConfiguration": { "level": level(r.severity) },
                "properties": { "server": r.server.name(), "opt_in": r.is_opt_in() },
            }),
            None => json!({ "id": id, "shortDescription": { "text": id } }),
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let file = &report.files[f.file];
            let mut r = json!({
                "ruleId": f.rule,
                "ruleIndex": ids.iter().position(|x| *x == f.rule).unwrap_or(0),
                "level": level(f.severity),
                "message": { "text": message(f) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": root.diff_name(&file.real) },
                        "region": { "startLine": f.line.max(1) },
                    }
                }],
                "properties": {
                    "severity": f.severity.as_str(),
                    "current": f.current.as_deref(),
                    "wanted": f.wanted.as_deref(),
                    "fixable": f.change.is_some(),
                },
            });
            if let Some(why) = waived(i) {
                r["suppressions"] = json!([{ "kind": "external", "justification": why }]);
            }
            r
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "tlsmend",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    })
}
