//! An executor without LXC: running state is a file under the node root, so the API can
//! be served from an unprivileged process on a temporary directory (unit and integration
//! tests that need no root). Nothing is executed.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pve_testhost_runtime::conf::PctConf;
use pve_testhost_runtime::store::ConfigStore;
use serde_json::{json, Value};

use super::{Executor, Hotplug, RunState, Usage};
use crate::pending::{allocate_mountpoint, free_volume};
use crate::tasks::TaskLog;

/// State-file executor for a node root directory.
#[derive(Debug, Clone)]
pub struct Standalone {
    dir: PathBuf,
    store: ConfigStore,
}

impl Standalone {
    /// Keeps running-state files under `<root>/run/pve-testhost/standalone`.
    pub fn new(store: ConfigStore) -> Self {
        Standalone {
            dir: store.paths().root().join("run/pve-testhost/standalone"),
            store,
        }
    }

    fn marker(&self, vmid: u32) -> PathBuf {
        self.dir.join(format!("{vmid}.running"))
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Executor for Standalone {
    fn create(
        &self,
        vmid: u32,
        conf: &PctConf,
        template: &Path,
        storage: &str,
        log: &TaskLog,
    ) -> Result<(), String> {
        let paths = self.store.paths();
        let mut conf = conf.clone();
        let mut allocated = Vec::new();
        let result = (|| {
            let keys: Vec<String> = conf
                .main
                .options
                .keys()
                .filter(|k| *k == "rootfs" || k.starts_with("mp"))
                .cloned()
                .collect();
            for key in keys {
                let raw = conf.main.get(&key).unwrap_or_default().to_string();
                let value = allocate_mountpoint(paths, vmid, &key, &raw, storage)?;
                if value != raw {
                    let volid = value.split(',').next().unwrap_or_default().to_string();
                    log.line(format!("allocated volume {volid} for {key}"));
                    allocated.push(volid);
                }
                conf.main.options.insert(key, value);
            }
            log.line(format!(
                "extracting archive '{}' (standalone: not unpacked)",
                template.display()
            ));
            conf.main.options.remove("lock");
            let lock = self.store.lock(vmid).map_err(|e| e.to_string())?;
            self.store
                .write_locked(&lock, vmid, &conf)
                .map_err(|e| e.to_string())?;
            Ok(())
        })();
        if result.is_err() {
            for volid in &allocated {
                let _ = free_volume(paths, vmid, volid);
            }
        }
        result
    }

    fn destroy(&self, vmid: u32, _conf: &PctConf, _log: &TaskLog) -> Result<(), String> {
        match fs::remove_file(self.marker(vmid)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }

    fn start(&self, vmid: u32, _conf: &PctConf, log: &TaskLog) -> Result<(), String> {
        fs::create_dir_all(&self.dir).map_err(|e| format!("{}: {e}", self.dir.display()))?;
        fs::write(self.marker(vmid), now().to_string()).map_err(|e| e.to_string())?;
        log.line(format!("CT {vmid} marked running (standalone)"));
        Ok(())
    }

    fn stop(&self, vmid: u32, _log: &TaskLog) -> Result<(), String> {
        fs::remove_file(self.marker(vmid)).map_err(|e| format!("CT {vmid} not running ({e})"))
    }

    fn shutdown(&self, vmid: u32, _timeout: Duration, log: &TaskLog) -> Result<(), String> {
        self.stop(vmid, log)
    }

    fn state(&self, vmid: u32) -> RunState {
        match fs::read_to_string(self.marker(vmid)) {
            Ok(text) => RunState::Running {
                pid: 0,
                since: text.trim().parse().unwrap_or(0),
            },
            Err(_) => RunState::Stopped,
        }
    }

    fn usage(&self, _vmid: u32) -> Usage {
        Usage::default()
    }

    fn interfaces(&self, _vmid: u32, conf: &PctConf) -> Result<Vec<Value>, String> {
        let mut out = vec![json!({
            "name": "lo", "hwaddr": "00:00:00:00:00:00", "hardware-address": "00:00:00:00:00:00",
            "inet": "127.0.0.1/8", "inet6": "::1/128",
            "ip-addresses": [
                {"ip-address": "127.0.0.1", "ip-address-type": "inet", "prefix": 8},
                {"ip-address": "::1", "ip-address-type": "inet6", "prefix": 128}
            ]
        })];
        for (_, net) in conf.main.nets().map_err(|e| e.to_string())? {
            let props = &net.properties;
            let name = props.get("name").unwrap_or("eth0").to_string();
            let hwaddr = props.get("hwaddr").unwrap_or("").to_lowercase();
            let mut entry = json!({"name": name, "hwaddr": hwaddr, "hardware-address": hwaddr, "ip-addresses": []});
            if let Some((addr, prefix)) = props.get("ip").and_then(|ip| ip.split_once('/')) {
                entry["inet"] = json!(format!("{addr}/{prefix}"));
                entry["ip-addresses"] = json!([{
                    "ip-address": addr, "ip-address-type": "inet",
                    "prefix": prefix.parse::<u32>().unwrap_or(0)
                }]);
            }
            out.push(entry);
        }
        Ok(out)
    }

    fn hotplug(
        &self,
        _vmid: u32,
        _conf: &PctConf,
        _key: &str,
        _value: &str,
    ) -> Result<Hotplug, String> {
        Ok(Hotplug::Applied)
    }
}
