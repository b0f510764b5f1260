//! The checks Terraform applies to an apply result against its plan
//! (`objchange.AssertObjectCompatible`), plus "new state must be wholly known".

use super::correlate::elements;
use crate::block::{Block, Nesting};
use crate::diagnostic::Diagnostic;
use pvelxc_cty::{Path, Value};

const SUMMARY: &str = "Provider produced inconsistent result after apply";

/// Checks that `new` (the state returned by apply) keeps every promise
/// `planned` made. Returns one error per broken promise, naming the attribute.
pub fn assert_apply_compatible(block: &Block, planned: &Value, new: &Value) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let root = Path::root();
    if let Err(e) = new.check_type(&block.implied_type()) {
        out.push(err(
            &e.path,
            format!("the new state does not conform to the schema: {}", e.kind),
        ));
        return out;
    }
    if !new.is_wholly_known() {
        unknowns(new, &root, &mut out);
        return out;
    }
    match (planned.is_null(), new.is_null()) {
        (true, true) => {}
        (true, false) => out.push(err(
            &root,
            "after applying a delete plan the provider returned a non-null object; destroying must produce null".into(),
        )),
        (false, true) => out.push(err(&root, "the provider returned a null object for a resource planned to exist".into())),
        (false, false) => object(block, planned, new, &root, &mut out),
    }
    out
}

/// Checks that the plan made at apply time (`final_plan`, from wholly known
/// configuration) keeps every known value of the plan shown to the user
/// (`initial`); unknowns may resolve to anything, or stay unknown
/// (Terraform: "Provider produced inconsistent final plan").
pub fn assert_plan_compatible(
    block: &Block,
    initial: &Value,
    final_plan: &Value,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if initial.is_null() != final_plan.is_null() {
        out.push(Diagnostic::error(
            Path::root(),
            FINAL_SUMMARY,
            "The planned action changed between plan and apply (the resource was planned to exist and is now planned absent, or the reverse). This is a bug in the provider.",
        ));
        return out;
    }
    if initial.is_null() {
        return out;
    }
    let mut raw = Vec::new();
    object(block, initial, final_plan, &Path::root(), &mut raw);
    out.extend(
        raw.into_iter()
            .filter(|d| !d.detail.contains(UNKNOWN_IN_NEW))
            .map(|d| Diagnostic {
                summary: FINAL_SUMMARY.into(),
                ..d
            }),
    );
    out
}

const FINAL_SUMMARY: &str = "Provider produced inconsistent final plan";
const UNKNOWN_IN_NEW: &str = "the new state contains an unknown value";

fn err(path: &Path, what: String) -> Diagnostic {
    let at = if path.is_root() {
        "the resource".to_string()
    } else {
        format!("`{path}`")
    };
    Diagnostic::error(
        path.clone(),
        SUMMARY,
        format!("When applying changes to {at}, the provider produced an unexpected new value: {what}. This is a bug in the provider."),
    )
}

fn get<'a>(v: &'a Value, name: &str) -> &'a Value {
    v.unwrap_dynamic().get_attr(name).unwrap_or(&Value::Null)
}

fn object(block: &Block, planned: &Value, new: &Value, path: &Path, out: &mut Vec<Diagnostic>) {
    for a in &block.attributes {
        let p = path.attr(a.name.clone());
        let (pl, nv) = (get(planned, &a.name), get(new, &a.name));
        if a.write_only && !nv.is_null() {
            out.push(err(
                &p,
                "write-only attribute must be null in the new state".into(),
            ));
            continue;
        }
        value(pl, nv, a.sensitive, &p, out);
    }
    for b in &block.blocks {
        let p = path.attr(b.type_name.clone());
        let (pl, nv) = (
            get(planned, &b.type_name).unwrap_dynamic(),
            get(new, &b.type_name).unwrap_dynamic(),
        );
        if !pl.is_known() {
            continue;
        }
        if !nv.is_known() {
            out.push(err(&p, "was known, but now unknown".into()));
            continue;
        }
        match b.nesting {
            Nesting::Single | Nesting::Group => match (pl.is_null(), nv.is_null()) {
                (true, true) => {}
                (true, false) => out.push(err(&p, "block was absent, but now present".into())),
                (false, true) => out.push(err(&p, "block was present, but now absent".into())),
                (false, false) => object(&b.block, pl, nv, &p, out),
            },
            Nesting::List => {
                let (a, n) = (elements(pl), elements(nv));
                if a.len() != n.len() {
                    out.push(err(
                        &p,
                        format!("block count changed from {} to {}", a.len(), n.len()),
                    ));
                    continue;
                }
                for (i, (x, y)) in a.iter().zip(n).enumerate() {
                    object(&b.block, x, y, &p.index(i as i64), out);
                }
            }
            Nesting::Set => set_compatible(&b.block, pl, nv, &p, out),
            Nesting::Map => {
                let (Some(a), Some(n)) = (pl.as_entries(), nv.as_entries()) else {
                    continue;
                };
                for k in n.keys().filter(|k| !a.contains_key(*k)) {
                    out.push(err(&p, format!("new block key {k:?} has appeared")));
                }
                for (k, x) in a {
                    match n.get(k) {
                        Some(y) => object(&b.block, x, y, &p.key(k.clone()), out),
                        None => out.push(err(&p, format!("block key {k:?} has vanished"))),
                    }
                }
            }
        }
    }
}

