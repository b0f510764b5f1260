//! `POST /nodes/{node}/lxc` (`create_vm` without restore): checks synchronously, writes
//! the config with `lock: create`, then allocates volumes and unpacks the template in a
//! `vzcreate` task. A failed task removes everything it created.

use std::sync::Arc;

use pve_testhost_runtime::conf::PctConf;
use pve_testhost_runtime::store::StoreError;
use serde_json::json;

use super::config::config_changes;
use crate::app::{store_error, App};
use crate::error::ApiError;
use crate::pending::{new_disk_request, normalize_net, normalize_tags, section_set};
use crate::perms::check_ct_modify_config_perm;
use crate::router::{Ctx, Reply};
use crate::schema::split_list;

/// `ostype` pve-container's setup detects from a template name.
fn ostype_of(template: &str) -> &'static str {
    let name = template.rsplit('/').next().unwrap_or(template);
    for os in [
        "debian",
        "ubuntu",
        "alpine",
        "centos",
        "fedora",
        "archlinux",
        "devuan",
        "opensuse",
        "gentoo",
        "nixos",
    ] {
        if name.starts_with(os) {
            return os;
        }
    }
    "unmanaged"
}

pub fn create(app: &Arc<App>, ctx: &Ctx) -> Result<Reply, ApiError> {
    app.check_node(&ctx.node())?;
    let vmid = ctx.vmid()?;
    let caller = ctx.caller()?.clone();
    if ctx.flag("restore") {
        return Err(ApiError::with_status(
            501,
            "restore is not supported by pve-testhost\n",
        ));
    }
    if ctx.text("pool").is_some() {
        return Err(ApiError::internal(format!(
            "pool '{}' does not exist\n",
            ctx.text("pool").unwrap_or_default()
        )));
    }
    if let Some(node) = app.store.locate(vmid) {
        return Err(ApiError::internal(format!(
            "CT {vmid} already exists on node '{node}'\n"
        )));
    }
    let storage = ctx.text("storage").unwrap_or_else(|| "local".into());
    let ostemplate = ctx.text("ostemplate").unwrap_or_default();
    let template_path = app
        .volume_path(&ostemplate)
        .filter(|p| ostemplate.starts_with("local:vztmpl/") && p.is_file())
        .ok_or_else(|| ApiError::internal(format!("can't find file '{ostemplate}'\n")))?;

    let mut changes = config_changes(ctx);
    let unprivileged = changes.get("unprivileged").is_none_or(|v| v == "1");
    check_ct_modify_config_perm(&caller, None, &changes, &[], unprivileged)?;

    let has_mp = changes.keys().any(|k| k.starts_with("mp"));
    if has_mp && !changes.contains_key("rootfs") {
        return Err(ApiError::internal(
            "mount points configured, but 'rootfs' not set - aborting\n",
        ));
    }
    // Plain sizes use the `storage` parameter.
    for (key, value) in changes.iter_mut() {
        if key == "rootfs" || key.starts_with("mp") {
            let volume = value.split(',').next().unwrap_or_default().to_string();
            if let Some((None, _)) = new_disk_request(&volume) {
                *value = format!("{storage}:{value}");
            }
        }
    }
    changes
        .entry("rootfs".into())
        .or_insert_with(|| format!("{storage}:4"));
    changes
        .entry("unprivileged".into())
        .or_insert_with(|| "1".into());
    changes
        .entry("hostname".into())
        .or_insert_with(|| format!("CT{vmid}"));
    changes
        .entry("memory".into())
        .or_insert_with(|| "512".into());
    changes.entry("swap".into()).or_insert_with(|| "512".into());
    changes
        .entry("arch".into())
        .or_insert_with(|| "amd64".into());
    changes
        .entry("ostype".into())
        .or_insert_with(|| ostype_of(&ostemplate).into());
    changes.retain(|k, _| !k.starts_with("unused"));

    let mut conf = PctConf::default();
    for (key, value) in &changes {
        let value = if key.starts_with("net") {
            normalize_net(key, value).map_err(|e| ApiError::param(key, e))?
        } else if key == "tags" {
            normalize_tags(value)
        } else if key == "nameserver" || key == "searchdomain" {
            split_list(value).join(" ")
        } else {
            value.clone()
        };
        section_set(&mut conf.main, key, &value)?;
    }
    let mut locked = conf.clone();
    locked.main.options.insert("lock".into(), "create".into());
    app.store.create(vmid, &locked).map_err(|e| match e {
        StoreError::AlreadyExists { vmid, node } => {
            ApiError::internal(format!("CT {vmid} already exists on node '{node}'\n"))
        }
        other => store_error(other),
    })?;

    let start = ctx.flag("start");
    let app2 = app.clone();
    let upid = app.spawn_task(ctx, "vzcreate", &vmid.to_string(), move |log| {
        log.line(format!(
            "creating CT {vmid} from {}",
            template_path.display()
        ));
        let result = log.checkpoint().and_then(|()| {
            app2.executor
                .create(vmid, &conf, &template_path, &storage, log)
        });
        if let Err(err) = result {
            log.line(format!("cleaning up CT {vmid} after failed create"));
            let _ = app2.executor.destroy(vmid, &conf, log);
            let _ = std::fs::remove_dir_all(app2.paths.images_dir(vmid));
            let _ = app2.store.remove(vmid);
            return Err(err);
        }
        log.line(format!("CT {vmid} created"));
        if start {
            let conf = app2.store.read(vmid).map_err(|e| e.to_string())?.conf;
            app2.executor.start(vmid, &conf, log)?;
        }
        Ok(())
    });
    Ok(json!(upid.encode()).into())
}
