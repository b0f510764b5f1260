//! Filesystem helpers: free-space checks and the crash-safe publish primitive.

use crate::error::{JobError, Result};
use std::fs::{self, File};
use std::os::unix::fs::{chown, PermissionsExt};
use std::path::{Path, PathBuf};

/// Bytes available to unprivileged writers on the filesystem holding `path`.
pub fn free_bytes(path: &Path) -> Result<u64> {
    let st = nix::sys::statvfs::statvfs(path)
        .map_err(|e| JobError::io(format!("statvfs {}", path.display()), e.into()))?;
    Ok(st.blocks_available() as u64 * st.fragment_size() as u64)
}

/// Fails early and clearly when `path` has less than `estimate + reserve` free.
pub fn ensure_space(path: &Path, estimate: u64, reserve: u64) -> Result<()> {
    let available = free_bytes(path)?;
    let needed = estimate.saturating_add(reserve);
    if available < needed {
        return Err(JobError::NoSpace {
            path: path.to_path_buf(),
            available,
            needed,
        });
    }
    Ok(())
}

/// Ownership and modes for files the runner creates for the media user.
#[derive(Debug, Clone, Copy)]
pub struct Owner {
    pub uid: u32,
    pub gid: u32,
    /// Only root may chown to someone else; otherwise files keep our ownership.
    pub apply: bool,
}

impl Owner {
    /// Gives `path` to the media user with a group-writable `mode`.
    pub fn set(&self, path: &Path, mode: u32) -> Result<()> {
        if self.apply {
            chown(path, Some(self.uid), Some(self.gid))
                .map_err(|e| JobError::io(format!("chown {}", path.display()), e))?;
        }
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
            .map_err(|e| JobError::io(format!("chmod {}", path.display()), e))
    }

    /// Creates `dir` and its missing parents below `root`, each owned by the media
    /// user with mode 2775 (setgid so new files keep the media group).
    pub fn create_dirs(&self, root: &Path, dir: &Path) -> Result<()> {
        let rel = dir.strip_prefix(root).unwrap_or(Path::new(""));
        let mut cur = root.to_path_buf();
        for part in rel.components() {
            cur.push(part);
            match fs::create_dir(&cur) {
                Ok(()) => self.set(&cur, 0o2775)?,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(JobError::io(format!("create {}", cur.display()), e)),
            }
        }
        Ok(())
    }
}

/// Flushes a directory so a rename in it survives a power cut.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| JobError::io(format!("fsync {}", dir.display()), e))
}

/// Renames `from` to `to` only if `to` does not exist (`RENAME_NOREPLACE`), so a
/// publish can never overwrite a library file, even racing another writer.
pub fn rename_noreplace(from: &Path, to: &Path) -> Result<()> {
    nix::fcntl::renameat2(
        nix::fcntl::AT_FDCWD,
        from,
        nix::fcntl::AT_FDCWD,
        to,
        nix::fcntl::RenameFlags::RENAME_NOREPLACE,
    )
    .map_err(|e| {
        JobError::io(
            format!("rename {} to {}", from.display(), to.display()),
            e.into(),
        )
    })
}

/// Hidden temporary name next to `dest` (same filesystem, ignored by Jellyfin).
pub fn part_path(dest: &Path, job_id: i64) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dest.with_file_name(format!(".{name}.job{job_id}.part"))
}

/// Copies `src` to `dest` crash-safely: write `.part` beside `dest`, fsync, set
/// owner and mode, rename without replacing, fsync the directory. A crash leaves
/// at most a hidden `.part`, which the next attempt removes.
pub fn publish_copy(src: &Path, dest: &Path, job_id: i64, owner: &Owner) -> Result<()> {
    let part = part_path(dest, job_id);
    remove_if_exists(&part)?;
    fs::copy(src, &part)
        .map_err(|e| JobError::io(format!("copy {} to {}", src.display(), part.display()), e))?;
    File::open(&part)
        .and_then(|f| f.sync_all())
        .map_err(|e| JobError::io(format!("fsync {}", part.display()), e))?;
    owner.set(&part, 0o664)?;
    if let Err(e) = rename_noreplace(&part, dest) {
        let _ = fs::remove_file(&part);
        return Err(e);
    }
    if let Some(dir) = dest.parent() {
        sync_dir(dir)?;
    }
    Ok(())
}

/// Removes a file if present.
pub fn remove_if_exists(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(JobError::io(format!("remove {}", path.display()), e)),
    }
}

/// Removes a directory tree if present.
pub fn remove_dir_if_exists(path: &Path) -> Result<()> {
    match fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(JobError::io(format!("remove {}", path.display()), e)),
    }
}

/// Size of a file in bytes.
pub fn file_size(path: &Path) -> Result<u64> {
    fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| JobError::io(format!("stat {}", path.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_never_overwrites_and_leaves_no_part_file() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src.mkv");
        std::fs::write(&src, b"new").unwrap();
        let dest = dir.path().join("Film.mkv");
        std::fs::write(&dest, b"old").unwrap();
        let owner = Owner {
            uid: 0,
            gid: 0,
            apply: false,
        };
        let err = publish_copy(&src, &dest, 7, &owner).unwrap_err();
        assert!(err.to_string().contains("File exists"), "{err}");
        assert_eq!(std::fs::read(&dest).unwrap(), b"old");
        assert!(!part_path(&dest, 7).exists());
        let fresh = dir.path().join("Other.mkv");
        publish_copy(&src, &fresh, 7, &owner).unwrap();
        assert_eq!(std::fs::read(&fresh).unwrap(), b"new");
        assert_eq!(std::fs::read(&src).unwrap(), b"new", "the source stays");
    }

    #[test]
    fn space_check_names_the_setting() {
        let dir = tempfile::tempdir().unwrap();
        let e = ensure_space(dir.path(), u64::MAX / 2, 1).unwrap_err();
        assert!(e.to_string().contains("reserve_free_bytes"), "{e}");
        ensure_space(dir.path(), 1, 0).unwrap();
    }
}
