//! The planning and result rules Terraform enforces, applied by the
//! framework before anything goes back on the wire.
//!
//! The rules themselves live in `pvelxc_schema::plan`; this module adds the
//! checks that need no schema walk (wholly known results) and words every
//! finding as an error that names the attribute.

use pvelxc_cty::{Path, PathStep, Value};
use pvelxc_schema::{Block, Diagnostic};

use super::diagnostics::provider_bug;

/// The framework's plan for a create or update.
pub fn plan(
    block: &Block,
    prior: &Value,
    proposed: &Value,
    config: &Value,
    prior_private: &[u8],
) -> Value {
    pvelxc_schema::plan::plan_new(block, prior, proposed, config, prior_private)
}

/// Attributes whose change forces replacement (only ones that changed).
pub fn requires_replace(block: &Block, prior: &Value, planned: &Value) -> Vec<Path> {
    pvelxc_schema::plan::requires_replace(block, prior, planned)
}

/// Terraform's "Provider produced invalid plan" checks.
pub fn check_plan(
    block: &Block,
    prior: &Value,
    config: &Value,
    planned: &Value,
) -> Vec<Diagnostic> {
    pvelxc_schema::plan::assert_plan_valid(block, prior, config, planned)
        .into_iter()
        .map(|d| {
            provider_bug(
                d.path.clone(),
                format!(
                    "Provider produced an invalid plan for {}",
                    describe(&d.path)
                ),
                format!("{} {}", d.summary, d.detail),
            )
        })
        .collect()
}

/// Terraform's "Provider produced inconsistent result after apply" checks,
/// plus "every value known".
pub fn check_apply(block: &Block, planned: &Value, new: &Value) -> Vec<Diagnostic> {
    let mut diags: Vec<Diagnostic> =
        pvelxc_schema::plan::assert_apply_compatible(block, planned, new)
            .into_iter()
            .map(|d| {
                provider_bug(
                    d.path.clone(),
                    format!(
                        "Provider produced an inconsistent result for {}",
                        describe(&d.path)
                    ),
                    format!("{} {}", d.summary, d.detail),
                )
            })
            .collect();
    if let Some(path) = first_unknown(new, &Path::root()) {
        diags.push(provider_bug(
            path.clone(),
            format!("Provider left {} unknown after apply", describe(&path)),
            "Every attribute must have a known value once the change is applied.",
        ));
    }
    diags
}

/// Configuration checks from the schema (required attributes, validators,
/// block counts).
pub fn validate_config(block: &Block, config: &Value) -> Vec<Diagnostic> {
    pvelxc_schema::validate_config(block, config)
}

/// Path of the first unknown value inside `value`, if any.
pub fn first_unknown(value: &Value, at: &Path) -> Option<Path> {
    match value {
        Value::Unknown(_) => Some(at.clone()),
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| first_unknown(v, &at.with(PathStep::Index(i as i64)))),
        Value::Map(entries) => entries
            .iter()
            .find_map(|(k, v)| first_unknown(v, &at.with(PathStep::Key(k.clone())))),
        Value::Object(attrs) => attrs
            .iter()
            .find_map(|(k, v)| first_unknown(v, &at.with(PathStep::Attr(k.clone())))),
        Value::Dynamic { value, .. } => first_unknown(value, at),
        _ => None,
    }
}

/// Replaces every unknown with null, for returning a partial state that
/// Terraform will accept alongside an error.
pub fn unknowns_to_null(value: &Value) -> Value {
    match value {
        Value::Unknown(_) => Value::Null,
        Value::List(items) => Value::List(items.iter().map(unknowns_to_null).collect()),
        Value::Set(items) => Value::Set(items.iter().map(unknowns_to_null).collect()),
        Value::Tuple(items) => Value::Tuple(items.iter().map(unknowns_to_null).collect()),
        Value::Map(entries) => Value::Map(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), unknowns_to_null(v)))
                .collect(),
        ),
        Value::Object(attrs) => Value::Object(
            attrs
                .iter()
                .map(|(k, v)| (k.clone(), unknowns_to_null(v)))
                .collect(),
        ),
        Value::Dynamic { ty, value } => Value::Dynamic {
            ty: ty.clone(),
            value: Box::new(unknowns_to_null(value)),
        },
        other => other.clone(),
    }
}

fn describe(path: &Path) -> String {
    if path.is_root() {
        "the resource".to_string()
    } else {
        format!("\"{path}\"")
    }
}
