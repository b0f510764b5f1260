//! Which changes force replacement.

use super::correlate::elements;
use crate::block::{Block, Nesting};
use pvelxc_cty::{Path, Value};

/// Paths of `requires_replace` attributes whose planned value differs from
/// (or may differ from, being unknown) the prior value. Empty on create.
/// When elements of a nested block containing such attributes appear or
/// disappear, the block's own path is returned.
pub fn requires_replace(block: &Block, prior: &Value, planned: &Value) -> Vec<Path> {
    let mut out = Vec::new();
    if prior.is_null() || planned.is_null() {
        return out;
    }
    walk(block, prior, planned, &Path::root(), &mut out);
    out
}

fn has_replace(block: &Block) -> bool {
    block.attributes.iter().any(|a| a.requires_replace)
        || block.blocks.iter().any(|b| has_replace(&b.block))
}

/// Only the parts of an element that force replacement.
fn project(block: &Block, v: &Value) -> Value {
    let v = v.unwrap_dynamic();
    if v.is_null() || !v.is_known() {
        return v.clone();
    }
    let mut attrs = Vec::new();
    for a in block.attributes.iter().filter(|a| a.requires_replace) {
        attrs.push((
            a.name.clone(),
            v.get_attr(&a.name).cloned().unwrap_or(Value::Null),
        ));
    }
    for b in block.blocks.iter().filter(|b| has_replace(&b.block)) {
        let inner = v.get_attr(&b.type_name).unwrap_or(&Value::Null);
        let projected = match b.nesting {
            Nesting::Single | Nesting::Group => project(&b.block, inner),
            Nesting::List => Value::List(
                elements(inner)
                    .iter()
                    .map(|e| project(&b.block, e))
                    .collect(),
            ),
            Nesting::Set => Value::set(elements(inner).iter().map(|e| project(&b.block, e))),
            Nesting::Map => match inner.unwrap_dynamic().as_entries() {
                Some(m) => Value::Map(
                    m.iter()
                        .map(|(k, e)| (k.clone(), project(&b.block, e)))
                        .collect(),
                ),
                None => inner.clone(),
            },
        };
        attrs.push((b.type_name.clone(), projected));
    }
    Value::object(attrs)
}

fn walk(block: &Block, prior: &Value, planned: &Value, path: &Path, out: &mut Vec<Path>) {
    let (prior, planned) = (prior.unwrap_dynamic(), planned.unwrap_dynamic());
    for a in block.attributes.iter().filter(|a| a.requires_replace) {
        let pv = prior.get_attr(&a.name).unwrap_or(&Value::Null);
        let nv = planned.get_attr(&a.name).unwrap_or(&Value::Null);
        if !nv.is_wholly_known() || pv != nv {
            out.push(path.attr(a.name.clone()));
        }
    }
    for b in block.blocks.iter().filter(|b| has_replace(&b.block)) {
        let p = path.attr(b.type_name.clone());
        let pv = prior
            .get_attr(&b.type_name)
            .unwrap_or(&Value::Null)
            .unwrap_dynamic();
        let nv = planned
            .get_attr(&b.type_name)
            .unwrap_or(&Value::Null)
            .unwrap_dynamic();
        if !nv.is_known() {
            out.push(p);
            continue;
        }
        match b.nesting {
            Nesting::Single | Nesting::Group => {
                if pv.is_null() != nv.is_null() {
                    out.push(p);
                } else if !pv.is_null() {
                    walk(&b.block, pv, nv, &p, out);
                }
            }
            Nesting::List => {
                let (pe, ne) = (elements(pv), elements(nv));
                if pe.len() != ne.len() {
                    out.push(p);
                } else {
                    for (i, (x, y)) in pe.iter().zip(ne).enumerate() {
                        walk(&b.block, x, y, &p.index(i as i64), out);
                    }
                }
            }
            Nesting::Set => {
                if !nv.is_wholly_known() || project(&b.block, pv) != project(&b.block, nv) {
                    let before = Value::set(elements(pv).iter().map(|e| project(&b.block, e)));
                    let after = Value::set(elements(nv).iter().map(|e| project(&b.block, e)));
                    if !nv.is_wholly_known() || before != after {
                        out.push(p);
                    }
                }
            }
            Nesting::Map => {
                let (pm, nm) = (pv.as_entries(), nv.as_entries());
                let same_keys = match (pm, nm) {
                    (Some(a), Some(b)) => a.keys().eq(b.keys()),
                    (None, None) => true,
                    _ => false,
                };
                if !same_keys {
                    out.push(p);
                } else if let (Some(a), Some(bm)) = (pm, nm) {
                    for (k, x) in a {
                        if let Some(y) = bm.get(k) {
                            walk(&b.block, x, y, &p.key(k.clone()), out);
                        }
                    }
                }
            }
        }
    }
}
