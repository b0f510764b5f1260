//! msgpack → Value, following cty's decoder, hardened for untrusted input:
//! nesting is capped at [`crate::MAX_DEPTH`] and no allocation is sized from
//! a length prefix larger than the bytes that remain.

use crate::error::{Error, ErrorKind, Result};
use crate::number::Number;
use crate::path::{Path, PathStep};
use crate::ty::Type;
use crate::value::{normalize_set, Refinements, Value};
use rmp::Marker;
use std::collections::BTreeMap;

/// Largest refinement payload accepted (as cty).
pub const MAX_REFINEMENT_BYTES: u32 = 1024;

/// Decodes msgpack `input` as a value of `ty`. The whole input must be one value.
pub fn decode(input: &[u8], ty: &Type) -> Result<Value> {
    let mut r = Reader {
        buf: input,
        pos: 0,
        depth: 0,
    };
    let v = r.value(ty)?;
    if r.pos != input.len() {
        return Err(Error::new(
            &Path::root(),
            ErrorKind::TrailingBytes(input.len() - r.pos),
        ));
    }
    Ok(v)
}

/// Paths are not tracked while decoding: an error collects its path on the
/// way up (see [`Error::within`]), keeping the success path allocation-free.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    depth: usize,
}

/// The structural kind behind a marker, for messages.
fn marker_kind(m: Marker) -> &'static str {
    match m {
        Marker::Null => "nil",
        Marker::True | Marker::False => "a bool",
        Marker::FixPos(_)
        | Marker::FixNeg(_)
        | Marker::U8
        | Marker::U16
        | Marker::U32
        | Marker::U64 => "an integer",
        Marker::I8 | Marker::I16 | Marker::I32 | Marker::I64 => "an integer",
        Marker::F32 | Marker::F64 => "a float",
        Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32 => "a string",
        Marker::Bin8 | Marker::Bin16 | Marker::Bin32 => "binary data",
        Marker::FixArray(_) | Marker::Array16 | Marker::Array32 => "an array",
        Marker::FixMap(_) | Marker::Map16 | Marker::Map32 => "a map",
        Marker::FixExt1
        | Marker::FixExt2
        | Marker::FixExt4
        | Marker::FixExt8
        | Marker::FixExt16
        | Marker::Ext8
        | Marker::Ext16
        | Marker::Ext32 => "an extension",
        Marker::Reserved => "the reserved byte 0xc1",
    }
}

fn is_ext(m: Marker) -> bool {
    marker_kind(m) == "an extension"
}

impl<'a> Reader<'a> {
    fn err(&self, kind: ErrorKind) -> Error {
        Error::at_root(kind)
    }

