//! Request latency of the API server (standalone mode, TLS on loopback, one connection
//! per request as proxmoxer without keep-alive would do). Prints median and p95 per call.
//!
//! Run: `cargo bench -p pve-testhost --bench api_latency`

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

const ROUNDS: usize = 200;

fn summary(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let median = samples[samples.len() / 2];
    let p95 = samples[samples.len() * 95 / 100];
    println!(
        "{name:<40} median {:>7.2} ms   p95 {:>7.2} ms   ({} requests)",
        median.as_secs_f64() * 1e3,
        p95.as_secs_f64() * 1e3,
        samples.len()
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let host = common::TestHost::start().await;
        let token = host.token_auth();
        host.create_ct(&token, 100, "rootfs=local%3A1").await;

        let mut version = Vec::new();
        let mut get_config = Vec::new();
        let mut put_config = Vec::new();
        let mut invalid = Vec::new();
        for i in 0..ROUNDS {
            let t = Instant::now();
            assert_eq!(host.call(&token, "GET", "/version", None).await.status, 200);
            version.push(t.elapsed());

            let t = Instant::now();
            assert_eq!(
                host.call(&token, "GET", "/nodes/pve/lxc/100/config", None)
                    .await
                    .status,
                200
            );
            get_config.push(t.elapsed());

            let t = Instant::now();
            let form = format!("cores={}&description=round%20{i}", 1 + i % 4);
            assert_eq!(
                host.call(&token, "PUT", "/nodes/pve/lxc/100/config", Some(form))
                    .await
                    .status,
                200
            );
            put_config.push(t.elapsed());

            let t = Instant::now();
            let form = "net0=bridge%3Dvmbr0".to_string();
            assert_eq!(
                host.call(&token, "PUT", "/nodes/pve/lxc/100/config", Some(form))
                    .await
                    .status,
                400
            );
            invalid.push(t.elapsed());
        }
        summary("GET /version", version);
        summary("GET /nodes/pve/lxc/100/config", get_config);
        summary("PUT …/config (lock, write, fsync)", put_config);
        summary("PUT …/config invalid net0 (400)", invalid);
        host.stop().await;
    });
}
