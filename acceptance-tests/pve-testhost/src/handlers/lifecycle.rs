//! `POST …/status/start|stop|shutdown|reboot` and `DELETE /nodes/{node}/lxc/{vmid}`.

use std::sync::Arc;
use std::time::Duration;

use pve_testhost_runtime::conf::{MountKind, MountPoint, PctConf};
use serde_json::json;

use super::{load, modify};
use crate::app::{store_error, App};
use crate::error::ApiError;
use crate::pending::{apply_pending, free_volume, Errors};
use crate::router::{Ctx, Reply};

fn check_skiplock(ctx: &Ctx) -> Result<bool, ApiError> {
    let skiplock = ctx.flag("skiplock");
    if skiplock && !ctx.caller()?.is_root_pam() {
        return Err(ApiError::param(
            "skiplock",
            "Only root may use this option.",
        ));
    }
    Ok(skiplock)
}

fn not_running(vmid: u32) -> ApiError {
    ApiError::internal(format!("CT {vmid} not running\n"))
}

/// Whether `skiplock` may bypass the config lock (start and stop allow it, as on PVE).
#[derive(Clone, Copy)]
enum Skiplock {
    Allowed,
    Refused,
}

/// The prelude every lifecycle call shares: this node, an existing CT and, unless root
/// passed `skiplock` where PVE accepts it, no config lock. Returns the vmid and config.
fn unlocked_ct(app: &App, ctx: &Ctx, skiplock: Skiplock) -> Result<(u32, PctConf), ApiError> {
    app.check_node(&ctx.node())?;
    let vmid = ctx.vmid()?;
    let skip = matches!(skiplock, Skiplock::Allowed) && check_skiplock(ctx)?;
    let conf = load(app, vmid)?.conf;
    if !skip {
        pve_testhost_runtime::store::check_lock(&conf).map_err(store_error)?;
    }
    Ok((vmid, conf))
}

/// [`unlocked_ct`] for calls that need the CT running.
fn running_ct(app: &App, ctx: &Ctx, skiplock: Skiplock) -> Result<u32, ApiError> {
    let (vmid, _) = unlocked_ct(app, ctx, skiplock)?;
    if !app.executor.state(vmid).is_running() {
        return Err(not_running(vmid));
    }
    Ok(vmid)
}

/// `timeout` of shutdown and reboot (PVE's default: 60 s).
fn shutdown_timeout(ctx: &Ctx) -> Duration {
    Duration::from_secs(
        ctx.text("timeout")
            .and_then(|t| t.parse().ok())
            .unwrap_or(60),
    )
}

/// Applies all pending changes before a start (as `vm_start` does).
fn apply_all_pending(app: &App, vmid: u32) -> Result<(), String> {
    modify(app, vmid, false, None, |conf| {
        let mut errors = Errors::new();
        apply_pending(app, vmid, conf, None, &mut errors);
        Ok(errors)
    })
    .map_err(|e| e.message.trim_end().to_string())
    .and_then(|errors| match errors.into_iter().next() {
        Some((_, msg)) => Err(msg),
        None => Ok(()),
    })
}

fn start_now(app: &App, vmid: u32, log: &crate::tasks::TaskLog) -> Result<(), String> {
    apply_all_pending(app, vmid)?;
    log.checkpoint()?;
    let conf = app.store.read(vmid).map_err(|e| e.to_string())?.conf;
    app.executor.start(vmid, &conf, log)
}

pub fn start(app: &Arc<App>, ctx: &Ctx) -> Result<Reply, ApiError> {
    let (vmid, _) = unlocked_ct(app, ctx, Skiplock::Allowed)?;
    if app.executor.state(vmid).is_running() {
        return Err(ApiError::internal(format!("CT {vmid} already running\n")));
    }
    let app2 = app.clone();
    let upid = app.spawn_task(ctx, "vzstart", &vmid.to_string(), move |log| {
        start_now(&app2, vmid, log)
    });
    Ok(json!(upid.encode()).into())
}

