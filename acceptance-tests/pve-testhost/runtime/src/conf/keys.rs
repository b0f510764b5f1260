//! Which keys a pct.conf may hold and how their values are checked, mirroring
//! pve-container's `$confdesc` (`check_type`) and `is_valid_lxc_conf_key`.

/// Scalar type of a normal configuration key, as `check_type` sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Boolean,
    Integer,
    Number,
    String,
}

const BOOLEAN_KEYS: &[&str] = &[
    "console",
    "debug",
    "ipmanagehost",
    "onboot",
    "protection",
    "template",
    "unprivileged",
];
const INTEGER_KEYS: &[&str] = &["cores", "cpuunits", "memory", "snaptime", "swap", "tty"];
const NUMBER_KEYS: &[&str] = &["cpulimit"];
const STRING_KEYS: &[&str] = &[
    "arch",
    "cmode",
    "description",
    "entrypoint",
    "env",
    "features",
    "hookscript",
    "hostname",
    "lock",
    "nameserver",
    "ostype",
    "parent",
    "rootfs",
    "searchdomain",
    "startup",
    "tags",
    "timezone",
];
/// Indexed keys and how many indices PVE allows for each.
const INDEXED_KEYS: &[(&str, u32)] = &[("dev", 256), ("mp", 256), ("net", 32), ("unused", 256)];

/// Returns the type of a normal key, or `None` if pct.conf does not know it
/// (PVE: `unknown setting '<key>'`).
pub fn key_type(key: &str) -> Option<KeyType> {
    if BOOLEAN_KEYS.contains(&key) {
        return Some(KeyType::Boolean);
    }
    if INTEGER_KEYS.contains(&key) {
        return Some(KeyType::Integer);
    }
    if NUMBER_KEYS.contains(&key) {
        return Some(KeyType::Number);
    }
    if STRING_KEYS.contains(&key) {
        return Some(KeyType::String);
    }
    let (prefix, index) = split_indexed(key)?;
    INDEXED_KEYS
        .iter()
        .find(|(name, max)| *name == prefix && index < *max)
        .map(|_| KeyType::String)
}

/// Splits `mp12` into `("mp", 12)`; `None` for keys without a decimal suffix.
pub fn split_indexed(key: &str) -> Option<(&str, u32)> {
    let digits = key.len() - key.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 || digits == key.len() {
        return None;
    }
    let (prefix, index) = key.split_at(key.len() - digits);
    if index.len() > 1 && index.starts_with('0') {
        return None;
    }
    Some((prefix, index.parse().ok()?))
}

/// Checks and normalises a value the way `check_type` does: booleans become `1`/`0`,
/// integers lose leading zeros, line feeds are refused.
pub fn check_type(key: &str, value: &str) -> Result<String, String> {
    let Some(kind) = key_type(key) else {
        return Err(format!("unknown setting '{key}'"));
    };
    if value.contains(['\n', '\r']) {
        return Err("property contains a line feed".to_string());
    }
    match kind {
        KeyType::Boolean => match value.to_ascii_lowercase().as_str() {
            "1" | "on" | "yes" | "true" => Ok("1".into()),
            "0" | "off" | "no" | "false" => Ok("0".into()),
            _ => Err(format!("type check ('boolean') failed - got '{value}'")),
        },
        KeyType::Integer => {
            if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
                let trimmed = value.trim_start_matches('0');
                Ok(if trimmed.is_empty() { "0" } else { trimmed }.to_string())
            } else {
                Err(format!("type check ('integer') failed - got '{value}'"))
            }
        }
        KeyType::Number => {
            let (int, frac) = value.split_once('.').unwrap_or((value, "1"));
            let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            if digits(int) && digits(frac) {
                Ok(value.to_string())
            } else {
                Err(format!("type check ('number') failed - got '{value}'"))
            }
        }
        KeyType::String => Ok(value.to_string()),
    }
}

