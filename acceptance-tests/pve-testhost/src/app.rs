//! Shared state of one API server: the node's config store, credentials, tasks and the
//! executor that runs containers.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use pve_testhost_runtime::paths::NodePaths;
use pve_testhost_runtime::store::{ConfigStore, StoreError};

use crate::auth::Authenticator;
use crate::error::ApiError;
use crate::executor::Executor;
use crate::faults::Faults;
use crate::router::Ctx;
use crate::tasks::{TaskLog, TaskRegistry, Upid};

/// Everything a request handler can reach.
pub struct App {
    pub node: String,
    pub paths: NodePaths,
    pub store: ConfigStore,
    pub auth: Authenticator,
    pub tasks: Arc<TaskRegistry>,
    pub executor: Arc<dyn Executor>,
    pub faults: Faults,
    /// Unix time the server started (node uptime).
    pub started: u64,
    /// SHA-256 fingerprint of the server certificate, reported in `/nodes`.
    pub ssl_fingerprint: String,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("node", &self.node)
            .finish_non_exhaustive()
    }
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Maps config-store failures to what PVE answers (all plain `die`s: HTTP 500).
pub fn store_error(err: StoreError) -> ApiError {
    let text = err.to_string();
    ApiError::internal(format!("{}\n", text.trim_end()))
}

impl App {
    /// `/var/lib/vz`, the `local` directory storage.
    pub fn local_storage_dir(&self) -> PathBuf {
        self.paths.root().join("var/lib/vz")
    }

    /// Host path of a `local:` volume id (`local:100/vm-100-disk-0.raw`,
    /// `local:vztmpl/<file>`), or `None` for other storages / malformed ids.
    pub fn volume_path(&self, volid: &str) -> Option<PathBuf> {
        if volid.starts_with("local:vztmpl/") {
            return pve_testhost_runtime::volumes::template_path(&self.paths, volid).ok();
        }
        pve_testhost_runtime::volumes::image_path(&self.paths, volid).ok()
    }

    /// Refuses requests for other nodes the way a PVE node without such a cluster member does.
    pub fn check_node(&self, node: &str) -> Result<(), ApiError> {
        if node == self.node {
            Ok(())
        } else {
            Err(ApiError::internal(format!(
                "hostname lookup '{node}' failed - failed to get address info for: {node}: Name or service not known\n"
            )))
        }
    }

    /// Starts the worker task of a request; an injected `task_failure` for the request
    /// makes it fail at its first checkpoint.
    pub fn spawn_task<F>(&self, ctx: &Ctx, kind: &str, id: &str, work: F) -> Upid
    where
        F: FnOnce(&TaskLog) -> Result<(), String> + Send + 'static,
    {
        self.tasks.spawn_with_fault(
            &self.node,
            kind,
            id,
            &ctx.user(),
            ctx.task_fault.clone(),
            work,
        )
    }

    /// Path of the fault file.
    pub fn faults_path(&self) -> &Path {
        self.faults.path()
    }
}
