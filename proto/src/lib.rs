//! Generated gRPC types for the Terraform plugin protocol (major version 5,
//! package `tfplugin5`) and for go-plugin's `plugin` package (controller,
//! stdio and broker services). No logic lives here: the provider crate owns
//! the behaviour, this crate only pins the wire contract.

/// Terraform plugin protocol 5.10 (`tfplugin5`).
#[allow(clippy::all, missing_docs)]
pub mod tfplugin5 {
    tonic::include_proto!("tfplugin5");
}

/// go-plugin's own services (`plugin`), served next to the provider.
#[allow(clippy::all, missing_docs)]
pub mod plugin {
    tonic::include_proto!("plugin");
}

/// Protocol minor version the `.proto` files describe.
pub const PROTOCOL_VERSION: (u32, u32) = (5, 10);
