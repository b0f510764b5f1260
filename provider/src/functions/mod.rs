//! Provider-defined functions: thin wrappers over the `lxc` domain logic.

pub mod idmap;
pub mod parse_size;

pub use idmap::IdmapFunction;
pub use parse_size::ParseSizeFunction;
