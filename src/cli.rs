//! Command-line definitions (clap). Names are fixed: scripts call them.

use crate::catalogue::profile::Profile;
use crate::servers::Server;
use crate::syntax::Syntax;
use crate::target::tlslib::TlsLibrary;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "tlsmend",
    version,
    about = "Audit and harden the TLS settings of Apache httpd, Postfix, Courier IMAP and OpenLDAP configuration files, in place",
    long_about = "Audit and harden the TLS settings of Apache httpd 2.4, Postfix (main.cf, master.cf), Courier IMAP and OpenLDAP (cn=config, slapd.conf, ldap.conf) configuration files, in place: every change is shown as a diff, approved, checked with the daemon's own checker, written atomically with a backup, and can be rolled back.\n\nProfiles follow Mozilla's server-side TLS guidelines (intermediate by default). The 2017 article tlsmend started from allowed TLS 1.0 and 1.1; RFC 8996 deprecated both, and tlsmend does not write them unless --profile old is asked for.\n\nExit codes:\n  audit            0 nothing at or above --fail-on (default medium) that is not waived, 1 such findings, 2 error\n  apply --dry-run  0 nothing to change, 1 changes pending, 2 error\n  apply --yes      0 success (or nothing to change), 2 error (a failed reload is rolled back first)\n  apply (review)   0 written, declined or quit, 2 error\n  rollback         0 restored (or listed), 2 error\n  verify           0 every service serves what the profile allows, 1 problems or a service down, 2 error\n  rules            0, 2 for an unknown rule\n  roundtrip        0 all files round-trip, 1 some do not, 2 error\n  man              0\n  completions      0\n\nJSON output: docs/json.md. Waivers: docs/waivers.md.",
    after_help = "Example: tlsmend audit; tlsmend apply --dry-run; tlsmend apply; tlsmend verify; tlsmend rollback"
)]
pub struct Cli {
    /// Treat DIR as / : discovery, Include resolution and shown paths are inside it.
    #[arg(long, global = true, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Colour: auto (a terminal with TERM set and not dumb, unless NO_COLOR or CLICOLOR=0; CLICOLOR_FORCE forces it), always or never.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "auto",
        value_name = "WHEN"
    )]
    pub color: ColorWhen,
    /// Print less: no notes, no progress, no "not planned" lines; audit prints its summary line only.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more: every place of a grouped finding, every "not planned" place.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct Target {
    /// Only these servers (repeatable); default: every server found.
    #[arg(long = "server", value_enum)]
    pub servers: Vec<Server>,
    /// Hardening profile (Mozilla guidelines).
    #[arg(long, value_enum, default_value = "intermediate")]
    pub profile: Profile,
    /// The TLS library Courier and OpenLDAP are built with (gnutls or openssl), when it cannot be
    /// read from couriertls or the libraries slapd links.
    #[arg(long, value_enum)]
    pub tls_library: Option<TlsLibrary>,
    /// The Postfix version to write for (e.g. 3.7), when it cannot be read from postconf or dpkg.
    #[arg(long, value_name = "X.Y")]
    pub postfix_version: Option<crate::servers::postfix::model::PostfixVersion>,
    /// The httpd version to write for (e.g. 2.4.57), when it cannot be read from the dpkg
    /// database or the httpd binary under the root. TLSv1.3 is written for 2.4.36+ only.
    #[arg(long, value_name = "X.Y.Z")]
    pub apache_version: Option<crate::target::versions::Release>,
    /// The OpenSSL version httpd is linked with (e.g. 3.0.13), when it cannot be read from
    /// the dpkg database or libcrypto under the root. TLS 1.3 needs 1.1.1+; on 3.0+ the old
    /// profile's cipher list gets @SECLEVEL=0.
    #[arg(long, value_name = "X.Y.Z")]
    pub openssl_version: Option<crate::target::versions::Release>,
    /// The GnuTLS version Courier and OpenLDAP are linked with (e.g. 3.7.9), when it cannot be
    /// read from the dpkg database or libgnutls under the root. VERS-TLS1.3 is written for 3.6+ only.
    #[arg(long, value_name = "X.Y.Z")]
    pub gnutls_version: Option<crate::target::versions::Release>,
    /// Also run this opt-in rule (repeatable), e.g. --with postfix.opportunistic-protocols.
    /// The interactive review offers opt-in rules' changes anyway, after the profile's, default no.
    #[arg(long = "with", value_name = "RULE")]
    pub with: Vec<String>,
    /// OpenLDAP: edit the slapd.d files (slapd stopped) instead of running ldapmodify on the live server.
    #[arg(long)]
    pub offline: bool,
    /// OpenLDAP: the running server for ldapmodify -Y EXTERNAL (default ldapi:///).
    #[arg(long, value_name = "URI")]
    pub ldap_uri: Option<String>,
}

