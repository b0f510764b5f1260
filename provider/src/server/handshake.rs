//! go-plugin's launch contract: the magic cookie, protocol negotiation and
//! the single handshake line Terraform reads from stdout.

use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine as _;
use thiserror::Error;

/// Environment variable Terraform sets when it launches a provider.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// Value Terraform puts into [`MAGIC_COOKIE_KEY`].
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// go-plugin's core protocol version (first handshake field).
pub const CORE_PROTOCOL_VERSION: u32 = 1;
/// The only Terraform plugin protocol this provider speaks.
pub const APP_PROTOCOL_VERSION: u32 = 5;

/// Printed when somebody runs the binary by hand.
pub const NOT_A_COMMAND: &str =
    "This binary is a plugin for Terraform (terraform-provider-pvelxc). \
It is not meant to be executed directly: Terraform starts it when a configuration uses the \
pvelxc provider and talks to it over gRPC. Install it through a provider mirror or a \
dev_overrides entry in your Terraform CLI configuration and run `terraform plan`. To debug \
it, run it with --debug and set TF_REATTACH_PROVIDERS as it prints; `docs <dir>` writes the \
registry documentation.";

/// Why the provider refuses to start.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum HandshakeError {
    /// Not launched by Terraform.
    #[error("{NOT_A_COMMAND}")]
    NoCookie,
    /// Terraform offered only protocol versions this provider does not speak.
    #[error(
        "Terraform offered plugin protocol versions {offered:?}, but this provider speaks only \
         version {APP_PROTOCOL_VERSION}; use Terraform 0.12 or newer"
    )]
    NoCommonVersion {
        /// The PLUGIN_PROTOCOL_VERSIONS value.
        offered: String,
    },
}

/// Checks the cookie the way go-plugin does: exact match or refuse.
pub fn check_cookie(value: Option<&str>) -> Result<(), HandshakeError> {
    match value {
        Some(v) if v == MAGIC_COOKIE_VALUE => Ok(()),
        _ => Err(HandshakeError::NoCookie),
    }
}

/// Picks protocol 5 if the client offers it. An absent or empty list means
/// an old client that speaks only its default version; we answer 5 and let
/// the client decide.
pub fn negotiate_version(offered: Option<&str>) -> Result<u32, HandshakeError> {
    let Some(list) = offered.filter(|s| !s.trim().is_empty()) else {
        return Ok(APP_PROTOCOL_VERSION);
    };
    let speaks_ours = list
        .split(',')
        .filter_map(|v| v.trim().parse::<u32>().ok())
        .any(|v| v == APP_PROTOCOL_VERSION);
    if speaks_ours {
        Ok(APP_PROTOCOL_VERSION)
    } else {
        Err(HandshakeError::NoCommonVersion {
            offered: list.to_string(),
        })
    }
}

/// The line go-plugin's client parses: `1|5|unix|PATH|grpc|CERT`.
///
/// The certificate is the DER of the server certificate in standard base64
/// *without padding*; go-plugin decodes it with `RawStdEncoding` and fails on
/// `=`. An empty `cert_der` (plaintext mode) leaves the field empty.
pub fn handshake_line(network: &str, address: &str, cert_der: &[u8]) -> String {
    format!(
        "{CORE_PROTOCOL_VERSION}|{APP_PROTOCOL_VERSION}|{network}|{address}|grpc|{}",
        STANDARD_NO_PAD.encode(cert_der)
    )
}

/// The `TF_REATTACH_PROVIDERS` value for debug mode.
pub fn reattach_json(provider_address: &str, pid: u32, socket_path: &str) -> String {
    let value = serde_json::json!({
        provider_address: {
            "Protocol": "grpc",
            "ProtocolVersion": APP_PROTOCOL_VERSION,
            "Pid": pid,
            "Test": true,
            "Addr": { "Network": "unix", "String": socket_path },
        }
    });
    value.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_must_match_exactly() {
        assert_eq!(check_cookie(Some(MAGIC_COOKIE_VALUE)), Ok(()));
        assert_eq!(check_cookie(None), Err(HandshakeError::NoCookie));
        assert_eq!(check_cookie(Some("d602")), Err(HandshakeError::NoCookie));
    }

    #[test]
    fn negotiates_five_only() {
        assert_eq!(negotiate_version(Some("5,6")), Ok(5));
        assert_eq!(negotiate_version(Some("6, 5")), Ok(5));
        assert_eq!(negotiate_version(None), Ok(5));
        assert!(matches!(
            negotiate_version(Some("6")),
            Err(HandshakeError::NoCommonVersion { .. })
        ));
    }

    #[test]
    fn line_uses_unpadded_base64() {
        // 4 bytes would need "==" padding in standard base64.
        let line = handshake_line("unix", "/tmp/x/plugin.sock", &[1, 2, 3, 4]);
        assert_eq!(line, "1|5|unix|/tmp/x/plugin.sock|grpc|AQIDBA");
    }

    #[test]
    fn reattach_has_go_plugin_keys() {
        let json: serde_json::Value = serde_json::from_str(&reattach_json(
            "registry.terraform.io/pvelxc/pvelxc",
            42,
            "/s",
        ))
        .expect("json");
        let entry = &json["registry.terraform.io/pvelxc/pvelxc"];
        assert_eq!(entry["ProtocolVersion"], 5);
        assert_eq!(entry["Pid"], 42);
        assert_eq!(entry["Addr"]["Network"], "unix");
        assert_eq!(entry["Addr"]["String"], "/s");
    }
}
