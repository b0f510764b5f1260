//! The `pvelxc_container` schema: one declaration from which the wire type, validation,
//! planning rules and documentation are derived.

use pvelxc_cty::{Path, Type, Value};
use pvelxc_pve::config::{parse_cidr_v4, parse_cidr_v6, ALLOWED_MOUNT_OPTIONS};
use pvelxc_schema::{Attribute, Block, Diagnostic, NestedBlock, Schema, Validator};

/// Schema version of the stored state.
pub const VERSION: i64 = 0;

/// GPU vendors the `gpu` preset understands.
pub const GPU_VENDORS: &[&str] = &["intel", "amd", "nvidia", "auto"];

/// `reboot_policy` values.
pub const REBOOT_POLICIES: &[&str] = &["reboot", "never"];

/// The full resource schema.
pub fn schema() -> Schema {
    Schema::new(VERSION, root_block())
}

fn root_block() -> Block {
    Block::new()
        .description(
            "An LXC container on a Proxmox VE node, managed completely: the API config, raw \
             `lxc.*` lines written under PVE's own lock, device passthrough presets for GPUs and \
             optical drives, `lxc.idmap` passthrough of host IDs, and mount points and devices \
             added or removed in place.",
        )
        .attrs(identity_attrs())
        .attrs(resource_attrs())
        .attrs(lifecycle_attrs())
        .attrs(computed_attrs())
        .block(
            NestedBlock::single("rootfs", rootfs_block())
                .min_items(1)
                .max_items(1),
        )
        .block(NestedBlock::list("network", network_block()))
        .block(NestedBlock::single("features", features_block()))
        .block(NestedBlock::list("mount_point", mount_point_block()))
        .block(NestedBlock::list("device", device_block()))
        .block(NestedBlock::list("raw_lxc", raw_lxc_block()))
        .block(NestedBlock::single("idmap", idmap_block()))
        .block(NestedBlock::single("gpu", gpu_block()))
        .block(NestedBlock::list("optical_drive", optical_block()))
}

fn identity_attrs() -> Vec<Attribute> {
    vec![
        Attribute::string("id")
            .computed()
            .use_state_for_unknown()
            .description("`<node>/<vmid>`; also the import ID."),
        Attribute::string("node")
            .optional()
            .computed()
            .use_state_for_unknown()
            .requires_replace()
            .description("Node the container lives on. Default: the provider's `node`.")
            .validator(Validator::regex(
                r"^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$",
                "a node name",
            )),
        Attribute::int("vmid")
            .optional()
            .computed()
            .use_state_for_unknown()
            .requires_replace()
            .description("Container ID. Default: the next free ID from `/cluster/nextid`.")
            .validator(Validator::int_range(100, 999_999_999)),
        Attribute::string("hostname")
            .optional()
            .computed()
            .use_state_for_unknown()
            .description("Host name inside the container (PVE default: `CT<vmid>`)."),
        Attribute::string("description")
            .optional()
            .multiline()
            .description("Notes shown in the PVE UI; may span several lines."),
        Attribute::set("tags", Type::String).optional().description(
            "Tags. PVE lower-cases, sorts and de-duplicates them; that never shows as a change.",
        ),
        Attribute::string("template").optional().description(
            "Template volume to create from (`local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst`). \
             Required to create; changing it replaces the container. Imported containers leave \
             it unset.",
        ),
        Attribute::bool("unprivileged")
            .optional()
            .computed()
            .default(true)
            .requires_replace()
            .description("Run with user namespaces (default `true`). Changing it replaces the container."),
        Attribute::string("ostype")
            .optional()
            .computed()
            .use_state_for_unknown()
            .description("OS type (`debian`, `ubuntu`, `alpine`, ...); PVE detects it from the template."),
        Attribute::string("arch")
            .optional()
            .computed()
            .use_state_for_unknown()
            .description("Architecture (`amd64`, `arm64`, ...)."),
    ]
}

