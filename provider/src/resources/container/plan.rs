//! Plan-time checks and plan adjustments: everything that can be refused before a request
//! is sent, with the attribute path, and a plan that predicts apply exactly.

use pvelxc_cty::{Path, Value};
use pvelxc_pve::config::DiskSize;
use pvelxc_pve::pctconf::{check_raw_line, RawLineError};
use pvelxc_schema::Diagnostic;

use super::errors::config_diagnostic;
use super::model::spec_from;
use super::presets::{expand_idmap, Expansion};
use super::private::Private;
use super::values::{attr, blocks, boolean, int, set_attr, single, string};
use crate::framework::PlanChange;

/// Checks a configuration that may hold unknowns; only known values are judged.
pub fn validate(config: &Value) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for (i, line) in blocks(config, "raw_lxc").iter().enumerate() {
        let (Some(key), Some(value)) = (string(line, "key"), string(line, "value")) else {
            continue;
        };
        if let Err(e) = check_raw_line(&key, &value) {
            let field = match e {
                RawLineError::BadValue { .. } => "value",
                _ => "key",
            };
            diags.push(Diagnostic::error(
                Path::root().attr("raw_lxc").index(i as i64).attr(field),
                "Raw LXC line refused",
                e.to_string(),
            ));
        }
    }
    let spec = match spec_from(config) {
        Ok(s) => s,
        Err(mut errs) => {
            diags.append(&mut errs);
            return diags;
        }
    };
    if let Err(e) = spec.config.to_params() {
        diags.push(config_diagnostic(&e, config));
    }
    if attr(config, "unprivileged").is_known() {
        if let Err(d) = expand_idmap(&spec.presets, &mut Expansion::default()) {
            diags.push(d);
        }
    }
    let names: Vec<Option<String>> = blocks(config, "network")
        .iter()
        .map(|n| string(n, "name"))
        .collect();
    for (i, name) in names.iter().enumerate() {
        if let Some(name) = name {
            if names[..i].iter().flatten().any(|n| n == name) {
                diags.push(Diagnostic::error(
                    Path::root().attr("network").index(i as i64).attr("name"),
                    "Duplicate interface name",
                    format!("Another network block already names its interface {name}."),
                ));
            }
        }
    }
    diags
}

/// Attributes whose change needs a restart of a running container to take effect.
const RESTART_ATTRS: &[&str] = &[
    "raw_lxc",
    "features",
    "device",
    "gpu",
    "optical_drive",
    "idmap",
    "ostype",
    "arch",
];

/// Adjusts the framework's plan; see [`PlanChange`].
pub fn modify_plan(change: PlanChange<'_>) -> Vec<Diagnostic> {
    let PlanChange {
        prior,
        config,
        planned,
        private,
        requires_replace,
    } = change;
    let mut diags = Vec::new();
    let creating = prior.is_null();

    if creating && attr(config, "template").is_null() {
        diags.push(Diagnostic::error(
            Path::root().attr("template"),
            "A template is needed to create the container",
            "Set template to a template volume, e.g. \
             \"local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst\". (Only imported containers \
             may leave it unset.)",
        ));
        return diags;
    }
    if !creating {
        // Imported containers have no template: setting one later must not replace them.
        let before = attr(prior, "template");
        if !before.is_null() && before.is_known() && attr(planned, "template") != before {
            requires_replace.push(Path::root().attr("template"));
        }
        for name in ["password", "ssh_public_keys"] {
            let (b, a) = (attr(prior, name), attr(planned, name));
            if a.is_known() && b != a {
                diags.push(Diagnostic::warning(
                    Path::root().attr(name),
                    format!("{name} is only used when the container is created"),
                    format!(
                        "Changing {name} on an existing container has no effect on it; change it \
                         inside the container, or replace the container \
                         (terraform apply -replace=...)."
                    ),
                ));
            }
        }
    }

    if !creating {
        diags.extend(check_shrink(prior, planned));
    }
    if let Some(started) = attr(planned, "started").as_bool() {
        let status = if started { "running" } else { "stopped" };
        set_attr(planned, "status", Value::string(status));
    }
    plan_mount_point_sizes(prior, config, planned);
    plan_generated(prior, config, planned, private, creating);

    if !creating && attr(prior, "status").as_str() == Some("running") {
        let restart: Vec<&str> = RESTART_ATTRS
            .iter()
            .copied()
            .filter(|a| attr(prior, a) != attr(planned, a))
            .collect();
        if !restart.is_empty() && boolean(planned, "started") != Some(false) {
            let policy = string(planned, "reboot_policy").unwrap_or_else(|| "reboot".into());
            let what = restart.join(", ");
            let detail = if policy == "never" {
                format!(
                    "Changes to {what} take effect at the next restart of the running container; \
                     reboot_policy = \"never\" leaves them pending until then."
                )
            } else {
                format!(
                    "Changes to {what} need a restart of the running container; apply restarts it \
                     (reboot_policy = \"reboot\")."
                )
            };
            diags.push(Diagnostic::warning(
                Path::root().attr(restart[0]),
                "The container will need a restart",
                detail,
            ));
        }
    }
    if !creating && addresses_may_change(prior, planned) {
        for name in ["ipv4", "ipv6"] {
            set_attr(planned, name, Value::unknown());
        }
    }
    diags
}