pub fn stop(app: &Arc<App>, ctx: &Ctx) -> Result<Reply, ApiError> {
    let vmid = running_ct(app, ctx, Skiplock::Allowed)?;
    if !ctx.flag("overrule-shutdown") && app.tasks.running("vzshutdown", &vmid.to_string()) {
        return Err(ApiError::internal(format!(
            "CT {vmid} is currently shutting down, use 'overrule-shutdown' to stop it\n"
        )));
    }
    let app2 = app.clone();
    let upid = app.spawn_task(ctx, "vzstop", &vmid.to_string(), move |log| {
        app2.executor.stop(vmid, log)
    });
    Ok(json!(upid.encode()).into())
}

pub fn shutdown(app: &Arc<App>, ctx: &Ctx) -> Result<Reply, ApiError> {
    let vmid = running_ct(app, ctx, Skiplock::Refused)?;
    let timeout = shutdown_timeout(ctx);
    let force = ctx.flag("forceStop");
    let app2 = app.clone();
    let upid = app.spawn_task(ctx, "vzshutdown", &vmid.to_string(), move |log| match app2
        .executor
        .shutdown(vmid, timeout, log)
    {
        Ok(()) => Ok(()),
        Err(err) if force => {
            log.line(format!("shutdown failed ({err}), stopping container"));
            app2.executor.stop(vmid, log)
        }
        Err(err) => Err(err),
    });
    Ok(json!(upid.encode()).into())
}

pub fn reboot(app: &Arc<App>, ctx: &Ctx) -> Result<Reply, ApiError> {
    let vmid = running_ct(app, ctx, Skiplock::Refused)?;
    let timeout = shutdown_timeout(ctx);
    let app2 = app.clone();
    let upid = app.spawn_task(ctx, "vzreboot", &vmid.to_string(), move |log| {
        app2.executor.shutdown(vmid, timeout, log)?;
        start_now(&app2, vmid, log)
    });
    Ok(json!(upid.encode()).into())
}

/// `destroy_vm`: refuses locked or protected CTs, and running ones without `force`.
pub fn destroy(app: &Arc<App>, ctx: &Ctx) -> Result<Reply, ApiError> {
    let (vmid, conf) = unlocked_ct(app, ctx, Skiplock::Refused)?;
    if conf.main.get("protection") == Some("1") {
        return Err(ApiError::internal(format!(
            "can't remove CT {vmid} - protection mode enabled\n"
        )));
    }
    let force = ctx.flag("force");
    if !force && app.executor.state(vmid).is_running() {
        return Err(ApiError::internal(format!(
            "unable to destroy CT {vmid} - container is running\n"
        )));
    }
    let app2 = app.clone();
    let upid = app.spawn_task(ctx, "vzdestroy", &vmid.to_string(), move |log| {
        if app2.executor.state(vmid).is_running() {
            if !force {
                return Err(format!(
                    "unable to destroy CT {vmid} - container is running"
                ));
            }
            app2.executor.stop(vmid, log)?;
        }
        let conf = app2.store.read(vmid).map_err(|e| e.to_string())?.conf;
        log.checkpoint()?;
        app2.executor.destroy(vmid, &conf, log)?;
        let mut volumes = Vec::new();
        for (key, raw) in conf.main.options.iter() {
            if key == "rootfs" || key.starts_with("mp") {
                if let Ok(mp) = MountPoint::parse(key, raw) {
                    if mp.kind == MountKind::Volume {
                        volumes.push(mp.volume);
                    }
                }
            } else if key.starts_with("unused") {
                volumes.push(raw.clone());
            }
        }
        for volid in volumes {
            log.line(format!("removing volume {volid}"));
            free_volume(&app2.paths, vmid, &volid)?;
        }
        let _ = std::fs::remove_dir(app2.paths.images_dir(vmid));
        match app2.store.remove(vmid) {
            Ok(()) | Err(pve_testhost_runtime::store::StoreError::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    });
    Ok(json!(upid.encode()).into())
}
