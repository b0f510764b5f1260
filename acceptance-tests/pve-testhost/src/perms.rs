//! `PVE::LXC::check_ct_modify_config_perm`: which config changes only `root@pam` may make.
//!
//! The test host knows two kinds of callers: `root@pam` (ticket) and API tokens. Tokens
//! are treated as having every privilege (privilege separation off), so only the rules
//! that PVE hard-codes to `root@pam` can refuse them, and they do so with PVE's messages.

use std::collections::BTreeMap;

use pve_testhost_runtime::conf::{MountKind, MountPoint, Section};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::schema::parse_boolean;

/// Parses a `features` string into key -> normalised value (booleans as 1/0).
fn features_map(raw: Option<&str>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for part in raw.unwrap_or("").split(',') {
        let Some((k, v)) = part.split_once('=') else {
            continue;
        };
        let v = match parse_boolean(v) {
            Some(true) => "1".to_string(),
            Some(false) => "0".to_string(),
            None => v.to_string(),
        };
        out.insert(k.trim().to_string(), v);
    }
    out
}

/// Checks the permission for changing `changes` (new values) and `deletes` of a CT whose
/// current config is `old` (`None` on create).
pub fn check_ct_modify_config_perm(
    caller: &Caller,
    old: Option<&Section>,
    changes: &BTreeMap<String, String>,
    deletes: &[String],
    unprivileged: bool,
) -> Result<(), ApiError> {
    if caller.is_root_pam() {
        return Ok(());
    }
    let keys = changes
        .keys()
        .map(|k| (k.as_str(), false))
        .chain(deletes.iter().map(|k| (k.as_str(), true)));
    for (opt, delete) in keys {
        check_one(opt, delete, old, changes, unprivileged)?;
    }
    Ok(())
}

fn check_one(
    opt: &str,
    delete: bool,
    old: Option<&Section>,
    changes: &BTreeMap<String, String>,
    unprivileged: bool,
) -> Result<(), ApiError> {
    let is_mp = opt
        .strip_prefix("mp")
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    let is_dev = opt
        .strip_prefix("dev")
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    if opt == "rootfs" || is_mp {
        if delete {
            return Ok(());
        }
        let Some(raw) = changes.get(opt) else {
            return Ok(());
        };
        let kind = match MountPoint::parse(opt, raw) {
            Ok(mp) => mp.kind,
            // Schema validation has already run; classify by the volume text.
            Err(_) => classify(raw),
        };
        let name = match kind {
            MountKind::Volume => return Ok(()),
            MountKind::Bind => "bind",
            MountKind::Device => "device",
        };
        return Err(ApiError::permission(&format!(
            "mount point type {name} is only allowed for root@pam"
        )));
    }
    if is_dev {
        return Err(ApiError::permission(
            "configuring device passthrough is only allowed for root@pam",
        ));
    }
    if opt == "features" {
        if !unprivileged {
            return Err(ApiError::permission(
                "changing feature flags for privileged container is only allowed for root@pam",
            ));
        }
        let old_raw = old.and_then(|s| s.get("features"));
        let mut other_changed = false;
        if !delete {
            let new = features_map(changes.get("features").map(String::as_str));
            if old_raw.is_some_and(|r| !r.is_empty()) {
                let old = features_map(old_raw);
                for feature in old.keys().chain(new.keys()) {
                    if old.get(feature) != new.get(feature) && feature != "nesting" {
                        other_changed = true;
                    }
                }
            } else {
                let only_nesting = new.len() == 1 && new.get("nesting").is_some_and(|v| v == "1");
                other_changed = !new.is_empty() && !only_nesting;
            }
        } else {
            let old = features_map(old_raw);
            let only_nesting = old.len() == 1 && old.get("nesting").is_some_and(|v| v == "1");
            other_changed = !old.is_empty() && !only_nesting;
        }
        if other_changed {
            return Err(ApiError::permission(
                "changing feature flags (except nesting) is only allowed for root@pam",
            ));
        }
        return Ok(());
    }
    if opt == "hookscript" {
        return Err(ApiError::permission(
            "changing the hookscript is only allowed for root@pam",
        ));
    }
    Ok(())
}

fn classify(raw: &str) -> MountKind {
    let volume = raw
        .split(',')
        .find_map(|p| {
            p.strip_prefix("volume=")
                .or((!p.contains('=')).then_some(p))
        })
        .unwrap_or("");
    if volume.starts_with("/dev/") {
        MountKind::Device
    } else if volume.starts_with('/') {
        MountKind::Bind
    } else {
        MountKind::Volume
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> Caller {
        Caller::Token {
            tokenid: "root@pam!pvelxc".into(),
        }
    }

    fn changes(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn message(result: Result<(), ApiError>) -> String {
        result.expect_err("refused").message
    }

    #[test]
    fn tokens_cannot_bind_mount_or_pass_devices() {
        let bind = changes(&[("mp0", "/srv/media,mp=/media")]);
        assert_eq!(
            message(check_ct_modify_config_perm(
                &token(),
                None,
                &bind,
                &[],
                true
            )),
            "Permission check failed (mount point type bind is only allowed for root@pam)\n"
        );
        let device = changes(&[("mp1", "/dev/sdb1,mp=/mnt")]);
        assert_eq!(
            message(check_ct_modify_config_perm(
                &token(),
                None,
                &device,
                &[],
                true
            )),
            "Permission check failed (mount point type device is only allowed for root@pam)\n"
        );
        let dev = changes(&[("dev0", "/dev/dri/renderD128,gid=104")]);
        assert_eq!(
            message(check_ct_modify_config_perm(&token(), None, &dev, &[], true)),
            "Permission check failed (configuring device passthrough is only allowed for root@pam)\n"
        );
        let root = Caller::Ticket {
            user: "root@pam".into(),
        };
        assert!(check_ct_modify_config_perm(&root, None, &bind, &[], false).is_ok());
        let volume = changes(&[("mp0", "local:8,mp=/data")]);
        assert!(check_ct_modify_config_perm(&token(), None, &volume, &[], true).is_ok());
    }

    #[test]
    fn feature_rules_follow_privilege_and_nesting() {
        let nesting = changes(&[("features", "nesting=1")]);
        assert!(check_ct_modify_config_perm(&token(), None, &nesting, &[], true).is_ok());
        assert_eq!(
            message(check_ct_modify_config_perm(&token(), None, &nesting, &[], false)),
            "Permission check failed (changing feature flags for privileged container is only allowed for root@pam)\n"
        );
        let keyctl = changes(&[("features", "nesting=1,keyctl=1")]);
        assert_eq!(
            message(check_ct_modify_config_perm(&token(), None, &keyctl, &[], true)),
            "Permission check failed (changing feature flags (except nesting) is only allowed for root@pam)\n"
        );
        let mut old = Section::default();
        old.options.insert("features".into(), "keyctl=1".into());
        let toggle = changes(&[("features", "keyctl=1,nesting=1")]);
        assert!(check_ct_modify_config_perm(&token(), Some(&old), &toggle, &[], true).is_ok());
        assert_eq!(
            message(check_ct_modify_config_perm(&token(), Some(&old), &changes(&[]), &["features".into()], true)),
            "Permission check failed (changing feature flags (except nesting) is only allowed for root@pam)\n"
        );
        let hook = changes(&[("hookscript", "local:snippets/hook.sh")]);
        assert_eq!(
            message(check_ct_modify_config_perm(
                &token(),
                None,
                &hook,
                &[],
                true
            )),
            "Permission check failed (changing the hookscript is only allowed for root@pam)\n"
        );
    }
}
