//! Data sources: read-only views of the node and its containers.

pub mod container;
pub mod node;
