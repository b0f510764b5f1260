//! The pve-testhost node the container suites run against: its details (from
//! `$PVE_TESTHOST_ENV`, written by `pve-testhost up`), the provider block that reaches it,
//! node-side access over SSH for assertions (`/etc/pve/lxc/<vmid>.conf`, `pct exec`), fault
//! injection, and a work directory that destroys what a test created even when the test
//! fails.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value as Json;

use crate::providers;
use crate::terraform::{Run, TerraformCli, Workdir};

/// Default location of the node description `pve-testhost up` writes.
pub const DEFAULT_ENV_FILE: &str = "/run/pve-testhost/testhost.json";

/// Why the test host cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TestHostError {
    /// The description file is missing or unreadable.
    #[error("{path}: {source}; bring the node up with `scripts/test.sh` (or `pve-testhost up`)")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The description file is not what `pve-testhost up` writes.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// SSH details of the node.
#[derive(Debug, Clone)]
pub struct SshTarget {
    /// Host address.
    pub host: String,
    /// Port (8022 on the test host).
    pub port: u16,
    /// User (`root`).
    pub user: String,
    /// Private key file.
    pub private_key: PathBuf,
    /// known_hosts file holding the node's key.
    pub known_hosts: PathBuf,
}

/// The hardware stand-ins of the node.
#[derive(Debug, Clone)]
pub struct Hardware {
    /// `/dev/dri/card0` (c 226:0).
    pub gpu_card: String,
    /// `/dev/dri/renderD128` (c 226:128).
    pub gpu_render: String,
    /// `/dev/sr0`, a block device.
    pub optical: String,
    /// `/dev/sg0` (c 21:0).
    pub optical_generic: String,
    /// `major:minor` of the optical drive (a loop device's numbers on the test host, 11:0 on
    /// real hardware).
    pub optical_rdev: String,
    /// Loop device behind `/dev/sr0` on the test host.
    pub loop_device: String,
    /// The disc image in that loop device.
    pub disc_image: PathBuf,
    /// Device group GIDs (`video`, `render`, `cdrom`).
    pub groups: BTreeMap<String, u32>,
}

/// A running pve-testhost node.
#[derive(Debug, Clone)]
pub struct TestHost {
    /// Node name (`pve`).
    pub node: String,
    /// API URL.
    pub endpoint: String,
    /// PEM CA file of the API certificate.
    pub ca_cert: PathBuf,
    /// `root@pam!pvelxc=<secret>`.
    pub token: String,
    /// Password of root@pam.
    pub root_password: String,
    /// SSH to the node.
    pub ssh: SshTarget,
    /// Device stand-ins.
    pub hardware: Hardware,
    /// Template volume ids on the node.
    pub templates: Vec<String>,
    /// The fault injection control file.
    pub faults_file: PathBuf,
    /// The node's bridge (`vmbr0`).
    pub bridge: String,
    /// The node's state directory (API log, leases).
    pub state_dir: PathBuf,
}

/// Output of a command run on the node.
#[derive(Debug)]
pub struct NodeRun {
    /// Exit status (-1 when killed by a signal).
    pub code: i32,
    /// Stdout.
    pub stdout: String,
    /// Stderr.
    pub stderr: String,
}

impl NodeRun {
    /// Stdout and stderr together, for assertion messages and error text checks.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Quotes one argument for the remote POSIX shell.
pub fn shell_quote(arg: &str) -> String {
    if !arg.is_empty()
        && arg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=,@+%".contains(&b))
    {
        return arg.to_string();
    }
    format!("'{}'", arg.replace('\'', r"'\''"))
}

fn field<'a>(j: &'a Json, path: &[&str]) -> Option<&'a Json> {
    path.iter().try_fold(j, |v, k| v.get(k))
}

impl TestHost {
    /// Reads `$PVE_TESTHOST_ENV` (default [`DEFAULT_ENV_FILE`]).
    pub fn load() -> Result<Self, TestHostError> {
        let path = std::env::var("PVE_TESTHOST_ENV").unwrap_or_else(|_| DEFAULT_ENV_FILE.into());
        Self::from_file(Path::new(&path))
    }

