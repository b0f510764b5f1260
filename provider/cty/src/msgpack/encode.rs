//! Value → msgpack, exactly as cty's encoder writes it.

use crate::error::{Error, ErrorKind, Result};
use crate::number::Wire;
use crate::path::PathStep;
use crate::ty::Type;
use crate::value::{Refinements, Value};
use rmp::encode;

/// The bytes cty writes for an unrefined unknown: fixext1, type 0, payload 0.
pub const UNKNOWN_BYTES: [u8; 3] = [0xd4, 0x00, 0x00];
/// Extension type code of a refined unknown.
pub const REFINED_UNKNOWN_EXT: i8 = 12;

/// Encodes `value` as msgpack for `ty`.
///
/// Errors name the path of a value that does not fit the type (a missing
/// object attribute, a string where a number belongs, a dynamic value without
/// its type).
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(64);
    write_value(&mut out, value, ty, 0)?;
    Ok(out)
}

fn io_err() -> Error {
    Error::at_root(ErrorKind::Other("msgpack write failed".into()))
}

fn mismatch(ty: &Type, v: &Value) -> Error {
    Error::at_root(ErrorKind::TypeMismatch {
        expected: ty.to_string(),
        found: v.kind().to_string(),
    })
}

/// Errors are raised at the root and collect their path on the way up
/// ([`Error::within`]), so encoding builds no paths unless it fails.
fn write_value(out: &mut Vec<u8>, value: &Value, ty: &Type, depth: usize) -> Result<()> {
    if depth > crate::MAX_DEPTH {
        return Err(Error::at_root(ErrorKind::TooDeep(crate::MAX_DEPTH)));
    }
    match (value, ty) {
        (Value::Null, _) => {
            out.push(0xc0);
            Ok(())
        }
        (Value::Unknown(r), _) => write_unknown(out, r, ty),
        (Value::Dynamic { ty: inner, value }, Type::Dynamic) => {
            encode::write_array_len(out, 2).map_err(|_| io_err())?;
            let type_json = inner.to_json();
            encode::write_bin(out, type_json.as_bytes()).map_err(|_| io_err())?;
            write_value(out, value, inner, depth)
        }
        (_, Type::Dynamic) => Err(Error::at_root(ErrorKind::DynamicWithoutType)),
        (Value::Bool(b), Type::Bool) => {
            encode::write_bool(out, *b).map_err(|_| io_err())?;
            Ok(())
        }
        (Value::Number(n), Type::Number) => {
            match n.wire() {
                Wire::Int(i) => encode::write_sint(out, i)
                    .map(|_| ())
                    .map_err(|_| io_err())?,
                Wire::Float(f) => encode::write_f64(out, f).map_err(|_| io_err())?,
                Wire::Text(b) => {
                    encode::write_str(out, &b.to_plain_string()).map_err(|_| io_err())?
                }
            }
            Ok(())
        }
        (Value::String(s), Type::String) => encode::write_str(out, s).map_err(|_| io_err()),
        (Value::List(items), Type::List(et)) | (Value::Set(items), Type::Set(et)) => {
            write_len(out, items.len(), encode::write_array_len)?;
            for (i, item) in items.iter().enumerate() {
                write_value(out, item, et, depth + 1)
                    .map_err(|e| e.within(PathStep::Index(i as i64)))?;
            }
            Ok(())
        }
        (Value::Tuple(items), Type::Tuple(types)) => {
            if items.len() != types.len() {
                return Err(Error::at_root(ErrorKind::TupleLength {
                    expected: types.len(),
                    found: items.len(),
                }));
            }
            write_len(out, items.len(), encode::write_array_len)?;
            for (i, (item, t)) in items.iter().zip(types).enumerate() {
                write_value(out, item, t, depth + 1)
                    .map_err(|e| e.within(PathStep::Index(i as i64)))?;
            }
            Ok(())
        }
        (Value::Map(m), Type::Map(et)) => {
            write_len(out, m.len(), encode::write_map_len)?;
            for (k, item) in m {
                encode::write_str(out, k).map_err(|_| io_err())?;
                write_value(out, item, et, depth + 1)
                    .map_err(|e| e.within(PathStep::Key(k.clone())))?;
            }
            Ok(())
        }
        (Value::Object(m), Type::Object(attrs)) => {
            if let Some(extra) = m.keys().find(|k| !attrs.contains_key(*k)) {
                return Err(Error::at_root(ErrorKind::UnsupportedAttribute(
                    extra.clone(),
                )));
            }
            write_len(out, attrs.len(), encode::write_map_len)?;
            // BTreeMap order = sorted keys, as cty writes them.
            for (name, aty) in attrs {
                let Some(item) = m.get(name) else {
                    return Err(Error::at_root(ErrorKind::MissingAttribute(name.clone())));
                };
                encode::write_str(out, name).map_err(|_| io_err())?;
                write_value(out, item, aty, depth + 1)
                    .map_err(|e| e.within(PathStep::Attr(name.clone())))?;
            }
            Ok(())
        }
        _ => Err(mismatch(ty, value)),
    }
}

