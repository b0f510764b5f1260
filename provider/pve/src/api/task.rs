//! PVE task ids (UPIDs) and task results.

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use regex::Regex;

use crate::error::ApiError;

static UPID_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^UPID:([a-zA-Z0-9](?:[a-zA-Z0-9\-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s/]+):([^:\s/]*):([^:\s/]+):$",
    )
    .unwrap_or_else(|e| panic!("invalid built-in UPID pattern: {e}"))
});

/// A task id: `UPID:node:pid:pstart:starttime:type:id:user:` (`PVE::UPID`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Upid {
    raw: String,
    node: String,
    kind: String,
    id: String,
    user: String,
    starttime: u64,
}

impl Upid {
    /// The node that runs the task; status polls go there.
    pub fn node(&self) -> &str {
        &self.node
    }
    /// Task type (`vzcreate`, `vzstart`, ...).
    pub fn kind(&self) -> &str {
        &self.kind
    }
    /// Task object id (the vmid for container tasks).
    pub fn id(&self) -> &str {
        &self.id
    }
    /// The user (or token id) that started the task.
    pub fn user(&self) -> &str {
        &self.user
    }
    /// Start time, seconds since the epoch.
    pub fn starttime(&self) -> u64 {
        self.starttime
    }
    /// The UPID text.
    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

impl FromStr for Upid {
    type Err = ApiError;
    fn from_str(s: &str) -> Result<Self, ApiError> {
        let c = UPID_RE.captures(s).ok_or_else(|| ApiError::Decode {
            path: "task".into(),
            message: format!("'{s}' is not a PVE task id (UPID)"),
        })?;
        Ok(Self {
            raw: s.to_string(),
            node: c[1].to_string(),
            starttime: u64::from_str_radix(&c[4], 16).unwrap_or(0),
            kind: c[5].to_string(),
            id: c[6].to_string(),
            user: c[7].to_string(),
        })
    }
}

impl fmt::Display for Upid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl fmt::Debug for Upid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Upid({})", self.raw)
    }
}

/// How a finished task ended, when it did not fail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskOutcome {
    /// `OK` or `WARNINGS: n`.
    pub exitstatus: String,
    /// Number of warnings (0 for `OK`).
    pub warnings: u32,
}

/// Interprets a stopped task's `exitstatus`: `OK` and `WARNINGS: n` are success.
pub fn task_succeeded(exitstatus: &str) -> Option<TaskOutcome> {
    if exitstatus == "OK" {
        return Some(TaskOutcome {
            exitstatus: exitstatus.to_string(),
            warnings: 0,
        });
    }
    let n = exitstatus.strip_prefix("WARNINGS: ")?.trim().parse().ok()?;
    Some(TaskOutcome {
        exitstatus: exitstatus.to_string(),
        warnings: n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_real_upids() {
        let u: Upid = "UPID:pve:000C1A2B:0142B3C4:6554F0A1:vzcreate:201:root@pam:"
            .parse()
            .unwrap();
        assert_eq!(u.node(), "pve");
        assert_eq!(u.kind(), "vzcreate");
        assert_eq!(u.id(), "201");
        assert_eq!(u.user(), "root@pam");
        assert_eq!(u.starttime(), 0x6554F0A1);
        let u: Upid = "UPID:node-2:00001234:123456789:6554F0A1:vzstart:105:root@pam!pvelxc:"
            .parse()
            .unwrap();
        assert_eq!(u.user(), "root@pam!pvelxc");
        for bad in [
            "",
            "UPID:pve:1:2:3:x:1:root@pam:",
            "UPID:-pve:000C1A2B:0142B3C4:6554F0A1:vzcreate:201:root@pam:",
            "UPID:pve:000C1A2B:0142B3C4:6554F0A1:vz/create:201:root@pam:",
        ] {
            assert!(bad.parse::<Upid>().is_err(), "{bad}");
        }
    }

    #[test]
    fn exit_statuses() {
        assert_eq!(task_succeeded("OK").unwrap().warnings, 0);
        assert_eq!(task_succeeded("WARNINGS: 2").unwrap().warnings, 2);
        assert!(task_succeeded("unable to create CT 100 - no such template").is_none());
        assert!(task_succeeded("unexpected status").is_none());
    }
}
