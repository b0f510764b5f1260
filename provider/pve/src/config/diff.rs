//! Turning (current, desired) configs into the one `PUT /config` (plus resizes) that gets PVE
//! from one to the other.

use std::collections::BTreeMap;

use thiserror::Error;

use super::model::{ConfigError, ContainerConfig, Params};
use super::{DiskSize, MountPoint, VolumeKind};

/// Why no update can get from the current config to the desired one.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum DiffError {
    /// A value cannot be rendered.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A key PVE never changes after creation.
    #[error("{key} cannot be changed after the container is created (it is {current}, the configuration asks for {desired}); the container must be replaced")]
    Immutable {
        key: String,
        current: String,
        desired: String,
    },
    /// A volume would have to shrink.
    #[error("{key}: shrinking a volume is not supported by PVE (current size {current}, requested {desired}); keep the size or replace the container")]
    Shrink {
        key: String,
        current: DiskSize,
        desired: DiskSize,
    },
    /// A volume would move to another volume or storage.
    #[error("{key}: the volume cannot be swapped in place (current '{current}', requested '{desired}'); remove the mount point and add a new one")]
    VolumeSwap {
        key: String,
        current: String,
        desired: String,
    },
}

impl DiffError {
    /// The PVE config key concerned.
    pub fn key(&self) -> String {
        match self {
            Self::Config(c) => c.key(),
            Self::Immutable { key, .. }
            | Self::Shrink { key, .. }
            | Self::VolumeSwap { key, .. } => key.clone(),
        }
    }
}

/// The changes to send: `set` and `delete` go into one `PUT /config` (with `digest`), each
/// resize is a `PUT /resize`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigUpdate {
    /// Keys to set with their rendered values.
    pub set: Params,
    /// Keys to remove.
    pub delete: Vec<String>,
    /// Volumes to grow: (`rootfs` | `mpN`, new size).
    pub resize: Vec<(String, DiskSize)>,
    /// The digest of the config the update was computed from.
    pub digest: Option<String>,
    /// Keys in this update that only root@pam may change.
    pub root_only: Vec<String>,
}

impl ConfigUpdate {
    /// Nothing to do.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.delete.is_empty() && self.resize.is_empty()
    }

    /// Whether the `PUT /config` must be sent with a root@pam ticket.
    pub fn needs_root(&self) -> bool {
        !self.root_only.is_empty()
    }

    /// The `PUT /config` parameters: set keys, `delete` (comma list) and `digest`.
    /// `None` when only resizes remain.
    pub fn put_params(&self) -> Option<Params> {
        if self.set.is_empty() && self.delete.is_empty() {
            return None;
        }
        let mut p = self.set.clone();
        if !self.delete.is_empty() {
            p.push(("delete".to_string(), self.delete.join(",")));
        }
        if let Some(d) = &self.digest {
            p.push(("digest".to_string(), d.clone()));
        }
        Some(p)
    }
}

/// Keys PVE refuses to delete; absent in `desired` means "leave as is".
const UNDELETABLE: &[&str] = &["memory", "rootfs", "ostype", "arch", "unprivileged"];

