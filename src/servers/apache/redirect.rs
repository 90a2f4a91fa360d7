//! `apache.redirect`: a port-80 virtual host whose name is also served over
//! TLS sends its visitors to https with mod_alias's `Redirect`.

use super::Ctx;
use super::certificates::vhost_certificate;
use super::model::{ApacheTree, Item};
use crate::catalogue::rule::{Activation, Rule, Server};
use crate::discover::Root;
use crate::plan::{Change, Severity};
use rustc_hash::FxHashMap;

pub const REDIRECT: Rule = Rule {
    id: "apache.redirect",
    server: Server::Apache,
    severity: Severity::Medium,
    activation: Activation::Default,
    summary: "a port-80 virtual host whose name is also served over TLS redirects to https",
    checks: "Each virtual host on port 80 without TLS whose ServerName is also served by a TLS virtual host, and which does not already redirect to https (Redirect, RedirectMatch, RedirectPermanent or RewriteRule to an https:// URL).",
    writes: "`Redirect permanent / https://NAME/` at the end of the virtual host (mod_alias). When the virtual host serves `/.well-known/acme-challenge/` (an Alias, <Directory> or <Location> for it, as certbot and other ACME clients set up), the redirect excludes that path instead: `RedirectMatch permanent ^/(?!\\.well-known/acme-challenge/)(.*)$ https://NAME/$1`, because mod_alias runs Redirect before Alias and renewals would follow the redirect.",
    refuses: "A name whose TLS twin serves a self-signed or snakeoil certificate (browsers cache the 301 and then land on a certificate error); a virtual host that also listens on another port (`<VirtualHost *:80 *:11371>`: the redirect would send the other port's clients to https on 443); a name with no TLS twin (never redirected); mod_alias not loaded. Each is reported with the reason.",
    versions: "Apache httpd 2.4 with mod_alias (RedirectMatch's negative look-ahead needs httpd's PCRE, present in every 2.4 build).",
    sources: &[
        "mod_alias, Redirect <https://httpd.apache.org/docs/2.4/mod/mod_alias.html#redirect>",
        "mod_alias, order of processing <https://httpd.apache.org/docs/2.4/mod/mod_alias.html#order>",
        "RFC 8555, ACME http-01 challenge <https://www.rfc-editor.org/rfc/rfc8555#section-8.3>",
    ],
};

impl Ctx<'_> {
    pub(super) fn redirect(&mut self) {
        let tree = self.tree;
        // Built once, so that the work stays linear in the number of
        // virtual hosts: the TLS virtual hosts serving each name (when a
        // port-80 virtual host first needs it: on a tree whose port-80
        // virtual hosts all redirect already, never), and the items of
        // each virtual host (per-directory ones included).
        let mut tls_names: Option<FxHashMap<String, Vec<usize>>> = None;
        // Where each virtual host's items are (per-directory ones
        // included), not a list of them per virtual host: a virtual host's
        // items follow one another, and each range is filtered anyway.
        let mut ranges: Vec<std::ops::Range<usize>> = vec![0..0; tree.vhosts.len()];
        let mut server: Vec<&Item> = Vec::new();
        for (k, i) in tree.items.iter().enumerate() {
            match i.vhost() {
                Some(v) if ranges[v].is_empty() => ranges[v] = k..k + 1,
                Some(v) => ranges[v].end = k + 1,
                None => server.push(i),
            }
        }
        let acme_in_server = self.answers_acme(server.iter().copied());
        let renewals = Renewals::list(self.root);
        let alias_ok = tree.has_module("alias_module");
        for (v, range) in ranges.into_iter().enumerate() {
            if tree.vhost_port(v) != Some(80) || tree.vhost_is_tls(v) {
                continue;
            }
            let redirects = tree.vhost_items(v).any(|i| {
                (tree.is(i, "Redirect")
                    || tree.is(i, "RedirectPermanent")
                    || tree.is(i, "RedirectMatch")
                    || tree.is(i, "RewriteRule"))
                    && tree.any_arg(i, |a| {
                        a.as_bytes()
                            .get(..8)
                            .is_some_and(|p| p.eq_ignore_ascii_case(b"https://"))
                    })
            });
            if redirects {
                continue;
            }
            let Some(name) = tree.server_name(v) else {
                continue;
            };
            let host = name
                .split("://")
                .last()
                .unwrap_or(&name)
                .split(':')
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            let Some(twins) = tls_names
                .get_or_insert_with(|| names_served(tree))
                .get(&host)
            else {
                continue; // never redirect a site that has no TLS twin
            };
            let vh = &tree.vhosts[v];
            let acme = acme_in_server
                || self.answers_acme(tree.items.range(range).filter(|i| i.vhost() == Some(v)))
                || renewals.by_webroot(self.root, &host);
            let text = if acme {
                format!("RedirectMatch permanent {ACME_EXCLUDED} https://{host}/$1")
            } else {
                format!("Redirect permanent / https://{host}/")
            };
            let mut f = self.finding(
                "apache.redirect",
                Severity::Medium,
                vh.file,
                vh.open.name.start(),
            );
            f.wanted = Some(text.clone().into());
            let mut reason = format!(
                "{host} is served over TLS, but this port-80 virtual host serves it in clear text"
            );
            if acme {
                reason.push_str("; /.well-known/acme-challenge/ stays on http, since mod_alias runs Redirect before Alias and certificate renewals would follow the redirect");
            }
            f.reason = reason.into();
            let blocked = if let Some(why) =
                refusal_with_twins(tree, self.root, v, &host, twins.iter().copied())
            {
                Some(why)
            } else if !alias_ok {
                Some(
                    "mod_alias is not enabled: enable it (a2enmod alias) and run tlsmend again"
                        .into(),
                )
            } else {
                None
            };
            if let Some(b) = blocked {
                f.blocked = Some(b);
                self.push(f, None);
                continue;
            }
            let text = if acme {
                format!(
                    "{} permanent {ACME_EXCLUDED} https://{host}/$1",
                    self.vhost_case(v, "RedirectMatch")
                )
            } else {
                format!(
                    "{} permanent / https://{host}/",
                    self.vhost_case(v, "Redirect")
                )
            };
            let file = f.file;
            let change = Change {
                ldap: None,
                rule: "apache.redirect",
                reason: format!("redirect http://{host}/ permanently to https://{host}/").into(),
                edits: vec![(file, self.insert_in_vhost(v, &text))],
            };
            self.push(f, Some(change));
        }
    }

    /// Whether `items` answer ACME http-01 challenges: an Alias or a
    /// section for `/.well-known/acme-challenge/` (certbot's and acme
    /// clients' set-ups). A port-80 virtual host answers them when its items
    /// or the server config's do, or when [`Renewals::by_webroot`].
    fn answers_acme<'i>(&self, mut items: impl Iterator<Item = &'i Item>) -> bool {
        let tree = self.tree;
        items.any(|i| {
            let aliased = (tree.is(i, "Alias") || tree.is(i, "AliasMatch"))
                && tree
                    .first_arg(i)
                    .is_some_and(|a| a.contains("acme-challenge"));
            let in_section = i.parent().is_some_and(|p| {
                let b = p.slice(self.bytes(i.file()));
                let open = b.split(|&c| c == b'\n').next().unwrap_or(b);
                open.windows(14).any(|w| w == b"acme-challenge")
            });
            aliased || in_section
        })
    }
}

