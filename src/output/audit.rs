//! What `audit` shows for each finding, text and JSON alike: the report's
//! findings with their waivers, and the expired waivers as findings of
//! their own (a waiver past its date waives nothing).

use super::{json, text};
use crate::discover::Root;
use crate::plan::{Report, Severity};
use crate::waivers::Waivers;

/// A finding as the audit shows it: from the report, or an expired waiver.
pub struct Shown {
    pub item: text::Item,
    /// Its JSON form, when asked for (`Null` otherwise: building it for
    /// every finding of a large fleet and throwing it away costs time).
    pub json: serde_json::Value,
}

/// Every finding as shown (with its JSON form when `with_json`), and for
/// each of the report's findings the reason it is waived, if it is (for
/// SARIF's suppressions).
pub fn shown(
    report: &Report,
    root: &Root,
    waivers: &Waivers,
    today: &str,
    with_json: bool,
) -> (Vec<Shown>, Vec<Option<String>>) {
    let mut shown: Vec<Shown> = Vec::new();
    let mut waived_of = vec![None; report.findings.len()];
    // Each file's name as shown, made once: a file holds many findings.
    let mut names: Vec<Option<String>> = vec![None; report.files.len()];
    for (i, f) in report.findings.iter().enumerate() {
        let file = &report.files[f.file];
        let waiver = waivers
            .find(f.rule, &file.path, f.line, today)
            .or_else(|| waivers.find(f.rule, &file.real, f.line, today));
        let mut json = if with_json {
            json::finding(report, root, f)
        } else {
            serde_json::Value::Null
        };
        if let Some(w) = waiver {
            if with_json {
                json["waived"] = serde_json::json!({ "reason": w.reason, "expires": w.expires });
            }
            waived_of[i] = Some(w.reason.clone());
        }
        let item = text::Item {
            severity: f.severity,
            rule: f.rule.into(),
            place: format!(
                "{}:{}",
                names[f.file].get_or_insert_with(|| file.shown().display().to_string()),
                f.line
            ),
            current: f.current.clone(),
            wanted: f.wanted.clone(),
            reason: f.reason.clone(),
            fix: match (&f.change, &f.blocked) {
                (Some(_), _) => Some("planned (tlsmend apply)".into()),
                (None, Some(b)) => Some(format!("not planned: {b}").into()),
                (None, None) => None,
            },
            waived: waiver.map(|w| match &w.expires {
                Some(d) => format!("{} (until {d})", w.reason),
                None => w.reason.clone(),
            }),
        };
        shown.push(Shown { item, json });
    }
    // A waiver past its date waives nothing and is a finding itself.
    if let Some(file) = &waivers.file {
        for w in waivers.list.iter().filter(|w| w.expired(today)) {
            let date = w.expires.clone().unwrap_or_default();
            let reason = format!(
                "this waiver expired on {date}: the findings it covered are reported again; fix them, or renew the waiver with a new date and reason (it said: {})",
                w.reason
            );
            let place = root.diff_name(&root.machine(file));
            let json = serde_json::json!({
                "server": json::server_of(&w.rule),
                "rule": w.rule,
                "severity": "medium",
                "file": place,
                "path": json::absolute(file),
                "line": w.at,
                "column": serde_json::Value::Null,
                "current": format!("expires = {date}"),
                "wanted": serde_json::Value::Null,
                "reason": reason,
                "fixable": false,
                "blocked": "an expired waiver: edit the waiver file",
            });
            let item = text::Item {
                severity: Severity::Medium,
                rule: w.rule.clone().into(),
                place: format!("{}:{}", file.display(), w.at),
                current: Some(format!("expires = {date}").into()),
                wanted: None,
                reason: reason.into(),
                fix: Some("not planned: an expired waiver: edit the waiver file".into()),
                waived: None,
            };
            shown.push(Shown { item, json });
        }
    }
    (shown, waived_of)
}
