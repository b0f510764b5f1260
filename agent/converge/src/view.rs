//! The filesystem as the engine sees it: the real files below the root, with an
//! overlay of simulated changes in check mode. Modules only read through this, so
//! in check mode a file written by an earlier item is seen with its new content.

use std::collections::BTreeMap;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Kind of a filesystem object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink(PathBuf),
    Device,
    Other,
}

/// What the engine needs to know about a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    pub kind: Kind,
    pub uid: u32,
    pub gid: u32,
    /// Permission bits including setuid/setgid/sticky.
    pub mode: u32,
}

/// A simulated state of one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sim {
    /// Exists with this metadata (and content, for files).
    Present(Meta, Option<Vec<u8>>),
    /// Removed.
    Absent,
}

/// Real files plus the check-mode overlay.
#[derive(Debug, Clone)]
pub struct View {
    root: PathBuf,
    overlay: BTreeMap<PathBuf, Sim>,
}

fn meta_of(m: &std::fs::Metadata, link: Option<PathBuf>) -> Meta {
    let ft = m.file_type();
    let kind = if let Some(t) = link {
        Kind::Symlink(t)
    } else if ft.is_dir() {
        Kind::Dir
    } else if ft.is_file() {
        Kind::File
    } else if ft.is_char_device() || ft.is_block_device() {
        Kind::Device
    } else {
        Kind::Other
    };
    Meta {
        kind,
        uid: m.uid(),
        gid: m.gid(),
        mode: m.mode() & 0o7777,
    }
}

impl View {
    /// A view of `root` with an empty overlay.
    pub fn new(root: &Path) -> Self {
        View {
            root: root.to_path_buf(),
            overlay: BTreeMap::new(),
        }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where a spec path (absolute, inside the managed system) lives on this host.
    pub fn host(&self, path: &Path) -> PathBuf {
        let rel = path.strip_prefix("/").unwrap_or(path);
        if rel.as_os_str().is_empty() {
            self.root.clone()
        } else {
            self.root.join(rel)
        }
    }

    /// Metadata, following symlinks (as file modules do).
    pub fn meta(&self, path: &Path) -> io::Result<Option<Meta>> {
        if let Some(s) = self.overlay.get(path) {
            return Ok(match s {
                Sim::Present(m, _) => Some(m.clone()),
                Sim::Absent => None,
            });
        }
        match std::fs::metadata(self.host(path)) {
            Ok(m) => Ok(Some(meta_of(&m, None))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Metadata without following a final symlink.
    pub fn lmeta(&self, path: &Path) -> io::Result<Option<Meta>> {
        if let Some(s) = self.overlay.get(path) {
            return Ok(match s {
                Sim::Present(m, _) => Some(m.clone()),
                Sim::Absent => None,
            });
        }
        let host = self.host(path);
        match std::fs::symlink_metadata(&host) {
            Ok(m) => {
                let link = if m.file_type().is_symlink() {
                    Some(std::fs::read_link(&host)?)
                } else {
                    None
                };
                Ok(Some(meta_of(&m, link)))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Content of a file, `None` when it does not exist.
    pub fn read(&self, path: &Path) -> io::Result<Option<Vec<u8>>> {
        if let Some(s) = self.overlay.get(path) {
            return Ok(match s {
                Sim::Present(_, c) => c.clone(),
                Sim::Absent => None,
            });
        }
        match std::fs::read(self.host(path)) {
            Ok(c) => Ok(Some(c)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Entries of a directory as spec paths, sorted; empty when it does not exist.
    pub fn list(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        let mut out = std::collections::BTreeSet::new();
        match std::fs::read_dir(self.host(dir)) {
            Ok(rd) => {
                for e in rd {
                    out.insert(dir.join(e?.file_name()));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        for (p, s) in &self.overlay {
            if p.parent() == Some(dir) {
                match s {
                    Sim::Present(..) => {
                        out.insert(p.clone());
                    }
                    Sim::Absent => {
                        out.remove(p);
                    }
                }
            }
        }
        Ok(out.into_iter().collect())
    }

    /// Records a simulated state (check mode).
    pub fn simulate(&mut self, path: &Path, state: Sim) {
        self.overlay.insert(path.to_path_buf(), state);
    }
}
