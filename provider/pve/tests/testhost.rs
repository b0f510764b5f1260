//! Against the real pve-testhost node (`pve-testhost up` writes its details to
//! `$PVE_TESTHOST_ENV`, default `/run/pve-testhost/env.json`): the API client, PVE's
//! permission rules for tokens vs root@pam tickets, digest compare-and-swap, refresh cost,
//! raw-line edits over SSH seen by the API, device discovery and subuid delegation.

use std::time::Duration;

use pvelxc_pve::api::{
    ApiToken, ClientOptions, CreateRequest, Credentials, DestroyOptions, PasswordLogin, PveClient,
    RetryPolicy, Timeouts, TlsTrust,
};
use pvelxc_pve::config::{compute_update, ContainerConfig, MountPoint};
use pvelxc_pve::ssh::{HostKeyCheck, NodePaths, NodeSsh, SshAuth, SshOptions, SubIdFile};
use pvelxc_pve::ApiError;
use secrecy::SecretString;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

struct Env {
    node: String,
    endpoint: String,
    ca_pem: String,
    token: String,
    root_password: String,
    ssh_host: String,
    ssh_port: u16,
    ssh_user: String,
    ssh_key: String,
    ssh_fingerprint: String,
    template: String,
}

fn env() -> Env {
    let path =
        std::env::var("PVE_TESTHOST_ENV").unwrap_or_else(|_| "/run/pve-testhost/env.json".into());
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}; run `pve-testhost up` first"));
    let j: Value = serde_json::from_str(&text).unwrap();
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let api = &j["api"];
    let ssh = &j["ssh"];
    let template = j["templates"]
        .as_array()
        .and_then(|t| t.first())
        .map(s)
        .unwrap_or_else(|| "debian-12-standard_12.7-1_amd64.tar.zst".into());
    Env {
        node: s(&j["node"]),
        endpoint: s(&api["endpoint"]),
        ca_pem: std::fs::read_to_string(s(&api["ca_cert"])).unwrap(),
        token: s(&api["token"]),
        root_password: s(&api["root_password"]),
        ssh_host: s(&ssh["host"]),
        ssh_port: ssh["port"].as_u64().unwrap_or(22) as u16,
        ssh_user: s(&ssh["user"]),
        ssh_key: std::fs::read_to_string(s(&ssh["private_key"])).unwrap(),
        ssh_fingerprint: s(&ssh["host_key_fingerprint"]),
        template: if template.contains(':') {
            template
        } else {
            format!("local:vztmpl/{template}")
        },
    }
}

fn client(e: &Env, with_login: bool) -> PveClient {
    PveClient::new(ClientOptions {
        endpoint: e.endpoint.clone(),
        trust: TlsTrust::CaPem(e.ca_pem.clone()),
        credentials: Credentials {
            token: Some(ApiToken::parse(&e.token).unwrap()),
            login: with_login.then(|| {
                PasswordLogin::new("root@pam", SecretString::from(e.root_password.clone())).unwrap()
            }),
        },
        timeouts: Timeouts::default(),
        retry: RetryPolicy::default(),
    })
    .unwrap()
}

async fn ssh(e: &Env) -> NodeSsh {
    let mut o = SshOptions::new(
        &e.ssh_host,
        SshAuth::PrivateKey {
            key: SecretString::from(e.ssh_key.clone()),
            passphrase: None,
        },
        HostKeyCheck::parse_pin(&e.ssh_fingerprint).unwrap(),
    );
    o.port = e.ssh_port;
    o.user = e.ssh_user.clone();
    NodeSsh::connect(&o).await.unwrap()
}

const TASK: Duration = Duration::from_secs(600);

