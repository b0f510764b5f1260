//! The executor for a real node: `pve_testhost_runtime::Containers`, the same code that
//! `pct` runs over SSH, so API and CLI act on containers identically.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pve_testhost_runtime::conf::PctConf;
use pve_testhost_runtime::container::{ContainerError, Containers};
use pve_testhost_runtime::store::StoreError;
use serde_json::{json, Value};

use super::{Executor, Hotplug, RunState, Usage};
use crate::tasks::TaskLog;

/// Runs containers with LXC on the node this process runs in.
#[derive(Debug, Clone)]
pub struct RuntimeExecutor {
    containers: Containers,
}

impl RuntimeExecutor {
    pub fn new(containers: Containers) -> Self {
        RuntimeExecutor { containers }
    }

    fn lxc_path(&self) -> std::path::PathBuf {
        let dir = self.containers.store().paths().lxc_dir(0);
        dir.parent().map(Path::to_path_buf).unwrap_or(dir)
    }
}

fn text(err: ContainerError) -> String {
    err.to_string()
}

/// Start time (unix seconds) of a process, from `/proc/<pid>/stat` and `/proc/uptime`.
fn proc_start_unix(pid: u32) -> u64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    let ticks: f64 = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(19)?
                .parse()
                .ok()
        })
        .unwrap_or(0.0);
    // USER_HZ is 100 on every architecture PVE supports.
    let started_ago = (uptime - ticks / 100.0).max(0.0);
    now.saturating_sub(started_ago as u64)
}

impl Executor for RuntimeExecutor {
    fn create(
        &self,
        vmid: u32,
        conf: &PctConf,
        template: &Path,
        _storage: &str,
        log: &TaskLog,
    ) -> Result<(), String> {
        // The runtime creates and writes the config itself; release the reservation
        // right before it takes the id under its own lock.
        let mut conf = conf.clone();
        conf.main.options.remove("lock");
        match self.containers.store().remove(vmid) {
            Ok(()) | Err(StoreError::NotFound { .. }) => {}
            Err(e) => return Err(e.to_string()),
        }
        log.line(format!("extracting archive '{}'", template.display()));
        self.containers
            .create(vmid, conf, template)
            .map(|_| ())
            .map_err(text)
    }

    fn destroy(&self, vmid: u32, _conf: &PctConf, log: &TaskLog) -> Result<(), String> {
        match self.containers.destroy(vmid) {
            Ok(()) => Ok(()),
            Err(ContainerError::Store(StoreError::NotFound { .. })) => Ok(()),
            Err(e) => {
                log.line(format!("destroy: {e}"));
                Err(text(e))
            }
        }
    }

    fn start(&self, vmid: u32, _conf: &PctConf, _log: &TaskLog) -> Result<(), String> {
        self.containers.start(vmid).map_err(text)
    }

    fn stop(&self, vmid: u32, _log: &TaskLog) -> Result<(), String> {
        self.containers.stop(vmid).map_err(text)
    }

    fn shutdown(&self, vmid: u32, timeout: Duration, _log: &TaskLog) -> Result<(), String> {
        self.containers.shutdown(vmid, timeout, false).map_err(text)
    }

    fn state(&self, vmid: u32) -> RunState {
        let status = self.containers.status(vmid);
        match (status.running, status.pid) {
            (true, Some(pid)) => RunState::Running {
                pid,
                since: proc_start_unix(pid),
            },
            (true, None) => RunState::Running { pid: 0, since: 0 },
            _ => RunState::Stopped,
        }
    }

    fn usage(&self, vmid: u32) -> Usage {
        let read = |key: &str| -> u64 {
            Command::new("lxc-cgroup")
                .arg("-P")
                .arg(self.lxc_path())
                .args(["-n", &vmid.to_string(), key])
                .output()
                .ok()
                .filter(|o| o.status.success())
                .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
                .unwrap_or(0)
        };
        Usage {
            mem: read("memory.current"),
            swap: read("memory.swap.current"),
            ..Usage::default()
        }
    }

    fn interfaces(&self, vmid: u32, _conf: &PctConf) -> Result<Vec<Value>, String> {
        let list = self.containers.interfaces(vmid).map_err(text)?;
        Ok(list
            .into_iter()
            .map(|iface| {
                let mut addrs = Vec::new();
                for (family, cidr) in [("inet", &iface.inet), ("inet6", &iface.inet6)] {
                    if let Some((ip, prefix)) = cidr.as_deref().and_then(|c| c.split_once('/')) {
                        addrs.push(json!({
                            "ip-address": ip, "ip-address-type": family,
                            "prefix": prefix.parse::<u32>().unwrap_or(0)
                        }));
                    }
                }
                let mut entry = json!({
                    "name": iface.name, "hwaddr": iface.hwaddr,
                    "hardware-address": iface.hwaddr, "ip-addresses": addrs,
                });
                if let Some(inet) = iface.inet {
                    entry["inet"] = json!(inet);
                }
                if let Some(inet6) = iface.inet6 {
                    entry["inet6"] = json!(inet6);
                }
                entry
            })
            .collect())
    }

    /// Memory and CPU limits are written to the CT's cgroup as PVE does; interfaces,
    /// mount points and devices are not hot-plugged here and stay pending.
    fn hotplug(
        &self,
        vmid: u32,
        conf: &PctConf,
        key: &str,
        value: &str,
    ) -> Result<Hotplug, String> {
        let mib = |v: &str| v.parse::<u64>().map(|m| m * 1024 * 1024).ok();
        let (cgroup_key, cgroup_value) = match key {
            "memory" => (
                "memory.max",
                mib(value)
                    .map(|b| b.to_string())
                    .unwrap_or_else(|| "max".into()),
            ),
            "swap" => (
                "memory.swap.max",
                mib(value)
                    .map(|b| b.to_string())
                    .unwrap_or_else(|| "max".into()),
            ),
            "cpulimit" => {
                let limit: f64 = value.parse().unwrap_or(0.0);
                let quota = if limit > 0.0 {
                    format!("{} 100000", (limit * 100_000.0) as u64)
                } else {
                    "max 100000".to_string()
                };
                ("cpu.max", quota)
            }
            "cpuunits" => (
                "cpu.weight",
                if value.is_empty() {
                    "100".into()
                } else {
                    value.to_string()
                },
            ),
            _ => return Ok(Hotplug::Deferred),
        };
        let _ = conf;
        let output = Command::new("lxc-cgroup")
            .arg("-P")
            .arg(self.lxc_path())
            .args(["-n", &vmid.to_string(), cgroup_key, &cgroup_value])
            .output()
            .map_err(|e| format!("cannot run lxc-cgroup: {e}"))?;
        if output.status.success() {
            Ok(Hotplug::Applied)
        } else {
            Err(String::from_utf8_lossy(&output.stderr).trim().to_string())
        }
    }
}