fn write_len<E>(
    out: &mut Vec<u8>,
    len: usize,
    f: fn(&mut Vec<u8>, u32) -> std::result::Result<rmp::Marker, E>,
) -> Result<()> {
    let len = u32::try_from(len)
        .map_err(|_| Error::at_root(ErrorKind::Other("collection too large for msgpack".into())))?;
    f(out, len).map(|_| ()).map_err(|_| io_err())
}

/// Writes an unknown: the compact unrefined form unless there is something
/// to say, in which case ext 12 with a map of the refinements that apply to
/// `ty` (the same selection cty makes).
fn write_unknown(out: &mut Vec<u8>, r: &Refinements, ty: &Type) -> Result<()> {
    let mut body = Vec::new();
    let mut entries = 0u32;
    if *ty != Type::Dynamic {
        if let Some(null) = r.null {
            entries += 1;
            encode::write_sint(&mut body, 1).map_err(|_| io_err())?;
            encode::write_bool(&mut body, null).map_err(|_| io_err())?;
        }
        match ty {
            Type::Number => {
                for (key, bound) in [(3, &r.number_lower), (4, &r.number_upper)] {
                    if let Some((n, inclusive)) = bound {
                        entries += 1;
                        encode::write_sint(&mut body, key).map_err(|_| io_err())?;
                        let tuple =
                            Value::Tuple(vec![Value::Number(n.clone()), Value::Bool(*inclusive)]);
                        write_value(
                            &mut body,
                            &tuple,
                            &Type::Tuple(vec![Type::Number, Type::Bool]),
                            0,
                        )?;
                    }
                }
            }
            Type::String => {
                if let Some(prefix) = r.string_prefix.as_deref().filter(|p| !p.is_empty()) {
                    entries += 1;
                    encode::write_sint(&mut body, 2).map_err(|_| io_err())?;
                    encode::write_str(&mut body, prefix).map_err(|_| io_err())?;
                }
            }
            t if t.is_collection() => {
                for (key, bound) in [(5, r.length_lower), (6, r.length_upper)] {
                    if let Some(n) = bound {
                        entries += 1;
                        encode::write_sint(&mut body, key).map_err(|_| io_err())?;
                        encode::write_sint(&mut body, n).map_err(|_| io_err())?;
                    }
                }
            }
            _ => {}
        }
    }
    if entries == 0 {
        out.extend_from_slice(&UNKNOWN_BYTES);
        return Ok(());
    }
    let mut payload = Vec::with_capacity(body.len() + 5);
    encode::write_map_len(&mut payload, entries).map_err(|_| io_err())?;
    payload.extend_from_slice(&body);
    let len = u32::try_from(payload.len()).map_err(|_| io_err())?;
    encode::write_ext_meta(out, len, REFINED_UNKNOWN_EXT).map_err(|_| io_err())?;
    out.extend_from_slice(&payload);
    Ok(())
}
