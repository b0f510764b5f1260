//! Users: UID, primary group, supplementary groups (append or exact), home, shell,
//! comment. Every field is compared on its own, so an unchanged user is a no-op
//! and a changed one reports exactly which fields moved.

use super::Module;
use crate::accounts::AccountOp;
use crate::atomic::Attrs;
use crate::ctx::Ctx;
use crate::error::ItemError;
use crate::plan::{Action, IdKind, Plan};
use pvelxc_spec::{GroupsMode, UserItem};
use std::path::PathBuf;

fn resolve_group(
    item: &UserItem,
    ctx: &Ctx<'_>,
    name: &str,
    field: &str,
) -> Result<u32, ItemError> {
    ctx.accounts.group(name).map(|g| g.gid).ok_or_else(|| {
            ItemError::Invalid(format!(
                "user {:?}: {field} {name:?} does not exist in /etc/group; add a group item before this user",
                item.name
            ))
        })
}

fn check_uid_free(item: &UserItem, ctx: &Ctx<'_>, uid: u32) -> Result<(), ItemError> {
    if let Some(other) = ctx
        .accounts
        .user_by_uid(uid)
        .filter(|u| u.name != item.name)
    {
        return Err(ItemError::Invalid(format!(
                "user {:?}: uid {uid} is already used by user {:?} in /etc/passwd; pick another uid or remove that user",
                item.name, other.name
            )));
    }
    Ok(())
}

