//! cn=config (`slapd.d`): the server rules' changes, made on the running
//! server with one ldapmodify operation or offline in `cn=config.ldif` with
//! its CRC32 recomputed; and `openldap.crc`, a file already edited by hand.

use super::{Mode, Setting, Surface, Want};
use crate::catalogue::profile::Profile;
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::discover::{ConfigFile, Root};
use crate::edit::{Patch, apply_patches};
use crate::live::ldapmodify::{LdapChange, LdapMod};
use crate::plan::{Change, Finding, Report, Severity};
use crate::servers::Options;
use crate::source::Span;
use crate::syntax::ldif::{self, Ldif};
use crate::target::tlslib::TlsLibrary;

pub const CRC: Rule = Rule {
    id: "openldap.crc",
    server: Server::Openldap,
    severity: Severity::High,
    activation: Activation::Default,
    summary: "a slapd.d file whose CRC32 line is already wrong: edited by hand (audit only)",
    checks: "A slapd.d file's `# CRC32 xxxxxxxx` line against zlib's CRC-32 of every byte after that line; a mismatch means the file was edited by hand after slapd wrote it (slaptest warns \"checksum error\").",
    writes: "Nothing: audit only.",
    refuses: "Always; offline edits of that file are refused too, since tlsmend cannot tell whether the hand edit is what slapd runs. Check it with slaptest -F, or change the running server with ldapmodify.",
    versions: "OpenLDAP 2.4 to 2.6 with cn=config in slapd.d.",
    sources: &[
        "slapd-config(5) <https://www.openldap.org/software/man.cgi?query=slapd-config>",
        "OpenLDAP Administrator's Guide, Configuring slapd <https://www.openldap.org/doc/admin26/slapdconf2.html>",
    ],
};

#[allow(clippy::too_many_arguments)]
pub(super) fn cn_config(
    f: &ConfigFile,
    l: &Ldif,
    root: &Root,
    lib: TlsLibrary,
    profile: Profile,
    opts: &Options,
    mode: &Mode,
    report: &mut Report,
) {
    let b = &f.source.bytes;
    let file = report.file(f);
    let Some(rec) = l.record(b, "cn=config") else {
        return;
    };
    let lines: Vec<&ldif::Line> = l.record_lines(rec).collect();
    let get = |s: Setting| -> Option<(String, usize)> {
        lines.iter().find(|x| x.is(b, s.olc)).map(|x| {
            (
                x.value_str(b).unwrap_or_default(),
                f.source.line_of(x.span.start()),
            )
        })
    };
    // A CRC that is already wrong means someone edited the file by hand.
    let crc = ldif::crc_line(b);
    let crc_wrong = crc.as_ref().is_some_and(|c| c.stated != c.computed);
    if let Some(c) = crc.as_ref().filter(|_| crc_wrong) {
        let mut g = Finding::new("openldap.crc", Severity::High, file, 2);
        g.current = Some(
            format!(
                "# CRC32 {} (the content's CRC32 is {})",
                c.stated, c.computed
            )
            .into(),
        );
        g.reason = "this slapd.d file was edited by hand after slapd wrote it; slaptest warns \"checksum error\"".into();
        g.blocked = Some("audit only: tlsmend does not edit it offline; check it with slaptest -F, or change it with ldapmodify".into());
        report.add_finding(g);
    }
    let planned = super::server_rules(
        &Surface {
            get: &get,
            name: |s| s.olc,
            file,
        },
        root,
        lib,
        profile,
        &opts.versions,
        report,
    );
    let planned: Vec<(Finding, Want)> = planned
        .into_iter()
        .filter(|(_, w)| opts.wants(w.rule))
        .collect();
    if planned.is_empty() {
        return;
    }
    let rule = planned[0].1.rule;
    let reason = format!(
        "cn=config: {}",
        planned
            .iter()
            .map(|(_, w)| format!("{}: {}", w.setting.olc, w.value))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let change = match mode {
        Mode::Online { uri } => {
            let mods = planned
                .iter()
                .map(|(_, w)| LdapMod {
                    attr: w.setting.olc.into(),
                    old: lines
                        .iter()
                        .filter(|x| x.is(b, w.setting.olc))
                        .filter_map(|x| x.value_str(b))
                        .collect(),
                    new: w.value.clone(),
                })
                .collect();
            Change {
                rule,
                reason: format!("{reason} (ldapmodify on {uri})").into(),
                edits: Vec::new(),
                ldap: Some(Box::new(LdapChange {
                    uri: uri.clone(),
                    dn: "cn=config".into(),
                    mods,
                })),
            }
        }
        Mode::Offline => {
            if crc_wrong {
                for (mut fi, _) in planned {
                    fi.blocked =
                        Some("the file's CRC32 is already wrong (see openldap.crc)".into());
                    report.add_finding(fi);
                }
                return;
            }
            let eol = f.source.line_ending();
            let mut patches = Vec::new();
            // Where a line ending was already added before an insertion: a
            // file without a final newline gets one once, or the second
            // setting added at its end would follow a blank line, in a
            // record of its own (planned again at every run).
            let mut line_ended: Option<usize> = None;
            for (_, w) in &planned {
                let text = format!("{}: {}", w.setting.olc, w.value);
                match lines.iter().find(|x| x.is(b, w.setting.olc)) {
                    Some(x) => patches.push(Patch::replace(
                        Span::new(x.span.start(), x.text_end()),
                        text,
                    )),
                    None => {
                        let anchor = lines.iter().rev().find(|x| {
                            x.name(b)
                                .is_some_and(|n| n.to_ascii_lowercase().starts_with(b"olctls"))
                        });
                        let before = lines.iter().find(|x| x.is(b, "structuralObjectClass"));
                        let at = match (anchor, before) {
                            (Some(a), _) => a.span.end(),
                            (None, Some(s)) => s.span.start(),
                            (None, None) => lines.last().map_or(b.len(), |x| x.span.end()),
                        };
                        let mut bytes = Vec::new();
                        if at > 0 && !b[..at].ends_with(b"\n") && line_ended != Some(at) {
                            bytes.extend_from_slice(eol);
                            line_ended = Some(at);
                        }
                        bytes.extend_from_slice(text.as_bytes());
                        bytes.extend_from_slice(eol);
                        patches.push(Patch::insert(at, bytes));
                    }
                }
            }
            // The CRC covers the result: compute it from the patched bytes.
            if let Some(c) = crc {
                let patched = apply_patches(b, &patches).expect("distinct attribute lines");
                let new_crc = ldif::crc_line(&patched)
                    .map(|n| n.computed)
                    .unwrap_or_default();
                patches.push(Patch::replace(c.digits, new_crc));
            }
            Change {
                rule,
                reason: format!(
                    "{reason} (offline edit of {}, CRC32 recomputed)",
                    f.shown().display()
                )
                .into(),
                edits: patches.into_iter().map(|p| (file, p)).collect(),
                ldap: None,
            }
        }
    };
    let c = report.add_change(change);
    for (mut fi, _) in planned {
        fi.change = Some(c);
        report.add_finding(fi);
    }
}
