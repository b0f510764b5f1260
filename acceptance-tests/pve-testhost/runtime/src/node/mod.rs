//! Bringing a pve-testhost node up and down.
//!
//! [`up`] is idempotent and does, in order: a private state directory with persistent
//! mount + UTS namespaces; inside them cgroup2 only at `/sys/fs/cgroup`, an overlay over
//! `/etc` (node accounts without this machine's UID 1000, PVE's subuid/subgid, a render
//! group), `/etc/pve` (the cluster file system directory), an overlay over `/dev` with the
//! GPU and optical-drive stand-ins, a fake `/sys/class`, `/var/lib/lxc`, `/var/lib/vz` and
//! `pct` as `/usr/sbin/pct` (an overlay over `/usr/sbin`); then the bridge with DHCP/DNS
//! and NAT, and sshd. It writes the info files (see [`write_info`]) and returns the
//! [`NodeInfo`]. A second node can join the first one's cluster view
//! ([`NodeConfig::cluster_dir`], [`NodeConfig::shared_network`]); take it down first.
//!
//! [`down`] stops the containers, kills every process left in the node namespace,
//! releases the namespaces (which drops all their mounts), removes bridge, NAT, loop
//! device and the state and data directories.
//!
//! The `pve-testhost` binary calls these, fills [`NodeInfo::api`] once its HTTPS server
//! runs (started with [`command`] so it lives in the namespace) and calls [`write_info`]
//! again to publish the API details. Fault injection: [`faults_path`] + [`crate::faults`].

pub mod etc;
pub mod hardware;
pub mod namespace;
pub mod network;
pub mod ssh;

use std::fs;
use std::net::Ipv4Addr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::cmd::{self, CmdError};
use crate::store::{atomic_write, StoreError};

pub use hardware::Hardware;
pub use ssh::SshInfo;

