//! The checks Terraform applies to a planned value (`objchange.AssertPlanValid`).

use super::correlate::elements;
use crate::attribute::Attribute;
use crate::block::{Block, Nesting};
use crate::diagnostic::Diagnostic;
use pvelxc_cty::{Path, Value};

const SUMMARY: &str = "Provider produced invalid plan";

/// Checks `planned` against `config` and `prior` the way Terraform does,
/// returning one error per violation, each naming the attribute.
pub fn assert_plan_valid(
    block: &Block,
    prior: &Value,
    config: &Value,
    planned: &Value,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let root = Path::root();
    if let Err(e) = planned.check_type(&block.implied_type()) {
        out.push(err(
            &e.path,
            format!("planned value does not conform to the schema: {}", e.kind),
        ));
        return out;
    }
    match (config.is_null(), planned.is_null()) {
        (true, true) => {}
        (true, false) => out.push(err(
            &root,
            "planned for existence but config wants absence".into(),
        )),
        (false, true) => out.push(err(
            &root,
            "planned for absence but config wants existence".into(),
        )),
        (false, false) => object(block, prior, config, planned, &root, &mut out),
    }
    out
}

fn err(path: &Path, what: String) -> Diagnostic {
    let at = if path.is_root() {
        "the resource".to_string()
    } else {
        format!("`{path}`")
    };
    Diagnostic::error(
        path.clone(),
        SUMMARY,
        format!("The provider planned an invalid value for {at}: {what}. This is a bug in the provider."),
    )
}

fn shown(a: &Attribute, v: &Value) -> String {
    if a.sensitive {
        "(sensitive value)".into()
    } else {
        v.to_string()
    }
}

fn get<'a>(v: &'a Value, name: &str) -> &'a Value {
    v.unwrap_dynamic().get_attr(name).unwrap_or(&Value::Null)
}

fn object(
    block: &Block,
    prior: &Value,
    config: &Value,
    planned: &Value,
    path: &Path,
    out: &mut Vec<Diagnostic>,
) {
    if !planned.is_known() {
        out.push(err(
            path,
            "element representing nested block must not be unknown itself".into(),
        ));
        return;
    }
    for a in &block.attributes {
        let p = path.attr(a.name.clone());
        attribute(
            a,
            get(prior, &a.name),
            get(config, &a.name),
            get(planned, &a.name),
            &p,
            out,
        );
    }
    for b in &block.blocks {
        let p = path.attr(b.type_name.clone());
        let (pr, c, pl) = (
            get(prior, &b.type_name),
            get(config, &b.type_name),
            get(planned, &b.type_name),
        );
        let (pr, c, pl) = (pr.unwrap_dynamic(), c.unwrap_dynamic(), pl.unwrap_dynamic());
        match b.nesting {
            Nesting::Single | Nesting::Group => match (c.is_null(), pl.is_null()) {
                (true, true) => {}
                (true, false) => out.push(err(
                    &p,
                    "planned for existence but config wants absence".into(),
                )),
                (false, true) => out.push(err(
                    &p,
                    "planned for absence but config wants existence".into(),
                )),
                (false, false) => object(&b.block, pr, c, pl, &p, out),
            },
            Nesting::List => {
                if pl.is_null() {
                    out.push(err(&p, "attribute representing a list of nested blocks must be empty to indicate no blocks, not null".into()));
                    continue;
                }
                if !pl.is_known() {
                    if c.is_known() {
                        out.push(err(
                            &p,
                            "planned unknown for a configured list of blocks".into(),
                        ));
                    }
                    continue;
                }
                if !c.is_known() {
                    continue;
                }
                let (ple, ce) = (elements(pl), elements(c));
                if ple.len() != ce.len() {
                    out.push(err(
                        &p,
                        format!(
                            "block count in plan ({}) disagrees with count in config ({})",
                            ple.len(),
                            ce.len()
                        ),
                    ));
                    continue;
                }
                for (i, (pe, cev)) in ple.iter().zip(ce).enumerate() {
                    let pre = elements(pr).get(i).unwrap_or(&Value::Null);
                    object(&b.block, pre, cev, pe, &p.index(i as i64), out);
                }
            }
            Nesting::Set => {
                if pl.is_null() {
                    out.push(err(&p, "attribute representing a set of nested blocks must be empty to indicate no blocks, not null".into()));
                    continue;
                }
                if !pl.is_known() {
                    continue;
                }
                for (i, pe) in elements(pl).iter().enumerate() {
                    if !pe.is_known() {
                        out.push(err(
                            &p.index(i as i64),
                            "element representing nested block must not be unknown itself".into(),
                        ));
                    }
                }
                if c.is_wholly_known()
                    && pl.is_wholly_known()
                    && elements(pl).len() != elements(c).len()
                {
                    out.push(err(
                        &p,
                        format!(
                            "block count in plan ({}) disagrees with count in config ({})",
                            elements(pl).len(),
                            elements(c).len()
                        ),
                    ));
                }
            }
            Nesting::Map => {
                if pl.is_null() {
                    out.push(err(&p, "attribute representing a map of nested blocks must be empty to indicate no blocks, not null".into()));
                    continue;
                }
                let (Some(pm), Some(cm)) = (pl.as_entries(), c.as_entries()) else {
                    continue;
                };
                for k in pm.keys().filter(|k| !cm.contains_key(*k)) {
                    out.push(err(
                        &p.key(k.clone()),
                        format!("block key {k:?} from plan is not present in config"),
                    ));
                }
                for (k, cev) in cm {
                    let Some(pe) = pm.get(k) else {
                        out.push(err(
                            &p.key(k.clone()),
                            format!("block key {k:?} from config is not present in plan"),
                        ));
                        continue;
                    };
                    let pre = pr
                        .as_entries()
                        .and_then(|m| m.get(k))
                        .unwrap_or(&Value::Null);
                    object(&b.block, pre, cev, pe, &p.key(k.clone()), out);
                }
            }
        }
    }
}

fn attribute(
    a: &Attribute,
    prior: &Value,
    config: &Value,
    planned: &Value,
    path: &Path,
    out: &mut Vec<Diagnostic>,
) {
    if a.write_only {
        // Write-only values are never planned, whatever the configuration says.
        if !planned.is_null() {
            out.push(err(
                path,
                "planned value for write-only attribute is not null".into(),
            ));
        }
        return;
    }
    if planned == config {
        return;
    }
    if planned == prior && !prior.is_null() && !config.is_null() {
        // The provider kept the prior value as equivalent to the configured one.
        return;
    }
    if a.computed && !a.optional {
        return;
    }
    if config.is_null() && a.computed {
        return;
    }
    if config.is_null() && !planned.is_null() {
        out.push(err(
            path,
            format!(
                "planned value {} for a non-computed attribute",
                shown(a, planned)
            ),
        ));
        return;
    }
    if !planned.is_known() && config.is_wholly_known() {
        out.push(err(path, "planned unknown for a configured value".into()));
        return;
    }
    if prior.is_null() {
        out.push(err(
            path,
            format!(
                "planned value {} does not match config value {}",
                shown(a, planned),
                shown(a, config)
            ),
        ));
    } else {
        out.push(err(
            path,
            format!(
                "planned value {} does not match config value {} nor prior value {}",
                shown(a, planned),
                shown(a, config),
                shown(a, prior)
            ),
        ));
    }
}
