//! The static agent inside real LXC containers (Debian 12 rootfs from
//! `scripts/build-template.sh`), privileged and unprivileged: it converges the
//! runbook's in-container steps for the transcoder and the ripper, a second run
//! changes nothing, and `--check` on a fresh container leaves the rootfs
//! byte-identical.
//!
//! `PVELXC_AGENT=/path/to/static/pvelxc-agent` uses that binary instead of running
//! `scripts/build-agent.sh`.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const TEMPLATE: &str = "/var/cache/pvelxc/templates/debian-12-standard_12.7-1_amd64.tar.zst";
/// First host id of an unprivileged container's mapping (PVE's default).
const SHIFT: u32 = 100_000;
/// GID the host gives the stand-in render node: not a group in the template.
const HOST_RENDER_GID: u32 = 2105;
/// GID of `netdev` in the template: a device carrying it forces a renumbering.
const NETDEV_GID: u32 = 102;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sh(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    out
}

fn ok(cmd: &mut Command) -> String {
    let out = sh(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Lets root map 100000-165535 into unprivileged containers (newuidmap checks
/// /etc/subuid and /etc/subgid), as on a PVE node.
fn ensure_subids() {
    for file in ["/etc/subuid", "/etc/subgid"] {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        if !text.lines().any(|l| l == format!("root:{SHIFT}:65536")) {
            let mut new = text.clone();
            if !new.is_empty() && !new.ends_with('\n') {
                new.push('\n');
            }
            new.push_str(&format!("root:{SHIFT}:65536\n"));
            std::fs::write(file, new).unwrap();
        }
    }
}

/// Builds (or reuses) the static agent and the template.
fn prerequisites() -> (PathBuf, PathBuf) {
    ensure_subids();
    let template = ok(Command::new("bash")
        .arg(repo().join("scripts/build-template.sh"))
        .arg("debian"));
    let agent = match std::env::var_os("PVELXC_AGENT") {
        Some(path) => PathBuf::from(path),
        None => {
            // A clean environment: the variables `cargo test` and rustup set for this
            // process (RUSTC, CARGO_*...) would make the nested build start from scratch.
            let mut build = Command::new("bash");
            build.arg(repo().join("scripts/build-agent.sh")).env_clear();
            for var in [
                "PATH",
                "HOME",
                "CARGO_HOME",
                "RUSTUP_HOME",
                "CARGO_TARGET_DIR",
            ] {
                if let Some(v) = std::env::var_os(var) {
                    build.env(var, v);
                }
            }
            let out = ok(&mut build);
            PathBuf::from(
                out.trim()
                    .lines()
                    .last()
                    .expect("build-agent prints a path"),
            )
        }
    };
    let ldd = sh(Command::new("ldd").arg(&agent));
    assert!(
        {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&ldd.stdout),
                String::from_utf8_lossy(&ldd.stderr)
            );
            text.contains("statically linked") || text.contains("not a dynamic executable")
        },
        "agent is not static"
    );
    let template = template
        .trim()
        .lines()
        .last()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(TEMPLATE));
    (agent, template)
}

struct Container {
    name: String,
    lxcpath: PathBuf,
    shift: u32,
    _dir: tempfile::TempDir,
}

impl Container {
    fn rootfs(&self) -> PathBuf {
        self.lxcpath.join(&self.name).join("rootfs")
    }

    fn host_path(&self, p: &str) -> PathBuf {
        self.rootfs().join(p.trim_start_matches('/'))
    }

