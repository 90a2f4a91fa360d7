//! Rules for Apache httpd 2.4 with mod_ssl (ids `apache.*`).
//!
//! Every directive that is weaker than the profile is fixed where it stands,
//! in the server config or in the virtual host that overrides it. A setting
//! that is missing everywhere is added once in the server config next to the
//! other SSL directives (uncommenting a `#Directive` there if one exists), or,
//! when the server config has no SSL directives, in each TLS virtual host.
//! A setting that already meets the profile is never touched.
//!
//! This module owns the audit entry, the rule context `Ctx` and the
//! editing helpers the rules share; each rule (or small family) lives in
//! its own file with its metadata next to its code.

mod certificates;
pub mod comments;
mod hsts;
pub mod layout;
pub mod model;
mod openssl_conf;
mod redirect;
mod settings;
mod shared;
mod stapling;

pub use redirect::redirect_refusal;

use crate::catalogue::profile::Profile;
use crate::catalogue::rule::Rule;
use crate::discover::Root;
use crate::edit::Patch;
use crate::plan::{Change, Finding, Report, Severity};
use crate::servers::apache::model::{ApacheTree, Item};
use crate::source::Span;
use crate::style;
use crate::target::versions::{Capability, TargetVersions};

pub const RULES: &[Rule] = &[
    settings::PROTOCOL,
    settings::CIPHERS,
    settings::HONOR_CIPHER_ORDER,
    settings::COMPRESSION,
    settings::SESSION_TICKETS,
    hsts::HSTS,
    redirect::REDIRECT,
    stapling::STAPLING,
    certificates::WEAK_KEY,
    certificates::CERTIFICATE,
    openssl_conf::OPENSSL_CONF_CMD,
    openssl_conf::DH_PARAMS,
];

/// What every rule works on: the effective configuration, the root it was
/// read from, and the report it adds findings and changes to.
struct Ctx<'a> {
    tree: &'a ApacheTree,
    root: &'a Root,
    profile: Profile,
    /// The versions of httpd and OpenSSL the target runs, as far as known.
    versions: &'a TargetVersions,
    report: &'a mut Report,
    /// Each tree file's index in `report`, once it has one (hashing its
    /// path once, not at every finding).
    file_ids: Vec<Option<usize>>,
}

/// Runs every Apache rule on `tree` into `report`, in two halves on two
/// cores, and `beside` (work that only reads, such as the found summary)
/// on the core of the lighter half; returns what `beside` returns.
pub fn audit<R: Send>(
    tree: &ApacheTree,
    root: &Root,
    profile: Profile,
    versions: &TargetVersions,
    report: &mut Report,
    beside: impl FnOnce() -> R + Send,
) -> R {
    report.notes.push(format!(
        "apache: {}, {}",
        TargetVersions::describe("httpd", versions.apache.as_ref()),
        TargetVersions::describe("OpenSSL", versions.openssl.as_ref())
    ));
    if let Capability::No(why) | Capability::Unknown(why) = versions.apache_tls13() {
        report
            .notes
            .push(format!("apache: no TLSv1.3 is written: {why}"));
    }
    let (first_finding, first_change) = (report.findings.len(), report.changes.len());
    // Two halves of the rules, on two cores, each into a report of its own,
    // then appended in this order: the same report as one after the other.
    let half = |rules: fn(&mut Ctx)| {
        let mut part = Report::default();
        rules(&mut Ctx {
            tree,
            root,
            profile,
            versions,
            report: &mut part,
            file_ids: vec![None; tree.files.len()],
        });
        part
    };
    let (first, second) = crate::parallel::join(
        || {
            half(|cx| {
                for s in settings::settings(cx.tree, cx.profile, cx.versions) {
                    cx.setting(&s);
                }
                cx.system_cipher_policy();
                cx.openssl_conf_cmds();
                cx.hsts();
            })
        },
        || {
            let second = half(|cx| {
                cx.redirect();
                cx.certificates();
                cx.stapling();
            });
            (second, beside())
        },
    );
    let (second, beside) = second;
    report.absorb(first);
    report.absorb(second);
    shared::merge(tree, report, first_finding, first_change);
    beside
}

fn eol_of(span_bytes: &[u8]) -> usize {
    if span_bytes.ends_with(b"\r\n") {
        2
    } else if span_bytes.ends_with(b"\n") {
        1
    } else {
        0
    }
}

