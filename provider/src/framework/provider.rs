//! The provider itself: its configuration and the list of everything it
//! offers.

use std::sync::Arc;

use pvelxc_cty::Value;
use pvelxc_schema::{Diagnostic, Schema};

use super::data_source::DataSource;
use super::function::Function;
use super::resource::Resource;

/// A provider built on this framework.
#[tonic::async_trait]
pub trait ProviderDef: Send + Sync + 'static {
    /// What `Configure` produces and every operation receives (an API
    /// client, for example).
    type Client: Send + Sync + 'static;

    /// Short name as used in `provider::<name>::fn` and resource prefixes.
    fn name(&self) -> &'static str;

    /// Schema of the `provider` block.
    fn schema(&self) -> Schema;

    /// Example provider block for the docs.
    fn example(&self) -> &'static str {
        ""
    }

    /// Checks beyond the schema's validators; the config may hold unknowns.
    fn validate(&self, _config: &Value) -> Vec<Diagnostic> {
        Vec::new()
    }

    /// Builds the client from the provider block. `config` is wholly known
    /// unless Terraform could not know it yet.
    async fn configure(
        &self,
        config: &Value,
        terraform_version: &str,
    ) -> Result<Self::Client, Vec<Diagnostic>>;

    /// Managed resource types.
    fn resources(&self) -> Vec<Arc<dyn Resource<Self::Client>>>;

    /// Data source types.
    fn data_sources(&self) -> Vec<Arc<dyn DataSource<Self::Client>>>;

    /// Provider-defined functions.
    fn functions(&self) -> Vec<Arc<dyn Function>>;
}