impl Module for UserItem {
    fn plan(&self, ctx: &Ctx<'_>) -> Result<Plan, ItemError> {
        let mut plan = Plan::default();
        let mut ops = Vec::new();
        let mut after = Vec::new();
        if let Some(uid) = self.uid {
            check_uid_free(self, ctx, uid)?;
        }
        for g in &self.groups {
            resolve_group(self, ctx, g, "groups entry")?;
        }
        let existing = ctx.accounts.user(&self.name);
        let (uid, gid, home): (u32, u32, PathBuf) = match &existing {
            None => {
                let uid = match self.uid {
                    Some(u) => u,
                    None => ctx
                        .accounts
                        .free_uid(self.system)
                        .ok_or_else(|| ItemError::Failed("no free uid left".into()))?,
                };
                let gid = match &self.group {
                    Some(g) => resolve_group(self, ctx, g, "group")?,
                    None => match ctx.accounts.group(&self.name) {
                        Some(g) => g.gid,
                        None => {
                            // A group of the user's own name, numbered like the user when free.
                            let gid = if ctx.accounts.group_by_gid(uid).is_none() {
                                uid
                            } else {
                                ctx.accounts
                                    .free_gid(self.system)
                                    .ok_or_else(|| ItemError::Failed("no free gid left".into()))?
                            };
                            plan.change("user group", None, Some(format!("{}({gid})", self.name)));
                            ops.push(AccountOp::AddGroup {
                                name: self.name.clone(),
                                gid,
                            });
                            gid
                        }
                    },
                };
                let home = self
                    .home
                    .clone()
                    .unwrap_or_else(|| PathBuf::from(format!("/home/{}", self.name)));
                let shell = self
                    .shell
                    .clone()
                    .unwrap_or_else(|| "/bin/bash".to_string());
                plan.change("name", None, Some(self.name.clone()));
                plan.change("uid", None, Some(uid.to_string()));
                plan.change("group", None, Some(gid.to_string()));
                plan.change("home", None, Some(home.display().to_string()));
                plan.change("shell", None, Some(shell.clone()));
                ops.push(AccountOp::AddUser {
                    name: self.name.clone(),
                    uid,
                    gid,
                    gecos: self.comment.clone().unwrap_or_default(),
                    home: home.display().to_string(),
                    shell,
                });
                (uid, gid, home)
            }
            Some(u) => {
                let mut uid: Option<u32> = None;
                let mut gid: Option<u32> = None;
                let mut gecos: Option<String> = None;
                let mut home: Option<String> = None;
                let mut shell: Option<String> = None;
                if let Some(want) = self.uid.filter(|w| *w != u.uid) {
                    plan.change("uid", Some(u.uid.to_string()), Some(want.to_string()));
                    uid = Some(want);
                    after.push(Action::Reown {
                        kind: IdKind::Uid,
                        from: u.uid,
                        to: want,
                        exclude: Vec::new(),
                    });
                }
                if let Some(g) = &self.group {
                    let want = resolve_group(self, ctx, g, "group")?;
                    if want != u.gid {
                        plan.change(
                            "group",
                            Some(ctx.accounts.gid_label(u.gid)),
                            Some(format!("{g}({want})")),
                        );
                        gid = Some(want);
                    }
                }
                if let Some(c) = self.comment.as_ref().filter(|c| **c != u.gecos) {
                    plan.change("comment", Some(u.gecos.clone()), Some(c.clone()));
                    gecos = Some(c.clone());
                }
                if let Some(h) = self
                    .home
                    .as_ref()
                    .filter(|h| h.as_os_str() != u.home.as_str())
                {
                    plan.change("home", Some(u.home.clone()), Some(h.display().to_string()));
                    home = Some(h.display().to_string());
                }
                if let Some(s) = self.shell.as_ref().filter(|s| **s != u.shell) {
                    plan.change("shell", Some(u.shell.clone()), Some(s.clone()));
                    shell = Some(s.clone());
                }
                let final_uid = uid.unwrap_or(u.uid);
                let final_gid = gid.unwrap_or(u.gid);
                let final_home = home
                    .clone()
                    .map(PathBuf::from)
                    .unwrap_or_else(|| PathBuf::from(&u.home));
                if uid.is_some()
                    || gid.is_some()
                    || gecos.is_some()
                    || home.is_some()
                    || shell.is_some()
                {
                    ops.push(AccountOp::SetUser {
                        name: self.name.clone(),
                        uid,
                        gid,
                        gecos,
                        home,
                        shell,
                    });
                }
                (final_uid, final_gid, final_home)
            }
        };
        // Supplementary groups. The primary group counts as a membership, so listing
        // it in `groups` never causes a change on every run.
        let current = ctx.accounts.memberships(&self.name);
        let is_member = |g: &str| {
            current.iter().any(|c| c == g) || ctx.accounts.group(g).is_some_and(|gr| gr.gid == gid)
        };
        let mut add: Vec<String> = self
            .groups
            .iter()
            .filter(|g| !is_member(g))
            .cloned()
            .collect();
        add.sort();
        add.dedup();
        let remove: Vec<String> = if self.groups_mode == GroupsMode::Exact {
            current
                .iter()
                .filter(|c| !self.groups.contains(c))
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        if !add.is_empty() || !remove.is_empty() {
            let mut new: Vec<String> = current
                .iter()
                .filter(|c| !remove.contains(c))
                .cloned()
                .chain(add.iter().cloned())
                .collect();
            new.sort();
            plan.change("groups", Some(current.join(",")), Some(new.join(",")));
            for g in add {
                ops.push(AccountOp::AddMember {
                    group: g,
                    user: self.name.clone(),
                });
            }
            for g in remove {
                ops.push(AccountOp::RemoveMember {
                    group: g,
                    user: self.name.clone(),
                });
            }
        }
        if !ops.is_empty() {
            plan.actions.push(Action::Accounts(ops));
        }
        plan.actions.extend(after);
        if self.create_home {
            let exists = ctx
                .view
                .meta(&home)
                .map_err(|e| ItemError::io("cannot stat", &home, e))?
                .is_some();
            if !exists {
                super::ensure_parents(ctx, &home, &mut plan)?;
                plan.change("home directory", None, Some(home.display().to_string()));
                plan.actions.push(Action::Mkdir {
                    path: home.clone(),
                    attrs: Attrs {
                        uid,
                        gid,
                        mode: 0o700,
                    },
                });
                plan.actions.push(Action::CopySkel { home, uid, gid });
            }
        }
        Ok(plan)
    }
}