impl<'a> Ctx<'a> {
    fn file_id(&mut self, tree_file: usize) -> usize {
        if let Some(id) = self.file_ids[tree_file] {
            return id;
        }
        let id = self.report.file(&self.tree.files[tree_file].0);
        self.file_ids[tree_file] = Some(id);
        id
    }

    fn bytes(&self, f: usize) -> &'a [u8] {
        self.tree.bytes(f)
    }

    fn eol(&self, f: usize) -> &'static [u8] {
        self.tree.files[f].0.source.line_ending()
    }

    fn finding(
        &mut self,
        rule: &'static str,
        severity: Severity,
        tree_file: usize,
        at: usize,
    ) -> Finding {
        let file = self.file_id(tree_file);
        let line = self.tree.files[tree_file].0.source.line_of(at);
        Finding::new(rule, severity, file, line)
    }

    fn push(&mut self, mut f: Finding, change: Option<Change>) {
        if let Some(c) = change {
            f.change = Some(self.report.add_change(c));
        }
        self.report.add_finding(f);
    }

    /// Replaces an item's arguments with `wanted`, keeping a lone argument's quotes.
    fn set_args(&self, item: &Item, wanted: &str) -> Patch {
        let d = &item.directive;
        let args = d.args(self.bytes(item.file()));
        match d.args_span(self.bytes(item.file())) {
            Some(span) => {
                let text = match (args.len(), args[0].quote) {
                    (1, Some(q)) => format!("{}{wanted}{}", q as char, q as char),
                    _ => wanted.to_string(),
                };
                Patch::replace(span, text)
            }
            None => Patch::insert(d.name.end(), format!(" {wanted}")),
        }
    }

    /// A patch that puts `text` on a new line right after `item`.
    fn insert_after(&self, item: &Item, indent: &[u8], text: &str) -> Patch {
        let f = item.file();
        let eol = self.eol(f);
        let d = &item.directive;
        if d.eol().is_empty() {
            let mut v = eol.to_vec();
            v.extend(style::line(indent, text, b""));
            Patch::insert(d.span.end(), v)
        } else {
            Patch::insert(d.span.end(), style::line(indent, text, eol))
        }
    }

    /// `canonical` in the name case of virtual host `v`'s first directive.
    fn vhost_case(&self, v: usize, canonical: &str) -> String {
        let sample = self
            .tree
            .vhost_items(v)
            .next()
            .map(|i| i.directive.name.slice(self.bytes(i.file())))
            .unwrap_or_default();
        style::name_case(canonical, sample)
    }

    /// A patch that adds `text` as the last line of virtual host `v`.
    fn insert_in_vhost(&self, v: usize, text: &str) -> Patch {
        let vh = &self.tree.vhosts[v];
        let b = self.bytes(vh.file);
        let indent = vh
            .child_indent
            .map(|s| s.slice(b).to_vec())
            .unwrap_or_else(|| style::deeper(vh.open.indent().slice(b)));
        Patch::insert(
            vh.close.start(),
            style::line(&indent, text, self.eol(vh.file)),
        )
    }

    /// A `#Name ...` comment line among the direct children of `parent`.
    fn commented(&self, file: usize, parent: Option<Span>, name: &str) -> Option<(Span, Span)> {
        let b = self.bytes(file);
        self.tree.files[file].1.under(parent).find_map(|line| {
            let c = line.comment;
            let text = c.slice(b);
            let rest = text.get(name.len()..)?;
            let matches = text[..name.len()].eq_ignore_ascii_case(name.as_bytes())
                && rest.first().is_some_and(|&x| x == b' ' || x == b'\t')
                && !text.contains(&b'\n')
                && rest
                    .split(|&x| x == b' ' || x == b'\t')
                    .filter(|w| !w.is_empty())
                    .count()
                    <= 4;
            let end = line.span.end() - eol_of(line.span.slice(b));
            matches.then(|| (Span::new(c.start() - 1, end), line.span))
        })
    }
}

/// Comments a directive out: a `#` before it, every original byte kept
/// behind it (continuation lines join the comment, as in httpd).
fn comment_out(item: &Item) -> Patch {
    Patch::insert(item.directive.indent().end(), "#")
}
