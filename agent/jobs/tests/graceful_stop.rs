//! SIGTERM, the way systemd stops the runner: during a real ffmpeg transcode the
//! daemon starts nothing new, kills the encoder, puts the job back at its stage and
//! exits 0 within the unit's stop timeout. After a restart the job finishes with
//! exactly one complete library file and the source untouched.

mod common;

use common::*;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::time::{Duration, Instant};

const UNIT: &str = include_str!("../data/pvelxc-jobs.service");

/// `TimeoutStopSec` of the shipped unit: how long systemd waits before SIGKILL.
fn unit_stop_timeout() -> Duration {
    let secs = UNIT
        .lines()
        .find_map(|l| l.strip_prefix("TimeoutStopSec="))
        .expect("the unit sets TimeoutStopSec")
        .trim()
        .parse()
        .expect("TimeoutStopSec in seconds");
    Duration::from_secs(secs)
}

#[test]
fn unit_gives_the_runner_more_time_than_it_needs_and_signals_it_alone() {
    assert!(
        pvelxc_jobs::daemon::STOP_GRACE < unit_stop_timeout(),
        "the runner's grace period must end before systemd's SIGKILL"
    );
    assert!(UNIT.lines().any(|l| l == "KillMode=mixed"), "{UNIT}");
}

#[test]
fn sigterm_during_transcode_exits_0_and_the_job_resumes_after_restart() {
    let mut env = Env::new();
    env.settings.profiles.insert("test".into(), slow_profile());
    env.settings.concurrency.transcode = 1;
    env.save();
    let src = env.path().join("stop.mkv");
    make_interruptible_source(&src, &["eng"]);
    let waiting_src = env.path().join("waiting.mkv");
    make_source(&waiting_src, 2, "320x240", &["eng"], &[]);
    let before = digest(&src);

    let mut daemon = env.daemon();
    let id = env.add(&src, &["--title", "Stop Film", "--year", "2002"]);
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
    // Queued behind the running encode (one transcode slot): the stop must not start it.
    let waiting = env.add(&waiting_src, &["--title", "Waiting Film", "--year", "2003"]);
    let work = env.settings.work_dir.join(format!("job-{id}"));
    assert!(!ffmpeg_pids(&work).is_empty(), "the encoder runs");

    let pid = Pid::from_raw(i32::try_from(daemon.child.id()).expect("pid"));
    let sent = Instant::now();
    kill(pid, Signal::SIGTERM).expect("SIGTERM");
    let status = wait_for(unit_stop_timeout(), || {
        daemon.child.try_wait().expect("wait for the daemon")
    });
    let took = sent.elapsed();
    let status = status.unwrap_or_else(|| {
        panic!(
            "still running {:?} after SIGTERM (systemd would SIGKILL it):\n{}",
            unit_stop_timeout(),
            daemon.log_text()
        )
    });
    println!("SIGTERM to exit: {:.0} ms", took.as_secs_f64() * 1e3);
    assert_eq!(status.code(), Some(0), "{}", daemon.log_text());
    assert!(
        took < pvelxc_jobs::daemon::STOP_GRACE,
        "took {took:?}: the encoder is killed, not waited for"
    );
    assert!(
        ffmpeg_pids(&work).is_empty(),
        "encoder left running: {:?}",
        ffmpeg_pids(&work)
    );
    assert!(
        env.library_files().is_empty(),
        "nothing reaches the library, not even a .part: {:?}",
        env.library_files()
    );
    let j = env.job(id);
    assert_eq!(
        (j["state"].as_str(), j["stage"].as_str()),
        (Some("queued"), Some("transcode")),
        "resumable at its stage: {j}"
    );
    let w = env.job(waiting);
    assert_eq!(w["state"], "queued", "{w}");
    let waiting_logs =
        String::from_utf8_lossy(&env.cli(&["logs", &waiting.to_string()]).stdout).into_owned();
    assert!(!waiting_logs.contains("started"), "{waiting_logs}");
    assert!(
        daemon.log_text().contains("stopping"),
        "{}",
        daemon.log_text()
    );

    let restarted = env.daemon();
    for job in [id, waiting] {
        let j = env.wait_final(job, Duration::from_secs(240));
        assert_eq!(j["state"], "done", "{j}\n{}", restarted.log_text());
    }
    assert_eq!(
        env.library_files(),
        vec![
            "Movies/Stop Film (2002)/Stop Film (2002).mkv",
            "Movies/Waiting Film (2003)/Waiting Film (2003).mkv",
        ]
    );
    let out = env
        .settings
        .library_dir
        .join("Movies/Stop Film (2002)/Stop Film (2002).mkv");
    assert!(
        (duration(&out) - duration(&src)).abs() < 0.25,
        "published file is complete"
    );
    assert_eq!(digest(&src), before, "source intact");
    let logs = String::from_utf8_lossy(&env.cli(&["logs", &id.to_string()]).stdout).into_owned();
    assert_eq!(logs.matches("transcode started").count(), 2, "{logs}");
    assert_eq!(logs.matches("transcode interrupted").count(), 1, "{logs}");
    assert!(
        logs.contains("transcode started (attempt 1)") && !logs.contains("(attempt 2)"),
        "a stop does not use up an attempt: {logs}"
    );
}
