//! Unified diffs of file content for `--diff` and the report.

use std::path::Path;

/// A unified diff from `old` to `new`, labelled with `path`.
pub fn unified(path: &Path, old: &str, new: &str) -> String {
    let label = path.display().to_string();
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("{label} (before)"), &format!("{label} (after)"))
        .to_string()
}
