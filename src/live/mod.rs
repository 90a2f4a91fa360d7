//! The live side: everything that runs a daemon's own tool or talks to a
//! running daemon. [`validate`] runs the checkers on a staging copy before
//! anything is written; [`ldapmodify`] changes a running slapd; [`reload`]
//! reloads what was written; [`probe`] and [`verify`] ask the daemons, over
//! loopback or the addresses named, what they now accept.

pub mod apache_env;
pub mod ldapmodify;
pub mod probe;
pub mod reload;
pub mod runner;
pub mod validate;
pub mod verify;
