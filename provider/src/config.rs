//! The `provider "pvelxc"` block: schema, validation, and resolution of the
//! `PVELXC_*` environment fallbacks at Configure time.
//!
//! Everything is optional so that configurations that only call provider
//! functions need no provider block at all; what an operation needs is
//! checked when that operation runs, with a message naming the attribute
//! and its environment variable.

use pvelxc_cty::{Path, Type, Value};
use pvelxc_schema::{Attribute, Block, Diagnostic, NestedBlock, Schema, Validator};

/// Schema of the provider block.
pub fn provider_schema() -> Schema {
    Schema::new(
        0,
        Block::new()
            .description(
                "Manages LXC containers on a Proxmox VE node through its API, plus a node-side \
                 agent reached over SSH. Every attribute can also come from a `PVELXC_*` \
                 environment variable, so credentials need not be written into configuration.",
            )
            .attr(
                Attribute::string("endpoint")
                    .optional()
                    .description(
                        "Proxmox VE API URL, e.g. `https://pve.lan:8006`. Env: `PVELXC_ENDPOINT`.",
                    )
                    .validator(Validator::regex(
                        r"^https://[^\s/]+(:[0-9]{1,5})?(/.*)?$",
                        "an https:// URL such as https://pve.lan:8006",
                    )),
            )
            .attr(
                Attribute::string("api_token")
                    .optional()
                    .sensitive()
                    .description(
                        "API token as `USER@REALM!TOKENID=SECRET`. Env: `PVELXC_API_TOKEN`. \
                         May be combined with `username = \"root@pam\"` + `password`: the token \
                         is used for everyday calls and the root@pam ticket only where PVE \
                         allows nothing else (host bind mounts, `devN`, some features).",
                    )
                    .validator(Validator::regex(
                        r"^[^@\s]+@[^!\s]+![^=\s]+=\S+$",
                        "USER@REALM!TOKENID=SECRET",
                    )),
            )
            .attr(
                Attribute::string("username")
                    .optional()
                    .description("User for ticket login, e.g. `root@pam`. Env: `PVELXC_USERNAME`.")
                    .validator(Validator::regex(
                        r"^[^@\s]+@[^@\s]+$",
                        "USER@REALM, e.g. root@pam",
                    )),
            )
            .attr(
                Attribute::string("password")
                    .optional()
                    .sensitive()
                    .description("Password for `username`. Env: `PVELXC_PASSWORD`."),
            )
            .attr(
                Attribute::string("ca_cert")
                    .optional()
                    .multiline()
                    .description(
                        "PEM CA certificate that signed the node's API certificate. Env: \
                         `PVELXC_CA_CERT`.",
                    )
                    .validator(Validator::regex(
                        r"^\s*-----BEGIN CERTIFICATE-----",
                        "a PEM certificate starting with -----BEGIN CERTIFICATE-----",
                    )),
            )
            .attr(
                Attribute::string("tls_fingerprint")
                    .optional()
                    .description(
                        "SHA-256 fingerprint of the node's API certificate (`AA:BB:...`, 32 \
                         bytes), pinned instead of a CA. Env: `PVELXC_TLS_FINGERPRINT`.",
                    )
                    .validator(Validator::regex(
                        r"^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$",
                        "32 colon-separated hex bytes (openssl x509 -fingerprint -sha256)",
                    )),
            )
            .attr(Attribute::bool("insecure").optional().description(
                "Skip TLS verification of the API. Only for throwaway labs; prefer \
                         `ca_cert` or `tls_fingerprint`. Env: `PVELXC_INSECURE`.",
            ))
            .attr(
                Attribute::string("node")
                    .optional()
                    .description("Default PVE node name for resources. Env: `PVELXC_NODE`.")
                    .validator(Validator::regex(
                        r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$",
                        "a node host name",
                    )),
            )
            .attr(Attribute::string("agent_binary").optional().description(
                "Path of the static `pvelxc-agent` binary the provider installs into \
                         containers and onto the node. Default: `pvelxc-agent` next to the \
                         provider executable. Env: `PVELXC_AGENT_BINARY`.",
            ))
            .block(NestedBlock::single("ssh", ssh_block()))
            .block(NestedBlock::single("timeouts", timeouts_block())),
    )
}

