//! Container create-to-running time on a pve-testhost node: `pct create` + `pct start`
//! over real SSH until LXC reports RUNNING, for privileged and unprivileged CTs.
//!
//! Run as root: `cargo bench -p pve-testhost-runtime --bench create_to_running`
//! (`PVE_TESTHOST_BENCH_RUNS`, default 5). Brings its own node up and down.

use std::process::Command;
use std::time::{Duration, Instant};

use pve_testhost_runtime::node::{self, ssh::ssh_args, NodeConfig, NodeInfo};

const TEMPLATE: &str = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst";

fn ssh(info: &NodeInfo, remote: &str) {
    let mut args = ssh_args(&info.ssh);
    args.push(remote.to_string());
    let out = Command::new("ssh").args(&args).output().expect("ssh runs");
    assert!(
        out.status.success(),
        "{remote}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn summary(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let secs = |d: &Duration| d.as_secs_f64();
    println!(
        "{label:<34} n={} min {:.2}s  median {:.2}s  max {:.2}s",
        samples.len(),
        secs(&samples[0]),
        secs(&samples[samples.len() / 2]),
        secs(&samples[samples.len() - 1])
    );
}

fn main() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("create_to_running: needs root (namespaces, bridge, LXC); skipped");
        return;
    }
    let runs: u32 = std::env::var("PVE_TESTHOST_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let mut config = NodeConfig::from_env();
    config.name = "pvebench".into();
    config.state_dir = "/run/pve-testhost-bench".into();
    config.data_dir = "/var/lib/pve-testhost-bench".into();
    config.bridge = "vmbr94".into();
    config.bridge_ip = "10.123.94.1".parse().expect("valid address");
    config.ssh_port = 8094;
    config.pct_binary = env!("CARGO_BIN_EXE_pct").into();
    node::down(&config).expect("clean start");
    let info = node::up(&config).expect("node up");

    // [privileged, unprivileged] x [create, start, total]
    let mut samples: [[Vec<Duration>; 3]; 2] = Default::default();
    for run in 0..runs {
        for unpriv in [false, true] {
            let vmid = 9400 + run * 2 + u32::from(unpriv);
            let started = Instant::now();
            ssh(
                &info,
                &format!(
                    "pct create {vmid} {TEMPLATE} --rootfs local:1 --unprivileged {} \
                     --net0 name=eth0,bridge={},ip=dhcp",
                    u8::from(unpriv),
                    config.bridge
                ),
            );
            let created = started.elapsed();
            ssh(&info, &format!("pct start {vmid}"));
            let total = started.elapsed();
            let kind = &mut samples[usize::from(unpriv)];
            kind[0].push(created);
            kind[1].push(total - created);
            kind[2].push(total);
            ssh(&info, &format!("pct stop {vmid} && pct destroy {vmid}"));
        }
    }
    node::down(&config).expect("node down");
    for (kind, [create, start, total]) in ["privileged", "unprivileged"].iter().zip(samples) {
        summary(&format!("{kind}: pct create"), create);
        summary(&format!("{kind}: pct start"), start);
        summary(&format!("{kind}: create-to-running"), total);
    }
}
