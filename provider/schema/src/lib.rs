//! pvelxc-schema
