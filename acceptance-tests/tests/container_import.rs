//! Importing a container built by hand the runbook way (`pct create`, then raw cgroup2 and
//! mount-entry lines, `mp0` bind mount, nesting, firewall off): with a matching
//! configuration the import plans no change and the next plan is empty; with
//! `-generate-config-out` the generated configuration itself plans no change.
//!
//! vmids 530–539.

use pvelxc_acceptance::terraform;
use pvelxc_acceptance::testhost::{change_of, changed_attributes, ContainerWorkspace};
use serde_json::Value as Json;

const VMID: u32 = 531;
const ADDRESS: &str = "pvelxc_container.imported";

const RAW_LINES: &str = "lxc.cgroup2.devices.allow: c 226:0 rwm\n\
lxc.cgroup2.devices.allow: c 226:128 rwm\n\
lxc.mount.entry: /dev/dri dev/dri none bind,optional,create=dir\n";

fn import_block(node: &str) -> String {
    format!(
        r#"
import {{
  to = {ADDRESS}
  id = "{node}/{VMID}"
}}
"#
    )
}

fn matching_config(node: &str, bridge: &str) -> String {
    format!(
        r#"{import}
resource "pvelxc_container" "imported" {{
  vmid         = {VMID}
  hostname     = "imported"
  unprivileged = false
  memory       = 512
  swap         = 512
  started      = false

  rootfs {{
    storage = "local"
    size    = "1G"
  }}
  network {{
    name     = "eth0"
    bridge   = "{bridge}"
    ip       = "dhcp"
    firewall = false
  }}
  features {{
    nesting = true
  }}
  mount_point {{
    slot   = 0
    volume = "/mnt/storage"
    path   = "/mnt/storage"
  }}
  raw_lxc {{
    key   = "lxc.cgroup2.devices.allow"
    value = "c 226:0 rwm"
  }}
  raw_lxc {{
    key   = "lxc.cgroup2.devices.allow"
    value = "c 226:128 rwm"
  }}
  raw_lxc {{
    key   = "lxc.mount.entry"
    value = "/dev/dri dev/dri none bind,optional,create=dir"
  }}
}}
"#,
        import = import_block(node)
    )
}

/// Builds the container with the node's tools, as the runbook does.
fn create_by_hand(ws: &ContainerWorkspace) {
    let host = &ws.host;
    host.ok(&["mkdir", "-p", "/mnt/storage"]);
    host.ok(&[
        "pct",
        "create",
        &VMID.to_string(),
        host.template(),
        "--hostname",
        "imported",
        "--rootfs",
        "local:1",
        "--memory",
        "512",
        "--swap",
        "512",
        "--net0",
        &format!("name=eth0,bridge={},ip=dhcp,firewall=0", host.bridge),
        "--features",
        "nesting=1",
        "--mp0",
        "/mnt/storage,mp=/mnt/storage",
    ]);
    let conf = format!("/etc/pve/lxc/{VMID}.conf");
    host.ok(&[
        "sh",
        "-c",
        "printf '%s' \"$2\" >> \"$1\"",
        "append",
        &conf,
        RAW_LINES,
    ]);
    let text = host.conf(VMID).expect("hand-made conf");
    assert!(text.contains(RAW_LINES), "{text}");
}

fn assert_import_is_a_no_op(plan: &Json, what: &str) {
    let change = change_of(plan, ADDRESS);
    assert_eq!(
        change["actions"],
        serde_json::json!(["no-op"]),
        "{what}: importing must change nothing; differing attributes {:?}\n{change:#}",
        changed_attributes(change)
    );
    assert!(
        change["importing"].is_object(),
        "{what}: the plan must import: {change:#}"
    );
}

#[test]
#[ignore = "needs pve-testhost; run scripts/test.sh"]
fn hand_built_container_imports_with_an_empty_plan() {
    let cli = terraform::terraform_1_15().unwrap_or_else(|e| panic!("{e}"));
    let ws = ContainerWorkspace::new(&cli, 530..=534);
    create_by_hand(&ws);
    let node = ws.host.node.clone();

    // Generated configuration: written by Terraform from the imported state, it must plan
    // no change either. (Planned only: the applied import follows below.)
    {
        let gen = ContainerWorkspace::without_vmids(&cli);
        gen.write(&import_block(&node));
        gen.init();
        let run = gen.tf(&["plan", "-generate-config-out=generated.tf"]);
        let generated = std::fs::read_to_string(gen.wd.dir.join("generated.tf"))
            .unwrap_or_else(|e| panic!("no generated.tf ({e}):\n{}", run.all()));
        assert!(
            generated.contains("resource \"pvelxc_container\" \"imported\""),
            "{generated}"
        );
        let plan = gen.plan_json();
        assert_import_is_a_no_op(&plan, &format!("generated config\n{generated}"));
    }

    // Hand-written configuration matching the runbook.
    ws.write(&matching_config(&node, &ws.host.bridge));
    ws.init();
    let plan = ws.plan_json();
    assert_import_is_a_no_op(&plan, "matching config");
    ws.tf_ok(&["apply", "test.tfplan"]);
    let state = ws.state_values(ADDRESS);
    assert_eq!(state["vmid"], VMID, "{state:#}");
    assert_eq!(state["id"], format!("{node}/{VMID}"), "{state:#}");
    let plan = ws.plan_exit_code();
    assert_eq!(
        plan.code,
        0,
        "plan after import must be empty:\n{}",
        plan.all()
    );
    // The import changed nothing on the node.
    let text = ws.host.conf(VMID).expect("conf");
    assert!(text.contains(RAW_LINES), "{text}");
}

#[test]
#[ignore = "needs pve-testhost; run scripts/test.sh"]
fn import_by_bare_vmid_uses_the_default_node() {
    let cli = terraform::terraform_1_15().unwrap_or_else(|e| panic!("{e}"));
    let ws = ContainerWorkspace::new(&cli, 535..=539);
    let vmid = 536;
    ws.host.ok(&[
        "pct",
        "create",
        &vmid.to_string(),
        ws.host.template(),
        "--hostname",
        "bare",
        "--rootfs",
        "local:1",
    ]);
    ws.write(&format!(
        r#"
resource "pvelxc_container" "bare" {{
  vmid         = {vmid}
  hostname     = "bare"
  unprivileged = false
  started      = false
  rootfs {{
    storage = "local"
    size    = "1G"
  }}
}}
"#
    ));
    ws.init();
    ws.tf_ok(&["import", "pvelxc_container.bare", &vmid.to_string()]);
    let state = ws.state_values("pvelxc_container.bare");
    assert_eq!(state["id"], format!("{}/{vmid}", ws.host.node), "{state:#}");
    let plan = ws.plan_exit_code();
    assert_eq!(
        plan.code,
        0,
        "plan after import must be empty:\n{}",
        plan.all()
    );
}
