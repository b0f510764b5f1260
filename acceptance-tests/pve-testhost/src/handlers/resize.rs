//! `PUT …/resize`: grows `rootfs` or an `mpN` volume, never shrinks (PVE's messages).

use std::sync::Arc;

use pve_testhost_runtime::conf::{MountKind, MountPoint};
use serde_json::json;

use super::{load, modify, mount_size};
use crate::app::{store_error, App};
use crate::error::ApiError;
use crate::handlers::DIGEST_MISMATCH;
use crate::pending::print_property_string;
use crate::router::{Ctx, Reply};
use crate::schema::{format_size, parse_property_string, parse_size, ApiSchema};

pub fn resize(app: &Arc<App>, ctx: &Ctx) -> Result<Reply, ApiError> {
    app.check_node(&ctx.node())?;
    let vmid = ctx.vmid()?;
    let disk = ctx.text("disk").unwrap_or_default();
    let size_text = ctx.text("size").unwrap_or_default();
    let (grow, number) = match size_text.strip_prefix('+') {
        Some(rest) => (true, rest.to_string()),
        None => (false, size_text.clone()),
    };
    let requested =
        parse_size(&number).ok_or_else(|| ApiError::internal("invalid size string\n"))?;
    let digest = ctx.text("digest");
    let loaded = load(app, vmid)?;
    pve_testhost_runtime::store::check_lock(&loaded.conf).map_err(store_error)?;
    if let Some(expected) = &digest {
        if !expected.eq_ignore_ascii_case(&loaded.digest) {
            return Err(ApiError::internal(DIGEST_MISMATCH));
        }
    }
    let raw = loaded
        .conf
        .main
        .get(&disk)
        .ok_or_else(|| ApiError::internal(format!("disk '{disk}' does not exist\n")))?
        .to_string();
    let mp = MountPoint::parse(&disk, &raw).map_err(|e| ApiError::internal(format!("{e}\n")))?;
    if mp.kind != MountKind::Volume {
        return Err(ApiError::internal(format!(
            "unable to resize mount point '{disk}' - not a volume\n"
        )));
    }
    let owner = mp
        .volume
        .strip_prefix("local:")
        .and_then(|r| r.split('/').next())
        .unwrap_or("");
    if owner != vmid.to_string() {
        return Err(ApiError::internal(format!(
            "can't resize mount point owned by another container ({owner})\n"
        )));
    }
    let current = mount_size(&raw);
    let new_size = if grow { current + requested } else { requested };
    if new_size < current {
        return Err(ApiError::internal("unable to shrink disk size\n"));
    }
    if new_size == current {
        return Err(ApiError::internal("disk is already at specified size\n"));
    }
    let app2 = app.clone();
    let upid = app.spawn_task(ctx, "resize", &vmid.to_string(), move |log| {
        log.line(format!("resizing {disk} to {}", format_size(new_size)));
        log.checkpoint()?;
        modify(&app2, vmid, true, None, |conf| {
            let raw = conf.main.get(&disk).unwrap_or_default().to_string();
            let format = ApiSchema::get()
                .param_schema("/nodes/{node}/lxc", "POST", &disk)
                .and_then(|s| s.get("format"))
                .cloned()
                .unwrap_or_default();
            let mut values =
                parse_property_string(&format, &raw, &disk).map_err(ApiError::internal)?;
            values.insert("size".into(), format_size(new_size));
            conf.main
                .options
                .insert(disk.clone(), print_property_string(&format, &values));
            Ok(())
        })
        .map_err(|e| e.message.trim_end().to_string())
    });
    Ok(json!(upid.encode()).into())
}
