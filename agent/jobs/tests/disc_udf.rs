//! UDF-only discs (Blu-ray class: UDF 2.50, no ISO 9660 bridge, no VIDEO_TS),
//! made with mkudffs: detected as such, and routed to MakeMKV, with a clear
//! failure when makemkvcon is absent instead of a failed DVD rip.

mod common;

use common::*;
use pvelxc_jobs::disc::{self, DiscKind, Poll};
use pvelxc_spec::jobs::DriveSettings;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// A blank UDF filesystem image as a disc mastering tool writes it.
fn mkudffs(path: &Path, media: &str, revision: &str, label: &str) {
    std::fs::File::create(path)
        .and_then(|f| f.set_len(16 << 20))
        .expect("image file");
    // Labels may be non-ASCII; mkudffs reads them in the locale's encoding, and a bare
    // environment (C locale) would refuse them.
    let out = Command::new("mkudffs")
        .env("LC_ALL", "C.UTF-8")
        .arg(format!("--media-type={media}"))
        .arg("--blocksize=2048")
        .arg(format!("--udfrev={revision}"))
        .arg(format!("--label={label}"))
        .arg(path)
        .output()
        .expect("mkudffs runs (apt-get install udftools)");
    assert!(
        out.status.success(),
        "mkudffs: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn probe(path: &Path) -> Poll {
    disc::probe(&mut std::fs::File::open(path).expect("open image"))
}

#[test]
fn udf_only_images_are_detected_with_label_and_revision() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bd = dir.path().join("bd.udf");
    mkudffs(&bd, "bdr", "0x0250", "MY_BLURAY");
    let Poll::Disc(id) = probe(&bd) else {
        panic!("not detected: {:?}", probe(&bd));
    };
    assert_eq!(id.label, "MY_BLURAY");
    assert_eq!(id.kind, DiscKind::UdfOnly { revision: 0x0250 });
    assert!(id.kind.needs_makemkv());
    assert_eq!(
        id.kind.to_string(),
        "UDF-only disc (UDF 2.50, no ISO 9660/VIDEO_TS; Blu-ray class)"
    );
    // Same disc, same identity; another disc, another one.
    assert_eq!(probe(&bd), Poll::Disc(id.clone()));
    let other = dir.path().join("other.udf");
    mkudffs(&other, "dvd", "0x0201", "Филм 2");
    let Poll::Disc(other_id) = probe(&other) else {
        panic!("not detected: {:?}", probe(&other));
    };
    assert_eq!(other_id.label, "Филм 2", "16-bit dstring label");
    assert_eq!(other_id.kind, DiscKind::UdfOnly { revision: 0x0201 });
    assert_ne!(other_id.fingerprint, id.fingerprint);

    // No filesystem at all stays unreadable.
    let blank = dir.path().join("blank.img");
    std::fs::File::create(&blank)
        .and_then(|f| f.set_len(1 << 20))
        .expect("blank");
    assert!(
        matches!(probe(&blank), Poll::Unreadable(_)),
        "{:?}",
        probe(&blank)
    );
}

#[test]
fn udf_only_disc_is_routed_to_makemkv_and_fails_clearly_without_it() {
    let mut env = Env::new();
    let image = env.path().join("drive.udf");
    mkudffs(&image, "bdr", "0x0250", "MY_BLURAY");
    env.settings.drives = vec![DriveSettings {
        device: image.clone(),
        poll_seconds: 1,
    }];
    env.settings.tools.makemkvcon = env.path().join("no-makemkv/makemkvcon");
    env.save();
    let daemon = env.daemon();
    let job = wait_for(Duration::from_secs(60), || {
        let list = env.cli_json(&["list"]);
        list.as_array()
            .and_then(|jobs| jobs.first().cloned())
            .filter(|j| j["state"] == "failed")
    })
    .unwrap_or_else(|| panic!("no failed disc job: {}", daemon.log_text()));
    assert_eq!(job["stage"], "rip", "{job}");
    let error = job["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("UDF-only disc (UDF 2.50")
            && error.contains("only MakeMKV can rip")
            && error.contains("makemkvcon was not found at")
            && error.contains("install MakeMKV"),
        "{error}"
    );
    assert!(
        daemon.log_text().contains("UDF-only disc"),
        "the disc kind is logged on insert: {}",
        daemon.log_text()
    );
    assert!(env.library_files().is_empty());
}
