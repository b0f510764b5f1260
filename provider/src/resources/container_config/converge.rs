//! The run shared by container and node config: build the spec from the resource's value,
//! install the agent, run it, and turn its report into state and diagnostics.

use std::collections::BTreeMap;
use std::path::PathBuf;

use pvelxc_cty::{Path, Value};
use pvelxc_pve::ssh::NodeSsh;
use pvelxc_schema::Diagnostic;
use pvelxc_spec::report::{ItemStatus, Report};
use pvelxc_spec::{AptComponentsItem, FailurePolicy, Item, Spec, SPEC_VERSION};

use super::devices::ContainerFacts;
use super::drift::{self, Drift};
use super::items_build::{self, Items, Origin, Phase};
use super::presets;
use super::values::{set, string, strings};
use crate::agent::{self, AgentBinary, AgentError, RunMode, Target};

/// A spec and where each of its items came from.
#[derive(Debug)]
pub struct Prepared {
    /// What the agent gets.
    pub spec: Spec,
    /// Parallel to `spec.items`.
    pub origins: Vec<(Item, Origin)>,
}

/// Builds the spec from a resource value (configuration, plan or state).
pub fn build_spec(
    value: &Value,
    facts: Option<&ContainerFacts>,
) -> Result<Prepared, Vec<Diagnostic>> {
    let mut items = Items::default();
    let mut diags = Vec::new();
    if let Err(d) = items_build::from_blocks(value, &mut items) {
        diags.extend(d);
    }
    let components = strings(value, "apt_components");
    if !components.is_empty() {
        items.push(
            Phase::Apt,
            Item::AptComponents(AptComponentsItem { components }),
            Origin::Preset {
                preset: "apt_components",
                role: "components",
            },
        );
    }
    if let Some(facts) = facts {
        if let Err(d) = presets::expand(value, facts, &mut items) {
            diags.extend(d);
        }
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    finish_spec(value, items)
}

/// The spec around `items`, with the resource's run settings, validated as the agent will.
pub fn finish_spec(value: &Value, items: Items) -> Result<Prepared, Vec<Diagnostic>> {
    let origins = items.into_ordered();
    let spec = Spec {
        version: SPEC_VERSION,
        allowed_roots: strings(value, "allowed_roots")
            .into_iter()
            .map(PathBuf::from)
            .collect(),
        on_failure: if string(value, "on_failure").as_deref() == Some("stop") {
            FailurePolicy::Stop
        } else {
            FailurePolicy::Continue
        },
        reown_roots: vec![PathBuf::from("/")],
        items: origins.iter().map(|(i, _)| i.clone()).collect(),
        jobs: None,
    };
    let problems = pvelxc_spec::validate::validate(&spec);
    if !problems.is_empty() {
        return Err(problems
            .into_iter()
            .map(|p| {
                Diagnostic::error(
                    Path::root(),
                    "Invalid configuration for the agent",
                    p.to_string(),
                )
            })
            .collect());
    }
    Ok(Prepared { spec, origins })
}

/// `kind key`, made unique with the item index when two items share it.
fn status_keys(report: &Report) -> Vec<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for i in &report.items {
        *seen.entry(format!("{} {}", i.kind, i.key)).or_default() += 1;
    }
    report
        .items
        .iter()
        .map(|i| {
            let key = format!("{} {}", i.kind, i.key);
            if seen.get(&key).copied().unwrap_or(0) > 1 {
                format!("{key} #{}", i.index)
            } else {
                key
            }
        })
        .collect()
}

fn status_word(s: ItemStatus) -> &'static str {
    match s {
        // A changed item is as configured once the run ends; recording "changed" would make
        // the next refresh report a difference where there is none.
        ItemStatus::Ok | ItemStatus::Changed => "ok",
        ItemStatus::WouldChange => "would_change",
        ItemStatus::Failed => "failed",
        ItemStatus::Skipped => "skipped",
    }
}

/// Fills the computed attributes from a report.
pub fn fill_computed(state: &mut Value, report: &Report, sha256: &str, drift: &Drift) {
    let keys = status_keys(report);
    let statuses = keys
        .iter()
        .zip(&report.items)
        .map(|(k, i)| (k.clone(), Value::string(status_word(i.status))));
    set(state, "item_status", Value::map(statuses));
    let checks = report.items.iter().filter_map(|i| {
        i.check.as_ref().map(|c| {
            (
                i.key.clone(),
                Value::object([
                    ("passed", Value::bool(c.passed)),
                    ("output", Value::string(c.detail.clone())),
                ]),
            )
        })
    });
    set(state, "check_results", Value::map(checks));
    set(state, "agent_sha256", Value::string(sha256));
    set(
        state,
        "drift",
        Value::list(drift.lines.iter().cloned().map(Value::string)),
    );
    set(state, "converged", Value::bool(!drift.unmapped));
}

