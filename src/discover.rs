//! Which configuration files a machine has, read from the real `/` or from a
//! directory standing in for it (`--root`).
//!
//! Paths come in three kinds: the *machine path* as the daemon names it
//! (`/etc/apache2/sites-enabled/x.conf`), the *real* machine path after
//! following symlinks inside the root, and the *host path* where this process
//! reads and writes it (the root joined with the real path). Symlinks are
//! followed inside the root, so an absolute link target in a `--root` image
//! never escapes to the host's own `/etc`.

use crate::error::{Error, Result};
use crate::source::Source;
use crate::syntax::Syntax;
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A map keyed by a path's bytes, not by its components: std's `Path`
/// hashes a path component by component, which was 4 % of an audit at
/// 10,000 sites. The keys of Root's caches, the overlay, a report's files
/// and the loader's files are made the way their lookups are (by
/// [`Root::resolve`] and [`Root::host`], from components: no `.`, no
/// doubled or trailing `/` past the root), so equal paths have equal bytes.
/// A map keyed by a path as written in a configuration (the certificate
/// cache) may hold one file under two spellings, which costs a second
/// read and nothing else.
pub type ByPath<V> = FxHashMap<std::ffi::OsString, V>;

#[derive(Clone, Debug)]
pub struct Root {
    dir: Option<PathBuf>,
    /// Planned bytes that stand in for files on disk (host path → bytes):
    /// how the planner plans again on its own result without writing it.
    /// Only file contents change, never which paths exist nor where
    /// symlinks lead, so an overlay root shares the caches below.
    overlay: Option<Arc<ByPath<Arc<[u8]>>>>,
    /// Directories already resolved: machine path as named → real machine
    /// path. Shared by clones; a run does not turn a directory into a
    /// symlink nor replace a symlink, so an entry stays true for the life
    /// of the process.
    dirs: Arc<Mutex<ByPath<PathBuf>>>,
    /// Paths already resolved that exist, the same way.
    files: Arc<Mutex<ByPath<PathBuf>>>,
    /// What kind of thing each host path already looked at is (followed
    /// through links), the same way.
    kinds: Arc<Mutex<ByPath<std::fs::FileType>>>,
    /// The entries of directories listed by [`Root::list`] that are
    /// symbolic links, the same way: the links a2ensite makes in
    /// `sites-enabled` are then resolved without an `lstat` each. Only
    /// links: a listing does not see mounts, and a file with something
    /// mounted over it (`/dev/null` over a `conf.d` file in a container)
    /// is what `lstat` says, not what the listing says.
    listed: Arc<Mutex<ByPath<std::fs::FileType>>>,
    /// What each `Include` pattern already expanded named, the same way
    /// (see [`Expansion`]): the second plan, on an overlay, then includes
    /// the same files without listing and matching directories again.
    expansions: Arc<Mutex<FxHashMap<ExpansionKey, Arc<Expansion>>>>,
}

/// An `Include` pattern as the loader expands it: its absolute machine
/// path, and whether it is read as a wildcard.
pub type ExpansionKey = (PathBuf, bool);

/// What an `Include` pattern names on this machine: a function of which
/// paths exist and where links lead, never of file contents.
#[derive(Debug, Default)]
pub struct Expansion {
    /// Whether the pattern matched anything (a wildcard), or names a path
    /// that exists (a plain path): without it, `Include` is an error.
    pub matched: bool,
    /// The files to include, in httpd's order (machine paths).
    pub files: Vec<PathBuf>,
}

