//! Plugin process figures for docs/performance.md (section "Provider
//! protocol"): launch-to-handshake time, GetSchema latency over AutoMTLS,
//! and peak RSS of the provider binary built with the bench (release)
//! profile.
//!
//! Run: `cargo bench -p terraform-provider-pvelxc --bench plugin`
//! (optional argument: iterations, default 50).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use pvelxc_proto::tfplugin5::get_provider_schema;
use pvelxc_proto::tfplugin5::provider_client::ProviderClient;

fn summary(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let pick = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    println!(
        "{name:<28} n={:<4} min={:>8.2?} median={:>8.2?} p95={:>8.2?} max={:>8.2?}",
        samples.len(),
        pick(0.0),
        pick(0.5),
        pick(0.95),
        pick(1.0)
    );
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn main() {
    let iterations: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(50);
    let identity = common::terraform_like_identity();

    let mut handshakes = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let started = Instant::now();
        let plugin = common::launch(&identity.pem);
        handshakes.push(started.elapsed());
        drop(plugin);
    }
    summary("launch -> handshake line", handshakes);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let plugin = common::launch(&identity.pem);
    let (connects, calls) = runtime.block_on(async {
        let mut connects = Vec::new();
        let mut calls = Vec::new();
        for _ in 0..iterations.min(20) {
            let started = Instant::now();
            let channel = common::connect(&plugin, Some(&identity), common::Versions::Both)
                .await
                .expect("connect");
            let mut client = ProviderClient::new(channel);
            client
                .get_schema(get_provider_schema::Request {})
                .await
                .expect("schema");
            connects.push(started.elapsed());
            for _ in 0..10 {
                let started = Instant::now();
                client
                    .get_schema(get_provider_schema::Request {})
                    .await
                    .expect("schema");
                calls.push(started.elapsed());
            }
        }
        (connects, calls)
    });
    summary("mTLS connect + GetSchema", connects);
    summary("GetSchema (warm connection)", calls);
    match peak_rss_kib(plugin.child.id()) {
        Some(kib) => println!("{:<28} {:.1} MiB", "peak RSS (VmHWM)", kib as f64 / 1024.0),
        None => println!("peak RSS: /proc not readable"),
    }
}
