//! Starting the API server: TLS identity, credentials, state, and the listener.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum_server::tls_rustls::RustlsConfig;
use pve_testhost_runtime::paths::NodePaths;
use pve_testhost_runtime::store::ConfigStore;

use crate::app::{unix_now, App};
use crate::auth::{Authenticator, Credentials};
use crate::executor::runtime::RuntimeExecutor;
use crate::executor::standalone::Standalone;
use crate::executor::Executor;
use crate::faults::Faults;
use crate::router::dispatch;
use crate::tasks::TaskRegistry;
use crate::tls::{TlsError, TlsFiles};

/// How containers are run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecutorKind {
    /// Real LXC through `pve-testhost-runtime` (the server runs inside the node).
    Lxc,
    /// No LXC: running state kept in files (API-only tests without root).
    Standalone,
}

/// Everything needed to serve one node.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Node name (`pve`).
    pub node: String,
    /// Node root directory (`/` inside the node's namespace, a temp dir in tests).
    pub root: PathBuf,
    /// Where TLS files, credentials and the fault file live.
    pub state_dir: PathBuf,
    /// Listen address; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Names and addresses for the server certificate.
    pub tls_names: Vec<String>,
    pub executor: ExecutorKind,
}

impl ServerConfig {
    /// A standalone server on 127.0.0.1 with a random port, for tests.
    pub fn standalone(root: impl Into<PathBuf>, state_dir: impl Into<PathBuf>) -> Self {
        ServerConfig {
            node: "pve".into(),
            root: root.into(),
            state_dir: state_dir.into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls_names: vec!["localhost".into(), "127.0.0.1".into()],
            executor: ExecutorKind::Standalone,
        }
    }

    pub fn tls(&self) -> TlsFiles {
        TlsFiles::new(self.state_dir.join("tls"))
    }

    pub fn credentials_path(&self) -> PathBuf {
        self.state_dir.join("credentials.json")
    }

    pub fn faults_path(&self) -> PathBuf {
        self.state_dir.join("faults.json")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("credentials: {0}")]
    Credentials(std::io::Error),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("node root {path}: {source}")]
    Root {
        path: PathBuf,
        source: pve_testhost_runtime::store::StoreError,
    },
}

/// A server running in the current tokio runtime.
#[derive(Debug)]
pub struct RunningServer {
    pub addr: SocketAddr,
    pub app: Arc<App>,
    handle: axum_server::Handle<SocketAddr>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// Stops accepting and waits for the server task.
    pub async fn shutdown(self) {
        self.handle
            .graceful_shutdown(Some(std::time::Duration::from_secs(2)));
        let _ = self.task.await;
    }

    /// Serves until the server stops (for the `serve` command).
    pub async fn wait(self) -> std::io::Result<()> {
        self.task.await.map_err(std::io::Error::other)?
    }
}

/// Builds the shared state for `config` (TLS files and credentials are created if missing).
pub fn build_app(config: &ServerConfig) -> Result<Arc<App>, ServerError> {
    let tls = config.tls();
    tls.ensure(&config.tls_names)?;
    let credentials = Credentials::load_or_create(&config.credentials_path())
        .map_err(ServerError::Credentials)?;
    let paths = NodePaths::new(&config.root, &config.node);
    let store = ConfigStore::new(paths.clone());
    store.init().map_err(|source| ServerError::Root {
        path: config.root.clone(),
        source,
    })?;
    let executor: Arc<dyn Executor> = match &config.executor {
        ExecutorKind::Lxc => Arc::new(RuntimeExecutor::new(
            pve_testhost_runtime::container::Containers::new(
                store.clone(),
                pve_testhost_runtime::lxcconfig::HostFacts::detect(),
            ),
        )),
        ExecutorKind::Standalone => Arc::new(Standalone::new(store.clone())),
    };
    Ok(Arc::new(App {
        node: config.node.clone(),
        paths,
        store,
        auth: Authenticator::new(credentials),
        tasks: Arc::new(TaskRegistry::new()),
        executor,
        faults: Faults::new(config.faults_path()),
        started: unix_now(),
        ssl_fingerprint: tls.server_fingerprint()?,
    }))
}

/// Starts serving `config` in the current tokio runtime.
pub async fn start(config: &ServerConfig) -> Result<RunningServer, ServerError> {
    let app = build_app(config)?;
    let tls = RustlsConfig::from_config(config.tls().server_config()?);
    let listener =
        std::net::TcpListener::bind(config.listen).map_err(|source| ServerError::Listen {
            addr: config.listen,
            source,
        })?;
    let addr = listener
        .local_addr()
        .map_err(|source| ServerError::Listen {
            addr: config.listen,
            source,
        })?;
    listener
        .set_nonblocking(true)
        .map_err(|source| ServerError::Listen { addr, source })?;
    let router = Router::new().fallback(dispatch).with_state(app.clone());
    let handle = axum_server::Handle::new();
    let server = axum_server::from_tcp_rustls(listener, tls)
        .map_err(|source| ServerError::Listen { addr, source })?
        .handle(handle.clone());
    let task = tokio::spawn(async move { server.serve(router.into_make_service()).await });
    tracing::info!(%addr, node = %config.node, "pve-testhost API listening");
    Ok(RunningServer {
        addr,
        app,
        handle,
        task,
    })
}
