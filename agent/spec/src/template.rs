//! `{{ name }}` placeholders in file templates. Deliberately tiny: variables only,
//! no logic, and an unknown placeholder is an error rather than an empty string.

use std::collections::BTreeMap;

/// Fills every `{{ name }}` in `template` from `vars`.
pub fn render(template: &str, vars: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| {
            format!(
                "unclosed `{{{{` at byte {}",
                template.len() - rest.len() + start
            )
        })?;
        let name = after[..end].trim();
        let value = vars
            .get(name)
            .ok_or_else(|| format!("placeholder `{{{{ {name} }}}}` has no value in `vars`"))?;
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::render;
    use std::collections::BTreeMap;

    #[test]
    fn fills_and_rejects_unknown() {
        let mut vars = BTreeMap::new();
        vars.insert("user".to_string(), "media".to_string());
        assert_eq!(render("User={{ user }}\n", &vars).unwrap(), "User=media\n");
        assert!(render("{{ nope }}", &vars).unwrap_err().contains("nope"));
        assert!(render("{{ user", &vars).unwrap_err().contains("unclosed"));
    }
}
