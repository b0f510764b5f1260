//! The pvelxc-agent spec: the single contract between the Terraform provider and the
//! agent that converges a container or node.
//!
//! A [`Spec`] is a versioned document (JSON for the provider, TOML for people) that
//! lists [`Item`]s in the order they are applied. The agent answers with a
//! [`report::Report`], also versioned, which the provider reads back. Both sides
//! depend on this crate only, so a field added here is visible to both at once.
//!
//! Every struct rejects unknown fields: a typo in a spec is an error with the
//! field's path, never a silently ignored setting.

pub mod items;
// Explicit defaults there document the runbook's values next to each field.
#[allow(clippy::derivable_impls)]
pub mod jobs;
pub mod load;
pub mod mode;
pub mod report;
pub mod template;
pub mod validate;

pub use items::*;
pub use load::{load_file, parse_json, parse_toml, SpecError};
pub use mode::FileMode;

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The only spec format version this agent understands.
pub const SPEC_VERSION: u32 = 1;

/// A full converge spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Format version of this document. Must be `1`; a newer provider talking to an
    /// older agent gets a clear error instead of a half-understood spec.
    pub version: u32,
    /// Absolute directories that file, line, block, directory and network items may
    /// write below. Empty means unrestricted. Lets a node-level spec promise it only
    /// touches e.g. `/etc` and `/mnt/storage`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_roots: Vec<PathBuf>,
    /// Whether the run goes on after an item fails (`continue`) or stops at once
    /// (`stop`). Items that depend on a failed one are skipped either way only if
    /// they fail themselves; nothing is rolled back.
    #[serde(default)]
    pub on_failure: FailurePolicy,
    /// Directories walked (without crossing into other filesystems) when a user's
    /// UID or a group's GID changes, to re-own files that carried the old number.
    /// `groupmod`/`usermod` leave such files behind with a dangling owner.
    #[serde(default = "default_reown_roots")]
    pub reown_roots: Vec<PathBuf>,
    /// The items, applied in order.
    #[serde(default)]
    pub items: Vec<Item>,
    /// Settings of the media job runner (`pvelxc-agent jobs`), if this container runs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jobs: Option<jobs::JobsSettings>,
}

fn default_reown_roots() -> Vec<PathBuf> {
    vec![PathBuf::from("/")]
}

/// What a failed item means for the rest of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailurePolicy {
    /// Report the failure and go on with the next item.
    #[default]
    Continue,
    /// Report the failure and skip every later item.
    Stop,
}
