//! SSH node access against a real OpenSSH server: host key pinning, argv quoting with hostile
//! strings, atomic uploads, locked pct.conf edits, subuid delegation and device discovery.

mod common;

use std::process::Command;
use std::time::Duration;

use pvelxc_pve::pctconf::{digest, PctConf};
use pvelxc_pve::ssh::{
    DeviceKind, HostKeyCheck, NodePaths, NodeSsh, SshAuth, SshError, SshOptions, SubIdFile,
    SubIdOutcome,
};
use secrecy::SecretString;

const NEEDS: &str = "needs sshd (openssh-server) and root; run scripts/test.sh";

fn options(sshd: &common::sshd::Sshd, host_key: HostKeyCheck) -> SshOptions {
    let mut o = SshOptions::new(
        "127.0.0.1",
        SshAuth::PrivateKey {
            key: SecretString::from(sshd.client_key.clone()),
            passphrase: None,
        },
        host_key,
    );
    o.port = sshd.port;
    o.command_timeout = Duration::from_secs(30);
    o
}

async fn connect(sshd: &common::sshd::Sshd) -> NodeSsh {
    let pin = HostKeyCheck::parse_pin(&sshd.host_pub).unwrap();
    NodeSsh::connect(&options(sshd, pin)).await.unwrap()
}

fn paths(sshd: &common::sshd::Sshd) -> NodePaths {
    let root = sshd.dir.path().display().to_string();
    std::fs::create_dir_all(format!("{root}/etc/pve/lxc")).unwrap();
    NodePaths {
        conf_dir: format!("{root}/etc/pve/lxc"),
        lock_dir: format!("{root}/run/lock/lxc"),
        subuid: format!("{root}/etc/subuid"),
        subgid: format!("{root}/etc/subgid"),
        group_file: format!("{root}/etc/group"),
        sys_root: format!("{root}/sys"),
        lock_timeout: Duration::from_secs(1),
        conflict_attempts: 5,
    }
}

#[tokio::test]
#[ignore = "needs sshd (openssh-server) and root; run scripts/test.sh"]
async fn host_keys_are_checked() {
    let _ = NEEDS;
    let sshd = common::sshd::start();
    let fp = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(sshd.path("host_key.pub"))
        .output()
        .unwrap();
    let fp = String::from_utf8(fp.stdout)
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string();
    NodeSsh::connect(&options(&sshd, HostKeyCheck::parse_pin(&fp).unwrap()))
        .await
        .unwrap();

    let wrong =
        HostKeyCheck::parse_pin(&std::fs::read_to_string(sshd.path("client_key.pub")).unwrap())
            .unwrap();
    let e = NodeSsh::connect(&options(&sshd, wrong)).await.unwrap_err();
    assert!(
        matches!(&e, SshError::HostKey { fingerprint, .. } if *fingerprint == fp),
        "{e}"
    );

    let kh = sshd.path("known_hosts");
    let key = sshd
        .host_pub
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    std::fs::write(&kh, format!("[127.0.0.1]:{} {key}\n", sshd.port)).unwrap();
    NodeSsh::connect(&options(&sshd, HostKeyCheck::KnownHosts(kh.clone())))
        .await
        .unwrap();
    let other = std::fs::read_to_string(sshd.path("client_key.pub")).unwrap();
    let other = other
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    std::fs::write(&kh, format!("[127.0.0.1]:{} {other}\n", sshd.port)).unwrap();
    let e = NodeSsh::connect(&options(&sshd, HostKeyCheck::KnownHosts(kh)))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("DIFFERENT key"), "{e}");
}

#[tokio::test]
#[ignore = "needs sshd (openssh-server) and root; run scripts/test.sh"]
async fn hostile_arguments_arrive_verbatim() {
    let sshd = common::sshd::start();
    let ssh = connect(&sshd).await;
    let hostile = [
        "it's",
        "$(touch /tmp/pvelxc-pwned)",
        "`id`",
        "a b",
        "\"q\"",
        "back\\slash",
        "new\nline",
        "*",
        "~",
        ";exit 3",
        "$HOME",
        "",
        "--",
        "-n",
        "é ünï ✓",
        "\t",
        "!!",
        "'",
        "''",
        "a'b'c'",
        "&&",
        "|",
        ">x",
        "\\'",
        "%s%n",
    ];
    let mut argv = vec!["printf", "%s\\0"];
    argv.extend(hostile);
    let out = ssh.run_checked(&argv, None).await.unwrap();
    let got: Vec<&str> = std::str::from_utf8(&out.stdout)
        .unwrap()
        .split_terminator('\0')
        .collect();
    assert_eq!(got, hostile);
    assert!(!std::path::Path::new("/tmp/pvelxc-pwned").exists());
    assert!(
        ssh.run(&["printf", "a\0b"], None).await.is_err(),
        "NUL cannot be passed and is refused"
    );
}

