//! systemd units without asking systemd on a no-op: the unit file and the
//! `[Install]` symlinks are read from disk, and a running service is recognised
//! by its invocation record plus live processes in its cgroup. Only when that
//! does not prove the unit active is `systemctl is-active` asked.

use super::{plan_content, Module, Wanted};
use crate::ctx::Ctx;
use crate::error::ItemError;
use crate::plan::{Action, Plan};
use crate::view::Kind;
use pvelxc_spec::{SystemdUnitItem, UnitState};
use std::path::{Path, PathBuf};

const UNIT_DIRS: [&str; 4] = [
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
];

/// `WantedBy=`, `RequiredBy=` and `Alias=` of a unit file's `[Install]` section.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Install {
    pub wanted_by: Vec<String>,
    pub required_by: Vec<String>,
    pub alias: Vec<String>,
}

pub(crate) fn parse_install(text: &str) -> Install {
    let mut inst = Install::default();
    let mut in_install = false;
    for line in text.lines() {
        let l = line.trim();
        if l.starts_with('[') {
            in_install = l == "[Install]";
            continue;
        }
        if !in_install || l.starts_with('#') || l.starts_with(';') {
            continue;
        }
        if let Some((k, v)) = l.split_once('=') {
            let vals = v.split_whitespace().map(str::to_string);
            match k.trim() {
                "WantedBy" => inst.wanted_by.extend(vals),
                "RequiredBy" => inst.required_by.extend(vals),
                "Alias" => inst.alias.extend(vals),
                _ => {}
            }
        }
    }
    inst
}

/// The symlinks `systemctl enable` would create: (link, target).
fn enable_links(name: &str, unit_path: &Path, inst: &Install) -> Vec<(PathBuf, PathBuf)> {
    let etc = Path::new("/etc/systemd/system");
    let mut out = Vec::new();
    for t in &inst.wanted_by {
        out.push((
            etc.join(format!("{t}.wants")).join(name),
            unit_path.to_path_buf(),
        ));
    }
    for t in &inst.required_by {
        out.push((
            etc.join(format!("{t}.requires")).join(name),
            unit_path.to_path_buf(),
        ));
    }
    for a in &inst.alias {
        out.push((etc.join(a), unit_path.to_path_buf()));
    }
    out
}

/// Whether systemd manages the root this run works on.
fn systemd_running(ctx: &Ctx<'_>) -> bool {
    ctx.live() && Path::new("/run/systemd/system").is_dir()
}

/// Whether the unit is active. Proof without a process: systemd's invocation
/// record exists and the unit's cgroup has processes. Otherwise ask systemctl.
fn is_active(name: &str) -> Result<bool, ItemError> {
    let invocation = Path::new("/run/systemd/units").join(format!("invocation:{name}"));
    if invocation.symlink_metadata().is_ok() {
        for base in [
            "/sys/fs/cgroup/system.slice",
            "/sys/fs/cgroup/systemd/system.slice",
            "/sys/fs/cgroup/unified/system.slice",
        ] {
            let procs = Path::new(base).join(name).join("cgroup.procs");
            if std::fs::read_to_string(&procs).is_ok_and(|p| !p.trim().is_empty()) {
                return Ok(true);
            }
        }
    }
    let status = std::process::Command::new("systemctl")
        .args(["is-active", "--quiet", name])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map_err(|e| ItemError::Failed(format!("cannot run systemctl is-active {name}: {e}")))?;
    Ok(status.success())
}

fn systemctl(args: &[&str]) -> Action {
    Action::Run {
        argv: std::iter::once("systemctl")
            .chain(args.iter().copied())
            .map(str::to_string)
            .collect(),
        env: Vec::new(),
    }
}

