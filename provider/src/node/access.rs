//! [`NodeAccess`]: one API client and one SSH session per provider instance.

use std::sync::Arc;

use pvelxc_cty::Path;
use pvelxc_pve::api::{
    ApiToken, ClientOptions, Credentials as ApiCredentials, Fingerprint, PasswordLogin, PveClient,
    RetryPolicy, Timeouts, TlsTrust,
};
use pvelxc_pve::ssh::{HostKeyCheck, NodePaths, NodeSsh, SshAuth, SshOptions};
use pvelxc_schema::Diagnostic;
use secrecy::SecretString;
use tokio::sync::{Mutex, OnceCell};

use super::errors::{api_diagnostic, ssh_diagnostic};
use crate::config::{Credentials, ProviderConfig};

/// The node connections of one configured provider.
pub struct NodeAccess {
    config: ProviderConfig,
    api: OnceCell<PveClient>,
    ssh: Mutex<Option<Arc<NodeSsh>>>,
    paths: NodePaths,
}

impl std::fmt::Debug for NodeAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeAccess")
            .field("endpoint", &self.config.endpoint)
            .field("node", &self.config.node)
            .finish_non_exhaustive()
    }
}

impl NodeAccess {
    /// Access for a resolved provider configuration; nothing is dialled yet.
    pub fn new(config: ProviderConfig) -> Self {
        Self {
            config,
            api: OnceCell::new(),
            ssh: Mutex::new(None),
            paths: NodePaths::default(),
        }
    }

    /// The provider configuration.
    pub fn config(&self) -> &ProviderConfig {
        &self.config
    }

    /// Where PVE keeps configs, locks and subordinate id files on the node.
    pub fn paths(&self) -> &NodePaths {
        &self.paths
    }

    /// The node a resource targets: its own `node` attribute, else the provider's default.
    /// `attribute` is the resource's attribute path for the error.
    pub fn node_name<'a>(
        &'a self,
        explicit: Option<&'a str>,
        attribute: Path,
    ) -> Result<&'a str, Diagnostic> {
        explicit
            .filter(|n| !n.is_empty())
            .or(self.config.node.as_deref())
            .ok_or_else(|| {
                Diagnostic::error(
                    attribute,
                    "No node given",
                    "Set node on the resource, or a default node in the provider block \
                     (node = \"pve\") or PVELXC_NODE.",
                )
            })
    }

    /// Whether a root@pam ticket is configured (bind mounts, `devN` and some features need
    /// one on PVE).
    pub fn has_root_login(&self) -> bool {
        matches!(
            &self.config.credentials,
            Some(Credentials::Password { username, .. } | Credentials::Both { username, .. })
                if username == "root@pam"
        )
    }

    /// The API client, built on first use.
    pub async fn api(&self) -> Result<&PveClient, Diagnostic> {
        self.api
            .get_or_try_init(|| async { self.build_api() })
            .await
    }

    fn build_api(&self) -> Result<PveClient, Diagnostic> {
        let endpoint = self.config.require_endpoint()?.to_string();
        let mut credentials = ApiCredentials::default();
        match &self.config.credentials {
            None => {
                return Err(Diagnostic::error(
                    Path::root().attr("api_token"),
                    "No Proxmox VE credentials",
                    "Set api_token (USER@REALM!TOKENID=SECRET) or username and password in the \
                     provider block, or PVELXC_API_TOKEN / PVELXC_USERNAME + PVELXC_PASSWORD.",
                ))
            }
            Some(Credentials::ApiToken(token)) => {
                credentials.token = Some(ApiToken::parse(token).map_err(api_diagnostic)?);
            }
            Some(Credentials::Password { username, password }) => {
                credentials.login = Some(login(username, password)?);
            }
            Some(Credentials::Both {
                token,
                username,
                password,
            }) => {
                credentials.token = Some(ApiToken::parse(token).map_err(api_diagnostic)?);
                credentials.login = Some(login(username, password)?);
            }
        }
        let trust = if let Some(pin) = &self.config.tls_fingerprint {
            TlsTrust::Fingerprint(Fingerprint::parse(pin).map_err(api_diagnostic)?)
        } else if let Some(ca) = &self.config.ca_cert {
            TlsTrust::CaPem(read_pem(ca)?)
        } else if self.config.insecure {
            TlsTrust::Insecure
        } else {
            TlsTrust::SystemRoots
        };
        let timeouts = Timeouts {
            request: self.config.api_timeout,
            ..Timeouts::default()
        };
        PveClient::new(ClientOptions {
            endpoint,
            trust,
            credentials,
            timeouts,
            retry: RetryPolicy::default(),
        })
        .map_err(api_diagnostic)
    }

    /// The SSH session to the node, connected on first use and reconnected when it dropped.
    pub async fn ssh(&self) -> Result<Arc<NodeSsh>, Diagnostic> {
        let mut slot = self.ssh.lock().await;
        if let Some(existing) = slot.as_ref() {
            if !existing.is_closed() {
                return Ok(existing.clone());
            }
        }
        let opts = self.ssh_options()?;
        let session = Arc::new(NodeSsh::connect(&opts).await.map_err(ssh_diagnostic)?);
        *slot = Some(session.clone());
        Ok(session)
    }

    fn ssh_options(&self) -> Result<SshOptions, Diagnostic> {
        let ssh = &self.config.ssh;
        let at = |name: &str| Path::root().attr("ssh").attr(name);
        let host = match &ssh.host {
            Some(h) => h.clone(),
            None => self
                .config
                .endpoint
                .as_deref()
                .and_then(endpoint_host)
                .ok_or_else(|| {
                    Diagnostic::error(
                        at("host"),
                        "No SSH host",
                        "Raw lxc lines, idmap, device presets and the agent need SSH to the \
                         node: set ssh.host (or an endpoint whose host is the node).",
                    )
                })?,
        };
        let auth = if let Some(key) = &ssh.private_key {
            SshAuth::PrivateKey {
                key: SecretString::from(read_key(key)?),
                passphrase: None,
            }
        } else if ssh.agent {
            SshAuth::Agent
        } else {
            return Err(Diagnostic::error(
                at("private_key"),
                "No SSH credentials",
                "Set ssh.private_key (the key text or a file path) or ssh.agent = true \
                 (PVELXC_SSH_PRIVATE_KEY / PVELXC_SSH_AGENT).",
            ));
        };
        let host_key = if let Some(pin) = &ssh.host_key {
            HostKeyCheck::parse_pin(pin).map_err(ssh_diagnostic)?
        } else if let Some(file) = &ssh.known_hosts {
            HostKeyCheck::KnownHosts(expand_home(file).into())
        } else {
            let default = expand_home("~/.ssh/known_hosts");
            if !std::path::Path::new(&default).exists() {
                return Err(Diagnostic::error(
                    at("host_key"),
                    "No way to verify the node's SSH host key",
                    "Set ssh.host_key to the node's key fingerprint (SHA256:...) or \
                     ssh.known_hosts to a known_hosts file; the provider never trusts an \
                     unknown host key.",
                ));
            }
            HostKeyCheck::KnownHosts(default.into())
        };
        let mut opts = SshOptions::new(&host, auth, host_key);
        opts.port = ssh.port;
        opts.user = ssh.user.clone();
        opts.command_timeout = self.config.task_timeout;
        Ok(opts)
    }
}

