//! Property strings (`key=value,key=value`, one default key may omit `key=`), parsed and
//! checked like `PVE::JSONSchema::parse_property_string`.

use std::collections::BTreeMap;

use serde_json::Value;

use super::check::{check_object, parse_boolean, Errors};

/// Parses `data` against an inline format hash and checks every sub-key.
///
/// On failure returns the text PVE's exception stringifies to: the message, then one
/// `path.key: error` line per failed sub-key (sorted, where Perl's hash order is random).
pub fn parse_property_string(
    format: &Value,
    data: &str,
    path: &str,
) -> Result<BTreeMap<String, String>, String> {
    let empty = serde_json::Map::new();
    let format_map = format.as_object().unwrap_or(&empty);
    let default_key = format_map
        .iter()
        .find(|(_, sub)| sub.get("default_key").is_some_and(|v| v != &Value::from(0)))
        .map(|(k, _)| k.clone());
    let mut result: BTreeMap<String, String> = BTreeMap::new();
    let mut default_used = false;
    for part in data.split(',') {
        if part.trim().is_empty() {
            continue;
        }
        if let Some((key, value)) = part
            .split_once('=')
            .filter(|(k, v)| !k.is_empty() && !v.is_empty())
        {
            if result.contains_key(key) {
                return Err(format!(
                    "duplicate key in comma-separated list property: {key}\n"
                ));
            }
            let Some(sub) = format_map.get(key) else {
                return Err(format!(
                    "invalid key in comma-separated list property: {key}\n"
                ));
            };
            let value = if sub.get("type").and_then(Value::as_str) == Some("boolean") {
                match parse_boolean(value) {
                    Some(true) => "1".to_string(),
                    Some(false) => "0".to_string(),
                    None => value.to_string(),
                }
            } else {
                value.to_string()
            };
            result.insert(key.to_string(), value);
        } else if !part.contains('=') {
            let Some(key) = &default_key else {
                return Err(
                    "value without key, but schema does not define a default key\n".to_string(),
                );
            };
            if default_used || result.contains_key(key) {
                return Err(format!(
                    "duplicate key in comma-separated list property: {key}\n"
                ));
            }
            default_used = true;
            result.insert(key.clone(), part.to_string());
        } else {
            return Err("missing key in comma-separated list property\n".to_string());
        }
    }
    let mut errors = Errors::new();
    let values: BTreeMap<String, Value> = result
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    check_object(path, format, &values, false, &mut errors);
    if errors.is_empty() {
        Ok(result)
    } else {
        let mut text = "format error\n".to_string();
        for (key, msg) in &errors {
            text.push_str(&format!("{key}: {msg}\n"));
        }
        Err(text)
    }
}
