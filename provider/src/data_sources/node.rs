//! `pvelxc_node`: what a Proxmox VE node offers to containers — passthrough devices with
//! their real type and numbers, the GIDs of the groups that own them, storages and
//! templates — so a configuration can be written against the node instead of against a
//! runbook's guesses (sr0 is a *block* device; `render` has a different GID on every host).

use pvelxc_cty::{Path, Type, Value};
use pvelxc_pve::api::types::StorageInfo;
use pvelxc_pve::ssh::{DeviceInfo, NodeInventory};
use pvelxc_schema::{Attribute, Block, Diagnostic, Schema, Validator};

use crate::framework::{Ctx, DataSource};
use crate::node::{api_diagnostic, ssh_diagnostic};
use crate::provider::PvelxcClient;

/// The `pvelxc_node` data source.
#[derive(Debug, Default, Clone, Copy)]
pub struct NodeDataSource;

fn device_type() -> Type {
    Type::object([
        ("path", Type::String),
        ("type", Type::String),
        ("major", Type::Number),
        ("minor", Type::Number),
        ("gid", Type::Number),
        ("mode", Type::String),
        ("vendor", Type::String),
        ("sg_twin", Type::String),
    ])
}

fn storage_type() -> Type {
    Type::object([
        ("id", Type::String),
        ("type", Type::String),
        ("content", Type::list(Type::String)),
        ("active", Type::Bool),
        ("shared", Type::Bool),
        ("available", Type::Number),
        ("total", Type::Number),
    ])
}

const EXAMPLE: &str = r#"data "pvelxc_node" "pve" {}

# The render node's group on this host, for the media user inside a container.
output "render_gid" {
  value = data.pvelxc_node.pve.groups["render"]
}

# The first Intel GPU node and the optical drive with its SCSI-generic twin.
output "passthrough" {
  value = {
    gpus    = data.pvelxc_node.pve.gpus
    optical = [for d in data.pvelxc_node.pve.devices : d if d.sg_twin != ""]
  }
}

# A template that exists on the node, instead of a guessed file name.
output "debian_template" {
  value = one([for t in data.pvelxc_node.pve.templates : t if strcontains(t, "debian-12")])
}
"#;