#[tokio::test]
#[ignore = "needs sshd (openssh-server) and root; run scripts/test.sh"]
async fn upload_and_read_files() {
    let sshd = common::sshd::start();
    let ssh = connect(&sshd).await;
    let target = sshd.path("up load's.bin").display().to_string();
    let data: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
    ssh.upload_file(&target, &data).await.unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), data);
    assert_eq!(ssh.read_file(&target).await.unwrap(), data);
    let leftovers: Vec<_> = std::fs::read_dir(sshd.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp."))
        .collect();
    assert!(leftovers.is_empty());
    let e = ssh
        .read_file(&sshd.path("missing").display().to_string())
        .await
        .unwrap_err();
    assert!(matches!(e, SshError::NotFound(_)), "{e}");
}

const CONF: &str = "#Transcoder%3A Intel Arc\narch: amd64\ncores: 8\nfeatures: nesting=1\nhostname: transcoder\nmemory: 8192\nmp0: /mnt/storage,mp=/mnt/storage\nnet0: name=eth0,bridge=vmbr0,firewall=0,hwaddr=BC:24:11:5E:2A:01,ip=dhcp,type=veth\nostype: debian\nrootfs: local-lvm:vm-201-disk-0,size=20G\nswap: 2048\nlxc.cgroup2.devices.allow: c 226:0 rwm\n\n[pve:pending]\nmemory: 4096\n\n[snap1]\narch: amd64\nlxc.cgroup2.devices.allow: c 1:1 rwm\nsnaptime: 1700000000\n";

#[tokio::test]
#[ignore = "needs sshd (openssh-server) and root; run scripts/test.sh"]
async fn raw_lines_are_edited_under_the_pve_lock() {
    let sshd = common::sshd::start();
    let ssh = connect(&sshd).await;
    let p = paths(&sshd);
    std::fs::write(p.conf_path(201), CONF).unwrap();
    let lines = vec![
        (
            "lxc.cgroup2.devices.allow".to_string(),
            "c 226:0 rwm".to_string(),
        ),
        (
            "lxc.cgroup2.devices.allow".to_string(),
            "c 226:128 rwm".to_string(),
        ),
        (
            "lxc.mount.entry".to_string(),
            "/dev/dri dev/dri none bind,optional,create=dir".to_string(),
        ),
    ];
    let out = ssh
        .edit_conf_raw_lines(&p, 201, &lines, Some(&digest(CONF.as_bytes())))
        .await
        .unwrap();
    assert!(out.changed);
    let written = std::fs::read_to_string(p.conf_path(201)).unwrap();
    assert_eq!(
        written,
        CONF.replace(
            "lxc.cgroup2.devices.allow: c 226:0 rwm\n\n",
            "lxc.cgroup2.devices.allow: c 226:0 rwm\nlxc.cgroup2.devices.allow: c 226:128 rwm\nlxc.mount.entry: /dev/dri dev/dri none bind,optional,create=dir\n\n"
        )
    );
    assert_eq!(out.new_digest, digest(written.as_bytes()));
    assert_eq!(PctConf::parse(&written).main_raw_lines(), lines);

    // Same lines again: nothing written.
    let again = ssh
        .edit_conf_raw_lines(&p, 201, &lines, None)
        .await
        .unwrap();
    assert!(!again.changed);

    // A stale digest is refused and the file is left alone.
    let e = ssh
        .edit_conf_raw_lines(&p, 201, &[], Some(&digest(CONF.as_bytes())))
        .await
        .unwrap_err();
    assert!(matches!(e, SshError::Modified(_)), "{e}");
    assert_eq!(std::fs::read_to_string(p.conf_path(201)).unwrap(), written);

    // Someone else holds PVE's config lock and changes the file meanwhile (as the API does):
    // the edit waits for the lock, notices the new digest, re-applies, and loses nothing.
    std::fs::create_dir_all(&p.lock_dir).unwrap();
    let conf_path = p.conf_path(201);
    let script = format!("sleep 1; sed -i 's/^cores: 8$/cores: 6/' '{conf_path}'; sleep 1");
    let mut holder = Command::new("flock")
        .arg(p.lock_path(201))
        .args(["sh", "-c", &script])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let fewer = &lines[1..];
    let out = ssh.edit_conf_raw_lines(&p, 201, fewer, None).await.unwrap();
    holder.wait().unwrap();
    assert!(out.changed);
    let now = std::fs::read_to_string(&conf_path).unwrap();
    assert!(
        now.contains("\ncores: 6\n"),
        "the concurrent change survived: {now}"
    );
    assert_eq!(PctConf::parse(&now).main_raw_lines(), fewer);
    assert_eq!(
        now,
        written
            .replace("cores: 8", "cores: 6")
            .replace("lxc.cgroup2.devices.allow: c 226:0 rwm\n", "")
    );

    // A lock that is never released: the edit gives up with PVE's message.
    let mut holder = Command::new("flock")
        .arg(p.lock_path(201))
        .args(["sleep", "8"])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let once = NodePaths {
        conflict_attempts: 1,
        ..p.clone()
    };
    let e = ssh
        .edit_conf_raw_lines(&once, 201, &lines, None)
        .await
        .unwrap_err();
    holder.wait().unwrap();
    assert!(matches!(e, SshError::Locked(_)), "{e}");
    assert!(e.to_string().contains("got timeout"), "{e}");
    assert_eq!(std::fs::read_to_string(&conf_path).unwrap(), now);

    // Whitelist and injection checks happen before anything is sent.
    for (k, v) in [
        ("lxc.rootfs.path", "/x"),
        ("lxc.mount.entry", "a\nmp1: /etc,mp=/etc"),
    ] {
        let e = ssh
            .edit_conf_raw_lines(&p, 201, &[(k.into(), v.into())], None)
            .await
            .unwrap_err();
        assert!(matches!(e, SshError::InvalidInput(_)), "{e}");
    }
    let e = ssh
        .edit_conf_raw_lines(&p, 999, &lines, None)
        .await
        .unwrap_err();
    assert!(matches!(e, SshError::NotFound(_)), "{e}");
}

