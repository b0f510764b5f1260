//! `pct` on the node: copying files into a container, running programs inside it and
//! asking whether it runs.
//!
//! This is how the agent reaches a container without any network inside it: the bytes go
//! to the node over SSH, then `pct push` puts them into the container's filesystem and
//! `pct exec` runs them. Every call is argv (quoted once for the SSH command line);
//! nothing given by the caller is ever spliced into a script.

use super::session::check_remote_path;
use super::{CommandOutput, NodeSsh, SshError};

/// `$1` = directory for the staging file; stdin = contents. Prints the staging path.
/// The file is created with `mktemp` (mode 0600) so nobody else on the node can swap it.
const STAGE_SCRIPT: &str = r#"set -eu
mkdir -p -m 0700 -- "$1"
tmp=$(mktemp -- "$1/push.XXXXXXXX")
cat > "$tmp"
printf '%s\n' "$tmp"
"#;

/// Where staged uploads wait on the node until `pct push` copied them.
pub const NODE_STAGING_DIR: &str = "/var/lib/pvelxc/staging";

/// Whether a container exists and runs, as `pct status` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerState {
    /// `status: running`.
    Running,
    /// Any other status (`stopped`, ...).
    Stopped,
    /// No such container on this node.
    Missing,
}

fn check_ct_path(path: &str) -> Result<(), SshError> {
    check_remote_path(path).map_err(|_| {
        SshError::InvalidInput(format!(
            "container path {path:?} must be absolute and free of control characters"
        ))
    })
}

fn mode_arg(mode: u32) -> Result<String, SshError> {
    if mode > 0o7777 {
        return Err(SshError::InvalidInput(format!(
            "file mode {mode:o} is not a permission mode (at most 7777)"
        )));
    }
    Ok(format!("{mode:04o}"))
}

impl NodeSsh {
    /// Runs `pct status <vmid>`.
    pub async fn container_state(&self, vmid: u32) -> Result<ContainerState, SshError> {
        let id = vmid.to_string();
        let out = self.run(&["pct", "status", &id], None).await?;
        let text = out.stdout_text();
        if out.status == 0 {
            let status = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("status:"))
                .map(str::trim)
                .ok_or_else(|| SshError::Output(format!("`pct status {vmid}` printed {text:?}")))?;
            return Ok(if status == "running" {
                ContainerState::Running
            } else {
                ContainerState::Stopped
            });
        }
        let err = String::from_utf8_lossy(&out.stderr);
        if err.contains("does not exist") || err.contains("no such") {
            return Ok(ContainerState::Missing);
        }
        Err(SshError::Command {
            program: "pct status".into(),
            status: out.status,
            stderr: out.stderr_tail(),
        })
    }

    /// Whether the container runs.
    pub async fn container_running(&self, vmid: u32) -> Result<bool, SshError> {
        Ok(self.container_state(vmid).await? == ContainerState::Running)
    }

    /// Runs `argv` inside the container (`pct exec <vmid> -- argv...`), feeding `stdin`.
    /// The exit status is the program's; a non-zero status is not an error here.
    pub async fn pct_exec<S: AsRef<str>>(
        &self,
        vmid: u32,
        argv: &[S],
        stdin: Option<&[u8]>,
    ) -> Result<CommandOutput, SshError> {
        if argv.is_empty() {
            return Err(SshError::InvalidInput(
                "pct exec needs a program to run".into(),
            ));
        }
        let id = vmid.to_string();
        let mut full: Vec<&str> = vec!["pct", "exec", &id, "--"];
        full.extend(argv.iter().map(AsRef::as_ref));
        self.run(&full, stdin).await
    }

    /// Copies a file that is already on the node into the container with `mode`
    /// (`pct push <vmid> <node_path> <ct_path> --perms <mode>`), owned by root.
    pub async fn pct_push_file(
        &self,
        vmid: u32,
        node_path: &str,
        ct_path: &str,
        mode: u32,
    ) -> Result<(), SshError> {
        check_remote_path(node_path)?;
        check_ct_path(ct_path)?;
        let id = vmid.to_string();
        let perms = mode_arg(mode)?;
        self.run_checked(
            &["pct", "push", &id, node_path, ct_path, "--perms", &perms],
            None,
        )
        .await?;
        Ok(())
    }

    /// Copies `contents` into the container at `ct_path` with `mode`: staged in a private
    /// temporary file on the node, pushed, and the staging file removed again.
    pub async fn pct_push(
        &self,
        vmid: u32,
        contents: &[u8],
        ct_path: &str,
        mode: u32,
    ) -> Result<(), SshError> {
        check_ct_path(ct_path)?;
        mode_arg(mode)?;
        let out = self
            .run_checked(
                &["sh", "-c", STAGE_SCRIPT, "pvelxc-stage", NODE_STAGING_DIR],
                Some(contents),
            )
            .await?;
        let staged = out.stdout_text().trim().to_string();
        if !staged.starts_with(NODE_STAGING_DIR) || staged.contains('\n') {
            return Err(SshError::Output(format!(
                "staging on the node printed {staged:?} instead of a path"
            )));
        }
        let pushed = self.pct_push_file(vmid, &staged, ct_path, mode).await;
        let removed = self.run(&["rm", "-f", "--", &staged], None).await;
        pushed?;
        removed?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_octal_and_bounded() {
        assert_eq!(mode_arg(0o755).unwrap(), "0755");
        assert_eq!(mode_arg(0o2775).unwrap(), "2775");
        assert!(mode_arg(0o10000).is_err());
    }

    #[test]
    fn container_paths_must_be_absolute_single_lines() {
        assert!(check_ct_path("/usr/local/sbin/pvelxc-agent").is_ok());
        assert!(check_ct_path("usr/local").is_err());
        let err = check_ct_path("/tmp/a\nb").unwrap_err().to_string();
        assert!(err.contains("container path"), "{err}");
    }
}
