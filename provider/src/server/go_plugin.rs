//! go-plugin's side services: controller (Shutdown), stdio and broker.
//!
//! Terraform calls `GRPCController/Shutdown` when it is done with a provider
//! instance and then waits up to two seconds for the process to exit, so the
//! shutdown has to reach the server loop at once. Stdio streams nothing
//! (our logs go to stderr, which go-plugin already reads) and the broker is
//! inert because Terraform providers never open extra connections.

use std::pin::Pin;

use futures_util::Stream;
use pvelxc_proto::plugin::{
    grpc_broker_server::GrpcBroker, grpc_controller_server::GrpcController,
    grpc_stdio_server::GrpcStdio, ConnInfo, Empty, StdioData,
};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, Streaming};

/// Triggers server shutdown when Terraform asks for it.
#[derive(Clone)]
pub struct Controller {
    shutdown: CancellationToken,
}

impl Controller {
    /// `shutdown` is cancelled on `Shutdown`.
    pub fn new(shutdown: CancellationToken) -> Self {
        Controller { shutdown }
    }
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _request: Request<Empty>) -> Result<Response<Empty>, Status> {
        tracing::debug!("shutdown requested by Terraform");
        self.shutdown.cancel();
        Ok(Response::new(Empty {}))
    }
}

/// A stdio stream that stays open and silent until the server stops.
#[derive(Clone)]
pub struct Stdio {
    shutdown: CancellationToken,
}

impl Stdio {
    /// The stream ends when `shutdown` is cancelled.
    pub fn new(shutdown: CancellationToken) -> Self {
        Stdio { shutdown }
    }
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl GrpcStdio for Stdio {
    async fn stream_stdio(
        &self,
        _request: Request<()>,
    ) -> Result<Response<BoxStream<StdioData>>, Status> {
        let shutdown = self.shutdown.clone();
        let stream = futures_util::stream::once(async move {
            shutdown.cancelled().await;
            None
        })
        .filter_map(|item: Option<Result<StdioData, Status>>| async move { item });
        Ok(Response::new(Box::pin(stream)))
    }
}

/// A broker that accepts the stream and never offers connections.
#[derive(Clone)]
pub struct Broker {
    shutdown: CancellationToken,
}

impl Broker {
    /// The stream ends when `shutdown` is cancelled.
    pub fn new(shutdown: CancellationToken) -> Self {
        Broker { shutdown }
    }
}

#[tonic::async_trait]
impl GrpcBroker for Broker {
    async fn start_stream(
        &self,
        _request: Request<Streaming<ConnInfo>>,
    ) -> Result<Response<BoxStream<ConnInfo>>, Status> {
        let shutdown = self.shutdown.clone();
        let stream = futures_util::stream::once(async move {
            shutdown.cancelled().await;
            None
        })
        .filter_map(|item: Option<Result<ConnInfo, Status>>| async move { item });
        Ok(Response::new(Box::pin(stream)))
    }
}

use futures_util::StreamExt as _;
