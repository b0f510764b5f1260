//! The node's own `/etc` content, prepared in the upper directory of the overlay that
//! covers `/etc` inside the node's mount namespace: PVE's subuid/subgid defaults, account
//! databases without this machine's UID/GID 1000 (so a media user 1000 can be created
//! on the node), a `render` group, and the node's host name.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use super::NodeError;

/// GIDs of the device groups on the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeviceGroups {
    /// `video` (Debian: 44).
    pub video: u32,
    /// `render` (created on the node).
    pub render: u32,
    /// `cdrom` (Debian: 24).
    pub cdrom: u32,
}

fn read(path: &Path) -> Result<String, NodeError> {
    fs::read_to_string(path).map_err(|e| NodeError::io(path, e))
}

fn write(dir: &Path, name: &str, text: &str, mode: u32) -> Result<(), NodeError> {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    fs::write(&path, text).map_err(|e| NodeError::io(&path, e))?;
    fs::set_permissions(&path, fs::Permissions::from_mode(mode))
        .map_err(|e| NodeError::io(&path, e))
}

/// Removes entries whose numeric id (3rd field) equals `id`; returns the kept text and
/// the removed names.
fn drop_id(text: &str, id: u32) -> (String, BTreeSet<String>) {
    let mut kept = String::new();
    let mut removed = BTreeSet::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split(':').collect();
        if fields.get(2).and_then(|f| f.parse::<u32>().ok()) == Some(id) {
            removed.insert(fields[0].to_string());
        } else {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    (kept, removed)
}

fn drop_names(text: &str, names: &BTreeSet<String>, member_field: Option<usize>) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let mut fields: Vec<String> = line.split(':').map(str::to_string).collect();
        if fields.first().is_some_and(|n| names.contains(n)) {
            continue;
        }
        if let Some(i) = member_field {
            if let Some(members) = fields.get_mut(i) {
                *members = members
                    .split(',')
                    .filter(|m| !m.is_empty() && !names.contains(*m))
                    .collect::<Vec<_>>()
                    .join(",");
            }
        }
        out.push_str(&fields.join(":"));
        out.push('\n');
    }
    out
}

/// Writes the node's `/etc` files into `upper` (the overlay's upper directory).
pub fn prepare(upper: &Path, node: &str, bridge_ip: &str) -> Result<DeviceGroups, NodeError> {
    let (passwd, users) = drop_id(&read(Path::new("/etc/passwd"))?, 1000);
    let (group, groups) = drop_id(&read(Path::new("/etc/group"))?, 1000);
    let shadow = drop_names(&read(Path::new("/etc/shadow"))?, &users, None);
    let mut gshadow = read(Path::new("/etc/gshadow")).unwrap_or_default();
    gshadow = drop_names(&gshadow, &groups, Some(3));
    gshadow = drop_names(&gshadow, &users, Some(3));
    let mut group = drop_names(&group, &users, Some(3));

    let gid_of = |name: &str, text: &str| -> Option<u32> {
        text.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.first() == Some(&name))
                .then(|| f.get(2)?.parse().ok())
                .flatten()
        })
    };
    let used: BTreeSet<u32> = group
        .lines()
        .filter_map(|l| l.split(':').nth(2)?.parse().ok())
        .collect();
    let render = match gid_of("render", &group) {
        Some(gid) => gid,
        None => {
            let gid = (900..=999).rev().find(|g| !used.contains(g)).unwrap_or(993);
            group.push_str(&format!("render:x:{gid}:\n"));
            gshadow.push_str("render:!::\n");
            gid
        }
    };
    let groups = DeviceGroups {
        video: gid_of("video", &group).unwrap_or(44),
        render,
        cdrom: gid_of("cdrom", &group).unwrap_or(24),
    };

    fs::create_dir_all(upper.join("pve")).map_err(|e| NodeError::io(upper, e))?;
    write(upper, "passwd", &passwd, 0o644)?;
    write(upper, "group", &group, 0o644)?;
    write(upper, "shadow", &shadow, 0o640)?;
    write(upper, "gshadow", &gshadow, 0o640)?;
    write(upper, "subuid", "root:100000:65536\n", 0o644)?;
    write(upper, "subgid", "root:100000:65536\n", 0o644)?;
    write(upper, "hostname", &format!("{node}\n"), 0o644)?;
    let hosts = read(Path::new("/etc/hosts")).unwrap_or_default();
    write(
        upper,
        "hosts",
        &format!("{hosts}{bridge_ip} {node}.testhost.internal {node}\n"),
        0o644,
    )?;
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_uid_1000_everywhere() {
        let (passwd, users) = drop_id(
            "root:x:0:0::/root:/bin/sh\ncloudsdk:x:1000:1000::/home/c:/bin/sh\n",
            1000,
        );
        assert_eq!(passwd, "root:x:0:0::/root:/bin/sh\n");
        assert!(users.contains("cloudsdk"));
        let group = drop_names(
            "video:x:44:cloudsdk,root\ncloudsdk:x:1000:\n",
            &users,
            Some(3),
        );
        assert_eq!(group, "video:x:44:root\n");
    }
}
