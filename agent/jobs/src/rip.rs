//! The rip stage: MakeMKV robot mode when available, else a DVD rip through
//! libdvdread (`lsdvd` to find the main feature and its languages, `dvdbackup` to
//! copy it, an ffmpeg remux to Matroska with language tags). Both write only into
//! the job's work folder; nothing counts as ripped until the outcome is verified.

use crate::error::{JobError, Result};
use crate::makemkv::{parse_line, Report, RipFailure};
use crate::privilege::Sandbox;
use crate::process;
use pvelxc_spec::jobs::{RipMethod, ToolPaths};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Everything a rip needs.
pub struct RipContext<'a> {
    pub tools: &'a ToolPaths,
    pub method: RipMethod,
    pub min_title_seconds: u64,
    pub sandbox: &'a Sandbox,
    pub cancel: &'a Arc<AtomicBool>,
}

/// A finished rip.
#[derive(Debug, Clone)]
pub struct Ripped {
    /// The main feature in Matroska.
    pub file: PathBuf,
    /// Disc name when the ripper knows one.
    pub disc_name: Option<String>,
}

/// Whether `makemkvcon` can be started.
pub fn makemkv_available(tools: &ToolPaths) -> bool {
    Command::new(&tools.makemkvcon)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok()
}

/// Rips the main feature of the disc in `device` into `out_dir`.
pub fn rip(
    ctx: &RipContext<'_>,
    device: &Path,
    out_dir: &Path,
    on_progress: &mut dyn FnMut(f64),
) -> Result<Ripped> {
    let kind = match crate::disc::poll(device) {
        crate::disc::Poll::Disc(id) => Some(id.kind),
        _ => None,
    };
    let use_makemkv = match (ctx.method, kind.filter(|k| k.needs_makemkv())) {
        (RipMethod::Makemkv, _) => true,
        (RipMethod::Dvdread, Some(kind)) => {
            return Err(JobError::Input(format!(
                "{} holds a {kind}, which only MakeMKV can rip, but rip.method is dvdread; set rip.method to auto or makemkv and install makemkvcon",
                device.display()
            )))
        }
        (RipMethod::Dvdread, None) => false,
        (RipMethod::Auto, needs) => {
            let available = makemkv_available(ctx.tools);
            if let (Some(kind), false) = (needs, available) {
                return Err(JobError::Input(format!(
                    "{} holds a {kind}, which only MakeMKV can rip, and makemkvcon was not found at {}; install MakeMKV in this container (or set tools.makemkvcon), then `jobs retry`",
                    device.display(),
                    ctx.tools.makemkvcon.display()
                )));
            }
            available
        }
    };
    if use_makemkv {
        rip_makemkv(ctx, device, out_dir, on_progress)
    } else {
        rip_dvdread(ctx, device, out_dir, on_progress)
    }
}

fn makemkv(
    ctx: &RipContext<'_>,
    args: &[String],
    on_progress: &mut dyn FnMut(f64),
) -> Result<Report> {
    let mut cmd = Command::new(&ctx.tools.makemkvcon);
    cmd.args(args);
    let mut report = Report::default();
    let finished = process::run(cmd, ctx.sandbox, ctx.cancel, |line| {
        if let Some(l) = parse_line(line) {
            report.feed(&l);
            if matches!(l, crate::makemkv::Line::Prgv { .. }) {
                on_progress(report.progress);
            }
        }
    })?;
    if let Some(m) = &report.key_expired {
        return Err(JobError::KeyExpired(m.clone()));
    }
    tracing::debug!(code = ?finished.code, "makemkvcon finished");
    Ok(report)
}