#[tonic::async_trait]
impl DataSource<PvelxcClient> for NodeDataSource {
    fn type_name(&self) -> &'static str {
        "pvelxc_node"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new()
                .description(
                    "Reads what a Proxmox VE node offers to containers: GPU, optical and \
                     SCSI-generic device nodes with their real type and major:minor (found \
                     over SSH, never assumed), the node's group GIDs (`video`, `render`, \
                     `cdrom`, ...), storages with free space, the container templates on \
                     them and the PVE version.\n\nNeeds the provider's `ssh` block for the \
                     devices and groups and API credentials for the rest.",
                )
                .attr(
                    Attribute::string("node")
                        .optional()
                        .computed()
                        .description(
                            "Node name; defaults to the provider's `node` (or `PVELXC_NODE`).",
                        )
                        .validator(Validator::regex(
                            r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$",
                            "a node host name",
                        )),
                )
                .attr(Attribute::list("devices", device_type()).computed().description(
                    "Device nodes under `/dev/dri`, `/dev/sr*` and `/dev/sg*`: `path`, `type` \
                     (`char` or `block`), `major`, `minor`, owning `gid`, octal `mode`, `vendor` \
                     (`intel`, `amd` or `nvidia` for DRM nodes, else empty) and `sg_twin` (the \
                     SCSI-generic node of an optical drive, e.g. `/dev/sg0` for `/dev/sr0`, \
                     else empty).",
                ))
                .attr(
                    Attribute::list("gpus", Type::String)
                        .computed()
                        .description("DRM device nodes of a known GPU vendor, e.g. `/dev/dri/renderD128`."),
                )
                .attr(
                    Attribute::list("optical_drives", Type::String)
                        .computed()
                        .description("Optical drive block devices (`/dev/sr0`, ...)."),
                )
                .attr(Attribute::map("groups", Type::Number).computed().description(
                    "Every group of the node's `/etc/group`, name to GID. `video`, `render` and \
                     `cdrom` own the passthrough devices; their GIDs differ between hosts.",
                ))
                .attr(Attribute::list("storages", storage_type()).computed().description(
                    "Storages of the node: `id`, `type`, `content` types, `active`, `shared`, \
                     `available` and `total` bytes (0 when PVE does not report them).",
                ))
                .attr(Attribute::list("templates", Type::String).computed().description(
                    "Container template volume ids (`local:vztmpl/...`) on every storage \
                     holding `vztmpl` content, for the container's `template`.",
                ))
                .attr(
                    Attribute::string("pve_version")
                        .computed()
                        .description("Proxmox VE version, e.g. `9.1.1`."),
                ),
        )
    }

    fn examples(&self) -> Vec<(&'static str, &'static str)> {
        vec![("Node inventory", EXAMPLE)]
    }

    async fn read(
        &self,
        ctx: &Ctx<PvelxcClient>,
        config: &Value,
    ) -> Result<Value, Vec<Diagnostic>> {
        let client = ctx.client().map_err(|d| vec![d])?;
        let access = &client.node;
        let explicit = config.get_attr("node").and_then(Value::as_str);
        let node = access
            .node_name(explicit, Path::root().attr("node"))
            .map_err(|d| vec![d])?;
        let api = access.api().await.map_err(|d| vec![d])?;
        let version = api.version().await.map_err(|e| vec![api_diagnostic(e)])?;
        let storages = api
            .storages(node, None)
            .await
            .map_err(|e| vec![node_diagnostic(node, api_diagnostic(e))])?;
        let mut templates = Vec::new();
        for storage in storages
            .iter()
            .filter(|s| s.has_content("vztmpl") && s.active != Some(false))
        {
            let content = api
                .storage_content(node, &storage.storage, Some("vztmpl"))
                .await
                .map_err(|e| vec![api_diagnostic(e)])?;
            templates.extend(content.into_iter().map(|c| c.volid));
        }
        let ssh = access.ssh().await.map_err(|d| vec![d])?;
        let inventory = ssh
            .discover_inventory(access.paths())
            .await
            .map_err(|e| vec![ssh_diagnostic(e)])?;
        Ok(node_value(
            node,
            &inventory,
            &storages,
            templates,
            &version.version,
        ))
    }
}

fn node_diagnostic(node: &str, mut diag: Diagnostic) -> Diagnostic {
    diag.path = Path::root().attr("node");
    diag.detail = format!("Reading node {node:?}: {}", diag.detail);
    diag
}

/// `char`/`block` for a probed device.
fn kind_name(device: &DeviceInfo) -> &'static str {
    match device.kind.cgroup_letter() {
        Some('b') => "block",
        _ => "char",
    }
}

fn device_value(inventory: &NodeInventory, device: &DeviceInfo) -> Value {
    let found = &inventory.devices;
    let name = device.path.rsplit('/').next().unwrap_or(&device.path);
    let vendor = if device.path.starts_with("/dev/dri/") {
        found
            .drm
            .iter()
            .find(|d| d.name == name)
            .and_then(|d| d.vendor())
            .unwrap_or("")
    } else {
        ""
    };
    let sg_twin = if name.starts_with("sr") {
        found
            .sg_twin(&device.path)
            .map(|s| format!("/dev/{}", s.sg))
            .unwrap_or_default()
    } else {
        String::new()
    };
    Value::object([
        ("path", Value::string(device.path.clone())),
        ("type", Value::string(kind_name(device))),
        ("major", Value::int(i64::from(device.major))),
        ("minor", Value::int(i64::from(device.minor))),
        ("gid", Value::int(i64::from(device.gid))),
        ("mode", Value::string(format!("0{}", device.mode))),
        ("vendor", Value::string(vendor)),
        ("sg_twin", Value::string(sg_twin)),
    ])
}

