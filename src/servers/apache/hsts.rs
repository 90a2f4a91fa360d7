//! `apache.hsts`: every TLS virtual host sends one Strict-Transport-Security
//! header (mod_headers), long enough, never weakened.
//!
//! `Header` directives are read with mod_headers' full syntax (condition,
//! action, header, value, replacement, `early`/`env=`/`expr=`), and edited
//! argument by argument, so that everything the rule does not change (the
//! condition, includeSubDomains, preload, quoting) keeps its bytes.

use super::model::Item;
use super::{Ctx, comment_out};
use crate::catalogue::profile::HSTS_MAX_AGE;
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::edit::Patch;
use crate::plan::{Change, Severity};
use rustc_hash::FxHashMap;
use std::collections::HashSet;

pub const HSTS: Rule = Rule {
    id: "apache.hsts",
    server: Server::Apache,
    severity: Severity::Medium,
    activation: Activation::Default,
    summary: "Strict-Transport-Security sent once, with `always set`, on every TLS virtual host",
    checks: "Every mod_headers `Header` directive that names Strict-Transport-Security, read with mod_headers' full syntax: `Header [onsuccess|always] add|append|echo|edit|edit*|merge|set|setifempty|unset|note header [[expr=]value [replacement] [early|env=[!]var|expr=...]]`. Only the value-setting actions (set, add, append, merge, setifempty) are judged; the value's max-age must reach two years (63072000). A longer max-age, includeSubDomains and preload are never lowered or dropped, and an `env=`/`expr=` condition is kept. `add`, `append` and `merge` can send two headers (or one joined, invalid value) and become `set`. An `onsuccess` header (the default table) is kept: it is sent on every 2xx response, and `always` would add a second header next to a proxied backend's; it becomes `always` only in a virtual host that redirects every request (`Redirect /`), where no 2xx response is ever sent. Each TLS virtual host (HSTS in the server config or in its <Location>/<Directory> sections counts) must send the header once; a second unconditional value-setting header in the same virtual host is commented out, keeping the strongest.",
    writes: "A missing header: `Header always set Strict-Transport-Security \"max-age=63072000\"` at the end of the TLS virtual host. A short max-age without includeSubDomains: raised to 63072000, other directives kept. A short max-age with includeSubDomains is raised one step of hstspreload.org's deployment ladder (5 minutes, 1 week, 1 month, 2 years) to the next rung above it; a value already on a rung is reported with the next rung as wanted (the step is the administrator's, after checking every subdomain).",
    refuses: "max-age=0 (a deliberate withdrawal of HSTS), a value on a rung of the staged roll-out (tlsmend cannot know how long it has been in place), an `expr=` value it cannot read, and a virtual host whose last HSTS directive is `Header unset Strict-Transport-Security` (a deliberate removal): reported, not written. Without mod_headers the insertion is reported and not written.",
    versions: "Apache httpd 2.4 with mod_headers; `setifempty` and `note` need 2.4.7+, `expr=` values 2.4.10+ (httpd CHANGES).",
    sources: &[
        "mod_headers, Header <https://httpd.apache.org/docs/2.4/mod/mod_headers.html#header>",
        "RFC 6797, HTTP Strict Transport Security <https://www.rfc-editor.org/rfc/rfc6797>",
        "hstspreload.org, deployment recommendations <https://hstspreload.org/#deployment-recommendations>",
    ],
};

/// hstspreload.org's deployment advice for a policy with includeSubDomains:
/// 5 minutes, 1 week, 1 month, then two years, checking every subdomain at
/// each step.
const LADDER: [u64; 4] = [300, 604_800, 2_592_000, HSTS_MAX_AGE];

const STS: &str = "Strict-Transport-Security";

/// Actions that give the header a value.
const SETTERS: &[&str] = &["set", "setifempty", "add", "append", "merge"];

/// The table a `Header` directive works on: `onsuccess` (the default: 2xx
/// responses) or `always` (every response, redirects and errors included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Table {
    OnSuccess,
    Always,
}

/// `Header [condition] action header [[expr=]value [replacement]
/// [early|env=[!]varname|expr=expression]]`, argument indices kept for edits.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Header {
    table: Table,
    /// The index of a written `onsuccess`/`always`.
    table_arg: Option<usize>,
    /// Lowercased.
    action: String,
    action_arg: usize,
    name: String,
    value: Option<String>,
    value_arg: Option<usize>,
    /// `early`, `env=...` or `expr=...`.
    condition: Option<String>,
}