/// Errors bringing the node up or down.
#[derive(Debug, Error)]
pub enum NodeError {
    /// Not running as root.
    #[error("pve-testhost needs root: it creates namespaces, a bridge, NAT and LXC containers (run it with sudo, or through scripts/test.sh)")]
    NotRoot,
    /// A required program is missing.
    #[error("'{program}' is not installed; install the Debian packages listed in scripts/deps/apt-packages.txt ({package})")]
    MissingTool {
        /// Program looked up.
        program: &'static str,
        /// Debian package providing it.
        package: &'static str,
    },
    /// The node is not up.
    #[error("the node is not up (no namespace at {0}); run 'pve-testhost up' first")]
    NotUp(PathBuf),
    /// A node sharing the network found no bridge to join.
    #[error("bridge {0} does not exist: with PVE_TESTHOST_SHARED_NETWORK=1 the first node must be up before this one")]
    NoSharedBridge(String),
    /// An external tool failed.
    #[error(transparent)]
    Cmd(#[from] CmdError),
    /// Writing state failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// File system error.
    #[error("{}: {source}", path.display())]
    Io {
        /// Path involved.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The info file is unreadable.
    #[error("{}: {message}", path.display())]
    Info {
        /// The file.
        path: PathBuf,
        /// Parser message.
        message: String,
    },
}

impl NodeError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Where and how the node runs. [`NodeConfig::from_env`] reads the documented variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeConfig {
    /// Node name (`PVE_TESTHOST_NODE`, default `pve`).
    pub name: String,
    /// Small state: namespaces, keys, pid files, info (`PVE_TESTHOST_STATE`, default
    /// `/run/pve-testhost`).
    pub state_dir: PathBuf,
    /// Bulky data: overlays, container volumes, templates (`PVE_TESTHOST_DATA`, default
    /// `/var/lib/pve-testhost`).
    pub data_dir: PathBuf,
    /// Bridge name (`vmbr0`).
    pub bridge: String,
    /// Node address on the bridge (`PVE_TESTHOST_BRIDGE_IP`, default 10.123.0.1).
    pub bridge_ip: Ipv4Addr,
    /// Prefix length of the bridge network (24).
    pub bridge_prefix: u8,
    /// SSH port on 127.0.0.1 and the bridge address (`PVE_TESTHOST_SSH_PORT`, default 8022).
    pub ssh_port: u16,
    /// `pct` executable installed as `/usr/sbin/pct` in the node
    /// (`PVE_TESTHOST_PCT`, default: `pct` next to the running executable, else the running
    /// executable itself, which must then call [`crate::pct::dispatch_if_invoked_as_pct`]
    /// first thing in `main`).
    pub pct_binary: PathBuf,
    /// Template tarballs offered as `local:vztmpl/` (`PVE_TESTHOST_TEMPLATE`, default
    /// [`DEFAULT_TEMPLATE`] and every other template built beside it).
    pub templates: Vec<PathBuf>,
    /// Directory mounted as `/etc/pve`. `None`: this node's own `<data>/pve`. A second
    /// node joins the first one's cluster by pointing here at the first node's
    /// `<data>/pve` (`PVE_TESTHOST_CLUSTER_DIR`): both then see `/etc/pve/nodes/*`.
    pub cluster_dir: Option<PathBuf>,
    /// Use the bridge, DHCP and NAT of a node that is already up instead of creating
    /// them; this node only adds its `bridge_ip` to the bridge
    /// (`PVE_TESTHOST_SHARED_NETWORK=1`).
    pub shared_network: bool,
}

/// Default template built by `scripts/build-template.sh`.
pub const DEFAULT_TEMPLATE: &str =
    "/var/cache/pvelxc/templates/debian-12-standard_12.7-1_amd64.tar.zst";

/// The Debian template first (the one tests and the demo use), then every other template
/// `scripts/build-template.sh` has built beside it (e.g. Ubuntu), in name order.
fn default_templates() -> Vec<PathBuf> {
    let first = PathBuf::from(DEFAULT_TEMPLATE);
    let mut others: Vec<PathBuf> = first
        .parent()
        .and_then(|dir| std::fs::read_dir(dir).ok())
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p != &first
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with(".tar.zst") && !n.starts_with('.'))
        })
        .collect();
    others.sort();
    std::iter::once(first).chain(others).collect()
}

impl NodeConfig {
    /// Reads the configuration from the environment (see field docs).
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let exe = std::env::current_exe().ok();
        let sibling = exe.as_ref().and_then(|e| e.parent().map(|d| d.join("pct")));
        let pct_binary = var("PVE_TESTHOST_PCT")
            .map(PathBuf::from)
            .or(sibling.filter(|p| p.is_file()))
            .or(exe)
            .unwrap_or_else(|| PathBuf::from("pct"));
        Self {
            name: var("PVE_TESTHOST_NODE").unwrap_or_else(|| "pve".into()),
            state_dir: var("PVE_TESTHOST_STATE")
                .map(PathBuf::from)
                .unwrap_or_else(|| "/run/pve-testhost".into()),
            data_dir: var("PVE_TESTHOST_DATA")
                .map(PathBuf::from)
                .unwrap_or_else(|| "/var/lib/pve-testhost".into()),
            bridge: "vmbr0".into(),
            bridge_ip: var("PVE_TESTHOST_BRIDGE_IP")
                .and_then(|v| v.parse().ok())
                .unwrap_or(Ipv4Addr::new(10, 123, 0, 1)),
            bridge_prefix: 24,
            ssh_port: var("PVE_TESTHOST_SSH_PORT")
                .and_then(|v| v.parse().ok())
                .unwrap_or(8022),
            pct_binary,
            templates: var("PVE_TESTHOST_TEMPLATE")
                .map(|t| vec![PathBuf::from(t)])
                .unwrap_or_else(default_templates),
            cluster_dir: var("PVE_TESTHOST_CLUSTER_DIR").map(PathBuf::from),
            shared_network: var("PVE_TESTHOST_SHARED_NETWORK").as_deref() == Some("1"),
        }
    }
}

