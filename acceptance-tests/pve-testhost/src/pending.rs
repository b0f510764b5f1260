//! Config changes as pve-container applies them (`update_pct_config`): every change goes
//! to `[pve:pending]` first; for a stopped CT pending changes are applied at once
//! (`vmconfig_apply_pending`), for a running CT only what can be hot-plugged is
//! (`vmconfig_hotplug_pending`) and the rest stays pending until the next start.

use std::collections::BTreeMap;

use pve_testhost_runtime::conf::{MountKind, MountPoint, PctConf, Section};
use pve_testhost_runtime::paths::NodePaths;
use pve_testhost_runtime::volumes;
use regex::Regex;
use serde_json::Value;

use crate::app::App;
use crate::error::ApiError;
use crate::executor::Hotplug;
use crate::handlers::section_get;
use crate::schema::{parse_property_string, ApiSchema};

/// Options applied to a running CT immediately (`$LXC_FASTPLUG_OPTIONS`); one list for the
/// API and `pct`, kept by the node runtime.
use pve_testhost_runtime::container::FASTPLUG_OPTIONS as FASTPLUG;

/// Per-key errors, reported like `raise_param_exc`.
pub type Errors = BTreeMap<String, String>;

/// Pending deletes as (key, force) in file order; `!key` marks a forced delete.
pub fn pending_deletes(conf: &PctConf) -> Vec<(String, bool)> {
    conf.pending
        .get("delete")
        .map(|d| {
            d.split([',', ';', ' '])
                .filter(|s| !s.is_empty())
                .map(|s| match s.strip_prefix('!') {
                    Some(k) => (k.to_string(), true),
                    None => (s.to_string(), false),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn set_pending_deletes(conf: &mut PctConf, list: &[(String, bool)]) {
    if list.is_empty() {
        conf.pending.options.remove("delete");
    } else {
        let text: Vec<String> = list
            .iter()
            .map(|(k, force)| if *force { format!("!{k}") } else { k.clone() })
            .collect();
        conf.pending.options.insert("delete".into(), text.join(","));
    }
}

fn add_to_pending_delete(conf: &mut PctConf, key: &str) {
    let mut list = pending_deletes(conf);
    if !list.iter().any(|(k, _)| k == key) {
        list.push((key.to_string(), false));
    }
    set_pending_deletes(conf, &list);
}

fn remove_from_pending_delete(conf: &mut PctConf, key: &str) {
    let list: Vec<_> = pending_deletes(conf)
        .into_iter()
        .filter(|(k, _)| k != key)
        .collect();
    set_pending_deletes(conf, &list);
}

/// Sets a value in a section; `description` goes to the `#` lines.
pub fn section_set(section: &mut Section, key: &str, value: &str) -> Result<(), ApiError> {
    section
        .set(key, value)
        .map_err(|e| ApiError::param(key, e.to_string()))
}

fn section_remove(section: &mut Section, key: &str) -> Option<String> {
    section.remove(key)
}

fn is_indexed(key: &str, prefix: &str) -> bool {
    key.strip_prefix(prefix)
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

/// `STORAGE:SIZE_GiB` (or a plain size with the default storage) requests a new volume.
pub fn new_disk_request(volume: &str) -> Option<(Option<String>, f64)> {
    static RE: std::sync::OnceLock<Option<Regex>> = std::sync::OnceLock::new();
    let re = RE
        .get_or_init(|| Regex::new(r"^(?:([^/:\s]+):)?(\d+(?:\.\d+)?)$").ok())
        .as_ref()?;
    let caps = re.captures(volume)?;
    let size = caps.get(2)?.as_str().parse().ok()?;
    Some((caps.get(1).map(|m| m.as_str().to_string()), size))
}

/// Prints a parsed property string as `print_property_string` does: default key first,
/// then required keys, then the rest, each group sorted.
pub fn print_property_string(format: &Value, values: &BTreeMap<String, String>) -> String {
    let empty = serde_json::Map::new();
    let format = format.as_object().unwrap_or(&empty);
    let default_key = format
        .iter()
        .find(|(_, s)| s.get("default_key").is_some())
        .map(|(k, _)| k.clone());
    let optional = |k: &str| {
        format
            .get(k)
            .and_then(|s| s.get("optional"))
            .is_some_and(|o| o != &Value::from(0))
    };
    let mut order: Vec<&String> = Vec::new();
    if let Some(d) = &default_key {
        if let Some((k, _)) = values.get_key_value(d) {
            order.push(k);
        }
    }
    for k in values
        .keys()
        .filter(|k| !optional(k) && Some(*k) != default_key.as_ref())
    {
        order.push(k);
    }
    for k in values
        .keys()
        .filter(|k| optional(k) && Some(*k) != default_key.as_ref())
    {
        order.push(k);
    }
    order
        .into_iter()
        .map(|k| {
            if Some(k) == default_key.as_ref() {
                values[k].clone()
            } else {
                format!("{k}={}", values[k])
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn format_of(key: &str) -> Option<Value> {
    ApiSchema::get()
        .param_schema("/nodes/{node}/lxc", "POST", key)
        .and_then(|s| s.get("format"))
        .cloned()
}

/// A random unicast MAC with Proxmox's default prefix `BC:24:11` (datacenter `mac_prefix`).
pub fn random_mac() -> String {
    let bytes = crate::auth::random_hex(3).to_uppercase();
    format!(
        "BC:24:11:{}:{}:{}",
        &bytes[0..2],
        &bytes[2..4],
        &bytes[4..6]
    )
}

/// `parse_lxc_network` + `print_lxc_network`: fills in `hwaddr` and `type=veth`.
pub fn normalize_net(key: &str, raw: &str) -> Result<String, String> {
    let format = format_of(key).ok_or("no schema for net")?;
    let mut values = parse_property_string(&format, raw, key)?;
    values.entry("hwaddr".into()).or_insert_with(random_mac);
    values.entry("type".into()).or_insert_with(|| "veth".into());
    Ok(print_property_string(&format, &values))
}

/// `get_unique_tags`: split, de-duplicated and sorted, joined with `;`.
pub fn normalize_tags(raw: &str) -> String {
    let mut tags: Vec<String> = crate::schema::split_list(raw);
    tags.sort_by_key(|t| t.to_lowercase());
    tags.dedup();
    tags.join(";")
}

/// Allocates a new directory volume on `local`; returns its volume id and `size=` text.
pub fn alloc_volume(
    paths: &NodePaths,
    vmid: u32,
    storage: &str,
    size_gib: f64,
) -> Result<(String, String), String> {
    if storage != volumes::STORAGE {
        return Err(format!("storage '{storage}' does not exist"));
    }
    let volid = volumes::allocate(paths, vmid, size_gib).map_err(|e| e.to_string())?;
    Ok((volid, volumes::size_text(size_gib)))
}

/// Frees a volume owned by this CT (`local:<vmid>/...`); other volumes are left alone.
pub fn free_volume(paths: &NodePaths, vmid: u32, volid: &str) -> Result<(), String> {
    if !volid.starts_with(&format!("local:{vmid}/")) {
        return Ok(());
    }
    let Ok(path) = volumes::image_path(paths, volid) else {
        return Ok(());
    };
    match std::fs::remove_dir_all(&path).or_else(|_| std::fs::remove_file(&path)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Replaces a `STORAGE:SIZE` request in a mount point string with a freshly allocated
/// volume; other values are returned unchanged.
pub fn allocate_mountpoint(
    paths: &NodePaths,
    vmid: u32,
    key: &str,
    raw: &str,
    default_storage: &str,
) -> Result<String, String> {
    let format = format_of(key).ok_or("no schema for mount point")?;
    let mut values = parse_property_string(&format, raw, key)?;
    let volume = values.get("volume").cloned().unwrap_or_default();
    let Some((storage, size)) = new_disk_request(&volume) else {
        return Ok(raw.to_string());
    };
    let storage = storage.unwrap_or_else(|| default_storage.to_string());
    let (volid, size) = alloc_volume(paths, vmid, &storage, size)?;
    values.insert("volume".into(), volid);
    values.insert("size".into(), size);
    Ok(print_property_string(&format, &values))
}

fn add_unused_volume(conf: &mut PctConf, volid: &str) {
    let taken: Vec<u32> = conf
        .main
        .indexed("unused")
        .iter()
        .map(|(i, _)| *i)
        .collect();
    if conf.main.indexed("unused").iter().any(|(_, v)| *v == volid) {
        return;
    }
    if let Some(free) = (0..256).find(|i| !taken.contains(i)) {
        conf.main
            .options
            .insert(format!("unused{free}"), volid.to_string());
    }
}

fn volume_of(key: &str, raw: &str) -> Option<(MountKind, String)> {
    MountPoint::parse(key, raw)
        .ok()
        .map(|mp| (mp.kind, mp.volume))
}

/// `cleanup_pending`: drops pending values equal to the current ones and pending deletes
/// of keys that are not set.
fn cleanup_pending(conf: &mut PctConf) {
    let same: Vec<String> = conf
        .pending
        .options
        .iter()
        .filter(|(k, v)| *k != "delete" && conf.main.get(k) == Some(v.as_str()))
        .map(|(k, _)| k.clone())
        .collect();
    for key in same {
        conf.pending.options.remove(&key);
    }
    if conf.pending.description.is_some() && conf.pending.description == conf.main.description {
        conf.pending.description = None;
    }
    let deletes: Vec<_> = pending_deletes(conf)
        .into_iter()
        .filter(|(k, _)| section_get(&conf.main, k).is_some())
        .collect();
    set_pending_deletes(conf, &deletes);
}

/// `vmconfig_apply_pending` for a stopped CT, limited to `selection` if given.
pub fn apply_pending(
    app: &App,
    vmid: u32,
    conf: &mut PctConf,
    selection: Option<&[String]>,
    errors: &mut Errors,
) {
    let selected = |k: &str| selection.is_none_or(|s| s.iter().any(|x| x == k));
    for (key, _) in pending_deletes(conf) {
        if !selected(&key) {
            continue;
        }
        let result = (|| -> Result<(), String> {
            if is_indexed(&key, "mp") {
                if let Some(raw) = conf.main.get(&key).map(str::to_string) {
                    if let Some((MountKind::Volume, volid)) = volume_of(&key, &raw) {
                        add_unused_volume(conf, &volid);
                    }
                }
            } else if is_indexed(&key, "unused") {
                if let Some(volid) = conf.main.get(&key).map(str::to_string) {
                    free_volume(&app.paths, vmid, &volid)?;
                }
            }
            Ok(())
        })();
        match result {
            Ok(()) => {
                section_remove(&mut conf.main, &key);
                remove_from_pending_delete(conf, &key);
            }
            Err(e) => {
                errors.insert(
                    key.clone(),
                    format!("unable to apply pending change {key} : {e}"),
                );
            }
        }
    }
    cleanup_pending(conf);
    let mut keys: Vec<String> = conf
        .pending
        .options
        .keys()
        .filter(|k| *k != "delete")
        .cloned()
        .collect();
    if conf.pending.description.is_some() {
        keys.push("description".into());
    }
    keys.sort();
    for key in keys {
        if !selected(&key) {
            continue;
        }
        let Some(value) = section_get(&conf.pending, &key) else {
            continue;
        };
        let result = (|| -> Result<String, String> {
            if is_indexed(&key, "mp") || key == "rootfs" {
                let value = allocate_mountpoint(&app.paths, vmid, &key, &value, "local")?;
                if let (Some(old), Some((_, new_vol))) =
                    (conf.main.get(&key), volume_of(&key, &value))
                {
                    if let Some((MountKind::Volume, old_vol)) = volume_of(&key, old) {
                        if old_vol != new_vol {
                            add_unused_volume(conf, &old_vol);
                        }
                    }
                }
                Ok(value)
            } else if is_indexed(&key, "net") {
                normalize_net(&key, &value)
            } else {
                Ok(value)
            }
        })();
        match result {
            Ok(value) => {
                section_remove(&mut conf.pending, &key);
                if section_set(&mut conf.main, &key, &value).is_err() {
                    conf.main.options.insert(key.clone(), value);
                }
            }
            Err(e) => {
                errors.insert(
                    key.clone(),
                    format!("unable to apply pending change {key} : {e}"),
                );
            }
        }
    }
}

/// `vmconfig_hotplug_pending` for a running CT, limited to `selection`.
pub fn hotplug_pending(
    app: &App,
    vmid: u32,
    conf: &mut PctConf,
    selection: &[String],
    errors: &mut Errors,
) {
    let selected = |k: &str| selection.iter().any(|x| x == k);
    let hotplug_error = |errors: &mut Errors, key: &str, msg: &str| {
        errors.insert(
            key.to_string(),
            format!("unable to hotplug {key}: {}", msg.trim_end()),
        );
    };
    // Fast-plug options are simply moved over.
    for key in FASTPLUG {
        if !selected(key) {
            continue;
        }
        if let Some(value) = section_get(&conf.pending, key) {
            section_remove(&mut conf.pending, key);
            let _ = section_set(&mut conf.main, key, &value);
        }
    }
    for (key, _) in pending_deletes(conf) {
        if !selected(&key) {
            continue;
        }
        let outcome: Result<(), Option<String>> = if FASTPLUG.contains(&key.as_str()) {
            Ok(())
        } else if is_indexed(&key, "unused") {
            let volid = conf.main.get(&key).unwrap_or_default().to_string();
            free_volume(&app.paths, vmid, &volid).map_err(Some)
        } else if matches!(key.as_str(), "swap" | "cpulimit" | "cpuunits")
            || is_indexed(&key, "net")
        {
            match app.executor.hotplug(vmid, conf, &key, "") {
                Ok(Hotplug::Applied) => Ok(()),
                Ok(Hotplug::Deferred) => Err(None),
                Err(msg) => Err(Some(msg)),
            }
        } else {
            Err(None) // not hot-pluggable: stays pending
        };
        match outcome {
            Ok(()) => {
                section_remove(&mut conf.main, &key);
                remove_from_pending_delete(conf, &key);
            }
            Err(Some(msg)) => hotplug_error(errors, &key, &msg),
            Err(None) => {}
        }
    }
    let keys: Vec<String> = conf
        .pending
        .options
        .keys()
        .filter(|k| *k != "delete")
        .cloned()
        .collect();
    for key in keys {
        if !selected(&key) {
            continue;
        }
        let Some(value) = conf.pending.get(&key).map(str::to_string) else {
            continue;
        };
        let hot = matches!(key.as_str(), "cpulimit" | "cpuunits" | "memory" | "swap")
            || is_indexed(&key, "net")
            // Never hot-plug over an existing mount point or device.
            || ((is_indexed(&key, "mp") || is_indexed(&key, "dev")) && conf.main.get(&key).is_none());
        if !hot {
            continue;
        }
        let prepared = if is_indexed(&key, "net") {
            normalize_net(&key, &value)
        } else if is_indexed(&key, "mp") {
            allocate_mountpoint(&app.paths, vmid, &key, &value, "local")
        } else {
            Ok(value.clone())
        };
        let prepared = match prepared {
            Ok(v) => v,
            Err(msg) => {
                hotplug_error(errors, &key, &msg);
                continue;
            }
        };
        match app.executor.hotplug(vmid, conf, &key, &prepared) {
            Ok(Hotplug::Applied) => {
                conf.pending.options.remove(&key);
                conf.main.options.insert(key.clone(), prepared);
            }
            Ok(Hotplug::Deferred) => {
                // Keep what was prepared (e.g. an allocated volume) for the next start.
                conf.pending.options.insert(key.clone(), prepared);
            }
            Err(msg) => hotplug_error(errors, &key, &msg),
        }
    }
}

/// Checks the `protection` flag (`check_protection`).
fn check_protection(conf: &PctConf, message: &str) -> Result<(), ApiError> {
    if conf.main.get("protection") == Some("1") {
        Err(ApiError::internal(format!(
            "{message} - protection mode enabled\n"
        )))
    } else {
        Ok(())
    }
}

/// Validates a device path the way `get_device_mode_and_rdev` does.
fn check_device(path: &str) -> Result<(), ApiError> {
    use std::os::unix::fs::FileTypeExt;
    match std::fs::metadata(path) {
        Ok(meta) if meta.file_type().is_char_device() || meta.file_type().is_block_device() => {
            Ok(())
        }
        Ok(_) => Err(ApiError::internal(format!("Path {path} is not a device\n"))),
        Err(_) => Err(ApiError::internal(format!("Path {path} does not exist\n"))),
    }
}

/// `update_pct_config`: records `changes`, `delete` and `revert` and applies or hot-plugs
/// them; returns per-key errors (raised by the caller after writing the config).
pub fn update_pct_config(
    app: &App,
    vmid: u32,
    conf: &mut PctConf,
    running: bool,
    changes: &BTreeMap<String, String>,
    delete: &[String],
    revert: &[String],
) -> Result<Errors, ApiError> {
    for key in revert {
        section_remove(&mut conf.pending, key);
        remove_from_pending_delete(conf, key);
    }
    let mut modified: Vec<String> = Vec::new();
    for key in delete {
        if section_get(&conf.main, key).is_none() && section_get(&conf.pending, key).is_none() {
            tracing::warn!("cannot delete '{key}' - not set in current configuration!");
            continue;
        }
        modified.push(key.clone());
        match key.as_str() {
            "memory" | "rootfs" | "ostype" => {
                return Err(ApiError::internal(format!(
                    "unable to delete required option '{key}'\n"
                )))
            }
            "unprivileged" => {
                return Err(ApiError::internal(format!(
                    "unable to delete read-only option: '{key}'\n"
                )))
            }
            k if is_indexed(k, "mp") || is_indexed(k, "unused") => {
                check_protection(conf, &format!("can't remove CT {vmid} drive '{key}'"))?
            }
            _ => {}
        }
        section_remove(&mut conf.pending, key);
        add_to_pending_delete(conf, key);
    }
    for (key, value) in changes {
        modified.push(key.clone());
        let value = match key.as_str() {
            "unprivileged" => {
                return Err(ApiError::internal(format!(
                    "unable to modify read-only option: '{key}'\n"
                )))
            }
            "tags" => normalize_tags(value),
            "nameserver" | "searchdomain" => crate::schema::split_list(value).join(" "),
            k if is_indexed(k, "mp") || k == "rootfs" => {
                check_protection(conf, &format!("can't update CT {vmid} drive '{key}'"))?;
                value.clone()
            }
            k if is_indexed(k, "dev") => {
                let path = value
                    .split(',')
                    .find_map(|p| p.strip_prefix("path=").or((!p.contains('=')).then_some(p)))
                    .ok_or_else(|| {
                        ApiError::internal(format!(
                            "Path is not defined for passthrough device {key}\n"
                        ))
                    })?;
                check_device(path)?;
                value.clone()
            }
            _ => value.clone(),
        };
        section_set(&mut conf.pending, key, &value)?;
        remove_from_pending_delete(conf, key);
    }
    cleanup_pending(conf);
    let mut errors = Errors::new();
    if running {
        hotplug_pending(app, vmid, conf, &modified, &mut errors);
    } else {
        apply_pending(app, vmid, conf, Some(&modified), &mut errors);
    }
    Ok(errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn net_gets_mac_and_type_in_pve_order() {
        let net = normalize_net("net0", "bridge=vmbr0,name=eth0,ip=dhcp").expect("valid");
        let re = Regex::new(r"^name=eth0,bridge=vmbr0,hwaddr=BC:24:11:[0-9A-F]{2}:[0-9A-F]{2}:[0-9A-F]{2},ip=dhcp,type=veth$")
            .expect("regex");
        assert!(re.is_match(&net), "{net}");
    }

    #[test]
    fn tags_are_unique_and_sorted() {
        assert_eq!(normalize_tags("media;Beta,alpha media"), "alpha;Beta;media");
    }

    #[test]
    fn new_disk_requests() {
        assert_eq!(
            new_disk_request("local:8"),
            Some((Some("local".into()), 8.0))
        );
        assert_eq!(new_disk_request("4"), Some((None, 4.0)));
        assert_eq!(new_disk_request("local:100/vm-100-disk-0.raw"), None);
        assert_eq!(new_disk_request("/srv/media"), None);
    }
}
