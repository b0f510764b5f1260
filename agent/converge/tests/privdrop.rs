//! Checks run as another user really drop root: read back from the child's own
//! `/proc/self/status` and from the kernel refusing access.

mod common;

use common::json;
use pvelxc_converge::{run, Options};
use pvelxc_spec::report::ItemStatus;
use std::os::unix::fs::PermissionsExt;

/// Both tests take the live system's run lock; one at a time.
static LIVE: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn live() -> Options {
    Options {
        root: "/".into(),
        check: false,
    }
}

fn field<'a>(status: &'a str, name: &str) -> &'a str {
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("{name} missing in {status}"))
        .trim()
}

#[test]
#[ignore = "needs root; run scripts/test.sh"]
fn command_check_runs_without_root_ids_or_capabilities() {
    let spec = json(
        r#"{"version": 1, "items": [{"check": {"name": "status", "user": "nobody",
        "check": {"command": {"argv": ["cat", "/proc/self/status"], "expect": "NoNewPrivs:\\s+1"}}}}]}"#,
    );
    let _one = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    let report = run(&spec, &live()).unwrap();
    let item = &report.items[0];
    assert_eq!(item.status, ItemStatus::Ok, "{item:?}");
    let out = &item.check.as_ref().unwrap().detail;
    assert_eq!(
        field(out, "Uid").split_whitespace().collect::<Vec<_>>(),
        ["65534"; 4]
    );
    assert_eq!(
        field(out, "Gid").split_whitespace().collect::<Vec<_>>(),
        ["65534"; 4]
    );
    assert_eq!(field(out, "Groups"), "65534");
    for cap in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        assert_eq!(field(out, cap), "0000000000000000", "{cap} in {out}");
    }
}

#[test]
#[ignore = "needs root; run scripts/test.sh"]
fn device_and_writable_checks_see_the_kernels_answer_for_the_user() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let private = dir.path().join("private");
    std::fs::write(&private, "").unwrap();
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o600)).unwrap();
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let text = format!(
        r#"{{"version": 1, "items": [
        {{"check": {{"name": "null", "user": "nobody", "check": {{"device_opens": {{"path": "/dev/null"}}}}}}}},
        {{"check": {{"name": "private", "user": "nobody", "check": {{"device_opens": {{"path": "{p}"}}}}}}}},
        {{"check": {{"name": "shared", "user": "nobody", "check": {{"writable": {{"path": "{s}"}}}}}}}},
        {{"check": {{"name": "root-dir", "user": "nobody", "check": {{"writable": {{"path": "{d}"}}}}}}}}]}}"#,
        p = private.display(),
        s = shared.display(),
        d = dir.path().display()
    );
    let _one = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    let report = run(&json(&text), &live()).unwrap();
    let st: Vec<_> = report.items.iter().map(|i| i.status).collect();
    assert_eq!(
        st,
        [
            ItemStatus::Ok,
            ItemStatus::Failed,
            ItemStatus::Ok,
            ItemStatus::Failed
        ],
        "{:#?}",
        report.items
    );
    assert!(
        report.items[1]
            .error
            .as_deref()
            .unwrap()
            .contains("Permission denied"),
        "{:?}",
        report.items[1]
    );
    assert!(
        report.items[3]
            .error
            .as_deref()
            .unwrap()
            .contains("Permission denied"),
        "{:?}",
        report.items[3]
    );
    assert_eq!(report.exit_code(), 1);
}
