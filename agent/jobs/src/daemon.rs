//! The daemon: recovers interrupted jobs, polls drives, watches staging, serves
//! status, and schedules stages with per-stage concurrency (one rip per drive,
//! N transcodes).
//!
//! SIGTERM or SIGINT stops it gracefully: no new stage is started, running rips,
//! encodes and decode checks have their process killed, stages without a child
//! process (publish, notify) run to their end, and every interrupted job goes back
//! to the queue at its stage, exactly where crash recovery would put it. Nothing
//! partial reaches the library because publishing is copy-to-`.part` then rename.
//! The daemon then exits 0, well within the unit's `TimeoutStopSec`. A `kill -9`
//! gets the same result through [`Queue::recover`] on the next start.

use crate::config;
use crate::db::{kind, stage, Job, NewJob, Queue};
use crate::disc::{self, Poll, Tracker};
use crate::error::{JobError, Result};
use crate::ffmpeg::hwaccel::EncoderCheck;
use crate::fsutil::Owner;
use crate::naming;
use crate::notify;
use crate::privilege::Sandbox;
use crate::stages::{self, Ctx};
use crate::watch::{new_file_job, Settler, Wakeup};
use pvelxc_spec::jobs::{JobMode, JobsSettings, VideoEncoder};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the scheduler looks for work, cancel requests and a stop signal.
const TICK: Duration = Duration::from_millis(200);

/// How long a stop waits for running stages to reach a safe point. Kept well
/// under `TimeoutStopSec=30` in `data/pvelxc-jobs.service`, so systemd never has
/// to SIGKILL the runner; a stage still running then is resumed like after a crash.
pub const STOP_GRACE: Duration = Duration::from_secs(20);

struct Running {
    stage: String,
    drive: Option<String>,
    cancel: Arc<AtomicBool>,
    handle: JoinHandle<()>,
}

/// Transcodes allowed at once.
pub fn transcode_slots(s: &JobsSettings) -> usize {
    if s.concurrency.transcode > 0 {
        return s.concurrency.transcode as usize;
    }
    let hardware = s
        .profiles
        .get(&s.default_profile)
        .map(|p| !matches!(p.video, VideoEncoder::Software { .. }))
        .unwrap_or(false);
    if hardware {
        return 1;
    }
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    (cores / 4).max(1)
}

/// Runs the daemon until SIGTERM/SIGINT (returns `Ok` once running stages are
/// interrupted and recorded) or until the process is killed.
pub fn run(settings: JobsSettings) -> Result<()> {
    // Registered first: a stop during recovery or startup is honoured too.
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, stop.clone())
            .map_err(|e| JobError::io("install the SIGTERM/SIGINT handler", e))?;
    }
    let mkdir = |p: &std::path::Path| {
        std::fs::create_dir_all(p).map_err(|e| JobError::io(format!("create {}", p.display()), e))
    };
    mkdir(&settings.state_dir)?;
    let owner = Owner {
        uid: settings.media_user.uid,
        gid: settings.media_user.gid,
        apply: nix::unistd::geteuid().is_root(),
    };
    // A ripper container hands its rips to staging and never sees the library.
    let mut needed = vec![("staging_dir", &settings.staging_dir)];
    if settings.mode != JobMode::Rip {
        needed.push(("library_dir", &settings.library_dir));
    }
    for (name, dir) in needed {
        if !dir.is_dir() {
            return Err(JobError::Config {
                path: dir.clone(),
                message: format!(
                    "{name} does not exist; create it (the shared storage mount) or fix {name}"
                ),
            });
        }
    }
    if !settings.work_dir.is_dir() {
        mkdir(&settings.work_dir)?;
        owner.set(&settings.work_dir, 0o2775)?;
    }
    let db_path = config::db_path(&settings);
    let mut queue = Queue::open(&db_path)?;
    let recovered = queue.recover()?;
    if recovered > 0 {
        tracing::info!(
            jobs = recovered,
            "resuming jobs interrupted by a crash or stop"
        );
    }
    let server =
        tiny_http::Server::http(settings.status_listen.as_str()).map_err(|e| JobError::Config {
            path: "status_listen".into(),
            message: format!(
                "cannot listen on {}: {e}; pick a free address",
                settings.status_listen
            ),
        })?;
    {
        let db = db_path.clone();
        std::thread::spawn(move || crate::status::serve(server, db));
    }
    let ctx = Arc::new(Ctx {
        sandbox: Sandbox {
            uid: settings.media_user.uid,
            gid: settings.media_user.gid,
            groups: settings.media_user.extra_gids.clone(),
            nice: settings.nice,
            ionice_level: settings.ionice_level,
        },
        settings,
        queue: Arc::new(Mutex::new(queue)),
        owner,
        encoders: EncoderCheck::default(),
    });
    if ctx.sandbox.uid != nix::unistd::geteuid().as_raw() && !ctx.sandbox.switches_user() {
        tracing::warn!(
            uid = ctx.sandbox.uid,
            "not root: job processes run as the current user, not media_user"
        );
    }
    if ctx.settings.mode != JobMode::Transcode {
        for d in ctx.settings.drives.clone() {
            let ctx = ctx.clone();
            std::thread::spawn(move || {
                poll_drive(&ctx, d.device, Duration::from_secs(d.poll_seconds.max(1)))
            });
        }
    }
    if ctx.settings.mode != JobMode::Rip {
        let ctx = ctx.clone();
        std::thread::spawn(move || watch_staging(&ctx));
    }
    tracing::info!(listen = %ctx.settings.status_listen, mode = ?ctx.settings.mode, "job runner started");
    schedule(&ctx, &stop)
}

