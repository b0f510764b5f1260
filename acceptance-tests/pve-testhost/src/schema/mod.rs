//! Parameter validation driven by the official PVE API schema.
//!
//! `data/api-schema.json` is the subset of pve-docs' `apidata.js` for the endpoints the
//! test host serves (regenerate with `scripts/extract-schema.py`). Validation follows
//! pve-common's `PVE::JSONSchema` rules and error texts, so a request that passes here
//! passes on a real node and a rejected one fails with the same message.

mod check;
mod formats;
mod propstring;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::Value;

pub use check::{check_params, parse_boolean};
pub use formats::{format_size, parse_size, split_list, KNOWN_FORMATS};
pub use propstring::parse_property_string;

use crate::error::ApiError;

/// The committed schema subset, embedded so the binary needs no data files at run time.
pub const SCHEMA_JSON: &str = include_str!("../../data/api-schema.json");

/// Parameters of one request: name -> value (strings for form data, any JSON for JSON bodies).
pub type Params = BTreeMap<String, Value>;

/// The API schema subset: endpoint path template -> method -> method description.
#[derive(Debug)]
pub struct ApiSchema {
    endpoints: BTreeMap<String, BTreeMap<String, Value>>,
}

impl ApiSchema {
    /// The embedded schema.
    pub fn get() -> &'static ApiSchema {
        static SCHEMA: OnceLock<ApiSchema> = OnceLock::new();
        SCHEMA.get_or_init(|| {
            ApiSchema::parse(SCHEMA_JSON).unwrap_or_else(|err| {
                // The file is compiled in; a broken one is caught by the unit tests.
                panic!("embedded data/api-schema.json is invalid: {err}")
            })
        })
    }

    /// Parses a schema file as written by `extract-schema.py`.
    pub fn parse(text: &str) -> Result<ApiSchema, String> {
        let root: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let endpoints = root
            .get("endpoints")
            .and_then(Value::as_object)
            .ok_or("missing 'endpoints' object")?;
        let mut out = BTreeMap::new();
        for (path, methods) in endpoints {
            let methods = methods
                .as_object()
                .ok_or_else(|| format!("{path}: methods must be an object"))?;
            out.insert(
                path.clone(),
                methods
                    .iter()
                    .map(|(m, info)| (m.clone(), info.clone()))
                    .collect(),
            );
        }
        Ok(ApiSchema { endpoints: out })
    }

    /// Endpoint path templates, e.g. `/nodes/{node}/lxc/{vmid}/config`.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.endpoints.keys().map(String::as_str)
    }

    /// The method description (`allowtoken`, `parameters`, ...) if served.
    pub fn method(&self, path: &str, method: &str) -> Option<&Value> {
        self.endpoints.get(path)?.get(method)
    }

    /// The schema of one parameter of a method, resolving indexed keys such as `net3`
    /// against `net[n]`.
    pub fn param_schema(&self, path: &str, method: &str, name: &str) -> Option<&Value> {
        let props = self
            .method(path, method)?
            .get("parameters")?
            .get("properties")?;
        lookup_property(props, name)
    }

    /// Validates `params` against a method's parameter schema, as `PVE::RESTHandler` does
    /// before calling the handler.
    pub fn validate(&self, path: &str, method: &str, params: &Params) -> Result<(), ApiError> {
        let info = self.method(path, method).ok_or_else(|| {
            ApiError::with_status(501, format!("Method '{method} {path}' not implemented"))
        })?;
        let parameters = info.get("parameters").cloned().unwrap_or(Value::Null);
        let errors = check_params(&parameters, params);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::params(errors))
        }
    }
}

/// Maximum index + 1 of PVE's indexed config keys (`$MAX_LXC_NETWORKS`, `$MAX_MOUNT_POINTS`, ...).
pub fn indexed_key_limit(prefix: &str) -> Option<u32> {
    match prefix {
        "net" => Some(32),
        "mp" | "dev" | "unused" => Some(256),
        _ => None,
    }
}

/// Splits `net3` into (`net`, 3) when the prefix is one of PVE's indexed keys and the
/// index is within range.
pub fn split_indexed_key(name: &str) -> Option<(&str, u32)> {
    let digits = name.trim_start_matches(|c: char| c.is_ascii_lowercase());
    let prefix = &name[..name.len() - digits.len()];
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return None;
    }
    let index: u32 = digits.parse().ok()?;
    let limit = indexed_key_limit(prefix)?;
    (index < limit).then_some((prefix, index))
}

/// Finds a property schema in a `properties` object, expanding `name[n]` entries the way
/// PVE registers `net0`..`net31` etc.
pub fn lookup_property<'a>(props: &'a Value, name: &str) -> Option<&'a Value> {
    if name.contains('[') {
        return None; // `net[n]` itself is not a parameter name
    }
    if let Some(schema) = props.get(name) {
        return Some(schema);
    }
    let (prefix, _) = split_indexed_key(name)?;
    props.get(format!("{prefix}[n]"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_schema_parses_and_has_lxc_create() {
        let schema = ApiSchema::get();
        assert!(schema.method("/nodes/{node}/lxc", "POST").is_some());
        assert!(schema
            .param_schema("/nodes/{node}/lxc/{vmid}/config", "PUT", "net31")
            .is_some());
        assert!(schema
            .param_schema("/nodes/{node}/lxc/{vmid}/config", "PUT", "net32")
            .is_none());
        assert!(schema
            .param_schema("/nodes/{node}/lxc/{vmid}/config", "PUT", "mp255")
            .is_some());
        assert!(schema
            .param_schema("/nodes/{node}/lxc/{vmid}/config", "PUT", "mp01")
            .is_none());
        assert!(schema
            .param_schema("/nodes/{node}/lxc/{vmid}/config", "PUT", "net[n]")
            .is_none());
    }
}
