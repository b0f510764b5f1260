//! terraform-provider-pvelxctest: a tiny provider built from the same
//! framework as terraform-provider-pvelxc, used only by the protocol tests
//! to drive every planning rule through real Terraform without a Proxmox
//! node. It is an example target, so it never ships with the real provider.
//!
//! `pvelxctest_thing` keeps its "remote" objects in memory of the state
//! itself (nothing external), which is enough to exercise create, update,
//! replace, refresh, import and delete.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use pvelxc_cty::{Path, Value};
use pvelxc_provider::framework::context::cancelled_diagnostic;
use pvelxc_provider::framework::{
    Ctx, DataSource, Function, PlanChange, ProviderDef, Resource, ResourceResult, StateUpgrader,
    StateWithPrivate,
};
use pvelxc_provider::server::PluginIdentity;
use pvelxc_schema::{Attribute, Block, Diagnostic, NestedBlock, Schema};

/// Private state the thing carries: proves Terraform hands it back.
const PRIVATE_PREFIX: &str = "pvelxctest-private:v1:";

struct TestProvider;

struct TestClient {
    id_prefix: String,
}

#[tonic::async_trait]
impl ProviderDef for TestProvider {
    type Client = TestClient;

    fn name(&self) -> &'static str {
        "pvelxctest"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new().description("Protocol test provider.").attr(
                Attribute::string("id_prefix")
                    .optional()
                    .description("Prefix for generated IDs (default `thing-`)."),
            ),
        )
    }

    async fn configure(&self, config: &Value, _tf: &str) -> Result<TestClient, Vec<Diagnostic>> {
        let id_prefix = config
            .get_attr("id_prefix")
            .and_then(Value::as_str)
            .unwrap_or("thing-")
            .to_string();
        Ok(TestClient { id_prefix })
    }

    fn resources(&self) -> Vec<Arc<dyn Resource<TestClient>>> {
        vec![Arc::new(Thing)]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource<TestClient>>> {
        vec![Arc::new(Echo)]
    }

    fn functions(&self) -> Vec<Arc<dyn Function>> {
        Vec::new()
    }
}

/// `pvelxctest_thing`.
struct Thing;

fn summary_of(planned: &Value) -> Value {
    match (
        planned.get_attr("name").and_then(Value::as_str),
        planned.get_attr("size").and_then(Value::as_i64),
    ) {
        (Some(name), Some(size)) => Value::string(format!("{name}/{size}")),
        _ => Value::unknown(),
    }
}

