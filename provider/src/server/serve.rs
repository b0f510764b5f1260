//! Starts the gRPC server the way Terraform expects and runs it until
//! Terraform shuts it down.

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use pvelxc_proto::plugin::{
    grpc_broker_server::GrpcBrokerServer, grpc_controller_server::GrpcControllerServer,
    grpc_stdio_server::GrpcStdioServer,
};
use pvelxc_proto::tfplugin5::provider_server::{Provider, ProviderServer};
use tokio_util::sync::CancellationToken;
use tonic::transport::Server;

use super::go_plugin::{Broker, Controller, Stdio};
use super::handshake::{self, HandshakeError};
use super::listener::{plain_incoming, tls_incoming, SocketDir};
use super::tls::{self, ServerIdentity};

/// Largest gRPC message accepted or sent; Terraform itself allows 256 MiB.
const MAX_MESSAGE_BYTES: usize = 256 << 20;
/// How long in-flight calls get to finish after Terraform's Shutdown before
/// the process exits anyway (Terraform kills us after 2 s).
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

/// How the process was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Launched by Terraform: cookie, handshake line, AutoMTLS.
    Plugin,
    /// Started by a developer: plaintext, prints `TF_REATTACH_PROVIDERS`.
    Debug,
}

/// Names the provider uses when talking about itself.
#[derive(Debug, Clone, Copy)]
pub struct PluginIdentity {
    /// Registry address used in `TF_REATTACH_PROVIDERS`,
    /// e.g. `registry.terraform.io/pvelxc/pvelxc`.
    pub address: &'static str,
}

/// Runs the provider process to completion and returns its exit code.
pub fn run<P: Provider>(identity: PluginIdentity, mode: Mode, provider: P) -> ExitCode {
    if mode == Mode::Plugin {
        let cookie = std::env::var(handshake::MAGIC_COOKIE_KEY).ok();
        if let Err(err) = handshake::check_cookie(cookie.as_deref()) {
            eprintln!("{err}");
            return ExitCode::from(1);
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("cannot start the async runtime: {err}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(serve(identity, mode, provider)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "provider server failed");
            eprintln!("{err}");
            ExitCode::from(1)
        }
    }
}

/// Everything that can stop the server from starting.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Handshake negotiation failed.
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    /// TLS setup failed.
    #[error(transparent)]
    Tls(#[from] tls::TlsSetupError),
    /// Socket or stdout trouble.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: &'static str,
        /// The underlying error.
        source: std::io::Error,
    },
    /// tonic failed while serving.
    #[error("gRPC server error: {0}")]
    Transport(#[from] tonic::transport::Error),
}

fn io_err(context: &'static str) -> impl FnOnce(std::io::Error) -> ServeError {
    move |source| ServeError::Io { context, source }
}

async fn serve<P: Provider>(
    identity: PluginIdentity,
    mode: Mode,
    provider: P,
) -> Result<(), ServeError> {
    let version = match mode {
        Mode::Plugin => {
            handshake::negotiate_version(std::env::var("PLUGIN_PROTOCOL_VERSIONS").ok().as_deref())?
        }
        Mode::Debug => handshake::APP_PROTOCOL_VERSION,
    };
    tracing::debug!(version, "negotiated plugin protocol");

    let shutdown = CancellationToken::new();
    let socket_dir = SocketDir::create().map_err(io_err("cannot create the socket directory"))?;
    let listener = socket_dir
        .bind()
        .map_err(io_err("cannot listen on the plugin socket"))?;
    let socket = socket_dir.socket_path().display().to_string();

    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;

    let router = Server::builder()
        .add_service(health_service)
        .add_service(GrpcControllerServer::new(Controller::new(shutdown.clone())))
        .add_service(GrpcStdioServer::new(Stdio::new(shutdown.clone())))
        .add_service(GrpcBrokerServer::new(Broker::new(shutdown.clone())))
        .add_service(
            ProviderServer::new(provider)
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
        );

    let client_cert = std::env::var(tls::CLIENT_CERT_ENV)
        .ok()
        .filter(|pem| !pem.trim().is_empty());
    let stop_signal = shutdown.clone().cancelled_owned();

    let server = match (mode, client_cert) {
        (Mode::Plugin, Some(pem)) => {
            let pinned = tls::parse_client_cert(&pem)?;
            let server_identity = ServerIdentity::generate()?;
            let config = tls::server_config(&server_identity, pinned)?;
            let incoming = tls_incoming(
                listener,
                tokio_rustls::TlsAcceptor::from(Arc::new(config)),
                shutdown.clone(),
            );
            announce(&handshake::handshake_line(
                "unix",
                &socket,
                &server_identity.cert_der,
            ))?;
            ignore_interrupts();
            tokio::spawn(router.serve_with_incoming_shutdown(incoming, stop_signal))
        }
        (Mode::Plugin, None) => {
            tracing::warn!(
                "PLUGIN_CLIENT_CERT is not set; serving without TLS as TF_DISABLE_PLUGIN_TLS asked"
            );
            let incoming = plain_incoming(listener, shutdown.clone());
            announce(&handshake::handshake_line("unix", &socket, &[]))?;
            ignore_interrupts();
            tokio::spawn(router.serve_with_incoming_shutdown(incoming, stop_signal))
        }
        (Mode::Debug, _) => {
            let incoming = plain_incoming(listener, shutdown.clone());
            let reattach = handshake::reattach_json(identity.address, std::process::id(), &socket);
            announce(&format!(
                "Provider started. To attach Terraform, set this in the shell that runs it:\n\n\
                 \tTF_REATTACH_PROVIDERS='{reattach}'\n\nPress Ctrl-C to stop."
            ))?;
            stop_on_interrupt(shutdown.clone());
            tokio::spawn(router.serve_with_incoming_shutdown(incoming, stop_signal))
        }
    };
    stop_on_terminate(shutdown.clone());

    shutdown.cancelled().await;
    match tokio::time::timeout(SHUTDOWN_GRACE, server).await {
        Ok(Ok(result)) => result?,
        Ok(Err(join)) => tracing::error!(error = %join, "server task failed"),
        Err(_) => tracing::debug!("connections still open after shutdown grace; exiting"),
    }
    drop(socket_dir);
    Ok(())
}

/// Writes the handshake (or reattach) text to stdout and flushes, which is
/// the moment Terraform starts connecting.
fn announce(text: &str) -> Result<(), ServeError> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(io_err("cannot write the handshake to stdout"))
}

/// Ctrl-C reaches the whole process group; Terraform cancels through the
/// Stop RPC instead, so the signal itself must not kill us.
fn ignore_interrupts() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()) {
        Ok(mut signals) => {
            tokio::spawn(async move {
                while signals.recv().await.is_some() {
                    tracing::debug!("ignoring SIGINT; Terraform stops providers through Stop");
                }
            });
        }
        Err(err) => tracing::warn!(error = %err, "cannot install the SIGINT handler"),
    }
}

fn stop_on_interrupt(shutdown: CancellationToken) {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            shutdown.cancel();
        }
    });
}

fn stop_on_terminate(shutdown: CancellationToken) {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut signals) => {
            tokio::spawn(async move {
                if signals.recv().await.is_some() {
                    shutdown.cancel();
                }
            });
        }
        Err(err) => tracing::warn!(error = %err, "cannot install the SIGTERM handler"),
    }
}
