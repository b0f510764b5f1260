//! Every request the client renders for the runbooks' containers validates against the
//! official PVE API schema (pve-docs 9.1.3, subset in tests/data).

mod common;

use common::schema::{load, validate};
use pvelxc_pve::api::CreateRequest;
use pvelxc_pve::config::{compute_update, ContainerConfig, Device, DiskSize, MountPoint};
use secrecy::SecretString;

fn cfg(pairs: &[(&str, &str)]) -> ContainerConfig {
    ContainerConfig::from_pairs(pairs.iter().copied()).expect("valid config")
}

/// The pipeline runbook's transcoder: privileged, Intel GPU, mergerfs bind mount, nesting,
/// firewall off on net0.
fn transcoder() -> ContainerConfig {
    let mut c = cfg(&[
        ("hostname", "transcoder"),
        ("description", "Media transcoder\nIntel Arc: VAAPI/QSV"),
        ("tags", "media;gpu"),
        ("ostype", "debian"),
        ("arch", "amd64"),
        ("cores", "8"),
        ("memory", "8192"),
        ("swap", "2048"),
        ("rootfs", "local-lvm:20"),
        ("net0", "name=eth0,bridge=vmbr0,ip=dhcp,firewall=0"),
        ("mp0", "/mnt/storage,mp=/mnt/storage"),
        ("features", "nesting=1"),
        ("unprivileged", "0"),
        ("onboot", "1"),
        ("startup", "order=2,up=30"),
        ("timezone", "host"),
    ]);
    c.devices
        .insert(0, Device::parse("dev0", "/dev/dri/card0,gid=44").unwrap());
    c.devices.insert(
        1,
        Device::parse("dev1", "/dev/dri/renderD128,gid=104,mode=0660").unwrap(),
    );
    c
}

/// The ripper: optical drive as a block device plus its SCSI-generic twin.
fn ripper() -> ContainerConfig {
    let mut c = cfg(&[
        ("hostname", "ripper"),
        ("ostype", "debian"),
        ("cores", "4"),
        ("memory", "4096"),
        ("swap", "512"),
        ("rootfs", "local-lvm:20"),
        ("net0", "name=eth0,bridge=vmbr0,ip=dhcp,firewall=0"),
        ("mp0", "/mnt/storage,mp=/mnt/storage"),
        ("features", "nesting=1"),
        ("unprivileged", "0"),
        ("protection", "1"),
    ]);
    c.devices
        .insert(0, Device::parse("dev0", "/dev/sr0,gid=24").unwrap());
    c.devices
        .insert(1, Device::parse("dev1", "/dev/sg0,gid=24").unwrap());
    c
}

/// Media services: Jellyfin, unprivileged, static IP on vmbr3, four read-only bind mounts.
fn jellyfin() -> ContainerConfig {
    cfg(&[
        ("hostname", "jellyfin"),
        ("ostype", "debian"),
        ("cores", "4"),
        ("memory", "4096"),
        ("swap", "1024"),
        ("rootfs", "local-lvm:64"),
        (
            "net0",
            "name=eth0,bridge=vmbr3,ip=172.16.10.56/24,gw=172.16.10.1",
        ),
        ("nameserver", "172.16.10.1 1.1.1.1"),
        ("searchdomain", "home.arpa"),
        ("features", "nesting=1"),
        ("unprivileged", "1"),
        ("mp0", "/srv/media/movies,mp=/media/movies,ro=1"),
        ("mp1", "/srv/media/tv,mp=/media/tv,ro=1"),
        ("mp2", "/srv/media/music,mp=/media/music,ro=1"),
        (
            "mp3",
            "/srv/media/downloads/complete,mp=/media/downloads,ro=1",
        ),
    ])
}

/// Media services: qBittorrent with a read-write downloads mount.
fn qbittorrent() -> ContainerConfig {
    cfg(&[
        ("hostname", "qbittorrent"),
        ("ostype", "debian"),
        ("cores", "2"),
        ("memory", "2048"),
        ("swap", "512"),
        ("rootfs", "local-lvm:32"),
        (
            "net0",
            "name=eth0,bridge=vmbr3,ip=172.16.10.59/24,gw=172.16.10.1,mtu=1500,tag=30",
        ),
        ("features", "nesting=1,keyctl=1"),
        ("unprivileged", "1"),
        ("mp0", "/srv/media/downloads,mp=/srv/downloads"),
        ("tags", "media;downloads"),
    ])
}

