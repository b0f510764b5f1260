//! Schema validation and permissions as seen by a client: status line, message, errors.

mod common;

use common::{TestHost, TEMPLATE};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_net0_is_a_400_naming_net0() {
    let host = TestHost::start().await;
    let form = format!(
        "vmid=100&ostemplate=local%3Avztmpl%2F{TEMPLATE}&net0=bridge%3Dvmbr0%2Cip%3D10.0.0.5"
    );
    let resp = host
        .call(&host.token_auth(), "POST", "/nodes/pve/lxc", Some(form))
        .await;
    assert_eq!(resp.status, 400);
    assert_eq!(resp.reason, "Parameter verification failed.");
    assert_eq!(resp.body["message"], "Parameter verification failed.\n");
    assert_eq!(
        resp.error("net0"),
        "invalid format - format error\nnet0.ip: invalid format - value does not look like a valid ipv4 network configuration\n\nnet0.name: property is missing and it is not optional\n"
    );
    assert!(!host.conf_path(100).exists());
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_parameters_are_rejected() {
    let host = TestHost::start().await;
    let form = format!(
        "vmid=100&ostemplate=local%3Avztmpl%2F{TEMPLATE}&lxc.idmap=u+0+100000+65536&bogus=1"
    );
    let resp = host
        .call(&host.token_auth(), "POST", "/nodes/pve/lxc", Some(form))
        .await;
    assert_eq!(resp.status, 400);
    let msg =
        "property is not defined in schema and the schema does not allow additional properties";
    assert_eq!(resp.error("bogus"), msg);
    assert_eq!(resp.error("lxc.idmap"), msg);
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_bodies_and_booleans_are_validated() {
    let host = TestHost::start().await;
    let token = host.token_auth();
    let resp = host
        .call_json(&token, "POST", "/nodes/pve/lxc", json!({"vmid": 101, "ostemplate": format!("local:vztmpl/{TEMPLATE}"), "onboot": "yes", "memory": 8}))
        .await;
    assert_eq!(resp.status, 400);
    assert_eq!(
        resp.error("onboot"),
        "type check ('boolean') failed - got 'yes'"
    );
    assert_eq!(
        resp.error("memory"),
        "value must have a minimum value of 16"
    );
    let resp = host
        .call_json(&token, "POST", "/nodes/pve/lxc", json!({"vmid": 101, "ostemplate": format!("local:vztmpl/{TEMPLATE}"), "onboot": true, "memory": 1024, "rootfs": "local:1"}))
        .await;
    assert_eq!(resp.status, 200, "{resp:?}");
    let upid = resp.data().as_str().expect("upid").to_string();
    assert_eq!(host.wait_task(&token, &upid).await["exitstatus"], "OK");
    let conf = std::fs::read_to_string(host.conf_path(101)).expect("conf");
    assert!(conf.contains("onboot: 1\n"), "{conf}");
    assert!(conf.contains("memory: 1024\n"), "{conf}");
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_bind_mount_is_403_and_root_ticket_succeeds() {
    let host = TestHost::start().await;
    let media = host.dir.path().join("media");
    std::fs::create_dir_all(&media).expect("media dir");
    let mp0 = common::encode(&format!("{},mp=/media,ro=1", media.display()));
    let extra = format!("unprivileged=0&rootfs=local%3A1&mp0={mp0}");
    let form = format!("vmid=102&ostemplate=local%3Avztmpl%2F{TEMPLATE}&{extra}");
    let resp = host
        .call(&host.token_auth(), "POST", "/nodes/pve/lxc", Some(form))
        .await;
    assert_eq!(resp.status, 403);
    assert_eq!(
        resp.reason,
        "Permission check failed (mount point type bind is only allowed for root@pam)"
    );
    assert_eq!(
        resp.body["message"],
        "Permission check failed (mount point type bind is only allowed for root@pam)\n"
    );
    assert!(!host.conf_path(102).exists());

    let ticket = host.ticket_auth().await;
    host.create_ct(&ticket, 102, &extra).await;
    let resp = host
        .call(&ticket, "GET", "/nodes/pve/lxc/102/config", None)
        .await;
    assert_eq!(
        resp.data()["mp0"],
        format!("{},mp=/media,ro=1", media.display())
    );
    assert_eq!(resp.data()["unprivileged"], 0);

    // devN: refused for the token even on an existing CT, accepted for root@pam.
    let resp = host
        .call(
            &host.token_auth(),
            "PUT",
            "/nodes/pve/lxc/102/config",
            Some("dev0=%2Fdev%2Fnull%2Cgid%3D44".into()),
        )
        .await;
    assert_eq!(resp.status, 403);
    assert_eq!(
        resp.reason,
        "Permission check failed (configuring device passthrough is only allowed for root@pam)"
    );
    let resp = host
        .call(
            &ticket,
            "PUT",
            "/nodes/pve/lxc/102/config",
            Some("dev0=%2Fdev%2Fnull%2Cgid%3D44".into()),
        )
        .await;
    assert_eq!(resp.status, 200, "{resp:?}");
    let conf = std::fs::read_to_string(host.conf_path(102)).expect("conf");
    assert!(conf.contains("dev0: /dev/null,gid=44\n"), "{conf}");

    // Feature flags of a privileged CT are root@pam only.
    let resp = host
        .call(
            &host.token_auth(),
            "PUT",
            "/nodes/pve/lxc/102/config",
            Some("features=nesting%3D1".into()),
        )
        .await;
    assert_eq!(resp.status, 403);
    assert_eq!(resp.reason, "Permission check failed (changing feature flags for privileged container is only allowed for root@pam)");
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_node_and_method() {
    let host = TestHost::start().await;
    let token = host.token_auth();
    let resp = host.call(&token, "GET", "/nodes/other/lxc", None).await;
    assert_eq!(resp.status, 500);
    assert!(
        resp.reason.starts_with("hostname lookup 'other' failed"),
        "{}",
        resp.reason
    );
    let resp = host.call(&token, "GET", "/nodes/pve/qemu", None).await;
    assert_eq!(resp.status, 501);
    assert_eq!(resp.reason, "Method 'GET /nodes/pve/qemu' not implemented");
    let resp = host
        .call(&token, "GET", "/cluster/nextid?vmid=99", None)
        .await;
    assert_eq!(resp.status, 400);
    assert_eq!(
        resp.error("vmid"),
        "invalid format - value does not look like a valid VM ID\n"
    );
    host.stop().await;
}
