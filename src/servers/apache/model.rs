//! An Apache configuration as httpd reads it: the main file with every
//! `Include`/`IncludeOptional` followed (globs, directories, relative to
//! ServerRoot), flattened into the directives in the order httpd sees them,
//! each with its file and scope (server config, which virtual host, inside a
//! per-directory section or not).
//!
//! Each file is read once, however often it is included, so the cost is
//! linear in the size of the tree. Its syntax tree lives only until its
//! walk ends (a file included again is parsed again): the rules read the
//! flat list of directives and each file's comment lines
//! ([`super::comments`]). Include cycles and missing targets
//! are errors that name the `Include` line.

use super::comments::Comments;
use crate::chunked::Chunked;
use crate::discover::{ConfigFile, Expansion, Root};
use crate::error::{Error, Result};
use crate::source::{ParseError, Span};
use crate::syntax::Syntax;
use crate::syntax::apache::{self, Config, Directive, Node, siblings};
use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};

/// An index into [`ApacheTree::items`] as the tree's own lists keep it:
/// the loader refuses a tree with more directives than it can count.
type ItemIndex = u32;

/// One directive where httpd sees it. Kept small, since a tree of 10,000
/// sites holds 220,000 of them: its file and virtual host are `u32`s
/// behind [`Item::file`] and [`Item::vhost`] (72 bytes instead of 88).
#[derive(Debug, Clone)]
pub struct Item {
    /// The directive as parsed (its file's tree is not kept).
    pub directive: Directive,
    /// The span of the innermost enclosing section in `file`, [`NO_PARENT`]
    /// at the top level of the file: see [`Item::parent`].
    parent: Span,
    /// Index into [`ApacheTree::files`].
    file: u32,
    /// The virtual host it belongs to, [`NO_VHOST`] for the server config.
    vhost: u32,
    /// Inside `<Directory>`, `<Location>`, `<Files>`, `<If>` and the like.
    pub per_dir: bool,
    /// Inside a `<Macro>` body expanded by `Use`: its parameters and the
    /// values this `Use` gave them, applied by [`ApacheTree::args`].
    pub subst: Option<Subst>,
}

/// [`Item::vhost`] of the server config.
const NO_VHOST: u32 = u32::MAX;

/// [`Item::parent`] at the top level of a file.
const NO_PARENT: Span = Span::MAX;

/// `n`, the index of one of the tree's `what`, as an [`Item`] keeps it.
fn narrow(n: usize, what: &str) -> Result<u32> {
    match u32::try_from(n) {
        Ok(n) if n != NO_VHOST => Ok(n),
        _ => Err(Error::Other(format!(
            "more {what} than tlsmend can index ({NO_VHOST})"
        ))),
    }
}

impl Item {
    /// Index into [`ApacheTree::files`].
    pub fn file(&self) -> usize {
        self.file as usize
    }
    /// The virtual host it belongs to, `None` for the server config.
    pub fn vhost(&self) -> Option<usize> {
        (self.vhost != NO_VHOST).then_some(self.vhost as usize)
    }
    /// The span of the innermost enclosing section in its file, `None` at
    /// the top level of the file (for finding commented-out siblings).
    pub fn parent(&self) -> Option<Span> {
        (self.parent != NO_PARENT).then_some(self.parent)
    }
}

/// A macro's parameters and one `Use`'s values, longest name first (so
/// that `$domain_alias` is not read as `$domain` followed by `_alias`).
pub type Subst = std::sync::Arc<Vec<(String, String)>>;

/// Replaces every parameter name in `s` by its value, as mod_macro does.
pub fn substitute(s: &str, subst: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut rest = s;
    'outer: while !rest.is_empty() {
        for (name, value) in subst {
            if let Some(tail) = rest.strip_prefix(name.as_str()) {
                out.push_str(value);
                rest = tail;
                continue 'outer;
            }
        }
        let c = rest.chars().next().unwrap_or(' ');
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// A `<Macro>` as defined: where its body is and its parameter names.
#[derive(Debug, Clone)]
struct MacroDef {
    file: usize,
    span: Span,
    params: Vec<String>,
    nodes: Vec<Node>,
}

#[derive(Debug, Clone)]
pub struct VHost {
    pub file: usize,
    pub open: Directive,
    pub close: Span,
    /// The indentation of its first child directive, if it has one.
    pub child_indent: Option<Span>,
    pub addresses: Vec<String>,
}

pub use super::layout::Layout;
use super::layout::Places;

#[derive(Debug)]
pub struct ApacheTree {
    /// Each file read, with its comment lines (its syntax tree is not kept).
    pub files: Vec<(ConfigFile, Comments)>,
    /// Every directive in the order httpd reads them; never moved as it
    /// grows ([`crate::chunked`]).
    pub items: Chunked<Item>,
    /// Never moved as it grows, like `items`.
    pub vhosts: Chunked<VHost>,
    pub layout: Layout,
    pub server_root: PathBuf,
    /// What the found summary must say about this tree (virtual hosts made
    /// by `Use` of a macro, which are not audited).
    pub remarks: Vec<String>,
    /// Each `<Macro>` body that was expanded: its file, span and how many
    /// `Use`s expanded it (a fix there must suit every one).
    pub macro_bodies: Vec<(usize, Span, usize)>,
    /// Indices of the items of each virtual host, and of the server config,
    /// outside per-directory sections: built once so that rules stay linear.
    /// Virtual host `v`'s are `by_vhost[vhost_starts[v]..vhost_starts[v + 1]]`
    /// (one list for all, not one grown per virtual host). Indices into
    /// `items` are `u32`s in these lists: half the room ([`ItemIndex`]).
    by_vhost: Vec<ItemIndex>,
    vhost_starts: Vec<usize>,
    server: Vec<ItemIndex>,
    /// Indices of the items of each directive name (lowercased), in order:
    /// a rule about one directive reads only its lines.
    by_name: rustc_hash::FxHashMap<Box<[u8]>, Vec<ItemIndex>>,
    /// `SSLEngine on` in the server config.
    global_tls: bool,
    /// Whether each virtual host serves TLS, worked out once: most rules
    /// ask it of every virtual host.
    tls: Vec<bool>,
    /// The certificate each virtual host serves, worked out on first use
    /// (see `certificates::vhost_certificate`): four rules ask it of every
    /// TLS virtual host.
    pub(super) certificates: std::sync::OnceLock<Vec<Option<ServedCertificate>>>,
}

/// The `SSLCertificateFile` item a virtual host's certificate comes from,
/// its value and the certificate's host path.
#[derive(Debug)]
pub(super) struct ServedCertificate {
    pub item: usize,
    pub raw: String,
    pub path: PathBuf,
}

/// Sections whose contents are server or virtual-host configuration; every
/// other section (`<Directory>`, `<Location>`, `<If>`, ...) is per-directory.
const TRANSPARENT: &[&str] = &[
    "ifmodule",
    "ifdefine",
    "ifversion",
    "iffile",
    "ifdirective",
    "ifsection",
    "virtualhost",
];

struct Loader<'r> {
    root: &'r Root,
    files: Vec<(ConfigFile, Comments)>,
    /// Each file's syntax tree (by index in `files`) from its reading to
    /// the end of its walk, then let go: the rules need only its comment
    /// lines. A file walked again (included twice) is parsed again.
    trees: Vec<Option<Vec<Node>>>,
    /// Files read, by real machine path (as [`Root::resolve`] makes it).
    by_real: crate::discover::ByPath<usize>,
    items: Chunked<Item>,
    vhosts: Chunked<VHost>,
    server_root: PathBuf,
    defines: HashMap<String, String>,
    stack: Vec<PathBuf>,
    /// `<Macro>` definitions by lowercased name, as far as read.
    macros: HashMap<String, MacroDef>,
    /// The parameters of the macro body being walked.
    subst: Option<Subst>,
    remarks: Vec<String>,
    macro_bodies: Vec<(usize, Span, usize)>,
}

