//! The persistent job queue (SQLite in WAL mode).
//!
//! The daemon keeps one connection and is the only long-lived writer. CLI commands
//! open their own connection and write in short `BEGIN IMMEDIATE` transactions:
//! taking the write lock up front means SQLite's busy handler (a generous
//! `busy_timeout`) waits for the lock instead of failing a lock upgrade with
//! "database is locked", which is what bites runners that use deferred transactions.

use crate::error::Result;
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use serde::Serialize;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a writer waits for the lock before giving up. Stages hold it for
/// milliseconds, so reaching this means something is badly wrong.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// Stages in order. A job's `stage` is the next stage to run (or the one running).
pub mod stage {
    pub const RIP: &str = "rip";
    pub const TRANSCODE: &str = "transcode";
    pub const VERIFY: &str = "verify";
    pub const PUBLISH: &str = "publish";
    pub const FINISH: &str = "finish";
    pub const DONE: &str = "done";
}

/// Job states.
pub mod state {
    pub const QUEUED: &str = "queued";
    pub const RUNNING: &str = "running";
    pub const DONE: &str = "done";
    pub const FAILED: &str = "failed";
    pub const CANCELLED: &str = "cancelled";
    pub const ALL: [&str; 5] = [QUEUED, RUNNING, DONE, FAILED, CANCELLED];
}

/// What a job works on.
pub mod kind {
    /// A file from staging or `jobs add`.
    pub const FILE: &str = "file";
    /// A disc in a drive.
    pub const DISC: &str = "disc";
}

/// A job as stored.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub source: String,
    pub title: Option<String>,
    pub year: Option<i64>,
    pub season: Option<i64>,
    pub episode: Option<i64>,
    pub extra: Option<String>,
    pub profile: String,
    pub priority: i64,
    pub state: String,
    pub stage: String,
    pub attempts: i64,
    pub not_before: i64,
    pub error: Option<String>,
    pub progress: f64,
    pub fps: f64,
    pub ripped: Option<String>,
    pub encoded: Option<String>,
    pub published: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A job to add.
#[derive(Debug, Clone, Default)]
pub struct NewJob {
    pub kind: String,
    pub source: String,
    /// Identity of the source: the same key twice is the same job.
    pub source_key: String,
    pub title: Option<String>,
    pub year: Option<i64>,
    pub season: Option<i64>,
    pub episode: Option<i64>,
    pub extra: Option<String>,
    pub profile: String,
    pub priority: i64,
    pub first_stage: String,
}

/// One finished stage run, for the metrics.
#[derive(Debug, Clone, Serialize)]
pub struct StageStat {
    pub stage: String,
    pub runs: i64,
    pub seconds: f64,
}

const COLUMNS: &str = "id, kind, source, title, year, season, episode, extra, profile, priority, state, stage, attempts, not_before, error, progress, fps, ripped, encoded, published, created_at, updated_at";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    source_key TEXT NOT NULL UNIQUE,
    title TEXT, year INTEGER, season INTEGER, episode INTEGER, extra TEXT,
    profile TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    stage TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    progress REAL NOT NULL DEFAULT 0,
    fps REAL NOT NULL DEFAULT 0,
    ripped TEXT, encoded TEXT, published TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_pick ON jobs (state, priority DESC, id);
CREATE TABLE IF NOT EXISTS job_log (
    id INTEGER PRIMARY KEY,
    job_id INTEGER NOT NULL,
    at INTEGER NOT NULL,
    line TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS job_log_job ON job_log (job_id, id);
CREATE TABLE IF NOT EXISTS stage_runs (
    job_id INTEGER NOT NULL,
    stage TEXT NOT NULL,
    seconds REAL NOT NULL,
    ok INTEGER NOT NULL,
    at INTEGER NOT NULL
);
";

/// Seconds since the epoch.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn row_to_job(r: &Row<'_>) -> rusqlite::Result<Job> {
    Ok(Job {
        id: r.get(0)?,
        kind: r.get(1)?,
        source: r.get(2)?,
        title: r.get(3)?,
        year: r.get(4)?,
        season: r.get(5)?,
        episode: r.get(6)?,
        extra: r.get(7)?,
        profile: r.get(8)?,
        priority: r.get(9)?,
        state: r.get(10)?,
        stage: r.get(11)?,
        attempts: r.get(12)?,
        not_before: r.get(13)?,
        error: r.get(14)?,
        progress: r.get(15)?,
        fps: r.get(16)?,
        ripped: r.get(17)?,
        encoded: r.get(18)?,
        published: r.get(19)?,
        created_at: r.get(20)?,
        updated_at: r.get(21)?,
    })
}

