//! pve-testhost-runtime
