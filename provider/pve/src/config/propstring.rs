//! PVE property strings (`volume,key=value,...`): the comma-separated sub-option syntax used by
//! `rootfs`, `mpN`, `devN`, `netN`, `features` and `startup`.
//!
//! Parsing follows `PVE::JSONSchema::parse_property_string`: parts split on `,`, empty parts
//! skipped, `key=value` with a non-empty value, one bare value allowed for the format's default
//! key, duplicate and unknown keys refused. Rendering follows `print_property_string`: the
//! default key's value first without `key=`, then the required keys sorted by name, then the
//! optional keys sorted by name (so `mp=` follows the volume and `name=` leads a `netN`).

use std::collections::BTreeMap;

use thiserror::Error;

use crate::text::check_single_line;

/// Why a property string could not be parsed or rendered.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PropError {
    /// A part without `key=` where the format has no default key (or it is already set).
    #[error("{option}: value without key, but the format does not define a default key: '{part}'")]
    NoDefaultKey { option: String, part: String },
    /// The same sub-key given twice.
    #[error("{option}: duplicate key '{key}' in property string")]
    Duplicate { option: String, key: String },
    /// A sub-key the format does not know.
    #[error("{option}: unknown key '{key}' (allowed: {allowed})")]
    UnknownKey {
        option: String,
        key: String,
        allowed: String,
    },
    /// A sub-key with an unparseable value.
    #[error("{option}: invalid value for '{key}': {reason}")]
    InvalidValue {
        option: String,
        key: String,
        reason: String,
    },
    /// A required sub-key is absent.
    #[error("{option}: missing required key '{key}'")]
    Missing { option: String, key: String },
}

/// The parsed sub-options of one property string, in a stable (sorted) order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PropMap {
    option: String,
    values: BTreeMap<String, String>,
}

impl PropMap {
    /// Parses `input` for config key `option`; `keys` lists the allowed sub-keys and
    /// `default_key` the one a bare value fills.
    pub fn parse(
        option: &str,
        input: &str,
        keys: &[&str],
        default_key: Option<&str>,
    ) -> Result<Self, PropError> {
        let mut values = BTreeMap::new();
        for part in input.split(',') {
            if part.trim().is_empty() {
                continue;
            }
            let (key, value) = match part.split_once('=') {
                Some((k, v)) if !k.is_empty() && !v.is_empty() => (k.to_string(), v.to_string()),
                _ => match default_key {
                    Some(dk) if !values.contains_key(dk) => (dk.to_string(), part.to_string()),
                    _ => {
                        return Err(PropError::NoDefaultKey {
                            option: option.to_string(),
                            part: part.to_string(),
                        })
                    }
                },
            };
            if !keys.contains(&key.as_str()) {
                return Err(PropError::UnknownKey {
                    option: option.to_string(),
                    key,
                    allowed: keys.join(", "),
                });
            }
            if values.contains_key(&key) {
                return Err(PropError::Duplicate {
                    option: option.to_string(),
                    key,
                });
            }
            values.insert(key, value);
        }
        Ok(Self {
            option: option.to_string(),
            values,
        })
    }

    /// Removes and returns a string sub-option.
    pub fn take(&mut self, key: &str) -> Option<String> {
        self.values.remove(key)
    }

    /// Removes and returns a required string sub-option.
    pub fn take_required(&mut self, key: &str) -> Result<String, PropError> {
        self.take(key).ok_or_else(|| PropError::Missing {
            option: self.option.clone(),
            key: key.to_string(),
        })
    }

    /// Removes and parses a boolean sub-option (`1|on|yes|true`, `0|off|no|false`).
    pub fn take_bool(&mut self, key: &str) -> Result<Option<bool>, PropError> {
        match self.take(key) {
            None => Ok(None),
            Some(v) => parse_bool(&v)
                .map(Some)
                .ok_or_else(|| self.invalid(key, &v, "a boolean (1|0)")),
        }
    }

    /// Removes and parses an unsigned integer sub-option.
    pub fn take_u64(&mut self, key: &str) -> Result<Option<u64>, PropError> {
        match self.take(key) {
            None => Ok(None),
            Some(v) => v
                .parse::<u64>()
                .map(Some)
                .map_err(|_| self.invalid(key, &v, "an unsigned integer")),
        }
    }

    /// Removes and parses a decimal number sub-option.
    pub fn take_f64(&mut self, key: &str) -> Result<Option<f64>, PropError> {
        match self.take(key) {
            None => Ok(None),
            Some(v) => match v.parse::<f64>() {
                Ok(n) if n.is_finite() && n >= 0.0 => Ok(Some(n)),
                _ => Err(self.invalid(key, &v, "a non-negative number")),
            },
        }
    }

    /// Builds an [`PropError::InvalidValue`] for this map's option.
    pub fn invalid(&self, key: &str, value: &str, expected: &str) -> PropError {
        PropError::InvalidValue {
            option: self.option.clone(),
            key: key.to_string(),
            reason: format!("expected {expected}, got '{value}'"),
        }
    }
}

/// Parses PVE's boolean spellings.
pub fn parse_bool(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "on" | "yes" | "true" => Some(true),
        "0" | "off" | "no" | "false" => Some(false),
        _ => None,
    }
}

