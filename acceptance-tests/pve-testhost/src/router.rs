//! Request dispatch as pve-http-server does it: find the handler for `METHOD /path`,
//! authenticate, merge path, query and body parameters, validate them against the
//! official schema, apply injected faults, then run the handler.

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::State;
use axum::http::{HeaderMap, Request};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::app::App;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::faults::ApiFault;
use crate::handlers;
use crate::params;
use crate::schema::{ApiSchema, Params};

/// Internal status of a `timeout` fault: the connection is closed without an answer.
pub const HANG_UP: u16 = 599;

/// Body size limit; PVE allows 64 KiB of POST data (`$limit_max_post`).
pub const MAX_BODY: usize = 64 * 1024;

/// What a handler sees of a request.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// `None` only for unauthenticated endpoints (`POST /access/ticket`).
    pub caller: Option<Caller>,
    pub params: Params,
    /// An injected `task_failure`: the task this call starts fails midway with it.
    pub task_fault: Option<String>,
}

impl Ctx {
    /// The authenticated caller; handlers of authenticated endpoints always have one.
    pub fn caller(&self) -> Result<&Caller, ApiError> {
        self.caller
            .as_ref()
            .ok_or_else(|| ApiError::unauthorized("No ticket\n"))
    }

    /// `$authuser`, the user recorded in UPIDs.
    pub fn user(&self) -> String {
        self.caller
            .as_ref()
            .map(|c| c.authuser().to_string())
            .unwrap_or_default()
    }

    pub fn text(&self, name: &str) -> Option<String> {
        params::text(&self.params, name)
    }

    pub fn flag(&self, name: &str) -> bool {
        params::flag(&self.params, name)
    }

    pub fn node(&self) -> String {
        self.text("node").unwrap_or_default()
    }

    /// The `vmid` path parameter (validated as an integer by the schema).
    pub fn vmid(&self) -> Result<u32, ApiError> {
        self.text("vmid")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| ApiError::param("vmid", "property is missing and it is not optional"))
    }
}

/// A successful result: `data`, and `total` for paged lists.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub data: Value,
    pub total: Option<usize>,
}

impl From<Value> for Reply {
    fn from(data: Value) -> Self {
        Reply { data, total: None }
    }
}

pub type Handler = fn(&Arc<App>, &Ctx) -> Result<Reply, ApiError>;

/// The route table: method, path template (as in the schema), handler.
const ROUTES: &[(&str, &str, Handler)] = &[
    ("GET", "/version", handlers::cluster::version),
    ("GET", "/nodes", handlers::cluster::nodes),
    (
        "GET",
        "/nodes/{node}/status",
        handlers::cluster::node_status,
    ),
    ("GET", "/cluster/nextid", handlers::cluster::nextid),
    ("GET", "/cluster/resources", handlers::cluster::resources),
    ("GET", "/nodes/{node}/storage", handlers::storage::list),
    (
        "GET",
        "/nodes/{node}/storage/{storage}/content",
        handlers::storage::content,
    ),
    ("GET", "/nodes/{node}/lxc", handlers::lxc::list),
    ("POST", "/nodes/{node}/lxc", handlers::create::create),
    ("GET", "/nodes/{node}/lxc/{vmid}", handlers::lxc::index),
    (
        "DELETE",
        "/nodes/{node}/lxc/{vmid}",
        handlers::lifecycle::destroy,
    ),
    (
        "GET",
        "/nodes/{node}/lxc/{vmid}/config",
        handlers::config::get,
    ),
    (
        "PUT",
        "/nodes/{node}/lxc/{vmid}/config",
        handlers::config::put,
    ),
    (
        "GET",
        "/nodes/{node}/lxc/{vmid}/pending",
        handlers::config::pending,
    ),
    (
        "GET",
        "/nodes/{node}/lxc/{vmid}/status/current",
        handlers::lxc::status_current,
    ),
    (
        "POST",
        "/nodes/{node}/lxc/{vmid}/status/start",
        handlers::lifecycle::start,
    ),
    (
        "POST",
        "/nodes/{node}/lxc/{vmid}/status/stop",
        handlers::lifecycle::stop,
    ),
    (
        "POST",
        "/nodes/{node}/lxc/{vmid}/status/shutdown",
        handlers::lifecycle::shutdown,
    ),
    (
        "POST",
        "/nodes/{node}/lxc/{vmid}/status/reboot",
        handlers::lifecycle::reboot,
    ),
    (
        "GET",
        "/nodes/{node}/lxc/{vmid}/interfaces",
        handlers::lxc::interfaces,
    ),
    (
        "PUT",
        "/nodes/{node}/lxc/{vmid}/resize",
        handlers::resize::resize,
    ),
    (
        "GET",
        "/nodes/{node}/tasks/{upid}/status",
        handlers::tasks::status,
    ),
    (
        "GET",
        "/nodes/{node}/tasks/{upid}/log",
        handlers::tasks::log,
    ),
    ("POST", "/access/ticket", handlers::access::ticket),
];

