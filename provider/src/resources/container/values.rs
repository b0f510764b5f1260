//! Small readers and builders for the cty objects of this resource: unknown and null both
//! read as "not set", so the same code serves configuration, plan and state.

use std::collections::BTreeMap;

use pvelxc_cty::Value;

/// The attribute `name` of `obj`, or null.
pub fn attr<'a>(obj: &'a Value, name: &str) -> &'a Value {
    super::schema::attr(obj, name)
}

/// A known, non-null string.
pub fn string(obj: &Value, name: &str) -> Option<String> {
    attr(obj, name).as_str().map(str::to_string)
}

/// A known, non-null bool.
pub fn boolean(obj: &Value, name: &str) -> Option<bool> {
    attr(obj, name).as_bool()
}

/// A known whole number.
pub fn int(obj: &Value, name: &str) -> Option<i64> {
    attr(obj, name).as_i64()
}

/// A known number as `f64`.
pub fn float(obj: &Value, name: &str) -> Option<f64> {
    attr(obj, name).as_number().map(|n| n.to_f64())
}

/// The known strings of a list or set attribute (unknown elements skipped).
pub fn strings(obj: &Value, name: &str) -> Vec<String> {
    attr(obj, name)
        .as_elements()
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// The known whole numbers of a list attribute.
pub fn ints(obj: &Value, name: &str) -> Vec<i64> {
    attr(obj, name)
        .as_elements()
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_i64)
        .collect()
}

/// The elements of a list block (empty when null or unknown).
pub fn blocks<'a>(obj: &'a Value, name: &str) -> &'a [Value] {
    attr(obj, name).as_elements().unwrap_or_default()
}

/// A single block, if present and known.
pub fn single<'a>(obj: &'a Value, name: &str) -> Option<&'a Value> {
    let v = attr(obj, name);
    (v.is_known() && !v.is_null()).then_some(v)
}

/// A string value or null.
pub fn opt_string(v: Option<impl Into<String>>) -> Value {
    v.map_or(Value::Null, |s| Value::string(s.into()))
}

/// An integer value or null.
pub fn opt_int(v: Option<impl Into<i64>>) -> Value {
    v.map_or(Value::Null, |n| Value::int(n.into()))
}

/// A bool value or null.
pub fn opt_bool(v: Option<bool>) -> Value {
    v.map_or(Value::Null, Value::bool)
}

/// A number value or null (non-finite numbers become null).
pub fn opt_float(v: Option<f64>) -> Value {
    match v {
        Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::int(f as i64),
        Some(f) => pvelxc_cty::Number::from_f64(f).map_or(Value::Null, Value::number),
        None => Value::Null,
    }
}

/// A list of strings, or null when empty.
pub fn string_list_or_null(items: &[String]) -> Value {
    if items.is_empty() {
        Value::Null
    } else {
        Value::list(items.iter().map(|s| Value::string(s.clone())))
    }
}

/// An object from `(name, value)` pairs.
pub fn object(pairs: Vec<(&str, Value)>) -> Value {
    Value::Object(
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<BTreeMap<_, _>>(),
    )
}

/// Replaces (or adds) attribute `name` of an object.
pub fn set_attr(obj: &mut Value, name: &str, value: Value) {
    if let Value::Object(map) = obj {
        map.insert(name.to_string(), value);
    }
}
