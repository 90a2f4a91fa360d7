//! Audit-only findings about the files themselves: lines Postfix refuses
//! (`postfix.syntax`) and definitions a later one overrides
//! (`postfix.shadowed`).

use crate::catalogue::rule::{Activation, Rule, Server};
use crate::plan::{Finding, Severity};

pub const SHADOWED: Rule = Rule {
    id: "postfix.shadowed",
    server: Server::Postfix,
    severity: Severity::Medium,
    activation: Activation::Default,
    summary: "an earlier definition of a parameter that a later one overrides (audit only)",
    checks: "Every main.cf parameter defined more than once: Postfix uses the last definition (postconf warns \"overriding earlier entry\"); tlsmend judges and edits that one.",
    writes: "Nothing: audit only.",
    refuses: "Always: which definition was meant is the administrator's call; the finding points at the earlier one.",
    versions: "Every Postfix version.",
    sources: &[
        "postconf(5), syntax: the last definition wins <https://www.postfix.org/postconf.5.html>",
    ],
};

pub const SYNTAX: Rule = Rule {
    id: "postfix.syntax",
    server: Server::Postfix,
    severity: Severity::Medium,
    activation: Activation::Default,
    summary: "a main.cf line without '=' or a master.cf service without 8 fields: Postfix refuses it (audit only)",
    checks: "main.cf logical lines without `=` (postconf: \"missing '=' after attribute name\", Postfix will not start) and active master.cf services without 8 fields (\"bad field count\").",
    writes: "Nothing: audit only.",
    refuses: "Always: tlsmend does not guess what a broken line meant; it still edits the rest of the file.",
    versions: "Every Postfix version.",
    sources: &[
        "postconf(5), main.cf syntax <https://www.postfix.org/postconf.5.html>",
        "master(5) <https://www.postfix.org/master.5.html>",
    ],
};

impl super::Ctx<'_> {
    pub(super) fn syntax(&mut self) {
        let b = self.main_bytes();
        for e in self.inst.main.1.entries.iter().filter(|e| e.eq.is_none()) {
            let mut f = Finding::new(
                "postfix.syntax",
                Severity::High,
                self.main_file,
                self.main_line(e.span.start()),
            );
            f.current = Some(
                String::from_utf8_lossy(e.lines[0].0.content.slice(b))
                    .into_owned()
                    .into(),
            );
            f.reason = "this logical line has no '=': postconf stops with \"missing '=' after attribute name\", so Postfix will not start".into();
            f.blocked = Some("fix this line by hand; tlsmend does not guess what was meant".into());
            self.push(f, None);
        }
        if let Some((mf, m)) = &self.inst.master {
            let file = self.report.file(mf);
            for s in m.services.iter().filter(|s| !s.commented() && !s.valid()) {
                let mut f = Finding::new(
                    "postfix.syntax",
                    Severity::High,
                    file,
                    mf.source.line_of(s.span.start()),
                );
                f.current = Some(
                    String::from_utf8_lossy(s.lines[0].0.content.slice(&mf.source.bytes))
                        .into_owned()
                        .into(),
                );
                f.reason =
                    "a master.cf service needs 8 fields: Postfix stops with \"bad field count\""
                        .into();
                f.blocked = Some("fix this line by hand".into());
                self.push(f, None);
            }
            let b = &mf.source.bytes;
            for (s, at) in m
                .services
                .iter()
                .filter(|s| !s.commented() && s.valid())
                .filter_map(|s| Some((s, s.bad_option(b)?)))
            {
                let mut f = Finding::new(
                    "postfix.syntax",
                    Severity::High,
                    file,
                    mf.source.line_of(at.start()),
                );
                f.current = Some(format!("{} ... -o", s.id(b)).into());
                f.reason = "a -o with no name=value after it: the daemon stops with a usage error, and an -o added after it would be taken as its value".into();
                f.blocked = Some(
                    "fix this line by hand; tlsmend edits no file it cannot fully read".into(),
                );
                self.push(f, None);
            }
        }
    }

    pub(super) fn shadowed(&mut self) {
        let b = self.main_bytes();
        let mut seen = std::collections::HashMap::new();
        for e in self.inst.main.1.entries.iter().filter(|e| e.eq.is_some()) {
            seen.insert(e.name.slice(b), e);
        }
        for e in self.inst.main.1.entries.iter().filter(|e| e.eq.is_some()) {
            let last = seen[e.name.slice(b)];
            if std::ptr::eq(last, e) {
                continue;
            }
            let name = e.name_str(b);
            let mut f = Finding::new(
                "postfix.shadowed",
                Severity::Info,
                self.main_file,
                self.main_line(e.name.start()),
            );
            f.current = Some(format!("{name} = {}", e.value(b)).into());
            f.reason = format!(
                "overridden by the definition on line {} (the last one wins); tlsmend edits that one",
                self.main_line(last.name.start())
            ).into();
            f.blocked = Some("audit only: remove the earlier definition to avoid confusion".into());
            self.push(f, None);
        }
    }
}
