//! Create, update and delete against the PVE API (plus SSH for raw lines, subordinate ids
//! and device discovery).
//!
//! Non-idempotent requests are never resent blindly: the create is checked by vmid (in
//! pvelxc-pve), a config `PUT` carries the digest, and a digest mismatch after an ambiguous
//! failure is answered by re-reading the config and recomputing what is still missing.

use std::time::Duration;

use pvelxc_cty::{Path, Value};
use pvelxc_pve::api::{is_vmid_taken, CreateRequest, DestroyOptions, PveClient, Upid};
use pvelxc_pve::config::{compute_update, ContainerConfig};
use pvelxc_pve::ApiError;
use pvelxc_schema::Diagnostic;
use secrecy::SecretString;
use tokio_util::sync::CancellationToken;

use super::errors::{api_diagnostics, config_diagnostic, diff_diagnostic};
use super::model::{spec_from, Spec};
use super::presets::{check_user_devices, expand, expand_idmap, probe_paths, Expansion};
use super::private::Private;
use super::read::{identity, observe, to_state, Observed};
use super::values::{attr, blocks, set_attr, string};
use crate::framework::{Ctx, ResourceError, ResourceResult, StateWithPrivate};
use crate::node::ssh_diagnostic;
use crate::provider::PvelxcClient;

/// How many times a vmid taken by a concurrent create is replaced by a fresh one.
const NEXTID_ATTEMPTS: u32 = 10;

/// One container on one node, with what every call needs.
struct Target<'a> {
    api: &'a PveClient,
    node: String,
    vmid: u32,
    timeout: Duration,
    cancel: &'a CancellationToken,
}

impl Target<'_> {
    async fn wait(
        &self,
        upid: Result<Upid, ApiError>,
        obj: &Value,
        doing: &str,
    ) -> Result<(), Vec<Diagnostic>> {
        let upid = upid.map_err(|e| api_diagnostics(e, obj, doing))?;
        self.api
            .wait_task(&upid, self.timeout, self.cancel)
            .await
            .map(|_| ())
            .map_err(|e| api_diagnostics(e, obj, doing))
    }

    /// Observes the container after a change; when it should run, waits a little for it to
    /// be seen running. A start task can succeed while the container stops right after
    /// (its init fails): that is reported as an error naming `started`, never recorded as a
    /// state that contradicts the plan.
    async fn observe_settled(
        &self,
        obj: &Value,
        want_running: bool,
    ) -> Result<Observed, Vec<Diagnostic>> {
        let mut seen = self.observe(obj).await?;
        let mut tries = 0;
        while want_running && !seen.running && tries < 20 {
            if self.cancel.is_cancelled() {
                break;
            }
            tries += 1;
            tokio::time::sleep(Duration::from_millis(500)).await;
            seen = self.observe(obj).await?;
        }
        if want_running && !seen.running {
            return Err(vec![Diagnostic::error(
                Path::root().attr("started"),
                "Container did not stay running",
                format!(
                    "The start task of CT {vmid} on node {node} succeeded, but the container is \
                     not running 10 s later: its init stopped right after starting. Look at \
                     `pct start {vmid} --debug` on the node; the next apply starts it again.",
                    vmid = self.vmid,
                    node = self.node
                ),
            )]);
        }
        Ok(seen)
    }

    async fn observe(&self, obj: &Value) -> Result<Observed, Vec<Diagnostic>> {
        observe(self.api, &self.node, self.vmid, obj)
            .await?
            .ok_or_else(|| {
                vec![Diagnostic::error(
                    Path::root().attr("vmid"),
                    "Container vanished",
                    format!(
                        "CT {} on node {} disappeared while it was being changed.",
                        self.vmid, self.node
                    ),
                )]
            })
    }
}

fn errs(diags: Vec<Diagnostic>) -> ResourceError {
    ResourceError::from(diags)
}

