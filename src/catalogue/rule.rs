//! What a rule is, apart from its code: the metadata that `tlsmend rules`
//! lists and `tlsmend rules --explain RULE` prints, after the shape of
//! ruff's and clippy's lint documentation (what it does, why, references),
//! plus what tlsmend adds: when the rule refuses to write.
//!
//! Each server declares its rules next to their code (`servers/<server>/`);
//! this module only knows the shape, so it imports no server.

use std::fmt::Write as _;

/// The servers tlsmend knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Server {
    Apache,
    Courier,
    Postfix,
    Openldap,
}

impl Server {
    pub fn name(self) -> &'static str {
        match self {
            Server::Apache => "apache",
            Server::Courier => "courier",
            Server::Postfix => "postfix",
            Server::Openldap => "openldap",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    High,
    Medium,
    Low,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }
}

/// Whether a rule runs unless skipped, or only when asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// Part of every profile run; `--skip RULE` leaves it out.
    Default,
    /// Runs only with `--with RULE`; the interactive review offers its
    /// changes after the profile's, with the default answer no.
    OptIn,
}

/// One rule of the catalogue. Every text field is a full sentence or more:
/// `rules --explain` prints them as they are.
#[derive(Debug)]
pub struct Rule {
    /// `server.name`, as findings, `--only`, `--skip` and `--with` name it.
    pub id: &'static str,
    pub server: Server,
    /// The severity of its usual finding (a rule may report a graver case
    /// higher, as a weak key or a template it cannot judge).
    pub severity: Severity,
    pub activation: Activation,
    /// One line for `tlsmend rules`.
    pub summary: &'static str,
    /// What it checks, judged the way the daemon reads the value.
    pub checks: &'static str,
    /// What it writes, per profile, TLS library and version (or "nothing:
    /// audit only").
    pub writes: &'static str,
    /// When it reports but refuses to write, and why.
    pub refuses: &'static str,
    /// The daemon, library and version range it applies to.
    pub versions: &'static str,
    /// Primary sources first (the daemon's own documentation or source),
    /// then guidelines: `title <url>`.
    pub sources: &'static [&'static str],
}

impl Rule {
    pub fn is_opt_in(&self) -> bool {
        self.activation == Activation::OptIn
    }

    /// The text of `tlsmend rules --explain ID`.
    pub fn explain(&self) -> String {
        let mut s = String::new();
        let on = match self.activation {
            Activation::Default => "on by default (leave it out with --skip)".to_string(),
            Activation::OptIn => format!("opt-in: runs only with --with {}", self.id),
        };
        let _ = writeln!(s, "{} ({}, {})", self.id, self.server.name(), on);
        let _ = writeln!(s, "{}\n", self.summary);
        let _ = writeln!(s, "Severity: {}\n", self.severity.as_str());
        for (title, text) in [
            ("What it checks", self.checks),
            ("What it writes", self.writes),
            ("When it refuses to write", self.refuses),
            ("Versions", self.versions),
        ] {
            let _ = writeln!(s, "{title}:\n{}\n", indent(text));
        }
        let _ = writeln!(s, "Sources:");
        for src in self.sources {
            let _ = writeln!(s, "  - {src}");
        }
        s
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The primary sources a rule may rest on: each daemon's own documentation
/// and source, and the RFCs. A rule's first source must start with one of
/// these (tests check it), so that `--explain` never rests on a blog post.
pub const PRIMARY_SOURCES: &[&str] = &[
    "https://httpd.apache.org/",
    "https://www.postfix.org/",
    "https://github.com/svarshavchik/courier-libs",
    "https://www.courier-mta.org/",
    "https://www.openldap.org/",
    "https://www.rfc-editor.org/",
    "https://datatracker.ietf.org/",
    "https://www.gnutls.org/",
    "https://gnutls.org/",
    "https://docs.openssl.org/",
    "https://www.openssl.org/",
    "https://hstspreload.org/",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explain_names_every_part() {
        let r = Rule {
            id: "x.y",
            server: Server::Postfix,
            severity: Severity::Medium,
            activation: Activation::OptIn,
            summary: "sum",
            checks: "c",
            writes: "w",
            refuses: "r",
            versions: "v",
            sources: &["postconf(5) <https://www.postfix.org/postconf.5.html>"],
        };
        let e = r.explain();
        for part in [
            "x.y (postfix, opt-in: runs only with --with x.y)",
            "What it checks:\n  c",
            "What it writes:\n  w",
            "When it refuses to write:\n  r",
            "Versions:\n  v",
            "  - postconf(5)",
        ] {
            assert!(e.contains(part), "{part:?} missing from {e}");
        }
    }
}