/// HTTPS API details, filled in by the `pve-testhost` binary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiInfo {
    /// `https://127.0.0.1:8006/api2/json`.
    pub endpoint: String,
    /// SHA-256 fingerprint of the CA (or server) certificate.
    pub ca_fingerprint: String,
    /// PEM file of the CA certificate.
    pub ca_cert: PathBuf,
    /// API token `root@pam!name=secret`.
    pub token: String,
    /// root@pam password for ticket auth.
    pub root_password: String,
}

/// Everything a client needs to use the node; written as `node.json`, and with the API
/// part as `testhost.json` / `testhost.env`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// Node name.
    pub node: String,
    /// State directory.
    pub state_dir: PathBuf,
    /// Data directory (container volumes live under `<data>/vz/images`).
    pub data_dir: PathBuf,
    /// nsfs file of the node's mount namespace (`nsenter --mount=<this>`).
    pub mount_namespace: PathBuf,
    /// nsfs file of the node's UTS namespace.
    pub uts_namespace: PathBuf,
    /// Bridge name.
    pub bridge: String,
    /// Node address on the bridge, with prefix.
    pub bridge_address: String,
    /// SSH access.
    pub ssh: SshInfo,
    /// Hardware stand-ins.
    pub hardware: Hardware,
    /// Templates available as `local:vztmpl/<file>`.
    pub templates: Vec<String>,
    /// Directory mounted as the node's `/etc/pve` (shared by the nodes of a cluster).
    #[serde(default)]
    pub cluster_dir: PathBuf,
    /// Fault injection control file.
    pub faults_file: PathBuf,
    /// API details once the API server runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<ApiInfo>,
}

/// Health of a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeStatus {
    /// Namespaces exist and sshd and dnsmasq run.
    pub up: bool,
    /// What is missing or broken, one line each.
    pub problems: Vec<String>,
    /// Info written by `up`, if present.
    pub info: Option<NodeInfo>,
}

/// Fault injection file of a node (see [`crate::faults`]).
pub fn faults_path(config: &NodeConfig) -> PathBuf {
    config.state_dir.join("faults.json")
}

/// A command that runs inside the node (mount + UTS namespace), e.g. the API server.
pub fn command(config: &NodeConfig, program: impl AsRef<std::ffi::OsStr>) -> Command {
    namespace::command(config, program)
}

pub(crate) fn pid_alive(pid_file: &Path) -> bool {
    fs::read_to_string(pid_file)
        .ok()
        .and_then(|p| p.trim().parse::<i32>().ok())
        .is_some_and(|pid| kill(Pid::from_raw(pid), None).is_ok())
}

/// Remembers a host path `up` had to create, so `down` removes it again.
pub(crate) fn record_created(config: &NodeConfig, path: &Path) -> Result<(), NodeError> {
    let list = config.state_dir.join("created-paths");
    let mut text = fs::read_to_string(&list).unwrap_or_default();
    text.push_str(&format!("{}\n", path.display()));
    fs::write(&list, text).map_err(|e| NodeError::io(&list, e))
}

fn require_tools() -> Result<(), NodeError> {
    const TOOLS: &[(&str, &str)] = &[
        ("lxc-start", "lxc"),
        ("lxc-usernsexec", "lxc"),
        ("newuidmap", "uidmap"),
        ("nsenter", "util-linux"),
        ("unshare", "util-linux"),
        ("losetup", "mount"),
        ("ip", "iproute2"),
        ("nft", "nftables"),
        ("dnsmasq", "dnsmasq-base"),
        ("ssh-keygen", "openssh-client"),
        ("tar", "tar"),
        ("zstd", "zstd"),
    ];
    let path = std::env::var("PATH").unwrap_or_default();
    let dirs: Vec<&str> = path.split(':').chain(["/usr/sbin", "/sbin"]).collect();
    for (program, package) in TOOLS {
        if !dirs.iter().any(|d| Path::new(d).join(program).is_file()) {
            return Err(NodeError::MissingTool { program, package });
        }
    }
    if !Path::new("/usr/sbin/sshd").is_file() {
        return Err(NodeError::MissingTool {
            program: "sshd",
            package: "openssh-server",
        });
    }
    Ok(())
}