/// Discovers the node's devices when the configuration needs them and expands the presets.
async fn expand_presets(
    client: &PvelxcClient,
    spec: &Spec,
    obj: &Value,
) -> Result<Expansion, Vec<Diagnostic>> {
    let user_devices: Vec<(usize, String)> = blocks(obj, "device")
        .iter()
        .enumerate()
        .filter_map(|(i, d)| Some((i, string(d, "path")?)))
        .collect();
    let ssh_configured = client.config.ssh.private_key.is_some() || client.config.ssh.agent;
    let check_devices = !user_devices.is_empty() && ssh_configured;
    if !spec.presets.needs_discovery() && !check_devices {
        let mut e = Expansion::default();
        expand_idmap(&spec.presets, &mut e).map_err(|d| vec![d])?;
        return Ok(e);
    }
    let ssh = client.node.ssh().await.map_err(|d| vec![d])?;
    let paths: Vec<String> = probe_paths(
        &spec.presets,
        &user_devices
            .iter()
            .map(|(_, p)| p.clone())
            .collect::<Vec<_>>(),
    );
    let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
    let devices = ssh
        .discover_devices(client.node.paths(), &refs)
        .await
        .map_err(|e| vec![ssh_diagnostic(e)])?;
    let diags = check_user_devices(&devices, &user_devices);
    if !diags.is_empty() {
        return Err(diags);
    }
    expand(&spec.presets, &devices)
}

/// The blocks whose node-side facts [`check_plan`] verifies.
const NODE_CHECKED_BLOCKS: [&str; 3] = ["device", "gpu", "optical_drive"];

/// Plan-time check of what only the node knows: every `device` path is a device node there,
/// each `optical_drive` exists and a GPU of `gpu.vendor` is present. It runs on create and
/// when one of those blocks changes, so a plan that changes none of them costs no SSH round
/// trip; blocks still unknown are left to apply, which checks again.
pub async fn check_plan(
    ctx: &Ctx<PvelxcClient>,
    prior: &Value,
    planned: &Value,
) -> Vec<Diagnostic> {
    let Ok(client) = ctx.client() else {
        return Vec::new();
    };
    let block = |v: &Value, name: &str| v.get_attr(name).cloned();
    let changed = NODE_CHECKED_BLOCKS
        .iter()
        .any(|name| prior.is_null() || block(prior, name) != block(planned, name));
    let known = NODE_CHECKED_BLOCKS
        .iter()
        .all(|name| block(planned, name).is_none_or(|v| v.is_wholly_known()));
    if !changed || !known {
        return Vec::new();
    }
    let Ok(spec) = spec_from(planned) else {
        return Vec::new();
    };
    match expand_presets(client, &spec, planned).await {
        Ok(_) => Vec::new(),
        Err(diags) => diags,
    }
}

/// The config to send: the user's plus preset devices.
fn desired_config(spec: &Spec, expansion: &Expansion) -> ContainerConfig {
    let mut c = spec.config.clone();
    for (slot, d) in &expansion.devices {
        c.devices.insert(*slot, d.clone());
    }
    c
}

/// The raw lines the file must hold: the user's, then the generated ones.
fn raw_lines(spec: &Spec, expansion: &Expansion) -> Vec<(String, String)> {
    let mut lines = spec.raw_lxc.clone();
    lines.extend(expansion.lxc.iter().cloned());
    lines
}

/// Writes the raw lines (when they differ) and the subordinate id ranges over SSH.
async fn apply_node_side(
    client: &PvelxcClient,
    vmid: u32,
    current: &[(String, String)],
    lines: &[(String, String)],
    expansion: &Expansion,
) -> Result<bool, Vec<Diagnostic>> {
    let mut changed = false;
    if current != lines {
        let ssh = client.node.ssh().await.map_err(|d| vec![d])?;
        let outcome = ssh
            .edit_conf_raw_lines(client.node.paths(), vmid, lines, None)
            .await
            .map_err(|e| {
                let mut d = ssh_diagnostic(e);
                d.path = Path::root().attr("raw_lxc");
                vec![d]
            })?;
        changed = outcome.changed;
    }
    if !expansion.subids.is_empty() {
        let ssh = client.node.ssh().await.map_err(|d| vec![d])?;
        for (file, range) in &expansion.subids {
            ssh.ensure_subid(client.node.paths(), *file, "root", range)
                .await
                .map_err(|e| {
                    let mut d = ssh_diagnostic(e);
                    d.path = Path::root().attr("idmap");
                    vec![d]
                })?;
        }
    }
    Ok(changed)
}

fn private_of(expansion: &Expansion) -> Private {
    Private {
        generated: expansion.generated_lines(),
        device_gids: expansion.gids.clone(),
    }
}

