//! The media user's UID/GID 1000 passed into an unprivileged container with one `idmap`
//! block: the conf gets the `lxc.idmap` triples, the node delegates 1000 to root in
//! `/etc/subuid` and `/etc/subgid`, and a file written as 1000 inside the container belongs
//! to 1000 on the node's side of the bind mount.
//!
//! vmids 510–519.

use pvelxc_acceptance::terraform;
use pvelxc_acceptance::testhost::ContainerWorkspace;

const VMID: u32 = 511;

fn config(template: &str, bridge: &str, share: &str) -> String {
    format!(
        r#"
resource "pvelxc_container" "media" {{
  vmid         = {VMID}
  hostname     = "media-idmap"
  template     = "{template}"
  unprivileged = true
  memory       = 512
  started      = true

  rootfs {{
    storage = "local"
    size    = "1G"
  }}
  network {{
    name   = "eth0"
    bridge = "{bridge}"
    ip     = "dhcp"
  }}
  features {{
    nesting = true
  }}
  mount_point {{
    slot   = 0
    volume = "{share}"
    path   = "/mnt/storage"
  }}
  idmap {{
    uids = [1000]
    gids = [1000]
  }}
}}
"#
    )
}

#[test]
#[ignore = "needs pve-testhost; run scripts/test.sh"]
fn unprivileged_container_shares_uid_1000_with_the_node() {
    let cli = terraform::terraform_1_15().unwrap_or_else(|e| panic!("{e}"));
    let ws = ContainerWorkspace::new(&cli, 510..=519);
    let share = format!("/mnt/storage/pvelxc-idmap-{VMID}");
    ws.host.ok(&["mkdir", "-p", &share]);
    ws.host.ok(&["chown", "1000:1000", &share]);
    ws.host.ok(&["rm", "-f", &format!("{share}/by-1000")]);
    ws.write(&config(ws.host.template(), &ws.host.bridge, &share));
    ws.init();
    ws.apply();

    let conf = ws.host.conf_lines(VMID);
    assert!(
        conf.iter().any(|l| l == "unprivileged: 1"),
        "{}",
        conf.join("\n")
    );
    let mut idmap: Vec<&str> = conf
        .iter()
        .filter(|l| l.starts_with("lxc.idmap"))
        .map(String::as_str)
        .collect();
    idmap.sort_unstable();
    let mut want = vec![
        "lxc.idmap: u 0 100000 1000",
        "lxc.idmap: u 1000 1000 1",
        "lxc.idmap: u 1001 101001 64535",
        "lxc.idmap: g 0 100000 1000",
        "lxc.idmap: g 1000 1000 1",
        "lxc.idmap: g 1001 101001 64535",
    ];
    want.sort_unstable();
    assert_eq!(idmap, want, "conf:\n{}", conf.join("\n"));

    for file in ["/etc/subuid", "/etc/subgid"] {
        let text = ws.host.ok(&["cat", file]);
        assert!(
            text.lines().any(|l| l.trim() == "root:1000:1"),
            "{file} on the node lacks root:1000:1:\n{text}"
        );
        assert!(
            text.lines().any(|l| l.trim() == "root:100000:65536"),
            "{file} lost the default range:\n{text}"
        );
    }

    let write = ws.host.exec_sh(
        VMID,
        "setpriv --reuid 1000 --regid 1000 --clear-groups touch /mnt/storage/by-1000 && stat -c '%u %g' /mnt/storage/by-1000",
    );
    assert_eq!(write.code, 0, "writing as 1000 in the CT: {}", write.all());
    assert_eq!(write.stdout.trim(), "1000 1000", "owner seen inside the CT");
    let owner = ws
        .host
        .ok(&["stat", "-c", "%u %g", &format!("{share}/by-1000")]);
    assert_eq!(owner.trim(), "1000 1000", "owner on the node's side");

    let plan = ws.plan_exit_code();
    assert_eq!(
        plan.code,
        0,
        "plan after apply must be empty:\n{}",
        plan.all()
    );
}
