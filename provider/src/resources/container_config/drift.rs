//! Writing what `pvelxc-agent apply --check` found back onto the state, so `terraform plan`
//! shows drift inside a container as a change of the attribute that describes it: a user
//! who lost a group shows a shorter `groups` list, a purged package is missing from
//! `packages`, a disabled unit has `enabled = false`. Drift no attribute can express sets
//! `converged = false`.

use pvelxc_cty::Value;
use pvelxc_spec::report::{FieldChange, ItemReport, ItemStatus, Report};
use pvelxc_spec::Item;

use super::items_build::Origin;
use super::values::{block_mut, set, strings};

/// What drift was found and whether every part of it could be shown on an attribute.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Drift {
    /// One line per drifted item, e.g. `user media: groups render,video -> render,video`.
    pub lines: Vec<String>,
    /// Whether some drift could not be written onto a configured attribute.
    pub unmapped: bool,
}

fn describe(rep: &ItemReport) -> String {
    let changes: Vec<String> = rep
        .changes
        .iter()
        .map(|c| {
            format!(
                "{} {} -> {}",
                c.field,
                c.before.as_deref().unwrap_or("(none)"),
                c.after.as_deref().unwrap_or("(none)")
            )
        })
        .collect();
    if changes.is_empty() {
        format!("{} {}: would change", rep.kind, rep.key)
    } else {
        format!("{} {}: {}", rep.kind, rep.key, changes.join("; "))
    }
}

