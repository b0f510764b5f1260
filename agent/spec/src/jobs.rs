//! Job runner settings: the part of the spec the media job runner reads.
//!
//! These types are plain data so the provider can fill them from Terraform and the
//! agent can read them from a JSON file. Every default matches the media-pipeline
//! runbook (staging under `/mnt/storage/staging`, library under `/mnt/storage/media`,
//! media user 1000:1000, the Phase 4 ffmpeg command as the default profile), so an
//! empty `{}` is the runbook's setup.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Which halves of the pipeline this container runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum JobMode {
    /// Rip discs into the staging folder for a transcoder elsewhere to pick up.
    Rip,
    /// Watch the staging folder, transcode and publish into the library.
    Transcode,
    /// Rip and transcode in one container.
    #[default]
    Both,
}

/// What happens to the staging source after a verified publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SourcePolicy {
    /// Leave the source in staging (the runbook keeps rips until checked by hand).
    #[default]
    Keep,
    /// Delete the source, only after the library file is published and synced.
    Delete,
}

/// How a disc is ripped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum RipMethod {
    /// MakeMKV when `makemkvcon` is installed, otherwise the libdvdread path (DVD only).
    #[default]
    Auto,
    /// `makemkvcon` in robot mode (DVD and Blu-ray).
    Makemkv,
    /// `dvdbackup` (libdvdread) plus an ffmpeg remux; DVD only, no MakeMKV needed.
    Dvdread,
}

/// The settings of `pvelxc-agent jobs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobsSettings {
    /// Whether this container rips, transcodes, or both.
    pub mode: JobMode,
    /// Folder the ripper writes to and the transcoder watches.
    pub staging_dir: PathBuf,
    /// Root of the Jellyfin library (`Movies/`, `TV/` are created below it).
    pub library_dir: PathBuf,
    /// Scratch space for rips and encodes in progress; never scanned by Jellyfin.
    pub work_dir: PathBuf,
    /// Where the queue database lives (SQLite, WAL).
    pub state_dir: PathBuf,
    /// Optical drives to poll for discs. Empty means no ripping.
    pub drives: Vec<DriveSettings>,
    /// Disc ripping options.
    pub rip: RipSettings,
    /// Name of the profile used for new jobs; must be a key of `profiles` or a built-in.
    pub default_profile: String,
    /// Extra transcode profiles by name (the built-in `runbook` is always available).
    pub profiles: BTreeMap<String, TranscodeProfile>,
    /// Which audio and subtitle languages to keep.
    pub languages: LanguageSettings,
    /// How many jobs run at once per stage.
    pub concurrency: ConcurrencySettings,
    /// Output checks before anything reaches the library.
    pub verify: VerifySettings,
    /// What to do with the staging source after publishing.
    pub source_policy: SourcePolicy,
    /// Seconds a staged file must stay unchanged before it is picked up.
    pub settle_seconds: u64,
    /// Attempts per job before it is marked failed (transient errors only).
    pub max_attempts: u32,
    /// First retry delay in seconds; doubles on each further attempt.
    pub retry_backoff_seconds: u64,
    /// Bytes that must stay free on every filesystem a stage writes to.
    pub reserve_free_bytes: u64,
    /// Where notifications go: `ntfy://`, `ntfys://`, `json://`, `jsons://`,
    /// `gotify://`, `gotifys://`, `discord://`, or plain `http(s)://` (JSON webhook).
    pub notify: Vec<String>,
    /// Jellyfin server to tell about new files.
    pub jellyfin: Option<JellyfinSettings>,
    /// Address of the status endpoint (`/status` JSON, `/metrics` Prometheus).
    /// Loopback by default; the endpoint is read-only.
    pub status_listen: String,
    /// The user that owns library files and runs every job process.
    pub media_user: MediaUser,
    /// `nice` level of job processes (0 to 19).
    pub nice: i32,
    /// `ionice` best-effort level of job processes (0 to 7).
    pub ionice_level: u8,
    /// Program paths, for hosts where they are not on `PATH`.
    pub tools: ToolPaths,
}

