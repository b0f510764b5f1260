//! pve-testhost: a Proxmox VE node stand-in for acceptance tests and demos.
//!
//! This crate is the node's HTTPS API (`/api2/json` on port 8006), exactly as strict as
//! PVE's: the official parameter schema, PVE's error shapes and messages, API token and
//! ticket authentication, the root@pam-only permission rules, pending changes and
//! asynchronous tasks with UPIDs. The node itself (pct.conf store, LXC, network, SSH)
//! is `pve-testhost-runtime`.

pub mod app;
pub mod auth;
pub mod error;
pub mod executor;
pub mod faults;
pub mod fsutil;
pub mod handlers;
pub mod params;
pub mod pending;
pub mod perms;
pub mod router;
pub mod schema;
pub mod server;
pub mod tasks;
pub mod tls;

pub use error::ApiError;
pub use server::{ExecutorKind, RunningServer, ServerConfig, ServerError};
