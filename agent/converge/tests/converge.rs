//! End-to-end runs of the engine against a Debian 12 root in a temp dir.

mod common;

use common::*;
use pvelxc_spec::report::{ItemStatus, RunMode};
use std::os::unix::fs::MetadataExt;

/// The runbook's in-container steps that need no package download.
const MEDIA: &str = r##"{
  "version": 1,
  "allowed_roots": ["/etc", "/mnt/storage", "/home"],
  "items": [
    {"group": {"name": "media", "gid": 1000}},
    {"group": {"name": "render", "gid": 104, "system": true}},
    {"user": {"name": "media", "uid": 1000, "group": "media", "groups": ["media", "video", "render"], "shell": "/bin/bash"}},
    {"directory": {"path": "/mnt/storage", "owner": "media", "group": "media", "mode": "2775"}},
    {"directory": {"path": "/mnt/storage/staging", "owner": "media", "group": "media", "mode": "2775"}},
    {"line": {"path": "/etc/network/interfaces", "line": "auto eth0"}},
    {"network_interface": {"name": "eth0"}},
    {"block": {"path": "/etc/default/media", "block": "MEDIA_ROOT=/mnt/storage\nPUID=1000\nPGID=1000\n", "marker": "# {mark} MEDIA"}},
    {"file": {"path": "/etc/media/unit.conf", "template": "User={{ user }}\nRoot={{ root }}\n", "vars": {"user": "media", "root": "/mnt/storage"}, "owner": "media", "group": "media", "mode": "0640"}},
    {"apt_components": {"components": ["non-free", "non-free-firmware"]}},
    {"apt_packages": {"packages": ["coreutils", "bash"]}}
  ]
}"##;

#[test]
fn converges_then_second_run_changes_nothing() {
    let root = Root::debian12();
    let spec = json(MEDIA);
    let first = root.apply(&spec);
    assert_eq!(first.mode, RunMode::Apply);
    assert_eq!(first.summary.failed, 0, "{:#?}", first.items);
    assert!(first.summary.changed >= 9, "{:?}", statuses(&first));
    assert_eq!(first.exit_code(), 2);

    // What the runbook's `id media` shows.
    let passwd = root.read("/etc/passwd");
    assert!(
        passwd.contains("\nmedia:x:1000:1000::/home/media:/bin/bash\n"),
        "{passwd}"
    );
    let group = root.read("/etc/group");
    assert!(group.contains("\nvideo:x:44:media\n"), "{group}");
    assert!(group.contains("\nrender:x:104:media\n"), "{group}");
    assert!(group.contains("\nmedia:x:1000:\n"), "{group}");
    assert!(root.read("/etc/shadow").contains("\nmedia:!:"));
    assert!(root.read("/etc/gshadow").contains("\nrender:!::media\n"));
    // shadow-utils conventions: backups, modes, no lock files left behind.
    assert!(root.p("/etc/passwd-").exists() && root.p("/etc/group-").exists());
    assert_eq!(mode(&root.p("/etc/shadow")), 0o640);
    assert_eq!(owner(&root.p("/etc/shadow")), (0, 42));
    assert!(!root.p("/etc/passwd.lock").exists() && !root.p("/etc/group.lock").exists());
    // Home from /etc/skel.
    assert_eq!(owner(&root.p("/home/media/.bashrc")), (1000, 1000));
    assert_eq!(mode(&root.p("/home/media")), 0o700);
    // Storage, with the setgid bit.
    assert_eq!(mode(&root.p("/mnt/storage/staging")), 0o2775);
    assert_eq!(owner(&root.p("/mnt/storage/staging")), (1000, 1000));
    assert_eq!(
        root.read("/etc/network/interfaces"),
        "auto lo\niface lo inet loopback\n\nauto eth0\niface eth0 inet dhcp\n"
    );
    assert_eq!(
        root.read("/etc/default/media"),
        "# BEGIN MEDIA\nMEDIA_ROOT=/mnt/storage\nPUID=1000\nPGID=1000\n# END MEDIA\n"
    );
    assert_eq!(
        root.read("/etc/media/unit.conf"),
        "User=media\nRoot=/mnt/storage\n"
    );
    assert_eq!(owner(&root.p("/etc/media/unit.conf")), (1000, 1000));
    assert_eq!(mode(&root.p("/etc/media/unit.conf")), 0o640);
    assert!(root
        .read("/etc/apt/sources.list")
        .contains("bookworm main non-free non-free-firmware\n"));

    let before = root.snapshot();
    let second = root.apply(&spec);
    assert_all(&second, ItemStatus::Ok);
    assert_eq!(second.exit_code(), 0);
    assert_eq!(
        root.snapshot(),
        before,
        "a no-op run must not touch any file"
    );
}