/// A state that records the container exists, for a create that failed half-way.
fn partial(planned: &Value, node: &str, vmid: u32) -> Value {
    let mut v = planned.clone();
    set_attr(&mut v, "id", Value::string(format!("{node}/{vmid}")));
    set_attr(&mut v, "node", Value::string(node));
    set_attr(&mut v, "vmid", Value::int(i64::from(vmid)));
    v
}

/// Creates the container.
pub async fn create(ctx: &Ctx<PvelxcClient>, planned: &Value) -> ResourceResult<StateWithPrivate> {
    let client = ctx.client()?;
    let spec = spec_from(planned).map_err(errs)?;
    let node = client
        .node
        .node_name(spec.node.as_deref(), Path::root().attr("node"))?
        .to_string();
    let Some(template) = spec.template.clone() else {
        return Err(Diagnostic::error(
            Path::root().attr("template"),
            "A template is needed to create the container",
            "Set template to a template volume such as \
             local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst.",
        )
        .into());
    };
    let expansion = expand_presets(client, &spec, planned).await.map_err(errs)?;
    let config = desired_config(&spec, &expansion);
    config
        .to_params()
        .map_err(|e| ResourceError::from(config_diagnostic(&e, planned)))?;
    let api = client.node.api().await?;

    let mut attempt = 0;
    let (vmid, upid) = loop {
        attempt += 1;
        let vmid = match spec.vmid {
            Some(v) => v,
            None => api
                .next_id()
                .await
                .map_err(|e| errs(api_diagnostics(e, planned, "allocating a vmid")))?,
        };
        let req = CreateRequest {
            vmid,
            ostemplate: template.clone(),
            config: config.clone(),
            password: spec.password.clone().map(SecretString::from),
            ssh_public_keys: spec.ssh_public_keys.clone(),
            storage: None,
            start: false,
            pool: None,
        };
        match api.create_container(&node, &req).await {
            Ok(upid) => break (vmid, upid),
            Err(e) if spec.vmid.is_none() && attempt < NEXTID_ATTEMPTS && is_vmid_taken(&e) => {
                tracing::info!(
                    vmid,
                    "vmid taken by a concurrent create; allocating another"
                );
                // Spread the parallel creates that lost the same race.
                let jitter =
                    u64::from(std::process::id() ^ vmid ^ attempt.wrapping_mul(7919)) % 400;
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt) + jitter)).await;
                continue;
            }
            Err(e) if is_vmid_taken(&e) => {
                return Err(Diagnostic::error(
                    Path::root().attr("vmid"),
                    "vmid already in use",
                    format!(
                        "{e}. Choose another vmid, or leave vmid unset to allocate a free one."
                    ),
                )
                .into());
            }
            Err(ApiError::CreateOutcomeUnknown { vmid, source }) => {
                return Err(ResourceError {
                    diagnostics: api_diagnostics(*source, planned, "creating the container"),
                    partial_state: Some(partial(planned, &node, vmid)),
                });
            }
            Err(e) => return Err(errs(api_diagnostics(e, planned, "creating the container"))),
        }
    };
    let target = Target {
        api,
        node: node.clone(),
        vmid,
        timeout: client.config.task_timeout,
        cancel: ctx.cancellation(),
    };
    let fail = |diagnostics: Vec<Diagnostic>| ResourceError {
        diagnostics,
        partial_state: Some(partial(planned, &node, vmid)),
    };
    if let Err(d) = target
        .wait(Ok(upid), planned, "creating the container")
        .await
    {
        // PVE removes a container whose create task failed; record it only if it stayed.
        return match api.container_exists(&node, vmid).await {
            Ok(false) => Err(errs(d)),
            _ => Err(fail(d)),
        };
    }
    let lines = raw_lines(&spec, &expansion);
    apply_node_side(client, vmid, &[], &lines, &expansion)
        .await
        .map_err(fail)?;
    if spec.started {
        target
            .wait(
                api.start_container(&node, vmid).await,
                planned,
                "starting the container",
            )
            .await
            .map_err(fail)?;
    }
    let private = private_of(&expansion);
    let seen = target
        .observe_settled(planned, spec.started)
        .await
        .map_err(fail)?;
    Ok(StateWithPrivate {
        state: to_state(&node, vmid, &seen, planned, &private),
        private: private.encode(),
    })
}

