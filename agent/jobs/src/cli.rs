//! Command-line entry point, called by the `pvelxc-agent` binary as
//! `pvelxc-agent jobs [--config FILE] COMMAND ...`.

use crate::config;
use crate::db::{state, Job, Queue};
use crate::error::JobError;
use crate::naming::MediaName;
use crate::watch::new_file_job;
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "usage: pvelxc-agent jobs [--config FILE] COMMAND
commands:
  daemon                         run the job runner (systemd unit)
  add FILE [--title T] [--year Y] [--season S --episode E] [--extra FOLDER]
           [--profile NAME] [--priority N]
                                 queue a file (re-adding the same file is a no-op)
  list [--state STATE] [--json]  list jobs
  status [ID]                    queue summary, or one job, as JSON
  watch [ID]                     live progress (bars on a terminal, JSON lines otherwise)
  cancel ID                      cancel a queued or running job
  retry ID                       re-queue a failed or cancelled job at its stage
  logs ID                        a job's log
settings: --config, else $PVELXC_JOBS_CONFIG, else /etc/pvelxc/jobs.json";

/// A usage mistake: message plus exit code 2.
struct Usage(String);

enum Failure {
    Usage(Usage),
    Job(JobError),
}

impl From<JobError> for Failure {
    fn from(e: JobError) -> Self {
        Failure::Job(e)
    }
}

impl From<Usage> for Failure {
    fn from(u: Usage) -> Self {
        Failure::Usage(u)
    }
}

/// Runs the command line given in `args` (including the program name and `jobs`).
pub fn run(args: Vec<OsString>) -> ExitCode {
    let mut rest: Vec<String> = Vec::new();
    for a in args.into_iter().skip(2) {
        match a.into_string() {
            Ok(s) => rest.push(s),
            Err(a) => {
                eprintln!("pvelxc-agent jobs: argument {a:?} is not valid UTF-8");
                return ExitCode::from(2);
            }
        }
    }
    match dispatch(rest) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(Usage(m))) => {
            eprintln!("pvelxc-agent jobs: {m}\n{USAGE}");
            ExitCode::from(2)
        }
        Err(Failure::Job(e)) => {
            eprintln!("pvelxc-agent jobs: {e}");
            ExitCode::from(1)
        }
    }
}

/// Splits `--flag value` options from positional arguments.
struct Args {
    positional: Vec<String>,
    options: Vec<(String, Option<String>)>,
}

const VALUE_FLAGS: &[&str] = &[
    "--config",
    "--title",
    "--year",
    "--season",
    "--episode",
    "--extra",
    "--profile",
    "--priority",
    "--state",
];
const BOOL_FLAGS: &[&str] = &["--json", "--help", "-h"];

fn parse(args: Vec<String>) -> Result<Args, Usage> {
    let mut positional = Vec::new();
    let mut options = Vec::new();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        if let Some((k, v)) = a.split_once('=').filter(|(k, _)| VALUE_FLAGS.contains(k)) {
            options.push((k.to_string(), Some(v.to_string())));
        } else if VALUE_FLAGS.contains(&a.as_str()) {
            let v = it
                .next()
                .ok_or_else(|| Usage(format!("{a} needs a value")))?;
            options.push((a, Some(v)));
        } else if BOOL_FLAGS.contains(&a.as_str()) {
            options.push((a, None));
        } else if a.starts_with("--") {
            return Err(Usage(format!("unknown option {a}")));
        } else {
            positional.push(a);
        }
    }
    Ok(Args {
        positional,
        options,
    })
}

impl Args {
    fn get(&self, k: &str) -> Option<&str> {
        self.options
            .iter()
            .rev()
            .find(|(n, _)| n == k)
            .and_then(|(_, v)| v.as_deref())
    }
    fn has(&self, k: &str) -> bool {
        self.options.iter().any(|(n, _)| n == k)
    }
    fn int(&self, k: &str) -> Result<Option<i64>, Usage> {
        self.get(k)
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| Usage(format!("{k} must be a whole number, got {v:?}")))
            })
            .transpose()
    }
    fn id(&self) -> Result<i64, Usage> {
        let v = self
            .positional
            .get(1)
            .ok_or_else(|| Usage("a job ID is required".into()))?;
        v.parse()
            .map_err(|_| Usage(format!("job ID must be a number, got {v:?}")))
    }
}

fn init_logging() {
    // journald timestamps lines itself and shows no colours.
    let journald = std::env::var_os("JOURNAL_STREAM").is_some();
    let level = std::env::var("PVELXC_LOG")
        .ok()
        .and_then(|v| v.parse::<tracing_subscriber::filter::LevelFilter>().ok())
        .unwrap_or(tracing_subscriber::filter::LevelFilter::INFO);
    let b = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = if journald {
        b.without_time().try_init()
    } else {
        b.try_init()
    };
}

