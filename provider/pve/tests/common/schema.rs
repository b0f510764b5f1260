//! A validator for request parameters against PVE's published API schema (the subset in
//! `tests/data/lxc-api-schema.json`, extracted from pve-docs' apidata by
//! `tests/data/extract-schema.py`). It follows `PVE::JSONSchema`: types, ranges, lengths,
//! enums, patterns (anchored), inline property-string formats and the named formats the LXC
//! endpoints use. An unknown named format is an error, so new parameters cannot slip through
//! unchecked.

use std::net::{Ipv4Addr, Ipv6Addr};

use regex::Regex;
use serde_json::Value;

pub fn load() -> Value {
    let text = include_str!("../data/lxc-api-schema.json");
    serde_json::from_str(text).expect("schema subset is valid JSON")
}

/// Validates `params` (plus path parameters) for `endpoint` ("METHOD /path"). Returns every
/// violation, each naming the parameter.
pub fn validate(schema: &Value, endpoint: &str, params: &[(String, String)]) -> Vec<String> {
    let Some(ep) = schema.get(endpoint) else {
        return vec![format!("endpoint {endpoint} is not in the schema subset")];
    };
    let props = ep["properties"].as_object().expect("properties");
    let mut errors = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (key, value) in params {
        if !seen.insert(key.clone()) {
            errors.push(format!("{key}: sent twice"));
        }
        let prop = props.get(key).or_else(|| props.get(&indexed_name(key)));
        match prop {
            None => errors.push(format!("{key}: property is not defined in schema and the schema does not allow additional properties")),
            Some(p) => {
                if let Err(e) = check_value(p, value) {
                    errors.push(format!("{key}: {e}"));
                }
            }
        }
    }
    for (key, p) in props {
        if p.get("optional").and_then(Value::as_i64).unwrap_or(0) == 0
            && !key.contains("[n]")
            && !seen.contains(key)
        {
            errors.push(format!("{key}: property is missing and it is not optional"));
        }
    }
    errors
}

/// `mp0` -> `mp[n]`.
fn indexed_name(key: &str) -> String {
    let base = key.trim_end_matches(|c: char| c.is_ascii_digit());
    if base.len() < key.len() {
        format!("{base}[n]")
    } else {
        key.to_string()
    }
}

fn check_value(p: &Value, value: &str) -> Result<(), String> {
    let ty = p.get("type").and_then(Value::as_str).unwrap_or("string");
    match ty {
        "boolean" => {
            if !matches!(value, "0" | "1") {
                return Err(format!("type check ('boolean') failed - got '{value}'"));
            }
        }
        "integer" => {
            let n: i64 = value
                .parse()
                .map_err(|_| format!("type check ('integer') failed - got '{value}'"))?;
            range(p, n as f64)?;
        }
        "number" => {
            let re = Regex::new(r"^-?\d+(\.\d+)?$").unwrap();
            if !re.is_match(value) {
                return Err(format!("type check ('number') failed - got '{value}'"));
            }
            range(p, value.parse::<f64>().unwrap())?;
        }
        "string" => {
            if let Some(max) = p.get("maxLength").and_then(Value::as_u64) {
                if value.len() as u64 > max {
                    return Err(format!("value may only be {max} characters long"));
                }
            }
            if let Some(min) = p.get("minLength").and_then(Value::as_u64) {
                if (value.len() as u64) < min {
                    return Err(format!("value must be at least {min} characters long"));
                }
            }
            if let Some(pat) = p.get("pattern").and_then(Value::as_str) {
                if !pattern(pat).is_match(value) {
                    return Err(format!("value does not match the regex pattern {pat}"));
                }
            }
            match p.get("format") {
                None => {}
                Some(Value::Object(_)) => property_string(&p["format"], value)?,
                Some(Value::String(name)) => named_format(name, value)?,
                Some(other) => return Err(format!("unexpected format {other}")),
            }
        }
        other => return Err(format!("unsupported type {other}")),
    }
    if let Some(en) = p.get("enum").and_then(Value::as_array) {
        if !en.iter().any(|e| e.as_str() == Some(value)) {
            return Err(format!(
                "value '{value}' does not have a value in the enumeration"
            ));
        }
    }
    Ok(())
}

fn range(p: &Value, n: f64) -> Result<(), String> {
    if let Some(min) = p.get("minimum").and_then(Value::as_f64) {
        if n < min {
            return Err(format!("value must have a minimum value of {min}"));
        }
    }
    if let Some(max) = p.get("maximum").and_then(Value::as_f64) {
        if n > max {
            return Err(format!("value must have a maximum value of {max}"));
        }
    }
    Ok(())
}

/// Perl `(?^:...)` groups become `(?:...)`; PVE anchors patterns.
fn pattern(perl: &str) -> Regex {
    let rust = perl.replace("(?^:", "(?:");
    Regex::new(&format!("^(?:{rust})$")).unwrap_or_else(|e| panic!("pattern {perl}: {e}"))
}

