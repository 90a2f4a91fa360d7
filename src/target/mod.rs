//! What the target machine runs, read from the root tlsmend works on (never
//! from the host when `--root` names an image): the TLS library a daemon
//! links ([`tlslib`]), the versions of httpd, OpenSSL and GnuTLS
//! ([`versions`]), the certificates its configuration names ([`cert`]), DH
//! parameter files ([`dh`]) and what an OpenSSL cipher list expands to
//! ([`ciphers`]).

pub mod cert;
pub mod ciphers;
pub mod dh;
pub mod tlslib;
pub mod versions;
