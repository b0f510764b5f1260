//! PVE's config lock: an exclusive `flock` on `/run/lock/lxc/pve-config-<vmid>.lock`
//! taken around every read-modify-write, given up after a timeout with PVE's message.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use thiserror::Error;

/// How long PVE waits for a config lock before giving up (`lock_file` default).
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// Failure to take the lock.
#[derive(Debug, Error)]
pub enum LockError {
    /// Somebody else held the lock for the whole timeout.
    #[error("can't lock file '{}' - got timeout", path.display())]
    Timeout {
        /// The lock file.
        path: PathBuf,
    },
    /// The lock file could not be created or locked.
    #[error("can't lock file '{}' - {source}", path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
}

/// A held lock; released when dropped.
#[derive(Debug)]
pub struct ConfigLock {
    _lock: Flock<File>,
    path: PathBuf,
}

impl ConfigLock {
    /// Takes the exclusive lock on `path`, creating the file (and its directory) if needed,
    /// retrying until `timeout`.
    pub fn acquire(path: &Path, timeout: Duration) -> Result<Self, LockError> {
        let io = |source| LockError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io)?;
        }
        let deadline = Instant::now() + timeout;
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(io)?;
        loop {
            match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                Ok(lock) => {
                    return Ok(Self {
                        _lock: lock,
                        path: path.to_path_buf(),
                    })
                }
                Err((returned, Errno::EWOULDBLOCK)) => {
                    if Instant::now() >= deadline {
                        return Err(LockError::Timeout {
                            path: path.to_path_buf(),
                        });
                    }
                    file = returned;
                    sleep(Duration::from_millis(20));
                }
                Err((_, errno)) => return Err(io(std::io::Error::from(errno))),
            }
        }
    }

    /// The lock file held.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_locker_times_out_with_pve_message_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run/lock/lxc/pve-config-100.lock");
        let held = ConfigLock::acquire(&path, Duration::from_millis(10)).unwrap();
        let err = ConfigLock::acquire(&path, Duration::from_millis(100)).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("can't lock file '{}' - got timeout", path.display())
        );
        drop(held);
        ConfigLock::acquire(&path, Duration::from_millis(10)).unwrap();
    }
}
