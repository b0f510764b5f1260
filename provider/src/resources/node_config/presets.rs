//! The host half of the runbook as presets: the media user, storage ownership and modes,
//! the mergerfs fstab line with `allow_other`, and `/etc/subuid` / `/etc/subgid` entries.

use pvelxc_cty::{Path, Type, Value};
use pvelxc_schema::{Attribute, Block, Diagnostic, NestedBlock, Validator};
use pvelxc_spec::{
    DirectoryItem, FileMode, GroupItem, GroupsMode, Item, LineItem, Presence, UserItem,
};

use crate::resources::container_config::items_build::{Items, Origin, Phase};
use crate::resources::container_config::values::{
    blocks, boolean, int, single, string, string_list, strings,
};

/// The runbook's mergerfs options (Phase 1).
pub const MERGERFS_OPTIONS: &[&str] = &[
    "defaults",
    "allow_other",
    "use_ino",
    "cache.files=off",
    "category.create=mfs",
];

/// Preset blocks of the node schema.
pub fn blocks_schema() -> Vec<NestedBlock> {
    vec![
        NestedBlock::single(
            "media_user",
            Block::new()
                .description("The media user and group on the node (runbook Phase 1), with the IDs the containers use.")
                .attr(Attribute::string("name").description("Name, as in the spec item (user, group, interface or unit name).").optional().computed().default("media").validator(Validator::regex(r"^[a-z_][a-z0-9_-]*$", "a user name")))
                .attr(Attribute::int("uid").description("Fixed numeric user ID.").optional().computed().default(1000i64).validator(Validator::int_range(1, 4_294_967_294)))
                .attr(Attribute::int("gid").description("Fixed numeric group ID.").optional().computed().default(1000i64).validator(Validator::int_range(1, 4_294_967_294)))
                .attr(Attribute::string("shell").description("Login shell.").optional().computed().default("/usr/sbin/nologin"))
                .attr(Attribute::list("extra_groups", Type::String).description("Further supplementary groups.").optional()),
        ),
        NestedBlock::list(
            "storage",
            Block::new()
                .description("Ownership and mode of a storage directory (the runbook's chown -R media:media and chmod g+w).")
                .attr(Attribute::string("path").description("Absolute path in the target.").required().validator(Validator::regex(r"^/[^\x00-\x1f]*$", "an absolute path")))
                .attr(Attribute::string("owner").description("Owner, as a user name or numeric UID.").optional())
                .attr(Attribute::string("group").description("Group, as a group name or numeric GID.").optional())
                .attr(Attribute::string("mode").description("Permission bits as 3 or 4 octal digits in a string, e.g. \"0644\" or \"2775\".").optional().validator(Validator::regex(r"^[0-7]{3,4}$", "3 or 4 octal digits such as \"2775\"")))
                .attr(Attribute::bool("recursive_owner").description("Also apply owner and group to everything below (not following symlinks or crossing filesystems).").optional().description("Also re-own everything below (not crossing filesystems).")),
        ),
        NestedBlock::single(
            "mergerfs",
            Block::new()
                .description("The mergerfs pool's /etc/fstab line. `allow_other` is required so containers can use the mount.")
                .attr(Attribute::string("branches").description("mergerfs branch glob or list, e.g. /mnt/disk*.").optional().computed().default("/mnt/disk*"))
                .attr(Attribute::string("mountpoint").description("Where the pool is mounted.").optional().computed().default("/mnt/storage").validator(Validator::regex(r"^/[^\s]*$", "an absolute path without spaces")))
                .attr(Attribute::list("options", Type::String).description("Mount options; must include allow_other.").optional().computed().default(string_list(MERGERFS_OPTIONS))),
        ),
        NestedBlock::list(
            "subid",
            Block::new()
                .description("A range in /etc/subuid and /etc/subgid that lets root map host IDs into unprivileged containers (e.g. root:1000:1 for the media user).")
                .attr(Attribute::string("user").description("User the check runs as (must exist or be created by an earlier item).").optional().computed().default("root"))
                .attr(Attribute::int("start").description("First host ID of the range.").required().validator(Validator::int_range(0, 4_294_967_294)))
                .attr(Attribute::int("count").description("Number of IDs in the range.").optional().computed().default(1i64).validator(Validator::int_range(1, 65_536))),
        ),
    ]
}

fn id(v: &Value, name: &str, default: u32) -> u32 {
    int(v, name)
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(default)
}

/// The fstab line for the mergerfs block.
pub fn fstab_line(m: &Value) -> Result<(String, String), Diagnostic> {
    let at = Path::root().attr("mergerfs");
    let branches = string(m, "branches").unwrap_or_else(|| "/mnt/disk*".into());
    let mountpoint = string(m, "mountpoint").unwrap_or_else(|| "/mnt/storage".into());
    let options = strings(m, "options");
    let options = if options.is_empty() {
        MERGERFS_OPTIONS.iter().map(|s| s.to_string()).collect()
    } else {
        options
    };
    if !options.iter().any(|o| o == "allow_other") {
        return Err(Diagnostic::error(
            at.attr("options"),
            "mergerfs needs allow_other",
            "Containers cannot use the pool without allow_other; add \"allow_other\" to options.",
        ));
    }
    for (name, text) in [("branches", &branches), ("mountpoint", &mountpoint)] {
        if text.is_empty() || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Diagnostic::error(
                at.attr(name),
                "Invalid fstab field",
                format!("{name} must be non-empty without spaces or control characters."),
            ));
        }
    }
    if options
        .iter()
        .any(|o| o.is_empty() || o.contains([',', ' ', '\t', '\n']))
    {
        return Err(Diagnostic::error(
            at.attr("options"),
            "Invalid mount option",
            "Each option is one word without commas or spaces.",
        ));
    }
    let line = format!(
        "{branches} {mountpoint} fuse.mergerfs {} 0 0",
        options.join(",")
    );
    let regexp = format!(r"^\S+\s+{}\s+fuse\.mergerfs\s", regex_escape(&mountpoint));
    Ok((line, regexp))
}

fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Expands the node presets.
pub fn expand(config: &Value, items: &mut Items) -> Result<(), Vec<Diagnostic>> {
    let mut diags = Vec::new();
    if let Some(m) = single(config, "media_user") {
        let name = string(m, "name").unwrap_or_else(|| "media".into());
        items.push(
            Phase::Groups,
            Item::Group(GroupItem {
                name: name.clone(),
                gid: Some(id(m, "gid", 1000)),
                match_host_device: None,
                system: false,
            }),
            Origin::Preset {
                preset: "media_user",
                role: "gid",
            },
        );
        items.push(
            Phase::Users,
            Item::User(UserItem {
                name: name.clone(),
                uid: Some(id(m, "uid", 1000)),
                group: Some(name),
                groups: strings(m, "extra_groups"),
                groups_mode: GroupsMode::Append,
                home: None,
                create_home: false,
                shell: string(m, "shell"),
                comment: None,
                system: false,
            }),
            Origin::Preset {
                preset: "media_user",
                role: "user",
            },
        );
    }
    for (index, s) in blocks(config, "storage").iter().enumerate() {
        let mode = match string(s, "mode").map(|m| FileMode::parse(&m)) {
            None => None,
            Some(Ok(m)) => Some(m),
            Some(Err(e)) => {
                diags.push(Diagnostic::error(
                    Path::root()
                        .attr("storage")
                        .index(index as i64)
                        .attr("mode"),
                    "Invalid mode",
                    e,
                ));
                None
            }
        };
        items.push(
            Phase::Files,
            Item::Directory(DirectoryItem {
                path: string(s, "path").unwrap_or_default().into(),
                owner: string(s, "owner"),
                group: string(s, "group"),
                mode,
                recursive_owner: boolean(s, "recursive_owner").unwrap_or(false),
            }),
            Origin::Block {
                block: "storage",
                index,
            },
        );
    }
    if let Some(m) = single(config, "mergerfs") {
        match fstab_line(m) {
            Ok((line, regexp)) => items.push(
                Phase::Files,
                Item::Line(LineItem {
                    path: "/etc/fstab".into(),
                    line,
                    regexp: Some(regexp),
                    state: Presence::Present,
                    create: true,
                    mode: Some(FileMode(0o644)),
                }),
                Origin::Preset {
                    preset: "mergerfs",
                    role: "line",
                },
            ),
            Err(d) => diags.push(d),
        }
    }
    for (index, s) in blocks(config, "subid").iter().enumerate() {
        let user = string(s, "user").unwrap_or_else(|| "root".into());
        if user.is_empty() || user.contains([':', '\n', ' ']) {
            diags.push(Diagnostic::error(
                Path::root().attr("subid").index(index as i64).attr("user"),
                "Invalid user",
                "A user name without colons or spaces.",
            ));
            continue;
        }
        let entry = format!("{user}:{}:{}", id(s, "start", 0), id(s, "count", 1));
        for file in ["/etc/subuid", "/etc/subgid"] {
            items.push(
                Phase::Files,
                Item::Line(LineItem {
                    path: file.into(),
                    line: entry.clone(),
                    regexp: None,
                    state: Presence::Present,
                    create: true,
                    mode: Some(FileMode(0o644)),
                }),
                Origin::Block {
                    block: "subid",
                    index,
                },
            );
        }
    }
    if diags.is_empty() {
        Ok(())
    } else {
        Err(diags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fstab_line_is_the_runbooks_and_requires_allow_other() {
        let m = Value::object([
            ("branches", Value::string("/mnt/disk*")),
            ("mountpoint", Value::string("/mnt/storage")),
            ("options", string_list(MERGERFS_OPTIONS)),
        ]);
        let (line, regexp) = fstab_line(&m).unwrap();
        assert_eq!(line, "/mnt/disk* /mnt/storage fuse.mergerfs defaults,allow_other,use_ino,cache.files=off,category.create=mfs 0 0");
        assert!(regex_lite_match(&regexp));
        let bad = Value::object([("options", string_list(&["defaults"]))]);
        assert_eq!(
            fstab_line(&bad).unwrap_err().path,
            Path::root().attr("mergerfs").attr("options")
        );
        let newline = Value::object([("mountpoint", Value::string("/mnt/a\nb"))]);
        assert!(fstab_line(&newline).is_err());
    }

    fn regex_lite_match(re: &str) -> bool {
        re.starts_with(r"^\S+\s+/mnt/storage\s+fuse\.mergerfs")
    }
}