impl Default for JobsSettings {
    fn default() -> Self {
        Self {
            mode: JobMode::default(),
            staging_dir: PathBuf::from("/mnt/storage/staging"),
            library_dir: PathBuf::from("/mnt/storage/media"),
            work_dir: PathBuf::from("/mnt/storage/staging/.pvelxc-work"),
            state_dir: PathBuf::from("/var/lib/pvelxc-jobs"),
            drives: Vec::new(),
            rip: RipSettings::default(),
            default_profile: "runbook".to_string(),
            profiles: BTreeMap::new(),
            languages: LanguageSettings::default(),
            concurrency: ConcurrencySettings::default(),
            verify: VerifySettings::default(),
            source_policy: SourcePolicy::default(),
            settle_seconds: 30,
            max_attempts: 3,
            retry_backoff_seconds: 60,
            reserve_free_bytes: 1 << 30,
            notify: Vec::new(),
            jellyfin: None,
            status_listen: "127.0.0.1:9187".to_string(),
            media_user: MediaUser::default(),
            nice: 10,
            ionice_level: 7,
            tools: ToolPaths::default(),
        }
    }
}

/// URL schemes `notify` accepts.
pub const NOTIFY_SCHEMES: &[&str] = &[
    "ntfy", "ntfys", "json", "jsons", "http", "https", "gotify", "gotifys", "discord",
];

impl JobsSettings {
    /// Name of the built-in profile: the runbook's Phase 4 command.
    pub const RUNBOOK_PROFILE: &'static str = "runbook";

    /// Checks what the types cannot: absolute paths, a known default profile,
    /// language codes, ranges, and values that would end up in files or headers.
    /// The error names the attribute and the fix. Pure, so the provider can run
    /// it at plan time and the agent again before starting.
    pub fn check(&self) -> Result<(), String> {
        for (name, dir) in [
            ("staging_dir", &self.staging_dir),
            ("library_dir", &self.library_dir),
            ("work_dir", &self.work_dir),
            ("state_dir", &self.state_dir),
        ] {
            if !dir.is_absolute() {
                return Err(format!(
                    "jobs.{name} must be an absolute path, got {}",
                    dir.display()
                ));
            }
            if dir.as_os_str().to_string_lossy().contains(['\n', '\0']) {
                return Err(format!("jobs.{name} must not contain a newline or NUL"));
            }
        }
        if self.work_dir.starts_with(&self.library_dir) {
            return Err("jobs.work_dir must not be inside jobs.library_dir (Jellyfin would see partial files); move it next to staging_dir".into());
        }
        if self.default_profile != Self::RUNBOOK_PROFILE
            && !self.profiles.contains_key(&self.default_profile)
        {
            return Err(format!(
                "jobs.default_profile {:?} is neither \"runbook\" nor a key of jobs.profiles",
                self.default_profile
            ));
        }
        for (name, picks) in [
            ("jobs.languages.audio", &self.languages.audio),
            ("jobs.languages.subtitles", &self.languages.subtitles),
        ] {
            for p in picks {
                let ok = (2..=3).contains(&p.code.len())
                    && p.code.chars().all(|c| c.is_ascii_lowercase());
                if !ok {
                    return Err(format!(
                        "{name}: {:?} is not an ISO 639-2 code like \"eng\"",
                        p.code
                    ));
                }
            }
        }
        if !(0..=19).contains(&self.nice) {
            return Err(format!(
                "jobs.nice must be between 0 and 19, got {}",
                self.nice
            ));
        }
        if self.ionice_level > 7 {
            return Err(format!(
                "jobs.ionice_level must be between 0 and 7, got {}",
                self.ionice_level
            ));
        }
        if self.max_attempts == 0 {
            return Err("jobs.max_attempts must be at least 1".into());
        }
        let v = &self.verify;
        if !(v.duration_tolerance_percent > 0.0
            && v.min_size_ratio >= 0.0
            && v.max_size_ratio > v.min_size_ratio)
        {
            return Err("jobs.verify: duration_tolerance_percent must be > 0 and 0 <= min_size_ratio < max_size_ratio".into());
        }
        for url in &self.notify {
            let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or("");
            if !NOTIFY_SCHEMES.contains(&scheme) || url.chars().any(|c| c.is_control() || c == ' ')
            {
                return Err(format!(
                    "jobs.notify: entry with scheme {scheme:?} is not a URL like ntfy://host/topic; supported schemes: {}",
                    NOTIFY_SCHEMES.join(", ")
                ));
            }
        }
        if let Some(j) = &self.jellyfin {
            if !(j.url.starts_with("http://") || j.url.starts_with("https://"))
                || j.url.contains(char::is_control)
            {
                return Err(format!(
                    "jobs.jellyfin.url must be an http:// or https:// URL, got {:?}",
                    j.url
                ));
            }
            if j.token.is_empty() || j.token.chars().any(|c| c.is_control() || c == '"') {
                return Err("jobs.jellyfin.token must be a non-empty API key without quotes or control characters".into());
            }
        }
        self.status_listen
            .parse::<std::net::SocketAddr>()
            .map_err(|e| {
                format!(
                    "jobs.status_listen {:?} is not an address like 127.0.0.1:9187: {e}",
                    self.status_listen
                )
            })?;
        for (name, p) in &self.profiles {
            if p.extra_output_args.iter().any(|a| a.contains(['\n', '\0'])) {
                return Err(format!(
                    "jobs.profiles.{name}.extra_output_args: an entry contains a newline or NUL"
                ));
            }
        }
        Ok(())
    }
}

