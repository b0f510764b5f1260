//! cty's JSON encoding: how Terraform stores resource attributes in state
//! (`RawState` in UpgradeResourceState) and a readable form for docs and tests.
//!
//! Differences from msgpack, as in cty: missing object attributes decode as
//! null (extra ones are rejected), `dynamic` values are
//! `{"value": ..., "type": ...}`, and unknown values cannot be represented.

use crate::error::{Error, ErrorKind, Result};
use crate::jsontext::{self, Json};
use crate::number::Number;
use crate::path::{Path, PathStep};
use crate::ty::Type;
use crate::value::{normalize_set, Value};
use std::collections::BTreeMap;

/// Decodes cty JSON `input` as a value of `ty`.
pub fn decode(input: &[u8], ty: &Type) -> Result<Value> {
    let json = jsontext::parse(input)?;
    from_json(&json, ty, &mut Path::root())
}

/// Encodes `value` (of type `ty`) as cty JSON. Fails on unknown values.
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>> {
    let mut out = String::with_capacity(64);
    write(&mut out, value, ty, &mut Path::root())?;
    Ok(out.into_bytes())
}

fn mismatch(path: &Path, ty: &Type, found: &str) -> Error {
    Error::new(
        path,
        ErrorKind::TypeMismatch {
            expected: ty.to_string(),
            found: found.to_string(),
        },
    )
}

fn from_json(json: &Json, ty: &Type, path: &mut Path) -> Result<Value> {
    if path.steps().len() > crate::MAX_DEPTH {
        return Err(Error::new(path, ErrorKind::TooDeep(crate::MAX_DEPTH)));
    }
    if *json == Json::Null {
        return Ok(Value::Null);
    }
    match (ty, json) {
        (Type::Dynamic, Json::Object(members)) => {
            let get = |k: &str| members.iter().find(|(name, _)| name == k).map(|(_, v)| v);
            if let Some((extra, _)) = members.iter().find(|(k, _)| k != "type" && k != "value") {
                return Err(Error::new(
                    path,
                    ErrorKind::UnsupportedAttribute(extra.clone()),
                ));
            }
            let (Some(tj), Some(vj)) = (get("type"), get("value")) else {
                return Err(Error::new(
                    path,
                    ErrorKind::Other("a dynamic value needs both \"type\" and \"value\"".into()),
                ));
            };
            let inner = Type::from_json_value(tj).map_err(|e| Error::new(path, e.kind))?;
            let v = from_json(vj, &inner, path)?;
            Ok(Value::dynamic(inner, v))
        }
        // cty's JSON decoder accepts primitives written as other primitives.
        (Type::String, Json::String(s)) => Ok(Value::String(s.clone())),
        (Type::String, Json::Number(n)) => Ok(Value::String(n.clone())),
        (Type::String, Json::Bool(b)) => Ok(Value::String(b.to_string())),
        (Type::Number, Json::Number(n) | Json::String(n)) => Number::parse(n)
            .map(Value::Number)
            .map_err(|e| Error::new(path, ErrorKind::InvalidNumber(e.to_string()))),
        (Type::Bool, Json::Bool(b)) => Ok(Value::Bool(*b)),
        (Type::Bool, Json::String(s)) if s == "true" || s == "false" => {
            Ok(Value::Bool(s == "true"))
        }
        (Type::List(et) | Type::Set(et), Json::Array(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                path.push(PathStep::Index(i as i64));
                out.push(from_json(item, et, path)?);
                path.pop();
            }
            Ok(if matches!(ty, Type::Set(_)) {
                Value::Set(normalize_set(out))
            } else {
                Value::List(out)
            })
        }
        (Type::Tuple(types), Json::Array(items)) => {
            if items.len() != types.len() {
                return Err(Error::new(
                    path,
                    ErrorKind::TupleLength {
                        expected: types.len(),
                        found: items.len(),
                    },
                ));
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, (item, t)) in items.iter().zip(types).enumerate() {
                path.push(PathStep::Index(i as i64));
                out.push(from_json(item, t, path)?);
                path.pop();
            }
            Ok(Value::Tuple(out))
        }
        (Type::Map(et), Json::Object(members)) => {
            let mut out = BTreeMap::new();
            for (k, item) in members {
                path.push(PathStep::Key(k.clone()));
                let v = from_json(item, et, path)?;
                path.pop();
                out.insert(k.clone(), v);
            }
            Ok(Value::Map(out))
        }
        (Type::Object(attrs), Json::Object(members)) => {
            let mut out = BTreeMap::new();
            for (k, item) in members {
                let Some(aty) = attrs.get(k) else {
                    return Err(Error::new(path, ErrorKind::UnsupportedAttribute(k.clone())));
                };
                path.push(PathStep::Attr(k.clone()));
                let v = from_json(item, aty, path)?;
                path.pop();
                out.insert(k.clone(), v);
            }
            for name in attrs.keys() {
                out.entry(name.clone()).or_insert(Value::Null);
            }
            Ok(Value::Object(out))
        }
        (ty, other) => Err(mismatch(path, ty, other.kind())),
    }
}

