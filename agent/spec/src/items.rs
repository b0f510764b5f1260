//! The item types of a spec. Each item is one resource the agent converges; the
//! key of the one-entry object names its kind (`{"group": {...}}` in JSON,
//! `[items.group]` under `[[items]]` in TOML).

use crate::mode::FileMode;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One resource to converge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Item {
    /// A group in `/etc/group` and `/etc/gshadow`.
    Group(GroupItem),
    /// A user in `/etc/passwd` and `/etc/shadow`, with group memberships.
    User(UserItem),
    /// Debian packages, read from dpkg's status file and changed with apt-get.
    AptPackages(AptPackagesItem),
    /// Extra archive components (e.g. `non-free non-free-firmware`) on apt sources.
    AptComponents(AptComponentsItem),
    /// A whole file with fixed or templated content.
    File(FileItem),
    /// One line in a file (lineinfile semantics).
    Line(LineItem),
    /// A block between marker lines in a file (blockinfile semantics).
    Block(BlockItem),
    /// A directory with owner, group and mode.
    Directory(DirectoryItem),
    /// Group and mode of a device directory and the nodes in it (e.g. `/dev/dri`).
    DevicePermissions(DevicePermissionsItem),
    /// A network interface configuration that survives reboots.
    NetworkInterface(NetworkInterfaceItem),
    /// A systemd unit: file, enablement, running state.
    SystemdUnit(SystemdUnitItem),
    /// A read-only check run as a named user; its result is reported.
    Check(CheckItem),
}

impl Item {
    /// The kind name as written in specs and reports.
    pub fn kind(&self) -> &'static str {
        match self {
            Item::Group(_) => "group",
            Item::User(_) => "user",
            Item::AptPackages(_) => "apt_packages",
            Item::AptComponents(_) => "apt_components",
            Item::File(_) => "file",
            Item::Line(_) => "line",
            Item::Block(_) => "block",
            Item::Directory(_) => "directory",
            Item::DevicePermissions(_) => "device_permissions",
            Item::NetworkInterface(_) => "network_interface",
            Item::SystemdUnit(_) => "systemd_unit",
            Item::Check(_) => "check",
        }
    }

    /// A short human key identifying the item within its kind (name or path).
    pub fn key(&self) -> String {
        match self {
            Item::Group(i) => i.name.clone(),
            Item::User(i) => i.name.clone(),
            Item::AptPackages(i) => i.packages.join(","),
            Item::AptComponents(i) => i.components.join(" "),
            Item::File(i) => i.path.display().to_string(),
            Item::Line(i) => i.path.display().to_string(),
            Item::Block(i) => i.path.display().to_string(),
            Item::Directory(i) => i.path.display().to_string(),
            Item::DevicePermissions(i) => i.path.display().to_string(),
            Item::NetworkInterface(i) => i.name.clone(),
            Item::SystemdUnit(i) => i.name.clone(),
            Item::Check(i) => i.name.clone(),
        }
    }
}

/// A group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupItem {
    /// Group name, e.g. `render`.
    pub name: String,
    /// Fixed GID. Leave unset to keep an existing group's GID or allocate a free one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<u32>,
    /// Take the GID from the group owner of this device node (e.g.
    /// `/dev/dri/renderD128`), so the container's group matches what the host
    /// passed through. A different group already holding that GID is moved to a
    /// free GID first and its files are re-owned. Exclusive with `gid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_host_device: Option<PathBuf>,
    /// Allocate from the system range (100-999) when a new GID is needed.
    #[serde(default)]
    pub system: bool,
}

