//! Nested blocks mirroring the agent spec's item kinds, shared by `pvelxc_container_config`
//! and `pvelxc_node_config`. Names and meanings follow `pvelxc_spec` one to one.

use pvelxc_cty::Type;
use pvelxc_schema::{Attribute, Block, NestedBlock, Validator};

fn name_validator() -> Validator {
    Validator::regex(
        r"^[a-z_][a-z0-9_-]*[$]?$",
        "a user or group name such as media",
    )
}

fn path_validator() -> Validator {
    Validator::regex(
        r"^/[^\x00-\x1f]*$",
        "an absolute path without control characters",
    )
}

fn mode_validator() -> Validator {
    Validator::regex(
        r"^[0-7]{3,4}$",
        "3 or 4 octal digits such as \"0644\" or \"2775\"",
    )
}

fn owned(what: &str) -> Attribute {
    Attribute::bool("owned")
        .optional()
        .computed()
        .default(false)
        .description(format!(
            "Whether this resource owns the {what}: destroying the resource then removes it. \
             Things not owned are left as they are on destroy."
        ))
}

/// `group` blocks.
pub fn group() -> NestedBlock {
    NestedBlock::list(
        "group",
        Block::new()
            .description("A group in /etc/group.")
            .attr(
                Attribute::string("name")
                    .description("Name, as in the spec item (user, group, interface or unit name).")
                    .required()
                    .validator(name_validator()),
            )
            .attr(
                Attribute::int("gid")
                    .description("Fixed numeric group ID.")
                    .optional()
                    .description("Fixed GID; unset keeps an existing group's GID.")
                    .validator(Validator::int_range(0, 4_294_967_294)),
            )
            .attr(
                Attribute::string("match_host_device")
                    .optional()
                    .description(
                        "Take the GID from the group of this device node as the container sees \
                         it (e.g. `/dev/dri/renderD128`); exclusive with `gid`.",
                    )
                    .validator(path_validator()),
            )
            .attr(
                Attribute::bool("system")
                    .description("Allocate new IDs from the system range (100-999).")
                    .optional()
                    .description("Allocate new GIDs from the system range."),
            )
            .attr(owned("group")),
    )
}

/// `user` blocks.
pub fn user() -> NestedBlock {
    NestedBlock::list(
        "user",
        Block::new()
            .description("A user account with group memberships.")
            .attr(
                Attribute::string("name")
                    .description("Name, as in the spec item (user, group, interface or unit name).")
                    .required()
                    .validator(name_validator()),
            )
            .attr(
                Attribute::int("uid")
                    .description("Fixed numeric user ID.")
                    .optional()
                    .validator(Validator::int_range(0, 4_294_967_294)),
            )
            .attr(
                Attribute::string("group")
                    .description("Group, as a group name or numeric GID.")
                    .optional()
                    .description("Primary group by name.")
                    .validator(name_validator()),
            )
            .attr(
                Attribute::list("groups", Type::String)
                    .optional()
                    .description(
                        "Supplementary groups. A membership removed inside the container shows \
                         as a change of this list in `terraform plan`.",
                    ),
            )
            .attr(
                Attribute::string("groups_mode")
                    .optional()
                    .description("`append` (default: keep other memberships) or `exact`.")
                    .validator(Validator::one_of(["append", "exact"])),
            )
            .attr(
                Attribute::string("home")
                    .description("Home directory.")
                    .optional()
                    .validator(path_validator()),
            )
            .attr(
                Attribute::string("shell")
                    .description("Login shell.")
                    .optional()
                    .validator(path_validator()),
            )
            .attr(
                Attribute::string("comment")
                    .description("GECOS comment.")
                    .optional(),
            )
            .attr(
                Attribute::bool("system")
                    .description("Allocate new IDs from the system range (100-999).")
                    .optional(),
            )
            .attr(owned("user (userdel; the home directory is kept)")),
    )
}

/// `apt_packages` blocks.
pub fn apt_packages() -> NestedBlock {
    NestedBlock::list(
        "apt_packages",
        Block::new()
            .description("Debian packages installed with apt-get.")
            .attr(
                Attribute::list("packages", Type::String).description("Packages to install. A package purged in the target disappears from this list in the refreshed state.")
                    .required()
                    .description("Package names. A package purged inside the container disappears from this list in the refreshed state, so the plan re-adds it.")
                    .validator(Validator::length(1, 500)),
            )
            .attr(
                Attribute::string("state").description("Desired state.")
                    .optional()
                    .description("`present` (default), `latest` or `absent`.")
                    .validator(Validator::one_of(["present", "latest", "absent"])),
            )
            .attr(Attribute::bool("install_recommends").description("Install recommended packages too (unset: apt's default).").optional())
            .attr(Attribute::bool("purge").optional().description("With state = \"absent\": purge configuration files too."))
            .attr(owned("packages (apt-get remove on destroy)")),
    )
}

