//! Pairing elements of nested blocks between config, proposed, prior and
//! planned values: by index for lists, by key for maps, and for sets by the
//! attributes the user configures (sets have no other identity).

use crate::block::Block;
use pvelxc_cty::Value;

/// Empty slice for absent collections.
pub(crate) fn elements(v: &Value) -> &[Value] {
    v.unwrap_dynamic().as_elements().unwrap_or(&[])
}

/// True if `candidate` agrees with `element` on every attribute the user
/// can configure (read-only attributes and unknowns are ignored; a computed
/// attribute null on one side matches anything), recursively.
pub(crate) fn same_configured(block: &Block, element: &Value, candidate: &Value) -> bool {
    let (e, c) = (element.unwrap_dynamic(), candidate.unwrap_dynamic());
    if e.is_null() || c.is_null() {
        return e.is_null() && c.is_null();
    }
    for a in &block.attributes {
        if a.is_read_only() {
            continue;
        }
        let cv = c.get_attr(&a.name).unwrap_or(&Value::Null);
        let ev = e.get_attr(&a.name).unwrap_or(&Value::Null);
        if !cv.is_wholly_known() || !ev.is_wholly_known() {
            continue;
        }
        // A computed attribute may be null on the config side and set on the
        // prior/planned side; any other difference means another element.
        let either_null = cv.is_null() || ev.is_null();
        if cv != ev && !(either_null && a.computed) {
            return false;
        }
    }
    for b in &block.blocks {
        let ce = elements(c.get_attr(&b.type_name).unwrap_or(&Value::Null));
        let ee = elements(e.get_attr(&b.type_name).unwrap_or(&Value::Null));
        if ce.len() != ee.len() {
            // Single/Group/Map values have no elements: compare whole objects.
            if ce.is_empty() && ee.is_empty() {
                continue;
            }
            return false;
        }
        if !ce
            .iter()
            .zip(ee)
            .all(|(x, y)| same_configured(&b.block, y, x))
        {
            return false;
        }
    }
    true
}

/// The element of `pool` that corresponds to `element` in a set block,
/// not yet used by another element.
pub(crate) fn find_in_set<'a>(
    block: &Block,
    element: &Value,
    pool: &'a [Value],
    used: &mut [bool],
) -> Option<&'a Value> {
    let exact = pool
        .iter()
        .enumerate()
        .find(|(i, c)| !used[*i] && *c == element);
    let found = exact.or_else(|| {
        pool.iter()
            .enumerate()
            .find(|(i, c)| !used[*i] && same_configured(block, element, c))
    });
    found.map(|(i, c)| {
        used[i] = true;
        c
    })
}
