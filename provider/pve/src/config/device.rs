//! `devN` property strings (`pve-lxc-dev-string`): device passthrough.

use super::propstring::{PropError, PropMap, PropWriter};

const DEV_KEYS: &[&str] = &["path", "deny-write", "gid", "mode", "uid"];

/// A parsed `devN` value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Device {
    /// Host device path, must start with `/dev/`.
    pub path: String,
    /// Mode of the node created in the container (`0660` when unset).
    pub mode: Option<String>,
    /// Owner inside the container (0 when unset).
    pub uid: Option<u32>,
    /// Group inside the container (0 when unset).
    pub gid: Option<u32>,
    /// Allow reads only.
    pub deny_write: Option<bool>,
}

impl Device {
    /// Parses a `devN` value; `option` is the key for messages.
    pub fn parse(option: &str, value: &str) -> Result<Self, PropError> {
        let mut p = PropMap::parse(option, value, DEV_KEYS, Some("path"))?;
        let path = p.take_required("path")?;
        if let Some(reason) = invalid_dev_path(&path) {
            return Err(p.invalid("path", &path, reason));
        }
        let mode = p.take("mode");
        if let Some(m) = &mode {
            if !is_octal_mode(m) {
                return Err(p.invalid("mode", m, "an octal mode like 0660"));
            }
        }
        let id = |p: &mut PropMap, key: &str| -> Result<Option<u32>, PropError> {
            match p.take_u64(key)? {
                None => Ok(None),
                Some(v) => u32::try_from(v)
                    .map(Some)
                    .map_err(|_| p.invalid(key, &v.to_string(), "an id below 2^32")),
            }
        };
        Ok(Self {
            path,
            mode,
            uid: id(&mut p, "uid")?,
            gid: id(&mut p, "gid")?,
            deny_write: p.take_bool("deny-write")?,
        })
    }

    /// Renders as PVE prints it (`print_device`).
    pub fn render(&self, option: &str) -> Result<String, PropError> {
        PropWriter::new(Some(self.path.clone()))
            .bool("deny-write", self.deny_write)
            .num("gid", self.gid)
            .str("mode", self.mode.as_deref())
            .num("uid", self.uid)
            .render(option)
    }

    /// Defaults folded away for comparison (`mode=0660`, `uid=0`, `gid=0`, `deny-write=0`).
    pub fn normalized(&self) -> Self {
        Self {
            path: self.path.clone(),
            mode: self.mode.clone().filter(|m| m != "0660"),
            uid: self.uid.filter(|u| *u != 0),
            gid: self.gid.filter(|g| *g != 0),
            deny_write: self.deny_write.filter(|d| *d),
        }
    }
}

/// PVE's `verify_lxc_dev_string`: must start with `/dev/`, no `/./` or `/../` components.
pub fn invalid_dev_path(path: &str) -> Option<&'static str> {
    if !path.starts_with("/dev/") {
        return Some("a path under /dev/");
    }
    let has_dot_component = path.split('/').any(|c| c == "." || c == "..");
    has_dot_component.then_some("a path without '.' or '..' components")
}

fn is_octal_mode(m: &str) -> bool {
    m.len() == 4 && m.starts_with('0') && m.bytes().all(|b| (b'0'..=b'7').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_values() {
        for v in [
            "/dev/dri/card0,gid=44",
            "/dev/dri/renderD128,gid=104",
            "/dev/sr0,deny-write=1,gid=24,mode=0660,uid=1000",
            "/dev/net/tun",
        ] {
            assert_eq!(Device::parse("dev0", v).unwrap().render("dev0").unwrap(), v);
        }
        let d = Device::parse("dev0", "path=/dev/sg0,mode=0660,uid=0").unwrap();
        assert_eq!(
            d.normalized(),
            Device::parse("dev0", "/dev/sg0").unwrap().normalized()
        );
    }

    #[test]
    fn refuses_bad_paths_and_modes() {
        for bad in ["/etc/shadow", "/dev/../etc/shadow", "/dev/./sda", "dev/sda"] {
            let e = Device::parse("dev3", bad).unwrap_err();
            assert!(
                e.to_string().starts_with("dev3: invalid value for 'path'"),
                "{e}"
            );
        }
        assert!(Device::parse("dev0", "/dev/sr0,mode=660").is_err());
        assert!(Device::parse("dev0", "/dev/sr0,mode=0980").is_err());
        assert!(Device::parse("dev0", "/dev/sr0,gid=-1").is_err());
    }
}
