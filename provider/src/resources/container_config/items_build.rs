//! Turning the item blocks of a configuration into agent spec items, remembering where
//! each item came from so a drift report can be written back onto that block.

use std::path::PathBuf;

use pvelxc_cty::{Path, Value};
use pvelxc_schema::Diagnostic;
use pvelxc_spec::{
    AddressMethod, AptPackagesItem, BlockItem, CheckItem, CheckKind, DevicePermissionsItem,
    DirectoryItem, FileItem, FileMode, GroupItem, GroupsMode, Item, LineItem, NetworkBackend,
    NetworkInterfaceItem, PackageState, Presence, SystemdUnitItem, UnitState, UserItem,
};

use super::values::{blocks, boolean, int, string, string_map, strings};

/// Where a spec item came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The `index`th element of the item block `block`.
    Block {
        /// Block type name, e.g. `user`.
        block: &'static str,
        /// Position in the list.
        index: usize,
    },
    /// Expanded from a preset block; drift is written to that preset.
    Preset {
        /// Preset block name, e.g. `media_user`.
        preset: &'static str,
        /// What the item is for within the preset (e.g. `device_groups`, `packages`).
        role: &'static str,
    },
}

/// Spec items in apply order, each with its origin.
#[derive(Debug, Default)]
pub struct Items {
    groups: Vec<(Item, Origin)>,
    users: Vec<(Item, Origin)>,
    apt: Vec<(Item, Origin)>,
    fs: Vec<(Item, Origin)>,
    system: Vec<(Item, Origin)>,
    units: Vec<(Item, Origin)>,
    checks: Vec<(Item, Origin)>,
}

/// Which phase of the run an item belongs to.
#[derive(Debug, Clone, Copy)]
pub enum Phase {
    /// Groups first: users refer to them.
    Groups,
    /// Users.
    Users,
    /// Apt sources and packages.
    Apt,
    /// Directories, files, lines, blocks.
    Files,
    /// Device permissions and networking.
    System,
    /// Units (after their files and binaries).
    Units,
    /// Checks last.
    Checks,
}

impl Items {
    /// Adds an item.
    pub fn push(&mut self, phase: Phase, item: Item, origin: Origin) {
        let list = match phase {
            Phase::Groups => &mut self.groups,
            Phase::Users => &mut self.users,
            Phase::Apt => &mut self.apt,
            Phase::Files => &mut self.fs,
            Phase::System => &mut self.system,
            Phase::Units => &mut self.units,
            Phase::Checks => &mut self.checks,
        };
        list.push((item, origin));
    }

    /// Whether a group of this name is already listed.
    pub fn has_group(&self, name: &str) -> bool {
        self.groups
            .iter()
            .any(|(i, _)| matches!(i, Item::Group(g) if g.name == name))
    }

    /// All items in apply order.
    pub fn into_ordered(self) -> Vec<(Item, Origin)> {
        let mut out = self.groups;
        out.extend(self.users);
        out.extend(self.apt);
        out.extend(self.fs);
        out.extend(self.system);
        out.extend(self.units);
        out.extend(self.checks);
        out
    }
}

fn mode(v: &Value, name: &str, at: &Path) -> Result<Option<FileMode>, Diagnostic> {
    match string(v, name) {
        None => Ok(None),
        Some(text) => FileMode::parse(&text)
            .map(Some)
            .map_err(|e| Diagnostic::error(at.attr(name), "Invalid mode", e)),
    }
}

fn u32_of(v: &Value, name: &str, at: &Path) -> Result<Option<u32>, Diagnostic> {
    match int(v, name) {
        None => Ok(None),
        Some(n) => u32::try_from(n).map(Some).map_err(|_| {
            Diagnostic::error(
                at.attr(name),
                "Out of range",
                format!("{name} = {n} is not a valid ID"),
            )
        }),
    }
}

fn presence(v: &Value) -> Presence {
    if string(v, "state").as_deref() == Some("absent") {
        Presence::Absent
    } else {
        Presence::Present
    }
}

