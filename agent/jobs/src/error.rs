//! Errors of the job runner. Each variant says whether retrying can help, so the
//! queue retries transient failures with backoff and fails the rest at once.

use std::path::PathBuf;

/// An error while running a job or talking to the queue.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The settings file is unreadable or invalid.
    #[error("settings {path}: {message}")]
    Config { path: PathBuf, message: String },
    /// The queue database failed.
    #[error("queue database: {0}")]
    Db(#[from] rusqlite::Error),
    /// A filesystem operation failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// A filesystem would run short; checked before a stage starts writing.
    #[error("not enough free space in {path}: {available} bytes free, {needed} needed (estimate plus reserve_free_bytes); free space there or lower reserve_free_bytes")]
    NoSpace {
        path: PathBuf,
        available: u64,
        needed: u64,
    },
    /// The output failed a check and was not published; the source is kept.
    #[error("verify failed: {0}")]
    Verify(String),
    /// The input cannot be processed as configured (missing language, no title...).
    #[error("{0}")]
    Input(String),
    /// MakeMKV refused to run because its key or version expired.
    #[error("MakeMKV registration/beta key or version expired ({0}); enter a current key with `makemkvcon reg KEY` or update app_Key in ~/.MakeMKV/settings.conf, then `jobs retry`")]
    KeyExpired(String),
    /// An external program failed (possibly transient: read error, busy device).
    #[error("{tool} failed: {message}")]
    Tool { tool: String, message: String },
    /// The job was cancelled while running.
    #[error("cancelled")]
    Cancelled,
}

impl JobError {
    /// Whether the queue should try the stage again later.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            JobError::Io { .. } | JobError::Tool { .. } | JobError::Db(_)
        )
    }

    /// Wraps an I/O error with what was being done and to which path.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        JobError::Io {
            context: context.into(),
            source,
        }
    }
}

/// Result alias for the job runner.
pub type Result<T> = std::result::Result<T, JobError>;
