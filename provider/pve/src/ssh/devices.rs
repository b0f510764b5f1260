//! Device discovery on the node in one remote command: device node types and numbers, GPU
//! vendors from sysfs, the SCSI-generic twin of optical drives, and the node's device groups.
//!
//! The output is one record per line, tab-separated, so it parses without a JSON dependency on
//! the node and without ambiguity (paths are checked to hold no tabs or newlines).

use std::collections::BTreeMap;

use super::conf_edit::NodePaths;
use super::session::{check_remote_path, NodeSsh};
use super::SshError;

/// What a path on the node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceKind {
    /// Block device (`b`), e.g. `/dev/sr0` (11:0).
    Block,
    /// Character device (`c`), e.g. `/dev/dri/renderD128` (226:128), `/dev/sg0` (21:0).
    Char,
    /// Exists but is not a device node.
    Other,
    /// Does not exist.
    Missing,
}

impl DeviceKind {
    /// `b` or `c` as in cgroup device rules.
    pub fn cgroup_letter(self) -> Option<char> {
        match self {
            Self::Block => Some('b'),
            Self::Char => Some('c'),
            _ => None,
        }
    }
}

/// One probed path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    pub path: String,
    pub kind: DeviceKind,
    pub major: u32,
    pub minor: u32,
    pub uid: u32,
    pub gid: u32,
    /// Permission bits, octal text (`660`).
    pub mode: String,
}

/// A DRM device from `/sys/class/drm/<name>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DrmNode {
    /// `card0`, `renderD128`.
    pub name: String,
    /// PCI vendor id as sysfs prints it (`0x8086`).
    pub vendor_id: String,
    pub major: Option<u32>,
    pub minor: Option<u32>,
}

impl DrmNode {
    /// `intel`, `amd` or `nvidia` for the PCI vendor ids of those GPU makers.
    pub fn vendor(&self) -> Option<&'static str> {
        match self.vendor_id.trim().to_ascii_lowercase().as_str() {
            "0x8086" => Some("intel"),
            "0x1002" | "0x1022" => Some("amd"),
            "0x10de" => Some("nvidia"),
            _ => None,
        }
    }

    /// The device node path (`/dev/dri/card0`).
    pub fn dev_path(&self) -> String {
        format!("/dev/dri/{}", self.name)
    }
}

/// A block device and its SCSI-generic twin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScsiGeneric {
    /// `sr0`.
    pub block: String,
    /// `sg0`.
    pub sg: String,
    pub major: Option<u32>,
    pub minor: Option<u32>,
}

/// Everything device discovery found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeDevices {
    pub devices: Vec<DeviceInfo>,
    pub drm: Vec<DrmNode>,
    pub scsi_generic: Vec<ScsiGeneric>,
    /// `video`, `render`, `cdrom`, ... to their GIDs on the node.
    pub groups: BTreeMap<String, u32>,
}

impl NodeDevices {
    /// The probe result for `path`.
    pub fn device(&self, path: &str) -> Option<&DeviceInfo> {
        self.devices.iter().find(|d| d.path == path)
    }

    /// The SCSI-generic twin of a block device (`sr0` → `sg0`).
    pub fn sg_twin(&self, block: &str) -> Option<&ScsiGeneric> {
        let name = block.rsplit('/').next().unwrap_or(block);
        self.scsi_generic.iter().find(|s| s.block == name)
    }

    /// DRM nodes of a vendor (`intel`, `amd`, `nvidia`), or of any known vendor for `auto`.
    pub fn gpus(&self, vendor: &str) -> Vec<&DrmNode> {
        self.drm
            .iter()
            .filter(|d| match d.vendor() {
                Some(v) => vendor == "auto" || v == vendor,
                None => false,
            })
            .collect()
    }

    /// Parses the discovery script's output. Unknown or malformed records are skipped.
    pub fn parse(output: &str) -> Self {
        let mut out = Self::default();
        for line in output.lines() {
            let f: Vec<&str> = line.split('\t').collect();
            match f.as_slice() {
                ["dev", path, "missing"] => out.devices.push(DeviceInfo {
                    path: (*path).to_string(),
                    kind: DeviceKind::Missing,
                    major: 0,
                    minor: 0,
                    uid: 0,
                    gid: 0,
                    mode: String::new(),
                }),
                ["dev", path, kind, stat] => {
                    let kind = match *kind {
                        "b" => DeviceKind::Block,
                        "c" => DeviceKind::Char,
                        _ => DeviceKind::Other,
                    };
                    let s: Vec<&str> = stat.split_whitespace().collect();
                    if let [maj, min, uid, gid, mode] = s.as_slice() {
                        let hex = |t: &str| u32::from_str_radix(t, 16).ok();
                        let (Some(major), Some(minor), Ok(uid), Ok(gid)) =
                            (hex(maj), hex(min), uid.parse(), gid.parse())
                        else {
                            continue;
                        };
                        out.devices.push(DeviceInfo {
                            path: (*path).to_string(),
                            kind,
                            major,
                            minor,
                            uid,
                            gid,
                            mode: (*mode).to_string(),
                        });
                    }
                }
                ["drm", name, vendor, dev] => {
                    let (major, minor) = parse_majmin(dev);
                    out.drm.push(DrmNode {
                        name: (*name).to_string(),
                        vendor_id: (*vendor).to_string(),
                        major,
                        minor,
                    });
                }
                ["sg", block, sg, dev] => {
                    let (major, minor) = parse_majmin(dev);
                    let entry = ScsiGeneric {
                        block: (*block).to_string(),
                        sg: (*sg).to_string(),
                        major,
                        minor,
                    };
                    if !out.scsi_generic.contains(&entry) {
                        out.scsi_generic.push(entry);
                    }
                }
                ["group", name, gid] => {
                    if let Ok(gid) = gid.parse() {
                        out.groups.insert((*name).to_string(), gid);
                    }
                }
                _ => {}
            }
        }
        out
    }
}