/// Adds the items of every item block in `config`.
pub fn from_blocks(config: &Value, items: &mut Items) -> Result<(), Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let root = Path::root();
    let mut each = |block: &'static str,
                    phase: Phase,
                    f: &dyn Fn(&Value, &Path) -> Result<Item, Diagnostic>| {
        for (index, v) in blocks(config, block).iter().enumerate() {
            let at = root.attr(block).index(index as i64);
            match f(v, &at) {
                Ok(item) => items.push(phase, item, Origin::Block { block, index }),
                Err(d) => diags.push(d),
            }
        }
    };
    each("group", Phase::Groups, &|v, at| {
        let gid = u32_of(v, "gid", at)?;
        let match_host_device = string(v, "match_host_device").map(PathBuf::from);
        if gid.is_some() && match_host_device.is_some() {
            return Err(Diagnostic::error(
                at.attr("match_host_device"),
                "Conflicting group settings",
                "Set either gid or match_host_device, not both.",
            ));
        }
        Ok(Item::Group(GroupItem {
            name: string(v, "name").unwrap_or_default(),
            gid,
            match_host_device,
            system: boolean(v, "system").unwrap_or(false),
        }))
    });
    each("user", Phase::Users, &|v, at| {
        Ok(Item::User(UserItem {
            name: string(v, "name").unwrap_or_default(),
            uid: u32_of(v, "uid", at)?,
            group: string(v, "group"),
            groups: strings(v, "groups"),
            groups_mode: if string(v, "groups_mode").as_deref() == Some("exact") {
                GroupsMode::Exact
            } else {
                GroupsMode::Append
            },
            home: string(v, "home").map(PathBuf::from),
            create_home: true,
            shell: string(v, "shell"),
            comment: string(v, "comment"),
            system: boolean(v, "system").unwrap_or(false),
        }))
    });
    each("apt_packages", Phase::Apt, &|v, _| {
        Ok(Item::AptPackages(AptPackagesItem {
            packages: strings(v, "packages"),
            state: match string(v, "state").as_deref() {
                Some("latest") => PackageState::Latest,
                Some("absent") => PackageState::Absent,
                _ => PackageState::Present,
            },
            cache_valid_seconds: 86_400,
            install_recommends: boolean(v, "install_recommends"),
            mark_manual: false,
            purge: boolean(v, "purge").unwrap_or(false),
        }))
    });
    each("directory", Phase::Files, &|v, at| {
        Ok(Item::Directory(DirectoryItem {
            path: PathBuf::from(string(v, "path").unwrap_or_default()),
            owner: string(v, "owner"),
            group: string(v, "group"),
            mode: mode(v, "mode", at)?,
            recursive_owner: boolean(v, "recursive_owner").unwrap_or(false),
        }))
    });
    each("file", Phase::Files, &|v, at| {
        let content = string(v, "content");
        let template = string(v, "template");
        if content.is_some() == template.is_some() {
            return Err(Diagnostic::error(
                at.attr("content"),
                "File content missing",
                "Set exactly one of content and template.",
            ));
        }
        Ok(Item::File(FileItem {
            path: PathBuf::from(string(v, "path").unwrap_or_default()),
            content,
            template,
            vars: string_map(v, "vars"),
            owner: string(v, "owner"),
            group: string(v, "group"),
            mode: mode(v, "mode", at)?,
        }))
    });
    each("line", Phase::Files, &|v, at| {
        let line = string(v, "line").unwrap_or_default();
        if line.contains('\n') {
            return Err(Diagnostic::error(
                at.attr("line"),
                "Line contains a newline",
                "Use a block for several lines.",
            ));
        }
        Ok(Item::Line(LineItem {
            path: PathBuf::from(string(v, "path").unwrap_or_default()),
            line,
            regexp: string(v, "regexp"),
            state: presence(v),
            create: boolean(v, "create").unwrap_or(true),
            mode: mode(v, "mode", at)?,
        }))
    });
    each("block", Phase::Files, &|v, at| {
        Ok(Item::Block(BlockItem {
            path: PathBuf::from(string(v, "path").unwrap_or_default()),
            block: string(v, "block").unwrap_or_default(),
            marker: string(v, "marker").unwrap_or_else(|| "# {mark} PVELXC MANAGED BLOCK".into()),
            state: presence(v),
            create: boolean(v, "create").unwrap_or(true),
            mode: mode(v, "mode", at)?,
        }))
    });
    each("device_permissions", Phase::System, &|v, at| {
        Ok(Item::DevicePermissions(DevicePermissionsItem {
            path: PathBuf::from(string(v, "path").unwrap_or_default()),
            group: string(v, "group"),
            mode: mode(v, "mode", at)?,
            node_group: string(v, "node_group"),
            node_mode: mode(v, "node_mode", at)?,
            required: boolean(v, "required").unwrap_or(false),
        }))
    });
    each("network_interface", Phase::System, &|v, _| {
        Ok(Item::NetworkInterface(NetworkInterfaceItem {
            name: string(v, "name").unwrap_or_default(),
            method: match string(v, "address") {
                Some(address) => AddressMethod::Static {
                    address,
                    gateway: string(v, "gateway"),
                },
                None => AddressMethod::Dhcp,
            },
            backend: match string(v, "backend").as_deref() {
                Some("ifupdown") => NetworkBackend::Ifupdown,
                Some("networkd") => NetworkBackend::Networkd,
                _ => NetworkBackend::Auto,
            },
        }))
    });
    each("systemd_unit", Phase::Units, &|v, _| {
        Ok(Item::SystemdUnit(SystemdUnitItem {
            name: string(v, "name").unwrap_or_default(),
            content: string(v, "content"),
            enabled: boolean(v, "enabled"),
            state: match string(v, "state").as_deref() {
                Some("started") => Some(UnitState::Started),
                Some("stopped") => Some(UnitState::Stopped),
                _ => None,
            },
            restart_on: strings(v, "restart_on")
                .into_iter()
                .map(PathBuf::from)
                .collect(),
        }))
    });
    each("check", Phase::Checks, &|v, at| {
        let kinds = [
            string(v, "device_opens").map(|p| CheckKind::DeviceOpens { path: p.into() }),
            string(v, "writable").map(|p| CheckKind::Writable { path: p.into() }),
            v.get_attr("command")
                .filter(|c| !c.is_null())
                .map(|_| CheckKind::Command {
                    argv: strings(v, "command"),
                    expect: string(v, "expect").unwrap_or_default(),
                    env: string_map(v, "env"),
                    timeout_seconds: int(v, "timeout_seconds")
                        .and_then(|t| u64::try_from(t).ok())
                        .unwrap_or(30),
                }),
        ];
        let mut set: Vec<CheckKind> = kinds.into_iter().flatten().collect();
        if set.len() != 1 {
            return Err(Diagnostic::error(
                at.clone(),
                "Check needs exactly one kind",
                "Set exactly one of device_opens, writable or command (with expect).",
            ));
        }
        let check = set.remove(0);
        if matches!(&check, CheckKind::Command { argv, .. } if argv.is_empty()) {
            return Err(Diagnostic::error(
                at.attr("command"),
                "Empty command",
                "command needs at least the program.",
            ));
        }
        if matches!(&check, CheckKind::Command { .. }) && string(v, "expect").is_none() {
            return Err(Diagnostic::error(
                at.attr("expect"),
                "Missing expect",
                "A command check needs expect, a regular expression its output must match.",
            ));
        }
        Ok(Item::Check(CheckItem {
            name: string(v, "name").unwrap_or_default(),
            user: string(v, "user").unwrap_or_default(),
            check,
        }))
    });
    if diags.is_empty() {
        Ok(())
    } else {
        Err(diags)
    }
}
