//! Shared helpers for the job runner's integration tests: generated media,
//! settings in a temporary tree, and the real daemon as a child process.
#![allow(dead_code)]

use pvelxc_spec::jobs::{JobsSettings, MediaUser, TranscodeProfile, VideoEncoder};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_pvelxc-jobs");

/// A test tree: staging, library, work and state folders plus a settings file.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub settings: JobsSettings,
    pub config: PathBuf,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

impl Env {
    /// Settings for tests: the runbook's stream selection with a fast encoder,
    /// no settle delay, and the current user as the media user.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .expect("chmod");
        let p = dir.path();
        for d in ["staging", "library", "state"] {
            std::fs::create_dir_all(p.join(d)).expect("mkdir");
        }
        let mut s = JobsSettings {
            staging_dir: p.join("staging"),
            library_dir: p.join("library"),
            work_dir: p.join("work"),
            state_dir: p.join("state"),
            settle_seconds: 1,
            reserve_free_bytes: 0,
            retry_backoff_seconds: 1,
            max_attempts: 1,
            status_listen: format!("127.0.0.1:{}", free_port()),
            default_profile: "test".into(),
            media_user: MediaUser {
                uid: nix::unistd::geteuid().as_raw(),
                gid: nix::unistd::getegid().as_raw(),
                extra_gids: vec![],
            },
            ..JobsSettings::default()
        };
        s.profiles.insert("test".into(), fast_profile());
        let config = p.join("jobs.json");
        let env = Self {
            dir,
            settings: s,
            config,
        };
        env.save();
        env
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes the settings file (call after changing `settings`).
    pub fn save(&self) {
        std::fs::write(
            &self.config,
            serde_json::to_vec_pretty(&self.settings).expect("json"),
        )
        .expect("write settings");
    }

    /// Runs a CLI command.
    pub fn cli(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .output()
            .expect("run cli")
    }

    /// Runs a CLI command that must succeed; returns stdout as JSON.
    pub fn cli_json(&self, args: &[&str]) -> serde_json::Value {
        let o = self.cli(args);
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&o.stdout)))
    }

    pub fn job(&self, id: i64) -> serde_json::Value {
        self.cli_json(&["status", &id.to_string()])
    }

    /// Starts the daemon; it is killed when the handle drops.
    pub fn daemon(&self) -> Daemon {
        self.daemon_with_env(&[])
    }

    pub fn daemon_with_env(&self, vars: &[(&str, &str)]) -> Daemon {
        let log = self.path().join(format!(
            "daemon-{}.log",
            Instant::now().elapsed().as_nanos()
        ));
        let log_file = std::fs::File::create(&log).expect("log file");
        let child = Command::new(BIN)
            .arg("--config")
            .arg(&self.config)
            .arg("daemon")
            .envs(vars.iter().copied())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("start daemon");
        Daemon { child, log }
    }

    /// Waits until job `id` reaches a final state; returns the job.
    pub fn wait_final(&self, id: i64, timeout: Duration) -> serde_json::Value {
        wait_for(timeout, || {
            let j = self.job(id);
            matches!(j["state"].as_str(), Some("done" | "failed" | "cancelled")).then_some(j)
        })
        .unwrap_or_else(|| panic!("job {id} did not finish: {}", self.job(id)))
    }

    /// Adds a file; returns the job id.
    pub fn add(&self, file: &Path, extra: &[&str]) -> i64 {
        let mut args = vec!["add", file.to_str().expect("utf8")];
        args.extend_from_slice(extra);
        self.cli_json(&args)["id"].as_i64().expect("id")
    }

    /// Every regular file below the library, relative paths, sorted.
    pub fn library_files(&self) -> Vec<String> {
        let mut out = Vec::new();
        walk(
            &self.settings.library_dir,
            &self.settings.library_dir,
            &mut out,
        );
        out.sort();
        out
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(root, &p, out);
        } else {
            out.push(
                p.strip_prefix(root)
                    .expect("below root")
                    .display()
                    .to_string(),
            );
        }
    }
}

pub struct Daemon {
    pub child: Child,
    pub log: PathBuf,
}

