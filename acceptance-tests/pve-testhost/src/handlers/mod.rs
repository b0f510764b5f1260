//! Endpoint handlers. Each follows the matching PVE API method (pve-manager,
//! pve-container, pve-access-control) in its checks, order of checks and messages.

pub mod access;
pub mod cluster;
pub mod config;
pub mod create;
pub mod lifecycle;
pub mod lxc;
pub mod resize;
pub mod storage;
pub mod tasks;

use pve_testhost_runtime::conf::keys::{key_type, KeyType};
use pve_testhost_runtime::conf::PctConf;
use pve_testhost_runtime::conf::Section;
use pve_testhost_runtime::store::Loaded;
use serde_json::{json, Value};

use crate::app::{store_error, App};
use crate::error::ApiError;

/// Reads a CT config (PVE: `load_config`), 500 with PVE's message if it does not exist.
pub fn load(app: &App, vmid: u32) -> Result<Loaded, ApiError> {
    app.store.read(vmid).map_err(store_error)
}

/// A config value as PVE's JSON encoder emits it: integers and booleans as numbers.
pub fn conf_value_json(key: &str, value: &str) -> Value {
    match key_type(key) {
        Some(KeyType::Integer) | Some(KeyType::Boolean) => value
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::from(value)),
        _ => Value::from(value),
    }
}

/// A key of a section, with `description` read from the `#` lines.
pub fn section_get(section: &Section, key: &str) -> Option<String> {
    if key == "description" {
        return section.description.clone();
    }
    section.get(key).map(str::to_string)
}

/// Every key of a section including `description`.
pub fn section_keys(section: &Section) -> Vec<String> {
    let mut keys: Vec<String> = section.options.keys().cloned().collect();
    if section.description.is_some() {
        keys.push("description".into());
        keys.sort();
    }
    keys
}

/// The section as PVE returns it: typed values, raw `lxc` entries as `[key, value]` pairs.
pub fn section_json(section: &Section) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    for key in section_keys(section) {
        if key == "delete" {
            continue;
        }
        if let Some(value) = section_get(section, &key) {
            out.insert(key.clone(), conf_value_json(&key, &value));
        }
    }
    if !section.lxc.is_empty() {
        out.insert(
            "lxc".into(),
            Value::Array(section.lxc.iter().map(|(k, v)| json!([k, v])).collect()),
        );
    }
    out
}

/// Size in bytes of a `size=` value of a mount point (`8G` etc.).
pub fn mount_size(raw: &str) -> u64 {
    raw.split(',')
        .find_map(|p| p.strip_prefix("size="))
        .and_then(crate::schema::parse_size)
        .unwrap_or(0)
}

/// PVE's message when a client's `digest` no longer matches the file.
pub const DIGEST_MISMATCH: &str =
    "detected modified configuration - file changed by other user? Try again.\n";

/// Read-modify-write of a CT config under PVE's lock: `check_lock` (if asked), then the
/// `digest` compare-and-swap, then `change`; the file is written only if `change` succeeds.
pub fn modify<T>(
    app: &App,
    vmid: u32,
    check_lock: bool,
    digest: Option<&str>,
    change: impl FnOnce(&mut PctConf) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let lock = app.store.lock(vmid).map_err(store_error)?;
    let loaded = app.store.read(vmid).map_err(store_error)?;
    if check_lock {
        pve_testhost_runtime::store::check_lock(&loaded.conf).map_err(store_error)?;
    }
    if let Some(expected) = digest {
        if !expected.eq_ignore_ascii_case(&loaded.digest) {
            return Err(ApiError::internal(DIGEST_MISMATCH));
        }
    }
    let mut conf = loaded.conf;
    let value = change(&mut conf)?;
    app.store
        .write_locked(&lock, vmid, &conf)
        .map_err(store_error)?;
    Ok(value)
}