impl Module for SystemdUnitItem {
    fn plan(&self, ctx: &Ctx<'_>) -> Result<Plan, ItemError> {
        let mut plan = Plan::default();
        let own_path = Path::new("/etc/systemd/system").join(&self.name);
        let (unit_path, text) = match &self.content {
            Some(c) => {
                plan_content(
                    ctx,
                    &own_path,
                    c.as_bytes(),
                    Wanted {
                        uid: Some(0),
                        gid: Some(0),
                        mode: Some(0o644),
                    },
                    &mut plan,
                )?;
                (own_path.clone(), c.clone())
            }
            None => {
                let mut found = None;
                for d in UNIT_DIRS {
                    let p = Path::new(d).join(&self.name);
                    if let Some(t) = ctx
                        .view
                        .read(&p)
                        .map_err(|e| ItemError::io("cannot read", &p, e))?
                    {
                        found = Some((p, String::from_utf8_lossy(&t).into_owned()));
                        break;
                    }
                }
                found.ok_or_else(|| {
                    ItemError::Failed(format!(
                        "unit {} not found in {}; give its content or install its package first",
                        self.name,
                        UNIT_DIRS.join(", ")
                    ))
                })?
            }
        };
        let file_changed = plan.changes_something();
        let running = systemd_running(ctx);
        if file_changed && running {
            plan.actions.push(systemctl(&["daemon-reload"]));
        }
        if let Some(enabled) = self.enabled {
            let inst = parse_install(&text);
            let links = enable_links(&self.name, &unit_path, &inst);
            if enabled && links.is_empty() {
                return Err(ItemError::Failed(format!("unit {} has no WantedBy=, RequiredBy= or Alias= in [Install], so it cannot be enabled", self.name)));
            }
            let mut todo = Vec::new();
            for (link, target) in &links {
                let cur = ctx
                    .view
                    .lmeta(link)
                    .map_err(|e| ItemError::io("cannot stat", link, e))?;
                match (enabled, cur.map(|m| m.kind)) {
                    (true, Some(Kind::Symlink(t))) if &t == target => {}
                    (true, Some(_)) => {
                        todo.push(Action::Remove { path: link.clone() });
                        todo.push(Action::Symlink {
                            link: link.clone(),
                            target: target.clone(),
                        });
                    }
                    (true, None) => {
                        super::ensure_parents(ctx, link, &mut plan)?;
                        todo.push(Action::Symlink {
                            link: link.clone(),
                            target: target.clone(),
                        });
                    }
                    (false, Some(_)) => todo.push(Action::Remove { path: link.clone() }),
                    (false, None) => {}
                }
            }
            if !todo.is_empty() {
                plan.change(
                    "enabled",
                    Some((!enabled).to_string()),
                    Some(enabled.to_string()),
                );
                plan.actions.extend(todo);
                if running && !file_changed {
                    plan.actions.push(systemctl(&["daemon-reload"]));
                }
            }
        }
        if running {
            let dep_changed = self
                .restart_on
                .iter()
                .any(|p| ctx.changed_paths.contains(p));
            match self.state {
                Some(UnitState::Started) => {
                    if !is_active(&self.name)? {
                        plan.change("active", Some("inactive".into()), Some("active".into()));
                        plan.actions.push(systemctl(&["start", &self.name]));
                    } else if file_changed || dep_changed {
                        plan.change("active", Some("active".into()), Some("restarted".into()));
                        plan.actions.push(systemctl(&["restart", &self.name]));
                    }
                }
                Some(UnitState::Stopped) => {
                    if is_active(&self.name)? {
                        plan.change("active", Some("active".into()), Some("inactive".into()));
                        plan.actions.push(systemctl(&["stop", &self.name]));
                    }
                }
                None => {
                    if (file_changed || dep_changed) && is_active(&self.name)? {
                        plan.change("active", Some("active".into()), Some("restarted".into()));
                        plan.actions.push(systemctl(&["restart", &self.name]));
                    }
                }
            }
        } else if self.state.is_some() {
            tracing::debug!(unit = %self.name, "systemd is not running for this root; running state left alone");
        }
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_install;

    #[test]
    fn reads_install_section() {
        let i = parse_install(
            "[Unit]\nWantedBy=no\n[Install]\nWantedBy=multi-user.target\nAlias=x.service\n",
        );
        assert_eq!(i.wanted_by, vec!["multi-user.target"]);
        assert_eq!(i.alias, vec!["x.service"]);
    }
}
