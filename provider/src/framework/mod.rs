//! A small framework for Terraform providers over plugin protocol 5.
//!
//! Resource, data source and function code works on cty values and schema
//! declarations; [`server::ProviderService`] turns that into the gRPC
//! service and enforces Terraform's planning and apply rules.

pub mod context;
pub mod data_source;
pub mod diagnostics;
pub mod dynamic;
pub mod function;
pub mod planning;
pub mod proto_schema;
pub mod provider;
pub mod resource;
pub mod server;
pub mod upgrade;

pub use context::Ctx;
pub use data_source::DataSource;
pub use function::{Function, FunctionError, FunctionSignature, Parameter};
pub use provider::ProviderDef;
pub use resource::{
    PlanChange, Resource, ResourceError, ResourceResult, StateUpgrader, StateWithPrivate,
};
pub use server::ProviderService;
