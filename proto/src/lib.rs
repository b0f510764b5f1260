//! pvelxc-proto
