//! tlsmend library crate.
pub mod source;
pub mod syntax;
