//! Building the planned value from Terraform's proposed new state.

use super::correlate::{elements, find_in_set};
use crate::block::{Block, Nesting};
use pvelxc_cty::Value;
use std::collections::BTreeMap;

/// Plans the new state of a resource.
///
/// * destroy (`proposed` null): null;
/// * attributes set in configuration: as configured;
/// * optional+computed attributes left unset with a default: the default;
/// * computed attributes left unset: unknown on create; on update the prior
///   value when nothing configured changes or the attribute is marked
///   `use_state_for_unknown`, unknown otherwise (the provider recomputes it);
/// * write-only attributes: always null;
/// * non-computed attributes left unset: null.
///
/// `prior_private` is accepted so that the call mirrors the RPC; the
/// planned private data is the prior one unchanged.
pub fn plan_new(
    block: &Block,
    prior: &Value,
    proposed: &Value,
    config: &Value,
    prior_private: &[u8],
) -> Value {
    let _ = prior_private;
    if proposed.is_null() {
        return Value::Null;
    }
    let steady = plan_object(block, prior, proposed, config, false);
    if prior.is_null() || steady == *prior {
        return steady;
    }
    plan_object(block, prior, proposed, config, true)
}

fn attr<'a>(obj: &'a Value, name: &str) -> &'a Value {
    obj.get_attr(name).unwrap_or(&Value::Null)
}

fn plan_object(
    block: &Block,
    prior: &Value,
    proposed: &Value,
    config: &Value,
    changed: bool,
) -> Value {
    if proposed.is_null() || !proposed.is_known() {
        return proposed.clone();
    }
    let mut out = BTreeMap::new();
    for a in &block.attributes {
        let p = attr(proposed, &a.name);
        let c = attr(config, &a.name);
        let planned = if a.write_only {
            Value::Null
        } else if !c.is_null() {
            if p.is_null() {
                c.clone()
            } else {
                p.clone()
            }
        } else if a.computed {
            match &a.default {
                Some(d) if a.optional => d.clone(),
                _ if prior.is_null() => Value::unknown(),
                _ if changed && !a.use_state_for_unknown => Value::unknown(),
                _ => attr(prior, &a.name).clone(),
            }
        } else {
            Value::Null
        };
        out.insert(a.name.clone(), planned);
    }
    for b in &block.blocks {
        let p = attr(proposed, &b.type_name);
        let c = attr(config, &b.type_name);
        let pr = attr(prior, &b.type_name);
        let planned = match b.nesting {
            Nesting::Single | Nesting::Group => plan_object(&b.block, pr, p, c, changed),
            Nesting::List => map_elements(p, |i, pe| {
                let ce = elements(c).get(i).unwrap_or(&Value::Null);
                let pre = elements(pr).get(i).unwrap_or(&Value::Null);
                plan_object(&b.block, pre, pe, ce, changed)
            }),
            Nesting::Set => {
                let mut used_c = vec![false; elements(c).len()];
                let mut used_p = vec![false; elements(pr).len()];
                map_elements(p, |_, pe| {
                    let ce =
                        find_in_set(&b.block, pe, elements(c), &mut used_c).unwrap_or(&Value::Null);
                    let pre = find_in_set(&b.block, pe, elements(pr), &mut used_p)
                        .unwrap_or(&Value::Null);
                    plan_object(&b.block, pre, pe, ce, changed)
                })
            }
            Nesting::Map => {
                let inner = p.unwrap_dynamic();
                match inner.as_entries() {
                    Some(entries) if inner.is_known() => {
                        let planned: BTreeMap<String, Value> = entries
                            .iter()
                            .map(|(k, pe)| {
                                let ce = c
                                    .unwrap_dynamic()
                                    .get_attr(k)
                                    .or(c.get_key(k))
                                    .unwrap_or(&Value::Null);
                                let pre = pr
                                    .unwrap_dynamic()
                                    .get_attr(k)
                                    .or(pr.get_key(k))
                                    .unwrap_or(&Value::Null);
                                (k.clone(), plan_object(&b.block, pre, pe, ce, changed))
                            })
                            .collect();
                        rewrap(p, |v| match v {
                            Value::Object(_) => Value::Object(planned.clone()),
                            _ => Value::Map(planned.clone()),
                        })
                    }
                    _ => p.clone(),
                }
            }
        };
        out.insert(b.type_name.clone(), planned);
    }
    Value::Object(out)
}

/// Applies `f` to each element of a (possibly dynamic-wrapped) list, set or
/// tuple, keeping the collection kind and wrapper.
fn map_elements(v: &Value, mut f: impl FnMut(usize, &Value) -> Value) -> Value {
    let inner = v.unwrap_dynamic();
    if !inner.is_known() || inner.is_null() {
        return v.clone();
    }
    let mapped: Vec<Value> = elements(inner)
        .iter()
        .enumerate()
        .map(|(i, e)| f(i, e))
        .collect();
    rewrap(v, |shape| match shape {
        Value::Set(_) => Value::set(mapped.clone()),
        Value::Tuple(_) => Value::Tuple(mapped.clone()),
        _ => Value::List(mapped.clone()),
    })
}

fn rewrap(original: &Value, build: impl Fn(&Value) -> Value) -> Value {
    match original {
        Value::Dynamic { ty, value } => Value::dynamic(ty.clone(), rewrap(value, build)),
        other => build(other),
    }
}
