//! `terraform import pvelxc_container.x <node>/<vmid>` (or a bare `<vmid>` on the provider's
//! default node): a state holding only the identity; the refresh that follows fills the rest.

use pvelxc_cty::{Path, Value};
use pvelxc_pve::api::VMID_RANGE;
use pvelxc_schema::Diagnostic;

use super::values::set_attr;

/// Splits an import ID into node (if given) and vmid.
pub fn parse_id(id: &str) -> Result<(Option<String>, u32), Diagnostic> {
    let bad = || {
        Diagnostic::error(
            Path::root(),
            "Invalid import ID",
            format!(
                "{id:?} is not a container ID; use <node>/<vmid> (e.g. pve/201) or a bare vmid \
                 on the provider's default node."
            ),
        )
    };
    let (node, vmid) = match id.split_once('/') {
        Some((n, v)) => (Some(n), v),
        None => (None, id),
    };
    if node
        .is_some_and(|n| n.is_empty() || !n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    {
        return Err(bad());
    }
    let vmid: u32 = vmid.parse().map_err(|_| bad())?;
    if !VMID_RANGE.contains(&vmid) {
        return Err(bad());
    }
    Ok((node.map(str::to_string), vmid))
}

/// The minimal state for a node and vmid: identity set, everything else empty.
pub fn stub_state(node: &str, vmid: u32) -> Value {
    let mut v = super::schema::schema().block.empty_value();
    set_attr(&mut v, "id", Value::string(format!("{node}/{vmid}")));
    set_attr(&mut v, "node", Value::string(node));
    set_attr(&mut v, "vmid", Value::int(i64::from(vmid)));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse() {
        assert_eq!(parse_id("pve/201").unwrap(), (Some("pve".into()), 201));
        assert_eq!(parse_id("201").unwrap(), (None, 201));
        for bad in [
            "",
            "pve/",
            "/201",
            "pve/abc",
            "pve/99",
            "a b/201",
            "pve/201/x",
        ] {
            assert!(parse_id(bad).is_err(), "{bad}");
        }
    }
}