/// Every planned element must correlate with a distinct new element; with
/// unknowns in the plan, counts may legitimately change (elements can merge).
fn set_compatible(
    block: &Block,
    planned: &Value,
    new: &Value,
    path: &Path,
    out: &mut Vec<Diagnostic>,
) {
    let (a, n) = (elements(planned), elements(new));
    if planned.is_wholly_known() {
        if a.len() != n.len() {
            out.push(err(
                path,
                format!("block count changed from {} to {}", a.len(), n.len()),
            ));
        } else if planned != new {
            out.push(err(
                path,
                "planned set element does not correlate with any element in actual".into(),
            ));
        }
        return;
    }
    let mut used = vec![false; n.len()];
    for x in a {
        let found = n.iter().enumerate().find(|(i, y)| {
            !used[*i] && {
                let mut probe = Vec::new();
                object(block, x, y, path, &mut probe);
                probe.is_empty()
            }
        });
        match found {
            Some((i, _)) => used[i] = true,
            None => {
                out.push(err(
                    path,
                    "planned set element does not correlate with any element in actual".into(),
                ));
                return;
            }
        }
    }
}

fn unknowns(v: &Value, path: &Path, out: &mut Vec<Diagnostic>) {
    match v.unwrap_dynamic() {
        Value::Unknown(_) => out.push(err(
            path,
            format!("{UNKNOWN_IN_NEW}; apply must decide every value"),
        )),
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
            for (i, item) in items.iter().enumerate() {
                unknowns(item, &path.index(i as i64), out);
            }
        }
        Value::Map(m) => {
            for (k, item) in m {
                unknowns(item, &path.key(k.clone()), out);
            }
        }
        Value::Object(m) => {
            for (k, item) in m {
                unknowns(item, &path.attr(k.clone()), out);
            }
        }
        _ => {}
    }
}

fn value(planned: &Value, new: &Value, sensitive: bool, path: &Path, out: &mut Vec<Diagnostic>) {
    let show = |v: &Value| {
        if sensitive {
            "(sensitive value)".to_string()
        } else {
            v.to_string()
        }
    };
    if !new.is_known() {
        if planned.is_known() {
            out.push(err(path, format!("was {}, but now unknown", show(planned))));
        } else {
            unknowns(new, path, out);
        }
        return;
    }
    if let Value::Unknown(r) = planned {
        if r.null == Some(false) && new.is_null() {
            out.push(err(
                path,
                "was planned as definitely not null, but now null".into(),
            ));
        }
        if let (Some(prefix), Some(s)) = (&r.string_prefix, new.as_str()) {
            if !s.starts_with(prefix.as_str()) {
                out.push(err(
                    path,
                    format!(
                        "was planned to start with {prefix:?}, but now {}",
                        show(new)
                    ),
                ));
            }
        }
        return;
    }
    match (planned.is_null(), new.is_null()) {
        (true, true) => return,
        (true, false) => {
            out.push(err(path, format!("was null, but now {}", show(new))));
            return;
        }
        (false, true) => {
            out.push(err(path, format!("was {}, but now null", show(planned))));
            return;
        }
        _ => {}
    }
    if planned.is_wholly_known() {
        if planned != new {
            out.push(err(
                path,
                format!("was {}, but now {}", show(planned), show(new)),
            ));
        }
        return;
    }
    // Partially known collection or object: compare structure, recurse.
    match (planned.unwrap_dynamic(), new.unwrap_dynamic()) {
        (Value::List(a), Value::List(b)) | (Value::Tuple(a), Value::Tuple(b)) => {
            if a.len() != b.len() {
                out.push(err(
                    path,
                    format!("length changed from {} to {}", a.len(), b.len()),
                ));
                return;
            }
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                value(x, y, sensitive, &path.index(i as i64), out);
            }
        }
        (pm @ (Value::Map(a) | Value::Object(a)), Value::Map(b) | Value::Object(b)) => {
            let is_object = matches!(pm, Value::Object(_));
            for k in b.keys().filter(|k| !a.contains_key(*k)) {
                out.push(err(path, format!("new element {k:?} has appeared")));
            }
            for (k, x) in a {
                let p = if is_object {
                    path.attr(k.clone())
                } else {
                    path.key(k.clone())
                };
                match b.get(k) {
                    Some(y) => value(x, y, sensitive, &p, out),
                    None => out.push(err(path, format!("element {k:?} has vanished"))),
                }
            }
        }
        (Value::Set(a), Value::Set(b)) => {
            let known: Vec<&Value> = a.iter().filter(|v| v.is_wholly_known()).collect();
            for x in known {
                if !b.contains(x) {
                    out.push(err(
                        path,
                        format!(
                            "planned set element {} does not correlate with any element in actual",
                            show(x)
                        ),
                    ));
                }
            }
        }
        _ => out.push(err(
            path,
            format!("was {}, but now {}", show(planned), show(new)),
        )),
    }
}