/// `file` blocks.
pub fn file() -> NestedBlock {
    NestedBlock::list(
        "file",
        Block::new()
            .description("A whole file.")
            .attr(
                Attribute::string("path").description("Absolute path in the target.")
                    .required()
                    .validator(path_validator()),
            )
            .attr(
                Attribute::string("content").description("Unit file content written to /etc/systemd/system/<name>; unset: the unit must already exist.")
                    .optional()
                    .multiline()
                    .description("Literal content."),
            )
            .attr(
                Attribute::string("template")
                    .optional()
                    .multiline()
                    .description("Content with `{{ name }}` placeholders filled from `vars`."),
            )
            .attr(Attribute::map("vars", Type::String).description("Values for the template's `{{ name }}` placeholders.").optional())
            .attr(Attribute::string("owner").description("Owner, as a user name or numeric UID.").optional())
            .attr(Attribute::string("group").description("Group, as a group name or numeric GID.").optional())
            .attr(
                Attribute::string("mode").description("Permission bits as 3 or 4 octal digits in a string, e.g. \"0644\" or \"2775\".")
                    .optional()
                    .validator(mode_validator()),
            )
            .attr(owned("file")),
    )
}

/// `line` blocks.
pub fn line() -> NestedBlock {
    NestedBlock::list(
        "line",
        Block::new()
            .description("One line in a file (lineinfile semantics).")
            .attr(Attribute::string("path").description("Absolute path in the target.").required().validator(path_validator()))
            .attr(Attribute::string("line").description("The line, without a newline.").required())
            .attr(Attribute::string("regexp").description("Regular expression selecting the line to replace (the last match wins); unset matches the line literally.").optional())
            .attr(
                Attribute::string("state").description("Desired state.")
                    .optional()
                    .computed()
                    .default("present")
                    .description("`present` or `absent`. A managed line deleted by hand shows as `absent` in the refreshed state.")
                    .validator(Validator::one_of(["present", "absent"])),
            )
            .attr(Attribute::bool("create").description("Create the file when it does not exist (default true).").optional())
            .attr(Attribute::string("mode").description("Permission bits as 3 or 4 octal digits in a string, e.g. \"0644\" or \"2775\".").optional().validator(mode_validator()))
            .attr(owned("line (removed on destroy)")),
    )
}

/// `block` blocks.
pub fn text_block() -> NestedBlock {
    NestedBlock::list(
        "block",
        Block::new()
            .description("Lines between marker comments in a file (blockinfile semantics).")
            .attr(
                Attribute::string("path").description("Absolute path in the target.")
                    .required()
                    .validator(path_validator()),
            )
            .attr(Attribute::string("block").description("The lines of the block.").required().multiline())
            .attr(
                Attribute::string("marker")
                    .optional()
                    .description("Marker template; `{mark}` becomes BEGIN and END."),
            )
            .attr(
                Attribute::string("state").description("Desired state.")
                    .optional()
                    .computed()
                    .default("present")
                    .validator(Validator::one_of(["present", "absent"])),
            )
            .attr(Attribute::bool("create").description("Create the file when it does not exist (default true).").optional())
            .attr(
                Attribute::string("mode").description("Permission bits as 3 or 4 octal digits in a string, e.g. \"0644\" or \"2775\".")
                    .optional()
                    .validator(mode_validator()),
            )
            .attr(owned("block (removed on destroy)")),
    )
}

/// `directory` blocks.
pub fn directory() -> NestedBlock {
    NestedBlock::list(
        "directory",
        Block::new()
            .description("A directory with owner, group and mode.")
            .attr(
                Attribute::string("path").description("Absolute path in the target.")
                    .required()
                    .validator(path_validator()),
            )
            .attr(Attribute::string("owner").description("Owner, as a user name or numeric UID.").optional())
            .attr(Attribute::string("group").description("Group, as a group name or numeric GID.").optional())
            .attr(
                Attribute::string("mode").description("Permission bits as 3 or 4 octal digits in a string, e.g. \"0644\" or \"2775\".")
                    .optional()
                    .validator(mode_validator()),
            )
            .attr(Attribute::bool("recursive_owner").description("Also apply owner and group to everything below (not following symlinks or crossing filesystems).").optional())
            .attr(owned("directory (removed on destroy only when empty)")),
    )
}

