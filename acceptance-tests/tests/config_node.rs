//! `pvelxc_node_config` driven by real Terraform against the pve-testhost node. The node's
//! users and groups are not touched: the agent runs with `root` set to a scratch directory
//! seeded with copies of the node's account files, which is what `--root` is for.

use pvelxc_acceptance::agent_fixture::use_agent_binary;
use pvelxc_acceptance::terraform::{self, TerraformCli};
use pvelxc_acceptance::testhost::ContainerWorkspace;

const CONFIG: &str = r#"
resource "pvelxc_node_config" "host" {
  root = "ROOT"

  media_user {
    uid = 1990
    gid = 1990
  }
  storage {
    path            = "/mnt/storage"
    owner           = "media"
    group           = "media"
    mode            = "2775"
    recursive_owner = true
  }
  mergerfs {}
  subid {
    start = 1990
  }
}
"#;

fn node_config(cli: &TerraformCli) {
    use_agent_binary();
    let ws = ContainerWorkspace::without_vmids(cli);
    let root = format!(
        "/tmp/pvelxc-node-config-{}-{}",
        cli.label,
        std::process::id()
    );
    let seed = format!(
        "set -e; rm -rf {root}; mkdir -p {root}/etc {root}/mnt/storage/staging; \
         cp -a /etc/passwd /etc/group /etc/shadow /etc/gshadow {root}/etc/; \
         printf '# fstab\\n' > {root}/etc/fstab; : > {root}/etc/subuid; : > {root}/etc/subgid"
    );
    let run = ws.host.run_line(&seed);
    assert_eq!(run.code, 0, "seed scratch root: {}", run.all());
    ws.write(&CONFIG.replace("ROOT", &root));
    ws.init();
    ws.apply();

    let read = |path: &str| ws.host.ok(&["cat", &format!("{root}{path}")]);
    assert!(read("/etc/fstab").lines().any(|l| l
        == "/mnt/disk* /mnt/storage fuse.mergerfs defaults,allow_other,use_ino,cache.files=off,category.create=mfs 0 0"));
    assert!(read("/etc/subuid").lines().any(|l| l == "root:1990:1"));
    assert!(read("/etc/subgid").lines().any(|l| l == "root:1990:1"));
    assert!(read("/etc/passwd")
        .lines()
        .any(|l| l.starts_with("media:x:1990:1990:")));
    let stat = ws.host.ok(&[
        "stat",
        "-c",
        "%u:%g %a",
        &format!("{root}/mnt/storage"),
        &format!("{root}/mnt/storage/staging"),
    ]);
    let lines: Vec<&str> = stat.lines().collect();
    assert_eq!(lines, ["1990:1990 2775", "1990:1990 755"], "{stat}");
    // The node's own accounts are untouched.
    assert!(!ws
        .host
        .ok(&["cat", "/etc/passwd"])
        .lines()
        .any(|l| l.starts_with("media:x:1990:")));

    let second = ws.apply();
    assert!(
        second.stdout.contains("0 added, 0 changed, 0 destroyed"),
        "{}",
        second.all()
    );
    assert_eq!(ws.plan_exit_code().code, 0);

    // Drift on the host: group write taken away by hand shows as a diff of storage.mode
    // (chmod keeps a directory's setgid bit).
    ws.host
        .ok(&["chmod", "g-w", &format!("{root}/mnt/storage")]);
    let json = ws.plan_json();
    let change = pvelxc_acceptance::testhost::change_of(&json, "pvelxc_node_config.host");
    assert_eq!(change["before"]["storage"][0]["mode"], "2755", "{change:#}");
    assert_eq!(change["after"]["storage"][0]["mode"], "2775");
    ws.apply();
    assert_eq!(ws.plan_exit_code().code, 0);
    ws.tf_ok(&["destroy", "-auto-approve"]);
    let _ = ws.host.run(&["rm", "-rf", &root]);
}

#[test]
#[ignore = "needs pve-testhost and terraform; run scripts/test.sh"]
fn node_config_is_idempotent_and_shows_drift() {
    node_config(&terraform::terraform_1_15().expect("terraform 1.15"));
}