impl ApacheTree {
    /// Reads the tree of a layout from its main file; relative Includes
    /// resolve against the layout's compiled-in ServerRoot until a
    /// `ServerRoot` directive names another.
    pub fn load(root: &Root, places: &Places) -> Result<ApacheTree> {
        let layout = places.layout;
        let main = Path::new(places.main);
        let mut l = Loader {
            root,
            files: Vec::new(),
            trees: Vec::new(),
            by_real: Default::default(),
            items: Chunked::default(),
            vhosts: Chunked::default(),
            server_root: PathBuf::from(places.server_root),
            defines: HashMap::new(),
            stack: Vec::new(),
            macros: HashMap::new(),
            subst: None,
            remarks: Vec::new(),
            macro_bodies: Vec::new(),
        };
        let idx = l.include_file(main, None, None)?;
        l.walk_file(idx, None, false)?;
        // The last chunk's unused room; the tree lives through the rules.
        l.items.shrink_to_fit();
        l.vhosts.shrink_to_fit();
        // Below the largest index, so that counting them in a `u32` never
        // steps past it.
        if l.items.len() >= ItemIndex::MAX as usize {
            return Err(Error::Other(format!(
                "{} directives: more than tlsmend can index ({})",
                l.items.len(),
                ItemIndex::MAX
            )));
        }
        let mut tree = ApacheTree {
            files: l.files,
            items: l.items,
            vhosts: l.vhosts,
            layout,
            server_root: l.server_root,
            remarks: l.remarks,
            macro_bodies: l.macro_bodies,
            by_vhost: Vec::new(),
            vhost_starts: Vec::new(),
            server: Vec::new(),
            by_name: Default::default(),
            global_tls: false,
            tls: Vec::new(),
            certificates: Default::default(),
        };
        // Each virtual host's count, then where its items start.
        let mut starts = vec![0usize; tree.vhosts.len() + 1];
        for i in tree.items.iter().filter(|i| !i.per_dir) {
            if let Some(v) = i.vhost() {
                starts[v + 1] += 1;
            }
        }
        for v in 0..tree.vhosts.len() {
            starts[v + 1] += starts[v];
        }
        tree.by_vhost = vec![0; starts[tree.vhosts.len()]];
        let mut next = starts.clone();
        let mut by_name = NameIndex::new();
        for (k, i) in (0..).zip(tree.items.iter()) {
            by_name.push(i.directive.name.slice(tree.bytes(i.file())), k);
            match (i.per_dir, i.vhost()) {
                (true, _) => {}
                (false, Some(v)) => {
                    tree.by_vhost[next[v]] = k;
                    next[v] += 1;
                }
                (false, None) => tree.server.push(k),
            }
        }
        tree.by_name = by_name.into_map();
        tree.server.shrink_to_fit();
        tree.vhost_starts = starts;
        tree.global_tls = tree.engine_on(tree.server_items());
        tree.tls = tree.tls_by_vhost();
        Ok(tree)
    }

    pub fn bytes(&self, file: usize) -> &[u8] {
        &self.files[file].0.source.bytes
    }

    pub fn name_of(&self, item: &Item) -> String {
        String::from_utf8_lossy(item.directive.name.slice(self.bytes(item.file()))).into_owned()
    }

    pub fn is(&self, item: &Item, name: &str) -> bool {
        item.directive.name_is(self.bytes(item.file()), name)
    }

    /// The arguments as httpd sees them: a macro body's parameters
    /// replaced by the values of the `Use` that expanded it.
    pub fn args(&self, item: &Item) -> Vec<String> {
        let raw = item.directive.arg_values(self.bytes(item.file()));
        match &item.subst {
            None => raw,
            Some(s) => raw.iter().map(|a| substitute(a, s)).collect(),
        }
    }

    /// The first of [`ApacheTree::args`], without splitting the others.
    pub fn first_arg(&self, item: &Item) -> Option<String> {
        let bytes = self.bytes(item.file());
        let first = item.directive.each_arg(bytes).next()?.value(bytes);
        Some(match &item.subst {
            None => first,
            Some(s) => substitute(&first, s),
        })
    }

    /// Whether any of [`ApacheTree::args`] satisfies `wanted`, without a
    /// string made for each argument outside a macro body.
    pub fn any_arg(&self, item: &Item, wanted: impl Fn(&str) -> bool) -> bool {
        if item.subst.is_some() {
            return self.args(item).iter().any(|a| wanted(a));
        }
        let bytes = self.bytes(item.file());
        item.directive
            .each_arg(bytes)
            .any(|a| wanted(&a.text(bytes)))
    }

    /// Whether the item's arguments name a macro parameter (an edit there
    /// would replace the parameter for every `Use`).
    pub fn from_parameter(&self, item: &Item) -> bool {
        item.subst.as_ref().is_some_and(|s| {
            let raw = item.directive.arg_values(self.bytes(item.file()));
            raw.iter().any(|a| substitute(a, s) != *a)
        })
    }

    pub fn line(&self, item: &Item) -> usize {
        self.files[item.file()]
            .0
            .source
            .line_of(item.directive.name.start())
    }

    /// Modules named by `LoadModule`, lowercased; `None` when the tree loads
    /// none at all (a static build, or a tree we only see part of).
    pub fn modules(&self) -> Option<HashSet<String>> {
        let set: HashSet<String> = self
            .named("LoadModule")
            .filter_map(|i| self.first_arg(i).map(|a| a.to_ascii_lowercase()))
            .collect();
        if set.is_empty() { None } else { Some(set) }
    }

    /// Whether `module` (e.g. `headers_module`) is loaded; `true` when unknown.
    pub fn has_module(&self, module: &str) -> bool {
        self.modules().is_none_or(|m| m.contains(module))
    }

    /// Every item named `name` (any case), in order.
    pub fn named(&self, name: &str) -> impl Iterator<Item = &Item> {
        let key = name.to_ascii_lowercase();
        self.by_name
            .get(key.as_bytes())
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|&k| &self.items[k as usize])
    }

    /// Server-config items that are not inside a per-directory section.
    pub fn server_items(&self) -> impl Iterator<Item = &Item> {
        self.server.iter().map(|&k| &self.items[k as usize])
    }

    /// The index of the last item named `name` (any case) of virtual host
    /// `v`, or of the server config when `v` is `None`, outside
    /// per-directory sections.
    pub fn last_named(&self, v: Option<usize>, name: &str) -> Option<usize> {
        let scope = match v {
            Some(v) => self.vhost_indices(v),
            None => &self.server,
        };
        scope
            .iter()
            .rev()
            .map(|&k| k as usize)
            .find(|&k| self.is(&self.items[k], name))
    }

    pub fn vhost_items(&self, v: usize) -> impl Iterator<Item = &Item> {
        self.vhost_indices(v)
            .iter()
            .map(|&k| &self.items[k as usize])
    }

    /// The indices of virtual host `v`'s items outside per-directory
    /// sections, in order.
    fn vhost_indices(&self, v: usize) -> &[ItemIndex] {
        &self.by_vhost[self.vhost_starts[v]..self.vhost_starts[v + 1]]
    }

    fn engine_on<'a>(&self, items: impl Iterator<Item = &'a Item>) -> bool {
        items
            .filter(|i| self.is(i, "SSLEngine"))
            .last()
            .and_then(|i| self.first_arg(i).map(|a| a.eq_ignore_ascii_case("on")))
            .unwrap_or(false)
    }

    /// A virtual host serves TLS when `SSLEngine on` applies to it.
    pub fn vhost_is_tls(&self, v: usize) -> bool {
        self.tls[v]
    }

    /// [`ApacheTree::vhost_is_tls`] of every virtual host, from the
    /// `SSLEngine` lines only: the last one of a virtual host (outside
    /// per-directory sections) decides, else the server config's.
    fn tls_by_vhost(&self) -> Vec<bool> {
        let mut last: Vec<Option<&Item>> = vec![None; self.vhosts.len()];
        for i in self.named("SSLEngine").filter(|i| !i.per_dir) {
            if let Some(v) = i.vhost() {
                last[v] = Some(i);
            }
        }
        last.into_iter()
            .map(|engine| match engine {
                Some(i) => self
                    .first_arg(i)
                    .is_some_and(|a| a.eq_ignore_ascii_case("on")),
                None => self.global_tls,
            })
            .collect()
    }

    /// [`ApacheTree::vhost_is_tls`], worked out item by item (what
    /// [`ApacheTree::tls_by_vhost`] is tested against).
    #[cfg(test)]
    fn engine_on_in(&self, v: usize) -> bool {
        let own = self.vhost_items(v).any(|i| self.is(i, "SSLEngine"));
        if own {
            self.engine_on(self.vhost_items(v))
        } else {
            self.global_tls
        }
    }

    pub fn vhost_port(&self, v: usize) -> Option<u16> {
        self.vhosts[v]
            .addresses
            .iter()
            .find_map(|a| a.rsplit(':').next()?.parse().ok())
    }

    /// `ServerName` and `ServerAlias` values, lowercased, without port.
    pub fn vhost_names(&self, v: usize) -> Vec<String> {
        let mut names = Vec::new();
        for i in self.vhost_items(v) {
            if self.is(i, "ServerName") || self.is(i, "ServerAlias") {
                for a in self.args(i) {
                    // Most names hold no ':' at all, and no scheme to drop.
                    let a = if a.contains(':') {
                        a.split("://").last().unwrap_or(&a).to_ascii_lowercase()
                    } else {
                        a.to_ascii_lowercase()
                    };
                    let host = a
                        .split(':')
                        .next()
                        .unwrap_or(&a)
                        .trim_end_matches('/')
                        .to_string();
                    names.push(host);
                }
            }
        }
        names
    }

    pub fn server_name(&self, v: usize) -> Option<String> {
        self.vhost_items(v)
            .filter(|i| self.is(i, "ServerName"))
            .last()
            .and_then(|i| self.first_arg(i))
    }
}

