//! The pvelxc provider definition.

use std::sync::Arc;

use pvelxc_cty::Value;
use pvelxc_schema::{Diagnostic, Schema};

use crate::config::{self, ProviderConfig};
use crate::framework::{DataSource, Function, ProviderDef, Resource};
use crate::node::NodeAccess;
use crate::registry;

/// Registry address Terraform knows the provider by.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/pvelxc/pvelxc";

/// What every pvelxc resource receives after Configure.
#[derive(Debug)]
pub struct PvelxcClient {
    /// The resolved provider configuration.
    pub config: ProviderConfig,
    /// API client and SSH session to the node, built on first use.
    pub node: NodeAccess,
    /// Version of the Terraform CLI driving us.
    pub terraform_version: String,
}

/// The pvelxc provider.
#[derive(Debug, Default, Clone, Copy)]
pub struct PvelxcProvider;

#[tonic::async_trait]
impl ProviderDef for PvelxcProvider {
    type Client = PvelxcClient;

    fn name(&self) -> &'static str {
        "pvelxc"
    }

    fn schema(&self) -> Schema {
        config::provider_schema()
    }

    fn example(&self) -> &'static str {
        "provider \"pvelxc\" {\n  endpoint = \"https://pve.lan:8006\"\n  node     = \"pve\"\n  # api_token from PVELXC_API_TOKEN\n\n  ssh {\n    user        = \"root\"\n    known_hosts = \"~/.ssh/known_hosts\"\n  }\n}\n"
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        config::validate(config)
    }

    async fn configure(
        &self,
        config: &Value,
        terraform_version: &str,
    ) -> Result<PvelxcClient, Vec<Diagnostic>> {
        let env = |name: &str| std::env::var(name).ok();
        let config = config::resolve(config, &env)?;
        tracing::debug!(
            endpoint = config.endpoint.as_deref().unwrap_or("<unset>"),
            node = config.node.as_deref().unwrap_or("<unset>"),
            has_credentials = config.credentials.is_some(),
            "provider configured"
        );
        Ok(PvelxcClient {
            node: NodeAccess::new(config.clone()),
            config,
            terraform_version: terraform_version.to_string(),
        })
    }

    fn resources(&self) -> Vec<Arc<dyn Resource<PvelxcClient>>> {
        registry::resources()
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource<PvelxcClient>>> {
        registry::data_sources()
    }

    fn functions(&self) -> Vec<Arc<dyn Function>> {
        registry::functions()
    }
}
