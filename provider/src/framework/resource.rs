//! Managed resources.
//!
//! Resource code implements create/read/update/delete on plain cty values;
//! the framework owns everything Terraform is strict about (decoding,
//! planning rules, replacement, private state, result checks), so a resource
//! cannot produce an "inconsistent result" by accident.

use pvelxc_cty::{Path, Value};
use pvelxc_schema::{Diagnostic, Schema};

use super::context::Ctx;

/// What a failed operation hands back.
#[derive(Debug, Default)]
pub struct ResourceError {
    /// At least one error.
    pub diagnostics: Vec<Diagnostic>,
    /// State of a partially created/updated object, kept so nothing real is
    /// forgotten by Terraform (a failed create becomes tainted).
    pub partial_state: Option<Value>,
}

impl From<Diagnostic> for ResourceError {
    fn from(diag: Diagnostic) -> Self {
        ResourceError {
            diagnostics: vec![diag],
            partial_state: None,
        }
    }
}

impl From<Vec<Diagnostic>> for ResourceError {
    fn from(diagnostics: Vec<Diagnostic>) -> Self {
        ResourceError {
            diagnostics,
            partial_state: None,
        }
    }
}

/// Result of a resource operation.
pub type ResourceResult<T> = Result<T, ResourceError>;

/// A state object plus the provider's private bytes for it.
#[derive(Debug, Clone, Default)]
pub struct StateWithPrivate {
    /// The object, conforming to the resource schema, wholly known.
    pub state: Value,
    /// Opaque bytes Terraform stores next to the state and hands back.
    pub private: Vec<u8>,
}

/// Planning input/output for [`Resource::modify_plan`].
pub struct PlanChange<'a> {
    /// State before the change; null on create.
    pub prior: &'a Value,
    /// The configuration, possibly with unknown values.
    pub config: &'a Value,
    /// The framework's plan (defaults applied, computed values unknown on
    /// create, prior values kept on update). Resource code may set computed
    /// attributes to known values or mark them unknown.
    pub planned: &'a mut Value,
    /// Private state to carry into apply; starts as the prior private state.
    pub private: &'a mut Vec<u8>,
    /// Extra attribute paths that force replacement when they change, in
    /// addition to the schema's `requires_replace` attributes.
    pub requires_replace: &'a mut Vec<Path>,
}

/// Converts state written by an older schema version.
pub struct StateUpgrader {
    /// Schema version this upgrader reads.
    pub from_version: i64,
    /// Rewrites the stored JSON object into the shape of `from_version + 1`.
    pub upgrade: fn(serde_json::Value) -> Result<serde_json::Value, Diagnostic>,
}

/// A managed resource type. `C` is the client `Configure` produced.
#[tonic::async_trait]
pub trait Resource<C: Send + Sync + 'static>: Send + Sync + 'static {
    /// Full type name, e.g. `pvelxc_container`.
    fn type_name(&self) -> &'static str;

    /// The schema, declared once.
    fn schema(&self) -> Schema;

    /// Example configurations for the docs: `(title, hcl)`.
    fn examples(&self) -> Vec<(&'static str, &'static str)> {
        Vec::new()
    }

    /// Import instructions for the docs, if the resource can be imported.
    fn import_docs(&self) -> Option<&'static str> {
        None
    }

    /// Upgraders from older schema versions, one per version step.
    fn upgraders(&self) -> Vec<StateUpgrader> {
        Vec::new()
    }

    /// Checks beyond the schema's validators; the config may hold unknowns.
    fn validate(&self, _config: &Value) -> Vec<Diagnostic> {
        Vec::new()
    }

    /// Adjusts the framework's plan (see [`PlanChange`]).
    fn modify_plan(&self, _change: PlanChange<'_>) -> Vec<Diagnostic> {
        Vec::new()
    }

    /// Checks only the live system can answer (e.g. that a device named in the
    /// configuration exists on the node), run after [`Resource::modify_plan`] and the
    /// schema's plan checks, so such mistakes fail `terraform plan` rather than `apply`.
    /// `ctx` has no client while the provider is unconfigured; implementations then
    /// return nothing, and skip values that are still unknown.
    async fn check_plan(&self, _ctx: &Ctx<C>, _prior: &Value, _planned: &Value) -> Vec<Diagnostic> {
        Vec::new()
    }

    /// Creates the object. `planned` is the plan with every configured value
    /// known; unknowns are computed attributes to fill in.
    async fn create(
        &self,
        ctx: &Ctx<C>,
        planned: &Value,
        private: &[u8],
    ) -> ResourceResult<StateWithPrivate>;

    /// Refreshes the object; `Ok(None)` when it no longer exists.
    async fn read(
        &self,
        ctx: &Ctx<C>,
        state: &Value,
        private: &[u8],
    ) -> ResourceResult<Option<StateWithPrivate>>;

    /// Updates the object in place.
    async fn update(
        &self,
        ctx: &Ctx<C>,
        prior: &Value,
        planned: &Value,
        private: &[u8],
    ) -> ResourceResult<StateWithPrivate>;

    /// Deletes the object.
    async fn delete(&self, ctx: &Ctx<C>, prior: &Value, private: &[u8]) -> ResourceResult<()>;

    /// Builds a minimal state from an import ID; Terraform calls `read`
    /// right after.
    async fn import(&self, _ctx: &Ctx<C>, id: &str) -> ResourceResult<StateWithPrivate> {
        Err(Diagnostic::error(
            Path::root(),
            "Import is not supported",
            format!(
                "{} cannot be imported (ID {id:?}); create it with Terraform instead.",
                self.type_name()
            ),
        )
        .into())
    }
}