/// How `groups` of a user is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupsMode {
    /// Add the user to the listed groups and keep any other memberships.
    #[default]
    Append,
    /// Make the listed groups the user's only supplementary groups.
    Exact,
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserItem {
    /// Login name, e.g. `media`.
    pub name: String,
    /// Fixed UID. Leave unset to keep an existing user's UID or allocate a free one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// Primary group by name. It must exist or be created by an earlier item.
    /// Unset: a new user gets a group of its own name (created with the same
    /// number as the UID when free); an existing user keeps its group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Supplementary groups by name.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Whether `groups` adds memberships (`append`) or replaces them (`exact`).
    #[serde(default)]
    pub groups_mode: GroupsMode,
    /// Home directory. Unset: `/home/<name>` for new users, unchanged for existing ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home: Option<PathBuf>,
    /// Create the home directory (from `/etc/skel`) when it does not exist.
    #[serde(default = "yes")]
    pub create_home: bool,
    /// Login shell. Unset: `/bin/bash` for new users, unchanged for existing ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<String>,
    /// GECOS comment field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Allocate from the system range (100-999) when a new UID is needed.
    #[serde(default)]
    pub system: bool,
}

fn yes() -> bool {
    true
}

/// Desired package state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PackageState {
    /// Installed in any version.
    #[default]
    Present,
    /// Installed in the candidate version (asks apt, so it costs a process per run).
    Latest,
    /// Not installed (configuration files are kept unless `purge`).
    Absent,
}

/// Debian packages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AptPackagesItem {
    /// Package names, optionally `name:arch`.
    pub packages: Vec<String>,
    /// Desired state of all listed packages.
    #[serde(default)]
    pub state: PackageState,
    /// Refresh the package lists before installing when they are older than this
    /// many seconds (or when an apt source changed earlier in the run). The lists
    /// are never refreshed when nothing has to be installed.
    #[serde(default = "default_cache_valid")]
    pub cache_valid_seconds: u64,
    /// Install recommended packages too (apt's default is yes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install_recommends: Option<bool>,
    /// Also mark listed packages that are installed as automatic dependencies as
    /// manually installed. Off by default: the agent never changes apt's marks
    /// without saying so, and with this on the change is reported.
    #[serde(default)]
    pub mark_manual: bool,
    /// With `state = "absent"`: purge configuration files too.
    #[serde(default)]
    pub purge: bool,
}

fn default_cache_valid() -> u64 {
    86_400
}

/// Archive components enabled on every apt source that carries `main`, in both
/// one-line `.list` files and deb822 `.sources` files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AptComponentsItem {
    /// Components to add, e.g. `["contrib", "non-free", "non-free-firmware"]`.
    pub components: Vec<String>,
}

/// A whole file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileItem {
    /// Absolute path.
    pub path: PathBuf,
    /// Literal content. Exactly one of `content` and `template` is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Content with `{{ name }}` placeholders filled from `vars`. An unknown
    /// placeholder is an error, not an empty string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Values for the template's placeholders.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vars: BTreeMap<String, String>,
    /// Owner (user name or numeric UID). Unset: root for new files, unchanged otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Group (name or numeric GID). Unset: root for new files, unchanged otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Mode. Unset: `0644` for new files, unchanged otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<FileMode>,
}

/// Whether a line or block must be in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    /// Ensure it is there.
    #[default]
    Present,
    /// Ensure it is gone.
    Absent,
}

/// One line in a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineItem {
    /// Absolute path.
    pub path: PathBuf,
    /// The line, without a newline.
    pub line: String,
    /// Regular expression selecting the line to replace (the last match wins, as in
    /// lineinfile). Unset: the line is matched literally.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regexp: Option<String>,
    /// Present or absent. With `absent`, lines matching `regexp` (or equal to `line`) go.
    #[serde(default)]
    pub state: Presence,
    /// Create the file if it does not exist (otherwise a missing file is an error).
    #[serde(default = "yes")]
    pub create: bool,
    /// Mode of a created file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<FileMode>,
}

/// A block of lines between markers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockItem {
    /// Absolute path.
    pub path: PathBuf,
    /// The block's lines (a trailing newline is ignored).
    pub block: String,
    /// Marker template; `{mark}` becomes `BEGIN` and `END`.
    #[serde(default = "default_marker")]
    pub marker: String,
    /// Present or absent.
    #[serde(default)]
    pub state: Presence,
    /// Create the file if it does not exist.
    #[serde(default = "yes")]
    pub create: bool,
    /// Mode of a created file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<FileMode>,
}

