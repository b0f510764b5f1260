//! Expansion of the `gpu`, `optical_drive` and `idmap` blocks into what PVE and LXC
//! understand, from the node's real devices (never hard-coded numbers).
//!
//! * privileged: `lxc.cgroup2.devices.allow` for every device node plus `lxc.mount.entry`
//!   bind mounts (the runbooks' lines);
//! * unprivileged: `devN` entries, which PVE turns into the same cgroup rules and device
//!   nodes owned by the right group, in free slots after the user's own `device` slots;
//! * `idmap`: `lxc.idmap` lines plus the `/etc/subuid` / `/etc/subgid` ranges root needs.

use std::collections::{BTreeMap, BTreeSet};

use pvelxc_cty::Path;
use pvelxc_pve::config::{Device, MAX_DEVICES};
use pvelxc_pve::ssh::{DeviceKind, NodeDevices, SubIdFile};
use pvelxc_schema::Diagnostic;

use crate::lxc::idmap::{passthrough, IdMapLayout};

/// What the configuration asks the presets for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PresetRequest {
    /// `gpu.vendor`.
    pub gpu: Option<String>,
    /// `optical_drive[*].device`.
    pub optical: Vec<String>,
    /// `idmap.uids` / `idmap.gids`.
    pub idmap: Option<(Vec<i64>, Vec<i64>)>,
    pub unprivileged: bool,
    /// `device[*].slot`, which the presets must not take.
    pub user_dev_slots: BTreeSet<u32>,
}

impl PresetRequest {
    /// Whether anything needs node discovery over SSH.
    pub fn needs_discovery(&self) -> bool {
        self.gpu.is_some() || !self.optical.is_empty()
    }

    /// Whether nothing is requested.
    pub fn is_empty(&self) -> bool {
        !self.needs_discovery() && self.idmap.is_none()
    }
}

/// The expansion: raw lines, devices and node-side id ranges.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expansion {
    /// Raw `lxc.*` lines, written after the user's `raw_lxc`.
    pub lxc: Vec<(String, String)>,
    /// `devN` entries (unprivileged containers).
    pub devices: BTreeMap<u32, Device>,
    /// `video`/`render`/`cdrom` GIDs on the node for the devices passed through.
    pub gids: BTreeMap<String, u32>,
    /// `(file, "start:count")` ranges root must own on the node.
    pub subids: Vec<(SubIdFile, String)>,
}

impl Expansion {
    /// The `generated_lxc` lines: raw lines as `key: value`, then `devN: value`.
    pub fn generated_lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self.lxc.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        for (i, d) in &self.devices {
            let key = format!("dev{i}");
            if let Ok(v) = d.render(&key) {
                out.push(format!("{key}: {v}"));
            }
        }
        out
    }
}

/// Expands the `idmap` block alone (no node access needed).
pub fn expand_idmap(req: &PresetRequest, out: &mut Expansion) -> Result<(), Diagnostic> {
    let Some((uids, gids)) = &req.idmap else {
        return Ok(());
    };
    let at = Path::root().attr("idmap");
    if !req.unprivileged {
        return Err(Diagnostic::error(
            at,
            "idmap needs an unprivileged container",
            "A privileged container shares the host's IDs already, so idmap has no effect. \
             Remove the idmap block or set unprivileged = true.",
        ));
    }
    let entries = passthrough(IdMapLayout::default(), uids, gids).map_err(|e| {
        let which = match e.kind() {
            crate::lxc::idmap::IdKind::User => "uids",
            crate::lxc::idmap::IdKind::Group => "gids",
        };
        Diagnostic::error(at.attr(which), "Invalid idmap", e.to_string())
    })?;
    for e in entries {
        out.lxc.push(("lxc.idmap".to_string(), e.to_string()));
    }
    for u in uids {
        out.subids.push((SubIdFile::Uid, format!("{u}:1")));
    }
    for g in gids {
        out.subids.push((SubIdFile::Gid, format!("{g}:1")));
    }
    Ok(())
}

/// Paths to probe on the node before expanding: the optical drives and the user's devices.
pub fn probe_paths(req: &PresetRequest, user_devices: &[String]) -> Vec<String> {
    let mut paths: Vec<String> = req.optical.clone();
    paths.extend(user_devices.iter().cloned());
    paths.sort();
    paths.dedup();
    paths
}