impl Daemon {
    pub fn log_text(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// x265 `ultrafast`: the runbook's stream selection at test speed.
pub fn fast_profile() -> TranscodeProfile {
    TranscodeProfile {
        video: VideoEncoder::Software {
            codec: "libx265".into(),
            preset: "ultrafast".into(),
            crf: 30,
        },
        extra_output_args: vec!["-x265-params".into(), "log-level=error".into()],
        ..TranscodeProfile::default()
    }
}

pub fn wait_for<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let end = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() > end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Generates a Matroska source: `seconds` of 320x240 test video, one sine audio
/// stream per `audio` language and one SRT subtitle stream per `subs` language.
pub fn make_source(path: &Path, seconds: u32, size: &str, audio: &[&str], subs: &[&str]) {
    let dir = path.parent().expect("parent");
    let mut cmd = Command::new("ffmpeg");
    cmd.args([
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
    ])
    .arg(format!("testsrc=size={size}:rate=25:duration={seconds}"));
    for (i, _) in audio.iter().enumerate() {
        cmd.args(["-f", "lavfi", "-i"]).arg(format!(
            "sine=frequency={}:duration={seconds}",
            300 + 100 * i
        ));
    }
    for (i, l) in subs.iter().enumerate() {
        let srt = dir.join(format!(".sub-{i}-{l}.srt"));
        std::fs::write(
            &srt,
            format!("1\n00:00:00,500 --> 00:00:01,500\nsubtitle {l}\n"),
        )
        .expect("srt");
        cmd.arg("-i").arg(&srt);
    }
    let inputs = 1 + audio.len() + subs.len();
    for i in 0..inputs {
        cmd.args(["-map", &i.to_string()]);
    }
    for (i, l) in audio.iter().enumerate() {
        cmd.arg(format!("-metadata:s:a:{i}"))
            .arg(format!("language={l}"));
    }
    for (i, l) in subs.iter().enumerate() {
        cmd.arg(format!("-metadata:s:s:{i}"))
            .arg(format!("language={l}"));
    }
    cmd.args([
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-c:a",
        "aac",
        "-c:s",
        "srt",
    ])
    .arg(path);
    let st = cmd.status().expect("ffmpeg");
    assert!(st.success(), "generating {}", path.display());
    for (i, l) in subs.iter().enumerate() {
        let _ = std::fs::remove_file(dir.join(format!(".sub-{i}-{l}.srt")));
    }
}

/// (codec_type, language) of every stream, via ffprobe.
pub fn streams(path: &Path) -> Vec<(String, String)> {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_streams",
            "-show_format",
        ])
        .arg(path)
        .output()
        .expect("ffprobe");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    v["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .map(|s| {
            (
                s["codec_type"].as_str().unwrap_or("").to_string(),
                s["tags"]["language"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

pub fn duration(path: &Path) -> f64 {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .expect("ffprobe");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0.0)
}

/// Content hash of a file, to prove a source was not touched.
pub fn digest(path: &Path) -> u64 {
    let data = std::fs::read(path).expect("read");
    data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A profile slow enough to be caught mid-encode (kill -9, SIGTERM).
/// Seconds of source for tests that must catch an encode while it runs: at the fastest seen
/// here (x265 at ~200 fps) that is still several seconds of encode, where 12 s of source once
/// finished between two progress polls.
pub const INTERRUPTIBLE_SOURCE_SECONDS: u32 = 40;

/// A 320x240 source with English audio (and the given subtitles) long enough to be caught
/// mid-transcode; see [`INTERRUPTIBLE_SOURCE_SECONDS`].
pub fn make_interruptible_source(path: &Path, subtitles: &[&str]) {
    make_source(
        path,
        INTERRUPTIBLE_SOURCE_SECONDS,
        "320x240",
        &["eng"],
        subtitles,
    );
}

pub fn slow_profile() -> TranscodeProfile {
    TranscodeProfile {
        video: VideoEncoder::Software {
            codec: "libx265".into(),
            preset: "medium".into(),
            crf: 30,
        },
        ..fast_profile()
    }
}

/// ffmpeg processes whose command line mentions `needle`.
pub fn ffmpeg_pids(needle: &Path) -> Vec<u32> {
    let needle = needle.display().to_string();
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| {
                    let c = String::from_utf8_lossy(&c);
                    c.starts_with("ffmpeg") && c.contains(&needle)
                })
                .unwrap_or(false)
        })
        .collect()
}
