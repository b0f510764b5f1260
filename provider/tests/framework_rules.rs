//! The framework's enforcement of Terraform's rules, exercised through the
//! real gRPC service implementation with protobuf requests and MessagePack
//! payloads exactly as Terraform sends them.

use std::sync::Arc;
use std::time::Duration;

use pvelxc_cty::{Path, Type, Value};
use pvelxc_proto::tfplugin5 as pb;
use pvelxc_proto::tfplugin5::provider_server::Provider;
use pvelxc_provider::framework::context::cancelled_diagnostic;
use pvelxc_provider::framework::diagnostics::path_from_proto;
use pvelxc_provider::framework::{
    Ctx, DataSource, Function, ProviderDef, ProviderService, Resource, ResourceResult,
    StateUpgrader, StateWithPrivate,
};
use pvelxc_provider::provider::PvelxcProvider;
use pvelxc_schema::{Attribute, Block, Diagnostic, Schema};
use tonic::Request;

#[derive(Clone, Copy, PartialEq)]
enum Behaviour {
    Honest,
    ChangesConfiguredValue,
    LeavesComputedUnknown,
    Slow,
}

struct Widget(Behaviour, &'static str);

fn widget_schema() -> Schema {
    Schema::new(
        2,
        Block::new()
            .attr(Attribute::string("id").computed().use_state_for_unknown())
            .attr(Attribute::string("name").required())
            .attr(Attribute::string("zone").optional().requires_replace())
            .attr(
                Attribute::int("size")
                    .optional()
                    .computed()
                    .default(Value::int(4)),
            ),
    )
}

#[tonic::async_trait]
impl Resource<()> for Widget {
    fn type_name(&self) -> &'static str {
        self.1
    }

    fn schema(&self) -> Schema {
        widget_schema()
    }

    fn upgraders(&self) -> Vec<StateUpgrader> {
        vec![
            StateUpgrader {
                from_version: 0,
                upgrade: |mut doc| {
                    if let Some(o) = doc.as_object_mut() {
                        if let Some(v) = o.remove("title") {
                            o.insert("name".into(), v);
                        }
                    }
                    Ok(doc)
                },
            },
            StateUpgrader {
                from_version: 1,
                upgrade: |mut doc| {
                    if let Some(o) = doc.as_object_mut() {
                        o.entry("size").or_insert(4.into());
                    }
                    Ok(doc)
                },
            },
        ]
    }

    async fn create(
        &self,
        ctx: &Ctx<()>,
        planned: &Value,
        private: &[u8],
    ) -> ResourceResult<StateWithPrivate> {
        let mut state = planned.clone();
        if self.0 == Behaviour::Slow {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(30)) => {}
                _ = ctx.cancellation().cancelled() => return Err(cancelled_diagnostic("creating").into()),
            }
        }
        if let Value::Object(attrs) = &mut state {
            if self.0 != Behaviour::LeavesComputedUnknown {
                attrs.insert("id".into(), Value::string("w-1"));
            }
            if self.0 == Behaviour::ChangesConfiguredValue {
                attrs.insert("name".into(), Value::string("NORMALISED"));
            }
        }
        Ok(StateWithPrivate {
            state,
            private: private.to_vec(),
        })
    }

    async fn read(
        &self,
        _: &Ctx<()>,
        state: &Value,
        private: &[u8],
    ) -> ResourceResult<Option<StateWithPrivate>> {
        Ok(Some(StateWithPrivate {
            state: state.clone(),
            private: private.to_vec(),
        }))
    }

    async fn update(
        &self,
        _: &Ctx<()>,
        _: &Value,
        planned: &Value,
        private: &[u8],
    ) -> ResourceResult<StateWithPrivate> {
        Ok(StateWithPrivate {
            state: planned.clone(),
            private: private.to_vec(),
        })
    }

    async fn delete(&self, _: &Ctx<()>, _: &Value, _: &[u8]) -> ResourceResult<()> {
        Ok(())
    }
}

struct Def;

#[tonic::async_trait]
impl ProviderDef for Def {
    type Client = ();