fn mkdir(path: &Path) -> Result<(), NodeError> {
    fs::create_dir_all(path).map_err(|e| NodeError::io(path, e))
}

/// Brings the node up (idempotent) and returns its info.
pub fn up(config: &NodeConfig) -> Result<NodeInfo, NodeError> {
    if !nix::unistd::geteuid().is_root() {
        return Err(NodeError::NotRoot);
    }
    require_tools()?;
    if !config.pct_binary.is_file() {
        return Err(NodeError::io(
            &config.pct_binary,
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "pct binary not found; build it with 'cargo build -p pve-testhost-runtime --bin pct' or set PVE_TESTHOST_PCT",
            ),
        ));
    }
    let data = &config.data_dir;
    mkdir(&config.state_dir)?;
    fs::set_permissions(
        &config.state_dir,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .map_err(|e| NodeError::io(&config.state_dir, e))?;
    for sub in [
        "lxc",
        "vz/images",
        "vz/template/cache",
        "pve",
        "sbin-upper",
        "sys-class",
        "srv",
    ] {
        mkdir(&data.join(sub))?;
    }
    namespace::create(config)?;
    namespace::cgroup2_only(config)?;

    // /etc: prepare the upper layer before the overlay is mounted.
    let etc_upper = data.join("etc-upper");
    let groups = if namespace::node_mounts(config)?.iter().any(|m| m == "/etc") {
        let text = fs::read_to_string(data.join("device-groups.json")).unwrap_or_default();
        serde_json::from_str(&text).map_err(|e| NodeError::Info {
            path: data.join("device-groups.json"),
            message: e.to_string(),
        })?
    } else {
        mkdir(&etc_upper)?;
        let groups = etc::prepare(&etc_upper, &config.name, &config.bridge_ip.to_string())?;
        let json = serde_json::to_vec(&groups).unwrap_or_default();
        atomic_write(&data.join("device-groups.json"), &json)?;
        namespace::overlay(config, "/etc", &etc_upper, &data.join("etc-work"))?;
        groups
    };
    let pve = config
        .cluster_dir
        .clone()
        .unwrap_or_else(|| data.join("pve"));
    mkdir(&pve.join("nodes").join(&config.name).join("lxc"))?;
    for (link, target) in [
        ("lxc", format!("nodes/{}/lxc", config.name)),
        ("local", format!("nodes/{}", config.name)),
    ] {
        if fs::symlink_metadata(pve.join(link)).is_err() {
            std::os::unix::fs::symlink(target, pve.join(link))
                .map_err(|e| NodeError::io(&pve.join(link), e))?;
        }
    }
    namespace::bind(config, &pve, "/etc/pve", false)?;

    // Hardware: disc image on a loop device, nodes in the /dev overlay, fake sysfs.
    let image = data.join("disc.iso");
    let loop_file = config.state_dir.join("loop-device");
    let recorded = fs::read_to_string(&loop_file).map(|d| d.trim().to_string());
    let loop_device = match recorded {
        Ok(dev) if hardware::loop_holds(&dev, &image) => dev,
        // Detached behind the node's back: the same device again, or sr0's numbers break.
        Ok(dev) if image.exists() && hardware::reattach_loop(&dev, &image).is_ok() => dev,
        _ => {
            hardware::write_disc_image(&image)?;
            let dev = hardware::attach_loop(&image)?;
            fs::write(&loop_file, &dev).map_err(|e| NodeError::io(&loop_file, e))?;
            dev
        }
    };
    let hw = hardware::prepare(
        &data.join("dev-upper"),
        &data.join("sys-class"),
        &loop_device,
        &image,
        groups,
    )?;
    namespace::dev_overlay(config, data)?;
    namespace::sys_class(config, &data.join("sys-class"))?;

    // Node directories.
    let vz = Path::new("/var/lib/vz");
    if !vz.exists() {
        mkdir(vz)?;
        record_created(config, vz)?;
    }
    namespace::bind(config, &data.join("lxc"), "/var/lib/lxc", false)?;
    namespace::bind(config, &data.join("vz"), "/var/lib/vz", false)?;
    let mut templates = Vec::new();
    for template in &config.templates {
        let Some(name) = template.file_name() else {
            continue;
        };
        let target = data.join("vz/template/cache").join(name);
        if !target.exists() && fs::hard_link(template, &target).is_err() {
            fs::copy(template, &target).map_err(|e| NodeError::io(template, e))?;
        }
        templates.push(format!("local:vztmpl/{}", name.to_string_lossy()));
    }
    // Copy then rename, so a `pct` running during a repeated `up` is never overwritten.
    let pct = data.join("sbin-upper/pct");
    let staged = data.join("sbin-upper/.pct.new");
    fs::copy(&config.pct_binary, &staged).map_err(|e| NodeError::io(&config.pct_binary, e))?;
    fs::rename(&staged, &pct).map_err(|e| NodeError::io(&pct, e))?;
    namespace::overlay(
        config,
        "/usr/sbin",
        &data.join("sbin-upper"),
        &data.join("sbin-work"),
    )?;
    namespace::set_hostname(config)?;

    if config.shared_network {
        network::join(config)?;
    } else {
        network::up(config)?;
        network::dnsmasq(config)?;
    }
    let ssh = ssh::up(config)?;

    let info = NodeInfo {
        node: config.name.clone(),
        state_dir: config.state_dir.clone(),
        data_dir: config.data_dir.clone(),
        mount_namespace: namespace::mnt_file(config),
        uts_namespace: namespace::uts_file(config),
        bridge: config.bridge.clone(),
        bridge_address: format!("{}/{}", config.bridge_ip, config.bridge_prefix),
        ssh,
        hardware: hw,
        templates,
        cluster_dir: pve,
        faults_file: faults_path(config),
        api: read_info(config).ok().and_then(|i| i.api),
    };
    write_info(&info)?;
    Ok(info)
}

