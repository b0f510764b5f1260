//! Crash-safe file replacement: write a temp file in the same directory, set owner
//! and mode, fsync, rename over the target, fsync the directory. A reader sees
//! the old or the new file, never a mix, and a crash leaves no partial file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Owner and mode of a written file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attrs {
    pub uid: u32,
    pub gid: u32,
    /// Permission bits including setuid/setgid/sticky.
    pub mode: u32,
}

fn temp_path(path: &Path) -> io::Result<PathBuf> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    let mut tmp = name.to_os_string();
    tmp.push(format!(".pvelxc-tmp.{}", std::process::id()));
    Ok(path.with_file_name(tmp))
}

/// Fsyncs a directory so a rename in it survives a crash.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Atomically replaces `path` with `content`, owned and moded as `attrs`.
pub fn write_atomic(path: &Path, content: &[u8], attrs: Attrs) -> io::Result<()> {
    let tmp = temp_path(path)?;
    let _ = fs::remove_file(&tmp);
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)?;
        f.write_all(content)?;
        // Owner before mode: chown clears setuid/setgid bits.
        std::os::unix::fs::fchown(&f, Some(attrs.uid), Some(attrs.gid))?;
        f.set_permissions(fs::Permissions::from_mode(attrs.mode))?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent() {
            sync_dir(dir)?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}
