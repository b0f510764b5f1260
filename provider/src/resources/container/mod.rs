//! `pvelxc_container`: an LXC container on a Proxmox VE node.
//!
//! * [`schema`]: the declaration;
//! * [`model`]: configuration ⇄ PVE config and state;
//! * [`presets`]: GPU / optical drive / idmap expansion;
//! * [`plan`]: validation and plan adjustments;
//! * [`apply`], [`read`], [`import`]: the operations.

pub mod apply;
pub mod errors;
pub mod import;
pub mod model;
pub mod plan;
pub mod presets;
pub mod private;
pub mod read;
pub mod schema;
pub mod values;

mod docs;

use pvelxc_cty::{Path, Value};
use pvelxc_schema::{Diagnostic, Schema};

use crate::framework::{Ctx, PlanChange, Resource, ResourceResult, StateWithPrivate};
use crate::provider::PvelxcClient;

/// The `pvelxc_container` resource.
#[derive(Debug, Default, Clone, Copy)]
pub struct ContainerResource;

#[tonic::async_trait]
impl Resource<PvelxcClient> for ContainerResource {
    fn type_name(&self) -> &'static str {
        "pvelxc_container"
    }

    fn schema(&self) -> Schema {
        schema::schema()
    }

    fn examples(&self) -> Vec<(&'static str, &'static str)> {
        docs::EXAMPLES.to_vec()
    }

    fn import_docs(&self) -> Option<&'static str> {
        Some(docs::IMPORT)
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        plan::validate(config)
    }

    fn modify_plan(&self, change: PlanChange<'_>) -> Vec<Diagnostic> {
        plan::modify_plan(change)
    }

    async fn check_plan(
        &self,
        ctx: &Ctx<PvelxcClient>,
        prior: &Value,
        planned: &Value,
    ) -> Vec<Diagnostic> {
        apply::check_plan(ctx, prior, planned).await
    }

    async fn create(
        &self,
        ctx: &Ctx<PvelxcClient>,
        planned: &Value,
        _private: &[u8],
    ) -> ResourceResult<StateWithPrivate> {
        apply::create(ctx, planned).await
    }

    async fn read(
        &self,
        ctx: &Ctx<PvelxcClient>,
        state: &Value,
        private: &[u8],
    ) -> ResourceResult<Option<StateWithPrivate>> {
        let client = ctx.client()?;
        let (node, vmid) = read::identity(state)?;
        let api = client.node.api().await?;
        let calls_before = api.api_calls();
        let Some(seen) = read::observe(api, &node, vmid, state).await? else {
            return Ok(None);
        };
        // Counted across the client: exact when Terraform refreshes one resource at a time.
        tracing::debug!(
            vmid,
            api_calls = api.api_calls().saturating_sub(calls_before),
            "container refreshed"
        );
        let recorded = private::Private::decode(private).unwrap_or_default();
        Ok(Some(StateWithPrivate {
            state: read::to_state(&node, vmid, &seen, state, &recorded),
            private: private.to_vec(),
        }))
    }

    async fn update(
        &self,
        ctx: &Ctx<PvelxcClient>,
        prior: &Value,
        planned: &Value,
        _private: &[u8],
    ) -> ResourceResult<StateWithPrivate> {
        apply::update(ctx, prior, planned).await
    }

    async fn delete(
        &self,
        ctx: &Ctx<PvelxcClient>,
        prior: &Value,
        _private: &[u8],
    ) -> ResourceResult<()> {
        apply::delete(ctx, prior).await
    }

    async fn import(&self, ctx: &Ctx<PvelxcClient>, id: &str) -> ResourceResult<StateWithPrivate> {
        let (node, vmid) = import::parse_id(id)?;
        let client = ctx.client()?;
        let node = client
            .node
            .node_name(node.as_deref(), Path::root())?
            .to_string();
        let api = client.node.api().await?;
        if read::observe(api, &node, vmid, &Value::Null)
            .await?
            .is_none()
        {
            return Err(Diagnostic::error(
                Path::root(),
                "Container not found",
                format!("There is no CT {vmid} on node {node}; check the import ID <node>/<vmid>."),
            )
            .into());
        }
        Ok(StateWithPrivate {
            state: import::stub_state(&node, vmid),
            private: Vec::new(),
        })
    }
}
