//! The node's network: bridge `vmbr0` with the node's address, dnsmasq for DHCP and DNS
//! on it, and NAT (nftables masquerade + IPv4 forwarding) so containers reach Debian's
//! mirror. Everything is created on `up` and removed on `down`.

use std::fs;
use std::path::PathBuf;

use super::{namespace, NodeConfig, NodeError};
use crate::cmd;

/// nftables table owned by the node using `bridge`.
pub fn nft_table(config: &NodeConfig) -> String {
    format!("pve_testhost_{}", config.bridge)
}

fn prefix(config: &NodeConfig) -> String {
    let octets = config.bridge_ip.octets();
    format!(
        "{}.{}.{}.0/{}",
        octets[0], octets[1], octets[2], config.bridge_prefix
    )
}

/// Creates the bridge and NAT (idempotent).
pub fn up(config: &NodeConfig) -> Result<(), NodeError> {
    let bridge = config.bridge.as_str();
    if !cmd::run_quiet("ip", &["link", "show", "dev", bridge]) {
        cmd::run_text("ip", &["link", "add", "name", bridge, "type", "bridge"])?;
    }
    let addr = format!("{}/{}", config.bridge_ip, config.bridge_prefix);
    let shown = cmd::run_text("ip", &["-o", "addr", "show", "dev", bridge])?;
    if !shown.contains(&format!(" {addr} ")) {
        cmd::run_text("ip", &["addr", "add", &addr, "dev", bridge])?;
    }
    cmd::run_text("ip", &["link", "set", "dev", bridge, "up"])?;

    let forward = PathBuf::from("/proc/sys/net/ipv4/ip_forward");
    let saved = config.state_dir.join("ip_forward.orig");
    if !saved.exists() {
        let old = fs::read_to_string(&forward).map_err(|e| NodeError::io(&forward, e))?;
        fs::write(&saved, old.trim()).map_err(|e| NodeError::io(&saved, e))?;
    }
    fs::write(&forward, "1").map_err(|e| NodeError::io(&forward, e))?;

    let table = nft_table(config);
    let rules = format!(
        "table ip {table} {{\n\
         \tchain postrouting {{\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n\
         \t\tip saddr {net} oifname != \"{bridge}\" masquerade\n\t}}\n\
         \tchain forward {{\n\t\ttype filter hook forward priority filter; policy accept;\n\
         \t\tiifname \"{bridge}\" accept\n\
         \t\toifname \"{bridge}\" ct state established,related accept\n\t}}\n}}\n",
        net = prefix(config)
    );
    let file = config.state_dir.join("nat.nft");
    fs::write(&file, rules).map_err(|e| NodeError::io(&file, e))?;
    cmd::run_quiet("nft", &["delete", "table", "ip", &nft_table(config)]);
    cmd::run_text("nft", &["-f", &file.to_string_lossy()])?;
    Ok(())
}

/// Starts dnsmasq inside the node namespace (idempotent).
pub fn dnsmasq(config: &NodeConfig) -> Result<(), NodeError> {
    let pid_file = config.state_dir.join("dnsmasq.pid");
    if super::pid_alive(&pid_file) {
        return Ok(());
    }
    // dnsmasq drops privileges before reading a resolv file in the private state
    // directory, so the machine's upstream servers are passed on the command line.
    let host_resolv = fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let upstream: Vec<String> = host_resolv
        .lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .map(|s| format!("--server={}", s.trim()))
        .collect();
    let o = config.bridge_ip.octets();
    let range = format!("{0}.{1}.{2}.100,{0}.{1}.{2}.199,12h", o[0], o[1], o[2]);
    let ip = config.bridge_ip.to_string();
    let state = |name: &str| config.state_dir.join(name).to_string_lossy().into_owned();
    cmd::run(namespace::command(config, "dnsmasq").args(upstream).args([
        "--conf-file=/dev/null".to_string(),
        format!("--interface={}", config.bridge),
        "--bind-interfaces".to_string(),
        "--except-interface=lo".to_string(),
        format!("--listen-address={ip}"),
        format!("--dhcp-range={range}"),
        format!("--dhcp-option=option:router,{ip}"),
        format!("--dhcp-option=option:dns-server,{ip}"),
        "--no-resolv".to_string(),
        format!("--pid-file={}", state("dnsmasq.pid")),
        format!("--dhcp-leasefile={}", state("dnsmasq.leases")),
        format!("--log-facility={}", state("dnsmasq.log")),
        "--log-dhcp".to_string(),
    ]))?;
    Ok(())
}

/// Joins the bridge of a node that is already up: adds this node's address only.
pub fn join(config: &NodeConfig) -> Result<(), NodeError> {
    let bridge = config.bridge.as_str();
    if !cmd::run_quiet("ip", &["link", "show", "dev", bridge]) {
        return Err(NodeError::NoSharedBridge(bridge.to_string()));
    }
    let addr = format!("{}/{}", config.bridge_ip, config.bridge_prefix);
    let shown = cmd::run_text("ip", &["-o", "addr", "show", "dev", bridge])?;
    if !shown.contains(&format!(" {addr} ")) {
        cmd::run_text("ip", &["addr", "add", &addr, "dev", bridge])?;
    }
    Ok(())
}

/// Removes what [`join`] added.
pub fn leave(config: &NodeConfig) {
    let addr = format!("{}/{}", config.bridge_ip, config.bridge_prefix);
    cmd::run_quiet("ip", &["addr", "del", &addr, "dev", &config.bridge]);
}

/// Removes NAT, the bridge and restores IPv4 forwarding.
pub fn down(config: &NodeConfig) {
    cmd::run_quiet("nft", &["delete", "table", "ip", &nft_table(config)]);
    if cmd::run_quiet("ip", &["link", "show", "dev", &config.bridge]) {
        cmd::run_quiet("ip", &["link", "del", "dev", &config.bridge]);
    }
    let saved = config.state_dir.join("ip_forward.orig");
    if let Ok(old) = fs::read_to_string(&saved) {
        let _ = fs::write("/proc/sys/net/ipv4/ip_forward", old.trim());
    }
}