fn storage_value(storage: &StorageInfo) -> Value {
    let content: Vec<Value> = storage
        .content
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(Value::string)
        .collect();
    let bytes = |v: Option<u64>| Value::number(v.unwrap_or(0));
    Value::object([
        ("id", Value::string(storage.storage.clone())),
        (
            "type",
            Value::string(storage.kind.clone().unwrap_or_default()),
        ),
        ("content", Value::list(content)),
        ("active", Value::bool(storage.active.unwrap_or(false))),
        ("shared", Value::bool(storage.shared.unwrap_or(false))),
        ("available", bytes(storage.avail)),
        ("total", bytes(storage.total)),
    ])
}

/// The data source's result from what the node reported. Pure, so the mapping is tested
/// without a node.
pub fn node_value(
    node: &str,
    inventory: &NodeInventory,
    storages: &[StorageInfo],
    mut templates: Vec<String>,
    pve_version: &str,
) -> Value {
    let mut devices: Vec<&DeviceInfo> = inventory
        .devices
        .devices
        .iter()
        .filter(|d| d.kind.cgroup_letter().is_some())
        .collect();
    devices.sort_by(|a, b| a.path.cmp(&b.path));
    devices.dedup_by(|a, b| a.path == b.path);
    let gpus: Vec<Value> = devices
        .iter()
        .map(|d| device_value(inventory, d))
        .filter(|v| v.get_attr("vendor").and_then(Value::as_str) != Some(""))
        .filter_map(|v| v.get_attr("path").cloned())
        .collect();
    let optical: Vec<Value> = devices
        .iter()
        .filter(|d| {
            d.path
                .strip_prefix("/dev/sr")
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(|d| Value::string(d.path.clone()))
        .collect();
    templates.sort();
    templates.dedup();
    Value::object([
        ("node", Value::string(node)),
        (
            "devices",
            Value::list(devices.iter().map(|d| device_value(inventory, d))),
        ),
        ("gpus", Value::list(gpus)),
        ("optical_drives", Value::list(optical)),
        (
            "groups",
            Value::map(
                inventory
                    .groups
                    .iter()
                    .map(|(name, gid)| (name.clone(), Value::int(i64::from(*gid)))),
            ),
        ),
        ("storages", Value::list(storages.iter().map(storage_value))),
        (
            "templates",
            Value::list(templates.into_iter().map(Value::string)),
        ),
        ("pve_version", Value::string(pve_version)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use pvelxc_pve::ssh::{parse_group_file, NodeDevices};

    fn inventory() -> NodeInventory {
        // What the discovery script prints on a node with an Intel iGPU and a SATA
        // Blu-ray drive (sr0 is a block device, its SCSI-generic twin sg0 a char device).
        let devices = NodeDevices::parse(
            "dev\t/dev/dri/renderD128\tc\te2 80 0 104 660\n\
             dev\t/dev/dri/card0\tc\te2 0 0 44 660\n\
             dev\t/dev/sr0\tb\tb 0 0 24 660\n\
             dev\t/dev/sg0\tc\t15 0 0 24 660\n\
             dev\t/dev/dri/by-path\to\t0 0 0 0 755\n\
             drm\tcard0\t0x8086\t226:0\n\
             drm\trenderD128\t0x8086\t226:128\n\
             sg\tsr0\tsg0\t21:0\n",
        );
        let groups = parse_group_file("video:x:44:\nrender:x:104:\ncdrom:x:24:\nmedia:x:1000:\n");
        NodeInventory { devices, groups }
    }

    fn storage(json: serde_json::Value) -> StorageInfo {
        serde_json::from_value(json).expect("storage json")
    }

    #[test]
    fn maps_devices_groups_storages_and_templates() {
        let storages = [
            storage(serde_json::json!({
                "storage": "local", "type": "dir", "content": "vztmpl,iso,backup",
                "active": 1, "avail": 1000, "total": 4000
            })),
            storage(
                serde_json::json!({"storage": "local-lvm", "type": "lvmthin", "content": "rootdir,images"}),
            ),
        ];
        let value = node_value(
            "pve",
            &inventory(),
            &storages,
            vec![
                "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst".into(),
                "local:vztmpl/alpine-3.20-default_20240908_amd64.tar.xz".into(),
            ],
            "9.1.1",
        );
        let devices = value
            .get_attr("devices")
            .and_then(Value::as_elements)
            .unwrap();
        let by_path = |p: &str| {
            devices
                .iter()
                .find(|d| d.get_attr("path").and_then(Value::as_str) == Some(p))
                .unwrap_or_else(|| panic!("no {p} in {devices:?}"))
        };
        let get = |d: &Value, a: &str| d.get_attr(a).cloned().unwrap();
        assert_eq!(devices.len(), 4, "the non-device entry is dropped");
        let sr0 = by_path("/dev/sr0");
        assert_eq!(get(sr0, "type"), Value::string("block"));
        assert_eq!(
            (get(sr0, "major"), get(sr0, "minor")),
            (Value::int(11), Value::int(0))
        );
        assert_eq!(get(sr0, "sg_twin"), Value::string("/dev/sg0"));
        assert_eq!(get(sr0, "gid"), Value::int(24));
        let sg0 = by_path("/dev/sg0");
        assert_eq!(get(sg0, "type"), Value::string("char"));
        assert_eq!(get(sg0, "major"), Value::int(21));
        assert_eq!(get(sg0, "sg_twin"), Value::string(""));
        let render = by_path("/dev/dri/renderD128");
        assert_eq!(
            (get(render, "major"), get(render, "minor")),
            (Value::int(226), Value::int(128))
        );
        assert_eq!(get(render, "vendor"), Value::string("intel"));
        assert_eq!(get(render, "mode"), Value::string("0660"));
        assert_eq!(
            value.get_attr("gpus").cloned().unwrap(),
            Value::list([
                Value::string("/dev/dri/card0"),
                Value::string("/dev/dri/renderD128")
            ])
        );
        assert_eq!(
            value.get_attr("optical_drives").cloned().unwrap(),
            Value::list([Value::string("/dev/sr0")])
        );
        let groups = value.get_attr("groups").unwrap();
        assert_eq!(groups.get_key("render"), Some(&Value::int(104)));
        assert_eq!(groups.get_key("media"), Some(&Value::int(1000)));
        let st = value
            .get_attr("storages")
            .and_then(Value::as_elements)
            .unwrap();
        assert_eq!(
            get(&st[0], "content"),
            Value::list(["vztmpl", "iso", "backup"].map(Value::string))
        );
        assert_eq!(get(&st[0], "available"), Value::int(1000));
        assert_eq!(get(&st[1], "total"), Value::int(0));
        assert_eq!(get(&st[1], "active"), Value::bool(false));
        let templates = value
            .get_attr("templates")
            .and_then(Value::as_elements)
            .unwrap();
        assert!(templates[0].as_str().unwrap().contains("alpine"), "sorted");
        assert_eq!(value.get_attr("pve_version"), Some(&Value::string("9.1.1")));
    }

    #[test]
    fn result_conforms_to_the_schema() {
        let value = node_value("pve", &NodeInventory::default(), &[], Vec::new(), "9.1.1");
        let ty = NodeDataSource.schema().block.implied_type();
        let bytes =
            pvelxc_cty::json::encode(&value, &ty).expect("result encodes with the schema type");
        let back = pvelxc_cty::json::decode(&bytes, &ty).expect("decodes");
        assert_eq!(back.get_attr("node"), Some(&Value::string("pve")));
        assert!(value.is_wholly_known());
        let full = node_value("pve", &inventory(), &[], Vec::new(), "9");
        pvelxc_cty::json::encode(&full, &ty).expect("a full result encodes too");
    }
}
