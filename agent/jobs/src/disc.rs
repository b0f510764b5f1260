//! Disc detection without udev (udev rules do not fire reliably inside LXC).
//!
//! Each drive is polled. A real optical drive answers the `CDROM_DRIVE_STATUS`
//! ioctl; anything else that is a block device (a loop device holding an ISO, a
//! USB drive exposing a disc image) answers ENOTTY, and is then probed by reading
//! its ISO 9660 volume descriptors and root directory for `VIDEO_TS` or `BDMV`.
//! A disc is identified by its volume label plus a hash of its primary volume
//! descriptor, so the same disc left in the drive is never ripped twice.
//!
//! Blu-ray and UHD discs usually carry UDF 2.50+ only, with no ISO 9660 bridge.
//! Such a disc is recognised by its UDF volume recognition sequence and logical
//! volume descriptor (label, UDF revision) and reported as [`DiscKind::UdfOnly`]:
//! only MakeMKV reads those, so the rip stage routes them there. Its directory
//! tree (a metadata partition from UDF 2.50 on) is left to MakeMKV.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;

/// `CDROM_DRIVE_STATUS` results (linux/cdrom.h).
pub mod cds {
    pub const NO_INFO: i32 = 0;
    pub const NO_DISC: i32 = 1;
    pub const TRAY_OPEN: i32 = 2;
    pub const DRIVE_NOT_READY: i32 = 3;
    pub const DISC_OK: i32 = 4;
}

const CDROM_MEDIA_CHANGED: u32 = 0x5325;
const CDROM_DRIVE_STATUS: u32 = 0x5326;
/// `CDSL_CURRENT`: ask about the current slot.
const CDSL_CURRENT: i32 = i32::MAX;

nix::ioctl_write_int_bad!(cdrom_drive_status, CDROM_DRIVE_STATUS);
nix::ioctl_write_int_bad!(cdrom_media_changed, CDROM_MEDIA_CHANGED);

const SECTOR: u64 = 2048;

/// What kind of video disc a filesystem holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscKind {
    Dvd,
    Bluray,
    /// UDF only, no ISO 9660 bridge: a Blu-ray-class disc.
    UdfOnly {
        /// UDF revision from the domain identifier, e.g. `0x0250`.
        revision: u16,
    },
}

impl DiscKind {
    /// Whether only MakeMKV can rip this kind (libdvdread reads DVD-Video only).
    pub fn needs_makemkv(self) -> bool {
        !matches!(self, DiscKind::Dvd)
    }
}

impl std::fmt::Display for DiscKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DiscKind::Dvd => f.write_str("DVD-Video"),
            DiscKind::Bluray => f.write_str("Blu-ray (BDMV)"),
            DiscKind::UdfOnly { revision } => write!(
                f,
                "UDF-only disc (UDF {}.{:02x}, no ISO 9660/VIDEO_TS; Blu-ray class)",
                revision >> 8,
                revision & 0xff
            ),
        }
    }
}

/// A readable video disc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscId {
    pub label: String,
    pub kind: DiscKind,
    /// Stable identity of this disc (label + volume descriptor hash).
    pub fingerprint: String,
}

/// What one poll of a drive found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll {
    /// A video disc is ready.
    Disc(DiscId),
    /// A disc is in but is not a video disc (or not readable yet).
    Unreadable(String),
    Empty,
    TrayOpen,
    NotReady,
}

/// Interprets the drive-status ioctl result. `None` means the device is no
/// optical drive (ENOTTY/EINVAL) and the filesystem probe decides alone.
pub fn interpret_status(status: nix::Result<i32>) -> Option<Poll> {
    match status {
        Ok(cds::DISC_OK) => Some(Poll::NotReady), // caller reads the disc next
        Ok(cds::NO_DISC) => Some(Poll::Empty),
        Ok(cds::TRAY_OPEN) => Some(Poll::TrayOpen),
        Ok(cds::DRIVE_NOT_READY) | Ok(cds::NO_INFO) => Some(Poll::NotReady),
        Ok(_) => Some(Poll::NotReady),
        Err(nix::errno::Errno::ENOTTY) | Err(nix::errno::Errno::EINVAL) => None,
        Err(_) => Some(Poll::NotReady),
    }
}

/// Polls `device` once.
pub fn poll(device: &Path) -> Poll {
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(device)
    {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(libc::ENOMEDIUM) => return Poll::Empty,
        Err(e) => return Poll::Unreadable(format!("cannot open {}: {e}", device.display())),
    };
    // SAFETY: plain ioctl on an fd we own; the argument is an integer.
    let status = unsafe { cdrom_drive_status(file.as_raw_fd(), CDSL_CURRENT) };
    match interpret_status(status) {
        Some(Poll::NotReady) if status == Ok(cds::DISC_OK) => {
            // SAFETY: as above. Clears the kernel's media-changed flag; identity is
            // decided by the fingerprint, so the value itself is not needed.
            let _ = unsafe { cdrom_media_changed(file.as_raw_fd(), CDSL_CURRENT) };
            read_filesystem(file)
        }
        Some(other) => other,
        None => read_filesystem(file),
    }
}

