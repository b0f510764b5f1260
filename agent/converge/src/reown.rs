//! Re-owning files by number after a UID/GID change. `usermod -u` only fixes the
//! home directory and `groupmod -g` fixes nothing, which leaves files owned by a
//! number nobody has (or, worse, a number a later account gets).
//!
//! The walk never follows symlinks, never leaves the filesystem it started on, and
//! skips the kernel's virtual trees.

use crate::plan::IdKind;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

const VIRTUAL: [&str; 4] = ["proc", "sys", "dev", "run"];

/// Walks `start` (a host path inside `root`) and calls `visit` on every entry
/// below it (not `start` itself), staying on `start`'s filesystem.
fn walk(
    root: &Path,
    start: &Path,
    exclude: &[PathBuf],
    visit: &mut dyn FnMut(&Path, &std::fs::Metadata) -> io::Result<()>,
) -> io::Result<()> {
    let top = match std::fs::symlink_metadata(start) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if !top.is_dir() {
        return Ok(());
    }
    let skip: Vec<PathBuf> = VIRTUAL
        .iter()
        .map(|v| root.join(v))
        .chain(exclude.iter().cloned())
        .collect();
    let mut stack = vec![start.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            // A directory that vanished meanwhile is not an error.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", dir.display()))),
        };
        for entry in entries {
            let entry = entry?;
            let path = entry.path();
            if skip.iter().any(|s| s == &path) {
                continue;
            }
            let meta = match std::fs::symlink_metadata(&path) {
                Ok(m) => m,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            if meta.dev() != top.dev() {
                continue;
            }
            visit(&path, &meta)?;
            if meta.is_dir() {
                stack.push(path);
            }
        }
    }
    Ok(())
}

/// Changes owner/group without following symlinks, keeping setuid/setgid bits
/// that chown would clear.
pub fn lchown_keep_mode(
    path: &Path,
    meta: &std::fs::Metadata,
    uid: Option<u32>,
    gid: Option<u32>,
) -> io::Result<()> {
    std::os::unix::fs::lchown(path, uid, gid)?;
    let special = meta.mode() & 0o6000;
    if special != 0 && !meta.file_type().is_symlink() {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(meta.mode() & 0o7777))?;
    }
    Ok(())
}

/// Re-owns every entry below the `starts` (host paths) that carries `from`.
/// Returns how many entries changed.
pub fn reown(
    root: &Path,
    starts: &[PathBuf],
    kind: IdKind,
    from: u32,
    to: u32,
    exclude: &[PathBuf],
) -> io::Result<usize> {
    let mut count = 0;
    for start in starts {
        // The start itself too.
        if let Ok(m) = std::fs::symlink_metadata(start) {
            let id = if kind == IdKind::Uid {
                m.uid()
            } else {
                m.gid()
            };
            if id == from && !exclude.contains(start) {
                set(start, &m, kind, to)?;
                count += 1;
            }
        }
        walk(root, start, exclude, &mut |p, m| {
            let id = if kind == IdKind::Uid {
                m.uid()
            } else {
                m.gid()
            };
            if id == from {
                set(p, m, kind, to)?;
                count += 1;
            }
            Ok(())
        })?;
    }
    Ok(count)
}

fn set(p: &Path, m: &std::fs::Metadata, kind: IdKind, to: u32) -> io::Result<()> {
    match kind {
        IdKind::Uid => lchown_keep_mode(p, m, Some(to), None),
        IdKind::Gid => lchown_keep_mode(p, m, None, Some(to)),
    }
}

/// Entries below `dir` whose owner or group differs from the wanted ones.
pub fn count_foreign(
    root: &Path,
    dir: &Path,
    uid: Option<u32>,
    gid: Option<u32>,
) -> io::Result<usize> {
    let mut n = 0;
    walk(root, dir, &[], &mut |_, m| {
        if uid.is_some_and(|u| u != m.uid()) || gid.is_some_and(|g| g != m.gid()) {
            n += 1;
        }
        Ok(())
    })?;
    Ok(n)
}

/// Sets owner and/or group on everything below `dir`.
pub fn own_tree(root: &Path, dir: &Path, uid: Option<u32>, gid: Option<u32>) -> io::Result<usize> {
    let mut n = 0;
    walk(root, dir, &[], &mut |p, m| {
        if uid.is_some_and(|u| u != m.uid()) || gid.is_some_and(|g| g != m.gid()) {
            lchown_keep_mode(p, m, uid, gid)?;
            n += 1;
        }
        Ok(())
    })?;
    Ok(n)
}