impl Root {
    pub fn new(dir: Option<PathBuf>) -> Self {
        Root {
            dir,
            overlay: None,
            dirs: Arc::default(),
            files: Arc::default(),
            kinds: Arc::default(),
            listed: Arc::default(),
            expansions: Arc::default(),
        }
    }
    /// The same root, with these host files read as the given bytes.
    pub fn with_overlay(&self, files: ByPath<Arc<[u8]>>) -> Root {
        Root {
            dir: self.dir.clone(),
            overlay: Some(Arc::new(files)),
            dirs: self.dirs.clone(),
            files: self.files.clone(),
            kinds: self.kinds.clone(),
            listed: self.listed.clone(),
            expansions: self.expansions.clone(),
        }
    }
    /// The same root with nothing remembered (and no overlay): for reading
    /// the machine again once time has passed and files may have changed
    /// (after the review, which waits on a person, the commit and a
    /// reload), where the caches' promise that a run sees one state of the
    /// tree no longer holds.
    pub fn fresh(&self) -> Root {
        Root::new(self.dir.clone())
    }
    /// Whether this root shows planned bytes instead of the disk.
    pub fn is_overlay(&self) -> bool {
        self.overlay.is_some()
    }
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }
    /// Where this process finds a machine path.
    pub fn host(&self, machine: &Path) -> PathBuf {
        match &self.dir {
            None => machine.to_path_buf(),
            Some(d) => joined(d, below_root(machine)),
        }
    }
    /// The machine path of a host path inside the root.
    pub fn machine(&self, host: &Path) -> PathBuf {
        match &self.dir {
            None => host.to_path_buf(),
            Some(d) => Path::new("/").join(host.strip_prefix(d).unwrap_or(host)),
        }
    }
    /// The path a unified diff names, so that `patch -p0` applies it from the
    /// root (relative with `--root`, absolute without).
    pub fn diff_name(&self, machine: &Path) -> String {
        match &self.dir {
            None => machine.display().to_string(),
            Some(_) => machine
                .strip_prefix("/")
                .unwrap_or(machine)
                .display()
                .to_string(),
        }
    }
    /// Follows symlinks, component by component, without leaving the root.
    ///
    /// The directory part is resolved once per directory and remembered
    /// (only directories that exist), so a tree of thousands of files in a
    /// few directories costs about one `lstat` per file, not one per
    /// component of each path.
    pub fn resolve(&self, machine: &Path) -> Result<PathBuf> {
        // A path already resolved, named as the cache names it (each
        // file of an Include is asked for three times a run), is found
        // without splitting it into components and building its key.
        if let Some(key) = spelled_as_key(machine)
            && let Some(hit) = self.files.lock().ok().and_then(|c| c.get(key).cloned())
        {
            return Ok(hit);
        }
        let comps: Vec<&std::ffi::OsStr> = machine
            .components()
            .filter(|c| matches!(c, Component::Normal(_) | Component::ParentDir))
            .map(|c| c.as_os_str())
            .collect();
        let Some((last, dir)) = comps.split_last() else {
            return Ok(PathBuf::from("/"));
        };
        let key = absolute(&comps);
        if let Some(hit) = self.files.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return Ok(hit);
        }
        let done = self.resolve_dir(dir)?;
        let (done, exists) = self.walk(done, VecDeque::from([PathBuf::from(last)]))?;
        if exists && let Ok(mut c) = self.files.lock() {
            c.insert(key, done.clone());
        }
        Ok(done)
    }

    /// The resolved directory of the components `dir`, from the cache or
    /// resolved and then cached.
    fn resolve_dir(&self, dir: &[&std::ffi::OsStr]) -> Result<PathBuf> {
        let Some((last, parent)) = dir.split_last() else {
            return Ok(PathBuf::from("/"));
        };
        let key = absolute(dir);
        if let Some(hit) = self.dirs.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return Ok(hit);
        }
        let done = self.resolve_dir(parent)?;
        let (done, _) = self.walk(done, VecDeque::from([PathBuf::from(last)]))?;
        if self.host(&done).is_dir()
            && let Ok(mut c) = self.dirs.lock()
        {
            c.insert(key, done.clone());
        }
        Ok(done)
    }

    /// Resolves the components `todo` from the resolved directory `done`;
    /// also whether the last thing looked up exists.
    fn walk(&self, mut done: PathBuf, mut todo: VecDeque<PathBuf>) -> Result<(PathBuf, bool)> {
        let mut hops = 0;
        let mut exists = false;
        while let Some(c) = todo.pop_front() {
            if c == Path::new("..") {
                done.pop();
                exists = false;
                continue;
            }
            let candidate = joined(&done, &c);
            // A directory on the way (a relative link's `../dir/file`) is
            // resolved once, as in resolve_dir.
            let on_the_way = !todo.is_empty();
            if on_the_way
                && let Some(hit) = self
                    .dirs
                    .lock()
                    .ok()
                    .and_then(|d| d.get(candidate.as_os_str()).cloned())
            {
                done = hit;
                exists = true;
                continue;
            }
            let host = self.host(&candidate);
            let listed = self
                .listed
                .lock()
                .ok()
                .and_then(|l| l.get(host.as_os_str()).copied());
            let meta = match listed {
                Some(kind) => Ok(kind),
                None => std::fs::symlink_metadata(&host).map(|m| m.file_type()),
            };
            exists = meta.is_ok();
            if on_the_way
                && meta.as_ref().is_ok_and(|m| m.is_dir())
                && let Ok(mut d) = self.dirs.lock()
            {
                d.insert(candidate.clone().into_os_string(), candidate.clone());
            }
            match meta {
                Ok(m) if m.is_symlink() => {
                    hops += 1;
                    if hops > 40 {
                        return Err(Error::Other(format!(
                            "{}: too many levels of symbolic links",
                            host.display()
                        )));
                    }
                    let target = std::fs::read_link(&host).map_err(|err| Error::Io {
                        path: host.clone(),
                        action: "read the link",
                        err,
                    })?;
                    if target.is_absolute() {
                        done = PathBuf::from("/");
                    }
                    for (i, tc) in target
                        .components()
                        .filter(|c| matches!(c, Component::Normal(_) | Component::ParentDir))
                        .enumerate()
                    {
                        todo.insert(i, PathBuf::from(tc.as_os_str()));
                    }
                }
                Ok(m) => {
                    // Not a link, so what `kind` would ask `stat` for:
                    // an Include of 10,000 files asks it of each.
                    if let Ok(mut k) = self.kinds.lock() {
                        k.entry(host.into_os_string()).or_insert(m);
                    }
                    done = candidate;
                }
                Err(_) => done = candidate,
            }
        }
        Ok((done, exists))
    }
    /// The names in the host directory `dir`, remembering which entries
    /// are symbolic links (the listing itself says it on the usual file
    /// systems: no call per entry); `None` when the listing fails, even
    /// part-way.
    pub fn list(&self, dir: &Path) -> Option<Vec<std::ffi::OsString>> {
        let entries = std::fs::read_dir(dir)
            .ok()?
            .collect::<std::io::Result<Vec<_>>>()
            .ok()?;
        let mut kinds = Vec::with_capacity(entries.len());
        let mut names = Vec::with_capacity(entries.len());
        for e in entries {
            // A link cannot have anything mounted over it.
            if let Ok(kind) = e.file_type()
                && kind.is_symlink()
            {
                kinds.push((e.path().into_os_string(), kind));
            }
            names.push(e.file_name());
        }
        if let Ok(mut listed) = self.listed.lock() {
            for (path, kind) in kinds {
                listed.entry(path).or_insert(kind);
            }
        }
        Some(names)
    }
    /// What the `Include` pattern `key` named when it was expanded before,
    /// by this root or one it shares its caches with.
    pub fn expansion(&self, key: &ExpansionKey) -> Option<Arc<Expansion>> {
        self.expansions.lock().ok()?.get(key).cloned()
    }
    /// Remembers what the `Include` pattern `key` names.
    pub fn remember_expansion(&self, key: ExpansionKey, expansion: Arc<Expansion>) {
        if let Ok(mut e) = self.expansions.lock() {
            e.entry(key).or_insert(expansion);
        }
    }
    /// What the host path `host` is, following links (`stat`), remembered
    /// like the paths above; `None` when it does not exist.
    pub fn kind(&self, host: &Path) -> Option<std::fs::FileType> {
        if let Some(hit) = self
            .kinds
            .lock()
            .ok()
            .and_then(|k| k.get(host.as_os_str()).copied())
        {
            return Some(hit);
        }
        let kind = std::fs::metadata(host).ok()?.file_type();
        if let Ok(mut k) = self.kinds.lock() {
            k.insert(host.as_os_str().to_owned(), kind);
        }
        Some(kind)
    }
    pub fn exists(&self, machine: &Path) -> bool {
        self.resolve(machine)
            .map(|r| self.host(&r).exists())
            .unwrap_or(false)
    }
}

