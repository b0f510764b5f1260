//! The unix socket the provider listens on, and the stream of accepted
//! (optionally TLS-wrapped) connections handed to tonic.
//!
//! Handshakes run in their own tasks so one slow or hostile client cannot
//! hold up Terraform's connection; failed handshakes are logged and dropped.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;

/// A private directory holding the socket; removed when dropped.
pub struct SocketDir {
    dir: tempfile::TempDir,
    path: PathBuf,
}

impl SocketDir {
    /// Creates a fresh mode-0700 directory under `$TMPDIR` (or
    /// `PLUGIN_UNIX_SOCKET_DIR`, which go-plugin honours too).
    pub fn create() -> std::io::Result<Self> {
        let mut builder = tempfile::Builder::new();
        builder.prefix("pvelxc-plugin");
        let dir = match std::env::var_os("PLUGIN_UNIX_SOCKET_DIR") {
            Some(base) if !base.is_empty() => builder.tempdir_in(base)?,
            _ => builder.tempdir()?,
        };
        let path = dir.path().join("plugin.sock");
        Ok(SocketDir { dir, path })
    }

    /// Path of the socket inside the directory.
    pub fn socket_path(&self) -> &Path {
        &self.path
    }

    /// The directory itself.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Binds the listener. Must run inside the tokio runtime.
    pub fn bind(&self) -> std::io::Result<UnixListener> {
        UnixListener::bind(&self.path)
    }
}

/// Accepted TLS connections, ready for `serve_with_incoming`.
pub fn tls_incoming(
    listener: UnixListener,
    acceptor: TlsAcceptor,
    stop: CancellationToken,
) -> ReceiverStream<std::io::Result<TlsStream<UnixStream>>> {
    let (tx, rx) = mpsc::channel(16);
    let acceptor = Arc::new(acceptor);
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                _ = stop.cancelled() => break,
                accepted = listener.accept() => accepted,
            };
            let stream = match accepted {
                Ok((stream, _)) => stream,
                Err(err) => {
                    tracing::warn!(error = %err, "accepting a connection failed");
                    continue;
                }
            };
            let acceptor = Arc::clone(&acceptor);
            let tx = tx.clone();
            tokio::spawn(async move {
                match acceptor.accept(stream).await {
                    Ok(tls) => {
                        let _ = tx.send(Ok(tls)).await;
                    }
                    Err(err) => tracing::warn!(error = %err, "TLS handshake refused"),
                }
            });
        }
    });
    ReceiverStream::new(rx)
}

/// Accepted plaintext connections (debug/reattach mode and
/// `TF_DISABLE_PLUGIN_TLS`).
pub fn plain_incoming(
    listener: UnixListener,
    stop: CancellationToken,
) -> ReceiverStream<std::io::Result<UnixStream>> {
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                _ = stop.cancelled() => break,
                accepted = listener.accept() => accepted,
            };
            match accepted {
                Ok((stream, _)) => {
                    if tx.send(Ok(stream)).await.is_err() {
                        break;
                    }
                }
                Err(err) => tracing::warn!(error = %err, "accepting a connection failed"),
            }
        }
    });
    ReceiverStream::new(rx)
}