/// One optical drive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriveSettings {
    /// Block device of the drive, e.g. `/dev/sr0`.
    pub device: PathBuf,
    /// Seconds between polls of the drive status.
    #[serde(default = "default_poll_seconds")]
    pub poll_seconds: u64,
}

fn default_poll_seconds() -> u64 {
    5
}

/// Disc ripping options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RipSettings {
    /// Which ripper to use.
    pub method: RipMethod,
    /// Titles shorter than this are ignored (MakeMKV `--minlength`), in seconds.
    pub min_title_seconds: u64,
}

impl Default for RipSettings {
    fn default() -> Self {
        Self {
            method: RipMethod::Auto,
            min_title_seconds: 600,
        }
    }
}

/// Video encoder of a profile. Hardware encoders are used only after a one-second
/// test encode on the device succeeds; otherwise the job falls back to `software`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "lowercase")]
pub enum VideoEncoder {
    /// A CPU encoder such as `libx265`.
    Software {
        codec: String,
        preset: String,
        crf: u8,
    },
    /// Intel Quick Sync (`hevc_qsv`) on a DRM render node.
    Qsv {
        device: PathBuf,
        preset: String,
        global_quality: u8,
    },
    /// VA-API (`hevc_vaapi`) on a DRM render node.
    Vaapi { device: PathBuf, qp: u8 },
    /// NVIDIA NVENC (`hevc_nvenc`).
    Nvenc { preset: String, cq: u8 },
}

/// A transcode profile: the encoder settings of the runbook's ffmpeg command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TranscodeProfile {
    /// Video encoder.
    pub video: VideoEncoder,
    /// Audio codec (`copy` keeps the disc's tracks untouched).
    pub audio_codec: String,
    /// Subtitle codec (`copy` keeps them untouched).
    pub subtitle_codec: String,
    /// Extra output options passed to ffmpeg as separate arguments (never via a shell).
    pub extra_output_args: Vec<String>,
}

impl Default for TranscodeProfile {
    fn default() -> Self {
        Self {
            video: VideoEncoder::Software {
                codec: "libx265".to_string(),
                preset: "slow".to_string(),
                crf: 18,
            },
            audio_codec: "copy".to_string(),
            subtitle_codec: "copy".to_string(),
            extra_output_args: Vec::new(),
        }
    }
}

/// One language to keep. `required` languages make a job fail when absent;
/// optional ones are mapped with ffmpeg's trailing `?`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguagePick {
    /// ISO 639-2 code as tagged in the file (`eng`, `bul`, `ger`...).
    pub code: String,
    /// Whether the source must contain it.
    #[serde(default)]
    pub required: bool,
}

impl LanguagePick {
    fn new(code: &str, required: bool) -> Self {
        Self {
            code: code.to_string(),
            required,
        }
    }
}

