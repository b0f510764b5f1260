//! The node proven over its raw HTTP API alone, the way any PVE client drives it: an API
//! token for ordinary calls and a root@pam ticket where PVE requires root (host bind
//! mounts, `devN`). Raw `lxc.*` lines and the idmap delegation are edited over SSH, as
//! users do on a real node. Then, from inside the running containers:
//!
//! * a device with a cgroup rule passes the device cgroup (the stand-ins have no driver,
//!   so the open reaches the driver lookup and fails with ENXIO, never EPERM);
//! * a device without a rule is refused by the kernel's cgroup2 device filter (EPERM),
//!   while the same node on the node itself gives ENXIO;
//! * host bind mounts are present, and the `ro=1` one refuses writes (EROFS);
//! * a file written by UID 1000 in the unprivileged CT is owned by 1000 on the node.
//!
//! Runs against the node described by `$PVE_TESTHOST_ENV` (its `testhost.json` or
//! `testhost.env`), with CT ids 710 and 711, destroyed at the end even on failure.

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::{encode, request, Auth, Resp};
use serde_json::Value;

const PRIV: u32 = 710;
const UNPRIV: u32 = 711;
const TEMPLATE: &str = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst";
/// Scratch area on the node's shared storage, removed before and after the run.
const SCRATCH: &str = "/mnt/storage/raw-api-proof";

/// The raw lines a user adds by hand to pass `/dev/dri/card0` through.
const CARD0_LINES: &str = "lxc.cgroup2.devices.allow: c 226:0 rwm\n\
lxc.mount.entry: /dev/dri/card0 dev/dri/card0 none bind,optional,create=file\n";

/// The PVE wiki's recipe for passing UID/GID 1000 through an unprivileged CT.
const IDMAP_LINES: &str = "lxc.idmap: u 0 100000 1000\nlxc.idmap: g 0 100000 1000\n\
lxc.idmap: u 1000 1000 1\nlxc.idmap: g 1000 1000 1\n\
lxc.idmap: u 1001 101001 64535\nlxc.idmap: g 1001 101001 64535\n";

/// A running node as `pve-testhost up` describes it.
#[derive(Clone)]
struct Node {
    addr: SocketAddr,
    name: String,
    ca: PathBuf,
    token: Auth,
    password: String,
    ssh: Vec<String>,
}