/// Creates a container on the next free vmid. The tests in this file run in parallel,
/// so two of them can be handed the same `nextid`; the loser of that race asks again,
/// as a client creating many containers at once must.
async fn create(c: &PveClient, e: &Env, config: ContainerConfig) -> u32 {
    for _ in 0..5 {
        let vmid = c.next_id().await.unwrap();
        let req = CreateRequest {
            vmid,
            ostemplate: e.template.clone(),
            config: config.clone(),
            password: Some(SecretString::from("testhost-pw".to_string())),
            ssh_public_keys: None,
            storage: None,
            start: false,
            pool: None,
        };
        match c.create_container(&e.node, &req).await {
            Ok(upid) => {
                c.wait_task(&upid, TASK, &CancellationToken::new())
                    .await
                    .unwrap();
                return vmid;
            }
            Err(err) if err.to_string().contains("already exists") => continue,
            Err(err) => panic!("create CT {vmid}: {err}"),
        }
    }
    panic!("no free vmid after 5 attempts");
}

async fn destroy(c: &PveClient, e: &Env, vmid: u32) {
    let upid = c
        .destroy_container(
            &e.node,
            vmid,
            DestroyOptions {
                force: true,
                purge: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    c.wait_task(&upid, TASK, &CancellationToken::new())
        .await
        .unwrap();
    assert!(!c.container_exists(&e.node, vmid).await.unwrap());
}

fn base_config(hostname: &str) -> ContainerConfig {
    ContainerConfig::from_pairs([
        ("hostname", hostname),
        ("ostype", "debian"),
        ("memory", "512"),
        ("swap", "256"),
        ("rootfs", "local:2"),
        ("net0", "name=eth0,bridge=vmbr0,ip=dhcp,firewall=0"),
        ("tags", "pvelxc-test"),
    ])
    .unwrap()
}

#[tokio::test]
#[ignore = "needs pve-testhost; run scripts/test.sh"]
async fn lifecycle_permissions_and_digest() {
    let e = env();
    let c = client(&e, true);
    assert!(!c.version().await.unwrap().version.is_empty());
    assert!(c.nodes().await.unwrap().iter().any(|n| n.node == e.node));
    let storages = c.storages(&e.node, None).await.unwrap();
    assert!(storages.iter().any(|s| s.has_content("vztmpl")));
    let tmpl = c
        .storage_content(&e.node, "local", Some("vztmpl"))
        .await
        .unwrap();
    assert!(tmpl.iter().any(|t| t.volid == e.template), "{tmpl:?}");

    let vmid = create(&c, &e, base_config("pve-client-test")).await;
    assert!(c
        .cluster_resources(Some("vm"))
        .await
        .unwrap()
        .iter()
        .any(|r| r.vmid == Some(u64::from(vmid))));

    // Refresh: config + status (+ interfaces when running) — at most three calls.
    let before = c.api_calls();
    let snap = c.container_config(&e.node, vmid, false).await.unwrap();
    let status = c.container_status(&e.node, vmid).await.unwrap();
    if status.is_running() {
        c.interfaces(&e.node, vmid).await.unwrap();
    }
    assert!(c.api_calls() - before <= 3);

    // What PVE stored compares equal to what was asked for.
    let mut desired = base_config("pve-client-test");
    desired.rootfs = snap.config.rootfs.clone();
    let update = compute_update(&snap.config, &desired).unwrap();
    assert!(update.is_empty(), "{update:?}");

    // A bind mount with the token only: PVE's 403 for non-root.
    let token_only = client(&e, false);
    let mut bind = snap.config.clone();
    bind.memory = Some(768);
    bind.tags = vec!["media".into(), "pvelxc-test".into()];
    bind.mount_points.insert(
        0,
        MountPoint::parse_mp("mp0", "/tmp,mp=/mnt/host-tmp,ro=1").unwrap(),
    );
    let update = compute_update(&snap.config, &bind).unwrap();
    assert_eq!(update.root_only, vec!["mp0"]);
    let err = token_only
        .update_config(&e.node, vmid, &update.put_params().unwrap(), false)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ApiError::Forbidden { message } if message.contains("root@pam")),
        "{err}"
    );

    // The same update with the root@pam ticket succeeds, guarded by the digest.
    c.update_config(
        &e.node,
        vmid,
        &update.put_params().unwrap(),
        update.needs_root(),
    )
    .await
    .unwrap();
    let after = c.container_config(&e.node, vmid, false).await.unwrap();
    assert_ne!(after.digest, snap.digest);
    assert!(compute_update(&after.config, &bind).unwrap().is_empty());

    // The old digest is stale now.
    let err = c
        .update_config(&e.node, vmid, &update.put_params().unwrap(), true)
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::DigestMismatch { .. }), "{err}");

    // An invalid value names its parameter.
    let err = c
        .update_config(
            &e.node,
            vmid,
            &vec![("net0".into(), "name=eth0,ip=10.0.0.5".into())],
            false,
        )
        .await
        .unwrap_err();
    assert!(
        err.parameter_errors()
            .is_some_and(|p| p.contains_key("net0")),
        "{err}"
    );

    destroy(&c, &e, vmid).await;
}