    fn create(
        name: &str,
        unprivileged: bool,
        agent: &Path,
        template: &Path,
        node_gid: u32,
    ) -> Container {
        let dir = tempfile::Builder::new()
            .prefix("pvelxc-agent-lxc-")
            .tempdir_in("/var/tmp")
            .unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let lxcpath = dir.path().to_path_buf();
        let cdir = lxcpath.join(name);
        let rootfs = cdir.join("rootfs");
        std::fs::create_dir_all(&rootfs).unwrap();
        ok(Command::new("tar")
            .arg("-I")
            .arg("zstd")
            .arg("-xpf")
            .arg(template)
            .arg("-C")
            .arg(&rootfs));
        let shift = if unprivileged { SHIFT } else { 0 };
        // The agent and a device stand-in: a character node with the host's GID.
        let bin = rootfs.join("usr/local/bin/pvelxc-agent");
        std::fs::copy(agent, &bin).unwrap();
        let devs = cdir.join("devs");
        std::fs::create_dir_all(&devs).unwrap();
        let node = devs.join("renderD128");
        ok(Command::new("mknod").arg(&node).args(["c", "226", "128"]));
        std::os::unix::fs::chown(&node, Some(shift), Some(node_gid + shift)).unwrap();
        std::fs::set_permissions(&node, std::fs::Permissions::from_mode(0o660)).unwrap();
        // Shared storage, as the host's /mnt/storage owned by media (1000).
        let storage = cdir.join("storage");
        std::fs::create_dir_all(storage.join("staging")).unwrap();
        for d in [&storage, &storage.join("staging")] {
            std::os::unix::fs::chown(d, Some(1000 + shift), Some(1000 + shift)).unwrap();
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o2775)).unwrap();
        }
        if unprivileged {
            shift_tree(&rootfs, SHIFT);
        }
        let mut config = format!(
            "lxc.uts.name = {name}\nlxc.rootfs.path = dir:{}\nlxc.net.0.type = empty\nlxc.apparmor.profile = unconfined\n\
             lxc.mount.auto = proc:mixed sys:mixed cgroup:mixed\nlxc.autodev = 1\nlxc.tty.max = 0\nlxc.pty.max = 16\n\
             lxc.mount.entry = {} dev/dri/renderD128 none bind,optional,create=file 0 0\n\
             lxc.mount.entry = {} mnt/storage none bind,create=dir 0 0\n",
            rootfs.display(),
            node.display(),
            storage.display()
        );
        if unprivileged {
            config.push_str(&format!(
                "lxc.idmap = u 0 {SHIFT} 65536\nlxc.idmap = g 0 {SHIFT} 65536\n"
            ));
        }
        std::fs::write(cdir.join("config"), config).unwrap();
        Container {
            name: name.to_string(),
            lxcpath,
            shift,
            _dir: dir,
        }
    }

    fn lxc(&self, tool: &str) -> Command {
        let mut c = Command::new(tool);
        c.arg("-n").arg(&self.name).arg("-P").arg(&self.lxcpath);
        c
    }

    fn start(&self) {
        let log = self.lxcpath.join(format!("{}.log", self.name));
        ok(self
            .lxc("lxc-start")
            .arg("-d")
            .arg("-o")
            .arg(&log)
            .arg("-l")
            .arg("INFO"));
        let start = Instant::now();
        loop {
            let out = sh(self
                .lxc("lxc-attach")
                .args(["--", "systemctl", "is-system-running"]));
            let state = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if state == "running" || state == "degraded" {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "container {} did not boot: {state:?}; log {}",
                self.name,
                log.display()
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// Runs the agent in the container with the spec (pushed as /root/spec.json).
    fn agent(&self, spec: &str, args: &[&str]) -> (i32, pvelxc_spec::report::Report) {
        let path = self.host_path("/root/spec.json");
        std::fs::write(&path, spec).unwrap();
        std::os::unix::fs::chown(&path, Some(self.shift), Some(self.shift)).unwrap();
        let out = sh(self
            .lxc("lxc-attach")
            .args(["--", "/usr/local/bin/pvelxc-agent", "apply", "--json"])
            .args(args)
            .arg("/root/spec.json"));
        let code = out.status.code().unwrap_or(-1);
        let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "no report ({e}), exit {code}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (code, report)
    }

    /// The container's view of the tree, except the kernel's and runtime trees.
    fn snapshot(&self) -> BTreeMap<PathBuf, String> {
        let root = self.rootfs();
        let skip = [
            "proc",
            "sys",
            "dev",
            "run",
            "tmp",
            "root/spec.json",
            "var/log/journal",
        ];
        let mut out = BTreeMap::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap() {
                let path = e.unwrap().path();
                let rel = path.strip_prefix(&root).unwrap().to_path_buf();
                if skip.iter().any(|s| rel.starts_with(s)) {
                    continue;
                }
                let m = std::fs::symlink_metadata(&path).unwrap();
                let what = if m.file_type().is_symlink() {
                    format!("-> {}", std::fs::read_link(&path).unwrap().display())
                } else if m.is_dir() {
                    stack.push(path.clone());
                    "dir".into()
                } else if m.is_file() {
                    format!("{:?}", std::fs::read(&path).unwrap())
                } else {
                    "special".into()
                };
                out.insert(
                    rel,
                    format!("{}:{} {:o} {what}", m.uid(), m.gid(), m.mode()),
                );
            }
        }
        out
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = sh(self.lxc("lxc-stop").arg("-k"));
    }
}

/// Shifts every owner by `by`, as an unprivileged container's rootfs is stored.
fn shift_tree(root: &Path, by: u32) {
    let mut stack = vec![root.to_path_buf()];
    let m = std::fs::symlink_metadata(root).unwrap();
    std::os::unix::fs::lchown(root, Some(m.uid() + by), Some(m.gid() + by)).unwrap();
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            std::os::unix::fs::lchown(&p, Some(m.uid() + by), Some(m.gid() + by)).unwrap();
            if !m.file_type().is_symlink() && m.mode() & 0o6000 != 0 {
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(m.mode() & 0o7777))
                    .unwrap();
            }
            if m.is_dir() {
                stack.push(p);
            }
        }
    }
}

