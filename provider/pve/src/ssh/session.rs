//! The SSH connection: host key verification, authentication, running argv.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client::{self, Handle};
use russh::keys::{HashAlg, PrivateKey, PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate};
use russh::ChannelMsg;
use secrecy::{ExposeSecret, SecretString};

use super::quote::command_line;
use super::SshError;

/// How to authenticate.
#[derive(Clone)]
pub enum SshAuth {
    /// A private key in OpenSSH or PEM format (the file contents).
    PrivateKey {
        key: SecretString,
        passphrase: Option<SecretString>,
    },
    /// The keys of the ssh-agent at `$SSH_AUTH_SOCK`.
    Agent,
}

impl fmt::Debug for SshAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PrivateKey { .. } => f.write_str("PrivateKey([redacted])"),
            Self::Agent => f.write_str("Agent"),
        }
    }
}

/// How to trust the node's host key.
#[derive(Clone, Debug)]
pub enum HostKeyCheck {
    /// An OpenSSH `known_hosts` file.
    KnownHosts(PathBuf),
    /// Exactly this public key.
    Pinned(PublicKey),
    /// A key with this `SHA256:...` fingerprint (as `ssh-keygen -l` prints it).
    Fingerprint(String),
}

impl HostKeyCheck {
    /// Parses a pin: `SHA256:<base64>` or a public key line `ssh-ed25519 AAAA... [comment]`.
    pub fn parse_pin(text: &str) -> Result<Self, SshError> {
        let t = text.trim();
        if let Some(b64) = t.strip_prefix("SHA256:") {
            let ok = b64.len() == 43
                && b64
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
            if !ok {
                return Err(SshError::Config {
                    attribute: "host_key",
                    message: format!("'{t}' is not a SHA256 fingerprint (SHA256: followed by 43 base64 characters)"),
                });
            }
            return Ok(Self::Fingerprint(t.to_string()));
        }
        PublicKey::from_openssh(t)
            .map(Self::Pinned)
            .map_err(|e| SshError::Config {
                attribute: "host_key",
                message: format!("expected 'ssh-ed25519 AAAA...' or 'SHA256:...': {e}"),
            })
    }
}

/// Connection settings.
#[derive(Clone, Debug)]
pub struct SshOptions {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub auth: SshAuth,
    pub host_key: HostKeyCheck,
    pub connect_timeout: Duration,
    /// Upper bound for one remote command.
    pub command_timeout: Duration,
}

impl SshOptions {
    /// Defaults: port 22, user root, 15 s to connect, 120 s per command.
    pub fn new(host: &str, auth: SshAuth, host_key: HostKeyCheck) -> Self {
        Self {
            host: host.to_string(),
            port: 22,
            user: "root".to_string(),
            auth,
            host_key,
            connect_timeout: Duration::from_secs(15),
            command_timeout: Duration::from_secs(120),
        }
    }
}

/// Exit status and output of a remote command.
#[derive(Clone, Debug, Default)]
pub struct CommandOutput {
    pub status: u32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl CommandOutput {
    /// stdout as text.
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// The last lines of stderr, for error messages.
    pub fn stderr_tail(&self) -> String {
        let text = String::from_utf8_lossy(&self.stderr);
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        lines[lines.len().saturating_sub(5)..].join(" | ")
    }
}

struct Verifier {
    check: HostKeyCheck,
    host: String,
    port: u16,
    seen: Arc<Mutex<Option<(String, String)>>>,
}

impl client::Handler for Verifier {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let PublicKeyOrCertificate::PublicKey { key, .. } = key else {
            self.record(
                "(certificate)",
                "host certificates are not supported; pin the plain host key",
            );
            return Ok(false);
        };
        let fp = key.fingerprint(HashAlg::Sha256).to_string();
        let verdict = match &self.check {
            HostKeyCheck::Pinned(pin) => (pin.key_data() == key.key_data())
                .then_some(())
                .ok_or("it differs from the pinned host_key"),
            HostKeyCheck::Fingerprint(pin) => (*pin == fp)
                .then_some(())
                .ok_or("it differs from the pinned fingerprint"),
            HostKeyCheck::KnownHosts(path) => match russh::keys::check_known_hosts_path(
                &self.host, self.port, key, path,
            ) {
                Ok(true) => Ok(()),
                Ok(false) => Err("the host is not in known_hosts"),
                Err(russh::keys::Error::KeyChanged { .. }) => Err(
                    "known_hosts has a DIFFERENT key for this host (possible man-in-the-middle)",
                ),
                Err(_) => Err("known_hosts could not be read"),
            },
        };
        match verdict {
            Ok(()) => Ok(true),
            Err(reason) => {
                self.record(&fp, reason);
                Ok(false)
            }
        }
    }
}

