//! Hardware encoder selection. `ffmpeg -encoders` only proves an encoder was
//! compiled in; whether the GPU, driver and device permissions work is known only
//! after a real encode, so a hardware profile is used only after a one-second test
//! encode on the device succeeds (as the media user, who will run the real one).

use super::args::video_args;
use crate::privilege::Sandbox;
use crate::process;
use pvelxc_spec::jobs::{TranscodeProfile, VideoEncoder};
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

/// Remembers test-encode results for the daemon's lifetime.
#[derive(Default)]
pub struct EncoderCheck {
    results: Mutex<HashMap<String, Result<(), String>>>,
}

impl EncoderCheck {
    /// The encoder to use for `profile`: its own when software or when the test
    /// encode works, else the runbook's software encoder with the reason.
    pub fn choose(
        &self,
        ffmpeg: &Path,
        sandbox: &Sandbox,
        profile: &TranscodeProfile,
    ) -> (VideoEncoder, Option<String>) {
        if matches!(profile.video, VideoEncoder::Software { .. }) {
            return (profile.video.clone(), None);
        }
        let key = format!("{:?}", profile.video);
        let result = {
            let mut cache = self.results.lock().unwrap_or_else(|e| e.into_inner());
            cache
                .entry(key)
                .or_insert_with(|| test_encode(ffmpeg, sandbox, &profile.video))
                .clone()
        };
        match result {
            Ok(()) => (profile.video.clone(), None),
            Err(why) => (TranscodeProfile::default().video, Some(why)),
        }
    }
}

/// Encodes one second of generated video with `video` to nowhere.
pub fn test_encode(ffmpeg: &Path, sandbox: &Sandbox, video: &VideoEncoder) -> Result<(), String> {
    let (pre, vid) = video_args(video);
    let mut cmd = Command::new(ffmpeg);
    cmd.args(["-hide_banner", "-nostdin", "-loglevel", "error"])
        .args(pre)
        .args(["-f", "lavfi", "-i", "color=c=black:s=320x240:r=25:d=1"])
        .args(vid)
        .args(["-f", "null", "-"]);
    let never = Arc::new(AtomicBool::new(false));
    match process::run(cmd, sandbox, &never, |_| {}) {
        Ok(f) if f.success => Ok(()),
        Ok(f) => Err(format!(
            "test encode with {video:?} failed: {}",
            f.stderr_text()
        )),
        Err(e) => Err(format!("test encode with {video:?} failed: {e}")),
    }
}

/// Render nodes present on this machine (`/dev/dri/renderD*`), for `jobs status`.
pub fn render_nodes() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir("/dev/dri")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().display().to_string())
        .filter(|p| p.contains("renderD"))
        .collect();
    out.sort();
    out
}
