//! One module per item kind, all with the same shape ([`Module::plan`]): read the
//! current state through the context, compare it with the item, and return the
//! field changes plus the actions that make them.

mod apt_components;
mod apt_packages;
mod block;
mod check;
mod device;
mod directory;
mod file;
mod group;
mod line;
mod network;
mod systemd;
mod user;

use crate::atomic::Attrs;
use crate::ctx::Ctx;
use crate::error::ItemError;
use crate::plan::{Action, Plan};
use crate::view::Kind;
use pvelxc_spec::Item;
use std::path::Path;

/// The check → diff → apply shape every module has. `plan` only reads; the
/// engine executes (or, in check mode, simulates) the returned actions.
pub trait Module {
    /// Compares the system with the item and returns what must change.
    fn plan(&self, ctx: &Ctx<'_>) -> Result<Plan, ItemError>;
}

/// The module of an item.
pub fn module(item: &Item) -> &dyn Module {
    match item {
        Item::Group(i) => i,
        Item::User(i) => i,
        Item::AptPackages(i) => i,
        Item::AptComponents(i) => i,
        Item::File(i) => i,
        Item::Line(i) => i,
        Item::Block(i) => i,
        Item::Directory(i) => i,
        Item::DevicePermissions(i) => i,
        Item::NetworkInterface(i) => i,
        Item::SystemdUnit(i) => i,
        Item::Check(i) => i,
    }
}

/// Resolves an owner name or number against the current (possibly simulated) users.
pub(crate) fn resolve_uid(
    ctx: &Ctx<'_>,
    owner: &Option<String>,
    field: &str,
) -> Result<Option<u32>, ItemError> {
    match owner {
        None => Ok(None),
        Some(o) => ctx.accounts.resolve_uid(o).map(Some).ok_or_else(|| {
            ItemError::Invalid(format!("{field} {o:?} is not a user in /etc/passwd; add a user item before this one or use a numeric uid"))
        }),
    }
}

/// Resolves a group name or number against the current (possibly simulated) groups.
pub(crate) fn resolve_gid(
    ctx: &Ctx<'_>,
    group: &Option<String>,
    field: &str,
) -> Result<Option<u32>, ItemError> {
    match group {
        None => Ok(None),
        Some(g) => ctx.accounts.resolve_gid(g).map(Some).ok_or_else(|| {
            ItemError::Invalid(format!("{field} {g:?} is not a group in /etc/group; add a group item before this one or use a numeric gid"))
        }),
    }
}

/// Plans creating missing parent directories of `path` (root-owned, 0755).
pub(crate) fn ensure_parents(ctx: &Ctx<'_>, path: &Path, plan: &mut Plan) -> Result<(), ItemError> {
    let mut missing = Vec::new();
    let mut cur = path.parent();
    while let Some(dir) = cur {
        match ctx
            .view
            .meta(dir)
            .map_err(|e| ItemError::io("cannot stat", dir, e))?
        {
            Some(m) if m.kind == Kind::Dir => break,
            Some(_) => {
                return Err(ItemError::Failed(format!(
                    "{} exists but is not a directory",
                    dir.display()
                )))
            }
            None => missing.push(dir.to_path_buf()),
        }
        cur = dir.parent();
    }
    for dir in missing.into_iter().rev() {
        plan.change("parent", None, Some(dir.display().to_string()));
        plan.actions.push(Action::Mkdir {
            path: dir,
            attrs: Attrs {
                uid: 0,
                gid: 0,
                mode: 0o755,
            },
        });
    }
    Ok(())
}

/// Wanted attributes of a file; `None` keeps the current value (or uses the
/// default for a new file).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Wanted {
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub mode: Option<u32>,
}

/// Plans a whole-file state: content plus attributes. Shared by file, line, block,
/// network and systemd items.
pub(crate) fn plan_content(
    ctx: &Ctx<'_>,
    path: &Path,
    content: &[u8],
    want: Wanted,
    plan: &mut Plan,
) -> Result<(), ItemError> {
    let meta = ctx
        .view
        .meta(path)
        .map_err(|e| ItemError::io("cannot stat", path, e))?;
    match meta {
        None => {
            ensure_parents(ctx, path, plan)?;
            let attrs = Attrs {
                uid: want.uid.unwrap_or(0),
                gid: want.gid.unwrap_or(0),
                mode: want.mode.unwrap_or(0o644),
            };
            plan.change("state", Some("absent".into()), Some("file".into()));
            plan.diff = Some(crate::diff::unified(
                path,
                "",
                &String::from_utf8_lossy(content),
            ));
            plan.actions.push(Action::Write {
                path: path.to_path_buf(),
                content: content.to_vec(),
                attrs,
            });
        }
        Some(m) if m.kind != Kind::File => {
            return Err(ItemError::Failed(format!(
                "{} exists but is not a regular file ({:?})",
                path.display(),
                m.kind
            )));
        }
        Some(m) => {
            let current = ctx
                .view
                .read(path)
                .map_err(|e| ItemError::io("cannot read", path, e))?
                .unwrap_or_default();
            let attrs = Attrs {
                uid: want.uid.unwrap_or(m.uid),
                gid: want.gid.unwrap_or(m.gid),
                mode: want.mode.unwrap_or(m.mode),
            };
            attr_changes(ctx, &m, attrs, plan);
            if current != content {
                plan.change("content", None, None);
                plan.diff = Some(crate::diff::unified(
                    path,
                    &String::from_utf8_lossy(&current),
                    &String::from_utf8_lossy(content),
                ));
                plan.actions.push(Action::Write {
                    path: path.to_path_buf(),
                    content: content.to_vec(),
                    attrs,
                });
            } else if attrs.uid != m.uid || attrs.gid != m.gid || attrs.mode != m.mode {
                plan.actions.push(set_attrs_action(path, &m, attrs));
            }
        }
    }
    Ok(())
}

/// Field changes for owner, group and mode.
pub(crate) fn attr_changes(ctx: &Ctx<'_>, m: &crate::view::Meta, want: Attrs, plan: &mut Plan) {
    if want.uid != m.uid {
        plan.change(
            "owner",
            Some(ctx.accounts.uid_label(m.uid)),
            Some(ctx.accounts.uid_label(want.uid)),
        );
    }
    if want.gid != m.gid {
        plan.change(
            "group",
            Some(ctx.accounts.gid_label(m.gid)),
            Some(ctx.accounts.gid_label(want.gid)),
        );
    }
    if want.mode != m.mode {
        plan.change(
            "mode",
            Some(format!("{:04o}", m.mode)),
            Some(format!("{:04o}", want.mode)),
        );
    }
}

/// The SetAttrs action for the attributes that differ. The mode is always
/// re-applied after an owner change, since chown clears setuid/setgid.
pub(crate) fn set_attrs_action(path: &Path, m: &crate::view::Meta, want: Attrs) -> Action {
    let owner_changes = want.uid != m.uid || want.gid != m.gid;
    Action::SetAttrs {
        path: path.to_path_buf(),
        uid: (want.uid != m.uid).then_some(want.uid),
        gid: (want.gid != m.gid).then_some(want.gid),
        mode: (want.mode != m.mode || (owner_changes && want.mode & 0o6000 != 0))
            .then_some(want.mode),
    }
}
