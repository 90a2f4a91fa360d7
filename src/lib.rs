//! tlsmend library crate.
pub mod cert;
pub mod edit;
pub mod source;
pub mod syntax;
pub mod tlslib;
