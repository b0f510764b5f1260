//! Fault injection for reliability tests: a JSON control file that makes the next N
//! matching API calls (or tasks) fail.
//!
//! The file is `<state dir>/faults.json` (see [`crate::node::faults_path`]):
//!
//! ```json
//! {"faults": [
//!   {"method": "PUT", "path": "/nodes/*/lxc/*/config", "kind": "locked", "count": 1},
//!   {"path": "/nodes/*/lxc", "kind": "error", "count": 2, "message": "storage offline"},
//!   {"kind": "timeout", "count": 1, "seconds": 30},
//!   {"path": "/nodes/*/lxc/*/status/start", "kind": "task_failure", "count": 1}
//! ]}
//! ```
//!
//! * `method` (optional, any if absent) and `path` (optional; `*` matches one path
//!   segment, a trailing `/**` any rest) select calls; paths are relative to `/api2/json`.
//! * `kind`: `error` → HTTP 500 with `message`; `locked` → HTTP 500 with PVE's lock
//!   timeout text for the CT in the path; `ct_locked` → 500 `CT is locked (<message or
//!   "backup">)`; `timeout` → the server holds the request `seconds` (default 30) and
//!   closes it without a response; `task_failure` → the call returns its UPID as usual
//!   and the task then fails midway with `message`.
//! * `count`: how many matching calls fail; the rule is removed when it reaches zero.
//!
//! [`take`] consumes one matching fault atomically under an flock, so concurrent
//! requests never fail more often than asked.

use std::fs;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::lock::{ConfigLock, LockError};
use crate::store::{atomic_write, StoreError};

/// What a fault does to the call it hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// HTTP 500 with the rule's message.
    Error,
    /// HTTP 500 `can't lock file '/run/lock/lxc/pve-config-<vmid>.lock' - got timeout`.
    Locked,
    /// HTTP 500 `CT is locked (<message>)`.
    CtLocked,
    /// No response; the connection is held, then closed.
    Timeout,
    /// The task starts, then fails with the rule's message.
    TaskFailure,
}

/// One rule of `faults.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// HTTP method to match (any if absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Path pattern to match (any if absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// What happens.
    pub kind: FaultKind,
    /// How many more calls fail.
    pub count: u32,
    /// Message for `error`, `ct_locked` and `task_failure`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Hold time for `timeout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<u64>,
}

/// The whole control file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultFile {
    /// Active rules, first match wins.
    #[serde(default)]
    pub faults: Vec<FaultRule>,
}

/// A fault to apply to the current call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// What to do.
    pub kind: FaultKind,
    /// HTTP status to answer with (500; none for `timeout`/`task_failure`).
    pub status: Option<u16>,
    /// Error text (PVE's wording for lock faults).
    pub message: String,
    /// How long to hold a `timeout` call.
    pub hold: Duration,
}

/// Fault file problems.
#[derive(Debug, Error)]
pub enum FaultError {
    /// The file is not valid JSON of the documented shape.
    #[error("{path}: invalid fault file: {message} (expected {{\"faults\": [{{\"kind\": \"error|locked|ct_locked|timeout|task_failure\", \"count\": N, ...}}]}})")]
    Invalid {
        /// The file.
        path: String,
        /// Parser message.
        message: String,
    },
    /// Locking the file failed.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// Reading or writing failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// True if `pattern` (segments, `*` = one segment, trailing `**` = rest) matches `path`.
pub fn path_matches(pattern: &str, path: &str) -> bool {
    let pat: Vec<&str> = pattern.trim_matches('/').split('/').collect();
    let got: Vec<&str> = path
        .split('?')
        .next()
        .unwrap_or("")
        .trim_matches('/')
        .split('/')
        .collect();
    for (i, p) in pat.iter().enumerate() {
        if *p == "**" {
            return true;
        }
        match got.get(i) {
            Some(g) if *p == "*" || p == g => {}
            _ => return false,
        }
    }
    pat.len() == got.len()
}

fn vmid_in(path: &str) -> Option<&str> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    parts
        .windows(2)
        .find(|w| w[0] == "lxc" && w[1].bytes().all(|b| b.is_ascii_digit()) && !w[1].is_empty())
        .map(|w| w[1])
}

fn read(path: &Path) -> Result<FaultFile, FaultError> {
    match fs::read(path) {
        Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Ok(FaultFile::default()),
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| FaultError::Invalid {
            path: path.display().to_string(),
            message: e.to_string(),
        }),
        Err(_) => Ok(FaultFile::default()),
    }
}