/// Whether the apply can change the container's addresses: its network changes, it starts
/// or stops, or it restarts for a change that needs it. Anything else (memory, tags, a
/// description, a mount point) keeps the known addresses in the plan instead of showing
/// them as "known after apply" on every update.
fn addresses_may_change(prior: &Value, planned: &Value) -> bool {
    let differs = |name: &str| attr(prior, name) != attr(planned, name);
    let restarts = attr(planned, "reboot_policy").as_str() != Some("never")
        && RESTART_ATTRS.iter().any(|a| differs(a));
    differs("network") || differs("status") || restarts
}

/// PVE cannot shrink volumes: refuse at plan time, on the attribute.
fn check_shrink(prior: &Value, planned: &Value) -> Vec<Diagnostic> {
    let size = |v: &Value| string(v, "size").and_then(|s| s.parse::<DiskSize>().ok());
    let mut out = Vec::new();
    let mut check = |path: Path, before: Option<DiskSize>, after: Option<DiskSize>| {
        if let (Some(b), Some(a)) = (before, after) {
            if a < b {
                out.push(Diagnostic::error(
                    path,
                    "Volumes cannot shrink",
                    format!(
                        "The volume is {b} and the configuration asks for {a}; PVE can only grow \
                         volumes. Keep the size, or replace the container."
                    ),
                ));
            }
        }
    };
    if let (Some(b), Some(a)) = (single(prior, "rootfs"), single(planned, "rootfs")) {
        check(Path::root().attr("rootfs").attr("size"), size(b), size(a));
    }
    for (i, mp) in blocks(planned, "mount_point").iter().enumerate() {
        let before = blocks(prior, "mount_point").iter().find(|p| {
            int(p, "slot") == int(mp, "slot") && string(p, "volume") == string(mp, "volume")
        });
        if let Some(b) = before {
            check(
                Path::root()
                    .attr("mount_point")
                    .index(i as i64)
                    .attr("size"),
                size(b),
                size(mp),
            );
        }
    }
    out
}

/// A bind mount has no size; a volume keeps the size it had unless the config sets one.
fn plan_mount_point_sizes(prior: &Value, config: &Value, planned: &mut Value) {
    let prior_mps = blocks(prior, "mount_point").to_vec();
    let config_mps = blocks(config, "mount_point").to_vec();
    let Some(Value::List(items)) = planned.get_attr_mut("mount_point") else {
        return;
    };
    for (i, mp) in items.iter_mut().enumerate() {
        if attr(mp, "size").is_known() {
            continue;
        }
        let configured = config_mps.get(i).map(|c| attr(c, "size").clone());
        if configured.as_ref().is_some_and(|c| !c.is_null()) {
            continue;
        }
        let volume = string(mp, "volume");
        if volume.as_deref().is_some_and(|v| v.starts_with('/')) {
            set_attr(mp, "size", Value::Null);
            continue;
        }
        let same = prior_mps
            .iter()
            .find(|p| int(p, "slot") == int(mp, "slot") && string(p, "volume") == volume);
        if let Some(p) = same {
            let size = attr(p, "size").clone();
            if size.is_known() {
                set_attr(mp, "size", size);
            }
        }
    }
}

