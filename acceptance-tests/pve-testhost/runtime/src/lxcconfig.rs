//! Turns a pct.conf into `/var/lib/lxc/<vmid>/config`, following pve-container's
//! `update_lxc_config` in order and content, with these documented differences:
//!
//! * the rootfs volume directory is used directly as `lxc.rootfs.path` instead of being
//!   mounted at `/var/lib/lxc/<vmid>/rootfs` by a prestart hook;
//! * `mpN` and `devN` nodes are attached with `lxc.mount.entry` bind mounts instead of
//!   PVE's hooks (same result inside the container: path, read-only flag, node owner/mode);
//! * cgroup2 memory/CPU limits are emitted only for controllers the node's cgroup2 tree
//!   offers (on a v1/v2 hybrid host LXC would otherwise refuse to start);
//! * AppArmor rules (`nesting`, `mount=`, `fuse`) are emitted only when AppArmor is
//!   enabled; `keyctl` and `mknod` change PVE's generated seccomp profile, which is not
//!   reproduced: LXC's default profile from `common.conf` applies (keyctl allowed, mknod
//!   limited by the device cgroup), so both flags are accepted and recorded only;
//! * an unprivileged container with `devN` entries gets the standard device allowlist
//!   back before its `devN` rules (see [`USERNS_DEVICE_BASELINE`]).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::conf::{ConfError, Section};
use crate::idmap::IdMap;

/// Facts about the node that change the generated config.
#[derive(Debug, Clone, Default)]
pub struct HostFacts {
    /// Controllers listed in `/sys/fs/cgroup/cgroup.controllers`.
    pub cgroup2_controllers: Vec<String>,
    /// AppArmor is enabled in the kernel.
    pub apparmor: bool,
    /// The node covers `/sys/class` with its hardware stand-ins. The kernel refuses a
    /// fresh sysfs mount in a user namespace while part of sysfs is covered
    /// (`mount_too_revealing`), so LXC must be started from a mount namespace where
    /// that cover is detached (see `Containers::start`).
    pub sys_class_covered: bool,
}

impl HostFacts {
    /// Reads the facts of the running node.
    pub fn detect() -> Self {
        let controllers = std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers")
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string)
            .collect();
        let apparmor = std::fs::read_to_string("/sys/module/apparmor/parameters/enabled")
            .map(|s| s.trim() == "Y")
            .unwrap_or(false);
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let sys_class_covered = mountinfo
            .lines()
            .any(|l| l.split(' ').nth(4) == Some("/sys/class"));
        Self {
            cgroup2_controllers: controllers,
            apparmor,
            sys_class_covered,
        }
    }

    fn has(&self, controller: &str) -> bool {
        self.cgroup2_controllers.iter().any(|c| c == controller)
    }
}

/// A mount point resolved to a host path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedMount {
    /// Host directory or file.
    pub source: PathBuf,
    /// Path inside the container (absolute).
    pub target: String,
    /// Read-only.
    pub ro: bool,
    /// The source is a file, not a directory.
    pub is_file: bool,
}

/// A `devN` device resolved against the node's `/dev`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedDevice {
    /// Device path on the host and inside the container (`/dev/...`).
    pub path: String,
    /// `b` or `c`.
    pub kind: char,
    /// Major number.
    pub major: u64,
    /// Minor number.
    pub minor: u64,
    /// Prepared node under `/var/lib/lxc/<vmid>/passthrough`, owner/mode already mapped.
    pub node: PathBuf,
    /// Only read access in the cgroup rule.
    pub deny_write: bool,
}

/// Everything the config refers to, already resolved on the node.
#[derive(Debug, Clone)]
pub struct Resolved<'a> {
    /// CT id.
    pub vmid: u32,
    /// The config section to run (the main section, pending already applied).
    pub conf: &'a Section,
    /// User namespace map.
    pub idmap: &'a IdMap,
    /// Host directory of the root file system.
    pub rootfs: &'a Path,
    /// `mpN` in index order.
    pub mounts: &'a [ResolvedMount],
    /// `devN` in index order.
    pub devices: &'a [ResolvedDevice],
}