/// A connection to the queue.
pub struct Queue {
    conn: Connection,
}

/// Puts the database in WAL mode, waiting out a concurrent opener.
///
/// Switching a fresh database to WAL needs an exclusive lock. When the daemon and a CLI
/// call open a new queue at the same moment, both hold a shared lock and want it, and
/// SQLite answers one of them SQLITE_BUSY at once instead of calling the busy handler
/// (waiting could deadlock). The switch is idempotent, so it is retried until the other
/// side is done, within the same bound as every other lock wait.
fn switch_to_wal(conn: &Connection) -> rusqlite::Result<()> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    let mut pause = Duration::from_millis(5);
    loop {
        match conn.pragma_update(None, "journal_mode", "WAL") {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(200));
            }
            other => return other,
        }
    }
}

impl Queue {
    /// Opens (and creates if needed) the queue at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // WAL lets readers (list/status/watch) run while a writer commits.
        switch_to_wal(&conn)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let mut q = Self { conn };
        q.write(|tx| tx.execute_batch(SCHEMA))?;
        Ok(q)
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction.
    fn write<T>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Adds a job unless one with the same source key exists. Returns the job id
    /// and whether it was newly created.
    pub fn add(&mut self, j: &NewJob) -> Result<(i64, bool)> {
        let t = now();
        self.write(|tx| {
            let n = tx.execute(
                "INSERT INTO jobs (kind, source, source_key, title, year, season, episode, extra, profile, priority, state, stage, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'queued', ?11, ?12, ?12)
                 ON CONFLICT (source_key) DO NOTHING",
                params![j.kind, j.source, j.source_key, j.title, j.year, j.season, j.episode, j.extra, j.profile, j.priority, j.first_stage, t],
            )?;
            let id: i64 = tx.query_row(
                "SELECT id FROM jobs WHERE source_key = ?1",
                params![j.source_key],
                |r| r.get(0),
            )?;
            if n == 1 {
                tx.execute(
                    "INSERT INTO job_log (job_id, at, line) VALUES (?1, ?2, ?3)",
                    params![id, t, format!("added {} {}", j.kind, j.source)],
                )?;
            }
            Ok((id, n == 1))
        })
    }

