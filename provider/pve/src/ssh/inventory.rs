//! A node's passthrough hardware without being told where to look: every DRM node under
//! `/dev/dri`, every optical drive (`/dev/sr*`) and SCSI-generic node (`/dev/sg*`), and every
//! group of the node's group file.
//!
//! [`NodeSsh::discover_devices`] answers questions about paths a configuration names; this
//! answers "what is there?", which is what an operator needs before writing that
//! configuration (and what the `pvelxc_node` data source reports).

use std::collections::BTreeMap;

use super::conf_edit::NodePaths;
use super::devices::NodeDevices;
use super::session::{check_remote_path, NodeSsh};
use super::SshError;

/// Lists the device paths worth passing through, one per line. The globs stay literal when
/// nothing matches, hence the `-e` test.
const LIST_SCRIPT: &str = r#"for p in /dev/dri/* /dev/sr* /dev/sg*; do
  [ -e "$p" ] && printf '%s\n' "$p"
done
exit 0
"#;

/// Everything the node offers for passthrough.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeInventory {
    /// Device nodes found (block and character devices only), DRM vendors and
    /// SCSI-generic twins.
    pub devices: NodeDevices,
    /// Every group of the node's group file, name to GID.
    pub groups: BTreeMap<String, u32>,
}

/// Parses `/etc/group` (`name:password:gid:members`). Malformed lines are skipped: the file
/// is the node's, and one odd line must not hide every other group.
pub fn parse_group_file(text: &str) -> BTreeMap<String, u32> {
    text.lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .filter_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?.trim();
            let gid = fields.nth(1)?.trim().parse().ok()?;
            (!name.is_empty()).then(|| (name.to_string(), gid))
        })
        .collect()
}

/// Keeps the listed paths that can be probed safely (absolute, no control characters).
fn listed_paths(output: &str) -> Vec<&str> {
    output
        .lines()
        .map(str::trim_end)
        .filter(|p| check_remote_path(p).is_ok() && !p.contains('\t'))
        .collect()
}

impl NodeSsh {
    /// Finds every DRM, optical and SCSI-generic device node on the node, probes them (type,
    /// major:minor, owner, mode, GPU vendor, SCSI-generic twin) and reads the group file.
    pub async fn discover_inventory(&self, node: &NodePaths) -> Result<NodeInventory, SshError> {
        let listing = self
            .run_checked(&["sh", "-c", LIST_SCRIPT, "pvelxc-list-devices"], None)
            .await?
            .stdout_text();
        let paths = listed_paths(&listing);
        let mut devices = self.discover_devices(node, &paths).await?;
        devices.devices.retain(|d| d.kind.cgroup_letter().is_some());
        let group_text = self.read_file(&node.group_file).await?;
        let groups = parse_group_file(&String::from_utf8_lossy(&group_text));
        Ok(NodeInventory { devices, groups })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_file_lines() {
        let text = "root:x:0:\ncdrom:x:24:media\n# comment\nvideo:x:44:\nbroken\nrender:x:notanumber:\nmedia:x:1000:a,b\n:x:5:\n";
        let groups = parse_group_file(text);
        assert_eq!(groups.get("cdrom"), Some(&24));
        assert_eq!(groups.get("video"), Some(&44));
        assert_eq!(groups.get("media"), Some(&1000));
        assert_eq!(groups.get("render"), None);
        assert_eq!(groups.len(), 4, "{groups:?}");
    }

    #[test]
    fn listing_drops_unsafe_paths() {
        let out = "/dev/dri/card0\n/dev/sr0\nrelative\n/dev/odd\tname\n";
        assert_eq!(listed_paths(out), vec!["/dev/dri/card0", "/dev/sr0"]);
    }
}
