//! The audit report for people: findings grouped when they say the same
//! thing (same severity, rule, current and wanted value, reason and fix) at
//! several places, each group with its count and its first places;
//! `--verbose` lists every place. Everything taken from a file is escaped
//! (see [`super::escape`]).

use super::escape::visible;
use crate::plan::Severity;
use crate::review::Painter;
use std::fmt::Write;

/// How many places a group shows without `--verbose`.
pub const PLACES: usize = 3;

/// One finding as shown.
#[derive(Clone, Debug)]
pub struct Item {
    pub severity: Severity,
    pub rule: std::borrow::Cow<'static, str>,
    /// `file:line`.
    pub place: String,
    pub current: Option<crate::plan::Text>,
    pub wanted: Option<crate::plan::Text>,
    pub reason: crate::plan::Text,
    /// "planned (tlsmend apply)" or "not planned: why".
    pub fix: Option<std::borrow::Cow<'static, str>>,
    /// "reason (until DATE)" for a waived finding.
    pub waived: Option<String>,
}

impl Item {
    fn key(&self) -> impl Ord + '_ {
        (
            self.waived.is_some(),
            self.severity,
            &self.rule,
            self.current.as_ref().map(Shared),
            self.wanted.as_ref().map(Shared),
            Shared(&self.reason),
            &self.fix,
            &self.waived,
        )
    }
}

/// A finding's text compared as text, but equal at once when both are the
/// same allocation: a report shares each text among its findings
/// (`plan::Report`), so a group of 10,000 findings compares its long
/// cipher strings by address, not byte by byte.
struct Shared<'a>(&'a crate::plan::Text);

impl Ord for Shared<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        if std::sync::Arc::ptr_eq(self.0, other.0) {
            return std::cmp::Ordering::Equal;
        }
        self.0.cmp(other.0)
    }
}

impl PartialOrd for Shared<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Shared<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Shared<'_> {}

/// Items that say the same thing, in the order of their first place.
pub struct Group<'a> {
    pub first: &'a Item,
    pub places: Vec<&'a str>,
}

/// Groups identical findings: waived ones last, then by severity.
pub fn group(items: &[Item]) -> Vec<Group<'_>> {
    let mut sorted: Vec<&Item> = items.iter().collect();
    sorted.sort_by(|a, b| a.key().cmp(&b.key()).then_with(|| a.place.cmp(&b.place)));
    let mut groups: Vec<Group> = Vec::new();
    for it in sorted {
        match groups.last_mut() {
            Some(g) if g.first.key().cmp(&it.key()).is_eq() => g.places.push(&it.place),
            _ => groups.push(Group {
                first: it,
                places: vec![&it.place],
            }),
        }
    }
    groups
}

fn label(s: Severity, p: Painter) -> String {
    match s {
        Severity::High => p.paint("31;1", "HIGH  "),
        Severity::Medium => p.paint("33", "MEDIUM"),
        Severity::Low => "LOW   ".to_string(),
        Severity::Info => "INFO  ".to_string(),
    }
}

/// The report's body: one block per group.
pub fn render(items: &[Item], p: Painter, verbose: bool) -> String {
    let mut out = String::new();
    for g in group(items) {
        let f = g.first;
        let sev = if f.waived.is_some() {
            p.paint("2", "WAIVED")
        } else {
            label(f.severity, p)
        };
        if g.places.len() == 1 {
            let _ = writeln!(out, "{sev} {} {}", f.rule, visible(g.places[0]));
        } else {
            let _ = writeln!(out, "{sev} {} in {} places", f.rule, g.places.len());
        }
        if let Some(c) = &f.current {
            let _ = writeln!(out, "       current: {}", visible(c));
        }
        if let Some(w) = &f.wanted {
            let _ = writeln!(out, "       wanted:  {}", visible(w));
        }
        let _ = writeln!(out, "       why:     {}", visible(&f.reason));
        if let Some(fix) = &f.fix {
            let _ = writeln!(out, "       fix:     {}", visible(fix));
        }
        if let Some(w) = &f.waived {
            let _ = writeln!(out, "       waived:  {}", visible(w));
        }
        if g.places.len() > 1 {
            let shown = if verbose { g.places.len() } else { PLACES };
            for (i, place) in g.places.iter().take(shown).enumerate() {
                let head = if i == 0 { "at:     " } else { "        " };
                let _ = writeln!(out, "       {head} {}", visible(place));
            }
            if g.places.len() > shown {
                let _ = writeln!(
                    out,
                    "                ... and {} more (--verbose lists every place)",
                    g.places.len() - shown
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(place: &str, current: &str) -> Item {
        Item {
            severity: Severity::High,
            rule: "apache.protocol".into(),
            place: place.into(),
            current: Some(current.into()),
            wanted: Some("-all +TLSv1.2".into()),
            reason: "weak".into(),
            fix: Some("planned (tlsmend apply)".into()),
            waived: None,
        }
    }

    #[test]
    fn identical_findings_are_grouped_with_their_first_places() {
        let mut items: Vec<Item> = (1..=5)
            .map(|i| item(&format!("s{i}.conf:1"), "all"))
            .collect();
        items.push(item("other.conf:3", "all -SSLv3"));
        let p = Painter { enabled: false };
        let text = render(&items, p, false);
        assert!(
            text.contains("HIGH   apache.protocol in 5 places\n"),
            "{text}"
        );
        assert!(text.contains("       at:      s1.conf:1\n                s2.conf:1\n                s3.conf:1\n                ... and 2 more (--verbose lists every place)\n"), "{text}");
        assert!(
            text.contains("HIGH   apache.protocol other.conf:3\n"),
            "{text}"
        );
        let all = render(&items, p, true);
        assert!(all.contains("s5.conf:1") && !all.contains("more"), "{all}");
    }

    /// Texts group by what they say, whether or not they share one
    /// allocation: the address only short-cuts the comparison.
    #[test]
    fn texts_group_by_content_shared_or_not() {
        let shared: crate::plan::Text = "all".into();
        let mut items: Vec<Item> = (1..=3)
            .map(|i| Item {
                current: Some(shared.clone()),
                ..item(&format!("s{i}.conf:1"), "")
            })
            .collect();
        // The same text in allocations of their own, and a different one
        // that sorts before.
        items.push(item("own.conf:2", "all"));
        items.push(item("else.conf:9", "aaa"));
        let groups = group(&items);
        let places: Vec<Vec<&str>> = groups.iter().map(|g| g.places.clone()).collect();
        assert_eq!(
            places,
            [
                vec!["else.conf:9"],
                vec!["own.conf:2", "s1.conf:1", "s2.conf:1", "s3.conf:1"]
            ]
        );
        let (a, b) = (Shared(&shared), Shared(&items[3].current.clone().unwrap()));
        assert!(a == b && a.cmp(&Shared(&"b".into())).is_lt());
    }

    #[test]
    fn control_bytes_are_escaped() {
        let items = vec![item("a.conf:1", "all\x1b[2J")];
        let text = render(&items, Painter { enabled: false }, false);
        assert!(
            !text.contains('\x1b') && text.contains("all\\x1b[2J"),
            "{text}"
        );
    }
}