/// Adds a rule (tests and `pve-testhost fault` use this).
pub fn add(path: &Path, rule: FaultRule) -> Result<(), FaultError> {
    let _lock = ConfigLock::acquire(&path.with_extension("lock"), Duration::from_secs(5))?;
    let mut file = read(path)?;
    file.faults.push(rule);
    let text = serde_json::to_vec_pretty(&file).map_err(|e| FaultError::Invalid {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    atomic_write(path, &text)?;
    Ok(())
}

/// Consumes one fault matching `method path`, if any.
pub fn take(path: &Path, method: &str, api_path: &str) -> Result<Option<Fault>, FaultError> {
    if !path.exists() {
        return Ok(None);
    }
    let _lock = ConfigLock::acquire(&path.with_extension("lock"), Duration::from_secs(5))?;
    let mut file = read(path)?;
    let Some(index) = file.faults.iter().position(|rule| {
        rule.count > 0
            && rule
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && rule
                .path
                .as_deref()
                .is_none_or(|p| path_matches(p, api_path))
    }) else {
        return Ok(None);
    };
    let rule = file.faults[index].clone();
    file.faults[index].count -= 1;
    file.faults.retain(|r| r.count > 0);
    let text = serde_json::to_vec_pretty(&file).map_err(|e| FaultError::Invalid {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    atomic_write(path, &text)?;
    let message = match rule.kind {
        FaultKind::Locked => format!(
            "can't lock file '/run/lock/lxc/pve-config-{}.lock' - got timeout",
            vmid_in(api_path).unwrap_or("0")
        ),
        FaultKind::CtLocked => format!(
            "CT is locked ({})",
            rule.message.as_deref().unwrap_or("backup")
        ),
        _ => rule
            .message
            .clone()
            .unwrap_or_else(|| "injected failure (pve-testhost faults.json)".into()),
    };
    Ok(Some(Fault {
        kind: rule.kind,
        status: match rule.kind {
            FaultKind::Timeout | FaultKind::TaskFailure => None,
            _ => Some(500),
        },
        message,
        hold: Duration::from_secs(rule.seconds.unwrap_or(30)),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_segments() {
        assert!(path_matches(
            "/nodes/*/lxc/*/config",
            "/nodes/pve/lxc/100/config"
        ));
        assert!(!path_matches("/nodes/*/lxc/*/config", "/nodes/pve/lxc/100"));
        assert!(path_matches("/nodes/**", "/nodes/pve/lxc"));
        assert!(path_matches("/version", "/version?x=1"));
    }

    #[test]
    fn faults_are_consumed_count_times_and_then_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("faults.json");
        fs::write(&path, r#"{"faults":[{"method":"PUT","path":"/nodes/*/lxc/*/config","kind":"locked","count":2}]}"#).unwrap();
        assert_eq!(
            take(&path, "GET", "/nodes/pve/lxc/100/config").unwrap(),
            None
        );
        let f = take(&path, "put", "/nodes/pve/lxc/100/config")
            .unwrap()
            .unwrap();
        assert_eq!(f.status, Some(500));
        assert_eq!(
            f.message,
            "can't lock file '/run/lock/lxc/pve-config-100.lock' - got timeout"
        );
        assert!(take(&path, "PUT", "/nodes/pve/lxc/101/config")
            .unwrap()
            .is_some());
        assert_eq!(
            take(&path, "PUT", "/nodes/pve/lxc/100/config").unwrap(),
            None
        );
        assert_eq!(
            fs::read_to_string(&path)
                .unwrap()
                .replace(char::is_whitespace, ""),
            r#"{"faults":[]}"#
        );
    }

    #[test]
    fn add_and_invalid_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("faults.json");
        add(
            &path,
            FaultRule {
                method: None,
                path: None,
                kind: FaultKind::CtLocked,
                count: 1,
                message: None,
                seconds: None,
            },
        )
        .unwrap();
        assert_eq!(
            take(&path, "GET", "/version").unwrap().unwrap().message,
            "CT is locked (backup)"
        );
        fs::write(&path, "{\"faults\":[{\"kind\":\"explode\",\"count\":1}]}").unwrap();
        let err = take(&path, "GET", "/version").unwrap_err();
        assert!(err.to_string().contains("invalid fault file"), "{err}");
    }
}
