//! A client nobody here wrote: the Python `proxmoxer` library drives the node with token
//! and ticket auth, verifying TLS against the node's CA (tests/python/test_proxmoxer.py).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn python() -> PathBuf {
    let venv = repo_root().join(".cache/venv/bin/python");
    assert!(
        venv.is_file(),
        "{} missing: python3 -m venv .cache/venv && .cache/venv/bin/pip install -r scripts/deps/python-requirements.txt",
        venv.display()
    );
    venv
}

struct Target {
    host: String,
    port: u16,
    node: String,
    ca: PathBuf,
    token: String,
    password: String,
}

fn run_script(target: &Target, vmid: u32, bind_dir: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/test_proxmoxer.py");
    let output = Command::new(python())
        .arg(script)
        .env("PVE_HOST", &target.host)
        .env("PVE_PORT", target.port.to_string())
        .env("PVE_NODE", &target.node)
        .env("PVE_CA", &target.ca)
        .env("PVE_TOKEN", &target.token)
        .env("PVE_PASSWORD", &target.password)
        .env("PVE_VMID", vmid.to_string())
        .env("PVE_BIND_DIR", bind_dir)
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "proxmoxer failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("proxmoxer: all checks passed"), "{stdout}");
}

/// Against the API alone (no LXC): checks the protocol, auth and errors as proxmoxer sees them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the project venv (.cache/venv with proxmoxer); run scripts/test.sh"]
async fn proxmoxer_against_the_api_in_standalone_mode() {
    let host = common::TestHost::start().await;
    let bind = host.dir.path().join("bind");
    std::fs::create_dir_all(&bind).expect("bind dir");
    let target = Target {
        host: "127.0.0.1".into(),
        port: host.addr.port(),
        node: "pve".into(),
        ca: host.ca.clone(),
        token: host.token.trim_start_matches("PVEAPIToken=").to_string(),
        password: host.password.clone(),
    };
    let bind2 = bind.clone();
    tokio::task::spawn_blocking(move || run_script(&target, 900, &bind2))
        .await
        .expect("script thread");
    host.stop().await;
}

/// Against a real node with LXC: `$PVE_TESTHOST_ENV` names a running node's
/// `testhost.json`; otherwise the node is brought up with `pve-testhost up`.
#[test]
#[ignore = "needs root + LXC; run scripts/test.sh"]
fn proxmoxer_against_a_real_node() {
    let info_path = match std::env::var("PVE_TESTHOST_ENV") {
        Ok(path) if path.ends_with(".env") => PathBuf::from(path).with_extension("json"),
        Ok(path) => PathBuf::from(path),
        Err(_) => {
            let output = Command::new(env!("CARGO_BIN_EXE_pve-testhost"))
                .arg("up")
                .output()
                .expect("pve-testhost up runs");
            assert!(
                output.status.success(),
                "up failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let state =
                std::env::var("PVE_TESTHOST_STATE").unwrap_or_else(|_| "/run/pve-testhost".into());
            PathBuf::from(state).join("testhost.json")
        }
    };
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&info_path).expect("testhost.json"))
            .expect("json");
    let api = &info["api"];
    let endpoint = api["endpoint"].as_str().expect("endpoint");
    let authority = endpoint
        .trim_start_matches("https://")
        .split('/')
        .next()
        .expect("authority");
    let (host, port) = authority.rsplit_once(':').expect("host:port");
    let target = Target {
        host: host.to_string(),
        port: port.parse().expect("port"),
        node: info["node"].as_str().unwrap_or("pve").to_string(),
        ca: PathBuf::from(api["ca_cert"].as_str().expect("ca_cert")),
        token: api["token"].as_str().expect("token").to_string(),
        password: api["root_password"].as_str().expect("password").to_string(),
    };
    let bind = tempfile::tempdir_in("/tmp").expect("bind dir");
    run_script(&target, 901, bind.path());
}
