//! MakeMKV: the robot-output parser on realistic transcripts, and the rip stage
//! end to end with a transcript-replaying stand-in for `makemkvcon` and a disc
//! image file as the drive (detected through the ISO 9660 fallback probe).

mod common;

use common::*;
use pvelxc_jobs::makemkv::{Report, RipFailure};
use pvelxc_spec::jobs::{DriveSettings, JobMode, RipMethod};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/makemkv")
}

fn transcript(name: &str) -> Report {
    let text = std::fs::read_to_string(data().join(name)).expect("fixture");
    Report::from_text(
        &text
            .replace("@DEVICE@", "/dev/sr0")
            .replace("@OUTDIR@", "/srv/rip"),
    )
}

#[test]
fn multiple_drives_resolve_disc_index_from_device_path() {
    let r = transcript("drives.txt");
    assert_eq!(r.drives.len(), 16);
    assert_eq!(
        r.drive_index("/dev/sr0"),
        Some(1),
        "disc:N is MakeMKV's index, not /dev/srN"
    );
    assert_eq!(r.drive_index("/dev/sr2"), Some(0));
    assert_eq!(r.drive_index("/dev/sr9"), None);
    assert_eq!(r.drives[1].state, 2, "media inserted");
}

#[test]
fn main_feature_is_longest_title_above_minimum_then_most_chapters() {
    let r = transcript("info.txt");
    assert_eq!(r.titles.len(), 3);
    assert_eq!(r.disc_name.as_deref(), Some("Test Feature"));
    assert_eq!(r.volume_name.as_deref(), Some("TEST_FEATURE"));
    let main = r.main_feature(600).expect("main feature");
    assert_eq!(main.index, 1);
    assert_eq!(main.seconds, 6723);
    assert_eq!(main.chapters, 24);
    assert_eq!(main.bytes, 5_476_532_224);
    assert_eq!(main.output_file, "Test_Feature_t01.mkv");
    assert_eq!(main.languages, vec!["eng", "bul", "eng"]);
    assert!(r.main_feature(7000).is_none(), "nothing is long enough");
}

#[test]
fn success_and_failure_come_from_messages_not_exit_codes() {
    let ok = transcript("mkv-success.txt");
    assert_eq!(ok.outcome(), Ok(1));
    assert_eq!(ok.progress, 1.0);
    let failed = transcript("mkv-failed-title.txt");
    assert_eq!(
        failed.outcome(),
        Err(RipFailure::Titles {
            saved: 0,
            failed: 1
        })
    );
    let expired = transcript("info-expired.txt");
    assert!(matches!(expired.outcome(), Err(RipFailure::KeyExpired(m)) if m.contains("too old")));
    let empty =
        Report::from_text("MSG:1005,0,1,\"MakeMKV v1.17.8 started\",\"%1 started\",\"x\"\n");
    assert!(
        matches!(empty.outcome(), Err(RipFailure::NoResult(_))),
        "no completion message is no success"
    );
}

/// A disc image with a VIDEO_TS folder, standing in for the disc in a drive.
fn disc_image(dir: &Path, label: &str) -> PathBuf {
    let root = dir.join("disc-root");
    std::fs::create_dir_all(root.join("VIDEO_TS")).expect("mkdir");
    std::fs::write(root.join("VIDEO_TS/VIDEO_TS.IFO"), vec![0u8; 4096]).expect("ifo");
    let iso = dir.join("disc.iso");
    let st = Command::new("xorriso")
        .args(["-as", "mkisofs", "-quiet", "-V", label, "-o"])
        .stderr(std::process::Stdio::null())
        .arg(&iso)
        .arg(&root)
        .status()
        .expect("xorriso (apt install xorriso)");
    assert!(st.success());
    iso
}

struct Rig {
    env: Env,
    log: PathBuf,
    vars: Vec<(String, String)>,
}

fn rig(info: &str, mkv: &str) -> Rig {
    rig_in_mode(info, mkv, JobMode::Both)
}