/// Whether a macro body has a `<VirtualHost>` section, at any depth (the
/// flat list holds every depth).
fn defines_vhost(nodes: &[Node], bytes: &[u8]) -> bool {
    nodes.iter().any(|n| match n {
        Node::Section(s) => s.open.name_is(bytes, "virtualhost"),
        _ => false,
    })
}

impl Loader<'_> {
    /// `Use NAME args...`: the macro's body walked where the `Use` stands,
    /// its parameters bound to the arguments (as mod_macro expands it).
    fn use_macro(
        &mut self,
        file: usize,
        d: &Directive,
        args: &[String],
        vhost: Option<usize>,
    ) -> Result<()> {
        let Some(m) = self.macros.get(&args[0].to_ascii_lowercase()).cloned() else {
            return Err(self.error_at(
                Some((file, d)),
                format!(
                    "Use {}: no <Macro {}> is defined before this line",
                    args[0], args[0]
                ),
            ));
        };
        let values = &args[1..];
        if values.len() != m.params.len() {
            return Err(self.error_at(
                Some((file, d)),
                format!(
                    "Use {} gives {} argument(s), the macro takes {}",
                    args[0],
                    values.len(),
                    m.params.len()
                ),
            ));
        }
        if self.stack.len() > 64 {
            return Err(self.error_at(
                Some((file, d)),
                format!("Use {}: macros nested too deeply", args[0]),
            ));
        }
        let mut pairs: Vec<(String, String)> = m
            .params
            .iter()
            .cloned()
            .zip(values.iter().cloned())
            .collect();
        pairs.sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
        if defines_vhost(&m.nodes, &self.files[m.file].0.source.bytes) {
            let src = &self.files[file].0;
            self.remarks.push(format!(
                "{}:{}: `Use {}` makes a virtual host from <Macro {}>: audited as expanded; a fix goes to the macro body only when every Use agrees",
                src.path.display(),
                src.source.line_of(d.name.start()),
                args[0],
                args[0]
            ));
        }
        match self
            .macro_bodies
            .iter_mut()
            .find(|(f, sp, _)| *f == m.file && *sp == m.span)
        {
            Some(b) => b.2 += 1,
            None => self.macro_bodies.push((m.file, m.span, 1)),
        }
        let saved = self.subst.replace(std::sync::Arc::new(pairs));
        let here = self.files[m.file].0.real.clone();
        self.stack.push(here);
        let r = self.walk(m.file, &m.nodes, vhost, false, Some(m.span));
        self.stack.pop();
        self.subst = saved;
        r
    }
    /// Reads, parses and indexes the file at `machine` once (a file read
    /// ahead, `read`, is parsed here), or finds it read already.
    fn include_file(
        &mut self,
        machine: &Path,
        from: Option<(usize, &Directive)>,
        read: Option<(PathBuf, ConfigFile)>,
    ) -> Result<usize> {
        let real = self.root.resolve(machine)?;
        if self.stack.contains(&real) {
            let chain: Vec<String> = self
                .stack
                .iter()
                .chain([&real])
                .map(|p| p.display().to_string())
                .collect();
            return Err(self.error_at(from, format!("Include cycle: {}", chain.join(" -> "))));
        }
        let idx = match self.by_real.get(real.as_os_str()) {
            Some(&i) => i,
            None => {
                let (file, config) = match read {
                    Some((read_real, file)) if read_real == real => {
                        #[cfg(test)]
                        READ_AHEAD_USED.with(|n| n.set(n.get() + 1));
                        parse_read(file)?
                    }
                    _ => read_and_parse(self.root, machine, real.clone())?,
                };
                self.files.push((file, Comments::of(&config.nodes)));
                self.trees.push(Some(config.nodes));
                self.by_real
                    .insert(real.into_os_string(), self.files.len() - 1);
                self.files.len() - 1
            }
        };
        Ok(idx)
    }

    fn error_at(&self, from: Option<(usize, &Directive)>, message: String) -> Error {
        match from {
            Some((f, d)) => {
                let src = &self.files[f].0.source;
                Error::Parse(ParseError::at(
                    &src.path,
                    &src.bytes,
                    d.name.start(),
                    message,
                ))
            }
            None => Error::Other(message),
        }
    }

    fn walk_file(&mut self, idx: usize, vhost: Option<usize>, per_dir: bool) -> Result<()> {
        let real = self.files[idx].0.real.clone();
        self.stack.push(real);
        let nodes = match self.trees[idx].take() {
            Some(nodes) => nodes,
            None => {
                let src = &self.files[idx].0.source;
                apache::parse(&src.path, &src.bytes)?.nodes
            }
        };
        self.walk(idx, &nodes, vhost, per_dir, None)?;
        self.stack.pop();
        Ok(())
    }

    fn walk(
        &mut self,
        file: usize,
        nodes: &[Node],
        vhost: Option<usize>,
        per_dir: bool,
        parent: Option<Span>,
    ) -> Result<()> {
        for (node, children) in siblings(nodes) {
            match node {
                Node::Trivia(_) => {}
                Node::Directive(d) => {
                    let bytes = &self.files[file].0.source.bytes;
                    // Arguments are unquoted (an allocation each) only for
                    // the few directives the loader itself acts on.
                    let name = [
                        "define",
                        "serverroot",
                        "include",
                        "includeoptional",
                        "use",
                        "undefmacro",
                    ]
                    .into_iter()
                    .find(|n| d.name_is(bytes, n))
                    .unwrap_or("");
                    let args = if name.is_empty() {
                        Vec::new()
                    } else {
                        d.arg_values(bytes)
                    };
                    if name == "define" && !args.is_empty() {
                        self.defines
                            .insert(args[0].clone(), args.get(1).cloned().unwrap_or_default());
                    }
                    // httpd applies ServerRoot as it reads it: the Includes
                    // after it resolve against it.
                    if name == "serverroot" && !args.is_empty() && vhost.is_none() && !per_dir {
                        self.server_root = PathBuf::from(&args[0]);
                    }
                    let args = match &self.subst {
                        Some(s) => args.iter().map(|a| substitute(a, s)).collect(),
                        None => args,
                    };
                    if name == "undefmacro"
                        && let Some(m) = args.first()
                    {
                        self.macros.remove(&m.to_ascii_lowercase());
                    }
                    self.items.push(Item {
                        file: narrow(file, "files")?,
                        directive: *d,
                        vhost: match vhost {
                            Some(v) => narrow(v, "virtual hosts")?,
                            None => NO_VHOST,
                        },
                        per_dir,
                        parent: parent.unwrap_or(NO_PARENT),
                        subst: self.subst.clone(),
                    });
                    if name == "use" && !args.is_empty() && !per_dir {
                        self.use_macro(file, d, &args, vhost)?;
                    }
                    if (name == "include" || name == "includeoptional")
                        && !args.is_empty()
                        && !per_dir
                    {
                        self.include(file, d, &args[0], name == "includeoptional", vhost)?;
                    }
                }
                Node::Section(s) => {
                    let bytes = &self.files[file].0.source.bytes;
                    // Compared in place: a tree of 10,000 sites has 40,000
                    // sections.
                    let name = s.open.name.slice(bytes);
                    let is = |n: &str| name.eq_ignore_ascii_case(n.as_bytes());
                    let span = node.span();
                    if is("macro") {
                        // A template, not configuration until Use'd.
                        let mut a = s.open.arg_values(bytes).into_iter();
                        if let Some(m) = a.next() {
                            self.macros.insert(
                                m.to_ascii_lowercase(),
                                MacroDef {
                                    file,
                                    span,
                                    params: a.collect(),
                                    nodes: children.to_vec(),
                                },
                            );
                        }
                        continue;
                    }
                    if is("virtualhost") && vhost.is_none() && !per_dir {
                        let mut addresses = s.open.arg_values(bytes);
                        if let Some(sub) = &self.subst {
                            addresses = addresses.iter().map(|a| substitute(a, sub)).collect();
                        }
                        let child_indent = siblings(children).find_map(|(c, _)| match c {
                            Node::Directive(d) => Some(d.indent()),
                            Node::Section(s) => Some(s.open.indent()),
                            _ => None,
                        });
                        self.vhosts.push(VHost {
                            file,
                            open: s.open,
                            close: s.close,
                            child_indent,
                            addresses,
                        });
                        let v = self.vhosts.len() - 1;
                        self.walk(file, children, Some(v), per_dir, Some(span))?;
                    } else {
                        let inner_per_dir = per_dir || !TRANSPARENT.iter().any(|t| is(t));
                        self.walk(file, children, vhost, inner_per_dir, Some(span))?;
                    }
                }
            }
        }
        Ok(())
    }

    fn expand_vars(&self, s: &str) -> std::result::Result<String, String> {
        let mut out = String::new();
        let mut rest = s;
        while let Some(p) = rest.find("${") {
            out.push_str(&rest[..p]);
            let end = rest[p..]
                .find('}')
                .ok_or_else(|| format!("unclosed ${{ in {s}"))?;
            let var = &rest[p + 2..p + end];
            match self.defines.get(var) {
                Some(v) => out.push_str(v),
                None => {
                    return Err(format!(
                        "${{{var}}} is not defined by a Define before this line"
                    ));
                }
            }
            rest = &rest[p + end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn include(
        &mut self,
        file: usize,
        d: &Directive,
        pattern: &str,
        optional: bool,
        vhost: Option<usize>,
    ) -> Result<()> {
        let pattern = self.expand_vars(pattern).map_err(|m| {
            self.error_at(
                Some((file, d)),
                format!("cannot resolve the Include path: {m}"),
            )
        })?;
        let machine_pattern = httpd_path(
            &if Path::new(&pattern).is_absolute() {
                PathBuf::from(&pattern)
            } else {
                self.server_root.join(&pattern)
            },
            pattern.ends_with('/'),
        );
        let wildcard = is_wildcard(&pattern);
        let key = (machine_pattern, wildcard);
        let expansion = match self.root.expansion(&key) {
            Some(known) => known,
            None => {
                let found = std::sync::Arc::new(self.expand(file, d, &pattern, &key.0, wildcard)?);
                self.root.remember_expansion(key.clone(), found.clone());
                found
            }
        };
        if !expansion.matched && !optional {
            let message = if wildcard {
                format!(
                    "Include {pattern} matches no file (httpd refuses this; use IncludeOptional if that is intended)"
                )
            } else {
                format!(
                    "Include target {} does not exist",
                    self.root.host(&key.0).display()
                )
            };
            return Err(self.error_at(Some((file, d)), message));
        }
        let mut read = self.read_ahead(&expansion.files).into_iter();
        for f in &expansion.files {
            let idx = self.include_file(f, Some((file, d)), read.next().flatten())?;
            self.walk_file(idx, vhost, false)?;
        }
        Ok(())
    }

    /// The files of an Include that names many (the sites-enabled folder of
    /// a hosting fleet), each resolved and read on every core before they
    /// are walked in order, with its real path: reading a file is a few
    /// system calls, and the loader's walk waits on none of them then. An
    /// Include of a few files, a file that cannot be read, and the planned
    /// bytes of an overlay (already in memory) are read by
    /// [`Loader::include_file`] as before (`None`), so an error is the same
    /// and comes at the same point of the walk; so is a file read already
    /// (an Include of the same folder twice), which is not read again. Only
    /// regular files are listed in an expansion, so nothing read ahead can
    /// block. (When the walk stops at an error, what was read ahead of it
    /// is read for nothing.)
    fn read_ahead(&self, files: &[PathBuf]) -> Vec<Option<(PathBuf, ConfigFile)>> {
        if files.len() < READ_AHEAD_FROM || self.root.is_overlay() {
            return Vec::new();
        }
        let (root, read) = (self.root, &self.by_real);
        crate::parallel::map(files, |f| {
            let real = root.resolve(f).ok()?;
            if read.contains_key(real.as_os_str()) {
                return None;
            }
            let file = ConfigFile::load_resolved(root, f, real.clone(), Syntax::Apache).ok()?;
            Some((real, file))
        })
    }

    /// What the Include `pattern` (at `machine_pattern`) names: a function
    /// of which paths exist and where links lead only, so the root keeps it
    /// for the plan made again on an overlay ([`Root::expansion`]).
    fn expand(
        &self,
        file: usize,
        d: &Directive,
        pattern: &str,
        machine_pattern: &Path,
        wildcard: bool,
    ) -> Result<Expansion> {
        let mut targets: Vec<PathBuf> = Vec::new();
        // `conf.d/*/`: httpd keeps only what the listing calls a directory
        // for the last wildcard too.
        let dirs_only = {
            use std::os::unix::ffi::OsStrExt;
            machine_pattern.as_os_str().as_bytes().ends_with(b"/")
        };
        if wildcard {
            // The directories before the first wildcard are followed inside
            // the root (a link such as Gentoo's /usr/lib64/apache2/modules.d
            // -> /etc/apache2/modules.d must not reach the host's /etc).
            let mut fixed = PathBuf::from("/");
            let mut rest = PathBuf::new();
            // `machine_pattern` is already lexically normal (`httpd_path`).
            for c in machine_pattern.components().skip(1).map(|c| c.as_os_str()) {
                if rest.as_os_str().is_empty() && !is_wildcard(&c.to_string_lossy()) {
                    fixed.push(c);
                } else {
                    rest.push(c);
                }
            }
            let fixed = match fixed.parent() {
                // The last fixed component may be a file name prefix; only
                // directories are resolved.
                Some(p)
                    if !self
                        .root
                        .resolve(&fixed)
                        .is_ok_and(|r| self.root.host(&r).is_dir()) =>
                {
                    rest = Path::new(fixed.file_name().unwrap_or_default()).join(&rest);
                    p.to_path_buf()
                }
                _ => fixed,
            };
            let resolved = self.root.resolve(&fixed).map_err(|e| {
                self.error_at(Some((file, d)), format!("cannot follow {pattern}: {e}"))
            })?;
            // Each name of the pattern in the glob crate's syntax, and
            // whether httpd reads it as a wildcard.
            let (rest, wild): (PathBuf, Vec<bool>) = rest
                .components()
                .map(|c| {
                    let c = c.as_os_str().to_string_lossy();
                    match is_wildcard(&c) {
                        true => (glob_syntax(&c), true),
                        false => (glob::Pattern::escape(&c), false),
                    }
                })
                .unzip();
            match last_component_pattern(&rest) {
                Some(names) => {
                    // Names of one directory: in the order of their bytes,
                    // as the paths would sort (httpd sorts with strcmp).
                    let host_dir = self.root.host(&resolved);
                    let mut names = names_matching(self.root, &host_dir, &names);
                    if dirs_only {
                        names.retain(|n| {
                            std::fs::symlink_metadata(host_dir.join(n)).is_ok_and(|m| m.is_dir())
                        });
                    }
                    names.sort_unstable();
                    targets.extend(names.into_iter().map(|n| resolved.join(n)));
                }
                None => {
                    // Spelled as the glob crate spells its matches (no
                    // `//` or `/./`), and escaped: a `[` in the root's
                    // own path is not a pattern.
                    let host_dir: PathBuf = self.root.host(&resolved).components().collect();
                    let host_pattern =
                        Path::new(&glob::Pattern::escape(&host_dir.to_string_lossy())).join(&rest);
                    let matches = glob::glob(&host_pattern.to_string_lossy())
                        .map_err(|e| {
                            self.error_at(Some((file, d)), format!("bad Include pattern: {e}"))
                        })?
                        .flatten()
                        .filter(|m| httpd_matches(m, &host_dir, &rest, &wild, dirs_only));
                    targets.extend(matches.map(|m| self.root.machine(&m)));
                    targets.sort();
                }
            };
        } else if let Err(e) = self.root.resolve(machine_pattern) {
            // A symlink loop: name the line that includes it.
            return Err(self.error_at(Some((file, d)), format!("cannot follow {pattern}: {e}")));
        } else if self.root.exists(machine_pattern) {
            targets.push(machine_pattern.to_path_buf());
        }
        let matched = !targets.is_empty();
        // Resolving a path costs a system call or two (a link's target,
        // its kind): for many targets it is done on every core first, and
        // the walk below, in order, finds it in the root's caches (errors
        // included: it resolves each path again and reports what fails).
        if targets.len() >= READ_AHEAD_FROM {
            let root = self.root;
            crate::parallel::map(&targets, |t| {
                if let Ok(real) = root.resolve(t) {
                    root.kind(&root.host(&real));
                }
            });
        }
        let mut files = Vec::new();
        for t in targets {
            self.files_of((file, d), &t.clone(), t, 0, &mut files)?;
        }
        Ok(Expansion { matched, files })
    }

    /// The files httpd reads for the path `t`, in its order, added to
    /// `files`: the file itself, or for a directory every entry but `.` and
    /// `..` (dot files too), sorted by name, each read the same way, so
    /// that subdirectories are read whole (httpd's
    /// `process_resource_config_nofnmatch`). Like httpd's, a directory 128
    /// levels below `top`, the path the Include names (127 are read: a
    /// link back up the tree gets there), is an error naming the line.
    fn files_of(
        &self,
        line: (usize, &Directive),
        top: &Path,
        t: PathBuf,
        depth: usize,
        files: &mut Vec<PathBuf>,
    ) -> Result<()> {
        /// httpd's `AP_MAX_INCLUDE_DIR_DEPTH`.
        const MAX_DEPTH: usize = 128;
        let host = self.root.host(&self.root.resolve(&t)?);
        let kind = self.root.kind(&host);
        if kind.is_some_and(|k| k.is_file()) {
            files.push(t);
            return Ok(());
        }
        if !kind.is_some_and(|k| k.is_dir()) {
            return Ok(());
        }
        if depth >= MAX_DEPTH {
            return Err(self.error_at(
                Some(line),
                format!(
                    "{} holds directories nested {MAX_DEPTH} levels deep, which httpd \
                     refuses too; a link inside it probably leads back up the tree: remove it, \
                     or include the files it should read",
                    top.display()
                ),
            ));
        }
        let mut inner: Vec<PathBuf> = std::fs::read_dir(&host)
            .map_err(|err| Error::Io {
                path: host.clone(),
                action: "list",
                err,
            })?
            .filter_map(|e| e.ok())
            .map(|e| t.join(e.file_name()))
            .collect();
        inner.sort();
        for p in inner {
            self.files_of(line, top, p, depth + 1, files)?;
        }
        Ok(())
    }
}

#[cfg(test)]
thread_local! {
    /// How many files this thread's loads took from a read-ahead.
    static READ_AHEAD_USED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The name index as it is built: each item's index under its directive's
/// name, lowercased. A name spelled as one seen just before is found without
/// lowercasing and hashing it again: the spellings last seen are kept by a
/// hash of their length and end bytes (a tree of 10,000 sites holds 300,000
/// items with about thirty spellings).
struct NameIndex {
    /// Each lowercased name and its number, numbered from 0 in order of
    /// first sight.
    ids: rustc_hash::FxHashMap<Box<[u8]>, usize>,
    /// The items of each numbered name, in order.
    lists: Vec<Vec<ItemIndex>>,
    /// A spelling as written and its number, by [`NameIndex::slot`].
    recent: Vec<Option<(Box<[u8]>, usize)>>,
}

impl NameIndex {
    const RECENT: usize = 64;

    fn new() -> Self {
        NameIndex {
            ids: Default::default(),
            lists: Vec::new(),
            recent: vec![None; Self::RECENT],
        }
    }

    fn slot(raw: &[u8]) -> usize {
        let (first, last) = (raw.first().copied(), raw.last().copied());
        (raw.len() * 31 + usize::from(first.unwrap_or(0)) * 7 + usize::from(last.unwrap_or(0)))
            % Self::RECENT
    }

    /// Adds `item` under the name spelled `raw` (any case).
    fn push(&mut self, raw: &[u8], item: ItemIndex) {
        let slot = Self::slot(raw);
        let id = match &self.recent[slot] {
            Some((seen, id)) if **seen == *raw => *id,
            _ => {
                let lower: Box<[u8]> = raw.to_ascii_lowercase().into();
                let next = self.ids.len();
                let id = *self.ids.entry(lower).or_insert(next);
                self.recent[slot] = Some((raw.into(), id));
                id
            }
        };
        if id == self.lists.len() {
            self.lists.push(Vec::new());
        }
        self.lists[id].push(item);
    }

    /// The index: each lowercased name's items, in order.
    fn into_map(mut self) -> rustc_hash::FxHashMap<Box<[u8]>, Vec<ItemIndex>> {
        self.ids
            .into_iter()
            .map(|(name, id)| {
                let mut list = std::mem::take(&mut self.lists[id]);
                list.shrink_to_fit();
                (name, list)
            })
            .collect()
    }
}

/// An Include of at least this many files is read ahead
/// ([`Loader::read_ahead`]); below it, starting threads costs more.
const READ_AHEAD_FROM: usize = 64;

/// A file's bytes and its syntax tree; the file is marked parsed whole
/// when the tree tiles its bytes (the planner's safety net then does not
/// parse it again to know that it is valid).
fn read_and_parse(root: &Root, machine: &Path, real: PathBuf) -> Result<(ConfigFile, Config)> {
    parse_read(ConfigFile::load_resolved(
        root,
        machine,
        real,
        Syntax::Apache,
    )?)
}

/// [`read_and_parse`] for a file already read.
fn parse_read(file: ConfigFile) -> Result<(ConfigFile, Config)> {
    let config = apache::parse(&file.source.path, &file.source.bytes)?;
    if apache::check_tiling(&config.nodes, 0, file.source.bytes.len()).is_ok() {
        file.mark_parsed_whole();
    }
    Ok((file, config))
}

/// How httpd matches an Include wildcard against a directory's entries:
/// `apr_fnmatch` with `APR_FNM_PERIOD`, so that a name starting with `.` is
/// matched only by a pattern starting with a literal `.` (`*.conf` never
/// reads `.old.conf`); case counts. The pattern is first put in the glob
/// crate's syntax ([`glob_syntax`]). Names that are not UTF-8, which httpd
/// matches, a wildcard here never matches.
const HTTPD_MATCH: glob::MatchOptions = glob::MatchOptions {
    case_sensitive: true,
    require_literal_separator: false,
    require_literal_leading_dot: true,
};

/// Whether httpd reads `pattern` as a wildcard (`apr_fnmatch_test`): it
/// holds `*` or `?`, or a `[` closed by a later `]`, not escaped by a
/// backslash. Anything else is a plain path, read as written.
fn is_wildcard(pattern: &str) -> bool {
    let mut open = false;
    let mut bytes = pattern.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'*' | b'?' => return true,
            b'\\' if bytes.next().is_none() => return false,
            b'[' => open = true,
            b']' if open => return true,
            _ => {}
        }
    }
    false
}

/// One name of an Include wildcard, from `apr_fnmatch`'s syntax to the
/// glob crate's: a run of `*` is one `*` (`apr_fnmatch` matches one name,
/// where the glob crate's `**` walks every subdirectory); a backslash makes
/// the next character literal; `[^...]` is `[!...]`; a `[` never closed is
/// a literal `[`, as httpd reads it; a class is rewritten by [`class`].
fn glob_syntax(apr: &str) -> String {
    let chars: Vec<char> = apr.chars().collect();
    let mut out = String::with_capacity(apr.len());
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' => {
                out.push('*');
                while chars.get(i + 1) == Some(&'*') {
                    i += 1;
                }
            }
            '?' => out.push('?'),
            '\\' if i + 1 < chars.len() => {
                i += 1;
                literal(&mut out, chars[i]);
            }
            '[' => match class_end(&chars, i) {
                Some(end) => {
                    class(&mut out, &chars[i + 1..end]);
                    i = end;
                }
                None => literal(&mut out, '['),
            },
            c => literal(&mut out, c),
        }
        i += 1;
    }
    out
}