fn default_marker() -> String {
    "# {mark} PVELXC MANAGED BLOCK".to_string()
}

/// A directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryItem {
    /// Absolute path. Missing parents are created (owned by root, mode 0755).
    pub path: PathBuf,
    /// Owner (name or UID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Group (name or GID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Mode, e.g. `"2775"` for a shared group-writable directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<FileMode>,
    /// Also apply owner and group to everything below (not following symlinks and
    /// not crossing into other filesystems).
    #[serde(default)]
    pub recursive_owner: bool,
}

/// Device directory permissions, as the runbook's `chgrp video /dev/dri; chmod 755
/// /dev/dri; chmod 660 /dev/dri/*`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevicePermissionsItem {
    /// The device directory, e.g. `/dev/dri`.
    pub path: PathBuf,
    /// Group of the directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Mode of the directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<FileMode>,
    /// Group of every device node in it. Unset: unchanged (the host's GID mapping
    /// usually decides it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_group: Option<String>,
    /// Mode of every device node in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_mode: Option<FileMode>,
    /// Fail when the directory does not exist (no device passed through) instead
    /// of reporting ok.
    #[serde(default)]
    pub required: bool,
}

/// Which network configuration system to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkBackend {
    /// ifupdown when `/etc/network/interfaces` exists, systemd-networkd otherwise.
    #[default]
    Auto,
    /// A stanza in `/etc/network/interfaces`.
    Ifupdown,
    /// A `.network` file in `/etc/systemd/network`.
    Networkd,
}

/// How an interface gets its address.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum AddressMethod {
    /// DHCP (IPv4).
    #[default]
    Dhcp,
    /// A fixed address.
    Static {
        /// Address with prefix length, e.g. `192.168.1.60/24`.
        address: String,
        /// Default gateway.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        gateway: Option<String>,
    },
}

/// A persistent interface configuration (the runbook's `auto eth0` /
/// `iface eth0 inet dhcp`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkInterfaceItem {
    /// Interface name, e.g. `eth0`.
    pub name: String,
    /// Address method.
    #[serde(default)]
    pub method: AddressMethod,
    /// Configuration system.
    #[serde(default)]
    pub backend: NetworkBackend,
}

/// Desired running state of a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitState {
    /// Running (started when not).
    Started,
    /// Not running (stopped when running).
    Stopped,
}

/// A systemd unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemdUnitItem {
    /// Unit name with suffix, e.g. `pvelxc-jobs.service`.
    pub name: String,
    /// Unit file content, written to `/etc/systemd/system/<name>`. Unset: the unit
    /// must already exist (e.g. shipped by a package).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Enabled via its `[Install]` section, or not. Unset: unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Running or not. Unset: unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<UnitState>,
    /// Files whose change earlier in the same run restarts the unit (as a handler
    /// does). A change to the unit file itself always restarts a running unit.
    #[serde(default)]
    pub restart_on: Vec<PathBuf>,
}

/// What a check verifies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum CheckKind {
    /// The user can open this device node for reading and writing.
    DeviceOpens {
        /// Device path, e.g. `/dev/dri/renderD128`.
        path: PathBuf,
    },
    /// The user can create files in this directory.
    Writable {
        /// Directory path, e.g. `/mnt/storage/staging`.
        path: PathBuf,
    },
    /// A program's output (stdout and stderr) matches a regular expression.
    Command {
        /// Program and arguments, run directly (no shell).
        argv: Vec<String>,
        /// Regular expression the output must match.
        expect: String,
        /// Extra environment variables, e.g. `LIBVA_DRIVER_NAME=iHD`.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        env: BTreeMap<String, String>,
        /// Seconds before the program is killed and the check fails.
        #[serde(default = "default_check_timeout")]
        timeout_seconds: u64,
    },
}

fn default_check_timeout() -> u64 {
    30
}

/// A check run as a named user, without root or any capability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckItem {
    /// Name the result is reported under, e.g. `vainfo`.
    pub name: String,
    /// User to run as (must exist, or be created by an earlier item).
    pub user: String,
    /// What to verify.
    pub check: CheckKind,
}
