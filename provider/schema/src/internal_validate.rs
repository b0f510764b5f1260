//! Terraform's `InternalValidate` rules, plus this DSL's own, so an invalid
//! schema fails a unit test instead of failing in front of a user with
//! "provider has invalid schema ... which is a bug in the provider".

use crate::attribute::Attribute;
use crate::block::{Block, Nesting, Schema};
use crate::validator::Validator;
use pvelxc_cty::{Path, Type};
use thiserror::Error;

/// One problem in a schema declaration.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("{}: {problem}", if path.is_root() { "root block".to_string() } else { format!("`{path}`") })]
pub struct SchemaError {
    /// The attribute or block concerned.
    pub path: Path,
    /// What is wrong and how to fix it.
    pub problem: String,
}

impl Schema {
    /// Checks the whole schema; returns every problem found.
    pub fn internal_validate(&self) -> Result<(), Vec<SchemaError>> {
        let mut errs = Vec::new();
        if self.version < 0 {
            errs.push(SchemaError {
                path: Path::root(),
                problem: format!(
                    "schema version {} is negative; versions start at 0",
                    self.version
                ),
            });
        }
        validate_block(&self.block, &Path::root(), &mut errs);
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs)
        }
    }
}

impl Block {
    /// Checks this block and everything nested in it.
    pub fn internal_validate(&self) -> Result<(), Vec<SchemaError>> {
        let mut errs = Vec::new();
        validate_block(self, &Path::root(), &mut errs);
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs)
        }
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn push(errs: &mut Vec<SchemaError>, path: &Path, problem: impl Into<String>) {
    errs.push(SchemaError {
        path: path.clone(),
        problem: problem.into(),
    });
}

fn validate_block(block: &Block, path: &Path, errs: &mut Vec<SchemaError>) {
    let mut seen = std::collections::BTreeSet::new();
    for a in &block.attributes {
        let p = path.attr(a.name.clone());
        if !seen.insert(a.name.as_str()) {
            push(errs, &p, "declared twice");
        }
        for problem in attribute_problems(a) {
            push(errs, &p, problem);
        }
    }
    for b in &block.blocks {
        let p = path.attr(b.type_name.clone());
        if !seen.insert(b.type_name.as_str()) {
            push(
                errs,
                &p,
                "name used by both an attribute and a block, or declared twice",
            );
        }
        if !valid_name(&b.type_name) {
            push(
                errs,
                &p,
                "name must contain only lowercase letters, digits and underscores",
            );
        }
        if b.block.description.trim().is_empty() {
            push(
                errs,
                &p,
                "block has no description; every block is documented",
            );
        }
        match b.nesting {
            Nesting::Single => {
                if b.min_items != b.max_items {
                    push(
                        errs,
                        &p,
                        "MinItems and MaxItems must match in NestingSingle mode",
                    );
                } else if b.min_items > 1 {
                    push(
                        errs,
                        &p,
                        "MinItems and MaxItems must be set to either 0 or 1 in NestingSingle mode",
                    );
                }
            }
            Nesting::Group => {
                if b.min_items != 0 || b.max_items != 0 {
                    push(
                        errs,
                        &p,
                        "MinItems and MaxItems cannot be used in NestingGroup mode",
                    );
                }
            }
            Nesting::List | Nesting::Set => {
                if b.max_items != 0 && b.min_items > b.max_items {
                    push(errs, &p, "MinItems must be less than or equal to MaxItems");
                }
                if b.nesting == Nesting::Set {
                    if b.has_dynamic() {
                        push(
                            errs,
                            &p,
                            "NestingSet blocks may not contain attributes of cty.DynamicPseudoType",
                        );
                    }
                    if contains_write_only(&b.block) {
                        push(
                            errs,
                            &p,
                            "NestingSet blocks may not contain write-only attributes",
                        );
                    }
                }
            }
            Nesting::Map => {
                if b.min_items != 0 || b.max_items != 0 {
                    push(
                        errs,
                        &p,
                        "MinItems and MaxItems must both be 0 in NestingMap mode",
                    );
                }
            }
        }
        validate_block(&b.block, &p, errs);
    }
}

fn contains_write_only(block: &Block) -> bool {
    block.attributes.iter().any(|a| a.write_only)
        || block.blocks.iter().any(|b| contains_write_only(&b.block))
}

fn attribute_problems(a: &Attribute) -> Vec<String> {
    let mut out = Vec::new();
    if !valid_name(&a.name) {
        out.push("name must contain only lowercase letters, digits and underscores".into());
    }
    if !a.optional && !a.required && !a.computed {
        out.push("must set Optional, Required or Computed".into());
    }
    if a.optional && a.required {
        out.push("cannot set both Optional and Required".into());
    }
    if a.computed && a.required {
        out.push("cannot set both Computed and Required".into());
    }
    if a.write_only && a.computed {
        out.push("a write-only attribute cannot be Computed (it is never stored)".into());
    }
    if a.description.trim().is_empty() {
        out.push("attribute has no description; every attribute is documented".into());
    }
    if a.deprecation_message.is_some() && !a.deprecated {
        out.push("DeprecationMessage is only valid when Deprecated is set".into());
    }
    if let Some(d) = &a.default {
        if !(a.optional && a.computed) {
            out.push("a default needs Optional and Computed (it is planned when the configuration leaves the attribute unset)".into());
        }
        if let Err(e) = d.check_type(&a.ty) {
            out.push(format!(
                "default does not match the attribute type {}: {e}",
                a.ty
            ));
        }
        if !d.is_wholly_known() || d.is_null() {
            out.push("default must be a known, non-null value".into());
        }
    }
    if a.use_state_for_unknown && !a.computed {
        out.push("use_state_for_unknown only applies to Computed attributes".into());
    }
    for v in &a.validators {
        if let Validator::Regex {
            pattern: Err(e), ..
        } = v
        {
            out.push(format!("invalid regular expression in validator: {e}"));
        }
        let string_check = matches!(
            v,
            Validator::Regex { .. }
                | Validator::OneOf(_)
                | Validator::Length { .. }
                | Validator::Cidr { .. }
        );
        if string_check && !mentions(&a.ty, &Type::String) {
            out.push(format!(
                "validator \"{}\" checks strings but the attribute type is {}",
                v.describe(),
                a.ty
            ));
        }
        if matches!(v, Validator::IntRange { .. }) && !mentions(&a.ty, &Type::Number) {
            out.push(format!(
                "validator \"{}\" checks numbers but the attribute type is {}",
                v.describe(),
                a.ty
            ));
        }
    }
    out
}

/// True if `ty` can contain values of primitive type `p` (dynamic can hold anything).
fn mentions(ty: &Type, p: &Type) -> bool {
    match ty {
        Type::Dynamic => true,
        t if t == p => true,
        Type::List(e) | Type::Set(e) | Type::Map(e) => mentions(e, p),
        Type::Object(attrs) => attrs.values().any(|t| mentions(t, p)),
        Type::Tuple(elems) => elems.iter().any(|t| mentions(t, p)),
        _ => false,
    }
}
