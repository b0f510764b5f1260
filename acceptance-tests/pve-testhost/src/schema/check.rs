//! The core checks of `PVE::JSONSchema` (`check_prop`, `check_type`, `check_object`) with
//! PVE's error texts.

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::Value;

use super::formats::check_named_format;
use super::propstring::parse_property_string;
use super::{lookup_property, Params};

/// Per-path error messages; several messages for one path are joined like `add_error` does.
pub type Errors = BTreeMap<String, String>;

pub(crate) fn add_error(errors: &mut Errors, path: &str, msg: &str) {
    let path = if path.is_empty() { "_root" } else { path };
    errors
        .entry(path.to_string())
        .and_modify(|existing| {
            // PVE joins with a literal backslash-n (single-quoted '\n' in Perl).
            existing.push_str("\\n");
            existing.push_str(msg);
        })
        .or_insert_with(|| msg.to_string());
}

/// PVE's `parse_boolean`, used inside property strings and config files.
pub fn parse_boolean(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "on" | "yes" | "true" => Some(true),
        "0" | "off" | "no" | "false" => Some(false),
        _ => None,
    }
}

fn is_number(text: &str) -> bool {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^[+-]?(\d+\.\d+|\d+\.|\.\d+|\d+)([eE][+-]?\d+)?$")
            .unwrap_or_else(|_| unreachable!())
    })
    .is_match(text)
}

fn is_integer(text: &str) -> bool {
    let body = text.strip_prefix(['+', '-']).unwrap_or(text);
    !body.is_empty() && body.chars().all(|c| c.is_ascii_digit())
}

/// How Perl would print a scalar value in an error message.
pub(crate) fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The Perl reference type a non-scalar JSON value decodes to.
fn ref_type(value: &Value) -> &'static str {
    match value {
        Value::Bool(_) => "JSON::PP::Boolean",
        Value::Array(_) => "ARRAY",
        Value::Object(_) => "HASH",
        _ => "",
    }
}

fn check_type(path: &str, ty: &str, value: &Value, errors: &mut Errors) -> bool {
    match ty {
        "" | "any" => true,
        "array" => {
            let ok = value.is_array();
            if !ok {
                add_error(errors, path, "type check ('array') failed");
            }
            ok
        }
        "object" => {
            let ok = value.is_object();
            if !ok {
                add_error(errors, path, "type check ('object') failed");
            }
            ok
        }
        _ => {
            if let Value::Bool(_) = value {
                // JSON booleans are accepted where a boolean is expected.
                if ty == "boolean" {
                    return true;
                }
            }
            let Some(text) = scalar_text(value) else {
                add_error(
                    errors,
                    path,
                    &format!("type check ('{ty}') failed - got {}", ref_type(value)),
                );
                return false;
            };
            let ok = match ty {
                "boolean" => text == "1" || text == "0",
                "integer" => is_integer(&text),
                "number" => is_number(&text),
                _ => true,
            };
            if !ok {
                add_error(
                    errors,
                    path,
                    &format!("type check ('{ty}') failed - got '{text}'"),
                );
            }
            ok
        }
    }
}

fn is_flag_set(schema: &Value, key: &str) -> bool {
    match schema.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|v| v != 0.0),
        Some(Value::String(s)) => !s.is_empty() && s != "0",
        _ => false,
    }
}

/// Compiles a schema pattern the way Perl applies it (`m/^$pattern$/`).
pub(crate) fn anchored_regex(pattern: &str) -> Option<Regex> {
    // Perl stringifies qr// as (?^:...); Rust spells that (?:...). \0 is NUL.
    let translated = pattern.replace("(?^:", "(?:").replace("\\0", "\\x00");
    Regex::new(&format!("^(?:{translated})$")).ok()
}

