//! Small file helpers: atomic, private writes for keys and credentials.

use std::path::Path;

use pve_testhost_runtime::store::atomic_write_mode;

/// Writes `bytes` to `path` with mode 0600 atomically (temp file, fsync, rename).
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic(path, bytes, 0o600)
}

/// Writes `bytes` to `path` with `mode` atomically (temp file, fsync, rename, dir fsync).
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    atomic_write_mode(path, bytes, mode)
}
