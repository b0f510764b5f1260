//! Tests that need root: a dedicated media user (job processes must run as it
//! with no capabilities) and loop devices (a real DVD-Video image as a drive).

mod common;

use common::*;
use pvelxc_spec::jobs::{DriveSettings, MediaUser, RipMethod, TranscodeProfile, VideoEncoder};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const TEST_USER: &str = "pvelxc-jobs-test";

/// Creates (once) a system user for the tests; uid 1000 may belong to someone else.
fn media_user(extra_gids: Vec<u32>) -> MediaUser {
    let exists = Command::new("id")
        .arg("-u")
        .arg(TEST_USER)
        .output()
        .expect("id");
    if !exists.status.success() {
        let st = Command::new("useradd")
            .args([
                "--system",
                "--user-group",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                TEST_USER,
            ])
            .status()
            .expect("useradd");
        assert!(st.success(), "useradd {TEST_USER}");
    }
    let num = |flag: &str| -> u32 {
        let o = Command::new("id")
            .arg(flag)
            .arg(TEST_USER)
            .output()
            .expect("id");
        String::from_utf8_lossy(&o.stdout)
            .trim()
            .parse()
            .expect("number")
    };
    MediaUser {
        uid: num("-u"),
        gid: num("-g"),
        extra_gids,
    }
}

fn status_field(pid: u32, key: &str) -> String {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    s.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn ffmpeg_child(needle: &Path) -> Option<u32> {
    let needle = needle.display().to_string();
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let c = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let c = String::from_utf8_lossy(&c).into_owned();
        (c.starts_with("ffmpeg") && c.contains(&needle)).then_some(pid)
    })
}

#[test]
#[ignore = "needs root to create a user; run scripts/test.sh"]
fn encoder_runs_as_media_user_without_capabilities_niced() {
    let mut env = Env::new();
    let user = media_user(vec![]);
    env.settings.media_user = user.clone();
    env.settings.profiles.insert(
        "test".into(),
        TranscodeProfile {
            video: VideoEncoder::Software {
                codec: "libx265".into(),
                preset: "medium".into(),
                crf: 30,
            },
            ..fast_profile()
        },
    );
    env.save();
    let src = env.path().join("caps.mkv");
    make_source(&src, 8, "320x240", &["eng"], &[]);
    let daemon = env.daemon();
    let id = env.add(&src, &["--title", "Caps"]);
    let work = env.settings.work_dir.join(format!("job-{id}"));
    let pid = wait_for(Duration::from_secs(60), || ffmpeg_child(&work)).expect("ffmpeg running");
    let (u, g) = (user.uid.to_string(), user.gid.to_string());
    assert_eq!(status_field(pid, "Uid"), format!("{u} {u} {u} {u}"));
    assert_eq!(status_field(pid, "Gid"), format!("{g} {g} {g} {g}"));
    for cap in ["CapEff", "CapPrm", "CapBnd", "CapAmb", "CapInh"] {
        assert_eq!(status_field(pid, cap), "0000000000000000", "{cap}");
    }
    assert_eq!(status_field(pid, "NoNewPrivs"), "1");
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let after_comm = stat.rsplit_once(')').expect("comm").1;
    let nice: i32 = after_comm
        .split_whitespace()
        .nth(16)
        .expect("nice")
        .parse()
        .expect("nice");
    assert_eq!(nice, 10);
    let io = Command::new("ionice")
        .arg("-p")
        .arg(pid.to_string())
        .output()
        .expect("ionice");
    assert_eq!(
        String::from_utf8_lossy(&io.stdout).trim(),
        "best-effort: prio 7"
    );
    let j = env.wait_final(id, Duration::from_secs(120));
    assert_eq!(j["state"], "done", "{j}\n{}", daemon.log_text());
    let out = env.settings.library_dir.join("Movies/Caps/Caps.mkv");
    let m = std::fs::metadata(&out).expect("published");
    assert_eq!(
        (m.uid(), m.gid()),
        (user.uid, user.gid),
        "media:media ownership"
    );
    let d = std::fs::metadata(out.parent().unwrap()).unwrap();
    assert_eq!((d.uid(), d.gid()), (user.uid, user.gid));
}

/// A loop device detached on drop.
struct Loop(String);

