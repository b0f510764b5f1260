//! Runner-driven transcode versus bare ffmpeg with the same arguments, side by
//! side in one run. The runner's figure is the transcode stage as the daemon
//! records it, and separately the whole job (queue pick-up, probes, verify,
//! publish copy). ROUNDS (default 3) alternates bare and runner runs.

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use pvelxc_jobs::ffmpeg::{args, probe};
use pvelxc_spec::jobs::{TranscodeProfile, VideoEncoder};
use std::process::Command;
use std::time::{Duration, Instant};

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let mut env = Env::new();
    let profile = TranscodeProfile {
        video: VideoEncoder::Software {
            codec: "libx265".into(),
            preset: "fast".into(),
            crf: 22,
        },
        ..fast_profile()
    };
    env.settings.profiles.insert("test".into(), profile.clone());
    env.settings.nice = 0;
    env.save();
    let src = env.path().join("bench-source.mkv");
    make_source(
        &src,
        30,
        "640x360",
        &["eng", "bul", "fre"],
        &["eng", "bul", "ger"],
    );
    let p = probe::probe(std::path::Path::new("ffprobe"), &src).expect("probe");
    let maps = args::stream_maps(&env.settings.languages, &p).expect("maps");
    let bare_out = env.path().join("bare.mkv");
    let argv = args::transcode_args(&profile, &profile.video, &maps, &src, &bare_out);
    let _daemon = env.daemon();
    let mut bare = Vec::new();
    let mut stage = Vec::new();
    let mut job = Vec::new();
    for round in 0..rounds {
        let t = Instant::now();
        let st = Command::new("ffmpeg")
            .args(&argv)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("ffmpeg");
        assert!(st.success());
        bare.push(t.elapsed().as_secs_f64());

        let copy = env.path().join(format!("Round {round}.mkv"));
        std::fs::copy(&src, &copy).expect("copy");
        let t = Instant::now();
        let id = env.add(&copy, &[]);
        let j = env.wait_final(id, Duration::from_secs(1800));
        assert_eq!(j["state"], "done", "{j}");
        job.push(t.elapsed().as_secs_f64());
        let logs =
            String::from_utf8_lossy(&env.cli(&["logs", &id.to_string()]).stdout).into_owned();
        let secs = logs
            .lines()
            .find_map(|l| {
                l.split_once("transcode done in ")
                    .map(|(_, r)| r.trim_end_matches('s').to_string())
            })
            .and_then(|v| v.parse::<f64>().ok())
            .expect("stage time in log");
        stage.push(secs);
        println!("round {round}: bare ffmpeg {:.2}s, runner transcode stage {secs:.2}s, whole job {:.2}s", bare[round], job[round]);
    }
    let med = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let (b, s, j) = (med(&mut bare), med(&mut stage), med(&mut job));
    println!(
        "median of {rounds}: bare {b:.2}s, runner transcode stage {s:.2}s ({:+.2}%), whole job incl. verify+publish {j:.2}s ({:+.2}%)",
        (s / b - 1.0) * 100.0,
        (j / b - 1.0) * 100.0
    );
}
