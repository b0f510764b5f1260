//! `pvelxc_container_config` driven by real Terraform against containers on pve-testhost:
//! the agent is installed through the node, converges the container, `terraform plan` is
//! empty afterwards, drift made by hand inside the container (a user removed from a group,
//! a unit disabled) shows as a diff of exactly those attributes, and apply repairs it.

use pvelxc_acceptance::agent_fixture::{use_agent_binary, PctContainer};
use pvelxc_acceptance::terraform::{self, TerraformCli};
use pvelxc_acceptance::testhost::{change_of, ContainerWorkspace};
use serde_json::Value as Json;

const NEEDS: &str = "needs pve-testhost and terraform; run scripts/test.sh";

const UNIT: &str = "[Unit]\nDescription=pvelxc test unit\n[Service]\nType=simple\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n";

fn config(ct: &str, with_unit: bool) -> String {
    let unit = if with_unit {
        format!(
            r#"
  systemd_unit {{
    name    = "pvelxc-test.service"
    content = {UNIT:?}
    enabled = true
    state   = "started"
    owned   = true
  }}"#
        )
    } else {
        String::new()
    };
    format!(
        r#"
resource "pvelxc_container_config" "t" {{
  container_id = "{ct}"

  media_user {{}}

  group {{
    name = "editors"
    gid  = 2001
  }}
  user {{
    name   = "alice"
    uid    = 2001
    groups = ["editors", "video"]
  }}
  line {{
    path  = "/etc/environment"
    line  = "PVELXC_TEST=1"
    owned = true
  }}
{unit}
  check {{
    name     = "tmp-writable"
    user     = "media"
    writable = "/tmp"
  }}
}}

output "checks" {{ value = pvelxc_container_config.t.check_results }}
output "gids"   {{ value = pvelxc_container_config.t.device_gids }}
"#
    )
}

fn groups_of(ct: &PctContainer, user: &str) -> Vec<String> {
    let out = ct.sh(&format!("id -nG {user}"));
    let mut g: Vec<String> = out.split_whitespace().map(str::to_string).collect();
    g.sort();
    g
}

fn planned_block<'a>(change: &'a Json, side: &str, block: &str) -> &'a Json {
    &change[side][block][0]
}