/// Updates the container in place.
pub async fn update(
    ctx: &Ctx<PvelxcClient>,
    prior: &Value,
    planned: &Value,
) -> ResourceResult<StateWithPrivate> {
    let client = ctx.client()?;
    let (node, vmid) = identity(prior)?;
    let spec = spec_from(planned).map_err(errs)?;
    let expansion = expand_presets(client, &spec, planned).await.map_err(errs)?;
    let api = client.node.api().await?;
    let target = Target {
        api,
        node: node.clone(),
        vmid,
        timeout: client.config.task_timeout,
        cancel: ctx.cancellation(),
    };

    // A container that is to be stopped is stopped first, so PVE applies the changes directly
    // instead of leaving them pending for the next start.
    let status = api
        .container_status(&node, vmid)
        .await
        .map_err(|e| errs(api_diagnostics(e, planned, "reading the container status")))?;
    let mut running = status.is_running();
    if !spec.started && running {
        target
            .wait(
                api.shutdown_container(&node, vmid, Duration::from_secs(60), true)
                    .await,
                planned,
                "stopping the container",
            )
            .await
            .map_err(errs)?;
        running = false;
    }

    let mut current = read_config(&target, planned).await?;
    let mut desired = desired_config(&spec, &expansion);
    keep_unmanaged(&current, &mut desired);
    let mut sent_once = false;
    loop {
        let update = compute_update(&current, &desired)
            .map_err(|e| ResourceError::from(diff_diagnostic(&e, planned)))?;
        if let Some(params) = update.put_params() {
            match api
                .update_config(&node, vmid, &params, update.needs_root())
                .await
            {
                Ok(()) => {}
                Err(ApiError::DigestMismatch { .. }) if !sent_once => {
                    // Either someone else changed the config, or our own request went through
                    // before a retry: recompute from what is there now.
                    sent_once = true;
                    current = read_config(&target, planned).await?;
                    continue;
                }
                // PVE writes the change to the pending section and reports that it could not
                // apply it live; the restart below applies it.
                Err(e) if is_hotplug_failure(&e) => {
                    tracing::info!(vmid, error = %e, "change left pending by PVE");
                }
                Err(e) => return Err(errs(api_diagnostics(e, planned, "updating the container"))),
            }
        }
        for (disk, size) in &update.resize {
            let task = api
                .resize(&node, vmid, disk, *size, None)
                .await
                .map_err(|e| errs(api_diagnostics(e, planned, "resizing a volume")))?;
            if let Some(upid) = task {
                target
                    .wait(Ok(upid), planned, "resizing a volume")
                    .await
                    .map_err(errs)?;
            }
        }
        break;
    }

    let lines = raw_lines(&spec, &expansion);
    let raw_changed = apply_node_side(client, vmid, &current.lxc, &lines, &expansion)
        .await
        .map_err(errs)?;

    if running && spec.started {
        let pending = api
            .pending(&node, vmid)
            .await
            .map_err(|e| errs(api_diagnostics(e, planned, "reading pending changes")))?;
        let pending_keys: Vec<String> = pending
            .iter()
            .filter(|p| p.pending.is_some() || p.delete.is_some_and(|d| d > 0))
            .map(|p| p.key.clone())
            .collect();
        if raw_changed || !pending_keys.is_empty() {
            let mut what = pending_keys.clone();
            if raw_changed {
                what.push("raw lxc lines".into());
            }
            if spec.reboot {
                tracing::info!(vmid, changes = ?what, "restarting the container to apply changes");
                target
                    .wait(
                        api.reboot_container(&node, vmid, None).await,
                        planned,
                        "restarting the container",
                    )
                    .await
                    .map_err(errs)?;
            } else {
                ctx.warn(Diagnostic::warning(
                    Path::root().attr("reboot_policy"),
                    "Changes wait for a restart",
                    format!(
                        "CT {vmid} keeps running with {} pending until it restarts \
                         (reboot_policy = \"never\").",
                        what.join(", ")
                    ),
                ));
            }
        }
    }
    if spec.started && !running {
        target
            .wait(
                api.start_container(&node, vmid).await,
                planned,
                "starting the container",
            )
            .await
            .map_err(errs)?;
    }
    let private = private_of(&expansion);
    let seen = target
        .observe_settled(planned, spec.started)
        .await
        .map_err(errs)?;
    let mut state = to_state(&node, vmid, &seen, planned, &private);
    keep_planned_addresses(&mut state, planned);
    Ok(StateWithPrivate {
        state,
        private: private.encode(),
    })
}