fn resource_attrs() -> Vec<Attribute> {
    vec![
        Attribute::int("cores")
            .optional()
            .description("CPU cores visible to the container (default: all).")
            .validator(Validator::int_range(1, 8192)),
        Attribute::number("cpulimit")
            .optional()
            .description("CPU time limit in cores (0 = unlimited)."),
        Attribute::int("cpuunits")
            .optional()
            .description("Relative CPU weight.")
            .validator(Validator::int_range(0, 500_000)),
        Attribute::int("memory")
            .optional()
            .computed()
            .default(512)
            .description("Memory in MiB (default 512).")
            .validator(Validator::int_range(16, i64::MAX)),
        Attribute::int("swap")
            .optional()
            .computed()
            .default(512)
            .description("Swap in MiB (default 512).")
            .validator(Validator::int_range(0, i64::MAX)),
        Attribute::list("nameservers", Type::String)
            .optional()
            .description("DNS servers (default: the node's)."),
        Attribute::string("search_domain")
            .optional()
            .description("DNS search domain (default: the node's)."),
        Attribute::string("timezone")
            .optional()
            .description("Time zone (`Europe/Berlin`, or `host` to follow the node)."),
    ]
}

fn lifecycle_attrs() -> Vec<Attribute> {
    vec![
        Attribute::bool("onboot")
            .optional()
            .computed()
            .default(false)
            .description("Start with the node (default `false`)."),
        Attribute::int("startup_order")
            .optional()
            .description("Start order at boot (lower first).")
            .validator(Validator::int_range(0, i64::MAX)),
        Attribute::int("startup_up_delay")
            .optional()
            .description("Seconds to wait after starting this container before the next one.")
            .validator(Validator::int_range(0, i64::MAX)),
        Attribute::int("startup_down_delay")
            .optional()
            .description("Seconds to wait for this container to shut down.")
            .validator(Validator::int_range(0, i64::MAX)),
        Attribute::bool("started")
            .optional()
            .computed()
            .default(true)
            .description("Keep the container running (default `true`)."),
        Attribute::bool("protection")
            .optional()
            .computed()
            .default(false)
            .description(
                "Protect against removal (default `false`). Destroying a container whose \
                 protection Terraform did not set is refused.",
            ),
        Attribute::string("reboot_policy")
            .optional()
            .computed()
            .default("reboot")
            .description(
                "What to do when a change needs a restart of a running container: `reboot` \
                 (default) restarts it, `never` leaves the change pending and warns.",
            )
            .validator(Validator::one_of(REBOOT_POLICIES.iter().copied())),
        Attribute::string("ssh_public_keys")
            .optional()
            .multiline()
            .description(
                "`authorized_keys` for root, set at creation only (later changes warn and do \
                 nothing).",
            ),
        Attribute::string("password")
            .optional()
            .sensitive()
            .description("Root password, set at creation only (at least 5 characters).")
            .validator(Validator::length(5, 1024)),
    ]
}

fn computed_attrs() -> Vec<Attribute> {
    vec![
        Attribute::string("status")
            .computed()
            .description("`running` or `stopped`."),
        Attribute::map("ipv4", Type::String)
            .computed()
            .use_state_for_unknown()
            .description("IPv4 address per interface (running containers)."),
        Attribute::map("ipv6", Type::String)
            .computed()
            .use_state_for_unknown()
            .description("IPv6 address per interface (running containers)."),
        Attribute::list("generated_lxc", Type::String)
            .computed()
            .description(
                "Raw `key: value` lines the `gpu`, `optical_drive` and `idmap` blocks produced; \
             written after `raw_lxc`.",
            ),
        Attribute::map("device_gids", Type::Number)
            .computed()
            .description(
                "The node's GIDs of the groups owning passed-through devices (`video`, `render`, \
             `cdrom`).",
            ),
    ]
}

fn rootfs_block() -> Block {
    Block::new()
        .description("The root file system (exactly one).")
        .attr(
            Attribute::string("storage")
                .required()
                .description("Storage to allocate it on (`local-lvm`)."),
        )
        .attr(
            Attribute::string("size")
                .required()
                .description("Size (`20G`); grows in place, shrinking is an error.")
                .validator(size_validator()),
        )
        .attr(
            Attribute::string("volume")
                .computed()
                .use_state_for_unknown()
                .description("The allocated volume (`local-lvm:vm-201-disk-0`)."),
        )
        .attr(Attribute::bool("acl").optional().description("POSIX ACLs."))
        .attr(
            Attribute::bool("quota")
                .optional()
                .description("User quotas."),
        )
        .attr(
            Attribute::bool("replicate")
                .optional()
                .description("Include in storage replication."),
        )
        .attr(mount_options_attr("mount_options"))
}