fn converge_drift_repair(cli: &TerraformCli) {
    use_agent_binary();
    let ws = ContainerWorkspace::new(cli, 610..=612);
    let render_gid = ws
        .host
        .hardware
        .groups
        .get("render")
        .copied()
        .expect("node render gid");
    let dev = format!("{},gid={render_gid},mode=0660", ws.host.hardware.gpu_render);
    let ct = PctContainer::create(&ws.host, 610, false, &["--dev0", &dev]);
    ws.write(&config(&ct.id(), true));
    ws.init();
    let label = &cli.label;

    let first = std::time::Instant::now();
    ws.apply();
    eprintln!(
        "{label}: first apply (agent install + converge) {:?}",
        first.elapsed()
    );
    assert!(groups_of(&ct, "alice").contains(&"video".to_string()));
    let media = groups_of(&ct, "media");
    assert!(media.contains(&"render".to_string()), "{media:?}");
    assert_eq!(
        ct.sh("getent group render | cut -d: -f3").trim(),
        render_gid.to_string()
    );
    assert_eq!(
        ct.sh("systemctl is-enabled pvelxc-test.service").trim(),
        "enabled"
    );
    assert_eq!(
        ct.sh("grep -c '^PVELXC_TEST=1$' /etc/environment").trim(),
        "1"
    );
    let outputs: Json = serde_json::from_str(&ws.tf_ok(&["output", "-json"]).stdout).unwrap();
    assert_eq!(
        outputs["checks"]["value"]["tmp-writable"]["passed"], true,
        "{outputs:#}"
    );
    assert_eq!(
        outputs["gids"]["value"]["render"], render_gid,
        "{outputs:#}"
    );
    let agent_sha = ws.state_values("pvelxc_container_config.t")["agent_sha256"].clone();
    assert_eq!(
        ct.sh("sha256sum /usr/local/sbin/pvelxc-agent | cut -d' ' -f1")
            .trim(),
        agent_sha.as_str().unwrap()
    );

    let started = std::time::Instant::now();
    let plan = ws.plan_exit_code();
    eprintln!("{label}: plan with nothing changed {:?}", started.elapsed());
    assert_eq!(
        plan.code,
        0,
        "{label}: second plan not empty\n{}",
        plan.all()
    );

    // Another program where the agent should be (a stale or damaged copy): the refresh
    // notices it is not the expected build, puts the right one back, and the plan stays
    // empty.
    ct.sh("cp /bin/true /usr/local/sbin/pvelxc-agent");
    let plan = ws.plan_exit_code();
    assert_eq!(
        plan.code,
        0,
        "{label}: plan after a stale agent\n{}",
        plan.all()
    );
    assert_eq!(
        ct.sh("sha256sum /usr/local/sbin/pvelxc-agent | cut -d' ' -f1")
            .trim(),
        agent_sha.as_str().unwrap(),
        "{label}: the agent was not reinstalled"
    );

    // Drift made by hand inside the container.
    ct.sh("gpasswd -d alice video >/dev/null && gpasswd -d media render >/dev/null && systemctl disable pvelxc-test.service 2>/dev/null");
    let json = ws.plan_json();
    let change = change_of(&json, "pvelxc_container_config.t");
    assert_eq!(
        change["actions"],
        serde_json::json!(["update"]),
        "{change:#}"
    );
    assert_eq!(
        planned_block(change, "before", "user")["groups"],
        serde_json::json!(["editors"])
    );
    assert_eq!(
        planned_block(change, "after", "user")["groups"],
        serde_json::json!(["editors", "video"])
    );
    assert_eq!(
        planned_block(change, "before", "systemd_unit")["enabled"],
        false
    );
    assert_eq!(
        planned_block(change, "after", "systemd_unit")["enabled"],
        true
    );
    assert_eq!(
        change["before"]["media_user"]["device_groups"], false,
        "{change:#}"
    );
    assert_eq!(change["after"]["media_user"]["device_groups"], true);
    // Nothing unrelated is reported as drifted.
    assert_eq!(planned_block(change, "before", "line")["state"], "present");

    ws.apply();
    assert!(groups_of(&ct, "alice").contains(&"video".to_string()));
    assert!(groups_of(&ct, "media").contains(&"render".to_string()));
    assert_eq!(
        ct.sh("systemctl is-enabled pvelxc-test.service").trim(),
        "enabled"
    );
    let plan = ws.plan_exit_code();
    assert_eq!(
        plan.code,
        0,
        "{label}: plan after repair not empty\n{}",
        plan.all()
    );

    // Destroy removes what the resource owns and keeps the rest.
    ws.tf_ok(&["destroy", "-auto-approve"]);
    assert_eq!(
        ct.sh("test -e /etc/systemd/system/pvelxc-test.service && echo present || echo gone")
            .trim(),
        "gone"
    );
    assert_eq!(
        ct.sh("grep -c '^PVELXC_TEST=1$' /etc/environment || true")
            .trim(),
        "0"
    );
    assert!(
        groups_of(&ct, "alice").contains(&"editors".to_string()),
        "alice is not owned and stays"
    );
}

fn unprivileged_device_gid(cli: &TerraformCli) {
    use_agent_binary();
    let ws = ContainerWorkspace::new(cli, 613..=615);
    let render_gid = ws
        .host
        .hardware
        .groups
        .get("render")
        .copied()
        .expect("node render gid");
    let dev = format!("{},gid={render_gid},mode=0660", ws.host.hardware.gpu_render);
    let ct = PctContainer::create(&ws.host, 613, true, &["--dev0", &dev]);
    ws.write(&config(&ct.id(), true));
    ws.init();
    ws.apply();
    assert!(groups_of(&ct, "media").contains(&"render".to_string()));
    assert_eq!(
        ct.sh("systemctl is-enabled pvelxc-test.service").trim(),
        "enabled",
        "units work in an unprivileged CT with a passed-through device"
    );
    assert_eq!(ct.sh("id -u media").trim(), "1000");
    assert_eq!(
        ws.plan_exit_code().code,
        0,
        "plan after apply in an unprivileged CT"
    );
    ct.sh("gpasswd -d alice editors 2>&1");
    let json = ws.plan_json();
    let change = change_of(&json, "pvelxc_container_config.t");
    assert_eq!(
        planned_block(change, "before", "user")["groups"],
        serde_json::json!(["video"])
    );
    ws.apply();
    assert_eq!(ws.plan_exit_code().code, 0);
}