    fn mismatch(&self, ty: &Type, m: Marker) -> Error {
        self.err(ErrorKind::TypeMismatch {
            expected: ty.to_string(),
            found: marker_kind(m).to_string(),
        })
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        match end {
            Some(end) => {
                let s = &self.buf[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => Err(self.err(ErrorKind::Truncated)),
        }
    }

    fn peek_marker(&self) -> Result<Marker> {
        self.buf
            .get(self.pos)
            .map(|b| Marker::from_u8(*b))
            .ok_or_else(|| self.err(ErrorKind::Truncated))
    }

    fn marker(&mut self) -> Result<Marker> {
        let m = self.peek_marker()?;
        self.pos += 1;
        Ok(m)
    }

    fn be_uint(&mut self, n: usize) -> Result<u64> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    /// Reads the remaining length header after `m` for str/bin/array/map/ext.
    fn len_after(&mut self, m: Marker) -> Result<usize> {
        let n = match m {
            Marker::FixStr(n) | Marker::FixArray(n) | Marker::FixMap(n) => u64::from(n),
            Marker::Str8 | Marker::Bin8 | Marker::Ext8 => self.be_uint(1)?,
            Marker::Str16 | Marker::Bin16 | Marker::Array16 | Marker::Map16 | Marker::Ext16 => {
                self.be_uint(2)?
            }
            Marker::Str32 | Marker::Bin32 | Marker::Array32 | Marker::Map32 | Marker::Ext32 => {
                self.be_uint(4)?
            }
            Marker::FixExt1 => 1,
            Marker::FixExt2 => 2,
            Marker::FixExt4 => 4,
            Marker::FixExt8 => 8,
            Marker::FixExt16 => 16,
            _ => {
                return Err(self.err(ErrorKind::Other(format!(
                    "{} has no length",
                    marker_kind(m)
                ))))
            }
        };
        usize::try_from(n).map_err(|_| self.err(ErrorKind::Truncated))
    }

    /// Bounds an element count by the bytes left (each element takes ≥1 byte),
    /// so a hostile length never drives an allocation.
    fn checked_count(&self, n: usize, bytes_per_item: usize) -> Result<usize> {
        let left = self.buf.len() - self.pos;
        if n.saturating_mul(bytes_per_item) > left {
            return Err(self.err(ErrorKind::Truncated));
        }
        Ok(n)
    }

    fn value(&mut self, ty: &Type) -> Result<Value> {
        if self.depth > crate::MAX_DEPTH {
            return Err(self.err(ErrorKind::TooDeep(crate::MAX_DEPTH)));
        }
        let m = self.peek_marker()?;
        if m == Marker::Null {
            self.pos += 1;
            return Ok(Value::Null);
        }
        if is_ext(m) {
            return self.unknown(ty);
        }
        match ty {
            Type::Dynamic => self.dynamic(),
            Type::Bool => match self.marker()? {
                Marker::True => Ok(Value::Bool(true)),
                Marker::False => Ok(Value::Bool(false)),
                other => Err(self.mismatch(ty, other)),
            },
            Type::Number => self.number().map(Value::Number),
            Type::String => self.string(ty).map(Value::String),
            Type::List(et) => self
                .array(ty)
                .and_then(|n| self.elements(n, |_| et))
                .map(Value::List),
            Type::Set(et) => self
                .array(ty)
                .and_then(|n| self.elements(n, |_| et))
                .map(|v| Value::Set(normalize_set(v))),
            Type::Tuple(types) => {
                let n = self.array(ty)?;
                if n != types.len() {
                    return Err(self.err(ErrorKind::TupleLength {
                        expected: types.len(),
                        found: n,
                    }));
                }
                self.elements(n, |i| &types[i]).map(Value::Tuple)
            }
            Type::Map(et) => {
                let n = self.map(ty)?;
                let mut out = BTreeMap::new();
                for _ in 0..n {
                    let k = self.string(&Type::String)?;
                    let v = self.child(et, || PathStep::Key(k.clone()))?;
                    if out.insert(k.clone(), v).is_some() {
                        return Err(self.err(ErrorKind::DuplicateKey(k)));
                    }
                }
                Ok(Value::Map(out))
            }
            Type::Object(attrs) => {
                let n = self.map(ty)?;
                if n != attrs.len() {
                    return Err(self.err(ErrorKind::ObjectAttributeCount {
                        expected: attrs.len(),
                        found: n,
                    }));
                }
                let mut out = BTreeMap::new();
                for _ in 0..n {
                    let k = self.string(&Type::String)?;
                    let Some(aty) = attrs.get(&k) else {
                        return Err(self.err(ErrorKind::UnsupportedAttribute(k)));
                    };
                    let v = self.child(aty, || PathStep::Attr(k.clone()))?;
                    if out.insert(k.clone(), v).is_some() {
                        return Err(self.err(ErrorKind::DuplicateKey(k)));
                    }
                }
                Ok(Value::Object(out))
            }
        }
    }

    /// Decodes a nested value, adding `step` to the path of any error.
    fn child(&mut self, ty: &Type, step: impl FnOnce() -> PathStep) -> Result<Value> {
        self.depth += 1;
        let r = self.value(ty);
        self.depth -= 1;
        r.map_err(|e| e.within(step()))
    }

    fn elements<'t>(&mut self, n: usize, ty_of: impl Fn(usize) -> &'t Type) -> Result<Vec<Value>> {
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let v = self.child(ty_of(i), || PathStep::Index(i as i64))?;
            out.push(v);
        }
        Ok(out)
    }

    fn array(&mut self, ty: &Type) -> Result<usize> {
        let m = self.marker()?;
        match m {
            Marker::FixArray(_) | Marker::Array16 | Marker::Array32 => {
                let n = self.len_after(m)?;
                self.checked_count(n, 1)
            }
            other => Err(self.mismatch(ty, other)),
        }
    }

    fn map(&mut self, ty: &Type) -> Result<usize> {
        let m = self.marker()?;
        match m {
            Marker::FixMap(_) | Marker::Map16 | Marker::Map32 => {
                let n = self.len_after(m)?;
                self.checked_count(n, 2)
            }
            other => Err(self.mismatch(ty, other)),
        }
    }

