//! Legacy `slapd.conf`: the server rules' changes, written into its global
//! part (never into a `database` section).

use super::{Setting, Surface, conf_get, conf_patch};
use crate::catalogue::profile::Profile;
use crate::discover::{ConfigFile, Root};
use crate::plan::{Change, Report};
use crate::servers::Options;
use crate::syntax::openldap_conf::Conf;
use crate::target::tlslib::TlsLibrary;

pub(super) fn slapd_conf(
    f: &ConfigFile,
    c: &Conf,
    root: &Root,
    lib: TlsLibrary,
    profile: Profile,
    opts: &Options,
    report: &mut Report,
) {
    let b = &f.source.bytes;
    let file = report.file(f);
    let global = c.global_end(b);
    let get3 = conf_get(f, c, global);
    let get = |s: Setting| get3(s.conf).map(|(v, l, _)| (v, l));
    let planned = super::server_rules(
        &Surface {
            get: &get,
            name: |s| s.conf,
            file,
        },
        root,
        lib,
        profile,
        &opts.versions,
        report,
    );
    // New directives go after the last TLS directive of the global part,
    // else after its last directive: never into a database section.
    let last_tls = (0..global).rev().find(|&i| {
        c.stmts[i]
            .keyword(b)
            .is_some_and(|k| k.to_ascii_uppercase().starts_with(b"TLS"))
    });
    let last_any = (0..global).rev().find(|&i| c.stmts[i].keyword(b).is_some());
    for (mut fi, w) in planned {
        if !opts.wants(w.rule) {
            continue;
        }
        let existing = get3(w.setting.conf).map(|(_, _, i)| i);
        let patch = conf_patch(
            f,
            c,
            existing,
            w.setting.conf,
            &w.value,
            last_tls.or(last_any),
            0,
        );
        let change = Change {
            rule: w.rule,
            reason: format!(
                "{} {} in the global part of slapd.conf",
                w.setting.conf, w.value
            )
            .into(),
            edits: vec![(file, patch)],
            ldap: None,
        };
        fi.change = Some(report.add_change(change));
        report.add_finding(fi);
    }
}
