//! Property strings (`key=value,key=value`) of `rootfs`, `mpN`, `devN`, `netN`, `features`
//! and `startup`, parsed like `PVE::JSONSchema::parse_property_string` into typed structs
//! that keep the raw string, so a value can be re-emitted byte for byte.

use thiserror::Error;

/// A property string that does not match its format; the text is PVE's wording.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{key}: {message}")]
pub struct PropError {
    /// The configuration key holding the string (`mp0`, `net1`, ...).
    pub key: String,
    /// What is wrong, e.g. `invalid key in comma-separated list property: foo`.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Int,
    Str,
}

/// Format of one property-string flavour: its keys, their kinds, and the key a bare
/// value (without `=`) belongs to.
struct Format {
    keys: &'static [(&'static str, Kind)],
    default_key: Option<&'static str>,
}

const ROOTFS_KEYS: &[(&str, Kind)] = &[
    ("volume", Kind::Str),
    ("size", Kind::Str),
    ("acl", Kind::Bool),
    ("mountoptions", Kind::Str),
    ("quota", Kind::Bool),
    ("replicate", Kind::Bool),
    ("ro", Kind::Bool),
    ("shared", Kind::Bool),
    ("idmap", Kind::Str),
];
const MP_KEYS: &[(&str, Kind)] = &[
    ("volume", Kind::Str),
    ("size", Kind::Str),
    ("acl", Kind::Bool),
    ("mountoptions", Kind::Str),
    ("quota", Kind::Bool),
    ("replicate", Kind::Bool),
    ("ro", Kind::Bool),
    ("shared", Kind::Bool),
    ("idmap", Kind::Str),
    ("backup", Kind::Bool),
    ("mp", Kind::Str),
];
const DEV_KEYS: &[(&str, Kind)] = &[
    ("path", Kind::Str),
    ("mode", Kind::Str),
    ("uid", Kind::Int),
    ("gid", Kind::Int),
    ("deny-write", Kind::Bool),
];
const NET_KEYS: &[(&str, Kind)] = &[
    ("type", Kind::Str),
    ("name", Kind::Str),
    ("bridge", Kind::Str),
    ("hwaddr", Kind::Str),
    ("mtu", Kind::Int),
    ("ip", Kind::Str),
    ("gw", Kind::Str),
    ("ip6", Kind::Str),
    ("gw6", Kind::Str),
    ("firewall", Kind::Bool),
    ("tag", Kind::Int),
    ("trunks", Kind::Str),
    ("rate", Kind::Str),
    ("link_down", Kind::Bool),
    ("host-managed", Kind::Bool),
];
const FEATURE_KEYS: &[(&str, Kind)] = &[
    ("fuse", Kind::Bool),
    ("keyctl", Kind::Bool),
    ("mknod", Kind::Bool),
    ("mount", Kind::Str),
    ("nesting", Kind::Bool),
    ("force_rw_sys", Kind::Bool),
];
const STARTUP_KEYS: &[(&str, Kind)] =
    &[("order", Kind::Int), ("up", Kind::Int), ("down", Kind::Int)];

/// Ordered `key=value` pairs of a parsed property string, booleans normalised to 1/0.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Properties {
    entries: Vec<(String, String)>,
}

impl Properties {
    /// Value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn flag(&self, key: &str) -> bool {
        self.get(key) == Some("1")
    }

    fn number<T: std::str::FromStr>(&self, key: &str) -> Option<T> {
        self.get(key).and_then(|v| v.parse().ok())
    }

    /// All pairs in the order they were written.
    pub fn entries(&self) -> &[(String, String)] {
        &self.entries
    }
}