impl Drop for Loop {
    fn drop(&mut self) {
        // Device nodes outlive the attachment: restore the host's modes.
        let _ = std::os::unix::fs::chown(&self.0, Some(0), Some(0));
        let _ =
            std::fs::set_permissions(&self.0, std::os::unix::fs::PermissionsExt::from_mode(0o600));
        let _ = Command::new("losetup").arg("-d").arg(&self.0).status();
    }
}

/// Authors a real DVD-Video: ffmpeg (MPEG-2 + AC-3, NTSC) → dvdauthor → ISO 9660
/// with the UDF bridge libdvdread reads (genisoimage; xorriso writes no UDF).
fn author_dvd(dir: &Path, label: &str) -> PathBuf {
    let run = |cmd: &mut Command| {
        let st = cmd.status().expect("authoring tool");
        assert!(st.success(), "{cmd:?}");
    };
    let mpg = dir.join("title.mpg");
    run(Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=720x480:rate=30000/1001:duration=6",
        ])
        .args([
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=6",
            "-target",
            "ntsc-dvd",
            "-b:v",
            "1500k",
        ])
        .arg(&mpg));
    let dvd = dir.join("dvd");
    run(Command::new("dvdauthor")
        .env("VIDEO_FORMAT", "NTSC")
        .arg("-o")
        .arg(&dvd)
        .args(["-t", "-a", "ac3+en"])
        .arg(&mpg)
        .stderr(std::process::Stdio::null()));
    run(Command::new("dvdauthor")
        .env("VIDEO_FORMAT", "NTSC")
        .arg("-o")
        .arg(&dvd)
        .arg("-T")
        .stderr(std::process::Stdio::null()));
    let iso = dir.join("dvd.iso");
    run(Command::new("genisoimage")
        .args(["-quiet", "-dvd-video", "-udf", "-V", label, "-o"])
        .arg(&iso)
        .arg(&dvd));
    iso
}

#[test]
#[ignore = "needs root loop devices; run scripts/test.sh"]
fn dvd_in_a_loop_device_is_detected_ripped_and_published() {
    let mut env = Env::new();
    let iso = author_dvd(env.path(), "TEST_MOVIE");
    let out = Command::new("losetup")
        .args(["-f", "--show", "-r"])
        .arg(&iso)
        .output()
        .expect("losetup");
    assert!(
        out.status.success(),
        "losetup: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dev = Loop(String::from_utf8_lossy(&out.stdout).trim().to_string());
    // Like a passed-through /dev/sr0 (root:cdrom 0660): readable through a group
    // the media user holds, not through ownership.
    let user = media_user(vec![]);
    let cdrom_like = user.gid; // the user's own group stands in for cdrom
    std::os::unix::fs::chown(&dev.0, Some(0), Some(cdrom_like)).expect("chgrp loop device");
    std::fs::set_permissions(&dev.0, std::os::unix::fs::PermissionsExt::from_mode(0o660))
        .expect("chmod loop device");
    env.settings.media_user = MediaUser {
        extra_gids: vec![cdrom_like],
        ..user
    };
    env.settings.drives = vec![DriveSettings {
        device: PathBuf::from(&dev.0),
        poll_seconds: 1,
    }];
    env.settings.rip.method = RipMethod::Dvdread;
    env.settings.rip.min_title_seconds = 1;
    env.save();
    let daemon = env.daemon();
    let found = wait_for(Duration::from_secs(30), || {
        env.cli_json(&["list", "--json"])
            .as_array()
            .and_then(|a| a.first().cloned())
    });
    let job = found.unwrap_or_else(|| panic!("disc not detected: {}", daemon.log_text()));
    assert_eq!(job["kind"], "disc");
    assert_eq!(job["source"], dev.0.as_str());
    let j = env.wait_final(1, Duration::from_secs(180));
    assert_eq!(j["state"], "done", "{j}\n{}", daemon.log_text());
    assert_eq!(
        env.library_files(),
        vec!["Movies/Test Movie/Test Movie.mkv"]
    );
    let published = env
        .settings
        .library_dir
        .join("Movies/Test Movie/Test Movie.mkv");
    let s = streams(&published);
    assert_eq!(
        s,
        vec![
            ("video".to_string(), String::new()),
            ("audio".to_string(), "eng".to_string())
        ]
    );
    assert!(
        (duration(&published) - 6.0).abs() < 0.5,
        "whole title ripped: {}",
        duration(&published)
    );
}