fn network_block() -> Block {
    Block::new()
        .description("A network interface; the N-th block is `netN`.")
        .attr(
            Attribute::string("name")
                .required()
                .description("Interface name inside the container (`eth0`).")
                .validator(Validator::regex(
                    r"^[a-zA-Z0-9_.-]{1,15}$",
                    "an interface name",
                )),
        )
        .attr(
            Attribute::string("bridge")
                .required()
                .description("Bridge on the node (`vmbr0`)."),
        )
        .attr(
            Attribute::string("ip")
                .optional()
                .description("`dhcp`, `manual` or an IPv4 address in CIDR notation.")
                .validator(ip_validator(false)),
        )
        .attr(
            Attribute::string("gateway")
                .optional()
                .description("IPv4 gateway.")
                .validator(address_validator(false)),
        )
        .attr(
            Attribute::string("ip6")
                .optional()
                .description("`auto`, `dhcp`, `manual` or an IPv6 address in CIDR notation.")
                .validator(ip_validator(true)),
        )
        .attr(
            Attribute::string("gateway6")
                .optional()
                .description("IPv6 gateway.")
                .validator(address_validator(true)),
        )
        .attr(
            Attribute::string("hwaddr")
                .optional()
                .computed()
                .use_state_for_unknown()
                .description("MAC address; PVE generates one when unset.")
                .validator(Validator::regex(
                    r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$",
                    "a MAC address like BC:24:11:00:00:01",
                )),
        )
        .attr(
            Attribute::bool("firewall")
                .optional()
                .computed()
                .default(false)
                .description("PVE firewall on this interface (default `false`)."),
        )
        .attr(
            Attribute::int("vlan")
                .optional()
                .description("VLAN tag.")
                .validator(Validator::int_range(1, 4094)),
        )
        .attr(
            Attribute::int("mtu")
                .optional()
                .description("MTU.")
                .validator(Validator::int_range(64, 65535)),
        )
        .attr(
            Attribute::number("rate")
                .optional()
                .description("Rate limit in MB/s."),
        )
        .attr(
            Attribute::bool("link_down")
                .optional()
                .computed()
                .default(false)
                .description("Keep the link down (default `false`)."),
        )
}

fn features_block() -> Block {
    let flag = |name: &str, what: &str| Attribute::bool(name).optional().description(what);
    Block::new()
        .description("Container features.")
        .attr(flag(
            "nesting",
            "Allow nested containers (needed by systemd in many templates).",
        ))
        .attr(flag(
            "keyctl",
            "Allow the keyctl() system call (unprivileged only).",
        ))
        .attr(flag("fuse", "Allow FUSE mounts."))
        .attr(flag("mknod", "Allow mknod() of a safe set of devices."))
        .attr(flag(
            "force_rw_sys",
            "Mount /sys read-write in unprivileged containers.",
        ))
        .attr(
            Attribute::list("mount", Type::String)
                .optional()
                .description("File system types the container may mount (`nfs`, `cifs`)."),
        )
}

fn mount_point_block() -> Block {
    let flag = |name: &str, what: &str| {
        Attribute::bool(name)
            .optional()
            .computed()
            .default(false)
            .description(what)
    };
    Block::new()
        .description(
            "A mount point `mpN` (N = `slot`); added, changed or removed in place. Duplicate \
             slots are an error.",
        )
        .attr(slot_attr(255))
        .attr(Attribute::string("volume").required().description(
            "A host directory (bind mount, `/mnt/storage`), a host block device \
                     (`/dev/...`), an existing storage volume, `STORAGE:GiB` or a storage name \
                     with `size` to allocate a new volume.",
        ))
        .attr(
            Attribute::string("path")
                .required()
                .description("Mount path inside the container."),
        )
        .attr(
            Attribute::string("size")
                .optional()
                .computed()
                .description("Size of a storage volume (`8G`); grows in place.")
                .validator(size_validator()),
        )
        .attr(flag("read_only", "Mount read-only (default `false`)."))
        .attr(flag("backup", "Include in backups (default `false`)."))
        .attr(flag(
            "shared",
            "Mark as available on all nodes, e.g. a shared bind mount (default `false`).",
        ))
        .attr(Attribute::bool("acl").optional().description("POSIX ACLs."))
        .attr(
            Attribute::bool("quota")
                .optional()
                .description("User quotas."),
        )
        .attr(
            Attribute::bool("replicate")
                .optional()
                .description("Include in storage replication."),
        )
        .attr(mount_options_attr("options"))
}

