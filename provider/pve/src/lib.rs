//! Proxmox VE client for pvelxc.
//!
//! This crate is the layer under the container resource and knows nothing about Terraform:
//!
//! * [`api`]: an async HTTPS client for the PVE REST API (TLS verified by default, API token and
//!   root@pam ticket authentication, retries only where a request is idempotent, task helpers and
//!   a call counter).
//! * [`config`]: the typed container configuration model, PVE's property strings and the
//!   normalisation rules that keep PVE's own rewrites from showing up as differences.
//! * [`pctconf`]: the `/etc/pve/lxc/<vmid>.conf` file format, for the raw `lxc.*` lines the API
//!   cannot write, and PVE's raw-key whitelist.
//! * [`ssh`]: node access over SSH with pinned host keys, safe remote argv quoting, locked conf
//!   edits, subuid/subgid delegation and device discovery.
//!
//! `api` and `ssh` are default features; without them the crate is the pure config and
//! pct.conf model (which is what the fuzz target builds).

#[cfg(feature = "api")]
pub mod api;
pub mod config;
pub mod error;
pub mod pctconf;
#[cfg(feature = "ssh")]
pub mod ssh;
pub mod text;

pub use error::{ApiError, ErrorClass};
