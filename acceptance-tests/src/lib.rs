//! Shared helpers for the end-to-end tests that drive real Terraform against pve-testhost.
