//! Errors of the PVE API client, classified so callers know what may be retried and which
//! parameter a rejection is about.

use std::collections::BTreeMap;
use std::time::Duration;

use thiserror::Error;

/// How an error should be handled by retry logic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The request never reached PVE (connection refused, DNS, TLS handshake): safe to resend
    /// any request.
    NotSent,
    /// PVE refused because the container is locked or the lock could not be taken; nothing was
    /// changed, so resending is safe.
    Locked,
    /// The outcome is unknown (5xx, timeout mid-request): only idempotent requests may be
    /// resent.
    Transient,
    /// Retrying cannot help (validation, permissions, missing objects, task failures).
    Permanent,
}

/// An error from the PVE API or the transport to it.
#[derive(Debug, Error)]
pub enum ApiError {
    /// Configuration of the client itself is wrong (endpoint, credentials, TLS material).
    #[error("{attribute}: {message}")]
    Config {
        attribute: &'static str,
        message: String,
    },

    /// 400 "Parameter verification failed." with PVE's per-parameter messages.
    #[error("PVE rejected {}: {}", describe_params(.errors), .message)]
    InvalidParameters {
        message: String,
        /// Parameter name (`net0`, `memory`, ...) to PVE's message about it.
        errors: BTreeMap<String, String>,
    },

    /// 401: bad token or password, or an expired ticket that could not be renewed.
    #[error("authentication to PVE failed: {message}; check the API token (USER@REALM!ID=SECRET) or username/password")]
    Unauthorized { message: String },

    /// 403 with PVE's reason.
    #[error("{message}{}", root_hint(.message))]
    Forbidden { message: String },

    /// The container, node or task does not exist.
    #[error("not found: {message}")]
    NotFound { message: String },

    /// The container is locked by another operation, or PVE's config lock timed out.
    #[error("{message} (another operation holds the container's lock; retried with backoff)")]
    Locked { message: String },

    /// `digest` did not match: the config changed since it was read.
    #[error("the container configuration changed while it was being updated ({message}); refresh and try again")]
    DigestMismatch { message: String },

    /// Any other HTTP error status.
    #[error("PVE returned HTTP {status} for {method} {path}: {message}")]
    Http {
        status: u16,
        method: String,
        path: String,
        message: String,
    },

    /// No response within the request timeout.
    #[error("{method} {path} timed out after {}s (raise the request timeout if the node is slow)", .after.as_secs())]
    Timeout {
        method: String,
        path: String,
        after: Duration,
    },

    /// The request could not be delivered (connection, TLS, DNS).
    #[error("cannot reach PVE at {endpoint}: {message}")]
    Connect { endpoint: String, message: String },

    /// The connection broke after the request may have been sent.
    #[error("{method} {path} failed in transit: {message}")]
    Transport {
        method: String,
        path: String,
        message: String,
    },

    /// The server answered with something that is not PVE's JSON envelope.
    #[error("unexpected response to {path}: {message}")]
    Decode { path: String, message: String },

    /// A task ended with an error; `log_tail` holds the last lines of its log.
    #[error("task {upid} failed: {exitstatus}{}", format_tail(.log_tail))]
    TaskFailed {
        upid: String,
        exitstatus: String,
        log_tail: Vec<String>,
    },

    /// A task did not finish in time.
    #[error("task {upid} still running after {}s (raise the timeout; the task keeps running on the node)", .after.as_secs())]
    TaskTimeout { upid: String, after: Duration },

    /// The caller cancelled the operation.
    #[error("operation cancelled")]
    Cancelled,

    /// A create request failed in a way that leaves its outcome unknown, and the container
    /// exists now: the caller must adopt it rather than create again.
    #[error("creating CT {vmid} failed ambiguously ({source}), but the container now exists on the node; refresh state instead of creating it again")]
    CreateOutcomeUnknown {
        vmid: u32,
        #[source]
        source: Box<ApiError>,
    },
}