/// Collects sub-options and renders them the way PVE prints them.
#[derive(Debug, Default)]
pub struct PropWriter {
    default_value: Option<String>,
    required: BTreeMap<&'static str, String>,
    values: BTreeMap<&'static str, String>,
}

impl PropWriter {
    /// Starts a writer; `default_value` is printed first without a key.
    pub fn new(default_value: Option<String>) -> Self {
        Self {
            default_value,
            required: BTreeMap::new(),
            values: BTreeMap::new(),
        }
    }

    /// Adds a sub-option the format marks as required; PVE prints those before the others.
    pub fn required(mut self, key: &'static str, value: Option<&str>) -> Self {
        if let Some(v) = value {
            self.required.insert(key, v.to_string());
        }
        self
    }

    /// Adds a string sub-option when present.
    pub fn str(mut self, key: &'static str, value: Option<&str>) -> Self {
        if let Some(v) = value {
            self.values.insert(key, v.to_string());
        }
        self
    }

    /// Adds a boolean sub-option as `1`/`0` when present.
    pub fn bool(self, key: &'static str, value: Option<bool>) -> Self {
        self.str(key, value.map(|b| if b { "1" } else { "0" }))
    }

    /// Adds a numeric sub-option when present.
    pub fn num<N: ToString>(mut self, key: &'static str, value: Option<N>) -> Self {
        if let Some(v) = value {
            self.values.insert(key, v.to_string());
        }
        self
    }

    /// Renders the property string, refusing values that would break the format: a comma
    /// would start a new sub-option, a line break a new config line.
    pub fn render(self, option: &str) -> Result<String, PropError> {
        let mut parts = Vec::new();
        if let Some(v) = self.default_value {
            check_value(option, "value", &v)?;
            parts.push(v);
        }
        for (k, v) in self.required.into_iter().chain(self.values) {
            check_value(option, k, &v)?;
            parts.push(format!("{k}={v}"));
        }
        Ok(parts.join(","))
    }
}

fn check_value(option: &str, key: &str, value: &str) -> Result<(), PropError> {
    let invalid = |reason: String| PropError::InvalidValue {
        option: option.to_string(),
        key: key.to_string(),
        reason,
    };
    check_single_line(&format!("{option}.{key}"), value).map_err(|e| invalid(e.to_string()))?;
    if value.contains(',') {
        return Err(invalid(format!(
            "'{value}' contains ',' which PVE uses to separate options"
        )));
    }
    if value.is_empty() {
        return Err(invalid("empty values cannot be written".to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MP_KEYS: &[&str] = &["volume", "mp", "ro", "size"];

    #[test]
    fn default_key_and_sorted_keys() {
        let mut m = PropMap::parse(
            "mp0",
            "/mnt/storage,mp=/mnt/storage,ro=true",
            MP_KEYS,
            Some("volume"),
        )
        .unwrap();
        assert_eq!(m.take("volume").as_deref(), Some("/mnt/storage"));
        assert_eq!(m.take_bool("ro").unwrap(), Some(true));
        let out = PropWriter::new(Some("/mnt/storage".into()))
            .bool("backup", Some(false))
            .required("mp", Some("/mnt/storage"))
            .bool("ro", Some(true))
            .render("mp0")
            .unwrap();
        assert_eq!(out, "/mnt/storage,mp=/mnt/storage,backup=0,ro=1");
    }

    #[test]
    fn explicit_default_key_and_empty_parts() {
        let mut m =
            PropMap::parse("mp0", "mp=/x,,volume=local:1", MP_KEYS, Some("volume")).unwrap();
        assert_eq!(m.take("volume").as_deref(), Some("local:1"));
    }

    #[test]
    fn errors_name_the_option() {
        let e = PropMap::parse("mp0", "a,b", MP_KEYS, Some("volume")).unwrap_err();
        assert!(matches!(e, PropError::NoDefaultKey { .. }), "{e}");
        let e = PropMap::parse("mp0", "a,mp=1,mp=2", MP_KEYS, Some("volume")).unwrap_err();
        assert_eq!(e.to_string(), "mp0: duplicate key 'mp' in property string");
        let e = PropMap::parse("net0", "name=eth0,colour=red", &["name"], None).unwrap_err();
        assert!(e.to_string().contains("unknown key 'colour'"), "{e}");
        // `key=` with an empty value is not a key/value pair for PVE either.
        let e = PropMap::parse("net0", "name=", &["name"], None).unwrap_err();
        assert!(matches!(e, PropError::NoDefaultKey { .. }));
    }

    #[test]
    fn writer_refuses_injection() {
        for bad in ["a,b", "a\nmp1: /etc", "x\0", ""] {
            let r = PropWriter::new(None).str("mp", Some(bad)).render("mp0");
            assert!(r.is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn bools() {
        for t in ["1", "on", "YES", "true"] {
            assert_eq!(parse_bool(t), Some(true));
        }
        for f in ["0", "off", "No", "FALSE"] {
            assert_eq!(parse_bool(f), Some(false));
        }
        assert_eq!(parse_bool("2"), None);
    }
}
