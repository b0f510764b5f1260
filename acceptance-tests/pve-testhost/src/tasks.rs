//! Worker tasks: UPIDs in PVE's exact format, status `running` -> `stopped` with
//! `exitstatus`, and the task log served as `{"n":…,"t":…}` lines.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

/// A parsed or freshly made UPID:
/// `UPID:node:PID(8 hex):PSTART(8 hex):STARTTIME(8 hex):type:id:user:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upid {
    pub node: String,
    pub pid: u32,
    pub pstart: u64,
    pub starttime: u64,
    pub kind: String,
    pub id: String,
    pub user: String,
}

impl Upid {
    /// The string form, upper-case hex as `PVE::UPID::encode` prints it.
    pub fn encode(&self) -> String {
        format!(
            "UPID:{}:{:08X}:{:08X}:{:08X}:{}:{}:{}:",
            self.node, self.pid, self.pstart, self.starttime, self.kind, self.id, self.user
        )
    }

    /// Parses with `PVE::UPID::decode`'s rules.
    pub fn decode(text: &str) -> Option<Upid> {
        let rest = text.strip_prefix("UPID:")?.strip_suffix(':')?;
        let parts: Vec<&str> = rest.split(':').collect();
        if parts.len() != 7 {
            return None;
        }
        let hex = |s: &str, min: usize, max: usize| {
            (s.len() >= min && s.len() <= max && s.chars().all(|c| c.is_ascii_hexdigit()))
                .then(|| u64::from_str_radix(s, 16).ok())
                .flatten()
        };
        let node_ok = !parts[0].is_empty()
            && parts[0]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !parts[0].starts_with('-')
            && !parts[0].ends_with('-');
        let field_ok = |s: &str, empty_ok: bool| {
            (empty_ok || !s.is_empty()) && !s.contains(['/', ' ', '\t', '\n'])
        };
        if !node_ok
            || !field_ok(parts[4], false)
            || !field_ok(parts[5], true)
            || !field_ok(parts[6], false)
        {
            return None;
        }
        Some(Upid {
            node: parts[0].to_string(),
            pid: u32::try_from(hex(parts[1], 8, 8)?).ok()?,
            pstart: hex(parts[2], 8, 9)?,
            starttime: hex(parts[3], 8, 8)?,
            kind: parts[4].to_string(),
            id: parts[5].to_string(),
            user: parts[6].to_string(),
        })
    }
}

/// State of one task.
#[derive(Debug, Clone)]
struct TaskState {
    upid: Upid,
    log: Vec<String>,
    /// `None` while running; then `OK`, `WARNINGS: n` or the error text.
    exitstatus: Option<String>,
    warnings: u32,
}

/// Handle a running task writes its log through.
#[derive(Debug, Clone)]
pub struct TaskLog {
    state: Arc<Mutex<TaskState>>,
    fault: Arc<Mutex<Option<String>>>,
}

impl TaskLog {
    /// Appends one log line (newlines split into several lines).
    pub fn line(&self, text: impl AsRef<str>) {
        if let Ok(mut state) = self.state.lock() {
            for line in text.as_ref().lines() {
                state.log.push(line.to_string());
            }
        }
    }

    /// A point where an injected fault fails the task midway: returns the fault's error
    /// once, `Ok` otherwise.
    pub fn checkpoint(&self) -> Result<(), String> {
        match self.fault.lock().ok().and_then(|mut f| f.take()) {
            Some(message) => Err(message),
            None => Ok(()),
        }
    }

    /// A `WARN: ` line; the task ends with `WARNINGS: n` instead of `OK`.
    pub fn warn(&self, text: impl AsRef<str>) {
        self.line(format!("WARN: {}", text.as_ref()));
        if let Ok(mut state) = self.state.lock() {
            state.warnings += 1;
        }
    }
}

/// All tasks of this node.
#[derive(Debug, Default)]
pub struct TaskRegistry {
    tasks: Mutex<HashMap<String, Arc<Mutex<TaskState>>>>,
    counter: AtomicU32,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Process start time in clock ticks since boot (`/proc/self/stat` field 22), PVE's PSTART.
fn process_start_ticks() -> u64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            let after_comm = stat.rsplit_once(')')?.1;
            after_comm.split_whitespace().nth(19)?.parse().ok()
        })
        .unwrap_or(0)
}