/// Raw LXC keys PVE accepts in a pct.conf, from `$valid_lxc_conf_keys`.
const VALID_LXC_KEYS: &[&str] = &[
    "lxc.apparmor.profile",
    "lxc.apparmor.allow_incomplete",
    "lxc.apparmor.allow_nesting",
    "lxc.apparmor.raw",
    "lxc.selinux.context",
    "lxc.include",
    "lxc.arch",
    "lxc.uts.name",
    "lxc.signal.halt",
    "lxc.signal.reboot",
    "lxc.signal.stop",
    "lxc.init.cmd",
    "lxc.init.cwd",
    "lxc.pty.max",
    "lxc.console.logfile",
    "lxc.console.path",
    "lxc.tty.max",
    "lxc.devtty.dir",
    "lxc.hook.autodev",
    "lxc.autodev",
    "lxc.kmsg",
    "lxc.mount.fstab",
    "lxc.mount.entry",
    "lxc.mount.auto",
    "lxc.rootfs.mount",
    "lxc.cap.drop",
    "lxc.cap.keep",
    "lxc.seccomp.profile",
    "lxc.seccomp.notify.proxy",
    "lxc.seccomp.notify.cookie",
    "lxc.idmap",
    "lxc.hook.pre-start",
    "lxc.hook.pre-mount",
    "lxc.hook.mount",
    "lxc.hook.start",
    "lxc.hook.stop",
    "lxc.hook.post-stop",
    "lxc.hook.clone",
    "lxc.hook.destroy",
    "lxc.hook.version",
    "lxc.log.level",
    "lxc.log.file",
    "lxc.start.auto",
    "lxc.start.delay",
    "lxc.start.order",
    "lxc.group",
    "lxc.environment",
    "lxc.environment.runtime",
    "lxc.environment.hooks",
    "lxc.sysctl.fs.mqueue",
    "lxc.sysctl.kernel.msgmax",
    "lxc.sysctl.kernel.msgmnb",
    "lxc.sysctl.kernel.msgmni",
    "lxc.sysctl.kernel.sem",
    "lxc.sysctl.kernel.shmall",
    "lxc.sysctl.kernel.shmmax",
    "lxc.sysctl.kernel.shmmni",
    "lxc.sysctl.kernel.shm_rmid_forced",
];

/// Deprecated raw keys PVE still accepts (with a warning naming the new key).
const DEPRECATED_LXC_KEYS: &[(&str, &str)] = &[
    ("lxc.aa_profile", "lxc.apparmor.profile"),
    ("lxc.aa_allow_incomplete", "lxc.apparmor.allow_incomplete"),
    ("lxc.console", "lxc.console.path"),
    ("lxc.devttydir", "lxc.tty.dir"),
    ("lxc.haltsignal", "lxc.signal.halt"),
    ("lxc.rebootsignal", "lxc.signal.reboot"),
    ("lxc.stopsignal", "lxc.signal.stop"),
    ("lxc.id_map", "lxc.idmap"),
    ("lxc.init_cmd", "lxc.init.cmd"),
    ("lxc.loglevel", "lxc.log.level"),
    ("lxc.logfile", "lxc.log.file"),
    ("lxc.mount", "lxc.mount.fstab"),
    ("lxc.network.type", "lxc.net.INDEX.type"),
    ("lxc.network.flags", "lxc.net.INDEX.flags"),
    ("lxc.network.link", "lxc.net.INDEX.link"),
    ("lxc.network.mtu", "lxc.net.INDEX.mtu"),
    ("lxc.network.name", "lxc.net.INDEX.name"),
    ("lxc.network.hwaddr", "lxc.net.INDEX.hwaddr"),
    ("lxc.network.ipv4", "lxc.net.INDEX.ipv4.address"),
    ("lxc.network.ipv4.gateway", "lxc.net.INDEX.ipv4.gateway"),
    ("lxc.network.ipv6", "lxc.net.INDEX.ipv6.address"),
    ("lxc.network.ipv6.gateway", "lxc.net.INDEX.ipv6.gateway"),
    ("lxc.network.script.up", "lxc.net.INDEX.script.up"),
    ("lxc.network.script.down", "lxc.net.INDEX.script.down"),
    ("lxc.pts", "lxc.pty.max"),
    ("lxc.se_context", "lxc.selinux.context"),
    ("lxc.seccomp", "lxc.seccomp.profile"),
    ("lxc.tty", "lxc.tty.max"),
    ("lxc.utsname", "lxc.uts.name"),
];