/// The class `[body]` of `apr_fnmatch` written for the glob crate, which
/// knows no escapes inside a class: its members are read as
/// `apr_fnmatch` reads them (a leading `!` or `^` negates, a backslash
/// makes the next character a plain member, `a-z` is a range unless it
/// ends the class), then written where the glob crate reads each one
/// plainly. A `]` or `!` inside a range, or a range starting with `-`, is
/// split out as a single member first; then `]` comes first, ranges before
/// single members (so no member and a range read as another range), `!`
/// never first, `-` last.
fn class(out: &mut String, body: &[char]) {
    let negated = matches!(body.first(), Some('!' | '^'));
    let mut singles = Vec::new();
    let mut ranges = Vec::new();
    let mut j = usize::from(negated);
    while j < body.len() {
        if body[j] == '\\' && j + 1 < body.len() {
            j += 1;
        }
        let c = body[j];
        if body.get(j + 1) == Some(&'-') && j + 2 < body.len() {
            let mut k = j + 2;
            if body[k] == '\\' && k + 1 < body.len() {
                k += 1;
            }
            let (mut from, to) = (c, body[k]);
            if (from == '!' || from == '-') && from <= to {
                singles.push(from);
                from = char::from(from as u8 + 1);
            }
            if from <= ']' && ']' <= to {
                singles.push(']');
                if from < ']' {
                    ranges.push((from, '\\'));
                }
                from = '^';
            }
            if from <= to {
                ranges.push((from, to));
            }
            j = k + 1;
        } else {
            singles.push(c);
            j += 1;
        }
    }
    singles.sort_unstable();
    singles.dedup();
    if ranges.is_empty() && singles.is_empty() {
        // Only ranges that run backwards, which hold nothing: negated, any
        // one character; else none (no name holds a `/`).
        out.push_str(if negated { "?" } else { "[/]" });
        return;
    }
    if !negated && ranges.is_empty() && singles.len() == 1 {
        literal(out, singles[0]);
        return;
    }
    let has = |c: char| singles.contains(&c);
    let plain: Vec<char> = singles
        .iter()
        .copied()
        .filter(|c| !matches!(c, ']' | '-' | '!'))
        .collect();
    // `!` with nothing before it would negate: `-` goes first then.
    let dash_first = has('!') && !negated && !has(']') && plain.is_empty() && ranges.is_empty();
    out.push('[');
    if negated {
        out.push('!');
    }
    if has(']') {
        out.push(']');
    }
    if dash_first {
        out.push('-');
    }
    for (a, b) in &ranges {
        out.extend([*a, '-', *b]);
    }
    out.extend(plain);
    if has('!') {
        out.push('!');
    }
    if has('-') && !dash_first {
        out.push('-');
    }
    out.push(']');
}

