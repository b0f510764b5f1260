//! The run lock: two agent runs on one system never interleave (a provider apply
//! racing a boot-time run, say). `flock` on `/run/pvelxc-agent.lock`, released by
//! the kernel when the process ends, so a crash cannot leave it stuck.

use crate::error::RunError;
use nix::fcntl::{Flock, FlockArg};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Path of the lock below the root.
pub const LOCK_PATH: &str = "run/pvelxc-agent.lock";

/// A held run lock.
pub struct RunLock {
    _lock: Flock<File>,
}

/// Takes the lock without waiting. In check mode a missing `/run` is not created
/// (check mode writes nothing) and the run goes unlocked.
pub fn acquire(root: &Path, may_create_dir: bool) -> Result<Option<RunLock>, RunError> {
    let path = root.join(LOCK_PATH);
    if let Some(dir) = path.parent() {
        if !dir.is_dir() {
            if !may_create_dir {
                return Ok(None);
            }
            std::fs::create_dir_all(dir).map_err(|source| RunError::Lock {
                path: path.clone(),
                source,
            })?;
        }
    }
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(|source| RunError::Lock {
            path: path.clone(),
            source,
        })?;
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(lock) => Ok(Some(RunLock { _lock: lock })),
        Err((_, nix::errno::Errno::EWOULDBLOCK)) => Err(RunError::Locked { path }),
        Err((_, e)) => Err(RunError::Lock {
            path,
            source: e.into(),
        }),
    }
}