/// The agent is delivered into and converges an Ubuntu 24.04 container as it does a Debian
/// one: accounts, a line, a unit and a check, then an empty plan.
fn ubuntu_container(cli: &TerraformCli) {
    use_agent_binary();
    let ws = ContainerWorkspace::new(cli, 618..=619);
    let template = ws
        .host
        .template_matching("ubuntu-24.04")
        .map(str::to_string)
        .unwrap_or_else(|| {
            panic!(
                "pve-testhost offers no Ubuntu 24.04 template ({:?}): build it with \
                 scripts/build-template.sh ubuntu, then restart the node",
                ws.host.templates
            )
        });
    let ct = PctContainer::create_from(&ws.host, &template, 618, true, &[]);
    assert!(
        ct.sh("cat /etc/os-release").contains("ID=ubuntu"),
        "an Ubuntu rootfs"
    );
    assert_eq!(
        ws.host
            .ok(&["pct", "config", &ct.vmid.to_string()])
            .lines()
            .find(|l| l.starts_with("ostype:")),
        Some("ostype: ubuntu"),
        "ostype detected from the template"
    );
    ws.write(&config(&ct.id(), true));
    ws.init();
    ws.apply();
    assert_eq!(ct.sh("id -u media").trim(), "1000");
    assert!(groups_of(&ct, "alice").contains(&"editors".to_string()));
    assert_eq!(
        ct.sh("systemctl is-enabled pvelxc-test.service").trim(),
        "enabled"
    );
    assert!(ct
        .sh("/usr/local/sbin/pvelxc-agent version")
        .contains(env!("CARGO_PKG_VERSION")));
    assert_eq!(ws.plan_exit_code().code, 0, "plan after apply on Ubuntu");
}

fn stopped_container_is_a_clear_error(cli: &TerraformCli) {
    use_agent_binary();
    let ws = ContainerWorkspace::new(cli, 616..=617);
    let ct = PctContainer::create(&ws.host, 616, false, &[]);
    ws.host.ok(&["pct", "stop", &ct.vmid.to_string()]);
    ws.write(&config(&ct.id(), false));
    ws.init();
    let run = ws.tf(&["apply", "-auto-approve"]);
    assert_ne!(run.code, 0);
    let text = run.all();
    assert!(
        text.contains(&format!("container {} is not running", ct.id())),
        "{text}"
    );
    assert!(text.contains("pct start"), "{text}");
}

#[test]
#[ignore = "needs pve-testhost and terraform; run scripts/test.sh"]
fn container_config_converges_shows_drift_and_repairs() {
    let _ = NEEDS;
    converge_drift_repair(&terraform::terraform_1_15().expect("terraform 1.15"));
}

#[test]
#[ignore = "needs pve-testhost and terraform; run scripts/test.sh"]
fn container_config_in_an_unprivileged_container() {
    unprivileged_device_gid(&terraform::terraform_1_15().expect("terraform 1.15"));
}

#[test]
#[ignore = "needs pve-testhost and terraform; run scripts/test.sh"]
fn container_config_on_an_ubuntu_template() {
    ubuntu_container(&terraform::terraform_1_15().expect("terraform 1.15"));
}

#[test]
#[ignore = "needs pve-testhost and terraform; run scripts/test.sh"]
fn container_config_needs_a_running_container() {
    let cli = terraform::terraform_1_11()
        .unwrap_or_else(|| terraform::terraform_1_15().expect("a terraform"));
    stopped_container_is_a_clear_error(&cli);
}