/// Checks that every user `device` path exists on the node as a device node.
pub fn check_user_devices(devices: &NodeDevices, user: &[(usize, String)]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (index, path) in user {
        let problem = match devices.device(path).map(|d| d.kind) {
            Some(DeviceKind::Block | DeviceKind::Char) => continue,
            Some(DeviceKind::Other) => "exists on the node but is not a device node",
            Some(DeviceKind::Missing) | None => "does not exist on the node",
        };
        out.push(Diagnostic::error(
            Path::root()
                .attr("device")
                .index(*index as i64)
                .attr("path"),
            "Device not found on the node",
            format!("{path} {problem}; check the path (ls -l {path} on the node)."),
        ));
    }
    out
}

/// Expands everything from the discovered devices.
pub fn expand(req: &PresetRequest, devices: &NodeDevices) -> Result<Expansion, Vec<Diagnostic>> {
    let mut out = Expansion::default();
    let mut diags = Vec::new();
    // (path, kind letter, major, minor, gid group, mount entry)
    let mut nodes: Vec<(String, char, u32, u32, Option<u32>)> = Vec::new();
    let mut mounts: Vec<String> = Vec::new();

    if let Some(vendor) = &req.gpu {
        let mut gpus = devices.gpus(vendor);
        gpus.sort_by_key(|g| (g.major, g.minor));
        let found: Vec<_> = gpus
            .iter()
            .filter_map(|g| Some((g.dev_path(), g.name.clone(), g.major?, g.minor?)))
            .collect();
        if found.is_empty() {
            diags.push(Diagnostic::error(
                Path::root().attr("gpu").attr("vendor"),
                "No GPU found on the node",
                format!(
                    "No {vendor} GPU shows up under /sys/class/drm on the node; check the driver \
                     (ls -l /dev/dri) or use vendor = \"auto\"."
                ),
            ));
        }
        for (path, name, major, minor) in found {
            let group = if name.starts_with("render") {
                "render"
            } else {
                "video"
            };
            let gid = devices.groups.get(group).copied();
            if let Some(g) = gid {
                out.gids.insert(group.to_string(), g);
            }
            nodes.push((path, 'c', major, minor, gid));
        }
        mounts.push("/dev/dri dev/dri none bind,optional,create=dir".to_string());
    }

    for (index, drive) in req.optical.iter().enumerate() {
        let at = Path::root()
            .attr("optical_drive")
            .index(index as i64)
            .attr("device");
        let Some(info) = devices
            .device(drive)
            .filter(|d| d.kind == DeviceKind::Block)
        else {
            diags.push(Diagnostic::error(
                at,
                "Optical drive not found on the node",
                format!("{drive} is not a block device on the node; check ls -l {drive} there."),
            ));
            continue;
        };
        let gid = devices.groups.get("cdrom").copied().or(Some(info.gid));
        if let Some(g) = gid {
            out.gids.insert("cdrom".to_string(), g);
        }
        nodes.push((drive.clone(), 'b', info.major, info.minor, gid));
        let name = drive.trim_start_matches('/');
        mounts.push(format!("{drive} {name} none bind,optional,create=file"));
        match devices.sg_twin(drive) {
            Some(sg) => match (sg.major, sg.minor) {
                (Some(major), Some(minor)) => {
                    let path = format!("/dev/{}", sg.sg);
                    mounts.push(format!(
                        "{path} {} none bind,optional,create=file",
                        path.trim_start_matches('/')
                    ));
                    nodes.push((path, 'c', major, minor, gid));
                }
                _ => diags.push(Diagnostic::error(
                    at,
                    "SCSI-generic device without numbers",
                    format!(
                        "The node lists {} for {drive} but not its major:minor.",
                        sg.sg
                    ),
                )),
            },
            None => diags.push(Diagnostic::error(
                at,
                "No SCSI-generic twin for the optical drive",
                format!(
                    "{drive} has no /dev/sgN twin on the node (ripping needs it); load the sg \
                     module (modprobe sg)."
                ),
            )),
        }
    }
    if !diags.is_empty() {
        return Err(diags);
    }

    if req.unprivileged {
        let mut slot = req.user_dev_slots.iter().next_back().map_or(0, |s| s + 1);
        for (path, _, _, _, gid) in &nodes {
            while req.user_dev_slots.contains(&slot) {
                slot += 1;
            }
            if slot >= MAX_DEVICES {
                return Err(vec![Diagnostic::error(
                    Path::root().attr("device"),
                    "No free device slot",
                    format!("The presets need more devN slots than PVE's {MAX_DEVICES}."),
                )]);
            }
            out.devices.insert(
                slot,
                Device {
                    path: path.clone(),
                    mode: Some("0660".to_string()),
                    uid: None,
                    gid: *gid,
                    deny_write: None,
                },
            );
            slot += 1;
        }
    } else {
        for (_, letter, major, minor, _) in &nodes {
            out.lxc.push((
                "lxc.cgroup2.devices.allow".to_string(),
                format!("{letter} {major}:{minor} rwm"),
            ));
        }
        for m in mounts {
            out.lxc.push(("lxc.mount.entry".to_string(), m));
        }
    }
    expand_idmap(req, &mut out).map_err(|d| vec![d])?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node() -> NodeDevices {
        NodeDevices::parse(
            "dev\t/dev/sr0\tb\tb 0 0 24 660\n\
             drm\tcard0\t0x8086\t226:0\ndrm\trenderD128\t0x8086\t226:128\n\
             sg\tsr0\tsg0\t21:0\ngroup\tvideo\t44\ngroup\trender\t104\ngroup\tcdrom\t24\n",
        )
    }

    #[test]
    fn privileged_transcoder_gets_the_runbook_lines() {
        let req = PresetRequest {
            gpu: Some("intel".into()),
            ..Default::default()
        };
        let e = expand(&req, &node()).unwrap();
        assert_eq!(
            e.generated_lines(),
            vec![
                "lxc.cgroup2.devices.allow: c 226:0 rwm",
                "lxc.cgroup2.devices.allow: c 226:128 rwm",
                "lxc.mount.entry: /dev/dri dev/dri none bind,optional,create=dir",
            ]
        );
        assert_eq!(e.gids.get("render"), Some(&104));
    }

    #[test]
    fn privileged_ripper_gets_block_and_sg_lines() {
        let req = PresetRequest {
            optical: vec!["/dev/sr0".into()],
            ..Default::default()
        };
        let e = expand(&req, &node()).unwrap();
        assert_eq!(
            e.generated_lines(),
            vec![
                "lxc.cgroup2.devices.allow: b 11:0 rwm",
                "lxc.cgroup2.devices.allow: c 21:0 rwm",
                "lxc.mount.entry: /dev/sr0 dev/sr0 none bind,optional,create=file",
                "lxc.mount.entry: /dev/sg0 dev/sg0 none bind,optional,create=file",
            ]
        );
    }

    #[test]
    fn unprivileged_presets_use_free_dev_slots_and_group_gids() {
        let req = PresetRequest {
            gpu: Some("auto".into()),
            optical: vec!["/dev/sr0".into()],
            unprivileged: true,
            user_dev_slots: [0, 2].into_iter().collect(),
            idmap: Some((vec![1000], vec![1000])),
        };
        let e = expand(&req, &node()).unwrap();
        let slots: Vec<u32> = e.devices.keys().copied().collect();
        assert_eq!(slots, vec![3, 4, 5, 6]);
        assert_eq!(e.devices[&3].path, "/dev/dri/card0");
        assert_eq!(e.devices[&3].gid, Some(44));
        assert_eq!(e.devices[&4].gid, Some(104));
        assert_eq!(e.devices[&5].path, "/dev/sr0");
        assert_eq!(e.devices[&6].path, "/dev/sg0");
        assert!(e.lxc.iter().all(|(k, _)| k == "lxc.idmap"));
        assert_eq!(e.lxc[1].1, "u 1000 1000 1");
        assert_eq!(e.subids.len(), 2);
        assert!(e
            .generated_lines()
            .contains(&"dev3: /dev/dri/card0,gid=44,mode=0660".to_string()));
    }

    #[test]
    fn missing_hardware_errors_name_the_attribute() {
        let req = PresetRequest {
            gpu: Some("nvidia".into()),
            optical: vec!["/dev/sr1".into()],
            ..Default::default()
        };
        let errs = expand(&req, &node()).unwrap_err();
        let paths: Vec<String> = errs.iter().map(|d| d.path.to_string()).collect();
        assert_eq!(paths.len(), 2, "{paths:?}");
        assert!(paths[0].contains("gpu"));
        assert!(paths[1].contains("optical_drive"));
    }

    #[test]
    fn idmap_on_privileged_is_refused() {
        let req = PresetRequest {
            idmap: Some((vec![1000], vec![])),
            ..Default::default()
        };
        let mut e = Expansion::default();
        let d = expand_idmap(&req, &mut e).unwrap_err();
        assert_eq!(d.path, Path::root().attr("idmap"));
    }
}
