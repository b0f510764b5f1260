//! Twenty containers created with `-parallelism=10` on one node: every one exists with its
//! own config, nothing is lost to concurrent updates, the plan afterwards is empty, and a
//! parallel destroy removes them all.
//!
//! vmids 550–570 (twenty stopped containers) and 571–579 (eight started at once).

use pvelxc_acceptance::terraform;
use pvelxc_acceptance::testhost::{resources_of, ContainerWorkspace};

const FIRST: u32 = 551;
const COUNT: u32 = 20;

fn config(template: &str) -> String {
    format!(
        r#"
resource "pvelxc_container" "fleet" {{
  count    = {COUNT}
  vmid     = {FIRST} + count.index
  hostname = "fleet-${{count.index}}"
  template = "{template}"
  memory   = 128 + count.index
  tags     = ["fleet", "n${{count.index}}"]
  started  = false

  rootfs {{
    storage = "local"
    size    = "1G"
  }}
}}
"#
    )
}

#[test]
#[ignore = "needs pve-testhost; run scripts/test.sh"]
fn twenty_containers_with_parallelism_ten() {
    let cli = terraform::terraform_1_15().unwrap_or_else(|e| panic!("{e}"));
    let ws = ContainerWorkspace::new(&cli, 550..=570);
    ws.write(&config(ws.host.template()));
    ws.init();
    ws.tf_ok(&["apply", "-auto-approve", "-parallelism=10"]);

    let state = ws.wd.show_json(None);
    let resources = resources_of(&state["values"]["root_module"]);
    assert_eq!(resources.len(), COUNT as usize, "resources in state");
    let mut seen = Vec::new();
    for i in 0..COUNT {
        let vmid = FIRST + i;
        let conf = ws.host.conf_lines(vmid);
        for want in [
            format!("hostname: fleet-{i}"),
            format!("memory: {}", 128 + i),
            format!("tags: fleet;n{i}"),
        ] {
            assert!(
                conf.contains(&want),
                "CT {vmid} lacks {want:?} (a lost update?):\n{}",
                conf.join("\n")
            );
        }
        seen.push(vmid);
    }
    let on_node: Vec<u32> = ws
        .host
        .vmids()
        .into_iter()
        .filter(|v| (550..=570).contains(v))
        .collect();
    assert_eq!(on_node, seen, "exactly the 20 containers exist");

    let plan = ws.plan_exit_code();
    assert_eq!(
        plan.code,
        0,
        "plan after apply must be empty:\n{}",
        plan.all()
    );

    ws.tf_ok(&["destroy", "-auto-approve", "-parallelism=10"]);
    let left: Vec<u32> = ws
        .host
        .vmids()
        .into_iter()
        .filter(|v| (550..=570).contains(v))
        .collect();
    assert!(left.is_empty(), "left after destroy: {left:?}");
}

/// Containers started concurrently must all come up, and the state must say what the
/// plan promised (`started = true`, `status = "running"`).
#[test]
#[ignore = "needs pve-testhost; run scripts/test.sh"]
fn eight_started_containers_with_parallelism_eight() {
    let cli = terraform::terraform_1_15().unwrap_or_else(|e| panic!("{e}"));
    let ws = ContainerWorkspace::new(&cli, 571..=579);
    ws.write(&format!(
        r#"
resource "pvelxc_container" "running" {{
  count    = 8
  vmid     = 572 + count.index
  hostname = "running-${{count.index}}"
  template = "{}"
  memory   = 256
  started  = true

  rootfs {{
    storage = "local"
    size    = "1G"
  }}
}}
"#,
        ws.host.template()
    ));
    ws.init();
    ws.tf_ok(&["apply", "-auto-approve", "-parallelism=8"]);
    for vmid in 572..580 {
        let status = ws.host.ok(&["pct", "status", &vmid.to_string()]);
        assert_eq!(status.trim(), "status: running", "CT {vmid}");
    }
    let plan = ws.plan_exit_code();
    assert_eq!(
        plan.code,
        0,
        "plan after apply must be empty:\n{}",
        plan.all()
    );
}