/// Reads `node.json` of a node that is up.
pub fn read_info(config: &NodeConfig) -> Result<NodeInfo, NodeError> {
    let path = config.state_dir.join("node.json");
    let text = fs::read_to_string(&path).map_err(|e| NodeError::io(&path, e))?;
    serde_json::from_str(&text).map_err(|e| NodeError::Info {
        path,
        message: e.to_string(),
    })
}

/// Writes `node.json`, `testhost.json` (also as `env.json`, the name scripts/test.sh
/// exports as `PVE_TESTHOST_ENV`) and `testhost.env` (shell `KEY=value` lines,
/// values single-quoted) atomically.
pub fn write_info(info: &NodeInfo) -> Result<(), NodeError> {
    let json = serde_json::to_vec_pretty(info).unwrap_or_default();
    atomic_write(&info.state_dir.join("node.json"), &json)?;
    atomic_write(&info.state_dir.join("testhost.json"), &json)?;
    atomic_write(&info.state_dir.join("env.json"), &json)?;
    let mut env = vec![
        ("PVE_TESTHOST_NODE", info.node.clone()),
        ("PVE_TESTHOST_SSH_HOST", info.ssh.host.clone()),
        ("PVE_TESTHOST_SSH_PORT", info.ssh.port.to_string()),
        ("PVE_TESTHOST_SSH_USER", info.ssh.user.clone()),
        (
            "PVE_TESTHOST_SSH_KEY",
            info.ssh.private_key.display().to_string(),
        ),
        (
            "PVE_TESTHOST_SSH_KNOWN_HOSTS",
            info.ssh.known_hosts.display().to_string(),
        ),
        ("PVE_TESTHOST_BRIDGE", info.bridge.clone()),
        (
            "PVE_TESTHOST_MOUNT_NS",
            info.mount_namespace.display().to_string(),
        ),
        (
            "PVE_TESTHOST_FAULTS",
            info.faults_file.display().to_string(),
        ),
    ];
    if let Some(api) = &info.api {
        env.extend([
            ("PVE_TESTHOST_ENDPOINT", api.endpoint.clone()),
            ("PVE_TESTHOST_CA_FINGERPRINT", api.ca_fingerprint.clone()),
            ("PVE_TESTHOST_CA_CERT", api.ca_cert.display().to_string()),
            ("PVE_TESTHOST_TOKEN", api.token.clone()),
            ("PVE_TESTHOST_ROOT_PASSWORD", api.root_password.clone()),
        ]);
    }
    let text: String = env
        .into_iter()
        .map(|(k, v)| format!("{k}='{}'\n", v.replace('\'', "'\\''").replace('\n', "")))
        .collect();
    atomic_write(&info.state_dir.join("testhost.env"), text.as_bytes())?;
    Ok(())
}

