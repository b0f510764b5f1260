//! The node's OpenSSH server: root login with a generated key only, its own host key,
//! listening on 127.0.0.1 and the bridge address, started inside the node namespace so
//! every session (and `pct`) sees the node's files.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::{namespace, NodeConfig, NodeError};
use crate::cmd;

/// SSH access details written to the node info.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SshInfo {
    /// Address to connect to.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Login user.
    pub user: String,
    /// Private key accepted for root.
    pub private_key: PathBuf,
    /// known_hosts file with the node's host key for `host` and the bridge address.
    pub known_hosts: PathBuf,
    /// SHA256 fingerprint of the host key (`ssh-keygen -lf`).
    pub host_key_fingerprint: String,
}

fn keygen(path: &Path, comment: &str) -> Result<(), NodeError> {
    if path.exists() {
        return Ok(());
    }
    cmd::run_text(
        "ssh-keygen",
        &[
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            comment,
            "-f",
            &path.to_string_lossy(),
        ],
    )?;
    Ok(())
}

fn read(path: &Path) -> Result<String, NodeError> {
    fs::read_to_string(path).map_err(|e| NodeError::io(path, e))
}

/// Generates keys and config, starts sshd (idempotent).
pub fn up(config: &NodeConfig) -> Result<SshInfo, NodeError> {
    let dir = config.state_dir.join("ssh");
    fs::create_dir_all(&dir).map_err(|e| NodeError::io(&dir, e))?;
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
        .map_err(|e| NodeError::io(&dir, e))?;
    let host_key = dir.join("ssh_host_ed25519_key");
    let client_key = dir.join("id_ed25519");
    keygen(&host_key, &format!("root@{}", config.name))?;
    keygen(&client_key, "pve-testhost-client")?;
    let authorized = dir.join("authorized_keys");
    fs::write(&authorized, read(&client_key.with_extension("pub"))?)
        .map_err(|e| NodeError::io(&authorized, e))?;

    let host_pub = read(&host_key.with_extension("pub"))?;
    let host_pub = host_pub
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    let port = config.ssh_port;
    let known = dir.join("known_hosts");
    fs::write(
        &known,
        format!(
            "[127.0.0.1]:{port} {host_pub}\n[{}]:{port} {host_pub}\n",
            config.bridge_ip
        ),
    )
    .map_err(|e| NodeError::io(&known, e))?;

    let sshd_config = dir.join("sshd_config");
    let text = format!(
        "Port {port}\nListenAddress 127.0.0.1\nListenAddress {bridge}\nHostKey {host_key}\n\
         PidFile {pid}\nAuthorizedKeysFile {authorized}\nPermitRootLogin prohibit-password\n\
         PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n\
         PrintMotd no\nAcceptEnv LANG LC_*\nSetEnv PVE_TESTHOST_NODE={node}\n\
         Subsystem sftp /usr/lib/openssh/sftp-server\n",
        bridge = config.bridge_ip,
        host_key = host_key.display(),
        pid = dir.join("sshd.pid").display(),
        authorized = authorized.display(),
        node = config.name,
    );
    fs::write(&sshd_config, text).map_err(|e| NodeError::io(&sshd_config, e))?;

    if !super::pid_alive(&dir.join("sshd.pid")) {
        let sep = Path::new("/run/sshd");
        if !sep.exists() {
            // sshd's compiled-in privilege separation directory.
            fs::create_dir_all(sep).map_err(|e| NodeError::io(sep, e))?;
            super::record_created(config, sep)?;
        }
        cmd::run(namespace::command(config, "/usr/sbin/sshd").args([
            "-f",
            &sshd_config.to_string_lossy(),
            "-E",
            &dir.join("sshd.log").to_string_lossy(),
        ]))?;
    }
    let fingerprint = cmd::run_text(
        "ssh-keygen",
        &["-lf", &host_key.with_extension("pub").to_string_lossy()],
    )?;
    Ok(SshInfo {
        host: "127.0.0.1".into(),
        port,
        user: "root".into(),
        private_key: client_key,
        known_hosts: known,
        host_key_fingerprint: fingerprint
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_string(),
    })
}

/// `ssh` argv prefix (without the remote command) for connecting to the node.
pub fn ssh_args(info: &SshInfo) -> Vec<String> {
    vec![
        "-i".into(),
        info.private_key.display().to_string(),
        "-p".into(),
        info.port.to_string(),
        "-o".into(),
        format!("UserKnownHostsFile={}", info.known_hosts.display()),
        "-o".into(),
        "StrictHostKeyChecking=yes".into(),
        "-o".into(),
        "BatchMode=yes".into(),
        "-o".into(),
        "LogLevel=ERROR".into(),
        format!("{}@{}", info.user, info.host),
    ]
}
