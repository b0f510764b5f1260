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

/// Plans `hcl` and requires the plan to fail (exit 1) with every one of `needles` in its
/// output.
fn plan_fails_naming(ws: &ContainerWorkspace, hcl: &str, needles: &[&str], why: &str) {
    ws.write(hcl);
    let plan = ws.plan_exit_code();
    let text = plan.all();
    assert_eq!(plan.code, 1, "{why}\n{text}");
    for needle in needles {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
}

#[test]
#[ignore = "needs pve-testhost; run scripts/test.sh"]
fn missing_devices_fail_the_plan_not_the_apply() {
    let cli = terraform::terraform_1_15().unwrap_or_else(|e| panic!("{e}"));
    let ws = ContainerWorkspace::new(&cli, VMID..=VMID);
    let template = ws.host.template().to_string();
    let render = ws.host.hardware.gpu_render.clone();

    let missing = config(&template, "/dev/pvelxc-missing0", None);
    ws.write(&missing);
    ws.init();
    plan_fails_naming(
        &ws,
        &missing,
        &[
            "Device not found on the node",
            "/dev/pvelxc-missing0 does not exist on the node",
        ],
        "the plan must fail",
    );
    plan_fails_naming(
        &ws,
        &config(&template, &render, Some("/dev/pvelxc-missing-sr9")),
        &["/dev/pvelxc-missing-sr9"],
        "a missing drive fails the plan",
    );

    let exists = ws.host.run(&["pct", "config", &VMID.to_string()]);
    assert_ne!(exists.code, 0, "no container after failed plans");

    ws.write(&config(&template, &render, None));
    let plan = ws.plan_exit_code();
    assert_eq!(plan.code, 2, "an existing device plans\n{}", plan.all());
    ws.apply();
    assert_eq!(ws.plan_exit_code().code, 0, "no changes after apply");

    plan_fails_naming(
        &ws,
        &config(&template, "/dev/pvelxc-missing1", None),
        &["/dev/pvelxc-missing1"],
        "a changed device is checked again",
    );
}
