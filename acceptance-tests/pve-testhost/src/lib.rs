//! pve-testhost
