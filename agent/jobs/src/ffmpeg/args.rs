//! Turning a profile and the language settings into ffmpeg arguments.
//!
//! The default profile reproduces the runbook's Phase 4 command exactly:
//! `-map 0:v:0 -map 0:a:m:language:eng -map 0:a:m:language:bul?
//!  -map 0:s:m:language:eng? -map 0:s:m:language:bul? -c:v libx265 -preset slow
//!  -crf 18 -c:a copy -c:s copy`.

use super::probe::Probe;
use pvelxc_spec::jobs::{LanguagePick, LanguageSettings, TranscodeProfile, VideoEncoder};
use std::ffi::OsString;
use std::path::Path;

/// ISO 639-2 languages whose bibliographic (B) and terminology (T) codes differ.
/// MakeMKV writes B codes by default; other tools write T codes.
const BT_CODES: &[(&str, &str)] = &[
    ("alb", "sqi"),
    ("arm", "hye"),
    ("baq", "eus"),
    ("bur", "mya"),
    ("chi", "zho"),
    ("cze", "ces"),
    ("dut", "nld"),
    ("fre", "fra"),
    ("geo", "kat"),
    ("ger", "deu"),
    ("gre", "ell"),
    ("ice", "isl"),
    ("mac", "mkd"),
    ("mao", "mri"),
    ("may", "msa"),
    ("per", "fas"),
    ("rum", "ron"),
    ("slo", "slk"),
    ("tib", "bod"),
    ("wel", "cym"),
];

/// The other code of a language with distinct B and T codes.
pub fn alias(code: &str) -> Option<&'static str> {
    BT_CODES.iter().find_map(|&(b, t)| {
        if b == code {
            Some(t)
        } else if t == code {
            Some(b)
        } else {
            None
        }
    })
}

/// `-map` values for the configured languages against what the source contains.
/// A required language the source lacks is an error naming what it does have.
pub fn stream_maps(langs: &LanguageSettings, probe: &Probe) -> Result<Vec<String>, String> {
    let mut maps = vec!["0:v:0".to_string()];
    if probe.of_type("video").next().is_none() {
        return Err("source has no video stream".into());
    }
    add_maps(
        &mut maps,
        "a",
        "audio",
        "languages.audio",
        &langs.audio,
        probe,
    )?;
    add_maps(
        &mut maps,
        "s",
        "subtitle",
        "languages.subtitles",
        &langs.subtitles,
        probe,
    )?;
    Ok(maps)
}

fn add_maps(
    maps: &mut Vec<String>,
    spec: &str,
    codec_type: &str,
    attr: &str,
    picks: &[LanguagePick],
    probe: &Probe,
) -> Result<(), String> {
    for pick in picks {
        let code = pick.code.as_str();
        let other = alias(code).filter(|a| probe.count_lang(codec_type, a) > 0);
        let has_code = probe.count_lang(codec_type, code) > 0;
        if pick.required {
            match (has_code, other) {
                (true, _) => maps.push(format!("0:{spec}:m:language:{code}")),
                (false, Some(a)) => maps.push(format!("0:{spec}:m:language:{a}")),
                (false, None) => {
                    return Err(format!(
                        "source has no {codec_type} stream in language {code:?}, which {attr} requires; languages found: [{}]; mark it required = false or fix the source's tags",
                        probe.languages(codec_type).join(", ")
                    ))
                }
            }
            if has_code {
                if let Some(a) = other {
                    maps.push(format!("0:{spec}:m:language:{a}?"));
                }
            }
        } else {
            maps.push(format!("0:{spec}:m:language:{code}?"));
            if let Some(a) = other {
                maps.push(format!("0:{spec}:m:language:{a}?"));
            }
        }
    }
    Ok(())
}

