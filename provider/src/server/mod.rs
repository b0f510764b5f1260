//! The plugin process: go-plugin handshake, AutoMTLS, the gRPC services and
//! the process lifecycle around them. Knows nothing about resources.

pub mod go_plugin;
pub mod handshake;
pub mod listener;
pub mod serve;
pub mod tls;

pub use serve::{run, Mode, PluginIdentity};