fn login(username: &str, password: &str) -> Result<PasswordLogin, Diagnostic> {
    PasswordLogin::new(username, SecretString::from(password.to_string())).map_err(api_diagnostic)
}

/// The host part of `https://host:port/...`, without IPv6 brackets.
fn endpoint_host(endpoint: &str) -> Option<String> {
    let rest = endpoint.strip_prefix("https://")?;
    let authority = rest.split('/').next()?;
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        authority.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_string())
}

fn expand_home(path: &str) -> String {
    match (path.strip_prefix("~/"), std::env::var("HOME")) {
        (Some(rest), Ok(home)) => format!("{home}/{rest}"),
        _ => path.to_string(),
    }
}

/// PEM text, or the contents of the file it names.
fn read_pem(value: &str) -> Result<String, Diagnostic> {
    if value.contains("-----BEGIN") {
        return Ok(value.to_string());
    }
    let path = expand_home(value);
    std::fs::read_to_string(&path).map_err(|e| {
        Diagnostic::error(
            Path::root().attr("ca_cert"),
            "Cannot read the CA certificate",
            format!("ca_cert is neither PEM text nor a readable file ({path}: {e})."),
        )
    })
}

/// A private key's text, or the contents of the file it names.
fn read_key(value: &str) -> Result<String, Diagnostic> {
    if value.contains("-----BEGIN") {
        return Ok(value.to_string());
    }
    let path = expand_home(value);
    std::fs::read_to_string(&path).map_err(|e| {
        Diagnostic::error(
            Path::root().attr("ssh").attr("private_key"),
            "Cannot read the SSH private key",
            format!("ssh.private_key is neither key text nor a readable file ({path}: {e})."),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_host_handles_ports_paths_and_ipv6() {
        assert_eq!(
            endpoint_host("https://pve.lan:8006").as_deref(),
            Some("pve.lan")
        );
        assert_eq!(
            endpoint_host("https://10.0.0.2:8006/api2/json").as_deref(),
            Some("10.0.0.2")
        );
        assert_eq!(
            endpoint_host("https://[fd00::2]:8006").as_deref(),
            Some("fd00::2")
        );
        assert_eq!(endpoint_host("http://x"), None);
    }
}
