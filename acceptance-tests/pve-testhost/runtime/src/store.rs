//! Reading and writing CT configs on disk: PVE's lock, compare-and-swap on `digest`,
//! atomic replacement (temp file + fsync + rename + directory fsync).

use std::fs::{self, File};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use thiserror::Error;

use crate::conf::{digest, ConfError, PctConf};
use crate::lock::{ConfigLock, LockError, DEFAULT_LOCK_TIMEOUT};
use crate::paths::NodePaths;

/// Errors of the config store; messages follow PVE's wording.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The CT has no config file (PVE: `Configuration file '...' does not exist`).
    #[error("Configuration file '{display}' does not exist")]
    NotFound {
        /// CT id.
        vmid: u32,
        /// Path as PVE names it.
        display: String,
    },
    /// A CT with this id already exists somewhere in the cluster.
    #[error("CT {vmid} already exists on node '{node}'")]
    AlreadyExists {
        /// CT id.
        vmid: u32,
        /// Node owning it.
        node: String,
    },
    /// The `digest` sent by a client no longer matches the file.
    #[error("detected modified configuration - file changed by other user? Try again.")]
    DigestMismatch,
    /// The config carries a `lock` (PVE: `CT is locked (backup)`).
    #[error("CT is locked ({0})")]
    Locked(String),
    /// The config lock could not be taken.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// The file content is not a valid pct.conf, or a change would make it invalid.
    #[error(transparent)]
    Conf(#[from] ConfError),
    /// A file system error.
    #[error("{}: {source}", path.display())]
    Io {
        /// File involved.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
}

/// A config as read from disk.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Parsed content (lenient, as PVE reads configs for use).
    pub conf: PctConf,
    /// SHA-1 of the file bytes.
    pub digest: String,
    /// PVE's warnings for lines that were skipped or kept unchecked.
    pub warnings: Vec<String>,
}

/// Refuses to touch a CT whose config carries `lock:` (PVE's `check_lock`).
pub fn check_lock(conf: &PctConf) -> Result<(), StoreError> {
    match conf.main.get("lock") {
        Some(lock) => Err(StoreError::Locked(lock.to_string())),
        None => Ok(()),
    }
}