impl Verifier {
    fn record(&self, fp: &str, reason: &str) {
        if let Ok(mut g) = self.seen.lock() {
            *g = Some((fp.to_string(), reason.to_string()));
        }
    }
}

/// An authenticated SSH connection to a node; runs any number of commands.
pub struct NodeSsh {
    handle: Handle<Verifier>,
    opts: SshOptions,
}

impl fmt::Debug for NodeSsh {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeSsh")
            .field("host", &self.opts.host)
            .field("port", &self.opts.port)
            .finish()
    }
}

impl NodeSsh {
    /// Connects, verifies the host key and authenticates.
    pub async fn connect(opts: &SshOptions) -> Result<Self, SshError> {
        let config = Arc::new(client::Config {
            inactivity_timeout: Some(opts.command_timeout + Duration::from_secs(30)),
            ..Default::default()
        });
        let seen = Arc::new(Mutex::new(None));
        let verifier = Verifier {
            check: opts.host_key.clone(),
            host: opts.host.clone(),
            port: opts.port,
            seen: seen.clone(),
        };
        let connect_err = |message: String| SshError::Connect {
            host: opts.host.clone(),
            port: opts.port,
            message,
        };
        let fut = client::connect(config, (opts.host.as_str(), opts.port), verifier);
        let mut handle = match tokio::time::timeout(opts.connect_timeout, fut).await {
            Err(_) => {
                return Err(connect_err(format!(
                    "timed out after {}s",
                    opts.connect_timeout.as_secs()
                )))
            }
            Ok(Err(e)) => {
                if let Some((fingerprint, reason)) = seen.lock().ok().and_then(|g| g.clone()) {
                    return Err(SshError::HostKey {
                        host: opts.host.clone(),
                        port: opts.port,
                        fingerprint,
                        reason,
                    });
                }
                return Err(connect_err(e.to_string()));
            }
            Ok(Ok(h)) => h,
        };
        let auth_err = |message: String| SshError::Auth {
            user: opts.user.clone(),
            message,
        };
        let ok = match &opts.auth {
            SshAuth::PrivateKey { key, passphrase } => {
                let key = russh::keys::decode_secret_key(
                    key.expose_secret(),
                    passphrase.as_ref().map(|p| p.expose_secret()),
                )
                .map_err(|e| SshError::Config {
                    attribute: "private_key",
                    message: format!("cannot read the private key (OpenSSH or PEM expected): {e}"),
                })?;
                let hash = handle
                    .best_supported_rsa_hash()
                    .await
                    .map_err(|e| auth_err(e.to_string()))?
                    .flatten();
                let key: Arc<PrivateKey> = Arc::new(key);
                handle
                    .authenticate_publickey(
                        opts.user.clone(),
                        PrivateKeyWithHashAlg::new(key, hash),
                    )
                    .await
                    .map_err(|e| auth_err(e.to_string()))?
                    .success()
            }
            SshAuth::Agent => {
                let mut agent = russh::keys::agent::client::AgentClient::connect_env()
                    .await
                    .map_err(|e| SshError::Config {
                        attribute: "agent",
                        message: format!("cannot reach the ssh-agent at $SSH_AUTH_SOCK: {e}"),
                    })?;
                let ids = agent
                    .request_identities()
                    .await
                    .map_err(|e| auth_err(format!("ssh-agent: {e}")))?;
                let hash = handle
                    .best_supported_rsa_hash()
                    .await
                    .map_err(|e| auth_err(e.to_string()))?
                    .flatten();
                let mut ok = false;
                for id in ids {
                    let key = id.public_key().into_owned();
                    let res = handle
                        .authenticate_publickey_with(opts.user.clone(), key, hash, &mut agent)
                        .await
                        .map_err(|e| auth_err(format!("ssh-agent: {e:?}")))?;
                    if res.success() {
                        ok = true;
                        break;
                    }
                }
                ok
            }
        };
        if !ok {
            return Err(auth_err("the server refused the key; add its public key to the node's ~/.ssh/authorized_keys".into()));
        }
        tracing::debug!(host = %opts.host, port = opts.port, user = %opts.user, "SSH connected");
        Ok(Self {
            handle,
            opts: opts.clone(),
        })
    }