impl TaskRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a task and runs `work` on a blocking thread. `work` returns `Err(text)`
    /// to end the task with `TASK ERROR: text`.
    pub fn spawn<F>(self: &Arc<Self>, node: &str, kind: &str, id: &str, user: &str, work: F) -> Upid
    where
        F: FnOnce(&TaskLog) -> Result<(), String> + Send + 'static,
    {
        self.spawn_with_fault(node, kind, id, user, None, work)
    }

    /// Like [`spawn`](Self::spawn), with an injected fault that fails the task at its first
    /// [`TaskLog::checkpoint`] (or at its end if it has none).
    pub fn spawn_with_fault<F>(
        self: &Arc<Self>,
        node: &str,
        kind: &str,
        id: &str,
        user: &str,
        fault: Option<String>,
        work: F,
    ) -> Upid
    where
        F: FnOnce(&TaskLog) -> Result<(), String> + Send + 'static,
    {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let upid = Upid {
            node: node.to_string(),
            // Each worker has its own PID on PVE; distinct values keep UPIDs unique.
            pid: std::process::id().wrapping_add(n + 1),
            pstart: process_start_ticks(),
            starttime: unix_now(),
            kind: kind.to_string(),
            id: id.to_string(),
            user: user.to_string(),
        };
        let state = Arc::new(Mutex::new(TaskState {
            upid: upid.clone(),
            log: Vec::new(),
            exitstatus: None,
            warnings: 0,
        }));
        if let Ok(mut tasks) = self.tasks.lock() {
            tasks.insert(upid.encode(), state.clone());
        }
        let log = TaskLog {
            state: state.clone(),
            fault: Arc::new(Mutex::new(fault)),
        };
        let run = move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                work(&log).and_then(|()| log.checkpoint())
            }))
            .unwrap_or_else(|_| Err("task panicked".to_string()));
            if let Ok(mut st) = state.lock() {
                let status = match outcome {
                    Ok(()) if st.warnings > 0 => format!("WARNINGS: {}", st.warnings),
                    Ok(()) => "OK".to_string(),
                    Err(text) => text.trim_end().to_string(),
                };
                let last = match status.as_str() {
                    "OK" => "TASK OK".to_string(),
                    s if s.starts_with("WARNINGS: ") => format!("TASK {s}"),
                    s => format!("TASK ERROR: {s}"),
                };
                st.log.push(last);
                st.exitstatus = Some(status);
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn_blocking(run);
            }
            Err(_) => {
                std::thread::spawn(run);
            }
        }
        upid
    }

    /// `GET …/tasks/{upid}/status`.
    pub fn status(&self, upid: &str) -> Option<Value> {
        let state = self.tasks.lock().ok()?.get(upid)?.clone();
        let st = state.lock().ok()?;
        let u = &st.upid;
        let mut out = json!({
            "upid": u.encode(),
            "node": u.node,
            "pid": u.pid,
            "pstart": u.pstart,
            "starttime": u.starttime,
            "type": u.kind,
            "id": u.id,
            "user": u.user,
            "status": if st.exitstatus.is_some() { "stopped" } else { "running" },
        });
        if let Some(exit) = &st.exitstatus {
            out["exitstatus"] = json!(exit);
        }
        Some(out)
    }

    /// `GET …/tasks/{upid}/log`: lines `start`.. (0-based) at most `limit`, numbered from 1,
    /// plus the total line count.
    pub fn log(&self, upid: &str, start: usize, limit: usize) -> Option<(Value, usize)> {
        let state = self.tasks.lock().ok()?.get(upid)?.clone();
        let st = state.lock().ok()?;
        let total = st.log.len();
        if total == 0 {
            return Some((json!([{"n": 1, "t": "no content"}]), 1));
        }
        let lines: Vec<Value> = st
            .log
            .iter()
            .enumerate()
            .skip(start)
            .take(limit)
            .map(|(i, t)| json!({"n": i + 1, "t": t}))
            .collect();
        Some((Value::Array(lines), total))
    }

    /// True while any task of `kind` for `id` runs (e.g. a `vzshutdown` to overrule).
    pub fn running(&self, kind: &str, id: &str) -> bool {
        let Ok(tasks) = self.tasks.lock() else {
            return false;
        };
        tasks.values().any(|t| {
            t.lock()
                .map(|st| st.exitstatus.is_none() && st.upid.kind == kind && st.upid.id == id)
                .unwrap_or(false)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upid_round_trips_in_pve_format() {
        let upid = Upid {
            node: "pve".into(),
            pid: 0x1A2B,
            pstart: 0xFF,
            starttime: 0x6500_0000,
            kind: "vzcreate".into(),
            id: "100".into(),
            user: "root@pam!pvelxc".into(),
        };
        let text = upid.encode();
        assert_eq!(
            text,
            "UPID:pve:00001A2B:000000FF:65000000:vzcreate:100:root@pam!pvelxc:"
        );
        assert_eq!(Upid::decode(&text), Some(upid));
        assert!(Upid::decode("UPID:pve:1A2B:000000FF:65000000:vzcreate:100:root@pam:").is_none());
    }

    #[test]
    fn task_runs_to_stopped_with_log() {
        let registry = Arc::new(TaskRegistry::new());
        let ok = registry.spawn("pve", "vzstart", "100", "root@pam", |log| {
            log.line("starting");
            Ok(())
        });
        let bad = registry.spawn("pve", "vzstop", "100", "root@pam", |_| Err("boom\n".into()));
        let wait = |upid: &Upid| {
            for _ in 0..200 {
                let status = registry.status(&upid.encode()).expect("known");
                if status["status"] == "stopped" {
                    return status;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            panic!("task did not finish");
        };
        assert_eq!(wait(&ok)["exitstatus"], "OK");
        assert_eq!(wait(&bad)["exitstatus"], "boom");
        let (log, total) = registry.log(&ok.encode(), 0, 50).expect("log");
        assert_eq!(total, 2);
        assert_eq!(log, json!([{"n":1,"t":"starting"},{"n":2,"t":"TASK OK"}]));
        let (tail, _) = registry.log(&bad.encode(), 0, 1).expect("log");
        assert_eq!(tail, json!([{"n":1,"t":"TASK ERROR: boom"}]));
    }
}
