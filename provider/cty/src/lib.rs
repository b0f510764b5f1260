//! pvelxc-cty