/// Verdict on a raw `lxc.*` key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LxcKeyValidity {
    /// Accepted as is.
    Valid,
    /// Accepted, but PVE warns with this text.
    Deprecated(String),
    /// Refused with PVE's reason (e.g. `lxc.rootfs.path is auto generated from rootfs`).
    Refused(String),
    /// Not a key PVE passes through ("unable to parse config").
    Unknown,
}

/// Classifies a raw key like `is_valid_lxc_conf_key`.
pub fn lxc_key_validity(vmid: u32, key: &str) -> LxcKeyValidity {
    if key.starts_with("lxc.limit.") {
        return LxcKeyValidity::Deprecated(format!(
            "vm {vmid} - {key}: lxc.limit.* was renamed to lxc.prlimit.*"
        ));
    }
    if let Some((_, new)) = DEPRECATED_LXC_KEYS.iter().find(|(old, _)| *old == key) {
        return LxcKeyValidity::Deprecated(format!(
            "vm {vmid} - {key} is deprecated and was renamed to {new}"
        ));
    }
    if VALID_LXC_KEYS.contains(&key) {
        return LxcKeyValidity::Valid;
    }
    match key {
        "lxc.rootfs.path" => {
            return LxcKeyValidity::Refused("lxc.rootfs.path is auto generated from rootfs".into())
        }
        "lxc.rootfs.options" => {
            return LxcKeyValidity::Refused(
                "lxc.rootfs.options is not supported, please use mount point options in the \"rootfs\" key"
                    .into(),
            )
        }
        _ => {}
    }
    if key.starts_with("lxc.cgroup.")
        || key.starts_with("lxc.cgroup2.")
        || key.starts_with("lxc.prlimit.")
        || key.starts_with("lxc.net.")
    {
        return LxcKeyValidity::Valid;
    }
    LxcKeyValidity::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_indexed_keys_within_their_range() {
        assert_eq!(key_type("mp0"), Some(KeyType::String));
        assert_eq!(key_type("net31"), Some(KeyType::String));
        assert_eq!(key_type("net32"), None);
        assert_eq!(key_type("mp01"), None);
        assert_eq!(key_type("bogus"), None);
        assert_eq!(key_type("memory"), Some(KeyType::Integer));
    }

    #[test]
    fn normalises_like_check_type() {
        assert_eq!(check_type("onboot", "yes").as_deref(), Ok("1"));
        assert_eq!(check_type("onboot", "Off").as_deref(), Ok("0"));
        assert_eq!(check_type("memory", "0512").as_deref(), Ok("512"));
        assert_eq!(check_type("cpulimit", "1.5").as_deref(), Ok("1.5"));
        assert!(check_type("memory", "1G").is_err());
        assert!(check_type("onboot", "maybe").is_err());
        assert_eq!(
            check_type("nope", "1"),
            Err("unknown setting 'nope'".into())
        );
        assert!(check_type("hostname", "a\nb").is_err());
    }

    #[test]
    fn classifies_raw_keys() {
        assert_eq!(
            lxc_key_validity(100, "lxc.cgroup2.devices.allow"),
            LxcKeyValidity::Valid
        );
        assert_eq!(
            lxc_key_validity(100, "lxc.mount.entry"),
            LxcKeyValidity::Valid
        );
        assert!(matches!(
            lxc_key_validity(100, "lxc.rootfs.path"),
            LxcKeyValidity::Refused(_)
        ));
        assert!(matches!(
            lxc_key_validity(100, "lxc.id_map"),
            LxcKeyValidity::Deprecated(_)
        ));
        assert_eq!(lxc_key_validity(100, "lxc.bogus"), LxcKeyValidity::Unknown);
    }
}