/// Matches a relative path against a template; returns the path parameters.
fn match_template(template: &str, path: &str) -> Option<Vec<(String, String)>> {
    let t: Vec<&str> = template.trim_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_matches('/').split('/').collect();
    if t.len() != p.len() {
        return None;
    }
    let mut out = Vec::new();
    for (ts, ps) in t.iter().zip(&p) {
        if let Some(name) = ts.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            if ps.is_empty() {
                return None;
            }
            let decoded = percent_encoding::percent_decode_str(ps)
                .decode_utf8_lossy()
                .into_owned();
            out.push((name.to_string(), decoded));
        } else if ts != ps {
            return None;
        }
    }
    Some(out)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The axum fallback handler serving every request.
pub async fn dispatch(State(app): State<Arc<App>>, request: Request<Body>) -> Response {
    match dispatch_inner(app, request).await {
        Err(err) if err.status == HANG_UP => hang_up(),
        Ok(reply) => {
            let mut body = json!({ "data": reply.data });
            if let Some(total) = reply.total {
                body["total"] = json!(total);
            }
            axum::Json(body).into_response()
        }
        Err(err) => err.into_response(),
    }
}

async fn dispatch_inner(app: Arc<App>, request: Request<Body>) -> Result<Reply, ApiError> {
    let method = request.method().as_str().to_string();
    let uri = request.uri().clone();
    let headers = request.headers().clone();
    let Some(rel) = uri.path().strip_prefix("/api2/json") else {
        return Err(ApiError::with_status(
            501,
            format!("Method '{method} {}' not implemented", uri.path()),
        ));
    };
    let rel = if rel.is_empty() { "/" } else { rel }
        .trim_end_matches('/')
        .to_string();
    let rel = if rel.is_empty() { "/".to_string() } else { rel };
    let (template, path_params, handler) = ROUTES
        .iter()
        .find_map(|(m, t, h)| {
            (*m == method)
                .then(|| match_template(t, &rel))
                .flatten()
                .map(|pp| (*t, pp, *h))
        })
        .ok_or_else(|| {
            ApiError::with_status(501, format!("Method '{method} {rel}' not implemented"))
        })?;
    let schema = ApiSchema::get();
    let info = schema.method(template, &method).ok_or_else(|| {
        ApiError::with_status(501, format!("Method '{method} {rel}' not implemented"))
    })?;

    let is_login = template == "/access/ticket";
    let write = method != "GET";
    let caller = if is_login {
        None
    } else {
        let caller = app.auth.authenticate(
            header(&headers, "authorization"),
            header(&headers, "cookie"),
            header(&headers, "csrfpreventiontoken"),
            write,
        )?;
        let allow_token = info.get("allowtoken").and_then(Value::as_i64).unwrap_or(0) != 0;
        if matches!(caller, Caller::Token { .. }) && !allow_token {
            return Err(ApiError::unauthorized(
                "API tokens are not allowed for this method\n",
            ));
        }
        Some(caller)
    };

    let content_type = header(&headers, "content-type").map(str::to_string);
    let body = to_bytes(request.into_body(), MAX_BODY)
        .await
        .map_err(|_| ApiError::with_status(413, "Request Entity Too Large\n"))?;
    let mut params = params::collect(&method, uri.query(), content_type.as_deref(), &body)?;
    for (name, value) in path_params {
        params.insert(name, Value::String(value));
    }
    schema.validate(template, &method, &params)?;

    let mut task_fault = None;
    if !is_login {
        match app.faults.take_api(&method, &rel) {
            Some(ApiFault::Fail(err)) => return Err(err),
            Some(ApiFault::Hang(duration)) => {
                tokio::time::sleep(duration).await;
                return Err(ApiError::with_status(HANG_UP, "connection dropped\n"));
            }
            Some(ApiFault::FailTask(message)) => task_fault = Some(message),
            None => {}
        }
    }

    let ctx = Ctx {
        caller,
        params,
        task_fault,
    };
    let app2 = app.clone();
    tokio::task::spawn_blocking(move || handler(&app2, &ctx))
        .await
        .map_err(|e| ApiError::internal(format!("internal error: {e}\n")))?
}

/// A response whose body fails at once, so hyper closes the connection without sending
/// an answer (a `timeout` fault).
fn hang_up() -> Response {
    Response::new(Body::new(FailingBody))
}

struct FailingBody;

impl axum::body::HttpBody for FailingBody {
    type Data = axum::body::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        std::task::Poll::Ready(Some(Err(std::io::Error::other(
            "connection dropped by fault injection",
        ))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_has_a_schema() {
        let schema = ApiSchema::get();
        for (method, template, _) in ROUTES {
            assert!(
                schema.method(template, method).is_some(),
                "{method} {template}"
            );
        }
    }

    #[test]
    fn templates_capture_and_decode() {
        let pp = match_template(
            "/nodes/{node}/tasks/{upid}/status",
            "/nodes/pve/tasks/UPID%3Apve%3A0001/status",
        )
        .expect("matches");
        assert_eq!(pp[1], ("upid".to_string(), "UPID:pve:0001".to_string()));
        assert!(match_template("/nodes/{node}/lxc", "/nodes/pve/lxc/100").is_none());
    }
}
