//! Nothing of the configuration is executed by the checkers (issue 10):
//! Apache's `envvars` is read as data, and the host's `apache2 -t` runs
//! with it; code in it is reported, never run.

mod common;
use common::*;

#[test]
fn validating_an_image_runs_none_of_its_envvars() {
    if !have("apache2") {
        eprintln!("SKIPPED: apache2 is not installed");
        return;
    }
    let (t, root) = demo_copy();
    let marks: Vec<_> = (1..=3).map(|i| t.path().join(format!("ran-{i}"))).collect();
    let envvars = root.join("etc/apache2/envvars");
    let mut script = std::fs::read_to_string(&envvars).unwrap();
    script.push_str(&format!(
        "touch {}\nexport EVIL=$(touch {})\nOTHER=`touch {}`\n",
        marks[0].display(),
        marks[1].display(),
        marks[2].display()
    ));
    std::fs::write(&envvars, script).unwrap();
    let o = apply_yes(&root, t.path(), &["--server", "apache"]);
    let all = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert_eq!(code(&o), 0, "{all}");
    assert!(
        all.contains("checked with apache2 -t"),
        "validation still ran: {all}"
    );
    for m in &marks {
        assert!(
            !m.exists(),
            "{} was created: the image's envvars ran",
            m.display()
        );
    }
    assert!(all.contains("command substitution, not run"), "{all}");
    assert!(all.contains("not an assignment, not run: touch"), "{all}");
}
