//! PVE's whitelist of raw `lxc.*` keys (`is_valid_lxc_conf_key` in pve-container) and the
//! syntax checks for raw lines written into a pct.conf.

use thiserror::Error;

use crate::text::check_single_line;

/// Keys PVE accepts verbatim.
const VALID_KEYS: &[&str] = &[
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
    "lxc.init.uid",
    "lxc.init.gid",
    "lxc.init.groups",
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

/// Keys PVE refuses, with PVE's own reason.
const REFUSED_KEYS: &[(&str, &str)] = &[
    (
        "lxc.rootfs.path",
        "lxc.rootfs.path is auto generated from rootfs",
    ),
    (
        "lxc.rootfs.options",
        "lxc.rootfs.options is not supported, please use mount point options in the \"rootfs\" key",
    ),
];

/// Pre-LXC-3.0 names PVE still reads (with a warning) but LXC itself no longer understands.
const DEPRECATED_KEYS: &[(&str, &str)] = &[
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
    ("lxc.pts", "lxc.pty.max"),
    ("lxc.se_context", "lxc.selinux.context"),
    ("lxc.seccomp", "lxc.seccomp.profile"),
    ("lxc.tty", "lxc.tty.max"),
    ("lxc.utsname", "lxc.uts.name"),
];

/// A raw `lxc.*` line that must not be written.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RawLineError {
    /// The key is not shaped like an LXC key at all.
    #[error("'{key}' is not an LXC key: raw keys start with 'lxc.' and contain only a-z, 0-9, '_', '-' and '.'")]
    Malformed { key: String },
    /// PVE refuses the key with a reason.
    #[error("{key}: {reason}")]
    Refused { key: String, reason: String },
    /// A deprecated key.
    #[error("{key} is deprecated (removed in LXC 3.0); use {replacement}")]
    Deprecated { key: String, replacement: String },
    /// Not on PVE's whitelist.
    #[error("{key} is not on Proxmox VE's whitelist of raw LXC keys; allowed are lxc.cgroup2.*, lxc.prlimit.*, lxc.net.*, lxc.mount.entry, lxc.idmap, lxc.apparmor.*, lxc.cap.*, lxc.hook.*, lxc.environment and the others PVE lists")]
    NotWhitelisted { key: String },
    /// The value would break or change the line.
    #[error("{key}: {reason}")]
    BadValue { key: String, reason: String },
}

impl RawLineError {
    /// The raw key concerned.
    pub fn key(&self) -> &str {
        match self {
            Self::Malformed { key }
            | Self::Refused { key, .. }
            | Self::Deprecated { key, .. }
            | Self::NotWhitelisted { key }
            | Self::BadValue { key, .. } => key,
        }
    }
}

/// Whether PVE accepts `key` as a raw LXC key (`is_valid_lxc_conf_key`), and why not.
pub fn check_raw_key(key: &str) -> Result<(), RawLineError> {
    let shaped = key.len() > 4
        && key.starts_with("lxc.")
        && key.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.')
        });
    if !shaped {
        return Err(RawLineError::Malformed {
            key: key.to_string(),
        });
    }
    if let Some((_, reason)) = REFUSED_KEYS.iter().find(|(k, _)| *k == key) {
        return Err(RawLineError::Refused {
            key: key.to_string(),
            reason: (*reason).to_string(),
        });
    }
    if let Some((_, new)) = DEPRECATED_KEYS.iter().find(|(k, _)| *k == key) {
        return Err(RawLineError::Deprecated {
            key: key.to_string(),
            replacement: (*new).to_string(),
        });
    }
    if key.starts_with("lxc.network.") {
        return Err(RawLineError::Deprecated {
            key: key.to_string(),
            replacement: "lxc.net.INDEX.*".to_string(),
        });
    }
    if key.starts_with("lxc.limit.") {
        return Err(RawLineError::Deprecated {
            key: key.to_string(),
            replacement: "lxc.prlimit.*".to_string(),
        });
    }
    let allowed = VALID_KEYS.contains(&key)
        || key.starts_with("lxc.cgroup2.")
        || key.starts_with("lxc.cgroup.")
        || key.starts_with("lxc.prlimit.")
        || key.starts_with("lxc.net.");
    if allowed {
        Ok(())
    } else {
        Err(RawLineError::NotWhitelisted {
            key: key.to_string(),
        })
    }
}

/// Validates a raw line for writing: whitelisted key, a value PVE reads back unchanged
/// (single line, no surrounding whitespace), and well-formed `lxc.idmap` entries.
pub fn check_raw_line(key: &str, value: &str) -> Result<(), RawLineError> {
    check_raw_key(key)?;
    let bad = |reason: String| RawLineError::BadValue {
        key: key.to_string(),
        reason,
    };
    check_single_line(key, value).map_err(|e| bad(e.to_string()))?;
    if value.trim_matches(|c: char| c.is_ascii_whitespace()) != value {
        return Err(bad(
            "leading or trailing whitespace would be dropped by PVE; remove it".into(),
        ));
    }
    if key == "lxc.idmap" {
        parse_idmap_entry(value).map_err(bad)?;
    }
    Ok(())
}

