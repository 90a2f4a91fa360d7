//! Machine output (issue 12): every `--format json` document validates
//! against `docs/schema/tlsmend.schema.json`, carries `schema_version`, and
//! says what the text output says; `audit --format sarif` is SARIF 2.1.0.

mod common;
use common::schema::Schema;
use common::*;
use serde_json::Value;
use std::path::Path;

fn schema() -> Schema {
    Schema::load(&repo().join("docs/schema/tlsmend.schema.json"))
}

/// Runs tlsmend, checks the exit code, parses stdout and validates it.
fn doc(args: &[&str], want_code: i32) -> Value {
    let o = run(args);
    assert_eq!(code(&o), want_code, "{args:?}\n{}", text(&o.stderr));
    let v: Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o.stdout)));
    let errors = schema().errors(&v);
    assert!(errors.is_empty(), "{args:?}: {errors:#?}");
    assert_eq!(v["schema_version"], 1);
    v
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn the_validator_rejects_what_the_schema_forbids() {
    let (_t, root) = demo_copy();
    let good = doc(&["audit", "--root", s(&root), "--format", "json"], 1);
    // Each part of the found summary is checked, one breakage at a time.
    type Break = fn(&mut Value);
    let breaks: [(&str, Break); 4] = [
        ("a server no one knows", |v| {
            v["found"][0]["server"] = "nginx".into()
        }),
        ("a missing place searched", |v| {
            v["not_found"][0]
                .as_object_mut()
                .unwrap()
                .remove("looked_for");
        }),
        ("an error without its text", |v| {
            v["errors"] = serde_json::json!([{ "server": "apache" }])
        }),
        ("no found summary", |v| {
            v.as_object_mut().unwrap().remove("found");
        }),
    ];
    for (what, f) in breaks {
        let mut v = good.clone();
        f(&mut v);
        assert!(!schema().errors(&v).is_empty(), "{what} passed");
    }
    let mut v = good;
    v["findings"][0]["severity"] = "grave".into();
    v["findings"][1].as_object_mut().unwrap().remove("rule");
    v["findings"][2]["colour"] = "red".into();
    v["schema_version"] = 2.into();
    let e = schema().errors(&v);
    assert!(!e.is_empty(), "a broken document passed");
    let e = schema().errors(&v["findings"]);
    assert!(!e.is_empty(), "a bare array passed as a document");
}

#[test]
fn audit_json_has_structured_places() {
    let (_t, root) = demo_copy();
    let v = doc(&["audit", "--root", s(&root), "--format", "json"], 1);
    assert_eq!(v["command"], "audit");
    let f = v["findings"].as_array().unwrap();
    assert!(!f.is_empty());
    let p = f
        .iter()
        .find(|f| {
            f["rule"] == "apache.protocol" && f["file"] == "etc/apache2/mods-available/ssl.conf"
        })
        .expect("the demo's SSLProtocol finding");
    assert_eq!(p["server"], "apache");
    assert_eq!(p["current"], "all -SSLv3", "a value, not a sentence");
    assert_eq!(p["wanted"], "-all +TLSv1.2 +TLSv1.3");
    let path = p["path"].as_str().unwrap();
    assert!(Path::new(path).is_absolute(), "{path}");
    assert_eq!(
        Path::new(path),
        root.canonicalize()
            .unwrap()
            .join("etc/apache2/mods-available/ssl.conf")
    );
    assert_eq!(v["summary"]["findings"].as_u64().unwrap() as usize, f.len());
}

#[test]
fn dry_run_json_lists_changes_with_the_dry_run_diffs() {
    let (_t, root) = demo_copy();
    let v = doc(
        &["apply", "--root", s(&root), "--dry-run", "--format", "json"],
        1,
    );
    assert_eq!(v["command"], "plan");
    let changes = v["changes"].as_array().unwrap();
    assert!(!changes.is_empty());
    let text_diff = text(&run(&["apply", "--root", s(&root), "--dry-run"]).stdout);
    for c in changes {
        let files = c["files"].as_array().unwrap();
        assert!(!files.is_empty() || !c["ldap"].is_null(), "{c}");
        for f in files {
            let d = f["diff"].as_str().unwrap();
            assert!(
                d.starts_with(&format!("--- {}\n", f["file"].as_str().unwrap())),
                "{d}"
            );
            // Every changed line of the change's own diff is in the whole diff.
            for l in d
                .lines()
                .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
            {
                assert!(text_diff.contains(l), "{l}");
            }
        }
        assert!(!c["findings"].as_array().unwrap().is_empty(), "{c}");
    }
    // Nothing was written by the dry run.
    assert!(!root.join("var/backups/tlsmend").exists());
}

#[test]
fn apply_yes_json_then_rollback_list_json() {
    let (t, root) = demo_copy();
    let b = t.path().join("b");
    let v = doc(
        &[
            "apply",
            "--root",
            s(&root),
            "--yes",
            "--backup-dir",
            s(&b),
            "--format",
            "json",
        ],
        0,
    );
    assert_eq!(v["command"], "apply");
    let id = v["run"]["id"].as_str().unwrap().to_string();
    assert!(v["changes_applied"].as_u64().unwrap() > 0);
    assert!(!v["run"]["files"].as_array().unwrap().is_empty());
    assert_eq!(
        Path::new(v["backup_dir"].as_str().unwrap()),
        std::path::absolute(&b).unwrap()
    );
    assert!(v["rollback"].as_str().unwrap().contains(&id));
    let l = doc(
        &[
            "rollback",
            "--list",
            "--backup-dir",
            s(&b),
            "--format",
            "json",
        ],
        0,
    );
    assert_eq!(l["command"], "runs");
    assert_eq!(l["runs"][0]["id"], id.as_str());
    assert_eq!(l["runs"][0]["state"], "applied");
    // Applied again: nothing to change, no run.
    let again = doc(
        &[
            "apply",
            "--root",
            s(&root),
            "--yes",
            "--backup-dir",
            s(&b),
            "--format",
            "json",
        ],
        0,
    );
    assert!(again["run"].is_null(), "{again}");
}