/// `device_permissions` blocks.
pub fn device_permissions() -> NestedBlock {
    NestedBlock::list(
        "device_permissions",
        Block::new()
            .description("Group and mode of a device directory and its nodes (e.g. /dev/dri).")
            .attr(
                Attribute::string("path").description("Absolute path in the target.")
                    .required()
                    .validator(path_validator()),
            )
            .attr(Attribute::string("group").description("Group, as a group name or numeric GID.").optional())
            .attr(
                Attribute::string("mode").description("Permission bits as 3 or 4 octal digits in a string, e.g. \"0644\" or \"2775\".")
                    .optional()
                    .validator(mode_validator()),
            )
            .attr(Attribute::string("node_group").description("Group of every device node in the directory.").optional())
            .attr(
                Attribute::string("node_mode").description("Mode of every device node in the directory.")
                    .optional()
                    .validator(mode_validator()),
            )
            .attr(Attribute::bool("required").description("Fail when the directory does not exist instead of reporting ok.").optional()),
    )
}

/// `network_interface` blocks.
pub fn network_interface() -> NestedBlock {
    NestedBlock::list(
        "network_interface",
        Block::new()
            .description("A network interface configuration that survives reboots.")
            .attr(
                Attribute::string("name").description("Name, as in the spec item (user, group, interface or unit name).")
                    .required()
                    .validator(Validator::regex(
                        r"^[A-Za-z0-9_.-]{1,15}$",
                        "an interface name such as eth0",
                    )),
            )
            .attr(
                Attribute::string("address")
                    .optional()
                    .description("IPv4 address with prefix length; unset means DHCP.")
                    .validator(Validator::cidr()),
            )
            .attr(Attribute::string("gateway").description("Default gateway for a static address.").optional())
            .attr(
                Attribute::string("backend").description("`auto` (ifupdown when /etc/network/interfaces exists, else networkd), `ifupdown` or `networkd`.")
                    .optional()
                    .validator(Validator::one_of(["auto", "ifupdown", "networkd"])),
            ),
    )
}

/// `systemd_unit` blocks.
pub fn systemd_unit() -> NestedBlock {
    NestedBlock::list(
        "systemd_unit",
        Block::new()
            .description("A systemd unit: file, enablement and running state.")
            .attr(
                Attribute::string("name").description("Name, as in the spec item (user, group, interface or unit name).")
                    .required()
                    .validator(Validator::regex(
                        r"^[A-Za-z0-9@_.:-]+\.(service|socket|timer|path|mount|target)$",
                        "a unit name such as pvelxc-jobs.service",
                    )),
            )
            .attr(Attribute::string("content").description("Unit file content written to /etc/systemd/system/<name>; unset: the unit must already exist.").optional().multiline())
            .attr(Attribute::bool("enabled").optional().description(
                "A unit disabled inside the container shows as `false` in the refreshed state.",
            ))
            .attr(
                Attribute::string("state").description("Desired state.")
                    .optional()
                    .validator(Validator::one_of(["started", "stopped"])),
            )
            .attr(Attribute::list("restart_on", Type::String).description("Files whose change earlier in the same run restarts the unit.").optional())
            .attr(owned(
                "unit (stopped, disabled and its file removed on destroy)",
            )),
    )
}

/// `check` blocks.
pub fn check() -> NestedBlock {
    NestedBlock::list(
        "check",
        Block::new()
            .description("A read-only check run as a user; its result lands in `check_results`.")
            .attr(
                Attribute::string("name")
                    .description("Name, as in the spec item (user, group, interface or unit name).")
                    .required(),
            )
            .attr(
                Attribute::string("user")
                    .description(
                        "User the check runs as (must exist or be created by an earlier item).",
                    )
                    .required()
                    .validator(name_validator()),
            )
            .attr(
                Attribute::string("device_opens")
                    .optional()
                    .description("Device path the user must be able to open read-write.")
                    .validator(path_validator()),
            )
            .attr(
                Attribute::string("writable")
                    .optional()
                    .description("Directory the user must be able to create files in.")
                    .validator(path_validator()),
            )
            .attr(
                Attribute::list("command", Type::String)
                    .optional()
                    .description(
                        "Program and arguments (no shell) whose output must match `expect`.",
                    ),
            )
            .attr(
                Attribute::string("expect")
                    .optional()
                    .description("Regular expression for `command`'s output."),
            )
            .attr(
                Attribute::map("env", Type::String)
                    .description("Extra environment variables for `command`.")
                    .optional(),
            )
            .attr(
                Attribute::int("timeout_seconds")
                    .description(
                        "Seconds before `command` is killed and the check fails (default 30).",
                    )
                    .optional()
                    .validator(Validator::int_range(1, 3600)),
            ),
    )
}

/// Every item block, in the order the spec applies them.
pub fn all() -> Vec<NestedBlock> {
    vec![
        group(),
        user(),
        apt_packages(),
        file(),
        line(),
        text_block(),
        directory(),
        device_permissions(),
        network_interface(),
        systemd_unit(),
        check(),
    ]
}