/// Checks that the node is up and healthy.
pub fn status(config: &NodeConfig) -> NodeStatus {
    let mut problems = Vec::new();
    if namespace::ns_id(&namespace::mnt_file(config)).is_none() {
        problems.push(format!(
            "no mount namespace at {}",
            namespace::mnt_file(config).display()
        ));
    }
    if !pid_alive(&config.state_dir.join("ssh/sshd.pid")) {
        problems.push("sshd is not running".into());
    }
    if !config.shared_network && !pid_alive(&config.state_dir.join("dnsmasq.pid")) {
        problems.push("dnsmasq is not running".into());
    }
    if !cmd::run_quiet("ip", &["link", "show", "dev", &config.bridge]) {
        problems.push(format!("bridge {} is missing", config.bridge));
    }
    let info = read_info(config).ok();
    if let Some(hw) = info.as_ref().map(|i| &i.hardware) {
        if !hardware::loop_holds(&hw.loop_device, &hw.disc_image) {
            problems.push(format!(
                "{} behind {} no longer holds {} (run `pve-testhost up` to re-insert it)",
                hw.loop_device,
                hw.optical,
                hw.disc_image.display()
            ));
        }
    }
    NodeStatus {
        up: problems.is_empty(),
        problems,
        info,
    }
}

/// PIDs whose mount namespace is the node's.
fn node_pids(ns: (u64, u64)) -> Vec<i32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            fs::metadata(format!("/proc/{pid}/ns/mnt"))
                .map(|m| (m.dev(), m.ino()) == ns)
                .unwrap_or(false)
        })
        .collect()
}

/// CT ids that have an LXC directory on this node.
fn node_vmids(config: &NodeConfig) -> Vec<String> {
    fs::read_dir(config.data_dir.join("lxc"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
                .collect()
        })
        .unwrap_or_default()
}

/// PIDs in this node's container cgroups (`/lxc/<vmid>/...`, `/lxc.monitor/<vmid>`).
fn container_pids(vmids: &[String]) -> Vec<i32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let ours = |path: &str| {
        vmids.iter().any(|id| {
            [format!("/lxc/{id}"), format!("/lxc.monitor/{id}")]
                .iter()
                .any(|p| path == p || path.starts_with(&format!("{p}/")))
        })
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            fs::read_to_string(format!("/proc/{pid}/cgroup"))
                .map(|c| c.lines().any(|l| l.strip_prefix("0::").is_some_and(ours)))
                .unwrap_or(false)
        })
        .collect()
}

