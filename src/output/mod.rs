//! Presenters: the grouped text report, the JSON documents (one versioned
//! schema, published in `docs/schema/tlsmend.schema.json`), SARIF for audit,
//! and the escaping of file text for terminals. They build values from the
//! library's results; the binary prints them. Nothing here decides what is
//! found or written.

pub mod audit;
pub mod escape;
pub mod json;
pub mod sarif;
pub mod text;

/// The version of every JSON document tlsmend prints (`schema_version`).
/// Adding a field keeps it; removing or changing one bumps it.
pub const SCHEMA_VERSION: u32 = 1;