    /// One job.
    pub fn get(&self, id: i64) -> Result<Option<Job>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM jobs WHERE id = ?1"),
                params![id],
                row_to_job,
            )
            .optional()?)
    }

    /// Jobs, newest first, optionally only those in `state`.
    pub fn list(&self, state: Option<&str>) -> Result<Vec<Job>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM jobs WHERE (?1 IS NULL OR state = ?1) ORDER BY id DESC"
        ))?;
        let rows = stmt.query_map(params![state], row_to_job)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Requests cancellation: queued jobs stop at once, running ones when the
    /// daemon sees the flag. Returns the new state, or `None` if there is no such job.
    pub fn cancel(&mut self, id: i64) -> Result<Option<String>> {
        let t = now();
        self.write(|tx| {
            let st: Option<String> = tx
                .query_row("SELECT state FROM jobs WHERE id = ?1", params![id], |r| {
                    r.get(0)
                })
                .optional()?;
            let Some(st) = st else { return Ok(None) };
            let new = match st.as_str() {
                state::QUEUED => {
                    tx.execute(
                        "UPDATE jobs SET state = 'cancelled', updated_at = ?2 WHERE id = ?1",
                        params![id, t],
                    )?;
                    state::CANCELLED.to_string()
                }
                state::RUNNING => {
                    tx.execute(
                        "UPDATE jobs SET cancel_requested = 1, updated_at = ?2 WHERE id = ?1",
                        params![id, t],
                    )?;
                    "cancelling".to_string()
                }
                other => other.to_string(),
            };
            tx.execute(
                "INSERT INTO job_log (job_id, at, line) VALUES (?1, ?2, 'cancel requested')",
                params![id, t],
            )?;
            Ok(Some(new))
        })
    }

    /// Puts a failed or cancelled job back in the queue at the stage it stopped in
    /// (a failed verify goes back to transcode: checking the same output again
    /// would fail again).
    /// Returns the state after the call, or `None` if there is no such job.
    pub fn retry(&mut self, id: i64) -> Result<Option<String>> {
        let t = now();
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE jobs SET state = 'queued', attempts = 0, not_before = 0, error = NULL, cancel_requested = 0, updated_at = ?2,
                     stage = CASE WHEN stage = 'verify' THEN 'transcode' ELSE stage END
                 WHERE id = ?1 AND state IN ('failed', 'cancelled')",
                params![id, t],
            )?;
            if n == 1 {
                tx.execute(
                    "INSERT INTO job_log (job_id, at, line) VALUES (?1, ?2, 'retry requested')",
                    params![id, t],
                )?;
            }
            tx.query_row("SELECT state FROM jobs WHERE id = ?1", params![id], |r| r.get(0))
                .optional()
        })
    }

    /// Log lines of a job, oldest first, as (unix time, line).
    pub fn logs(&self, id: i64) -> Result<Vec<(i64, String)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT at, line FROM job_log WHERE job_id = ?1 ORDER BY id")?;
        let rows = stmt.query_map(params![id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Appends a log line to a job.
    pub fn log(&mut self, id: i64, line: &str) -> Result<()> {
        let t = now();
        self.write(|tx| {
            tx.execute(
                "INSERT INTO job_log (job_id, at, line) VALUES (?1, ?2, ?3)",
                params![id, t, line],
            )
            .map(|_| ())
        })
    }

    /// A stage stopped by the daemon shutting down goes back to the queue at the
    /// same stage, as crash recovery would put it. The attempt is handed back: an
    /// operator stopping the service is not a failure of the job.
    pub fn interrupted(&mut self, id: i64, stage: &str, seconds: f64) -> Result<()> {
        let t = now();
        self.write(|tx| {
            tx.execute(
                "UPDATE jobs SET state = 'queued', progress = 0, fps = 0, attempts = MAX(attempts - 1, 0), updated_at = ?2 WHERE id = ?1 AND state = 'running'",
                params![id, t],
            )?;
            tx.execute(
                "INSERT INTO job_log (job_id, at, line) VALUES (?1, ?2, ?3)",
                params![
                    id,
                    t,
                    format!("{stage} interrupted after {seconds:.1}s by the runner stopping; it resumes at {stage} on the next start")
                ],
            )
            .map(|_| ())
        })
    }

    /// After a crash, jobs marked running were interrupted: they go back to the
    /// queue at the stage they were in (stages clean their own partial output).
    pub fn recover(&mut self) -> Result<usize> {
        let t = now();
        self.write(|tx| {
            let cancelled = tx.execute(
                "UPDATE jobs SET state = 'cancelled', cancel_requested = 0, updated_at = ?1 WHERE state = 'running' AND cancel_requested = 1",
                params![t],
            )?;
            let n = tx.execute(
                "UPDATE jobs SET state = 'queued', progress = 0, fps = 0, updated_at = ?1 WHERE state = 'running'",
                params![t],
            )?;
            Ok(n + cancelled)
        })
    }

    /// Queued jobs whose backoff has passed, best first (priority, then age).
    pub fn runnable(&self) -> Result<Vec<Job>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM jobs WHERE state = 'queued' AND not_before <= ?1 ORDER BY priority DESC, id"
        ))?;
        let rows = stmt.query_map(params![now()], row_to_job)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Marks a queued job running; false if someone changed it meanwhile (cancel).
    pub fn claim(&mut self, id: i64) -> Result<bool> {
        let t = now();
        self.write(|tx| {
            tx.execute(
                "UPDATE jobs SET state = 'running', attempts = attempts + 1, updated_at = ?2 WHERE id = ?1 AND state = 'queued'",
                params![id, t],
            )
            .map(|n| n == 1)
        })
    }

    /// Ids of running jobs with a pending cancel request.
    pub fn cancel_requests(&self) -> Result<Vec<i64>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id FROM jobs WHERE state = 'running' AND cancel_requested = 1")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Progress of the running stage (0..1) and the encoder's frames per second.
    pub fn set_progress(&mut self, id: i64, progress: f64, fps: f64) -> Result<()> {
        let t = now();
        self.write(|tx| {
            tx.execute(
                "UPDATE jobs SET progress = ?2, fps = ?3, updated_at = ?4 WHERE id = ?1",
                params![id, progress, fps, t],
            )
            .map(|_| ())
        })
    }

    /// Records an output path of a stage (`ripped`, `encoded` or `published`).
    pub fn set_path(&mut self, id: i64, column: PathColumn, path: Option<&str>) -> Result<()> {
        let t = now();
        let sql = format!(
            "UPDATE jobs SET {} = ?2, updated_at = ?3 WHERE id = ?1",
            column.name()
        );
        self.write(|tx| tx.execute(&sql, params![id, path, t]).map(|_| ()))
    }

    /// Sets the title of a disc job once the disc has been read.
    pub fn set_title(&mut self, id: i64, title: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE jobs SET title = ?2 WHERE id = ?1 AND title IS NULL",
                params![id, title],
            )
            .map(|_| ())
        })
    }

    /// A stage succeeded: the job waits for the next stage (or is done).
    pub fn stage_done(&mut self, id: i64, stage: &str, next: &str, seconds: f64) -> Result<()> {
        let t = now();
        let st = if next == stage::DONE {
            state::DONE
        } else {
            state::QUEUED
        };
        self.write(|tx| {
            tx.execute(
                "UPDATE jobs SET state = ?2, stage = ?3, attempts = 0, progress = 0, error = NULL, updated_at = ?4 WHERE id = ?1",
                params![id, st, next, t],
            )?;
            tx.execute(
                "INSERT INTO stage_runs (job_id, stage, seconds, ok, at) VALUES (?1, ?2, ?3, 1, ?4)",
                params![id, stage, seconds, t],
            )?;
            tx.execute(
                "INSERT INTO job_log (job_id, at, line) VALUES (?1, ?2, ?3)",
                params![id, t, format!("{stage} done in {seconds:.2}s")],
            )
            .map(|_| ())
        })
    }

    /// A stage failed. Transient errors are retried after `backoff` until
    /// `max_attempts`; everything else fails the job with the reason.
    pub fn stage_failed(
        &mut self,
        id: i64,
        stage: &str,
        error: &str,
        retry_after: Option<u64>,
        seconds: f64,
    ) -> Result<String> {
        let t = now();
        self.write(|tx| {
            let new_state = match retry_after {
                Some(delay) => {
                    tx.execute(
                        "UPDATE jobs SET state = 'queued', not_before = ?2, error = ?3, progress = 0, updated_at = ?4 WHERE id = ?1",
                        params![id, t + delay as i64, error, t],
                    )?;
                    state::QUEUED
                }
                None => {
                    let cancelled = error == "cancelled";
                    let st = if cancelled { state::CANCELLED } else { state::FAILED };
                    tx.execute(
                        "UPDATE jobs SET state = ?2, error = ?3, cancel_requested = 0, updated_at = ?4 WHERE id = ?1",
                        params![id, st, error, t],
                    )?;
                    st
                }
            };
            tx.execute(
                "INSERT INTO stage_runs (job_id, stage, seconds, ok, at) VALUES (?1, ?2, ?3, 0, ?4)",
                params![id, stage, seconds, t],
            )?;
            let line = match retry_after {
                Some(d) => format!("{stage} failed, retry in {d}s: {error}"),
                None => format!("{stage} failed: {error}"),
            };
            tx.execute(
                "INSERT INTO job_log (job_id, at, line) VALUES (?1, ?2, ?3)",
                params![id, t, line],
            )?;
            Ok(new_state.to_string())
        })
    }

    /// Number of jobs per state, every state listed.
    pub fn counts(&self) -> Result<Vec<(String, i64)>> {
        let mut out = Vec::new();
        for st in state::ALL {
            let n: i64 = self.conn.query_row(
                "SELECT COUNT(*) FROM jobs WHERE state = ?1",
                params![st],
                |r| r.get(0),
            )?;
            out.push((st.to_string(), n));
        }
        Ok(out)
    }

    /// Successful stage runs and their total duration, per stage.
    pub fn stage_stats(&self) -> Result<Vec<StageStat>> {
        let mut stmt = self.conn.prepare(
            "SELECT stage, COUNT(*), SUM(seconds) FROM stage_runs WHERE ok = 1 GROUP BY stage ORDER BY stage",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(StageStat {
                stage: r.get(0)?,
                runs: r.get(1)?,
                seconds: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Whether a job with this source key exists (any state).
    pub fn has_source_key(&self, key: &str) -> Result<bool> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM jobs WHERE source_key = ?1",
                params![key],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }
}

/// Columns holding a stage's output path.
#[derive(Debug, Clone, Copy)]
pub enum PathColumn {
    Ripped,
    Encoded,
    Published,
}

impl PathColumn {
    fn name(self) -> &'static str {
        match self {
            PathColumn::Ripped => "ripped",
            PathColumn::Encoded => "encoded",
            PathColumn::Published => "published",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(key: &str) -> NewJob {
        NewJob {
            kind: kind::FILE.into(),
            source: format!("/s/{key}"),
            source_key: key.into(),
            profile: "runbook".into(),
            first_stage: stage::TRANSCODE.into(),
            ..Default::default()
        }
    }

    #[test]
    fn re_adding_is_idempotent_and_priorities_order_the_queue() {
        let dir = tempfile::tempdir().unwrap();
        let mut q = Queue::open(&dir.path().join("q.sqlite")).unwrap();
        let (a, new_a) = q.add(&job("a")).unwrap();
        let (a2, new_a2) = q.add(&job("a")).unwrap();
        assert_eq!((a, new_a, new_a2), (a2, true, false));
        let (b, _) = q
            .add(&NewJob {
                priority: 5,
                ..job("b")
            })
            .unwrap();
        let order: Vec<i64> = q.runnable().unwrap().iter().map(|j| j.id).collect();
        assert_eq!(order, vec![b, a]);
    }

    #[test]
    fn crash_recovery_and_retry_semantics() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.sqlite");
        let mut q = Queue::open(&path).unwrap();
        let (id, _) = q.add(&job("a")).unwrap();
        assert!(q.claim(id).unwrap());
        assert!(
            !q.claim(id).unwrap(),
            "a running job cannot be claimed twice"
        );
        drop(q);
        let mut q = Queue::open(&path).unwrap();
        assert_eq!(q.recover().unwrap(), 1);
        let j = q.get(id).unwrap().unwrap();
        assert_eq!(
            (j.state.as_str(), j.stage.as_str()),
            (state::QUEUED, stage::TRANSCODE)
        );
        assert!(q.claim(id).unwrap());
        q.stage_done(id, stage::TRANSCODE, stage::VERIFY, 1.0)
            .unwrap();
        assert!(q.claim(id).unwrap());
        q.stage_failed(id, stage::VERIFY, "verify failed: short", None, 0.1)
            .unwrap();
        assert_eq!(q.get(id).unwrap().unwrap().state, state::FAILED);
        assert_eq!(q.retry(id).unwrap().as_deref(), Some(state::QUEUED));
        assert_eq!(
            q.get(id).unwrap().unwrap().stage,
            stage::TRANSCODE,
            "a failed verify re-encodes"
        );
        assert_eq!(q.retry(9999).unwrap(), None);
    }

    #[test]
    fn transient_failures_wait_for_their_backoff() {
        let dir = tempfile::tempdir().unwrap();
        let mut q = Queue::open(&dir.path().join("q.sqlite")).unwrap();
        let (id, _) = q.add(&job("a")).unwrap();
        assert!(q.claim(id).unwrap());
        q.stage_failed(id, stage::TRANSCODE, "ffmpeg failed", Some(3600), 0.1)
            .unwrap();
        assert!(q.runnable().unwrap().is_empty(), "not before the backoff");
        assert_eq!(q.get(id).unwrap().unwrap().state, state::QUEUED);
    }
}
