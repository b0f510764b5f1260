//! End to end on real LXC: bring a node up, create a privileged and an unprivileged CT
//! with `pct` over real SSH, edit raw LXC lines into the config over SSH like a user,
//! and prove from inside the containers what PVE would do: device allowed vs EPERM,
//! bind mounts present and read-only where set, UID 1000 passed through to the host.
//! Then `down` must leave nothing behind.
//!
//! Uses its own bridge, port, state and data directories and CT ids (93xx) so it can run
//! next to another node on the same machine.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use pve_testhost_runtime::node::{self, ssh::ssh_args, NodeConfig, NodeInfo};

const PRIV: u32 = 9301;
const UNPRIV: u32 = 9302;
const TEMPLATE: &str = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst";

fn config() -> NodeConfig {
    let mut config = NodeConfig::from_env();
    config.name = "pvetest".into();
    config.state_dir = "/run/pve-testhost-runtime-test".into();
    config.data_dir = "/var/lib/pve-testhost-runtime-test".into();
    config.bridge = "vmbr93".into();
    config.bridge_ip = "10.123.93.1".parse().unwrap();
    config.ssh_port = 8093;
    config.pct_binary = env!("CARGO_BIN_EXE_pct").into();
    config
}

struct Ssh(NodeInfo);

impl Ssh {
    fn run(&self, remote: &str) -> Output {
        let mut args = ssh_args(&self.0.ssh);
        args.push(remote.to_string());
        Command::new("ssh").args(&args).output().expect("ssh runs")
    }

