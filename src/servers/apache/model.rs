//! An Apache configuration as httpd reads it: the main file with every
//! `Include`/`IncludeOptional` followed (globs, directories, relative to
//! ServerRoot), flattened into the directives in the order httpd sees them,
//! each with its file and scope (server config, which virtual host, inside a
//! per-directory section or not).
//!
//! Each file is read and parsed once, however often it is included, so the
//! cost is linear in the size of the tree. Include cycles and missing targets
//! are errors that name the `Include` line.

use crate::discover::{ConfigFile, Root};
use crate::error::{Error, Result};
use crate::source::{ParseError, Span};
use crate::syntax::Syntax;
use crate::syntax::apache::{self, Config, Directive, Node};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// One directive where httpd sees it.
#[derive(Debug, Clone)]
pub struct Item {
    /// Index into [`ApacheTree::files`].
    pub file: usize,
    pub directive: Directive,
    /// The virtual host it belongs to, `None` for the server config.
    pub vhost: Option<usize>,
    /// Inside `<Directory>`, `<Location>`, `<Files>`, `<If>` and the like.
    pub per_dir: bool,
    /// The span of the innermost enclosing section in `file`, `None` at the
    /// top level of the file (for finding commented-out siblings).
    pub parent: Option<Span>,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Debian,
    Redhat,
}

#[derive(Debug)]
pub struct ApacheTree {
    pub files: Vec<(ConfigFile, Config)>,
    pub items: Vec<Item>,
    pub vhosts: Vec<VHost>,
    pub layout: Layout,
    pub server_root: PathBuf,
    /// Indices of the items of each virtual host, and of the server config,
    /// outside per-directory sections: built once so that rules stay linear.
    by_vhost: Vec<Vec<usize>>,
    server: Vec<usize>,
    /// `SSLEngine on` in the server config.
    global_tls: bool,
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
    files: Vec<(ConfigFile, Config)>,
    by_real: HashMap<PathBuf, usize>,
    items: Vec<Item>,
    vhosts: Vec<VHost>,
    server_root: PathBuf,
    defines: HashMap<String, String>,
    stack: Vec<PathBuf>,
}

impl ApacheTree {
    pub fn load(root: &Root, main: &Path) -> Result<ApacheTree> {
        let layout = if main.starts_with("/etc/apache2") {
            Layout::Debian
        } else {
            Layout::Redhat
        };
        let mut l = Loader {
            root,
            files: Vec::new(),
            by_real: HashMap::new(),
            items: Vec::new(),
            vhosts: Vec::new(),
            server_root: main
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from("/")),
            defines: HashMap::new(),
            stack: Vec::new(),
        };
        if layout == Layout::Redhat {
            l.server_root = PathBuf::from("/etc/httpd");
        }
        let idx = l.include_file(main, None)?;
        l.walk_file(idx, None, false)?;
        let mut tree = ApacheTree {
            files: l.files,
            items: l.items,
            vhosts: l.vhosts,
            layout,
            server_root: l.server_root,
            by_vhost: Vec::new(),
            server: Vec::new(),
            global_tls: false,
        };
        tree.by_vhost = vec![Vec::new(); tree.vhosts.len()];
        for (k, i) in tree.items.iter().enumerate() {
            match (i.per_dir, i.vhost) {
                (true, _) => {}
                (false, Some(v)) => tree.by_vhost[v].push(k),
                (false, None) => tree.server.push(k),
            }
        }
        tree.global_tls = tree.engine_on(tree.server_items());
        Ok(tree)
    }

    pub fn bytes(&self, file: usize) -> &[u8] {
        &self.files[file].0.source.bytes
    }

    pub fn name_of(&self, item: &Item) -> String {
        String::from_utf8_lossy(item.directive.name.slice(self.bytes(item.file))).into_owned()
    }

    pub fn is(&self, item: &Item, name: &str) -> bool {
        item.directive.name_is(self.bytes(item.file), name)
    }

    pub fn args(&self, item: &Item) -> Vec<String> {
        item.directive.arg_values(self.bytes(item.file))
    }

    pub fn line(&self, item: &Item) -> usize {
        self.files[item.file]
            .0
            .source
            .line_of(item.directive.name.start)
    }

    /// Modules named by `LoadModule`, lowercased; `None` when the tree loads
    /// none at all (a static build, or a tree we only see part of).
    pub fn modules(&self) -> Option<HashSet<String>> {
        let set: HashSet<String> = self
            .items
            .iter()
            .filter(|i| self.is(i, "LoadModule"))
            .filter_map(|i| self.args(i).first().map(|a| a.to_ascii_lowercase()))
            .collect();
        if set.is_empty() { None } else { Some(set) }
    }

    /// Whether `module` (e.g. `headers_module`) is loaded; `true` when unknown.
    pub fn has_module(&self, module: &str) -> bool {
        self.modules().is_none_or(|m| m.contains(module))
    }

    /// Server-config items that are not inside a per-directory section.
    pub fn server_items(&self) -> impl Iterator<Item = &Item> {
        self.server.iter().map(|&k| &self.items[k])
    }

    pub fn vhost_items(&self, v: usize) -> impl Iterator<Item = &Item> {
        self.by_vhost[v].iter().map(|&k| &self.items[k])
    }

    fn engine_on<'a>(&self, items: impl Iterator<Item = &'a Item>) -> bool {
        items
            .filter(|i| self.is(i, "SSLEngine"))
            .last()
            .and_then(|i| self.args(i).first().map(|a| a.eq_ignore_ascii_case("on")))
            .unwrap_or(false)
    }

    /// A virtual host serves TLS when `SSLEngine on` applies to it.
    pub fn vhost_is_tls(&self, v: usize) -> bool {
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
                    let a = a.split("://").last().unwrap_or(&a).to_ascii_lowercase();
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
            .and_then(|i| self.args(i).first().cloned())
    }
}

