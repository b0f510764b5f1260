//! Turning PVE client errors into Terraform diagnostics.
//!
//! Resource code maps PVE parameter names back to its own attributes where it can; these
//! helpers give every other error a summary, PVE's own words and, for configuration errors,
//! the provider attribute to fix.

use pvelxc_cty::Path;
use pvelxc_pve::ssh::SshError;
use pvelxc_pve::ApiError;
use pvelxc_schema::Diagnostic;

/// A diagnostic for an API error.
pub fn api_diagnostic(err: ApiError) -> Diagnostic {
    match &err {
        ApiError::Config { attribute, .. } => Diagnostic::error(
            Path::root().attr(*attribute),
            "Invalid provider configuration",
            err.to_string(),
        ),
        ApiError::Unauthorized { .. } => Diagnostic::error(
            Path::root().attr("api_token"),
            "Proxmox VE refused the credentials",
            err.to_string(),
        ),
        _ => Diagnostic::error(Path::root(), "Proxmox VE API error", err.to_string()),
    }
}

/// A diagnostic for an SSH error.
pub fn ssh_diagnostic(err: SshError) -> Diagnostic {
    let path = match &err {
        SshError::Config { attribute, .. } => Path::root().attr("ssh").attr(*attribute),
        SshError::HostKey { .. } => Path::root().attr("ssh").attr("host_key"),
        SshError::Auth { .. } => Path::root().attr("ssh").attr("private_key"),
        _ => Path::root(),
    };
    Diagnostic::error(path, "Node access over SSH failed", err.to_string())
}
