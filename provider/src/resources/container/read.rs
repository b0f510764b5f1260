//! Refresh: one `config`, one `status/current` and, for a running container, one
//! `interfaces` call, turned into the state object.

use pvelxc_cty::{Path, Value};
use pvelxc_pve::api::PveClient;
use pvelxc_pve::config::ContainerConfig;
use pvelxc_pve::ApiError;
use pvelxc_schema::Diagnostic;

use super::errors::api_diagnostics;
use super::model::{state_from, StateInputs};
use super::private::Private;
use super::values::{attr, strings};

/// What the node reports about one container.
pub struct Observed {
    pub config: ContainerConfig,
    pub running: bool,
    pub ipv4: Vec<(String, String)>,
    pub ipv6: Vec<(String, String)>,
}

/// Reads a container; `Ok(None)` when it does not exist.
pub async fn observe(
    api: &PveClient,
    node: &str,
    vmid: u32,
    obj: &Value,
) -> Result<Option<Observed>, Vec<Diagnostic>> {
    let snap = match api.container_config(node, vmid, false).await {
        Ok(s) => s,
        Err(ApiError::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(api_diagnostics(e, obj, "reading the container config")),
    };
    let status = match api.container_status(node, vmid).await {
        Ok(s) => s,
        Err(ApiError::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(api_diagnostics(e, obj, "reading the container status")),
    };
    let running = status.is_running();
    let (mut ipv4, mut ipv6) = (Vec::new(), Vec::new());
    if running {
        // Addresses are informational: a container that just started may not answer yet.
        if let Ok(ifaces) = api.interfaces(node, vmid).await {
            for i in ifaces.into_iter().filter(|i| i.name != "lo") {
                if let Some(a) = i.inet.as_deref() {
                    ipv4.push((i.name.clone(), strip_prefix_len(a)));
                }
                if let Some(a) = i.inet6.as_deref() {
                    ipv6.push((i.name.clone(), strip_prefix_len(a)));
                }
            }
        }
    }
    Ok(Some(Observed {
        config: snap.config,
        running,
        ipv4,
        ipv6,
    }))
}

fn strip_prefix_len(addr: &str) -> String {
    addr.split('/').next().unwrap_or(addr).to_string()
}

/// The state object for what was observed. `prior` is the state or plan it refreshes;
/// `private` holds the lines the presets generated last time.
pub fn to_state(node: &str, vmid: u32, seen: &Observed, prior: &Value, private: &Private) -> Value {
    let expected: Vec<String> = if private.generated.is_empty() {
        strings(prior, "generated_lxc")
    } else {
        private.generated.clone()
    };
    let device_gids: Vec<(String, u32)> = if private.device_gids.is_empty() {
        attr(prior, "device_gids")
            .as_entries()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), u32::try_from(v.as_i64()?).ok()?)))
                    .collect()
            })
            .unwrap_or_default()
    } else {
        private
            .device_gids
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    };
    let inputs = StateInputs {
        node,
        vmid,
        running: seen.running,
        ipv4: seen.ipv4.clone(),
        ipv6: seen.ipv6.clone(),
        expected_generated: &expected,
        device_gids,
    };
    state_from(&seen.config, prior, &inputs)
}

/// Node and vmid of a state object.
pub fn identity(state: &Value) -> Result<(String, u32), Diagnostic> {
    let node = attr(state, "node").as_str().map(str::to_string);
    let vmid = attr(state, "vmid")
        .as_i64()
        .and_then(|v| u32::try_from(v).ok());
    match (node, vmid) {
        (Some(n), Some(v)) => Ok((n, v)),
        _ => Err(Diagnostic::error(
            Path::root().attr("vmid"),
            "State without node or vmid",
            "The stored state lacks node or vmid; remove it from state (terraform state rm) and \
             import the container again (<node>/<vmid>).",
        )),
    }
}
