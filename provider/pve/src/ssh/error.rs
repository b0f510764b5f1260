//! SSH errors.

use thiserror::Error;

/// What went wrong talking to the node over SSH.
#[derive(Debug, Error)]
pub enum SshError {
    /// Bad input from the caller (names the attribute or value).
    #[error("{0}")]
    InvalidInput(String),
    /// Bad client configuration (key material, pins).
    #[error("ssh.{attribute}: {message}")]
    Config {
        attribute: &'static str,
        message: String,
    },
    /// TCP connection or SSH handshake failed.
    #[error("cannot connect to {host}:{port} over SSH: {message}")]
    Connect {
        host: String,
        port: u16,
        message: String,
    },
    /// The server's host key is not the pinned one / not in known_hosts.
    #[error("the SSH host key of {host}:{port} ({fingerprint}) is not trusted: {reason}; pin it with ssh.host_key = \"{fingerprint}\" after checking it on the node (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub)")]
    HostKey {
        host: String,
        port: u16,
        fingerprint: String,
        reason: String,
    },
    /// Authentication was refused.
    #[error("SSH authentication as {user} failed: {message}")]
    Auth { user: String, message: String },
    /// A remote command exited non-zero.
    #[error("remote command '{program}' failed with exit status {status}: {stderr}")]
    Command {
        program: String,
        status: u32,
        stderr: String,
    },
    /// PVE's config lock could not be taken in time.
    #[error("{0}")]
    Locked(String),
    /// The file changed under us (digest mismatch).
    #[error("{0}")]
    Modified(String),
    /// The file does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A command did not finish in time.
    #[error("remote command '{program}' timed out after {secs}s")]
    Timeout { program: String, secs: u64 },
    /// Protocol-level failure.
    #[error("SSH session error: {0}")]
    Protocol(String),
    /// The remote output could not be understood.
    #[error("unexpected output from the node: {0}")]
    Output(String),
}

impl SshError {
    /// Whether trying again later may succeed (lock timeouts, concurrent modification,
    /// dropped connections).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Locked(_) | Self::Modified(_) | Self::Connect { .. } | Self::Protocol(_)
        )
    }
}
