//! [`ContainerConfig`]: every config key the container resource covers.

use std::collections::BTreeMap;

use serde_json::Value;
use thiserror::Error;

use super::normalize::{
    normalize_description, normalize_dns_list, normalize_tags, render_dns_list, render_tags,
};
use super::propstring::{parse_bool, PropError};
use super::{Device, Features, MountPoint, NetworkInterface, Startup};
use crate::text::check_single_line;

/// `mp0..mp255` (`$MAX_MOUNT_POINTS`).
pub const MAX_MOUNT_POINTS: u32 = 256;
/// `dev0..dev255` (`$MAX_DEVICES`).
pub const MAX_DEVICES: u32 = 256;
/// `net0..net31` (`$MAX_LXC_NETWORKS`).
pub const MAX_NETWORKS: u32 = 32;

/// API parameters in the order they are sent.
pub type Params = Vec<(String, String)>;

/// A config value that cannot be parsed or rendered; `key` is the PVE config key.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ConfigError {
    /// A property string failed to parse or render.
    #[error(transparent)]
    Prop(#[from] PropError),
    /// A scalar value of the wrong type.
    #[error("{key}: expected {expected}, got '{value}'")]
    Type {
        key: String,
        expected: &'static str,
        value: String,
    },
    /// A value that would break the config file format.
    #[error("{0}")]
    Line(#[from] crate::text::LineError),
    /// An indexed key beyond PVE's limit.
    #[error("{key}: index out of range (PVE allows {prefix}0 to {prefix}{max})")]
    IndexRange {
        key: String,
        prefix: &'static str,
        max: u32,
    },
    /// A value PVE's schema refuses.
    #[error("{key}: {message}")]
    Invalid { key: String, message: String },
}

impl ConfigError {
    /// The PVE config key the error is about (`net0`, `memory`, ...), so callers can map it
    /// back to their own attribute names.
    pub fn key(&self) -> String {
        match self {
            Self::Prop(p) => match p {
                PropError::NoDefaultKey { option, .. }
                | PropError::Duplicate { option, .. }
                | PropError::UnknownKey { option, .. }
                | PropError::InvalidValue { option, .. }
                | PropError::Missing { option, .. } => option.clone(),
            },
            Self::Type { key, .. } | Self::IndexRange { key, .. } | Self::Invalid { key, .. } => {
                key.clone()
            }
            Self::Line(l) => l.what.split('.').next().unwrap_or_default().to_string(),
        }
    }
}

/// A container's configuration as PVE stores it, typed.
///
/// `None` / empty means "not set in the config". Keys this model does not know are kept in
/// `extra` so nothing is lost on a round trip.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContainerConfig {
    pub hostname: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub ostype: Option<String>,
    pub arch: Option<String>,
    pub cores: Option<u32>,
    pub cpulimit: Option<f64>,
    pub cpuunits: Option<u32>,
    /// MiB.
    pub memory: Option<u64>,
    /// MiB.
    pub swap: Option<u64>,
    pub rootfs: Option<MountPoint>,
    pub mount_points: BTreeMap<u32, MountPoint>,
    pub devices: BTreeMap<u32, Device>,
    pub networks: BTreeMap<u32, NetworkInterface>,
    pub features: Option<Features>,
    pub nameserver: Vec<String>,
    pub searchdomain: Vec<String>,
    pub onboot: Option<bool>,
    pub startup: Option<Startup>,
    pub timezone: Option<String>,
    pub protection: Option<bool>,
    pub unprivileged: Option<bool>,
    pub console: Option<bool>,
    pub tty: Option<u32>,
    pub cmode: Option<String>,
    pub hookscript: Option<String>,
    /// Read-only here: converting to a template is its own endpoint.
    pub template: Option<bool>,
    /// Read-only: set by PVE while an operation runs (`create`, `backup`, ...).
    pub lock: Option<String>,
    /// Read-only: detached volumes (`unusedN`).
    pub unused: BTreeMap<u32, String>,
    /// Read-only through the API: raw `lxc.*` lines in file order.
    pub lxc: Vec<(String, String)>,
    /// SHA-1 of the config file, for compare-and-swap updates.
    pub digest: Option<String>,
    /// Keys not modelled above, verbatim.
    pub extra: BTreeMap<String, String>,
}

