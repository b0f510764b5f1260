//! The API client against a real HTTPS socket: TLS trust modes, authentication headers on the
//! wire, PVE error bodies, retry rules and task waiting.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::https::{start, Request, Response};
use pvelxc_pve::api::{
    ApiToken, ClientOptions, CreateRequest, Credentials, Fingerprint, PasswordLogin, PveClient,
    RetryPolicy, Timeouts, TlsTrust,
};
use pvelxc_pve::config::ContainerConfig;
use pvelxc_pve::ApiError;
use secrecy::SecretString;
use serde_json::json;
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "root@pam!pvelxc=0b6c2e5a-1111-2222-3333-444455556666";
const UPID: &str = "UPID:pve:000C1A2B:0142B3C4:6554F0A1:vzcreate:201:root@pam:";

fn options(endpoint: String, trust: TlsTrust) -> ClientOptions {
    ClientOptions {
        endpoint,
        trust,
        credentials: Credentials {
            token: Some(ApiToken::parse(TOKEN).unwrap()),
            login: None,
        },
        timeouts: Timeouts {
            request: Duration::from_secs(5),
            ..Timeouts::default()
        },
        retry: RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(40),
        },
    }
}

fn pinned(server: &common::https::Server) -> PveClient {
    let fp = Fingerprint::of_der(&server.cert_der);
    PveClient::new(options(
        format!("https://127.0.0.1:{}", server.addr.port()),
        TlsTrust::Fingerprint(fp),
    ))
    .unwrap()
}

fn version(_: &Request) -> Response {
    Response::ok(json!({"version": "9.1.3", "release": "9.1", "repoid": "abc"}))
}

#[tokio::test]
async fn pinned_fingerprint_and_token_header() {
    let server = start(Arc::new(version)).await;
    let client = pinned(&server);
    let v = client.version().await.unwrap();
    assert_eq!(v.version, "9.1.3");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].target, "/api2/json/version");
    assert_eq!(
        reqs[0].header("authorization"),
        Some(format!("PVEAPIToken={TOKEN}").as_str())
    );
    assert_eq!(client.api_calls(), 1);
    // The colon form PVE shows is accepted too.
    let colon = Fingerprint::of_der(&server.cert_der).to_string();
    let c2 = PveClient::new(options(
        format!("https://127.0.0.1:{}", server.addr.port()),
        TlsTrust::Fingerprint(Fingerprint::parse(&colon.to_lowercase()).unwrap()),
    ))
    .unwrap();
    c2.version().await.unwrap();
    // Secrets never show in Debug output.
    assert!(!format!("{client:?}").contains("0b6c2e5a"));
}

