//! A container's whole life under real Terraform: create, empty plan, in-place update of
//! memory, a tag and an added mount point (same vmid, no replacement), drift made with the
//! node's own tools shown as exactly that attribute, and a destroy that leaves neither a
//! conf nor LXC state.
//!
//! vmids 520–529 (521 with Terraform 1.15, 523 with 1.11, 526 for the re-creation).

use pvelxc_acceptance::terraform::{self, TerraformCli};
use pvelxc_acceptance::testhost::{change_of, changed_attributes, ContainerWorkspace};

const ADDRESS: &str = "pvelxc_container.app";

fn config(
    vmid: u32,
    template: &str,
    bridge: &str,
    memory: u32,
    tags: &str,
    extra_mount: bool,
) -> String {
    let extra = if extra_mount {
        format!(
            r#"
  mount_point {{
    slot   = 1
    volume = "/mnt/storage/pvelxc-lifecycle-{vmid}"
    path   = "/mnt/extra"
  }}"#
        )
    } else {
        String::new()
    };
    format!(
        r#"
resource "pvelxc_container" "app" {{
  vmid         = {vmid}
  hostname     = "lifecycle"
  template     = "{template}"
  unprivileged = false
  memory       = {memory}
  swap         = 256
  tags         = {tags}
  started      = false

  rootfs {{
    storage = "local"
    size    = "1G"
  }}
  network {{
    name   = "eth0"
    bridge = "{bridge}"
    ip     = "dhcp"
  }}
  mount_point {{
    slot   = 0
    volume = "/mnt/storage"
    path   = "/mnt/storage"
  }}{extra}
}}
"#
    )
}

#[test]
#[ignore = "needs pve-testhost; run scripts/test.sh"]
fn create_update_in_place_drift_and_destroy_terraform_1_15() {
    let cli = terraform::terraform_1_15().unwrap_or_else(|e| panic!("{e}"));
    lifecycle(&cli, 521, 520..=522);
}

#[test]
#[ignore = "needs pve-testhost; run scripts/test.sh"]
fn create_update_in_place_drift_and_destroy_terraform_1_11() {
    let Some(cli) = terraform::terraform_1_11() else {
        panic!("Terraform 1.11 not found: install terraform on PATH (scripts/setup.sh does)");
    };
    lifecycle(&cli, 523, 523..=524);
}

fn lifecycle(cli: &TerraformCli, vmid: u32, range: std::ops::RangeInclusive<u32>) {
    let ws = ContainerWorkspace::new(cli, range);
    let (template, bridge) = (ws.host.template().to_string(), ws.host.bridge.clone());
    ws.host.ok(&[
        "mkdir",
        "-p",
        &format!("/mnt/storage/pvelxc-lifecycle-{vmid}"),
    ]);

    ws.write(&config(
        vmid,
        &template,
        &bridge,
        512,
        r#"["media"]"#,
        false,
    ));
    ws.init();
    ws.apply();
    assert_eq!(ws.vmid(ADDRESS), vmid);
    let conf = ws.host.conf_lines(vmid);
    assert!(conf.iter().any(|l| l == "memory: 512"), "{conf:#?}");
    let plan = ws.plan_exit_code();
    assert_eq!(
        plan.code,
        0,
        "plan after create must be empty:\n{}",
        plan.all()
    );

    // Memory, a tag and a new mount point: one in-place update.
    ws.write(&config(
        vmid,
        &template,
        &bridge,
        1024,
        r#"["media", "transcode"]"#,
        true,
    ));
    let plan = ws.plan_json();
    let change = change_of(&plan, ADDRESS);
    assert_eq!(
        change["actions"],
        serde_json::json!(["update"]),
        "must update in place, not replace: {change:#}"
    );
    // Nothing here touches the network or restarts the CT: the addresses stay known.
    assert_eq!(
        changed_attributes(change),
        vec!["memory", "mount_point", "tags"],
        "planned changes: {change:#}"
    );
    ws.tf_ok(&["apply", "test.tfplan"]);
    assert_eq!(ws.vmid(ADDRESS), vmid, "the update must keep the vmid");
    let conf = ws.host.conf_lines(vmid);
    assert!(conf.iter().any(|l| l == "memory: 1024"), "{conf:#?}");
    assert!(
        conf.iter().any(|l| l == "tags: media;transcode"),
        "{conf:#?}"
    );
    assert!(
        conf.iter()
            .any(|l| l == &format!("mp1: /mnt/storage/pvelxc-lifecycle-{vmid},mp=/mnt/extra")),
        "{conf:#?}"
    );
    let plan = ws.plan_exit_code();
    assert_eq!(
        plan.code,
        0,
        "plan after update must be empty:\n{}",
        plan.all()
    );

    // Drift: memory changed on the node, outside Terraform.
    ws.host
        .ok(&["pct", "set", &vmid.to_string(), "--memory", "768"]);
    let plan = ws.plan_json();
    let change = change_of(&plan, ADDRESS);
    assert_eq!(
        change["actions"],
        serde_json::json!(["update"]),
        "{change:#}"
    );
    assert_eq!(
        changed_attributes(change),
        vec!["memory"],
        "drift must show exactly memory: {change:#}"
    );
    assert_eq!(change["before"]["memory"], 768, "{change:#}");
    assert_eq!(change["after"]["memory"], 1024, "{change:#}");
    ws.tf_ok(&["apply", "test.tfplan"]);
    assert!(ws.host.conf_lines(vmid).iter().any(|l| l == "memory: 1024"));

    // Destroy: no conf, no LXC state.
    ws.tf_ok(&["destroy", "-auto-approve"]);
    assert_eq!(ws.host.conf(vmid), None, "conf survived destroy");
    let info = ws.host.run(&["lxc-info", "-n", &vmid.to_string()]);
    assert!(
        info.code != 0 && info.all().contains("doesn't exist"),
        "LXC still knows CT {vmid}: {}",
        info.all()
    );
    let lxc_dir = ws
        .host
        .run(&["test", "-e", &format!("/var/lib/lxc/{vmid}")]);
    assert_ne!(lxc_dir.code, 0, "/var/lib/lxc/{vmid} survived destroy");
}

#[test]
#[ignore = "needs pve-testhost; run scripts/test.sh"]
fn a_container_deleted_outside_terraform_is_recreated() {
    let cli = terraform::terraform_1_15().unwrap_or_else(|e| panic!("{e}"));
    let ws = ContainerWorkspace::new(&cli, 525..=529);
    let config = |vmid: u32| {
        format!(
            r#"
resource "pvelxc_container" "gone" {{
  vmid     = {vmid}
  hostname = "gone"
  template = "{}"
  started  = false
  rootfs {{
    storage = "local"
    size    = "1G"
  }}
}}
"#,
            ws.host.template()
        )
    };
    ws.write(&config(526));
    ws.init();
    ws.apply();
    ws.host.pct_destroy(526);
    let plan = ws.plan_json();
    let change = change_of(&plan, "pvelxc_container.gone");
    assert_eq!(
        change["actions"],
        serde_json::json!(["create"]),
        "a CT deleted outside Terraform must be planned for creation: {change:#}"
    );
    ws.tf_ok(&["apply", "test.tfplan"]);
    assert!(ws.host.conf(526).is_some());
}