fn add_job(ctx: &Ctx, job: &NewJob) {
    let r = ctx.queue.lock().unwrap_or_else(|e| e.into_inner()).add(job);
    match r {
        Ok((id, true)) => tracing::info!(job = id, source = %job.source, "queued"),
        Ok((_, false)) => {}
        Err(e) => tracing::error!(error = %e, source = %job.source, "cannot queue"),
    }
}

fn poll_drive(ctx: &Ctx, device: std::path::PathBuf, every: Duration) {
    let mut tracker = Tracker::default();
    let mut last_note = String::new();
    loop {
        let poll = disc::poll(&device);
        if let Poll::Unreadable(why) = &poll {
            if *why != last_note {
                tracing::warn!(device = %device.display(), "{why}");
                last_note = why.clone();
            }
        }
        if let Some(id) = tracker.update(&poll) {
            let title = naming::title_from_label(&id.label);
            tracing::info!(device = %device.display(), label = %id.label, kind = %id.kind, "disc inserted");
            add_job(
                ctx,
                &NewJob {
                    kind: kind::DISC.into(),
                    source: device.display().to_string(),
                    source_key: format!("disc:{}:{}", device.display(), id.fingerprint),
                    title: Some(title).filter(|t| !t.is_empty()),
                    profile: ctx.settings.default_profile.clone(),
                    first_stage: stage::RIP.into(),
                    ..Default::default()
                },
            );
        }
        std::thread::sleep(every);
    }
}

