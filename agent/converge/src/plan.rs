//! What a module decides: the attribute changes to report and the actions that
//! make them. Actions are data, so the same plan is executed for real or
//! simulated in check mode.

use crate::accounts::AccountOp;
use crate::atomic::Attrs;
use pvelxc_spec::report::{CheckOutcome, FieldChange};
use std::path::PathBuf;

/// Numeric owner kind for re-owning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Uid,
    Gid,
}

/// One step that changes the system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Atomically write a file.
    Write {
        path: PathBuf,
        content: Vec<u8>,
        attrs: Attrs,
    },
    /// Create a directory (its parent exists by then).
    Mkdir { path: PathBuf, attrs: Attrs },
    /// Change owner, group and/or mode (owner first: chown clears setgid on files).
    SetAttrs {
        path: PathBuf,
        uid: Option<u32>,
        gid: Option<u32>,
        mode: Option<u32>,
    },
    /// Create a symlink (replacing nothing: the link must not exist).
    Symlink { link: PathBuf, target: PathBuf },
    /// Remove a file or symlink.
    Remove { path: PathBuf },
    /// Change the account files.
    Accounts(Vec<AccountOp>),
    /// Re-own every file below the spec's `reown_roots` that carries `from`.
    Reown {
        kind: IdKind,
        from: u32,
        to: u32,
        /// Paths left alone (e.g. the device node a GID was taken from).
        exclude: Vec<PathBuf>,
    },
    /// Set owner and/or group of everything below a directory.
    OwnTree {
        path: PathBuf,
        uid: Option<u32>,
        gid: Option<u32>,
    },
    /// Copy `/etc/skel` into a new home directory.
    CopySkel { home: PathBuf, uid: u32, gid: u32 },
    /// Run a program (argv, never a shell), in the root.
    Run {
        argv: Vec<String>,
        env: Vec<(String, String)>,
    },
    /// After package commands: these must now be installed / absent in dpkg's status.
    ExpectPackages {
        installed: Vec<String>,
        removed: Vec<String>,
    },
}

/// The outcome of a module's check and diff.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Attribute changes, for the report.
    pub changes: Vec<FieldChange>,
    /// Unified content diff, for `--diff`.
    pub diff: Option<String>,
    /// Steps that make the changes, in order.
    pub actions: Vec<Action>,
    /// Result of a check item.
    pub check: Option<CheckOutcome>,
    /// Why the item was not evaluated (check mode only).
    pub skipped: Option<String>,
}

impl Plan {
    /// Whether anything has to change.
    pub fn changes_something(&self) -> bool {
        !self.actions.is_empty() || !self.changes.is_empty()
    }

    /// Records a changed attribute.
    pub fn change(&mut self, field: &str, before: Option<String>, after: Option<String>) {
        self.changes.push(FieldChange {
            field: field.to_string(),
            before,
            after,
        });
    }
}
