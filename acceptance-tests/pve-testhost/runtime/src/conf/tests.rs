use super::*;

const FULL: &str = "#Media ripper%3A optical drive\n#\n#100%25 hand-built\narch: amd64\ncores: 2\ndev0: /dev/sr0,gid=24\nfeatures: nesting=1\nhostname: ripper\nmemory: 2048\nmp0: /srv/media,mp=/mnt/media,ro=1\nnet0: name=eth0,bridge=vmbr0,hwaddr=BC:24:11:AA:BB:01,ip=dhcp,type=veth\nonboot: 1\nostype: debian\nrootfs: local:101/vm-101-disk-0.raw,size=8G\nswap: 512\nunprivileged: 1\nlxc.cgroup2.devices.allow: b 7:0 rwm\nlxc.mount.entry: /dev/sr0 dev/sr0 none bind,optional,create=file\nlxc.idmap: u 0 100000 1000\n\n[pve:pending]\ndelete: swap\nmemory: 4096\n\n[before-upgrade]\n#snap\narch: amd64\nhostname: ripper\nmemory: 2048\nsnaptime: 1700000000\n";

#[test]
fn round_trips_a_full_file_byte_for_byte() {
    let conf = PctConf::parse(101, FULL).unwrap();
    assert_eq!(conf.to_text().unwrap(), FULL);
}

#[test]
fn reads_description_raw_lines_pending_and_snapshots() {
    let conf = PctConf::parse(101, FULL).unwrap();
    assert_eq!(
        conf.main.description.as_deref(),
        Some("Media ripper: optical drive\n\n100% hand-built\n")
    );
    assert_eq!(conf.main.get("memory"), Some("2048"));
    assert_eq!(
        conf.main
            .lxc_values("lxc.cgroup2.devices.allow")
            .collect::<Vec<_>>(),
        ["b 7:0 rwm"]
    );
    assert_eq!(conf.main.lxc.len(), 3);
    assert_eq!(conf.pending.get("memory"), Some("4096"));
    assert_eq!(conf.pending.pending_deletes(), ["swap"]);
    let snap = &conf.snapshots["before-upgrade"];
    assert_eq!(snap.get("snaptime"), Some("1700000000"));
    assert_eq!(snap.description.as_deref(), Some("snap\n"));
}

#[test]
fn writes_keys_sorted_and_raw_lines_last_in_original_order() {
    let text = "lxc.mount.entry = /a b none bind 0 0\nswap: 0\nlxc.cgroup2.devices.allow: c 226:0 rwm\narch: amd64\n";
    let conf = PctConf::parse(100, text).unwrap();
    assert_eq!(
        conf.to_text().unwrap(),
        "arch: amd64\nswap: 0\nlxc.mount.entry: /a b none bind 0 0\nlxc.cgroup2.devices.allow: c 226:0 rwm\n"
    );
}

#[test]
fn normalises_booleans_and_integers_like_pve() {
    let conf = PctConf::parse(100, "onboot: yes\nmemory: 0512\nunprivileged: true\n").unwrap();
    assert_eq!(
        conf.to_text().unwrap(),
        "memory: 512\nonboot: 1\nunprivileged: 1\n"
    );
    assert!(conf.main.is_unprivileged());
}

#[test]
fn strict_parse_names_the_bad_line() {
    let err = PctConf::parse(100, "arch: amd64\nthis is junk\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "vm 100 - unable to parse config: this is junk"
    );
    let err = PctConf::parse(100, "bogus: 1\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "vm 100 - unable to parse value of 'bogus' - unknown setting 'bogus'"
    );
    let err = PctConf::parse(100, "lxc.rootfs.path: /x\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "vm 100 - lxc.rootfs.path: lxc.rootfs.path is auto generated from rootfs"
    );
    let err = PctConf::parse(100, "delete: swap\n").unwrap_err();
    assert!(err.to_string().contains("only allowed in [pve:pending]"));
}

#[test]
fn lenient_parse_keeps_going_like_pve_reads() {
    let parsed = PctConf::parse_lenient(100, "memory: lots\njunk\nlxc.foo: 1\nhostname: ok\n");
    assert_eq!(parsed.errors.len(), 3);
    assert_eq!(parsed.conf.main.get("memory"), Some("lots"));
    assert_eq!(parsed.conf.main.get("hostname"), Some("ok"));
    assert!(parsed.conf.main.lxc.is_empty());
}

#[test]
fn deprecated_raw_keys_are_kept_with_a_warning() {
    let parsed = PctConf::parse_lenient(100, "lxc.id_map: u 0 100000 65536\n");
    assert!(parsed.errors.is_empty());
    assert_eq!(parsed.warnings.len(), 1);
    assert_eq!(parsed.conf.main.lxc.len(), 1);
}

#[test]
fn refuses_to_write_a_newline_into_the_file() {
    let mut conf = PctConf::default();
    assert!(conf
        .main
        .set("hostname", "a\nlxc.hook.start: /evil")
        .is_err());
    conf.main
        .options
        .insert("hostname".into(), "a\nrootfs: x".into());
    assert_eq!(
        conf.to_text().unwrap_err(),
        ConfError::Newline {
            key: "hostname".into()
        }
    );
    conf.main.options.clear();
    conf.main
        .lxc
        .push(("lxc.mount.entry".into(), "a\nb".into()));
    assert!(conf.to_text().is_err());
}

#[test]
fn description_cannot_inject_lines() {
    let mut conf = PctConf::default();
    conf.main
        .set("description", "line one\nmemory: 99999\n[evil]")
        .unwrap();
    conf.main.set("memory", "512").unwrap();
    let text = conf.to_text().unwrap();
    assert_eq!(text, "#line one\n#memory%3A 99999\n#[evil]\nmemory: 512\n");
    let back = PctConf::parse(100, &text).unwrap();
    assert_eq!(back.main.get("memory"), Some("512"));
    assert!(back.snapshots.is_empty());
}

#[test]
fn digest_is_sha1_of_the_bytes() {
    assert_eq!(digest(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    assert_eq!(digest(b"arch: amd64\n"), digest("arch: amd64\n".as_bytes()));
}

#[test]
fn typed_accessors_parse_property_strings() {
    let conf = PctConf::parse(101, FULL).unwrap();
    let mps = conf.main.mount_points().unwrap();
    assert_eq!(mps[0].0, 0);
    assert!(mps[0].1.ro);
    assert_eq!(conf.main.devices().unwrap()[0].1.gid, Some(24));
    assert_eq!(
        conf.main.nets().unwrap()[0].1.hwaddr.as_deref(),
        Some("BC:24:11:AA:BB:01")
    );
    assert!(conf.main.features().unwrap().nesting);
    assert_eq!(
        conf.main.rootfs().unwrap().unwrap().volume,
        "local:101/vm-101-disk-0.raw"
    );
}

#[test]
fn indexed_keys_sort_numerically_for_access_but_bytewise_in_file() {
    let conf = PctConf::parse(100, "mp10: /a,mp=/a\nmp2: /b,mp=/b\n").unwrap();
    let idx: Vec<u32> = conf
        .main
        .indexed("mp")
        .into_iter()
        .map(|(i, _)| i)
        .collect();
    assert_eq!(idx, [2, 10]);
    assert_eq!(conf.to_text().unwrap(), "mp10: /a,mp=/a\nmp2: /b,mp=/b\n");
}
