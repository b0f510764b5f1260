//! The stages of a job. Each stage is idempotent: it first removes whatever a
//! previous, interrupted run of the same stage left in the job's work folder, so
//! the queue can simply run it again after a crash or `kill -9`.

use crate::config;
use crate::db::{kind, stage, Job, PathColumn, Queue};
use crate::error::{JobError, Result};
use crate::ffmpeg::{args, hwaccel::EncoderCheck, probe, progress};
use crate::fsutil::{self, Owner};
use crate::naming::{self, MediaName};
use crate::notify;
use crate::privilege::Sandbox;
use crate::process;
use crate::rip::{self, RipContext};
use crate::verify;
use pvelxc_spec::jobs::{JobMode, JobsSettings, SourcePolicy};
use std::io::{Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Shared state of the daemon that stages use.
pub struct Ctx {
    pub settings: JobsSettings,
    /// The daemon's single writer connection.
    pub queue: Arc<Mutex<Queue>>,
    pub sandbox: Sandbox,
    pub owner: Owner,
    pub encoders: EncoderCheck,
}

impl Ctx {
    fn with_queue<T>(&self, f: impl FnOnce(&mut Queue) -> Result<T>) -> Result<T> {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut q)
    }

    /// Appends to the job's log and the daemon's log.
    pub fn log(&self, id: i64, line: &str) {
        tracing::info!(job = id, "{line}");
        if let Err(e) = self.with_queue(|q| q.log(id, line)) {
            tracing::warn!(job = id, error = %e, "cannot store job log line");
        }
    }

    /// Work folder of a job (scratch space, removed when the job finishes).
    pub fn work_dir(&self, id: i64) -> PathBuf {
        self.settings.work_dir.join(format!("job-{id}"))
    }

    fn fresh_dir(&self, dir: &Path) -> Result<()> {
        fsutil::remove_dir_if_exists(dir)?;
        self.owner.create_dirs(&self.settings.work_dir, dir)
    }
}

/// Rate-limits progress writes to the queue (one per second is plenty for
/// `watch` and keeps the writer free).
struct Throttle {
    last: Option<Instant>,
}

impl Throttle {
    fn due(&mut self) -> bool {
        let due = self
            .last
            .map(|t| t.elapsed() >= Duration::from_secs(1))
            .unwrap_or(true);
        if due {
            self.last = Some(Instant::now());
        }
        due
    }
}

/// Runs the job's current stage; returns the stage that comes next.
pub fn run_stage(ctx: &Ctx, job: &Job, cancel: &Arc<AtomicBool>) -> Result<&'static str> {
    match job.stage.as_str() {
        stage::RIP => rip_stage(ctx, job, cancel),
        stage::TRANSCODE => transcode(ctx, job, cancel),
        stage::VERIFY => verify_stage(ctx, job, cancel),
        stage::PUBLISH => publish(ctx, job),
        stage::FINISH => finish(ctx, job),
        other => Err(JobError::Input(format!(
            "job {} is in unknown stage {other:?}",
            job.id
        ))),
    }
}

fn device_size(path: &Path) -> u64 {
    std::fs::File::open(path)
        .and_then(|mut f| f.seek(SeekFrom::End(0)))
        .unwrap_or(0)
}

fn rip_stage(ctx: &Ctx, job: &Job, cancel: &Arc<AtomicBool>) -> Result<&'static str> {
    let s = &ctx.settings;
    let device = PathBuf::from(&job.source);
    let out = ctx.work_dir(job.id).join("rip");
    ctx.fresh_dir(&ctx.work_dir(job.id))?;
    ctx.owner.create_dirs(&s.work_dir, &out)?;
    fsutil::ensure_space(&s.work_dir, device_size(&device), s.reserve_free_bytes)?;
    let rctx = RipContext {
        tools: &s.tools,
        method: s.rip.method,
        min_title_seconds: s.rip.min_title_seconds,
        sandbox: &ctx.sandbox,
        cancel,
    };
    let mut throttle = Throttle { last: None };
    let id = job.id;
    let mut on_progress = |f: f64| {
        if throttle.due() {
            let _ = ctx.with_queue(|q| q.set_progress(id, f, 0.0));
        }
    };
    let ripped = rip::rip(&rctx, &device, &out, &mut on_progress)?;
    if job.title.is_none() {
        if let Some(name) = ripped
            .disc_name
            .as_deref()
            .map(naming::title_from_label)
            .filter(|t| !t.is_empty())
        {
            ctx.with_queue(|q| q.set_title(id, &name))?;
        }
    }
    let size = fsutil::file_size(&ripped.file)?;
    ctx.log(
        id,
        &format!("ripped {} ({size} bytes)", ripped.file.display()),
    );
    ctx.with_queue(|q| {
        q.set_path(
            id,
            PathColumn::Ripped,
            Some(&ripped.file.display().to_string()),
        )
    })?;
    Ok(if s.mode == JobMode::Rip {
        stage::PUBLISH
    } else {
        stage::TRANSCODE
    })
}