fn watch_staging(ctx: &Ctx) {
    let dir = ctx.settings.staging_dir.clone();
    let settle = Duration::from_secs(ctx.settings.settle_seconds);
    let mut wake = Wakeup::new(&dir);
    let mut settler = Settler::default();
    let pause = (settle / 4).clamp(Duration::from_millis(200), Duration::from_secs(5));
    loop {
        for path in settler.scan(&dir, settle) {
            match new_file_job(&path, None, &ctx.settings.default_profile, 0) {
                Ok(job) => add_job(ctx, &job),
                Err(e) => {
                    tracing::warn!(file = %path.display(), error = %e, "cannot read staged file")
                }
            }
            settler.taken(&path);
        }
        let until = Instant::now() + pause;
        while Instant::now() < until && !wake.changed() {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn limit(ctx: &Ctx, stage_name: &str) -> usize {
    match stage_name {
        stage::TRANSCODE | stage::VERIFY => transcode_slots(&ctx.settings),
        _ => 2,
    }
}

fn schedule(ctx: &Arc<Ctx>, stop: &Arc<AtomicBool>) -> Result<()> {
    let mut running: HashMap<i64, Running> = HashMap::new();
    loop {
        running.retain(|_, r| !r.handle.is_finished());
        if stop.load(Ordering::Relaxed) {
            return shut_down(running);
        }
        let (cancels, runnable) = {
            let q = ctx.queue.lock().unwrap_or_else(|e| e.into_inner());
            (q.cancel_requests()?, q.runnable()?)
        };
        for id in cancels {
            if let Some(r) = running.get(&id) {
                r.cancel.store(true, Ordering::Relaxed);
            }
        }
        for job in runnable {
            if running.contains_key(&job.id) {
                continue;
            }
            let busy = running.values().filter(|r| r.stage == job.stage).count();
            if busy >= limit(ctx, &job.stage) {
                continue;
            }
            let drive = (job.stage == stage::RIP).then(|| job.source.clone());
            if drive.is_some() && running.values().any(|r| r.drive == drive) {
                continue;
            }
            let claimed = ctx
                .queue
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .claim(job.id)?;
            if !claimed {
                continue;
            }
            let cancel = Arc::new(AtomicBool::new(false));
            let handle = {
                let ctx = ctx.clone();
                let cancel = cancel.clone();
                let job = job.clone();
                let stop = stop.clone();
                std::thread::spawn(move || work(&ctx, &job, &cancel, &stop))
            };
            running.insert(
                job.id,
                Running {
                    stage: job.stage.clone(),
                    drive,
                    cancel,
                    handle,
                },
            );
        }
        std::thread::sleep(TICK);
    }
}

/// Interrupts every running stage and waits, at most [`STOP_GRACE`], for each to
/// record where its job resumes.
fn shut_down(running: HashMap<i64, Running>) -> Result<()> {
    tracing::info!(
        running = running.len(),
        "stopping: no new stages; running jobs resume at their stage on the next start"
    );
    for r in running.values() {
        r.cancel.store(true, Ordering::Relaxed);
    }
    let deadline = Instant::now() + STOP_GRACE;
    while running.values().any(|r| !r.handle.is_finished()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    for (id, r) in running {
        if r.handle.is_finished() {
            let _ = r.handle.join();
        } else {
            // Left marked running: the next start's recovery requeues it.
            tracing::warn!(
                job = id,
                stage = %r.stage,
                grace_seconds = STOP_GRACE.as_secs(),
                "stage did not stop in time; it resumes on the next start"
            );
        }
    }
    tracing::info!("job runner stopped");
    Ok(())
}

fn work(ctx: &Ctx, job: &Job, cancel: &Arc<AtomicBool>, stop: &AtomicBool) {
    let started = Instant::now();
    ctx.log(
        job.id,
        &format!("{} started (attempt {})", job.stage, job.attempts + 1),
    );
    let result = stages::run_stage(ctx, job, cancel);
    let secs = started.elapsed().as_secs_f64();
    let mut q = ctx.queue.lock().unwrap_or_else(|e| e.into_inner());
    // A stage that fails while the runner stops was interrupted (its process was
    // killed or got the same signal), unless the user cancelled the job meanwhile.
    let interrupted = result.is_err()
        && stop.load(Ordering::Relaxed)
        && !q
            .cancel_requests()
            .map(|ids| ids.contains(&job.id))
            .unwrap_or(false);
    let outcome = match result {
        Ok(next) => q.stage_done(job.id, &job.stage, next, secs).map(|_| None),
        Err(_) if interrupted => {
            tracing::info!(job = job.id, stage = %job.stage, "stage interrupted by the stop");
            q.interrupted(job.id, &job.stage, secs).map(|_| None)
        }
        Err(e) => {
            let attempts = job.attempts + 1;
            let retry =
                (e.is_transient() && attempts < ctx.settings.max_attempts as i64).then(|| {
                    ctx.settings
                        .retry_backoff_seconds
                        .saturating_mul(1 << (attempts - 1).clamp(0, 16))
                });
            tracing::warn!(job = job.id, stage = %job.stage, error = %e, "stage failed");
            let final_failure = retry.is_none() && !matches!(e, JobError::Cancelled);
            q.stage_failed(job.id, &job.stage, &e.to_string(), retry, secs)
                .map(|_| final_failure.then(|| e.to_string()))
        }
    };
    drop(q);
    match outcome {
        Ok(Some(error)) => {
            let title = job.title.clone().unwrap_or_else(|| job.source.clone());
            stages::notify_all(ctx, job.id, &notify::Message {
                title: format!("Job {} failed: {title}", job.id),
                body: format!("{} stage: {error}. The source is kept; fix and run `pvelxc-agent jobs retry {}`.", job.stage, job.id),
                kind: notify::Kind::Failure,
            });
        }
        Ok(None) => {}
        Err(e) => tracing::error!(job = job.id, error = %e, "cannot record the stage result"),
    }
}
