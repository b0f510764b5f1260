//! `rootfs` and `mpN` property strings (`pve-ct-rootfs` / `pve-ct-mountpoint`).

use super::propstring::{PropError, PropMap, PropWriter};
use super::size::DiskSize;

const ROOTFS_KEYS: &[&str] = &[
    "volume",
    "acl",
    "mountoptions",
    "quota",
    "replicate",
    "ro",
    "shared",
    "size",
    "idmap",
];
const MP_KEYS: &[&str] = &[
    "volume",
    "mp",
    "acl",
    "backup",
    "keepattrs",
    "mountoptions",
    "quota",
    "replicate",
    "ro",
    "shared",
    "size",
    "idmap",
];
/// Mount options PVE allows (`mountoptions` pattern in the schema).
pub const ALLOWED_MOUNT_OPTIONS: &[&str] = &[
    "discard", "lazytime", "noatime", "nodev", "noexec", "nosuid",
];

/// What a mount point's `volume` refers to (`classify_mountpoint` in pve-container).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolumeKind {
    /// A storage volume (`local-lvm:vm-100-disk-0`) or an allocation request (`local-lvm:8`).
    Volume,
    /// A host directory bind mount (`/mnt/storage`); needs root@pam.
    Bind,
    /// A host block device (`/dev/...`); needs root@pam.
    Device,
}

/// A parsed `rootfs` or `mpN` value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MountPoint {
    /// Volume id, allocation request (`STORAGE:GiB`), host path or device.
    pub volume: String,
    /// Path inside the container; `None` for `rootfs`.
    pub mp: Option<String>,
    pub acl: Option<bool>,
    pub backup: Option<bool>,
    pub keepattrs: Option<bool>,
    pub mountoptions: Vec<String>,
    pub quota: Option<bool>,
    pub replicate: Option<bool>,
    pub ro: Option<bool>,
    pub shared: Option<bool>,
    pub size: Option<DiskSize>,
    /// Per-mount-point UID/GID mapping (pve-container 6.1.6+).
    pub idmap: Option<String>,
}

impl MountPoint {
    /// Parses a `rootfs` value.
    pub fn parse_rootfs(value: &str) -> Result<Self, PropError> {
        Self::parse("rootfs", value, ROOTFS_KEYS)
    }

    /// Parses an `mpN` value; `option` is the key (`mp0`) for messages.
    pub fn parse_mp(option: &str, value: &str) -> Result<Self, PropError> {
        let m = Self::parse(option, value, MP_KEYS)?;
        if m.mp.is_none() {
            return Err(PropError::Missing {
                option: option.to_string(),
                key: "mp".to_string(),
            });
        }
        Ok(m)
    }

    fn parse(option: &str, value: &str, keys: &[&str]) -> Result<Self, PropError> {
        let mut p = PropMap::parse(option, value, keys, Some("volume"))?;
        let volume = p.take_required("volume")?;
        let size = match p.take("size") {
            None => None,
            Some(s) => Some(
                s.parse::<DiskSize>()
                    .map_err(|_| p.invalid("size", &s, "a size such as 8G"))?,
            ),
        };
        let mountoptions = match p.take("mountoptions") {
            None => Vec::new(),
            Some(s) => {
                let opts: Vec<String> = s.split(';').map(str::to_string).collect();
                if let Some(bad) = opts
                    .iter()
                    .find(|o| !ALLOWED_MOUNT_OPTIONS.contains(&o.as_str()))
                {
                    return Err(p.invalid("mountoptions", bad, &ALLOWED_MOUNT_OPTIONS.join("|")));
                }
                opts
            }
        };
        Ok(Self {
            volume,
            mp: p.take("mp"),
            acl: p.take_bool("acl")?,
            backup: p.take_bool("backup")?,
            keepattrs: p.take_bool("keepattrs")?,
            mountoptions,
            quota: p.take_bool("quota")?,
            replicate: p.take_bool("replicate")?,
            ro: p.take_bool("ro")?,
            shared: p.take_bool("shared")?,
            size,
            idmap: p.take("idmap"),
        })
    }

    /// Renders the value as PVE prints it (`print_ct_mountpoint`).
    pub fn render(&self, option: &str) -> Result<String, PropError> {
        let mountoptions = (!self.mountoptions.is_empty()).then(|| self.mountoptions.join(";"));
        PropWriter::new(Some(self.volume.clone()))
            .required("mp", self.mp.as_deref())
            .bool("acl", self.acl)
            .bool("backup", self.backup)
            .bool("keepattrs", self.keepattrs)
            .str("mountoptions", mountoptions.as_deref())
            .bool("quota", self.quota)
            .bool("replicate", self.replicate)
            .bool("ro", self.ro)
            .bool("shared", self.shared)
            .str("size", self.size.map(|s| s.to_string()).as_deref())
            .str("idmap", self.idmap.as_deref())
            .render(option)
    }

