//! Config reads and writes: digest compare-and-swap, raw lxc entries, pending changes
//! of running containers, hand edits seen immediately.

mod common;

use common::{Auth, TestHost};
use serde_json::Value;

async fn start_ct(host: &TestHost, auth: &Auth, vmid: u32) {
    let resp = host
        .call(
            auth,
            "POST",
            &format!("/nodes/pve/lxc/{vmid}/status/start"),
            None,
        )
        .await;
    assert_eq!(resp.status, 200, "{resp:?}");
    let status = host
        .wait_task(auth, resp.data().as_str().expect("upid"))
        .await;
    assert_eq!(status["exitstatus"], "OK");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_digest_gets_pves_error() {
    let host = TestHost::start().await;
    let token = host.token_auth();
    host.create_ct(&token, 200, "hostname=media&rootfs=local%3A2")
        .await;
    let resp = host
        .call(&token, "GET", "/nodes/pve/lxc/200/config", None)
        .await;
    let digest = resp.data()["digest"].as_str().expect("digest").to_string();
    assert_eq!(digest.len(), 40);
    let ok = host
        .call(
            &token,
            "PUT",
            "/nodes/pve/lxc/200/config",
            Some(format!("cores=2&digest={digest}")),
        )
        .await;
    assert_eq!(ok.status, 200, "{ok:?}");
    assert!(ok.data().is_null());
    let stale = host
        .call(
            &token,
            "PUT",
            "/nodes/pve/lxc/200/config",
            Some(format!("cores=4&digest={digest}")),
        )
        .await;
    assert_eq!(stale.status, 500);
    assert_eq!(
        stale.reason,
        "detected modified configuration - file changed by other user? Try again."
    );
    assert_eq!(
        stale.body["message"],
        "detected modified configuration - file changed by other user? Try again.\n"
    );
    let conf = std::fs::read_to_string(host.conf_path(200)).expect("conf");
    assert!(
        conf.contains("cores: 2\n") && !conf.contains("cores: 4"),
        "{conf}"
    );
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hand_edits_and_raw_lxc_lines_are_returned_as_pve_does() {
    let host = TestHost::start().await;
    let token = host.token_auth();
    host.create_ct(&token, 201, "rootfs=local%3A1").await;
    let path = host.conf_path(201);
    let mut conf = std::fs::read_to_string(&path).expect("conf");
    conf.push_str("lxc.cgroup2.devices.allow: c 226:0 rwm\nlxc.mount.entry: /dev/dri dev/dri none bind,optional,create=dir\n");
    std::fs::write(&path, &conf).expect("hand edit");
    let resp = host
        .call(&token, "GET", "/nodes/pve/lxc/201/config", None)
        .await;
    assert_eq!(
        resp.data()["lxc"],
        serde_json::json!([
            ["lxc.cgroup2.devices.allow", "c 226:0 rwm"],
            [
                "lxc.mount.entry",
                "/dev/dri dev/dri none bind,optional,create=dir"
            ]
        ])
    );
    assert_eq!(resp.data()["memory"], 512, "integers are JSON numbers");
    // A PUT keeps the raw lines after the normal keys.
    let resp = host
        .call(
            &token,
            "PUT",
            "/nodes/pve/lxc/201/config",
            Some("description=Media%20box%3A%20100%25".into()),
        )
        .await;
    assert_eq!(resp.status, 200, "{resp:?}");
    let conf = std::fs::read_to_string(&path).expect("conf");
    assert!(conf.starts_with("#Media box%3A 100%25\n"), "{conf}");
    assert!(conf.ends_with("lxc.cgroup2.devices.allow: c 226:0 rwm\nlxc.mount.entry: /dev/dri dev/dri none bind,optional,create=dir\n"), "{conf}");
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_container_changes_go_pending_with_hotplug_rules() {
    let host = TestHost::start().await;
    let token = host.token_auth();
    host.create_ct(&token, 202, "rootfs=local%3A1&timezone=host")
        .await;
    start_ct(&host, &token, 202).await;

    // hostname is fast-plugged, memory hot-plugged, arch and timezone deletion stay pending.
    let resp = host
        .call(
            &token,
            "PUT",
            "/nodes/pve/lxc/202/config",
            Some("hostname=jelly&memory=2048&arch=arm64&delete=timezone".into()),
        )
        .await;
    assert_eq!(resp.status, 200, "{resp:?}");
    let conf = std::fs::read_to_string(host.conf_path(202)).expect("conf");
    let (main, pending) = conf.split_once("[pve:pending]\n").expect("pending section");
    assert!(
        main.contains("hostname: jelly\n") && main.contains("memory: 2048\n"),
        "{conf}"
    );
    assert!(
        main.contains("arch: amd64\n") && main.contains("timezone: host\n"),
        "{conf}"
    );
    assert_eq!(pending, "arch: arm64\ndelete: timezone\n");

    let merged = host
        .call(&token, "GET", "/nodes/pve/lxc/202/config", None)
        .await;
    assert_eq!(merged.data()["arch"], "arm64");
    assert!(merged.data().get("timezone").is_none());
    let current = host
        .call(&token, "GET", "/nodes/pve/lxc/202/config?current=1", None)
        .await;
    assert_eq!(current.data()["arch"], "amd64");
    assert_eq!(current.data()["timezone"], "host");

    let pending = host
        .call(&token, "GET", "/nodes/pve/lxc/202/pending", None)
        .await;
    let items = pending.data().as_array().expect("array");
    let item = |key: &str| {
        items
            .iter()
            .find(|i| i["key"] == key)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(
        item("arch"),
        serde_json::json!({"key": "arch", "value": "amd64", "pending": "arm64"})
    );
    assert_eq!(
        item("timezone"),
        serde_json::json!({"key": "timezone", "value": "host", "delete": 1})
    );
    assert_eq!(
        item("memory"),
        serde_json::json!({"key": "memory", "value": 2048})
    );

    // revert drops a pending change.
    let resp = host
        .call(
            &token,
            "PUT",
            "/nodes/pve/lxc/202/config",
            Some("revert=arch".into()),
        )
        .await;
    assert_eq!(resp.status, 200, "{resp:?}");
    let conf = std::fs::read_to_string(host.conf_path(202)).expect("conf");
    assert!(
        conf.ends_with("[pve:pending]\ndelete: timezone\n"),
        "{conf}"
    );

    // Stop and start: pending changes are applied on start.
    let stop = host
        .call(&token, "POST", "/nodes/pve/lxc/202/status/stop", None)
        .await;
    host.wait_task(&token, stop.data().as_str().expect("upid"))
        .await;
    start_ct(&host, &token, 202).await;
    let conf = std::fs::read_to_string(host.conf_path(202)).expect("conf");
    assert!(
        !conf.contains("[pve:pending]") && !conf.contains("timezone"),
        "{conf}"
    );
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_checks_options_like_pve() {
    let host = TestHost::start().await;
    let token = host.token_auth();
    host.create_ct(&token, 203, "rootfs=local%3A1").await;
    let resp = host
        .call(
            &token,
            "PUT",
            "/nodes/pve/lxc/203/config",
            Some("digest=abc".into()),
        )
        .await;
    assert_eq!(
        (resp.status, resp.reason.as_str()),
        (500, "no options specified")
    );
    let resp = host
        .call(
            &token,
            "PUT",
            "/nodes/pve/lxc/203/config",
            Some("cores=2&delete=cores".into()),
        )
        .await;
    assert_eq!(resp.status, 400);
    assert_eq!(
        resp.error("delete"),
        "you can't use '-cores' and -delete cores' at the same time"
    );
    let resp = host
        .call(
            &token,
            "PUT",
            "/nodes/pve/lxc/203/config",
            Some("delete=memory".into()),
        )
        .await;
    assert_eq!(
        (resp.status, resp.reason.as_str()),
        (500, "unable to delete required option 'memory'")
    );
    let resp = host
        .call(
            &token,
            "PUT",
            "/nodes/pve/lxc/203/config",
            Some("unprivileged=0".into()),
        )
        .await;
    assert_eq!(
        (resp.status, resp.reason.as_str()),
        (500, "unable to modify read-only option: 'unprivileged'")
    );
    let resp = host
        .call(
            &token,
            "PUT",
            "/nodes/pve/lxc/203/config",
            Some("delete=mp0%2Cbogus1".into()),
        )
        .await;
    assert_eq!(resp.status, 400);
    assert_eq!(resp.error("delete"), "unknown option 'bogus1'");
    // A new volume mount point on a stopped CT is allocated at once.
    let resp = host
        .call(
            &token,
            "PUT",
            "/nodes/pve/lxc/203/config",
            Some("mp0=local%3A2%2Cmp%3D%2Fdata".into()),
        )
        .await;
    assert_eq!(resp.status, 200, "{resp:?}");
    let cfg = host
        .call(&token, "GET", "/nodes/pve/lxc/203/config", None)
        .await;
    assert_eq!(
        cfg.data()["mp0"],
        "local:203/vm-203-disk-1.raw,mp=/data,size=2G"
    );
    assert!(host
        .root()
        .join("var/lib/vz/images/203/vm-203-disk-1.raw")
        .is_dir());
    host.stop().await;
}