/// The man page of the whole command line, as roff: clap_mangen's page of
/// the top level, then one section per command with its options, so that
/// `man tlsmend` is the whole reference.
pub fn man_page() -> std::io::Result<Vec<u8>> {
    use clap::CommandFactory;
    let cli = Cli::command();
    let mut out = Vec::new();
    clap_mangen::Man::new(cli.clone()).render(&mut out)?;
    let esc = |t: &str| {
        t.replace('\\', "\\e")
            .lines()
            .map(|l| match l.chars().next() {
                Some('.') | Some('\'') => format!("\\&{l}"),
                _ => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    for sub in cli.get_subcommands() {
        let name = sub.get_name();
        let about = sub
            .get_long_about()
            .or(sub.get_about())
            .map(|a| a.to_string())
            .unwrap_or_default();
        out.extend(format!(".SH \"TLSMEND {}\"\n{}\n", name.to_uppercase(), esc(&about)).bytes());
        for a in sub.get_arguments().filter(|a| a.get_id() != "help") {
            let flag = match (a.get_short(), a.get_long()) {
                (_, Some(l)) => format!("\\fB\\-\\-{l}\\fR"),
                (Some(c), None) => format!("\\fB\\-{c}\\fR"),
                (None, None) => format!("\\fI{}\\fR", a.get_id().as_str().to_uppercase()),
            };
            let value = a
                .get_value_names()
                .filter(|_| a.get_long().is_some() && a.get_action().takes_values())
                .map(|v| format!(" \\fI{}\\fR", v.join(" ")))
                .unwrap_or_default();
            let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
            out.extend(format!(".TP\n{flag}{value}\n{}\n", esc(&help)).bytes());
        }
    }
    Ok(out)
}

/// The completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    use clap::CommandFactory;
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "tlsmend", &mut out);
    out
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

/// The least severity that makes `audit` exit 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    High,
    Medium,
    Low,
    Info,
}

impl FailOn {
    pub fn severity(self) -> crate::plan::Severity {
        use crate::plan::Severity;
        match self {
            FailOn::High => Severity::High,
            FailOn::Medium => Severity::Medium,
            FailOn::Low => Severity::Low,
            FailOn::Info => Severity::Info,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    /// For people: grouped, coloured on a terminal.
    Text,
    /// One JSON document, schema in docs/schema/tlsmend.schema.json (see docs/json.md).
    Json,
    /// SARIF 2.1.0 (audit only), for code-scanning dashboards.
    Sarif,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Report findings: rule, severity, file:line, current and wanted value, reason.
    ///
    /// Example: tlsmend audit --root ./demo --server apache --format json
    #[command(after_help = crate::servers::rules_help())]
    Audit {
        #[command(flatten)]
        target: Target,
        /// Output format: text, json (docs/json.md) or sarif.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Only this rule (repeatable).
        #[arg(long = "only", value_name = "RULE")]
        only: Vec<String>,
        /// Not this rule (repeatable), e.g. --skip postfix.high-cipherlist
        #[arg(long = "skip", value_name = "RULE")]
        skip: Vec<String>,
        /// The least severity that makes the exit status 1 (default medium: low and info findings exit 0).
        #[arg(long, value_enum, default_value = "medium", value_name = "SEVERITY")]
        fail_on: FailOn,
        /// Waiver file (TOML, [[waiver]] tables; see docs/waivers.md). Default:
        /// /etc/tlsmend/waivers.toml (inside --root) when it exists.
        #[arg(long, value_name = "FILE")]
        waivers: Option<PathBuf>,
    },
    /// Plan the changes, review them one by one (or --yes / --dry-run), write them with a backup.
    ///
    /// Example: tlsmend apply --root ./demo --dry-run
    Apply {
        #[command(flatten)]
        target: Target,
        /// Print a unified diff of every change and write nothing (patch -p0 applies it from the root).
        #[arg(long, conflicts_with = "yes")]
        dry_run: bool,
        /// Apply every planned change without asking.
        #[arg(long)]
        yes: bool,
        /// Where run folders go (default: /var/backups/tlsmend, inside --root when given).
        #[arg(long, value_name = "DIR")]
        backup_dir: Option<PathBuf>,
        /// Only this rule (repeatable), e.g. --only apache.protocol
        #[arg(long = "only", value_name = "RULE")]
        only: Vec<String>,
        /// Not this rule (repeatable), e.g. --skip courier.tls-required
        #[arg(long = "skip", value_name = "RULE")]
        skip: Vec<String>,
        /// Do not run the daemons' own checkers on a staging copy before writing (not recommended).
        #[arg(long)]
        no_validate: bool,
        /// After writing, reload the daemons and probe them; if one does not come back serving
        /// what the profile allows, roll the run back, reload again and exit 2.
        #[arg(long)]
        reload: bool,
        /// Output format: text or json (docs/json.md).
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Restore the files of a run (the last one by default).
    ///
    /// Example: tlsmend rollback --list; tlsmend rollback 2026-11-29T21-30-05Z-4242
    Rollback {
        /// The run id (see --list).
        run: Option<String>,
        /// Where run folders are (default: /var/backups/tlsmend, inside --root when given).
        #[arg(long, value_name = "DIR")]
        backup_dir: Option<PathBuf>,
        /// Overwrite files that changed after the run.
        #[arg(long)]
        force: bool,
        /// List the runs.
        #[arg(long)]
        list: bool,
        /// Output format: text or json (docs/json.md).
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Check that files parse and print back byte-for-byte.
    ///
    /// Example: tlsmend roundtrip /etc/apache2/sites-available/*.conf
    Roundtrip {
        /// Syntax of every file; guessed from each path when not given.
        #[arg(long, value_enum)]
        syntax: Option<Syntax>,
        /// The files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Probe the running daemons: TLS versions accepted, key size, HSTS, the port-80
    /// redirect, IMAP LOGIN and submission AUTH before STARTTLS; each problem is mapped
    /// to the configuration line that governs it.
    ///
    /// Example: tlsmend verify; tlsmend verify 127.0.0.1:443 127.0.0.1:587
    Verify {
        #[command(flatten)]
        target: Target,
        /// Where the declared services are probed.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// Probe these instead of the declared services (the port says how: 25/587 SMTP, 143 IMAP, 389 LDAP, 80 HTTP, others TLS).
        addresses: Vec<String>,
        /// Output format: text or json (docs/json.md).
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// List every rule id with what it checks; --explain RULE tells what it checks, what it
    /// writes per profile, library and version, when it refuses to write, and its sources.
    ///
    /// Example: tlsmend rules --explain postfix.mandatory-protocols
    Rules {
        /// Tell everything about one rule.
        #[arg(long, value_name = "RULE")]
        explain: Option<String>,
        /// Output format: text or json (docs/json.md).
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Print the manual page (roff), e.g. tlsmend man | man -l -
    Man,
    /// Print a shell completion script.
    ///
    /// Example: tlsmend completions bash > /etc/bash_completion.d/tlsmend
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Issue 12: every option and argument of every command says what it is.
    #[test]
    fn every_option_has_help() {
        fn walk(c: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for a in c.get_arguments() {
                if a.get_id() == "help" || a.get_id() == "version" {
                    continue;
                }
                if a.get_help().is_none_or(|h| h.to_string().trim().is_empty()) {
                    missing.push(format!("{path} {}", a.get_id()));
                }
            }
            for s in c.get_subcommands() {
                if s.get_about().is_none() {
                    missing.push(format!("{path} {} (about)", s.get_name()));
                }
                walk(s, &format!("{path} {}", s.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "tlsmend", &mut missing);
        assert!(missing.is_empty(), "without help: {missing:?}");
    }

    #[test]
    fn top_level_help_names_the_four_servers_and_every_exit_code() {
        let help = Cli::command().render_long_help().to_string();
        for server in ["Apache httpd", "Postfix", "Courier IMAP", "OpenLDAP"] {
            assert!(help.contains(server), "{server}");
        }
        for cmd in Cli::command().get_subcommands() {
            let name = cmd.get_name();
            if name == "help" {
                continue;
            }
            assert!(
                help.lines()
                    .any(|l| l.trim_start().starts_with(name) && l.contains(" 0")),
                "exit codes of {name}: {help}"
            );
        }
        let apply = Cli::command()
            .find_subcommand_mut("audit")
            .unwrap()
            .render_long_help()
            .to_string();
        assert!(apply.contains("Courier and OpenLDAP"), "{apply}");
    }
}
