//! End to end through the real daemon and real ffmpeg: the runbook's stream
//! selection, notifications and the Jellyfin scan on the wire, the status
//! endpoint, and ingest from staging.

mod common;

use common::*;
use pvelxc_spec::jobs::JellyfinSettings;
use std::io::Read;
use std::sync::mpsc;
use std::time::Duration;

struct Received {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: String,
}

/// A loopback HTTP receiver standing in for ntfy, a webhook and Jellyfin.
fn receiver() -> (u16, mpsc::Receiver<Received>) {
    let server = tiny_http::Server::http("127.0.0.1:0").expect("listen");
    let port = server.server_addr().to_ip().expect("ip").port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for mut req in server.incoming_requests() {
            let mut body = String::new();
            let _ = req.as_reader().read_to_string(&mut body);
            let r = Received {
                method: req.method().to_string(),
                url: req.url().to_string(),
                headers: req
                    .headers()
                    .iter()
                    .map(|h| (h.field.to_string(), h.value.to_string()))
                    .collect(),
                body,
            };
            let _ = req.respond(tiny_http::Response::empty(204));
            if tx.send(r).is_err() {
                return;
            }
        }
    });
    (port, rx)
}

fn header<'a>(r: &'a Received, name: &str) -> Option<&'a str> {
    r.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[test]
