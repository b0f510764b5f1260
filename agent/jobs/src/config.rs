//! Loading and validating the job runner settings file.
//!
//! The converge engine writes the `jobs` part of the agent spec as JSON to
//! [`DEFAULT_PATH`]; every user-caused problem is reported here, before the daemon
//! touches a file, naming the attribute and the fix.

use crate::error::{JobError, Result};
use pvelxc_spec::jobs::{JobsSettings, TranscodeProfile};
use std::path::{Path, PathBuf};

/// Where the settings live unless `--config` or `PVELXC_JOBS_CONFIG` says otherwise.
pub const DEFAULT_PATH: &str = "/etc/pvelxc/jobs.json";

/// Name of the built-in profile: the runbook's Phase 4 command.
pub const RUNBOOK_PROFILE: &str = JobsSettings::RUNBOOK_PROFILE;

/// Reads and validates the settings at `path`.
pub fn load(path: &Path) -> Result<JobsSettings> {
    let text = std::fs::read_to_string(path).map_err(|e| JobError::Config {
        path: path.to_path_buf(),
        message: format!("cannot read: {e}; write the jobs settings there or pass --config"),
    })?;
    let settings = parse(&text).map_err(|message| JobError::Config {
        path: path.to_path_buf(),
        message,
    })?;
    validate(&settings).map_err(|message| JobError::Config {
        path: path.to_path_buf(),
        message,
    })?;
    Ok(settings)
}

/// Parses either the bare settings or a whole agent spec (JSON) with a `jobs`
/// section, so the daemon can read the file the converge engine already writes.
pub fn parse(text: &str) -> std::result::Result<JobsSettings, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let (value, prefix) = match value.get("jobs") {
        Some(serde_json::Value::Null) => {
            return Err(
                "the agent spec has no `jobs` section; add one to run the job runner".into(),
            )
        }
        Some(jobs) => (jobs.clone(), "jobs."),
        None if value.get("items").is_some() => {
            return Err(
                "the agent spec has no `jobs` section; add one to run the job runner".into(),
            )
        }
        None => (value, ""),
    };
    serde_path_to_error::deserialize::<_, JobsSettings>(value).map_err(|e| {
        let at = e.path().to_string();
        format!("{prefix}{at}: {}", e.inner())
    })
}

/// Checks the settings: the spec's own rules, plus full parsing of every
/// notification URL.
pub fn validate(s: &JobsSettings) -> std::result::Result<(), String> {
    s.check()?;
    for url in &s.notify {
        crate::notify::Target::parse(url).map_err(|e| format!("jobs.notify: {e}"))?;
    }
    Ok(())
}

/// Looks up a profile by name; `runbook` is built in and may be overridden.
pub fn profile(s: &JobsSettings, name: &str) -> std::result::Result<TranscodeProfile, String> {
    if let Some(p) = s.profiles.get(name) {
        return Ok(p.clone());
    }
    if name == RUNBOOK_PROFILE {
        return Ok(TranscodeProfile::default());
    }
    let known: Vec<&str> = std::iter::once(RUNBOOK_PROFILE)
        .chain(s.profiles.keys().map(String::as_str))
        .collect();
    Err(format!(
        "unknown profile {name:?}; known profiles: {}",
        known.join(", ")
    ))
}

/// The settings path from `--config`, `PVELXC_JOBS_CONFIG`, or the default.
pub fn resolve_path(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| std::env::var_os("PVELXC_JOBS_CONFIG").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_PATH))
}

/// Path of the queue database.
pub fn db_path(s: &JobsSettings) -> PathBuf {
    s.state_dir.join("jobs.sqlite")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_settings_are_the_runbook_defaults() {
        let s = parse("{}").expect("defaults");
        assert_eq!(s.staging_dir, PathBuf::from("/mnt/storage/staging"));
        assert_eq!(s.media_user.uid, 1000);
        validate(&s).expect("valid");
        assert_eq!(
            profile(&s, "runbook").expect("built in"),
            TranscodeProfile::default()
        );
    }

    #[test]
    fn errors_name_the_attribute() {
        let e = parse(r#"{"verify": {"full_decod": true}}"#).unwrap_err();
        assert!(e.starts_with("verify") && e.contains("full_decod"), "{e}");
        let e = parse(r#"{"items": [], "jobs": {"nice": "x"}}"#).unwrap_err();
        assert!(e.starts_with("jobs.nice"), "{e}");
        let s = JobsSettings {
            notify: vec!["ntfy://host".into()],
            ..JobsSettings::default()
        };
        let e = validate(&s).unwrap_err();
        assert!(e.starts_with("jobs.notify") && e.contains("topic"), "{e}");
    }

    #[test]
    fn a_whole_agent_spec_is_accepted() {
        let s = parse(r#"{"items": [], "jobs": {"mode": "rip"}}"#).expect("spec");
        assert_eq!(s.mode, pvelxc_spec::jobs::JobMode::Rip);
        assert!(parse(r#"{"items": []}"#)
            .unwrap_err()
            .contains("no `jobs` section"));
    }
}
