//! Authentication on the wire: API tokens, tickets, CSRF, TLS verification.

mod common;

use common::{Auth, TestHost};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_credentials_get_401_no_ticket() {
    let host = TestHost::start().await;
    let resp = host.call(&Auth::None, "GET", "/version", None).await;
    assert_eq!(resp.status, 401);
    assert_eq!(resp.reason, "No ticket");
    assert!(resp.body["data"].is_null());
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_token_authenticates_without_csrf() {
    let host = TestHost::start().await;
    let token = host.token_auth();
    let resp = host.call(&token, "GET", "/version", None).await;
    assert_eq!(resp.status, 200, "{resp:?}");
    assert_eq!(resp.data()["release"], "9.1");
    // Writes with a token need no CSRF token.
    let resp = host
        .call(
            &token,
            "PUT",
            "/nodes/pve/lxc/100/config",
            Some("memory=1024".into()),
        )
        .await;
    assert_eq!(resp.status, 500, "reaches the handler: {resp:?}");
    assert_eq!(
        resp.reason,
        "Configuration file 'nodes/pve/lxc/100.conf' does not exist"
    );

    let wrong =
        Auth::Token("PVEAPIToken=root@pam!pvelxc=00000000-0000-0000-0000-000000000000".into());
    let resp = host.call(&wrong, "GET", "/version", None).await;
    assert_eq!(resp.status, 401);
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticket_login_and_csrf_on_writes() {
    let host = TestHost::start().await;
    let bad = host
        .call(
            &Auth::None,
            "POST",
            "/access/ticket",
            Some("username=root@pam&password=wrong1".into()),
        )
        .await;
    assert_eq!(
        (bad.status, bad.reason.as_str()),
        (401, "authentication failure")
    );

    let ticket = host.ticket_auth().await;
    let Auth::Ticket { ticket: t, .. } = &ticket else {
        unreachable!()
    };
    assert!(t.starts_with("PVE:root@pam:"), "{t}");
    let resp = host.call(&ticket, "GET", "/nodes", None).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.data()[0]["node"], "pve");

    let no_csrf = Auth::Ticket {
        ticket: t.clone(),
        csrf: None,
    };
    let resp = host
        .call(&no_csrf, "POST", "/nodes/pve/lxc/100/status/start", None)
        .await;
    assert_eq!(resp.status, 401);
    assert_eq!(resp.reason, "Permission denied - invalid csrf token");

    let resp = host
        .call(&ticket, "POST", "/nodes/pve/lxc/100/status/start", None)
        .await;
    assert_eq!(
        resp.status, 500,
        "passes auth, fails on the missing CT: {resp:?}"
    );

    // Renewal: the ticket itself as password.
    let renew = host
        .call(
            &Auth::None,
            "POST",
            "/access/ticket",
            Some(format!("username=root@pam&password={}", common::encode(t))),
        )
        .await;
    assert_eq!(renew.status, 200, "{renew:?}");
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_with_another_ca_refuses_the_server() {
    let host = TestHost::start().await;
    let other = tempfile::tempdir().expect("tempdir");
    let tls = pve_testhost::tls::TlsFiles::new(other.path());
    tls.ensure(&["localhost".into()]).expect("other CA");
    let connect = async {
        let tcp = tokio::net::TcpStream::connect(host.addr)
            .await
            .expect("tcp");
        let mut roots = rustls::RootCertStore::empty();
        for cert in pve_testhost::tls::load_certs(&tls.ca_cert()).expect("certs") {
            roots.add(cert).expect("add");
        }
        let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
            .connect(
                rustls::pki_types::ServerName::try_from("localhost").expect("name"),
                tcp,
            )
            .await
    };
    assert!(
        connect.await.is_err(),
        "handshake must fail against a foreign CA"
    );
    let fp = pve_testhost::tls::TlsFiles::new(host.dir.path().join("state/tls"))
        .ca_fingerprint()
        .expect("fingerprint");
    assert_eq!(fp.len(), 32 * 3 - 1);
    host.stop().await;
}
