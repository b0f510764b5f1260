//! Shared helpers for the end-to-end tests that drive real Terraform against
//! the locally built providers (and, for container tests, pve-testhost).
//!
//! * [`providers`]: builds the provider binaries and points Terraform at them.
//! * [`terraform`]: finds the Terraform CLIs and runs them in a work directory.

pub mod providers;
pub mod terraform;
