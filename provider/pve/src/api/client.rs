//! The HTTP transport: authentication, the PVE envelope, error mapping, retries and the call
//! counter.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Method, Url};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tokio::sync::Mutex;

use super::auth::{AuthPreference, Credentials, Ticket};
use super::retry::{Idempotency, RetryPolicy};
use super::tls::{client_config, TlsTrust};
use crate::error::ApiError;

/// Timeouts for API requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP + TLS connection setup.
    pub connect: Duration,
    /// One whole request/response.
    pub request: Duration,
    /// A root@pam ticket is renewed after this age (PVE tickets live 2 hours).
    pub ticket_renewal: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            request: Duration::from_secs(60),
            ticket_renewal: Duration::from_secs(3600),
        }
    }
}

/// Everything needed to talk to one PVE endpoint.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// `https://host:8006` (a trailing `/api2/json` is accepted).
    pub endpoint: String,
    pub trust: TlsTrust,
    pub credentials: Credentials,
    pub timeouts: Timeouts,
    pub retry: RetryPolicy,
}

/// How one request is sent.
#[derive(Clone, Copy, Debug)]
pub struct RequestOptions {
    pub auth: AuthPreference,
    pub idempotency: Idempotency,
}

impl RequestOptions {
    /// A read or another request that may be repeated safely.
    pub fn idempotent() -> Self {
        Self {
            auth: AuthPreference::Token,
            idempotency: Idempotency::Idempotent,
        }
    }

    /// A request that must not run twice.
    pub fn once() -> Self {
        Self {
            auth: AuthPreference::Token,
            idempotency: Idempotency::Once,
        }
    }

    /// The same request, authenticated as root@pam when possible.
    pub fn as_root(mut self, root: bool) -> Self {
        if root {
            self.auth = AuthPreference::Root;
        }
        self
    }
}

/// The PVE API's JSON envelope of a successful response.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub data: Value,
    /// `total`, sent by list endpoints such as the task log.
    pub total: Option<u64>,
}

/// An async PVE API client. Cheap to clone; clones share the ticket and the call counter.
#[derive(Clone)]
pub struct PveClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    credentials: Credentials,
    ticket: Mutex<Option<Ticket>>,
    calls: AtomicU64,
    timeouts: Timeouts,
    retry: RetryPolicy,
}

impl std::fmt::Debug for PveClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PveClient")
            .field("endpoint", &self.inner.base.as_str())
            .field("credentials", &self.inner.credentials)
            .finish_non_exhaustive()
    }
}

enum Auth {
    Token(String),
    Ticket(Ticket),
}

