//! Mistakes only the node can reveal fail `terraform plan`, before anything is created: a
//! `device` path that is not on the node and an `optical_drive` that is missing. A device
//! that exists plans normally, and a later change of the block is checked again.
//!
//! vmid 550 (never created by the failing plans).

use pvelxc_acceptance::terraform;
use pvelxc_acceptance::testhost::ContainerWorkspace;

const VMID: u32 = 550;

fn config(template: &str, device: &str, optical: Option<&str>) -> String {
    let optical = optical
        .map(|d| format!("\n  optical_drive {{\n    device = \"{d}\"\n  }}\n"))
        .unwrap_or_default();
    format!(
        r#"
resource "pvelxc_container" "checked" {{
  vmid     = {VMID}
  hostname = "plan-checks"
  template = "{template}"
  started  = false
  rootfs {{
    storage = "local"
    size    = "1G"
  }}
  device {{
    slot = 0
    path = "{device}"
  }}
{optical}}}
"#
    )
}

#[test]
#[ignore = "needs pve-testhost; run scripts/test.sh"]
fn missing_devices_fail_the_plan_not_the_apply() {
    let cli = terraform::terraform_1_15().unwrap_or_else(|e| panic!("{e}"));
    let ws = ContainerWorkspace::new(&cli, VMID..=VMID);
    let template = ws.host.template().to_string();
    let render = ws.host.hardware.gpu_render.clone();

    ws.write(&config(&template, "/dev/pvelxc-missing0", None));
    ws.init();
    let plan = ws.plan_exit_code();
    assert_eq!(plan.code, 1, "the plan must fail\n{}", plan.all());
    let text = plan.all();
    assert!(text.contains("Device not found on the node"), "{text}");
    assert!(
        text.contains("/dev/pvelxc-missing0 does not exist on the node"),
        "{text}"
    );

    ws.write(&config(&template, &render, Some("/dev/pvelxc-missing-sr9")));
    let plan = ws.plan_exit_code();
    assert_eq!(
        plan.code,
        1,
        "a missing drive fails the plan\n{}",
        plan.all()
    );
    assert!(
        plan.all().contains("/dev/pvelxc-missing-sr9"),
        "{}",
        plan.all()
    );

    let exists = ws.host.run(&["pct", "config", &VMID.to_string()]);
    assert_ne!(exists.code, 0, "no container after failed plans");

    ws.write(&config(&template, &render, None));
    let plan = ws.plan_exit_code();
    assert_eq!(plan.code, 2, "an existing device plans\n{}", plan.all());
    ws.apply();
    assert_eq!(ws.plan_exit_code().code, 0, "no changes after apply");

    ws.write(&config(&template, "/dev/pvelxc-missing1", None));
    let plan = ws.plan_exit_code();
    assert_eq!(
        plan.code,
        1,
        "a changed device is checked again\n{}",
        plan.all()
    );
    assert!(
        plan.all().contains("/dev/pvelxc-missing1"),
        "{}",
        plan.all()
    );
}