fn parse_header(args: &[String]) -> Option<Header> {
    let (table, table_arg) = match args.first()?.to_ascii_lowercase().as_str() {
        "onsuccess" => (Table::OnSuccess, Some(0)),
        "always" => (Table::Always, Some(0)),
        _ => (Table::OnSuccess, None),
    };
    let i = usize::from(table_arg.is_some());
    let action = args.get(i)?.to_ascii_lowercase();
    let name = args.get(i + 1)?.clone();
    let (value_arg, condition_arg) = match action.as_str() {
        "set" | "setifempty" | "add" | "append" | "merge" | "note" => (Some(i + 2), i + 3),
        "edit" | "edit*" => (Some(i + 2), i + 4),
        "unset" | "echo" => (None, i + 2),
        _ => return None,
    };
    let value = value_arg.and_then(|k| args.get(k).cloned());
    Some(Header {
        table,
        table_arg,
        action,
        action_arg: i,
        name,
        value_arg: value.as_ref().and(value_arg),
        value,
        condition: args.get(condition_arg).cloned(),
    })
}

/// The max-age of a Strict-Transport-Security value (`None`: none written,
/// which browsers ignore), and its includeSubDomains/preload directives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Policy {
    max_age: Option<u64>,
    include_subdomains: bool,
    preload: bool,
}

fn parse_policy(value: &str) -> Policy {
    let mut p = Policy {
        max_age: None,
        include_subdomains: false,
        preload: false,
    };
    for part in value.split(';').map(str::trim) {
        let lower = part.to_ascii_lowercase();
        if let Some(n) = lower.strip_prefix("max-age") {
            let n = n
                .trim_start()
                .trim_start_matches('=')
                .trim()
                .trim_matches('"');
            p.max_age = Some(n.parse().unwrap_or(0));
        } else if lower == "includesubdomains" {
            p.include_subdomains = true;
        } else if lower == "preload" {
            p.preload = true;
        }
    }
    p
}

/// `value` with its max-age set to `n` (added in front when missing); every
/// other byte kept.
fn with_max_age(value: &str, n: u64) -> String {
    let lower = value.to_ascii_lowercase();
    let Some(at) = lower.find("max-age") else {
        return if value.trim().is_empty() {
            format!("max-age={n}")
        } else {
            format!("max-age={n}; {}", value.trim_start())
        };
    };
    let end = value[at..].find(';').map_or(value.len(), |e| at + e);
    let end = at + value[at..end].trim_end().len();
    format!("{}max-age={n}{}", &value[..at], &value[end..])
}

/// What to do with a max-age.
#[derive(Debug, PartialEq, Eq)]
enum MaxAge {
    Keep,
    Raise(u64, String),
    Refuse(String),
}

fn judge_max_age(p: &Policy) -> MaxAge {
    let current = match p.max_age {
        Some(0) => {
            return MaxAge::Refuse(
                "max-age=0 tells browsers to forget the policy: a deliberate withdrawal of HSTS, which tlsmend does not override".into(),
            );
        }
        Some(n) if n >= HSTS_MAX_AGE => return MaxAge::Keep,
        Some(n) => n,
        None => 0,
    };
    let missing = if p.max_age.is_none() {
        "there is no max-age, so browsers ignore the header"
    } else {
        "the max-age is shorter than two years"
    };
    if !p.include_subdomains {
        return MaxAge::Raise(
            HSTS_MAX_AGE,
            format!("{missing}: raised to {HSTS_MAX_AGE} (two years)"),
        );
    }
    let next = LADDER
        .iter()
        .copied()
        .find(|&r| r > current)
        .unwrap_or(HSTS_MAX_AGE);
    let ladder = "hstspreload.org's deployment advice for includeSubDomains: 5 minutes, 1 week, 1 month, 2 years, checking that every subdomain serves HTTPS at each step";
    if LADDER.contains(&current) {
        return MaxAge::Refuse(format!(
            "max-age={current} with includeSubDomains is a step of a staged roll-out ({ladder}); raise it to {next} once every subdomain has worked over HTTPS for that long: tlsmend cannot know how long the step has been in place"
        ));
    }
    MaxAge::Raise(
        next,
        format!(
            "{missing} and covers every subdomain: raised one step, to {next}, not to two years at once ({ladder}); run tlsmend again after the next step"
        ),
    )
}

/// `RedirectMatch` patterns that match every path.
const EVERY_PATH: &[&str] = &[
    "^", "^/", ".*", "^.*", "^.*$", "(.*)", "^(.*)", "^(.*)$", "^/(.*)", "^/(.*)$", "^/.*", "/(.*)",
];

