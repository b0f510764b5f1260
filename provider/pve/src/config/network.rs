//! `netN` property strings (`pve-lxc-network`).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::propstring::{PropError, PropMap, PropWriter};

const NET_KEYS: &[&str] = &[
    "name",
    "bridge",
    "firewall",
    "gw",
    "gw6",
    "host-managed",
    "hwaddr",
    "ip",
    "ip6",
    "link_down",
    "mtu",
    "rate",
    "tag",
    "trunks",
    "type",
];

/// A parsed `netN` value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NetworkInterface {
    /// Interface name inside the container (`eth0`).
    pub name: String,
    pub bridge: Option<String>,
    pub firewall: Option<bool>,
    pub gw: Option<String>,
    pub gw6: Option<String>,
    pub host_managed: Option<bool>,
    /// MAC address; PVE generates one when absent.
    pub hwaddr: Option<String>,
    /// `dhcp`, `manual` or an IPv4 CIDR.
    pub ip: Option<String>,
    /// `auto`, `dhcp`, `manual` or an IPv6 CIDR.
    pub ip6: Option<String>,
    pub link_down: Option<bool>,
    pub mtu: Option<u32>,
    /// Rate limit in MB/s.
    pub rate: Option<f64>,
    /// VLAN tag.
    pub tag: Option<u32>,
    /// VLAN trunks (`10;20`).
    pub trunks: Option<String>,
    /// Always `veth`; PVE adds it.
    pub kind: Option<String>,
}

impl NetworkInterface {
    /// Parses a `netN` value; `option` is the key for messages.
    pub fn parse(option: &str, value: &str) -> Result<Self, PropError> {
        let mut p = PropMap::parse(option, value, NET_KEYS, None)?;
        let n = Self {
            name: p.take_required("name")?,
            bridge: p.take("bridge"),
            firewall: p.take_bool("firewall")?,
            gw: p.take("gw"),
            gw6: p.take("gw6"),
            host_managed: p.take_bool("host-managed")?,
            hwaddr: p.take("hwaddr"),
            ip: p.take("ip"),
            ip6: p.take("ip6"),
            link_down: p.take_bool("link_down")?,
            mtu: take_u32(&mut p, "mtu")?,
            rate: p.take_f64("rate")?,
            tag: take_u32(&mut p, "tag")?,
            trunks: p.take("trunks"),
            kind: p.take("type"),
        };
        n.validate(option)?;
        Ok(n)
    }

    /// Checks the sub-options PVE validates by format (addresses, ranges, names).
    pub fn validate(&self, option: &str) -> Result<(), PropError> {
        let bad = |key: &str, value: &str, expected: &str| PropError::InvalidValue {
            option: option.to_string(),
            key: key.to_string(),
            reason: format!("expected {expected}, got '{value}'"),
        };
        let name_ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        if !name_ok(&self.name) {
            return Err(bad("name", &self.name, "an interface name like eth0"));
        }
        if let Some(b) = &self.bridge {
            if !name_ok(b) {
                return Err(bad("bridge", b, "a bridge name like vmbr0"));
            }
        }
        if let Some(ip) = &self.ip {
            if !matches!(ip.as_str(), "dhcp" | "manual") && parse_cidr_v4(ip).is_none() {
                return Err(bad(
                    "ip",
                    ip,
                    "dhcp, manual or an IPv4 address in CIDR form like 10.0.0.5/24",
                ));
            }
        }
        if let Some(ip6) = &self.ip6 {
            if !matches!(ip6.as_str(), "dhcp" | "manual" | "auto") && parse_cidr_v6(ip6).is_none() {
                return Err(bad(
                    "ip6",
                    ip6,
                    "auto, dhcp, manual or an IPv6 address in CIDR form",
                ));
            }
        }
        if let Some(gw) = &self.gw {
            if gw.parse::<Ipv4Addr>().is_err() {
                return Err(bad("gw", gw, "an IPv4 address"));
            }
        }
        if let Some(gw6) = &self.gw6 {
            if gw6.parse::<Ipv6Addr>().is_err() {
                return Err(bad("gw6", gw6, "an IPv6 address"));
            }
        }
        if let Some(mac) = &self.hwaddr {
            if !is_unicast_mac(mac) {
                return Err(bad(
                    "hwaddr",
                    mac,
                    "a unicast MAC address XX:XX:XX:XX:XX:XX",
                ));
            }
        }
        if let Some(mtu) = self.mtu {
            if !(64..=65535).contains(&mtu) {
                return Err(bad("mtu", &mtu.to_string(), "a value from 64 to 65535"));
            }
        }
        if let Some(tag) = self.tag {
            if !(1..=4094).contains(&tag) {
                return Err(bad("tag", &tag.to_string(), "a VLAN id from 1 to 4094"));
            }
        }
        if let Some(t) = &self.trunks {
            if t.split(';')
                .any(|v| v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()))
            {
                return Err(bad("trunks", t, "VLAN ids separated by ';'"));
            }
        }
        if let Some(k) = &self.kind {
            if k != "veth" {
                return Err(bad("type", k, "veth"));
            }
        }
        Ok(())
    }

    /// Renders as PVE prints it (`print_lxc_network`: the required `name` first, then the
    /// other keys sorted).
    pub fn render(&self, option: &str) -> Result<String, PropError> {
        self.validate(option)?;
        PropWriter::new(None)
            .required("name", Some(&self.name))
            .str("bridge", self.bridge.as_deref())
            .bool("firewall", self.firewall)
            .str("gw", self.gw.as_deref())
            .str("gw6", self.gw6.as_deref())
            .bool("host-managed", self.host_managed)
            .str("hwaddr", self.hwaddr.as_deref())
            .str("ip", self.ip.as_deref())
            .str("ip6", self.ip6.as_deref())
            .bool("link_down", self.link_down)
            .num("mtu", self.mtu)
            .num("rate", self.rate)
            .num("tag", self.tag)
            .str("trunks", self.trunks.as_deref())
            .str("type", self.kind.as_deref())
            .render(option)
    }

    /// Defaults and PVE's additions folded away for comparison: `type=veth`, `firewall=0`,
    /// `link_down=0`, `host-managed=0`; MAC case and address spelling (`::1` vs `0:0::1`)
    /// do not matter. `hwaddr` is kept: callers that do not pin a MAC should clear it on both
    /// sides before comparing.
    pub fn normalized(&self) -> Self {
        let mut n = self.clone();
        n.kind = None;
        n.firewall = n.firewall.filter(|b| *b);
        n.link_down = n.link_down.filter(|b| *b);
        n.host_managed = n.host_managed.filter(|b| *b);
        n.hwaddr = n.hwaddr.map(|m| m.to_ascii_uppercase());
        n.ip6 = n.ip6.map(|v| match parse_cidr_v6(&v) {
            Some((a, p)) => format!("{a}/{p}"),
            None => v,
        });
        n.gw6 = n
            .gw6
            .map(|v| v.parse::<Ipv6Addr>().map(|a| a.to_string()).unwrap_or(v));
        n
    }
}

