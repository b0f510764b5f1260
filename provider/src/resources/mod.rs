//! Managed resource types.

pub mod container;
pub mod container_config;
pub mod node_config;
