//! `data "pvelxc_node"` read by real Terraform (1.15 and 1.11) from pve-testhost: the
//! hardware stand-ins come back with the type and numbers the node really has (checked
//! against `stat` on the node), the device groups with the node's GIDs, and the node's
//! storages and templates.

use pvelxc_acceptance::terraform::{self, TerraformCli};
use pvelxc_acceptance::testhost::ContainerWorkspace;
use serde_json::Value as Json;

const CONFIG: &str = r#"
data "pvelxc_node" "this" {}

# Free space changes between reads; everything else must read back identically.
output "node" {
  value = { for k, v in data.pvelxc_node.this : k => v if k != "storages" }
}

output "storages" {
  value = [for s in data.pvelxc_node.this.storages : {
    id = s.id, type = s.type, content = s.content, total = s.total, available = s.available > 0
  }]
}
"#;

fn device<'a>(node: &'a Json, path: &str) -> &'a Json {
    node["devices"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["path"] == path))
        .unwrap_or_else(|| panic!("no {path} in devices: {:#}", node["devices"]))
}

/// `(type, major, minor)` of a device node, from `stat` on the node itself.
fn stat_on_node(ws: &ContainerWorkspace, path: &str) -> (String, u64, u64) {
    let out = ws.host.ok(&["stat", "-L", "-c", "%F %t %T", path]);
    let fields: Vec<&str> = out.split_whitespace().collect();
    let hex = |t: &str| u64::from_str_radix(t, 16).expect("hex device number");
    match fields.as_slice() {
        ["block", "special", "file", maj, min] => ("block".into(), hex(maj), hex(min)),
        ["character", "special", "file", maj, min] => ("char".into(), hex(maj), hex(min)),
        _ => panic!("unexpected stat output for {path}: {out:?}"),
    }
}

fn check(cli: &TerraformCli) {
    let ws = ContainerWorkspace::without_vmids(cli);
    let label = &cli.label;
    ws.write(CONFIG);
    ws.init();
    ws.apply();
    let outputs: Json =
        serde_json::from_str(&ws.tf_ok(&["output", "-json"]).stdout).expect("output -json");
    let node = &outputs["node"]["value"];
    let hw = &ws.host.hardware;

    assert_eq!(node["node"], ws.host.node.as_str(), "{label}: default node");

    let expect = |path: &str, kind: &str, major: u64, minor: u64| {
        let d = device(node, path);
        assert_eq!(
            (d["type"].as_str(), d["major"].as_u64(), d["minor"].as_u64()),
            (Some(kind), Some(major), Some(minor)),
            "{label}: {path} as reported: {d:#}"
        );
        assert_eq!(
            stat_on_node(&ws, path),
            (kind.to_string(), major, minor),
            "{label}: {path} on the node"
        );
        d
    };
    let card = expect(&hw.gpu_card, "char", 226, 0);
    assert_eq!(card["vendor"], "intel", "{label}: {card:#}");
    assert_eq!(card["gid"], hw.groups["video"], "{label}: {card:#}");
    let render = expect(&hw.gpu_render, "char", 226, 128);
    assert_eq!(render["vendor"], "intel", "{label}: {render:#}");
    assert_eq!(render["gid"], hw.groups["render"], "{label}: {render:#}");
    assert_eq!(render["mode"], "0660", "{label}: {render:#}");
    // The test host backs sr0 with a loop device, so its numbers are the loop device's
    // (real drives are b 11:0); what matters is that it is reported as the block device
    // the node has, never assumed.
    let (maj, min) = hw
        .optical_rdev
        .split_once(':')
        .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
        .expect("optical_rdev is MAJ:MIN");
    let sr0 = expect(&hw.optical, "block", maj, min);
    assert_eq!(
        sr0["sg_twin"],
        hw.optical_generic.as_str(),
        "{label}: {sr0:#}"
    );
    assert_eq!(sr0["vendor"], "", "{label}");
    let sg0 = expect(&hw.optical_generic, "char", 21, 0);
    assert_eq!(sg0["sg_twin"], "", "{label}");
    assert_eq!(sg0["gid"], hw.groups["cdrom"], "{label}");

    assert_eq!(
        node["gpus"],
        serde_json::json!([hw.gpu_card, hw.gpu_render]),
        "{label}"
    );
    assert_eq!(
        node["optical_drives"],
        serde_json::json!([hw.optical]),
        "{label}"
    );
    for group in ["video", "render", "cdrom"] {
        assert_eq!(
            node["groups"][group], hw.groups[group],
            "{label}: GID of {group}: {:#}",
            node["groups"]
        );
    }
    let getent = ws.host.ok(&["getent", "group", "root"]);
    assert!(getent.starts_with("root:"), "{getent}");
    assert_eq!(node["groups"]["root"], 0, "{label}");

    let templates = node["templates"].as_array().expect("templates");
    assert!(
        templates.iter().any(|t| t == ws.host.template()),
        "{label}: {} not in {templates:?}",
        ws.host.template()
    );
    let local = outputs["storages"]["value"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["id"] == "local"))
        .unwrap_or_else(|| panic!("{label}: no storage 'local' in {outputs:#}"));
    assert!(
        local["content"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c == "vztmpl")),
        "{label}: {local:#}"
    );
    assert!(
        local["total"].as_u64().unwrap_or(0) > 0 && local["available"] == true,
        "{label}: {local:#}"
    );
    assert!(
        node["pve_version"].as_str().is_some_and(|v| !v.is_empty()),
        "{label}: {node:#}"
    );

    // A data source read is not a change: the plan stays empty.
    let plan = ws.plan_exit_code();
    assert_eq!(plan.code, 0, "{label}: {}", plan.all());
}

#[test]
#[ignore = "needs pve-testhost; run scripts/test.sh"]
fn node_data_source_reports_the_real_devices_terraform_1_15() {
    check(&terraform::terraform_1_15().unwrap_or_else(|e| panic!("{e}")));
}

#[test]
#[ignore = "needs pve-testhost; run scripts/test.sh"]
fn node_data_source_reports_the_real_devices_terraform_1_11() {
    let Some(cli) = terraform::terraform_1_11() else {
        panic!("Terraform 1.11 not found: install terraform on PATH (scripts/setup.sh does)");
    };
    check(&cli);
}
