//! A test host served in-process from a temporary node root, and a raw HTTPS client
//! that verifies the server against the generated CA and reads the response exactly as
//! it is on the wire (status line with its reason phrase, headers, JSON body).

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use pve_testhost::{RunningServer, ServerConfig};
use rustls::pki_types::ServerName;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsConnector;

pub const TEMPLATE: &str = "debian-12-standard_12.7-1_amd64.tar.zst";

/// A response as received.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Resp {
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }
    pub fn error(&self, param: &str) -> String {
        self.body["errors"][param]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// How a request authenticates.
#[derive(Debug, Clone)]
pub enum Auth {
    None,
    Token(String),
    Ticket {
        ticket: String,
        csrf: Option<String>,
    },
}

pub struct TestHost {
    pub dir: tempfile::TempDir,
    pub server: Option<RunningServer>,
    pub addr: SocketAddr,
    pub ca: PathBuf,
    pub token: String,
    pub password: String,
}

impl TestHost {
    pub async fn start() -> TestHost {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("root");
        let state = dir.path().join("state");
        let templates = root.join("var/lib/vz/template/cache");
        std::fs::create_dir_all(&templates).expect("template dir");
        std::fs::write(templates.join(TEMPLATE), b"not a real template").expect("template");
        let config = ServerConfig::standalone(&root, &state);
        let server = pve_testhost::server::start(&config)
            .await
            .expect("server starts");
        let creds = server.app.auth.credentials().clone();
        let (id, secret) = creds.root_token().expect("root token");
        TestHost {
            addr: server.addr,
            ca: config.tls().ca_cert(),
            token: format!("PVEAPIToken={id}={secret}"),
            password: creds.root_password().unwrap_or_default().to_string(),
            server: Some(server),
            dir,
        }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    pub fn conf_path(&self, vmid: u32) -> PathBuf {
        self.root()
            .join(format!("etc/pve/nodes/pve/lxc/{vmid}.conf"))
    }

    pub fn faults_path(&self) -> PathBuf {
        self.dir.path().join("state/faults.json")
    }

    pub fn token_auth(&self) -> Auth {
        Auth::Token(self.token.clone())
    }

    /// Logs in as root@pam and returns ticket auth with the CSRF token.
    pub async fn ticket_auth(&self) -> Auth {
        let body = format!("username=root@pam&password={}", self.password);
        let resp = self
            .call(&Auth::None, "POST", "/access/ticket", Some(body))
            .await;
        assert_eq!(resp.status, 200, "login: {resp:?}");
        Auth::Ticket {
            ticket: resp.data()["ticket"].as_str().expect("ticket").to_string(),
            csrf: Some(
                resp.data()["CSRFPreventionToken"]
                    .as_str()
                    .expect("csrf")
                    .to_string(),
            ),
        }
    }

    /// Form-encoded request to `/api2/json{path}`.
    pub async fn call(&self, auth: &Auth, method: &str, path: &str, form: Option<String>) -> Resp {
        let body = form.map(|f| ("application/x-www-form-urlencoded", f.into_bytes()));
        request(
            self.addr,
            &self.ca,
            auth,
            method,
            &format!("/api2/json{path}"),
            body,
        )
        .await
    }

    /// JSON request to `/api2/json{path}`.
    pub async fn call_json(&self, auth: &Auth, method: &str, path: &str, json: Value) -> Resp {
        let body = Some(("application/json", json.to_string().into_bytes()));
        request(
            self.addr,
            &self.ca,
            auth,
            method,
            &format!("/api2/json{path}"),
            body,
        )
        .await
    }

    /// Polls a task until it stops; returns its status object.
    pub async fn wait_task(&self, auth: &Auth, upid: &str) -> Value {
        let path = format!("/nodes/pve/tasks/{}/status", encode(upid));
        for _ in 0..300 {
            let resp = self.call(auth, "GET", &path, None).await;
            assert_eq!(resp.status, 200, "task status: {resp:?}");
            if resp.data()["status"] == "stopped" {
                return resp.data().clone();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("task {upid} did not finish");
    }

    /// Creates CT `vmid` with extra form fields and waits for the task to succeed.
    pub async fn create_ct(&self, auth: &Auth, vmid: u32, extra: &str) -> Value {
        let mut form = format!("vmid={vmid}&ostemplate=local%3Avztmpl%2F{TEMPLATE}");
        if !extra.is_empty() {
            form.push('&');
            form.push_str(extra);
        }
        let resp = self.call(auth, "POST", "/nodes/pve/lxc", Some(form)).await;
        assert_eq!(resp.status, 200, "create: {resp:?}");
        let upid = resp.data().as_str().expect("upid").to_string();
        let status = self.wait_task(auth, &upid).await;
        assert_eq!(status["exitstatus"], "OK", "create task: {status}");
        status
    }

    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }
}

/// Percent-encodes a path segment (UPIDs contain `:` and `!`).
pub fn encode(segment: &str) -> String {
    percent_encoding::utf8_percent_encode(segment, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn connector(ca: &std::path::Path) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for cert in pve_testhost::tls::load_certs(ca).expect("CA") {
        roots.add(cert).expect("add CA");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocols")
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

/// Sends a GET and returns whatever bytes arrive until the server closes the connection.
pub async fn raw_exchange(
    addr: SocketAddr,
    ca: &std::path::Path,
    auth: &Auth,
    method: &str,
    path: &str,
) -> Vec<u8> {
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let name = ServerName::try_from("localhost").expect("name");
    let mut tls = connector(ca)
        .connect(name, tcp)
        .await
        .expect("TLS handshake verifies");
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    if let Auth::Token(value) = auth {
        head.push_str(&format!("Authorization: {value}\r\n"));
    }
    head.push_str("\r\n");
    tls.write_all(head.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    let _ = tls.read_to_end(&mut raw).await;
    raw
}

/// One HTTP/1.1 request over TLS verified against `ca`, `Connection: close`.
pub async fn request(
    addr: SocketAddr,
    ca: &std::path::Path,
    auth: &Auth,
    method: &str,
    path: &str,
    body: Option<(&str, Vec<u8>)>,
) -> Resp {
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let name = ServerName::try_from("localhost").expect("name");
    let mut tls = connector(ca)
        .connect(name, tcp)
        .await
        .expect("TLS handshake verifies");
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    match auth {
        Auth::None => {}
        Auth::Token(value) => head.push_str(&format!("Authorization: {value}\r\n")),
        Auth::Ticket { ticket, csrf } => {
            head.push_str(&format!("Cookie: PVEAuthCookie={}\r\n", encode(ticket)));
            if let Some(csrf) = csrf {
                head.push_str(&format!("CSRFPreventionToken: {csrf}\r\n"));
            }
        }
    }
    let body_bytes = match body {
        Some((ct, bytes)) => {
            head.push_str(&format!(
                "Content-Type: {ct}\r\nContent-Length: {}\r\n",
                bytes.len()
            ));
            bytes
        }
        None => Vec::new(),
    };
    head.push_str("\r\n");
    // One write: a separate body segment would wait for the peer's delayed ACK.
    let mut message = head.into_bytes();
    message.extend_from_slice(&body_bytes);
    tls.write_all(&message).await.expect("write");
    tls.flush().await.expect("flush");
    let mut raw = Vec::new();
    let _ = tls.read_to_end(&mut raw).await;
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> Resp {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("response has a header block");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let mut parts = status_line.splitn(3, ' ');
    let _version = parts.next();
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .expect("status code");
    let reason = parts.next().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Resp {
        status,
        reason,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(pos) = data.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..pos]).trim(), 16).unwrap_or(0);
        let start = pos + 2;
        let Some(chunk) = data.get(start..start + size) else {
            break;
        };
        if size == 0 {
            break;
        }
        out.extend_from_slice(chunk);
        data = data.get(start + size + 2..).unwrap_or_default();
    }
    out
}
