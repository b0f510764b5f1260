//! Queue throughput: 1,000 tiny jobs.
//!
//! Part 1 drives the real SQLite queue (WAL, BEGIN IMMEDIATE, fsync per commit
//! as configured) through the exact state changes the daemon makes per job: add,
//! then claim + progress + stage_done for transcode, verify, publish and finish.
//! Part 2 runs the real daemon on DAEMON_JOBS tiny generated files (default
//! 1000) end to end with ffmpeg. QUEUE_JOBS sets the count of part 1.

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use pvelxc_jobs::db::{kind, stage, NewJob, Queue};
use std::time::{Duration, Instant};

fn queue_only(n: i64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut q = Queue::open(&dir.path().join("jobs.sqlite")).expect("open");
    let t = Instant::now();
    for i in 0..n {
        q.add(&NewJob {
            kind: kind::FILE.into(),
            source: format!("/staging/{i}.mkv"),
            source_key: format!("file:/staging/{i}.mkv:1:1"),
            profile: "runbook".into(),
            first_stage: stage::TRANSCODE.into(),
            ..Default::default()
        })
        .expect("add");
    }
    let added = t.elapsed();
    let stages = [
        (stage::TRANSCODE, stage::VERIFY),
        (stage::VERIFY, stage::PUBLISH),
        (stage::PUBLISH, stage::FINISH),
        (stage::FINISH, stage::DONE),
    ];
    for (from, to) in stages {
        for job in q.runnable().expect("runnable") {
            assert_eq!(job.stage, from);
            assert!(q.claim(job.id).expect("claim"));
            q.set_progress(job.id, 0.5, 30.0).expect("progress");
            q.stage_done(job.id, from, to, 0.01).expect("done");
        }
    }
    let total = t.elapsed();
    let done = q
        .counts()
        .expect("counts")
        .into_iter()
        .find(|(s, _)| s == "done")
        .map(|(_, n)| n);
    assert_eq!(done, Some(n));
    println!(
        "queue only: {n} jobs added in {:.2}s, through all stages in {:.2}s = {:.0} jobs/s ({:.0} transactions/s)",
        added.as_secs_f64(),
        total.as_secs_f64(),
        n as f64 / total.as_secs_f64(),
        (n * 13) as f64 / total.as_secs_f64()
    );
}

fn daemon_end_to_end(n: usize) {
    let mut env = Env::new();
    env.settings.concurrency.transcode = 2;
    env.save();
    let src_dir = env.path().join("tiny");
    std::fs::create_dir_all(&src_dir).expect("mkdir");
    let template = src_dir.join("template.mkv");
    make_source(&template, 1, "64x64", &["eng"], &[]);
    let files: Vec<_> = (0..n)
        .map(|i| {
            let f = src_dir.join(format!("Tiny {i:04}.mkv"));
            std::fs::copy(&template, &f).expect("copy");
            f
        })
        .collect();
    let daemon = env.daemon();
    let t = Instant::now();
    for f in &files {
        env.add(f, &[]);
    }
    let queued = t.elapsed();
    let done = wait_for(Duration::from_secs(3600), || {
        let s = env.cli_json(&["status"]);
        let finished =
            s["jobs"]["done"].as_i64().unwrap_or(0) + s["jobs"]["failed"].as_i64().unwrap_or(0);
        (finished as usize == n).then_some(s)
    })
    .expect("all jobs finished");
    let total = t.elapsed();
    assert_eq!(
        done["jobs"]["done"].as_i64(),
        Some(n as i64),
        "{}",
        daemon.log_text()
    );
    println!(
        "daemon end to end: {n} tiny jobs (1 s 64x64, x265 ultrafast, verify, publish) queued by CLI in {:.1}s, all published after {:.1}s = {:.2} jobs/s",
        queued.as_secs_f64(),
        total.as_secs_f64(),
        n as f64 / total.as_secs_f64()
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let count = |var: &str| -> usize {
        std::env::var(var)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000)
    };
    queue_only(count("QUEUE_JOBS") as i64);
    let n = count("DAEMON_JOBS");
    if n > 0 {
        daemon_end_to_end(n);
    }
}