impl Loader<'_> {
    fn include_file(&mut self, machine: &Path, from: Option<(usize, &Directive)>) -> Result<usize> {
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
        let idx = match self.by_real.get(&real) {
            Some(&i) => i,
            None => {
                let file = ConfigFile::load(self.root, machine, Syntax::Apache)?;
                let config = apache::parse(&file.source.path, &file.source.bytes)?;
                self.files.push((file, config));
                self.by_real.insert(real.clone(), self.files.len() - 1);
                self.files.len() - 1
            }
        };
        Ok(idx)
    }

    fn error_at(&self, from: Option<(usize, &Directive)>, message: String) -> Error {
        match from {
            Some((f, d)) => {
                let src = &self.files[f].0.source;
                Error::Parse(ParseError::at(&src.path, &src.bytes, d.name.start, message))
            }
            None => Error::Other(message),
        }
    }

    fn walk_file(&mut self, idx: usize, vhost: Option<usize>, per_dir: bool) -> Result<()> {
        let real = self.files[idx].0.real.clone();
        self.stack.push(real);
        // Taken out for the walk and put back, not cloned: a file never
        // includes itself (the stack refuses a cycle).
        let nodes = std::mem::take(&mut self.files[idx].1.nodes);
        let walked = self.walk(idx, &nodes, vhost, per_dir, None);
        self.files[idx].1.nodes = nodes;
        walked?;
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
        for node in nodes {
            match node {
                Node::Trivia(_) => {}
                Node::Directive(d) => {
                    let bytes = &self.files[file].0.source.bytes;
                    // Arguments are unquoted (an allocation each) only for
                    // the few directives the loader itself acts on.
                    let name = ["define", "serverroot", "include", "includeoptional"]
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
                    if name == "serverroot" && !args.is_empty() && self.items.is_empty() {
                        self.server_root = PathBuf::from(&args[0]);
                    }
                    self.items.push(Item {
                        file,
                        directive: d.clone(),
                        vhost,
                        per_dir,
                        parent,
                    });
                    if (name == "include" || name == "includeoptional")
                        && !args.is_empty()
                        && !per_dir
                    {
                        self.include(file, d, &args[0], name == "includeoptional", vhost)?;
                    }
                }
                Node::Section(s) => {
                    let bytes = &self.files[file].0.source.bytes;
                    let name =
                        String::from_utf8_lossy(s.open.name.slice(bytes)).to_ascii_lowercase();
                    let span = node.span();
                    if name == "macro" {
                        continue; // a template, not configuration until Use'd
                    }
                    if name == "virtualhost" && vhost.is_none() && !per_dir {
                        let addresses = s.open.arg_values(bytes);
                        let child_indent = s.children.iter().find_map(|c| match c {
                            Node::Directive(d) => Some(d.indent),
                            Node::Section(s) => Some(s.open.indent),
                            _ => None,
                        });
                        self.vhosts.push(VHost {
                            file,
                            open: s.open.clone(),
                            close: s.close,
                            child_indent,
                            addresses,
                        });
                        let v = self.vhosts.len() - 1;
                        self.walk(file, &s.children, Some(v), per_dir, Some(span))?;
                    } else {
                        let inner_per_dir = per_dir || !TRANSPARENT.contains(&name.as_str());
                        self.walk(file, &s.children, vhost, inner_per_dir, Some(span))?;
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
        let machine_pattern = if Path::new(&pattern).is_absolute() {
            PathBuf::from(&pattern)
        } else {
            self.server_root.join(&pattern)
        };
        let wildcard = pattern.contains(['*', '?', '[']);
        let mut targets: Vec<PathBuf> = Vec::new();
        if wildcard {
            let host_pattern = self.root.host(&machine_pattern);
            let matches = glob::glob(&host_pattern.to_string_lossy())
                .map_err(|e| self.error_at(Some((file, d)), format!("bad Include pattern: {e}")))?;
            for m in matches.flatten() {
                targets.push(self.root.machine(&m));
            }
            targets.sort();
            if targets.is_empty() && !optional {
                return Err(self.error_at(
                    Some((file, d)),
                    format!("Include {pattern} matches no file (httpd refuses this; use IncludeOptional if that is intended)"),
                ));
            }
        } else if self.root.exists(&machine_pattern) {
            targets.push(machine_pattern.clone());
        } else if !optional {
            return Err(self.error_at(
                Some((file, d)),
                format!(
                    "Include target {} does not exist",
                    self.root.host(&machine_pattern).display()
                ),
            ));
        }
        let mut files = Vec::new();
        for t in targets {
            let host = self.root.host(&self.root.resolve(&t)?);
            if host.is_dir() {
                let mut inner: Vec<PathBuf> = std::fs::read_dir(&host)
                    .map_err(|err| Error::Io {
                        path: host.clone(),
                        action: "list",
                        err,
                    })?
                    .filter_map(|e| e.ok())
                    .map(|e| t.join(e.file_name()))
                    .filter(|p| self.root.host(p).is_file())
                    .collect();
                inner.sort();
                files.extend(inner);
            } else if host.is_file() {
                files.push(t);
            }
        }
        for f in files {
            let idx = self.include_file(&f, Some((file, d)))?;
            self.walk_file(idx, vhost, false)?;
        }
        Ok(())
    }
}
