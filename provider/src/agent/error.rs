//! What can go wrong delivering or running the agent.

use pvelxc_pve::ssh::SshError;
use thiserror::Error;

/// A failure of agent delivery or of an agent run that produced no usable report.
#[derive(Debug, Error)]
pub enum AgentError {
    /// The agent binary could not be found or read on the machine running Terraform.
    #[error("cannot use the agent binary {path}: {message}; build it with scripts/build-agent.sh and set agent_binary in the provider block (or PVELXC_AGENT_BINARY) to its path")]
    Binary {
        /// The path tried.
        path: String,
        /// Why it is unusable.
        message: String,
    },
    /// Talking to the node failed.
    #[error(transparent)]
    Ssh(#[from] SshError),
    /// The copy in the target does not have the expected checksum.
    #[error("the agent copied to {target} has SHA-256 {found}, expected {expected}; the copy was corrupted or replaced while installing")]
    Checksum {
        /// Where the copy is.
        target: String,
        /// Hash found.
        found: String,
        /// Hash expected.
        expected: String,
    },
    /// The agent rejected the spec (exit 3): nothing was changed.
    #[error("pvelxc-agent rejected the spec in {target} (nothing was changed): {message}")]
    InvalidSpec {
        /// Container or node.
        target: String,
        /// The agent's message.
        message: String,
    },
    /// The agent could not run at all (lock held, unreadable system files...).
    #[error("pvelxc-agent could not run in {target} (exit {status}): {message}")]
    Run {
        /// Container or node.
        target: String,
        /// Exit status.
        status: u32,
        /// The agent's stderr, shortened.
        message: String,
    },
    /// The agent's output is not a report this provider understands.
    #[error("pvelxc-agent in {target} printed no readable report ({message}); the installed agent may be from another version")]
    Report {
        /// Container or node.
        target: String,
        /// Parse error.
        message: String,
    },
    /// The spec could not be encoded.
    #[error("cannot encode the agent spec: {0}")]
    Encode(String),
}
