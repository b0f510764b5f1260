//! PVE config keys and client errors as diagnostics on this resource's attributes.

use pvelxc_cty::{Path, Value};
use pvelxc_pve::config::{ConfigError, DiffError};
use pvelxc_pve::ApiError;
use pvelxc_schema::Diagnostic;

use super::values::{blocks, int};
use crate::node::api_diagnostic;

/// The attribute path for a PVE config key (`memory`, `net1`, `mp3`, `dev0`, ...); `obj`
/// (config or plan) locates `mpN`/`devN` blocks by their slot.
pub fn key_path(key: &str, obj: &Value) -> Path {
    let root = Path::root();
    let indexed = |prefix: &str| -> Option<u32> { key.strip_prefix(prefix)?.parse().ok() };
    if let Some(i) = indexed("net") {
        return root.attr("network").index(i64::from(i));
    }
    for (prefix, block) in [("mp", "mount_point"), ("dev", "device")] {
        if let Some(slot) = indexed(prefix) {
            let pos = blocks(obj, block)
                .iter()
                .position(|b| int(b, "slot") == Some(i64::from(slot)));
            return match pos {
                Some(p) => root.attr(block).index(p as i64),
                None => root.attr(block),
            };
        }
    }
    let attr = match key {
        "nameserver" => "nameservers",
        "searchdomain" => "search_domain",
        "startup" => "startup_order",
        "ostemplate" => "template",
        "lxc" => "raw_lxc",
        "hostname" | "description" | "tags" | "ostype" | "arch" | "cores" | "cpulimit"
        | "cpuunits" | "memory" | "swap" | "rootfs" | "features" | "onboot" | "timezone"
        | "protection" | "unprivileged" | "password" | "vmid" | "template" => key,
        "ssh-public-keys" => "ssh_public_keys",
        _ => return root,
    };
    root.attr(attr)
}

/// A config error on the attribute it concerns.
pub fn config_diagnostic(err: &ConfigError, obj: &Value) -> Diagnostic {
    Diagnostic::error(
        key_path(&err.key(), obj),
        "Invalid container configuration",
        err.to_string(),
    )
}

/// An update that cannot be made in place, on the attribute it concerns.
pub fn diff_diagnostic(err: &DiffError, obj: &Value) -> Diagnostic {
    Diagnostic::error(
        key_path(&err.key(), obj),
        "Change not possible in place",
        err.to_string(),
    )
}

/// API errors: PVE's per-parameter messages land on the matching attributes.
pub fn api_diagnostics(err: ApiError, obj: &Value, doing: &str) -> Vec<Diagnostic> {
    if let Some(errors) = err.parameter_errors().filter(|e| !e.is_empty()) {
        return errors
            .iter()
            .map(|(k, v)| {
                Diagnostic::error(
                    key_path(k, obj),
                    format!("Proxmox VE rejected {k} while {doing}"),
                    v.clone(),
                )
            })
            .collect();
    }
    if let ApiError::Forbidden { .. } = &err {
        return vec![Diagnostic::error(
            Path::root(),
            format!("Proxmox VE refused {doing}"),
            format!(
                "{err}. Bind mounts, devN entries and most features need a root@pam login: set \
                 username = \"root@pam\" and password in the provider block (an API token alone \
                 is not enough)."
            ),
        )];
    }
    let mut d = api_diagnostic(err);
    d.summary = format!("{} while {doing}", d.summary);
    vec![d]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::container::values::object;

    #[test]
    fn keys_map_to_attributes() {
        let cfg = object(vec![(
            "mount_point",
            Value::list([
                object(vec![("slot", Value::int(3))]),
                object(vec![("slot", Value::int(0))]),
            ]),
        )]);
        assert_eq!(
            key_path("mp0", &cfg),
            Path::root().attr("mount_point").index(1)
        );
        assert_eq!(
            key_path("net2", &cfg),
            Path::root().attr("network").index(2)
        );
        assert_eq!(
            key_path("nameserver", &cfg),
            Path::root().attr("nameservers")
        );
        assert_eq!(key_path("dev5", &cfg), Path::root().attr("device"));
        assert_eq!(key_path("whatever", &cfg), Path::root());
    }
}
