//! Reading and writing plain values in cty objects, so the item code stays short.

use pvelxc_cty::Value;

/// A string attribute, if set.
pub fn string(v: &Value, name: &str) -> Option<String> {
    v.get_attr(name).and_then(Value::as_str).map(str::to_string)
}

/// A bool attribute, if set.
pub fn boolean(v: &Value, name: &str) -> Option<bool> {
    v.get_attr(name).and_then(Value::as_bool)
}

/// An integer attribute, if set.
pub fn int(v: &Value, name: &str) -> Option<i64> {
    v.get_attr(name).and_then(Value::as_i64)
}

/// A list or set of strings (empty when unset).
/// A list attribute, or `default` when it is null: configuration seen before planning (validation,
/// planning itself) has null where the schema fills a default in, and a preset must expand the
/// same way in both.
pub fn strings_or(v: &Value, name: &str, default: &[&str]) -> Vec<String> {
    match v.get_attr(name) {
        Some(x) if !x.is_null() => strings(v, name),
        _ => default.iter().map(|s| s.to_string()).collect(),
    }
}

pub fn strings(v: &Value, name: &str) -> Vec<String> {
    v.get_attr(name)
        .and_then(Value::as_elements)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// A map of strings (empty when unset).
pub fn string_map(v: &Value, name: &str) -> std::collections::BTreeMap<String, String> {
    v.get_attr(name)
        .and_then(Value::as_entries)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// The elements of a nested list block (empty when unset).
pub fn blocks<'a>(v: &'a Value, name: &str) -> &'a [Value] {
    v.get_attr(name).and_then(Value::as_elements).unwrap_or(&[])
}

/// A single nested block, when present.
pub fn single<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    v.get_attr(name).filter(|b| !b.is_null())
}

/// A list of strings as a cty value.
pub fn string_list<S: AsRef<str>>(items: &[S]) -> Value {
    Value::list(items.iter().map(|s| Value::string(s.as_ref())))
}

/// Replaces the attribute `name` of an object value. Only attributes the object already
/// has are written, so a state never grows attributes its schema lacks.
pub fn set(obj: &mut Value, name: &str, value: Value) {
    if let Some(slot) = obj.get_attr_mut(name) {
        *slot = value;
    }
}

/// The `index`th element of the list block `name`, mutable.
pub fn block_mut<'a>(obj: &'a mut Value, name: &str, index: usize) -> Option<&'a mut Value> {
    match obj.get_attr_mut(name)? {
        Value::List(items) | Value::Set(items) => items.get_mut(index),
        other if index == 0 && matches!(other, Value::Object(_)) => Some(other),
        _ => None,
    }
}
