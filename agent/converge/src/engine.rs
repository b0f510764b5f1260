//! The run: lock, preflight, then check or apply, item by item.
//!
//! Apply mode first runs the whole spec in simulation (the preflight). Any item
//! that contradicts the system (a UID owned by another user, a missing group)
//! stops the run there, before the first change. Then each item is planned
//! against the real system and its actions executed.

use crate::accounts::{store, Accounts};
use crate::ctx::{Ctx, Phase};
use crate::dpkg::Packages;
use crate::error::{ItemError, RunError};
use crate::exec::execute;
use crate::modules::module;
use crate::runlock;
use pvelxc_spec::report::{ItemReport, ItemStatus, Report, RunMode};
use pvelxc_spec::{FailurePolicy, Spec};
use std::cell::OnceCell;
use std::path::PathBuf;
use std::rc::Rc;

/// How to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The managed system's root (`/` inside a container).
    pub root: PathBuf,
    /// Change nothing; report what would change.
    pub check: bool,
}

/// Converges `spec` and reports per item.
pub fn run(spec: &Spec, opts: &Options) -> Result<Report, RunError> {
    let _lock = runlock::acquire(&opts.root, !opts.check)?;
    let accounts = store::load(&opts.root).map_err(RunError::Accounts)?;
    let first = if opts.check {
        Phase::Check
    } else {
        Phase::Preflight
    };
    // dpkg's status is the largest file a no-op reads: parse it once for both passes.
    let packages = std::rc::Rc::new(std::cell::OnceCell::new());
    let (items, invalid) = pass(spec, first, opts, accounts.clone(), packages.clone());
    if !invalid.is_empty() {
        return Err(RunError::Invalid(invalid));
    }
    if opts.check {
        return Ok(Report::new(RunMode::Check, items));
    }
    let (items, _) = pass(spec, Phase::Apply, opts, accounts, packages);
    Ok(Report::new(RunMode::Apply, items))
}

fn pass(
    spec: &Spec,
    phase: Phase,
    opts: &Options,
    accounts: Accounts,
    packages: Rc<OnceCell<Result<Packages, String>>>,
) -> (Vec<ItemReport>, Vec<String>) {
    let mut ctx = Ctx::new(spec, phase, &opts.root, accounts, packages);
    let mut reports = Vec::with_capacity(spec.items.len());
    let mut invalid = Vec::new();
    let mut stopped = false;
    // After a runtime failure, later contradictions may be its consequences:
    // they are reported as failures of their items instead of stopping the run.
    let mut failed_before = false;
    for (index, item) in spec.items.iter().enumerate() {
        let mut rep = ItemReport {
            index,
            kind: item.kind().to_string(),
            key: item.key(),
            status: ItemStatus::Ok,
            changes: Vec::new(),
            diff: None,
            error: None,
            check: None,
        };
        if stopped {
            rep.status = ItemStatus::Skipped;
            rep.error = Some("an earlier item failed and on_failure is \"stop\"".into());
            reports.push(rep);
            continue;
        }
        let _span =
            tracing::debug_span!("item", index, kind = item.kind(), key = %rep.key).entered();
        match module(item).plan(&ctx) {
            Err(ItemError::Invalid(msg)) => {
                if phase != Phase::Apply && !failed_before {
                    invalid.push(format!("items[{index}] ({} {}): {msg}", rep.kind, rep.key));
                }
                rep.status = ItemStatus::Failed;
                rep.error = Some(msg);
            }
            Err(ItemError::Failed(msg)) => {
                rep.status = ItemStatus::Failed;
                rep.error = Some(msg);
            }
            Ok(plan) => {
                rep.changes = plan.changes.clone();
                rep.diff = plan.diff.clone();
                rep.check = plan.check.clone();
                if let Some(reason) = plan.skipped {
                    rep.status = ItemStatus::Skipped;
                    rep.error = Some(reason);
                } else if plan.changes_something() {
                    let mut result = Ok(());
                    for action in &plan.actions {
                        result = execute(&mut ctx, action);
                        if result.is_err() {
                            break;
                        }
                    }
                    match result {
                        Ok(()) => {
                            rep.status = if phase.simulated() {
                                ItemStatus::WouldChange
                            } else {
                                ItemStatus::Changed
                            }
                        }
                        Err(e) => {
                            rep.status = ItemStatus::Failed;
                            rep.error = Some(e.to_string());
                        }
                    }
                }
                if let Some(c) = &rep.check {
                    if !c.passed {
                        rep.status = ItemStatus::Failed;
                        rep.error = Some(c.detail.clone());
                    }
                }
            }
        }
        if rep.status == ItemStatus::Failed {
            failed_before = true;
            tracing::warn!(
                index,
                error = rep.error.as_deref().unwrap_or(""),
                "item failed"
            );
            if spec.on_failure == FailurePolicy::Stop {
                stopped = true;
            }
        }
        reports.push(rep);
    }
    (reports, invalid)
}