#[tokio::test]
#[ignore = "needs pve-testhost; run scripts/test.sh"]
async fn raw_lines_written_over_ssh_are_seen_by_the_api() {
    let e = env();
    let c = client(&e, true);
    let node = ssh(&e).await;
    let vmid = create(&c, &e, base_config("pve-client-raw")).await;
    let before = c.container_config(&e.node, vmid, false).await.unwrap();
    let lines = vec![
        (
            "lxc.cgroup2.devices.allow".to_string(),
            "c 226:0 rwm".to_string(),
        ),
        (
            "lxc.cgroup2.devices.allow".to_string(),
            "c 226:128 rwm".to_string(),
        ),
        (
            "lxc.mount.entry".to_string(),
            "/dev/dri dev/dri none bind,optional,create=dir".to_string(),
        ),
    ];
    let out = node
        .edit_conf_raw_lines(&NodePaths::default(), vmid, &lines, Some(&before.digest))
        .await
        .unwrap();
    assert!(out.changed);
    let after = c.container_config(&e.node, vmid, false).await.unwrap();
    assert_eq!(after.digest, out.new_digest);
    assert_eq!(after.config.lxc, lines);
    let mut a = after.config.clone();
    a.lxc.clear();
    let mut b = before.config.clone();
    b.lxc.clear();
    assert_eq!(a.normalized(), b.normalized(), "only the raw lines changed");
    destroy(&c, &e, vmid).await;
}

#[tokio::test]
#[ignore = "needs pve-testhost; run scripts/test.sh"]
async fn node_devices_and_subids() {
    let e = env();
    let node = ssh(&e).await;
    let paths = NodePaths::default();
    let d = node
        .discover_devices(
            &paths,
            &[
                "/dev/dri/card0",
                "/dev/dri/renderD128",
                "/dev/sr0",
                "/dev/null",
            ],
        )
        .await
        .unwrap();
    let null = d.device("/dev/null").unwrap();
    assert_eq!((null.major, null.minor), (1, 3));
    assert!(!d.gpus("intel").is_empty(), "{d:?}");
    assert_eq!(d.device("/dev/dri/renderD128").map(|r| r.minor), Some(128));
    assert_eq!(
        d.device("/dev/sr0").map(|s| s.kind),
        Some(pvelxc_pve::ssh::DeviceKind::Block)
    );
    assert!(d.sg_twin("sr0").is_some(), "{d:?}");
    assert_eq!(d.groups.get("video"), Some(&44));
    node.ensure_subid(&paths, SubIdFile::Uid, "root", "1000:1")
        .await
        .unwrap();
    let again = node
        .ensure_subid(&paths, SubIdFile::Uid, "root", "1000:1")
        .await
        .unwrap();
    assert_eq!(again, pvelxc_pve::ssh::SubIdOutcome::Present);
}
