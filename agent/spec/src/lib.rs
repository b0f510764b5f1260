//! pvelxc-spec