fn ssh_block() -> Block {
    Block::new()
        .description("SSH access to the node, used to install the agent and for host-side changes.")
        .attr(
            Attribute::string("host")
                .optional()
                .description("Host to connect to; defaults to the endpoint's host. Env: `PVELXC_SSH_HOST`."),
        )
        .attr(
            Attribute::int("port")
                .optional()
                .description("SSH port (default 22). Env: `PVELXC_SSH_PORT`.")
                .validator(Validator::int_range(1, 65535)),
        )
        .attr(
            Attribute::string("user")
                .optional()
                .description("SSH user (default `root`). Env: `PVELXC_SSH_USER`.")
                .validator(Validator::regex(r"^[a-z_][a-z0-9_.-]*$", "a Unix user name")),
        )
        .attr(
            Attribute::string("private_key")
                .optional()
                .sensitive()
                .multiline()
                .description("PEM/OpenSSH private key. Env: `PVELXC_SSH_PRIVATE_KEY`."),
        )
        .attr(
            Attribute::bool("agent")
                .optional()
                .description("Use the running ssh-agent (`SSH_AUTH_SOCK`). Env: `PVELXC_SSH_AGENT`."),
        )
        .attr(
            Attribute::string("known_hosts")
                .optional()
                .description("Path of a known_hosts file to verify the node's host key. Env: `PVELXC_SSH_KNOWN_HOSTS`."),
        )
        .attr(
            Attribute::string("host_key")
                .optional()
                .description(
                    "The node's host key, pinned instead of `known_hosts`: its public key line \
                     (`ssh-ed25519 AAAA...`) or its fingerprint (`SHA256:...`, as \
                     `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` prints it). \
                     Env: `PVELXC_SSH_HOST_KEY`.",
                )
                .validator(Validator::regex(
                    r"^((ssh|ecdsa)-[a-z0-9-]+ [A-Za-z0-9+/=]+( \S+)?|SHA256:[A-Za-z0-9+/]{43})$",
                    "an OpenSSH public key line or a SHA256: fingerprint",
                )),
        )
}

fn timeouts_block() -> Block {
    Block::new()
        .description("How long to wait for the API and for PVE tasks.")
        .attr(
            Attribute::string("api")
                .optional()
                .description("Per-request API timeout, e.g. `30s` (default). Env: `PVELXC_TIMEOUT_API`.")
                .validator(duration_validator()),
        )
        .attr(
            Attribute::string("task")
                .optional()
                .description("Longest wait for a PVE task such as a container create, e.g. `10m` (default). Env: `PVELXC_TIMEOUT_TASK`.")
                .validator(duration_validator()),
        )
}

fn duration_validator() -> Validator {
    Validator::regex(r"^[0-9]+(ms|s|m|h)$", "a duration such as 30s, 10m or 1h")
}

/// Checks that need more than one attribute.
pub fn validate(config: &Value) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let set = |name: &str| config.get_attr(name).is_some_and(|v| !v.is_null());
    if set("password") && !set("username") {
        diags.push(Diagnostic::error(
            Path::root().attr("username"),
            "Missing username",
            "password is set but username is not; set username (e.g. \"root@pam\").",
        ));
    }
    if config.get_attr("insecure").and_then(Value::as_bool) == Some(true)
        && (set("ca_cert") || set("tls_fingerprint"))
    {
        diags.push(Diagnostic::warning(
            Path::root().attr("insecure"),
            "insecure overrides certificate checks",
            "insecure = true disables the ca_cert/tls_fingerprint checks; remove insecure.",
        ));
    }
    diags
}

/// API credentials after env resolution.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// `USER@REALM!TOKENID=SECRET`.
    ApiToken(String),
    /// An API token for everyday calls plus a root@pam ticket for what only root may do
    /// (bind mounts, `devN`, some features), as PVE requires.
    Both {
        /// `USER@REALM!TOKENID=SECRET`.
        token: String,
        /// `USER@REALM`.
        username: String,
        /// The password.
        password: String,
    },
    /// Ticket login.
    Password {
        /// `USER@REALM`.
        username: String,
        /// The password.
        password: String,
    },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::ApiToken(_) => f.write_str("ApiToken(<redacted>)"),
            Credentials::Both { username, .. } => write!(
                f,
                "Both {{ token: <redacted>, username: {username:?}, password: <redacted> }}"
            ),
            Credentials::Password { username, .. } => {
                write!(
                    f,
                    "Password {{ username: {username:?}, password: <redacted> }}"
                )
            }
        }
    }
}