/// `c` as a plain character of a glob crate pattern (`[*]` for `*`).
fn literal(out: &mut String, c: char) {
    match c {
        '*' | '?' | '[' | ']' => out.extend(['[', c, ']']),
        _ => out.push(c),
    }
}

/// Where the `[...]` class opened at `chars[open]` closes, as
/// `apr_fnmatch` reads it (a `]` right after `[`, `[!` or `[^` is one of
/// its characters), or `None` when it never does.
fn class_end(chars: &[char], open: usize) -> Option<usize> {
    let mut j = open + 1;
    if matches!(chars.get(j), Some('!' | '^')) {
        j += 1;
    }
    if chars.get(j) == Some(&']') {
        j += 1;
    }
    while let Some(&c) = chars.get(j) {
        match c {
            ']' => return Some(j),
            '\\' => j += 2,
            _ => j += 1,
        }
    }
    None
}

/// An Include's absolute path as httpd reads it: lexically normal (see
/// [`lexically_normal`]), with its trailing `/` kept when it had one (a
/// wildcard then matches directories only).
fn httpd_path(path: &Path, trailing_slash: bool) -> PathBuf {
    let mut normal = PathBuf::from("/");
    normal.extend(lexically_normal(path));
    if trailing_slash && normal != Path::new("/") {
        normal.as_mut_os_string().push("/");
    }
    normal
}

