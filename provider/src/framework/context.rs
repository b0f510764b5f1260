//! What every resource and data source operation receives.

use std::sync::{Arc, Mutex};

use pvelxc_cty::Path;
use pvelxc_schema::Diagnostic;
use tokio_util::sync::CancellationToken;

/// Per-call context: the configured client, Terraform's cancellation and a
/// place for warnings.
pub struct Ctx<C> {
    client: Option<Arc<C>>,
    cancel: CancellationToken,
    warnings: Mutex<Vec<Diagnostic>>,
}

impl<C> Ctx<C> {
    /// A context for one call.
    pub fn new(client: Option<Arc<C>>, cancel: CancellationToken) -> Self {
        Ctx {
            client,
            cancel,
            warnings: Mutex::new(Vec::new()),
        }
    }

    /// The client `Configure` produced, or an error telling the user why
    /// there is none.
    pub fn client(&self) -> Result<&C, Diagnostic> {
        self.client.as_deref().ok_or_else(|| {
            Diagnostic::error(
                Path::root(),
                "Provider is not configured",
                "Terraform did not configure the provider before using this resource. Check the \
                 provider block and that its values are known at plan time.",
            )
        })
    }

    /// Cancelled when Terraform sends `Stop` (the user pressed Ctrl-C).
    /// Long operations must `select!` on it and return promptly.
    pub fn cancellation(&self) -> &CancellationToken {
        &self.cancel
    }

    /// True once Terraform asked to stop.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Adds a warning shown next to the operation's result.
    pub fn warn(&self, diag: Diagnostic) {
        if let Ok(mut warnings) = self.warnings.lock() {
            warnings.push(diag);
        }
    }

    /// Takes the collected warnings.
    pub fn take_warnings(&self) -> Vec<Diagnostic> {
        self.warnings
            .lock()
            .map(|mut w| std::mem::take(&mut *w))
            .unwrap_or_default()
    }
}

/// The diagnostic for an operation interrupted by `Stop`.
pub fn cancelled_diagnostic(what: &str) -> Diagnostic {
    Diagnostic::error(
        Path::root(),
        "Operation cancelled",
        format!("Terraform asked the provider to stop while {what}; nothing further was changed."),
    )
}