fn device_block() -> Block {
    Block::new()
        .description("A device passed through as `devN` (N = `slot`).")
        .attr(slot_attr(255))
        .attr(
            Attribute::string("path")
                .required()
                .description("Device node on the node (`/dev/dri/renderD128`); `terraform plan` checks that it exists there.")
                .validator(Validator::custom("a path under /dev/", |v, p| {
                    match v.as_str().and_then(pvelxc_pve::config::invalid_dev_path) {
                        Some(expected) => vec![Diagnostic::error(
                            p.clone(),
                            "Invalid device path",
                            format!(
                                "The device path must be {expected}, e.g. /dev/dri/renderD128."
                            ),
                        )],
                        None => Vec::new(),
                    }
                })),
        )
        .attr(
            Attribute::int("uid")
                .optional()
                .description("Owner inside the container (default 0).")
                .validator(Validator::int_range(0, u32::MAX as i64)),
        )
        .attr(
            Attribute::int("gid")
                .optional()
                .description("Group inside the container (default 0).")
                .validator(Validator::int_range(0, u32::MAX as i64)),
        )
        .attr(
            Attribute::string("mode")
                .optional()
                .description("Access mode in octal (default `0660`).")
                .validator(Validator::regex(
                    r"^0?[0-7]{3,4}$",
                    "an octal mode like 0660",
                )),
        )
        .attr(
            Attribute::bool("deny_write")
                .optional()
                .computed()
                .default(false)
                .description("Read-only access (default `false`)."),
        )
}

fn raw_lxc_block() -> Block {
    Block::new()
        .description(
            "A raw `lxc.*` line written to the container's config over SSH under PVE's lock, in \
             order. Only keys on PVE's whitelist are accepted; `lxc.rootfs.*` is refused.",
        )
        .attr(
            Attribute::string("key")
                .required()
                .description("The LXC key (`lxc.cgroup2.devices.allow`)."),
        )
        .attr(
            Attribute::string("value")
                .required()
                .description("The value (`c 226:0 rwm`)."),
        )
}

fn idmap_block() -> Block {
    let ids = |name: &str, what: &str| {
        Attribute::list(name, Type::Number)
            .optional()
            .description(what)
    };
    Block::new()
        .description(
            "Pass host IDs through unchanged into an unprivileged container: computes the \
             `lxc.idmap` lines and ensures the matching `/etc/subuid` and `/etc/subgid` entries \
             for root on the node.",
        )
        .attr(ids("uids", "Host user IDs (e.g. `[1000]`)."))
        .attr(ids("gids", "Host group IDs (e.g. `[1000]`)."))
}

fn gpu_block() -> Block {
    Block::new()
        .description(
            "Pass the node's GPU render and card nodes through, discovered over SSH: cgroup2 and \
             mount-entry lines (privileged) or `devN` entries (unprivileged).",
        )
        .attr(
            Attribute::string("vendor")
                .required()
                .description("`intel`, `amd`, `nvidia` or `auto` (any GPU found).")
                .validator(Validator::one_of(GPU_VENDORS.iter().copied())),
        )
}

fn optical_block() -> Block {
    Block::new()
        .description(
            "Pass an optical drive through, together with its SCSI-generic twin (`/dev/sgN`) \
             found through sysfs.",
        )
        .attr(
            Attribute::string("device")
                .required()
                .description("The drive's block device (`/dev/sr0`); `terraform plan` checks that it exists on the node."),
        )
}

fn slot_attr(max: i64) -> Attribute {
    Attribute::int("slot")
        .required()
        .description("Index N of the PVE key.")
        .validator(Validator::int_range(0, max))
}

