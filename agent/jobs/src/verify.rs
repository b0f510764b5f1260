//! Output checks before publishing. A truncated or broken encode must never reach
//! the library: ffmpeg can exit 0 on a short output (the failure that cost Tdarr
//! users their files), so the output is judged on its own merits.

use crate::error::{JobError, Result};
use crate::ffmpeg::probe::Probe;
use crate::privilege::Sandbox;
use crate::process;
use pvelxc_spec::jobs::{LanguageSettings, VerifySettings};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Durations are quantised to video frames and audio packets, and containers
/// round differently, so differences below this never count as truncation
/// (0.5% of anything longer than a minute is larger anyway).
pub const DURATION_FLOOR_SECONDS: f64 = 0.25;

/// Compares an output with its source. Returns the first reason it is unfit.
pub fn check(
    settings: &VerifySettings,
    langs: &LanguageSettings,
    source: &Probe,
    source_size: u64,
    output: &Probe,
    output_size: u64,
) -> std::result::Result<(), String> {
    let delta = (output.duration - source.duration).abs();
    let diff = delta / source.duration * 100.0;
    if diff > settings.duration_tolerance_percent && delta > DURATION_FLOOR_SECONDS {
        return Err(format!(
            "output lasts {:.3}s but the source {:.3}s ({diff:.2}% off, limit {}%); the encode is truncated or broken",
            output.duration, source.duration, settings.duration_tolerance_percent
        ));
    }
    if output.of_type("video").count() != 1 {
        return Err(format!(
            "output has {} video streams, expected 1",
            output.of_type("video").count()
        ));
    }
    for (codec_type, picks) in [("audio", &langs.audio), ("subtitle", &langs.subtitles)] {
        for pick in picks {
            let mut want = source.count_lang(codec_type, &pick.code);
            let mut got = output.count_lang(codec_type, &pick.code);
            if let Some(a) = crate::ffmpeg::args::alias(&pick.code) {
                want += source.count_lang(codec_type, a);
                got += output.count_lang(codec_type, a);
            }
            if got != want {
                return Err(format!(
                    "output has {got} {codec_type} stream(s) in {:?}, the source {want}",
                    pick.code
                ));
            }
        }
    }
    if source_size > 0 {
        let ratio = output_size as f64 / source_size as f64;
        if ratio < settings.min_size_ratio || ratio > settings.max_size_ratio {
            return Err(format!(
                "output is {output_size} bytes, {ratio:.4} of the source's {source_size}; allowed {}..{} (verify.min_size_ratio/max_size_ratio)",
                settings.min_size_ratio, settings.max_size_ratio
            ));
        }
    }
    Ok(())
}

/// Decodes the whole file and fails on any decoder error.
pub fn full_decode(
    ffmpeg: &Path,
    sandbox: &Sandbox,
    file: &Path,
    cancel: &Arc<AtomicBool>,
) -> Result<()> {
    let mut cmd = Command::new(ffmpeg);
    cmd.args(["-hide_banner", "-nostdin", "-v", "error", "-xerror", "-i"])
        .arg(file)
        .args(["-map", "0", "-f", "null", "-"]);
    let f = process::run(cmd, sandbox, cancel, |_| {})?;
    if !f.success || !f.stderr.is_empty() {
        return Err(JobError::Verify(format!(
            "full decode found errors: {}",
            f.stderr_text()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffmpeg::probe::Stream;

    fn p(duration: f64, langs: &[(&str, &str)]) -> Probe {
        let mut streams = vec![Stream {
            index: 0,
            codec_type: "video".into(),
            codec_name: "hevc".into(),
            language: None,
        }];
        for (i, (t, l)) in langs.iter().enumerate() {
            streams.push(Stream {
                index: i as u32 + 1,
                codec_type: t.to_string(),
                codec_name: String::new(),
                language: Some(l.to_string()),
            });
        }
        Probe { duration, streams }
    }

    #[test]
    fn truncated_output_is_rejected() {
        let s = p(100.0, &[("audio", "eng")]);
        let o = p(60.0, &[("audio", "eng")]);
        let e = check(
            &VerifySettings::default(),
            &LanguageSettings::default(),
            &s,
            1000,
            &o,
            500,
        )
        .unwrap_err();
        assert!(e.contains("truncated"), "{e}");
    }

    #[test]
    fn within_half_a_percent_passes_and_missing_language_fails() {
        let s = p(
            100.0,
            &[("audio", "eng"), ("audio", "bul"), ("audio", "fre")],
        );
        let ok = p(100.4, &[("audio", "eng"), ("audio", "bul")]);
        check(
            &VerifySettings::default(),
            &LanguageSettings::default(),
            &s,
            1000,
            &ok,
            500,
        )
        .expect("passes");
        let lost = p(100.0, &[("audio", "eng")]);
        let e = check(
            &VerifySettings::default(),
            &LanguageSettings::default(),
            &s,
            1000,
            &lost,
            500,
        )
        .unwrap_err();
        assert!(e.contains("\"bul\""), "{e}");
    }

    #[test]
    fn absurd_size_is_rejected() {
        let s = p(100.0, &[("audio", "eng")]);
        let e = check(
            &VerifySettings::default(),
            &LanguageSettings::default(),
            &s,
            1_000_000,
            &s,
            10,
        )
        .unwrap_err();
        assert!(e.contains("min_size_ratio"), "{e}");
    }
}