    fn name(&self) -> &'static str {
        "t"
    }

    fn schema(&self) -> Schema {
        Schema::new(0, Block::new())
    }

    async fn configure(&self, _: &Value, _: &str) -> Result<(), Vec<Diagnostic>> {
        Ok(())
    }

    fn resources(&self) -> Vec<Arc<dyn Resource<()>>> {
        vec![
            Arc::new(Widget(Behaviour::Honest, "t_widget")),
            Arc::new(Widget(Behaviour::ChangesConfiguredValue, "t_liar")),
            Arc::new(Widget(Behaviour::LeavesComputedUnknown, "t_lazy")),
            Arc::new(Widget(Behaviour::Slow, "t_slow")),
        ]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource<()>>> {
        Vec::new()
    }

    fn functions(&self) -> Vec<Arc<dyn Function>> {
        Vec::new()
    }
}

fn ty() -> Type {
    widget_schema().block.implied_type()
}

fn dv(value: &Value) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: pvelxc_cty::msgpack::encode(value, &ty()).expect("encode"),
        json: Vec::new(),
    })
}

fn decode(value: &Option<pb::DynamicValue>) -> Value {
    let bytes = &value.as_ref().expect("value present").msgpack;
    pvelxc_cty::msgpack::decode(bytes, &ty()).expect("decode")
}

fn obj(id: Value, name: &str, zone: Value, size: Value) -> Value {
    Value::object([
        ("id", id),
        ("name", Value::string(name)),
        ("zone", zone),
        ("size", size),
    ])
}

async fn configured() -> ProviderService<Def> {
    let service = ProviderService::new(Def);
    let resp = service
        .configure(Request::new(pb::configure::Request::default()))
        .await
        .expect("configure")
        .into_inner();
    assert!(resp.diagnostics.is_empty());
    service
}

async fn plan(
    service: &ProviderService<Def>,
    type_name: &str,
    prior: &Value,
    config: &Value,
    private: &[u8],
) -> pb::plan_resource_change::Response {
    // Terraform's proposed new state: config values, prior values for
    // unset computed attributes.
    let proposed = match (prior, config) {
        (Value::Object(p), Value::Object(c)) => Value::Object(
            c.iter()
                .map(|(k, v)| {
                    let keep_prior = v.is_null() && matches!(k.as_str(), "id" | "size");
                    (k.clone(), if keep_prior { p[k].clone() } else { v.clone() })
                })
                .collect(),
        ),
        _ => config.clone(),
    };
    service
        .plan_resource_change(Request::new(pb::plan_resource_change::Request {
            type_name: type_name.into(),
            prior_state: dv(prior),
            proposed_new_state: dv(&proposed),
            config: dv(config),
            prior_private: private.to_vec(),
            ..Default::default()
        }))
        .await
        .expect("plan rpc")
        .into_inner()
}

async fn apply(
    service: &ProviderService<Def>,
    type_name: &str,
    prior: &Value,
    planned: &Value,
    config: &Value,
) -> pb::apply_resource_change::Response {
    service
        .apply_resource_change(Request::new(pb::apply_resource_change::Request {
            type_name: type_name.into(),
            prior_state: dv(prior),
            planned_state: dv(planned),
            config: dv(config),
            planned_private: b"opaque".to_vec(),
            ..Default::default()
        }))
        .await
        .expect("apply rpc")
        .into_inner()
}

#[tokio::test]
async fn create_plans_computed_unknown_and_defaults() {
    let service = configured().await;
    let config = obj(Value::Null, "a", Value::Null, Value::Null);
    let resp = plan(&service, "t_widget", &Value::Null, &config, b"").await;
    assert!(resp.diagnostics.is_empty(), "{:?}", resp.diagnostics);
    let planned = decode(&resp.planned_state);
    assert!(
        !planned.get_attr("id").expect("id").is_known(),
        "id unknown on create"
    );
    assert_eq!(
        planned.get_attr("size").and_then(Value::as_i64),
        Some(4),
        "default"
    );
    assert!(resp.requires_replace.is_empty(), "no replacement on create");
}

#[tokio::test]
async fn update_keeps_state_for_unknown_and_flags_replacement() {
    let service = configured().await;
    let prior = obj(
        Value::string("w-1"),
        "a",
        Value::string("z1"),
        Value::int(4),
    );
    let config = obj(Value::Null, "a", Value::string("z2"), Value::Null);
    let resp = plan(&service, "t_widget", &prior, &config, b"private-bytes").await;
    assert!(resp.diagnostics.is_empty(), "{:?}", resp.diagnostics);
    let planned = decode(&resp.planned_state);
    assert_eq!(planned.get_attr("id").and_then(Value::as_str), Some("w-1"));
    let paths: Vec<Path> = resp.requires_replace.iter().map(path_from_proto).collect();
    assert_eq!(paths, vec![Path::root().attr("zone")]);
    assert_eq!(
        resp.planned_private, b"private-bytes",
        "private state passes through"
    );
}

