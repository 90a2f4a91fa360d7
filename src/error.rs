//! The library's error type: what went wrong, where, and what to do.

use crate::source::ParseError;
use std::path::PathBuf;

#[derive(Debug)]
pub enum Error {
    /// A file tlsmend cannot parse, or a directive it cannot follow
    /// (a missing Include target, an Include cycle), with path:line:column.
    Parse(ParseError),
    Io {
        path: PathBuf,
        action: &'static str,
        err: std::io::Error,
    },
    Other(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Parse(e) => e.fmt(f),
            Error::Io { path, action, err } => {
                write!(f, "cannot {action} {}: {err}", path.display())
            }
            Error::Other(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for Error {}

impl From<ParseError> for Error {
    fn from(e: ParseError) -> Self {
        Error::Parse(e)
    }
}

pub type Result<T> = std::result::Result<T, Error>;