/// The file a job transcodes: its rip, or the staged source.
fn input_of(job: &Job) -> Result<PathBuf> {
    let p = PathBuf::from(job.ripped.as_deref().unwrap_or(&job.source));
    if !p.is_file() {
        return Err(JobError::Input(format!(
            "source {} is gone; put it back or `jobs add` it again",
            p.display()
        )));
    }
    Ok(p)
}

fn encoded_path(ctx: &Ctx, job: &Job) -> PathBuf {
    ctx.work_dir(job.id).join("encoded.mkv")
}

fn transcode(ctx: &Ctx, job: &Job, cancel: &Arc<AtomicBool>) -> Result<&'static str> {
    let s = &ctx.settings;
    let input = input_of(job)?;
    let src = probe::probe(&s.tools.ffprobe, &input)?;
    let maps = args::stream_maps(&s.languages, &src).map_err(JobError::Input)?;
    let profile = config::profile(s, &job.profile).map_err(JobError::Input)?;
    let work = ctx.work_dir(job.id);
    let output = encoded_path(ctx, job);
    if job.ripped.is_none() {
        ctx.fresh_dir(&work)?;
    } else {
        // Keep the rip; drop only a partial encode.
        fsutil::remove_if_exists(&output)?;
        ctx.owner.create_dirs(&s.work_dir, &work)?;
    }
    fsutil::ensure_space(
        &s.work_dir,
        fsutil::file_size(&input)?,
        s.reserve_free_bytes,
    )?;
    let (video, fallback) = ctx.encoders.choose(&s.tools.ffmpeg, &ctx.sandbox, &profile);
    if let Some(why) = fallback {
        ctx.log(
            job.id,
            &format!("hardware encoder unusable, using libx265: {why}"),
        );
    }
    let argv = args::transcode_args(&profile, &video, &maps, &input, &output);
    ctx.log(
        job.id,
        &format!("transcode {} with maps {}", input.display(), maps.join(" ")),
    );
    let mut cmd = Command::new(&s.tools.ffmpeg);
    cmd.args(&argv);
    let mut parser = progress::Parser::default();
    let mut throttle = Throttle { last: None };
    let id = job.id;
    let finished = process::run(cmd, &ctx.sandbox, cancel, |line| {
        if let Some(u) = parser.feed(line) {
            if throttle.due() || u.end {
                let f = progress::fraction(&u, src.duration);
                let _ = ctx.with_queue(|q| q.set_progress(id, f, u.fps));
            }
        }
    })?;
    if !finished.success {
        return Err(JobError::Tool {
            tool: "ffmpeg".into(),
            message: format!("exit {:?}: {}", finished.code, finished.stderr_text()),
        });
    }
    ctx.with_queue(|q| q.set_path(id, PathColumn::Encoded, Some(&output.display().to_string())))?;
    Ok(stage::VERIFY)
}

fn verify_stage(ctx: &Ctx, job: &Job, cancel: &Arc<AtomicBool>) -> Result<&'static str> {
    let s = &ctx.settings;
    let input = input_of(job)?;
    let output = encoded_path(ctx, job);
    if !output.is_file() {
        return Err(JobError::Verify(format!(
            "{} does not exist; `jobs retry` re-runs the transcode",
            output.display()
        )));
    }
    let src = probe::probe(&s.tools.ffprobe, &input)?;
    let out = probe::probe(&s.tools.ffprobe, &output)
        .map_err(|e| JobError::Verify(format!("output is unreadable: {e}")))?;
    verify::check(
        &s.verify,
        &s.languages,
        &src,
        fsutil::file_size(&input)?,
        &out,
        fsutil::file_size(&output)?,
    )
    .map_err(JobError::Verify)?;
    if s.verify.full_decode {
        verify::full_decode(&s.tools.ffmpeg, &ctx.sandbox, &output, cancel)?;
    }
    Ok(stage::PUBLISH)
}

