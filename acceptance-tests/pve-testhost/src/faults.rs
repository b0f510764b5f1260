//! Fault injection for reliability tests, using the node's control file format
//! (`pve_testhost_runtime::faults`: `{"faults": [{"kind": "error|locked|ct_locked|timeout|
//! task_failure", "count": N, "method": …, "path": …, "message": …, "seconds": …}]}`).
//!
//! Every API call after authentication and schema validation consumes at most one
//! matching rule: `error`/`locked`/`ct_locked` answer 500 with the rule's (or PVE's lock)
//! message, `timeout` holds the request and then drops the connection without an
//! answer, `task_failure` lets the call start its task and makes the task fail midway.

use std::path::{Path, PathBuf};
use std::time::Duration;

use pve_testhost_runtime::faults::{self, FaultKind};

use crate::error::ApiError;

/// What an API call must do because of a fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiFault {
    /// Answer with this error.
    Fail(ApiError),
    /// Hold the request this long, then close the connection without an answer.
    Hang(Duration),
    /// Run normally; the started task fails midway with this text.
    FailTask(String),
}

/// The fault file of a node.
#[derive(Debug, Clone)]
pub struct Faults {
    path: PathBuf,
}

impl Faults {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Faults { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Consumes the first rule matching `method path` (relative to `/api2/json`).
    pub fn take_api(&self, method: &str, path: &str) -> Option<ApiFault> {
        let fault = match faults::take(&self.path, method, path) {
            Ok(fault) => fault?,
            Err(err) => {
                tracing::warn!("fault injection skipped: {err}");
                return None;
            }
        };
        let message = format!("{}\n", fault.message.trim_end());
        Some(match fault.kind {
            FaultKind::Timeout => ApiFault::Hang(fault.hold),
            FaultKind::TaskFailure => ApiFault::FailTask(fault.message),
            FaultKind::Error | FaultKind::Locked | FaultKind::CtLocked => {
                ApiFault::Fail(ApiError::with_status(fault.status.unwrap_or(500), message))
            }
        })
    }
}