fn parse_with(conf_key: &str, raw: &str, format: &Format) -> Result<Properties, PropError> {
    let err = |message: String| PropError {
        key: conf_key.to_string(),
        message,
    };
    let mut entries: Vec<(String, String)> = Vec::new();
    for part in raw.split(',').filter(|p| !p.is_empty()) {
        let (key, value) = match part.split_once('=') {
            Some((k, v)) if !k.is_empty() && !v.is_empty() => (k, v),
            Some(_) => return Err(err(format!("unable to parse value '{part}'"))),
            None => match format.default_key {
                Some(default) => (default, part),
                None => {
                    return Err(err(format!(
                        "value without key, but schema does not define a default key: {part}"
                    )))
                }
            },
        };
        let Some((_, kind)) = format.keys.iter().find(|(k, _)| *k == key) else {
            return Err(err(format!(
                "invalid key in comma-separated list property: {key}"
            )));
        };
        if entries.iter().any(|(k, _)| k == key) {
            return Err(err(format!(
                "duplicate key in comma-separated list property: {key}"
            )));
        }
        let value = match kind {
            Kind::Bool => match value.to_ascii_lowercase().as_str() {
                "1" | "on" | "yes" | "true" => "1".to_string(),
                "0" | "off" | "no" | "false" => "0".to_string(),
                _ => {
                    return Err(err(format!(
                        "{key}: type check ('boolean') failed - got '{value}'"
                    )))
                }
            },
            Kind::Int => {
                if value.parse::<i64>().is_err() {
                    return Err(err(format!(
                        "{key}: type check ('integer') failed - got '{value}'"
                    )));
                }
                value.to_string()
            }
            Kind::Str => value.to_string(),
        };
        entries.push((key.to_string(), value));
    }
    Ok(Properties { entries })
}

/// What a mount point's `volume` refers to (`classify_mountpoint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MountKind {
    /// A storage volume such as `local:100/vm-100-disk-0.raw` or `local:8` (new disk).
    Volume,
    /// An absolute host directory or file: a bind mount, root@pam only.
    Bind,
    /// A host block device under `/dev/`, root@pam only.
    Device,
}

/// `rootfs` or `mpN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountPoint {
    /// The string exactly as configured.
    pub raw: String,
    /// `volume` (storage volume id, host path or device).
    pub volume: String,
    /// Path inside the container (`/` for rootfs).
    pub mp: String,
    /// Mounted read-only.
    pub ro: bool,
    /// Volume, bind mount or device.
    pub kind: MountKind,
    /// `size` as written (e.g. `8G`).
    pub size: Option<String>,
    /// Every property, for keys not modelled here.
    pub properties: Properties,
}

impl MountPoint {
    /// Parses `rootfs` (`is_rootfs`) or an `mpN` value; `mpN` requires `mp=`.
    pub fn parse(conf_key: &str, raw: &str) -> Result<Self, PropError> {
        let is_rootfs = conf_key == "rootfs";
        let format = Format {
            keys: if is_rootfs { ROOTFS_KEYS } else { MP_KEYS },
            default_key: Some("volume"),
        };
        let properties = parse_with(conf_key, raw, &format)?;
        let err = |message: &str| PropError {
            key: conf_key.to_string(),
            message: message.to_string(),
        };
        let volume = properties
            .get("volume")
            .ok_or_else(|| err("property is missing and it is not optional: volume"))?
            .to_string();
        let mp = if is_rootfs {
            "/".to_string()
        } else {
            let mp = properties
                .get("mp")
                .ok_or_else(|| err("mp: property is missing and it is not optional"))?;
            if mp.contains("/./")
                || mp.contains("/../")
                || mp.ends_with("/.")
                || mp.ends_with("/..")
                || mp.starts_with("../")
            {
                return Err(err(&format!("{mp} contains illegal character sequences")));
            }
            mp.to_string()
        };
        let kind = if volume.starts_with("/dev/") {
            MountKind::Device
        } else if volume.starts_with('/') {
            MountKind::Bind
        } else {
            MountKind::Volume
        };
        Ok(Self {
            raw: raw.to_string(),
            ro: properties.flag("ro"),
            size: properties.get("size").map(str::to_string),
            volume,
            mp,
            kind,
            properties,
        })
    }
}

/// `devN`: a host device node passed through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// The string exactly as configured.
    pub raw: String,
    /// Host device path, always under `/dev/`.
    pub path: String,
    /// Octal mode for the node inside the container (PVE default 0660).
    pub mode: Option<u32>,
    /// Owner as seen inside the container.
    pub uid: Option<u32>,
    /// Group as seen inside the container.
    pub gid: Option<u32>,
    /// Read-only access in the cgroup rule.
    pub deny_write: bool,
}