    fn bytes(&mut self, ty: &Type) -> Result<&'a [u8]> {
        let m = self.marker()?;
        match m {
            Marker::FixStr(_)
            | Marker::Str8
            | Marker::Str16
            | Marker::Str32
            | Marker::Bin8
            | Marker::Bin16
            | Marker::Bin32 => {
                let n = self.len_after(m)?;
                self.take(n)
            }
            other => Err(self.mismatch(ty, other)),
        }
    }

    fn string(&mut self, ty: &Type) -> Result<String> {
        let raw = self.bytes(ty)?;
        std::str::from_utf8(raw)
            .map(str::to_owned)
            .map_err(|_| self.err(ErrorKind::InvalidUtf8))
    }

    fn number(&mut self) -> Result<Number> {
        let m = self.marker()?;
        let n = match m {
            Marker::FixPos(v) => Number::from_i64(v.into()),
            Marker::FixNeg(v) => Number::from_i64(v.into()),
            Marker::U8 => Number::from_u64(self.be_uint(1)?),
            Marker::U16 => Number::from_u64(self.be_uint(2)?),
            Marker::U32 => Number::from_u64(self.be_uint(4)?),
            Marker::U64 => Number::from_u64(self.be_uint(8)?),
            Marker::I8 => Number::from_i64((self.be_uint(1)? as u8 as i8).into()),
            Marker::I16 => Number::from_i64((self.be_uint(2)? as u16 as i16).into()),
            Marker::I32 => Number::from_i64((self.be_uint(4)? as u32 as i32).into()),
            Marker::I64 => Number::from_i64(self.be_uint(8)? as i64),
            Marker::F32 => {
                let f = f32::from_bits(self.be_uint(4)? as u32);
                Number::from_f64(f.into())
                    .map_err(|e| self.err(ErrorKind::InvalidNumber(e.to_string())))?
            }
            Marker::F64 => {
                let f = f64::from_bits(self.be_uint(8)?);
                Number::from_f64(f)
                    .map_err(|e| self.err(ErrorKind::InvalidNumber(e.to_string())))?
            }
            Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32 => {
                self.pos -= 1;
                let text = self.string(&Type::Number)?;
                Number::parse(&text)
                    .map_err(|e| self.err(ErrorKind::InvalidNumber(e.to_string())))?
            }
            other => return Err(self.mismatch(&Type::Number, other)),
        };
        Ok(n)
    }

    fn dynamic(&mut self) -> Result<Value> {
        let m = self.marker()?;
        let n = match m {
            Marker::FixArray(_) | Marker::Array16 | Marker::Array32 => self.len_after(m)?,
            other => return Err(self.mismatch(&Type::Dynamic, other)),
        };
        if n != 2 {
            return Err(self.err(ErrorKind::Other(format!(
                "a dynamic value must be a 2-element array [type, value] ({n} elements given)"
            ))));
        }
        let type_json = self.bytes(&Type::Dynamic)?;
        let ty = Type::from_json(type_json).map_err(|e| self.err(e.kind))?;
        if ty == Type::Dynamic {
            // cty never writes this (a dynamic-typed value is null or unknown
            // and written plainly); refusing it also bounds recursion.
            return Err(self.err(ErrorKind::InvalidType(
                "the type of a dynamic value must be concrete, not \"dynamic\"".into(),
            )));
        }
        let v = self.value(&ty)?;
        Ok(Value::dynamic(ty, v))
    }

    fn unknown(&mut self, ty: &Type) -> Result<Value> {
        let m = self.marker()?;
        let len = self.len_after(m)?;
        let code = self.take(1)?[0] as i8;
        if len <= 1 {
            self.take(len)?;
            return Ok(Value::unknown());
        }
        let len32 = u32::try_from(len).unwrap_or(u32::MAX);
        if code != crate::msgpack::REFINED_UNKNOWN_EXT {
            return Err(self.err(ErrorKind::UnsupportedExtension { code, len: len32 }));
        }
        if len32 > MAX_REFINEMENT_BYTES {
            return Err(self.err(ErrorKind::InvalidRefinement(format!(
                "payload of {len} bytes exceeds {MAX_REFINEMENT_BYTES}"
            ))));
        }
        let body = self.take(len)?;
        let refinements = parse_refinements(body, ty)
            .map_err(|msg| self.err(ErrorKind::InvalidRefinement(msg)))?;
        if *ty == Type::Dynamic {
            // cty ignores refinements on dynamic unknowns.
            return Ok(Value::unknown());
        }
        Ok(Value::Unknown(refinements))
    }
}

