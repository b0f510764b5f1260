//! `/version`, `/nodes`, `/nodes/{node}/status`, `/cluster/nextid`, `/cluster/resources`.

use std::sync::Arc;

use serde_json::{json, Value};

use super::{load, mount_size};
use crate::app::{unix_now, App};
use crate::error::ApiError;
use crate::router::{Ctx, Reply};

/// The PVE release the test host imitates (the schema is from pve-docs 9.1.3).
pub const PVE_VERSION: &str = "9.1.2";
pub const PVE_RELEASE: &str = "9.1";

pub fn version(_app: &Arc<App>, _ctx: &Ctx) -> Result<Reply, ApiError> {
    Ok(json!({"version": PVE_VERSION, "release": PVE_RELEASE, "repoid": "pvetesthost", "console": "xtermjs"}).into())
}

fn meminfo() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0)
            * 1024
    };
    let total = field("MemTotal:");
    (total, total.saturating_sub(field("MemAvailable:")))
}

fn cpus() -> u64 {
    std::thread::available_parallelism()
        .map(|n| n.get() as u64)
        .unwrap_or(1)
}

fn node_entry(app: &App) -> Value {
    let (maxmem, mem) = meminfo();
    json!({
        "node": app.node, "id": format!("node/{}", app.node), "type": "node", "status": "online",
        "level": "", "uptime": unix_now().saturating_sub(app.started), "cpu": 0, "maxcpu": cpus(),
        "mem": mem, "maxmem": maxmem, "ssl_fingerprint": app.ssl_fingerprint,
    })
}

pub fn nodes(app: &Arc<App>, _ctx: &Ctx) -> Result<Reply, ApiError> {
    Ok(json!([node_entry(app)]).into())
}

pub fn node_status(app: &Arc<App>, ctx: &Ctx) -> Result<Reply, ApiError> {
    app.check_node(&ctx.node())?;
    let (total, used) = meminfo();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let loadavg: Vec<&str> = load.split_whitespace().take(3).collect();
    Ok(json!({
        "uptime": unix_now().saturating_sub(app.started),
        "cpu": 0, "wait": 0, "loadavg": loadavg,
        "cpuinfo": {"cpus": cpus(), "sockets": 1, "cores": cpus(), "model": "pve-testhost"},
        "memory": {"total": total, "used": used, "free": total.saturating_sub(used)},
        "swap": {"total": 0, "used": 0, "free": 0},
        "kversion": format!("Linux {}", kernel.trim()),
        "pveversion": format!("pve-manager/{PVE_VERSION}/pvetesthost"),
        "current-kernel": {"release": kernel.trim(), "sysname": "Linux"},
        "boot-info": {"mode": "efi"},
    })
    .into())
}

/// `GET /cluster/nextid`: the lowest free id from 100, or checks a requested one.
pub fn nextid(app: &Arc<App>, ctx: &Ctx) -> Result<Reply, ApiError> {
    if let Some(vmid) = ctx.text("vmid") {
        let id: u32 = vmid.parse().unwrap_or(0);
        if app.store.locate(id).is_some() {
            return Err(ApiError::param("vmid", format!("VM {vmid} already exists")));
        }
        return Ok(json!(vmid).into());
    }
    let used = app.store.list().map_err(crate::app::store_error)?;
    let free = (100u32..1_000_000)
        .find(|id| !used.contains(id) && app.store.locate(*id).is_none())
        .ok_or_else(|| {
            ApiError::internal("unable to get any free VMID in range [100, 1000000]\n")
        })?;
    Ok(json!(free.to_string()).into())
}

/// One CT as `/cluster/resources` and `/nodes/{node}/lxc` list it.
pub fn ct_entry(app: &App, vmid: u32) -> Option<Value> {
    let loaded = load(app, vmid).ok()?;
    let main = &loaded.conf.main;
    let state = app.executor.state(vmid);
    let usage = if state.is_running() {
        app.executor.usage(vmid)
    } else {
        Default::default()
    };
    let memory: u64 = main
        .get("memory")
        .and_then(|m| m.parse().ok())
        .unwrap_or(512);
    let swap: u64 = main.get("swap").and_then(|m| m.parse().ok()).unwrap_or(512);
    let uptime = match state {
        crate::executor::RunState::Running { since, .. } => unix_now().saturating_sub(since),
        crate::executor::RunState::Stopped => 0,
    };
    let mut entry = json!({
        "vmid": vmid, "id": format!("lxc/{vmid}"), "type": "lxc", "node": app.node,
        "name": main.get("hostname").map(str::to_string).unwrap_or_else(|| format!("CT{vmid}")),
        "status": if state.is_running() { "running" } else { "stopped" },
        "uptime": uptime, "cpu": 0,
        "cpus": main.get("cores").and_then(|c| c.parse::<u64>().ok()).unwrap_or_else(cpus),
        "maxcpu": main.get("cores").and_then(|c| c.parse::<u64>().ok()).unwrap_or_else(cpus),
        "mem": usage.mem, "maxmem": memory * 1024 * 1024,
        "swap": usage.swap, "maxswap": swap * 1024 * 1024,
        "disk": usage.disk, "maxdisk": main.get("rootfs").map(mount_size).unwrap_or(0),
        "netin": usage.netin, "netout": usage.netout, "diskread": 0, "diskwrite": 0,
        "template": if main.get("template") == Some("1") { 1 } else { 0 },
    });
    if let Some(lock) = main.get("lock") {
        entry["lock"] = json!(lock);
    }
    if let Some(tags) = main.get("tags") {
        entry["tags"] = json!(tags);
    }
    Some(entry)
}

pub fn resources(app: &Arc<App>, ctx: &Ctx) -> Result<Reply, ApiError> {
    let kind = ctx.text("type");
    let mut out = Vec::new();
    if kind.as_deref().is_none_or(|k| k == "vm") {
        for vmid in app.store.list().map_err(crate::app::store_error)? {
            out.extend(ct_entry(app, vmid));
        }
    }
    if kind.as_deref().is_none_or(|k| k == "node") {
        out.push(node_entry(app));
    }
    if kind.as_deref().is_none_or(|k| k == "storage") {
        out.push(json!({
            "id": format!("storage/{}/local", app.node), "type": "storage", "storage": "local",
            "node": app.node, "status": "available", "plugintype": "dir", "shared": 0,
            "content": super::storage::LOCAL_CONTENT,
        }));
    }
    Ok(Value::Array(out).into())
}