fn rip_makemkv(
    ctx: &RipContext<'_>,
    device: &Path,
    out_dir: &Path,
    on_progress: &mut dyn FnMut(f64),
) -> Result<Ripped> {
    let mut ignore = |_: f64| {};
    let drives = makemkv(
        ctx,
        &[
            "-r".into(),
            "--cache=1".into(),
            "info".into(),
            "disc:9999".into(),
        ],
        &mut ignore,
    )?;
    let dev = device.display().to_string();
    let index = drives.drive_index(&dev).ok_or_else(|| {
        let listed: Vec<String> = drives
            .drives
            .iter()
            .filter(|d| !d.device.is_empty())
            .map(|d| format!("disc:{}={}", d.index, d.device))
            .collect();
        JobError::Input(format!(
            "makemkvcon lists no drive at {dev} (it sees: [{}]); pass the drive's /dev/srN and its /dev/sgN into the container",
            listed.join(", ")
        ))
    })?;
    let source = format!("disc:{index}");
    let minlength = format!("--minlength={}", ctx.min_title_seconds);
    let info = makemkv(
        ctx,
        &[
            "-r".into(),
            "--progress=-same".into(),
            minlength.clone(),
            "info".into(),
            source.clone(),
        ],
        &mut ignore,
    )?;
    let title = info.main_feature(ctx.min_title_seconds).cloned().ok_or_else(|| {
        JobError::Input(format!(
            "no title on the disc in {dev} lasts at least rip.min_title_seconds = {}s ({} titles found)",
            ctx.min_title_seconds,
            info.titles.len()
        ))
    })?;
    let out = out_dir.display().to_string();
    let run = makemkv(
        ctx,
        &[
            "-r".into(),
            "--progress=-same".into(),
            minlength,
            "mkv".into(),
            source,
            title.index.to_string(),
            out,
        ],
        on_progress,
    )?;
    match run.outcome() {
        Ok(_) => {}
        Err(RipFailure::KeyExpired(m)) => return Err(JobError::KeyExpired(m)),
        Err(f) => {
            return Err(JobError::Tool {
                tool: "makemkvcon".into(),
                message: format!("rip of title {} failed: {f}", title.index),
            })
        }
    }
    let file = out_dir.join(&title.output_file);
    if title.output_file.is_empty() || crate::fsutil::file_size(&file).unwrap_or(0) == 0 {
        return Err(JobError::Tool {
            tool: "makemkvcon".into(),
            message: format!(
                "reported success but {} is missing or empty",
                file.display()
            ),
        });
    }
    Ok(Ripped {
        file,
        disc_name: info.disc_name.or(info.volume_name),
    })
}

/// What `lsdvd -a` says about the main feature.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DvdInfo {
    pub disc_title: String,
    pub longest: u32,
    /// Audio languages of the longest title in stream order, ISO 639-1 as on the disc.
    pub audio_languages: Vec<String>,
}

/// Parses `lsdvd -a` text output.
pub fn parse_lsdvd(text: &str) -> Option<DvdInfo> {
    let mut info = DvdInfo::default();
    let mut current: Option<u32> = None;
    let mut langs: std::collections::BTreeMap<u32, Vec<String>> = Default::default();
    for line in text.lines() {
        let t = line.trim();
        if let Some(v) = t.strip_prefix("Disc Title:") {
            info.disc_title = v.trim().to_string();
        } else if let Some(v) = t.strip_prefix("Longest track:") {
            info.longest = v.trim().parse().ok()?;
        } else if let Some(v) = t.strip_prefix("Title:") {
            current = v.split(',').next().and_then(|n| n.trim().parse().ok());
        } else if let Some(v) = t.strip_prefix("Audio:") {
            let lang = v
                .split(',')
                .find_map(|f| f.trim().strip_prefix("Language:"))
                .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
                .unwrap_or_default();
            if let Some(c) = current {
                langs.entry(c).or_default().push(lang);
            }
        }
    }
    if info.longest == 0 {
        return None;
    }
    info.audio_languages = langs.remove(&info.longest).unwrap_or_default();
    Some(info)
}

/// ISO 639-1 (as stored on DVDs) to the 639-2 code media files use.
pub fn iso639_2(code: &str) -> Option<&'static str> {
    const MAP: &[(&str, &str)] = &[
        ("en", "eng"),
        ("bg", "bul"),
        ("fr", "fre"),
        ("de", "ger"),
        ("es", "spa"),
        ("it", "ita"),
        ("nl", "dut"),
        ("pt", "por"),
        ("ru", "rus"),
        ("pl", "pol"),
        ("cs", "cze"),
        ("sv", "swe"),
        ("da", "dan"),
        ("no", "nor"),
        ("fi", "fin"),
        ("hu", "hun"),
        ("el", "gre"),
        ("tr", "tur"),
        ("ja", "jpn"),
        ("zh", "chi"),
        ("ko", "kor"),
        ("ro", "rum"),
        ("sk", "slo"),
        ("hr", "hrv"),
        ("sr", "srp"),
        ("uk", "ukr"),
        ("he", "heb"),
        ("ar", "ara"),
        ("hi", "hin"),
        ("th", "tha"),
    ];
    MAP.iter().find(|(a, _)| *a == code).map(|(_, b)| *b)
}