fn parse_refinements(body: &[u8], ty: &Type) -> std::result::Result<Refinements, String> {
    let mut r = Reader {
        buf: body,
        pos: 0,
        depth: 0,
    };
    let n = r
        .map(&Type::Dynamic)
        .map_err(|_| "payload is not a map".to_string())?;
    let mut out = Refinements::default();
    for _ in 0..n {
        let key = r
            .number()
            .ok()
            .and_then(|k| k.as_i64())
            .ok_or("non-integer key in refinement map")?;
        match key {
            1 => {
                let v = r.value(&Type::Bool).map_err(|e| e.kind.to_string())?;
                out.null = Some(v.as_bool().ok_or("null refinement is not a bool")?);
            }
            2 => {
                if *ty != Type::String && *ty != Type::Dynamic {
                    return Err("string prefix refinement for a non-string type".into());
                }
                let prefix = r.string(&Type::String).map_err(|e| e.kind.to_string())?;
                // An empty prefix says nothing (cty never writes one).
                out.string_prefix = Some(prefix).filter(|p| !p.is_empty());
            }
            3 | 4 => {
                if *ty != Type::Number && *ty != Type::Dynamic {
                    return Err("number bound refinement for a non-number type".into());
                }
                let bound_ty = Type::Tuple(vec![Type::Number, Type::Bool]);
                let v = r.value(&bound_ty).map_err(|e| e.kind.to_string())?;
                let (Some(n), Some(inc)) = (
                    v.get_index(0).and_then(Value::as_number),
                    v.get_index(1).and_then(Value::as_bool),
                ) else {
                    return Err("number bound refinement must be [number, bool]".into());
                };
                let bound = Some((n.clone(), inc));
                if key == 3 {
                    out.number_lower = bound;
                } else {
                    out.number_upper = bound;
                }
            }
            5 | 6 => {
                if !ty.is_collection() && *ty != Type::Dynamic {
                    return Err("length bound refinement for a non-collection type".into());
                }
                let n = r
                    .number()
                    .ok()
                    .and_then(|k| k.as_i64())
                    .ok_or("length bound refinement must be an integer")?;
                if key == 5 {
                    out.length_lower = Some(n);
                } else {
                    out.length_upper = Some(n);
                }
            }
            _ => {
                // Unknown keys are reserved for future refinements: skip the value.
                skip(&mut r, 0)?;
            }
        }
    }
    Ok(out)
}

/// Skips one msgpack item of any kind (bounded depth).
fn skip(r: &mut Reader<'_>, depth: usize) -> std::result::Result<(), String> {
    if depth > crate::MAX_DEPTH {
        return Err("refinement nests too deeply".into());
    }
    let m = r.marker().map_err(|e| e.kind.to_string())?;
    let fixed =
        |n: usize, r: &mut Reader<'_>| r.take(n).map(|_| ()).map_err(|e| e.kind.to_string());
    match m {
        Marker::Null | Marker::True | Marker::False | Marker::FixPos(_) | Marker::FixNeg(_) => {
            Ok(())
        }
        Marker::U8 | Marker::I8 => fixed(1, r),
        Marker::U16 | Marker::I16 => fixed(2, r),
        Marker::U32 | Marker::I32 | Marker::F32 => fixed(4, r),
        Marker::U64 | Marker::I64 | Marker::F64 => fixed(8, r),
        Marker::FixArray(_)
        | Marker::Array16
        | Marker::Array32
        | Marker::FixMap(_)
        | Marker::Map16
        | Marker::Map32 => {
            let n = r.len_after(m).map_err(|e| e.kind.to_string())?;
            let items = if matches!(m, Marker::FixMap(_) | Marker::Map16 | Marker::Map32) {
                n.saturating_mul(2)
            } else {
                n
            };
            r.checked_count(items, 1).map_err(|e| e.kind.to_string())?;
            for _ in 0..items {
                skip(r, depth + 1)?;
            }
            Ok(())
        }
        Marker::Reserved => Err("reserved byte 0xc1".into()),
        _ => {
            let n = r.len_after(m).map_err(|e| e.kind.to_string())?;
            let extra = usize::from(is_ext(m));
            fixed(n + extra, r)
        }
    }
}