/// SSH settings after env resolution.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SshSettings {
    /// Host (defaults to the endpoint host when used).
    pub host: Option<String>,
    /// Port.
    pub port: u16,
    /// User.
    pub user: String,
    /// Private key text (never logged).
    pub private_key: Option<String>,
    /// Use ssh-agent.
    pub agent: bool,
    /// known_hosts path.
    pub known_hosts: Option<String>,
    /// Pinned host key.
    pub host_key: Option<String>,
}

impl std::fmt::Debug for SshSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field(
                "private_key",
                &self.private_key.as_ref().map(|_| "<redacted>"),
            )
            .field("agent", &self.agent)
            .field("known_hosts", &self.known_hosts)
            .field("host_key", &self.host_key)
            .finish()
    }
}

/// The provider configuration with environment fallbacks applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderConfig {
    /// API URL.
    pub endpoint: Option<String>,
    /// Credentials.
    pub credentials: Option<Credentials>,
    /// PEM CA.
    pub ca_cert: Option<String>,
    /// Pinned certificate fingerprint.
    pub tls_fingerprint: Option<String>,
    /// Skip TLS verification.
    pub insecure: bool,
    /// Default node.
    pub node: Option<String>,
    /// SSH settings.
    pub ssh: SshSettings,
    /// API request timeout.
    pub api_timeout: std::time::Duration,
    /// PVE task timeout.
    pub task_timeout: std::time::Duration,
    /// The agent binary to install (`agent_binary` / `PVELXC_AGENT_BINARY`).
    pub agent_binary: Option<String>,
}

impl ProviderConfig {
    /// The endpoint, or an error telling where to set it.
    pub fn require_endpoint(&self) -> Result<&str, Diagnostic> {
        self.endpoint.as_deref().ok_or_else(|| {
            Diagnostic::error(
                Path::root().attr("endpoint"),
                "Proxmox VE endpoint not set",
                "Set endpoint in the provider block or the PVELXC_ENDPOINT environment variable, \
                 e.g. \"https://pve.lan:8006\".",
            )
        })
    }
}

