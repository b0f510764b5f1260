//! Where a node keeps its files, rooted at a configurable directory so that the pct.conf
//! store can be exercised without root (tests use a temporary root, the node uses `/`
//! inside its mount namespace).

use std::path::{Path, PathBuf};

/// File layout of one node, as on a Proxmox VE host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodePaths {
    root: PathBuf,
    node: String,
}

impl NodePaths {
    /// Layout under `root` for the node called `node` (e.g. `pve`).
    pub fn new(root: impl Into<PathBuf>, node: impl Into<String>) -> Self {
        Self {
            root: root.into(),
            node: node.into(),
        }
    }

    /// The node's own layout at `/`, as seen inside the node's mount namespace.
    pub fn system(node: impl Into<String>) -> Self {
        Self::new("/", node)
    }

    /// The node this process runs on: `/`, named by `$PVE_TESTHOST_NODE` or else the
    /// host name (the node's UTS namespace carries the node name).
    pub fn current() -> Self {
        let node = std::env::var("PVE_TESTHOST_NODE")
            .ok()
            .filter(|n| !n.is_empty())
            .or_else(|| {
                nix::unistd::gethostname()
                    .ok()
                    .and_then(|h| h.into_string().ok())
            })
            .unwrap_or_else(|| "pve".to_string());
        Self::system(node)
    }

    /// Root directory everything is relative to.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Node name.
    pub fn node(&self) -> &str {
        &self.node
    }

    fn at(&self, rel: &str) -> PathBuf {
        self.root.join(rel.trim_start_matches('/'))
    }

    /// `/etc/pve` (the cluster file system; shared by all nodes of a cluster).
    pub fn pve_dir(&self) -> PathBuf {
        self.at("etc/pve")
    }

    /// `/etc/pve/nodes/<node>/lxc` of a given node.
    pub fn conf_dir_of(&self, node: &str) -> PathBuf {
        self.pve_dir().join("nodes").join(node).join("lxc")
    }

    /// `/etc/pve/nodes/<this node>/lxc` (`/etc/pve/lxc` links here).
    pub fn conf_dir(&self) -> PathBuf {
        self.conf_dir_of(&self.node)
    }

    /// `/etc/pve/nodes/<node>/lxc/<vmid>.conf`.
    pub fn conf_path(&self, vmid: u32) -> PathBuf {
        self.conf_dir().join(format!("{vmid}.conf"))
    }

    /// The path PVE names in its messages: `nodes/<node>/lxc/<vmid>.conf`.
    pub fn conf_display(&self, vmid: u32) -> String {
        format!("nodes/{}/lxc/{vmid}.conf", self.node)
    }

    /// `/run/lock/lxc/pve-config-<vmid>.lock`, the lock PVE's tools take around
    /// read-modify-write of a CT config.
    pub fn lock_path(&self, vmid: u32) -> PathBuf {
        self.at("run/lock/lxc")
            .join(format!("pve-config-{vmid}.lock"))
    }

    /// `/var/lib/lxc/<vmid>`: the generated LXC config and rootfs mount point.
    pub fn lxc_dir(&self, vmid: u32) -> PathBuf {
        self.at("var/lib/lxc").join(vmid.to_string())
    }

    /// `/var/lib/vz/images/<vmid>`: directory-storage volumes of the CT.
    pub fn images_dir(&self, vmid: u32) -> PathBuf {
        self.at("var/lib/vz/images").join(vmid.to_string())
    }

    /// `/var/lib/vz/template/cache`: `local:vztmpl/` templates.
    pub fn template_dir(&self) -> PathBuf {
        self.at("var/lib/vz/template/cache")
    }

    /// `/etc/subuid`.
    pub fn subuid(&self) -> PathBuf {
        self.at("etc/subuid")
    }

    /// `/etc/subgid`.
    pub fn subgid(&self) -> PathBuf {
        self.at("etc/subgid")
    }
}
