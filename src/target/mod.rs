//! What the target machine runs, read from the root tlsmend works on (never
//! from the host when `--root` names an image): the TLS library a daemon
//! links ([`tlslib`]), the certificates its configuration names ([`cert`]) and
//! its Diffie-Hellman parameter files ([`dh`]).

pub mod cert;
pub mod dh;
pub mod tlslib;