/// The certbot renewal configurations of the target
/// (`/etc/letsencrypt/renewal/NAME.conf`), listed once: each port-80 virtual
/// host asks for its name's, and a hosting tree has thousands of names and
/// few renewals, so an open that fails per name is a listing's lookup. The
/// lookup ignores ASCII case (a `--root` on a file system that ignores case
/// opens `Web.test.conf` for `web.test`); a folder with a name that is not
/// ASCII, which such a file system may fold in other ways, is not used for
/// lookups.
enum Renewals {
    /// The names in the folder, ASCII lowercased (none when it does not
    /// exist).
    Listed(std::collections::HashSet<String>),
    /// The folder could not be listed, or holds a name that is not ASCII:
    /// each name's file is opened.
    Unlisted,
}

impl Renewals {
    const DIR: &str = "/etc/letsencrypt/renewal";

    fn list(root: &Root) -> Renewals {
        match std::fs::read_dir(root.host(std::path::Path::new(Self::DIR))) {
            Ok(listing) => {
                let mut names = std::collections::HashSet::new();
                for entry in listing {
                    let Ok(entry) = entry else {
                        return Renewals::Unlisted;
                    };
                    match entry.file_name().into_string() {
                        Ok(name) if name.is_ascii() => names.insert(name.to_ascii_lowercase()),
                        _ => return Renewals::Unlisted,
                    };
                }
                Renewals::Listed(names)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Renewals::Listed(Default::default())
            }
            Err(_) => Renewals::Unlisted,
        }
    }

    /// Whether the renewal configuration for `host` uses the webroot
    /// plugin.
    fn by_webroot(&self, root: &Root, host: &str) -> bool {
        // certbot names a renewal file after its certificate's lineage, a
        // domain name, which never holds a slash. A `ServerName` that does
        // is data from the tree, not a file name: joined to the folder, a
        // `../` in it would read a file outside the folder, or outside
        // `--root`. No renewal file is looked for.
        if host.contains('/') || host.contains('\0') {
            return false;
        }
        let name = format!("{host}.conf");
        if let Renewals::Listed(names) = self
            && name.is_ascii()
            && !names.contains(&name.to_ascii_lowercase())
        {
            return false;
        }
        // Resolved inside the root, as the loader reads files: a link in
        // the folder does not lead out of `--root` either.
        let renewal = std::path::Path::new(Self::DIR).join(&name);
        root.resolve(&renewal).is_ok_and(|found| {
            std::fs::read_to_string(root.host(&found)).is_ok_and(|c| c.contains("webroot"))
        })
    }
}