/// One `lxc.idmap` entry: `u|g <container-start> <host-start> <count>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdmapEntry {
    /// `'u'` or `'g'`.
    pub kind: char,
    pub container_start: u32,
    pub host_start: u32,
    pub count: u32,
}

/// Parses an `lxc.idmap` value with PVE's syntax (`^([ug])\s+(\d+)\s+(\d+)\s+(\d+)\s*$`).
pub fn parse_idmap_entry(value: &str) -> Result<IdmapEntry, String> {
    let parts: Vec<&str> = value.split_ascii_whitespace().collect();
    let usage = || {
        format!("'{value}' is not an idmap entry; expected 'u|g <container-id> <host-id> <count>', e.g. 'u 1000 1000 1'")
    };
    let [kind, ct, host, count] = parts.as_slice() else {
        return Err(usage());
    };
    let kind = match *kind {
        "u" => 'u',
        "g" => 'g',
        _ => return Err(usage()),
    };
    let num = |s: &str| -> Result<u32, String> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(usage());
        }
        s.parse()
            .map_err(|_| format!("'{s}' in '{value}' is out of range (ids are below 2^32)"))
    };
    let entry = IdmapEntry {
        kind,
        container_start: num(ct)?,
        host_start: num(host)?,
        count: num(count)?,
    };
    if entry.count == 0 {
        return Err(format!("'{value}': the count must be at least 1"));
    }
    let overflow = |start: u32| u64::from(start) + u64::from(entry.count) > u64::from(u32::MAX) + 1;
    if overflow(entry.container_start) || overflow(entry.host_start) {
        return Err(format!("'{value}': the range runs past the largest id"));
    }
    Ok(entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runbook_lines_are_allowed() {
        for (k, v) in [
            ("lxc.cgroup2.devices.allow", "c 226:0 rwm"),
            ("lxc.cgroup2.devices.allow", "c 21:* rwm"),
            (
                "lxc.mount.entry",
                "/dev/dri dev/dri none bind,optional,create=dir",
            ),
            (
                "lxc.mount.entry",
                "/dev/sr0 dev/sr0 none bind,optional,create=file",
            ),
            ("lxc.idmap", "u 1000 1000 1"),
            ("lxc.apparmor.profile", "unconfined"),
            ("lxc.prlimit.nofile", "65536"),
            ("lxc.net.0.flags", "up"),
            ("lxc.cap.drop", "sys_time"),
        ] {
            assert_eq!(check_raw_line(k, v), Ok(()), "{k}");
        }
    }

    #[test]
    fn refused_keys_carry_pve_reason() {
        let e = check_raw_key("lxc.rootfs.path").unwrap_err();
        assert_eq!(
            e.to_string(),
            "lxc.rootfs.path: lxc.rootfs.path is auto generated from rootfs"
        );
        let e = check_raw_key("lxc.rootfs.options").unwrap_err();
        assert!(
            e.to_string().contains("please use mount point options"),
            "{e}"
        );
        assert!(matches!(
            check_raw_key("lxc.id_map"),
            Err(RawLineError::Deprecated { .. })
        ));
        assert!(matches!(
            check_raw_key("lxc.network.type"),
            Err(RawLineError::Deprecated { .. })
        ));
        assert!(matches!(
            check_raw_key("lxc.rootfs.bogus"),
            Err(RawLineError::NotWhitelisted { .. })
        ));
        assert!(matches!(
            check_raw_key("lxc.ephemeral"),
            Err(RawLineError::NotWhitelisted { .. })
        ));
        for bad in [
            "lxc.",
            "LXC.mount.entry",
            "lxc.mount entry",
            "mp0",
            "lxc.a:b",
            "",
        ] {
            assert!(
                matches!(check_raw_key(bad), Err(RawLineError::Malformed { .. })),
                "{bad}"
            );
        }
        assert_eq!(check_raw_key("lxc.rootfs.mount"), Ok(()));
    }

    #[test]
    fn values_cannot_inject_lines() {
        for v in [
            "c 1:1 rwm\nlxc.rootfs.path: /",
            "x\r",
            "a\0b",
            " leading",
            "trailing ",
        ] {
            assert!(
                matches!(
                    check_raw_line("lxc.cgroup2.devices.allow", v),
                    Err(RawLineError::BadValue { .. })
                ),
                "{v:?}"
            );
        }
    }

    #[test]
    fn idmap_syntax() {
        assert_eq!(
            parse_idmap_entry("g 0 100000 1000").unwrap(),
            IdmapEntry {
                kind: 'g',
                container_start: 0,
                host_start: 100000,
                count: 1000
            }
        );
        for bad in [
            "u 0 100000",
            "x 0 1 1",
            "u -1 0 1",
            "u 0 0 0",
            "u 4294967295 0 2",
            "u 1 2 3 4",
        ] {
            assert!(check_raw_line("lxc.idmap", bad).is_err(), "{bad}");
        }
    }
}
