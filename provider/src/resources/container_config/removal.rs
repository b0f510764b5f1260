//! Destroy: removing what the resource owns (items marked `owned`, and the job runner it
//! set up), leaving everything else as it is.

use pvelxc_cty::Value;
use pvelxc_pve::ssh::{CommandOutput, NodeSsh, SshError};
use pvelxc_spec::{Item, PackageState, Presence, Spec, UnitState};

use super::items_build::Origin;
use super::values::{blocks, boolean};
use crate::agent::Target;

/// What destroying removes.
#[derive(Debug)]
pub struct Removal {
    /// Items the agent applies to undo (lines/blocks absent, packages absent, units off).
    pub undo: Spec,
    /// Files to delete afterwards.
    pub files: Vec<String>,
    /// Directories to remove when empty.
    pub dirs: Vec<String>,
    /// Users to delete.
    pub users: Vec<String>,
    /// Groups to delete.
    pub groups: Vec<String>,
}

fn owned(value: &Value, origin: &Origin) -> bool {
    match origin {
        Origin::Block { block, index } => blocks(value, block)
            .get(*index)
            .and_then(|b| boolean(b, "owned"))
            .unwrap_or(false),
        Origin::Preset { preset, .. } => *preset == "jobs",
    }
}

/// Plans the removal of everything `value` owns; `spec_items` come from the same value.
pub fn plan(value: &Value, base: &Spec, origins: &[(Item, Origin)]) -> Removal {
    let mut r = Removal {
        undo: Spec {
            items: Vec::new(),
            ..base.clone()
        },
        files: Vec::new(),
        dirs: Vec::new(),
        users: Vec::new(),
        groups: Vec::new(),
    };
    for (item, origin) in origins {
        if !owned(value, origin) {
            continue;
        }
        match item.clone() {
            Item::Line(mut l) => {
                l.state = Presence::Absent;
                l.create = false;
                r.undo.items.push(Item::Line(l));
            }
            Item::Block(mut b) => {
                b.state = Presence::Absent;
                b.create = false;
                r.undo.items.push(Item::Block(b));
            }
            Item::AptPackages(mut p) => {
                p.state = PackageState::Absent;
                r.undo.items.push(Item::AptPackages(p));
            }
            Item::SystemdUnit(mut u) => {
                let name = u.name.clone();
                let has_file = u.content.is_some();
                u.enabled = Some(false);
                u.state = Some(UnitState::Stopped);
                u.restart_on.clear();
                r.undo.items.push(Item::SystemdUnit(u));
                if has_file {
                    r.files.push(format!("/etc/systemd/system/{name}"));
                }
            }
            Item::File(f) => r.files.push(f.path.display().to_string()),
            Item::Directory(d) => {
                if matches!(origin, Origin::Block { .. }) {
                    r.dirs.push(d.path.display().to_string());
                }
            }
            Item::User(u) => r.users.push(u.name),
            Item::Group(g) => r.groups.push(g.name),
            _ => {}
        }
    }
    r.dirs.reverse();
    r
}

async fn exec(ssh: &NodeSsh, target: &Target, argv: &[String]) -> Result<CommandOutput, SshError> {
    match target {
        Target::Container { vmid, .. } => ssh.pct_exec(*vmid, argv, None).await,
        Target::Node { .. } => ssh.run(argv, None).await,
    }
}

fn rooted(root: Option<&str>, path: &str) -> String {
    match root.filter(|r| *r != "/") {
        Some(r) => format!("{}{path}", r.trim_end_matches('/')),
        None => path.to_string(),
    }
}

/// Deletes files, users, groups and empty directories; returns what could not be removed.
pub async fn remove_leftovers(
    ssh: &NodeSsh,
    target: &Target,
    r: &Removal,
    root: Option<&str>,
) -> Result<Vec<String>, SshError> {
    let mut problems = Vec::new();
    let run = |argv: Vec<String>| async move {
        let out = exec(ssh, target, &argv).await?;
        Ok::<_, SshError>((argv, out))
    };
    let root_args = |cmd: &str| -> Vec<String> {
        let mut v = vec![cmd.to_string()];
        if let Some(r) = root.filter(|r| *r != "/") {
            v.push("--root".into());
            v.push(r.to_string());
        }
        v
    };
    let mut commands: Vec<Vec<String>> = Vec::new();
    if !r.files.is_empty() {
        let mut argv = vec!["rm".to_string(), "-f".into(), "--".into()];
        argv.extend(r.files.iter().map(|f| rooted(root, f)));
        commands.push(argv);
    }
    for u in &r.users {
        let mut argv = root_args("userdel");
        argv.push(u.clone());
        commands.push(argv);
    }
    for g in &r.groups {
        let mut argv = root_args("groupdel");
        argv.push(g.clone());
        commands.push(argv);
    }
    for d in &r.dirs {
        commands.push(vec!["rmdir".into(), "--".into(), rooted(root, d)]);
    }
    for argv in commands {
        let (argv, out) = run(argv).await?;
        // userdel/groupdel exit 6 when the account is already gone: nothing to do.
        let gone = matches!(argv[0].as_str(), "userdel" | "groupdel") && out.status == 6;
        if out.status != 0 && !gone {
            problems.push(format!("`{}`: {}", argv.join(" "), out.stderr_tail()));
        }
    }
    if root.is_none_or(|r| r == "/") && removes_any_unit(r) {
        let _ = exec(ssh, target, &["systemctl".into(), "daemon-reload".into()]).await;
    }
    Ok(problems)
}

fn removes_any_unit(r: &Removal) -> bool {
    r.files
        .iter()
        .any(|f| f.starts_with("/etc/systemd/system/"))
}