fn number_of(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// `check_prop`: validates one value (or its absence) against a property schema.
pub(crate) fn check_prop(value: Option<&Value>, schema: &Value, path: &str, errors: &mut Errors) {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        if !is_flag_set(schema, "optional") {
            add_error(errors, path, "property is missing and it is not optional");
        }
        return;
    };
    let ty = schema.get("type").and_then(Value::as_str).unwrap_or("");
    if !check_type(path, ty, value, errors) {
        return;
    }
    if value.is_array() || value.is_object() {
        if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
            for (i, item) in items.iter().enumerate() {
                check_prop(Some(item), item_schema, &format!("{path}[{i}]"), errors);
            }
        }
        return;
    }
    let text = match value {
        Value::Bool(b) => (if *b { "1" } else { "0" }).to_string(),
        other => scalar_text(other).unwrap_or_default(),
    };
    if let Some(format) = schema.get("format") {
        let result = match format {
            Value::Object(_) => parse_property_string(format, &text, path).map(|_| ()),
            Value::String(name) => check_named_format(name, &text, path),
            _ => Ok(()),
        };
        if let Err(msg) = result {
            add_error(errors, path, &format!("invalid format - {msg}"));
            return;
        }
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
        let matches = anchored_regex(pattern).is_some_and(|re| re.is_match(&text));
        if !matches {
            add_error(errors, path, "value does not match the regex pattern");
            return;
        }
    }
    let length = text.chars().count();
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64) {
        if length as u64 > max {
            add_error(
                errors,
                path,
                &format!("value may only be {max} characters long"),
            );
            return;
        }
    }
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64) {
        if (length as u64) < min {
            add_error(
                errors,
                path,
                &format!("value must be at least {min} characters long"),
            );
            return;
        }
    }
    if is_number(&text) {
        let number: f64 = text.parse().unwrap_or(0.0);
        if let Some(max) = schema.get("maximum") {
            if number_of(max).is_some_and(|m| number > m) {
                add_error(
                    errors,
                    path,
                    &format!("value must have a maximum value of {}", display_number(max)),
                );
                return;
            }
        }
        if let Some(min) = schema.get("minimum") {
            if number_of(min).is_some_and(|m| number < m) {
                add_error(
                    errors,
                    path,
                    &format!("value must have a minimum value of {}", display_number(min)),
                );
                return;
            }
        }
    }
    if let Some(Value::Array(choices)) = schema.get("enum") {
        let found = choices
            .iter()
            .any(|c| scalar_text(c).as_deref() == Some(text.as_str()));
        if !found {
            let list: Vec<String> = choices.iter().filter_map(scalar_text).collect();
            add_error(
                errors,
                path,
                &format!(
                    "value '{text}' does not have a value in the enumeration '{}'",
                    list.join(", ")
                ),
            );
        }
    }
}

fn display_number(value: &Value) -> String {
    scalar_text(value).unwrap_or_default()
}

/// `check_object`: validates a map of values against a `properties` schema.
pub(crate) fn check_object(
    path: &str,
    props: &Value,
    values: &BTreeMap<String, Value>,
    additional_allowed: bool,
    errors: &mut Errors,
) {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    if let Some(props) = props.as_object() {
        for (key, schema) in props {
            if key.ends_with("[n]") {
                continue; // expanded keys are all optional and checked below
            }
            check_prop(values.get(key), schema, &join(key), errors);
        }
    }
    for (key, value) in values {
        let newpath = join(key);
        if props.get(key).is_none() || key.contains('[') {
            if let Some(schema) = lookup_property(props, key) {
                check_prop(Some(value), schema, &newpath, errors);
            } else {
                if !additional_allowed {
                    add_error(
                        errors,
                        &newpath,
                        "property is not defined in schema and the schema does not allow additional properties",
                    );
                }
                continue;
            }
        }
        let schema = lookup_property(props, key).unwrap_or(&Value::Null);
        if let Some(required) = schema.get("requires").and_then(Value::as_str) {
            if values.get(required).is_none_or(Value::is_null) {
                add_error(
                    errors,
                    &join(required),
                    &format!("missing property - '{newpath}' requires this property"),
                );
            }
        }
    }
}