fn rip_dvdread(
    ctx: &RipContext<'_>,
    device: &Path,
    out_dir: &Path,
    on_progress: &mut dyn FnMut(f64),
) -> Result<Ripped> {
    let mut cmd = Command::new(&ctx.tools.lsdvd);
    cmd.arg("-a").arg(device);
    let mut text = String::new();
    let f = process::run(cmd, ctx.sandbox, ctx.cancel, |l| {
        text.push_str(l);
        text.push('\n');
    })?;
    let info = parse_lsdvd(&text)
        .filter(|_| f.success)
        .ok_or_else(|| JobError::Tool {
            tool: "lsdvd".into(),
            message: format!(
                "cannot read the DVD in {}: {}",
                device.display(),
                f.stderr_text()
            ),
        })?;
    on_progress(0.05);
    let mut cmd = Command::new(&ctx.tools.dvdbackup);
    cmd.arg("-i").arg(device).arg("-o").arg(out_dir).args([
        "-t",
        &info.longest.to_string(),
        "-n",
        "dvd",
    ]);
    let f = process::run(cmd, ctx.sandbox, ctx.cancel, |_| {})?;
    let vts_dir = out_dir.join("dvd").join("VIDEO_TS");
    let mut vobs: Vec<PathBuf> = std::fs::read_dir(&vts_dir)
        .map_err(|e| JobError::Tool {
            tool: "dvdbackup".into(),
            message: format!(
                "no {} after the copy ({e}): {}",
                vts_dir.display(),
                f.stderr_text()
            ),
        })?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let n = p
                .file_name()
                .map(|n| n.to_string_lossy().to_ascii_uppercase())
                .unwrap_or_default();
            n.ends_with(".VOB") && !n.ends_with("_0.VOB") && n != "VIDEO_TS.VOB"
        })
        .collect();
    vobs.sort();
    if vobs.is_empty() {
        return Err(JobError::Tool {
            tool: "dvdbackup".into(),
            message: format!(
                "copied no title VOBs of title {}: {}",
                info.longest,
                f.stderr_text()
            ),
        });
    }
    on_progress(0.6);
    let concat = format!(
        "concat:{}",
        vobs.iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join("|")
    );
    let file = out_dir.join("feature.mkv");
    let mut cmd = Command::new(&ctx.tools.ffmpeg);
    cmd.args([
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-fflags",
        "+genpts",
        "-i",
        &concat,
        "-map",
        "0:v:0",
        "-map",
        "0:a?",
        "-c",
        "copy",
    ]);
    for (i, l) in info.audio_languages.iter().enumerate() {
        if let Some(code) = iso639_2(l) {
            cmd.arg(format!("-metadata:s:a:{i}"))
                .arg(format!("language={code}"));
        }
    }
    cmd.args(["-f", "matroska", "-y"]).arg(&file);
    let f = process::run(cmd, ctx.sandbox, ctx.cancel, |_| {})?;
    if !f.success {
        return Err(JobError::Tool {
            tool: "ffmpeg".into(),
            message: format!("remux of the DVD title failed: {}", f.stderr_text()),
        });
    }
    crate::fsutil::remove_dir_if_exists(&out_dir.join("dvd"))?;
    on_progress(1.0);
    Ok(Ripped {
        file,
        disc_name: Some(info.disc_title).filter(|t| !t.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsdvd_longest_title_and_languages() {
        let text = "Disc Title: TEST_MOVIE\nTitle: 01, Length: 00:00:02.000 Chapters: 01, Cells: 01, Audio streams: 01, Subpictures: 00\n\tAudio: 1, Language: fr - Francais, Format: ac3\nTitle: 02, Length: 00:00:06.000 Chapters: 01, Cells: 01, Audio streams: 02, Subpictures: 00\n\tAudio: 1, Language: en - English, Format: ac3, Frequency: 48000\n\tAudio: 2, Language: bg - Bulgarian, Format: ac3\nLongest track: 02\n";
        let i = parse_lsdvd(text).expect("parsed");
        assert_eq!(i.longest, 2);
        assert_eq!(i.disc_title, "TEST_MOVIE");
        assert_eq!(i.audio_languages, vec!["en", "bg"]);
        assert_eq!(iso639_2("bg"), Some("bul"));
    }
}
