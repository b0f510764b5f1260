//! terraform-provider-pvelxc: Terraform provider for LXC containers on
//! Proxmox VE.
//!
//! * [`server`]: the plugin process (go-plugin handshake, AutoMTLS, gRPC).
//! * [`framework`]: resources, data sources and functions on cty values,
//!   with Terraform's planning rules enforced centrally.
//! * [`lxc`]: LXC domain logic with no Terraform knowledge.
//! * [`registry`]: the one list of everything the provider offers.

pub mod agent;
pub mod cli;
pub mod config;
pub mod data_sources;
pub mod docs;
pub mod framework;
pub mod functions;
pub mod logging;
pub mod lxc;
pub mod node;
pub mod provider;
pub mod registry;
pub mod resources;
pub mod server;