/// Validates request parameters against a method's `parameters` schema.
pub fn check_params(parameters: &Value, params: &Params) -> Errors {
    let mut errors = Errors::new();
    let props = parameters
        .get("properties")
        .cloned()
        .unwrap_or(Value::Object(Default::default()));
    let additional = is_flag_set(parameters, "additionalProperties");
    check_object("", &props, params, additional, &mut errors);
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(pairs: &[(&str, Value)]) -> Params {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    fn schema() -> Value {
        json!({
            "additionalProperties": 0,
            "properties": {
                "vmid": {"type": "integer", "minimum": 100, "maximum": 999999999},
                "onboot": {"type": "boolean", "optional": 1},
                "arch": {"type": "string", "enum": ["amd64", "i386"], "optional": 1},
                "cpulimit": {"type": "number", "minimum": 0, "maximum": 8192, "optional": 1},
                "hostname": {"type": "string", "maxLength": 5, "optional": 1},
                "password": {"type": "string", "minLength": 5, "optional": 1},
                "mode": {"type": "string", "pattern": "0[0-7]{3}", "optional": 1},
                "net[n]": {"type": "string", "optional": 1}
            }
        })
    }

    #[test]
    fn missing_required_and_unknown_parameters() {
        let errors = check_params(&schema(), &params(&[("bogus", json!("1"))]));
        assert_eq!(errors["vmid"], "property is missing and it is not optional");
        assert_eq!(
            errors["bogus"],
            "property is not defined in schema and the schema does not allow additional properties"
        );
    }

    #[test]
    fn type_errors_use_pve_text() {
        let errors = check_params(
            &schema(),
            &params(&[
                ("vmid", json!("abc")),
                ("onboot", json!("true")),
                ("cpulimit", json!("x")),
            ]),
        );
        assert_eq!(errors["vmid"], "type check ('integer') failed - got 'abc'");
        assert_eq!(
            errors["onboot"],
            "type check ('boolean') failed - got 'true'"
        );
        assert_eq!(errors["cpulimit"], "type check ('number') failed - got 'x'");
    }

    #[test]
    fn booleans_accept_form_digits_and_json_booleans() {
        for value in [json!("1"), json!("0"), json!(true), json!(false), json!(1)] {
            let errors = check_params(
                &schema(),
                &params(&[("vmid", json!(100)), ("onboot", value)]),
            );
            assert!(errors.is_empty(), "{errors:?}");
        }
    }

    #[test]
    fn ranges_lengths_patterns_enums() {
        let errors = check_params(
            &schema(),
            &params(&[
                ("vmid", json!("99")),
                ("cpulimit", json!("8193")),
                ("hostname", json!("toolong")),
                ("password", json!("abc")),
                ("mode", json!("0999")),
                ("arch", json!("sparc")),
            ]),
        );
        assert_eq!(errors["vmid"], "value must have a minimum value of 100");
        assert_eq!(
            errors["cpulimit"],
            "value must have a maximum value of 8192"
        );
        assert_eq!(errors["hostname"], "value may only be 5 characters long");
        assert_eq!(
            errors["password"],
            "value must be at least 5 characters long"
        );
        assert_eq!(errors["mode"], "value does not match the regex pattern");
        assert_eq!(
            errors["arch"],
            "value 'sparc' does not have a value in the enumeration 'amd64, i386'"
        );
    }

    #[test]
    fn indexed_keys_expand_within_limits() {
        let ok = check_params(
            &schema(),
            &params(&[("vmid", json!(100)), ("net31", json!("x"))]),
        );
        assert!(ok.is_empty());
        let errors = check_params(
            &schema(),
            &params(&[("vmid", json!(100)), ("net32", json!("x"))]),
        );
        assert!(errors["net32"].starts_with("property is not defined in schema"));
    }

    #[test]
    fn perl_patterns_translate() {
        let re = anchored_regex("(?^:\\d+(?:;\\d+)*)").expect("compiles");
        assert!(re.is_match("10;20"));
        assert!(!re.is_match("10;x"));
        let env = anchored_regex(
            "(?^:(?:\\w+=[^\\x00-\\x08\\x10-\\x1F\\x7F]*)(?:\\0\\w+=[^\\x00-\\x08\\x10-\\x1F\\x7F]*)*)",
        )
        .expect("compiles");
        assert!(env.is_match("A=1\u{0}B=2"));
    }
}
