//! `GET|PUT /nodes/{node}/lxc/{vmid}/config` and `GET …/pending`.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Value};

use super::{conf_value_json, load, modify, section_get, section_json, section_keys};
use crate::app::App;
use crate::error::ApiError;
use crate::pending::{pending_deletes, update_pct_config};
use crate::perms::check_ct_modify_config_perm;
use crate::router::{Ctx, Reply};
use crate::schema::{split_indexed_key, split_list};

/// `load_current_config`: the config with pending changes merged in (unless `current`),
/// or a snapshot; always with the file's `digest`.
pub fn get(app: &Arc<App>, ctx: &Ctx) -> Result<Reply, ApiError> {
    app.check_node(&ctx.node())?;
    let vmid = ctx.vmid()?;
    let current = ctx.flag("current");
    let snapshot = ctx.text("snapshot");
    if snapshot.is_some() && current {
        let msg = "cannot use 'snapshot' parameter with 'current'";
        let mut errors = BTreeMap::new();
        errors.insert("snapshot".to_string(), msg.to_string());
        errors.insert("current".to_string(), msg.to_string());
        return Err(ApiError::params(errors));
    }
    let loaded = load(app, vmid)?;
    let conf = loaded.conf;
    let mut out = if let Some(name) = snapshot {
        let section = conf
            .snapshots
            .get(&name)
            .ok_or_else(|| ApiError::internal(format!("snapshot '{name}' does not exist\n")))?;
        section_json(section)
    } else {
        let mut main = conf.main.clone();
        if !current {
            for key in section_keys(&conf.pending) {
                if key == "delete" {
                    continue;
                }
                if let Some(value) = section_get(&conf.pending, &key) {
                    if key == "description" {
                        main.description = Some(value);
                    } else {
                        main.options.insert(key, value);
                    }
                }
            }
            for (key, _) in pending_deletes(&conf) {
                main.remove(&key);
            }
        }
        section_json(&main)
    };
    out.insert("digest".into(), json!(loaded.digest));
    Ok(Value::Object(out).into())
}

/// `GET …/pending`: every key with its current value, pending value and delete mark.
pub fn pending(app: &Arc<App>, ctx: &Ctx) -> Result<Reply, ApiError> {
    app.check_node(&ctx.node())?;
    let vmid = ctx.vmid()?;
    let loaded = load(app, vmid)?;
    let conf = &loaded.conf;
    let deletes: BTreeMap<String, bool> = pending_deletes(conf).into_iter().collect();
    let mut out = Vec::new();
    let mut main_keys = section_keys(&conf.main);
    main_keys.push("digest".into());
    for key in &main_keys {
        let value = if key == "digest" {
            Some(loaded.digest.clone())
        } else {
            section_get(&conf.main, key)
        };
        let mut item = json!({"key": key});
        if let Some(v) = value {
            item["value"] = conf_value_json(key, &v);
        }
        if let Some(p) = section_get(&conf.pending, key) {
            item["pending"] = conf_value_json(key, &p);
        }
        if let Some(force) = deletes.get(key) {
            item["delete"] = json!(if *force { 2 } else { 1 });
        }
        out.push(item);
    }
    for key in section_keys(&conf.pending) {
        if key == "delete" || main_keys.contains(&key) {
            continue;
        }
        if let Some(p) = section_get(&conf.pending, &key) {
            out.push(json!({"key": key, "pending": conf_value_json(&key, &p)}));
        }
    }
    for (key, force) in &deletes {
        if section_get(&conf.pending, key).is_none() && !main_keys.contains(key) {
            out.push(json!({"key": key, "delete": if *force { 2 } else { 1 }}));
        }
    }
    Ok(Value::Array(out).into())
}

/// Parameters of create/PUT that are not config keys.
const NON_CONFIG: &[&str] = &[
    "node",
    "vmid",
    "digest",
    "delete",
    "revert",
    "ostemplate",
    "password",
    "ssh-public-keys",
    "storage",
    "force",
    "restore",
    "unique",
    "pool",
    "ignore-unpack-errors",
    "bwlimit",
    "start",
    "ha-managed",
];

/// The config keys of a request as strings (JSON booleans as 1/0).
pub fn config_changes(ctx: &Ctx) -> BTreeMap<String, String> {
    ctx.params
        .keys()
        .filter(|k| !NON_CONFIG.contains(&k.as_str()))
        .filter_map(|k| ctx.text(k).map(|v| (k.clone(), v)))
        .collect()
}

fn option_exists(key: &str) -> bool {
    pve_testhost_runtime::conf::keys::key_type(key).is_some() || split_indexed_key(key).is_some()
}

/// `update_vm`: synchronous, returns `null`; per-key hot-plug errors become a 400 after
/// the config is written, as in pve-container.
pub fn put(app: &Arc<App>, ctx: &Ctx) -> Result<Reply, ApiError> {
    app.check_node(&ctx.node())?;
    let vmid = ctx.vmid()?;
    let caller = ctx.caller()?.clone();
    let digest = ctx.text("digest");
    let changes = config_changes(ctx);
    let delete = ctx
        .text("delete")
        .map(|d| split_list(&d))
        .unwrap_or_default();
    let revert = ctx
        .text("revert")
        .map(|d| split_list(&d))
        .unwrap_or_default();
    if changes.is_empty() && delete.is_empty() && revert.is_empty() {
        return Err(ApiError::internal("no options specified\n"));
    }
    for opt in &delete {
        if changes.contains_key(opt) {
            return Err(ApiError::param(
                "delete",
                format!("you can't use '-{opt}' and -delete {opt}' at the same time"),
            ));
        }
        if opt != "description" && !option_exists(opt) {
            return Err(ApiError::param("delete", format!("unknown option '{opt}'")));
        }
    }
    for opt in &revert {
        if opt != "description" && !option_exists(opt) {
            return Err(ApiError::param("revert", format!("unknown option '{opt}'")));
        }
        if changes.contains_key(opt) {
            return Err(ApiError::param(
                "revert",
                format!("you can't use '-{opt}' and '-revert {opt}' at the same time"),
            ));
        }
    }
    let running = app.executor.state(vmid).is_running();
    let errors = modify(app, vmid, true, digest.as_deref(), |conf| {
        let unprivileged = conf.main.is_unprivileged();
        let mut touched = delete.clone();
        touched.extend(revert.iter().cloned());
        check_ct_modify_config_perm(&caller, Some(&conf.main), &changes, &touched, unprivileged)?;
        update_pct_config(app, vmid, conf, running, &changes, &delete, &revert)
    })?;
    if !errors.is_empty() {
        return Err(ApiError::params(errors));
    }
    Ok(Value::Null.into())
}
