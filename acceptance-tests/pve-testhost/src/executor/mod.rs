//! What the API needs from the node to run containers.
//!
//! PVE's API hands container lifecycle to pve-container (`lxc-start`, the prestart hook,
//! storage plugins). Here an [`Executor`] does that: [`runtime::RuntimeExecutor`] drives
//! real LXC through `pve-testhost-runtime` (the code `pct` uses too), and
//! [`standalone::Standalone`] keeps only state files so the API (validation, permissions,
//! pending changes, tasks) can be exercised without root.

pub mod runtime;
pub mod standalone;

use std::path::Path;
use std::time::Duration;

use pve_testhost_runtime::conf::PctConf;
use serde_json::Value;

use crate::tasks::TaskLog;

/// Whether a CT is running, and since when (unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    Stopped,
    Running { pid: u32, since: u64 },
}

impl RunState {
    pub fn is_running(&self) -> bool {
        matches!(self, RunState::Running { .. })
    }
}

/// Resource usage of a running CT, as `status/current` reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub mem: u64,
    pub swap: u64,
    pub disk: u64,
    pub netin: u64,
    pub netout: u64,
}

/// Outcome of a hot-plug attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hotplug {
    /// Applied to the running CT.
    Applied,
    /// This node cannot apply it live: the change stays in `[pve:pending]` until the next
    /// start, exactly like options PVE cannot hot-plug.
    Deferred,
}

/// Container operations of a node. Errors are the text a PVE task would end with.
pub trait Executor: Send + Sync + 'static {
    /// Creates a CT whose config is reserved with `lock: create`: allocates the volumes
    /// requested as `STORAGE:SIZE` (plain sizes on `storage`), fills the rootfs from the
    /// template and writes the final config without the lock. On failure it frees what it
    /// allocated; the caller removes the config.
    fn create(
        &self,
        vmid: u32,
        conf: &PctConf,
        template: &Path,
        storage: &str,
        log: &TaskLog,
    ) -> Result<(), String>;
    /// Removes what `create` and the CT's runs left on the node (config removal tolerated).
    fn destroy(&self, vmid: u32, conf: &PctConf, log: &TaskLog) -> Result<(), String>;
    /// Starts a stopped CT with its current config.
    fn start(&self, vmid: u32, conf: &PctConf, log: &TaskLog) -> Result<(), String>;
    /// Stops a CT immediately.
    fn stop(&self, vmid: u32, log: &TaskLog) -> Result<(), String>;
    /// Shuts a CT down cleanly, waiting at most `timeout`.
    fn shutdown(&self, vmid: u32, timeout: Duration, log: &TaskLog) -> Result<(), String>;
    /// Current run state.
    fn state(&self, vmid: u32) -> RunState;
    /// Usage counters of a running CT.
    fn usage(&self, vmid: u32) -> Usage;
    /// `GET …/interfaces` entries of a running CT.
    fn interfaces(&self, vmid: u32, conf: &PctConf) -> Result<Vec<Value>, String>;
    /// Applies `key: value` (empty value: removal) to a running CT; `Err` is reported per
    /// key as PVE's "unable to hotplug" error.
    fn hotplug(&self, vmid: u32, conf: &PctConf, key: &str, value: &str)
        -> Result<Hotplug, String>;
}
