//! Which device groups a container really has: the devices its config passes through
//! (`devN` entries and `lxc.mount.entry` lines for `/dev/...`), and the node's group of
//! each, so the media user's groups carry exactly those GIDs.

use std::collections::BTreeMap;

use pvelxc_pve::config::Device;
use pvelxc_pve::pctconf::PctConf;
use pvelxc_pve::ssh::{DeviceKind, NodeDevices, NodePaths, NodeSsh, SshError};

/// A device the container config passes through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passed {
    /// Host path, e.g. `/dev/dri/renderD128` or `/dev/dri` for a directory bind.
    pub path: String,
    /// The group the container sees for a `devN` entry (`gid=`; PVE's default is 0).
    pub devn_gid: Option<u32>,
}

/// The devices a config passes through, in config order.
pub fn passed_devices(conf: &PctConf) -> Vec<Passed> {
    let data = conf.main().data();
    let mut out = Vec::new();
    for (key, value) in &data.options {
        let is_dev = key
            .strip_prefix("dev")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if !is_dev {
            continue;
        }
        if let Ok(dev) = Device::parse(key, value) {
            out.push(Passed {
                path: dev.path,
                devn_gid: Some(dev.gid.unwrap_or(0)),
            });
        }
    }
    for (key, value) in &data.lxc {
        if key != "lxc.mount.entry" {
            continue;
        }
        if let Some(source) = value.split_whitespace().next() {
            if source.starts_with("/dev/") && !source.contains('\t') {
                out.push(Passed {
                    path: source.to_string(),
                    devn_gid: None,
                });
            }
        }
    }
    out
}

/// The conventional group of a device when the node has no name for its GID.
fn fallback_group(path: &str) -> Option<&'static str> {
    let name = path.rsplit('/').next().unwrap_or("");
    if name.starts_with("renderD") {
        Some("render")
    } else if name.starts_with("card") {
        Some("video")
    } else if name.starts_with("sr") || name.starts_with("sg") {
        Some("cdrom")
    } else {
        None
    }
}

/// Group name to GID, as the container sees the passed devices.
pub fn groups_for(passed: &[Passed], node: &NodeDevices) -> BTreeMap<String, u32> {
    let by_gid: BTreeMap<u32, &str> = node
        .groups
        .iter()
        .map(|(name, gid)| (*gid, name.as_str()))
        .collect();
    let mut out = BTreeMap::new();
    for p in passed {
        let Some(info) = node.device(&p.path) else {
            continue;
        };
        if !matches!(info.kind, DeviceKind::Char | DeviceKind::Block) {
            continue;
        }
        let gid = p.devn_gid.unwrap_or(info.gid);
        if gid == 0 {
            continue;
        }
        let name = by_gid
            .get(&info.gid)
            .copied()
            .or_else(|| fallback_group(&p.path));
        if let Some(name) = name {
            out.entry(name.to_string()).or_insert(gid);
        }
    }
    out
}

/// What the presets need to know about a container.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerFacts {
    /// Group name to GID of the passed-through devices.
    pub device_groups: BTreeMap<String, u32>,
    /// Whether the container is unprivileged.
    pub unprivileged: bool,
}

/// Reads the container's config and the node's devices.
pub async fn discover(
    ssh: &NodeSsh,
    paths: &NodePaths,
    vmid: u32,
) -> Result<ContainerFacts, SshError> {
    let (conf, _) = ssh.read_conf(paths, vmid).await?;
    let unprivileged = conf
        .main()
        .data()
        .options
        .get("unprivileged")
        .is_some_and(|v| v.trim() == "1");
    let device_groups = discover_groups(ssh, paths, &conf).await?;
    Ok(ContainerFacts {
        device_groups,
        unprivileged,
    })
}

async fn discover_groups(
    ssh: &NodeSsh,
    paths: &NodePaths,
    conf: &PctConf,
) -> Result<BTreeMap<String, u32>, SshError> {
    let mut passed = passed_devices(conf);
    if passed.is_empty() {
        return Ok(BTreeMap::new());
    }
    let probe: Vec<&str> = passed.iter().map(|p| p.path.as_str()).collect();
    let mut node = ssh.discover_devices(paths, &probe).await?;
    // A directory bind (/dev/dri) brings every node in it: probe the DRM nodes too.
    let dirs: Vec<String> = passed
        .iter()
        .filter(|p| {
            p.devn_gid.is_none()
                && node
                    .device(&p.path)
                    .is_some_and(|d| !matches!(d.kind, DeviceKind::Char | DeviceKind::Block))
        })
        .map(|p| p.path.clone())
        .collect();
    if !dirs.is_empty() {
        let extra: Vec<String> = node
            .drm
            .iter()
            .map(|d| d.dev_path())
            .filter(|p| dirs.iter().any(|dir| p.starts_with(&format!("{dir}/"))))
            .collect();
        if !extra.is_empty() {
            let refs: Vec<&str> = extra.iter().map(String::as_str).collect();
            node = ssh.discover_devices(paths, &refs).await?;
            passed.extend(extra.into_iter().map(|path| Passed {
                path,
                devn_gid: None,
            }));
        }
    }
    Ok(groups_for(&passed, &node))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devn_and_mount_entries_give_groups() {
        let conf = PctConf::parse(
            "arch: amd64\ndev0: /dev/dri/renderD128,gid=104,mode=0660\n\
             lxc.cgroup2.devices.allow: b 11:0 rwm\n\
             lxc.mount.entry: /dev/sr0 dev/sr0 none bind,optional,create=file\n",
        );
        let passed = passed_devices(&conf);
        assert_eq!(passed.len(), 2, "{passed:?}");
        let node = NodeDevices::parse(
            "dev\t/dev/dri/renderD128\tc\te2 80 0 994 660\ndev\t/dev/sr0\tb\tb 0 0 24 660\n\
             group\trender\t994\ngroup\tcdrom\t24\ngroup\tvideo\t44\n",
        );
        let groups = groups_for(&passed, &node);
        assert_eq!(groups.get("render"), Some(&104));
        assert_eq!(groups.get("cdrom"), Some(&24));
        assert_eq!(groups.get("video"), None);
    }
}
