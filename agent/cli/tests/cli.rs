//! The binary's contract: exit codes, messages, JSON report, and no change on a
//! bad spec.

use std::path::{Path, PathBuf};
use std::process::Command;

const AGENT: &str = env!("CARGO_BIN_EXE_pvelxc-agent");

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

fn root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../converge/tests/data/debian12"),
        dir.path(),
    );
    std::fs::create_dir_all(dir.path().join("run")).unwrap();
    dir
}

/// Every file's path and content.
fn contents(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if !p.ends_with("run/pvelxc-agent.lock") {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn agent(args: &[&str], spec: &str, root: &Path) -> (i32, String, String) {
    let file = root.join("spec.json");
    std::fs::write(&file, spec).unwrap();
    let out = Command::new(AGENT)
        .args(args)
        .arg("--root")
        .arg(root)
        .arg(&file)
        .output()
        .unwrap();
    std::fs::remove_file(&file).unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn rejected(spec: &str, needle: &str) {
    let dir = root();
    let before = contents(dir.path());
    let (code, _, err) = agent(&["apply"], spec, dir.path());
    assert_eq!(code, 3, "{err}");
    assert!(err.contains(needle), "expected {needle:?} in: {err}");
    assert_eq!(
        contents(dir.path()),
        before,
        "a rejected spec changed files"
    );
}

#[test]
fn unknown_field_exits_3_and_changes_nothing() {
    rejected(
        r#"{"version":1,"items":[{"group":{"name":"media"}},{"user":{"name":"media","shel":"/bin/bash"}}]}"#,
        "spec field `items[1].user.shel`: unknown field `shel`",
    );
}

#[test]
fn wrong_type_exits_3_and_changes_nothing() {
    rejected(
        r#"{"version":1,"items":[{"user":{"name":"media","uid":"1000"}}]}"#,
        "spec field `items[0].user.uid`: invalid type: string \"1000\", expected u32",
    );
}

#[test]
fn uid_clash_with_an_existing_user_exits_3_before_any_change() {
    // The group item alone would change /etc/group; the clash stops the run first.
    rejected(
        r#"{"version":1,"items":[{"group":{"name":"media","gid":1000}},{"user":{"name":"media","uid":65534}}]}"#,
        "items[1] (user media): user \"media\": uid 65534 is already used by user \"nobody\" in /etc/passwd",
    );
}

#[test]
fn path_outside_allowed_roots_exits_3_and_changes_nothing() {
    rejected(
        r#"{"version":1,"allowed_roots":["/mnt/storage"],"items":[{"directory":{"path":"/mnt/storage/x"}},{"file":{"path":"/etc/sudoers.d/x","content":"x"}}]}"#,
        "items[1].file.path: /etc/sudoers.d/x is outside allowed_roots [/mnt/storage]",
    );
}

#[test]
fn exit_codes_and_json_report() {
    let dir = root();
    let spec = r#"{"version":1,"items":[{"directory":{"path":"/mnt/storage","mode":"2775"}}]}"#;
    let (code, out, _) = agent(&["apply", "--check", "--json"], spec, dir.path());
    assert_eq!(code, 2);
    let report: pvelxc_spec::report::Report = serde_json::from_str(&out).unwrap();
    assert_eq!(
        report.items[0].status,
        pvelxc_spec::report::ItemStatus::WouldChange
    );
    assert!(!dir.path().join("mnt/storage").exists());
    let (code, out, _) = agent(&["apply"], spec, dir.path());
    assert_eq!(code, 2, "{out}");
    assert!(
        out.starts_with("changed       directory /mnt/storage\n"),
        "{out}"
    );
    let (code, out, _) = agent(&["apply", "--json"], spec, dir.path());
    assert_eq!(code, 0);
    assert!(out.contains("\"status\": \"ok\""), "{out}");
    let bad = r#"{"version":1,"items":[{"line":{"path":"/etc/nope","line":"x","create":false}}]}"#;
    let (code, out, _) = agent(&["apply"], bad, dir.path());
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAILED"), "{out}");
}

#[test]
fn diff_shows_content_changes() {
    let dir = root();
    let spec =
        r#"{"version":1,"items":[{"line":{"path":"/etc/network/interfaces","line":"auto eth0"}}]}"#;
    let (code, out, _) = agent(&["apply", "--check", "--diff"], spec, dir.path());
    assert_eq!(code, 2);
    assert!(out.contains("+auto eth0"), "{out}");
}

#[test]
fn expect_sha256_runs_only_the_named_build() {
    let dir = root();
    let spec = r#"{"version":1,"items":[{"directory":{"path":"/mnt/storage","mode":"2775"}}]}"#;
    let out = Command::new("sha256sum").arg(AGENT).output().unwrap();
    let own = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let other = "0".repeat(64);

    // Another build: exit 4, says which, runs nothing.
    let before = contents(dir.path());
    let (code, out, err) = agent(&["apply", "--expect-sha256", &other], spec, dir.path());
    assert_eq!(code, 4, "{out}{err}");
    assert!(
        err.contains(&format!("this binary is {own}, the caller expects {other}")),
        "{err}"
    );
    assert_eq!(contents(dir.path()), before, "a stale agent changed files");

    // This build (upper-case hex accepted): runs as usual.
    let upper = own.to_ascii_uppercase();
    let (code, out, err) = agent(&["apply", "--expect-sha256", &upper], spec, dir.path());
    assert_eq!(code, 2, "{out}{err}");
    assert!(dir.path().join("mnt/storage").is_dir());

    // Not a hash: an invalid command line.
    let (code, _, err) = agent(&["apply", "--expect-sha256", "abc"], spec, dir.path());
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("is not a SHA-256 in hex"), "{err}");
}