/// Why redirecting port-80 virtual host `v`, which serves `host`, to https
/// would break a client, if it would (shared with `tlsmend verify`, which
/// then expects no redirect): a TLS twin with a self-signed or snakeoil
/// certificate, or other ports on the same virtual host.
pub fn redirect_refusal(tree: &ApacheTree, root: &Root, v: usize, host: &str) -> Option<String> {
    let twins = (0..tree.vhosts.len())
        .filter(|&t| tree.vhost_is_tls(t) && tree.vhost_names(t).iter().any(|n| n == host));
    refusal_with_twins(tree, root, v, host, twins)
}

/// The TLS virtual hosts serving each name (lowercased, without port),
/// each virtual host once per name, in order.
fn names_served(tree: &ApacheTree) -> FxHashMap<String, Vec<usize>> {
    let mut served: FxHashMap<String, Vec<usize>> = FxHashMap::default();
    for v in (0..tree.vhosts.len()).filter(|&v| tree.vhost_is_tls(v)) {
        for n in tree.vhost_names(v) {
            let twins = served.entry(n).or_default();
            if twins.last() != Some(&v) {
                twins.push(v);
            }
        }
    }
    served
}

/// [`redirect_refusal`], given the TLS virtual hosts serving `host`, in order.
fn refusal_with_twins(
    tree: &ApacheTree,
    root: &Root,
    v: usize,
    host: &str,
    mut twins: impl Iterator<Item = usize>,
) -> Option<String> {
    let twin = twins.find_map(|t| {
        let (_, raw, path) = vhost_certificate(tree, root, t)?;
        if raw.to_ascii_lowercase().contains("snakeoil") {
            return Some(format!(
                "https://{host}/ serves the snakeoil certificate {raw}"
            ));
        }
        let info = crate::target::cert::read(path).ok()?;
        info.self_signed
            .then(|| format!("https://{host}/ serves a self-signed certificate ({raw})"))
    });
    if let Some(why) = twin {
        return Some(format!(
            "{why}: browsers cache a permanent redirect and would then land on a certificate error; install a certificate from a CA and run tlsmend again"
        ));
    }
    let other_ports: Vec<&str> = tree.vhosts[v]
        .addresses
        .iter()
        .map(String::as_str)
        .filter(|a| a.rsplit_once(':').is_none_or(|(_, p)| p != "80"))
        .collect();
    (!other_ports.is_empty()).then(|| format!(
        "this virtual host also answers on {}: a redirect to https://{host}/ would send those clients to port 443 too; give port 80 its own <VirtualHost> and run tlsmend again",
        other_ports.join(" ")
    ))
}

/// Every path but the ACME http-01 challenges, for `RedirectMatch`.
const ACME_EXCLUDED: &str = r"^/(?!\.well-known/acme-challenge/)(.*)$";

#[cfg(test)]
mod tests {
    use super::*;

    /// The listing answers as opening each name's file would: a listed
    /// name in another case is opened (a file system may ignore case), a
    /// folder with a name that is not ASCII is not used for lookups, and a
    /// name with a slash names no renewal file, so nothing outside the
    /// folder (or outside `--root`) is ever read for it.
    #[test]
    fn the_listing_answers_as_opening_the_file_would() {
        let outer = tempfile::tempdir().unwrap();
        let t = tempfile::TempDir::new_in(outer.path()).unwrap();
        let root = Root::new(Some(t.path().to_path_buf()));
        let dir = t.path().join("etc/letsencrypt/renewal");
        std::fs::create_dir_all(&dir).unwrap();
        let webroot = "[renewalparams]\nauthenticator = webroot\n";
        std::fs::write(dir.join("a.test.conf"), webroot).unwrap();
        std::fs::write(dir.join("x.conf"), webroot).unwrap();
        std::fs::write(dir.join("Mixed.test.conf"), webroot).unwrap();
        // Outside the folder, and outside the root: never read for a name.
        std::fs::write(t.path().join("etc/y.conf"), webroot).unwrap();
        std::fs::write(outer.path().join("z.conf"), webroot).unwrap();
        // A link in the folder is followed inside the root, as httpd's
        // files are: this absolute one names no file there.
        std::os::unix::fs::symlink(outer.path().join("z.conf"), dir.join("link.test.conf"))
            .unwrap();
        let listed = Renewals::list(&root);
        assert!(matches!(listed, Renewals::Listed(_)));
        for (host, found) in [
            ("a.test", true),
            ("b.test", false),
            ("/x", false),
            ("x/", false),
            ("../../y", false),
            ("../../../../z", false),
            ("link.test", false),
            // Case-sensitive here, so opened and not found, as before.
            ("mixed.test", false),
        ] {
            assert_eq!(listed.by_webroot(&root, host), found, "{host}");
            assert_eq!(Renewals::Unlisted.by_webroot(&root, host), found, "{host}");
        }
        std::fs::write(dir.join("caf\u{e9}.conf"), webroot).unwrap();
        assert!(matches!(Renewals::list(&root), Renewals::Unlisted));
        let gone = Root::new(Some(t.path().join("none")));
        assert!(matches!(Renewals::list(&gone), Renewals::Listed(n) if n.is_empty()));
    }
}