/// Runbook Phase 3 inside the transcoder (offline: packages from the template).
fn transcoder_spec(privileged: bool) -> String {
    let devperm = if privileged {
        r#"{"device_permissions": {"path": "/dev/dri", "group": "video", "mode": "0755", "node_mode": "0660", "required": true}},"#
    } else {
        ""
    };
    format!(
        r#"{{"version": 1, "allowed_roots": ["/etc", "/mnt/storage", "/home", "/dev/dri"], "items": [
  {{"group": {{"name": "media", "gid": 1000}}}},
  {{"group": {{"name": "video", "gid": 44}}}},
  {{"group": {{"name": "render", "match_host_device": "/dev/dri/renderD128", "system": true}}}},
  {{"user": {{"name": "media", "uid": 1000, "group": "media", "groups": ["video", "render"], "shell": "/bin/bash"}}}},
  {{"network_interface": {{"name": "eth0"}}}},
  {{"apt_components": {{"components": ["contrib", "non-free", "non-free-firmware"]}}}},
  {{"apt_packages": {{"packages": ["ifupdown", "iproute2", "procps"]}}}},
  {devperm}
  {{"directory": {{"path": "/mnt/storage/staging", "owner": "media", "group": "media", "mode": "2775"}}}},
  {{"systemd_unit": {{"name": "pvelxc-jobs.service", "enabled": true, "restart_on": ["/etc/default/pvelxc-jobs"],
     "content": "[Unit]\nDescription=pvelxc media jobs\n[Service]\nUser=media\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n"}}}},
  {{"check": {{"name": "groups", "user": "media", "check": {{"command": {{"argv": ["id"], "expect": "uid=1000\\(media\\) gid=1000\\(media\\) groups=1000\\(media\\),44\\(video\\),[0-9]+\\(render\\)"}}}}}}}},
  {{"check": {{"name": "storage", "user": "media", "check": {{"writable": {{"path": "/mnt/storage/staging"}}}}}}}}
]}}"#
    )
}

/// Runbook Phase 5 inside the ripper.
const RIPPER: &str = r#"{"version": 1, "items": [
  {"group": {"name": "media", "gid": 1000}},
  {"group": {"name": "cdrom", "gid": 24}},
  {"user": {"name": "media", "uid": 1000, "group": "media", "groups": ["cdrom"], "shell": "/bin/bash"}},
  {"network_interface": {"name": "eth0"}},
  {"directory": {"path": "/home/media/.MakeMKV", "owner": "media", "group": "media", "mode": "0755"}},
  {"file": {"path": "/home/media/.MakeMKV/settings.conf", "owner": "media", "group": "media", "mode": "0644",
    "content": "app_DefaultOutputFileName=\"{t}\"\napp_DefaultSelectionString=\"+sel:all,+sel:subtitle,-sel:subtitle=forced\"\napp_DestinationDir=\"/mnt/storage/media/staging\"\n"}},
  {"check": {"name": "storage", "user": "media", "check": {"writable": {"path": "/mnt/storage/staging"}}}}
]}"#;

