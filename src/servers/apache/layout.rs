//! Where each distribution keeps Apache httpd's configuration: one small
//! table per distribution (as certbot's `override_*.py` do), and the choice
//! of the layout a root has.
//!
//! A layout gives the main file, the compiled-in `ServerRoot` that relative
//! `Include`s resolve against until a `ServerRoot` directive says otherwise,
//! mod_ssl's global file (where server-wide TLS directives such as
//! `SSLStaplingCache` belong: a site file can be switched off by
//! `a2dissite`, the module's file goes with the module) and the stapling
//! cache path that distribution's packaging uses.

use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Debian,
    Redhat,
    Arch,
    Alpine,
    Suse,
    Gentoo,
    FreeBsd,
}

/// One distribution's places.
#[derive(Debug)]
pub struct Places {
    pub layout: Layout,
    pub name: &'static str,
    /// The main configuration file.
    pub main: &'static str,
    /// A file or directory only this layout has beside `main` (several
    /// layouts share a main path), or `None` when `main` is enough.
    pub marker: Option<&'static str>,
    /// The compiled-in ServerRoot.
    pub server_root: &'static str,
    /// mod_ssl's global file, first existing wins.
    pub ssl_global: &'static [&'static str],
    /// The `SSLStaplingCache` argument written when none exists.
    pub stapling_cache: &'static str,
}

pub const DEBIAN: Places = Places {
    layout: Layout::Debian,
    name: "Debian/Ubuntu",
    main: "/etc/apache2/apache2.conf",
    marker: None,
    server_root: "/etc/apache2",
    ssl_global: &["/etc/apache2/mods-available/ssl.conf"],
    stapling_cache: "\"shmcb:${APACHE_RUN_DIR}/ssl_stapling(128000)\"",
};

/// Arch shares RHEL's main path; its `conf/extra/` tells them apart.
pub const ARCH: Places = Places {
    layout: Layout::Arch,
    name: "Arch",
    main: "/etc/httpd/conf/httpd.conf",
    marker: Some("/etc/httpd/conf/extra"),
    server_root: "/etc/httpd",
    ssl_global: &["/etc/httpd/conf/extra/httpd-ssl.conf"],
    stapling_cache: "\"shmcb:/run/httpd/ssl_stapling(128000)\"",
};

pub const REDHAT: Places = Places {
    layout: Layout::Redhat,
    name: "RHEL/Fedora",
    main: "/etc/httpd/conf/httpd.conf",
    marker: None,
    server_root: "/etc/httpd",
    ssl_global: &["/etc/httpd/conf.d/ssl.conf"],
    stapling_cache: "\"shmcb:/run/httpd/ssl_stapling(128000)\"",
};

/// SUSE and Alpine share `/etc/apache2/httpd.conf`; SUSE has `listen.conf`
/// and `ssl-global.conf` beside it.
pub const SUSE: Places = Places {
    layout: Layout::Suse,
    name: "SUSE",
    main: "/etc/apache2/httpd.conf",
    marker: Some("/etc/apache2/listen.conf"),
    server_root: "/srv/www",
    ssl_global: &["/etc/apache2/ssl-global.conf"],
    stapling_cache: "shmcb:/var/lib/apache2/ssl_stapling(128000)",
};

/// Gentoo shares it too; its `modules.d/` tells it apart. Its relative
/// Includes resolve against `/usr/lib64/apache2`, where the package links
/// `modules.d` and `vhosts.d` back to `/etc/apache2`.
pub const GENTOO: Places = Places {
    layout: Layout::Gentoo,
    name: "Gentoo",
    main: "/etc/apache2/httpd.conf",
    marker: Some("/etc/apache2/modules.d"),
    server_root: "/usr/lib64/apache2",
    ssl_global: &["/etc/apache2/modules.d/40_mod_ssl.conf"],
    stapling_cache: "\"shmcb:/run/apache2/ssl_stapling(128000)\"",
};

pub const ALPINE: Places = Places {
    layout: Layout::Alpine,
    name: "Alpine",
    main: "/etc/apache2/httpd.conf",
    marker: None,
    server_root: "/var/www",
    ssl_global: &["/etc/apache2/conf.d/ssl.conf"],
    stapling_cache: "\"shmcb:/run/apache2/ssl_stapling(128000)\"",
};

pub const FREEBSD: Places = Places {
    layout: Layout::FreeBsd,
    name: "FreeBSD",
    main: "/usr/local/etc/apache24/httpd.conf",
    marker: None,
    server_root: "/usr/local",
    ssl_global: &["/usr/local/etc/apache24/extra/httpd-ssl.conf"],
    stapling_cache: "\"shmcb:/var/run/ssl_stapling(128000)\"",
};

/// Every layout, in the order they are tried (markers before the layout
/// that shares their main path).
pub const LAYOUTS: &[&Places] = &[&DEBIAN, &ARCH, &REDHAT, &SUSE, &GENTOO, &ALPINE, &FREEBSD];

impl Layout {
    pub fn places(self) -> &'static Places {
        LAYOUTS
            .iter()
            .copied()
            .find(|p| p.layout == self)
            .unwrap_or(&DEBIAN)
    }

    /// `Debian/Ubuntu (/etc/apache2/apache2.conf)`, for the found summary.
    pub fn describe(self) -> String {
        let p = self.places();
        format!("{} ({})", p.name, p.main)
    }
}

/// The first layout whose main file (and marker) the root has.
pub fn detect(exists: impl Fn(&Path) -> bool) -> Option<&'static Places> {
    LAYOUTS
        .iter()
        .copied()
        .find(|p| exists(Path::new(p.main)) && p.marker.is_none_or(|m| exists(Path::new(m))))
}

/// The places searched, for "not found".
pub fn searched() -> String {
    let mut mains: Vec<&str> = LAYOUTS.iter().map(|p| p.main).collect();
    mains.dedup();
    let mut seen = Vec::new();
    for m in mains {
        if !seen.contains(&m) {
            seen.push(m);
        }
    }
    seen.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_main_paths_are_told_apart_by_their_markers() {
        let has =
            |set: &'static [&'static str]| move |p: &Path| set.iter().any(|s| Path::new(s) == p);
        let d = |set| detect(has(set)).map(|p| p.layout);
        assert_eq!(d(&["/etc/httpd/conf/httpd.conf"]), Some(Layout::Redhat));
        assert_eq!(
            d(&["/etc/httpd/conf/httpd.conf", "/etc/httpd/conf/extra"]),
            Some(Layout::Arch)
        );
        assert_eq!(d(&["/etc/apache2/httpd.conf"]), Some(Layout::Alpine));
        assert_eq!(
            d(&["/etc/apache2/httpd.conf", "/etc/apache2/listen.conf"]),
            Some(Layout::Suse)
        );
        assert_eq!(
            d(&["/etc/apache2/httpd.conf", "/etc/apache2/modules.d"]),
            Some(Layout::Gentoo)
        );
        assert_eq!(
            d(&["/usr/local/etc/apache24/httpd.conf"]),
            Some(Layout::FreeBsd)
        );
        assert_eq!(d(&[]), None);
        assert!(searched().contains("/usr/local/etc/apache24/httpd.conf"));
    }
}
