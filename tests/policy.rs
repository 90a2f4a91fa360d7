//! Policy knobs of `audit` (issue 12): --only/--skip/--with, --fail-on, and
//! the waiver file.

mod common;
use common::schema::Schema;
use common::*;
use serde_json::Value;
use std::path::Path;

fn audit(root: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["audit", "--root", root.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = run(&args);
    (code(&o), text(&o.stdout), text(&o.stderr))
}

fn audit_json(root: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(extra);
    let (c, out, err) = audit(root, &args);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    let errors = Schema::load(&repo().join("docs/schema/tlsmend.schema.json")).errors(&v);
    assert!(errors.is_empty(), "{errors:#?}");
    (c, v)
}

fn rules_of(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn audit_takes_only_skip_and_with() {
    let (_t, root) = demo_copy();
    let (_, v) = audit_json(&root, &["--only", "apache.protocol"]);
    let r = rules_of(&v);
    assert_eq!(r.len(), 3);
    assert!(r.iter().all(|x| x == "apache.protocol"));
    let (_, all) = audit_json(&root, &[]);
    let (_, v) = audit_json(&root, &["--skip", "apache.protocol"]);
    assert_eq!(rules_of(&v).len(), rules_of(&all).len() - 3);
    assert!(!rules_of(&v).contains(&"apache.protocol".to_string()));
    let (c, _, err) = audit(&root, &["--only", "apache.nope"]);
    assert_eq!(c, 2);
    assert!(err.contains("--only apache.nope: no such rule"), "{err}");
    let (c, _, err) = audit(&root, &["--with", "apache.protocol"]);
    assert_eq!(c, 2, "--with names opt-in rules only: {err}");
}

#[test]
fn fail_on_sets_which_severities_fail() {
    let (_t, root) = demo_copy();
    // apache.compression is info, apache.stapling low in the demo.
    let info = ["--only", "apache.compression"];
    assert_eq!(audit(&root, &info).0, 0, "an info-only audit exits 0");
    assert_eq!(
        audit(&root, &[&info[..], &["--fail-on", "info"]].concat()).0,
        1
    );
    let low = ["--only", "apache.stapling"];
    assert_eq!(audit(&root, &low).0, 0);
    assert_eq!(
        audit(&root, &[&low[..], &["--fail-on", "low"]].concat()).0,
        1
    );
    let hsts = ["--only", "apache.hsts"];
    assert_eq!(audit(&root, &hsts).0, 1, "medium fails by default");
    assert_eq!(
        audit(&root, &[&hsts[..], &["--fail-on", "high"]].concat()).0,
        0
    );
    // The findings are still printed when they do not fail.
    let (_, out, _) = audit(&root, &info);
    assert!(out.contains("INFO   apache.compression"), "{out}");
}

const WAIVERS: &str = r#"# accepted risks
[[waiver]]
rule = "apache.protocol"
path = "/etc/apache2/sites-*/*.conf"
reason = "old kiosks until the migration, ticket OPS-1"
expires = 2999-01-01

[[waiver]]
rule = "apache.protocol"
path = "/etc/apache2/mods-*/ssl.conf"
line = 71
reason = "the module default, overridden by every site"
"#;

#[test]
fn waivers_are_shown_as_waived_and_do_not_fail() {
    let (_t, root) = demo_copy();
    std::fs::create_dir_all(root.join("etc/tlsmend")).unwrap();
    std::fs::write(root.join("etc/tlsmend/waivers.toml"), WAIVERS).unwrap();
    let only = ["--only", "apache.protocol"];
    let (c, v) = audit_json(&root, &only);
    assert_eq!(c, 0, "every finding is waived");
    let f = v["findings"].as_array().unwrap();
    assert_eq!(f.len(), 3, "waived findings stay in JSON");
    assert!(f.iter().all(|f| f["waived"]["reason"].is_string()), "{v}");
    assert_eq!(v["summary"]["waived"], 3);
    let (c, out, _) = audit(&root, &only);
    assert_eq!(c, 0);
    assert!(out.contains("WAIVED apache.protocol"), "{out}");
    assert!(
        out.contains("waived:  old kiosks until the migration, ticket OPS-1 (until 2999-01-01)"),
        "{out}"
    );
    assert!(out.contains("3 waived"), "{out}");
    // A waiver for another line does not cover line 71.
    let other = WAIVERS.replace("line = 71", "line = 70");
    let w = root.join("other.toml");
    std::fs::write(&w, other).unwrap();
    let (c, v) = audit_json(
        &root,
        &[&only[..], &["--waivers", w.to_str().unwrap()]].concat(),
    );
    assert_eq!(c, 1);
    assert_eq!(v["summary"]["waived"], 2);
}

#[test]
fn an_expired_waiver_is_a_finding_and_waives_nothing() {
    let (_t, root) = demo_copy();
    let w = root.join("w.toml");
    std::fs::write(
        &w,
        "[[waiver]]\nrule = \"apache.hsts\"\nreason = \"until the CDN moves\"\nexpires = 2020-01-01\n",
    )
    .unwrap();
    let args = ["--only", "apache.hsts", "--waivers", w.to_str().unwrap()];
    let (c, v) = audit_json(&root, &args);
    assert_eq!(c, 1);
    let f = v["findings"].as_array().unwrap();
    assert!(f.iter().all(|f| f.get("waived").is_none()), "{v}");
    let expired = f
        .iter()
        .find(|f| f["current"] == "expires = 2020-01-01")
        .expect("the expired waiver is a finding");
    assert_eq!(expired["file"], "w.toml");
    assert_eq!(expired["line"], 1);
    assert!(
        expired["reason"]
            .as_str()
            .unwrap()
            .contains("expired on 2020-01-01")
    );
    let (_, out, _) = audit(&root, &args);
    assert!(out.contains("expired on 2020-01-01"), "{out}");
}

#[test]
fn a_bad_waiver_file_is_an_error_that_says_where() {
    let (_t, root) = demo_copy();
    let w = root.join("w.toml");
    std::fs::write(&w, "[[waiver]]\nrule = \"apache.hsts\"\n").unwrap();
    let (c, _, err) = audit(&root, &["--waivers", w.to_str().unwrap()]);
    assert_eq!(c, 2);
    assert!(err.contains("w.toml:1: waiver 1: needs a reason"), "{err}");
    let (c, _, err) = audit(&root, &["--waivers", "/nonexistent/w.toml"]);
    assert_eq!(c, 2);
    assert!(
        err.contains("cannot read the waiver file /nonexistent/w.toml"),
        "{err}"
    );
}