/// The names of the absolute path `path` with `.` dropped and each `..`
/// taking the name before it away, as httpd's `ap_server_root_relative`
/// (`apr_filepath_merge`) spells an Include's path before expanding it:
/// `inner/*/../x.conf` is `inner/x.conf`, read once.
fn lexically_normal(path: &Path) -> Vec<&std::ffi::OsStr> {
    let mut names = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(n) => names.push(n),
            Component::ParentDir => {
                names.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    names
}

/// Whether httpd matches `m`, a path the glob crate found below `dir` for
/// the pattern `rest` (in the glob crate's syntax and with its default
/// options, one name per component of `rest`; `wild` says which of them
/// httpd reads as wildcards), as `APR_FNM_PERIOD` does: no `.` or `..`
/// entry (the glob crate lets a pattern starting with `.` match them;
/// httpd would not read the directory itself, or its parent), and a name
/// starting with `.` only where its pattern starts with a literal `.`.
/// (The glob crate's own `require_literal_leading_dot` drops every dot
/// file while listing, even for `.*`.) And, as httpd keeps only
/// directories for a wildcard with more of the pattern after it, judging
/// each entry by its type in the listing, a link there is not followed
/// (`inner/*/site.conf` does not read `inner/link/site.conf`); with
/// `dirs_only` (a pattern ending in `/`), the last wildcard's matches too.
fn httpd_matches(m: &Path, dir: &Path, rest: &Path, wild: &[bool], dirs_only: bool) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let (m, dir) = (m.as_os_str().as_bytes(), dir.as_os_str().as_bytes());
    let Some(below) = m.strip_prefix(dir) else {
        return false;
    };
    let patterns: Vec<&[u8]> = rest
        .components()
        .map(|c| c.as_os_str().as_bytes())
        .collect();
    let mut names = Vec::with_capacity(patterns.len());
    let mut start = dir.len();
    for name in below.split(|&b| b == b'/') {
        if !name.is_empty() {
            // The name, and the path up to its end.
            names.push((name, &m[..start + name.len()]));
        }
        start += name.len() + 1;
    }
    names
        .iter()
        .zip(&patterns)
        .enumerate()
        .all(|(i, ((name, upto), pattern))| {
            *name != b"."
                && *name != b".."
                && (!name.starts_with(b".") || pattern.starts_with(b"."))
                && (!wild.get(i).copied().unwrap_or(true)
                    || (i + 1 == patterns.len() && !dirs_only)
                    || std::fs::symlink_metadata(std::ffi::OsStr::from_bytes(upto))
                        .is_ok_and(|md| md.is_dir()))
        })
}

/// `rest` of an Include pattern as one pattern on file names, when the
/// wildcard is in its last component only (`sites-enabled/*.conf`, the
/// common case): then one listing of the directory answers it, without the
/// `stat` of every entry that the glob crate makes to know which are
/// directories. `None` sends every other pattern to the glob crate (`**`, a
/// leading dot, which glob also lets match `.` and `..`, and a pattern it
/// would refuse, so that its error is the one reported).
fn last_component_pattern(rest: &Path) -> Option<glob::Pattern> {
    let mut parts = rest.components();
    let only = parts.next()?.as_os_str().to_str()?;
    if parts.next().is_some() || only.contains("**") || only.starts_with('.') {
        return None;
    }
    glob::Pattern::new(only).ok()
}