/// Source of environment variables (a closure so tests need not touch the
/// process environment).
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Resolves the block and `PVELXC_*` fallbacks (the block wins).
pub fn resolve(config: &Value, env: EnvLookup<'_>) -> Result<ProviderConfig, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let root = Path::root();
    let string = |v: &Value, name: &str, var: &str| -> Option<String> {
        v.get_attr(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| env(var).filter(|s| !s.is_empty()))
    };
    let boolean =
        |v: &Value, path: Path, name: &str, var: &str, diags: &mut Vec<Diagnostic>| -> bool {
            if let Some(b) = v.get_attr(name).and_then(Value::as_bool) {
                return b;
            }
            match env(var).as_deref().map(str::trim) {
                None | Some("") => false,
                Some("1" | "true" | "TRUE" | "True" | "yes") => true,
                Some("0" | "false" | "FALSE" | "False" | "no") => false,
                Some(other) => {
                    diags.push(Diagnostic::error(
                        path.attr(name),
                        format!("{var} is not a boolean"),
                        format!("{var}={other:?}; use true or false."),
                    ));
                    false
                }
            }
        };
    let null = Value::Null;
    let ssh_value = config
        .get_attr("ssh")
        .filter(|v| !v.is_null())
        .unwrap_or(&null);
    let timeouts = config
        .get_attr("timeouts")
        .filter(|v| !v.is_null())
        .unwrap_or(&null);

    for (name, var) in [("endpoint", "PVELXC_ENDPOINT"), ("node", "PVELXC_NODE")] {
        if config.get_attr(name).is_some_and(|v| !v.is_known()) {
            diags.push(Diagnostic::error(
                root.attr(name),
                format!("{name} is not known yet"),
                format!("The provider needs {name} before planning; use a value known at plan time or set {var}."),
            ));
        }
    }

    let api_token = string(config, "api_token", "PVELXC_API_TOKEN");
    let username = string(config, "username", "PVELXC_USERNAME");
    let password = string(config, "password", "PVELXC_PASSWORD");
    let credentials = match (api_token, username, password) {
        (Some(token), None, None) => Some(Credentials::ApiToken(token)),
        (Some(token), Some(username), Some(password)) => Some(Credentials::Both {
            token,
            username,
            password,
        }),
        (_, Some(username), Some(password)) => Some(Credentials::Password { username, password }),
        (_, Some(_), None) => {
            diags.push(Diagnostic::error(
                root.attr("password"),
                "Missing password",
                "username is set but no password; set password or PVELXC_PASSWORD, or use api_token.",
            ));
            None
        }
        (_, None, Some(_)) => {
            diags.push(Diagnostic::error(
                root.attr("username"),
                "Missing username",
                "A password is set but no username; set username or PVELXC_USERNAME.",
            ));
            None
        }
        (None, None, None) => None,
    };

    let port = match ssh_value.get_attr("port").and_then(Value::as_i64) {
        Some(p) => u16::try_from(p).ok(),
        None => match env("PVELXC_SSH_PORT") {
            Some(text) => match text.trim().parse::<u16>() {
                Ok(p) if p > 0 => Some(p),
                _ => {
                    diags.push(Diagnostic::error(
                        root.attr("ssh").attr("port"),
                        "PVELXC_SSH_PORT is not a port",
                        format!("PVELXC_SSH_PORT={text:?}; use a number between 1 and 65535."),
                    ));
                    None
                }
            },
            None => Some(22),
        },
    }
    .unwrap_or(22);

    let ssh = SshSettings {
        host: string(ssh_value, "host", "PVELXC_SSH_HOST"),
        port,
        user: string(ssh_value, "user", "PVELXC_SSH_USER").unwrap_or_else(|| "root".into()),
        private_key: string(ssh_value, "private_key", "PVELXC_SSH_PRIVATE_KEY"),
        agent: boolean(
            ssh_value,
            root.attr("ssh"),
            "agent",
            "PVELXC_SSH_AGENT",
            &mut diags,
        ),
        known_hosts: string(ssh_value, "known_hosts", "PVELXC_SSH_KNOWN_HOSTS"),
        host_key: string(ssh_value, "host_key", "PVELXC_SSH_HOST_KEY"),
    };

    let mut duration = |name: &str, var: &str, default: std::time::Duration| {
        match string(timeouts, name, var) {
            None => default,
            Some(text) => parse_duration(&text).unwrap_or_else(|| {
                diags.push(Diagnostic::error(
                    root.attr("timeouts").attr(name),
                    format!("Invalid {name} timeout"),
                    format!("{text:?} (from the provider block or {var}) is not a duration; use e.g. 30s, 10m or 1h."),
                ));
                default
            }),
        }
    };
    let api_timeout = duration(
        "api",
        "PVELXC_TIMEOUT_API",
        std::time::Duration::from_secs(30),
    );
    let task_timeout = duration(
        "task",
        "PVELXC_TIMEOUT_TASK",
        std::time::Duration::from_secs(600),
    );

    let resolved = ProviderConfig {
        endpoint: string(config, "endpoint", "PVELXC_ENDPOINT"),
        credentials,
        ca_cert: string(config, "ca_cert", "PVELXC_CA_CERT"),
        tls_fingerprint: string(config, "tls_fingerprint", "PVELXC_TLS_FINGERPRINT"),
        insecure: boolean(
            config,
            root.clone(),
            "insecure",
            "PVELXC_INSECURE",
            &mut diags,
        ),
        node: string(config, "node", "PVELXC_NODE"),
        ssh,
        api_timeout,
        task_timeout,
        agent_binary: string(config, "agent_binary", "PVELXC_AGENT_BINARY"),
    };
    if let Some(endpoint) = &resolved.endpoint {
        if !endpoint.starts_with("https://") || endpoint.contains(char::is_whitespace) {
            diags.push(Diagnostic::error(
                root.attr("endpoint"),
                "Invalid endpoint",
                format!("{endpoint:?} is not an https:// URL; use e.g. https://pve.lan:8006."),
            ));
        }
    }
    if diags.iter().any(Diagnostic::is_error) {
        Err(diags)
    } else {
        Ok(resolved)
    }
}

