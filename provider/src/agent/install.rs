//! Putting the agent where it runs: on the node, and through the node into a container.

use std::time::{Duration, Instant};

use pvelxc_pve::ssh::NodeSsh;

use super::{AgentBinary, AgentError};

/// Where the agent lives inside a container.
pub const CONTAINER_AGENT_PATH: &str = "/usr/local/sbin/pvelxc-agent";
/// Where versions of the agent are kept on the node, one file per SHA-256.
pub const NODE_AGENT_DIR: &str = "/var/lib/pvelxc/agent";
/// The name the new copy gets in the container before it replaces the old one, so a
/// failed push never leaves a truncated agent at [`CONTAINER_AGENT_PATH`].
const CONTAINER_STAGING_PATH: &str = "/usr/local/sbin/.pvelxc-agent.new";

/// Where the agent runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Inside container `vmid` on `node`, reached with `pct`.
    Container {
        /// Node name (for messages).
        node: String,
        /// Container ID.
        vmid: u32,
    },
    /// On the node itself.
    Node {
        /// Node name (for messages).
        node: String,
    },
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Container { node, vmid } => write!(f, "container {node}/{vmid}"),
            Target::Node { node } => write!(f, "node {node}"),
        }
    }
}

/// What [`install`] did.
#[derive(Debug, Clone)]
pub struct InstallOutcome {
    /// Whether a new copy was written (false: the target already had this version).
    pub installed: bool,
    /// SHA-256 of the agent now in place.
    pub sha256: String,
    /// Path of the agent in the target.
    pub path: String,
    /// Wall time spent.
    pub elapsed: Duration,
}

/// The node's path for this agent version.
pub fn node_agent_path(binary: &AgentBinary) -> String {
    format!("{NODE_AGENT_DIR}/pvelxc-agent-{}", binary.sha256)
}

/// Where `binary` runs in `target` once installed.
pub fn agent_path(target: &Target, binary: &AgentBinary) -> String {
    match target {
        Target::Container { .. } => CONTAINER_AGENT_PATH.into(),
        Target::Node { .. } => node_agent_path(binary),
    }
}

/// Parses `sha256sum` output: the hash, or `None` when the file is missing.
fn parse_sha256sum(status: u32, stdout: &str) -> Option<String> {
    if status != 0 {
        return None;
    }
    let hash = stdout.split_whitespace().next()?;
    (hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| hash.to_ascii_lowercase())
}

async fn node_hash(ssh: &NodeSsh, path: &str) -> Result<Option<String>, AgentError> {
    let out = ssh.run(&["sha256sum", "--", path], None).await?;
    Ok(parse_sha256sum(out.status, &out.stdout_text()))
}

async fn container_hash(
    ssh: &NodeSsh,
    vmid: u32,
    path: &str,
) -> Result<Option<String>, AgentError> {
    let out = ssh.pct_exec(vmid, &["sha256sum", "--", path], None).await?;
    Ok(parse_sha256sum(out.status, &out.stdout_text()))
}

/// Makes sure this agent version is on the node; returns its path there.
async fn ensure_on_node(ssh: &NodeSsh, binary: &AgentBinary) -> Result<(String, bool), AgentError> {
    let path = node_agent_path(binary);
    if node_hash(ssh, &path).await?.as_deref() == Some(binary.sha256.as_str()) {
        return Ok((path, false));
    }
    ssh.run_checked(&["mkdir", "-p", "-m", "0755", "--", NODE_AGENT_DIR], None)
        .await?;
    ssh.upload_file(&path, &binary.bytes).await?;
    ssh.run_checked(&["chmod", "0755", "--", &path], None)
        .await?;
    match node_hash(ssh, &path).await? {
        Some(h) if h == binary.sha256 => Ok((path, true)),
        found => Err(AgentError::Checksum {
            target: format!("the node at {path}"),
            found: found.unwrap_or_else(|| "nothing".into()),
            expected: binary.sha256.clone(),
        }),
    }
}

/// Installs `binary` in `target` unless the same version is already there.
pub async fn install(
    ssh: &NodeSsh,
    target: &Target,
    binary: &AgentBinary,
) -> Result<InstallOutcome, AgentError> {
    let started = Instant::now();
    match target {
        Target::Node { .. } => {
            let (path, installed) = ensure_on_node(ssh, binary).await?;
            Ok(InstallOutcome {
                installed,
                sha256: binary.sha256.clone(),
                path,
                elapsed: started.elapsed(),
            })
        }
        Target::Container { vmid, .. } => {
            let vmid = *vmid;
            let current = container_hash(ssh, vmid, CONTAINER_AGENT_PATH).await?;
            if current.as_deref() == Some(binary.sha256.as_str()) {
                return Ok(InstallOutcome {
                    installed: false,
                    sha256: binary.sha256.clone(),
                    path: CONTAINER_AGENT_PATH.into(),
                    elapsed: started.elapsed(),
                });
            }
            let (node_path, _) = ensure_on_node(ssh, binary).await?;
            let mkdir = ssh
                .pct_exec(vmid, &["mkdir", "-p", "/usr/local/sbin"], None)
                .await?;
            if mkdir.status != 0 {
                return Err(AgentError::Run {
                    target: target.to_string(),
                    status: mkdir.status,
                    message: format!("cannot create /usr/local/sbin: {}", mkdir.stderr_tail()),
                });
            }
            ssh.pct_push_file(vmid, &node_path, CONTAINER_STAGING_PATH, 0o755)
                .await?;
            let staged = container_hash(ssh, vmid, CONTAINER_STAGING_PATH).await?;
            if staged.as_deref() != Some(binary.sha256.as_str()) {
                let _ = ssh
                    .pct_exec(vmid, &["rm", "-f", "--", CONTAINER_STAGING_PATH], None)
                    .await;
                return Err(AgentError::Checksum {
                    target: format!("{target} at {CONTAINER_STAGING_PATH}"),
                    found: staged.unwrap_or_else(|| "nothing".into()),
                    expected: binary.sha256.clone(),
                });
            }
            let mv = ssh
                .pct_exec(
                    vmid,
                    &[
                        "mv",
                        "-f",
                        "--",
                        CONTAINER_STAGING_PATH,
                        CONTAINER_AGENT_PATH,
                    ],
                    None,
                )
                .await?;
            if mv.status != 0 {
                return Err(AgentError::Run {
                    target: target.to_string(),
                    status: mv.status,
                    message: format!(
                        "cannot move the agent into {CONTAINER_AGENT_PATH}: {}",
                        mv.stderr_tail()
                    ),
                });
            }
            tracing::info!(%target, sha256 = %binary.sha256, previous = ?current, "agent installed");
            Ok(InstallOutcome {
                installed: true,
                sha256: binary.sha256.clone(),
                path: CONTAINER_AGENT_PATH.into(),
                elapsed: started.elapsed(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256sum_output() {
        let h = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(
            parse_sha256sum(0, &format!("{h}  /usr/local/sbin/pvelxc-agent\n")).as_deref(),
            Some(h)
        );
        assert_eq!(parse_sha256sum(1, ""), None);
        assert_eq!(parse_sha256sum(0, "garbage file\n"), None);
    }
}