fn converge(c: &Container, spec: &str) -> pvelxc_spec::report::Report {
    use pvelxc_spec::report::ItemStatus;
    // Check mode on the fresh container: every change listed, nothing touched.
    let before = c.snapshot();
    let (code, check) = c.agent(spec, &["--check"]);
    assert_eq!(code, 2, "{check:#?}");
    assert_eq!(
        c.snapshot(),
        before,
        "--check changed the container's files"
    );
    for i in &check.items {
        // video (44) and cdrom (24) ship with the template as the runbook wants them,
        // and the host already made the shared staging directory media:media 2775
        // (check mode resolves `media` to the UID the earlier user item creates).
        let want = if i.kind == "check" {
            ItemStatus::Skipped
        } else if ["video", "cdrom", "/mnt/storage/staging"].contains(&i.key.as_str()) {
            ItemStatus::Ok
        } else {
            ItemStatus::WouldChange
        };
        if i.kind != "apt_packages" && i.kind != "device_permissions" {
            assert_eq!(i.status, want, "{i:?}");
        }
    }
    let (code, first) = c.agent(spec, &[]);
    assert_eq!(code, 2, "{first:#?}");
    assert_eq!(first.summary.failed, 0, "{first:#?}");
    let (code, second) = c.agent(spec, &[]);
    assert_eq!(code, 0, "{second:#?}");
    assert_eq!(second.summary.changed, 0);
    assert!(
        second.items.iter().all(|i| i.status == ItemStatus::Ok),
        "{second:#?}"
    );
    first
}

fn transcoder(unprivileged: bool) {
    let (agent, template) = prerequisites();
    let name = if unprivileged { "agent-tu" } else { "agent-tp" };
    let c = Container::create(name, unprivileged, &agent, &template, HOST_RENDER_GID);
    c.start();
    converge(&c, &transcoder_spec(!unprivileged));
    let group = std::fs::read_to_string(c.host_path("/etc/group")).unwrap();
    assert!(
        group.contains(&format!("\nrender:x:{HOST_RENDER_GID}:media\n")),
        "{group}"
    );
    assert!(group.contains("\nvideo:x:44:media\n"), "{group}");
    let interfaces = std::fs::read_to_string(c.host_path("/etc/network/interfaces")).unwrap();
    assert!(
        interfaces.ends_with("auto eth0\niface eth0 inet dhcp\n"),
        "{interfaces}"
    );
    let link = c.host_path("/etc/systemd/system/multi-user.target.wants/pvelxc-jobs.service");
    assert!(std::fs::symlink_metadata(link).is_ok());
}

#[test]
#[ignore = "needs root + LXC; run scripts/test.sh"]
fn transcoder_privileged() {
    transcoder(false);
}

#[test]
#[ignore = "needs root + LXC; run scripts/test.sh"]
fn transcoder_unprivileged() {
    transcoder(true);
}

#[test]
#[ignore = "needs root + LXC; run scripts/test.sh"]
fn ripper_privileged() {
    let (agent, template) = prerequisites();
    let c = Container::create("agent-rp", false, &agent, &template, HOST_RENDER_GID);
    c.start();
    converge(&c, RIPPER);
    let m = std::fs::metadata(c.host_path("/home/media/.MakeMKV/settings.conf")).unwrap();
    assert_eq!((m.uid(), m.gid()), (1000, 1000));
}

/// The device carries a GID the container already gives to another group
/// (`netdev`): that group moves, render takes the GID, and netdev's files follow.
#[test]
#[ignore = "needs root + LXC; run scripts/test.sh"]
fn render_gid_sync_moves_a_conflicting_group() {
    let (agent, template) = prerequisites();
    let c = Container::create("agent-gid", true, &agent, &template, NETDEV_GID);
    c.start();
    let spec = r#"{"version": 1, "items": [{"group": {"name": "render", "match_host_device": "/dev/dri/renderD128", "system": true}}]}"#;
    let (code, report) = c.agent(spec, &[]);
    assert_eq!(code, 2, "{report:#?}");
    let group = std::fs::read_to_string(c.host_path("/etc/group")).unwrap();
    assert!(
        group.contains(&format!("\nrender:x:{NETDEV_GID}:\n")),
        "{group}"
    );
    let netdev: u32 = group
        .lines()
        .find(|l| l.starts_with("netdev:"))
        .unwrap()
        .split(':')
        .nth(2)
        .unwrap()
        .parse()
        .unwrap();
    assert_ne!(netdev, NETDEV_GID);
    let (code, _) = c.agent(spec, &[]);
    assert_eq!(code, 0);
}