fn rig_in_mode(info: &str, mkv: &str, mode: JobMode) -> Rig {
    let mut env = Env::new();
    env.settings.mode = mode;
    let iso = disc_image(env.path(), "TEST_FEATURE");
    let source = env.path().join("title.mkv");
    make_source(&source, 3, "320x240", &["eng", "bul"], &["eng"]);
    env.settings.drives = vec![DriveSettings {
        device: iso.clone(),
        poll_seconds: 1,
    }];
    env.settings.rip.method = RipMethod::Makemkv;
    env.settings.rip.min_title_seconds = 600;
    env.settings.tools.makemkvcon = data().join("fake-makemkvcon");
    env.save();
    let log = env.path().join("makemkvcon.log");
    let vars = vec![
        ("FAKE_MAKEMKV_DIR".to_string(), data().display().to_string()),
        ("FAKE_MAKEMKV_LOG".to_string(), log.display().to_string()),
        ("FAKE_MAKEMKV_DEVICE".to_string(), iso.display().to_string()),
        (
            "FAKE_MAKEMKV_SOURCE".to_string(),
            source.display().to_string(),
        ),
        ("FAKE_MAKEMKV_INFO".to_string(), info.to_string()),
        ("FAKE_MAKEMKV_MKV".to_string(), mkv.to_string()),
    ];
    Rig { env, log, vars }
}

impl Rig {
    fn run_first_job(&self) -> (serde_json::Value, Daemon) {
        let vars: Vec<(&str, &str)> = self
            .vars
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let daemon = self.env.daemon_with_env(&vars);
        let appeared = wait_for(Duration::from_secs(30), || {
            self.env
                .cli_json(&["list", "--json"])
                .as_array()
                .filter(|a| !a.is_empty())
                .map(|_| ())
        });
        assert!(
            appeared.is_some(),
            "disc not detected: {}",
            daemon.log_text()
        );
        (self.env.wait_final(1, Duration::from_secs(120)), daemon)
    }
}

#[test]
fn disc_is_detected_ripped_with_makemkv_transcoded_and_published() {
    let r = rig("info.txt", "mkv-success.txt");
    let (j, daemon) = r.run_first_job();
    assert_eq!(j["state"], "done", "{j}\n{}", daemon.log_text());
    assert_eq!(j["kind"], "disc");
    assert_eq!(
        r.env.library_files(),
        vec!["Movies/Test Feature/Test Feature.mkv"]
    );
    let calls = std::fs::read_to_string(&r.log).expect("calls");
    let mkv = calls
        .lines()
        .find(|l| l.contains(" mkv "))
        .expect("an mkv call");
    assert!(
        mkv.contains("mkv disc:1 1 "),
        "rips MakeMKV drive 1 (our device), title 1 (main feature): {mkv}"
    );
    assert!(mkv.contains("--minlength=600"), "{mkv}");
    // The same disc left in the drive is not ripped again.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        r.env
            .cli_json(&["list", "--json"])
            .as_array()
            .map(|a| a.len()),
        Some(1)
    );
}

#[test]
fn a_failed_title_fails_the_job_even_though_makemkvcon_exits_0() {
    let r = rig("info.txt", "mkv-failed-title.txt");
    let (j, _daemon) = r.run_first_job();
    assert_eq!(j["state"], "failed");
    assert_eq!(j["stage"], "rip");
    assert!(
        j["error"]
            .as_str()
            .unwrap()
            .contains("0 titles saved, 1 failed"),
        "{j}"
    );
    assert!(r.env.library_files().is_empty());
}

#[test]
fn an_expired_key_is_reported_as_such() {
    let r = rig("info-expired.txt", "mkv-success.txt");
    let (j, _daemon) = r.run_first_job();
    assert_eq!(j["state"], "failed");
    let e = j["error"].as_str().unwrap();
    assert!(
        e.contains("key or version expired") && e.contains("makemkvcon reg"),
        "{e}"
    );
}

#[test]
fn a_ripper_hands_the_rip_to_staging_untranscoded() {
    let r = rig_in_mode("info.txt", "mkv-success.txt", JobMode::Rip);
    let (j, daemon) = r.run_first_job();
    assert_eq!(j["state"], "done", "{j}\n{}", daemon.log_text());
    let staged = r.env.settings.staging_dir.join("Test Feature.mkv");
    let source = r.env.path().join("title.mkv");
    assert_eq!(
        digest(&staged),
        digest(&source),
        "the rip itself, bit for bit"
    );
    assert!(
        r.env.library_files().is_empty(),
        "a ripper never writes the library"
    );
    let hidden: Vec<_> = std::fs::read_dir(&r.env.settings.staging_dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
        .collect();
    assert!(hidden.is_empty(), "no .part left behind");
}
