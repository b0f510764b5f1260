//! Whole files with literal or templated content.

use super::{plan_content, resolve_gid, resolve_uid, Module, Wanted};
use crate::ctx::Ctx;
use crate::error::ItemError;
use crate::plan::Plan;
use pvelxc_spec::FileItem;

impl Module for FileItem {
    fn plan(&self, ctx: &Ctx<'_>) -> Result<Plan, ItemError> {
        let content = match (&self.content, &self.template) {
            (Some(c), None) => c.clone(),
            (None, Some(t)) => pvelxc_spec::template::render(t, &self.vars).map_err(|e| {
                ItemError::Invalid(format!("template of {}: {e}", self.path.display()))
            })?,
            _ => {
                return Err(ItemError::Invalid(format!(
                    "{}: set exactly one of content and template",
                    self.path.display()
                )))
            }
        };
        let want = Wanted {
            uid: resolve_uid(ctx, &self.owner, "owner")?,
            gid: resolve_gid(ctx, &self.group, "group")?,
            mode: self.mode.map(|m| m.bits()),
        };
        let mut plan = Plan::default();
        plan_content(ctx, &self.path, content.as_bytes(), want, &mut plan)?;
        Ok(plan)
    }
}
