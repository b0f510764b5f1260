//! Transient node failures injected by pve-testhost (`faults.json`): "CT is locked" and
//! PVE's lock timeout on the config update, a 500 on the create. Each apply either
//! succeeds through retries or fails with a clear error, and the next apply converges to
//! the configuration with an empty plan after it — no lost update, no orphaned container.
//!
//! vmids 540–549.

use pvelxc_acceptance::terraform;
use pvelxc_acceptance::testhost::ContainerWorkspace;
use serde_json::json;

const UPDATED: u32 = 541;
const CREATED: u32 = 542;

fn config(template: &str, memory: u32, with_second: bool) -> String {
    let second = if with_second {
        format!(
            r#"
resource "pvelxc_container" "created" {{
  vmid     = {CREATED}
  hostname = "faults-created"
  template = "{template}"
  started  = false
  rootfs {{
    storage = "local"
    size    = "1G"
  }}
}}
"#
        )
    } else {
        String::new()
    };
    format!(
        r#"
resource "pvelxc_container" "updated" {{
  vmid     = {UPDATED}
  hostname = "faults-updated"
  template = "{template}"
  memory   = {memory}
  started  = false
  rootfs {{
    storage = "local"
    size    = "1G"
  }}
}}
{second}"#
    )
}

/// Applies once (which may fail, but only cleanly), then again, which must converge.
/// `expected_error`: text a failed first apply must show (the task log tail, say).
fn apply_through_faults(ws: &ContainerWorkspace, what: &str, expected_error: Option<&str>) {
    let first = ws.tf(&["apply", "-auto-approve"]);
    if first.code != 0 {
        let text = first.all();
        assert!(
            text.contains("Error:")
                && !text.contains("panic")
                && !text.contains("Plugin did not respond"),
            "{what}: a failed apply must fail cleanly with an error, not a crash:\n{text}"
        );
        if let Some(expected) = expected_error {
            assert!(
                text.contains(expected),
                "{what}: the error must say {expected:?}:\n{text}"
            );
        }
        eprintln!("{what}: first apply failed cleanly; re-applying\n{text}");
        ws.apply();
    } else {
        eprintln!("{what}: the first apply succeeded through retries");
    }
    let plan = ws.plan_exit_code();
    assert_eq!(
        plan.code,
        0,
        "{what}: after the re-apply the plan must be empty:\n{}",
        plan.all()
    );
}

#[test]
#[ignore = "needs pve-testhost; run scripts/test.sh"]
fn applies_converge_through_locked_configs_and_server_errors() {
    let cli = terraform::terraform_1_15().unwrap_or_else(|e| panic!("{e}"));
    let ws = ContainerWorkspace::new(&cli, 540..=549);
    let template = ws.host.template().to_string();
    ws.write(&config(&template, 512, false));
    ws.init();
    ws.apply();

    // The config update meets "CT is locked" and a lock timeout first.
    ws.host
        .set_faults(&json!([
            {"method": "PUT", "path": "/nodes/*/lxc/*/config", "kind": "ct_locked", "count": 1, "message": "backup"},
            {"method": "PUT", "path": "/nodes/*/lxc/*/config", "kind": "locked", "count": 1}
        ]))
        .expect("write faults.json");
    ws.write(&config(&template, 1024, false));
    apply_through_faults(&ws, "locked config update", None);
    assert!(
        ws.host.pending_faults().is_empty(),
        "the injected faults were never hit: {:?}",
        ws.host.pending_faults()
    );
    let conf = ws.host.conf_lines(UPDATED);
    assert!(
        conf.iter().any(|l| l == "memory: 1024"),
        "the update was lost: {conf:#?}"
    );
    assert!(
        !conf.iter().any(|l| l.starts_with("lock:")),
        "the CT was left locked: {conf:#?}"
    );

    // The create meets a 500 before the node created anything.
    ws.host
        .set_faults(&json!([
            {"method": "POST", "path": "/nodes/*/lxc", "kind": "error", "count": 1, "message": "storage 'local' is temporarily unavailable"}
        ]))
        .expect("write faults.json");
    ws.write(&config(&template, 1024, true));
    apply_through_faults(&ws, "create after a 500", None);
    assert!(ws.host.pending_faults().is_empty());
    assert!(
        ws.host.conf(CREATED).is_some(),
        "CT {CREATED} was not created"
    );
    assert_eq!(ws.vmid("pvelxc_container.created"), CREATED);
    let ours: Vec<u32> = ws
        .host
        .vmids()
        .into_iter()
        .filter(|v| (540..=549).contains(v))
        .collect();
    assert_eq!(ours, vec![UPDATED, CREATED], "no orphaned containers");

    // A task that fails midway (the start): the error reports it, the re-apply converges.
    ws.host
        .set_faults(&json!([
            {"path": "/nodes/*/lxc/*/status/start", "kind": "task_failure", "count": 1, "message": "startup for container failed"}
        ]))
        .expect("write faults.json");
    ws.write(&config(&template, 1024, true).replacen("started  = false", "started  = true", 1));
    apply_through_faults(
        &ws,
        "start after a failed task",
        Some("startup for container failed"),
    );
    assert!(
        ws.host.pending_faults().is_empty(),
        "the start task fault was never hit: {:?}",
        ws.host.pending_faults()
    );
    let status = ws.host.ok(&["pct", "status", &UPDATED.to_string()]);
    assert_eq!(status.trim(), "status: running");
}