/// Video encoder arguments: (before `-i`, after the maps).
pub fn video_args(video: &VideoEncoder) -> (Vec<String>, Vec<String>) {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    match video {
        VideoEncoder::Software { codec, preset, crf } => (
            vec![],
            vec![
                "-c:v".into(),
                codec.clone(),
                "-preset".into(),
                preset.clone(),
                "-crf".into(),
                crf.to_string(),
            ],
        ),
        VideoEncoder::Vaapi { device, qp } => (
            vec!["-vaapi_device".into(), device.display().to_string()],
            [
                s(&["-vf", "format=nv12,hwupload", "-c:v", "hevc_vaapi", "-qp"]),
                vec![qp.to_string()],
            ]
            .concat(),
        ),
        VideoEncoder::Qsv {
            device,
            preset,
            global_quality,
        } => (
            vec![
                "-init_hw_device".into(),
                format!("vaapi=va:{}", device.display()),
                "-init_hw_device".into(),
                "qsv=qs@va".into(),
                "-filter_hw_device".into(),
                "qs".into(),
            ],
            [
                s(&[
                    "-vf",
                    "format=nv12,hwupload=extra_hw_frames=64",
                    "-c:v",
                    "hevc_qsv",
                    "-preset",
                ]),
                vec![
                    preset.clone(),
                    "-global_quality".into(),
                    global_quality.to_string(),
                ],
            ]
            .concat(),
        ),
        VideoEncoder::Nvenc { preset, cq } => (
            vec![],
            [
                s(&["-c:v", "hevc_nvenc", "-preset"]),
                vec![preset.clone()],
                s(&["-rc", "vbr", "-cq"]),
                vec![cq.to_string()],
            ]
            .concat(),
        ),
    }
}

/// The full ffmpeg argument list (without the program name).
pub fn transcode_args(
    profile: &TranscodeProfile,
    video: &VideoEncoder,
    maps: &[String],
    input: &Path,
    output: &Path,
) -> Vec<OsString> {
    let (pre, vid) = video_args(video);
    let mut a: Vec<OsString> = [
        "-hide_banner",
        "-nostdin",
        "-nostats",
        "-loglevel",
        "error",
        "-progress",
        "pipe:1",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    a.extend(pre.into_iter().map(OsString::from));
    a.push("-i".into());
    a.push(input.as_os_str().to_owned());
    for m in maps {
        a.push("-map".into());
        a.push(m.into());
    }
    a.extend(vid.into_iter().map(OsString::from));
    a.extend([
        "-c:a".into(),
        profile.audio_codec.clone().into(),
        "-c:s".into(),
        profile.subtitle_codec.clone().into(),
    ]);
    a.extend(profile.extra_output_args.iter().map(OsString::from));
    a.extend(["-f".into(), "matroska".into(), "-y".into()]);
    a.push(output.as_os_str().to_owned());
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffmpeg::probe::Stream;

    fn probe(streams: &[(&str, Option<&str>)]) -> Probe {
        Probe {
            duration: 10.0,
            streams: streams
                .iter()
                .enumerate()
                .map(|(i, (t, l))| Stream {
                    index: i as u32,
                    codec_type: t.to_string(),
                    codec_name: String::new(),
                    language: l.map(str::to_string),
                })
                .collect(),
        }
    }

    #[test]
    fn default_profile_is_the_runbook_command() {
        let p = probe(&[
            ("video", None),
            ("audio", Some("eng")),
            ("audio", Some("bul")),
            ("subtitle", Some("eng")),
        ]);
        let maps = stream_maps(&LanguageSettings::default(), &p).expect("maps");
        let args = transcode_args(
            &TranscodeProfile::default(),
            &TranscodeProfile::default().video,
            &maps,
            Path::new("INPUT.mkv"),
            Path::new("OUTPUT.mkv"),
        );
        let line = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        assert!(line.contains(
            "-i INPUT.mkv -map 0:v:0 -map 0:a:m:language:eng -map 0:a:m:language:bul? -map 0:s:m:language:eng? -map 0:s:m:language:bul? -c:v libx265 -preset slow -crf 18 -c:a copy -c:s copy"
        ), "{line}");
    }

    #[test]
    fn missing_required_language_names_what_exists() {
        let p = probe(&[("video", None), ("audio", Some("fre"))]);
        let err = stream_maps(&LanguageSettings::default(), &p).unwrap_err();
        assert!(
            err.contains("\"eng\"") && err.contains("[fre]") && err.contains("languages.audio"),
            "{err}"
        );
    }

    #[test]
    fn terminology_codes_match_bibliographic_settings() {
        let langs = LanguageSettings {
            audio: vec![LanguagePick {
                code: "ger".into(),
                required: true,
            }],
            ..LanguageSettings::default()
        };
        let p = probe(&[("video", None), ("audio", Some("deu"))]);
        let maps = stream_maps(&langs, &p).expect("maps");
        assert!(maps.contains(&"0:a:m:language:deu".to_string()), "{maps:?}");
    }
}