fn parse_majmin(text: &str) -> (Option<u32>, Option<u32>) {
    match text.trim().split_once(':') {
        Some((a, b)) => (a.parse().ok(), b.parse().ok()),
        None => (None, None),
    }
}

/// `$1` sysfs root, `$2` group file, `$3...` device paths to probe.
const DISCOVER_SCRIPT: &str = r#"sys=$1 groupfile=$2
shift 2
for p in "$@"; do
  if [ -b "$p" ]; then t=b; elif [ -c "$p" ]; then t=c; elif [ -e "$p" ]; then t=o; else
    printf 'dev\t%s\tmissing\n' "$p"; continue
  fi
  printf 'dev\t%s\t%s\t%s\n' "$p" "$t" "$(stat -L -c '%t %T %u %g %a' -- "$p")"
done
for v in "$sys"/class/drm/*/device/vendor; do
  [ -r "$v" ] || continue
  d=${v%/device/vendor}
  printf 'drm\t%s\t%s\t%s\n' "${d##*/}" "$(cat -- "$v")" "$(cat -- "$d/dev" 2>/dev/null)"
done
for s in "$sys"/class/scsi_generic/*; do
  [ -e "$s" ] || continue
  for b in "$s"/device/block/*; do
    [ -e "$b" ] && printf 'sg\t%s\t%s\t%s\n' "${b##*/}" "${s##*/}" "$(cat -- "$s/dev" 2>/dev/null)"
  done
done
for g in "$sys"/block/*/device/scsi_generic/*; do
  [ -e "$g" ] || continue
  b=${g%/device/scsi_generic/*}
  printf 'sg\t%s\t%s\t%s\n' "${b##*/}" "${g##*/}" "$(cat -- "$sys/class/scsi_generic/${g##*/}/dev" 2>/dev/null)"
done
awk -F: '$1 == "video" || $1 == "render" || $1 == "cdrom" || $1 == "kvm" || $1 == "disk" { printf "group\t%s\t%s\n", $1, $3 }' "$groupfile" 2>/dev/null
exit 0
"#;

impl NodeSsh {
    /// Probes `paths` and reads GPUs, SCSI-generic twins and device groups, in one command.
    pub async fn discover_devices(
        &self,
        node: &NodePaths,
        paths: &[&str],
    ) -> Result<NodeDevices, SshError> {
        for p in paths {
            check_remote_path(p)?;
            if p.contains('\t') {
                return Err(SshError::InvalidInput(format!("{p:?} contains a tab")));
            }
        }
        let mut argv: Vec<&str> = vec![
            "sh",
            "-c",
            DISCOVER_SCRIPT,
            "pvelxc-discover",
            &node.sys_root,
            &node.group_file,
        ];
        argv.extend_from_slice(paths);
        let out = self.run_checked(&argv, None).await?;
        Ok(NodeDevices::parse(&out.stdout_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_records() {
        let text = "dev\t/dev/sr0\tb\tb 0 0 24 660\ndev\t/dev/dri/renderD128\tc\te2 80 0 104 660\ndev\t/dev/nope\tmissing\n\
drm\tcard0\t0x8086\t226:0\ndrm\trenderD128\t0x8086\t226:128\ndrm\tcard1\t0x10de\t226:1\n\
sg\tsr0\tsg0\t21:0\nsg\tsr0\tsg0\t21:0\ngroup\tvideo\t44\ngroup\trender\t104\ngroup\tcdrom\t24\ngarbage\nsg\tx\n";
        let d = NodeDevices::parse(text);
        let sr0 = d.device("/dev/sr0").unwrap();
        assert_eq!(
            (sr0.kind, sr0.major, sr0.minor, sr0.gid),
            (DeviceKind::Block, 11, 0, 24)
        );
        assert_eq!(sr0.kind.cgroup_letter(), Some('b'));
        let r = d.device("/dev/dri/renderD128").unwrap();
        assert_eq!((r.kind, r.major, r.minor), (DeviceKind::Char, 226, 128));
        assert_eq!(d.device("/dev/nope").unwrap().kind, DeviceKind::Missing);
        assert_eq!(d.gpus("intel").len(), 2);
        assert_eq!(d.gpus("auto").len(), 3);
        assert_eq!(d.gpus("amd").len(), 0);
        assert_eq!(d.gpus("intel")[1].dev_path(), "/dev/dri/renderD128");
        let sg = d.sg_twin("/dev/sr0").unwrap();
        assert_eq!(
            (sg.sg.as_str(), sg.major, sg.minor),
            ("sg0", Some(21), Some(0))
        );
        assert_eq!(d.scsi_generic.len(), 1);
        assert_eq!(d.groups["render"], 104);
    }
}
