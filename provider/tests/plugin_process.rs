//! The real provider binary, launched as Terraform launches it: handshake
//! line, AutoMTLS with a pinned client certificate, Shutdown, SIGINT,
//! debug mode.

mod common;

use std::io::{BufRead as _, BufReader, Read as _};
use std::os::unix::fs::FileTypeExt as _;
use std::time::{Duration, Instant};

use common::{connect, connect_plain, launch, provider_command, terraform_like_identity, Versions};
use pvelxc_proto::plugin::grpc_controller_client::GrpcControllerClient;
use pvelxc_proto::tfplugin5::get_provider_schema;
use pvelxc_proto::tfplugin5::provider_client::ProviderClient;

async fn get_schema(
    channel: tonic::transport::Channel,
) -> Result<get_provider_schema::Response, tonic::Status> {
    ProviderClient::new(channel)
        .get_schema(get_provider_schema::Request {})
        .await
        .map(tonic::Response::into_inner)
}

#[test]
fn without_cookie_it_explains_and_exits_1() {
    let out = provider_command().output().expect("run provider");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout without a handshake"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("This binary is a plugin for Terraform"),
        "{stderr}"
    );
    assert!(stderr.contains("dev_overrides"), "{stderr}");
}

#[test]
fn refuses_clients_that_do_not_speak_protocol_5() {
    let out = provider_command()
        .env("TF_PLUGIN_MAGIC_COOKIE", common::COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "6")
        .output()
        .expect("run provider");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("speaks only version 5"));
}

#[test]
fn handshake_line_has_go_plugin_format() {
    let id = terraform_like_identity();
    let plugin = launch(&id.pem);
    let parts: Vec<&str> = plugin.line.split('|').collect();
    assert_eq!(&parts[..3], ["1", "5", "unix"], "{}", plugin.line);
    assert_eq!(parts[4], "grpc");
    assert!(
        !parts[5].contains('='),
        "certificate must be unpadded base64"
    );
    assert!(
        parts[5].len() > 50,
        "go-plugin ignores certificates of 50 characters or less"
    );
    let meta = std::fs::metadata(&plugin.socket).expect("socket exists");
    assert!(meta.file_type().is_socket());
    // A DER certificate is an ASN.1 SEQUENCE.
    assert_eq!(plugin.server_cert.first(), Some(&0x30));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_announced_client_certificate_is_accepted() {
    let terraform = terraform_like_identity();
    let intruder = terraform_like_identity();
    let plugin = launch(&terraform.pem);

    let schema = get_schema(
        connect(&plugin, Some(&terraform), Versions::Both)
            .await
            .expect("connect"),
    )
    .await
    .expect("Terraform's certificate is accepted over TLS 1.3");
    assert!(schema.functions.contains_key("idmap"));
    assert!(schema.functions.contains_key("parse_size"));

    let tls12 = get_schema(
        connect(&plugin, Some(&terraform), Versions::Tls12Only)
            .await
            .expect("connect"),
    )
    .await;
    assert!(
        tls12.is_ok(),
        "TLS 1.2 with the P-521 certificate: {tls12:?}"
    );

    let refused = match connect(&plugin, Some(&intruder), Versions::Both).await {
        Ok(channel) => get_schema(channel).await.is_err(),
        Err(_) => true,
    };
    assert!(refused, "a different certificate must be refused");

    let refused = match connect(&plugin, None, Versions::Both).await {
        Ok(channel) => get_schema(channel).await.is_err(),
        Err(_) => true,
    };
    assert!(refused, "a client without certificate must be refused");

    // Plaintext h2c is not served in plugin mode.
    let plain = match connect_plain(plugin.socket.clone()).await {
        Ok(channel) => get_schema(channel).await.is_err(),
        Err(_) => true,
    };
    assert!(plain, "plaintext must be refused when AutoMTLS is on");

    // The legitimate client still works after the refusals.
    get_schema(
        connect(&plugin, Some(&terraform), Versions::Both)
            .await
            .expect("connect"),
    )
    .await
    .expect("still serving");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_is_ignored_and_shutdown_exits_promptly() {
    let id = terraform_like_identity();
    let mut plugin = launch(&id.pem);
    let channel = connect(&plugin, Some(&id), Versions::Both)
        .await
        .expect("connect");

    let pid = plugin.child.id().to_string();
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
    tokio::time::sleep(Duration::from_millis(200)).await;
    get_schema(channel.clone())
        .await
        .expect("SIGINT must not stop the provider; Terraform uses Stop");

    let started = Instant::now();
    GrpcControllerClient::new(channel)
        .shutdown(pvelxc_proto::plugin::Empty {})
        .await
        .expect("shutdown");
    let deadline = started + Duration::from_millis(1900);
    let exited = loop {
        if let Some(status) = plugin.child.try_wait().expect("try_wait") {
            break Some(status);
        }
        if Instant::now() > deadline {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let status = exited.expect("provider must exit before Terraform's 2 s kill timeout");
    assert!(status.success(), "clean exit after Shutdown: {status}");
    assert!(!plugin.socket.exists(), "socket removed on exit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_mode_prints_reattach_json_and_serves_plaintext() {
    let mut child = provider_command()
        .arg("--debug")
        .spawn()
        .expect("spawn provider");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut json_line = String::new();
    for _ in 0..10 {
        let mut line = String::new();
        if stdout.read_line(&mut line).expect("read") == 0 {
            break;
        }
        if let Some(value) = line.trim().strip_prefix("TF_REATTACH_PROVIDERS='") {
            json_line = value.trim_end_matches('\'').to_string();
            break;
        }
    }
    let reattach: serde_json::Value = serde_json::from_str(&json_line).expect("reattach JSON");
    let entry = &reattach["registry.terraform.io/pvelxc/pvelxc"];
    assert_eq!(entry["Protocol"], "grpc");
    assert_eq!(entry["ProtocolVersion"], 5);
    assert_eq!(entry["Test"], true);
    assert_eq!(entry["Pid"], child.id());
    assert_eq!(entry["Addr"]["Network"], "unix");
    let socket = entry["Addr"]["String"]
        .as_str()
        .expect("socket path")
        .to_string();
    let response = get_schema(connect_plain(socket.into()).await.expect("connect"))
        .await
        .expect("schema over h2c");
    assert!(response.provider.is_some());
    let _ = child.kill();
    let _ = child.wait();
    let mut rest = String::new();
    let _ = stdout.read_to_string(&mut rest);
}
