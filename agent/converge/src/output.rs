//! Human-readable rendering of a report.

use pvelxc_spec::report::{ItemStatus, Report, RunMode};
use std::fmt::Write as _;

fn label(s: ItemStatus) -> &'static str {
    match s {
        ItemStatus::Ok => "ok",
        ItemStatus::Changed => "changed",
        ItemStatus::WouldChange => "would change",
        ItemStatus::Failed => "FAILED",
        ItemStatus::Skipped => "skipped",
    }
}

/// Renders `report`; with `diff`, content diffs are included.
pub fn human(report: &Report, diff: bool) -> String {
    let mut out = String::new();
    for item in &report.items {
        let _ = writeln!(out, "{:<13} {} {}", label(item.status), item.kind, item.key);
        for c in &item.changes {
            let before = c.before.as_deref().unwrap_or("(none)");
            let after = c.after.as_deref().unwrap_or("(none)");
            if c.before.is_none() && c.after.is_none() {
                let _ = writeln!(out, "              {}: differs", c.field);
            } else {
                let _ = writeln!(out, "              {}: {before} -> {after}", c.field);
            }
        }
        if let Some(e) = &item.error {
            for l in e.lines() {
                let _ = writeln!(out, "              {l}");
            }
        }
        if let Some(c) = &item.check {
            if c.passed {
                let first = c.detail.lines().next().unwrap_or("");
                let _ = writeln!(out, "              passed: {first}");
            }
        }
        if diff {
            if let Some(d) = &item.diff {
                for l in d.lines() {
                    let _ = writeln!(out, "    {l}");
                }
            }
        }
    }
    let s = report.summary;
    let verb = if report.mode == RunMode::Check {
        "would change"
    } else {
        "changed"
    };
    let n = if report.mode == RunMode::Check {
        s.would_change
    } else {
        s.changed
    };
    let _ = writeln!(
        out,
        "{} ok, {n} {verb}, {} failed, {} skipped",
        s.ok, s.failed, s.skipped
    );
    out
}
