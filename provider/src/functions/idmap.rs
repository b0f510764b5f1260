//! `provider::pvelxc::idmap(uids, gids)`.

use pvelxc_cty::{Type, Value};

use crate::framework::{Function, FunctionError, FunctionSignature, Parameter};
use crate::lxc::idmap::{passthrough, IdKind, IdMapLayout};

/// Computes `lxc.idmap` lines passing host IDs through.
pub struct IdmapFunction;

impl Function for IdmapFunction {
    fn name(&self) -> &'static str {
        "idmap"
    }

    fn signature(&self) -> FunctionSignature {
        FunctionSignature {
            parameters: vec![
                Parameter::new(
                    "uids",
                    Type::list(Type::Number),
                    "Host user IDs to pass through unchanged (e.g. `[1000]`).",
                ),
                Parameter::new(
                    "gids",
                    Type::list(Type::Number),
                    "Host group IDs to pass through unchanged (e.g. the host's `video` and \
                     `render` GIDs).",
                ),
            ],
            variadic: None,
            return_type: Type::list(Type::String),
            summary: "lxc.idmap lines that pass host IDs into an unprivileged container".into(),
            description: "Returns the `lxc.idmap` lines for an unprivileged container (container \
                IDs 0-65535 mapped to host IDs 100000-165535) in which the given user and group \
                IDs keep their host numbers, so bind-mounted files and device nodes owned by them \
                stay usable. Lines are sorted, `u` before `g`, and cover the whole ID range \
                without overlaps. Root (0), duplicates and IDs outside 1-65535 are rejected."
                .into(),
            deprecation_message: None,
            example: "output \"idmap\" {\n  value = provider::pvelxc::idmap([1000], [44, 104, 1000])\n}\n\
                # [\"u 0 100000 1000\", \"u 1000 1000 1\", \"u 1001 101001 64535\", \"g 0 100000 44\", ...]"
                .into(),
        }
    }

    fn call(&self, args: &[Value]) -> Result<Value, FunctionError> {
        let uids = ids(args, 0, IdKind::User)?;
        let gids = ids(args, 1, IdKind::Group)?;
        let entries = passthrough(IdMapLayout::default(), &uids, &gids).map_err(|err| {
            let index = match err.kind() {
                IdKind::User => 0,
                IdKind::Group => 1,
            };
            FunctionError::argument(index, err.to_string())
        })?;
        Ok(Value::list(
            entries.iter().map(|e| Value::string(e.to_string())),
        ))
    }
}

fn ids(args: &[Value], index: usize, kind: IdKind) -> Result<Vec<i64>, FunctionError> {
    let arg = index as i64;
    let list = args
        .get(index)
        .and_then(Value::as_elements)
        .ok_or_else(|| {
            FunctionError::argument(arg, format!("{} must be a list of numbers", kind.noun()))
        })?;
    list.iter()
        .map(|v| match v.as_number() {
            Some(n) if n.is_integer() => n.as_i64().ok_or_else(|| {
                FunctionError::argument(
                    arg,
                    format!("{} contains {v:?}, which is out of range", kind.noun()),
                )
            }),
            Some(_) => Err(FunctionError::argument(
                arg,
                format!("{} must contain whole numbers only", kind.noun()),
            )),
            None => Err(FunctionError::argument(
                arg,
                format!("{} must not contain null", kind.noun()),
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_lines_and_blames_the_right_argument() {
        let out = IdmapFunction
            .call(&[Value::list([Value::int(1000)]), Value::list([])])
            .expect("valid");
        assert_eq!(out.as_elements().map(<[Value]>::len), Some(4));
        let err = IdmapFunction
            .call(&[
                Value::list([]),
                Value::list([Value::int(44), Value::int(44)]),
            ])
            .unwrap_err();
        assert_eq!(err.argument, Some(1));
        assert!(err.text.contains("gids"));
    }
}