impl ContainerConfig {
    /// Parses the `data` object of `GET /nodes/{node}/lxc/{vmid}/config`.
    pub fn from_api(data: &serde_json::Map<String, Value>) -> Result<Self, ConfigError> {
        let mut pairs = Vec::with_capacity(data.len());
        let mut cfg = Self::default();
        for (key, value) in data {
            if key == "lxc" {
                cfg.lxc = parse_raw_lxc(value)?;
                continue;
            }
            let text = match value {
                Value::Null => continue,
                Value::String(s) => s.clone(),
                Value::Bool(b) => if *b { "1" } else { "0" }.to_string(),
                Value::Number(n) => n.to_string(),
                other => {
                    return Err(ConfigError::Type {
                        key: key.clone(),
                        expected: "a string, number or boolean",
                        value: other.to_string(),
                    })
                }
            };
            pairs.push((key.clone(), text));
        }
        cfg.apply_pairs(pairs)?;
        Ok(cfg)
    }

    /// Builds a config from `key: value` pairs (a pct.conf section or API values as text).
    pub fn from_pairs<I, K, V>(pairs: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let mut cfg = Self::default();
        cfg.apply_pairs(pairs.into_iter().map(|(k, v)| (k.into(), v.into())))?;
        Ok(cfg)
    }

    fn apply_pairs(
        &mut self,
        pairs: impl IntoIterator<Item = (String, String)>,
    ) -> Result<(), ConfigError> {
        for (key, value) in pairs {
            self.set_key(&key, &value)?;
        }
        Ok(())
    }

    /// Sets one key from its PVE text form.
    pub fn set_key(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        let k = key.to_string();
        match key {
            "hostname" => self.hostname = Some(value.to_string()),
            "description" => self.description = Some(value.to_string()),
            "tags" => self.tags = normalize_tags(&[value], true),
            "ostype" => self.ostype = Some(value.to_string()),
            "arch" => self.arch = Some(value.to_string()),
            "cores" => self.cores = Some(parse_num(&k, value)?),
            "cpulimit" => self.cpulimit = Some(parse_float(&k, value)?),
            "cpuunits" => self.cpuunits = Some(parse_num(&k, value)?),
            "memory" => self.memory = Some(parse_num(&k, value)?),
            "swap" => self.swap = Some(parse_num(&k, value)?),
            "rootfs" => self.rootfs = Some(MountPoint::parse_rootfs(value)?),
            "features" => self.features = Some(Features::parse(value)?),
            "nameserver" => self.nameserver = normalize_dns_list(value),
            "searchdomain" => self.searchdomain = normalize_dns_list(value),
            "onboot" => self.onboot = Some(parse_flag(&k, value)?),
            "startup" => self.startup = Some(Startup::parse(value)?),
            "timezone" => self.timezone = Some(value.to_string()),
            "protection" => self.protection = Some(parse_flag(&k, value)?),
            "unprivileged" => self.unprivileged = Some(parse_flag(&k, value)?),
            "console" => self.console = Some(parse_flag(&k, value)?),
            "tty" => self.tty = Some(parse_num(&k, value)?),
            "cmode" => self.cmode = Some(value.to_string()),
            "hookscript" => self.hookscript = Some(value.to_string()),
            "template" => self.template = Some(parse_flag(&k, value)?),
            "lock" => self.lock = Some(value.to_string()),
            "digest" => self.digest = Some(value.to_string()),
            _ => {
                if let Some(i) = indexed(key, "mp", MAX_MOUNT_POINTS)? {
                    self.mount_points
                        .insert(i, MountPoint::parse_mp(key, value)?);
                } else if let Some(i) = indexed(key, "dev", MAX_DEVICES)? {
                    self.devices.insert(i, Device::parse(key, value)?);
                } else if let Some(i) = indexed(key, "net", MAX_NETWORKS)? {
                    self.networks
                        .insert(i, NetworkInterface::parse(key, value)?);
                } else if let Some(i) = indexed(key, "unused", MAX_MOUNT_POINTS)? {
                    self.unused.insert(i, value.to_string());
                } else {
                    self.extra.insert(k, value.to_string());
                }
            }
        }
        Ok(())
    }

    /// Renders every settable key as API parameters (`key`, `value`), in PVE's sorted key
    /// order. Read-only keys (`lock`, `unusedN`, `lxc`, `digest`, `template`) are left out.
    pub fn to_params(&self) -> Result<Params, ConfigError> {
        let mut out = BTreeMap::new();
        for (k, v) in self.rendered_entries()? {
            out.insert(k, v);
        }
        Ok(out.into_iter().collect())
    }

