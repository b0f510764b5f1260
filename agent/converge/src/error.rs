//! Errors of the engine.

use std::path::PathBuf;

/// Why one item failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ItemError {
    /// The spec contradicts the system (a UID owned by another user, a group that
    /// does not exist). Found by the preflight pass, before any change.
    #[error("{0}")]
    Invalid(String),
    /// Reading or changing the system failed.
    #[error("{0}")]
    Failed(String),
}

impl ItemError {
    /// A failure with the path it concerns.
    pub fn io(what: &str, path: &std::path::Path, err: std::io::Error) -> Self {
        ItemError::Failed(format!("{what} {}: {err}", path.display()))
    }
}

/// Why a whole run could not happen. Nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Another agent run holds the lock.
    #[error("another pvelxc-agent run holds {path}; wait for it to finish")]
    Locked { path: PathBuf },
    /// The lock could not be taken.
    #[error("cannot take the run lock {path}: {source}")]
    Lock {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The account files could not be read.
    #[error("{0}")]
    Accounts(String),
    /// The spec does not fit the system; each entry names the item and the fix.
    #[error("the spec cannot be applied to this system (nothing was changed):\n  {}", .0.join("\n  "))]
    Invalid(Vec<String>),
}