    /// Reads a node description file.
    pub fn from_file(path: &Path) -> Result<Self, TestHostError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| TestHostError::Read {
            path: shown.clone(),
            source,
        })?;
        let j: Json = serde_json::from_str(&text).map_err(|e| TestHostError::Invalid {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        let text_at = |p: &[&str]| -> Result<String, TestHostError> {
            field(&j, p)
                .and_then(Json::as_str)
                .map(str::to_string)
                .ok_or_else(|| TestHostError::Invalid {
                    path: shown.clone(),
                    message: format!("missing string {}", p.join(".")),
                })
        };
        let groups = field(&j, &["hardware", "groups"])
            .and_then(Json::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), u32::try_from(v.as_u64()?).ok()?)))
                    .collect()
            })
            .unwrap_or_default();
        let templates = j["templates"]
            .as_array()
            .map(|t| {
                t.iter()
                    .filter_map(Json::as_str)
                    .map(|s| {
                        if s.contains(':') {
                            s.to_string()
                        } else {
                            format!("local:vztmpl/{s}")
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        let port = field(&j, &["ssh", "port"])
            .and_then(Json::as_u64)
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or(22);
        Ok(TestHost {
            node: text_at(&["node"])?,
            endpoint: text_at(&["api", "endpoint"])?,
            ca_cert: text_at(&["api", "ca_cert"])?.into(),
            token: text_at(&["api", "token"])?,
            root_password: text_at(&["api", "root_password"])?,
            ssh: SshTarget {
                host: text_at(&["ssh", "host"])?,
                port,
                user: text_at(&["ssh", "user"])?,
                private_key: text_at(&["ssh", "private_key"])?.into(),
                known_hosts: text_at(&["ssh", "known_hosts"])?.into(),
            },
            hardware: Hardware {
                gpu_card: text_at(&["hardware", "gpu_card"])?,
                gpu_render: text_at(&["hardware", "gpu_render"])?,
                optical: text_at(&["hardware", "optical"])?,
                optical_generic: text_at(&["hardware", "optical_generic"])?,
                optical_rdev: text_at(&["hardware", "optical_rdev"])?,
                loop_device: text_at(&["hardware", "loop_device"])?,
                disc_image: text_at(&["hardware", "disc_image"])?.into(),
                groups,
            },
            templates,
            faults_file: text_at(&["faults_file"])?.into(),
            bridge: text_at(&["bridge"])?,
            state_dir: text_at(&["state_dir"])?.into(),
        })
    }

    /// Puts the disc back into the node's optical drive if something detached its loop
    /// device (see [`crate::disc`]); panics when that is impossible.
    pub fn ensure_disc(&self) {
        match crate::disc::ensure_inserted(&self.hardware.loop_device, &self.hardware.disc_image) {
            Ok(None) => {}
            Ok(Some(repaired)) => {
                eprintln!("pve-testhost: {repaired}");
                // Kept beside the node's state so `scripts/test.sh` can report it even
                // when the test that repaired the drive passed (its stderr is not shown).
                let log = self.state_dir.join("disc-repairs.log");
                let line = format!("{repaired}\n");
                let _ = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(log)
                    .and_then(|mut f| std::io::Write::write_all(&mut f, line.as_bytes()));
            }
            Err(e) => panic!("{e}"),
        }
    }

    /// The node's template whose volume id contains `fragment` (e.g. `ubuntu-24.04`).
    pub fn template_matching(&self, fragment: &str) -> Option<&str> {
        self.templates
            .iter()
            .find(|t| t.contains(fragment))
            .map(String::as_str)
    }

    /// The Debian 12 template the runbooks use.
    pub fn template(&self) -> &str {
        self.template_matching("debian-12")
            .or_else(|| self.templates.first().map(String::as_str))
            .unwrap_or("local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst")
    }

    /// `terraform { required_providers }` plus a provider block with the node's API token,
    /// root@pam login (host bind mounts and `devN` need it, as on PVE), pinned CA and SSH.
    pub fn provider_hcl(&self) -> String {
        format!(
            r#"terraform {{
  required_providers {{
    pvelxc = {{ source = "pvelxc/pvelxc" }}
  }}
}}

provider "pvelxc" {{
  endpoint  = {endpoint:?}
  api_token = {token:?}
  username  = "root@pam"
  password  = {password:?}
  ca_cert   = file({ca:?})
  node      = {node:?}

  ssh {{
    host        = {ssh_host:?}
    port        = {ssh_port}
    user        = {ssh_user:?}
    private_key = {key:?}
    known_hosts = {known_hosts:?}
  }}
}}
"#,
            endpoint = self.endpoint,
            token = self.token,
            password = self.root_password,
            ca = self.ca_cert.display().to_string(),
            node = self.node,
            ssh_host = self.ssh.host,
            ssh_port = self.ssh.port,
            ssh_user = self.ssh.user,
            key = self.ssh.private_key.display().to_string(),
            known_hosts = self.ssh.known_hosts.display().to_string(),
        )
    }

    /// Runs argv on the node over SSH (each argument quoted for the remote shell).
    pub fn run(&self, argv: &[&str]) -> NodeRun {
        let line = argv
            .iter()
            .map(|a| shell_quote(a))
            .collect::<Vec<_>>()
            .join(" ");
        self.run_line(&line)
    }

    /// Runs a shell command line on the node (for pipes and redirections the test writes).
    pub fn run_line(&self, line: &str) -> NodeRun {
        let out = Command::new("ssh")
            .arg("-i")
            .arg(&self.ssh.private_key)
            .arg("-p")
            .arg(self.ssh.port.to_string())
            .arg("-o")
            .arg(format!(
                "UserKnownHostsFile={}",
                self.ssh.known_hosts.display()
            ))
            .args([
                "-o",
                "StrictHostKeyChecking=yes",
                "-o",
                "BatchMode=yes",
                "-o",
                "LogLevel=ERROR",
            ])
            .arg(format!("{}@{}", self.ssh.user, self.ssh.host))
            .arg("--")
            .arg(line)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run ssh to the node: {e}"));
        NodeRun {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs argv on the node and fails the test unless it exits 0; returns stdout.
    pub fn ok(&self, argv: &[&str]) -> String {
        let run = self.run(argv);
        assert_eq!(
            run.code, 0,
            "on the node: {argv:?} failed\n{}{}",
            run.stdout, run.stderr
        );
        run.stdout
    }

    /// `/etc/pve/lxc/<vmid>.conf`, or `None` when the container does not exist.
    pub fn conf(&self, vmid: u32) -> Option<String> {
        let run = self.run(&["cat", &format!("/etc/pve/lxc/{vmid}.conf")]);
        (run.code == 0).then_some(run.stdout)
    }

    /// The lines of the conf's main section (before the first `[section]`), without
    /// comments.
    pub fn conf_lines(&self, vmid: u32) -> Vec<String> {
        let conf = self
            .conf(vmid)
            .unwrap_or_else(|| panic!("CT {vmid} has no /etc/pve/lxc/{vmid}.conf"));
        main_section(&conf)
    }

    /// `pct exec <vmid> -- sh -c <script>` on the node.
    pub fn exec_sh(&self, vmid: u32, script: &str) -> NodeRun {
        self.run(&["pct", "exec", &vmid.to_string(), "--", "sh", "-c", script])
    }

    /// vmids of the node's containers (from `/etc/pve/lxc`).
    pub fn vmids(&self) -> Vec<u32> {
        let run = self.run(&["ls", "/etc/pve/lxc"]);
        run.stdout
            .split_whitespace()
            .filter_map(|f| f.strip_suffix(".conf")?.parse().ok())
            .collect()
    }

    /// Stops and destroys a container with `pct`, ignoring failures (cleanup path).
    pub fn pct_destroy(&self, vmid: u32) {
        let id = vmid.to_string();
        let _ = self.run(&["pct", "unlock", &id]);
        let _ = self.run(&["pct", "stop", &id]);
        let run = self.run(&["pct", "destroy", &id, "--purge", "1"]);
        if run.code != 0 {
            eprintln!("cleanup: pct destroy {vmid} failed: {}", run.all());
        }
    }

    /// Replaces the fault rules (`{"faults": [...]}`), atomically.
    pub fn set_faults(&self, rules: &Json) -> std::io::Result<()> {
        let body = serde_json::json!({ "faults": rules });
        let dir = self.faults_file.parent().unwrap_or_else(|| Path::new("/"));
        let tmp = dir.join(format!(".faults.{}.tmp", std::process::id()));
        std::fs::write(&tmp, body.to_string())?;
        std::fs::rename(&tmp, &self.faults_file)
    }

    /// The rules still pending in the fault file.
    pub fn pending_faults(&self) -> Vec<Json> {
        std::fs::read_to_string(&self.faults_file)
            .ok()
            .and_then(|t| serde_json::from_str::<Json>(&t).ok())
            .and_then(|j| j["faults"].as_array().cloned())
            .unwrap_or_default()
    }
}

/// The main section of a pct.conf text: lines before the first `[section]`, without
/// comments and blank lines.
pub fn main_section(conf: &str) -> Vec<String> {
    conf.lines()
        .take_while(|l| !l.starts_with('['))
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// A Terraform work directory for a container test. Dropping it runs `terraform destroy`
/// and then removes with `pct` any container left in its vmid range, so a failing test
/// leaves nothing on the node.
pub struct ContainerWorkspace {
    /// The node.
    pub host: TestHost,
    /// Terraform's directory.
    pub wd: Workdir,
    vmids: Option<RangeInclusive<u32>>,
    _base: tempfile::TempDir,
}

impl ContainerWorkspace {
    /// Builds the provider, prepares a work directory for `cli` and cleans the vmid range
    /// of leftovers from an earlier, interrupted run.
    pub fn new(cli: &TerraformCli, vmids: RangeInclusive<u32>) -> Self {
        Self::build(cli, Some(vmids))
    }

    /// A work directory whose configurations own no vmid range (data sources, imports of
    /// containers another workspace owns): dropping it runs `terraform destroy` only.
    pub fn without_vmids(cli: &TerraformCli) -> Self {
        Self::build(cli, None)
    }

    fn build(cli: &TerraformCli, vmids: Option<RangeInclusive<u32>>) -> Self {
        let host = TestHost::load().unwrap_or_else(|e| panic!("{e}"));
        host.ensure_disc();
        let built = providers::build().unwrap_or_else(|e| panic!("{e}"));
        let base = tempfile::tempdir().expect("tempdir");
        let dir = base.path().join("tf");
        std::fs::create_dir_all(&dir).expect("workdir");
        let cli_config = built.write_cli_config(base.path()).expect("cli config");
        let ws = ContainerWorkspace {
            host,
            wd: Workdir {
                dir,
                cli_config,
                cli: cli.clone(),
            },
            vmids,
            _base: base,
        };
        ws.remove_leftovers();
        ws
    }

    /// Writes `main.tf` as the provider block followed by `resources`.
    pub fn write(&self, resources: &str) {
        self.wd
            .write_config(&format!("{}\n{resources}", self.host.provider_hcl()))
            .expect("write main.tf");
    }

    /// `terraform init`.
    pub fn init(&self) {
        self.wd.ok(&["init", "-input=false", "-no-color"]);
    }

    /// Runs Terraform with `args` plus `-input=false -no-color` where they apply.
    pub fn tf(&self, args: &[&str]) -> Run {
        // Options go before positional arguments (`apply -no-color test.tfplan`).
        let mut full: Vec<&str> = args.iter().take(1).copied().collect();
        if matches!(
            args.first().copied(),
            Some("plan" | "apply" | "destroy" | "import" | "refresh" | "init")
        ) {
            full.push("-input=false");
        }
        full.push("-no-color");
        full.extend(args.iter().skip(1));
        self.wd
            .run(&full)
            .unwrap_or_else(|e| panic!("cannot run terraform: {e}"))
    }

    /// Like [`Self::tf`], failing the test with Terraform's output unless it exits 0.
    pub fn tf_ok(&self, args: &[&str]) -> Run {
        let run = self.tf(args);
        assert_eq!(
            run.code,
            0,
            "terraform {} {args:?} failed\n{}",
            self.wd.cli.label,
            run.all()
        );
        run
    }

    /// `terraform apply -auto-approve`.
    pub fn apply(&self) -> Run {
        self.tf_ok(&["apply", "-auto-approve"])
    }

    /// `terraform plan -detailed-exitcode`: 0 = no changes, 2 = changes.
    pub fn plan_exit_code(&self) -> Run {
        self.tf(&["plan", "-detailed-exitcode"])
    }

    /// `terraform plan -out` and its JSON.
    pub fn plan_json(&self) -> Json {
        self.tf_ok(&["plan", "-out=test.tfplan"]);
        self.wd.show_json(Some("test.tfplan"))
    }

    /// The state's value of `address` (`pvelxc_container.transcoder`).
    pub fn state_values(&self, address: &str) -> Json {
        let state = self.wd.show_json(None);
        resources_of(&state["values"]["root_module"])
            .into_iter()
            .find(|r| r["address"] == address)
            .map(|r| r["values"].clone())
            .unwrap_or_else(|| panic!("no {address} in state:\n{state:#}"))
    }

    /// The vmid of `address` in state.
    pub fn vmid(&self, address: &str) -> u32 {
        let values = self.state_values(address);
        values["vmid"]
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or_else(|| panic!("{address} has no vmid: {values:#}"))
    }

    fn remove_leftovers(&self) {
        let Some(range) = &self.vmids else {
            return;
        };
        for vmid in self.host.vmids() {
            if range.contains(&vmid) {
                eprintln!("removing CT {vmid} left over in this suite's vmid range");
                self.host.pct_destroy(vmid);
            }
        }
    }
}

impl Drop for ContainerWorkspace {
    fn drop(&mut self) {
        let _ = self.host.set_faults(&Json::Array(Vec::new()));
        if self.wd.dir.join("terraform.tfstate").exists() {
            match self
                .wd
                .run(&["destroy", "-auto-approve", "-input=false", "-no-color"])
            {
                Ok(run) if run.code == 0 => {}
                Ok(run) => eprintln!("cleanup: terraform destroy failed\n{}", run.all()),
                Err(e) => eprintln!("cleanup: cannot run terraform destroy: {e}"),
            }
        }
        self.remove_leftovers();
    }
}

/// Every resource of a module in `terraform show -json` output, child modules included.
pub fn resources_of(module: &Json) -> Vec<&Json> {
    let mut out: Vec<&Json> = module["resources"]
        .as_array()
        .map(|r| r.iter().collect())
        .unwrap_or_default();
    if let Some(children) = module["child_modules"].as_array() {
        for child in children {
            out.extend(resources_of(child));
        }
    }
    out
}

/// The `resource_changes` entry of `address` in a plan JSON.
pub fn change_of<'a>(plan: &'a Json, address: &str) -> &'a Json {
    plan["resource_changes"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["address"] == address))
        .map(|r| &r["change"])
        .unwrap_or_else(|| panic!("no change for {address} in the plan:\n{plan:#}"))
}

/// Top-level attributes whose planned value differs from the prior one (unknown-after
/// values count as changed).
pub fn changed_attributes(change: &Json) -> Vec<String> {
    let before = change["before"].as_object();
    let after = change["after"].as_object();
    let unknown = change["after_unknown"].as_object();
    let mut keys: Vec<String> = before
        .into_iter()
        .chain(after)
        .flat_map(|m| m.keys().cloned())
        .collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| {
            let b = before.and_then(|m| m.get(k)).unwrap_or(&Json::Null);
            let a = after.and_then(|m| m.get(k)).unwrap_or(&Json::Null);
            let u = unknown
                .and_then(|m| m.get(k))
                .is_some_and(|v| v == &Json::Bool(true));
            u || b != a
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_the_remote_shell() {
        assert_eq!(
            shell_quote("/etc/pve/lxc/501.conf"),
            "/etc/pve/lxc/501.conf"
        );
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("$(id)"), "'$(id)'");
    }

    #[test]
    fn main_section_stops_at_snapshots_and_pending() {
        let conf = "arch: amd64\n# comment\nmemory: 512\n\n[pve:pending]\nmemory: 1024\n";
        assert_eq!(main_section(conf), vec!["arch: amd64", "memory: 512"]);
    }

    #[test]
    fn changed_attributes_compare_before_and_after() {
        let change = serde_json::json!({
            "before": {"memory": 512, "tags": ["a"], "vmid": 501},
            "after": {"memory": 1024, "tags": ["a"], "vmid": 501, "status": null},
            "after_unknown": {"ipv4": true}
        });
        assert_eq!(changed_attributes(&change), vec!["memory"]);
        let unknown = serde_json::json!({
            "before": {"ipv4": {}}, "after": {}, "after_unknown": {"ipv4": true}
        });
        assert_eq!(changed_attributes(&unknown), vec!["ipv4"]);
    }

    #[test]
    fn reads_the_node_description() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("testhost.json");
        std::fs::write(
            &file,
            r#"{"node":"pve","state_dir":"/run/x","bridge":"vmbr0","faults_file":"/run/x/faults.json",
               "templates":["debian-12-standard_12.7-1_amd64.tar.zst"],
               "ssh":{"host":"127.0.0.1","port":8022,"user":"root","private_key":"/k","known_hosts":"/kh"},
               "hardware":{"gpu_card":"/dev/dri/card0","gpu_render":"/dev/dri/renderD128","optical":"/dev/sr0",
                 "optical_generic":"/dev/sg0","optical_rdev":"7:0","loop_device":"/dev/loop0",
                 "disc_image":"/var/lib/pve-testhost/disc.iso","groups":{"video":44,"render":994,"cdrom":24}},
               "api":{"endpoint":"https://127.0.0.1:8006/api2/json","ca_cert":"/ca.pem","token":"root@pam!t=s","root_password":"pw"}}"#,
        )
        .unwrap();
        let host = TestHost::from_file(&file).unwrap();
        assert_eq!(host.ssh.port, 8022);
        assert_eq!(host.hardware.groups["render"], 994);
        assert_eq!(
            host.template(),
            "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
        );
        assert!(host.provider_hcl().contains("file(\"/ca.pem\")"));
        std::fs::write(&file, "{}").unwrap();
        let err = TestHost::from_file(&file).unwrap_err().to_string();
        assert!(err.contains("missing string node"), "{err}");
    }
}