impl PveClient {
    /// Builds a client; validates the endpoint, TLS material and credentials up front.
    pub fn new(options: ClientOptions) -> Result<Self, ApiError> {
        let base = parse_endpoint(&options.endpoint)?;
        if options.credentials.token.is_none() && options.credentials.login.is_none() {
            return Err(ApiError::Config {
                attribute: "api_token",
                message: "no credentials: set api_token, or username and password".into(),
            });
        }
        let tls = client_config(&options.trust)?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .http1_only()
            .connect_timeout(options.timeouts.connect)
            .timeout(options.timeouts.request)
            .no_proxy()
            .user_agent(concat!("pvelxc/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ApiError::Config {
                attribute: "endpoint",
                message: format!("cannot build the HTTP client: {e}"),
            })?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base,
                credentials: options.credentials,
                ticket: Mutex::new(None),
                calls: AtomicU64::new(0),
                timeouts: options.timeouts,
                retry: options.retry,
            }),
        })
    }

    /// HTTP requests sent so far (every attempt, including logins): the figure the refresh
    /// benchmark reports per container.
    pub fn api_calls(&self) -> u64 {
        self.inner.calls.load(Ordering::Relaxed)
    }

    /// The API base URL (`https://host:8006/api2/json`).
    pub fn base_url(&self) -> &str {
        self.inner.base.as_str()
    }

    /// Whether a root@pam login is configured (root-only changes are possible).
    pub fn has_root_login(&self) -> bool {
        self.inner
            .credentials
            .login
            .as_ref()
            .is_some_and(|l| l.is_root())
    }

    pub(crate) fn retry_policy(&self) -> RetryPolicy {
        self.inner.retry
    }

    /// Sends a request with retries per `opts` and returns the `data` member.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        params: &[(String, String)],
        opts: RequestOptions,
    ) -> Result<Value, ApiError> {
        Ok(self.call_envelope(method, path, params, opts).await?.data)
    }

    /// Like [`Self::call`], returning the whole envelope.
    pub async fn call_envelope(
        &self,
        method: Method,
        path: &str,
        params: &[(String, String)],
        opts: RequestOptions,
    ) -> Result<Envelope, ApiError> {
        let policy = self.inner.retry;
        let mut attempt = 1;
        let mut relogged = false;
        loop {
            match self.send_once(&method, path, params, opts.auth).await {
                Ok(v) => return Ok(v),
                Err(ApiError::Unauthorized { .. }) if !relogged && self.uses_ticket(opts.auth) => {
                    // An expired or revoked ticket: PVE refused, nothing happened; log in again.
                    relogged = true;
                    *self.inner.ticket.lock().await = None;
                }
                Err(e) if policy.should_retry(attempt, e.class(), opts.idempotency) => {
                    let delay = policy.backoff(attempt);
                    tracing::warn!(%method, path, attempt, error = %e, delay_ms = delay.as_millis() as u64, "PVE request failed, retrying");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn uses_ticket(&self, pref: AuthPreference) -> bool {
        let c = &self.inner.credentials;
        c.login.is_some() && (pref == AuthPreference::Root || c.token.is_none())
    }

    async fn auth_for(&self, pref: AuthPreference) -> Result<Auth, ApiError> {
        if self.uses_ticket(pref) {
            return Ok(Auth::Ticket(self.ticket().await?));
        }
        match &self.inner.credentials.token {
            Some(t) => Ok(Auth::Token(t.header_value())),
            None => Err(ApiError::Config {
                attribute: "api_token",
                message: "no credentials configured".into(),
            }),
        }
    }

    /// A valid ticket: cached, renewed after `ticket_renewal`, or freshly obtained.
    async fn ticket(&self) -> Result<Ticket, ApiError> {
        let mut guard = self.inner.ticket.lock().await;
        if let Some(t) = guard.as_ref() {
            if t.obtained.elapsed() < self.inner.timeouts.ticket_renewal {
                return Ok(t.clone());
            }
        }
        let Some(login) = self.inner.credentials.login.clone() else {
            return Err(ApiError::Config {
                attribute: "username",
                message: "a ticket is needed but no username/password is configured".into(),
            });
        };
        let renewed = match guard.as_ref() {
            Some(old) => self
                .request_ticket(login.username(), &old.ticket)
                .await
                .ok(),
            None => None,
        };
        let ticket = match renewed {
            Some(t) => t,
            None => {
                self.request_ticket(login.username(), login.password())
                    .await?
            }
        };
        *guard = Some(ticket.clone());
        Ok(ticket)
    }

    async fn request_ticket(
        &self,
        username: &str,
        password: &SecretString,
    ) -> Result<Ticket, ApiError> {
        let url = self.url("/access/ticket")?;
        let form = [
            ("username", username),
            ("password", password.expose_secret()),
        ];
        self.inner.calls.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(username, "requesting a PVE ticket");
        let resp = self
            .inner
            .http
            .post(url)
            .form(&form)
            .send()
            .await
            .map_err(|e| self.transport_error("POST", "/access/ticket", e))?;
        let env = self.read_response("POST", "/access/ticket", resp).await?;
        let data = env.data;
        if data.get("NeedTFA").is_some() {
            return Err(ApiError::Unauthorized {
                message: format!("{username} requires a second factor, which this client cannot provide; use an account without TFA or an API token"),
            });
        }
        let field = |name: &str| {
            data.get(name)
                .and_then(Value::as_str)
                .map(|s| SecretString::from(s.to_string()))
                .ok_or_else(|| ApiError::Decode {
                    path: "/access/ticket".into(),
                    message: format!("response lacks '{name}'"),
                })
        };
        Ok(Ticket {
            ticket: field("ticket")?,
            csrf: field("CSRFPreventionToken")?,
            obtained: Instant::now(),
        })
    }

    async fn send_once(
        &self,
        method: &Method,
        path: &str,
        params: &[(String, String)],
        pref: AuthPreference,
    ) -> Result<Envelope, ApiError> {
        let auth = self.auth_for(pref).await?;
        let url = self.url(path)?;
        let mut req = self.inner.http.request(method.clone(), url);
        req = if *method == Method::GET || *method == Method::DELETE {
            req.query(params)
        } else {
            req.form(params)
        };
        req = match &auth {
            Auth::Token(h) => req.header(reqwest::header::AUTHORIZATION, h),
            Auth::Ticket(t) => {
                let r = req.header(
                    reqwest::header::COOKIE,
                    format!("PVEAuthCookie={}", t.ticket.expose_secret()),
                );
                if *method == Method::GET {
                    r
                } else {
                    r.header("CSRFPreventionToken", t.csrf.expose_secret())
                }
            }
        };
        let keys: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
        tracing::debug!(%method, path, params = ?keys, ticket = matches!(auth, Auth::Ticket(_)), "PVE request");
        self.inner.calls.fetch_add(1, Ordering::Relaxed);
        let resp = req
            .send()
            .await
            .map_err(|e| self.transport_error(method.as_str(), path, e))?;
        self.read_response(method.as_str(), path, resp).await
    }

    async fn read_response(
        &self,
        method: &str,
        path: &str,
        resp: reqwest::Response,
    ) -> Result<Envelope, ApiError> {
        let status = resp.status();
        let body = resp
            .bytes()
            .await
            .map_err(|e| self.transport_error(method, path, e))?;
        if !status.is_success() {
            let e = ApiError::from_response(
                status.as_u16(),
                method,
                path,
                &body,
                status.canonical_reason(),
            );
            tracing::debug!(method, path, status = status.as_u16(), error = %e, "PVE error response");
            return Err(e);
        }
        let json: Value = serde_json::from_slice(&body).map_err(|e| ApiError::Decode {
            path: path.to_string(),
            message: format!("not JSON ({e})"),
        })?;
        let Some(obj) = json.as_object() else {
            return Err(ApiError::Decode {
                path: path.to_string(),
                message: "expected a JSON object with 'data'".into(),
            });
        };
        Ok(Envelope {
            data: obj.get("data").cloned().unwrap_or(Value::Null),
            total: obj.get("total").and_then(|t| {
                t.as_u64()
                    .or_else(|| t.as_str().and_then(|s| s.parse().ok()))
            }),
        })
    }

    fn transport_error(&self, method: &str, path: &str, e: reqwest::Error) -> ApiError {
        if e.is_timeout() {
            ApiError::Timeout {
                method: method.to_string(),
                path: path.to_string(),
                after: self.inner.timeouts.request,
            }
        } else if e.is_connect() {
            ApiError::Connect {
                endpoint: self.inner.base.to_string(),
                message: error_chain(&e),
            }
        } else {
            ApiError::Transport {
                method: method.to_string(),
                path: path.to_string(),
                message: error_chain(&e),
            }
        }
    }

    fn url(&self, path: &str) -> Result<Url, ApiError> {
        let mut url = self.inner.base.clone();
        let full = format!("{}{}", self.inner.base.path().trim_end_matches('/'), path);
        url.set_path(&full);
        Ok(url)
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

/// Normalises `https://host[:port][/api2/json]` to the API base URL.
fn parse_endpoint(endpoint: &str) -> Result<Url, ApiError> {
    let bad = |why: String| ApiError::Config {
        attribute: "endpoint",
        message: format!("'{endpoint}' {why}; expected https://HOST:8006"),
    };
    let mut url = Url::parse(endpoint.trim()).map_err(|e| bad(format!("is not a URL ({e})")))?;
    if url.scheme() != "https" {
        return Err(bad("must use https".into()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("has no host".into()));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(bad("must not carry a query, fragment or user info".into()));
    }
    let path = url.path().trim_end_matches('/').to_string();
    let path = if path.ends_with("/api2/json") {
        path
    } else {
        format!("{path}/api2/json")
    };
    url.set_path(&path);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        for (input, out) in [
            ("https://pve.lan:8006", "https://pve.lan:8006/api2/json"),
            ("https://pve.lan:8006/", "https://pve.lan:8006/api2/json"),
            (
                "https://10.0.0.2:8006/api2/json/",
                "https://10.0.0.2:8006/api2/json",
            ),
            ("https://[::1]:8006", "https://[::1]:8006/api2/json"),
        ] {
            assert_eq!(parse_endpoint(input).unwrap().as_str(), out);
        }
        for bad in [
            "http://pve:8006",
            "pve:8006",
            "https://pve:8006/?x=1",
            "https://root:pw@pve:8006",
        ] {
            let e = parse_endpoint(bad).unwrap_err();
            assert!(e.to_string().starts_with("endpoint: "), "{e}");
        }
    }
}
