//! Shared test fixtures: a Debian 12 root in a temp dir, spec parsing, tree snapshots.
#![allow(dead_code)]

use pvelxc_converge::{run, Options};
use pvelxc_spec::report::{ItemStatus, Report};
use pvelxc_spec::Spec;
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// A temp dir holding a copy of `tests/data/debian12`.
pub struct Root {
    pub dir: tempfile::TempDir,
}

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

impl Root {
    pub fn debian12() -> Root {
        let dir = tempfile::tempdir().unwrap();
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/debian12");
        copy_tree(&data, dir.path());
        for f in ["etc/shadow", "etc/gshadow"] {
            let p = dir.path().join(f);
            std::os::unix::fs::chown(&p, Some(0), Some(42)).unwrap();
            std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o640))
                .unwrap();
        }
        std::fs::create_dir_all(dir.path().join("run")).unwrap();
        Root { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn p(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel.trim_start_matches('/'))
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.p(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    pub fn apply(&self, spec: &Spec) -> Report {
        run(
            spec,
            &Options {
                root: self.path().to_path_buf(),
                check: false,
            },
        )
        .unwrap_or_else(|e| panic!("run failed: {e}"))
    }

    pub fn check(&self, spec: &Spec) -> Report {
        run(
            spec,
            &Options {
                root: self.path().to_path_buf(),
                check: true,
            },
        )
        .unwrap_or_else(|e| panic!("check failed: {e}"))
    }

    /// Every path with type, owner, group, mode and content (or link target),
    /// except the run lock. Equal snapshots mean a byte-identical tree.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, String> {
        snapshot(self.path(), &[PathBuf::from("run")])
    }
}

/// Snapshot of the tree below `root`, skipping the relative paths in `skip`.
pub fn snapshot(root: &Path, skip: &[PathBuf]) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let path = e.path();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            if skip.iter().any(|s| rel.starts_with(s)) {
                continue;
            }
            let m = std::fs::symlink_metadata(&path).unwrap();
            let what = if m.file_type().is_symlink() {
                format!("link {}", std::fs::read_link(&path).unwrap().display())
            } else if m.is_dir() {
                stack.push(path.clone());
                "dir".to_string()
            } else if m.is_file() {
                format!("file {:?}", std::fs::read(&path).unwrap())
            } else {
                format!("special {}", m.rdev())
            };
            out.insert(
                rel,
                format!(
                    "{} {}:{} {:o} {}",
                    what.len(),
                    m.uid(),
                    m.gid(),
                    m.mode(),
                    what
                ),
            );
        }
    }
    out
}

pub fn json(text: &str) -> Spec {
    pvelxc_spec::parse_json(text).unwrap_or_else(|e| panic!("spec: {e}"))
}

pub fn statuses(r: &Report) -> Vec<(String, ItemStatus)> {
    r.items
        .iter()
        .map(|i| (format!("{} {}", i.kind, i.key), i.status))
        .collect()
}

pub fn assert_all(r: &Report, want: ItemStatus) {
    for i in &r.items {
        assert_eq!(
            i.status, want,
            "{} {}: {:?} {:?}",
            i.kind, i.key, i.changes, i.error
        );
    }
}

pub fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().mode() & 0o7777
}

pub fn owner(path: &Path) -> (u32, u32) {
    let m = std::fs::symlink_metadata(path).unwrap();
    (m.uid(), m.gid())
}
