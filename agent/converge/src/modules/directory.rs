//! Directories with owner, group and the full mode including setgid (`2775`), and
//! optionally the owner of everything below.

use super::{attr_changes, ensure_parents, resolve_gid, resolve_uid, set_attrs_action, Module};
use crate::atomic::Attrs;
use crate::ctx::Ctx;
use crate::error::ItemError;
use crate::plan::{Action, Plan};
use crate::view::Kind;
use pvelxc_spec::DirectoryItem;

impl Module for DirectoryItem {
    fn plan(&self, ctx: &Ctx<'_>) -> Result<Plan, ItemError> {
        let uid = resolve_uid(ctx, &self.owner, "owner")?;
        let gid = resolve_gid(ctx, &self.group, "group")?;
        let mode = self.mode.map(|m| m.bits());
        let mut plan = Plan::default();
        match ctx
            .view
            .meta(&self.path)
            .map_err(|e| ItemError::io("cannot stat", &self.path, e))?
        {
            None => {
                ensure_parents(ctx, &self.path, &mut plan)?;
                let attrs = Attrs {
                    uid: uid.unwrap_or(0),
                    gid: gid.unwrap_or(0),
                    mode: mode.unwrap_or(0o755),
                };
                plan.change("state", Some("absent".into()), Some("directory".into()));
                plan.change("mode", None, Some(format!("{:04o}", attrs.mode)));
                plan.actions.push(Action::Mkdir {
                    path: self.path.clone(),
                    attrs,
                });
            }
            Some(m) if m.kind != Kind::Dir => {
                return Err(ItemError::Failed(format!(
                    "{} exists but is not a directory",
                    self.path.display()
                )));
            }
            Some(m) => {
                let attrs = Attrs {
                    uid: uid.unwrap_or(m.uid),
                    gid: gid.unwrap_or(m.gid),
                    mode: mode.unwrap_or(m.mode),
                };
                attr_changes(ctx, &m, attrs, &mut plan);
                if attrs.uid != m.uid || attrs.gid != m.gid || attrs.mode != m.mode {
                    plan.actions.push(set_attrs_action(&self.path, &m, attrs));
                }
                if self.recursive_owner && (uid.is_some() || gid.is_some()) {
                    let root = ctx.view.root();
                    let n = crate::reown::count_foreign(root, &ctx.view.host(&self.path), uid, gid)
                        .map_err(|e| ItemError::io("cannot walk", &self.path, e))?;
                    if n > 0 {
                        plan.change(
                            "owner below",
                            Some(format!("{n} entries differ")),
                            Some("all match".into()),
                        );
                        plan.actions.push(Action::OwnTree {
                            path: self.path.clone(),
                            uid,
                            gid,
                        });
                    }
                }
            }
        }
        Ok(plan)
    }
}
