//! The config store on a temporary node root: what lands on disk, digests, locks.

use std::fs;

use pve_testhost_runtime::conf::digest;
use pve_testhost_runtime::{ConfigStore, NodePaths, PctConf, StoreError};

fn store() -> (tempfile::TempDir, ConfigStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = ConfigStore::new(NodePaths::new(dir.path(), "pve"));
    (dir, store)
}

#[test]
fn create_writes_the_file_and_links_etc_pve_lxc() {
    let (dir, store) = store();
    let conf = PctConf::parse(100, "arch: amd64\nhostname: a\n").unwrap();
    let digest_written = store.create(100, &conf).unwrap();
    let on_disk = fs::read(dir.path().join("etc/pve/lxc/100.conf")).unwrap();
    assert_eq!(on_disk, b"arch: amd64\nhostname: a\n");
    assert_eq!(digest_written, digest(&on_disk));
    assert_eq!(store.list().unwrap(), [100]);
    assert!(matches!(
        store.create(100, &conf),
        Err(StoreError::AlreadyExists { vmid: 100, .. })
    ));
}

#[test]
fn id_taken_on_another_node_is_refused() {
    let (dir, store) = store();
    let other = ConfigStore::new(NodePaths::new(dir.path(), "pve2"));
    other.create(105, &PctConf::default()).unwrap();
    let err = store.create(105, &PctConf::default()).unwrap_err();
    assert_eq!(err.to_string(), "CT 105 already exists on node 'pve2'");
}

#[test]
fn hand_edits_are_seen_and_stale_digest_is_refused() {
    let (dir, store) = store();
    store.create(101, &PctConf::default()).unwrap();
    let before = store.read(101).unwrap().digest;
    let path = dir.path().join("etc/pve/nodes/pve/lxc/101.conf");
    fs::write(
        &path,
        "memory: 512\nlxc.cgroup2.devices.allow = b 7:0 rwm\n",
    )
    .unwrap();
    let loaded = store.read(101).unwrap();
    assert_eq!(loaded.conf.main.get("memory"), Some("512"));
    assert_ne!(loaded.digest, before);
    let err = store
        .update(101, Some(&before), |c| {
            c.main.set("memory", "1024").map_err(Into::into)
        })
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "detected modified configuration - file changed by other user? Try again."
    );
    let ((), new_digest) = store
        .update(101, Some(&loaded.digest), |c| {
            c.main.set("memory", "1024").map_err(Into::into)
        })
        .unwrap();
    let text = fs::read_to_string(&path).unwrap();
    assert_eq!(text, "memory: 1024\nlxc.cgroup2.devices.allow: b 7:0 rwm\n");
    assert_eq!(new_digest, digest(text.as_bytes()));
}

#[test]
fn update_waits_for_the_lock_and_times_out_with_pve_message() {
    let (_dir, store) = store();
    store.create(102, &PctConf::default()).unwrap();
    let short = store
        .clone()
        .with_lock_timeout(std::time::Duration::from_millis(100));
    let held = store.lock(102).unwrap();
    let err = short.update(102, None, |_| Ok(())).unwrap_err();
    assert!(err.to_string().starts_with("can't lock file '"), "{err}");
    assert!(err
        .to_string()
        .ends_with("pve-config-102.lock' - got timeout"));
    drop(held);
    short.update(102, None, |_| Ok(())).unwrap();
}

#[test]
fn failed_change_leaves_file_untouched_and_no_temp_files() {
    let (dir, store) = store();
    store
        .create(103, &PctConf::parse(103, "memory: 512\n").unwrap())
        .unwrap();
    let err = store
        .update(103, None, |c| {
            c.main.set("memory", "lots").map_err(Into::into)
        })
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "memory: type check ('integer') failed - got 'lots'"
    );
    let conf_dir = dir.path().join("etc/pve/nodes/pve/lxc");
    let names: Vec<_> = fs::read_dir(&conf_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["103.conf"]);
    assert_eq!(
        fs::read_to_string(conf_dir.join("103.conf")).unwrap(),
        "memory: 512\n"
    );
}

#[test]
fn missing_config_uses_pve_message() {
    let (_dir, store) = store();
    let err = store.read(999).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Configuration file 'nodes/pve/lxc/999.conf' does not exist"
    );
}

#[test]
fn lock_key_blocks_changes() {
    let conf = PctConf::parse(100, "lock: backup\n").unwrap();
    assert_eq!(
        pve_testhost_runtime::store::check_lock(&conf)
            .unwrap_err()
            .to_string(),
        "CT is locked (backup)"
    );
}