#[tokio::test]
async fn destroy_plan_and_apply_are_null() {
    let service = configured().await;
    let prior = obj(Value::string("w-1"), "a", Value::Null, Value::int(4));
    let resp = plan(&service, "t_widget", &prior, &Value::Null, b"p").await;
    assert!(decode(&resp.planned_state).is_null());
    assert_eq!(resp.planned_private, b"p");
    let resp = apply(&service, "t_widget", &prior, &Value::Null, &Value::Null).await;
    assert!(resp.diagnostics.is_empty(), "{:?}", resp.diagnostics);
    assert_eq!(
        resp.new_state.expect("state").msgpack,
        [0xc0],
        "delete returns msgpack nil"
    );
}

#[tokio::test]
async fn apply_result_is_checked_against_the_plan() {
    let service = configured().await;
    let config = obj(Value::Null, "a", Value::Null, Value::Null);
    for (type_name, attribute) in [("t_liar", "name"), ("t_lazy", "id")] {
        let planned = decode(
            &plan(&service, type_name, &Value::Null, &config, b"")
                .await
                .planned_state,
        );
        let resp = apply(&service, type_name, &Value::Null, &planned, &config).await;
        let errors: Vec<_> = resp
            .diagnostics
            .iter()
            .filter(|d| d.severity == pb::diagnostic::Severity::Error as i32)
            .collect();
        assert!(
            !errors.is_empty(),
            "{type_name}: mismatch must become an error diagnostic"
        );
        let named = errors.iter().any(|d| {
            d.attribute.as_ref().map(path_from_proto) == Some(Path::root().attr(attribute))
        });
        assert!(
            named,
            "{type_name}: error must name {attribute}: {errors:?}"
        );
        // The object exists remotely: it must still be recorded, wholly known.
        let state = decode(&resp.new_state);
        assert!(!state.is_null() && state.is_wholly_known());
    }
}

