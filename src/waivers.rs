//! Waivers: findings an operator has accepted, with a reason, in a TOML file
//! (`--waivers FILE`, or `/etc/tlsmend/waivers.toml` inside the root):
//!
//! ```toml
//! [[waiver]]
//! rule = "postfix.high-cipherlist"
//! path = "/etc/postfix/*.cf"      # optional glob on the machine path
//! line = 33                       # optional
//! reason = "legacy MX partner, ticket OPS-1234"
//! expires = 2027-06-30            # optional date (or "2027-06-30")
//! ```
//!
//! A waiver only changes how a finding is shown and whether it fails the
//! audit; it never hides it from JSON. A waiver past its date waives
//! nothing and is reported itself, so that forgotten exceptions surface.

use std::path::{Path, PathBuf};

#[derive(Clone, Debug, PartialEq)]
pub struct Waiver {
    pub rule: String,
    pub path: Option<glob::Pattern>,
    pub line: Option<usize>,
    pub reason: String,
    /// `YYYY-MM-DD`.
    pub expires: Option<String>,
    /// The line of its `[[waiver]]` header in the file.
    pub at: usize,
}

#[derive(Clone, Debug, Default)]
pub struct Waivers {
    /// Where they were read from (the host path), when from a file.
    pub file: Option<PathBuf>,
    pub list: Vec<Waiver>,
}

impl Waiver {
    /// Whether it covers a finding of `rule` at `machine`:`line`. Paths are
    /// matched as the machine names them (`/etc/...`).
    pub fn covers(&self, rule: &str, machine: &Path, line: usize) -> bool {
        self.rule == rule
            && self.path.as_ref().is_none_or(|p| p.matches_path(machine))
            && self.line.is_none_or(|l| l == line)
    }

    /// Expired when its date is before `today` (both `YYYY-MM-DD`).
    pub fn expired(&self, today: &str) -> bool {
        self.expires.as_deref().is_some_and(|d| d < today)
    }
}