fn dispatch(args: Vec<String>) -> Result<(), Failure> {
    let a = parse(args)?;
    if a.has("--help") || a.has("-h") || a.positional.is_empty() {
        println!("{USAGE}");
        return Ok(());
    }
    let cfg_path = config::resolve_path(a.get("--config").map(PathBuf::from));
    let settings = config::load(&cfg_path)?;
    let cmd = a.positional[0].as_str();
    if cmd == "daemon" {
        init_logging();
        return Ok(crate::daemon::run(settings)?);
    }
    std::fs::create_dir_all(&settings.state_dir)
        .map_err(|e| JobError::io(format!("create {}", settings.state_dir.display()), e))?;
    let mut q = Queue::open(&config::db_path(&settings))?;
    match cmd {
        "add" => {
            let file = a
                .positional
                .get(1)
                .ok_or_else(|| Usage("add needs a FILE".into()))?;
            let profile = a
                .get("--profile")
                .unwrap_or(&settings.default_profile)
                .to_string();
            config::profile(&settings, &profile).map_err(|m| Usage(format!("--profile: {m}")))?;
            let name = match a.get("--title") {
                Some(t) => Some(MediaName {
                    title: t.to_string(),
                    year: a.int("--year")?,
                    season: a.int("--season")?,
                    episode: a.int("--episode")?,
                    extra: a.get("--extra").map(str::to_string),
                }),
                None if a.has("--year")
                    || a.has("--season")
                    || a.has("--episode")
                    || a.has("--extra") =>
                {
                    return Err(
                        Usage("--year/--season/--episode/--extra need --title".into()).into(),
                    )
                }
                None => None,
            };
            if let Some(n) = &name {
                crate::naming::library_path(n, "extra").map_err(Usage)?;
            }
            let path = PathBuf::from(file);
            if !path.is_file() {
                return Err(Usage(format!("{file} is not a readable file")).into());
            }
            let job = new_file_job(&path, name, &profile, a.int("--priority")?.unwrap_or(0))
                .map_err(|e| JobError::io(format!("read {file}"), e))?;
            let (id, created) = q.add(&job)?;
            let note = if created { "queued" } else { "already queued" };
            println!(
                "{}",
                serde_json::json!({"id": id, "created": created, "note": note})
            );
        }
        "list" => {
            let st = a.get("--state");
            if let Some(s) = st {
                if !state::ALL.contains(&s) {
                    return Err(
                        Usage(format!("--state must be one of {}", state::ALL.join(", "))).into(),
                    );
                }
            }
            let jobs = q.list(st)?;
            if a.has("--json") || !std::io::stdout().is_terminal() {
                println!("{}", serde_json::to_string(&jobs).unwrap_or_default());
            } else {
                println!(
                    "{:>5} {:<9} {:<9} {:>5}  TITLE / SOURCE",
                    "ID", "STATE", "STAGE", "DONE"
                );
                for j in &jobs {
                    println!(
                        "{:>5} {:<9} {:<9} {:>4.0}%  {}",
                        j.id,
                        j.state,
                        j.stage,
                        j.progress * 100.0,
                        label(j)
                    );
                }
            }
        }
        "status" => {
            let v = match a.positional.get(1) {
                Some(_) => {
                    let id = a.id()?;
                    let job = q.get(id)?.ok_or_else(|| Usage(format!("no job {id}")))?;
                    serde_json::to_value(job).unwrap_or_default()
                }
                None => crate::status::status_json(&q)?,
            };
            println!("{v}");
        }
        "cancel" => {
            let id = a.id()?;
            let st = q.cancel(id)?.ok_or_else(|| Usage(format!("no job {id}")))?;
            println!("{}", serde_json::json!({"id": id, "state": st}));
        }
        "retry" => {
            let id = a.id()?;
            let st = q.retry(id)?.ok_or_else(|| Usage(format!("no job {id}")))?;
            println!("{}", serde_json::json!({"id": id, "state": st}));
        }
        "logs" => {
            let id = a.id()?;
            q.get(id)?.ok_or_else(|| Usage(format!("no job {id}")))?;
            for (at, line) in q.logs(id)? {
                println!("{at} {line}");
            }
        }
        "watch" => {
            let id = a.positional.get(1).map(|_| a.id()).transpose()?;
            if let Some(id) = id {
                q.get(id)?.ok_or_else(|| Usage(format!("no job {id}")))?;
            }
            watch(&q, id)?
        }
        other => return Err(Usage(format!("unknown command {other:?}")).into()),
    }
    Ok(())
}

fn label(j: &Job) -> String {
    let t = j.title.clone().unwrap_or_else(|| j.source.clone());
    match &j.error {
        Some(e) if j.state == state::FAILED => format!("{t}  ({e})"),
        _ => t,
    }
}

fn bar(f: f64) -> String {
    let n = (f.clamp(0.0, 1.0) * 30.0).round() as usize;
    format!("[{}{}]", "#".repeat(n), "-".repeat(30 - n))
}

/// Follows the queue: redraws bars on a terminal, prints one JSON line per
/// change otherwise. Ends when the watched job (or every job) is finished.
fn watch(q: &Queue, id: Option<i64>) -> Result<(), JobError> {
    let tty = std::io::stdout().is_terminal();
    let mut last = String::new();
    let mut drawn = 0usize;
    loop {
        let jobs: Vec<Job> = match id {
            Some(id) => q.get(id)?.into_iter().collect(),
            None => q
                .list(None)?
                .into_iter()
                .filter(|j| j.state == state::RUNNING || j.state == state::QUEUED)
                .collect(),
        };
        let snapshot = serde_json::to_string(&jobs).unwrap_or_default();
        if snapshot != last {
            let mut out = std::io::stdout().lock();
            if tty {
                if drawn > 0 {
                    let _ = write!(out, "\x1b[{drawn}A\x1b[J");
                }
                for j in &jobs {
                    let _ = writeln!(
                        out,
                        "{:>5} {:<9} {:<9} {} {:>5.1}% {:>6.1} fps  {}",
                        j.id,
                        j.state,
                        j.stage,
                        bar(j.progress),
                        j.progress * 100.0,
                        j.fps,
                        label(j)
                    );
                }
                drawn = jobs.len();
            } else {
                for j in &jobs {
                    let _ = writeln!(out, "{}", serde_json::to_string(j).unwrap_or_default());
                }
            }
            let _ = out.flush();
            last = snapshot;
        }
        let active = jobs
            .iter()
            .any(|j| j.state == state::RUNNING || j.state == state::QUEUED);
        if !active {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}
