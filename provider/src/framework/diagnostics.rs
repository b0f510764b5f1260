//! Diagnostics and attribute paths in their wire form.
//!
//! Domain errors always travel as diagnostics, never as gRPC status codes:
//! Terraform renders a status error as an opaque "Plugin error" without the
//! attribute it concerns.

use pvelxc_cty::{Path, PathStep};
use pvelxc_proto::tfplugin5 as pb;
use pvelxc_schema::{Diagnostic, Severity};

/// A list of diagnostics; errors and warnings mixed.
pub type Diagnostics = Vec<Diagnostic>;

/// Wire form of one diagnostic.
pub fn to_proto(diag: &Diagnostic) -> pb::Diagnostic {
    pb::Diagnostic {
        severity: match diag.severity {
            Severity::Error => pb::diagnostic::Severity::Error as i32,
            Severity::Warning => pb::diagnostic::Severity::Warning as i32,
        },
        summary: diag.summary.clone(),
        detail: diag.detail.clone(),
        attribute: (!diag.path.is_root()).then(|| path_to_proto(&diag.path)),
    }
}

/// Wire form of many diagnostics.
pub fn all_to_proto(diags: &[Diagnostic]) -> Vec<pb::Diagnostic> {
    diags.iter().map(to_proto).collect()
}

/// A cty path as Terraform's `AttributePath`.
pub fn path_to_proto(path: &Path) -> pb::AttributePath {
    use pb::attribute_path::step::Selector;
    pb::AttributePath {
        steps: path
            .steps()
            .iter()
            .map(|step| pb::attribute_path::Step {
                selector: Some(match step {
                    PathStep::Attr(name) => Selector::AttributeName(name.clone()),
                    PathStep::Key(key) => Selector::ElementKeyString(key.clone()),
                    PathStep::Index(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect(),
    }
}

/// Terraform's `AttributePath` as a cty path; steps without a selector are
/// skipped.
pub fn path_from_proto(path: &pb::AttributePath) -> Path {
    use pb::attribute_path::step::Selector;
    let mut out = Path::root();
    for step in &path.steps {
        match &step.selector {
            Some(Selector::AttributeName(name)) => out.push(PathStep::Attr(name.clone())),
            Some(Selector::ElementKeyString(key)) => out.push(PathStep::Key(key.clone())),
            Some(Selector::ElementKeyInt(i)) => out.push(PathStep::Index(*i)),
            None => {}
        }
    }
    out
}

/// True if any diagnostic is an error.
pub fn has_errors(diags: &[Diagnostic]) -> bool {
    diags.iter().any(Diagnostic::is_error)
}

/// An error diagnostic for a bug in resource code that the framework caught
/// before Terraform would have reported it less clearly.
pub fn provider_bug(
    path: Path,
    summary: impl Into<String>,
    detail: impl Into<String>,
) -> Diagnostic {
    Diagnostic::error(
        path,
        summary,
        format!(
            "{} This is a bug in the provider; please report it with the resource configuration.",
            detail.into()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip_and_root_has_no_attribute() {
        let path = Path::root().attr("rule").index(2).attr("port").key("k");
        assert_eq!(path_from_proto(&path_to_proto(&path)), path);
        let diag = Diagnostic::error(Path::root(), "s", "d");
        assert!(to_proto(&diag).attribute.is_none());
        let diag = Diagnostic::warning(path, "s", "d");
        let wire = to_proto(&diag);
        assert_eq!(wire.severity, pb::diagnostic::Severity::Warning as i32);
        assert_eq!(wire.attribute.map(|a| a.steps.len()), Some(4));
    }
}