#[tokio::test]
async fn wrong_fingerprint_and_unknown_ca_are_refused() {
    let server = start(Arc::new(version)).await;
    let wrong = Fingerprint([7u8; 32]);
    let c = PveClient::new(options(
        format!("https://127.0.0.1:{}", server.addr.port()),
        TlsTrust::Fingerprint(wrong),
    ))
    .unwrap();
    let e = c.version().await.unwrap_err();
    assert!(matches!(e, ApiError::Connect { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("does not match the pinned tls_fingerprint"),
        "{e}"
    );
    assert!(
        server.requests().is_empty(),
        "no request may pass an untrusted TLS session"
    );

    // The system roots do not know our test CA.
    if let Ok(c) = PveClient::new(options(
        format!("https://localhost:{}", server.addr.port()),
        TlsTrust::SystemRoots,
    )) {
        assert!(c.version().await.is_err());
    }
}

#[tokio::test]
async fn pinned_ca_fingerprint_checks_the_chain() {
    let server = start(Arc::new(version)).await;
    let ca_pin = TlsTrust::Fingerprint(Fingerprint::of_der(&server.ca_der));
    let c = PveClient::new(options(
        format!("https://localhost:{}", server.addr.port()),
        ca_pin.clone(),
    ))
    .unwrap();
    c.version().await.unwrap();
    // The CA pin still checks the host name of the server certificate.
    let c = PveClient::new(options(
        format!("https://127.0.0.1:{}", server.addr.port()),
        ca_pin,
    ))
    .unwrap();
    let e = c.version().await.unwrap_err();
    assert!(
        e.to_string().contains("certificate not valid for name"),
        "{e}"
    );
    // Another server's CA does not vouch for this one.
    let other = start(Arc::new(version)).await;
    let c = PveClient::new(options(
        format!("https://localhost:{}", server.addr.port()),
        TlsTrust::Fingerprint(Fingerprint::of_der(&other.ca_der)),
    ))
    .unwrap();
    assert!(c.version().await.is_err());
}

#[tokio::test]
async fn ca_certificate_verifies_the_host_name() {
    let server = start(Arc::new(version)).await;
    let c = PveClient::new(options(
        format!("https://localhost:{}", server.addr.port()),
        TlsTrust::CaPem(server.ca_pem.clone()),
    ))
    .unwrap();
    c.version().await.unwrap();
    // A server whose certificate comes from another CA.
    let other = start(Arc::new(version)).await;
    let c = PveClient::new(options(
        format!("https://localhost:{}", other.addr.port()),
        TlsTrust::CaPem(server.ca_pem.clone()),
    ))
    .unwrap();
    assert!(
        c.version().await.is_err(),
        "a certificate from another CA must be refused"
    );
}

#[tokio::test]
async fn locked_and_5xx_are_retried_only_where_safe() {
    let n = Arc::new(AtomicUsize::new(0));
    let count = n.clone();
    let server = start(Arc::new(move |req: &Request| {
        let i = count.fetch_add(1, Ordering::SeqCst);
        match (req.method.as_str(), req.path()) {
            ("GET", "/api2/json/nodes/pve/lxc/100/status/current") if i < 2 => {
                Response::error(500, "CT 100 is locked (backup)")
            }
            ("GET", "/api2/json/nodes/pve/lxc/100/status/current") => {
                Response::ok(json!({"status": "running", "uptime": 5}))
            }
            ("POST", "/api2/json/nodes/pve/lxc/100/status/start") => {
                Response::error(502, "proxy error")
            }
            ("PUT", _) => Response::error(500, "got unexpected EOF"),
            _ => Response::error(404, "no such path"),
        }
    }))
    .await;
    let c = pinned(&server);
    let st = c.container_status("pve", 100).await.unwrap();
    assert!(st.is_running());
    assert_eq!(c.api_calls(), 3, "two locked answers, then success");

    // A start is not idempotent: an ambiguous 502 is reported, not resent.
    let e = c.start_container("pve", 100).await.unwrap_err();
    assert!(matches!(e, ApiError::Http { status: 502, .. }), "{e}");
    assert_eq!(c.api_calls(), 4);

    // PUT config without digest: sent once; with digest: retried up to max_attempts.
    let e = c
        .update_config("pve", 100, &vec![("memory".into(), "1024".into())], false)
        .await
        .unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert_eq!(c.api_calls(), 5);
    let params = vec![
        ("memory".into(), "1024".into()),
        ("digest".into(), "abc".into()),
    ];
    c.update_config("pve", 100, &params, false)
        .await
        .unwrap_err();
    assert_eq!(c.api_calls(), 9);
    let puts: Vec<Request> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT")
        .collect();
    assert_eq!(puts[1].body, "memory=1024&digest=abc");
}

#[tokio::test]
async fn parameter_errors_are_mapped_per_parameter() {
    let server = start(Arc::new(|_: &Request| Response {
        status: 400,
        reason: "Parameter verification failed.",
        body: r#"{"data":null,"errors":{"net0":"invalid format - format error\nnet0.ip: invalid format - value does not look like a valid ipv4 network configuration\n"},"message":"Parameter verification failed.\n"}"#.into(),
    }))
    .await;
    let c = pinned(&server);
    let e = c
        .update_config(
            "pve",
            100,
            &vec![("net0".into(), "name=eth0,ip=10.0.0.5".into())],
            false,
        )
        .await
        .unwrap_err();
    let errs = e.parameter_errors().expect("400 carries parameters");
    assert!(errs["net0"].contains("valid ipv4"), "{errs:?}");
    assert_eq!(c.api_calls(), 1);
}

#[tokio::test]
async fn ticket_auth_for_root_only_requests() {
    let logins = Arc::new(AtomicUsize::new(0));
    let l = logins.clone();
    let server = start(Arc::new(move |req: &Request| match (req.method.as_str(), req.path()) {
        ("POST", "/api2/json/access/ticket") => {
            let i = l.fetch_add(1, Ordering::SeqCst);
            Response::ok(json!({"ticket": format!("PVE:root@pam:T{i}"), "CSRFPreventionToken": format!("CSRF{i}"), "username": "root@pam"}))
        }
        ("PUT", _) if req.header("cookie") == Some("PVEAuthCookie=PVE:root@pam:T0") => Response::error(401, "invalid ticket"),
        _ => Response::ok(json!(null)),
    }))
    .await;
    let mut opts = options(
        format!("https://127.0.0.1:{}", server.addr.port()),
        TlsTrust::Fingerprint(Fingerprint::of_der(&server.cert_der)),
    );
    opts.credentials.login =
        Some(PasswordLogin::new("root@pam", SecretString::from("s3cret-pw".to_string())).unwrap());
    let c = PveClient::new(opts).unwrap();
    assert!(c.has_root_login());

    // Token preferred by default.
    c.update_config("pve", 100, &vec![("memory".into(), "512".into())], false)
        .await
        .unwrap();
    // Root-only: ticket; the first ticket is refused (401), the client logs in again once.
    c.update_config("pve", 100, &vec![("dev0".into(), "/dev/sr0".into())], true)
        .await
        .unwrap();
    let reqs = server.requests();
    assert!(reqs[0]
        .header("authorization")
        .is_some_and(|a| a.starts_with("PVEAPIToken=")));
    assert_eq!(reqs[1].path(), "/api2/json/access/ticket");
    assert_eq!(reqs[1].body, "username=root%40pam&password=s3cret-pw");
    assert_eq!(
        reqs[2].header("cookie"),
        Some("PVEAuthCookie=PVE:root@pam:T0")
    );
    assert_eq!(reqs[2].header("csrfpreventiontoken"), Some("CSRF0"));
    assert!(reqs[2].header("authorization").is_none());
    assert_eq!(reqs[3].path(), "/api2/json/access/ticket");
    assert_eq!(
        reqs[4].header("cookie"),
        Some("PVEAuthCookie=PVE:root@pam:T1")
    );
    assert_eq!(reqs[4].header("csrfpreventiontoken"), Some("CSRF1"));
    assert_eq!(logins.load(Ordering::SeqCst), 2);
}

fn create_request() -> CreateRequest {
    CreateRequest {
        vmid: 201,
        ostemplate: "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst".into(),
        config: ContainerConfig::from_pairs([
            ("hostname", "transcoder"),
            ("rootfs", "local-lvm:20"),
        ])
        .unwrap(),
        password: Some(SecretString::from("root-password".to_string())),
        ssh_public_keys: None,
        storage: None,
        start: false,
        pool: None,
    }
}

#[tokio::test]
async fn ambiguous_create_checks_the_vmid_instead_of_resending() {
    // The create times out on the server side, and the container exists afterwards.
    let server = start(Arc::new(|req: &Request| {
        match (req.method.as_str(), req.path()) {
            ("POST", "/api2/json/nodes/pve/lxc") => Response::error(500, "got timeout"),
            ("GET", "/api2/json/nodes/pve/lxc/201/status/current") => {
                Response::ok(json!({"status": "stopped", "lock": "create"}))
            }
            _ => Response::error(404, "no such path"),
        }
    }))
    .await;
    let c = pinned(&server);
    let e = c
        .create_container("pve", &create_request())
        .await
        .unwrap_err();
    assert!(
        matches!(e, ApiError::CreateOutcomeUnknown { vmid: 201, .. }),
        "{e}"
    );
    let posts = server
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(posts, 1, "never resent once the container exists");

    // Same failure, but the container does not exist: the create is sent again and succeeds.
    let tries = Arc::new(AtomicUsize::new(0));
    let t = tries.clone();
    let server = start(Arc::new(move |req: &Request| {
        match (req.method.as_str(), req.path()) {
            ("POST", "/api2/json/nodes/pve/lxc") if t.fetch_add(1, Ordering::SeqCst) == 0 => {
                Response::error(503, "service unavailable")
            }
            ("POST", "/api2/json/nodes/pve/lxc") => Response::ok(json!(UPID)),
            ("GET", "/api2/json/nodes/pve/lxc/201/status/current") => Response::error(
                500,
                "Configuration file 'nodes/pve/lxc/201.conf' does not exist",
            ),
            _ => Response::error(404, "no such path"),
        }
    }))
    .await;
    let c = pinned(&server);
    let upid = c.create_container("pve", &create_request()).await.unwrap();
    assert_eq!(upid.kind(), "vzcreate");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert!(
        reqs[2].body.contains("vmid=201") && reqs[2].body.contains("ostemplate=local%3Avztmpl"),
        "{}",
        reqs[2].body
    );
}

#[tokio::test]
async fn failed_task_reports_the_log_tail() {
    let polls = Arc::new(AtomicUsize::new(0));
    let p = polls.clone();
    let server = start(Arc::new(move |req: &Request| {
        let path = req.path();
        if path.ends_with("/status") {
            if p.fetch_add(1, Ordering::SeqCst) < 2 {
                return Response::ok(json!({"status": "running", "type": "vzcreate"}));
            }
            return Response::ok(json!({"status": "stopped", "exitstatus": "unable to create CT 201 - no space left"}));
        }
        if path.ends_with("/log") {
            let start: u64 = req.target.split("start=").nth(1).and_then(|s| s.split('&').next()).and_then(|s| s.parse().ok()).unwrap_or(0);
            let lines: Vec<serde_json::Value> = (start..(start + 20).min(45)).map(|n| json!({"n": n + 1, "t": format!("line {}", n + 1)})).collect();
            return Response {
                status: 200,
                reason: "OK",
                body: json!({"data": lines, "total": 45}).to_string(),
            };
        }
        Response::error(404, "no such path")
    }))
    .await;
    let c = pinned(&server);
    let upid = UPID.parse().unwrap();
    let e = c
        .wait_task(&upid, Duration::from_secs(20), &CancellationToken::new())
        .await
        .unwrap_err();
    match &e {
        ApiError::TaskFailed {
            exitstatus,
            log_tail,
            ..
        } => {
            assert_eq!(exitstatus, "unable to create CT 201 - no space left");
            assert_eq!(log_tail.len(), 20);
            assert_eq!(log_tail.last().map(String::as_str), Some("line 45"));
            assert_eq!(log_tail.first().map(String::as_str), Some("line 26"));
        }
        other => panic!("{other}"),
    }
    let status_req = server
        .requests()
        .into_iter()
        .find(|r| r.path().ends_with("/status"))
        .unwrap();
    assert!(
        status_req
            .target
            .starts_with("/api2/json/nodes/pve/tasks/UPID%3Apve%3A000C1A2B"),
        "{}",
        status_req.target
    );

    // Cancellation ends the wait promptly.
    let server = start(Arc::new(|_: &Request| {
        Response::ok(json!({"status": "running"}))
    }))
    .await;
    let c = pinned(&server);
    let cancel = CancellationToken::new();
    let cc = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        cc.cancel();
    });
    let e = c
        .wait_task(&upid, Duration::from_secs(60), &cancel)
        .await
        .unwrap_err();
    assert!(matches!(e, ApiError::Cancelled), "{e}");
}