impl Node {
    fn from_env() -> Node {
        let path = std::env::var("PVE_TESTHOST_ENV")
            .unwrap_or_else(|_| "/run/pve-testhost/testhost.json".into());
        let path = PathBuf::from(path).with_extension("json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; bring the node up first (pve-testhost up)",
                path.display()
            )
        });
        let info: Value = serde_json::from_str(&text).expect("testhost.json is JSON");
        let api = &info["api"];
        let endpoint = api["endpoint"].as_str().expect("api.endpoint");
        let authority = endpoint
            .trim_start_matches("https://")
            .split('/')
            .next()
            .expect("endpoint authority");
        let ssh = &info["ssh"];
        let field = |key: &str| ssh[key].as_str().expect(key).to_string();
        Node {
            addr: authority.parse().expect("endpoint is ip:port"),
            name: info["node"].as_str().unwrap_or("pve").to_string(),
            ca: PathBuf::from(api["ca_cert"].as_str().expect("api.ca_cert")),
            token: Auth::Token(format!(
                "PVEAPIToken={}",
                api["token"].as_str().expect("api.token")
            )),
            password: api["root_password"]
                .as_str()
                .expect("api.root_password")
                .to_string(),
            ssh: vec![
                "-i".into(),
                field("private_key"),
                "-p".into(),
                ssh["port"].as_u64().expect("ssh.port").to_string(),
                "-o".into(),
                format!("UserKnownHostsFile={}", field("known_hosts")),
                "-o".into(),
                "StrictHostKeyChecking=yes".into(),
                "-o".into(),
                "BatchMode=yes".into(),
                format!("{}@{}", field("user"), field("host")),
            ],
        }
    }

    async fn call(&self, auth: &Auth, method: &str, path: &str, form: Option<String>) -> Resp {
        let body = form.map(|f| ("application/x-www-form-urlencoded", f.into_bytes()));
        request(
            self.addr,
            &self.ca,
            auth,
            method,
            &format!("/api2/json{path}"),
            body,
        )
        .await
    }

    async fn ticket(&self) -> Auth {
        let form = format!("username=root%40pam&password={}", encode(&self.password));
        let resp = self
            .call(&Auth::None, "POST", "/access/ticket", Some(form))
            .await;
        assert_eq!(resp.status, 200, "root@pam login: {resp:?}");
        let field = |key: &str| resp.data()[key].as_str().expect(key).to_string();
        Auth::Ticket {
            ticket: field("ticket"),
            csrf: Some(field("CSRFPreventionToken")),
        }
    }

    fn lxc(&self, vmid: u32, rest: &str) -> String {
        format!("/nodes/{}/lxc/{vmid}{rest}", self.name)
    }

    /// Runs a call that starts a task and waits for the task to end; returns its status.
    async fn task(&self, auth: &Auth, method: &str, path: &str, form: Option<String>) -> Value {
        let resp = self.call(auth, method, path, form).await;
        assert_eq!(resp.status, 200, "{method} {path}: {resp:?}");
        let upid = resp.data().as_str().expect("a UPID").to_string();
        let status_path = format!("/nodes/{}/tasks/{}/status", self.name, encode(&upid));
        let deadline = Instant::now() + Duration::from_secs(180);
        while Instant::now() < deadline {
            let status = self.call(auth, "GET", &status_path, None).await;
            assert_eq!(status.status, 200, "task status: {status:?}");
            if status.data()["status"] == "stopped" {
                return status.data().clone();
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("task {upid} ({method} {path}) still running after 180 s");
    }

    async fn task_ok(&self, auth: &Auth, method: &str, path: &str, form: Option<String>) {
        let status = self.task(auth, method, path, form).await;
        assert_eq!(status["exitstatus"], "OK", "{method} {path}: {status}");
    }

    fn ssh(&self, remote: &str) -> Output {
        Command::new("ssh")
            .args(&self.ssh)
            .arg(remote)
            .output()
            .expect("ssh runs")
    }

    /// Runs on the node and requires success; returns stdout.
    fn ok(&self, remote: &str) -> String {
        let out = self.ssh(remote);
        assert!(
            out.status.success(),
            "node: '{remote}' failed: {}{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs on the node expecting failure; returns stderr.
    fn fails(&self, remote: &str) -> String {
        let out = self.ssh(remote);
        assert!(
            !out.status.success(),
            "node: '{remote}' unexpectedly succeeded: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// A command inside a CT through `pct exec`, with the argv kept intact.
    fn exec(vmid: u32, script: &str) -> String {
        format!("pct exec {vmid} -- sh -c '{script}'")
    }

    /// Destroys our CTs if they exist (running or not) and removes the scratch area.
    async fn clean(&self) {
        let ticket = self.ticket().await;
        for vmid in [PRIV, UNPRIV] {
            let exists = self
                .call(&self.token, "GET", &self.lxc(vmid, "/status/current"), None)
                .await;
            if exists.status != 200 {
                continue;
            }
            self.task_ok(&ticket, "DELETE", &self.lxc(vmid, "?force=1&purge=1"), None)
                .await;
        }
        self.ok(&format!("rm -rf {SCRATCH}"));
    }
}

/// The line in which `head` reports why it could not open its file (lxc-attach may log
/// its own lines around it).
fn open_error(stderr: &str) -> &str {
    stderr
        .lines()
        .find(|l| l.starts_with("head: cannot open"))
        .unwrap_or(stderr)
}

/// Form encoding of `key=value` pairs.
fn form(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs pve-testhost; run scripts/test.sh"]
async fn raw_api_containers_prove_passthrough_bind_mounts_and_idmap() {
    let node = Node::from_env();
    node.clean().await;
    let run = tokio::spawn(prove(node.clone())).await;
    node.clean().await;
    if let Err(failure) = run {
        std::panic::resume_unwind(failure.into_panic());
    }
    let left = node.ok("pct list");
    for vmid in [PRIV, UNPRIV] {
        assert!(
            !left.lines().any(|l| l.starts_with(&vmid.to_string())),
            "{left}"
        );
    }
}

async fn prove(node: Node) {
    let token = node.token.clone();
    let ticket = node.ticket().await;
    let (rw, ro, shared) = (
        format!("{SCRATCH}/rw"),
        format!("{SCRATCH}/ro"),
        format!("{SCRATCH}/shared1000"),
    );
    node.ok(&format!(
        // No set-group-ID bit inherited from the pool (a 2775 /mnt/storage would give every
        // new file the directory's group and hide the mapping this test checks).
        "mkdir -p {rw} {ro} {shared} && chown 1000:1000 {shared} && chmod g-s {shared} \
         && echo from-the-node > {ro}/hello.txt && echo from-the-node > {rw}/hello.txt"
    ));

    // Privileged CT: host bind mounts and dev0 are root@pam only, as on PVE.
    let privileged = form(&[
        ("vmid", PRIV.to_string()),
        ("ostemplate", TEMPLATE.into()),
        ("hostname", "raw-api-transcoder".into()),
        // PVE's create makes CTs unprivileged unless told otherwise.
        ("unprivileged", "0".into()),
        ("rootfs", "local:1".into()),
        ("mp0", format!("{rw},mp=/mnt/rw")),
        ("mp1", format!("{ro},mp=/mnt/ro,ro=1")),
        ("dev0", "/dev/dri/renderD128".into()),
    ]);
    let refused = node
        .call(
            &token,
            "POST",
            &format!("/nodes/{}/lxc", node.name),
            Some(privileged.clone()),
        )
        .await;
    assert_eq!(
        refused.status, 403,
        "a token may not bind-mount: {refused:?}"
    );
    assert!(
        [
            "Permission check failed (configuring device passthrough is only allowed for root@pam)",
            "Permission check failed (mount point type bind is only allowed for root@pam)",
        ]
        .contains(&refused.reason.as_str()),
        "{refused:?}"
    );
    let started = Instant::now();
    node.task_ok(
        &ticket,
        "POST",
        &format!("/nodes/{}/lxc", node.name),
        Some(privileged),
    )
    .await;
    println!(
        "create (API, privileged): {:.2}s",
        started.elapsed().as_secs_f64()
    );

    // Unprivileged CT with a bind mount for the UID 1000 share.
    let unprivileged = form(&[
        ("vmid", UNPRIV.to_string()),
        ("ostemplate", TEMPLATE.into()),
        ("hostname", "raw-api-media".into()),
        ("unprivileged", "1".into()),
        ("rootfs", "local:1".into()),
        ("mp0", format!("{shared},mp=/mnt/shared")),
    ]);
    node.task_ok(
        &ticket,
        "POST",
        &format!("/nodes/{}/lxc", node.name),
        Some(unprivileged),
    )
    .await;

    // Raw lines by hand over SSH; the API sees them at once, as with pmxcfs.
    node.ok(&format!(
        "printf '{}' >> /etc/pve/lxc/{PRIV}.conf",
        CARD0_LINES.replace('\n', "\\n")
    ));
    node.ok(&format!(
        "printf '{}' >> /etc/pve/lxc/{UNPRIV}.conf",
        IDMAP_LINES.replace('\n', "\\n")
    ));
    // newuidmap's rule: root must be delegated host ID 1000 in /etc/subuid and subgid.
    node.ok(
        "for f in /etc/subuid /etc/subgid; do grep -qx root:1000:1 $f || echo root:1000:1 >> $f; done",
    );
    let config = node
        .call(&token, "GET", &node.lxc(PRIV, "/config"), None)
        .await;
    assert_eq!(config.status, 200, "{config:?}");
    assert_eq!(
        config.data()["lxc"],
        serde_json::json!([
            ["lxc.cgroup2.devices.allow", "c 226:0 rwm"],
            [
                "lxc.mount.entry",
                "/dev/dri/card0 dev/dri/card0 none bind,optional,create=file"
            ]
        ])
    );
    assert_eq!(config.data()["mp1"], format!("{ro},mp=/mnt/ro,ro=1"));
    assert_eq!(config.data()["dev0"], "/dev/dri/renderD128");
    assert_eq!(config.data()["unprivileged"], 0, "{config:?}");
    let config = node
        .call(&token, "GET", &node.lxc(UNPRIV, "/config"), None)
        .await;
    assert_eq!(config.data()["unprivileged"], 1, "{config:?}");
    assert_eq!(config.data()["lxc"].as_array().map(Vec::len), Some(6));

    // Start both over the API (an ordinary call: the token suffices).
    for vmid in [PRIV, UNPRIV] {
        let started = Instant::now();
        node.task_ok(&token, "POST", &node.lxc(vmid, "/status/start"), None)
            .await;
        println!(
            "start (API) {vmid}: {:.2}s",
            started.elapsed().as_secs_f64()
        );
        let current = node
            .call(&token, "GET", &node.lxc(vmid, "/status/current"), None)
            .await;
        assert_eq!(current.data()["status"], "running", "{current:?}");
    }

    // Devices. Allowed ones pass the cgroup and reach the (absent) driver: ENXIO.
    for dev in ["/dev/dri/renderD128", "/dev/dri/card0"] {
        let numbers = node.ok(&Node::exec(PRIV, &format!("stat -c %t:%T {dev}")));
        let expected = if dev.ends_with("card0") {
            "e2:0"
        } else {
            "e2:80"
        };
        assert_eq!(numbers.trim(), expected, "{dev} inside the CT");
        let err = node.fails(&Node::exec(PRIV, &format!("head -c1 {dev}")));
        assert_eq!(
            open_error(&err),
            format!("head: cannot open '{dev}' for reading: No such device or address"),
            "{dev} must pass the device cgroup: {err}"
        );
    }
    // A node without a rule: the kernel's cgroup2 filter refuses the open.
    let denied = node.fails(&Node::exec(
        PRIV,
        "mknod /tmp/renderD129 c 226 129 && head -c1 /tmp/renderD129",
    ));
    assert_eq!(
        open_error(&denied),
        "head: cannot open '/tmp/renderD129' for reading: Operation not permitted",
        "{denied}"
    );
    // Control: the same device number on the node itself is only missing its driver.
    let on_node = node.fails(
        "mknod /tmp/raw-api-proof-d129 c 226 129; head -c1 /tmp/raw-api-proof-d129; \
         s=$?; rm -f /tmp/raw-api-proof-d129; exit $s",
    );
    assert_eq!(
        open_error(&on_node),
        "head: cannot open '/tmp/raw-api-proof-d129' for reading: No such device or address",
        "{on_node}"
    );

    // Bind mounts: present both ways, and read-only where set.
    assert_eq!(
        node.ok(&Node::exec(PRIV, "cat /mnt/rw/hello.txt /mnt/ro/hello.txt")),
        "from-the-node\nfrom-the-node\n"
    );
    node.ok(&Node::exec(PRIV, "echo from-the-ct > /mnt/rw/out.txt"));
    assert_eq!(node.ok(&format!("cat {rw}/out.txt")), "from-the-ct\n");
    let erofs = node.fails(&Node::exec(PRIV, "touch /mnt/ro/nope"));
    assert!(erofs.contains("Read-only file system"), "{erofs}");
    assert!(node.ssh(&format!("test -e {ro}/nope")).status.code() == Some(1));

    // UID 1000 in the unprivileged CT is UID 1000 on the node; root stays mapped.
    node.ok(&Node::exec(
        UNPRIV,
        "setpriv --reuid 1000 --regid 1000 --clear-groups touch /mnt/shared/by-1000",
    ));
    node.ok(&Node::exec(UNPRIV, "touch /mnt/shared/by-root"));
    assert_eq!(
        node.ok(&format!("stat -c '%u %g' {shared}/by-1000")).trim(),
        "1000 1000"
    );
    assert_eq!(
        node.ok(&format!("stat -c '%u %g' {shared}/by-root")).trim(),
        "100000 100000"
    );
}
