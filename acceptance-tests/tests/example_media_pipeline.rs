//! The two pipeline examples applied the way a user would, against pve-testhost: both
//! containers, the node config and the in-container configuration from one `terraform apply`,
//! an empty second plan, and a source file dropped into staging that comes out of the
//! transcoder's job runner in the library with the runbook's streams, owned by the media user.
//!
//! `examples/media-pipeline` (privileged) on vmids 590/591 and
//! `examples/media-pipeline-unprivileged` (idmap passes UID/GID 1000 through) on 592/593,
//! each with a private pool under /mnt/storage so the demo's files are never touched. The
//! two run side by side: most of their time is package installs inside the transcoders.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use pvelxc_acceptance::agent_fixture::use_agent_binary;
use pvelxc_acceptance::terraform;
use pvelxc_acceptance::testhost::ContainerWorkspace;

const MEDIA_ID: u32 = 1000;

fn example_file(example: &str, name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(example)
        .join(name);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A directory owned by the media user, as the node's pool directories are.
fn media_dir(path: &Path) {
    fs::create_dir_all(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    std::os::unix::fs::chown(path, Some(MEDIA_ID), Some(MEDIA_ID)).expect("chown");
    fs::set_permissions(path, fs::Permissions::from_mode(0o2775)).expect("chmod");
}

/// A root for the node-side agent holding the account files a node has, so the test never
/// adds users to the machine running it.
fn seeded_node_root(path: &Path) {
    let etc = path.join("etc");
    fs::create_dir_all(&etc).expect("node root");
    for (name, text) in [
        ("passwd", "root:x:0:0:root:/root:/bin/bash\n"),
        ("group", "root:x:0:\n"),
        ("shadow", "root:*:20000:0:99999:7:::\n"),
        ("gshadow", "root:*::\n"),
    ] {
        fs::write(etc.join(name), text).expect("seed node root");
    }
}

/// Six seconds of video with eng/bul/fre audio and eng/bul/ger subtitles, written next to
/// `dest` and renamed into place so the runner never sees a partial file.
fn make_sample(dest: &Path) {
    let dir = dest.parent().expect("staging");
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut inputs: Vec<String> = Vec::new();
    for lang in ["eng", "bul", "ger"] {
        let srt = tmp.path().join(format!("{lang}.srt"));
        fs::write(&srt, format!("1\n00:00:00,500 --> 00:00:03,000\n{lang}\n")).expect("srt");
        inputs.push(srt.display().to_string());
    }
    let part = dir.join(".sample.mkv.tmp");
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-v", "error", "-y"]).args([
        "-f",
        "lavfi",
        "-i",
        "testsrc=duration=6:size=320x240:rate=25",
    ]);
    for freq in [440, 550, 660] {
        cmd.args([
            "-f",
            "lavfi",
            "-i",
            &format!("sine=frequency={freq}:duration=6"),
        ]);
    }
    for srt in &inputs {
        cmd.args(["-i", srt]);
    }
    for i in 0..7 {
        cmd.args(["-map", &i.to_string()]);
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
    ]);
    for (i, lang) in ["eng", "bul", "fre"].iter().enumerate() {
        cmd.arg(format!("-metadata:s:a:{i}"))
            .arg(format!("language={lang}"));
    }
    for (i, lang) in ["eng", "bul", "ger"].iter().enumerate() {
        cmd.arg(format!("-metadata:s:s:{i}"))
            .arg(format!("language={lang}"));
    }
    cmd.args(["-f", "matroska"]).arg(&part);
    let out = cmd.output().expect("run ffmpeg");
    assert!(
        out.status.success(),
        "ffmpeg failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::os::unix::fs::chown(&part, Some(MEDIA_ID), Some(MEDIA_ID)).expect("chown sample");
    fs::rename(&part, dest).expect("rename sample into staging");
}

/// `codec_name codec_type language` per stream (ffprobe's field order).
fn streams(file: &Path) -> Vec<String> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-show_entries"])
        .arg("stream=codec_type,codec_name:stream_tags=language")
        .args(["-of", "csv=p=0"])
        .arg(file)
        .output()
        .expect("run ffprobe");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.replace(',', " "))
        .collect()
}

