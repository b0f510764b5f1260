//! PVE's error shapes on the wire.
//!
//! pve-http-server answers every failure with `{"data":null, ...}` and uses the message as
//! the HTTP reason phrase; clients such as proxmoxer read the reason phrase, newer ones the
//! `message` field (added in libpve-http-server-perl 5.2.0), so both are set.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error as the API reports it: status code, message and optional per-parameter errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {message}")]
pub struct ApiError {
    pub status: u16,
    /// Message including PVE's trailing newline where PVE has one.
    pub message: String,
    /// Parameter name -> message, as in `raise_param_exc`.
    pub errors: BTreeMap<String, String>,
}

/// The message PVE uses for every schema or parameter check failure.
pub const PARAM_VERIFICATION_FAILED: &str = "Parameter verification failed.\n";

impl ApiError {
    /// A plain `die` in a PVE handler: HTTP 500 with the text.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::with_status(500, message)
    }

    pub fn with_status(status: u16, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            errors: BTreeMap::new(),
        }
    }

    /// `raise_param_exc`: HTTP 400 "Parameter verification failed." with per-parameter errors.
    pub fn params(errors: BTreeMap<String, String>) -> Self {
        ApiError {
            status: 400,
            message: PARAM_VERIFICATION_FAILED.to_string(),
            errors,
        }
    }

    /// A 400 naming a single parameter.
    pub fn param(name: &str, message: impl Into<String>) -> Self {
        let mut errors = BTreeMap::new();
        errors.insert(name.to_string(), message.into());
        Self::params(errors)
    }

    /// `raise_perm_exc`: HTTP 403 "Permission check failed (<what>)".
    pub fn permission(what: &str) -> Self {
        let message = if what.is_empty() {
            "Permission check failed\n".to_string()
        } else {
            format!("Permission check failed ({what})\n")
        };
        Self::with_status(403, message)
    }

    /// HTTP 401 as pve-http-server's auth handler reports it.
    pub fn unauthorized(message: &str) -> Self {
        Self::with_status(401, message)
    }

    /// The reason phrase: the message on one line, as HTTP allows no line breaks there.
    pub fn reason_phrase(&self) -> String {
        let single: String = self
            .message
            .trim_end_matches('\n')
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        if single.is_empty() {
            StatusCode::from_u16(self.status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("error")
                .to_string()
        } else {
            single
        }
    }

    fn body(&self) -> serde_json::Value {
        let mut body = json!({ "data": null, "message": self.message });
        if !self.errors.is_empty() {
            body["errors"] = json!(self.errors);
        }
        body
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let reason = self.reason_phrase();
        let mut response = (status, axum::Json(self.body())).into_response();
        // Latin-1 only: HTTP reason phrases are bytes, hyper rejects nothing but CR/LF.
        let bytes: Vec<u8> = reason
            .chars()
            .map(|c| if c.is_ascii() { c as u8 } else { b'?' })
            .collect();
        if let Ok(phrase) = hyper::ext::ReasonPhrase::try_from(bytes) {
            response.extensions_mut().insert(phrase);
        }
        response
    }
}

/// A successful response in PVE's envelope.
pub fn data(value: serde_json::Value) -> Response {
    axum::Json(json!({ "data": value })).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_phrase_is_single_line() {
        let err = ApiError::param(
            "net0",
            "invalid format - format error\nnet0.name: missing\n",
        );
        assert_eq!(err.reason_phrase(), "Parameter verification failed.");
        let err =
            ApiError::permission("configuring device passthrough is only allowed for root@pam");
        assert_eq!(
            err.reason_phrase(),
            "Permission check failed (configuring device passthrough is only allowed for root@pam)"
        );
    }

    #[test]
    fn body_has_errors_only_for_parameter_failures() {
        let err = ApiError::internal("CT is locked (create)\n");
        assert_eq!(
            err.body(),
            json!({"data": null, "message": "CT is locked (create)\n"})
        );
        let err = ApiError::param("vmid", "VM 100 already exists");
        assert_eq!(err.body()["errors"]["vmid"], "VM 100 already exists");
    }
}
