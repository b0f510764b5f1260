//! The run report: what the agent prints with `--json` and the provider parses.
//!
//! Versioned like the spec. Exit codes of `pvelxc-agent apply` carry the same
//! summary: [`EXIT_UNCHANGED`], [`EXIT_CHANGED`], [`EXIT_FAILED`], [`EXIT_INVALID`];
//! [`EXIT_STALE`] says the agent is not the build the caller asked for.

use serde::{Deserialize, Serialize};

/// Version of the report format.
pub const REPORT_VERSION: u32 = 1;

/// Nothing changed (or, with `--check`, nothing would change) and nothing failed.
pub const EXIT_UNCHANGED: u8 = 0;
/// At least one item failed, or the run could not start (e.g. another run holds the lock).
pub const EXIT_FAILED: u8 = 1;
/// Something changed (or would change with `--check`) and nothing failed.
pub const EXIT_CHANGED: u8 = 2;
/// The spec or the command line is invalid; nothing was changed.
pub const EXIT_INVALID: u8 = 3;
/// `apply --expect-sha256` found that this agent is not the build the caller expects;
/// nothing was run. The caller installs its build and runs again.
pub const EXIT_STALE: u8 = 4;

/// Whether the run changed the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunMode {
    /// Changes were made.
    Apply,
    /// Nothing was changed; statuses say what would change.
    Check,
}

/// Outcome of one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// Already as specified.
    Ok,
    /// Changed by this run.
    Changed,
    /// Check mode: would be changed.
    WouldChange,
    /// Failed; see `error`.
    Failed,
    /// Not run (an earlier failure with `on_failure = "stop"`, or a check that
    /// cannot run in check mode).
    Skipped,
}

/// One changed attribute of an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    /// Attribute name, e.g. `gid`, `groups`, `mode`, `content`.
    pub field: String,
    /// Value before (absent when the object did not exist).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// Value after (absent when the object is removed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

/// Result of a `check` item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckOutcome {
    /// Whether the check passed.
    pub passed: bool,
    /// What was observed (e.g. the command's output, truncated), for the operator.
    pub detail: String,
}

/// The report of one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemReport {
    /// Position in the spec's `items`.
    pub index: usize,
    /// Item kind, e.g. `user`.
    pub kind: String,
    /// Item key (name or path).
    pub key: String,
    /// Outcome.
    pub status: ItemStatus,
    /// Attribute-level changes (made or, in check mode, planned).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    /// Unified diff of file content, when content changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// Error with context, when failed or skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Result of a check item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<CheckOutcome>,
}

/// Counts per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub ok: usize,
    pub changed: usize,
    pub would_change: usize,
    pub failed: usize,
    pub skipped: usize,
}

/// A whole run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// [`REPORT_VERSION`].
    pub version: u32,
    /// Apply or check.
    pub mode: RunMode,
    /// Counts per status.
    pub summary: Summary,
    /// One entry per spec item, in order.
    pub items: Vec<ItemReport>,
}

impl Report {
    /// Builds a report and its summary from item reports.
    pub fn new(mode: RunMode, items: Vec<ItemReport>) -> Self {
        let mut summary = Summary::default();
        for i in &items {
            match i.status {
                ItemStatus::Ok => summary.ok += 1,
                ItemStatus::Changed => summary.changed += 1,
                ItemStatus::WouldChange => summary.would_change += 1,
                ItemStatus::Failed => summary.failed += 1,
                ItemStatus::Skipped => summary.skipped += 1,
            }
        }
        Report {
            version: REPORT_VERSION,
            mode,
            summary,
            items,
        }
    }

    /// The process exit code for this report.
    pub fn exit_code(&self) -> u8 {
        if self.summary.failed > 0 {
            EXIT_FAILED
        } else if self.summary.changed > 0 || self.summary.would_change > 0 {
            EXIT_CHANGED
        } else {
            EXIT_UNCHANGED
        }
    }
}
