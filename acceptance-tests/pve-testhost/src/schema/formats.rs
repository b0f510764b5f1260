//! Named formats (`format => 'pve-vmid'` etc.): the verification functions pve-common,
//! pve-storage, pve-cluster and pve-container register, with their error texts.

use std::net::{Ipv4Addr, Ipv6Addr};

use regex::Regex;

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|_| unreachable!("static pattern {pattern}"))
}

macro_rules! static_re {
    ($name:ident, $pattern:expr) => {
        fn $name() -> &'static Regex {
            static CELL: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
            CELL.get_or_init(|| re($pattern))
        }
    };
}

static_re!(configid_re, r"(?i)^[a-z][a-z0-9_]+$");
static_re!(storage_id_re, r"(?i)^[a-z][a-z0-9\-_.]*[a-z0-9]$");
static_re!(vmid_re, r"^[1-9][0-9]{2,8}$");
static_re!(node_re, r"^[a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?$");
static_re!(
    dns_re,
    r"^(([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?)\.)*([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?)$"
);
static_re!(mac_re, r"(?i)^([a-f0-9]{2}:){5}[a-f0-9]{2}$");
static_re!(volid_re, r"(?is)^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$");
static_re!(tag_re, r"(?i)^[a-z0-9_][a-z0-9_\-+.]*$");
static_re!(realm_re, r"^[A-Za-z][A-Za-z0-9.\-_]+$");
static_re!(pool_re, r"^[A-Za-z0-9_\-]+$");
static_re!(size_re, r"^(\d+(\.\d+)?)([KMGT])?$");
static_re!(startup_order_re, r"^(order=)?(\d+)$");
static_re!(startup_up_re, r"^up=(\d+)$");
static_re!(startup_down_re, r"^down=(\d+)$");