fn mount_options_attr(name: &str) -> Attribute {
    Attribute::list(name, Type::String)
        .optional()
        .description(
            "Mount options (`noatime`, `nodev`, `nosuid`, `noexec`, `discard`, `lazytime`).",
        )
        .validator(Validator::custom("known mount options", |v, p| {
            let mut out = Vec::new();
            for (i, item) in v.as_elements().unwrap_or_default().iter().enumerate() {
                if let Some(s) = item.as_str() {
                    if !ALLOWED_MOUNT_OPTIONS.contains(&s) {
                        out.push(Diagnostic::error(
                            p.index(i as i64),
                            "Unknown mount option",
                            format!(
                                "'{s}' is not a mount option PVE allows; use one of {}.",
                                ALLOWED_MOUNT_OPTIONS.join(", ")
                            ),
                        ));
                    }
                }
            }
            out
        }))
}

fn size_validator() -> Validator {
    Validator::custom("a size like 8G", |v, p| match v.as_str() {
        Some(s) if s.parse::<pvelxc_pve::config::DiskSize>().is_err() => vec![Diagnostic::error(
            p.clone(),
            "Invalid size",
            format!("'{s}' is not a size: write a number with K, M, G or T, e.g. 20G."),
        )],
        _ => Vec::new(),
    })
}

/// `dhcp`/`manual` (`auto` too for IPv6) or a CIDR of the right family.
fn ip_validator(v6: bool) -> Validator {
    let what = if v6 {
        "`auto`, `dhcp`, `manual` or an IPv6 CIDR"
    } else {
        "`dhcp`, `manual` or an IPv4 CIDR"
    };
    Validator::custom(what, move |v, p| {
        let Some(s) = v.as_str() else {
            return Vec::new();
        };
        let ok = match s {
            "dhcp" | "manual" => true,
            "auto" => v6,
            _ if v6 => parse_cidr_v6(s).is_some(),
            _ => parse_cidr_v4(s).is_some(),
        };
        if ok {
            return Vec::new();
        }
        let example = if v6 { "fd00::10/64" } else { "10.0.0.10/24" };
        vec![Diagnostic::error(
            p.clone(),
            "Invalid IP address",
            format!("'{s}' is not {what}; write e.g. {example}."),
        )]
    })
}

fn address_validator(v6: bool) -> Validator {
    Validator::custom(
        if v6 {
            "an IPv6 address"
        } else {
            "an IPv4 address"
        },
        move |v, p| {
            let Some(s) = v.as_str() else {
                return Vec::new();
            };
            let ok = if v6 {
                s.parse::<std::net::Ipv6Addr>().is_ok()
            } else {
                s.parse::<std::net::Ipv4Addr>().is_ok()
            };
            if ok {
                Vec::new()
            } else {
                vec![Diagnostic::error(
                    p.clone(),
                    "Invalid gateway",
                    format!(
                        "'{s}' is not an {} address.",
                        if v6 { "IPv6" } else { "IPv4" }
                    ),
                )]
            }
        },
    )
}

/// The path of attribute `name` inside the `index`-th element of list block `block`.
pub fn elem_path(block: &str, index: usize, name: &str) -> Path {
    Path::root().attr(block).index(index as i64).attr(name)
}

/// A null-safe view of an attribute's value.
pub fn attr<'a>(obj: &'a Value, name: &str) -> &'a Value {
    static NULL: Value = Value::Null;
    obj.get_attr(name).unwrap_or(&NULL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_is_internally_valid() {
        schema().internal_validate().expect("valid schema");
    }

    #[test]
    fn cidr_validation_names_the_problem() {
        let v = ip_validator(false);
        let p = Path::root().attr("network").index(0).attr("ip");
        assert!(v.check(&Value::string("10.0.0.5/24"), &p).is_empty());
        assert!(v.check(&Value::string("dhcp"), &p).is_empty());
        let d = v.check(&Value::string("10.0.0.300/24"), &p);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].path, p);
        assert!(!v.check(&Value::string("auto"), &p).is_empty());
        assert!(ip_validator(true)
            .check(&Value::string("auto"), &p)
            .is_empty());
        assert!(!ip_validator(true)
            .check(&Value::string("10.0.0.1/24"), &p)
            .is_empty());
    }
}