/// The device rules of LXC's `common.conf` that `userns.conf` clears for unprivileged
/// containers. Debian's LXC 5.0 clears the list but keeps its allowlist mode, so a single
/// `devN` rule would make every other node, `/dev/null` included, fail with EPERM. A
/// Proxmox node runs unprivileged containers with passed-through devices normally, so the
/// stand-in restores the baseline ahead of the `devN` rules: the standard nodes work, the
/// passed device works, anything else still gets the kernel's EPERM.
pub const USERNS_DEVICE_BASELINE: &[&str] = &[
    "c *:* m",
    "b *:* m",
    "c 1:3 rwm",
    "c 1:5 rwm",
    "c 1:7 rwm",
    "c 5:0 rwm",
    "c 5:1 rwm",
    "c 5:2 rwm",
    "c 1:8 rwm",
    "c 1:9 rwm",
    "c 136:* rwm",
    "c 10:229 rwm",
];

/// Escapes a path for an fstab-format `lxc.mount.entry` field.
fn fstab_escape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            ' ' => out.push_str("\\040"),
            '\t' => out.push_str("\\011"),
            '\n' => out.push_str("\\012"),
            '\\' => out.push_str("\\134"),
            _ => out.push(c),
        }
    }
    out
}

/// Renders the LXC config text.
pub fn render(r: &Resolved<'_>, facts: &HostFacts) -> Result<String, ConfError> {
    let conf = r.conf;
    let vmid = r.vmid;
    let mut out = String::new();
    let mut line = |key: &str, value: &str| {
        let _ = writeln!(out, "{key} = {value}");
    };
    let newline_free = |key: &str, value: &str| -> Result<(), ConfError> {
        if value.contains(['\n', '\r']) {
            return Err(ConfError::Newline { key: key.into() });
        }
        Ok(())
    };
    for (k, v) in conf
        .options
        .iter()
        .chain(conf.lxc.iter().map(|(k, v)| (k, v)))
    {
        newline_free(k, v)?;
    }

    line("lxc.cgroup.relative", "0");
    line("lxc.cgroup.dir.monitor", &format!("lxc.monitor/{vmid}"));
    line("lxc.cgroup.dir.container", &format!("lxc/{vmid}"));
    line("lxc.cgroup.dir.container.inner", "ns");
    line("lxc.arch", conf.get("arch").unwrap_or("amd64"));
    let ostype = conf.get("ostype").unwrap_or("debian");
    if ostype != "unmanaged" {
        line(
            "lxc.include",
            &format!("/usr/share/lxc/config/{ostype}.common.conf"),
        );
        if r.idmap.is_unprivileged() {
            line(
                "lxc.include",
                &format!("/usr/share/lxc/config/{ostype}.userns.conf"),
            );
        }
    }

    let features = conf.features()?;
    if facts.apparmor {
        line("lxc.apparmor.profile", "generated");
        if features.nesting {
            line("lxc.apparmor.allow_nesting", "1");
        }
        for fs in &features.mount {
            line("lxc.apparmor.raw", &format!("mount fstype={fs},"));
        }
        if features.fuse {
            line("lxc.apparmor.raw", "mount fstype=fuse,");
        }
    }
    if features.nesting {
        line("lxc.mount.auto", "proc:rw sys:rw");
    }
    if features.fuse {
        line("lxc.cgroup2.devices.allow", "c 10:229 rwm");
        line(
            "lxc.mount.entry",
            "/dev/fuse dev/fuse none bind,create=file 0 0",
        );
    }
    if r.idmap.is_unprivileged() && !features.force_rw_sys && !features.nesting {
        line("lxc.mount.auto", "sys:mixed");
    }

    if r.idmap.is_unprivileged() && !r.devices.is_empty() {
        for rule in USERNS_DEVICE_BASELINE {
            line("lxc.cgroup2.devices.allow", rule);
        }
    }
    for dev in r.devices {
        let perms = if dev.deny_write { "r" } else { "rw" };
        line(
            "lxc.cgroup2.devices.allow",
            &format!("{} {}:{} {perms}", dev.kind, dev.major, dev.minor),
        );
        if dev.deny_write {
            line(
                "lxc.cgroup2.devices.deny",
                &format!("{} {}:{} w", dev.kind, dev.major, dev.minor),
            );
        }
    }

    line("lxc.monitor.unshare", "1");
    if r.idmap.is_unprivileged() && !r.idmap.custom {
        for entry in &r.idmap.entries {
            line("lxc.idmap", &entry.to_string());
        }
    }

    if conf.get("console") == Some("0") {
        line("lxc.console.path", "none");
        line("lxc.cgroup2.devices.deny", "c 5:1 rwm");
    }
    line("lxc.tty.max", conf.get("tty").unwrap_or("2"));
    line("lxc.environment", "TERM=linux");
    let hostname = conf
        .get("hostname")
        .map(str::to_string)
        .unwrap_or_else(|| format!("CT{vmid}"));
    line("lxc.uts.name", &hostname);

    if facts.has("memory") {
        let memory: u64 = conf
            .get("memory")
            .and_then(|m| m.parse().ok())
            .unwrap_or(512);
        let swap: u64 = conf.get("swap").and_then(|m| m.parse().ok()).unwrap_or(512);
        let high = if memory >= 16 * 1024 {
            (memory - 128) * 1024 * 1024
        } else {
            memory * 1024 * 1016
        };
        line(
            "lxc.cgroup2.memory.max",
            &(memory * 1024 * 1024).to_string(),
        );
        line("lxc.cgroup2.memory.high", &high.to_string());
        line(
            "lxc.cgroup2.memory.swap.max",
            &(swap * 1024 * 1024).to_string(),
        );
    }
    if facts.has("cpu") {
        if let Some(limit) = conf.get("cpulimit").and_then(|c| c.parse::<f64>().ok()) {
            if limit > 0.0 {
                line(
                    "lxc.cgroup2.cpu.max",
                    &format!("{} 100000", (limit * 100_000.0) as u64),
                );
            }
        }
        if let Some(units) = conf.get("cpuunits").and_then(|c| c.parse::<u64>().ok()) {
            line(
                "lxc.cgroup2.cpu.weight",
                &units.clamp(1, 10_000).to_string(),
            );
        }
    }

    line("lxc.rootfs.path", &format!("dir:{}", r.rootfs.display()));

    for mount in r.mounts {
        let create = if mount.is_file { "file" } else { "dir" };
        let ro = if mount.ro { ",ro" } else { "" };
        line(
            "lxc.mount.entry",
            &format!(
                "{} {} none rbind,create={create}{ro} 0 0",
                fstab_escape(&mount.source.to_string_lossy()),
                fstab_escape(mount.target.trim_start_matches('/')),
            ),
        );
    }
    for dev in r.devices {
        line(
            "lxc.mount.entry",
            &format!(
                "{} {} none bind,create=file 0 0",
                fstab_escape(&dev.node.to_string_lossy()),
                fstab_escape(dev.path.trim_start_matches('/')),
            ),
        );
    }

    for (i, net) in conf.nets()? {
        let p = format!("lxc.net.{i}");
        line(&format!("{p}.type"), "veth");
        line(&format!("{p}.veth.pair"), &format!("veth{vmid}i{i}"));
        if let Some(hwaddr) = &net.hwaddr {
            line(&format!("{p}.hwaddr"), hwaddr);
        }
        line(&format!("{p}.name"), &net.name);
        if let Some(mtu) = net.mtu {
            line(&format!("{p}.mtu"), &mtu.to_string());
        }
        if let (Some(bridge), false) = (&net.bridge, net.link_down) {
            line(&format!("{p}.link"), bridge);
        }
    }

    if let Some(entrypoint) = conf.get("entrypoint") {
        line("lxc.init.cmd", entrypoint);
    }
    if let Some(env) = conf.get("env") {
        for var in env.split('\0').filter(|v| !v.is_empty()) {
            line("lxc.environment.runtime", var);
        }
    }
    for (key, value) in &conf.lxc {
        line(key, value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conf::PctConf;

    fn render_text(text: &str, devices: &[ResolvedDevice], mounts: &[ResolvedMount]) -> String {
        let conf = PctConf::parse(101, text).unwrap();
        let idmap = IdMap::of(&conf.main).unwrap();
        let r = Resolved {
            vmid: 101,
            conf: &conf.main,
            idmap: &idmap,
            rootfs: Path::new("/var/lib/vz/images/101/vm-101-disk-0.raw"),
            mounts,
            devices,
        };
        render(&r, &HostFacts::default()).unwrap()
    }

    #[test]
    fn privileged_ct_with_device_mount_and_raw_lines() {
        let dev = ResolvedDevice {
            path: "/dev/dri/renderD128".into(),
            kind: 'c',
            major: 226,
            minor: 128,
            node: "/var/lib/lxc/101/passthrough/dev/dri/renderD128".into(),
            deny_write: false,
        };
        let mount = ResolvedMount {
            source: "/srv/my media".into(),
            target: "/mnt/media".into(),
            ro: true,
            is_file: false,
        };
        let text = render_text(
            "arch: amd64\nhostname: ripper\nnet0: name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:01,ip=dhcp\nostype: debian\nlxc.cgroup2.devices.allow: b 7:0 rwm\n",
            &[dev],
            &[mount],
        );
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.contains(&"lxc.include = /usr/share/lxc/config/debian.common.conf"));
        assert!(!text.contains("userns.conf"));
        assert!(!text.contains("lxc.idmap"));
        assert!(lines.contains(&"lxc.cgroup2.devices.allow = c 226:128 rw"));
        assert!(lines.contains(
            &"lxc.mount.entry = /srv/my\\040media mnt/media none rbind,create=dir,ro 0 0"
        ));
        assert!(lines.contains(&"lxc.net.0.veth.pair = veth101i0"));
        assert!(lines.contains(&"lxc.net.0.link = vmbr0"));
        assert!(lines.contains(&"lxc.uts.name = ripper"));
        assert_eq!(lines.last(), Some(&"lxc.cgroup2.devices.allow = b 7:0 rwm"));
        assert!(
            !text.contains("memory.max"),
            "no memory controller in HostFacts::default()"
        );
    }

    #[test]
    fn unprivileged_device_rules_keep_the_standard_nodes() {
        let dev = ResolvedDevice {
            path: "/dev/dri/renderD128".into(),
            kind: 'c',
            major: 226,
            minor: 128,
            node: "/var/lib/lxc/101/passthrough/dev/dri/renderD128".into(),
            deny_write: false,
        };
        let text = render_text("unprivileged: 1\n", &[dev], &[]);
        let lines: Vec<&str> = text.lines().collect();
        let at = |l: &str| lines.iter().position(|x| *x == l);
        let userns = at("lxc.include = /usr/share/lxc/config/debian.userns.conf").unwrap();
        let null = at("lxc.cgroup2.devices.allow = c 1:3 rwm").expect("/dev/null rule");
        let render = at("lxc.cgroup2.devices.allow = c 226:128 rw").unwrap();
        assert!(userns < null && null < render, "{text}");

        let without = render_text("unprivileged: 1\n", &[], &[]);
        assert!(
            !without.contains("devices.allow"),
            "no device rules: LXC attaches no device program, as on PVE"
        );
    }

    #[test]
    fn unprivileged_default_and_custom_maps() {
        let text = render_text("unprivileged: 1\n", &[], &[]);
        assert!(text.contains("lxc.include = /usr/share/lxc/config/debian.userns.conf\n"));
        assert!(text.contains("lxc.idmap = u 0 100000 65536\nlxc.idmap = g 0 100000 65536\n"));
        assert!(text.contains("lxc.mount.auto = sys:mixed\n"));
        let custom = render_text(
            "unprivileged: 1\nlxc.idmap: u 0 100000 65536\nlxc.idmap: g 0 100000 65536\n",
            &[],
            &[],
        );
        assert_eq!(
            custom.matches("lxc.idmap").count(),
            2,
            "custom map is emitted once, verbatim"
        );
    }

    #[test]
    fn features_and_deny_write() {
        let dev = ResolvedDevice {
            path: "/dev/sr0".into(),
            kind: 'b',
            major: 11,
            minor: 0,
            node: "/x".into(),
            deny_write: true,
        };
        let text = render_text("features: nesting=1,fuse=1\n", &[dev], &[]);
        assert!(text.contains("lxc.mount.auto = proc:rw sys:rw\n"));
        assert!(text.contains("lxc.mount.entry = /dev/fuse dev/fuse none bind,create=file 0 0\n"));
        assert!(text.contains(
            "lxc.cgroup2.devices.allow = b 11:0 r\nlxc.cgroup2.devices.deny = b 11:0 w\n"
        ));
    }

    #[test]
    fn limits_follow_available_controllers() {
        let conf = PctConf::parse(101, "memory: 1024\nswap: 256\ncpulimit: 1.5\n").unwrap();
        let idmap = IdMap::default();
        let r = Resolved {
            vmid: 101,
            conf: &conf.main,
            idmap: &idmap,
            rootfs: Path::new("/r"),
            mounts: &[],
            devices: &[],
        };
        let facts = HostFacts {
            cgroup2_controllers: vec!["memory".into(), "cpu".into()],
            apparmor: false,
            sys_class_covered: false,
        };
        let text = render(&r, &facts).unwrap();
        assert!(text.contains("lxc.cgroup2.memory.max = 1073741824\n"));
        assert!(text.contains("lxc.cgroup2.memory.high = 1065353216\n"));
        assert!(text.contains("lxc.cgroup2.memory.swap.max = 268435456\n"));
        assert!(text.contains("lxc.cgroup2.cpu.max = 150000 100000\n"));
    }
}
