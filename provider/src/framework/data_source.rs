//! Data sources.

use pvelxc_cty::Value;
use pvelxc_schema::{Diagnostic, Schema};

use super::context::Ctx;

/// A data source type. `C` is the client `Configure` produced.
#[tonic::async_trait]
pub trait DataSource<C: Send + Sync + 'static>: Send + Sync + 'static {
    /// Full type name, e.g. `pvelxc_node`.
    fn type_name(&self) -> &'static str;

    /// The schema, declared once.
    fn schema(&self) -> Schema;

    /// Example configurations for the docs: `(title, hcl)`.
    fn examples(&self) -> Vec<(&'static str, &'static str)> {
        Vec::new()
    }

    /// Checks beyond the schema's validators; the config may hold unknowns.
    fn validate(&self, _config: &Value) -> Vec<Diagnostic> {
        Vec::new()
    }

    /// Reads the data. `config` is wholly known; the result must be a
    /// wholly known object conforming to the schema.
    async fn read(&self, ctx: &Ctx<C>, config: &Value) -> Result<Value, Vec<Diagnostic>>;
}