/// The entries of `dir` whose names match `names`, a pattern that does not
/// start with `.`, as httpd matches them: names that are not UTF-8 never
/// match, and a listing that fails, even part-way, finds nothing. No name
/// starting with `.` matches (`APR_FNM_PERIOD`), not even `.conf` for
/// `*.conf`, which the glob crate's `require_literal_leading_dot` lets
/// through since its `.` meets a literal `.` of the pattern.
fn names_matching(root: &Root, dir: &Path, names: &glob::Pattern) -> Vec<std::ffi::OsString> {
    let Some(listing) = root.list(dir) else {
        return Vec::new();
    };
    listing
        .into_iter()
        .filter(|n| {
            n.to_str()
                .is_some_and(|n| !n.starts_with('.') && names.matches_with(n, HTTPD_MATCH))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::servers::apache::layout::DEBIAN;
    use std::os::unix::ffi::OsStrExt;

    /// A file the loader marks parsed whole is one the safety net's own
    /// check accepts, and one it leaves unmarked is one the check refuses:
    /// on every Apache file of the shared corpus, valid and invalid.
    #[test]
    fn parsed_whole_is_the_verdict_of_the_check() {
        let files = crate::syntax::apache::tests::corpus_paths();
        let root = Root::new(None);
        let (mut marked, mut refused) = (0, 0);
        for f in &files {
            let check = crate::vet::invalid(Syntax::Apache, f, &std::fs::read(f).unwrap());
            match read_and_parse(&root, f, f.clone()) {
                Ok((file, _)) => {
                    assert_eq!(file.parsed_whole(), check.is_none(), "{}", f.display());
                    marked += usize::from(file.parsed_whole());
                }
                Err(_) => {
                    assert!(check.is_some(), "{}", f.display());
                    refused += 1;
                }
            }
        }
        assert!(
            marked > 50 && refused > 0,
            "{marked} marked, {refused} refused"
        );
    }

    /// The one-listing path finds what the glob crate finds with httpd's
    /// filter, on a directory with the entries that tell them apart: dot
    /// files (which neither finds), directories, symlinks (dangling too),
    /// names that are not UTF-8.
    #[test]
    fn one_listing_finds_what_glob_finds() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("sites [x]");
        std::fs::create_dir(&d).unwrap();
        for f in [
            "a.conf",
            "b.conf",
            ".hidden.conf",
            "c.load",
            "Z.CONF",
            "d.conf~",
            ".conf",
        ] {
            std::fs::write(d.join(f), "").unwrap();
        }
        std::fs::create_dir(d.join("dir.conf")).unwrap();
        std::os::unix::fs::symlink("a.conf", d.join("link.conf")).unwrap();
        std::os::unix::fs::symlink("missing", d.join("dangling.conf")).unwrap();
        std::fs::write(d.join(std::ffi::OsStr::from_bytes(b"bad\xff.conf")), "").unwrap();
        for pattern in [
            "*.conf",
            "*",
            "?.conf",
            "[ab].conf",
            "[!a]*.conf",
            "*.CONF",
            "none*",
        ] {
            let p = last_component_pattern(Path::new(pattern)).expect(pattern);
            // In the loader's order: the names' bytes.
            let mut names = names_matching(&Root::new(None), &d, &p);
            names.sort_unstable();
            let ours: Vec<PathBuf> = names.iter().map(|n| d.join(n)).collect();
            // The directory's own `[x]` would be a pattern to glob: escaped.
            let whole = format!("{}/{pattern}", glob::Pattern::escape(&d.to_string_lossy()));
            let mut theirs: Vec<PathBuf> = glob::glob(&whole)
                .unwrap()
                .flatten()
                .filter(|m| httpd_matches(m, &d, Path::new(pattern), &[true], false))
                .collect();
            theirs.sort();
            assert_eq!(ours, theirs, "{pattern}");
            assert!(
                !ours
                    .iter()
                    .any(|p| p.file_name().unwrap().as_bytes().starts_with(b".")),
                "{pattern}"
            );
        }
        for (apr, glob) in [
            ("a**b***", "a*b*"),
            ("[^a]*.conf", "[!a]*.conf"),
            ("[!a]*.conf", "[!a]*.conf"),
            ("\\.*", ".*"),
            ("\\*x", "[*]x"),
            ("*[", "*[[]"),
            ("[]x]*", "[]x]*"),
            ("[a-c]?", "[a-c]?"),
            ("a\\", "a\\"),
            ("[a\\-z]", "[az-]"),
            ("[a\\]b]", "[]ab]"),
            ("[\\!a]", "[a!]"),
            ("[\\!]*", "!*"),
            ("[\\!\\-]", "[-!]"),
            ("[^\\!]", "[!!]"),
            ("[!\\]]", "[!]]"),
            ("[a-c\\-]", "[a-c-]"),
            ("[^z-a]", "?"),
            ("[z-a]", "[/]"),
            ("[--^^]", "[].-\\^-^^-]"),
            ("[!-#]", "[!#-]"),
            ("[\\!-#]", "[\"-#!]"),
        ] {
            assert_eq!(glob_syntax(apr), glob, "{apr}");
        }
        for (pattern, wild) in [
            ("*.conf", true),
            ("a?", true),
            ("[ab]", true),
            ("conf[1.conf", false),
            ("\\*.conf", false),
            ("plain.conf", false),
            ("x\\", false),
        ] {
            assert_eq!(is_wildcard(pattern), wild, "{pattern}");
        }
        assert!(
            names_matching(
                &Root::new(None),
                &d.join("gone"),
                &glob::Pattern::new("*").unwrap()
            )
            .is_empty()
        );
        for pattern in ["**", ".*", "a/*.conf", "[.conf"] {
            assert!(
                last_component_pattern(Path::new(pattern)).is_none(),
                "{pattern}"
            );
        }
    }

    /// The name index and each virtual host's TLS flag, built in one pass
    /// with remembered spellings, are what item-by-item reading gives:
    /// names in any case, spellings that share a remembered slot (same
    /// length and end bytes), and `SSLEngine` on, off, repeated, absent
    /// (the server config's then), and inside `<Directory>` (ignored).
    #[test]
    fn the_name_index_and_tls_flags_are_what_the_items_say() {
        let main = "SSLEngine on\nAbcdE 1\nAxydE 2\nabcde 3\nABCDE 4\n\
            <VirtualHost *:443>\nSSLEngine off\nsslengine ON\nAxydE 5\n</VirtualHost>\n\
            <VirtualHost *:443>\nServerName b\n</VirtualHost>\n\
            <VirtualHost *:80>\nSSLENGINE off\n<Directory /x>\nSSLEngine on\n</Directory>\n</VirtualHost>\n\
            <VirtualHost *:443>\nSSLEngine optional\nAbcdE 6\n</VirtualHost>\n";
        let t = tree_at(&[("etc/apache2/apache2.conf", main)]);
        let root = Root::new(Some(t.path().to_path_buf()));
        let tree = ApacheTree::load(&root, &DEBIAN).unwrap();
        let mut want: std::collections::BTreeMap<Vec<u8>, Vec<ItemIndex>> = Default::default();
        for (k, i) in (0..).zip(tree.items.iter()) {
            let name = i
                .directive
                .name
                .slice(tree.bytes(i.file()))
                .to_ascii_lowercase();
            want.entry(name).or_default().push(k);
        }
        let got: std::collections::BTreeMap<Vec<u8>, Vec<ItemIndex>> = tree
            .by_name
            .iter()
            .map(|(n, l)| (n.to_vec(), l.clone()))
            .collect();
        assert_eq!(got, want);
        assert_eq!(got[&b"abcde"[..]].len(), 4);
        assert_eq!(got[&b"axyde"[..]].len(), 2);
        let flags: Vec<bool> = (0..tree.vhosts.len())
            .map(|v| tree.engine_on_in(v))
            .collect();
        assert_eq!(tree.tls, flags);
        assert_eq!(flags, vec![true, true, false, false]);
    }

    /// A tree under a temporary root, from (path, contents) pairs.
    fn tree_at(files: &[(&str, &str)]) -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let host = t.path().join(path);
            std::fs::create_dir_all(host.parent().unwrap()).unwrap();
            std::fs::write(host, text).unwrap();
        }
        t
    }

    /// An Include of many files, read ahead on every core, loads what the
    /// walk reading them one by one loads (an overlay root reads that way),
    /// in the same order: links, a file named twice (read once, walked
    /// twice), the same Include twice and a missing link target included;
    /// each file read ahead is used once; and a file that fails to parse
    /// among them gives the same error.
    #[test]
    fn an_include_read_ahead_loads_what_one_by_one_loads() {
        let mut files: Vec<(String, String)> = vec![(
            "etc/apache2/apache2.conf".into(),
            "ServerName main\nInclude sites/*.conf\nInclude sites/*.conf\n".into(),
        )];
        for n in 0..READ_AHEAD_FROM + 16 {
            let text = format!("<VirtualHost *:443>\n    ServerName s{n}\n</VirtualHost>\n");
            files.push((format!("etc/apache2/avail/s{n:03}.conf"), text));
        }
        let refs: Vec<(&str, &str)> = files.iter().map(|(p, t)| (&p[..], &t[..])).collect();
        let t = tree_at(&refs);
        let sites = t.path().join("etc/apache2/sites");
        std::fs::create_dir(&sites).unwrap();
        for n in 0..READ_AHEAD_FROM + 16 {
            let target = format!("../avail/s{n:03}.conf");
            std::os::unix::fs::symlink(&target, sites.join(format!("s{n:03}.conf"))).unwrap();
        }
        std::os::unix::fs::symlink("../avail/s007.conf", sites.join("twice.conf")).unwrap();
        std::os::unix::fs::symlink("../avail/gone.conf", sites.join("gone.conf")).unwrap();
        let load = |overlay: bool| {
            let root = Root::new(Some(t.path().to_path_buf()));
            let root = match overlay {
                true => root.with_overlay(Default::default()),
                false => root,
            };
            ApacheTree::load(&root, &DEBIAN).map(|tree| {
                let files: Vec<(PathBuf, PathBuf)> = tree
                    .files
                    .iter()
                    .map(|(f, _)| (f.shown().to_path_buf(), f.real.clone()))
                    .collect();
                let names: Vec<String> = (0..tree.vhosts.len())
                    .map(|v| tree.server_name(v).unwrap_or_default())
                    .collect();
                (files, names, tree.items.len())
            })
        };
        let used = || READ_AHEAD_USED.with(|n| n.get());
        let before = used();
        let ahead = load(false).unwrap();
        // Every site file was read ahead and used once; the one named
        // twice, and all of them at the second Include, are found read
        // already (and not read ahead again).
        assert_eq!(used() - before, READ_AHEAD_FROM + 16);
        let one_by_one = load(true).unwrap();
        assert_eq!(used() - before, READ_AHEAD_FROM + 16);
        assert_eq!(ahead.0.len(), READ_AHEAD_FROM + 17);
        assert_eq!(ahead.1.len(), 2 * (READ_AHEAD_FROM + 17));
        assert_eq!(ahead.1.last().map(String::as_str), Some("s7"));
        assert_eq!(ahead, one_by_one);
        std::fs::write(
            t.path().join("etc/apache2/avail/s040.conf"),
            "<VirtualHost *:443>\n",
        )
        .unwrap();
        let (ahead, one_by_one) = (load(false).unwrap_err(), load(true).unwrap_err());
        assert!(ahead.to_string().contains("s040.conf:1:"), "{ahead}");
        assert_eq!(ahead.to_string(), one_by_one.to_string());
    }

    /// The plan made again on an overlay includes the files the first load
    /// found, without listing the directory again: a file that appears in
    /// between is not seen by a root sharing the first one's caches, and
    /// is seen by a fresh one.
    #[test]
    fn an_include_pattern_is_expanded_once_per_run() {
        let site = "<VirtualHost *:443>\nServerName x.test\n</VirtualHost>\n";
        let t = tree_at(&[
            (
                "etc/apache2/apache2.conf",
                "IncludeOptional sites-enabled/*.conf\nInclude conf.d/\n",
            ),
            ("etc/apache2/sites-enabled/a.conf", site),
            ("etc/apache2/sites-enabled/b.conf", site),
            ("etc/apache2/conf.d/one.conf", site),
        ]);
        let root = Root::new(Some(t.path().to_path_buf()));
        let vhosts = |r: &Root| ApacheTree::load(r, &DEBIAN).unwrap().vhosts.len();
        assert_eq!(vhosts(&root), 3);
        for late in ["sites-enabled/c.conf", "conf.d/two.conf"] {
            std::fs::write(t.path().join("etc/apache2").join(late), site).unwrap();
        }
        let overlay = root.with_overlay(Default::default());
        assert_eq!(vhosts(&overlay), 3, "expanded again");
        // Read again later (the probe after a reload), the tree is seen as
        // it is now.
        assert_eq!(vhosts(&root.fresh()), 5);
    }

    /// Whether an Include may match nothing is its own: a remembered empty
    /// expansion of an `IncludeOptional` does not let a plain `Include` of
    /// the same pattern through, in the first load or on an overlay.
    #[test]
    fn a_remembered_empty_expansion_still_refuses_a_plain_include() {
        let t = tree_at(&[
            (
                "etc/apache2/apache2.conf",
                "IncludeOptional conf.d/*.conf\nIncludeOptional missing.conf\n\
                 Include conf.d/*.conf\n",
            ),
            ("etc/apache2/conf.d/README", ""),
            ("etc/apache2/other.conf", "Include missing.conf\n"),
        ]);
        let root = Root::new(Some(t.path().to_path_buf()));
        for r in [root.clone(), root.with_overlay(Default::default())] {
            let e = ApacheTree::load(&r, &DEBIAN).unwrap_err().to_string();
            assert!(e.contains("matches no file") && e.contains(":3:"), "{e}");
        }
        std::fs::write(
            t.path().join("etc/apache2/apache2.conf"),
            "IncludeOptional missing.conf\nInclude other.conf\n",
        )
        .unwrap();
        let e = ApacheTree::load(&root.with_overlay(Default::default()), &DEBIAN)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("does not exist") && e.contains("other.conf:1:"),
            "{e}"
        );
    }

    /// A tree of 10,000 sites keeps about 220,000 items, so their size is
    /// the tree's size: a field that makes them larger should be a choice.
    #[test]
    fn an_item_is_56_bytes() {
        assert_eq!(std::mem::size_of::<Directive>(), 28);
        assert_eq!(std::mem::size_of::<Item>(), 56);
    }

    /// A directory Include that leads back into itself through a link is
    /// an error naming the Include line once it is 128 directories deep,
    /// as httpd's is, not a walk without end.
    #[test]
    fn a_directory_include_looping_through_a_link_is_an_error() {
        let t = tree_at(&[
            ("etc/apache2/apache2.conf", "ServerName x\nInclude conf.d\n"),
            ("etc/apache2/conf.d/a.conf", "ServerAdmin a@x\n"),
        ]);
        std::os::unix::fs::symlink(".", t.path().join("etc/apache2/conf.d/again")).unwrap();
        let e = ApacheTree::load(&Root::new(Some(t.path().to_path_buf())), &DEBIAN)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(
                "apache2.conf:2:1: /etc/apache2/conf.d holds directories nested 128 levels deep"
            ),
            "{e}"
        );
    }

    /// A file included twice is walked twice, though its syntax tree is
    /// let go after the first walk: it is parsed again, read once, and
    /// each walk gives the same directives in its own virtual host.
    #[test]
    fn a_file_included_twice_is_walked_twice_and_read_once() {
        let t = tree_at(&[
            (
                "etc/apache2/apache2.conf",
                "<VirtualHost *:443>\nInclude common.conf\n</VirtualHost>\n\
                 <VirtualHost *:8443>\nInclude common.conf\n</VirtualHost>\n",
            ),
            (
                "etc/apache2/common.conf",
                "#SSLProtocol all\n<IfModule mod_ssl.c>\n  SSLEngine on\n</IfModule>\n",
            ),
        ]);
        let tree = ApacheTree::load(&Root::new(Some(t.path().to_path_buf())), &DEBIAN).unwrap();
        assert_eq!(tree.files.len(), 2, "read once");
        let engines: Vec<&Item> = tree.named("SSLEngine").collect();
        assert_eq!(engines.len(), 2);
        assert_eq!((engines[0].vhost(), engines[1].vhost()), (Some(0), Some(1)));
        assert_eq!(engines[0].directive.span, engines[1].directive.span);
        assert_eq!(engines[0].parent(), engines[1].parent());
        assert!(tree.vhost_is_tls(0) && tree.vhost_is_tls(1));
        assert_eq!(tree.files[1].1.under(None).count(), 1);
    }

    /// `first_arg` and `any_arg` read the arguments as `args` does: quoted,
    /// escaped, not UTF-8, none at all, and inside a macro body.
    #[test]
    fn first_arg_and_any_arg_agree_with_args() {
        let t = tree_at(&[(
            "etc/apache2/apache2.conf",
            "<Macro Site $name $to>\n<VirtualHost *:80>\nServerName $name\n\
             Redirect permanent / $to\n</VirtualHost>\n</Macro>\n\
             Use Site a.test HTTPS://a.test/\n\
             Use Site \"b.test\" http://b.test/\n\
             Header always set X \"quoted \\\" value\"\n\
             Alias '/.well-known/acme-challenge/' /var/www\n\
             ServerName caf\u{e9}.test\n\
             SSLEngine\n",
        )]);
        let host = t.path().join("etc/apache2/apache2.conf");
        let mut bytes = std::fs::read(&host).unwrap();
        bytes.extend_from_slice(b"ServerAdmin x\xff@test\n");
        std::fs::write(&host, bytes).unwrap();
        let tree = ApacheTree::load(&Root::new(Some(t.path().to_path_buf())), &DEBIAN).unwrap();
        let wanted: [fn(&str) -> bool; 4] = [
            |a| a.to_ascii_lowercase().starts_with("https://"),
            |a| a.contains("acme-challenge"),
            |a| a.contains('\u{fffd}'),
            |a| a.contains("quoted \" value"),
        ];
        let mut seen = [0; 4];
        for item in tree.items.iter() {
            let args = tree.args(item);
            assert_eq!(tree.first_arg(item), args.first().cloned());
            for (k, w) in wanted.iter().enumerate() {
                let any = args.iter().any(|a| w(a));
                assert_eq!(tree.any_arg(item, w), any, "{args:?}");
                seen[k] += usize::from(any);
            }
        }
        // Each kind of argument was there to be read; https twice: the
        // `Use` line and the body's Redirect it expands (through `$to`).
        assert_eq!(seen, [2, 1, 1, 1]);
    }
}
