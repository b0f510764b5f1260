//! The failures other runners are known for: a `kill -9` mid-transcode, a
//! truncated output, a full disk, and "database is locked" under concurrent CLI use.

mod common;

use common::*;
use std::time::Duration;

#[test]
fn kill_9_during_transcode_then_restart_publishes_exactly_once() {
    let mut env = Env::new();
    env.settings.profiles.insert("test".into(), slow_profile());
    env.save();
    let src = env.path().join("crash.mkv");
    make_interruptible_source(&src, &["eng"]);
    let before = digest(&src);
    let mut daemon = env.daemon();
    let id = env.add(&src, &["--title", "Crash Film", "--year", "2001"]);
    let caught = wait_for(Duration::from_secs(120), || {
        let j = env.job(id);
        (j["stage"] == "transcode"
            && j["state"] == "running"
            && j["progress"].as_f64().unwrap_or(0.0) > 0.1)
            .then_some(j)
    });
    assert!(
        caught.is_some(),
        "never saw the transcode running: {}",
        env.job(id)
    );
    daemon.kill9();
    let work = env.settings.work_dir.join(format!("job-{id}"));
    // The encoder dies with the daemon (parent-death signal), it does not keep writing.
    let gone = wait_for(Duration::from_secs(10), || {
        ffmpeg_pids(&work).is_empty().then_some(())
    });
    assert!(
        gone.is_some(),
        "orphaned ffmpeg still running: {:?}",
        ffmpeg_pids(&work)
    );
    assert!(
        env.library_files().is_empty(),
        "nothing may reach the library before verify"
    );
    assert_eq!(
        env.job(id)["state"],
        "running",
        "the queue still shows the interrupted stage"
    );

    let daemon = env.daemon();
    let j = env.wait_final(id, Duration::from_secs(240));
    assert_eq!(j["state"], "done", "{j}\n{}", daemon.log_text());
    assert_eq!(
        env.library_files(),
        vec!["Movies/Crash Film (2001)/Crash Film (2001).mkv"]
    );
    let out = env
        .settings
        .library_dir
        .join("Movies/Crash Film (2001)/Crash Film (2001).mkv");
    assert!(
        (duration(&out) - duration(&src)).abs() < 0.25,
        "published file is complete"
    );
    assert_eq!(digest(&src), before, "source intact");
    let logs = String::from_utf8_lossy(&env.cli(&["logs", &id.to_string()]).stdout).into_owned();
    assert_eq!(logs.matches("transcode started").count(), 2, "{logs}");
}

#[test]
fn truncated_output_is_caught_by_verify_and_never_published() {
    let mut env = Env::new();
    // ffmpeg exits 0 but writes only the first second: the classic silent truncation.
    let mut p = fast_profile();
    p.extra_output_args
        .extend(["-t".to_string(), "1".to_string()]);
    env.settings.profiles.insert("test".into(), p);
    env.save();
    let src = env.path().join("trunc.mkv");
    make_source(&src, 4, "320x240", &["eng"], &[]);
    let before = digest(&src);
    let _daemon = env.daemon();
    let id = env.add(&src, &["--title", "Short"]);
    let j = env.wait_final(id, Duration::from_secs(60));
    assert_eq!(j["state"], "failed");
    assert_eq!(j["stage"], "verify");
    assert!(j["error"].as_str().unwrap().contains("truncated"), "{j}");
    assert!(env.library_files().is_empty());
    assert_eq!(digest(&src), before);
}

