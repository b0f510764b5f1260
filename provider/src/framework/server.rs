//! `tfplugin5.Provider` implemented on top of [`ProviderDef`].
//!
//! Every domain problem is answered with diagnostics in a successful gRPC
//! response; gRPC errors are reserved for calls this provider does not
//! implement (answered UNIMPLEMENTED by the generated defaults).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};

use pvelxc_cty::{Path, Type, Value};
use pvelxc_proto::tfplugin5 as pb;
use pvelxc_proto::tfplugin5::provider_server::Provider;
use pvelxc_schema::{Diagnostic, Schema};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use super::context::{cancelled_diagnostic, Ctx};
use super::data_source::DataSource;
use super::diagnostics::{all_to_proto, has_errors, path_to_proto, provider_bug};
use super::dynamic::{decode, encode};
use super::function::Function;
use super::planning;
use super::proto_schema;
use super::provider::ProviderDef;
use super::resource::{PlanChange, Resource, ResourceError, StateWithPrivate};
use super::upgrade::upgrade_state;

struct ResourceEntry<C: Send + Sync + 'static> {
    imp: Arc<dyn Resource<C>>,
    schema: Schema,
    ty: Type,
}

struct DataSourceEntry<C: Send + Sync + 'static> {
    imp: Arc<dyn DataSource<C>>,
    schema: Schema,
    ty: Type,
}

struct Inner<P: ProviderDef> {
    def: P,
    provider_schema: Schema,
    provider_type: Type,
    resources: BTreeMap<&'static str, ResourceEntry<P::Client>>,
    data_sources: BTreeMap<&'static str, DataSourceEntry<P::Client>>,
    functions: BTreeMap<&'static str, Arc<dyn Function>>,
    client: RwLock<Option<Arc<P::Client>>>,
    stop: Mutex<CancellationToken>,
}

/// The gRPC service for a [`ProviderDef`].
pub struct ProviderService<P: ProviderDef> {
    inner: Arc<Inner<P>>,
}