/// `PVE::Tools::split_list`: NUL-separated if it contains NUL, otherwise split on `,`, `;`
/// and whitespace.
pub fn split_list(text: &str) -> Vec<String> {
    if text.contains('\0') {
        return text.split('\0').map(str::to_string).collect();
    }
    text.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// `PVE::JSONSchema::parse_size`: bytes of `\d+(\.\d+)?[KMGT]?`.
pub fn parse_size(value: &str) -> Option<u64> {
    let caps = size_re().captures(value)?;
    let number: f64 = caps.get(1)?.as_str().parse().ok()?;
    let factor: f64 = match caps.get(3).map(|m| m.as_str()) {
        Some("K") => 1024.0,
        Some("M") => 1024.0 * 1024.0,
        Some("G") => 1024.0 * 1024.0 * 1024.0,
        Some("T") => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => 1.0,
    };
    Some((number * factor) as u64)
}

/// `PVE::JSONSchema::format_size`: the largest unit that divides the size evenly.
pub fn format_size(size: u64) -> String {
    let units = ["", "K", "M", "G", "T"];
    let mut value = size;
    let mut unit = 0;
    while unit < units.len() - 1 && value % 1024 == 0 && value > 0 {
        value /= 1024;
        unit += 1;
    }
    format!("{value}{}", units[unit])
}

fn ipv4(text: &str) -> bool {
    text.parse::<Ipv4Addr>().is_ok()
}

fn ipv6(text: &str) -> bool {
    text.parse::<Ipv6Addr>().is_ok()
}

fn cidr(text: &str, v6: bool) -> bool {
    let Some((addr, prefix)) = text.split_once('/') else {
        return false;
    };
    let Ok(prefix) = prefix.parse::<u32>() else {
        return false;
    };
    if !prefix
        .to_string()
        .eq(text.split_once('/').map(|(_, p)| p).unwrap_or_default())
    {
        return false;
    }
    if v6 {
        ipv6(addr) && prefix > 7 && prefix <= 128
    } else {
        ipv4(addr) && prefix > 7 && prefix <= 32
    }
}

fn startup_order(value: &str) -> bool {
    if value.is_empty() {
        return false;
    }
    value
        .split(',')
        .filter(|p| !p.trim().is_empty())
        .all(|part| {
            startup_order_re().is_match(part)
                || startup_up_re().is_match(part)
                || startup_down_re().is_match(part)
        })
}

/// Content types a PVE storage can hold.
const STORAGE_CONTENT: &[&str] = &[
    "images", "rootdir", "vztmpl", "iso", "backup", "snippets", "import",
];

/// Verifies one value of a simple named format; `Err` is PVE's `die` text.
fn verify(name: &str, value: &str) -> Result<(), String> {
    let fail = |msg: String| Err(msg);
    match name {
        "string" | "regex" | "pve-priv" => Ok(()),
        "pve-configid" => {
            if configid_re().is_match(value) {
                Ok(())
            } else {
                fail(format!("invalid configuration ID '{value}'\n"))
            }
        }
        "pve-storage-id" => {
            if storage_id_re().is_match(value) {
                Ok(())
            } else {
                fail(format!(
                    "storage ID '{value}' contains illegal characters\n"
                ))
            }
        }
        "pve-vmid" => {
            if vmid_re().is_match(value) {
                Ok(())
            } else {
                fail("value does not look like a valid VM ID\n".into())
            }
        }
        "pve-node" => {
            if node_re().is_match(value) {
                Ok(())
            } else {
                fail("value does not look like a valid node name\n".into())
            }
        }
        "ipv4" => {
            if ipv4(value) {
                Ok(())
            } else {
                fail("value does not look like a valid IPv4 address\n".into())
            }
        }
        "ipv6" => {
            if ipv6(value) {
                Ok(())
            } else {
                fail("value does not look like a valid IPv6 address\n".into())
            }
        }
        "pve-ipv4-config" => {
            if value == "dhcp" || value == "manual" || cidr(value, false) {
                Ok(())
            } else {
                fail("value does not look like a valid ipv4 network configuration\n".into())
            }
        }
        "pve-ipv6-config" => {
            if matches!(value, "auto" | "dhcp" | "manual") || cidr(value, true) {
                Ok(())
            } else {
                fail("value does not look like a valid ipv6 network configuration\n".into())
            }
        }
        "dns-name" => {
            if dns_re().is_match(value) {
                Ok(())
            } else {
                fail("value does not look like a valid DNS name\n".into())
            }
        }
        "lxc-ip-with-ll-iface" => {
            // A link-local IPv6 address may carry its interface: fe80::1%eth0.
            let ok = match value.split_once('%') {
                Some((addr, iface)) if addr.to_ascii_lowercase().starts_with("fe80:") => {
                    ipv6(addr) && !iface.is_empty()
                }
                _ => ipv4(value) || ipv6(value),
            };
            if ok {
                Ok(())
            } else {
                fail("value does not look like a valid IP address\n".into())
            }
        }
        "mac-addr" => {
            let unicast =
                u8::from_str_radix(value.get(..2).unwrap_or("01"), 16).is_ok_and(|b| b & 1 == 0);
            if mac_re().is_match(value) && unicast {
                Ok(())
            } else {
                fail("value does not look like a valid unicast MAC address\n".into())
            }
        }
        "disk-size" => {
            if parse_size(value).is_some() {
                Ok(())
            } else {
                fail(format!(
                    "value does not look like a valid disk size: {value}\n"
                ))
            }
        }
        "pve-volume-id" => {
            if volid_re().is_match(value) {
                Ok(())
            } else {
                fail(format!("unable to parse volume ID '{value}'\n"))
            }
        }
        "pve-tag" => {
            if tag_re().is_match(value) {
                Ok(())
            } else {
                fail(format!("invalid characters in tag '{value}'\n"))
            }
        }
        "pve-realm" => {
            if realm_re().is_match(value) {
                Ok(())
            } else {
                fail(format!(
                    "value '{value}' does not look like a valid realm\n"
                ))
            }
        }
        "pve-poolid" => {
            if pool_re().is_match(value) {
                Ok(())
            } else {
                fail(format!("invalid pool ID '{value}'\n"))
            }
        }
        "pve-storage-content" => {
            if STORAGE_CONTENT.contains(&value) {
                Ok(())
            } else {
                fail(format!("invalid content type '{value}'\n"))
            }
        }
        "pve-startup-order" => {
            if startup_order(value) {
                Ok(())
            } else {
                fail("unable to parse startup options\n".into())
            }
        }
        "pve-lxc-dev-string" => {
            let traversal = Regex::new(r"/\.\.?(/|$)").is_ok_and(|r| r.is_match(value));
            if traversal || !value.starts_with("/dev/") {
                fail(format!("{value} is not a valid device path\n"))
            } else {
                Ok(())
            }
        }
        "pve-lxc-mp-string" => {
            let bad = value.contains("/./")
                || value.contains("/../")
                || value.ends_with("/.")
                || value.ends_with("/..")
                || value.starts_with("../");
            if bad {
                fail(format!("{value} contains illegal character sequences\n"))
            } else {
                Ok(())
            }
        }
        "pve-ct-timezone" => verify_timezone(value),
        other => fail(format!("undefined format '{other}'\n")),
    }
}

fn verify_timezone(value: &str) -> Result<(), String> {
    if value == "host" {
        return Ok(());
    }
    // PVE checks against the zone list of the host's tzdata.
    let known = std::fs::read_to_string("/usr/share/zoneinfo/zone.tab")
        .map(|tab| {
            tab.lines()
                .filter(|l| !l.starts_with('#'))
                .filter_map(|l| l.split('\t').nth(2))
                .any(|zone| zone == value)
        })
        .unwrap_or(false);
    if known || value == "UTC" || value == "Etc/UTC" {
        Ok(())
    } else {
        Err(format!("invalid time zone '{value}'\n"))
    }
}

/// Every named format this module verifies (list and `-opt` variants derive from these).
pub const KNOWN_FORMATS: &[&str] = &[
    "string",
    "regex",
    "pve-priv",
    "pve-configid",
    "pve-storage-id",
    "pve-vmid",
    "pve-node",
    "ipv4",
    "ipv6",
    "pve-ipv4-config",
    "pve-ipv6-config",
    "dns-name",
    "lxc-ip-with-ll-iface",
    "mac-addr",
    "disk-size",
    "pve-volume-id",
    "pve-tag",
    "pve-realm",
    "pve-poolid",
    "pve-storage-content",
    "pve-startup-order",
    "pve-lxc-dev-string",
    "pve-lxc-mp-string",
    "pve-ct-timezone",
];

/// `check_format` for a named format: `NAME-list`/`NAME-alist` check each list element,
/// `NAME-opt` allows the empty string.
pub(crate) fn check_named_format(name: &str, value: &str, _path: &str) -> Result<(), String> {
    if let Some(base) = name
        .strip_suffix("-list")
        .or_else(|| name.strip_suffix("-alist"))
    {
        let base = if base == "pve-priv" { "pve-priv" } else { base };
        for item in split_list(value) {
            verify(base, &item)?;
        }
        return Ok(());
    }
    if let Some(base) = name.strip_suffix("-opt") {
        if value.is_empty() {
            return Ok(());
        }
        return verify(base, value);
    }
    verify(name, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_round_trip_like_pve() {
        assert_eq!(parse_size("8G"), Some(8 << 30));
        assert_eq!(parse_size("1.5G"), Some(1536 << 20));
        assert_eq!(parse_size("8g"), None);
        assert_eq!(format_size(8 << 30), "8G");
        assert_eq!(format_size(1536 << 20), "1536M");
        assert_eq!(format_size(1000), "1000");
    }

    #[test]
    fn list_formats_split_like_split_list() {
        assert_eq!(
            split_list("mp0, net1;dev2 swap"),
            ["mp0", "net1", "dev2", "swap"]
        );
        assert!(check_named_format("pve-configid-list", "mp0,net1", "delete").is_ok());
        assert_eq!(
            check_named_format("pve-configid-list", "mp0,1net", "delete"),
            Err("invalid configuration ID '1net'\n".into())
        );
    }
}
