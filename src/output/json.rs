//! The JSON documents of `--format json`: each has `schema_version`,
//! `command` and the command's own fields, as `docs/schema/tlsmend.schema.json`
//! describes (the tests validate every document against it).
//!
//! Places are given twice: `file` as the diff headers name it (relative to
//! `--root`, absolute without one) and `path`, where the file is on this
//! machine.

use super::SCHEMA_VERSION;
use crate::backup::Run;
use crate::discover::Root;
use crate::plan::{Finding, Report};
use crate::review;
use crate::servers;
use serde_json::{Value, json};

/// The server a rule belongs to, from the catalogue (or the id's prefix).
pub fn server_of(rule: &str) -> &str {
    servers::lookup(rule)
        .map(|r| r.server.name())
        .unwrap_or_else(|| rule.split('.').next().unwrap_or(rule))
}

/// Where a host path is on this machine, absolute (a relative `--root`
/// gives relative host paths).
pub fn absolute(p: &std::path::Path) -> String {
    std::path::absolute(p)
        .unwrap_or_else(|_| p.to_path_buf())
        .to_string_lossy()
        .to_string()
}

/// One finding with its place.
pub fn finding(report: &Report, root: &Root, f: &Finding) -> Value {
    let file = &report.files[f.file];
    json!({
        "server": server_of(f.rule),
        "rule": f.rule,
        "severity": f.severity.as_str(),
        "file": root.diff_name(&file.real),
        "path": absolute(&file.host),
        "line": f.line,
        "column": Value::Null,
        "current": f.current.as_deref(),
        "wanted": f.wanted.as_deref(),
        "reason": &*f.reason,
        "fixable": f.change.is_some(),
        "blocked": f.blocked,
    })
}

fn envelope(command: &str, mut body: serde_json::Map<String, Value>) -> Value {
    body.insert("schema_version".into(), json!(SCHEMA_VERSION));
    body.insert("command".into(), json!(command));
    Value::Object(body)
}

fn object(v: Value) -> serde_json::Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => unreachable!("json! of an object literal"),
    }
}

/// What was read: `found` (per server: files as the machine names them,
/// layout, versions, TLS services, remarks), `not_found` (where each absent
/// server was looked for) and `errors` (servers whose files could not be
/// read: the run exits 2).
fn found(report: &Report) -> serde_json::Map<String, Value> {
    let s = &report.summary;
    object(json!({
        "found": s.found.iter().map(|f| json!({
            "server": f.server.name(),
            "files": f.files.iter().map(|p| p.to_string_lossy()).collect::<Vec<_>>(),
            "layout": f.layout,
            "version": f.version,
            "tls_library": f.tls_library,
            "services": f.services,
            "remarks": f.remarks,
        })).collect::<Vec<_>>(),
        "not_found": s.missing.iter().map(|m| json!({
            "server": m.server.name(),
            "looked_for": m.searched,
        })).collect::<Vec<_>>(),
        "errors": s.broken.iter().map(|b| json!({
            "server": b.server.name(),
            "error": b.error,
        })).collect::<Vec<_>>(),
    }))
}

/// `audit --format json`: `findings` carry their waiver (if any) as given by
/// `extra`, which may add fields to each finding.
pub fn audit(report: &Report, root: &Root, profile: &str, findings: Vec<Value>) -> Value {
    let fixable = report.fixable().count();
    let mut body = object(json!({
        "profile": profile,
        "findings": findings,
        "notes": report.notes,
        "summary": { "findings": report.findings.len(), "fixable": fixable },
        "root": root.dir().map(absolute),
    }));
    body.extend(found(report));
    envelope("audit", body)
}