impl<'a> Ctx<'a> {
    /// The HSTS header directive `item` sets, if it is one.
    fn hsts_header(&self, item: &Item) -> Option<Header> {
        if !self.tree.is(item, "Header") {
            return None;
        }
        parse_header(&self.tree.args(item))
            .filter(|h| h.action != "echo" && h.name.eq_ignore_ascii_case(STS))
    }

    /// [`Ctx::hsts_header`], read once per way of writing the arguments
    /// (`seen`): the `Header` lines of a hardened fleet are written alike,
    /// and splitting and reading each again cost more than the rest of the
    /// rule. Arguments are split from what is written after the name alone,
    /// so lines written alike read alike; a macro body's line (its
    /// parameters make it another line at every Use) is read every time.
    fn hsts_header_once(
        &self,
        item: &'a Item,
        seen: &mut FxHashMap<&'a [u8], Option<Header>>,
    ) -> Option<Header> {
        if item.subst.is_some() {
            return self.hsts_header(item);
        }
        let written = item
            .directive
            .args_region
            .slice(self.tree.bytes(item.file()));
        seen.entry(written)
            .or_insert_with(|| self.hsts_header(item))
            .clone()
    }

    pub(super) fn hsts(&mut self) {
        let tree = self.tree;
        let wanted = format!("always set {STS} \"max-age={HSTS_MAX_AGE}\"");
        // Made once, shared by every virtual host's finding and change.
        let header_wanted: crate::plan::Text = format!("Header {wanted}").into();
        let insert_reason: crate::plan::Text =
            format!("send HSTS for two years: Header {wanted}").into();
        let headers_ok = tree.has_module("headers_module");
        // Every `Header` item, from the name index, in order: the server
        // config's and each virtual host's are read from this one list.
        let header_items: Vec<&'a Item> = tree.named("Header").collect();
        let mut seen = FxHashMap::default();
        let global: Vec<(&'a Item, Header)> = header_items
            .iter()
            .filter(|i| i.vhost().is_none())
            .filter_map(|&i| Some((i, self.hsts_header_once(i, &mut seen)?)))
            .collect();
        for (item, h) in &global {
            self.check_hsts_directive(item, h, false);
        }
        let mut unset_reported: HashSet<(usize, usize)> = HashSet::new();
        // Each virtual host's, per-directory ones included, read one
        // virtual host at a time: on a hardened fleet every TLS virtual
        // host has one, and all of them read at once were megabytes.
        let mut by_vhost: Vec<(usize, &'a Item)> = header_items
            .iter()
            .filter_map(|&i| Some((i.vhost()?, i)))
            .collect();
        // Stable: each virtual host's items stay in their order.
        by_vhost.sort_by_key(|&(v, _)| v);
        let mut next = by_vhost.into_iter().peekable();
        let mut own: Vec<(&'a Item, Header)> = Vec::new();
        for v in 0..tree.vhosts.len() {
            own.clear();
            while let Some((_, i)) = next.next_if(|&(w, _)| w == v) {
                if let Some(h) = self.hsts_header_once(i, &mut seen) {
                    own.push((i, h));
                }
            }
            if !tree.vhost_is_tls(v) {
                continue;
            }
            // The last word on the header: a deliberate `unset` is kept.
            if let Some((item, h)) = own.last().or(global.last())
                && h.action == "unset"
                && h.condition.is_none()
            {
                if unset_reported.insert((item.file(), item.directive.name.start())) {
                    let mut f = self.finding(
                        "apache.hsts",
                        Severity::Medium,
                        item.file(),
                        item.directive.name.start(),
                    );
                    f.current = Some(tree.args(item).join(" ").into());
                    f.wanted = Some(header_wanted.clone());
                    f.reason = "this TLS virtual host removes Strict-Transport-Security, so a first visit over http can be intercepted".into();
                    f.blocked = Some("an explicit `Header unset` is a deliberate choice (a host withdrawn from HSTS, or a backend's header replaced elsewhere): remove it yourself to let tlsmend add the header".into());
                    self.push(f, None);
                }
                continue;
            }
            if !own.is_empty() {
                self.vhost_hsts(v, &own);
                continue;
            }
            if !global.is_empty() {
                continue;
            }
            let vh = &tree.vhosts[v];
            let mut f = self.finding(
                "apache.hsts",
                Severity::Medium,
                vh.file,
                vh.open.name.start(),
            );
            f.wanted = Some(header_wanted.clone());
            f.reason = "this TLS virtual host does not send Strict-Transport-Security, so a first visit over http can be intercepted".into();
            if !headers_ok {
                f.blocked = Some(
                    "mod_headers is not enabled: enable it (a2enmod headers) and run tlsmend again"
                        .into(),
                );
                self.push(f, None);
                continue;
            }
            let text = format!("{} {wanted}", self.vhost_case(v, "Header"));
            let file = f.file;
            let change = Change {
                ldap: None,
                rule: "apache.hsts",
                reason: insert_reason.clone(),
                edits: vec![(file, self.insert_in_vhost(v, &text))],
            };
            self.push(f, Some(change));
        }
    }

    /// The HSTS directives of one TLS virtual host: duplicates go (the
    /// strongest stays), the rest are judged one by one.
    fn vhost_hsts(&mut self, v: usize, own: &[(&'a Item, Header)]) {
        let tree = self.tree;
        // Unconditional value-setting headers at the virtual host's level
        // all reach the response (or the last `set` silently wins).
        let plain: Vec<usize> = (0..own.len())
            .filter(|&k| {
                let (item, h) = &own[k];
                !item.per_dir
                    && SETTERS.contains(&h.action.as_str())
                    && h.condition.is_none()
                    && h.value
                        .as_deref()
                        .is_some_and(|v| !v.to_ascii_lowercase().starts_with("expr="))
            })
            .collect();
        let keep = plain
            .iter()
            .copied()
            .max_by_key(|&k| parse_policy(own[k].1.value.as_deref().unwrap_or("")));
        let redirects_all = self.redirects_everything(v);
        for (k, (item, h)) in own.iter().enumerate() {
            if plain.len() > 1 && plain.contains(&k) && Some(k) != keep {
                let mut f = self.finding(
                    "apache.hsts",
                    Severity::Medium,
                    item.file(),
                    item.directive.name.start(),
                );
                f.current = Some(tree.args(item).join(" ").into());
                f.reason = "a second Strict-Transport-Security header in the same virtual host: browsers may see two values (the strongest one is kept)".into();
                let file = f.file;
                let change = Change {
                    ldap: None,
                    rule: "apache.hsts",
                    reason: "comment out a duplicate Strict-Transport-Security header".into(),
                    edits: vec![(file, comment_out(item))],
                };
                self.push(f, Some(change));
                continue;
            }
            self.check_hsts_directive(item, h, redirects_all && !item.per_dir);
        }
    }

    /// Whether TLS virtual host `v` answers every request with a redirect,
    /// so that an `onsuccess` header is never sent.
    fn redirects_everything(&self, v: usize) -> bool {
        let tree = self.tree;
        tree.vhost_items(v).any(|i| {
            if tree.is(i, "Redirect")
                || tree.is(i, "RedirectPermanent")
                || tree.is(i, "RedirectTemp")
            {
                let a = tree.args(i);
                let path = match a.len() {
                    2 => &a[0],
                    3 => &a[1],
                    _ => return false,
                };
                path == "/"
            } else if tree.is(i, "RedirectMatch") {
                let a = tree.args(i);
                let re = match a.len() {
                    2 => &a[0],
                    3 => &a[1],
                    _ => return false,
                };
                EVERY_PATH.contains(&re.as_str())
            } else {
                false
            }
        })
    }

    /// One value-setting HSTS `Header`: the action, the table and the
    /// max-age are fixed in place, argument by argument.
    fn check_hsts_directive(&mut self, item: &Item, h: &Header, redirects_all: bool) {
        if !SETTERS.contains(&h.action.as_str()) {
            return; // unset, edit, note: not a value to judge
        }
        let (Some(value), Some(value_arg)) = (&h.value, h.value_arg) else {
            return;
        };
        if value.to_ascii_lowercase().starts_with("expr=") {
            return; // an expression: its value is known only per request
        }
        let b = self.bytes(item.file());
        let args = item.directive.args(b);
        let raw = |k: usize| args[k].span.slice(b);
        let mut reasons: Vec<String> = Vec::new();
        let mut patches: Vec<Patch> = Vec::new();
        let mut action = h.action.clone();
        if matches!(h.action.as_str(), "add" | "append" | "merge") {
            reasons.push(format!(
                "`Header {}` adds to a header another directive or a proxied backend may already set, sending two values (or one joined, invalid one); `set` sends one",
                h.action
            ));
            let upper = raw(h.action_arg).iter().all(|c| c.is_ascii_uppercase());
            let set = if upper { "SET" } else { "set" };
            patches.push(Patch::replace(args[h.action_arg].span, set));
            action = "set".into();
        }
        let mut table = h.table;
        if redirects_all && h.table == Table::OnSuccess {
            reasons.push("this virtual host redirects every request, and an `onsuccess` header goes only with 2xx responses, so it is never sent; `always` sends it with the redirects".into());
            patches.push(match h.table_arg {
                Some(k) => Patch::replace(args[k].span, "always"),
                None => Patch::insert(args[h.action_arg].span.start(), "always "),
            });
            table = Table::Always;
        }
        let policy = parse_policy(value);
        let mut new_value = value.clone();
        let mut refused = None;
        match judge_max_age(&policy) {
            MaxAge::Keep => {}
            MaxAge::Raise(n, why) => {
                new_value = with_max_age(value, n);
                reasons.push(why);
                let arg = args[value_arg];
                let text = match arg.quote {
                    Some(q) => format!("{}{new_value}{}", q as char, q as char),
                    None if new_value.contains([' ', '\t']) => format!("\"{new_value}\""),
                    None => new_value.clone(),
                };
                patches.push(Patch::replace(arg.span, text));
            }
            MaxAge::Refuse(why) => refused = Some(why),
        }
        if reasons.is_empty() && refused.is_none() {
            return;
        }
        let mut wanted = String::from("Header ");
        if table == Table::Always || h.table_arg.is_some() {
            wanted.push_str(if table == Table::Always {
                "always "
            } else {
                "onsuccess "
            });
        }
        wanted.push_str(&format!("{action} {} \"{new_value}\"", h.name));
        if let Some(c) = &h.condition {
            wanted.push(' ');
            wanted.push_str(c);
        }
        let mut f = self.finding(
            "apache.hsts",
            Severity::Medium,
            item.file(),
            item.directive.name.start(),
        );
        f.current = Some(self.tree.args(item).join(" ").into());
        f.wanted = Some(wanted.clone().into());
        if reasons.is_empty() {
            f.severity = Severity::Low;
            f.reason = refused.clone().unwrap_or_default().into();
            f.blocked = refused;
            self.push(f, None);
            return;
        }
        let mut reason = reasons.join("; ");
        if let Some(r) = refused {
            reason.push_str(&format!("; the max-age is left as it is: {r}"));
        }
        f.reason = reason.into();
        let file = f.file;
        let change = Change {
            ldap: None,
            rule: "apache.hsts",
            reason: wanted.into(),
            edits: patches.into_iter().map(|p| (file, p)).collect(),
        };
        self.push(f, Some(change));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    #[test]
    fn header_syntax_is_read_like_mod_headers() {
        let h = parse_header(&args(
            "onsuccess set Strict-Transport-Security max-age=1 env=HTTPS",
        ))
        .unwrap();
        assert_eq!(h.table, Table::OnSuccess);
        assert_eq!(h.table_arg, Some(0));
        assert_eq!(h.action, "set");
        assert_eq!(h.value.as_deref(), Some("max-age=1"));
        assert_eq!(h.value_arg, Some(3));
        assert_eq!(h.condition.as_deref(), Some("env=HTTPS"));
        let h = parse_header(&args("unset Strict-Transport-Security")).unwrap();
        assert_eq!(
            (h.action.as_str(), h.value, h.condition),
            ("unset", None, None)
        );
        let h = parse_header(&args("always edit Strict-Transport-Security a b expr=true")).unwrap();
        assert_eq!(h.condition.as_deref(), Some("expr=true"));
        assert!(parse_header(&args("bogus X")).is_none());
    }

    #[test]
    fn max_age_is_never_lowered_and_climbs_the_ladder() {
        let p = |s: &str| judge_max_age(&parse_policy(s));
        assert_eq!(
            p("max-age=94608000; includeSubDomains; preload"),
            MaxAge::Keep
        );
        assert!(matches!(p("max-age=600"), MaxAge::Raise(HSTS_MAX_AGE, _)));
        assert!(matches!(
            p("max-age=600; includeSubDomains"),
            MaxAge::Raise(604_800, _)
        ));
        assert!(matches!(
            p("max-age=31536000; includeSubDomains; preload"),
            MaxAge::Raise(HSTS_MAX_AGE, _)
        ));
        assert!(matches!(
            p("max-age=604800; includeSubDomains"),
            MaxAge::Refuse(_)
        ));
        assert!(matches!(p("max-age=0"), MaxAge::Refuse(_)));
        assert!(matches!(p("includeSubDomains"), MaxAge::Raise(300, _)));
        assert_eq!(
            with_max_age("max-age=\"600\" ;includeSubDomains; preload", 604_800),
            "max-age=604800 ;includeSubDomains; preload"
        );
        assert_eq!(with_max_age("preload", 300), "max-age=300; preload");
    }
}