fn take_u32(p: &mut PropMap, key: &str) -> Result<Option<u32>, PropError> {
    match p.take_u64(key)? {
        None => Ok(None),
        Some(v) => u32::try_from(v)
            .map(Some)
            .map_err(|_| p.invalid(key, &v.to_string(), "a smaller number")),
    }
}

/// Parses `a.b.c.d/nn`.
pub fn parse_cidr_v4(s: &str) -> Option<(Ipv4Addr, u8)> {
    let (a, p) = s.split_once('/')?;
    let prefix: u8 = p.parse().ok().filter(|p| *p <= 32)?;
    Some((a.parse().ok()?, prefix))
}

/// Parses `v6addr/nn`.
pub fn parse_cidr_v6(s: &str) -> Option<(Ipv6Addr, u8)> {
    let (a, p) = s.split_once('/')?;
    let prefix: u8 = p.parse().ok().filter(|p| *p <= 128)?;
    Some((a.parse().ok()?, prefix))
}

/// `XX:XX:XX:XX:XX:XX` with the I/G (multicast) bit clear, as PVE's `mac-addr` format demands.
pub fn is_unicast_mac(mac: &str) -> bool {
    let parts: Vec<&str> = mac.split(':').collect();
    if parts.len() != 6
        || parts
            .iter()
            .any(|p| p.len() != 2 || u8::from_str_radix(p, 16).is_err())
    {
        return false;
    }
    u8::from_str_radix(parts[0], 16).is_ok_and(|b| b & 1 == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_values_round_trip() {
        for v in [
            "name=eth0,bridge=vmbr0,hwaddr=66:64:66:64:64:36,ip=dhcp,type=veth",
            "name=eth0,bridge=vmbr0,firewall=0,hwaddr=BC:24:11:2A:3B:4C,ip=dhcp,type=veth",
            "name=eth0,bridge=vmbr3,firewall=1,gw=172.16.10.1,hwaddr=BC:24:11:00:00:56,ip=172.16.10.56/24,type=veth",
            "name=eth1,bridge=vmbr0,ip6=auto,mtu=1500,rate=12.5,tag=20,trunks=10;20",
        ] {
            assert_eq!(NetworkInterface::parse("net0", v).unwrap().render("net0").unwrap(), v);
        }
    }

    #[test]
    fn pve_additions_are_not_differences() {
        let user =
            NetworkInterface::parse("net0", "name=eth0,bridge=vmbr0,ip=dhcp,firewall=0").unwrap();
        let mut pve = NetworkInterface::parse(
            "net0",
            "bridge=vmbr0,firewall=0,hwaddr=bc:24:11:2a:3b:4c,ip=dhcp,name=eth0,type=veth",
        )
        .unwrap()
        .normalized();
        pve.hwaddr = None;
        assert_eq!(user.normalized(), pve);
    }

    #[test]
    fn validation_names_the_sub_option() {
        for (v, key) in [
            ("name=eth0,ip=10.0.0.5", "ip"),
            ("name=eth0,ip=300.0.0.1/24", "ip"),
            ("name=eth0,gw=fe80::1", "gw"),
            ("name=eth0,hwaddr=01:00:00:00:00:01", "hwaddr"),
            ("name=eth0,mtu=10", "mtu"),
            ("name=eth0,tag=4095", "tag"),
            ("name=eth 0", "name"),
            ("name=eth0,type=macvlan", "type"),
        ] {
            let e = NetworkInterface::parse("net1", v).unwrap_err();
            assert!(
                e.to_string()
                    .starts_with(&format!("net1: invalid value for '{key}'")),
                "{v}: {e}"
            );
        }
        assert!(NetworkInterface::parse("net0", "bridge=vmbr0").is_err());
    }
}