    /// Whether the connection is gone (closed by the server, or idle past its timeout), so a
    /// caller holding on to the session knows to reconnect.
    pub fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }

    /// Runs argv (quoted for the remote shell), feeding `stdin` if given.
    pub async fn run<S: AsRef<str>>(
        &self,
        argv: &[S],
        stdin: Option<&[u8]>,
    ) -> Result<CommandOutput, SshError> {
        let line = command_line(argv)?;
        let program = argv
            .first()
            .map(|a| a.as_ref().to_string())
            .unwrap_or_default();
        tracing::debug!(%program, args = argv.len(), "SSH exec");
        let fut = self.exec(&line, stdin);
        match tokio::time::timeout(self.opts.command_timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(SshError::Timeout {
                program,
                secs: self.opts.command_timeout.as_secs(),
            }),
        }
    }

    /// Like [`Self::run`], failing on a non-zero exit status.
    pub async fn run_checked<S: AsRef<str>>(
        &self,
        argv: &[S],
        stdin: Option<&[u8]>,
    ) -> Result<CommandOutput, SshError> {
        let out = self.run(argv, stdin).await?;
        if out.status != 0 {
            return Err(SshError::Command {
                program: argv
                    .first()
                    .map(|a| a.as_ref().to_string())
                    .unwrap_or_default(),
                status: out.status,
                stderr: out.stderr_tail(),
            });
        }
        Ok(out)
    }

    async fn exec(&self, line: &str, stdin: Option<&[u8]>) -> Result<CommandOutput, SshError> {
        let proto = |e: russh::Error| SshError::Protocol(e.to_string());
        let mut channel = self.handle.channel_open_session().await.map_err(proto)?;
        channel.exec(true, line.as_bytes()).await.map_err(proto)?;
        if let Some(data) = stdin {
            channel.data(data).await.map_err(proto)?;
        }
        channel.eof().await.map_err(proto)?;
        let mut out = CommandOutput::default();
        let mut status = None;
        while let Some(msg) = channel.wait().await {
            match msg {
                ChannelMsg::Data { data } => out.stdout.extend_from_slice(&data),
                ChannelMsg::ExtendedData { data, ext: 1 } => out.stderr.extend_from_slice(&data),
                ChannelMsg::ExitStatus { exit_status } => status = Some(exit_status),
                ChannelMsg::ExitSignal { signal_name, .. } => {
                    return Err(SshError::Protocol(format!(
                        "remote command killed by signal {signal_name:?}"
                    )));
                }
                _ => {}
            }
        }
        out.status = status.ok_or_else(|| {
            SshError::Protocol("the remote command ended without an exit status".into())
        })?;
        Ok(out)
    }

    /// Reads a remote file.
    pub async fn read_file(&self, path: &str) -> Result<Vec<u8>, SshError> {
        check_remote_path(path)?;
        let out = self.run(&["cat", "--", path], None).await?;
        match out.status {
            0 => Ok(out.stdout),
            _ if out.stderr_tail().contains("No such file") => Err(SshError::NotFound(format!(
                "{path} does not exist on the node"
            ))),
            status => Err(SshError::Command {
                program: "cat".into(),
                status,
                stderr: out.stderr_tail(),
            }),
        }
    }

    /// Writes a remote file atomically: stdin streamed into a temporary file in the same
    /// directory, flushed, then renamed over the target.
    pub async fn upload_file(&self, path: &str, contents: &[u8]) -> Result<(), SshError> {
        check_remote_path(path)?;
        self.run_checked(
            &["sh", "-c", UPLOAD_SCRIPT, "pvelxc-upload", path],
            Some(contents),
        )
        .await?;
        Ok(())
    }

    /// Closes the connection.
    pub async fn close(self) {
        let _ = self
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
    }
}

/// `$1` = target path; stdin = contents.
const UPLOAD_SCRIPT: &str = r#"set -eu
target=$1
tmp=$target.tmp.$$
trap 'rm -f -- "$tmp"' EXIT
cat > "$tmp"
sync -- "$tmp" 2>/dev/null || true
mv -f -- "$tmp" "$target"
trap - EXIT
"#;

/// Remote paths must be absolute and free of control characters.
pub(crate) fn check_remote_path(path: &str) -> Result<(), SshError> {
    if !path.starts_with('/') || path.chars().any(char::is_control) {
        return Err(SshError::InvalidInput(format!(
            "{path:?} is not an absolute path without control characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins() {
        let fp = "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s";
        assert!(matches!(
            HostKeyCheck::parse_pin(fp).unwrap(),
            HostKeyCheck::Fingerprint(_)
        ));
        let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl user@host";
        assert!(matches!(
            HostKeyCheck::parse_pin(key).unwrap(),
            HostKeyCheck::Pinned(_)
        ));
        for bad in ["SHA256:short", "ssh-ed25519 notbase64", "MD5:aa:bb"] {
            let e = HostKeyCheck::parse_pin(bad).unwrap_err();
            assert!(e.to_string().starts_with("ssh.host_key: "), "{e}");
        }
    }

    #[test]
    fn auth_debug_is_redacted() {
        let a = SshAuth::PrivateKey {
            key: SecretString::from("-----BEGIN OPENSSH PRIVATE KEY-----secret".to_string()),
            passphrase: None,
        };
        assert!(!format!("{a:?}").contains("secret"));
    }
}