/// The planned changes of `apply --dry-run --format json`: each with the
/// diff of every file it touches (no other change applied), and the findings.
pub fn plan(report: &Report, root: &Root, profile: &str) -> Value {
    let changes: Vec<Value> = report
        .changes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let files: Vec<Value> = match report.render(&[i]) {
                Ok(files) => files
                    .into_iter()
                    .map(|(f, new)| {
                        let file = &report.files[f];
                        let name = root.diff_name(&file.real);
                        let diff = review::unified_diff(&name, &file.source.bytes, &new, 3);
                        json!({
                            "file": name,
                            "path": absolute(&file.host),
                            "diff": String::from_utf8_lossy(&diff),
                        })
                    })
                    .collect(),
                Err(_) => Vec::new(),
            };
            let findings: Vec<Value> = report
                .findings
                .iter()
                .filter(|f| f.change == Some(i))
                .map(|f| finding(report, root, f))
                .collect();
            json!({
                "server": server_of(c.rule),
                "rule": c.rule,
                "reason": &*c.reason,
                "files": files,
                "ldap": c.ldap.as_ref().map(|l| json!({
                    "uri": l.uri,
                    "dn": l.dn,
                    "ldif": l.ldif(),
                })),
                "findings": findings,
            })
        })
        .collect();
    let findings: Vec<Value> = report
        .findings
        .iter()
        .map(|f| finding(report, root, f))
        .collect();
    let mut body = object(json!({
        "profile": profile,
        "changes": changes,
        "findings": findings,
        "notes": report.notes,
    }));
    body.extend(found(report));
    envelope("plan", body)
}

/// One run of the backup dir, as `rollback --list` and apply's result show it.
pub fn run(r: &Run) -> Value {
    json!({
        "id": r.id,
        "dir": absolute(&r.dir),
        "created": r.created,
        "state": r.describe(),
        "rolled_back": r.rolled_back,
        "root": r.root.as_ref().map(|p| p.to_string_lossy().to_string()),
        "files": r.entries.iter().map(|e| json!({
            "file": e.shown.to_string_lossy(),
            "path": e.path.to_string_lossy(),
        })).collect::<Vec<_>>(),
        "ldap": r.ldap.iter().map(|l| json!({
            "uri": l.change.uri,
            "dn": l.change.dn,
            "attributes": l.change.mods.iter().map(|m| m.attr.as_str()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// `rollback --list --format json`.
pub fn runs(runs: &[Run], backup_dir: &std::path::Path) -> Value {
    envelope(
        "runs",
        object(json!({
            "backup_dir": absolute(backup_dir),
            "runs": runs.iter().map(run).collect::<Vec<_>>(),
        })),
    )
}

/// `rules --format json`: the whole catalogue with every field.
pub fn rules() -> Value {
    let rules: Vec<Value> = servers::catalogue()
        .map(|r| {
            json!({
                "id": r.id,
                "server": r.server.name(),
                "severity": r.severity.as_str(),
                "opt_in": r.is_opt_in(),
                "summary": r.summary,
                "checks": r.checks,
                "writes": r.writes,
                "refuses": r.refuses,
                "versions": r.versions,
                "sources": r.sources,
            })
        })
        .collect();
    envelope("rules", object(json!({ "rules": rules })))
}

/// What `apply --yes --format json` did.
pub struct Applied<'a> {
    pub run: Option<&'a Run>,
    pub selected: usize,
    pub backup_dir: &'a std::path::Path,
    pub reloaded: Vec<String>,
    pub probed: Vec<String>,
    pub messages: Vec<String>,
    pub warnings: Vec<String>,
}

/// `apply --yes --format json`.
pub fn applied(a: &Applied) -> Value {
    envelope(
        "apply",
        object(json!({
            "changes_applied": if a.run.is_some() { a.selected } else { 0 },
            "run": a.run.map(run),
            "backup_dir": absolute(a.backup_dir),
            "rollback": a.run.map(|r| format!(
                "tlsmend rollback {} --backup-dir {}",
                r.id,
                a.backup_dir.display()
            )),
            "reloaded": a.reloaded,
            "probed": a.probed,
            "messages": a.messages,
            "warnings": a.warnings,
        })),
    )
}

/// One probed service of `verify`: `status` is ok, fail or down.
pub fn verified(target: &str, status: &str, problems: Vec<(String, String, Vec<String>)>) -> Value {
    json!({
        "target": target,
        "status": status,
        "problems": problems.into_iter().map(|(rule, what, governed_by)| json!({
            "server": server_of(&rule),
            "rule": rule,
            "what": what,
            "governed_by": governed_by,
        })).collect::<Vec<_>>(),
    })
}

/// A service `verify` could not probe: where it looked, and why it failed.
pub fn down(target: &str, error: &str) -> Value {
    let mut v = verified(target, "down", vec![]);
    v["error"] = json!(error);
    v
}

/// `verify --format json`.
pub fn verify(profile: &str, services: Vec<Value>, problems: usize) -> Value {
    envelope(
        "verify",
        object(json!({
            "profile": profile,
            "services": services,
            "problems": problems,
        })),
    )
}