/// One error per failed item, naming the target and the item.
/// The state after an apply run: computed attributes from the report, and on failed items an
/// error that keeps that state as partial (with `converged = false`) so the next plan proposes
/// to finish the job. Shared by the container and node config resources.
#[allow(
    clippy::result_large_err,
    reason = "the framework's ResourceError, returned as is by the Resource methods that call this"
)]
pub fn apply_outcome(
    mut state: Value,
    target: &Target,
    report: &Report,
    sha256: &str,
) -> crate::framework::ResourceResult<crate::framework::StateWithPrivate> {
    fill_computed(&mut state, report, sha256, &Drift::default());
    let failed = failures(target, report);
    if !failed.is_empty() {
        set(&mut state, "converged", Value::bool(false));
        return Err(crate::framework::ResourceError {
            diagnostics: failed,
            partial_state: Some(state),
        });
    }
    Ok(crate::framework::StateWithPrivate {
        state,
        private: Vec::new(),
    })
}

pub fn failures(target: &Target, report: &Report) -> Vec<Diagnostic> {
    report
        .items
        .iter()
        .filter(|i| i.status == ItemStatus::Failed)
        .map(|i| {
            let mut detail = format!(
                "pvelxc-agent in {target}: item {} ({} {}) failed: {}",
                i.index,
                i.kind,
                i.key,
                i.error.as_deref().unwrap_or("no message")
            );
            if let Some(c) = &i.check {
                detail.push_str(&format!("\ncheck output: {}", c.detail));
            }
            Diagnostic::error(
                Path::root(),
                format!("Configuring {target} failed at {} {}", i.kind, i.key),
                detail,
            )
        })
        .collect()
}

/// A diagnostic for a delivery or run failure.
pub fn agent_diagnostic(target: &Target, err: AgentError) -> Diagnostic {
    Diagnostic::error(
        Path::root(),
        format!("pvelxc-agent could not run in {target}"),
        err.to_string(),
    )
}

/// Installs the agent in `target` and runs `spec`; returns the report and the agent hash.
pub async fn install_and_run(
    ssh: &NodeSsh,
    target: &Target,
    binary: &AgentBinary,
    spec: &Spec,
    mode: RunMode,
    root: Option<&str>,
) -> Result<(Report, String), Diagnostic> {
    let in_place = agent::agent_path(target, binary);
    let current = agent::run_if_current(ssh, target, &in_place, &binary.sha256, spec, mode, root)
        .await
        .map_err(|e| agent_diagnostic(target, e))?;
    if let Some(run) = current {
        tracing::info!(%target, ?mode, ms = run.elapsed.as_millis() as u64, summary = ?run.report.summary, "agent in place; ran in one trip");
        return Ok((run.report, binary.sha256.clone()));
    }
    let installed = agent::install(ssh, target, binary)
        .await
        .map_err(|e| agent_diagnostic(target, e))?;
    tracing::info!(%target, installed = installed.installed, ms = installed.elapsed.as_millis() as u64, "agent in place");
    let run = agent::run_agent(ssh, target, &installed.path, spec, mode, root)
        .await
        .map_err(|e| agent_diagnostic(target, e))?;
    tracing::info!(%target, ?mode, ms = run.elapsed.as_millis() as u64, summary = ?run.report.summary, "agent run finished");
    Ok((run.report, installed.sha256))
}

/// Writes a check report onto a state value.
pub fn reflect_check(state: &mut Value, prepared: &Prepared, report: &Report, sha256: &str) {
    let drift = drift::apply(state, &prepared.origins, report);
    fill_computed(state, report, sha256, &drift);
}

#[cfg(test)]
mod tests {
    use super::*;
    use pvelxc_spec::report::{CheckOutcome, ItemReport, RunMode};

    #[test]
    fn failures_name_the_container_and_the_item() {
        let report = Report::new(
            RunMode::Apply,
            vec![ItemReport {
                index: 3,
                kind: "apt_packages".into(),
                key: "ffmpeg".into(),
                status: ItemStatus::Failed,
                changes: Vec::new(),
                diff: None,
                error: Some("apt-get install failed: E: Unable to locate package ffmpeg".into()),
                check: Some(CheckOutcome {
                    passed: false,
                    detail: "x".into(),
                }),
            }],
        );
        let target = Target::Container {
            node: "pve".into(),
            vmid: 201,
        };
        let diags = failures(&target, &report);
        assert_eq!(diags.len(), 1);
        assert!(
            diags[0].summary.contains("container pve/201"),
            "{:?}",
            diags[0]
        );
        assert!(
            diags[0].detail.contains("item 3 (apt_packages ffmpeg)"),
            "{:?}",
            diags[0]
        );
        assert!(diags[0].detail.contains("Unable to locate package"));
    }

    #[test]
    fn invalid_items_are_plan_time_errors_naming_the_block() {
        let schema = super::super::schema::schema();
        let mut v = schema.block.empty_value();
        set(&mut v, "container_id", Value::string("pve/201"));
        set(
            &mut v,
            "check",
            Value::list([Value::object([
                ("name", Value::string("both")),
                ("user", Value::string("media")),
                ("device_opens", Value::string("/dev/sr0")),
                ("writable", Value::string("/tmp")),
                ("command", Value::Null),
                ("expect", Value::Null),
                ("env", Value::Null),
                ("timeout_seconds", Value::Null),
            ])]),
        );
        let diags = build_spec(&v, None).unwrap_err();
        assert_eq!(diags[0].path, Path::root().attr("check").index(0));
    }
}
