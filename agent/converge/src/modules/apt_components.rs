//! Enabling archive components (e.g. `non-free non-free-firmware`, needed for
//! `intel-media-va-driver-non-free`) on every source that carries `main`, in
//! one-line `.list` files and deb822 `.sources` files alike.

use super::{plan_content, Module, Wanted};
use crate::ctx::Ctx;
use crate::error::ItemError;
use crate::plan::Plan;
use pvelxc_spec::AptComponentsItem;
use std::path::{Path, PathBuf};

/// Adds `wanted` components to one-line entries that list `main`.
pub(crate) fn edit_list(text: &str, wanted: &[String]) -> (String, bool) {
    let mut any_main = false;
    let mut out = Vec::new();
    for line in text.lines() {
        let (body, comment) = match line.find('#') {
            Some(i) => (&line[..i], &line[i..]),
            None => (line, ""),
        };
        let words: Vec<&str> = body.split_whitespace().collect();
        let is_entry = matches!(words.first(), Some(&"deb") | Some(&"deb-src"));
        // Skip the type and an optional `[options]` group, then URI and suite.
        let comps_start = if words.get(1).is_some_and(|w| w.starts_with('[')) {
            words.iter().position(|w| w.ends_with(']')).map(|i| i + 3)
        } else {
            Some(3)
        };
        match (is_entry, comps_start) {
            (true, Some(start)) if words.len() > start && words[start..].contains(&"main") => {
                any_main = true;
                let missing: Vec<&str> = wanted
                    .iter()
                    .map(String::as_str)
                    .filter(|c| !words[start..].contains(c))
                    .collect();
                if missing.is_empty() {
                    out.push(line.to_string());
                } else {
                    let mut l = format!("{} {}", body.trim_end(), missing.join(" "));
                    if !comment.is_empty() {
                        l.push(' ');
                        l.push_str(comment);
                    }
                    out.push(l);
                }
            }
            _ => out.push(line.to_string()),
        }
    }
    let mut s = out.join("\n");
    if text.ends_with('\n') || text.is_empty() {
        s.push('\n');
    }
    if s == "\n" && text.is_empty() {
        s.clear();
    }
    (s, any_main)
}

/// Adds `wanted` components to deb822 stanzas whose `Components:` list `main`.
pub(crate) fn edit_sources(text: &str, wanted: &[String]) -> (String, bool) {
    let mut any_main = false;
    let mut out = Vec::new();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            out.push(line.to_string());
            continue;
        };
        if line.starts_with([' ', '\t', '#']) || !key.trim().eq_ignore_ascii_case("components") {
            out.push(line.to_string());
            continue;
        }
        let comps: Vec<&str> = value.split_whitespace().collect();
        if !comps.contains(&"main") {
            out.push(line.to_string());
            continue;
        }
        any_main = true;
        let missing: Vec<&str> = wanted
            .iter()
            .map(String::as_str)
            .filter(|c| !comps.contains(c))
            .collect();
        if missing.is_empty() {
            out.push(line.to_string());
        } else {
            out.push(format!(
                "{}: {} {}",
                key,
                comps.join(" "),
                missing.join(" ")
            ));
        }
    }
    let mut s = out.join("\n");
    if text.ends_with('\n') {
        s.push('\n');
    }
    (s, any_main)
}

impl Module for AptComponentsItem {
    fn plan(&self, ctx: &Ctx<'_>) -> Result<Plan, ItemError> {
        let mut plan = Plan::default();
        let mut files: Vec<PathBuf> = vec![PathBuf::from("/etc/apt/sources.list")];
        let dir = Path::new("/etc/apt/sources.list.d");
        for p in ctx
            .view
            .list(dir)
            .map_err(|e| ItemError::io("cannot list", dir, e))?
        {
            let name = p.to_string_lossy();
            if name.ends_with(".list") || name.ends_with(".sources") {
                files.push(p);
            }
        }
        let mut any_main = false;
        let mut diffs = Vec::new();
        for f in files {
            let Some(bytes) = ctx
                .view
                .read(&f)
                .map_err(|e| ItemError::io("cannot read", &f, e))?
            else {
                continue;
            };
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let (new, main) = if f.to_string_lossy().ends_with(".sources") {
                edit_sources(&text, &self.components)
            } else {
                edit_list(&text, &self.components)
            };
            any_main |= main;
            if new != text {
                let mut sub = Plan::default();
                plan_content(ctx, &f, new.as_bytes(), Wanted::default(), &mut sub)?;
                plan.change(
                    &format!("components in {}", f.display()),
                    None,
                    Some(self.components.join(" ")),
                );
                diffs.extend(sub.diff);
                plan.actions.extend(sub.actions);
            }
        }
        if !any_main {
            return Err(ItemError::Failed(
                "no apt source with component `main` in /etc/apt/sources.list or /etc/apt/sources.list.d/; add the distribution's source first".into(),
            ));
        }
        if !diffs.is_empty() {
            plan.diff = Some(diffs.concat());
        }
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::{edit_list, edit_sources};

    fn nf() -> Vec<String> {
        vec!["non-free".into(), "non-free-firmware".into()]
    }

    #[test]
    fn one_line_sources() {
        let (s, main) = edit_list(
            "deb http://deb.debian.org/debian bookworm main\n# deb x y main\n",
            &nf(),
        );
        assert!(main);
        assert_eq!(s, "deb http://deb.debian.org/debian bookworm main non-free non-free-firmware\n# deb x y main\n");
        assert_eq!(edit_list(&s, &nf()).0, s);
        let (s, _) = edit_list("deb [arch=amd64] http://x bookworm main contrib\n", &nf());
        assert_eq!(
            s,
            "deb [arch=amd64] http://x bookworm main contrib non-free non-free-firmware\n"
        );
    }

    #[test]
    fn deb822_sources() {
        let text = "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n";
        let (s, main) = edit_sources(text, &nf());
        assert!(main);
        assert!(
            s.contains("Components: main non-free non-free-firmware\n"),
            "{s}"
        );
        assert_eq!(edit_sources(&s, &nf()).0, s);
    }
}