impl Waivers {
    /// Parses a waiver file's text; errors name the file and the waiver.
    pub fn parse(file: &Path, text: &str) -> Result<Waivers, String> {
        let where_ = file.display();
        let table: toml::Table = text
            .parse()
            .map_err(|e| format!("{where_}: not valid TOML: {e}"))?;
        let headers: Vec<usize> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.trim_start().starts_with("[[waiver]]"))
            .map(|(i, _)| i + 1)
            .collect();
        let mut list = Vec::new();
        for key in table.keys() {
            if key != "waiver" {
                return Err(format!(
                    "{where_}: unknown key {key:?}: the file holds [[waiver]] tables only"
                ));
            }
        }
        let items = match table.get("waiver") {
            None => &Vec::new(),
            Some(toml::Value::Array(a)) => a,
            Some(_) => return Err(format!("{where_}: `waiver` must be [[waiver]] tables")),
        };
        for (n, item) in items.iter().enumerate() {
            let at = headers.get(n).copied().unwrap_or(0);
            let err = |what: &str| format!("{where_}:{at}: waiver {}: {what}", n + 1);
            let Some(t) = item.as_table() else {
                return Err(err("not a table"));
            };
            for k in t.keys() {
                if !["rule", "path", "line", "reason", "expires"].contains(&k.as_str()) {
                    return Err(err(&format!(
                        "unknown key {k:?} (rule, path, line, reason, expires)"
                    )));
                }
            }
            let rule = t
                .get("rule")
                .and_then(|v| v.as_str())
                .ok_or_else(|| err("needs rule = \"server.name\""))?;
            if crate::servers::lookup(rule).is_none() {
                return Err(err(&format!(
                    "no rule {rule:?}; `tlsmend rules` lists them"
                )));
            }
            let reason = t
                .get("reason")
                .and_then(|v| v.as_str())
                .filter(|r| !r.trim().is_empty())
                .ok_or_else(|| err("needs a reason = \"...\" (why this is accepted)"))?;
            let path = match t.get("path") {
                None => None,
                Some(v) => {
                    let s = v.as_str().ok_or_else(|| err("path must be a string"))?;
                    Some(
                        glob::Pattern::new(s)
                            .map_err(|e| err(&format!("path {s:?} is not a glob: {e}")))?,
                    )
                }
            };
            let line = match t.get("line") {
                None => None,
                Some(v) => Some(
                    v.as_integer()
                        .and_then(|i| usize::try_from(i).ok())
                        .ok_or_else(|| err("line must be a positive integer"))?,
                ),
            };
            let expires = match t.get("expires") {
                None => None,
                Some(toml::Value::Datetime(d)) if d.date.is_some() && d.time.is_none() => {
                    Some(d.to_string())
                }
                Some(toml::Value::String(s)) if is_date(s) => Some(s.clone()),
                Some(_) => return Err(err("expires must be a date, e.g. 2027-06-30")),
            };
            list.push(Waiver {
                rule: rule.to_string(),
                path,
                line,
                reason: reason.to_string(),
                expires,
                at,
            });
        }
        Ok(Waivers {
            file: Some(file.to_path_buf()),
            list,
        })
    }

    /// Reads `file`; `Ok(empty)` when `optional` and the file does not exist.
    pub fn load(file: &Path, optional: bool) -> Result<Waivers, String> {
        match std::fs::read_to_string(file) {
            Ok(t) => Waivers::parse(file, &t),
            Err(e) if optional && e.kind() == std::io::ErrorKind::NotFound => {
                Ok(Waivers::default())
            }
            Err(e) => Err(format!(
                "cannot read the waiver file {}: {e}",
                file.display()
            )),
        }
    }

    /// The first waiver in force that covers the finding.
    pub fn find(&self, rule: &str, machine: &Path, line: usize, today: &str) -> Option<&Waiver> {
        self.list
            .iter()
            .find(|w| !w.expired(today) && w.covers(rule, machine, line))
    }
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// Today's date in UTC, `YYYY-MM-DD`.
pub fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    crate::civil::date(secs / 86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(crate::civil::date(0), "1970-01-01");
        assert_eq!(crate::civil::date(20_454), "2026-01-01");
        assert_eq!(crate::civil::date(11_016), "2000-02-29");
    }

    #[test]
    fn parse_and_match() {
        let w = Waivers::parse(
            Path::new("w.toml"),
            "[[waiver]]\nrule = \"postfix.high-cipherlist\"\npath = \"/etc/postfix/*.cf\"\nreason = \"partner\"\nexpires = 2020-01-01\n\n[[waiver]]\nrule = \"apache.protocol\"\nline = 71\nreason = \"r\"\n",
        )
        .unwrap();
        assert_eq!(w.list.len(), 2);
        assert_eq!(w.list[0].at, 1);
        assert_eq!(w.list[1].at, 7);
        assert!(w.list[0].expired("2026-12-01"));
        assert!(w.list[0].covers(
            "postfix.high-cipherlist",
            Path::new("/etc/postfix/main.cf"),
            3
        ));
        assert!(!w.list[0].covers("postfix.high-cipherlist", Path::new("/etc/x/main.cf"), 3));
        assert!(
            w.find(
                "postfix.high-cipherlist",
                Path::new("/etc/postfix/main.cf"),
                3,
                "2026-12-01"
            )
            .is_none()
        );
        assert!(
            w.find("apache.protocol", Path::new("/a"), 71, "2026-12-01")
                .is_some()
        );
        assert!(
            w.find("apache.protocol", Path::new("/a"), 70, "2026-12-01")
                .is_none()
        );
    }

    #[test]
    fn errors_say_where() {
        let e = Waivers::parse(
            Path::new("w.toml"),
            "[[waiver]]\nrule = \"apache.protocol\"\n",
        )
        .unwrap_err();
        assert!(e.contains("w.toml:1: waiver 1: needs a reason"), "{e}");
        let e = Waivers::parse(
            Path::new("w.toml"),
            "[[waiver]]\nrule = \"nope\"\nreason = \"x\"\n",
        )
        .unwrap_err();
        assert!(e.contains("no rule"), "{e}");
        let e = Waivers::parse(
            Path::new("w.toml"),
            "[[waiver]]\nrule = \"apache.protocol\"\nreason = \"x\"\nexpires = \"soon\"\n",
        )
        .unwrap_err();
        assert!(e.contains("expires must be a date"), "{e}");
    }
}
