//! One line in a file, with lineinfile's rules: a `regexp` selects the line to
//! replace (the last match), otherwise the exact line is looked for; a missing
//! line is appended.

use super::{plan_content, Module, Wanted};
use crate::ctx::Ctx;
use crate::error::ItemError;
use crate::plan::Plan;
use pvelxc_spec::{LineItem, Presence};

/// Applies lineinfile semantics to `text`.
pub(crate) fn edit(
    text: &str,
    line: &str,
    regexp: Option<&regex::Regex>,
    state: Presence,
) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    let matches = |l: &str| match regexp {
        Some(r) => r.is_match(l),
        None => l == line,
    };
    match state {
        Presence::Absent => lines.retain(|l| !matches(l)),
        Presence::Present => {
            if let Some(idx) = lines.iter().rposition(|l| matches(l)) {
                lines[idx] = line;
            } else if !lines.contains(&line) {
                lines.push(line);
            }
        }
    }
    if lines.is_empty() {
        return String::new();
    }
    let mut out = lines.join("\n");
    out.push('\n');
    // Keep the file byte-identical when nothing changed but it lacked a final newline.
    if !text.ends_with('\n') && out.trim_end_matches('\n') == text {
        return text.to_string();
    }
    out
}

impl Module for LineItem {
    fn plan(&self, ctx: &Ctx<'_>) -> Result<Plan, ItemError> {
        let regexp = self
            .regexp
            .as_deref()
            .map(regex::Regex::new)
            .transpose()
            .map_err(|e| {
                ItemError::Invalid(format!(
                    "regexp of line item for {}: {e}",
                    self.path.display()
                ))
            })?;
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
        let new = edit(&text, &self.line, regexp.as_ref(), self.state);
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
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::edit;
    use pvelxc_spec::Presence;

    #[test]
    fn lineinfile_rules() {
        assert_eq!(
            edit("", "auto eth0", None, Presence::Present),
            "auto eth0\n"
        );
        assert_eq!(
            edit("a\nauto eth0\n", "auto eth0", None, Presence::Present),
            "a\nauto eth0\n"
        );
        let r = regex::Regex::new("^PUID=").unwrap();
        assert_eq!(
            edit(
                "PUID=1\nx\nPUID=2\n",
                "PUID=1000",
                Some(&r),
                Presence::Present
            ),
            "PUID=1\nx\nPUID=1000\n"
        );
        assert_eq!(edit("a\nb\n", "b", None, Presence::Absent), "a\n");
        assert_eq!(edit("a", "a", None, Presence::Present), "a");
    }
}
