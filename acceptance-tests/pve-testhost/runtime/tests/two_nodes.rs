//! Two nodes in one cluster view: the second node mounts the first node's `/etc/pve`
//! and joins its bridge (DHCP and NAT stay with the first). CT ids are unique across the
//! cluster, each node lists only its own CTs, and taking the second node down leaves
//! the first one running.

use std::process::{Command, Output};
use std::thread::sleep;
use std::time::{Duration, Instant};

use pve_testhost_runtime::node::{self, ssh::ssh_args, NodeConfig, NodeInfo};

const VMID: u32 = 9501;
const TEMPLATE: &str = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst";

fn node_config(suffix: &str, ip_last: u8, port: u16) -> NodeConfig {
    let mut config = NodeConfig::from_env();
    config.name = format!("pve{suffix}");
    config.state_dir = format!("/run/pve-testhost-cluster-{suffix}").into();
    config.data_dir = format!("/var/lib/pve-testhost-cluster-{suffix}").into();
    config.bridge = "vmbr95".into();
    config.bridge_ip = format!("10.123.95.{ip_last}").parse().unwrap();
    config.ssh_port = port;
    config.pct_binary = env!("CARGO_BIN_EXE_pct").into();
    config
}

fn ssh(info: &NodeInfo, remote: &str) -> Output {
    let mut args = ssh_args(&info.ssh);
    args.push(remote.to_string());
    Command::new("ssh").args(&args).output().expect("ssh runs")
}

fn ok(info: &NodeInfo, remote: &str) -> String {
    let out = ssh(info, remote);
    assert!(
        out.status.success(),
        "{} '{remote}': {}",
        info.node,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
#[ignore = "needs root + LXC; run scripts/test.sh"]
fn second_node_joins_the_cluster_view_and_leaves_cleanly() {
    let a = node_config("a", 1, 8095);
    let mut b = node_config("b", 2, 8096);
    b.cluster_dir = Some(a.data_dir.join("pve"));
    b.shared_network = true;
    node::down(&b).unwrap();
    node::down(&a).unwrap();

    let refused = node::up(&b).unwrap_err();
    assert!(
        refused.to_string().contains("bridge vmbr95 does not exist"),
        "{refused}"
    );
    node::down(&b).unwrap();

    let info_a = node::up(&a).unwrap();
    let info_b = node::up(&b).unwrap();
    let result = std::panic::catch_unwind(|| {
        ok(&info_b, &format!(
            "pct create {VMID} {TEMPLATE} --hostname onb --rootfs local:1 --net0 name=eth0,bridge=vmbr95,ip=dhcp && pct start {VMID}"
        ));
        // The first node's dnsmasq hands out the address on the shared bridge.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let addr = ok(
                &info_b,
                &format!("pct exec {VMID} -- ip -4 -o addr show dev eth0"),
            );
            if addr.contains("inet 10.123.95.") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no DHCP lease on the shared bridge: {addr}"
            );
            sleep(Duration::from_millis(500));
        }
        assert_eq!(ok(&info_a, "ls /etc/pve/nodes"), "pvea\npveb\n");
        assert!(
            ok(&info_a, &format!("cat /etc/pve/nodes/pveb/lxc/{VMID}.conf"))
                .contains("hostname: onb\n")
        );
        let clash = ssh(
            &info_a,
            &format!("pct create {VMID} {TEMPLATE} --rootfs local:1"),
        );
        assert!(!clash.status.success());
        assert!(
            String::from_utf8_lossy(&clash.stderr)
                .contains(&format!("CT {VMID} already exists on node 'pveb'")),
            "{}",
            String::from_utf8_lossy(&clash.stderr)
        );
        assert_eq!(
            ok(&info_a, "pct list").lines().count(),
            1,
            "node a lists only its own CTs"
        );
        assert_eq!(ok(&info_b, "pct list").lines().count(), 2);
    });
    let down_b = node::down(&b);
    let a_after = node::status(&a);
    let down_a = node::down(&a);
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
    down_b.unwrap();
    assert!(
        a_after.up,
        "first node broken by second node's down: {:?}",
        a_after.problems
    );
    down_a.unwrap();
    for dir in [&a.state_dir, &a.data_dir, &b.state_dir, &b.data_dir] {
        assert!(!dir.exists(), "{} left behind", dir.display());
    }
    assert!(!Command::new("ip")
        .args(["link", "show", "dev", "vmbr95"])
        .output()
        .unwrap()
        .status
        .success());
}