    /// Classifies the volume like pve-container does.
    pub fn kind(&self) -> VolumeKind {
        if self.volume.starts_with("/dev/") {
            VolumeKind::Device
        } else if self.volume.starts_with('/') {
            VolumeKind::Bind
        } else {
            VolumeKind::Volume
        }
    }

    /// The storage id of a storage volume (`local-lvm` in `local-lvm:vm-100-disk-0`).
    pub fn storage(&self) -> Option<&str> {
        match self.kind() {
            VolumeKind::Volume => self.volume.split_once(':').map(|(s, _)| s),
            _ => None,
        }
    }

    /// `Some(GiB)` when the volume is an allocation request `STORAGE:GiB` rather than an
    /// existing volume; PVE replaces it with the allocated volume id on create.
    pub fn allocation_gib(&self) -> Option<f64> {
        let (_, rest) = self.volume.split_once(':')?;
        if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return None;
        }
        rest.parse().ok()
    }

    /// The value with PVE's defaults folded away, for comparing a desired mount point with
    /// what PVE reports (`ro=0`, `replicate=1`, `shared=0`, ... mean the same as absent).
    pub fn normalized(&self) -> Self {
        let drop_if = |v: Option<bool>, default: bool| v.filter(|b| *b != default);
        let mut m = self.clone();
        m.backup = drop_if(m.backup, false);
        m.keepattrs = drop_if(m.keepattrs, false);
        m.quota = drop_if(m.quota, false);
        m.replicate = drop_if(m.replicate, true);
        m.ro = drop_if(m.ro, false);
        m.shared = drop_if(m.shared, false);
        m.mp = m.mp.map(|p| normalize_path(&p));
        if m.kind() != VolumeKind::Volume {
            m.volume = normalize_path(&m.volume);
        }
        m
    }
}

/// Drops trailing slashes (but keeps `/`): PVE treats `/mnt/x/` and `/mnt/x` alike.
fn normalize_path(p: &str) -> String {
    let t = p.trim_end_matches('/');
    if t.is_empty() && p.starts_with('/') {
        "/".to_string()
    } else {
        t.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_pve_values_round_trip() {
        for (key, input) in [
            ("rootfs", "local:107/vm-107-disk-1.raw,size=7G"),
            ("rootfs", "local-lvm:vm-201-disk-0,size=20G"),
            ("mp0", "/mnt/storage,mp=/mnt/storage"),
            ("mp0", "/srv/media/movies,mp=/media/movies,ro=1"),
            (
                "mp1",
                "local-lvm:vm-100-disk-1,mp=/data,backup=1,mountoptions=noatime;nodev,size=8G",
            ),
            (
                "mp2",
                "local-lvm:vm-100-disk-2,mp=/data2,acl=1,ro=1,shared=0,size=1T",
            ),
        ] {
            let m = if key == "rootfs" {
                MountPoint::parse_rootfs(input)
            } else {
                MountPoint::parse_mp(key, input)
            }
            .unwrap();
            assert_eq!(m.render(key).unwrap(), input);
        }
    }

    #[test]
    fn pve_rewrites_compare_equal() {
        let user =
            MountPoint::parse_mp("mp0", "/srv/media/tv/,mp=/media/tv,ro=true,replicate=1").unwrap();
        let pve = MountPoint::parse_mp("mp0", "/srv/media/tv,mp=/media/tv,ro=1").unwrap();
        assert_eq!(user.normalized(), pve.normalized());
        let a = MountPoint::parse_rootfs("local:vm-1-disk-0,size=8192M").unwrap();
        let b = MountPoint::parse_rootfs("local:vm-1-disk-0,size=8G").unwrap();
        assert_eq!(a.normalized(), b.normalized());
        assert_eq!(a.render("rootfs").unwrap(), "local:vm-1-disk-0,size=8G");
    }

    #[test]
    fn kinds_and_allocation() {
        let m = MountPoint::parse_rootfs("local-lvm:20").unwrap();
        assert_eq!(m.kind(), VolumeKind::Volume);
        assert_eq!(m.storage(), Some("local-lvm"));
        assert_eq!(m.allocation_gib(), Some(20.0));
        let m = MountPoint::parse_mp("mp0", "/mnt/storage,mp=/mnt/storage").unwrap();
        assert_eq!(m.kind(), VolumeKind::Bind);
        assert_eq!(m.allocation_gib(), None);
        assert_eq!(
            MountPoint::parse_mp("mp1", "/dev/sdb1,mp=/x")
                .unwrap()
                .kind(),
            VolumeKind::Device
        );
    }

    #[test]
    fn errors() {
        assert!(MountPoint::parse_mp("mp0", "/mnt/storage").is_err());
        let e = MountPoint::parse_mp("mp0", "/a,mp=/b,mountoptions=noatime;exec").unwrap_err();
        assert!(e.to_string().contains("mountoptions"), "{e}");
        let e = MountPoint::parse_rootfs("local:1,size=big").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("rootfs: invalid value for 'size'"),
            "{e}"
        );
        assert!(MountPoint::parse_rootfs("local:1,mp=/x").is_err());
    }
}