impl<P: ProviderDef> Clone for ProviderService<P> {
    fn clone(&self) -> Self {
        ProviderService {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<P: ProviderDef> ProviderService<P> {
    /// Collects the provider's schemas once; they never change while the
    /// process runs.
    pub fn new(def: P) -> Self {
        let provider_schema = def.schema();
        let provider_type = provider_schema.block.implied_type();
        let resources = def
            .resources()
            .into_iter()
            .map(|imp| {
                let schema = imp.schema();
                let ty = schema.block.implied_type();
                (imp.type_name(), ResourceEntry { imp, schema, ty })
            })
            .collect();
        let data_sources = def
            .data_sources()
            .into_iter()
            .map(|imp| {
                let schema = imp.schema();
                let ty = schema.block.implied_type();
                (imp.type_name(), DataSourceEntry { imp, schema, ty })
            })
            .collect();
        let functions = def.functions().into_iter().map(|f| (f.name(), f)).collect();
        ProviderService {
            inner: Arc::new(Inner {
                def,
                provider_schema,
                provider_type,
                resources,
                data_sources,
                functions,
                client: RwLock::new(None),
                stop: Mutex::new(CancellationToken::new()),
            }),
        }
    }

    /// The provider definition.
    pub fn def(&self) -> &P {
        &self.inner.def
    }

    fn ctx(&self) -> Ctx<P::Client> {
        let client = self.inner.client.read().ok().and_then(|c| c.clone());
        let cancel = self
            .inner
            .stop
            .lock()
            .map(|t| t.clone())
            .unwrap_or_default();
        Ctx::new(client, cancel)
    }

    fn resource(&self, type_name: &str) -> Result<&ResourceEntry<P::Client>, Diagnostic> {
        self.inner.resources.get(type_name).ok_or_else(|| {
            Diagnostic::error(
                Path::root(),
                "Unknown resource type",
                format!(
                    "This provider has no resource type {type_name:?}; check the spelling and the \
                     provider version."
                ),
            )
        })
    }

    fn data_source(&self, type_name: &str) -> Result<&DataSourceEntry<P::Client>, Diagnostic> {
        self.inner.data_sources.get(type_name).ok_or_else(|| {
            Diagnostic::error(
                Path::root(),
                "Unknown data source",
                format!(
                    "This provider has no data source {type_name:?}; check the spelling and the \
                     provider version."
                ),
            )
        })
    }

    /// The full `GetSchema` response; also used by the docs generator.
    pub fn provider_schema_response(&self) -> pb::get_provider_schema::Response {
        pb::get_provider_schema::Response {
            provider: Some(proto_schema::schema(&self.inner.provider_schema)),
            resource_schemas: self
                .inner
                .resources
                .iter()
                .map(|(name, e)| (name.to_string(), proto_schema::schema(&e.schema)))
                .collect(),
            data_source_schemas: self
                .inner
                .data_sources
                .iter()
                .map(|(name, e)| (name.to_string(), proto_schema::schema(&e.schema)))
                .collect(),
            functions: self.functions_proto(),
            server_capabilities: Some(capabilities()),
            ..Default::default()
        }
    }

    fn functions_proto(&self) -> std::collections::HashMap<String, pb::Function> {
        self.inner
            .functions
            .iter()
            .map(|(name, f)| (name.to_string(), proto_schema::function(&f.signature())))
            .collect()
    }
}

fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        plan_destroy: false,
        get_provider_schema_optional: false,
        move_resource_state: false,
        generate_resource_config: false,
    }
}

fn ok<T>(value: T) -> Result<Response<T>, Status> {
    Ok(Response::new(value))
}

/// Diagnostics of a failed step, short-circuiting the RPC with a response
/// built by `respond`.
macro_rules! try_diag {
    ($expr:expr, $respond:expr) => {
        match $expr {
            Ok(v) => v,
            Err(d) => return ok($respond(vec![d])),
        }
    };
}

#[tonic::async_trait]
impl<P: ProviderDef> Provider for ProviderService<P> {
    async fn get_metadata(
        &self,
        _request: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        use pb::get_metadata as gm;
        ok(gm::Response {
            server_capabilities: Some(capabilities()),
            resources: self
                .inner
                .resources
                .keys()
                .map(|n| gm::ResourceMetadata {
                    type_name: n.to_string(),
                })
                .collect(),
            data_sources: self
                .inner
                .data_sources
                .keys()
                .map(|n| gm::DataSourceMetadata {
                    type_name: n.to_string(),
                })
                .collect(),
            functions: self
                .inner
                .functions
                .keys()
                .map(|n| gm::FunctionMetadata {
                    name: n.to_string(),
                })
                .collect(),
            ..Default::default()
        })
    }

    async fn get_schema(
        &self,
        _request: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        tracing::debug!("GetSchema");
        ok(self.provider_schema_response())
    }