/// `30s`, `10m`, `1h`, `500ms`.
pub fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    match unit {
        "ms" => Some(std::time::Duration::from_millis(n)),
        "s" => Some(std::time::Duration::from_secs(n)),
        "m" => n.checked_mul(60).map(std::time::Duration::from_secs),
        "h" => n.checked_mul(3600).map(std::time::Duration::from_secs),
        _ => None,
    }
}

/// The implied type of the provider block (for tests and tools).
pub fn provider_type() -> Type {
    provider_schema().block.implied_type()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn config(attrs: &[(&str, Value)]) -> Value {
        let Type::Object(types) = provider_type() else {
            panic!("provider block is an object");
        };
        let mut map: BTreeMap<String, Value> =
            types.keys().map(|k| (k.clone(), Value::Null)).collect();
        for (k, v) in attrs {
            map.insert(k.to_string(), v.clone());
        }
        Value::Object(map)
    }

    #[test]
    fn block_wins_over_env_and_env_fills_gaps() {
        let env = |name: &str| match name {
            "PVELXC_ENDPOINT" => Some("https://env:8006".to_string()),
            "PVELXC_API_TOKEN" => Some("root@pam!tf=secret".to_string()),
            "PVELXC_NODE" => Some("pve1".to_string()),
            _ => None,
        };
        let resolved = resolve(
            &config(&[("endpoint", Value::string("https://block:8006"))]),
            &env,
        )
        .expect("valid");
        assert_eq!(resolved.endpoint.as_deref(), Some("https://block:8006"));
        assert_eq!(resolved.node.as_deref(), Some("pve1"));
        assert_eq!(resolved.ssh.port, 22);
        assert_eq!(resolved.ssh.user, "root");
        assert!(matches!(
            resolved.credentials,
            Some(Credentials::ApiToken(_))
        ));
        assert!(!format!("{resolved:?}").contains("secret"));
    }

    #[test]
    fn a_password_without_username_names_the_attribute() {
        let env = |name: &str| match name {
            "PVELXC_API_TOKEN" => Some("root@pam!tf=x".to_string()),
            "PVELXC_PASSWORD" => Some("pw".to_string()),
            _ => None,
        };
        let diags = resolve(&config(&[]), &env).unwrap_err();
        assert_eq!(diags[0].path, Path::root().attr("username"));
    }

    #[test]
    fn token_and_root_login_combine() {
        let env = |name: &str| match name {
            "PVELXC_API_TOKEN" => Some("root@pam!tf=secret".to_string()),
            "PVELXC_USERNAME" => Some("root@pam".to_string()),
            "PVELXC_PASSWORD" => Some("secret-pw".to_string()),
            _ => None,
        };
        let resolved = resolve(&config(&[]), &env).expect("valid");
        assert!(matches!(
            resolved.credentials,
            Some(Credentials::Both { .. })
        ));
        assert!(!format!("{resolved:?}").contains("secret"));
    }

    #[test]
    fn bad_env_values_are_errors() {
        let env = |name: &str| match name {
            "PVELXC_SSH_PORT" => Some("70000".to_string()),
            "PVELXC_INSECURE" => Some("maybe".to_string()),
            "PVELXC_TIMEOUT_TASK" => Some("soon".to_string()),
            _ => None,
        };
        let diags = resolve(&config(&[]), &env).unwrap_err();
        assert_eq!(diags.len(), 3, "{diags:?}");
    }

    #[test]
    fn missing_endpoint_is_reported_when_needed() {
        let resolved = resolve(&config(&[]), &|_| None).expect("empty config is fine");
        let diag = resolved.require_endpoint().unwrap_err();
        assert!(diag.detail.contains("PVELXC_ENDPOINT"));
    }

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration("10m"),
            Some(std::time::Duration::from_secs(600))
        );
        assert_eq!(
            parse_duration("500ms"),
            Some(std::time::Duration::from_millis(500))
        );
        assert_eq!(parse_duration("10"), None);
        assert_eq!(parse_duration("m"), None);
    }
}