impl Device {
    /// Parses a `devN` value.
    pub fn parse(conf_key: &str, raw: &str) -> Result<Self, PropError> {
        let format = Format {
            keys: DEV_KEYS,
            default_key: Some("path"),
        };
        let properties = parse_with(conf_key, raw, &format)?;
        let err = |message: String| PropError {
            key: conf_key.to_string(),
            message,
        };
        let path = properties
            .get("path")
            .ok_or_else(|| err("Path has to be defined".into()))?
            .to_string();
        let traversal = path.split('/').any(|c| c == "." || c == "..");
        if traversal || !path.starts_with("/dev/") {
            return Err(err(format!("{path} is not a valid device path")));
        }
        let mode = match properties.get("mode") {
            None => None,
            Some(m)
                if m.len() == 4
                    && m.starts_with('0')
                    && m.bytes().all(|b| (b'0'..=b'7').contains(&b)) =>
            {
                u32::from_str_radix(m, 8).ok()
            }
            Some(m) => {
                return Err(err(format!(
                    "mode: value does not match the regex pattern (0[0-7]{{3}}): {m}"
                )))
            }
        };
        let id = |key: &str| -> Result<Option<u32>, PropError> {
            match properties.get(key) {
                None => Ok(None),
                Some(v) => v.parse().map(Some).map_err(|_| {
                    err(format!(
                        "{key}: value must have a minimum value of 0, got '{v}'"
                    ))
                }),
            }
        };
        Ok(Self {
            raw: raw.to_string(),
            uid: id("uid")?,
            gid: id("gid")?,
            deny_write: properties.flag("deny-write"),
            mode,
            path,
        })
    }
}

/// `netN`: a veth interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Net {
    /// The string exactly as configured.
    pub raw: String,
    /// Interface name inside the container.
    pub name: String,
    /// Host bridge.
    pub bridge: Option<String>,
    /// MAC address.
    pub hwaddr: Option<String>,
    /// `dhcp`, `manual` or an IPv4/CIDR.
    pub ip: Option<String>,
    /// IPv4 gateway.
    pub gw: Option<String>,
    /// `dhcp`, `auto`, `manual` or an IPv6/CIDR.
    pub ip6: Option<String>,
    /// IPv6 gateway.
    pub gw6: Option<String>,
    /// MTU.
    pub mtu: Option<u32>,
    /// Interface is disconnected.
    pub link_down: bool,
    /// Every property, for keys not modelled here.
    pub properties: Properties,
}

impl Net {
    /// Parses a `netN` value; `name` is mandatory as in PVE.
    pub fn parse(conf_key: &str, raw: &str) -> Result<Self, PropError> {
        let format = Format {
            keys: NET_KEYS,
            default_key: None,
        };
        let properties = parse_with(conf_key, raw, &format)?;
        let name = properties
            .get("name")
            .ok_or_else(|| PropError {
                key: conf_key.to_string(),
                message: "name: property is missing and it is not optional".into(),
            })?
            .to_string();
        let owned = |k: &str| properties.get(k).map(str::to_string);
        Ok(Self {
            raw: raw.to_string(),
            name,
            bridge: owned("bridge"),
            hwaddr: owned("hwaddr"),
            ip: owned("ip"),
            gw: owned("gw"),
            ip6: owned("ip6"),
            gw6: owned("gw6"),
            mtu: properties.number("mtu"),
            link_down: properties.flag("link_down"),
            properties,
        })
    }
}

/// `features`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Features {
    /// The string exactly as configured.
    pub raw: String,
    /// Nested containers / systemd sandboxing: AppArmor nesting, `proc:rw sys:rw`.
    pub nesting: bool,
    /// keyctl() for unprivileged containers.
    pub keyctl: bool,
    /// `/dev/fuse` allowed and mounted.
    pub fuse: bool,
    /// mknod through seccomp notification.
    pub mknod: bool,
    /// Writable /sys for unprivileged containers.
    pub force_rw_sys: bool,
    /// Filesystem types allowed to mount (`mount=nfs;cifs`).
    pub mount: Vec<String>,
}

