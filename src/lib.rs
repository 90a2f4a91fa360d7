//! tlsmend: lossless, reviewable TLS hardening of server configuration files.
//!
//! The data flows one way: [`discover`] finds a machine's files (or those of
//! a `--root` image) → [`syntax`] parses each losslessly → [`servers`] audit
//! them with the rules of the [`catalogue`] against a profile and plan byte
//! patches ([`plan`], [`edit`]), knowing what the [`target`] runs →
//! [`review`] shows and approves them → [`live::validate`] runs the daemons'
//! checkers on a staging copy → [`commit`] writes them atomically ([`write`](mod@write))
//! with a run folder ([`backup`]) that `rollback` restores →
//! [`live::reload`] and [`live::verify`] prove what the daemons now do.
//!
//! ```
//! use std::path::Path;
//! use tlsmend::syntax::apache;
//! let text = b"<VirtualHost *:443>\r\n\tSSLProtocol all -SSLv3 # old\r\n</VirtualHost>";
//! let config = apache::parse(Path::new("x.conf"), text).unwrap();
//! // The tree covers every byte: printing an untouched file is its bytes.
//! apache::check_tiling(&config.nodes, 0, text.len()).unwrap();
//! ```
//!
//! # Limitations
//! - `<IfModule>`, `<IfDefine>` and the like are read as if their condition
//!   held; `<Macro>` bodies are not audited.
//! - Apache `${VAR}` in Include paths resolves only through `Define`.
//! - Courier files are read as plain `NAME=value` sh assignments; any other
//!   shell construct is rejected with its line and column.
//! - `verify` and `apply --reload` probe daemons on the network; everything
//!   else reads configuration only.

pub mod backup;
pub mod catalogue;
pub mod chunked;
pub mod civil;
pub mod cli;
pub mod commit;
pub mod discover;
pub mod edit;
pub mod error;
pub mod journal;
pub mod live;
pub mod lock;
pub mod memory;
pub mod output;
pub mod parallel;
pub mod plan;
pub mod redact;
pub mod review;
pub mod servers;
pub mod session;
pub mod signals;
pub mod source;
pub mod style;
pub mod syntax;
pub mod target;
pub mod unified_diff;
pub mod vet;
pub mod waivers;
pub mod write;