fn property_string(format: &Value, value: &str) -> Result<(), String> {
    let fmt = format.as_object().unwrap();
    let default_key = fmt
        .iter()
        .find(|(_, v)| v.get("default_key").is_some())
        .map(|(k, _)| k.clone());
    let mut seen = std::collections::BTreeSet::new();
    for part in value.split(',') {
        if part.trim().is_empty() {
            continue;
        }
        let (k, v) = match part.split_once('=') {
            Some((k, v)) if !v.is_empty() => (k.to_string(), v.to_string()),
            _ => match &default_key {
                Some(dk) if !seen.contains(dk) => (dk.clone(), part.to_string()),
                _ => {
                    return Err(format!(
                        "value without key, but schema does not define a default key: '{part}'"
                    ))
                }
            },
        };
        if !seen.insert(k.clone()) {
            return Err(format!(
                "duplicate key in comma-separated list property: {k}"
            ));
        }
        let sub = fmt
            .get(&k)
            .ok_or_else(|| format!("property '{k}' is not defined in the format"))?;
        check_value(sub, &v).map_err(|e| format!("{k}: {e}"))?;
    }
    for (k, sub) in fmt {
        if sub.get("optional").and_then(Value::as_i64).unwrap_or(0) == 0 && !seen.contains(k) {
            return Err(format!("{k}: property is missing and it is not optional"));
        }
    }
    Ok(())
}

fn split_list(v: &str) -> Vec<&str> {
    v.split(|c: char| c == ',' || c == ';' || c == '\0' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .collect()
}

fn dns_name(v: &str) -> bool {
    let label = Regex::new(r"^[a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?$").unwrap();
    !v.is_empty() && v.split('.').all(|l| label.is_match(l))
}

fn named_format(name: &str, v: &str) -> Result<(), String> {
    let ok = match name {
        "pve-node" => Regex::new(r"^[a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?$")
            .unwrap()
            .is_match(v),
        "pve-vmid" => v.parse::<u32>().is_ok(),
        "pve-storage-id" => Regex::new(r"^[a-z][a-z0-9\-_.]*[a-z0-9]$")
            .unwrap()
            .is_match(v),
        "pve-volume-id" | "pve-volume-id-or-qm-path" => v.contains(':') || v.starts_with('/'),
        "pve-tag-list" => split_list(v).iter().all(|t| {
            Regex::new(r"^(?i)[a-z0-9_][a-z0-9_\-+.]*$")
                .unwrap()
                .is_match(t)
        }),
        "dns-name" => dns_name(v),
        "dns-name-list" => split_list(v).iter().all(|d| dns_name(d)),
        "lxc-ip-with-ll-iface-list" => split_list(v).iter().all(|a| {
            let ip = a.split('%').next().unwrap_or("");
            ip.parse::<Ipv4Addr>().is_ok() || ip.parse::<Ipv6Addr>().is_ok()
        }),
        "pve-startup-order" => {
            Regex::new(r"^(?:(?:order=)?\d+)?(?:,?up=\d+)?(?:,?down=\d+)?$")
                .unwrap()
                .is_match(v)
                && !v.is_empty()
        }
        "pve-ct-timezone" => {
            v == "host"
                || Regex::new(r"^[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*$")
                    .unwrap()
                    .is_match(v)
        }
        "pve-configid-list" => split_list(v).iter().all(|k| {
            Regex::new(r"^[a-z][a-z0-9_\-]*[a-z0-9]$")
                .unwrap()
                .is_match(k)
        }),
        "disk-size" => Regex::new(r"^\d+(\.\d+)?[KMGT]?$").unwrap().is_match(v),
        "pve-lxc-mp-string" => {
            !(v.contains("/./")
                || v.contains("/../")
                || v.ends_with("/.")
                || v.ends_with("/..")
                || v.starts_with("../"))
        }
        "pve-lxc-dev-string" => {
            v.starts_with("/dev/") && !v.split('/').any(|c| c == "." || c == "..")
        }
        "mac-addr" => Regex::new(r"^[0-9a-fA-F][02468aAcCeE](:[0-9a-fA-F]{2}){5}$")
            .unwrap()
            .is_match(v),
        "ipv4" => v.parse::<Ipv4Addr>().is_ok(),
        "ipv6" => v.parse::<Ipv6Addr>().is_ok(),
        "pve-ipv4-config" => {
            matches!(v, "dhcp" | "manual")
                || v.split_once('/').is_some_and(|(a, p)| {
                    a.parse::<Ipv4Addr>().is_ok() && p.parse::<u8>().is_ok_and(|p| p <= 32)
                })
        }
        "pve-ipv6-config" => {
            matches!(v, "dhcp" | "manual" | "auto")
                || v.split_once('/').is_some_and(|(a, p)| {
                    a.parse::<Ipv6Addr>().is_ok() && p.parse::<u8>().is_ok_and(|p| p <= 128)
                })
        }
        "pve-poolid" => Regex::new(r"^[A-Za-z0-9_\-]+$").unwrap().is_match(v),
        other => {
            return Err(format!(
                "named format '{other}' is not checked by this validator; add it"
            ))
        }
    };
    if ok {
        Ok(())
    } else {
        Err(format!("value does not match format '{name}': '{v}'"))
    }
}
