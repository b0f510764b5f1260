//! A container-like schema exercising every feature of the DSL.

use pvelxc_schema::{Attribute, Block, NestedBlock, Schema, Type, Validator};

pub fn container() -> Schema {
    Schema::new(
        1,
        Block::new()
            .description("An LXC container on a Proxmox VE node.\n\nSecond paragraph with details.")
            .attr(
                Attribute::string("id")
                    .computed()
                    .use_state_for_unknown()
                    .description("`node/vmid` of the container."),
            )
            .attr(
                Attribute::string("hostname")
                    .required()
                    .description("Host name inside the container.")
                    .validator(Validator::regex(
                        "^[a-z0-9-]+$",
                        "lowercase letters, digits and hyphens",
                    )),
            )
            .attr(
                Attribute::int("vmid")
                    .required()
                    .requires_replace()
                    .description("Container ID.")
                    .validator(Validator::int_range(100, 999_999_999)),
            )
            .attr(
                Attribute::int("cores")
                    .optional()
                    .computed()
                    .default(1)
                    .description("CPU cores."),
            )
            .attr(
                Attribute::string("status")
                    .computed()
                    .description("Running state reported by the node."),
            )
            .attr(
                Attribute::string("password")
                    .optional()
                    .sensitive()
                    .write_only()
                    .description("Root password, used at creation only."),
            )
            .attr(
                Attribute::string("description")
                    .optional()
                    .multiline()
                    .description("Free-form notes shown in the Proxmox UI."),
            )
            .attr(
                Attribute::set("tags", Type::String)
                    .optional()
                    .description("Tags.")
                    .validator(Validator::regex(
                        "^[a-z0-9_-]+$",
                        "a tag of lowercase letters, digits, `-` or `_`",
                    )),
            )
            .attr(
                Attribute::string("ostype")
                    .optional()
                    .computed()
                    .description("OS type.")
                    .validator(Validator::one_of(["debian", "ubuntu", "alpine"])),
            )
            .block(
                NestedBlock::single(
                    "rootfs",
                    Block::new()
                        .description("Root filesystem.")
                        .attr(
                            Attribute::string("storage")
                                .required()
                                .requires_replace()
                                .description("Storage ID."),
                        )
                        .attr(
                            Attribute::string("size")
                                .required()
                                .description("Size, e.g. `8G`."),
                        )
                        .attr(
                            Attribute::string("volume")
                                .computed()
                                .description("Volume ID allocated by the node."),
                        ),
                )
                .min_items(1)
                .max_items(1),
            )
            .block(
                NestedBlock::list(
                    "mount_point",
                    Block::new()
                        .description("A bind mount or volume.")
                        .attr(
                            Attribute::string("path")
                                .required()
                                .description("Path inside the container."),
                        )
                        .attr(
                            Attribute::string("source")
                                .required()
                                .requires_replace()
                                .description("Host path or volume."),
                        )
                        .attr(
                            Attribute::bool("read_only")
                                .optional()
                                .computed()
                                .default(false)
                                .description("Mount read-only."),
                        )
                        .attr(
                            Attribute::string("volume")
                                .computed()
                                .description("Resolved volume ID."),
                        ),
                )
                .max_items(10),
            )
            .block(NestedBlock::set(
                "network",
                Block::new()
                    .description("A network interface.")
                    .attr(
                        Attribute::string("name")
                            .required()
                            .description("Interface name."),
                    )
                    .attr(
                        Attribute::string("ip")
                            .optional()
                            .description("Address in CIDR notation.")
                            .validator(Validator::cidr()),
                    )
                    .attr(
                        Attribute::string("hwaddr")
                            .computed()
                            .description("MAC address."),
                    ),
            ))
            .block(NestedBlock::map(
                "hook",
                Block::new().description("A hook script by phase.").attr(
                    Attribute::string("script")
                        .required()
                        .description("Script path."),
                ),
            ))
            .block(NestedBlock::group(
                "features",
                Block::new().description("LXC features.").attr(
                    Attribute::bool("nesting")
                        .optional()
                        .description("Allow nesting."),
                ),
            )),
    )
}