fn with_path(mut params: Vec<(String, String)>, vmid: Option<u32>) -> Vec<(String, String)> {
    params.push(("node".into(), "pve".into()));
    if let Some(v) = vmid {
        if !params.iter().any(|(k, _)| k == "vmid") {
            params.push(("vmid".into(), v.to_string()));
        }
    }
    params
}

fn assert_valid(endpoint: &str, params: Vec<(String, String)>) {
    let schema = load();
    let errors = validate(&schema, endpoint, &params);
    assert!(
        errors.is_empty(),
        "{endpoint}: {errors:#?}\nparams: {params:#?}"
    );
}

#[test]
fn create_requests_validate() {
    // Media services CT ids 56/59 are below PVE's minimum vmid (100); 156/159 stand in.
    for (vmid, template, config) in [
        (
            201,
            "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst",
            transcoder(),
        ),
        (
            202,
            "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst",
            ripper(),
        ),
        (
            156,
            "local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst",
            jellyfin(),
        ),
        (
            159,
            "local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst",
            qbittorrent(),
        ),
    ] {
        let req = CreateRequest {
            vmid,
            ostemplate: template.into(),
            config,
            password: Some(SecretString::from("correct horse battery".to_string())),
            ssh_public_keys: Some("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@lab".into()),
            storage: Some("local-lvm".into()),
            start: true,
            pool: None,
        };
        assert_valid(
            "POST /nodes/{node}/lxc",
            with_path(req.to_params().unwrap(), None),
        );
    }
}

#[test]
fn update_requests_validate() {
    // As PVE reports the transcoder after creation...
    let mut current = transcoder();
    current.rootfs = Some(MountPoint::parse_rootfs("local-lvm:vm-201-disk-0,size=20G").unwrap());
    current.networks.get_mut(&0).unwrap().hwaddr = Some("BC:24:11:5E:2A:01".into());
    current.networks.get_mut(&0).unwrap().kind = Some("veth".into());
    current.digest = Some("3f786850e387550fdab836ed7e6dc881de23001b".into());
    // ...and the in-place changes the acceptance test makes: memory, a tag, a mount point,
    // one device removed, swap reset to PVE's default, rootfs grown.
    let mut desired = current.clone();
    desired.memory = Some(12288);
    desired.tags.push("transcode".into());
    desired.mount_points.insert(
        1,
        MountPoint::parse_mp("mp1", "/srv/media/tv,mp=/media/tv,ro=1").unwrap(),
    );
    desired.devices.remove(&0);
    desired.swap = None;
    desired.rootfs = Some(MountPoint::parse_rootfs("local-lvm:32").unwrap());
    let update = compute_update(&current, &desired).unwrap();
    assert_eq!(
        update.resize,
        vec![("rootfs".to_string(), DiskSize::from_gib(32))]
    );
    assert_eq!(update.delete, vec!["dev0", "swap"]);
    assert!(update.needs_root());
    assert_valid(
        "PUT /nodes/{node}/lxc/{vmid}/config",
        with_path(update.put_params().unwrap(), Some(201)),
    );
    for (disk, size) in update.resize {
        assert_valid(
            "PUT /nodes/{node}/lxc/{vmid}/resize",
            with_path(
                vec![("disk".into(), disk), ("size".into(), size.to_string())],
                Some(201),
            ),
        );
    }

    // Every key of every runbook config, sent as a full update.
    for c in [transcoder(), ripper(), jellyfin(), qbittorrent()] {
        assert_valid(
            "PUT /nodes/{node}/lxc/{vmid}/config",
            with_path(c.to_params().unwrap(), Some(300)),
        );
    }
}

#[test]
fn the_validator_rejects_what_pve_rejects() {
    let schema = load();
    let bad = [
        ("net0", "name=eth0,ip=10.0.0.5"),
        ("net0", "name=eth0,colour=red"),
        ("mp0", "/mnt/storage"),
        ("memory", "8"),
        ("ostype", "windows"),
        ("features", "nesting=2"),
        ("lxc", "x"),
    ];
    for (k, v) in bad {
        let errors = validate(
            &schema,
            "PUT /nodes/{node}/lxc/{vmid}/config",
            &with_path(vec![(k.into(), v.into())], Some(100)),
        );
        assert!(
            errors.iter().any(|e| e.starts_with(k)),
            "{k}={v} accepted: {errors:?}"
        );
    }
}