#[tonic::async_trait]
impl Resource<TestClient> for Thing {
    fn type_name(&self) -> &'static str {
        "pvelxctest_thing"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            1,
            Block::new()
                .description("A thing that exists only in Terraform state.")
                .attr(
                    Attribute::string("id")
                        .computed()
                        .use_state_for_unknown()
                        .description("Generated ID."),
                )
                .attr(
                    Attribute::string("name")
                        .required()
                        .description("Name (updates in place)."),
                )
                .attr(
                    Attribute::int("size")
                        .optional()
                        .computed()
                        .default(Value::int(8))
                        .description("Size, default 8."),
                )
                .attr(
                    Attribute::string("zone")
                        .optional()
                        .requires_replace()
                        .description("Changing the zone replaces the thing."),
                )
                .attr(
                    Attribute::string("secret")
                        .optional()
                        .sensitive()
                        .description("A secret."),
                )
                .attr(
                    Attribute::int("create_delay_ms")
                        .optional()
                        .description("Sleep this long during create (cancellable by Stop)."),
                )
                .attr(
                    Attribute::string("summary")
                        .computed()
                        .description("`name/size`."),
                )
                .attr(
                    Attribute::string("private_seen")
                        .computed()
                        .description("The private state the last apply received."),
                )
                .block(NestedBlock::list(
                    "rule",
                    Block::new().attr(Attribute::int("port").required()).attr(
                        Attribute::string("proto")
                            .optional()
                            .computed()
                            .default(Value::string("tcp")),
                    ),
                )),
        )
    }

    fn upgraders(&self) -> Vec<StateUpgrader> {
        vec![StateUpgrader {
            from_version: 0,
            upgrade: |mut doc| {
                // Version 0 called the name `label`.
                if let Some(obj) = doc.as_object_mut() {
                    if let Some(label) = obj.remove("label") {
                        obj.insert("name".into(), label);
                    }
                }
                Ok(doc)
            },
        }]
    }

    fn modify_plan(&self, change: PlanChange<'_>) -> Vec<Diagnostic> {
        let summary = summary_of(change.planned);
        if let Value::Object(attrs) = change.planned {
            attrs.insert("summary".into(), summary);
            if change.prior.is_null() {
                attrs.insert("private_seen".into(), Value::unknown());
            }
        }
        if change.prior.is_null() {
            *change.private = format!("{PRIVATE_PREFIX}created").into_bytes();
        }
        Vec::new()
    }

    async fn create(
        &self,
        ctx: &Ctx<TestClient>,
        planned: &Value,
        private: &[u8],
    ) -> ResourceResult<StateWithPrivate> {
        let client = ctx.client()?;
        if let Some(ms) = planned.get_attr("create_delay_ms").and_then(Value::as_i64) {
            let delay = Duration::from_millis(u64::try_from(ms).unwrap_or(0));
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = ctx.cancellation().cancelled() => {
                    return Err(cancelled_diagnostic("creating pvelxctest_thing").into());
                }
            }
        }
        let name = planned
            .get_attr("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut state = planned.clone();
        if let Value::Object(attrs) = &mut state {
            attrs.insert(
                "id".into(),
                Value::string(format!("{}{name}", client.id_prefix)),
            );
            attrs.insert(
                "private_seen".into(),
                Value::string(String::from_utf8_lossy(private).into_owned()),
            );
        }
        Ok(StateWithPrivate {
            state,
            private: private.to_vec(),
        })
    }

    async fn read(
        &self,
        _ctx: &Ctx<TestClient>,
        state: &Value,
        private: &[u8],
    ) -> ResourceResult<Option<StateWithPrivate>> {
        if !private.starts_with(PRIVATE_PREFIX.as_bytes()) {
            return Err(Diagnostic::error(
                Path::root(),
                "Private state lost",
                format!(
                    "Expected private state, got {:?}",
                    String::from_utf8_lossy(private)
                ),
            )
            .into());
        }
        Ok(Some(StateWithPrivate {
            state: state.clone(),
            private: private.to_vec(),
        }))
    }

    async fn update(
        &self,
        _ctx: &Ctx<TestClient>,
        _prior: &Value,
        planned: &Value,
        private: &[u8],
    ) -> ResourceResult<StateWithPrivate> {
        let mut state = planned.clone();
        if let Value::Object(attrs) = &mut state {
            attrs.insert(
                "private_seen".into(),
                Value::string(String::from_utf8_lossy(private).into_owned()),
            );
        }
        Ok(StateWithPrivate {
            state,
            private: private.to_vec(),
        })
    }

    async fn delete(
        &self,
        _ctx: &Ctx<TestClient>,
        _prior: &Value,
        _private: &[u8],
    ) -> ResourceResult<()> {
        Ok(())
    }

    async fn import(&self, ctx: &Ctx<TestClient>, id: &str) -> ResourceResult<StateWithPrivate> {
        let client = ctx.client()?;
        let Some(name) = id.strip_prefix(&client.id_prefix) else {
            return Err(Diagnostic::error(
                Path::root(),
                "Unknown thing",
                format!("IDs start with {:?}; got {id:?}", client.id_prefix),
            )
            .into());
        };
        let schema = self.schema();
        let mut state = schema.block.empty_value();
        if let Value::Object(attrs) = &mut state {
            attrs.insert("id".into(), Value::string(id));
            attrs.insert("name".into(), Value::string(name));
            attrs.insert("size".into(), Value::int(8));
            attrs.insert("summary".into(), Value::string(format!("{name}/8")));
            attrs.insert("private_seen".into(), Value::string("imported"));
        }
        Ok(StateWithPrivate {
            state,
            private: format!("{PRIVATE_PREFIX}imported").into_bytes(),
        })
    }
}

/// `pvelxctest_echo`.
struct Echo;

#[tonic::async_trait]
impl DataSource<TestClient> for Echo {
    fn type_name(&self) -> &'static str {
        "pvelxctest_echo"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new()
                .attr(Attribute::string("input").required())
                .attr(Attribute::string("output").computed())
                .attr(Attribute::int("length").computed()),
        )
    }

    async fn read(&self, _ctx: &Ctx<TestClient>, config: &Value) -> Result<Value, Vec<Diagnostic>> {
        let input = config
            .get_attr("input")
            .and_then(Value::as_str)
            .unwrap_or_default();
        Ok(Value::object([
            ("input", Value::string(input)),
            ("output", Value::string(input)),
            ("length", Value::int(input.chars().count() as i64)),
        ]))
    }
}

fn main() -> ExitCode {
    pvelxc_provider::cli::main(
        PluginIdentity {
            address: "registry.terraform.io/pvelxc/pvelxctest",
        },
        "provider.terraform-provider-pvelxctest",
        TestProvider,
    )
}
