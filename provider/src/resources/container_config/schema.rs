//! The `pvelxc_container_config` schema.

use pvelxc_cty::Type;
use pvelxc_schema::{Attribute, Block, Schema, Validator};

use super::{items_schema, presets};

/// Attributes every agent-driven resource shares (container and node config).
pub fn common_attributes(block: Block) -> Block {
    block
        .attr(Attribute::list("allowed_roots", Type::String).optional().description(
            "Absolute directories that file, line, block, directory and network items may write \
             below; empty means unrestricted.",
        ))
        .attr(
            Attribute::string("on_failure")
                .optional()
                .description("`continue` (default: report the failure, go on) or `stop` after the first failed item.")
                .validator(Validator::one_of(["continue", "stop"])),
        )
        .attr(
            Attribute::bool("converged")
                .optional()
                .computed()
                .default(true)
                .description(
                    "Leave unset. The refreshed state has `false` when the agent found drift \
                     that no other attribute shows, so `terraform plan` proposes to converge \
                     again; `drift` lists what it found.",
                ),
        )
        .attr(Attribute::string("agent_sha256").computed().description("SHA-256 of the agent installed in the target."))
        .attr(Attribute::map("item_status", Type::String).computed().description(
            "Outcome per spec item (`ok`: as configured, `would_change`: drifted, `failed`, `skipped`), keyed \
             by `<kind> <name or path>`.",
        ))
        .attr(Attribute::list("drift", Type::String).computed().description(
            "What the last check found different from the configuration, one line per item.",
        ))
        .attr(
            Attribute::map(
                "check_results",
                Type::object([("passed", Type::Bool), ("output", Type::String)]),
            )
            .computed()
            .description(
                "Result of every check (`vainfo`, `ffmpeg-hwaccels`, `drive`, your `check` \
                 blocks) by name: `passed` and the observed `output`, for `output` blocks.",
            ),
        )
}

/// The resource schema.
pub fn schema() -> Schema {
    let mut block = Block::new()
        .description(
            "Configures a running LXC container from the inside with `pvelxc-agent`: the \
             provider installs the agent through the node (SSH, `pct push`, no network in the \
             container), then converges users, groups, packages, files, units and the media \
             job runner. `terraform plan` runs the agent in check mode, so drift inside the \
             container shows as a change of the attribute that describes it.",
        )
        .attr(
            Attribute::string("id")
                .computed()
                .use_state_for_unknown()
                .description("Same as `container_id`."),
        )
        .attr(
            Attribute::string("container_id")
                .required()
                .requires_replace()
                .description(
                    "The container, as `<node>/<vmid>` (the `id` of a `pvelxc_container`).",
                )
                .validator(Validator::regex(
                    r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?/[1-9][0-9]{2,8}$",
                    "<node>/<vmid>, e.g. pve/201",
                )),
        )
        .attr(
            Attribute::map("device_gids", Type::Number)
                .computed()
                .description(
                    "GIDs of the groups of the devices passed through to the container (`video`, \
             `render`, `cdrom`), as the media user's groups get them.",
                ),
        )
        .attr(
            Attribute::list("apt_components", Type::String)
                .optional()
                .description(
                    "Archive components to enable on every apt source carrying `main`, e.g. \
             `[\"contrib\", \"non-free\", \"non-free-firmware\"]`.",
                ),
        );
    block = common_attributes(block);
    for b in items_schema::all().into_iter().chain(presets::blocks()) {
        block = block.block(b);
    }
    Schema::new(0, block)
}

#[cfg(test)]
mod tests {
    #[test]
    fn schema_is_internally_valid() {
        if let Err(errors) = super::schema().internal_validate() {
            panic!("{errors:?}");
        }
    }
}