/// Computes the update that makes `current` equal to `desired` for every key the model covers.
///
/// `desired` is the complete wanted config: a key it lacks is deleted (except keys PVE cannot
/// delete). PVE's rewrites never produce changes: values are compared after normalisation,
/// a desired network without `hwaddr` keeps the current MAC, and a desired allocation request
/// (`local-lvm:20`) matches the volume PVE allocated for it (a larger size becomes a resize).
pub fn compute_update(
    current: &ContainerConfig,
    desired: &ContainerConfig,
) -> Result<ConfigUpdate, DiffError> {
    let mut desired = desired.clone();

    if let (Some(c), Some(d)) = (current.unprivileged, desired.unprivileged) {
        if c != d {
            return Err(DiffError::Immutable {
                key: "unprivileged".into(),
                current: flag(c),
                desired: flag(d),
            });
        }
    }
    // Keep the MAC PVE generated unless one is pinned.
    for (i, n) in desired.networks.iter_mut() {
        if n.hwaddr.is_none() {
            n.hwaddr = current.networks.get(i).and_then(|c| c.hwaddr.clone());
        }
        if n.kind.is_none() {
            n.kind = current.networks.get(i).and_then(|c| c.kind.clone());
        }
    }
    let mut resize = Vec::new();
    if let (Some(c), Some(d)) = (&current.rootfs, desired.rootfs.as_mut()) {
        if let Some(r) = reconcile_volume("rootfs", c, d)? {
            resize.push(r);
        }
    }
    for (i, d) in desired.mount_points.iter_mut() {
        if let Some(c) = current.mount_points.get(i) {
            let key = format!("mp{i}");
            if let Some(r) = reconcile_volume(&key, c, d)? {
                resize.push(r);
            }
        }
    }

    let cur_n = current.normalized();
    let des_n = desired.normalized();
    let cur_vals: BTreeMap<String, String> = cur_n.rendered_entries()?.into_iter().collect();
    let des_vals: BTreeMap<String, String> = des_n.rendered_entries()?.into_iter().collect();
    // Values to send are rendered from the desired config as given (normalised only where
    // PVE would store the same thing anyway).
    let send_vals: BTreeMap<String, String> = desired.rendered_entries()?.into_iter().collect();

    let mut update = ConfigUpdate {
        digest: current.digest.clone(),
        resize,
        ..Default::default()
    };
    for (key, value) in &des_vals {
        if cur_vals.get(key) != Some(value) {
            if key == "unprivileged" {
                continue;
            }
            let send = send_vals.get(key).cloned().unwrap_or_else(|| value.clone());
            update.set.push((key.clone(), send));
        }
    }
    for key in cur_vals.keys() {
        if !des_vals.contains_key(key) && !UNDELETABLE.contains(&key.as_str()) {
            update.delete.push(key.clone());
        }
    }
    update.root_only = root_only_changes(current, &desired, &update);
    Ok(update)
}

/// Makes a desired volume comparable with the current one and returns a needed resize.
fn reconcile_volume(
    key: &str,
    current: &MountPoint,
    desired: &mut MountPoint,
) -> Result<Option<(String, DiskSize)>, DiffError> {
    if current.kind() != VolumeKind::Volume || desired.kind() != VolumeKind::Volume {
        return Ok(None);
    }
    let wanted_size = match desired.allocation_gib() {
        Some(gib) => {
            if desired.storage() != current.storage() {
                return Err(DiffError::VolumeSwap {
                    key: key.into(),
                    current: current.volume.clone(),
                    desired: desired.volume.clone(),
                });
            }
            desired.volume = current.volume.clone();
            Some(DiskSize((gib * (1u64 << 30) as f64) as u64))
        }
        None if desired.volume == current.volume => desired.size,
        None => return Ok(None),
    };
    desired.size = current.size;
    match (current.size, wanted_size) {
        (Some(cur), Some(want)) if want > cur => Ok(Some((key.to_string(), want))),
        (Some(cur), Some(want)) if want < cur => Err(DiffError::Shrink {
            key: key.into(),
            current: cur,
            desired: want,
        }),
        _ => Ok(None),
    }
}

/// The keys of `update` PVE lets only root@pam change (`check_ct_modify_config_perm`).
fn root_only_changes(
    current: &ContainerConfig,
    desired: &ContainerConfig,
    update: &ConfigUpdate,
) -> Vec<String> {
    let privileged = current
        .unprivileged
        .or(desired.unprivileged)
        .map(|u| !u)
        .unwrap_or(true);
    let mut out = Vec::new();
    for (key, _) in &update.set {
        let root = if key == "rootfs" {
            desired
                .rootfs
                .as_ref()
                .is_some_and(|m| m.kind() != VolumeKind::Volume)
        } else if let Some(i) = key.strip_prefix("mp").and_then(|i| i.parse::<u32>().ok()) {
            desired
                .mount_points
                .get(&i)
                .is_some_and(|m| m.kind() != VolumeKind::Volume)
        } else if key.starts_with("dev") && key[3..].bytes().all(|b| b.is_ascii_digit()) {
            true
        } else if key == "features" {
            let cur = current.features.clone().unwrap_or_default();
            let des = desired.features.clone().unwrap_or_default();
            privileged || cur.differs_beyond_nesting(&des)
        } else {
            key == "hookscript"
        };
        if root {
            out.push(key.clone());
        }
    }
    for key in &update.delete {
        let root =
            (key == "features" && privileged) || key.starts_with("dev") || key == "hookscript";
        if root {
            out.push(key.clone());
        }
    }
    out
}