    /// Checks the scalar keys against PVE's schema (ranges, enums, names), so a bad value is
    /// reported with its key before anything is sent.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            key: key.to_string(),
            message,
        };
        let in_range = |key: &str, v: Option<u64>, min: u64, max: u64| match v {
            Some(n) if n < min || n > max => Err(invalid(
                key,
                format!("{n} is outside the allowed range {min} to {max}"),
            )),
            _ => Ok(()),
        };
        in_range("cores", self.cores.map(u64::from), 1, 8192)?;
        in_range("cpuunits", self.cpuunits.map(u64::from), 0, 500_000)?;
        in_range("memory", self.memory, 16, u64::MAX)?;
        in_range("tty", self.tty.map(u64::from), 0, 6)?;
        if let Some(l) = self.cpulimit {
            if !(0.0..=8192.0).contains(&l) {
                return Err(invalid(
                    "cpulimit",
                    format!("{l} is outside the allowed range 0 to 8192"),
                ));
            }
        }
        let one_of = |key: &str, v: &Option<String>, allowed: &[&str]| match v {
            Some(x) if !allowed.contains(&x.as_str()) => Err(invalid(
                key,
                format!("'{x}' is not one of {}", allowed.join(", ")),
            )),
            _ => Ok(()),
        };
        one_of(
            "arch",
            &self.arch,
            &["amd64", "i386", "arm64", "armhf", "riscv32", "riscv64"],
        )?;
        one_of(
            "ostype",
            &self.ostype,
            &[
                "debian",
                "devuan",
                "ubuntu",
                "centos",
                "fedora",
                "opensuse",
                "archlinux",
                "alpine",
                "gentoo",
                "nixos",
                "unmanaged",
            ],
        )?;
        one_of("cmode", &self.cmode, &["shell", "console", "tty"])?;
        if let Some(h) = &self.hostname {
            if !is_dns_name(h) || h.len() > 255 {
                return Err(invalid("hostname", format!("'{h}' is not a valid DNS name (letters, digits, inner '-', labels separated by '.')")));
            }
        }
        if let Some(t) = self
            .tags
            .iter()
            .find(|t| !super::normalize::is_valid_tag(t))
        {
            return Err(invalid("tags", format!("'{t}' is not a valid tag (letters, digits, '_', '-', '+', '.'; not starting with '-', '+' or '.')")));
        }
        for (key, list) in [("searchdomain", &self.searchdomain)] {
            if let Some(d) = list.iter().find(|d| !is_dns_name(d)) {
                return Err(invalid(key, format!("'{d}' is not a valid DNS name")));
            }
        }
        if let Some(ns) = self.nameserver.iter().find(|n| {
            let ip = n.split('%').next().unwrap_or_default();
            ip.parse::<std::net::IpAddr>().is_err()
        }) {
            return Err(invalid(
                "nameserver",
                format!("'{ns}' is not an IP address"),
            ));
        }
        if let Some(tz) = &self.timezone {
            if tz.is_empty()
                || tz.contains(|c: char| c.is_whitespace() || c == ',')
                || tz.contains("..")
            {
                return Err(invalid(
                    "timezone",
                    format!("'{tz}' is not a time zone like Europe/Berlin or 'host'"),
                ));
            }
        }
        if let Some(d) = &self.description {
            if d.len() > 8192 {
                return Err(invalid(
                    "description",
                    "is longer than PVE's limit of 8 KiB".into(),
                ));
            }
        }
        Ok(())
    }

    /// Every settable key with its rendered value.
    pub(crate) fn rendered_entries(&self) -> Result<Vec<(String, String)>, ConfigError> {
        self.validate()?;
        let mut v: Vec<(String, String)> = Vec::new();
        let mut put = |k: &str, val: Option<String>| {
            if let Some(val) = val {
                v.push((k.to_string(), val));
            }
        };
        put("hostname", self.hostname.clone());
        put("description", self.description.clone());
        put(
            "tags",
            (!self.tags.is_empty()).then(|| render_tags(&self.tags)),
        );
        put("ostype", self.ostype.clone());
        put("arch", self.arch.clone());
        put("cores", self.cores.map(|n| n.to_string()));
        put("cpulimit", self.cpulimit.map(|n| n.to_string()));
        put("cpuunits", self.cpuunits.map(|n| n.to_string()));
        put("memory", self.memory.map(|n| n.to_string()));
        put("swap", self.swap.map(|n| n.to_string()));
        put(
            "rootfs",
            self.rootfs
                .as_ref()
                .map(|m| m.render("rootfs"))
                .transpose()?,
        );
        put(
            "features",
            self.features.as_ref().map(|f| f.render()).transpose()?,
        );
        put(
            "nameserver",
            (!self.nameserver.is_empty()).then(|| render_dns_list(&self.nameserver)),
        );
        put(
            "searchdomain",
            (!self.searchdomain.is_empty()).then(|| render_dns_list(&self.searchdomain)),
        );
        put("onboot", self.onboot.map(flag));
        put(
            "startup",
            self.startup.as_ref().map(|s| s.render()).transpose()?,
        );
        put("timezone", self.timezone.clone());
        put("protection", self.protection.map(flag));
        put("unprivileged", self.unprivileged.map(flag));
        put("console", self.console.map(flag));
        put("tty", self.tty.map(|n| n.to_string()));
        put("cmode", self.cmode.clone());
        put("hookscript", self.hookscript.clone());
        for (i, m) in &self.mount_points {
            let key = format!("mp{i}");
            let val = m.render(&key)?;
            put(&key, Some(val));
        }
        for (i, d) in &self.devices {
            let key = format!("dev{i}");
            let val = d.render(&key)?;
            put(&key, Some(val));
        }
        for (i, n) in &self.networks {
            let key = format!("net{i}");
            let val = n.render(&key)?;
            put(&key, Some(val));
        }
        for (k, val) in &self.extra {
            put(k, Some(val.clone()));
        }
        for (k, val) in &v {
            // The description is the one multi-line value: PVE encodes it as comment lines.
            if k != "description" || val.contains('\0') {
                check_single_line(k, val)?;
            }
        }
        if let Some(i) = self.mount_points.keys().find(|i| **i >= MAX_MOUNT_POINTS) {
            return Err(range(&format!("mp{i}"), "mp", MAX_MOUNT_POINTS));
        }
        if let Some(i) = self.devices.keys().find(|i| **i >= MAX_DEVICES) {
            return Err(range(&format!("dev{i}"), "dev", MAX_DEVICES));
        }
        if let Some(i) = self.networks.keys().find(|i| **i >= MAX_NETWORKS) {
            return Err(range(&format!("net{i}"), "net", MAX_NETWORKS));
        }
        Ok(v)
    }

    /// A copy with PVE's rewrites and defaults folded away, for equality checks.
    pub fn normalized(&self) -> Self {
        let mut c = self.clone();
        c.description = c
            .description
            .map(|d| normalize_description(&d))
            .filter(|d| !d.is_empty());
        c.tags = normalize_tags(&c.tags, false);
        c.rootfs = c.rootfs.map(|m| m.normalized());
        c.mount_points = c
            .mount_points
            .iter()
            .map(|(i, m)| (*i, m.normalized()))
            .collect();
        c.devices = c
            .devices
            .iter()
            .map(|(i, d)| (*i, d.normalized()))
            .collect();
        c.networks = c
            .networks
            .iter()
            .map(|(i, n)| (*i, n.normalized()))
            .collect();
        c.features = c.features.map(|f| f.normalized()).filter(|f| !f.is_empty());
        c.digest = None;
        c
    }

    /// True for a privileged container (PVE's schema default for an absent key is 0).
    pub fn is_privileged(&self) -> bool {
        !self.unprivileged.unwrap_or(false)
    }

    /// Keys that only root@pam may set on this container (`check_ct_modify_config_perm`):
    /// bind/device mount points, `devN`, `hookscript`, and `features` on privileged CTs.
    pub fn root_only_keys(&self) -> Vec<String> {
        let mut keys = Vec::new();
        if self
            .rootfs
            .as_ref()
            .is_some_and(|m| m.kind() != super::VolumeKind::Volume)
        {
            keys.push("rootfs".to_string());
        }
        for (i, m) in &self.mount_points {
            if m.kind() != super::VolumeKind::Volume {
                keys.push(format!("mp{i}"));
            }
        }
        keys.extend(self.devices.keys().map(|i| format!("dev{i}")));
        if self.hookscript.is_some() {
            keys.push("hookscript".to_string());
        }
        if let Some(f) = &self.features {
            let beyond_nesting = f.differs_beyond_nesting(&Features::default());
            if self.is_privileged() || beyond_nesting {
                keys.push("features".to_string());
            }
        }
        keys
    }
}