/// Stream selection, in output order. Defaults are the runbook's: all English audio
/// (required), Bulgarian audio if present, English and Bulgarian subtitles if present.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LanguageSettings {
    pub audio: Vec<LanguagePick>,
    pub subtitles: Vec<LanguagePick>,
}

impl Default for LanguageSettings {
    fn default() -> Self {
        Self {
            audio: vec![
                LanguagePick::new("eng", true),
                LanguagePick::new("bul", false),
            ],
            subtitles: vec![
                LanguagePick::new("eng", false),
                LanguagePick::new("bul", false),
            ],
        }
    }
}

/// Jobs running at once. Rips are always one per drive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConcurrencySettings {
    /// Concurrent transcodes; 0 picks one per four cores for software encoders
    /// (x265 already uses every core) and one per GPU for hardware encoders.
    pub transcode: u32,
}

impl Default for ConcurrencySettings {
    fn default() -> Self {
        Self { transcode: 0 }
    }
}

/// Output checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VerifySettings {
    /// Allowed duration difference from the source, in percent.
    pub duration_tolerance_percent: f64,
    /// Smallest acceptable output size as a fraction of the source size.
    pub min_size_ratio: f64,
    /// Largest acceptable output size as a fraction of the source size.
    pub max_size_ratio: f64,
    /// Decode the whole output once (`ffmpeg -v error -f null`) before publishing.
    pub full_decode: bool,
}

impl Default for VerifySettings {
    fn default() -> Self {
        Self {
            duration_tolerance_percent: 0.5,
            min_size_ratio: 0.01,
            max_size_ratio: 2.0,
            full_decode: false,
        }
    }
}

/// Jellyfin server for targeted library scans after each publish.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JellyfinSettings {
    /// Base URL, e.g. `http://192.168.1.50:8096`.
    pub url: String,
    /// API key (Dashboard → API Keys). Secret: never logged or shown by `jobs status`.
    pub token: String,
    /// Path of `library_dir` as the Jellyfin container sees it, when it differs.
    #[serde(default)]
    pub library_path: Option<PathBuf>,
}

/// Hand-written so the token never reaches a log line or an error message.
impl std::fmt::Debug for JellyfinSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JellyfinSettings")
            .field("url", &self.url)
            .field("token", &"<redacted>")
            .field("library_path", &self.library_path)
            .finish()
    }
}

/// The media user. Uid/gid are numbers so the static binary needs no NSS lookup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MediaUser {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups job processes keep (e.g. video, render, cdrom GIDs).
    pub extra_gids: Vec<u32>,
}

impl Default for MediaUser {
    fn default() -> Self {
        Self {
            uid: 1000,
            gid: 1000,
            extra_gids: Vec::new(),
        }
    }
}

/// External programs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ToolPaths {
    pub ffmpeg: PathBuf,
    pub ffprobe: PathBuf,
    pub makemkvcon: PathBuf,
    pub dvdbackup: PathBuf,
    pub lsdvd: PathBuf,
}

impl Default for ToolPaths {
    fn default() -> Self {
        Self {
            ffmpeg: PathBuf::from("ffmpeg"),
            ffprobe: PathBuf::from("ffprobe"),
            makemkvcon: PathBuf::from("makemkvcon"),
            dvdbackup: PathBuf::from("dvdbackup"),
            lsdvd: PathBuf::from("lsdvd"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_mistakes_name_the_attribute() {
        JobsSettings::default().check().expect("defaults");
        let bad = JobsSettings {
            work_dir: PathBuf::from("/mnt/storage/media/.work"),
            ..JobsSettings::default()
        };
        assert!(bad.check().unwrap_err().starts_with("jobs.work_dir"));
        let bad = JobsSettings {
            notify: vec!["smtp://mail/x".into()],
            ..JobsSettings::default()
        };
        assert!(bad.check().unwrap_err().starts_with("jobs.notify"));
        let bad = JobsSettings {
            default_profile: "fast".into(),
            ..JobsSettings::default()
        };
        assert!(bad.check().unwrap_err().contains("jobs.default_profile"));
    }
}
