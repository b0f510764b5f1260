//! Hardware stand-ins so passthrough is testable without the hardware:
//!
//! * GPU: `/dev/dri/card0` (c 226:0) and `/dev/dri/renderD128` (c 226:128), plain device
//!   nodes without a driver. Opening one past the device cgroup gives ENXIO/ENODEV; a
//!   cgroup denial gives EPERM, so tests can tell the two apart. A sysfs-like tree
//!   (`/sys/class/drm/card0/device/vendor` = `0x8086`, ...) is mounted over `/sys/class`.
//! * Optical drive: a read-only loop device holding a small ISO 9660 image; `/dev/sr0`
//!   is a block node with the loop device's major:minor (so reads return the disc
//!   bytes), `/dev/sg0` a char node c 21:0 (no sg driver: opening gives ENXIO), and
//!   `/sys/class/scsi_generic/sg0/device/block/sr0` links them as on real hardware.
//!
//! Nodes are created in the upper directory of the overlay that covers `/dev` inside the
//! node's namespace, so this machine's `/dev` is never touched.

use std::fs;
use std::os::unix::fs::{lchown, symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::sys::stat::{major, makedev, minor, mknod, Mode, SFlag};

use super::etc::DeviceGroups;
use super::NodeError;
use crate::cmd;

/// Bytes at the start of the disc image after the 32 KiB system area: an ISO 9660
/// primary volume descriptor with the volume id `PVE_TESTHOST_DISC`.
pub const DISC_VOLUME_ID: &str = "PVE_TESTHOST_DISC";

/// What was set up, for the node info file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Hardware {
    /// `/dev/dri/card0`.
    pub gpu_card: String,
    /// `/dev/dri/renderD128`.
    pub gpu_render: String,
    /// `/dev/sr0`.
    pub optical: String,
    /// `/dev/sg0`.
    pub optical_generic: String,
    /// Loop device backing `/dev/sr0`.
    pub loop_device: String,
    /// `major:minor` of `/dev/sr0` (the loop device's).
    pub optical_rdev: String,
    /// Disc image file.
    pub disc_image: PathBuf,
    /// Device group GIDs on the node.
    pub groups: DeviceGroups,
}

/// Writes a 1 MiB ISO 9660 image whose primary volume descriptor names
/// [`DISC_VOLUME_ID`].
pub fn write_disc_image(path: &Path) -> Result<(), NodeError> {
    let mut image = vec![0u8; 1024 * 1024];
    let pvd = 16 * 2048;
    image[pvd] = 1;
    image[pvd + 1..pvd + 6].copy_from_slice(b"CD001");
    image[pvd + 6] = 1;
    let mut id = [b' '; 32];
    id[..DISC_VOLUME_ID.len()].copy_from_slice(DISC_VOLUME_ID.as_bytes());
    image[pvd + 40..pvd + 72].copy_from_slice(&id);
    let terminator = 17 * 2048;
    image[terminator] = 255;
    image[terminator + 1..terminator + 6].copy_from_slice(b"CD001");
    image[terminator + 6] = 1;
    fs::write(path, &image).map_err(|e| NodeError::io(path, e))
}

/// Whether `loop_device` currently holds `image` (a detached loop device is an empty
/// disk: reads of `/dev/sr0` would fail with EINVAL).
pub fn loop_holds(loop_device: &str, image: &Path) -> bool {
    let name = loop_device.trim_start_matches("/dev/");
    fs::read_to_string(format!("/sys/block/{name}/loop/backing_file"))
        .is_ok_and(|file| Path::new(file.trim()) == image)
}

/// Puts `image` back into `loop_device` (same device, so `/dev/sr0`'s numbers stay
/// valid) when something detached it.
pub fn reattach_loop(loop_device: &str, image: &Path) -> Result<(), NodeError> {
    let path = image.to_string_lossy();
    cmd::run_text("losetup", &["--read-only", loop_device, &path])?;
    Ok(())
}

/// Attaches `image` to a free loop device, read-only.
pub fn attach_loop(image: &Path) -> Result<String, NodeError> {
    let path = image.to_string_lossy();
    let out = cmd::run_text("losetup", &["--find", "--show", "--read-only", &path])?;
    Ok(out.trim().to_string())
}

fn node(
    upper: &Path,
    rel: &str,
    kind: SFlag,
    (maj, min): (u64, u64),
    gid: u32,
) -> Result<(), NodeError> {
    let path = upper.join(rel);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| NodeError::io(parent, e))?;
    }
    if fs::symlink_metadata(&path).is_ok() {
        fs::remove_file(&path).map_err(|e| NodeError::io(&path, e))?;
    }
    mknod(
        &path,
        kind,
        Mode::from_bits_truncate(0o660),
        makedev(maj, min),
    )
    .map_err(|e| NodeError::io(&path, std::io::Error::from(e)))?;
    fs::set_permissions(&path, fs::Permissions::from_mode(0o660))
        .map_err(|e| NodeError::io(&path, e))?;
    lchown(&path, Some(0), Some(gid)).map_err(|e| NodeError::io(&path, e))
}