fn runbook_stream_selection_publish_notify_and_metrics() {
    let mut env = Env::new();
    let (port, rx) = receiver();
    env.settings.notify = vec![
        format!("ntfy://127.0.0.1:{port}/media"),
        format!("json://127.0.0.1:{port}/hook"),
    ];
    env.settings.jellyfin = Some(JellyfinSettings {
        url: format!("http://127.0.0.1:{port}"),
        token: "s3cret-token".into(),
        library_path: Some("/media".into()),
    });
    env.save();
    let full = env.path().join("full.mkv");
    make_source(
        &full,
        3,
        "320x240",
        &["eng", "bul", "fre"],
        &["eng", "bul", "ger"],
    );
    let no_bul = env.path().join("nobul.mkv");
    make_source(&no_bul, 3, "320x240", &["fre", "eng"], &["ger", "eng"]);
    let full_digest = digest(&full);

    let daemon = env.daemon();
    let a = env.add(&full, &["--title", "Full Film", "--year", "2010"]);
    let b = env.add(
        &no_bul,
        &["--title", "Show", "--season", "1", "--episode", "2"],
    );
    // Adding the same file again is a no-op returning the same job.
    let again = env.cli_json(&[
        "add",
        full.to_str().unwrap(),
        "--title",
        "Full Film",
        "--year",
        "2010",
    ]);
    assert_eq!(again["id"].as_i64(), Some(a));
    assert_eq!(again["created"], false);

    for id in [a, b] {
        let j = env.wait_final(id, Duration::from_secs(120));
        assert_eq!(j["state"], "done", "{j}\n{}", daemon.log_text());
    }
    assert_eq!(
        env.library_files(),
        vec![
            "Movies/Full Film (2010)/Full Film (2010).mkv",
            "TV/Show/Season 01/Show S01E02.mkv"
        ]
    );
    let lib = &env.settings.library_dir;
    let out = lib.join("Movies/Full Film (2010)/Full Film (2010).mkv");
    let s = |t: &str, l: &str| (t.to_string(), l.to_string());
    assert_eq!(
        streams(&out),
        vec![
            s("video", ""),
            s("audio", "eng"),
            s("audio", "bul"),
            s("subtitle", "eng"),
            s("subtitle", "bul")
        ]
    );
    assert_eq!(
        streams(&lib.join("TV/Show/Season 01/Show S01E02.mkv")),
        vec![s("video", ""), s("audio", "eng"), s("subtitle", "eng")]
    );
    assert!((duration(&out) - duration(&full)).abs() < 0.25);
    assert_eq!(
        digest(&full),
        full_digest,
        "source must be untouched (policy keep)"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o664, "library files are group-writable");
    let dmode = std::fs::metadata(out.parent().unwrap())
        .unwrap()
        .permissions()
        .mode()
        & 0o7777;
    assert_eq!(dmode, 0o2775);
    assert!(
        !env.settings.work_dir.join(format!("job-{a}")).exists(),
        "work folder cleaned"
    );

    // Two notifications and one Jellyfin scan per job.
    let got: Vec<Received> = (0..6)
        .map(|_| rx.recv_timeout(Duration::from_secs(10)).expect("request"))
        .collect();
    let ntfy: Vec<&Received> = got.iter().filter(|r| r.url == "/media").collect();
    assert_eq!(ntfy.len(), 2);
    assert!(ntfy
        .iter()
        .any(|r| header(r, "Title") == Some("Published Full Film")));
    let hook = got.iter().find(|r| r.url == "/hook").expect("webhook");
    let v: serde_json::Value = serde_json::from_str(&hook.body).expect("json body");
    assert_eq!(v["type"], "success");
    let jf: Vec<&Received> = got
        .iter()
        .filter(|r| r.url == "/Library/Media/Updated")
        .collect();
    assert_eq!(jf.len(), 2);
    assert!(jf.iter().all(|r| r.method == "POST"
        && header(r, "Authorization") == Some("MediaBrowser Token=\"s3cret-token\"")));
    let paths: Vec<String> = jf
        .iter()
        .map(|r| {
            serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["Updates"][0]["Path"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(
        paths.contains(&"/media/Movies/Full Film (2010)/Full Film (2010).mkv".to_string()),
        "{paths:?}"
    );

    // Metrics over HTTP.
    let metrics = http_get(&env.settings.status_listen, "/metrics");
    assert!(
        metrics.contains("pvelxc_jobs{state=\"done\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("pvelxc_jobs_stage_runs_total{stage=\"transcode\"} 2"),
        "{metrics}"
    );
    let status = http_get(&env.settings.status_listen, "/status");
    assert!(status.contains("\"done\":2"), "{status}");
    assert!(
        !daemon.log_text().contains("s3cret-token"),
        "the Jellyfin token must never be logged"
    );
}

fn http_get(addr: &str, path: &str) -> String {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    out
}

#[test]
fn staged_file_is_picked_up_after_settling_and_deleted_by_policy() {
    let mut env = Env::new();
    env.settings.source_policy = pvelxc_spec::jobs::SourcePolicy::Delete;
    env.settings.verify.full_decode = true;
    env.save();
    let _daemon = env.daemon();
    let tmp = env.path().join("Staged Film (1999).mkv");
    make_source(&tmp, 2, "320x240", &["eng"], &[]);
    let staged = env.settings.staging_dir.join("Staged Film (1999).mkv");
    std::fs::rename(&tmp, &staged).expect("stage");
    let done = wait_for(Duration::from_secs(90), || {
        (env.library_files() == vec!["Movies/Staged Film (1999)/Staged Film (1999).mkv"]
            && !staged.exists())
        .then_some(())
    });
    assert!(
        done.is_some(),
        "library: {:?}, staged exists: {}",
        env.library_files(),
        staged.exists()
    );
}

#[test]
fn hardware_profile_falls_back_to_software_when_the_test_encode_fails() {
    use pvelxc_jobs::ffmpeg::hwaccel::EncoderCheck;
    use pvelxc_jobs::privilege::Sandbox;
    use pvelxc_spec::jobs::{TranscodeProfile, VideoEncoder};
    let sandbox = Sandbox {
        uid: nix::unistd::geteuid().as_raw(),
        gid: nix::unistd::getegid().as_raw(),
        groups: vec![],
        nice: 0,
        ionice_level: 4,
    };
    let vaapi = TranscodeProfile {
        video: VideoEncoder::Vaapi {
            device: "/dev/dri/renderD199".into(),
            qp: 24,
        },
        ..TranscodeProfile::default()
    };
    let check = EncoderCheck::default();
    let (chosen, why) = check.choose(std::path::Path::new("ffmpeg"), &sandbox, &vaapi);
    assert_eq!(
        chosen,
        TranscodeProfile::default().video,
        "falls back to the runbook's libx265"
    );
    assert!(why.expect("a reason").contains("test encode"));
    // Software profiles need no test encode.
    let (chosen, why) = check.choose(std::path::Path::new("ffmpeg"), &sandbox, &fast_profile());
    assert_eq!(chosen, fast_profile().video);
    assert!(why.is_none());
}