/// Where a job's result goes and which file is copied there.
fn destination(ctx: &Ctx, job: &Job) -> Result<(PathBuf, PathBuf, PathBuf)> {
    let s = &ctx.settings;
    let stem = Path::new(&job.source)
        .file_stem()
        .map(|x| x.to_string_lossy().into_owned())
        .unwrap_or_default();
    if job.kind == kind::DISC && s.mode == JobMode::Rip {
        let ripped = PathBuf::from(job.ripped.as_deref().unwrap_or_default());
        let title = naming::clean(job.title.as_deref().unwrap_or(""));
        let title = if title.is_empty() {
            format!("disc-{}", job.id)
        } else {
            title
        };
        return Ok((
            s.staging_dir.clone(),
            s.staging_dir.join(format!("{title}.mkv")),
            ripped,
        ));
    }
    let name = MediaName {
        title: job.title.clone().unwrap_or_default(),
        year: job.year,
        season: job.season,
        episode: job.episode,
        extra: job.extra.clone(),
    };
    let rel = naming::library_path(&name, &stem).map_err(JobError::Input)?;
    Ok((
        s.library_dir.clone(),
        s.library_dir.join(rel),
        encoded_path(ctx, job),
    ))
}

fn publish(ctx: &Ctx, job: &Job) -> Result<&'static str> {
    let (root, dest, src) = destination(ctx, job)?;
    let dest_s = dest.display().to_string();
    let src_size = fsutil::file_size(&src)?;
    if dest.exists() {
        // A crash between the rename and the queue update: the file is ours.
        let ours = job.published.as_deref() == Some(dest_s.as_str())
            && fsutil::file_size(&dest)? == src_size;
        if ours {
            ctx.log(job.id, &format!("already published {dest_s}"));
            return Ok(stage::FINISH);
        }
        return Err(JobError::Input(format!(
            "{dest_s} already exists and is never overwritten; move it away (or set a different --title/--year) and `jobs retry {}`",
            job.id
        )));
    }
    ctx.with_queue(|q| q.set_path(job.id, PathColumn::Published, Some(&dest_s)))?;
    if let Some(parent) = dest.parent() {
        fsutil::ensure_space(&root, src_size, ctx.settings.reserve_free_bytes)?;
        ctx.owner.create_dirs(&root, parent)?;
    }
    fsutil::publish_copy(&src, &dest, job.id, &ctx.owner)?;
    ctx.log(job.id, &format!("published {dest_s}"));
    Ok(stage::FINISH)
}

fn finish(ctx: &Ctx, job: &Job) -> Result<&'static str> {
    let s = &ctx.settings;
    fsutil::remove_dir_if_exists(&ctx.work_dir(job.id))?;
    let source = Path::new(&job.source);
    if s.source_policy == SourcePolicy::Delete
        && job.kind == kind::FILE
        && source.starts_with(&s.staging_dir)
    {
        fsutil::remove_if_exists(source)?;
        ctx.log(job.id, &format!("deleted source {}", source.display()));
    }
    let published = job.published.clone().unwrap_or_default();
    let title = job
        .title
        .clone()
        .unwrap_or_else(|| format!("job {}", job.id));
    notify_all(
        ctx,
        job.id,
        &notify::Message {
            title: format!("Published {title}"),
            body: published.clone(),
            kind: notify::Kind::Success,
        },
    );
    if let (Some(j), false) = (&s.jellyfin, s.mode == JobMode::Rip) {
        let rel = Path::new(&published)
            .strip_prefix(&s.library_dir)
            .unwrap_or(Path::new(&published));
        let seen_as = j
            .library_path
            .as_deref()
            .unwrap_or(&s.library_dir)
            .join(rel);
        let req = notify::jellyfin_request(&j.url, &j.token, &seen_as.display().to_string());
        match notify::send(&req) {
            Ok(()) => ctx.log(job.id, "jellyfin scan requested"),
            Err(e) => ctx.log(
                job.id,
                &format!("jellyfin scan failed (library still updated): {e}"),
            ),
        }
    }
    Ok(stage::DONE)
}

/// Sends a message to every target; failures are logged, never fatal.
pub fn notify_all(ctx: &Ctx, id: i64, m: &notify::Message) {
    for url in &ctx.settings.notify {
        let result = notify::Target::parse(url).and_then(|t| notify::send(&t.request(m)));
        if let Err(e) = result {
            ctx.log(
                id,
                &format!("notification to {} failed: {e}", notify::redact(url)),
            );
        }
    }
}