impl ApiError {
    /// Classifies the error for retry decisions.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Connect { .. } => ErrorClass::NotSent,
            Self::Locked { .. } => ErrorClass::Locked,
            Self::Timeout { .. } | Self::Transport { .. } => ErrorClass::Transient,
            // 501 is PVE's "method not implemented": asking again cannot help.
            Self::Http { status, .. } if *status >= 500 && *status != 501 => ErrorClass::Transient,
            Self::Http { status, .. } if *status == 429 || *status == 408 => ErrorClass::Transient,
            _ => ErrorClass::Permanent,
        }
    }

    /// Whether an idempotent request may be retried after this error.
    pub fn is_retryable(&self) -> bool {
        self.class() != ErrorClass::Permanent
    }

    /// PVE's per-parameter messages for a 400, empty otherwise.
    pub fn parameter_errors(&self) -> Option<&BTreeMap<String, String>> {
        match self {
            Self::InvalidParameters { errors, .. } => Some(errors),
            _ => None,
        }
    }

    /// Builds the error for an HTTP error response from its status and PVE's body.
    pub fn from_response(
        status: u16,
        method: &str,
        path: &str,
        body: &[u8],
        reason: Option<&str>,
    ) -> Self {
        let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        let body_message = json
            .as_ref()
            .and_then(|j| j.get("message"))
            .and_then(|m| m.as_str())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        let errors: BTreeMap<String, String> = json
            .as_ref()
            .and_then(|j| j.get("errors"))
            .and_then(|e| e.as_object())
            .map(|o| {
                o.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v.as_str()
                                .map_or_else(|| v.to_string(), |s| s.trim().to_string()),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let message = body_message
            .or_else(|| {
                reason
                    .map(|r| r.trim().to_string())
                    .filter(|r| !r.is_empty())
            })
            .or_else(|| {
                let text = String::from_utf8_lossy(body).trim().to_string();
                (!text.is_empty() && text.len() < 512 && !text.starts_with('{')).then_some(text)
            })
            .unwrap_or_else(|| format!("HTTP {status}"));
        match status {
            400 => Self::InvalidParameters { message, errors },
            401 => Self::Unauthorized { message },
            403 => Self::Forbidden { message },
            404 => Self::NotFound { message },
            _ if is_locked_message(&message) => Self::Locked { message },
            _ if message.contains("detected modified configuration") => {
                Self::DigestMismatch { message }
            }
            500 if message.contains("does not exist") || message.starts_with("no such") => {
                Self::NotFound { message }
            }
            _ => Self::Http {
                status,
                method: method.to_string(),
                path: path.to_string(),
                message,
            },
        }
    }
}

/// "CT 100 is locked (create)" from `check_lock`, "can't lock file '...' - got timeout" from
/// `lock_file`.
pub fn is_locked_message(message: &str) -> bool {
    (message.contains(" is locked") && (message.starts_with("CT ") || message.starts_with("VM ")))
        || (message.contains("can't lock file") && message.contains("got timeout"))
}

fn describe_params(errors: &BTreeMap<String, String>) -> String {
    if errors.is_empty() {
        return "the request".to_string();
    }
    errors
        .iter()
        .map(|(k, v)| format!("{k} ({v})"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn root_hint(message: &str) -> &'static str {
    if message.contains("root@pam") {
        "; API tokens are never root@pam: configure username/password for root@pam so these changes use a ticket"
    } else {
        ""
    }
}

fn format_tail(tail: &[String]) -> String {
    if tail.is_empty() {
        String::new()
    } else {
        format!(
            "\ntask log (last {} lines):\n  {}",
            tail.len(),
            tail.join("\n  ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pve_error_bodies() {
        let body = br#"{"data":null,"errors":{"net0":"invalid format - format error\nnet0.ip: invalid format - value does not look like a valid ipv4 network configuration\n"},"message":"Parameter verification failed.\n"}"#;
        let e = ApiError::from_response(400, "PUT", "/nodes/pve/lxc/100/config", body, None);
        let errs = e.parameter_errors().unwrap();
        assert!(errs["net0"].contains("net0.ip"));
        assert!(e.to_string().starts_with("PVE rejected net0 ("), "{e}");
        assert_eq!(e.class(), ErrorClass::Permanent);

        let e = ApiError::from_response(403, "PUT", "/x", br#"{"data":null,"message":"Permission check failed (mount point type bind is only allowed for root@pam)\n"}"#, None);
        assert!(e.to_string().contains("configure username/password"), "{e}");

        let e = ApiError::from_response(500, "PUT", "/x", b"", Some("CT 100 is locked (backup)"));
        assert_eq!(e.class(), ErrorClass::Locked);
        let e = ApiError::from_response(500, "PUT", "/x", br#"{"data":null,"message":"can't lock file '/run/lock/lxc/pve-config-100.lock' - got timeout\n"}"#, None);
        assert_eq!(e.class(), ErrorClass::Locked);
        let e = ApiError::from_response(
            500,
            "PUT",
            "/x",
            b"",
            Some("detected modified configuration - file changed by other user? Try again."),
        );
        assert!(matches!(e, ApiError::DigestMismatch { .. }));
        assert_eq!(e.class(), ErrorClass::Permanent);
        let e = ApiError::from_response(
            500,
            "GET",
            "/x",
            b"",
            Some("Configuration file 'nodes/pve/lxc/999.conf' does not exist"),
        );
        assert!(matches!(e, ApiError::NotFound { .. }));
        let e = ApiError::from_response(502, "GET", "/x", b"<html>bad gateway</html>", None);
        assert_eq!(e.class(), ErrorClass::Transient);
        let e = ApiError::from_response(401, "GET", "/x", b"", Some("authentication failure"));
        assert!(matches!(e, ApiError::Unauthorized { .. }));
    }

    #[test]
    fn task_failure_shows_log_tail() {
        let e = ApiError::TaskFailed {
            upid: "UPID:pve:1:2:3:vzcreate:100:root@pam:".into(),
            exitstatus: "unable to create CT 100".into(),
            log_tail: vec![
                "extracting archive".into(),
                "TASK ERROR: unable to create CT 100".into(),
            ],
        };
        let s = e.to_string();
        assert!(
            s.contains("last 2 lines") && s.ends_with("TASK ERROR: unable to create CT 100"),
            "{s}"
        );
    }
}
