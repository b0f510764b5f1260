//! Terraform's proposed new state (`objchange.ProposedNew`): what Terraform
//! sends as `proposed_new_state`. Reproduced so tests can drive the planning
//! helpers with exactly the inputs Terraform would give them.

use super::correlate::{elements, find_in_set};
use crate::block::{Block, Nesting};
use pvelxc_cty::Value;
use std::collections::BTreeMap;

/// Merges `config` over `prior`: configured values win; computed attributes
/// left unset in configuration keep their prior value (null on create).
/// A null `config` (destroy) proposes null.
pub fn proposed_new(block: &Block, prior: &Value, config: &Value) -> Value {
    if config.is_null() {
        return Value::Null;
    }
    let prior = if prior.is_null() {
        block.empty_value()
    } else {
        prior.clone()
    };
    object(block, &prior, config)
}

fn attr<'a>(obj: &'a Value, name: &str) -> &'a Value {
    obj.get_attr(name).unwrap_or(&Value::Null)
}

fn object(block: &Block, prior: &Value, config: &Value) -> Value {
    if config.is_null() || !config.is_known() {
        return config.clone();
    }
    let mut out = BTreeMap::new();
    for a in &block.attributes {
        let c = attr(config, &a.name);
        let v = if a.computed && c.is_null() {
            attr(prior, &a.name).clone()
        } else {
            c.clone()
        };
        out.insert(a.name.clone(), v);
    }
    for b in &block.blocks {
        let c = attr(config, &b.type_name);
        let p = attr(prior, &b.type_name);
        let v = match b.nesting {
            Nesting::Single | Nesting::Group => {
                if p.is_null() || c.is_null() {
                    if c.is_null() {
                        c.clone()
                    } else {
                        object(&b.block, &b.block.empty_value(), c)
                    }
                } else {
                    object(&b.block, p, c)
                }
            }
            Nesting::List | Nesting::Set => {
                let inner = c.unwrap_dynamic();
                if !inner.is_known() || inner.is_null() {
                    c.clone()
                } else {
                    let pe = elements(p);
                    let mut used = vec![false; pe.len()];
                    let items: Vec<Value> = elements(inner)
                        .iter()
                        .enumerate()
                        .map(|(i, ce)| {
                            let prior_e = if b.nesting == Nesting::List {
                                pe.get(i)
                            } else {
                                find_in_set(&b.block, ce, pe, &mut used)
                            };
                            match prior_e {
                                Some(pr) if !pr.is_null() => object(&b.block, pr, ce),
                                _ => object(&b.block, &b.block.empty_value(), ce),
                            }
                        })
                        .collect();
                    let rebuilt = match inner {
                        Value::Set(_) => Value::set(items),
                        Value::Tuple(_) => Value::Tuple(items),
                        _ => Value::List(items),
                    };
                    match c {
                        Value::Dynamic { ty, .. } => Value::dynamic(ty.clone(), rebuilt),
                        _ => rebuilt,
                    }
                }
            }
            Nesting::Map => {
                let inner = c.unwrap_dynamic();
                match inner.as_entries() {
                    Some(entries) if inner.is_known() => {
                        let pm = p.unwrap_dynamic().as_entries();
                        let items: BTreeMap<String, Value> = entries
                            .iter()
                            .map(|(k, ce)| {
                                let v = match pm.and_then(|m| m.get(k)) {
                                    Some(pr) if !pr.is_null() => object(&b.block, pr, ce),
                                    _ => object(&b.block, &b.block.empty_value(), ce),
                                };
                                (k.clone(), v)
                            })
                            .collect();
                        match c {
                            Value::Dynamic { ty, value } => {
                                let rebuilt = if matches!(**value, Value::Object(_)) {
                                    Value::Object(items)
                                } else {
                                    Value::Map(items)
                                };
                                Value::dynamic(ty.clone(), rebuilt)
                            }
                            _ => Value::Map(items),
                        }
                    }
                    _ => c.clone(),
                }
            }
        };
        out.insert(b.type_name.clone(), v);
    }
    Value::Object(out)
}
