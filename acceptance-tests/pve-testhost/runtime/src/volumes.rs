//! The node's one storage, `local` (type `dir` at `/var/lib/vz`), as pve-testhost models it.
//!
//! Container volumes are **directories** even when named `vm-<vmid>-disk-<n>.raw`: PVE
//! would create a raw ext4 image and loop-mount it, which adds nothing the tests can
//! observe but costs a mkfs per volume. `size=` is recorded, not enforced.

use std::fs;
use std::path::PathBuf;

use thiserror::Error;

use crate::paths::NodePaths;

/// The storage id pve-testhost provides.
pub const STORAGE: &str = "local";

/// Volume id problems, with PVE's wording where it has one.
#[derive(Debug, Error)]
pub enum VolumeError {
    /// Only `local` exists on this node.
    #[error("storage '{0}' does not exist")]
    NoSuchStorage(String),
    /// Not `local:<vmid>/<name>` / `local:vztmpl/<file>`.
    #[error("unable to parse volume ID '{0}'")]
    BadVolid(String),
    /// The volume file/directory is missing.
    #[error("volume '{0}' does not exist")]
    Missing(String),
    /// Creating the volume failed.
    #[error("unable to allocate volume for CT {vmid}: {source}")]
    Io {
        /// CT id.
        vmid: u32,
        /// Underlying error.
        source: std::io::Error,
    },
}

/// A `rootfs`/`mpN` `volume=` asking for a new disk: `local:8` or `8` (GiB).
pub fn parse_new_disk(volume: &str) -> Option<(String, f64)> {
    let (storage, size) = match volume.split_once(':') {
        Some((s, size)) => (s.to_string(), size),
        None => (STORAGE.to_string(), volume),
    };
    if storage.is_empty() || storage.contains('/') || storage.contains(char::is_whitespace) {
        return None;
    }
    let valid = !size.is_empty()
        && size
            .split_once('.')
            .map_or(size.bytes().all(|b| b.is_ascii_digit()), |(i, f)| {
                !i.is_empty()
                    && !f.is_empty()
                    && i.bytes().all(|b| b.is_ascii_digit())
                    && f.bytes().all(|b| b.is_ascii_digit())
            });
    if !valid {
        return None;
    }
    Some((storage, size.parse().ok()?))
}

/// Host path of an image volume `local:<vmid>/<name>`.
pub fn image_path(paths: &NodePaths, volid: &str) -> Result<PathBuf, VolumeError> {
    let (storage, rest) = volid
        .split_once(':')
        .ok_or_else(|| VolumeError::BadVolid(volid.to_string()))?;
    if storage != STORAGE {
        return Err(VolumeError::NoSuchStorage(storage.to_string()));
    }
    let (owner, name) = rest
        .split_once('/')
        .ok_or_else(|| VolumeError::BadVolid(volid.to_string()))?;
    let owner: u32 = owner
        .parse()
        .map_err(|_| VolumeError::BadVolid(volid.to_string()))?;
    if name.is_empty() || name.contains('/') || name.starts_with('.') {
        return Err(VolumeError::BadVolid(volid.to_string()));
    }
    Ok(paths.images_dir(owner).join(name))
}

/// Host path of a template `local:vztmpl/<file>`.
pub fn template_path(paths: &NodePaths, volid: &str) -> Result<PathBuf, VolumeError> {
    let rest = volid
        .strip_prefix("local:vztmpl/")
        .ok_or_else(|| match volid.split_once(':') {
            Some((s, _)) if s != STORAGE => VolumeError::NoSuchStorage(s.to_string()),
            _ => VolumeError::BadVolid(volid.to_string()),
        })?;
    if rest.is_empty() || rest.contains('/') || rest.starts_with('.') {
        return Err(VolumeError::BadVolid(volid.to_string()));
    }
    let path = paths.template_dir().join(rest);
    if !path.is_file() {
        return Err(VolumeError::Missing(volid.to_string()));
    }
    Ok(path)
}

/// Allocates a new volume directory for CT `vmid` and returns its volume id, named as
/// PVE's dir storage would (`vm-<vmid>-disk-<n>.raw`, or `subvol-...` for size 0).
pub fn allocate(paths: &NodePaths, vmid: u32, size_gib: f64) -> Result<String, VolumeError> {
    let dir = paths.images_dir(vmid);
    fs::create_dir_all(&dir).map_err(|source| VolumeError::Io { vmid, source })?;
    let mut n = 0u32;
    loop {
        let name = if size_gib > 0.0 {
            format!("vm-{vmid}-disk-{n}.raw")
        } else {
            format!("subvol-{vmid}-disk-{n}.subvol")
        };
        match fs::create_dir(dir.join(&name)) {
            Ok(()) => return Ok(format!("{STORAGE}:{vmid}/{name}")),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => n += 1,
            Err(source) => return Err(VolumeError::Io { vmid, source }),
        }
    }
}

/// PVE's `size=` text for a GiB count (`8G`, `512M` for fractions).
pub fn size_text(size_gib: f64) -> String {
    if size_gib.fract() == 0.0 {
        format!("{}G", size_gib as u64)
    } else {
        format!("{}M", (size_gib * 1024.0).round() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_new_disk_requests() {
        assert_eq!(parse_new_disk("local:8"), Some(("local".into(), 8.0)));
        assert_eq!(parse_new_disk("0.5"), Some(("local".into(), 0.5)));
        assert_eq!(parse_new_disk("local:100/vm-100-disk-0.raw"), None);
        assert_eq!(parse_new_disk("/srv/media"), None);
        assert_eq!(size_text(8.0), "8G");
        assert_eq!(size_text(0.5), "512M");
    }

    #[test]
    fn allocates_distinct_directories_and_resolves_them() {
        let dir = tempfile::tempdir().unwrap();
        let paths = NodePaths::new(dir.path(), "pve");
        let a = allocate(&paths, 100, 8.0).unwrap();
        let b = allocate(&paths, 100, 2.0).unwrap();
        assert_eq!(a, "local:100/vm-100-disk-0.raw");
        assert_eq!(b, "local:100/vm-100-disk-1.raw");
        assert!(image_path(&paths, &a).unwrap().is_dir());
        assert!(matches!(
            image_path(&paths, "nfs:100/x"),
            Err(VolumeError::NoSuchStorage(_))
        ));
        assert!(image_path(&paths, "local:100/../../etc").is_err());
        assert!(template_path(&paths, "local:vztmpl/none.tar.zst").is_err());
    }
}
