//! `GET /nodes/{node}/lxc`, `…/lxc/{vmid}`, `…/status/current`, `…/interfaces`.

use std::sync::Arc;

use serde_json::{json, Value};

use super::cluster::ct_entry;
use super::load;
use crate::app::{store_error, App};
use crate::error::ApiError;
use crate::router::{Ctx, Reply};

pub fn list(app: &Arc<App>, ctx: &Ctx) -> Result<Reply, ApiError> {
    app.check_node(&ctx.node())?;
    let ids = app.store.list().map_err(store_error)?;
    let items: Vec<Value> = ids
        .into_iter()
        .filter_map(|vmid| ct_entry(app, vmid))
        .collect();
    Ok(Value::Array(items).into())
}

pub fn index(app: &Arc<App>, ctx: &Ctx) -> Result<Reply, ApiError> {
    app.check_node(&ctx.node())?;
    load(app, ctx.vmid()?)?;
    let subdirs = [
        "config",
        "pending",
        "status",
        "vncproxy",
        "termproxy",
        "vncwebsocket",
        "spiceproxy",
        "migrate",
        "clone",
        "rrd",
        "rrddata",
        "firewall",
        "snapshot",
        "resize",
        "interfaces",
    ];
    Ok(Value::Array(subdirs.iter().map(|s| json!({ "subdir": s })).collect()).into())
}

pub fn status_current(app: &Arc<App>, ctx: &Ctx) -> Result<Reply, ApiError> {
    app.check_node(&ctx.node())?;
    let vmid = ctx.vmid()?;
    load(app, vmid)?;
    let mut entry = ct_entry(app, vmid).ok_or_else(|| {
        ApiError::internal(format!(
            "Configuration file 'nodes/{}/lxc/{vmid}.conf' does not exist\n",
            app.node
        ))
    })?;
    if let Some(obj) = entry.as_object_mut() {
        obj.remove("id");
        obj.remove("node");
        obj.insert("ha".into(), json!({"managed": 0}));
    }
    Ok(entry.into())
}

pub fn interfaces(app: &Arc<App>, ctx: &Ctx) -> Result<Reply, ApiError> {
    app.check_node(&ctx.node())?;
    let vmid = ctx.vmid()?;
    let conf = load(app, vmid)?.conf;
    if !app.executor.state(vmid).is_running() {
        return Err(ApiError::internal(format!("CT {vmid} not running\n")));
    }
    let list = app
        .executor
        .interfaces(vmid, &conf)
        .map_err(|e| ApiError::internal(format!("{e}\n")))?;
    Ok(Value::Array(list).into())
}