    async fn get_resource_identity_schemas(
        &self,
        _request: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Result<Response<pb::get_resource_identity_schemas::Response>, Status> {
        ok(Default::default())
    }

    async fn prepare_provider_config(
        &self,
        request: Request<pb::prepare_provider_config::Request>,
    ) -> Result<Response<pb::prepare_provider_config::Response>, Status> {
        use pb::prepare_provider_config::Response as R;
        let req = request.into_inner();
        let respond = |diagnostics: Vec<Diagnostic>| R {
            prepared_config: None,
            diagnostics: all_to_proto(&diagnostics),
        };
        let config = try_diag!(
            decode(
                req.config.as_ref(),
                &self.inner.provider_type,
                "provider configuration"
            ),
            respond
        );
        let mut diags = planning::validate_config(&self.inner.provider_schema.block, &config);
        diags.extend(self.inner.def.validate(&config));
        ok(R {
            prepared_config: req.config,
            diagnostics: all_to_proto(&diags),
        })
    }

    async fn validate_resource_type_config(
        &self,
        request: Request<pb::validate_resource_type_config::Request>,
    ) -> Result<Response<pb::validate_resource_type_config::Response>, Status> {
        use pb::validate_resource_type_config::Response as R;
        let req = request.into_inner();
        let respond = |d: Vec<Diagnostic>| R {
            diagnostics: all_to_proto(&d),
        };
        let entry = try_diag!(self.resource(&req.type_name), respond);
        let config = try_diag!(
            decode(req.config.as_ref(), &entry.ty, "configuration"),
            respond
        );
        let mut diags = planning::validate_config(&entry.schema.block, &config);
        diags.extend(entry.imp.validate(&config));
        ok(respond(diags))
    }

    async fn validate_data_source_config(
        &self,
        request: Request<pb::validate_data_source_config::Request>,
    ) -> Result<Response<pb::validate_data_source_config::Response>, Status> {
        use pb::validate_data_source_config::Response as R;
        let req = request.into_inner();
        let respond = |d: Vec<Diagnostic>| R {
            diagnostics: all_to_proto(&d),
        };
        let entry = try_diag!(self.data_source(&req.type_name), respond);
        let config = try_diag!(
            decode(req.config.as_ref(), &entry.ty, "configuration"),
            respond
        );
        let mut diags = planning::validate_config(&entry.schema.block, &config);
        diags.extend(entry.imp.validate(&config));
        ok(respond(diags))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        use pb::upgrade_resource_state::Response as R;
        let req = request.into_inner();
        let respond = |d: Vec<Diagnostic>| R {
            upgraded_state: None,
            diagnostics: all_to_proto(&d),
        };
        let entry = try_diag!(self.resource(&req.type_name), respond);
        let raw = req.raw_state.unwrap_or_default();
        if raw.json.is_empty() {
            let detail = if raw.flatmap.is_empty() {
                "Terraform sent an empty state.".to_string()
            } else {
                "The state is in the flatmap format of Terraform 0.11 and older, which this \
                 provider never wrote. Remove the resource from state and import it again."
                    .to_string()
            };
            return ok(respond(vec![Diagnostic::error(
                Path::root(),
                "Cannot read the stored state",
                detail,
            )]));
        }
        let upgraders = entry.imp.upgraders();
        let value = try_diag!(
            upgrade_state(
                &req.type_name,
                &raw.json,
                req.version,
                entry.schema.version,
                &entry.ty,
                &upgraders,
            ),
            respond
        );
        let upgraded = try_diag!(encode(&value, &entry.ty, "upgraded state"), respond);
        ok(R {
            upgraded_state: Some(upgraded),
            diagnostics: Vec::new(),
        })
    }

    async fn configure(
        &self,
        request: Request<pb::configure::Request>,
    ) -> Result<Response<pb::configure::Response>, Status> {
        use pb::configure::Response as R;
        let req = request.into_inner();
        let respond = |d: Vec<Diagnostic>| R {
            diagnostics: all_to_proto(&d),
        };
        let config = try_diag!(
            decode(
                req.config.as_ref(),
                &self.inner.provider_type,
                "provider configuration"
            ),
            respond
        );
        tracing::debug!(terraform_version = %req.terraform_version, "Configure");
        match self
            .inner
            .def
            .configure(&config, &req.terraform_version)
            .await
        {
            Ok(client) => {
                if let Ok(mut slot) = self.inner.client.write() {
                    *slot = Some(Arc::new(client));
                }
                ok(respond(Vec::new()))
            }
            Err(diags) => ok(respond(diags)),
        }
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        use pb::read_resource::Response as R;
        let req = request.into_inner();
        let private_in = req.private.clone();
        let respond = |d: Vec<Diagnostic>| R {
            new_state: req.current_state.clone(),
            diagnostics: all_to_proto(&d),
            private: private_in.clone(),
            ..Default::default()
        };
        let entry = try_diag!(self.resource(&req.type_name), respond);
        let state = try_diag!(
            decode(req.current_state.as_ref(), &entry.ty, "state"),
            respond
        );
        if state.is_null() {
            return ok(respond(Vec::new()));
        }
        let ctx = self.ctx();
        tracing::debug!(type_name = %req.type_name, "ReadResource");
        let result = entry.imp.read(&ctx, &state, &req.private).await;
        let mut diags = ctx.take_warnings();
        match result {
            Ok(None) => ok(R {
                new_state: Some(try_diag!(encode(&Value::Null, &entry.ty, "state"), respond)),
                diagnostics: all_to_proto(&diags),
                private: Vec::new(),
                ..Default::default()
            }),
            Ok(Some(StateWithPrivate {
                state: new,
                private,
            })) => {
                if let Some(path) = planning::first_unknown(&new, &Path::root()) {
                    diags.push(provider_bug(
                        path,
                        "Provider returned an unknown value after refresh",
                        "A refreshed state must be wholly known.",
                    ));
                    return ok(respond(diags));
                }
                let encoded = try_diag!(encode(&new, &entry.ty, "refreshed state"), respond);
                ok(R {
                    new_state: Some(encoded),
                    diagnostics: all_to_proto(&diags),
                    private,
                    ..Default::default()
                })
            }
            Err(err) => {
                diags.extend(err.diagnostics);
                ok(respond(diags))
            }
        }
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        use pb::plan_resource_change::Response as R;
        let req = request.into_inner();
        let respond = |d: Vec<Diagnostic>| R {
            diagnostics: all_to_proto(&d),
            ..Default::default()
        };
        let entry = try_diag!(self.resource(&req.type_name), respond);
        let block = &entry.schema.block;
        let prior = try_diag!(
            decode(req.prior_state.as_ref(), &entry.ty, "prior state"),
            respond
        );
        let proposed = try_diag!(
            decode(
                req.proposed_new_state.as_ref(),
                &entry.ty,
                "proposed new state"
            ),
            respond
        );
        let config = try_diag!(
            decode(req.config.as_ref(), &entry.ty, "configuration"),
            respond
        );

        if proposed.is_null() {
            // Destroy: the plan is null and private state passes through.
            return ok(R {
                planned_state: Some(try_diag!(encode(&Value::Null, &entry.ty, "plan"), respond)),
                planned_private: req.prior_private,
                ..Default::default()
            });
        }

        let mut planned = planning::plan(block, &prior, &proposed, &config, &req.prior_private);
        let mut private = req.prior_private.clone();
        let mut extra_replace = Vec::new();
        let mut diags = entry.imp.modify_plan(PlanChange {
            prior: &prior,
            config: &config,
            planned: &mut planned,
            private: &mut private,
            requires_replace: &mut extra_replace,
        });
        if has_errors(&diags) {
            return ok(respond(diags));
        }
        diags.extend(planning::check_plan(block, &prior, &config, &planned));
        if has_errors(&diags) {
            return ok(respond(diags));
        }
        diags.extend(entry.imp.check_plan(&self.ctx(), &prior, &planned).await);
        if has_errors(&diags) {
            return ok(respond(diags));
        }
        let mut replace = Vec::new();
        if !prior.is_null() {
            replace = planning::requires_replace(block, &prior, &planned);
            for path in extra_replace {
                let changed = match (prior.get_path(&path), planned.get_path(&path)) {
                    (Some(a), Some(b)) => !b.is_wholly_known() || a != b,
                    (None, None) => false,
                    _ => true,
                };
                if changed && !replace.contains(&path) {
                    replace.push(path);
                }
            }
        }
        let planned_state = try_diag!(encode(&planned, &entry.ty, "plan"), respond);
        tracing::debug!(
            type_name = %req.type_name,
            replace = ?replace.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "PlanResourceChange"
        );
        ok(R {
            planned_state: Some(planned_state),
            requires_replace: replace.iter().map(path_to_proto).collect(),
            planned_private: private,
            diagnostics: all_to_proto(&diags),
            ..Default::default()
        })
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        use pb::apply_resource_change::Response as R;
        let req = request.into_inner();
        let prior_state_wire = req.prior_state.clone();
        let planned_private = req.planned_private.clone();
        // On an early failure Terraform keeps the prior state.
        let respond = |d: Vec<Diagnostic>| R {
            new_state: prior_state_wire.clone(),
            private: planned_private.clone(),
            diagnostics: all_to_proto(&d),
            ..Default::default()
        };
        let entry = try_diag!(self.resource(&req.type_name), respond);
        let block = &entry.schema.block;
        let prior = try_diag!(
            decode(req.prior_state.as_ref(), &entry.ty, "prior state"),
            respond
        );
        let planned = try_diag!(
            decode(req.planned_state.as_ref(), &entry.ty, "plan"),
            respond
        );
        let ctx = self.ctx();
        if ctx.is_cancelled() {
            return ok(respond(vec![cancelled_diagnostic("applying changes")]));
        }

        if planned.is_null() {
            tracing::info!(type_name = %req.type_name, "deleting");
            let result = entry.imp.delete(&ctx, &prior, &req.planned_private).await;
            let mut diags = ctx.take_warnings();
            return match result {
                Ok(()) => ok(R {
                    new_state: Some(try_diag!(encode(&Value::Null, &entry.ty, "state"), respond)),
                    diagnostics: all_to_proto(&diags),
                    ..Default::default()
                }),
                Err(err) => {
                    diags.extend(err.diagnostics);
                    ok(respond(diags))
                }
            };
        }

        let creating = prior.is_null();
        tracing::info!(type_name = %req.type_name, creating, "applying");
        let result = if creating {
            entry.imp.create(&ctx, &planned, &req.planned_private).await
        } else {
            entry
                .imp
                .update(&ctx, &prior, &planned, &req.planned_private)
                .await
        };
        let mut diags = ctx.take_warnings();
        match result {
            Ok(StateWithPrivate {
                state: new,
                private,
            }) => {
                if new.is_null() {
                    diags.push(provider_bug(
                        Path::root(),
                        "Provider returned no object after apply",
                        "Create and update must return the resulting object.",
                    ));
                    return ok(respond(diags));
                }
                let findings = planning::check_apply(block, &planned, &new);
                let new = if findings.is_empty() {
                    new
                } else {
                    planning::unknowns_to_null(&new)
                };
                diags.extend(findings);
                let encoded = try_diag!(encode(&new, &entry.ty, "new state"), respond);
                ok(R {
                    new_state: Some(encoded),
                    private,
                    diagnostics: all_to_proto(&diags),
                    ..Default::default()
                })
            }
            Err(ResourceError {
                diagnostics,
                partial_state,
            }) => {
                diags.extend(diagnostics);
                if !has_errors(&diags) {
                    diags.push(provider_bug(
                        Path::root(),
                        "Apply failed without an error",
                        "The resource reported a failure but no error diagnostic.",
                    ));
                }
                let new_state = match partial_state {
                    Some(partial) if !partial.is_null() => Some(try_diag!(
                        encode(
                            &planning::unknowns_to_null(&partial),
                            &entry.ty,
                            "partial state"
                        ),
                        respond
                    )),
                    _ => req.prior_state.clone(),
                };
                ok(R {
                    new_state,
                    private: req.planned_private,
                    diagnostics: all_to_proto(&diags),
                    ..Default::default()
                })
            }
        }
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        use pb::import_resource_state::{ImportedResource, Response as R};
        let req = request.into_inner();
        let respond = |d: Vec<Diagnostic>| R {
            diagnostics: all_to_proto(&d),
            ..Default::default()
        };
        let entry = try_diag!(self.resource(&req.type_name), respond);
        let ctx = self.ctx();
        let result = entry.imp.import(&ctx, &req.id).await;
        let mut diags = ctx.take_warnings();
        match result {
            Ok(StateWithPrivate { state, private }) => {
                if state.is_null() {
                    diags.push(Diagnostic::error(
                        Path::root(),
                        "Object to import does not exist",
                        format!("No {} with ID {:?} was found.", req.type_name, req.id),
                    ));
                    return ok(respond(diags));
                }
                let encoded = try_diag!(encode(&state, &entry.ty, "imported state"), respond);
                ok(R {
                    imported_resources: vec![ImportedResource {
                        type_name: req.type_name.clone(),
                        state: Some(encoded),
                        private,
                        identity: None,
                    }],
                    diagnostics: all_to_proto(&diags),
                    deferred: None,
                })
            }
            Err(err) => {
                diags.extend(err.diagnostics);
                ok(respond(diags))
            }
        }
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        use pb::read_data_source::Response as R;
        let req = request.into_inner();
        let respond = |d: Vec<Diagnostic>| R {
            diagnostics: all_to_proto(&d),
            ..Default::default()
        };
        let entry = try_diag!(self.data_source(&req.type_name), respond);
        let config = try_diag!(
            decode(req.config.as_ref(), &entry.ty, "configuration"),
            respond
        );
        let ctx = self.ctx();
        let result = entry.imp.read(&ctx, &config).await;
        let mut diags = ctx.take_warnings();
        match result {
            Ok(state) => {
                if state.is_null() {
                    diags.push(provider_bug(
                        Path::root(),
                        "Data source returned no object",
                        "A data source must return an object.",
                    ));
                    return ok(respond(diags));
                }
                if let Some(path) = planning::first_unknown(&state, &Path::root()) {
                    diags.push(provider_bug(
                        path,
                        "Data source returned an unknown value",
                        "Data source results must be wholly known.",
                    ));
                    return ok(respond(diags));
                }
                let encoded = try_diag!(encode(&state, &entry.ty, "data source result"), respond);
                ok(R {
                    state: Some(encoded),
                    diagnostics: all_to_proto(&diags),
                    deferred: None,
                })
            }
            Err(errors) => {
                diags.extend(errors);
                ok(respond(diags))
            }
        }
    }

    async fn get_functions(
        &self,
        _request: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        ok(pb::get_functions::Response {
            functions: self.functions_proto(),
            diagnostics: Vec::new(),
        })
    }

    async fn call_function(
        &self,
        request: Request<pb::call_function::Request>,
    ) -> Result<Response<pb::call_function::Response>, Status> {
        use pb::call_function::Response as R;
        let req = request.into_inner();
        let fail = |text: String, argument: Option<i64>| R {
            result: None,
            error: Some(pb::FunctionError {
                text,
                function_argument: argument,
            }),
        };
        let Some(function) = self.inner.functions.get(req.name.as_str()) else {
            return ok(fail(
                format!(
                    "this provider has no function {:?}; available: {}",
                    req.name,
                    self.inner
                        .functions
                        .keys()
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None,
            ));
        };
        let sig = function.signature();
        if req.arguments.len() < sig.parameters.len()
            || (sig.variadic.is_none() && req.arguments.len() > sig.parameters.len())
        {
            return ok(fail(
                format!(
                    "{} takes {} arguments, got {}",
                    req.name,
                    sig.parameters.len(),
                    req.arguments.len()
                ),
                None,
            ));
        }
        let mut args = Vec::with_capacity(req.arguments.len());
        for (index, raw) in req.arguments.iter().enumerate() {
            let param = sig.parameters.get(index).or(sig.variadic.as_ref());
            let Some(param) = param else {
                return ok(fail(format!("unexpected argument {}", index + 1), None));
            };
            match decode(Some(raw), &param.ty, "function argument") {
                Ok(v) => args.push(v),
                Err(d) => {
                    return ok(fail(
                        format!("{}: {}", param.name, d.detail),
                        Some(index as i64),
                    ))
                }
            }
        }
        let ret_ty = sig.return_type.clone();
        match function.call(&args) {
            Ok(value) => match encode(&value, &ret_ty, "function result") {
                Ok(result) => ok(R {
                    result: Some(result),
                    error: None,
                }),
                Err(d) => ok(fail(d.detail, None)),
            },
            Err(err) => ok(fail(err.text, err.argument)),
        }
    }

    async fn stop(
        &self,
        _request: Request<pb::stop::Request>,
    ) -> Result<Response<pb::stop::Response>, Status> {
        tracing::info!("Stop requested; cancelling in-flight operations");
        if let Ok(token) = self.inner.stop.lock() {
            token.cancel();
        }
        ok(pb::stop::Response {
            error: String::new(),
        })
    }
}