#[test]
fn full_disk_fails_before_encoding_and_keeps_the_source() {
    let mut env = Env::new();
    env.settings.reserve_free_bytes = u64::MAX / 4;
    env.save();
    let src = env.path().join("big.mkv");
    make_source(&src, 2, "320x240", &["eng"], &[]);
    let before = digest(&src);
    let _daemon = env.daemon();
    let id = env.add(&src, &["--title", "Big"]);
    let j = env.wait_final(id, Duration::from_secs(60));
    assert_eq!(j["state"], "failed");
    let err = j["error"].as_str().unwrap();
    assert!(
        err.contains("not enough free space") && err.contains("reserve_free_bytes"),
        "{err}"
    );
    assert!(j["encoded"].is_null(), "no encode was attempted");
    // `watch` off a terminal prints JSON lines and ends once the job is final.
    let w = env.cli(&["watch", &id.to_string()]);
    assert!(w.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&w.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["state"], "failed");
    assert!(env.library_files().is_empty());
    assert_eq!(digest(&src), before);
}

#[test]
fn concurrent_cli_use_during_a_running_job_never_sees_a_lock_error() {
    let mut env = Env::new();
    env.settings.profiles.insert("test".into(), slow_profile());
    env.save();
    let src = env.path().join("busy.mkv");
    make_interruptible_source(&src, &[]);
    let daemon = env.daemon();
    let id = env.add(&src, &["--title", "Busy"]);
    let running = wait_for(Duration::from_secs(60), || {
        (env.job(id)["state"] == "running").then_some(())
    });
    assert!(running.is_some());
    let id_s = id.to_string();
    let src_s = src.display().to_string();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|w| {
                let env = &env;
                let (id_s, src_s) = (id_s.clone(), src_s.clone());
                s.spawn(move || {
                    let mut failures = Vec::new();
                    for i in 0..25 {
                        let args: Vec<&str> = match (w + i) % 5 {
                            0 => vec!["add", &src_s, "--title", "Busy"],
                            1 => vec!["retry", &id_s],
                            2 => vec!["list", "--json"],
                            3 => vec!["status"],
                            _ => vec!["logs", &id_s],
                        };
                        let o = env.cli(&args);
                        let err = String::from_utf8_lossy(&o.stderr).into_owned();
                        if !o.status.success() || err.contains("locked") || err.contains("busy") {
                            failures.push(format!("{args:?}: {err}"));
                        }
                    }
                    failures
                })
            })
            .collect();
        let failures: Vec<String> = handles
            .into_iter()
            .flat_map(|h| h.join().expect("worker"))
            .collect();
        assert!(failures.is_empty(), "{failures:#?}");
    });
    let j = env.wait_final(id, Duration::from_secs(180));
    assert_eq!(j["state"], "done", "{j}\n{}", daemon.log_text());
    assert_eq!(
        env.cli_json(&["list", "--json"])
            .as_array()
            .map(|a| a.len()),
        Some(1),
        "re-adds were idempotent"
    );
}

#[test]
fn cancel_kills_the_encoder_and_retry_finishes_the_job() {
    let mut env = Env::new();
    env.settings.profiles.insert("test".into(), slow_profile());
    env.save();
    let src = env.path().join("cancel.mkv");
    make_interruptible_source(&src, &[]);
    let _daemon = env.daemon();
    let id = env.add(&src, &["--title", "Cancelled"]);
    let running = wait_for(Duration::from_secs(60), || {
        let j = env.job(id);
        (j["state"] == "running" && j["stage"] == "transcode").then_some(())
    });
    assert!(running.is_some());
    assert_eq!(
        env.cli_json(&["cancel", &id.to_string()])["state"],
        "cancelling"
    );
    let j = env.wait_final(id, Duration::from_secs(30));
    assert_eq!(j["state"], "cancelled");
    let work = env.settings.work_dir.join(format!("job-{id}"));
    assert!(wait_for(Duration::from_secs(5), || ffmpeg_pids(&work)
        .is_empty()
        .then_some(()))
    .is_some());
    assert_eq!(env.cli_json(&["retry", &id.to_string()])["state"], "queued");
    let j = env.wait_final(id, Duration::from_secs(180));
    assert_eq!(j["state"], "done", "{j}");
    assert_eq!(env.library_files(), vec!["Movies/Cancelled/Cancelled.mkv"]);
}
