//! Where Courier's files live on each distribution, and which files make one
//! service (a daemon reads its base file, then its `-ssl` file: the last
//! assignment wins).
//!
//! The table is small on purpose: a layout is a directory, and the first one
//! holding a service's files is the one used (and said, in the notes).

/// Courier's configuration directories, as each distribution installs them.
pub const LAYOUTS: &[(&str, &str)] = &[
    ("Debian, Ubuntu, Frugalware", "/etc/courier"),
    (
        "upstream courier-mta (--prefix=/usr/lib/courier)",
        "/usr/lib/courier/etc",
    ),
    ("Gentoo", "/etc/courier-imap"),
    (
        "upstream courier-imap (--prefix=/usr/lib/courier-imap)",
        "/usr/lib/courier-imap/etc",
    ),
    (
        "FreeBSD ports (mail/courier-imap)",
        "/usr/local/etc/courier-imap",
    ),
    ("FreeBSD ports (mail/courier)", "/usr/local/etc/courier"),
];

/// One Courier mail-access service and the variables it reads.
#[derive(Debug)]
pub struct Service {
    /// As the user knows it: `IMAP`, `POP3`.
    pub name: &'static str,
    /// Read in this order; the last file is where settings are added.
    pub files: [&'static str; 2],
    /// STARTTLS on the plain port (`IMAPDSTARTTLS`, `POP3_STARTTLS`).
    pub starttls: &'static str,
    /// No login before STARTTLS (`IMAP_TLS_REQUIRED`, `POP3_TLS_REQUIRED`).
    pub tls_required: &'static str,
    /// The implicit-TLS listener's switch (`IMAPDSSLSTART`).
    pub ssl_start: &'static str,
}

pub const IMAP: Service = Service {
    name: "IMAP",
    files: ["imapd", "imapd-ssl"],
    starttls: "IMAPDSTARTTLS",
    tls_required: "IMAP_TLS_REQUIRED",
    ssl_start: "IMAPDSSLSTART",
};

pub const POP3: Service = Service {
    name: "POP3",
    files: ["pop3d", "pop3d-ssl"],
    starttls: "POP3_STARTTLS",
    tls_required: "POP3_TLS_REQUIRED",
    ssl_start: "POP3DSSLSTART",
};

/// The services tlsmend audits. Courier's ESMTP files (`esmtpd`,
/// `esmtpd-ssl`, `esmtpd-msa`) are parsed by the same parser but not
/// audited yet: see README, "Supported layouts".
pub const SERVICES: &[&Service] = &[&IMAP, &POP3];

/// The places searched, for "not found" messages.
pub fn searched() -> String {
    LAYOUTS
        .iter()
        .map(|(_, d)| *d)
        .collect::<Vec<_>>()
        .join(", ")
}
