//! Access to the Proxmox VE node for resources and data sources: the API client and the SSH
//! session, both built on first use from the provider configuration and then shared.
//!
//! Building lazily matters: `terraform validate` and plans of unrelated resources never dial
//! the node, and a configuration without an `ssh` block works until something needs SSH, at
//! which point the error names the missing setting.

mod access;
mod errors;

pub use access::NodeAccess;
pub use errors::{api_diagnostic, ssh_diagnostic};