impl Features {
    /// Parses a `features` value.
    pub fn parse(raw: &str) -> Result<Self, PropError> {
        let format = Format {
            keys: FEATURE_KEYS,
            default_key: None,
        };
        let p = parse_with("features", raw, &format)?;
        Ok(Self {
            raw: raw.to_string(),
            nesting: p.flag("nesting"),
            keyctl: p.flag("keyctl"),
            fuse: p.flag("fuse"),
            mknod: p.flag("mknod"),
            force_rw_sys: p.flag("force_rw_sys"),
            mount: p
                .get("mount")
                .map(|m| {
                    m.split(';')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
        })
    }
}

/// `startup`: boot order and delays.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Startup {
    /// The string exactly as configured.
    pub raw: String,
    /// Start order (lower first).
    pub order: Option<i64>,
    /// Seconds to wait after starting.
    pub up: Option<i64>,
    /// Seconds to wait for shutdown.
    pub down: Option<i64>,
}

impl Startup {
    /// Parses a `startup` value (`order` is the default key).
    pub fn parse(raw: &str) -> Result<Self, PropError> {
        let format = Format {
            keys: STARTUP_KEYS,
            default_key: Some("order"),
        };
        let p = parse_with("startup", raw, &format)?;
        Ok(Self {
            raw: raw.to_string(),
            order: p.number("order"),
            up: p.number("up"),
            down: p.number("down"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bind_mount_with_read_only() {
        let mp = MountPoint::parse("mp0", "/srv/media,mp=/mnt/media,ro=1,backup=0").unwrap();
        assert_eq!(mp.volume, "/srv/media");
        assert_eq!(mp.mp, "/mnt/media");
        assert!(mp.ro);
        assert_eq!(mp.kind, MountKind::Bind);
        assert_eq!(mp.raw, "/srv/media,mp=/mnt/media,ro=1,backup=0");
    }

    #[test]
    fn parses_rootfs_volume() {
        let root = MountPoint::parse("rootfs", "local:100/vm-100-disk-0.raw,size=8G").unwrap();
        assert_eq!(root.kind, MountKind::Volume);
        assert_eq!(root.mp, "/");
        assert_eq!(root.size.as_deref(), Some("8G"));
        assert!(MountPoint::parse("rootfs", "local:8,mp=/x").is_err());
    }

    #[test]
    fn rejects_unknown_duplicate_and_traversal() {
        let e = MountPoint::parse("mp1", "/a,mp=/b,foo=1").unwrap_err();
        assert_eq!(
            e.message,
            "invalid key in comma-separated list property: foo"
        );
        assert!(MountPoint::parse("mp1", "/a,mp=/b,mp=/c").is_err());
        assert!(MountPoint::parse("mp1", "/a,mp=/b/../etc").is_err());
        assert!(MountPoint::parse("mp1", "/a").is_err());
    }

    #[test]
    fn parses_device() {
        let d = Device::parse("dev0", "/dev/dri/renderD128,gid=104,mode=0666").unwrap();
        assert_eq!(d.path, "/dev/dri/renderD128");
        assert_eq!(d.gid, Some(104));
        assert_eq!(d.mode, Some(0o666));
        assert!(!d.deny_write);
        assert!(Device::parse("dev0", "/etc/passwd").is_err());
        assert!(Device::parse("dev0", "/dev/../etc/passwd").is_err());
        assert!(Device::parse("dev0", "/dev/sr0,mode=999").is_err());
        assert!(Device::parse("dev0", "/dev/sr0,uid=-1").is_err());
    }

    #[test]
    fn parses_net_and_requires_name() {
        let n = Net::parse(
            "net0",
            "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:01,ip=dhcp,type=veth",
        )
        .unwrap();
        assert_eq!(n.name, "eth0");
        assert_eq!(n.ip.as_deref(), Some("dhcp"));
        assert!(Net::parse("net0", "bridge=vmbr0").is_err());
        assert!(Net::parse("net0", "eth0").is_err());
        assert!(Net::parse("net0", "name=eth0,mtu=big").is_err());
    }

    #[test]
    fn parses_features_and_startup() {
        let f = Features::parse("nesting=1,fuse=yes,mount=nfs;cifs").unwrap();
        assert!(f.nesting && f.fuse && !f.keyctl);
        assert_eq!(f.mount, vec!["nfs", "cifs"]);
        let s = Startup::parse("2,up=30").unwrap();
        assert_eq!((s.order, s.up, s.down), (Some(2), Some(30), None));
    }
}