/// The plan keeps `ipv4`/`ipv6` known when nothing it can see touches the network (see
/// `plan::addresses_may_change`), and Terraform refuses a result that differs from a
/// known planned value. A restart the plan could not foresee (PVE left a change pending)
/// may still renew a lease: the planned addresses are recorded then, and the next refresh
/// reads the new ones.
fn keep_planned_addresses(state: &mut Value, planned: &Value) {
    for name in ["ipv4", "ipv6"] {
        let want = attr(planned, name);
        if want.is_known() && !want.is_null() {
            set_attr(state, name, want.clone());
        }
    }
}

/// PVE's "unable to hotplug ..." answers: the values were stored as pending.
fn is_hotplug_failure(err: &ApiError) -> bool {
    err.parameter_errors().is_some_and(|errors| {
        !errors.is_empty() && errors.values().all(|m| m.contains("unable to hotplug"))
    })
}

async fn read_config(target: &Target<'_>, obj: &Value) -> ResourceResult<ContainerConfig> {
    target
        .api
        .container_config(&target.node, target.vmid, false)
        .await
        .map(|s| s.config)
        .map_err(|e| errs(api_diagnostics(e, obj, "reading the container config")))
}

/// Keys this resource does not manage stay as they are; values PVE fills in are kept when
/// the configuration leaves them unset.
fn keep_unmanaged(current: &ContainerConfig, desired: &mut ContainerConfig) {
    desired.console = current.console;
    desired.tty = current.tty;
    desired.cmode = current.cmode.clone();
    desired.hookscript = current.hookscript.clone();
    desired.extra = current.extra.clone();
    if desired.hostname.is_none() {
        desired.hostname = current.hostname.clone();
    }
    if desired.ostype.is_none() {
        desired.ostype = current.ostype.clone();
    }
    if desired.arch.is_none() {
        desired.arch = current.arch.clone();
    }
}

/// Stops and destroys the container.
pub async fn delete(ctx: &Ctx<PvelxcClient>, prior: &Value) -> ResourceResult<()> {
    let client = ctx.client()?;
    let (node, vmid) = identity(prior)?;
    let api = client.node.api().await?;
    let target = Target {
        api,
        node: node.clone(),
        vmid,
        timeout: client.config.task_timeout,
        cancel: ctx.cancellation(),
    };
    let snap = match api.container_config(&node, vmid, false).await {
        Ok(s) => s,
        Err(ApiError::NotFound { .. }) => return Ok(()),
        Err(e) => return Err(errs(api_diagnostics(e, prior, "reading the container"))),
    };
    if snap.config.protection == Some(true) {
        if super::values::boolean(prior, "protection") != Some(true) {
            return Err(Diagnostic::error(
                Path::root().attr("protection"),
                "The container is protected",
                format!(
                    "CT {vmid} has protection enabled, but not by Terraform; remove the protection \
                     on the node (pct set {vmid} --protection 0) if it really should be destroyed."
                ),
            )
            .into());
        }
        let params = vec![
            ("delete".to_string(), "protection".to_string()),
            ("digest".to_string(), snap.digest.clone()),
        ];
        api.update_config(&node, vmid, &params, false)
            .await
            .map_err(|e| errs(api_diagnostics(e, prior, "clearing protection")))?;
    }
    let status = api
        .container_status(&node, vmid)
        .await
        .map_err(|e| errs(api_diagnostics(e, prior, "reading the container status")))?;
    if status.is_running() {
        target
            .wait(
                api.stop_container(&node, vmid).await,
                prior,
                "stopping the container",
            )
            .await
            .map_err(errs)?;
    }
    let opts = DestroyOptions {
        force: true,
        purge: true,
        destroy_unreferenced_disks: true,
    };
    match api.destroy_container(&node, vmid, opts).await {
        Err(ApiError::NotFound { .. }) => Ok(()),
        other => target
            .wait(other, prior, "destroying the container")
            .await
            .map_err(errs),
    }
}