fn terminate(mut pids: impl FnMut() -> Vec<i32>) {
    for pid in pids() {
        let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while !pids().is_empty() && Instant::now() < deadline {
        sleep(Duration::from_millis(100));
    }
    for pid in pids() {
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while !pids().is_empty() && Instant::now() < deadline {
        sleep(Duration::from_millis(50));
    }
}

/// Removes this node's container cgroups from the cgroup2 hierarchy, deepest first.
fn remove_cgroups(root: &Path, vmids: &[String]) {
    for top in ["lxc", "lxc.monitor"] {
        for id in vmids {
            let dir = root.join(top).join(id);
            let mut dirs = Vec::new();
            let mut stack = vec![dir];
            while let Some(d) = stack.pop() {
                if let Ok(entries) = fs::read_dir(&d) {
                    for e in entries.filter_map(Result::ok) {
                        if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                            stack.push(e.path());
                        }
                    }
                    dirs.push(d);
                }
            }
            dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
            for d in dirs {
                let _ = fs::remove_dir(d);
            }
        }
        let _ = fs::remove_dir(root.join(top));
    }
    // LXC's own helper cgroup, left behind when empty.
    let _ = fs::remove_dir(root.join("lxc.pivot"));
}

fn mounted_elsewhere(path: &str) -> bool {
    let Ok(entries) = fs::read_dir("/proc") else {
        return true;
    };
    entries.filter_map(Result::ok).any(|e| {
        fs::read_to_string(e.path().join("mountinfo"))
            .is_ok_and(|info| namespace::mount_targets(&info).iter().any(|t| t == path))
    })
}

fn other_sshd_running() -> bool {
    fs::read_dir("/proc")
        .map(|entries| {
            entries.filter_map(Result::ok).any(|e| {
                fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim() == "sshd")
            })
        })
        .unwrap_or(false)
}

/// Tears the node down completely; safe to call when it is partly or not at all up.
pub fn down(config: &NodeConfig) -> Result<(), NodeError> {
    if !nix::unistd::geteuid().is_root() {
        return Err(NodeError::NotRoot);
    }
    let mnt = namespace::mnt_file(config);
    let vmids = node_vmids(config);
    if let Some(ns) = namespace::ns_id(&mnt) {
        if let Ok(out) = cmd::run(namespace::command(config, "lxc-ls").args([
            "-P",
            "/var/lib/lxc",
            "--running",
            "-1",
        ])) {
            for name in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let _ = cmd::run(namespace::command(config, "lxc-stop").args([
                    "-P",
                    "/var/lib/lxc",
                    "-n",
                    name,
                    "-k",
                ]));
            }
        }
        terminate(|| container_pids(&vmids));
        terminate(|| node_pids(ns));
    }
    terminate(|| container_pids(&vmids));
    remove_cgroups(Path::new("/sys/fs/cgroup/unified"), &vmids);
    namespace::release(config);
    if config.shared_network {
        network::leave(config);
    } else {
        network::down(config);
    }
    if let Ok(dev) = fs::read_to_string(config.state_dir.join("loop-device")) {
        cmd::run_quiet("losetup", &["-d", dev.trim()]);
    }
    if let Ok(list) = fs::read_to_string(config.state_dir.join("created-paths")) {
        for path in list.lines().rev() {
            // Another node may still use /run/sshd. A directory that is a mount point in
            // another namespace would not refuse rmdir: Linux detaches those mounts, which
            // would pull /var/lib/vz from under a second node, so check first.
            if (path == "/run/sshd" && other_sshd_running()) || mounted_elsewhere(path) {
                continue;
            }
            let _ = fs::remove_dir(path);
        }
    }
    for dir in [&config.data_dir, &config.state_dir] {
        if dir.exists() {
            fs::remove_dir_all(dir).map_err(|e| NodeError::io(dir, e))?;
        }
    }
    Ok(())
}
