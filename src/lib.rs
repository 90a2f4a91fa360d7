//! tlsmend library crate.
pub mod apache_tree;
pub mod backup;
pub mod cert;
pub mod discover;
pub mod edit;
pub mod error;
pub mod plan;
pub mod policy;
pub mod source;
pub mod style;
pub mod syntax;
pub mod tlslib;
pub mod write;
