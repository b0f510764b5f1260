//! The static `pvelxc-agent` the config resources install, and containers made with `pct`
//! for the tests that configure them from the inside.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use crate::providers;
use crate::testhost::TestHost;

/// Builds the static agent (scripts/build-agent.sh) into the tests' target directory and
/// returns its path. Built once per test process.
pub fn agent_binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let profile = providers::profile_dir().expect("profile dir");
            let target = profile.parent().expect("target dir").to_path_buf();
            let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .expect("repo root")
                .to_path_buf();
            let out = Command::new("bash")
                .arg(root.join("scripts/build-agent.sh"))
                .env("CARGO_TARGET_DIR", &target)
                .output()
                .expect("run scripts/build-agent.sh");
            assert!(
                out.status.success(),
                "scripts/build-agent.sh failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
        })
        .clone()
}

/// Points the provider at the test agent through `PVELXC_AGENT_BINARY`, which Terraform
/// passes on to the provider process.
pub fn use_agent_binary() -> PathBuf {
    let path = agent_binary();
    std::env::set_var("PVELXC_AGENT_BINARY", &path);
    path
}

/// A container created with `pct` for one test, destroyed when dropped.
pub struct PctContainer {
    host: TestHost,
    /// Its id.
    pub vmid: u32,
}

impl PctContainer {
    /// Creates and starts a Debian 12 container; `extra` are further `pct create` options.
    pub fn create(host: &TestHost, vmid: u32, unprivileged: bool, extra: &[&str]) -> Self {
        Self::create_from(host, host.template(), vmid, unprivileged, extra)
    }

    /// Creates and starts a container from `template` (a `local:vztmpl/...` volume).
    pub fn create_from(
        host: &TestHost,
        template: &str,
        vmid: u32,
        unprivileged: bool,
        extra: &[&str],
    ) -> Self {
        destroy(host, vmid);
        let id = vmid.to_string();
        let template = template.to_string();
        let net = format!("name=eth0,bridge={},ip=dhcp", host.bridge);
        let mut argv: Vec<&str> = vec![
            "pct",
            "create",
            &id,
            &template,
            "--hostname",
            "cfgtest",
            "--memory",
            "1024",
            "--rootfs",
            "local:4",
            "--net0",
            &net,
            "--unprivileged",
            if unprivileged { "1" } else { "0" },
        ];
        argv.extend_from_slice(extra);
        let run = host.run(&argv);
        assert_eq!(run.code, 0, "pct create {vmid}: {}", run.all());
        let run = host.run(&["pct", "start", &id]);
        assert_eq!(run.code, 0, "pct start {vmid}: {}", run.all());
        PctContainer {
            host: host.clone(),
            vmid,
        }
    }

    /// `<node>/<vmid>`, as `pvelxc_container` ids are.
    pub fn id(&self) -> String {
        format!("{}/{}", self.host.node, self.vmid)
    }

    /// Runs a shell script inside; returns stdout, failing the test on a non-zero exit.
    pub fn sh(&self, script: &str) -> String {
        let run = self.host.exec_sh(self.vmid, script);
        assert_eq!(run.code, 0, "in CT {}: {script}\n{}", self.vmid, run.all());
        run.stdout
    }

    /// Appends raw lines to the container's config (device passthrough set up by hand).
    pub fn append_conf(&self, lines: &[&str]) {
        let mut text = String::new();
        for l in lines {
            assert!(!l.contains('\n'), "one line at a time");
            text.push_str(l);
            text.push('\n');
        }
        let path = format!("/etc/pve/lxc/{}.conf", self.vmid);
        let run = self.host.run_line(&format!(
            "printf '%s' {} >> {}",
            crate::testhost::shell_quote(&text),
            crate::testhost::shell_quote(&path)
        ));
        assert_eq!(run.code, 0, "append to {path}: {}", run.all());
    }
}

/// Stops and destroys `vmid` if it exists (failures ignored: this is cleanup).
pub fn destroy(host: &TestHost, vmid: u32) {
    let id = vmid.to_string();
    if host.run(&["pct", "status", &id]).code != 0 {
        return;
    }
    let _ = host.run(&["pct", "unlock", &id]);
    let _ = host.run(&["pct", "stop", &id]);
    let run = host.run(&["pct", "destroy", &id]);
    if run.code != 0 {
        eprintln!("cleanup: pct destroy {vmid}: {}", run.all());
    }
}

impl Drop for PctContainer {
    fn drop(&mut self) {
        destroy(&self.host, self.vmid);
    }
}