#[test]
fn check_mode_lists_every_change_and_leaves_the_tree_identical() {
    let root = Root::debian12();
    let spec = json(MEDIA);
    let before = root.snapshot();
    let report = root.check(&spec);
    assert_eq!(root.snapshot(), before, "check mode changed the tree");
    assert_eq!(report.mode, RunMode::Check);
    assert_eq!(report.summary.failed, 0, "{:#?}", report.items);
    // The directory owned by a user an earlier item creates is planned, not an error.
    let dir = report
        .items
        .iter()
        .find(|i| i.key == "/mnt/storage")
        .unwrap();
    assert_eq!(dir.status, ItemStatus::WouldChange);
    // Check mode predicts exactly what apply then does.
    let applied = root.apply(&spec);
    let predicted: Vec<_> = report
        .items
        .iter()
        .map(|i| {
            (
                i.index,
                i.status == ItemStatus::WouldChange,
                i.changes.clone(),
            )
        })
        .collect();
    let actual: Vec<_> = applied
        .items
        .iter()
        .map(|i| (i.index, i.status == ItemStatus::Changed, i.changes.clone()))
        .collect();
    assert_eq!(predicted, actual);
    // And after apply, check mode reports nothing to do.
    let after = root.check(&spec);
    assert_all(&after, ItemStatus::Ok);
}

#[test]
fn user_diff_is_field_by_field() {
    let root = Root::debian12();
    root.apply(&json(MEDIA));
    let changed = MEDIA.replace(r#""shell": "/bin/bash""#, r#""shell": "/usr/sbin/nologin""#);
    let report = root.check(&json(&changed));
    let user = report.items.iter().find(|i| i.kind == "user").unwrap();
    assert_eq!(user.status, ItemStatus::WouldChange);
    assert_eq!(user.changes.len(), 1, "{:?}", user.changes);
    assert_eq!(user.changes[0].field, "shell");
    assert_eq!(user.changes[0].before.as_deref(), Some("/bin/bash"));
    assert_eq!(user.changes[0].after.as_deref(), Some("/usr/sbin/nologin"));
}

/// rash drops the first digit of a four-digit mode; 2775 must keep setgid, also
/// when the owner changes (chown clears setgid on files).
#[test]
fn setgid_mode_is_kept_and_idempotent() {
    let root = Root::debian12();
    std::fs::create_dir_all(root.p("/mnt/storage/movies")).unwrap();
    std::fs::write(root.p("/mnt/storage/tool"), "x").unwrap();
    let spec = json(
        r#"{"version": 1, "items": [
        {"directory": {"path": "/mnt/storage/movies", "owner": "nobody", "group": "video", "mode": "2775"}},
        {"file": {"path": "/mnt/storage/tool", "content": "x", "owner": "nobody", "group": "video", "mode": "2755"}}]}"#,
    );
    let r = root.apply(&spec);
    assert_all(&r, ItemStatus::Changed);
    assert_eq!(mode(&root.p("/mnt/storage/movies")), 0o2775);
    assert_eq!(mode(&root.p("/mnt/storage/tool")), 0o2755);
    assert_eq!(owner(&root.p("/mnt/storage/tool")), (65534, 44));
    assert_all(&root.apply(&spec), ItemStatus::Ok);
}

/// rash re-applies `group:` on every run; here a user whose primary group is
/// also listed in `groups` is a no-op on the second run.
#[test]
fn user_with_primary_group_stays_idempotent() {
    let root = Root::debian12();
    let spec = json(
        r#"{"version": 1, "items": [
        {"group": {"name": "media", "gid": 1000}},
        {"user": {"name": "media", "uid": 1000, "group": "media", "groups": ["media", "video"], "groups_mode": "exact"}}]}"#,
    );
    assert_eq!(root.apply(&spec).summary.changed, 2);
    let again = root.apply(&spec);
    assert_all(&again, ItemStatus::Ok);
    assert!(
        root.read("/etc/group").contains("\nmedia:x:1000:\n"),
        "primary group must not gain an explicit member"
    );
}

