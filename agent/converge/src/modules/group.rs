//! Groups, including `match_host_device`: the group takes the GID of a device node
//! passed through from the host, so `render` in the container is the group the
//! node really carries.

use super::Module;
use crate::accounts::AccountOp;
use crate::ctx::Ctx;
use crate::error::ItemError;
use crate::plan::{Action, IdKind, Plan};
use pvelxc_spec::GroupItem;
use std::os::unix::fs::MetadataExt;

/// The overflow GID unmapped IDs appear as in an unprivileged container.
const OVERFLOW_GID: u32 = 65534;

/// The GID the device node of `match_host_device` carries.
fn device_gid(item: &GroupItem, ctx: &Ctx<'_>) -> Result<Option<u32>, ItemError> {
    let Some(dev) = &item.match_host_device else {
        return Ok(None);
    };
    let meta = std::fs::metadata(ctx.view.host(dev)).map_err(|e| {
            ItemError::Failed(format!(
                "match_host_device {}: {e}; pass the device into the container (devN: or lxc.mount.entry) first",
                dev.display()
            ))
        })?;
    if meta.gid() == OVERFLOW_GID {
        return Err(ItemError::Failed(format!(
                "match_host_device {} is owned by the overflow gid {OVERFLOW_GID}: the host's group is not mapped into this unprivileged container; map it with lxc.idmap or pass the device with devN: ...,gid=<gid>",
                dev.display()
            )));
    }
    Ok(Some(meta.gid()))
}

impl Module for GroupItem {
    fn plan(&self, ctx: &Ctx<'_>) -> Result<Plan, ItemError> {
        let mut plan = Plan::default();
        let wanted = match self.gid {
            Some(g) => Some(g),
            None => device_gid(self, ctx)?,
        };
        let existing = ctx.accounts.group(&self.name);
        let mut ops = Vec::new();
        let mut follow_up = Vec::new();
        if let Some(gid) = wanted {
            if let Some(holder) = ctx
                .accounts
                .group_by_gid(gid)
                .filter(|g| g.name != self.name)
            {
                if self.match_host_device.is_none() {
                    return Err(ItemError::Invalid(format!(
                        "gid {gid} is already used by group {:?} in /etc/group; choose another gid or remove that group",
                        holder.name
                    )));
                }
                // The device decides: move the other group out of the way and
                // re-own its files so they keep their group.
                let new = ctx.accounts.free_gid(gid < 1000).ok_or_else(|| {
                    ItemError::Failed("no free gid left to move the conflicting group to".into())
                })?;
                plan.change(
                    &format!("gid of conflicting group {}", holder.name),
                    Some(gid.to_string()),
                    Some(new.to_string()),
                );
                ops.push(AccountOp::SetGroupGid {
                    name: holder.name.clone(),
                    gid: new,
                });
                follow_up.push(Action::Reown {
                    kind: IdKind::Gid,
                    from: gid,
                    to: new,
                    exclude: self.match_host_device.iter().cloned().collect(),
                });
            }
        }
        match existing {
            None => {
                let gid = match wanted {
                    Some(g) => g,
                    None => ctx
                        .accounts
                        .free_gid(self.system)
                        .ok_or_else(|| ItemError::Failed("no free gid left".into()))?,
                };
                plan.change("name", None, Some(self.name.clone()));
                plan.change("gid", None, Some(gid.to_string()));
                ops.push(AccountOp::AddGroup {
                    name: self.name.clone(),
                    gid,
                });
            }
            Some(g) => {
                if let Some(gid) = wanted.filter(|w| *w != g.gid) {
                    plan.change("gid", Some(g.gid.to_string()), Some(gid.to_string()));
                    ops.push(AccountOp::SetGroupGid {
                        name: self.name.clone(),
                        gid,
                    });
                    follow_up.push(Action::Reown {
                        kind: IdKind::Gid,
                        from: g.gid,
                        to: gid,
                        exclude: self.match_host_device.iter().cloned().collect(),
                    });
                }
            }
        }
        if !ops.is_empty() {
            plan.actions.push(Action::Accounts(ops));
        }
        plan.actions.extend(follow_up);
        Ok(plan)
    }
}