fn read_filesystem(mut file: File) -> Poll {
    probe(&mut file)
}

/// Identifies the video disc on an image or device: ISO 9660 (with `VIDEO_TS` or
/// `BDMV`) when the disc has that filesystem, else UDF alone.
pub fn probe(f: &mut (impl Read + Seek)) -> Poll {
    match has_iso9660(f) {
        Ok(true) => match probe_iso9660(f) {
            Ok(Some(id)) => Poll::Disc(id),
            Ok(None) => Poll::Unreadable(
                "no VIDEO_TS or BDMV in the ISO 9660 root (not a video disc)".into(),
            ),
            Err(e) => Poll::Unreadable(format!("cannot read the ISO 9660 filesystem: {e}")),
        },
        Ok(false) => match probe_udf(f) {
            Ok(Some(id)) => Poll::Disc(id),
            Ok(None) => Poll::Unreadable(
                "neither ISO 9660 nor UDF found (not a video disc, or not readable yet)".into(),
            ),
            Err(e) => Poll::Unreadable(format!("cannot read the UDF filesystem: {e}")),
        },
        Err(e) => Poll::Unreadable(format!("cannot read the disc filesystem: {e}")),
    }
}

fn has_iso9660(f: &mut (impl Read + Seek)) -> std::io::Result<bool> {
    let mut vd = vec![0u8; SECTOR as usize];
    read_sector(f, 16, &mut vd)?;
    Ok(&vd[1..6] == b"CD001")
}

/// ECMA-167 descriptor tag: identifier, with the header checksum verified.
fn tag_id(d: &[u8]) -> Option<u16> {
    let sum = d[..16]
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 4)
        .fold(0u8, |acc, (_, b)| acc.wrapping_add(*b));
    (sum == d[4]).then(|| u16::from_le_bytes([d[0], d[1]]))
}

/// OSTA compressed Unicode `dstring` (8-bit or 16-bit big-endian characters; the
/// last byte holds the used length).
fn dstring(d: &[u8]) -> String {
    let used = (d[d.len() - 1] as usize).min(d.len() - 1);
    if used == 0 {
        return String::new();
    }
    let body = &d[1..used];
    match d[0] {
        8 => body.iter().map(|&b| b as char).collect(),
        16 => char::decode_utf16(
            body.chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]])),
        )
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect(),
        _ => String::new(),
    }
    .trim()
    .to_string()
}

/// Recognises a UDF filesystem (ECMA-167 volume recognition sequence `BEA01`,
/// `NSR02`/`NSR03`; anchor at sector 256) and reads its logical volume descriptor
/// for the label and UDF revision. `Ok(None)` when there is no UDF.
pub fn probe_udf(f: &mut (impl Read + Seek)) -> std::io::Result<Option<DiscId>> {
    const TAG_ANCHOR: u16 = 2;
    const TAG_LOGICAL_VOLUME: u16 = 6;
    const TAG_TERMINATOR: u16 = 8;
    let mut d = vec![0u8; SECTOR as usize];
    let (mut bea, mut nsr) = (false, false);
    for lba in 16..32 {
        read_sector(f, lba, &mut d)?;
        match &d[1..6] {
            b"BEA01" => bea = true,
            b"NSR02" | b"NSR03" if bea => {
                nsr = true;
                break;
            }
            b"CD001" | b"BOOT2" | b"CDW02" => {}
            _ => break,
        }
    }
    if !nsr {
        return Ok(None);
    }
    read_sector(f, 256, &mut d)?;
    if tag_id(&d) != Some(TAG_ANCHOR) {
        return Ok(None);
    }
    let vds_len = le32(&d, 16) / SECTOR;
    let vds_start = le32(&d, 20);
    for lba in vds_start..vds_start + vds_len.min(64) {
        read_sector(f, lba, &mut d)?;
        match tag_id(&d) {
            Some(TAG_LOGICAL_VOLUME) => {
                let label = dstring(&d[84..212]);
                let revision = u16::from_le_bytes([d[240], d[241]]);
                return Ok(Some(DiscId {
                    fingerprint: format!("{label}-{:016x}", fnv1a(&d)),
                    label,
                    kind: DiscKind::UdfOnly { revision },
                }));
            }
            Some(TAG_TERMINATOR) => break,
            _ => {}
        }
    }
    Ok(None)
}

