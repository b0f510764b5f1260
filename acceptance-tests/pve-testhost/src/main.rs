//! `pve-testhost`: bring the node up or down, show its status, or serve its API.
//!
//! `up` brings the node up (`pve_testhost_runtime::node::up`), starts this binary's
//! `serve` inside the node's namespaces, waits until the API answers and publishes the
//! endpoint, CA fingerprint, token and root password in `testhost.json`/`testhost.env`
//! next to the SSH details. `down` stops the API server and tears the node down.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use pve_testhost::auth::Credentials;
use pve_testhost::tls::TlsFiles;
use pve_testhost::{ExecutorKind, ServerConfig};
use pve_testhost_runtime::node::{self, ApiInfo, NodeConfig};

#[derive(Debug, Parser)]
#[command(
    name = "pve-testhost",
    about = "A Proxmox VE node stand-in on real LXC"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Default API port, as on Proxmox VE.
const DEFAULT_API_PORT: u16 = 8006;

#[derive(Debug, Subcommand)]
enum Command {
    /// Bring the node and its API up (idempotent); prints the env file.
    Up,
    /// Stop the API and tear the node down, leaving nothing behind.
    Down,
    /// Show whether the node and its API are up (JSON); exit 1 if not.
    Status,
    /// Serve the HTTPS API of a node root directory (what `up` runs inside the node).
    Serve {
        /// Node root directory (`/` inside the node's namespace).
        #[arg(long, default_value = "/")]
        root: PathBuf,
        /// State directory for TLS files, credentials and faults.
        #[arg(long, env = "PVE_TESTHOST_STATE", default_value = "/run/pve-testhost")]
        state: PathBuf,
        /// Listen address.
        #[arg(long, default_value = "127.0.0.1:8006")]
        listen: SocketAddr,
        /// Node name.
        #[arg(long, env = "PVE_TESTHOST_NODE", default_value = "pve")]
        node: String,
        /// Extra certificate names (DNS names or IPs), repeatable.
        #[arg(long = "tls-name")]
        tls_names: Vec<String>,
        /// Run containers with LXC (inside a node); without it, standalone mode keeps only
        /// state files (for API tests without root).
        #[arg(long)]
        lxc: bool,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PVE_TESTHOST_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("pve-testhost: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        Command::Serve {
            root,
            state,
            listen,
            node,
            tls_names,
            lxc,
        } => {
            serve(root, state, listen, node, tls_names, lxc)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Up => {
            up()?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Down => {
            let config = NodeConfig::from_env();
            stop_api(&config);
            node::down(&config).map_err(|e| e.to_string())?;
            println!("pve-testhost is down");
            Ok(ExitCode::SUCCESS)
        }
        Command::Status => {
            let config = NodeConfig::from_env();
            let status = node::status(&config);
            let api_up = api_pid(&config).is_some();
            let ok = status.up && api_up;
            let mut problems = status.problems.clone();
            if !api_up {
                problems.push("the API server is not running".into());
            }
            let report = serde_json::json!({"up": ok, "problems": problems, "info": status.info});
            println!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            );
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

fn serve(
    root: PathBuf,
    state: PathBuf,
    listen: SocketAddr,
    node: String,
    tls_names: Vec<String>,
    lxc: bool,
) -> Result<(), String> {
    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        node.clone(),
    ];
    names.push(listen.ip().to_string());
    names.extend(tls_names);
    names.sort();
    names.dedup();
    names.retain(|n| n != "0.0.0.0");
    let config = ServerConfig {
        node,
        root,
        state_dir: state,
        listen,
        tls_names: names,
        executor: if lxc {
            ExecutorKind::Lxc
        } else {
            ExecutorKind::Standalone
        },
    };
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("tokio runtime: {e}"))?;
    runtime.block_on(async {
        let server = pve_testhost::server::start(&config)
            .await
            .map_err(|e| e.to_string())?;
        println!("listening on https://{}/api2/json", server.addr);
        tokio::select! {
            res = server.wait() => res.map_err(|e| e.to_string()),
            _ = tokio::signal::ctrl_c() => Ok(()),
        }
    })
}

fn api_pid_file(config: &NodeConfig) -> PathBuf {
    config.state_dir.join("api.pid")
}

/// PID of the running API server, if any.
fn api_pid(config: &NodeConfig) -> Option<i32> {
    let pid: i32 = std::fs::read_to_string(api_pid_file(config))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    // SAFETY: kill with signal 0 only checks that the process exists.
    let alive = unsafe { libc::kill(pid, 0) } == 0;
    alive.then_some(pid)
}

fn stop_api(config: &NodeConfig) {
    if let Some(pid) = api_pid(config) {
        // SAFETY: plain signal delivery to the API server we started.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while api_pid(config).is_some() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        if api_pid(config).is_some() {
            // SAFETY: as above.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }
    let _ = std::fs::remove_file(api_pid_file(config));
}

fn api_port() -> u16 {
    std::env::var("PVE_TESTHOST_API_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(DEFAULT_API_PORT)
}

fn wait_for_port(addr: SocketAddr, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

fn up() -> Result<(), String> {
    let config = NodeConfig::from_env();
    let mut info = node::up(&config).map_err(|e| e.to_string())?;
    let port = api_port();
    let listen = SocketAddr::from(([127, 0, 0, 1], port));
    if api_pid(&config).is_none() {
        let exe =
            std::env::current_exe().map_err(|e| format!("cannot find own executable: {e}"))?;
        let log_path = config.state_dir.join("api.log");
        let log =
            std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
        let log_err = log.try_clone().map_err(|e| e.to_string())?;
        let bridge_ip = config.bridge_ip.to_string();
        let mut cmd = node::command(&config, &exe);
        cmd.arg("serve")
            .args(["--root", "/"])
            .arg("--state")
            .arg(&config.state_dir)
            .args([
                "--listen",
                &listen.to_string(),
                "--node",
                &config.name,
                "--tls-name",
                &bridge_ip,
                "--lxc",
            ])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start the API server: {e}"))?;
        pve_testhost::fsutil::write_atomic(
            &api_pid_file(&config),
            child.id().to_string().as_bytes(),
            0o644,
        )
        .map_err(|e| e.to_string())?;
        if !wait_for_port(listen, Duration::from_secs(30)) {
            return Err(format!(
                "the API server did not start listening on {listen}; see {}",
                log_path.display()
            ));
        }
    }
    let tls = TlsFiles::new(config.state_dir.join("tls"));
    let creds = Credentials::load_or_create(&config.state_dir.join("credentials.json"))
        .map_err(|e| e.to_string())?;
    let (token_id, secret) = creds
        .root_token()
        .ok_or("credentials have no root@pam!pvelxc token")?;
    info.api = Some(ApiInfo {
        endpoint: format!("https://{listen}/api2/json"),
        ca_fingerprint: tls.ca_fingerprint().map_err(|e| e.to_string())?,
        ca_cert: tls.ca_cert(),
        token: format!("{token_id}={secret}"),
        root_password: creds.root_password().unwrap_or_default().to_string(),
    });
    node::write_info(&info).map_err(|e| e.to_string())?;
    let env = std::fs::read_to_string(Path::new(&config.state_dir).join("testhost.env"))
        .unwrap_or_default();
    print!("{env}");
    Ok(())
}
