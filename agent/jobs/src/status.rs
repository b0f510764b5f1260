//! The read-only status endpoint: `/status` (JSON) and `/metrics` (Prometheus:
//! jobs by state, stage durations, encode fps). It reads the queue through its own
//! WAL reader connection, so it never blocks the daemon's writer.

use crate::db::{state, Queue};
use crate::error::Result;
use std::fmt::Write;
use std::path::PathBuf;

/// JSON status: counts per state and the running and queued jobs.
pub fn status_json(q: &Queue) -> Result<serde_json::Value> {
    let counts: serde_json::Map<String, serde_json::Value> = q
        .counts()?
        .into_iter()
        .map(|(k, v)| (k, v.into()))
        .collect();
    let running = q.list(Some(state::RUNNING))?;
    let queued = q.list(Some(state::QUEUED))?;
    Ok(serde_json::json!({
        "jobs": counts,
        "running": running,
        "queued": queued,
        "stages": q.stage_stats()?,
        "render_nodes": crate::ffmpeg::hwaccel::render_nodes(),
    }))
}

/// Prometheus text exposition.
pub fn metrics(q: &Queue) -> Result<String> {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP pvelxc_jobs Jobs in the queue by state.\n# TYPE pvelxc_jobs gauge"
    );
    for (st, n) in q.counts()? {
        let _ = writeln!(out, "pvelxc_jobs{{state=\"{st}\"}} {n}");
    }
    let stats = q.stage_stats()?;
    let _ = writeln!(out, "# HELP pvelxc_jobs_stage_seconds_total Time spent in successful stage runs.\n# TYPE pvelxc_jobs_stage_seconds_total counter");
    for s in &stats {
        let _ = writeln!(
            out,
            "pvelxc_jobs_stage_seconds_total{{stage=\"{}\"}} {}",
            s.stage, s.seconds
        );
    }
    let _ = writeln!(out, "# HELP pvelxc_jobs_stage_runs_total Successful stage runs.\n# TYPE pvelxc_jobs_stage_runs_total counter");
    for s in &stats {
        let _ = writeln!(
            out,
            "pvelxc_jobs_stage_runs_total{{stage=\"{}\"}} {}",
            s.stage, s.runs
        );
    }
    let running = q.list(Some(state::RUNNING))?;
    let _ = writeln!(out, "# HELP pvelxc_jobs_encode_fps Frames per second of running encodes.\n# TYPE pvelxc_jobs_encode_fps gauge");
    for j in &running {
        let _ = writeln!(
            out,
            "pvelxc_jobs_encode_fps{{job=\"{}\",stage=\"{}\"}} {}",
            j.id, j.stage, j.fps
        );
    }
    let _ = writeln!(out, "# HELP pvelxc_jobs_progress Fraction done of the running stage.\n# TYPE pvelxc_jobs_progress gauge");
    for j in &running {
        let _ = writeln!(
            out,
            "pvelxc_jobs_progress{{job=\"{}\",stage=\"{}\"}} {}",
            j.id, j.stage, j.progress
        );
    }
    Ok(out)
}

/// Serves the endpoint until the process exits.
pub fn serve(server: tiny_http::Server, db: PathBuf) {
    let q = match Queue::open(&db) {
        Ok(q) => q,
        Err(e) => {
            tracing::error!(error = %e, "status endpoint cannot open the queue");
            return;
        }
    };
    for req in server.incoming_requests() {
        let path = req.url().split('?').next().unwrap_or("").to_string();
        let (code, ctype, body) = match path.as_str() {
            "/status" => match status_json(&q) {
                Ok(v) => (200, "application/json", v.to_string()),
                Err(e) => (500, "text/plain", e.to_string()),
            },
            "/metrics" => match metrics(&q) {
                Ok(m) => (200, "text/plain; version=0.0.4", m),
                Err(e) => (500, "text/plain", e.to_string()),
            },
            _ => (404, "text/plain", "try /status or /metrics\n".to_string()),
        };
        let header = tiny_http::Header::from_bytes(&b"Content-Type"[..], ctype.as_bytes());
        let mut resp = tiny_http::Response::from_string(body).with_status_code(code);
        if let Ok(h) = header {
            resp = resp.with_header(h);
        }
        let _ = req.respond(resp);
    }
}