fn read_sector(f: &mut (impl Read + Seek), lba: u64, buf: &mut [u8]) -> std::io::Result<()> {
    f.seek(SeekFrom::Start(lba * SECTOR))?;
    f.read_exact(buf)
}

fn le32(b: &[u8], at: usize) -> u64 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as u64
}

/// 64-bit FNV-1a: a stable, dependency-free fingerprint (not for security).
fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Reads the primary volume descriptor and root directory of an ISO 9660
/// filesystem. `Ok(None)` when there is no such filesystem or no video folder.
pub fn probe_iso9660(f: &mut (impl Read + Seek)) -> std::io::Result<Option<DiscId>> {
    let mut pvd = vec![0u8; SECTOR as usize];
    let mut found = false;
    for lba in 16..32 {
        read_sector(f, lba, &mut pvd)?;
        if &pvd[1..6] != b"CD001" {
            return Ok(None);
        }
        match pvd[0] {
            1 => {
                found = true;
                break;
            }
            255 => return Ok(None),
            _ => {}
        }
    }
    if !found {
        return Ok(None);
    }
    let label = String::from_utf8_lossy(&pvd[40..72]).trim().to_string();
    let root_lba = le32(&pvd, 156 + 2);
    let root_len = le32(&pvd, 156 + 10).min(64 * SECTOR);
    let mut dir = vec![0u8; root_len as usize];
    f.seek(SeekFrom::Start(root_lba * SECTOR))?;
    f.read_exact(&mut dir)?;
    let mut kind = None;
    let mut pos = 0usize;
    while pos < dir.len() {
        let len = dir[pos] as usize;
        if len == 0 {
            // Records never span sectors: skip to the next one.
            pos = (pos / SECTOR as usize + 1) * SECTOR as usize;
            continue;
        }
        if pos + 33 > dir.len() || pos + len > dir.len() {
            break;
        }
        let name_len = dir[pos + 32] as usize;
        let name = &dir[pos + 33..(pos + 33 + name_len).min(dir.len())];
        let name = String::from_utf8_lossy(name).to_ascii_uppercase();
        let name = name.split(';').next().unwrap_or("");
        match name {
            "VIDEO_TS" => kind = Some(DiscKind::Dvd),
            "BDMV" => kind = Some(DiscKind::Bluray),
            _ => {}
        }
        pos += len;
    }
    Ok(kind.map(|kind| DiscId {
        fingerprint: format!("{label}-{:016x}", fnv1a(&pvd)),
        label,
        kind,
    }))
}

/// Per-drive memory of the last disc seen, to fire once per inserted disc.
#[derive(Debug, Default)]
pub struct Tracker {
    last: Option<String>,
}

impl Tracker {
    /// Returns the disc when a new one appeared since the last poll.
    pub fn update(&mut self, poll: &Poll) -> Option<DiscId> {
        match poll {
            Poll::Disc(id) => {
                if self.last.as_deref() == Some(id.fingerprint.as_str()) {
                    None
                } else {
                    self.last = Some(id.fingerprint.clone());
                    Some(id.clone())
                }
            }
            Poll::Empty | Poll::TrayOpen => {
                self.last = None;
                None
            }
            // Spinning up or unreadable: keep memory so a slow drive does not
            // look like a new disc.
            Poll::NotReady | Poll::Unreadable(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::errno::Errno;

    #[test]
    fn ioctl_results_map_to_drive_states() {
        assert_eq!(interpret_status(Ok(cds::NO_DISC)), Some(Poll::Empty));
        assert_eq!(interpret_status(Ok(cds::TRAY_OPEN)), Some(Poll::TrayOpen));
        assert_eq!(
            interpret_status(Ok(cds::DRIVE_NOT_READY)),
            Some(Poll::NotReady)
        );
        assert_eq!(interpret_status(Err(Errno::ENOTTY)), None);
        assert_eq!(interpret_status(Err(Errno::EIO)), Some(Poll::NotReady));
    }

    #[test]
    fn tracker_fires_once_per_disc_and_again_after_eject() {
        let disc = |fp: &str| {
            Poll::Disc(DiscId {
                label: "X".into(),
                kind: DiscKind::Dvd,
                fingerprint: fp.into(),
            })
        };
        let mut t = Tracker::default();
        assert!(t.update(&disc("a")).is_some());
        assert!(t.update(&Poll::NotReady).is_none());
        assert!(t.update(&disc("a")).is_none());
        assert!(t.update(&disc("b")).is_some());
        assert!(t.update(&Poll::TrayOpen).is_none());
        assert!(t.update(&disc("b")).is_some());
    }

    #[test]
    fn non_iso_data_is_not_a_disc() {
        let mut c = std::io::Cursor::new(vec![0u8; 40 * 2048]);
        assert_eq!(probe_iso9660(&mut c).expect("read"), None);
    }
}
