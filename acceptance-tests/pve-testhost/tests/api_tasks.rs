//! Tasks and lifecycle: UPID format, task status and log, start/stop/destroy rules,
//! resize, listing endpoints and fault injection.

mod common;

use common::{encode, TestHost, TEMPLATE};
use regex::Regex;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upids_and_task_logs_have_pves_format() {
    let host = TestHost::start().await;
    let token = host.token_auth();
    let form = format!("vmid=300&ostemplate=local%3Avztmpl%2F{TEMPLATE}&rootfs=local%3A1");
    let resp = host
        .call(&token, "POST", "/nodes/pve/lxc", Some(form))
        .await;
    assert_eq!(resp.status, 200, "{resp:?}");
    let upid = resp.data().as_str().expect("upid").to_string();
    let re = Regex::new(
        r"^UPID:pve:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:vzcreate:300:root@pam!pvelxc:$",
    )
    .expect("re");
    assert!(re.is_match(&upid), "{upid}");
    let status = host.wait_task(&token, &upid).await;
    assert_eq!(status["exitstatus"], "OK");
    assert_eq!(status["type"], "vzcreate");
    assert_eq!(status["id"], "300");
    assert_eq!(status["user"], "root@pam!pvelxc");
    assert_eq!(status["upid"], upid.as_str());

    let log = host
        .call(
            &token,
            "GET",
            &format!("/nodes/pve/tasks/{}/log", encode(&upid)),
            None,
        )
        .await;
    let lines = log.data().as_array().expect("lines").clone();
    assert_eq!(log.body["total"].as_u64(), Some(lines.len() as u64));
    assert_eq!(lines[0]["n"], 1);
    assert_eq!(lines.last().expect("last")["t"], "TASK OK");
    let page = host
        .call(
            &token,
            "GET",
            &format!("/nodes/pve/tasks/{}/log?start=1&limit=1", encode(&upid)),
            None,
        )
        .await;
    assert_eq!(page.data().as_array().map(Vec::len), Some(1));
    assert_eq!(page.data()[0]["n"], 2);
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_stop_destroy_follow_pve_rules() {
    let host = TestHost::start().await;
    let token = host.token_auth();
    host.create_ct(
        &token,
        301,
        "rootfs=local%3A1&net0=name%3Deth0%2Cbridge%3Dvmbr0%2Cip%3D10.123.0.50%2F24",
    )
    .await;
    let again = host
        .call(
            &token,
            "POST",
            "/nodes/pve/lxc",
            Some(format!("vmid=301&ostemplate=local%3Avztmpl%2F{TEMPLATE}")),
        )
        .await;
    assert_eq!(
        (again.status, again.reason.as_str()),
        (500, "CT 301 already exists on node 'pve'")
    );
    let nextid = host
        .call(&token, "GET", "/cluster/nextid?vmid=301", None)
        .await;
    assert_eq!(nextid.status, 400);
    assert_eq!(nextid.error("vmid"), "VM 301 already exists");

    let stop = host
        .call(&token, "POST", "/nodes/pve/lxc/301/status/stop", None)
        .await;
    assert_eq!(
        (stop.status, stop.reason.as_str()),
        (500, "CT 301 not running")
    );
    let start = host
        .call(&token, "POST", "/nodes/pve/lxc/301/status/start", None)
        .await;
    host.wait_task(&token, start.data().as_str().expect("upid"))
        .await;
    let cur = host
        .call(&token, "GET", "/nodes/pve/lxc/301/status/current", None)
        .await;
    assert_eq!(cur.data()["status"], "running");
    assert_eq!(cur.data()["maxmem"], 512 * 1024 * 1024);
    let ifaces = host
        .call(&token, "GET", "/nodes/pve/lxc/301/interfaces", None)
        .await;
    let eth0 = ifaces
        .data()
        .as_array()
        .expect("list")
        .iter()
        .find(|i| i["name"] == "eth0")
        .cloned()
        .expect("eth0");
    assert_eq!(eth0["inet"], "10.123.0.50/24");

    let resources = host
        .call(&token, "GET", "/cluster/resources?type=vm", None)
        .await;
    assert_eq!(resources.data()[0]["id"], "lxc/301");
    assert_eq!(resources.data()[0]["status"], "running");

    let del = host
        .call(&token, "DELETE", "/nodes/pve/lxc/301", None)
        .await;
    assert_eq!(
        (del.status, del.reason.as_str()),
        (500, "unable to destroy CT 301 - container is running")
    );
    let del = host
        .call(&token, "DELETE", "/nodes/pve/lxc/301?force=1&purge=1", None)
        .await;
    assert_eq!(del.status, 200, "{del:?}");
    let status = host
        .wait_task(&token, del.data().as_str().expect("upid"))
        .await;
    assert_eq!(status["exitstatus"], "OK");
    assert!(!host.conf_path(301).exists());
    assert!(!host.root().join("var/lib/vz/images/301").exists());
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resize_grows_and_never_shrinks() {
    let host = TestHost::start().await;
    let token = host.token_auth();
    host.create_ct(&token, 302, "rootfs=local%3A4").await;
    let shrink = host
        .call(
            &token,
            "PUT",
            "/nodes/pve/lxc/302/resize",
            Some("disk=rootfs&size=2G".into()),
        )
        .await;
    assert_eq!(
        (shrink.status, shrink.reason.as_str()),
        (500, "unable to shrink disk size")
    );
    let bad = host
        .call(
            &token,
            "PUT",
            "/nodes/pve/lxc/302/resize",
            Some("disk=rootfs&size=2X".into()),
        )
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.error("size"), "value does not match the regex pattern");
    let grow = host
        .call(
            &token,
            "PUT",
            "/nodes/pve/lxc/302/resize",
            Some("disk=rootfs&size=%2B2G".into()),
        )
        .await;
    assert_eq!(grow.status, 200, "{grow:?}");
    let upid = grow.data().as_str().expect("upid").to_string();
    assert!(upid.contains(":resize:302:"), "{upid}");
    assert_eq!(host.wait_task(&token, &upid).await["exitstatus"], "OK");
    let cfg = host
        .call(&token, "GET", "/nodes/pve/lxc/302/config", None)
        .await;
    assert_eq!(cfg.data()["rootfs"], "local:302/vm-302-disk-0.raw,size=6G");
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_lists_templates() {
    let host = TestHost::start().await;
    let token = host.token_auth();
    let content = host
        .call(
            &token,
            "GET",
            "/nodes/pve/storage/local/content?content=vztmpl",
            None,
        )
        .await;
    assert_eq!(
        content.data()[0]["volid"],
        format!("local:vztmpl/{TEMPLATE}")
    );
    assert_eq!(content.data()[0]["format"], "tzst");
    let storages = host
        .call(&token, "GET", "/nodes/pve/storage?content=rootdir", None)
        .await;
    assert_eq!(storages.data()[0]["storage"], "local");
    let missing = host
        .call(&token, "GET", "/nodes/pve/storage/nfs/content", None)
        .await;
    assert_eq!(
        (missing.status, missing.reason.as_str()),
        (500, "storage 'nfs' does not exist")
    );
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_faults_fail_calls_and_tasks() {
    let host = TestHost::start().await;
    let token = host.token_auth();
    std::fs::write(
        host.faults_path(),
        r#"{"faults": [
            {"kind": "error", "count": 1, "method": "GET", "path": "/version", "message": "injected"},
            {"kind": "ct_locked", "count": 1, "path": "/nodes/*/lxc/303/config"},
            {"kind": "locked", "count": 1, "method": "PUT", "path": "/nodes/*/lxc/303/config"},
            {"kind": "task_failure", "count": 1, "method": "POST", "path": "/nodes/*/lxc", "message": "unpacking failed midway"},
            {"kind": "timeout", "count": 1, "path": "/cluster/resources", "seconds": 1}
        ]}"#,
    )
    .expect("fault file");
    let v = host.call(&token, "GET", "/version", None).await;
    assert_eq!((v.status, v.reason.as_str()), (500, "injected"));
    assert_eq!(host.call(&token, "GET", "/version", None).await.status, 200);

    let form = format!("vmid=303&ostemplate=local%3Avztmpl%2F{TEMPLATE}&rootfs=local%3A1");
    let resp = host
        .call(&token, "POST", "/nodes/pve/lxc", Some(form.clone()))
        .await;
    assert_eq!(resp.status, 200, "the call itself succeeds: {resp:?}");
    let status = host
        .wait_task(&token, resp.data().as_str().expect("upid"))
        .await;
    assert_eq!(status["exitstatus"], "unpacking failed midway");
    assert!(
        !host.conf_path(303).exists(),
        "failed create leaves no config"
    );
    assert!(
        !host.root().join("var/lib/vz/images/303").exists(),
        "nor volumes"
    );

    host.create_ct(&token, 303, "rootfs=local%3A1").await;
    let locked = host
        .call(&token, "GET", "/nodes/pve/lxc/303/config", None)
        .await;
    assert_eq!(
        (locked.status, locked.reason.as_str()),
        (500, "CT is locked (backup)")
    );
    let put = host
        .call(
            &token,
            "PUT",
            "/nodes/pve/lxc/303/config",
            Some("cores=2".into()),
        )
        .await;
    assert_eq!(put.status, 500);
    assert_eq!(
        put.reason,
        "can't lock file '/run/lock/lxc/pve-config-303.lock' - got timeout"
    );
    assert_eq!(
        host.call(&token, "GET", "/nodes/pve/lxc/303/config", None)
            .await
            .status,
        200
    );

    // A timeout fault holds the call and closes the connection without an answer.
    let started = std::time::Instant::now();
    let raw = common::raw_exchange(
        host.addr,
        &host.ca,
        &token,
        "GET",
        "/api2/json/cluster/resources",
    )
    .await;
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
    assert!(
        !raw.starts_with(b"HTTP/1.1 200"),
        "no normal answer: {}",
        String::from_utf8_lossy(&raw)
    );
    assert!(
        !raw.windows(4).any(|w| w == b"\r\n\r\n") || !raw.ends_with(b"}"),
        "no JSON body"
    );
    assert_eq!(
        host.call(&token, "GET", "/cluster/resources", None)
            .await
            .status,
        200
    );
    host.stop().await;
}
