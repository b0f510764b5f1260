//! Typed endpoint calls.
//!
//! Refreshing one container costs at most three calls: `config`, `status/current` and, for a
//! running container, `interfaces`.

use std::time::{Duration, Instant};

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::client::{PveClient, RequestOptions};
use super::task::{task_succeeded, TaskOutcome, Upid};
use super::types::*;
use crate::config::{ContainerConfig, DiskSize, Params};
use crate::error::ApiError;

/// Lines of a failed task's log kept in the error.
const TASK_LOG_TAIL: u64 = 20;

/// The lowest and highest vmid PVE accepts.
pub const VMID_RANGE: std::ops::RangeInclusive<u32> = 100..=999_999_999;

/// Parameters of `POST /nodes/{node}/lxc` beyond the container config.
#[derive(Clone, Debug)]
pub struct CreateRequest {
    pub vmid: u32,
    /// Template volume id (`local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst`).
    pub ostemplate: String,
    pub config: ContainerConfig,
    /// Root password inside the container; PVE consumes it and does not store it.
    pub password: Option<SecretString>,
    /// `authorized_keys` for root, one key per line.
    pub ssh_public_keys: Option<String>,
    /// Default storage for `rootfs`/`mpN` given as plain sizes.
    pub storage: Option<String>,
    /// Start the container once created.
    pub start: bool,
    pub pool: Option<String>,
}

/// `DELETE /nodes/{node}/lxc/{vmid}` options.
#[derive(Clone, Copy, Debug, Default)]
pub struct DestroyOptions {
    /// Stop the container first if it runs.
    pub force: bool,
    /// Also remove it from backup/replication jobs and HA.
    pub purge: bool,
    /// Also destroy unreferenced disks with this vmid.
    pub destroy_unreferenced_disks: bool,
}

/// A container config as read from the API, with the digest to update it safely.
#[derive(Clone, Debug)]
pub struct ConfigSnapshot {
    pub config: ContainerConfig,
    pub digest: String,
}

impl CreateRequest {
    /// The form parameters of the create request, in sending order. Includes the password in
    /// clear text (it is sent over TLS only); never log the result.
    pub fn to_params(&self) -> Result<Params, ApiError> {
        check_vmid(self.vmid)?;
        let bad_template = !self.ostemplate.contains(':')
            || self.ostemplate.chars().any(char::is_control)
            || self.ostemplate.len() > 255;
        if bad_template {
            return Err(ApiError::Config {
                attribute: "template",
                message: format!("'{}' is not a template volume id like local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst", self.ostemplate),
            });
        }
        if self
            .password
            .as_ref()
            .is_some_and(|p| p.expose_secret().chars().count() < 5)
        {
            return Err(ApiError::Config {
                attribute: "password",
                message: "must be at least 5 characters long (PVE's minimum)".into(),
            });
        }
        let mut params = self
            .config
            .to_params()
            .map_err(|e| ApiError::InvalidParameters {
                message: e.to_string(),
                errors: [(e.key(), e.to_string())].into_iter().collect(),
            })?;
        params.push(("vmid".into(), self.vmid.to_string()));
        params.push(("ostemplate".into(), self.ostemplate.clone()));
        if let Some(s) = &self.storage {
            params.push(("storage".into(), s.clone()));
        }
        if let Some(k) = &self.ssh_public_keys {
            params.push(("ssh-public-keys".into(), k.clone()));
        }
        if self.start {
            params.push(("start".into(), "1".into()));
        }
        if let Some(p) = &self.pool {
            params.push(("pool".into(), p.clone()));
        }
        if let Some(pw) = &self.password {
            params.push(("password".into(), pw.expose_secret().to_string()));
        }
        Ok(params)
    }
}