/// `a.join(b)` in one allocation of the right size (`join` copies `a`
/// exactly, then grows the copy for `b`): every file's host path is made
/// this way.
fn joined(a: &Path, b: &Path) -> PathBuf {
    let mut path = PathBuf::with_capacity(a.as_os_str().len() + 1 + b.as_os_str().len());
    path.push(a);
    path.push(b);
    path
}

/// The absolute path of the components `comps` (each a name or `..`), as
/// collecting `/` and them into a `PathBuf` spells it, in one allocation:
/// the key of the resolution caches.
fn absolute(comps: &[&std::ffi::OsStr]) -> std::ffi::OsString {
    let mut key =
        std::ffi::OsString::with_capacity(comps.iter().map(|c| c.len() + 1).sum::<usize>().max(1));
    if comps.is_empty() {
        key.push("/");
    }
    for c in comps {
        key.push("/");
        key.push(c);
    }
    key
}

/// `machine` itself when it is spelled as [`absolute`] spells the key of
/// its components: from `/`, with no empty or `.` component and no `/` at
/// the end (`..` stays a component in both).
fn spelled_as_key(machine: &Path) -> Option<&std::ffi::OsStr> {
    use std::os::unix::ffi::OsStrExt;
    let b = machine.as_os_str().as_bytes();
    let plain = b.len() >= 2
        && b[0] == b'/'
        && b[b.len() - 1] != b'/'
        && b[1..]
            .split(|&c| c == b'/')
            .all(|s| !s.is_empty() && s != b".");
    plain.then_some(machine.as_os_str())
}

