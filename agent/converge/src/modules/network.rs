//! Interface configuration that survives a reboot: an ifupdown stanza
//! (`auto eth0` / `iface eth0 inet dhcp`) or a systemd-networkd `.network` file.

use super::{plan_content, Module, Wanted};
use crate::ctx::Ctx;
use crate::error::ItemError;
use crate::plan::Plan;
use pvelxc_spec::{AddressMethod, NetworkBackend, NetworkInterfaceItem};
use std::path::{Path, PathBuf};

const INTERFACES: &str = "/etc/network/interfaces";
const STANZA_WORDS: [&str; 6] = [
    "iface",
    "auto",
    "mapping",
    "source",
    "source-directory",
    "rename",
];

fn is_stanza_start(line: &str) -> bool {
    let first = line.split_whitespace().next().unwrap_or("");
    STANZA_WORDS.contains(&first) || first.starts_with("allow-")
}

/// The desired ifupdown lines for the interface.
fn stanza(item: &NetworkInterfaceItem) -> Vec<String> {
    let n = &item.name;
    let mut out = vec![format!("auto {n}")];
    match &item.method {
        AddressMethod::Dhcp => out.push(format!("iface {n} inet dhcp")),
        AddressMethod::Static { address, gateway } => {
            out.push(format!("iface {n} inet static"));
            out.push(format!("\taddress {address}"));
            if let Some(g) = gateway {
                out.push(format!("\tgateway {g}"));
            }
        }
    }
    out
}

/// Rewrites `text` so the interface has exactly the desired `auto` line and
/// `inet` stanza; returns `text` unchanged when it already does.
pub(crate) fn edit_interfaces(text: &str, item: &NetworkInterfaceItem) -> String {
    let name = item.name.as_str();
    let want = stanza(item);
    let lines: Vec<&str> = text.lines().collect();
    let mut kept: Vec<String> = Vec::new();
    let mut auto_seen = false;
    let mut current_stanza: Vec<String> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let words: Vec<&str> = line.split_whitespace().collect();
        if matches!(
            words.first(),
            Some(&"auto") | Some(&"allow-auto") | Some(&"allow-hotplug")
        ) && words[1..].contains(&name)
        {
            auto_seen |= words[0] == "auto";
            let rest: Vec<&str> = words[1..].iter().copied().filter(|w| *w != name).collect();
            if !rest.is_empty() {
                kept.push(format!("{} {}", words[0], rest.join(" ")));
            }
            i += 1;
            continue;
        }
        if words.len() >= 3 && words[0] == "iface" && words[1] == name && words[2] == "inet" {
            current_stanza.push(words.join(" "));
            i += 1;
            while i < lines.len() && !is_stanza_start(lines[i]) {
                let t = lines[i].trim();
                if !t.is_empty() && !t.starts_with('#') {
                    current_stanza.push(format!(
                        "\t{}",
                        t.split_whitespace().collect::<Vec<_>>().join(" ")
                    ));
                }
                i += 1;
            }
            continue;
        }
        kept.push(line.to_string());
        i += 1;
    }
    let mut have = Vec::new();
    if auto_seen {
        have.push(format!("auto {name}"));
    }
    have.extend(current_stanza);
    if have == want {
        return text.to_string();
    }
    while kept.last().is_some_and(|l| l.trim().is_empty()) {
        kept.pop();
    }
    if !kept.is_empty() {
        kept.push(String::new());
    }
    kept.extend(want);
    let mut out = kept.join("\n");
    out.push('\n');
    out
}

fn networkd(item: &NetworkInterfaceItem) -> (PathBuf, String) {
    let mut text = format!(
        "# Managed by pvelxc-agent.\n[Match]\nName={}\n\n[Network]\n",
        item.name
    );
    match &item.method {
        AddressMethod::Dhcp => text.push_str("DHCP=ipv4\n"),
        AddressMethod::Static { address, gateway } => {
            text.push_str(&format!("Address={address}\n"));
            if let Some(g) = gateway {
                text.push_str(&format!("Gateway={g}\n"));
            }
        }
    }
    (
        PathBuf::from(format!(
            "/etc/systemd/network/10-pvelxc-{}.network",
            item.name
        )),
        text,
    )
}

impl Module for NetworkInterfaceItem {
    fn plan(&self, ctx: &Ctx<'_>) -> Result<Plan, ItemError> {
        let mut plan = Plan::default();
        let interfaces = Path::new(INTERFACES);
        let backend = match self.backend {
            NetworkBackend::Auto => {
                if ctx
                    .view
                    .meta(interfaces)
                    .map_err(|e| ItemError::io("cannot stat", interfaces, e))?
                    .is_some()
                {
                    NetworkBackend::Ifupdown
                } else {
                    NetworkBackend::Networkd
                }
            }
            b => b,
        };
        match backend {
            NetworkBackend::Networkd => {
                let (path, text) = networkd(self);
                plan_content(ctx, &path, text.as_bytes(), Wanted::default(), &mut plan)?;
            }
            _ => {
                let current = ctx
                    .view
                    .read(interfaces)
                    .map_err(|e| ItemError::io("cannot read", interfaces, e))?;
                let text = String::from_utf8(current.unwrap_or_default())
                    .map_err(|_| ItemError::Failed(format!("{INTERFACES} is not UTF-8 text")))?;
                let new = edit_interfaces(&text, self);
                plan_content(
                    ctx,
                    interfaces,
                    new.as_bytes(),
                    Wanted::default(),
                    &mut plan,
                )?;
            }
        }
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::edit_interfaces;
    use pvelxc_spec::{AddressMethod, NetworkBackend, NetworkInterfaceItem};

    fn dhcp() -> NetworkInterfaceItem {
        NetworkInterfaceItem {
            name: "eth0".into(),
            method: AddressMethod::Dhcp,
            backend: NetworkBackend::Ifupdown,
        }
    }

    #[test]
    fn adds_and_keeps_dhcp_stanza() {
        let base = "auto lo\niface lo inet loopback\n";
        let once = edit_interfaces(base, &dhcp());
        assert_eq!(
            once,
            "auto lo\niface lo inet loopback\n\nauto eth0\niface eth0 inet dhcp\n"
        );
        assert_eq!(edit_interfaces(&once, &dhcp()), once);
    }

    #[test]
    fn replaces_a_manual_stanza() {
        let base = "auto lo\niface lo inet loopback\n\nauto eth0\niface eth0 inet manual\n\tmtu 1500\n\niface eth0 inet6 auto\n";
        let out = edit_interfaces(base, &dhcp());
        assert!(out.contains("iface eth0 inet dhcp\n"), "{out}");
        assert!(!out.contains("inet manual"), "{out}");
        assert!(out.contains("iface eth0 inet6 auto"), "{out}");
        assert_eq!(edit_interfaces(&out, &dhcp()), out);
    }
}
