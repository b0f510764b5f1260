//! `pvelxc_container` data source: an existing container's settings, read the same way the
//! resource refreshes (config, status, interfaces) and shaped like the resource, so values can
//! be copied between them.

use pvelxc_cty::{Path, Value};
use pvelxc_schema::{Attribute, Block, Diagnostic, Schema, Validator};

use crate::framework::{Ctx, DataSource};
use crate::provider::PvelxcClient;
use crate::resources::container::private::Private;
use crate::resources::container::{read, schema};

/// Resource attributes and blocks that only exist in configuration (PVE cannot report them).
const CONFIG_ONLY: &[&str] = &[
    "template",
    "password",
    "ssh_public_keys",
    "reboot_policy",
    "gpu",
    "idmap",
    "optical_drive",
];

/// The `pvelxc_container` data source.
#[derive(Debug, Default, Clone, Copy)]
pub struct ContainerDataSource;

/// Every attribute computed, validators and defaults dropped.
fn computed_block(block: &Block) -> Block {
    let mut out = Block::new().description(block.description.clone());
    for a in &block.attributes {
        if CONFIG_ONLY.contains(&a.name.as_str()) {
            continue;
        }
        let mut c = Attribute::new(a.name.clone(), a.ty.clone())
            .computed()
            .description(a.description.clone());
        if a.multiline {
            c = c.multiline();
        }
        out = out.attr(c);
    }
    // Nested data as attributes (list of objects / object): the same value shape as the
    // resource's blocks, but a computed attribute is wholly the provider's, so Terraform never
    // mixes in (empty) configuration blocks.
    for b in &block.blocks {
        if CONFIG_ONLY.contains(&b.type_name.as_str()) {
            continue;
        }
        out = out.attr(
            Attribute::new(b.type_name.clone(), b.implied_type())
                .computed()
                .description(b.block.description.clone()),
        );
    }
    out
}

fn ds_schema() -> Schema {
    let mut block = computed_block(&schema::schema().block).description(
        "Reads an existing LXC container: its API settings, raw `lxc.*` lines, status and \
         addresses, shaped like the `pvelxc_container` resource.",
    );
    for a in block.attributes.iter_mut() {
        match a.name.as_str() {
            "node" => {
                *a = Attribute::string("node")
                    .optional()
                    .computed()
                    .description("Node of the container. Default: the provider's `node`.");
            }
            "vmid" => {
                *a = Attribute::int("vmid")
                    .required()
                    .description("Container ID.")
                    .validator(Validator::int_range(100, 999_999_999));
            }
            _ => {}
        }
    }
    Schema::new(0, block)
}

/// Keeps only the attributes the data source declares.
fn project(state: Value) -> Value {
    match state {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, _)| !CONFIG_ONLY.contains(&k.as_str()))
                .collect(),
        ),
        other => other,
    }
}

#[tonic::async_trait]
impl DataSource<PvelxcClient> for ContainerDataSource {
    fn type_name(&self) -> &'static str {
        "pvelxc_container"
    }

    fn schema(&self) -> Schema {
        ds_schema()
    }

    fn examples(&self) -> Vec<(&'static str, &'static str)> {
        vec![(
            "The transcoder's address and device lines",
            r#"data "pvelxc_container" "transcoder" {
  vmid = 201
}

output "transcoder_ip" {
  value = data.pvelxc_container.transcoder.ipv4["eth0"]
}

output "transcoder_raw_lines" {
  value = data.pvelxc_container.transcoder.raw_lxc
}
"#,
        )]
    }

    async fn read(
        &self,
        ctx: &Ctx<PvelxcClient>,
        config: &Value,
    ) -> Result<Value, Vec<Diagnostic>> {
        let client = ctx.client().map_err(|d| vec![d])?;
        let explicit = config.get_attr("node").and_then(Value::as_str);
        let node = client
            .node
            .node_name(explicit, Path::root().attr("node"))
            .map_err(|d| vec![d])?
            .to_string();
        let vmid = config
            .get_attr("vmid")
            .and_then(Value::as_i64)
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| {
                vec![Diagnostic::error(
                    Path::root().attr("vmid"),
                    "Invalid vmid",
                    "vmid must be a container ID from 100 to 999999999.",
                )]
            })?;
        let api = client.node.api().await.map_err(|d| vec![d])?;
        let Some(seen) = read::observe(api, &node, vmid, config).await? else {
            return Err(vec![Diagnostic::error(
                Path::root().attr("vmid"),
                "Container not found",
                format!("There is no CT {vmid} on node {node}."),
            )]);
        };
        let state = read::to_state(&node, vmid, &seen, &Value::Null, &Private::default());
        Ok(project(state))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::container::model::{state_from, StateInputs};
    use pvelxc_pve::config::ContainerConfig;

    #[test]
    fn schema_is_valid_and_results_conform() {
        let s = ds_schema();
        s.internal_validate().expect("valid schema");
        let actual = ContainerConfig::from_pairs([
            ("hostname", "transcoder"),
            ("memory", "2048"),
            ("rootfs", "local:201/vm-201-disk-0.raw,size=8G"),
            (
                "net0",
                "name=eth0,bridge=vmbr0,ip=dhcp,hwaddr=BC:24:11:00:00:01",
            ),
        ])
        .unwrap();
        let inputs = StateInputs {
            node: "pve",
            vmid: 201,
            running: false,
            ipv4: vec![],
            ipv6: vec![],
            expected_generated: &[],
            device_gids: vec![],
        };
        let v = project(state_from(&actual, &Value::Null, &inputs));
        v.check_type(&s.block.implied_type()).unwrap();
        assert_eq!(v.get_attr("memory").and_then(Value::as_i64), Some(2048));
        assert!(v.get_attr("template").is_none());
    }
}