#[test]
fn exact_groups_remove_others_and_append_keeps_them() {
    let root = Root::debian12();
    let base = r#"{"version": 1, "items": [{"user": {"name": "media", "uid": 1000, "groups": ["video", "cdrom"]}}]}"#;
    root.apply(&json(base));
    let append =
        json(r#"{"version": 1, "items": [{"user": {"name": "media", "groups": ["video"]}}]}"#);
    assert_all(&root.apply(&append), ItemStatus::Ok);
    let exact = json(
        r#"{"version": 1, "items": [{"user": {"name": "media", "groups": ["video"], "groups_mode": "exact"}}]}"#,
    );
    let r = root.apply(&exact);
    assert_eq!(r.items[0].changes[0].before.as_deref(), Some("cdrom,video"));
    assert_eq!(r.items[0].changes[0].after.as_deref(), Some("video"));
    assert!(root.read("/etc/group").contains("\ncdrom:x:24:\n"));
}

/// Ansible's apt runs `apt-mark manual` on every listed package; the agent leaves
/// apt's marks alone unless asked, and then reports it.
#[test]
fn apt_never_marks_packages_manual_silently() {
    let root = Root::debian12();
    let states_before = root.read("/var/lib/apt/extended_states");
    let spec = json(
        r#"{"version": 1, "items": [{"apt_packages": {"packages": ["libacl1", "coreutils"]}}]}"#,
    );
    let r = root.apply(&spec);
    assert_all(&r, ItemStatus::Ok);
    assert_eq!(root.read("/var/lib/apt/extended_states"), states_before);
    let asked = json(
        r#"{"version": 1, "items": [{"apt_packages": {"packages": ["libacl1", "coreutils"], "mark_manual": true}}]}"#,
    );
    let r = root.check(&asked);
    assert_eq!(r.items[0].status, ItemStatus::WouldChange);
    assert_eq!(r.items[0].changes.len(), 1);
    assert_eq!(r.items[0].changes[0].field, "package libacl1 mark");
    assert_eq!(r.items[0].changes[0].after.as_deref(), Some("manual"));
}

#[test]
fn missing_package_is_planned_without_running_anything_in_check_mode() {
    let root = Root::debian12();
    let spec =
        json(r#"{"version": 1, "items": [{"apt_packages": {"packages": ["vainfo", "bash"]}}]}"#);
    let r = root.check(&spec);
    assert_eq!(r.items[0].status, ItemStatus::WouldChange);
    let fields: Vec<_> = r.items[0]
        .changes
        .iter()
        .map(|c| c.field.as_str())
        .collect();
    assert_eq!(fields, ["package vainfo", "package lists"]);
}

/// Ansible's groupmod leaves files with the old GID; the agent re-owns them.
#[test]
fn changed_gid_reowns_files_that_carried_the_old_gid() {
    let root = Root::debian12();
    std::fs::write(
        root.p("/etc/group"),
        root.read("/etc/group") + "render:x:104:\n",
    )
    .unwrap();
    std::fs::create_dir_all(root.p("/mnt/storage/staging")).unwrap();
    let owned = root.p("/mnt/storage/staging/rip.mkv");
    let other = root.p("/mnt/storage/staging/other.mkv");
    let setgid_dir = root.p("/mnt/storage/shared");
    std::fs::write(&owned, "x").unwrap();
    std::fs::write(&other, "y").unwrap();
    std::fs::create_dir(&setgid_dir).unwrap();
    std::os::unix::fs::chown(&owned, Some(0), Some(104)).unwrap();
    std::os::unix::fs::chown(&other, Some(0), Some(44)).unwrap();
    std::os::unix::fs::chown(&setgid_dir, Some(0), Some(104)).unwrap();
    std::fs::set_permissions(
        &setgid_dir,
        std::os::unix::fs::PermissionsExt::from_mode(0o2775),
    )
    .unwrap();
    let spec = json(r#"{"version": 1, "items": [{"group": {"name": "render", "gid": 993}}]}"#);
    let r = root.apply(&spec);
    assert_eq!(r.items[0].status, ItemStatus::Changed);
    assert_eq!(r.items[0].changes[0].before.as_deref(), Some("104"));
    assert!(root.read("/etc/group").contains("\nrender:x:993:\n"));
    assert_eq!(owner(&owned).1, 993);
    assert_eq!(owner(&other).1, 44);
    assert_eq!(owner(&setgid_dir).1, 993);
    assert_eq!(mode(&setgid_dir), 0o2775);
}

/// The container's render group takes the device node's GID; a group already
/// holding that GID moves to a free one and keeps its files.
#[test]
fn match_host_device_syncs_gid_and_moves_the_conflicting_group() {
    let root = Root::debian12();
    std::fs::write(
        root.p("/etc/group"),
        root.read("/etc/group") + "render:x:993:\n",
    )
    .unwrap();
    std::fs::create_dir_all(root.p("/dev/dri")).unwrap();
    // A stand-in node carrying the host's GID 101, which messagebus holds here.
    let node = root.p("/dev/dri/renderD128");
    std::fs::write(&node, "").unwrap();
    std::os::unix::fs::chown(&node, Some(0), Some(101)).unwrap();
    let bus_file = root.p("/etc/bus.conf");
    std::fs::write(&bus_file, "").unwrap();
    std::os::unix::fs::chown(&bus_file, Some(0), Some(101)).unwrap();
    let render_file = root.p("/etc/render.conf");
    std::fs::write(&render_file, "").unwrap();
    std::os::unix::fs::chown(&render_file, Some(0), Some(993)).unwrap();

    let spec = json(
        r#"{"version": 1, "items": [{"group": {"name": "render", "match_host_device": "/dev/dri/renderD128"}}]}"#,
    );
    let r = root.apply(&spec);
    assert_eq!(r.items[0].status, ItemStatus::Changed, "{:?}", r.items[0]);
    let group = root.read("/etc/group");
    assert!(group.contains("\nrender:x:101:\n"), "{group}");
    let bus_gid: u32 = group
        .lines()
        .find(|l| l.starts_with("messagebus:"))
        .unwrap()
        .split(':')
        .nth(2)
        .unwrap()
        .parse()
        .unwrap();
    assert_ne!(bus_gid, 101);
    assert!(bus_gid < 1000, "a system group stays in the system range");
    assert_eq!(owner(&bus_file).1, bus_gid, "messagebus keeps its files");
    assert_eq!(owner(&render_file).1, 101, "render's files follow it");
    assert_eq!(
        std::fs::metadata(&node).unwrap().gid(),
        101,
        "the device node is left alone"
    );
    // messagebus's user follows its primary group.
    assert!(root
        .read("/etc/passwd")
        .contains(&format!("messagebus:x:100:{bus_gid}:")));
    assert_all(&root.apply(&spec), ItemStatus::Ok);
}

#[test]
fn run_lock_excludes_a_second_run() {
    let root = Root::debian12();
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(root.p("/run/pvelxc-agent.lock"))
        .unwrap();
    let _held = nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock).unwrap();
    let err = pvelxc_converge::run(
        &json(MEDIA),
        &pvelxc_converge::Options {
            root: root.path().to_path_buf(),
            check: false,
        },
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("another pvelxc-agent run holds"),
        "{err}"
    );
    assert!(!root.read("/etc/passwd").contains("media"));
}

#[test]
fn stale_account_lock_of_a_dead_process_is_taken_over() {
    let root = Root::debian12();
    std::fs::write(root.p("/etc/passwd.lock"), "999999999").unwrap();
    let spec = json(r#"{"version": 1, "items": [{"user": {"name": "media", "uid": 1000}}]}"#);
    assert_eq!(root.apply(&spec).items[0].status, ItemStatus::Changed);
    assert!(!root.p("/etc/passwd.lock").exists());
}

#[test]
fn stop_policy_skips_later_items() {
    let root = Root::debian12();
    let spec = json(
        r#"{"version": 1, "on_failure": "stop", "items": [
        {"line": {"path": "/etc/missing.conf", "line": "x", "create": false}},
        {"file": {"path": "/etc/after.conf", "content": "x"}}]}"#,
    );
    let r = root.apply(&spec);
    assert_eq!(r.items[0].status, ItemStatus::Failed);
    assert!(r.items[0]
        .error
        .as_deref()
        .unwrap()
        .contains("/etc/missing.conf does not exist"));
    assert_eq!(r.items[1].status, ItemStatus::Skipped);
    assert!(!root.p("/etc/after.conf").exists());
    assert_eq!(r.exit_code(), 1);
    let cont = json(
        &serde_json::to_string(&spec)
            .unwrap()
            .replace("\"stop\"", "\"continue\""),
    );
    let r = root.apply(&cont);
    assert_eq!(r.items[1].status, ItemStatus::Changed);
}

#[test]
fn systemd_unit_is_written_and_enabled_offline() {
    let root = Root::debian12();
    let spec = json(
        r#"{"version": 1, "items": [{"systemd_unit": {"name": "pvelxc-jobs.service", "enabled": true,
        "content": "[Unit]\nDescription=jobs\n[Service]\nExecStart=/usr/local/bin/pvelxc-agent jobs run\n[Install]\nWantedBy=multi-user.target\n"}}]}"#,
    );
    assert_eq!(root.apply(&spec).items[0].status, ItemStatus::Changed);
    let link = root.p("/etc/systemd/system/multi-user.target.wants/pvelxc-jobs.service");
    assert_eq!(
        std::fs::read_link(link).unwrap(),
        std::path::Path::new("/etc/systemd/system/pvelxc-jobs.service")
    );
    assert_all(&root.apply(&spec), ItemStatus::Ok);
}