    /// Runs and requires success; returns stdout.
    fn ok(&self, remote: &str) -> String {
        let out = self.run(remote);
        assert!(
            out.status.success(),
            "ssh '{remote}' failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs expecting failure; returns stderr.
    fn fails(&self, remote: &str) -> String {
        let out = self.run(remote);
        assert!(
            !out.status.success(),
            "ssh '{remote}' unexpectedly succeeded"
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }
}

fn mkdir_owned(path: &Path, uid: u32, gid: u32) {
    fs::create_dir_all(path).unwrap();
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

fn leftovers(config: &NodeConfig) -> Vec<String> {
    let mut found = Vec::new();
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap();
    for dir in [&config.state_dir, &config.data_dir] {
        if mountinfo.contains(&*dir.to_string_lossy()) {
            found.push(format!("mount under {}", dir.display()));
        }
        if dir.exists() {
            found.push(format!("directory {}", dir.display()));
        }
    }
    if Command::new("ip")
        .args(["link", "show", "dev", &config.bridge])
        .output()
        .unwrap()
        .status
        .success()
    {
        found.push(format!("bridge {}", config.bridge));
    }
    let tables = Command::new("nft")
        .args(["list", "tables"])
        .output()
        .unwrap();
    if String::from_utf8_lossy(&tables.stdout).contains(&format!("pve_testhost_{}", config.bridge))
    {
        found.push("nft table".into());
    }
    let loops = Command::new("losetup").arg("-a").output().unwrap();
    if String::from_utf8_lossy(&loops.stdout).contains(&*config.data_dir.to_string_lossy()) {
        found.push("loop device".into());
    }
    for entry in fs::read_dir("/proc").unwrap().filter_map(Result::ok) {
        let cgroup = fs::read_to_string(entry.path().join("cgroup")).unwrap_or_default();
        if cgroup.contains(&format!("/lxc/{PRIV}")) || cgroup.contains(&format!("/lxc/{UNPRIV}")) {
            found.push(format!("process {:?} in a CT cgroup", entry.file_name()));
        }
    }
    for id in [PRIV, UNPRIV] {
        if Path::new(&format!("/sys/fs/cgroup/unified/lxc/{id}")).exists() {
            found.push(format!("cgroup lxc/{id}"));
        }
    }
    found
}

#[test]
#[ignore = "needs root + LXC; run scripts/test.sh"]
fn node_runs_pve_style_containers_and_leaves_nothing_behind() {
    let config = config();
    node::down(&config).unwrap();
    let info = node::up(&config).unwrap();
    // Idempotent: a second `up` finds everything in place.
    let again = node::up(&config).unwrap();
    assert_eq!(again.ssh, info.ssh);
    assert!(
        node::status(&config).up,
        "{:?}",
        node::status(&config).problems
    );
    let ssh = Ssh(info.clone());

    let result = std::panic::catch_unwind(|| exercise(&config, &ssh));
    let down = node::down(&config);
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
    down.unwrap();
    assert_eq!(leftovers(&config), Vec::<String>::new());
}

fn exercise(config: &NodeConfig, ssh: &Ssh) {
    // The node is its own machine: hostname, cgroup2 only, free UID 1000, hardware.
    assert_eq!(ssh.ok("hostname").trim(), "pvetest");
    assert_eq!(
        ssh.ok("findmnt -no FSTYPE /sys/fs/cgroup").trim(),
        "cgroup2"
    );
    assert_eq!(ssh.ok("command -v pct").trim(), "/usr/sbin/pct");
    assert!(
        !Path::new("/usr/sbin/pct").exists(),
        "pct must only exist inside the node"
    );
    assert_eq!(ssh.run("getent passwd 1000").status.code(), Some(2));
    assert_eq!(
        ssh.ok("cat /sys/class/drm/card0/device/vendor").trim(),
        "0x8086"
    );
    assert_eq!(
        ssh.ok("ls /sys/class/scsi_generic/sg0/device/block").trim(),
        "sr0"
    );
    assert_eq!(
        ssh.ok("stat -c '%t:%T %G' /dev/dri/renderD128").trim(),
        "e2:80 render"
    );

    let srv = config.data_dir.join("srv");
    let (ro, rw, shared) = (
        srv.join("media-ro"),
        srv.join("media-rw"),
        srv.join("shared1000"),
    );
    mkdir_owned(&ro, 0, 0);
    mkdir_owned(&rw, 0, 0);
    mkdir_owned(&shared, 1000, 1000);
    fs::write(ro.join("hello.txt"), "from the node\n").unwrap();

    // Privileged CT: ro and rw host bind mounts, the optical drive, then raw lines.
    let started = Instant::now();
    ssh.ok(&format!(
        "pct create {PRIV} {TEMPLATE} --hostname ripper --rootfs local:1 \
         --mp0 {},mp=/mnt/ro,ro=1 --mp1 {},mp=/mnt/rw --dev0 /dev/sr0,gid=24 \
         --net0 name=eth0,bridge={},hwaddr=BC:24:11:93:01:00,ip=dhcp",
        ro.display(),
        rw.display(),
        config.bridge
    ));
    ssh.ok(&format!(
        "printf 'lxc.cgroup2.devices.allow: c 226:0 rwm\\nlxc.mount.entry: /dev/dri/card0 dev/dri/card0 none bind,optional,create=file\\n' >> /etc/pve/lxc/{PRIV}.conf"
    ));
    ssh.ok(&format!("pct start {PRIV}"));
    let create_to_running = started.elapsed();
    assert_eq!(
        ssh.ok(&format!("pct status {PRIV}")).trim(),
        "status: running"
    );
    println!(
        "create-to-running (privileged, pct over ssh): {:.2}s",
        create_to_running.as_secs_f64()
    );

    let conf = ssh.ok(&format!("cat /etc/pve/lxc/{PRIV}.conf"));
    assert!(
        conf.contains(&format!(
            "rootfs: local:{PRIV}/vm-{PRIV}-disk-0.raw,size=1G\n"
        )),
        "{conf}"
    );
    assert!(conf.ends_with("lxc.cgroup2.devices.allow: c 226:0 rwm\nlxc.mount.entry: /dev/dri/card0 dev/dri/card0 none bind,optional,create=file\n"), "{conf}");

    let exec = |vmid: u32, cmd: &str| format!("pct exec {vmid} -- sh -c \"{cmd}\"");
    // dev0 passes the drive: the disc's ISO 9660 signature is readable.
    let sig = ssh.ok(&exec(
        PRIV,
        "dd if=/dev/sr0 bs=1 skip=32769 count=5 status=none",
    ));
    assert_eq!(sig, "CD001");
    assert_eq!(ssh.ok(&exec(PRIV, "stat -c %g /dev/sr0")).trim(), "24");
    // The raw allow line admits card0 past the cgroup: no driver, so ENXIO, not EPERM.
    let card = ssh.fails(&exec(PRIV, "head -c1 /dev/dri/card0"));
    assert!(card.contains("No such device or address"), "{card}");
    // A device nobody allowed is refused by the device cgroup.
    let denied = ssh.fails(&exec(
        PRIV,
        "mknod /tmp/render c 226 128 && head -c1 /tmp/render",
    ));
    assert!(denied.contains("Operation not permitted"), "{denied}");
    // Bind mounts: present, read-only where set, writes reach the node.
    assert_eq!(
        ssh.ok(&exec(PRIV, "cat /mnt/ro/hello.txt")),
        "from the node\n"
    );
    let ro_err = ssh.fails(&exec(PRIV, "touch /mnt/ro/nope"));
    assert!(ro_err.contains("Read-only file system"), "{ro_err}");
    ssh.ok(&exec(PRIV, "echo written-in-ct > /mnt/rw/out.txt"));
    assert_eq!(
        fs::read_to_string(rw.join("out.txt")).unwrap(),
        "written-in-ct\n"
    );
    assert!(!ro.join("nope").exists());

    // push/pull and pending changes on a running CT.
    ssh.ok("printf 'payload' > /root/payload && chmod 0644 /root/payload");
    ssh.ok(&format!(
        "pct push {PRIV} /root/payload /root/payload --perms 0600"
    ));
    assert_eq!(
        ssh.ok(&exec(PRIV, "stat -c '%a %U' /root/payload")).trim(),
        "600 root"
    );
    ssh.ok(&format!("pct pull {PRIV} /etc/hostname /root/ct-hostname"));
    assert_eq!(ssh.ok("cat /root/ct-hostname"), "ripper\n");
    ssh.ok(&format!("pct set {PRIV} --memory 1024"));
    assert!(ssh
        .ok(&format!("cat /etc/pve/lxc/{PRIV}.conf"))
        .contains("\n[pve:pending]\nmemory: 1024\n"));
    assert!(ssh
        .ok(&format!("pct config {PRIV} --current 1"))
        .contains("memory: 512\n"));
    assert!(ssh
        .ok(&format!("pct config {PRIV}"))
        .contains("memory: 1024\n"));

    // Unprivileged CT, then the PVE wiki recipe: pass UID/GID 1000 through.
    ssh.ok(&format!(
        "pct create {UNPRIV} {TEMPLATE} --hostname media --unprivileged 1 --rootfs local:1 \
         --mp0 {},mp=/mnt/shared --dev0 /dev/dri/renderD128,gid=44,mode=0660",
        shared.display()
    ));
    ssh.ok(&format!(
        "printf 'lxc.idmap: u 0 100000 1000\\nlxc.idmap: g 0 100000 1000\\nlxc.idmap: u 1000 1000 1\\nlxc.idmap: g 1000 1000 1\\nlxc.idmap: u 1001 101001 64535\\nlxc.idmap: g 1001 101001 64535\\n' >> /etc/pve/lxc/{UNPRIV}.conf"
    ));
    // Without delegation in /etc/subuid the start is refused, naming the fix.
    let refused = ssh.fails(&format!("pct start {UNPRIV}"));
    assert!(
        refused.contains("add 'root:1000:1' to /etc/subuid"),
        "{refused}"
    );
    let host_subuid = fs::read_to_string("/etc/subuid").unwrap_or_default();
    ssh.ok("echo root:1000:1 >> /etc/subuid && echo root:1000:1 >> /etc/subgid");
    assert_eq!(
        fs::read_to_string("/etc/subuid").unwrap_or_default(),
        host_subuid,
        "node edits must not reach this machine"
    );
    ssh.ok(&format!("pct start {UNPRIV}"));

    ssh.ok(&exec(
        UNPRIV,
        "setpriv --reuid 1000 --regid 1000 --clear-groups touch /mnt/shared/by-1000",
    ));
    ssh.ok(&exec(UNPRIV, "touch /mnt/shared/by-root"));
    let by_1000 = fs::metadata(shared.join("by-1000")).unwrap();
    assert_eq!((by_1000.uid(), by_1000.gid()), (1000, 1000));
    let by_root = fs::metadata(shared.join("by-root")).unwrap();
    assert_eq!((by_root.uid(), by_root.gid()), (100_000, 100_000));
    // dev0 owner/mode are as configured, seen from inside; mapped on the node.
    assert_eq!(
        ssh.ok(&exec(UNPRIV, "stat -c '%u %g %a' /dev/dri/renderD128"))
            .trim(),
        "0 44 660"
    );
    let node_side = PathBuf::from(format!(
        "{}/lxc/{UNPRIV}/passthrough/dev/dri/renderD128",
        config.data_dir.display()
    ));
    let meta = fs::metadata(node_side).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (100_000, 100_044));

    // Stop and destroy through pct; the volumes go with the CTs.
    for vmid in [PRIV, UNPRIV] {
        ssh.ok(&format!("pct stop {vmid}"));
        assert_eq!(
            ssh.ok(&format!("pct status {vmid}")).trim(),
            "status: stopped"
        );
        ssh.ok(&format!("pct destroy {vmid}"));
        assert!(!config.data_dir.join(format!("vz/images/{vmid}")).exists());
    }
    assert!(ssh.ok("pct list").lines().count() == 1);

    // The drive's disc: pulled behind the node's back (its loop device detached), `status`
    // says so and names the fix, and `up` puts it back into the same device so sr0 reads
    // the disc again.
    let hw = node::read_info(config).unwrap().hardware;
    let read_sr0 = "dd if=/dev/sr0 bs=1 skip=32769 count=5 status=none";
    assert_eq!(ssh.ok(read_sr0), "CD001");
    let detach = Command::new("losetup")
        .args(["-d", &hw.loop_device])
        .status();
    assert!(detach.unwrap().success());
    let problems = node::status(config).problems;
    assert!(
        problems.iter().any(|p| p.contains("pve-testhost up")),
        "{problems:?}"
    );
    let again = node::up(config).unwrap();
    assert_eq!(again.hardware.loop_device, hw.loop_device);
    assert_eq!(ssh.ok(read_sr0), "CD001");
    assert!(
        node::status(config).up,
        "{:?}",
        node::status(config).problems
    );
}