#[tokio::test]
async fn honest_apply_returns_state_and_private() {
    let service = configured().await;
    let config = obj(Value::Null, "a", Value::Null, Value::Null);
    let planned = decode(
        &plan(&service, "t_widget", &Value::Null, &config, b"")
            .await
            .planned_state,
    );
    let resp = apply(&service, "t_widget", &Value::Null, &planned, &config).await;
    assert!(resp.diagnostics.is_empty(), "{:?}", resp.diagnostics);
    assert_eq!(
        decode(&resp.new_state)
            .get_attr("id")
            .and_then(Value::as_str),
        Some("w-1")
    );
    assert_eq!(resp.private, b"opaque");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_cancels_in_flight_operations() {
    let service = configured().await;
    let config = obj(Value::Null, "a", Value::Null, Value::Null);
    let planned = decode(
        &plan(&service, "t_slow", &Value::Null, &config, b"")
            .await
            .planned_state,
    );
    let running = {
        let service = service.clone();
        tokio::spawn(
            async move { apply(&service, "t_slow", &Value::Null, &planned, &config).await },
        )
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    service
        .stop(Request::new(pb::stop::Request {}))
        .await
        .expect("stop");
    let resp = tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .expect("cancelled create returns promptly")
        .expect("join");
    assert!(
        resp.diagnostics
            .iter()
            .any(|d| d.summary == "Operation cancelled"),
        "{:?}",
        resp.diagnostics
    );
    assert!(
        decode(&resp.new_state).is_null(),
        "nothing created, prior (null) kept"
    );
}

#[tokio::test]
async fn state_upgrades_across_versions() {
    let service = configured().await;
    let upgrade = |version: i64, json: &str| {
        let service = service.clone();
        let json = json.as_bytes().to_vec();
        async move {
            service
                .upgrade_resource_state(Request::new(pb::upgrade_resource_state::Request {
                    type_name: "t_widget".into(),
                    version,
                    raw_state: Some(pb::RawState {
                        json,
                        flatmap: Default::default(),
                    }),
                }))
                .await
                .expect("rpc")
                .into_inner()
        }
    };
    let resp = upgrade(0, r#"{"id":"w-1","title":"old","zone":null}"#).await;
    assert!(resp.diagnostics.is_empty(), "{:?}", resp.diagnostics);
    let value = decode(&resp.upgraded_state);
    assert_eq!(value.get_attr("name").and_then(Value::as_str), Some("old"));
    assert_eq!(value.get_attr("size").and_then(Value::as_i64), Some(4));

    let resp = upgrade(2, r#"{"id":"w-1","name":"n","zone":null,"size":9}"#).await;
    assert_eq!(
        decode(&resp.upgraded_state)
            .get_attr("size")
            .and_then(Value::as_i64),
        Some(9)
    );

    let resp = upgrade(3, r#"{}"#).await;
    assert!(resp.upgraded_state.is_none());
    assert!(resp.diagnostics[0]
        .detail
        .contains("only knows versions up to 2"));
}

#[tokio::test]
async fn unknown_types_and_unimplemented_rpcs() {
    let service = configured().await;
    let resp = service
        .validate_resource_type_config(Request::new(pb::validate_resource_type_config::Request {
            type_name: "t_nope".into(),
            ..Default::default()
        }))
        .await
        .expect("domain errors are diagnostics, not gRPC errors")
        .into_inner();
    assert!(resp.diagnostics[0].detail.contains("t_nope"));
    let status = service
        .move_resource_state(Request::new(pb::move_resource_state::Request::default()))
        .await
        .expect_err("not offered");
    assert_eq!(status.code(), tonic::Code::Unimplemented);
}

#[tokio::test]
async fn functions_report_errors_with_the_argument_index() {
    let service = ProviderService::new(PvelxcProvider);
    let call = |name: &str, args: Vec<(Value, Type)>| {
        let service = service.clone();
        let name = name.to_string();
        async move {
            service
                .call_function(Request::new(pb::call_function::Request {
                    name,
                    arguments: args
                        .iter()
                        .map(|(v, t)| pb::DynamicValue {
                            msgpack: pvelxc_cty::msgpack::encode(v, t).expect("encode"),
                            json: Vec::new(),
                        })
                        .collect(),
                }))
                .await
                .expect("rpc")
                .into_inner()
        }
    };
    let ok = call("parse_size", vec![(Value::string("8G"), Type::String)]).await;
    let result = pvelxc_cty::msgpack::decode(&ok.result.expect("result").msgpack, &Type::Number)
        .expect("number");
    assert_eq!(result.as_i64(), Some(8 * 1024 * 1024 * 1024));

    let bad = call(
        "parse_size",
        vec![(Value::string("8 parsecs"), Type::String)],
    )
    .await;
    let err = bad.error.expect("error");
    assert_eq!(err.function_argument, Some(0));
    assert!(err.text.contains("is not a size"), "{}", err.text);

    let list = Type::list(Type::Number);
    let bad = call(
        "idmap",
        vec![
            (Value::list([Value::int(1000)]), list.clone()),
            (Value::list([Value::int(70000)]), list),
        ],
    )
    .await;
    assert_eq!(bad.error.expect("error").function_argument, Some(1));

    let missing = call("nope", vec![]).await;
    assert!(missing.error.expect("error").text.contains("no function"));
}

#[tokio::test]
async fn schema_is_safe_for_terraforms_converter() {
    let service = ProviderService::new(PvelxcProvider);
    let resp = service
        .get_schema(Request::new(pb::get_provider_schema::Request {}))
        .await
        .expect("schema")
        .into_inner();
    let provider = resp.provider.expect("provider schema present");
    let block = provider.block.expect("block present");
    for attr in &block.attributes {
        Type::from_json(&attr.r#type)
            .unwrap_or_else(|e| panic!("{}: bad type JSON: {e}", attr.name));
        assert!(
            attr.optional && !attr.required,
            "{} must be optional",
            attr.name
        );
    }
    let sensitive: Vec<&str> = block
        .attributes
        .iter()
        .filter(|a| a.sensitive)
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(sensitive, ["api_token", "password"]);
    for nested in &block.block_types {
        assert!(nested.block.is_some(), "{} has a block", nested.type_name);
    }
    assert_eq!(resp.functions.len(), 2);
    let caps = resp.server_capabilities.expect("capabilities");
    assert!(!caps.plan_destroy);
}
