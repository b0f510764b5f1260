//! Validation of a configuration value against a block: required
//! attributes, read-only attributes, validators, block counts.
//! Unknown values are skipped; Terraform validates again once they are known.

use crate::block::{Block, Nesting};
use crate::diagnostic::Diagnostic;
use crate::validator::Validator;
use pvelxc_cty::{Path, Value};

/// Validates `config` (an object of `block`'s implied type) and returns
/// every problem with the path of the attribute concerned.
pub fn validate_config(block: &Block, config: &Value) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    validate_object(block, config, &Path::root(), &mut out);
    out
}

fn validate_object(block: &Block, obj: &Value, path: &Path, out: &mut Vec<Diagnostic>) {
    if obj.is_null() || !obj.is_known() {
        return;
    }
    for a in &block.attributes {
        let p = path.attr(a.name.clone());
        let v = obj.get_attr(&a.name).unwrap_or(&Value::Null);
        if v.is_null() {
            if a.required {
                out.push(Diagnostic::error(
                    p,
                    "Missing required argument",
                    format!(
                        "The argument \"{}\" is required, but no definition was found.",
                        a.name
                    ),
                ));
            }
            continue;
        }
        if a.is_read_only() {
            out.push(Diagnostic::error(
                p,
                "Value for unconfigurable attribute",
                format!(
                    "Can't configure a value for \"{}\": its value will be decided automatically based on the result of applying this configuration. Remove it from the configuration.",
                    a.name
                ),
            ));
            continue;
        }
        if a.deprecated {
            out.push(Diagnostic::warning(
                p.clone(),
                "Argument is deprecated",
                a.deprecation_message.clone().unwrap_or_else(|| {
                    format!("\"{}\" is deprecated and will be removed.", a.name)
                }),
            ));
        }
        let line_rule = if a.multiline {
            Validator::NoNul
        } else {
            Validator::SingleLine
        };
        out.extend(line_rule.check(v, &p));
        for validator in &a.validators {
            out.extend(validator.check(v, &p));
        }
    }
    for b in &block.blocks {
        let p = path.attr(b.type_name.clone());
        let v = obj.get_attr(&b.type_name).unwrap_or(&Value::Null);
        let v = v.unwrap_dynamic();
        if !v.is_known() {
            continue;
        }
        match b.nesting {
            Nesting::Single | Nesting::Group => {
                if v.is_null() {
                    if b.min_items > 0 {
                        out.push(Diagnostic::error(
                            p,
                            "Missing required block",
                            format!("A block of type \"{}\" is required here.", b.type_name),
                        ));
                    }
                } else {
                    validate_object(&b.block, v, &p, out);
                }
            }
            Nesting::List | Nesting::Set => {
                let items = v.as_elements().unwrap_or(&[]);
                // Set elements with unknowns may still collapse into one another.
                let count_known = b.nesting == Nesting::List || v.is_wholly_known();
                let n = items.len() as u64;
                if count_known && n < u64::from(b.min_items) {
                    out.push(Diagnostic::error(
                        p.clone(),
                        "Insufficient blocks",
                        format!(
                            "At least {} \"{}\" blocks are required; {n} given.",
                            b.min_items, b.type_name
                        ),
                    ));
                }
                if count_known && b.max_items > 0 && n > u64::from(b.max_items) {
                    out.push(Diagnostic::error(
                        p.clone(),
                        "Too many blocks",
                        format!(
                            "No more than {} \"{}\" blocks are allowed; {n} given.",
                            b.max_items, b.type_name
                        ),
                    ));
                }
                for (i, item) in items.iter().enumerate() {
                    validate_object(&b.block, item, &p.index(i as i64), out);
                }
            }
            Nesting::Map => {
                if let Some(entries) = v.as_entries() {
                    for (k, item) in entries {
                        validate_object(&b.block, item, &p.key(k.clone()), out);
                    }
                }
            }
        }
    }
}
