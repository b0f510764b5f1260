//! Normalisation of the values PVE rewrites on its own, so a value a user wrote and the value
//! PVE reports back compare equal when they mean the same thing.

/// Splits a list the way `PVE::Tools::split_list` does (`,`, `;`, whitespace, NUL).
pub fn split_list(value: &str) -> Vec<String> {
    value
        .split(|c: char| c == ',' || c == ';' || c == '\0' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Tags as PVE stores them by default: lower-cased, sorted, without duplicates.
///
/// (`GuestHelpers::get_unique_tags`; a datacenter with case-sensitive tag style keeps case,
/// which callers can opt into with `case_sensitive`.)
pub fn normalize_tags<S: AsRef<str>>(tags: &[S], case_sensitive: bool) -> Vec<String> {
    let mut out: Vec<String> = tags
        .iter()
        .flat_map(|t| split_list(t.as_ref()))
        .map(|t| if case_sensitive { t } else { t.to_lowercase() })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Tags joined the way PVE writes them (`a;b;c`).
pub fn render_tags(tags: &[String]) -> String {
    tags.join(";")
}

/// Checks one tag against `pve-tag` (`[a-z0-9_][a-z0-9_\-\+\.]*`, case-insensitive).
pub fn is_valid_tag(tag: &str) -> bool {
    let mut chars = tag.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphanumeric() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+' | '.'))
}

/// Name servers / search domains as PVE stores them: split on any list separator, joined with
/// single spaces (`verify_nameserver_list`).
pub fn normalize_dns_list(value: &str) -> Vec<String> {
    split_list(value)
}

/// Joined with spaces, as PVE writes `nameserver` and `searchdomain`.
pub fn render_dns_list(values: &[String]) -> String {
    values.join(" ")
}

/// Descriptions read back from a pct.conf gain a trailing newline per comment line; the
/// meaningful text is the same.
pub fn normalize_description(value: &str) -> String {
    value.trim_end_matches(['\n', '\r']).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_table() {
        // (user wrote, PVE returns)
        for (user, pve) in [
            (vec!["Media", "gpu"], "gpu;media"),
            (vec!["media;GPU", "media"], "gpu;media"),
            (vec!["b, a c"], "a;b;c"),
            (vec![], ""),
        ] {
            let n = normalize_tags(&user, false);
            assert_eq!(render_tags(&n), pve);
            assert_eq!(normalize_tags(&[pve], false), n);
        }
        assert_eq!(normalize_tags(&["B", "a"], true), vec!["B", "a"]);
        assert!(is_valid_tag("media-1.x+y_z"));
        assert!(!is_valid_tag("-x"));
        assert!(!is_valid_tag("a b"));
    }

    #[test]
    fn dns_lists() {
        assert_eq!(
            render_dns_list(&normalize_dns_list("1.1.1.1,8.8.8.8;  9.9.9.9")),
            "1.1.1.1 8.8.8.8 9.9.9.9"
        );
        assert_eq!(
            normalize_dns_list("lan home.arpa"),
            vec!["lan", "home.arpa"]
        );
    }

    #[test]
    fn description() {
        assert_eq!(
            normalize_description("Transcoder\nIntel Arc\n"),
            "Transcoder\nIntel Arc"
        );
    }
}