impl PveClient {
    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        params: &[(String, String)],
    ) -> Result<T, ApiError> {
        let data = self
            .call(Method::GET, path, params, RequestOptions::idempotent())
            .await?;
        decode(path, data)
    }

    /// `GET /version`.
    pub async fn version(&self) -> Result<VersionInfo, ApiError> {
        self.get("/version", &[]).await
    }

    /// `GET /nodes`.
    pub async fn nodes(&self) -> Result<Vec<NodeInfo>, ApiError> {
        self.get("/nodes", &[]).await
    }

    /// `GET /nodes/{node}/status`.
    pub async fn node_status(&self, node: &str) -> Result<NodeStatus, ApiError> {
        let path = format!("/nodes/{}/status", seg_node(node)?);
        let raw: Value = self.get(&path, &[]).await?;
        Ok(NodeStatus {
            pveversion: raw
                .get("pveversion")
                .and_then(Value::as_str)
                .map(str::to_string),
            kversion: raw
                .get("kversion")
                .and_then(Value::as_str)
                .map(str::to_string),
            uptime: raw.get("uptime").and_then(Value::as_u64),
            raw,
        })
    }

    /// `GET /cluster/nextid`: the next free vmid (not a reservation).
    pub async fn next_id(&self) -> Result<u32, ApiError> {
        let v: Value = self.get("/cluster/nextid", &[]).await?;
        parse_vmid("/cluster/nextid", &v)
    }

    /// `GET /cluster/nextid?vmid=N`: whether `vmid` is free. PVE answers 400 when it is taken.
    pub async fn vmid_is_free(&self, vmid: u32) -> Result<bool, ApiError> {
        match self
            .get::<Value>("/cluster/nextid", &[("vmid".into(), vmid.to_string())])
            .await
        {
            Ok(_) => Ok(true),
            Err(ApiError::InvalidParameters { errors, .. }) if errors.contains_key("vmid") => {
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// `GET /cluster/resources?type=vm` (or `storage`, `node`).
    pub async fn cluster_resources(
        &self,
        kind: Option<&str>,
    ) -> Result<Vec<ClusterResource>, ApiError> {
        let params: Vec<(String, String)> = kind
            .map(|k| ("type".to_string(), k.to_string()))
            .into_iter()
            .collect();
        self.get("/cluster/resources", &params).await
    }

    /// `GET /nodes/{node}/storage`, optionally only storages holding `content`.
    pub async fn storages(
        &self,
        node: &str,
        content: Option<&str>,
    ) -> Result<Vec<StorageInfo>, ApiError> {
        let path = format!("/nodes/{}/storage", seg_node(node)?);
        let params: Vec<(String, String)> = content
            .map(|c| ("content".to_string(), c.to_string()))
            .into_iter()
            .collect();
        self.get(&path, &params).await
    }

    /// `GET /nodes/{node}/storage/{storage}/content?content=vztmpl` and similar.
    pub async fn storage_content(
        &self,
        node: &str,
        storage: &str,
        content: Option<&str>,
    ) -> Result<Vec<StorageContent>, ApiError> {
        let path = format!(
            "/nodes/{}/storage/{}/content",
            seg_node(node)?,
            seg_storage(storage)?
        );
        let params: Vec<(String, String)> = content
            .map(|c| ("content".to_string(), c.to_string()))
            .into_iter()
            .collect();
        self.get(&path, &params).await
    }

    /// `GET /nodes/{node}/lxc`.
    pub async fn containers(&self, node: &str) -> Result<Vec<ContainerSummary>, ApiError> {
        let path = format!("/nodes/{}/lxc", seg_node(node)?);
        self.get(&path, &[]).await
    }

    /// `POST /nodes/{node}/lxc`. Never resent blindly: when the outcome is unknown (timeout,
    /// 5xx) the vmid is checked; if the container exists the error says so
    /// ([`ApiError::CreateOutcomeUnknown`]), otherwise the create is sent again.
    pub async fn create_container(
        &self,
        node: &str,
        req: &CreateRequest,
    ) -> Result<Upid, ApiError> {
        let path = format!("/nodes/{}/lxc", seg_node(node)?);
        let params = req.to_params()?;
        let root = !req.config.root_only_keys().is_empty();
        let opts = RequestOptions::once().as_root(root);
        let policy = self.retry_policy();
        let mut attempt = 1;
        loop {
            match self.call(Method::POST, &path, &params, opts).await {
                Ok(v) => return parse_upid(&path, &v),
                // PVE refused before doing anything: the vmid belongs to another container.
                // Never treat that as an ambiguous outcome (the container found afterwards is
                // not ours).
                Err(e) if is_vmid_taken(&e) => return Err(e),
                Err(e) if e.class() == crate::ErrorClass::Transient => {
                    if self.container_exists(node, req.vmid).await? {
                        return Err(ApiError::CreateOutcomeUnknown {
                            vmid: req.vmid,
                            source: Box::new(e),
                        });
                    }
                    if attempt >= policy.max_attempts {
                        return Err(e);
                    }
                    tracing::warn!(vmid = req.vmid, error = %e, "create failed before the container existed; sending it again");
                    tokio::time::sleep(policy.backoff(attempt)).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Whether `vmid` has a config on `node`.
    pub async fn container_exists(&self, node: &str, vmid: u32) -> Result<bool, ApiError> {
        let path = format!("/nodes/{}/lxc/{}/status/current", seg_node(node)?, vmid);
        match self
            .call(Method::GET, &path, &[], RequestOptions::idempotent())
            .await
        {
            Ok(_) => Ok(true),
            Err(ApiError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `DELETE /nodes/{node}/lxc/{vmid}`.
    pub async fn destroy_container(
        &self,
        node: &str,
        vmid: u32,
        opts: DestroyOptions,
    ) -> Result<Upid, ApiError> {
        let path = format!("/nodes/{}/lxc/{}", seg_node(node)?, vmid);
        let mut params = Vec::new();
        if opts.force {
            params.push(("force".to_string(), "1".to_string()));
        }
        if opts.purge {
            params.push(("purge".to_string(), "1".to_string()));
        }
        if opts.destroy_unreferenced_disks {
            params.push(("destroy-unreferenced-disks".to_string(), "1".to_string()));
        }
        let v = self
            .call(Method::DELETE, &path, &params, RequestOptions::once())
            .await?;
        parse_upid(&path, &v)
    }

    /// `GET .../config` with pending values merged (PVE's default) or, with `current`, only
    /// the applied values.
    pub async fn container_config(
        &self,
        node: &str,
        vmid: u32,
        current: bool,
    ) -> Result<ConfigSnapshot, ApiError> {
        let path = format!("/nodes/{}/lxc/{}/config", seg_node(node)?, vmid);
        let params: Vec<(String, String)> = if current {
            vec![("current".into(), "1".into())]
        } else {
            Vec::new()
        };
        let data: Value = self.get(&path, &params).await?;
        let obj = data.as_object().ok_or_else(|| ApiError::Decode {
            path: path.clone(),
            message: "config is not an object".into(),
        })?;
        let config = ContainerConfig::from_api(obj).map_err(|e| ApiError::Decode {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let digest = config.digest.clone().ok_or_else(|| ApiError::Decode {
            path,
            message: "config has no digest".into(),
        })?;
        Ok(ConfigSnapshot { config, digest })
    }

    /// `PUT .../config` (synchronous). Safe to retry only because callers pass `digest`:
    /// without one the request is sent once.
    pub async fn update_config(
        &self,
        node: &str,
        vmid: u32,
        params: &Params,
        as_root: bool,
    ) -> Result<(), ApiError> {
        let path = format!("/nodes/{}/lxc/{}/config", seg_node(node)?, vmid);
        let has_digest = params.iter().any(|(k, _)| k == "digest");
        let opts = if has_digest {
            RequestOptions::idempotent()
        } else {
            RequestOptions::once()
        }
        .as_root(as_root);
        self.call(Method::PUT, &path, params, opts).await?;
        Ok(())
    }

    /// `GET .../pending`.
    pub async fn pending(&self, node: &str, vmid: u32) -> Result<Vec<PendingEntry>, ApiError> {
        let path = format!("/nodes/{}/lxc/{}/pending", seg_node(node)?, vmid);
        self.get(&path, &[]).await
    }

    /// `GET .../status/current`.
    pub async fn container_status(
        &self,
        node: &str,
        vmid: u32,
    ) -> Result<ContainerStatus, ApiError> {
        let path = format!("/nodes/{}/lxc/{}/status/current", seg_node(node)?, vmid);
        self.get(&path, &[]).await
    }

    async fn status_action(
        &self,
        node: &str,
        vmid: u32,
        action: &str,
        params: Params,
    ) -> Result<Upid, ApiError> {
        let path = format!("/nodes/{}/lxc/{}/status/{action}", seg_node(node)?, vmid);
        let v = self
            .call(Method::POST, &path, &params, RequestOptions::once())
            .await?;
        parse_upid(&path, &v)
    }

    /// `POST .../status/start`.
    pub async fn start_container(&self, node: &str, vmid: u32) -> Result<Upid, ApiError> {
        self.status_action(node, vmid, "start", Vec::new()).await
    }

    /// `POST .../status/stop` (hard stop).
    pub async fn stop_container(&self, node: &str, vmid: u32) -> Result<Upid, ApiError> {
        self.status_action(node, vmid, "stop", Vec::new()).await
    }

    /// `POST .../status/shutdown`; `force_stop` kills it after `timeout`.
    pub async fn shutdown_container(
        &self,
        node: &str,
        vmid: u32,
        timeout: Duration,
        force_stop: bool,
    ) -> Result<Upid, ApiError> {
        let mut p = vec![("timeout".to_string(), timeout.as_secs().to_string())];
        if force_stop {
            p.push(("forceStop".to_string(), "1".to_string()));
        }
        self.status_action(node, vmid, "shutdown", p).await
    }

    /// `POST .../status/reboot` (applies pending changes).
    pub async fn reboot_container(
        &self,
        node: &str,
        vmid: u32,
        timeout: Option<Duration>,
    ) -> Result<Upid, ApiError> {
        let p = timeout
            .map(|t| ("timeout".to_string(), t.as_secs().to_string()))
            .into_iter()
            .collect();
        self.status_action(node, vmid, "reboot", p).await
    }

    /// `GET .../interfaces` (running containers only).
    pub async fn interfaces(&self, node: &str, vmid: u32) -> Result<Vec<Interface>, ApiError> {
        let path = format!("/nodes/{}/lxc/{}/interfaces", seg_node(node)?, vmid);
        self.get(&path, &[]).await
    }

    /// `PUT .../resize` to an absolute size (PVE refuses to shrink). Returns the task when
    /// PVE runs it as one.
    pub async fn resize(
        &self,
        node: &str,
        vmid: u32,
        disk: &str,
        size: DiskSize,
        digest: Option<&str>,
    ) -> Result<Option<Upid>, ApiError> {
        let path = format!("/nodes/{}/lxc/{}/resize", seg_node(node)?, vmid);
        let mut p = vec![
            ("disk".to_string(), disk.to_string()),
            ("size".to_string(), size.to_string()),
        ];
        if let Some(d) = digest {
            p.push(("digest".to_string(), d.to_string()));
        }
        // An absolute size is idempotent: growing to the same size twice is a no-op.
        let v = self
            .call(Method::PUT, &path, &p, RequestOptions::idempotent())
            .await?;
        match v {
            Value::Null => Ok(None),
            other => parse_upid(&path, &other).map(Some),
        }
    }

    /// `GET /nodes/{node}/tasks/{upid}/status` on the node that runs the task.
    pub async fn task_status(&self, upid: &Upid) -> Result<TaskStatus, ApiError> {
        self.get(&task_path(upid, "status")?, &[]).await
    }

    /// `GET /nodes/{node}/tasks/{upid}/log` from line `start`, at most `limit` lines; also
    /// returns the total number of lines.
    pub async fn task_log(
        &self,
        upid: &Upid,
        start: u64,
        limit: u64,
    ) -> Result<(Vec<TaskLogLine>, Option<u64>), ApiError> {
        let path = task_path(upid, "log")?;
        let p = vec![
            ("start".to_string(), start.to_string()),
            ("limit".to_string(), limit.to_string()),
        ];
        let env = self
            .call_envelope(Method::GET, &path, &p, RequestOptions::idempotent())
            .await?;
        Ok((decode(&path, env.data)?, env.total))
    }

    /// The last lines of a task's log.
    pub async fn task_log_tail(&self, upid: &Upid, lines: u64) -> Result<Vec<String>, ApiError> {
        let (head, total) = self.task_log(upid, 0, lines).await?;
        let Some(total) = total.filter(|t| *t > lines) else {
            return Ok(head.into_iter().map(|l| l.t).collect());
        };
        let (tail, _) = self.task_log(upid, total - lines, lines).await?;
        Ok(tail.into_iter().map(|l| l.t).collect())
    }

    /// Polls a task until it stops, `timeout` passes or `cancel` fires. A failed task becomes
    /// [`ApiError::TaskFailed`] carrying the tail of its log; warnings count as success.
    pub async fn wait_task(
        &self,
        upid: &Upid,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<TaskOutcome, ApiError> {
        let started = Instant::now();
        let mut delay = Duration::from_millis(250);
        loop {
            let status = self.task_status(upid).await?;
            if status.status == "stopped" {
                let exit = status
                    .exitstatus
                    .unwrap_or_else(|| "unexpected status".to_string());
                if let Some(ok) = task_succeeded(&exit) {
                    return Ok(ok);
                }
                let log_tail = self
                    .task_log_tail(upid, TASK_LOG_TAIL)
                    .await
                    .unwrap_or_default();
                return Err(ApiError::TaskFailed {
                    upid: upid.to_string(),
                    exitstatus: exit,
                    log_tail,
                });
            }
            if started.elapsed() >= timeout {
                return Err(ApiError::TaskTimeout {
                    upid: upid.to_string(),
                    after: timeout,
                });
            }
            tokio::select! {
                () = cancel.cancelled() => return Err(ApiError::Cancelled),
                () = tokio::time::sleep(delay.min(timeout.saturating_sub(started.elapsed()))) => {}
            }
            delay = (delay * 2).min(Duration::from_secs(2));
        }
    }
}

/// `CT <vmid> already exists on node '<node>'` (`check_vmid_unused`): the create was refused
/// because the vmid is in use, so nothing was created.
pub fn is_vmid_taken(err: &ApiError) -> bool {
    match err {
        ApiError::Http { message, .. } | ApiError::InvalidParameters { message, .. } => {
            message.contains("already exists")
        }
        _ => false,
    }
}

fn decode<T: DeserializeOwned>(path: &str, data: Value) -> Result<T, ApiError> {
    serde_json::from_value(data).map_err(|e| ApiError::Decode {
        path: path.to_string(),
        message: e.to_string(),
    })
}

fn parse_upid(path: &str, v: &Value) -> Result<Upid, ApiError> {
    v.as_str()
        .ok_or_else(|| ApiError::Decode {
            path: path.to_string(),
            message: format!("expected a task id, got {v}"),
        })?
        .parse()
}

fn parse_vmid(path: &str, v: &Value) -> Result<u32, ApiError> {
    let n = v
        .as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()));
    n.and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| ApiError::Decode {
            path: path.to_string(),
            message: format!("expected a vmid, got {v}"),
        })
}

fn task_path(upid: &Upid, what: &str) -> Result<String, ApiError> {
    let enc =
        percent_encoding::utf8_percent_encode(upid.as_str(), percent_encoding::NON_ALPHANUMERIC);
    Ok(format!(
        "/nodes/{}/tasks/{enc}/{what}",
        seg_node(upid.node())?
    ))
}

/// Validates a vmid against PVE's range.
pub fn check_vmid(vmid: u32) -> Result<(), ApiError> {
    if VMID_RANGE.contains(&vmid) {
        Ok(())
    } else {
        Err(ApiError::Config {
            attribute: "vmid",
            message: format!("{vmid} is outside PVE's range 100..999999999"),
        })
    }
}

/// A node name as a path segment (`pve-node` format: letters, digits, inner dashes).
fn seg_node(node: &str) -> Result<&str, ApiError> {
    let ok = !node.is_empty()
        && node.len() <= 63
        && node.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !node.starts_with('-')
        && !node.ends_with('-');
    if ok {
        Ok(node)
    } else {
        Err(ApiError::Config {
            attribute: "node",
            message: format!("'{node}' is not a valid node name (letters, digits and inner '-')"),
        })
    }
}

/// A storage id as a path segment (`pve-storage-id`: `[a-z][a-z0-9\-\_\.]*`).
fn seg_storage(storage: &str) -> Result<&str, ApiError> {
    let mut bytes = storage.bytes();
    let ok = bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(storage)
    } else {
        Err(ApiError::Config {
            attribute: "storage",
            message: format!("'{storage}' is not a valid storage id"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_vmid_is_not_an_ambiguous_create() {
        let taken = ApiError::from_response(
            500,
            "POST",
            "/nodes/pve/lxc",
            br#"{"data":null,"message":"CT 104 already exists on node 'pve'\n"}"#,
            None,
        );
        assert!(is_vmid_taken(&taken), "{taken:?}");
        let other = ApiError::from_response(
            500,
            "POST",
            "/nodes/pve/lxc",
            br#"{"data":null,"message":"storage offline"}"#,
            None,
        );
        assert!(!is_vmid_taken(&other));
        assert_eq!(other.class(), crate::ErrorClass::Transient);
    }

    #[test]
    fn path_segments_are_validated() {
        assert!(seg_node("pve").is_ok());
        assert!(seg_node("node-2").is_ok());
        for bad in ["", "../x", "a/b", "-a", "a b", "a?x=1"] {
            assert!(seg_node(bad).is_err(), "{bad}");
        }
        assert!(seg_storage("local-lvm").is_ok());
        assert!(seg_storage("x/../y").is_err());
        assert!(check_vmid(99).is_err());
        assert!(check_vmid(100).is_ok());
        let u: Upid = "UPID:pve:000C1A2B:0142B3C4:6554F0A1:vzcreate:201:root@pam!tok:"
            .parse()
            .unwrap();
        let p = task_path(&u, "status").unwrap();
        assert!(p.starts_with("/nodes/pve/tasks/UPID%3Apve%3A"), "{p}");
        assert!(p.ends_with("%21tok%3A/status"), "{p}");
    }
}