/// `machine` as `machine.strip_prefix("/")` gives it (itself when it is
/// relative), read from the bytes when only the leading `/` goes: `Path`
/// parses every component to strip one, and every file's host path is made
/// from its machine path.
fn below_root(machine: &Path) -> &Path {
    use std::os::unix::ffi::OsStrExt;
    let b = machine.as_os_str().as_bytes();
    // strip_prefix also drops `.` and empty components at either end.
    let plain = b.len() >= 2
        && b[0] == b'/'
        && b[1] != b'/'
        && b[1] != b'.'
        && !b.ends_with(b"/")
        && !b.ends_with(b"/.");
    if plain {
        return Path::new(std::ffi::OsStr::from_bytes(&b[1..]));
    }
    machine.strip_prefix("/").unwrap_or(machine)
}

/// The bytes of the host file `path`, in one allocation of their size.
/// Read through one buffer per thread, kept between files (up to 1 MiB):
/// unlike `std::fs::read` (and `File::read_to_end`), no `statx` for the
/// size and no list made and freed per file, which counts when an Include
/// names 10,000 of them.
fn read_shared(path: &Path) -> std::io::Result<Arc<[u8]>> {
    use std::io::Read;
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUFFER.with_borrow_mut(|buffer| {
        let mut file = std::fs::File::open(path)?;
        let mut len = 0;
        let read = loop {
            if len == buffer.len() {
                buffer.resize((buffer.len() * 2).max(16 << 10), 0);
            }
            match file.read(&mut buffer[len..]) {
                Ok(0) => break Ok(Arc::from(&buffer[..len])),
                Ok(n) => len += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        if buffer.len() > 1 << 20 {
            *buffer = Vec::new();
        }
        read
    })
}

/// A configuration file as read, with where it lives. Cloning it shares
/// the one copy: a report holds every file its server's tree read.
#[derive(Clone, Debug)]
pub struct ConfigFile(Arc<Shared>);

/// What the clones of a [`ConfigFile`] share.
#[derive(Debug)]
struct Shared {
    read: FileRead,
    /// Set by the reader that parsed all the bytes into a tree that tiles
    /// them: see [`ConfigFile::parsed_whole`].
    parsed_whole: std::sync::atomic::AtomicBool,
}

/// What [`ConfigFile`] holds.
#[derive(Debug)]
pub struct FileRead {
    /// The machine path the daemon names.
    pub path: PathBuf,
    /// The machine path after symlinks.
    pub real: PathBuf,
    /// Where this process reads and writes it.
    pub host: PathBuf,
    /// Bytes, with `path` shown as the host path of the name (for errors).
    pub source: Source,
    pub syntax: Syntax,
}

impl std::ops::Deref for ConfigFile {
    type Target = FileRead;
    fn deref(&self) -> &FileRead {
        &self.0.read
    }
}

impl ConfigFile {
    pub fn new(file: FileRead) -> ConfigFile {
        ConfigFile(Arc::new(Shared {
            read: file,
            parsed_whole: Default::default(),
        }))
    }
    /// Records that the reader of this file parsed every byte of it as its
    /// syntax, into a tree that tiles them: what [`Syntax::check`] would
    /// parse again to find.
    pub fn mark_parsed_whole(&self) {
        self.0
            .parsed_whole
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }
    /// Whether [`ConfigFile::mark_parsed_whole`] was called on it: then
    /// [`Syntax::check`] of its bytes passes, and need not run.
    pub fn parsed_whole(&self) -> bool {
        self.0
            .parsed_whole
            .load(std::sync::atomic::Ordering::Relaxed)
    }
    pub fn load(root: &Root, machine: &Path, syntax: Syntax) -> Result<ConfigFile> {
        Self::load_resolved(root, machine, root.resolve(machine)?, syntax)
    }
    /// [`ConfigFile::load`] for a caller that has just resolved `machine`
    /// to `real` (the Apache loader, once per included file).
    pub fn load_resolved(
        root: &Root,
        machine: &Path,
        real: PathBuf,
        syntax: Syntax,
    ) -> Result<ConfigFile> {
        let host = root.host(&real);
        let planned = root
            .overlay
            .as_ref()
            .and_then(|o| o.get(host.as_os_str()))
            .cloned();
        let bytes = match planned {
            Some(b) => b,
            None => read_shared(&host).map_err(|err| Error::Io {
                path: host.clone(),
                action: "read",
                err,
            })?,
        };
        Ok(ConfigFile::new(FileRead {
            path: machine.to_path_buf(),
            real,
            host,
            source: Source::new(root.host(machine), bytes),
            syntax,
        }))
    }
    /// The path to show a user.
    pub fn shown(&self) -> &Path {
        &self.source.path
    }
}

/// The Apache layout of the root (its main file found), first of the
/// known layouts (`servers::apache::layout`).
pub fn apache_main(root: &Root) -> Option<&'static crate::servers::apache::layout::Places> {
    crate::servers::apache::layout::detect(|p| root.exists(p))
}

/// One Courier service's files (`names`: base file, then `-ssl` file) from
/// the first layout that has any of them, with the layout's name.
pub fn courier_files(root: &Root, names: &[&str]) -> Option<(&'static str, Vec<PathBuf>)> {
    for (layout, dir) in crate::servers::courier::layout::LAYOUTS {
        let found: Vec<PathBuf> = names
            .iter()
            .map(|f| Path::new(dir).join(f))
            .filter(|p| root.exists(p))
            .collect();
        if !found.is_empty() {
            return Some((layout, found));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A path taken as its own cache key is exactly the key its
    /// components make, and the paths that are not are spelled otherwise.
    #[test]
    fn a_path_is_its_own_key_only_when_spelled_as_one() {
        let key = |p: &str| {
            let comps: Vec<&std::ffi::OsStr> = Path::new(p)
                .components()
                .filter(|c| matches!(c, Component::Normal(_) | Component::ParentDir))
                .map(|c| c.as_os_str())
                .collect();
            absolute(&comps)
        };
        for p in [
            "/a",
            "/etc/apache2/sites-enabled/x.conf",
            "/a/../b",
            "/..",
            "/a/.b",
            "/a/b..",
            "/ a/b",
        ] {
            assert_eq!(
                spelled_as_key(Path::new(p)),
                Some(key(p).as_os_str()),
                "{p}"
            );
        }
        for p in [
            "/", "", "a/b", "/a//b", "//a", "/a/./b", "/a/b/", "/a/.", "/./a", "./a", "/a/b//",
        ] {
            assert_eq!(spelled_as_key(Path::new(p)), None, "{p}");
        }
    }

    /// Resolving a path learns what its last component is, so `kind`
    /// need not `stat` it again: shown by removing the file after the
    /// resolve (a run's paths do not change under it).
    #[test]
    fn resolving_a_path_remembers_its_kind() {
        let (t, r) = sites_tree();
        std::os::unix::fs::symlink(
            "../sites-available/x.conf",
            t.path().join("etc/a/sites-enabled/x.conf"),
        )
        .unwrap();
        let real = r.resolve(Path::new("/etc/a/sites-enabled/x.conf")).unwrap();
        assert_eq!(real, Path::new("/etc/a/sites-available/x.conf"));
        let host = r.host(&real);
        std::fs::remove_file(&host).unwrap();
        assert!(r.kind(&host).is_some_and(|k| k.is_file()));
        // A path never resolved is still asked of the file system.
        assert!(r.kind(&t.path().join("etc/a/none")).is_none());
    }

    /// A listed directory's links are resolved as links without an `lstat`
    /// each: shown by turning a listed link into a folder after the
    /// listing, which then fails as a link would (a run's paths do not
    /// change under it). A listed file, which may have something mounted
    /// over it, and an entry made after the listing are still asked of the
    /// file system.
    #[test]
    fn a_listing_tells_which_entries_are_links() {
        let (t, r) = sites_tree();
        let enabled = t.path().join("etc/a/sites-enabled");
        std::fs::write(enabled.join("plain.conf"), "x").unwrap();
        std::os::unix::fs::symlink("../sites-available/x.conf", enabled.join("link.conf")).unwrap();
        let mut names = r.list(&enabled).unwrap();
        names.sort();
        assert_eq!(names, ["link.conf", "plain.conf"]);
        std::fs::remove_file(enabled.join("link.conf")).unwrap();
        std::fs::create_dir(enabled.join("link.conf")).unwrap();
        std::fs::remove_file(enabled.join("plain.conf")).unwrap();
        for name in ["plain.conf", "later.conf"] {
            std::os::unix::fs::symlink("../sites-available/x.conf", enabled.join(name)).unwrap();
        }
        let resolve = |name: &str| r.resolve(&Path::new("/etc/a/sites-enabled").join(name));
        let err = resolve("link.conf").unwrap_err().to_string();
        assert!(err.contains("read the link"), "{err}");
        for name in ["plain.conf", "later.conf"] {
            assert_eq!(
                resolve(name).unwrap(),
                Path::new("/etc/a/sites-available/x.conf")
            );
        }
        assert!(r.list(&t.path().join("etc/a/none")).is_none());
    }

    /// Files of every size read whole through the shared buffer, one
    /// after another: empty, smaller than it, larger than it (it grows),
    /// past 1 MiB (it is let go), small again; a missing file is an error.
    #[test]
    fn files_are_read_whole_whatever_their_size() {
        let t = tempfile::tempdir().unwrap();
        for (i, size) in [0usize, 5, 16 << 10, 100_000, 3 << 20, 7]
            .into_iter()
            .enumerate()
        {
            let bytes: Vec<u8> = (0..size).map(|k| (k * 7 + i) as u8).collect();
            let path = t.path().join(format!("f{i}"));
            std::fs::write(&path, &bytes).unwrap();
            assert_eq!(&*read_shared(&path).unwrap(), bytes.as_slice(), "{size}");
        }
        let missing = read_shared(&t.path().join("none")).unwrap_err();
        assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
    }

    /// A root with `/etc/a/sites-available/x.conf` and an empty
    /// `/etc/a/sites-enabled`.
    fn sites_tree() -> (tempfile::TempDir, Root) {
        let t = tempfile::tempdir().unwrap();
        let r = Root::new(Some(t.path().to_path_buf()));
        std::fs::create_dir_all(t.path().join("etc/a/sites-available")).unwrap();
        std::fs::create_dir_all(t.path().join("etc/a/sites-enabled")).unwrap();
        std::fs::write(t.path().join("etc/a/sites-available/x.conf"), "x").unwrap();
        (t, r)
    }

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let (t, r) = sites_tree();
        std::os::unix::fs::symlink(
            "../sites-available/x.conf",
            t.path().join("etc/a/sites-enabled/rel.conf"),
        )
        .unwrap();
        std::os::unix::fs::symlink(
            "/etc/a/sites-available/x.conf",
            t.path().join("etc/a/sites-enabled/abs.conf"),
        )
        .unwrap();
        for l in ["rel.conf", "abs.conf"] {
            let got = r
                .resolve(&Path::new("/etc/a/sites-enabled").join(l))
                .unwrap();
            assert_eq!(got, Path::new("/etc/a/sites-available/x.conf"));
        }
        std::os::unix::fs::symlink("loop", t.path().join("etc/loop")).unwrap();
        assert!(r.resolve(Path::new("/etc/loop")).is_err());
        assert_eq!(r.diff_name(Path::new("/etc/x")), "etc/x");
        assert_eq!(r.machine(&t.path().join("etc/x")), Path::new("/etc/x"));
    }

    /// The maps keyed by a path's bytes ([`ByPath`]) rely on one path
    /// having one spelling: however a name is written (doubled `/`, `.`,
    /// a trailing `/` on a folder, a link to it), resolving it gives the
    /// same bytes, and a report lists the file once.
    #[test]
    fn a_path_written_several_ways_is_one_file() {
        let (t, r) = sites_tree();
        std::os::unix::fs::symlink(
            "../sites-available/x.conf",
            t.path().join("etc/a/sites-enabled/x.conf"),
        )
        .unwrap();
        std::os::unix::fs::symlink("a/", t.path().join("etc/b")).unwrap();
        let spellings = [
            "/etc/a/sites-available/x.conf",
            "/etc//a/./sites-available/x.conf",
            "etc/a/sites-available//x.conf",
            "/etc/a/sites-enabled/x.conf",
            "/etc/b/sites-enabled/../sites-available/x.conf",
            "/etc/b//sites-available/./x.conf",
        ];
        let mut report = crate::plan::Report::default();
        for (k, written) in spellings.iter().enumerate() {
            let real = r.resolve(Path::new(written)).unwrap();
            assert_eq!(
                real.as_os_str(),
                "/etc/a/sites-available/x.conf",
                "{written}"
            );
            let file = ConfigFile::load(&r, Path::new(written), Syntax::Apache).unwrap();
            assert_eq!(report.file(&file), 0, "{written}");
            // A second root sharing nothing finds the same.
            let fresh = Root::new(Some(t.path().to_path_buf()));
            let again = ConfigFile::load(&fresh, Path::new(written), Syntax::Apache).unwrap();
            assert_eq!(report.file(&again), 0, "{written} ({k})");
        }
        assert_eq!(report.files.len(), 1);
    }

    /// The byte-level shortcut of [`below_root`] gives what `strip_prefix`
    /// gives, on the spellings where they could differ.
    #[test]
    fn below_root_is_strip_prefix() {
        for p in [
            "/etc/x.conf",
            "/etc/x/",
            "/etc/x/.",
            "/etc/./x",
            "/etc//x",
            "//etc/x",
            "/./etc",
            "/.hidden/x",
            "/e",
            "/",
            "",
            "etc/x",
            "./etc",
            "/etc/x/./",
            "/etc/..",
            "/etc/x..",
        ] {
            let p = Path::new(p);
            let slow = p.strip_prefix("/").unwrap_or(p);
            assert_eq!(below_root(p).as_os_str(), slow.as_os_str(), "{p:?}");
        }
    }

    /// The cache keys and host paths made in one allocation are the bytes
    /// `PathBuf` makes.
    #[test]
    fn keys_and_host_paths_are_spelled_as_pathbuf_spells_them() {
        use std::ffi::OsStr;
        for comps in [
            &[][..],
            &["etc"][..],
            &["etc", "apache2", "sites-enabled", "x.conf"][..],
            &["etc", "..", "a b", "ü"][..],
        ] {
            let comps: Vec<&OsStr> = comps.iter().map(OsStr::new).collect();
            let collected: PathBuf = std::iter::once(OsStr::new("/"))
                .chain(comps.iter().copied())
                .collect();
            assert_eq!(absolute(&comps), collected.into_os_string(), "{comps:?}");
        }
        for (a, b) in [
            ("/r", "x"),
            ("/r/", "x/y"),
            ("", "x"),
            ("/r", "/abs"),
            ("/r", ""),
            ("r", ".."),
        ] {
            let (a, b) = (Path::new(a), Path::new(b));
            assert_eq!(
                joined(a, b).as_os_str(),
                a.join(b).as_os_str(),
                "{a:?} {b:?}"
            );
        }
        for dir in ["/r", "/r/", "r", "/r//"] {
            let root = Root::new(Some(PathBuf::from(dir)));
            for machine in ["/etc/x", "/", "", "etc/x", "//etc", "/etc/x/"] {
                let m = Path::new(machine);
                let joined = Path::new(dir).join(m.strip_prefix("/").unwrap_or(m));
                assert_eq!(
                    root.host(m).as_os_str(),
                    joined.as_os_str(),
                    "{dir} {machine}"
                );
            }
        }
    }
}