fn flag(b: bool) -> String {
    if b { "1" } else { "0" }.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, &str)]) -> ContainerConfig {
        ContainerConfig::from_pairs(pairs.iter().copied()).unwrap()
    }

    fn current() -> ContainerConfig {
        let mut c = cfg(&[
            ("hostname", "transcoder"),
            ("memory", "8192"),
            ("swap", "2048"),
            ("cores", "8"),
            ("ostype", "debian"),
            ("arch", "amd64"),
            ("tags", "gpu;media"),
            ("features", "nesting=1"),
            ("rootfs", "local-lvm:vm-201-disk-0,size=20G"),
            ("mp0", "/mnt/storage,mp=/mnt/storage"),
            (
                "net0",
                "bridge=vmbr0,firewall=0,hwaddr=BC:24:11:5E:2A:01,ip=dhcp,name=eth0,type=veth",
            ),
        ]);
        c.digest = Some("abc".into());
        c
    }

    #[test]
    fn pve_rewrites_give_an_empty_update() {
        let desired = cfg(&[
            ("hostname", "transcoder"),
            ("memory", "8192"),
            ("swap", "2048"),
            ("cores", "8"),
            ("ostype", "debian"),
            ("tags", "Media,GPU"),
            ("features", "nesting=true"),
            ("rootfs", "local-lvm:20"),
            ("mp0", "/mnt/storage/,mp=/mnt/storage,ro=0"),
            ("net0", "name=eth0,bridge=vmbr0,ip=dhcp,firewall=0"),
        ]);
        let u = compute_update(&current(), &desired).unwrap();
        assert!(u.is_empty(), "{u:?}");
        assert_eq!(u.put_params(), None);
    }

    #[test]
    fn changes_deletes_and_resizes() {
        let mut desired = current();
        desired.memory = Some(4096);
        desired.tags = vec!["media".into()];
        desired.mount_points.insert(
            1,
            MountPoint::parse_mp("mp1", "/srv/media/tv,mp=/media/tv,ro=1").unwrap(),
        );
        desired.swap = None;
        desired.rootfs =
            Some(MountPoint::parse_rootfs("local-lvm:vm-201-disk-0,size=32G").unwrap());
        let u = compute_update(&current(), &desired).unwrap();
        assert_eq!(
            u.set,
            vec![
                ("memory".to_string(), "4096".to_string()),
                (
                    "mp1".to_string(),
                    "/srv/media/tv,mp=/media/tv,ro=1".to_string()
                ),
                ("tags".to_string(), "media".to_string()),
            ]
        );
        assert_eq!(u.delete, vec!["swap"]);
        assert_eq!(
            u.resize,
            vec![("rootfs".to_string(), DiskSize::from_gib(32))]
        );
        assert_eq!(u.root_only, vec!["mp1"]);
        let p = u.put_params().unwrap();
        assert_eq!(
            p.last().unwrap(),
            &("digest".to_string(), "abc".to_string())
        );
        assert!(p.contains(&("delete".to_string(), "swap".to_string())));
    }

    #[test]
    fn refusals() {
        let mut d = current();
        d.unprivileged = Some(true);
        let mut c = current();
        c.unprivileged = Some(false);
        assert_eq!(compute_update(&c, &d).unwrap_err().key(), "unprivileged");

        let mut d = current();
        d.rootfs = Some(MountPoint::parse_rootfs("local-lvm:8").unwrap());
        let e = compute_update(&current(), &d).unwrap_err();
        assert!(matches!(e, DiffError::Shrink { .. }), "{e}");

        let mut d = current();
        d.rootfs = Some(MountPoint::parse_rootfs("other:20").unwrap());
        assert!(matches!(
            compute_update(&current(), &d).unwrap_err(),
            DiffError::VolumeSwap { .. }
        ));
    }

    #[test]
    fn root_only_detection() {
        let mut d = current();
        d.features = Some(super::super::Features::parse("nesting=1,fuse=1").unwrap());
        d.devices.insert(
            0,
            super::super::Device::parse("dev0", "/dev/dri/renderD128,gid=104").unwrap(),
        );
        let u = compute_update(&current(), &d).unwrap();
        assert_eq!(u.root_only, vec!["dev0", "features"]);

        // Nesting alone on an unprivileged CT is allowed for tokens.
        let mut c = current();
        c.unprivileged = Some(true);
        c.mount_points.clear();
        let mut d = c.clone();
        d.features = Some(super::super::Features::parse("nesting=0").unwrap());
        let u = compute_update(&c, &d).unwrap();
        assert!(u.root_only.is_empty(), "{u:?}");
    }
}
