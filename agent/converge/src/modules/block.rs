//! A block of lines between `# BEGIN …` / `# END …` markers (blockinfile).

use super::{plan_content, Module, Wanted};
use crate::ctx::Ctx;
use crate::error::ItemError;
use crate::plan::Plan;
use pvelxc_spec::{BlockItem, Presence};

/// Replaces, inserts or removes the marked block in `text`.
pub(crate) fn edit(text: &str, marker: &str, block: &str, state: Presence) -> String {
    let begin = marker.replace("{mark}", "BEGIN");
    let end = marker.replace("{mark}", "END");
    let lines: Vec<&str> = text.lines().collect();
    let b = lines.iter().position(|l| *l == begin);
    let e = b.and_then(|b| lines[b..].iter().position(|l| *l == end).map(|e| e + b));
    let mut new_block: Vec<&str> = Vec::new();
    if state == Presence::Present {
        new_block.push(&begin);
        new_block.extend(block.lines());
        new_block.push(&end);
    }
    let mut out: Vec<&str> = match (b, e) {
        (Some(b), Some(e)) => lines[..b]
            .iter()
            .copied()
            .chain(new_block)
            .chain(lines[e + 1..].iter().copied())
            .collect(),
        _ => lines.iter().copied().chain(new_block).collect(),
    };
    if out.is_empty() {
        return String::new();
    }
    out.push("");
    out.join("\n")
}

impl Module for BlockItem {
    fn plan(&self, ctx: &Ctx<'_>) -> Result<Plan, ItemError> {
        let current = ctx
            .view
            .read(&self.path)
            .map_err(|e| ItemError::io("cannot read", &self.path, e))?;
        let mut plan = Plan::default();
        let text = match current {
            Some(c) => String::from_utf8(c).map_err(|_| {
                ItemError::Failed(format!("{} is not UTF-8 text", self.path.display()))
            })?,
            None if self.state == Presence::Absent => return Ok(plan),
            None if !self.create => {
                return Err(ItemError::Failed(format!(
                    "{} does not exist; set create = true or create it first",
                    self.path.display()
                )))
            }
            None => String::new(),
        };
        let new = edit(&text, &self.marker, &self.block, self.state);
        if new == text || (new.trim_end_matches('\n') == text && !text.ends_with('\n')) {
            plan_content(
                ctx,
                &self.path,
                text.as_bytes(),
                Wanted {
                    mode: self.mode.map(|m| m.bits()),
                    ..Wanted::default()
                },
                &mut plan,
            )?;
        } else {
            plan_content(
                ctx,
                &self.path,
                new.as_bytes(),
                Wanted {
                    mode: self.mode.map(|m| m.bits()),
                    ..Wanted::default()
                },
                &mut plan,
            )?;
        }
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::edit;
    use pvelxc_spec::Presence;

    #[test]
    fn replaces_between_markers_only() {
        let m = "# {mark} X";
        let first = edit("keep\n", m, "A=1\n", Presence::Present);
        assert_eq!(first, "keep\n# BEGIN X\nA=1\n# END X\n");
        let second = edit(&first, m, "A=2", Presence::Present);
        assert_eq!(second, "keep\n# BEGIN X\nA=2\n# END X\n");
        assert_eq!(edit(&second, m, "", Presence::Absent), "keep\n");
    }
}