/// `dns-name`: labels of letters, digits and inner dashes, separated by dots.
fn is_dns_name(name: &str) -> bool {
    !name.is_empty()
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

fn flag(b: bool) -> String {
    if b { "1" } else { "0" }.to_string()
}

fn range(key: &str, prefix: &'static str, max: u32) -> ConfigError {
    ConfigError::IndexRange {
        key: key.to_string(),
        prefix,
        max: max - 1,
    }
}

/// `Some(n)` when `key` is `<prefix><n>`; an error when n is beyond PVE's limit.
fn indexed(key: &str, prefix: &'static str, max: u32) -> Result<Option<u32>, ConfigError> {
    let Some(rest) = key.strip_prefix(prefix) else {
        return Ok(None);
    };
    if rest.is_empty()
        || !rest.bytes().all(|b| b.is_ascii_digit())
        || (rest.len() > 1 && rest.starts_with('0'))
    {
        return Ok(None);
    }
    match rest.parse::<u32>() {
        Ok(i) if i < max => Ok(Some(i)),
        _ => Err(range(key, prefix, max)),
    }
}

fn parse_num<N: std::str::FromStr>(key: &str, value: &str) -> Result<N, ConfigError> {
    value.parse().map_err(|_| ConfigError::Type {
        key: key.to_string(),
        expected: "an unsigned integer",
        value: value.to_string(),
    })
}

fn parse_float(key: &str, value: &str) -> Result<f64, ConfigError> {
    match value.parse::<f64>() {
        Ok(f) if f.is_finite() && f >= 0.0 => Ok(f),
        _ => Err(ConfigError::Type {
            key: key.to_string(),
            expected: "a non-negative number",
            value: value.to_string(),
        }),
    }
}

fn parse_flag(key: &str, value: &str) -> Result<bool, ConfigError> {
    parse_bool(value).ok_or_else(|| ConfigError::Type {
        key: key.to_string(),
        expected: "a boolean (1|0)",
        value: value.to_string(),
    })
}

/// The `lxc` array of the GET config response: `[["lxc.key", "value"], ...]`.
fn parse_raw_lxc(value: &Value) -> Result<Vec<(String, String)>, ConfigError> {
    let bad = || ConfigError::Type {
        key: "lxc".to_string(),
        expected: "a list of [key, value] pairs",
        value: value.to_string(),
    };
    let Value::Array(items) = value else {
        return Err(bad());
    };
    items
        .iter()
        .map(|item| match item.as_array().map(Vec::as_slice) {
            Some([Value::String(k), Value::String(v)]) => Ok((k.clone(), v.clone())),
            _ => Err(bad()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn transcoder_api() -> serde_json::Map<String, Value> {
        // Shape of a real GET config response for the runbook's transcoder.
        let v = json!({
            "arch": "amd64",
            "cores": 8,
            "digest": "6f0fb7f9d8c3a3a1c8b0f2f0c6c4f1d0e9a8b7c6",
            "features": "nesting=1",
            "hostname": "transcoder",
            "memory": 8192,
            "mp0": "/mnt/storage,mp=/mnt/storage",
            "net0": "name=eth0,bridge=vmbr0,firewall=0,hwaddr=BC:24:11:5E:2A:01,ip=dhcp,type=veth",
            "onboot": 1,
            "ostype": "debian",
            "rootfs": "local-lvm:vm-201-disk-0,size=20G",
            "swap": 2048,
            "tags": "media;gpu",
            "description": "Transcoder\n",
            "lxc": [
                ["lxc.cgroup2.devices.allow", "c 226:0 rwm"],
                ["lxc.cgroup2.devices.allow", "c 226:128 rwm"],
                ["lxc.mount.entry", "/dev/dri dev/dri none bind,optional,create=dir"]
            ]
        });
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn parses_api_response() {
        let c = ContainerConfig::from_api(&transcoder_api()).unwrap();
        assert_eq!(c.cores, Some(8));
        assert_eq!(c.memory, Some(8192));
        assert_eq!(c.onboot, Some(true));
        assert_eq!(c.mount_points[&0].volume, "/mnt/storage");
        assert_eq!(c.networks[&0].firewall, Some(false));
        assert_eq!(c.lxc.len(), 3);
        assert_eq!(c.lxc[2].0, "lxc.mount.entry");
        assert!(c.is_privileged());
        assert_eq!(c.root_only_keys(), vec!["mp0", "features"]);
        let params = c.to_params().unwrap();
        let get = |k: &str| {
            params
                .iter()
                .find(|(pk, _)| pk == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(
            get("net0"),
            Some("name=eth0,bridge=vmbr0,firewall=0,hwaddr=BC:24:11:5E:2A:01,ip=dhcp,type=veth")
        );
        assert_eq!(get("tags"), Some("gpu;media"));
        assert_eq!(get("onboot"), Some("1"));
        assert_eq!(get("digest"), None);
        assert!(params.windows(2).all(|w| w[0].0 <= w[1].0), "keys sorted");
    }

    #[test]
    fn errors_name_the_key() {
        let mut m = transcoder_api();
        m.insert("memory".into(), json!("lots"));
        assert_eq!(ContainerConfig::from_api(&m).unwrap_err().key(), "memory");
        let mut m = transcoder_api();
        m.insert("net0".into(), json!("name=eth0,ip=10.1.1.1"));
        assert_eq!(ContainerConfig::from_api(&m).unwrap_err().key(), "net0");
        let mut m = transcoder_api();
        m.insert("mp256".into(), json!("/a,mp=/b"));
        assert_eq!(ContainerConfig::from_api(&m).unwrap_err().key(), "mp256");
        let mut m = transcoder_api();
        m.insert("lxc".into(), json!([["lxc.x"]]));
        assert_eq!(ContainerConfig::from_api(&m).unwrap_err().key(), "lxc");
    }

    #[test]
    fn early_validation_names_the_key() {
        for (k, v) in [
            ("cores", "0"),
            ("memory", "8"),
            ("cpulimit", "9000"),
            ("arch", "sparc"),
            ("ostype", "windows"),
            ("hostname", "bad_host"),
            ("hostname", "-x"),
            ("tags", "-lead"),
            ("nameserver", "dns.example"),
            ("searchdomain", "a..b"),
            ("timezone", "Europe/Berlin Paris"),
            ("tty", "7"),
        ] {
            let c = ContainerConfig::from_pairs([(k, v)]).unwrap();
            assert_eq!(c.to_params().unwrap_err().key(), k, "{k}={v}");
        }
        let ok = ContainerConfig::from_pairs([
            ("hostname", "media.home.arpa"),
            ("nameserver", "fe80::1%vmbr0 1.1.1.1"),
            ("timezone", "host"),
        ])
        .unwrap();
        assert!(ok.to_params().is_ok());
    }

    #[test]
    fn unknown_keys_survive() {
        let c = ContainerConfig::from_pairs([("entrypoint", "/sbin/init"), ("mp01", "x")]).unwrap();
        assert_eq!(
            c.extra.get("entrypoint").map(String::as_str),
            Some("/sbin/init")
        );
        assert_eq!(c.extra.get("mp01").map(String::as_str), Some("x"));
    }

    #[test]
    fn newline_injection_is_refused() {
        let c = ContainerConfig {
            hostname: Some("ok\nlxc.rootfs.path: /".into()),
            ..Default::default()
        };
        assert_eq!(c.to_params().unwrap_err().key(), "hostname");
        let c = ContainerConfig {
            description: Some("line one\nline two".into()),
            ..Default::default()
        };
        assert!(
            c.to_params().is_ok(),
            "descriptions are multi-line by design"
        );
    }

    #[test]
    fn normalized_equality_over_pve_rewrites() {
        let user = ContainerConfig::from_pairs([
            ("tags", "GPU,media"),
            ("nameserver", "1.1.1.1,9.9.9.9"),
            ("rootfs", "local-lvm:vm-201-disk-0,size=20480M"),
            ("features", "nesting=1,fuse=0"),
            ("description", "Transcoder"),
            (
                "net0",
                "name=eth0,bridge=vmbr0,ip=dhcp,firewall=0,hwaddr=bc:24:11:5e:2a:01",
            ),
        ])
        .unwrap();
        let pve = ContainerConfig::from_pairs([
            ("tags", "gpu;media"),
            ("nameserver", "1.1.1.1 9.9.9.9"),
            ("rootfs", "local-lvm:vm-201-disk-0,size=20G"),
            ("features", "nesting=1"),
            ("description", "Transcoder\n"),
            (
                "net0",
                "bridge=vmbr0,firewall=0,hwaddr=BC:24:11:5E:2A:01,ip=dhcp,name=eth0,type=veth",
            ),
        ])
        .unwrap();
        assert_eq!(user.normalized(), pve.normalized());
    }
}
