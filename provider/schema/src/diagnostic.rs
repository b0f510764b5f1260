//! Diagnostics: what the user (or the provider's own tests) is told.

use pvelxc_cty::Path;
use std::fmt;

/// How serious a diagnostic is. Terraform knows only these two.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// Stops the operation.
    Error,
    /// Shown, but the operation continues.
    Warning,
}

/// One message for Terraform to show, optionally tied to an attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// One line: what is wrong.
    pub summary: String,
    /// Why, and how to fix it.
    pub detail: String,
    /// The attribute concerned; the root path for whole-resource messages.
    pub path: Path,
}

impl Diagnostic {
    /// An error at `path`.
    pub fn error(path: Path, summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            path,
        }
    }

    /// A warning at `path`.
    pub fn warning(path: Path, summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            summary: summary.into(),
            detail: detail.into(),
            path,
        }
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        if self.path.is_root() {
            write!(f, "{sev}: {}: {}", self.summary, self.detail)
        } else {
            write!(
                f,
                "{sev}: {} (at {}): {}",
                self.summary, self.path, self.detail
            )
        }
    }
}

/// True if any diagnostic is an error.
pub fn has_errors(diags: &[Diagnostic]) -> bool {
    diags.iter().any(Diagnostic::is_error)
}