fn file(root: &Path, rel: &str, text: &str) -> Result<(), NodeError> {
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| NodeError::io(parent, e))?;
    }
    fs::write(&path, text).map_err(|e| NodeError::io(&path, e))
}

fn link(root: &Path, rel: &str, target: &str) -> Result<(), NodeError> {
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| NodeError::io(parent, e))?;
    }
    let _ = fs::remove_file(&path);
    symlink(target, &path).map_err(|e| NodeError::io(&path, e))
}

/// Creates the device nodes in `dev_upper` and the fake sysfs classes `drm/` and
/// `scsi_generic/` in `sys_class` (the directory mounted over `/sys/class`).
pub fn prepare(
    dev_upper: &Path,
    sys_class: &Path,
    loop_device: &str,
    disc_image: &Path,
    groups: DeviceGroups,
) -> Result<Hardware, NodeError> {
    let meta = fs::metadata(loop_device).map_err(|e| NodeError::io(Path::new(loop_device), e))?;
    let rdev = meta.rdev();
    let (lmaj, lmin) = (major(rdev), minor(rdev));
    node(
        dev_upper,
        "dri/card0",
        SFlag::S_IFCHR,
        (226, 0),
        groups.video,
    )?;
    node(
        dev_upper,
        "dri/renderD128",
        SFlag::S_IFCHR,
        (226, 128),
        groups.render,
    )?;
    node(dev_upper, "sr0", SFlag::S_IFBLK, (lmaj, lmin), groups.cdrom)?;
    node(dev_upper, "sg0", SFlag::S_IFCHR, (21, 0), groups.cdrom)?;

    // Class directories are plain directories here (on real hardware they link into
    // /sys/devices, which cannot be extended); the files consumers read are the same.
    file(sys_class, "drm/card0/dev", "226:0\n")?;
    file(
        sys_class,
        "drm/card0/uevent",
        "MAJOR=226\nMINOR=0\nDEVNAME=dri/card0\nDEVTYPE=drm_minor\n",
    )?;
    file(sys_class, "drm/card0/device/vendor", "0x8086\n")?;
    file(sys_class, "drm/card0/device/device", "0x4680\n")?;
    file(sys_class, "drm/card0/device/subsystem_vendor", "0x8086\n")?;
    file(sys_class, "drm/card0/device/class", "0x030000\n")?;
    file(
        sys_class,
        "drm/card0/device/uevent",
        "DRIVER=i915\nPCI_CLASS=30000\nPCI_ID=8086:4680\nPCI_SUBSYS_ID=8086:2212\nPCI_SLOT_NAME=0000:00:02.0\n",
    )?;
    file(sys_class, "drm/renderD128/dev", "226:128\n")?;
    file(
        sys_class,
        "drm/renderD128/uevent",
        "MAJOR=226\nMINOR=128\nDEVNAME=dri/renderD128\nDEVTYPE=drm_minor\n",
    )?;
    link(sys_class, "drm/renderD128/device", "../card0/device")?;

    file(sys_class, "scsi_generic/sg0/dev", "21:0\n")?;
    file(
        sys_class,
        "scsi_generic/sg0/uevent",
        "MAJOR=21\nMINOR=0\nDEVNAME=sg0\n",
    )?;
    file(sys_class, "scsi_generic/sg0/device/type", "5\n")?;
    file(sys_class, "scsi_generic/sg0/device/vendor", "HL-DT-ST\n")?;
    file(
        sys_class,
        "scsi_generic/sg0/device/model",
        "BD-RE  WH16NS60 \n",
    )?;
    file(
        sys_class,
        "scsi_generic/sg0/device/block/sr0/dev",
        &format!("{lmaj}:{lmin}\n"),
    )?;
    file(
        sys_class,
        "scsi_generic/sg0/device/block/sr0/uevent",
        "DEVNAME=sr0\nDEVTYPE=disk\n",
    )?;

    Ok(Hardware {
        gpu_card: "/dev/dri/card0".into(),
        gpu_render: "/dev/dri/renderD128".into(),
        optical: "/dev/sr0".into(),
        optical_generic: "/dev/sg0".into(),
        loop_device: loop_device.to_string(),
        optical_rdev: format!("{lmaj}:{lmin}"),
        disc_image: disc_image.to_path_buf(),
        groups,
    })
}
