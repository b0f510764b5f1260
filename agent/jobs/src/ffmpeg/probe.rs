//! `ffprobe` JSON: duration and the streams with their languages.

use crate::error::{JobError, Result};
use serde::Deserialize;
use std::path::Path;
use std::process::Command;

/// What the runner needs to know about a media file.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    /// Container duration in seconds.
    pub duration: f64,
    pub streams: Vec<Stream>,
}

/// One stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    pub index: u32,
    /// `video`, `audio`, `subtitle`...
    pub codec_type: String,
    pub codec_name: String,
    /// Language tag, lowercased; `None` when untagged.
    pub language: Option<String>,
}

impl Probe {
    /// Streams of one type.
    pub fn of_type<'a>(&'a self, t: &'a str) -> impl Iterator<Item = &'a Stream> + 'a {
        self.streams.iter().filter(move |s| s.codec_type == t)
    }

    /// Number of streams of `codec_type` tagged with `lang`.
    pub fn count_lang(&self, codec_type: &str, lang: &str) -> usize {
        self.of_type(codec_type)
            .filter(|s| s.language.as_deref() == Some(lang))
            .count()
    }

    /// Languages present for a stream type, in stream order, without repeats.
    pub fn languages(&self, codec_type: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for s in self.of_type(codec_type) {
            let l = s.language.clone().unwrap_or_else(|| "und".into());
            if !out.contains(&l) {
                out.push(l);
            }
        }
        out
    }
}

#[derive(Deserialize)]
struct Raw {
    #[serde(default)]
    streams: Vec<RawStream>,
    format: Option<RawFormat>,
}

#[derive(Deserialize)]
struct RawStream {
    index: u32,
    #[serde(default)]
    codec_type: String,
    #[serde(default)]
    codec_name: String,
    #[serde(default)]
    tags: std::collections::HashMap<String, String>,
}

#[derive(Deserialize)]
struct RawFormat {
    duration: Option<String>,
}

/// Parses `ffprobe -print_format json -show_format -show_streams` output.
pub fn parse(json: &str) -> std::result::Result<Probe, String> {
    let raw: Raw =
        serde_json::from_str(json).map_err(|e| format!("unreadable ffprobe output: {e}"))?;
    let duration = raw
        .format
        .and_then(|f| f.duration)
        .and_then(|d| d.trim().parse::<f64>().ok())
        .filter(|d| d.is_finite() && *d > 0.0)
        .ok_or_else(|| "file has no duration (not a complete media file?)".to_string())?;
    let streams = raw
        .streams
        .into_iter()
        .map(|s| {
            let language = s
                .tags
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("language"))
                .map(|(_, v)| v.to_ascii_lowercase());
            Stream {
                index: s.index,
                codec_type: s.codec_type,
                codec_name: s.codec_name,
                language,
            }
        })
        .collect();
    Ok(Probe { duration, streams })
}

/// Runs ffprobe on `file`. Probing reads only headers, so it runs unsandboxed.
pub fn probe(ffprobe: &Path, file: &Path) -> Result<Probe> {
    let out = Command::new(ffprobe)
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
        ])
        .arg(file)
        .output()
        .map_err(|e| JobError::Tool {
            tool: ffprobe.display().to_string(),
            message: format!("cannot start: {e}; install ffmpeg or set tools.ffprobe"),
        })?;
    if !out.status.success() {
        return Err(JobError::Input(format!(
            "{} is not a readable media file: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    parse(&String::from_utf8_lossy(&out.stdout))
        .map_err(|e| JobError::Input(format!("{}: {e}", file.display())))
}