fn write(out: &mut String, value: &Value, ty: &Type, path: &mut Path) -> Result<()> {
    if path.steps().len() > crate::MAX_DEPTH {
        return Err(Error::new(path, ErrorKind::TooDeep(crate::MAX_DEPTH)));
    }
    match (value, ty) {
        (Value::Unknown(_), _) => Err(Error::new(path, ErrorKind::UnknownInJson)),
        (Value::Null, _) => {
            out.push_str("null");
            Ok(())
        }
        (Value::Dynamic { ty: inner, value }, Type::Dynamic) => {
            out.push_str("{\"value\":");
            write(out, value, inner, path)?;
            out.push_str(",\"type\":");
            inner.write_json(out);
            out.push('}');
            Ok(())
        }
        (_, Type::Dynamic) => Err(Error::new(path, ErrorKind::DynamicWithoutType)),
        (Value::Bool(b), Type::Bool) => {
            out.push_str(if *b { "true" } else { "false" });
            Ok(())
        }
        (Value::Number(n), Type::Number) => {
            if n.is_infinite() {
                return Err(Error::new(
                    path,
                    ErrorKind::InvalidNumber("infinity cannot be represented in JSON".into()),
                ));
            }
            out.push_str(&n.to_string());
            Ok(())
        }
        (Value::String(s), Type::String) => {
            jsontext::write_string(out, s);
            Ok(())
        }
        (Value::List(items), Type::List(et)) | (Value::Set(items), Type::Set(et)) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                path.push(PathStep::Index(i as i64));
                write(out, item, et, path)?;
                path.pop();
            }
            out.push(']');
            Ok(())
        }
        (Value::Tuple(items), Type::Tuple(types)) => {
            if items.len() != types.len() {
                return Err(Error::new(
                    path,
                    ErrorKind::TupleLength {
                        expected: types.len(),
                        found: items.len(),
                    },
                ));
            }
            out.push('[');
            for (i, (item, t)) in items.iter().zip(types).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                path.push(PathStep::Index(i as i64));
                write(out, item, t, path)?;
                path.pop();
            }
            out.push(']');
            Ok(())
        }
        (Value::Map(m), Type::Map(et)) => {
            out.push('{');
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                jsontext::write_string(out, k);
                out.push(':');
                path.push(PathStep::Key(k.clone()));
                write(out, item, et, path)?;
                path.pop();
            }
            out.push('}');
            Ok(())
        }
        (Value::Object(m), Type::Object(attrs)) => {
            if let Some(extra) = m.keys().find(|k| !attrs.contains_key(*k)) {
                return Err(Error::new(
                    path,
                    ErrorKind::UnsupportedAttribute(extra.clone()),
                ));
            }
            out.push('{');
            for (i, (name, aty)) in attrs.iter().enumerate() {
                let Some(item) = m.get(name) else {
                    return Err(Error::new(path, ErrorKind::MissingAttribute(name.clone())));
                };
                if i > 0 {
                    out.push(',');
                }
                jsontext::write_string(out, name);
                out.push(':');
                path.push(PathStep::Attr(name.clone()));
                write(out, item, aty, path)?;
                path.pop();
            }
            out.push('}');
            Ok(())
        }
        (v, ty) => Err(mismatch(path, ty, v.kind())),
    }
}