#[tokio::test]
#[ignore = "needs sshd (openssh-server) and root; run scripts/test.sh"]
async fn subid_ranges_are_appended_once() {
    let sshd = common::sshd::start();
    let ssh = connect(&sshd).await;
    let p = paths(&sshd);
    std::fs::create_dir_all(sshd.path("etc")).unwrap();
    std::fs::write(&p.subuid, "root:100000:65536").unwrap();
    assert_eq!(
        ssh.ensure_subid(&p, SubIdFile::Uid, "root", "1000:1")
            .await
            .unwrap(),
        SubIdOutcome::Added
    );
    assert_eq!(
        ssh.ensure_subid(&p, SubIdFile::Uid, "root", "1000:1")
            .await
            .unwrap(),
        SubIdOutcome::Present
    );
    assert_eq!(
        ssh.ensure_subid(&p, SubIdFile::Uid, "root", "100005:10")
            .await
            .unwrap(),
        SubIdOutcome::Present
    );
    assert_eq!(
        std::fs::read_to_string(&p.subuid).unwrap(),
        "root:100000:65536\nroot:1000:1\n"
    );
    // A missing subgid file is created.
    assert_eq!(
        ssh.ensure_subid(&p, SubIdFile::Gid, "root", "1000:1")
            .await
            .unwrap(),
        SubIdOutcome::Added
    );
    assert_eq!(std::fs::read_to_string(&p.subgid).unwrap(), "root:1000:1\n");
    assert!(ssh
        .ensure_subid(&p, SubIdFile::Gid, "root\nevil", "1000:1")
        .await
        .is_err());
}

#[tokio::test]
#[ignore = "needs sshd (openssh-server) and root; run scripts/test.sh"]
async fn devices_are_discovered_in_one_command() {
    let sshd = common::sshd::start();
    let ssh = connect(&sshd).await;
    let p = paths(&sshd);
    let sys = &p.sys_root;
    for (name, dev) in [("card0", "226:0"), ("renderD128", "226:128")] {
        std::fs::create_dir_all(format!("{sys}/class/drm/{name}/device")).unwrap();
        std::fs::write(format!("{sys}/class/drm/{name}/device/vendor"), "0x8086\n").unwrap();
        std::fs::write(format!("{sys}/class/drm/{name}/dev"), format!("{dev}\n")).unwrap();
    }
    std::fs::create_dir_all(format!("{sys}/class/scsi_generic/sg0/device/block/sr0")).unwrap();
    std::fs::write(format!("{sys}/class/scsi_generic/sg0/dev"), "21:0\n").unwrap();
    std::fs::create_dir_all(sshd.path("etc")).unwrap();
    std::fs::write(
        &p.group_file,
        "root:x:0:\ncdrom:x:24:\nvideo:x:44:media\nrender:x:104:media\nmedia:x:1000:\n",
    )
    .unwrap();
    let sr0 = sshd.path("sr0").display().to_string();
    let st = Command::new("mknod")
        .args([&sr0, "b", "11", "0"])
        .status()
        .unwrap();
    assert!(st.success());
    let missing = sshd.path("nope").display().to_string();

    let d = ssh
        .discover_devices(&p, &["/dev/null", &sr0, &missing])
        .await
        .unwrap();
    let null = d.device("/dev/null").unwrap();
    assert_eq!(
        (null.kind, null.major, null.minor),
        (DeviceKind::Char, 1, 3)
    );
    let sr = d.device(&sr0).unwrap();
    assert_eq!((sr.kind, sr.major, sr.minor), (DeviceKind::Block, 11, 0));
    assert_eq!(d.device(&missing).unwrap().kind, DeviceKind::Missing);
    assert_eq!(
        d.gpus("intel")
            .iter()
            .map(|g| g.dev_path())
            .collect::<Vec<_>>(),
        ["/dev/dri/card0", "/dev/dri/renderD128"]
    );
    assert_eq!(d.gpus("intel")[1].minor, Some(128));
    let sg = d.sg_twin("/dev/sr0").unwrap();
    assert_eq!(
        (sg.sg.as_str(), sg.major, sg.minor),
        ("sg0", Some(21), Some(0))
    );
    assert_eq!(d.groups.get("video"), Some(&44));
    assert_eq!(d.groups.get("render"), Some(&104));
    assert_eq!(d.groups.get("cdrom"), Some(&24));
    assert!(!d.groups.contains_key("media"));
}