fn before_list(c: &FieldChange) -> Vec<String> {
    c.before
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn int_value(text: Option<&str>) -> Option<Value> {
    text.and_then(|t| t.parse::<i64>().ok()).map(Value::int)
}

/// Removes the packages a report says are absent from the list attribute `attr` of `obj`.
fn drop_missing_packages(obj: &mut Value, attr: &str, changes: &[FieldChange]) -> bool {
    let missing: Vec<&str> = changes
        .iter()
        .filter(|c| c.before.as_deref() == Some("absent"))
        .filter_map(|c| c.field.strip_prefix("package "))
        .collect();
    if missing.is_empty() {
        return false;
    }
    let kept: Vec<String> = strings(obj, attr)
        .into_iter()
        .filter(|p| !missing.contains(&p.as_str()))
        .collect();
    set(obj, attr, Value::list(kept.into_iter().map(Value::string)));
    true
}

const CONTENT_DRIFT: &str = "(content in the target differs from the configuration)";

/// Writes one drifted item onto its block; false when no attribute can express it.
fn map_block(obj: &mut Value, block: &str, rep: &ItemReport) -> bool {
    let mut mapped_all = true;
    if block == "apt_packages" {
        let configured_absent = obj.get_attr("state").and_then(Value::as_str) == Some("absent");
        if configured_absent {
            set(obj, "state", Value::string("present"));
            return true;
        }
        return drop_missing_packages(obj, "packages", &rep.changes);
    }
    if block == "line" || block == "block" {
        let now = obj
            .get_attr("state")
            .and_then(Value::as_str)
            .unwrap_or("present");
        let flipped = if now == "absent" { "present" } else { "absent" };
        set(obj, "state", Value::string(flipped));
        return true;
    }
    for c in &rep.changes {
        let ok = match (block, c.field.as_str()) {
            ("user", "groups") => {
                let present = before_list(c);
                let configured = strings(obj, "groups");
                let kept: Vec<String> = configured
                    .iter()
                    .filter(|g| present.contains(g))
                    .cloned()
                    .collect();
                let changed = kept.len() != configured.len();
                set(
                    obj,
                    "groups",
                    Value::list(kept.into_iter().map(Value::string)),
                );
                changed
            }
            ("user", "uid") | ("group", "gid") => match int_value(c.before.as_deref()) {
                Some(v) => {
                    set(obj, &c.field, v);
                    true
                }
                None => false,
            },
            ("user", "shell" | "home" | "comment")
            | ("directory" | "file" | "storage", "owner" | "group" | "mode") => match &c.before {
                Some(b) => {
                    set(obj, &c.field, Value::string(b.clone()));
                    true
                }
                None => false,
            },
            ("file", "content" | "state") => {
                set(obj, "content", Value::string(CONTENT_DRIFT));
                set(obj, "template", Value::Null);
                true
            }
            ("systemd_unit", "enabled") => match c.before.as_deref() {
                Some("true") => {
                    set(obj, "enabled", Value::bool(true));
                    true
                }
                Some("false") => {
                    set(obj, "enabled", Value::bool(false));
                    true
                }
                _ => false,
            },
            ("systemd_unit", "active") => match (c.before.as_deref(), c.after.as_deref()) {
                (Some("inactive"), Some("active")) => {
                    set(obj, "state", Value::string("stopped"));
                    true
                }
                (Some("active"), Some("inactive")) => {
                    set(obj, "state", Value::string("started"));
                    true
                }
                _ => false,
            },
            ("systemd_unit", "content") => {
                set(obj, "content", Value::string(CONTENT_DRIFT));
                true
            }
            _ => false,
        };
        mapped_all &= ok;
    }
    mapped_all && !rep.changes.is_empty()
}

/// Writes one drifted preset item onto its preset block.
fn map_preset(state: &mut Value, preset: &str, role: &str, rep: &ItemReport) -> bool {
    if preset == "jobs" {
        // The runner belongs to `jobs` when configured, else to the preset that asked for it.
        let owner = ["jobs", "transcoder", "ripper"]
            .into_iter()
            .find(|b| state.get_attr(b).is_some_and(|v| !v.is_null()));
        let Some(owner) = owner else { return false };
        let attr = if owner == "jobs" {
            "started"
        } else {
            "job_runner"
        };
        let Some(obj) = state.get_attr_mut(owner) else {
            return false;
        };
        if role == "unit" {
            set(obj, attr, Value::bool(false));
            return true;
        }
        return false;
    }
    let Some(obj) = state.get_attr_mut(preset).filter(|v| !v.is_null()) else {
        return false;
    };
    match (preset, role) {
        ("intel_gpu_drivers" | "transcoder", "packages") => {
            drop_missing_packages(obj, "packages", &rep.changes)
        }
        ("media_user", "device_groups") => {
            set(obj, "device_groups", Value::bool(false));
            true
        }
        ("media_user", "gid") => {
            let gid = rep.changes.iter().find(|c| c.field == "gid");
            match gid.and_then(|c| int_value(c.before.as_deref())) {
                Some(v) => {
                    set(obj, "gid", v);
                    true
                }
                None => false,
            }
        }
        ("media_user", "user") => {
            let mut all = true;
            for c in &rep.changes {
                all &= match c.field.as_str() {
                    "groups" => {
                        set(obj, "device_groups", Value::bool(false));
                        true
                    }
                    "uid" => match int_value(c.before.as_deref()) {
                        Some(v) => {
                            set(obj, "uid", v);
                            true
                        }
                        None => false,
                    },
                    "shell" => match &c.before {
                        Some(b) => {
                            set(obj, "shell", Value::string(b.clone()));
                            true
                        }
                        None => false,
                    },
                    _ => false,
                };
            }
            all && !rep.changes.is_empty()
        }
        _ => false,
    }
}

/// Writes the drift of a check-mode report onto `state`.
pub fn apply(state: &mut Value, items: &[(Item, Origin)], report: &Report) -> Drift {
    let mut drift = Drift::default();
    for rep in &report.items {
        if rep.status != ItemStatus::WouldChange {
            continue;
        }
        drift.lines.push(describe(rep));
        let mapped = match items.get(rep.index).map(|(_, o)| o) {
            Some(Origin::Block { block, index }) => match block_mut(state, block, *index) {
                Some(obj) => map_block(obj, block, rep),
                None => false,
            },
            Some(Origin::Preset { preset, role }) => map_preset(state, preset, role, rep),
            None => false,
        };
        drift.unmapped |= !mapped;
    }
    drift
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::container_config::converge::build_spec;
    use crate::resources::container_config::devices::ContainerFacts;
    use pvelxc_spec::report::{FieldChange, RunMode};

    fn config() -> Value {
        let schema = crate::resources::container_config::schema::schema();
        let mut v = schema.block.empty_value();
        set(&mut v, "container_id", Value::string("pve/601"));
        set(
            &mut v,
            "user",
            Value::list([Value::object([
                ("name", Value::string("alice")),
                ("uid", Value::int(2001)),
                ("group", Value::Null),
                (
                    "groups",
                    Value::list([Value::string("editors"), Value::string("video")]),
                ),
                ("groups_mode", Value::Null),
                ("home", Value::Null),
                ("shell", Value::Null),
                ("comment", Value::Null),
                ("system", Value::Null),
                ("owned", Value::bool(false)),
            ])]),
        );
        set(
            &mut v,
            "media_user",
            Value::object([
                ("name", Value::string("media")),
                ("uid", Value::int(1000)),
                ("gid", Value::int(1000)),
                ("shell", Value::string("/bin/bash")),
                ("device_groups", Value::bool(true)),
                ("extra_groups", Value::Null),
            ]),
        );
        set(
            &mut v,
            "transcoder",
            Value::object([
                (
                    "packages",
                    Value::list([Value::string("ffmpeg"), Value::string("mediainfo")]),
                ),
                ("job_runner", Value::bool(true)),
            ]),
        );
        v
    }

    fn report_for(
        origins: &[(Item, Origin)],
        pick: impl Fn(&Item) -> Option<Vec<FieldChange>>,
    ) -> Report {
        let items = origins
            .iter()
            .enumerate()
            .map(|(index, (item, _))| {
                let changes = pick(item);
                ItemReport {
                    index,
                    kind: item.kind().into(),
                    key: item.key(),
                    status: if changes.is_some() {
                        ItemStatus::WouldChange
                    } else {
                        ItemStatus::Ok
                    },
                    changes: changes.unwrap_or_default(),
                    diff: None,
                    error: None,
                    check: None,
                }
            })
            .collect();
        Report::new(RunMode::Check, items)
    }

    fn change(field: &str, before: &str, after: &str) -> FieldChange {
        FieldChange {
            field: field.into(),
            before: Some(before.into()),
            after: Some(after.into()),
        }
    }

    #[test]
    fn drift_lands_on_the_attribute_that_describes_it() {
        let mut facts = ContainerFacts::default();
        facts.device_groups.insert("render".into(), 994);
        let v = config();
        let prepared = build_spec(&v, Some(&facts)).expect("spec");
        let report = report_for(&prepared.origins, |item| match item {
            Item::User(u) if u.name == "alice" => {
                Some(vec![change("groups", "editors", "editors,video")])
            }
            Item::User(u) if u.name == "media" => Some(vec![change("groups", "", "render")]),
            Item::AptPackages(p) if p.packages.contains(&"ffmpeg".to_string()) => {
                Some(vec![change("package ffmpeg", "absent", "installed")])
            }
            Item::SystemdUnit(_) => Some(vec![change("enabled", "false", "true")]),
            _ => None,
        });
        let mut state = v.clone();
        let drift = apply(&mut state, &prepared.origins, &report);
        assert!(!drift.unmapped, "{drift:?}");
        assert_eq!(drift.lines.len(), 4);
        assert_eq!(
            strings(
                &state.get_attr("user").unwrap().as_elements().unwrap()[0],
                "groups"
            ),
            ["editors"]
        );
        let media = state.get_attr("media_user").unwrap();
        assert_eq!(
            media.get_attr("device_groups").and_then(Value::as_bool),
            Some(false)
        );
        assert_eq!(
            strings(state.get_attr("transcoder").unwrap(), "packages"),
            ["mediainfo"]
        );
        // The runner unit belongs to the transcoder preset when no jobs block is set.
        assert_eq!(
            state
                .get_attr("transcoder")
                .unwrap()
                .get_attr("job_runner")
                .and_then(Value::as_bool),
            Some(false)
        );
    }

    #[test]
    fn drift_without_an_attribute_clears_converged() {
        let v = config();
        let prepared = build_spec(&v, Some(&ContainerFacts::default())).expect("spec");
        let report = report_for(&prepared.origins, |item| match item {
            Item::File(_) => Some(vec![change("mode", "0644", "0600")]),
            Item::Directory(_) => Some(vec![change("state", "absent", "directory")]),
            _ => None,
        });
        let mut state = v.clone();
        let drift = apply(&mut state, &prepared.origins, &report);
        assert!(drift.unmapped);
    }

    #[test]
    fn presets_expand_to_the_runbook_items() {
        let mut facts = ContainerFacts::default();
        facts.device_groups.insert("render".into(), 994);
        facts.device_groups.insert("video".into(), 44);
        let prepared = build_spec(&config(), Some(&facts)).expect("spec");
        let kinds: Vec<String> = prepared
            .spec
            .items
            .iter()
            .map(|i| format!("{} {}", i.kind(), i.key()))
            .collect();
        for want in [
            "group media",
            "group render",
            "group video",
            "user media",
            "user alice",
            "apt_packages ffmpeg,mediainfo",
            "file /etc/pvelxc/jobs.json",
            "systemd_unit pvelxc-jobs.service",
            "check ffmpeg-hwaccels",
        ] {
            assert!(
                kinds.contains(&want.to_string()),
                "{want} missing from {kinds:?}"
            );
        }
        // Groups come before the users that join them.
        let pos = |k: &str| kinds.iter().position(|x| x == k).unwrap();
        assert!(pos("group render") < pos("user media"));
        let Some(Item::User(media)) = prepared
            .spec
            .items
            .iter()
            .find(|i| i.key() == "media" && i.kind() == "user")
        else {
            panic!("no media user");
        };
        assert_eq!(media.uid, Some(1000));
        assert_eq!(media.groups, ["render", "video"]);
        let Some(Item::File(jobs)) = prepared.spec.items.iter().find(|i| i.kind() == "file") else {
            panic!("no jobs file");
        };
        let settings: serde_json::Value =
            serde_json::from_str(jobs.content.as_deref().unwrap()).unwrap();
        assert_eq!(settings["mode"], "transcode");
        assert_eq!(
            settings["media_user"]["extra_gids"],
            serde_json::json!([994, 44])
        );
    }
}