/// Applies `examples/<example>` with the transcoder at `transcoder_vmid` (the ripper next to
/// it) and checks the whole outcome: empty second plan, a sample transcoded into the library
/// as media:media, the source kept, and still no changes afterwards.
fn pipeline_outcome(example: &str, transcoder_vmid: u32) {
    let cli = terraform::terraform_1_15().unwrap_or_else(|e| panic!("{e}"));
    use_agent_binary();
    let ripper_vmid = transcoder_vmid + 1;
    let ws = ContainerWorkspace::new(&cli, transcoder_vmid..=ripper_vmid);

    let pool = PathBuf::from(format!("/mnt/storage/pvelxc-example-{transcoder_vmid}"));
    let _ = fs::remove_dir_all(&pool);
    for dir in [pool.clone(), pool.join("staging"), pool.join("media")] {
        media_dir(&dir);
    }
    let node_root = PathBuf::from(format!(
        "/var/lib/pvelxc-acceptance/example-{transcoder_vmid}-node"
    ));
    let _ = fs::remove_dir_all(&node_root);
    seeded_node_root(&node_root);

    let config: String = ["main.tf", "config.tf", "variables.tf", "outputs.tf"]
        .iter()
        .map(|f| example_file(example, f))
        .collect::<Vec<_>>()
        .join("\n");
    ws.write(&config);
    fs::write(
        ws.wd.dir.join("terraform.tfvars"),
        format!(
            "storage = \"local\"\nbridge = {:?}\nverify_gpu = false\nnode_root = {:?}\n\
             storage_path = {:?}\ntranscoder_vmid = {transcoder_vmid}\nripper_vmid = {ripper_vmid}\n",
            ws.host.bridge,
            node_root.display().to_string(),
            pool.display().to_string(),
        ),
    )
    .expect("tfvars");

    ws.init();
    ws.apply();
    let plan = ws.plan_exit_code();
    assert_eq!(
        plan.code,
        0,
        "{example}: a second plan must be empty\n{}",
        plan.all()
    );

    let source = pool.join("staging/Example Run (2026).mkv");
    make_sample(&source);
    let published = pool.join("media/Movies/Example Run (2026)/Example Run (2026).mkv");
    let deadline = Instant::now() + Duration::from_secs(900);
    while !published.exists() {
        assert!(
            Instant::now() < deadline,
            "{example}: no library file after 15 minutes; the pool holds:\n{}",
            String::from_utf8_lossy(
                &Command::new("find")
                    .arg(&pool)
                    .output()
                    .map(|o| o.stdout)
                    .unwrap_or_default()
            )
        );
        std::thread::sleep(Duration::from_secs(2));
    }

    assert_eq!(
        streams(&published),
        [
            "hevc video",
            "aac audio eng",
            "aac audio bul",
            "subrip subtitle eng",
            "subrip subtitle bul",
        ],
        "the runbook's stream selection"
    );
    let meta = fs::metadata(&published).expect("library file");
    assert_eq!(
        (meta.uid(), meta.gid()),
        (MEDIA_ID, MEDIA_ID),
        "owned by media:media"
    );
    assert!(source.exists(), "the source is kept");

    let plan = ws.plan_exit_code();
    assert_eq!(
        plan.code,
        0,
        "{example}: still no changes after the job\n{}",
        plan.all()
    );

    drop(ws);
    let _ = fs::remove_dir_all(&pool);
    let _ = fs::remove_dir_all(&node_root);
}

#[test]
#[ignore = "needs pve-testhost; run scripts/test.sh"]
fn media_pipeline_example_builds_the_pipeline_and_transcodes_a_sample() {
    pipeline_outcome("media-pipeline", 590);
}

#[test]
#[ignore = "needs pve-testhost; run scripts/test.sh"]
fn unprivileged_media_pipeline_example_has_the_same_outcome() {
    pipeline_outcome("media-pipeline-unprivileged", 592);
}