#[test]
fn rules_json_is_the_catalogue() {
    let v = doc(&["rules", "--format", "json"], 0);
    let rules = v["rules"].as_array().unwrap();
    let text_rules = text(&run(&["rules"]).stdout).lines().count();
    assert_eq!(rules.len(), text_rules);
    let one = doc(
        &[
            "rules",
            "--format",
            "json",
            "--explain",
            "postfix.mandatory-protocols",
        ],
        0,
    );
    assert_eq!(one["rules"].as_array().unwrap().len(), 1);
}

#[test]
fn verify_json_reports_a_service_that_is_down() {
    // Port 1 on loopback: nothing listens there.
    let v = doc(
        &[
            "verify",
            "--format",
            "json",
            "--root",
            s(&repo().join("demo")),
            "127.0.0.1:1",
        ],
        1,
    );
    assert_eq!(v["command"], "verify");
    assert_eq!(v["services"][0]["status"], "down");
    assert_eq!(
        v["services"][0]["target"], "127.0.0.1:1 (TLS)",
        "the check, not the error"
    );
    assert!(
        !v["services"][0]["error"].as_str().unwrap().is_empty(),
        "{v}"
    );
    assert_eq!(v["problems"], 1);
}

#[test]
fn json_is_refused_for_the_interactive_review_and_sarif_outside_audit() {
    let (_t, root) = demo_copy();
    let o = run(&["apply", "--root", s(&root), "--format", "json"]);
    assert_eq!(code(&o), 2);
    assert!(text(&o.stderr).contains("--format json is for --dry-run and --yes"));
    let o = run(&["rules", "--format", "sarif"]);
    assert_eq!(code(&o), 2);
    assert!(text(&o.stderr).contains("sarif is for audit only"));
}

#[test]
fn audit_sarif_is_sarif_2_1_0() {
    let (_t, root) = demo_copy();
    let o = run(&["audit", "--root", s(&root), "--format", "sarif"]);
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run0 = &v["runs"][0];
    assert_eq!(run0["tool"]["driver"]["name"], "tlsmend");
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run0["results"].as_array().unwrap();
    let audit = doc(&["audit", "--root", s(&root), "--format", "json"], 1);
    assert_eq!(results.len(), audit["findings"].as_array().unwrap().len());
    for r in results {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], r["ruleId"]);
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
        let loc = &r["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        assert!(uri.starts_with("etc/"), "{uri}");
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(!r["message"]["text"].as_str().unwrap().is_empty());
    }
}

/// A root whose Apache cannot be parsed (an unclosed <VirtualHost>) next to
/// a Postfix that can.
fn broken_apache_root() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    for (p, body) in [
        (
            "etc/apache2/apache2.conf",
            "<VirtualHost *:443>\nSSLEngine on\n",
        ),
        (
            "etc/postfix/main.cf",
            "smtpd_tls_cert_file = /etc/ssl/x.pem\nsmtpd_tls_protocols = !SSLv2\n",
        ),
    ] {
        let host = t.path().join(p);
        std::fs::create_dir_all(host.parent().unwrap()).unwrap();
        std::fs::write(host, body).unwrap();
    }
    t
}

#[test]
fn json_says_what_was_found_not_found_and_unreadable() {
    let t = broken_apache_root();
    let r = s(t.path());
    // A broken server is exit 2 whatever the findings and --fail-on.
    for fail_on in ["high", "info"] {
        let v = doc(
            &[
                "audit",
                "--root",
                r,
                "--postfix-version",
                "3.7",
                "--format",
                "json",
                "--fail-on",
                fail_on,
            ],
            2,
        );
        assert_eq!(v["errors"][0]["server"], "apache", "{v}");
        assert!(
            v["errors"][0]["error"]
                .as_str()
                .unwrap()
                .contains("apache2.conf")
        );
        assert_eq!(v["found"][0]["server"], "postfix", "{v}");
        assert_eq!(v["found"][0]["files"][0], "/etc/postfix/main.cf", "{v}");
        let missing: Vec<_> = v["not_found"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["server"].clone())
            .collect();
        assert!(missing.contains(&"courier".into()), "{v}");
        assert!(
            v["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["server"] == "postfix")
        );
    }
    let v = doc(
        &[
            "apply",
            "--root",
            r,
            "--postfix-version",
            "3.7",
            "--dry-run",
            "--format",
            "json",
        ],
        2,
    );
    assert_eq!(v["command"], "plan");
    assert_eq!(v["errors"][0]["server"], "apache", "{v}");
    assert_eq!(v["found"][0]["server"], "postfix", "{v}");
    assert!(
        !v["changes"].as_array().unwrap().is_empty(),
        "the servers read are planned"
    );
}

#[test]
fn apply_json_writes_nothing_while_a_server_is_unreadable() {
    let t = broken_apache_root();
    let before = snapshot(t.path());
    let o = apply_yes(
        t.path(),
        t.path(),
        &["--postfix-version", "3.7", "--format", "json"],
    );
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
    assert!(o.stdout.is_empty(), "{}", text(&o.stdout));
    assert!(
        text(&o.stderr).contains("nothing written"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(snapshot(t.path()), before, "a file was written");
}