/// `generated_lxc` and `device_gids` stay as they are unless what produces them changed, or
/// the container no longer has all the lines written last time (a hand edit).
fn plan_generated(
    prior: &Value,
    config: &Value,
    planned: &mut Value,
    private: &[u8],
    creating: bool,
) {
    let no_presets = single(config, "gpu").is_none()
        && single(config, "idmap").is_none()
        && blocks(config, "optical_drive").is_empty();
    if no_presets {
        set_attr(planned, "generated_lxc", Value::List(vec![]));
        set_attr(planned, "device_gids", Value::Map(Default::default()));
        return;
    }
    if creating {
        return;
    }
    let inputs_same = ["gpu", "idmap", "optical_drive", "unprivileged", "device"]
        .iter()
        .all(|a| attr(prior, a) == attr(planned, a));
    let prior_generated = attr(prior, "generated_lxc").clone();
    let complete = match Private::decode(private) {
        Some(p) => {
            let have: Vec<String> = prior_generated
                .as_elements()
                .unwrap_or_default()
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            have == p.generated
        }
        None => true,
    };
    if inputs_same && complete {
        set_attr(planned, "generated_lxc", prior_generated);
        set_attr(planned, "device_gids", attr(prior, "device_gids").clone());
    } else {
        set_attr(planned, "generated_lxc", Value::unknown());
        set_attr(planned, "device_gids", Value::unknown());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::container::values::object;

    fn raw(key: &str, value: &str) -> Value {
        object(vec![
            ("key", Value::string(key)),
            ("value", Value::string(value)),
        ])
    }

    #[test]
    fn raw_keys_are_checked_with_paths() {
        let cfg = object(vec![(
            "raw_lxc",
            Value::list([
                raw("lxc.cgroup2.devices.allow", "c 226:0 rwm"),
                raw("lxc.rootfs.path", "/"),
                raw("lxc.bogus.key", "x"),
                raw("lxc.mount.entry", " leading"),
            ]),
        )]);
        let d = validate(&cfg);
        let paths: Vec<String> = d.iter().map(|d| d.path.to_string()).collect();
        assert_eq!(d.len(), 3, "{paths:?}");
        assert_eq!(d[0].path, Path::root().attr("raw_lxc").index(1).attr("key"));
        assert_eq!(d[1].path, Path::root().attr("raw_lxc").index(2).attr("key"));
        assert_eq!(
            d[2].path,
            Path::root().attr("raw_lxc").index(3).attr("value")
        );
    }

    #[test]
    fn idmap_on_privileged_and_bad_hostname_are_refused() {
        let cfg = object(vec![
            ("unprivileged", Value::bool(false)),
            ("hostname", Value::string("bad_name")),
            (
                "idmap",
                object(vec![
                    ("uids", Value::list([Value::int(1000)])),
                    ("gids", Value::Null),
                ]),
            ),
        ]);
        let d = validate(&cfg);
        let paths: Vec<Path> = d.iter().map(|d| d.path.clone()).collect();
        assert!(paths.contains(&Path::root().attr("hostname")), "{paths:?}");
        assert!(paths.contains(&Path::root().attr("idmap")), "{paths:?}");
    }

    #[test]
    fn shrinking_is_refused_with_the_path() {
        let state = |root: &str, mp: &str| {
            object(vec![
                ("rootfs", object(vec![("size", Value::string(root))])),
                (
                    "mount_point",
                    Value::list([object(vec![
                        ("slot", Value::int(1)),
                        ("volume", Value::string("local:2")),
                        ("size", Value::string(mp)),
                    ])]),
                ),
            ])
        };
        assert!(check_shrink(&state("20G", "2G"), &state("20480M", "3G")).is_empty());
        let d = check_shrink(&state("20G", "2G"), &state("10G", "1G"));
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].path, Path::root().attr("rootfs").attr("size"));
        assert_eq!(
            d[0].detail,
            "The volume is 20G and the configuration asks for 10G; PVE can only grow volumes. \
             Keep the size, or replace the container."
        );
        assert_eq!(
            d[1].path,
            Path::root().attr("mount_point").index(0).attr("size")
        );
    }

    #[test]
    fn unknown_values_are_not_judged() {
        let cfg = object(vec![
            ("hostname", Value::unknown()),
            ("unprivileged", Value::unknown()),
            ("raw_lxc", Value::list([raw("lxc.mount.entry", "x")])),
        ]);
        assert!(validate(&cfg).is_empty());
    }

    #[test]
    fn addresses_stay_known_unless_the_network_or_the_run_state_changes() {
        let ct = |tags: &str, bridge: &str, status: &str, features: &str, policy: &str| {
            object(vec![
                ("tags", Value::list([Value::string(tags)])),
                (
                    "network",
                    Value::list([object(vec![("bridge", Value::string(bridge))])]),
                ),
                ("status", Value::string(status)),
                (
                    "features",
                    object(vec![("nesting", Value::bool(features == "nesting"))]),
                ),
                ("reboot_policy", Value::string(policy)),
            ])
        };
        let prior = ct("media", "vmbr0", "running", "", "reboot");
        let cases = [
            (ct("transcode", "vmbr0", "running", "", "reboot"), false),
            (ct("media", "vmbr1", "running", "", "reboot"), true),
            (ct("media", "vmbr0", "stopped", "", "reboot"), true),
            (ct("media", "vmbr0", "running", "nesting", "reboot"), true),
            (ct("media", "vmbr0", "running", "nesting", "never"), false),
        ];
        for (i, (planned, want)) in cases.iter().enumerate() {
            assert_eq!(addresses_may_change(&prior, planned), *want, "case {i}");
        }
    }
}
