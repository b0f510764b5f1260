//! Device directory permissions (`/dev/dri` group and mode, its nodes' mode), the
//! runbook's fix for GPU access in privileged containers. Device nodes are
//! recreated at every container start, so this item belongs in every run.

use super::{attr_changes, resolve_gid, set_attrs_action, Module};
use crate::atomic::Attrs;
use crate::ctx::Ctx;
use crate::error::ItemError;
use crate::plan::Plan;
use crate::view::Kind;
use pvelxc_spec::DevicePermissionsItem;

impl Module for DevicePermissionsItem {
    fn plan(&self, ctx: &Ctx<'_>) -> Result<Plan, ItemError> {
        let mut plan = Plan::default();
        let dir_gid = resolve_gid(ctx, &self.group, "group")?;
        let node_gid = resolve_gid(ctx, &self.node_group, "node_group")?;
        let Some(m) = ctx
            .view
            .meta(&self.path)
            .map_err(|e| ItemError::io("cannot stat", &self.path, e))?
        else {
            if self.required {
                return Err(ItemError::Failed(format!(
                    "{} does not exist: the device is not passed through to this container (devN: or lxc.mount.entry on the host)",
                    self.path.display()
                )));
            }
            return Ok(plan);
        };
        let want = Attrs {
            uid: m.uid,
            gid: dir_gid.unwrap_or(m.gid),
            mode: self.mode.map(|x| x.bits()).unwrap_or(m.mode),
        };
        attr_changes(ctx, &m, want, &mut plan);
        if want
            != (Attrs {
                uid: m.uid,
                gid: m.gid,
                mode: m.mode,
            })
        {
            plan.actions.push(set_attrs_action(&self.path, &m, want));
        }
        if m.kind == Kind::Dir && (node_gid.is_some() || self.node_mode.is_some()) {
            for node in ctx
                .view
                .list(&self.path)
                .map_err(|e| ItemError::io("cannot list", &self.path, e))?
            {
                let Some(nm) = ctx
                    .view
                    .lmeta(&node)
                    .map_err(|e| ItemError::io("cannot stat", &node, e))?
                else {
                    continue;
                };
                if nm.kind != Kind::Device {
                    continue;
                }
                let want = Attrs {
                    uid: nm.uid,
                    gid: node_gid.unwrap_or(nm.gid),
                    mode: self.node_mode.map(|x| x.bits()).unwrap_or(nm.mode),
                };
                if want.gid != nm.gid {
                    plan.change(
                        &format!("{} group", node.display()),
                        Some(ctx.accounts.gid_label(nm.gid)),
                        Some(ctx.accounts.gid_label(want.gid)),
                    );
                }
                if want.mode != nm.mode {
                    plan.change(
                        &format!("{} mode", node.display()),
                        Some(format!("{:04o}", nm.mode)),
                        Some(format!("{:04o}", want.mode)),
                    );
                }
                if want.gid != nm.gid || want.mode != nm.mode {
                    plan.actions.push(set_attrs_action(&node, &nm, want));
                }
            }
        }
        Ok(plan)
    }
}
