//! Shared helpers for the end-to-end tests that drive real Terraform against
//! the locally built providers (and, for container tests, pve-testhost).
//!
//! * [`providers`]: builds the provider binaries and points Terraform at them.
//! * [`terraform`]: finds the Terraform CLIs and runs them in a work directory.
//! * [`disc`]: keeps the test host's optical drive loaded.
//! * [`testhost`]: the pve-testhost node, SSH assertions on it, fault injection and
//!   work directories that clean up after themselves.

pub mod agent_fixture;
pub mod disc;
pub mod providers;
pub mod terraform;
pub mod testhost;