/// The CT configs of a node (and, through `/etc/pve/nodes/*`, of its cluster).
#[derive(Debug, Clone)]
pub struct ConfigStore {
    paths: NodePaths,
    lock_timeout: Duration,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl ConfigStore {
    /// Store for `paths`, with PVE's default lock timeout (10 s).
    pub fn new(paths: NodePaths) -> Self {
        Self {
            paths,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
        }
    }

    /// Same store with another lock timeout.
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// The layout this store uses.
    pub fn paths(&self) -> &NodePaths {
        &self.paths
    }

    /// Creates `/etc/pve/nodes/<node>/lxc` and the `/etc/pve/lxc` link to it.
    pub fn init(&self) -> Result<(), StoreError> {
        let dir = self.paths.conf_dir();
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let link = self.paths.pve_dir().join("lxc");
        if fs::symlink_metadata(&link).is_err() {
            let target = Path::new("nodes").join(self.paths.node()).join("lxc");
            std::os::unix::fs::symlink(&target, &link).map_err(io_err(&link))?;
        }
        Ok(())
    }

    /// Takes PVE's config lock for `vmid`.
    pub fn lock(&self, vmid: u32) -> Result<ConfigLock, StoreError> {
        Ok(ConfigLock::acquire(
            &self.paths.lock_path(vmid),
            self.lock_timeout,
        )?)
    }

    /// True if this node has a config for `vmid`.
    pub fn exists(&self, vmid: u32) -> bool {
        self.paths.conf_path(vmid).is_file()
    }

    /// Node holding `vmid` anywhere in the cluster view (`/etc/pve/nodes/*/lxc`).
    pub fn locate(&self, vmid: u32) -> Option<String> {
        let nodes = fs::read_dir(self.paths.pve_dir().join("nodes")).ok()?;
        nodes
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .find(|node| {
                self.paths
                    .conf_dir_of(node)
                    .join(format!("{vmid}.conf"))
                    .is_file()
            })
    }

    /// CT ids configured on this node, ascending.
    pub fn list(&self) -> Result<Vec<u32>, StoreError> {
        let dir = self.paths.conf_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err(&dir)(e)),
        };
        let mut ids: Vec<u32> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                name.strip_suffix(".conf")?.parse().ok()
            })
            .collect();
        ids.sort_unstable();
        Ok(ids)
    }

    /// Reads and parses a config (no lock needed: writes are atomic renames).
    pub fn read(&self, vmid: u32) -> Result<Loaded, StoreError> {
        let path = self.paths.conf_path(vmid);
        let raw = match fs::read(&path) {
            Ok(raw) => raw,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::NotFound {
                    vmid,
                    display: self.paths.conf_display(vmid),
                })
            }
            Err(e) => return Err(io_err(&path)(e)),
        };
        let text = String::from_utf8_lossy(&raw);
        let parsed = PctConf::parse_lenient(vmid, &text);
        let mut warnings = parsed.errors;
        warnings.extend(parsed.warnings);
        for warning in &warnings {
            tracing::warn!("{warning}");
        }
        Ok(Loaded {
            conf: parsed.conf,
            digest: digest(&raw),
            warnings,
        })
    }

    /// Writes a config while the caller holds its lock; returns the new digest.
    pub fn write_locked(
        &self,
        _lock: &ConfigLock,
        vmid: u32,
        conf: &PctConf,
    ) -> Result<String, StoreError> {
        let text = conf.to_text()?;
        let path = self.paths.conf_path(vmid);
        atomic_write(&path, text.as_bytes())?;
        Ok(digest(text.as_bytes()))
    }

    /// Creates a new config; refuses if the id exists anywhere in the cluster.
    pub fn create(&self, vmid: u32, conf: &PctConf) -> Result<String, StoreError> {
        self.init()?;
        let lock = self.lock(vmid)?;
        if let Some(node) = self.locate(vmid) {
            return Err(StoreError::AlreadyExists { vmid, node });
        }
        self.write_locked(&lock, vmid, conf)
    }

    /// Read-modify-write under the lock. With `expected_digest`, fails with PVE's message
    /// if the file changed since the client read it. Returns the closure's value and the
    /// new digest.
    pub fn update<T>(
        &self,
        vmid: u32,
        expected_digest: Option<&str>,
        change: impl FnOnce(&mut PctConf) -> Result<T, StoreError>,
    ) -> Result<(T, String), StoreError> {
        let lock = self.lock(vmid)?;
        let loaded = self.read(vmid)?;
        if let Some(expected) = expected_digest {
            if !expected.eq_ignore_ascii_case(&loaded.digest) {
                return Err(StoreError::DigestMismatch);
            }
        }
        let mut conf = loaded.conf;
        let value = change(&mut conf)?;
        let digest = self.write_locked(&lock, vmid, &conf)?;
        Ok((value, digest))
    }

    /// Removes a config file under the lock.
    pub fn remove(&self, vmid: u32) -> Result<(), StoreError> {
        let _lock = self.lock(vmid)?;
        let path = self.paths.conf_path(vmid);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StoreError::NotFound {
                vmid,
                display: self.paths.conf_display(vmid),
            }),
            Err(e) => Err(io_err(&path)(e)),
        }
    }
}

/// Replaces `path` atomically: write a sibling temp file, fsync it, rename over the
/// target, fsync the directory. A crash leaves either the old or the new file.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    atomic_write_mode(path, bytes, 0o666).map_err(io_err(path))
}

/// [`atomic_write`] creating the file with `mode` (before the umask), so a secret is
/// never readable by others, not even between the write and a later chmod.
pub fn atomic_write_mode(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    let result = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}
