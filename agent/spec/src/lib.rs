//! pvelxc-spec
pub mod jobs;
