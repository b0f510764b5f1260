//! Ingest from the staging folder. inotify wakes the scanner early, but a file is
//! only taken once its size and modification time have not changed for
//! `settle_seconds`, so a rip or copy still being written is never picked up
//! (inotify alone cannot tell: writers close and reopen, and network filesystems
//! send no events at all).

use crate::db::{kind, stage, NewJob};
use crate::naming::{parse_stem, MediaName};
use std::collections::{HashMap, HashSet};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// File extensions taken from staging.
pub const MEDIA_EXTENSIONS: &[&str] = &["mkv", "mp4", "m4v", "m2ts", "ts", "avi", "mov", "webm"];

/// Whether `path` looks like a finished media file (hidden `.part` files and
/// other extensions are skipped).
pub fn is_candidate(path: &Path) -> bool {
    let hidden = path
        .file_name()
        .map(|n| n.to_string_lossy().starts_with('.'))
        .unwrap_or(true);
    let ext_ok = path
        .extension()
        .map(|e| MEDIA_EXTENSIONS.contains(&e.to_string_lossy().to_ascii_lowercase().as_str()))
        .unwrap_or(false);
    !hidden && ext_ok
}

/// Identity of a source file: path plus size and modification time, so re-adding
/// the same file is a no-op while a replaced file becomes a new job.
pub fn source_key(path: &Path) -> std::io::Result<String> {
    let canon = std::fs::canonicalize(path)?;
    let m = std::fs::metadata(&canon)?;
    Ok(format!(
        "file:{}:{}:{}.{}",
        canon.display(),
        m.len(),
        m.mtime(),
        m.mtime_nsec()
    ))
}

/// A job for a file, with naming guessed from the file name unless given.
pub fn new_file_job(
    path: &Path,
    name: Option<MediaName>,
    profile: &str,
    priority: i64,
) -> std::io::Result<NewJob> {
    let key = source_key(path)?;
    let canon = std::fs::canonicalize(path)?;
    let stem = canon
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = name.unwrap_or_else(|| parse_stem(&stem));
    Ok(NewJob {
        kind: kind::FILE.into(),
        source: canon.display().to_string(),
        source_key: key,
        title: Some(n.title).filter(|t| !t.is_empty()),
        year: n.year,
        season: n.season,
        episode: n.episode,
        extra: n.extra,
        profile: profile.to_string(),
        priority,
        first_stage: stage::TRANSCODE.into(),
    })
}

/// Tracks files until they have settled.
#[derive(Debug, Default)]
pub struct Settler {
    seen: HashMap<PathBuf, (u64, SystemTime, Instant)>,
    taken: HashSet<PathBuf>,
}

impl Settler {
    /// Scans `dir` (one level) and returns files that stayed unchanged for `settle`.
    pub fn scan(&mut self, dir: &Path, settle: Duration) -> Vec<PathBuf> {
        let now = Instant::now();
        let mut ready = Vec::new();
        let mut present = HashSet::new();
        let Ok(entries) = std::fs::read_dir(dir) else {
            return ready;
        };
        for e in entries.flatten() {
            let path = e.path();
            let Ok(meta) = e.metadata() else { continue };
            if !meta.is_file() || !is_candidate(&path) {
                continue;
            }
            present.insert(path.clone());
            if self.taken.contains(&path) {
                continue;
            }
            let size = meta.len();
            let mtime = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            let entry = self.seen.entry(path.clone()).or_insert((size, mtime, now));
            if entry.0 != size || entry.1 != mtime {
                *entry = (size, mtime, now);
                continue;
            }
            let quiet_for = SystemTime::now().duration_since(mtime).unwrap_or_default();
            if now.duration_since(entry.2) >= settle && quiet_for >= settle {
                ready.push(path);
            }
        }
        self.seen.retain(|p, _| present.contains(p));
        self.taken.retain(|p| present.contains(p));
        ready
    }

    /// Marks a file as queued so it is not offered again while it stays.
    pub fn taken(&mut self, path: &Path) {
        self.taken.insert(path.to_path_buf());
        self.seen.remove(path);
    }
}

/// inotify on the staging folder, used only to wake the scanner early.
pub struct Wakeup {
    inotify: Option<inotify::Inotify>,
    buf: Vec<u8>,
}

impl Wakeup {
    /// Watches `dir`; without inotify (limits, odd filesystems) scanning still works.
    pub fn new(dir: &Path) -> Self {
        use inotify::WatchMask;
        let inotify = inotify::Inotify::init().ok().and_then(|i| {
            i.watches()
                .add(
                    dir,
                    WatchMask::CLOSE_WRITE | WatchMask::MOVED_TO | WatchMask::CREATE,
                )
                .ok()
                .map(|_| i)
        });
        if inotify.is_none() {
            tracing::warn!(dir = %dir.display(), "inotify unavailable; staging is scanned by polling only");
        }
        Self {
            inotify,
            buf: vec![0; 4096],
        }
    }

    /// Whether anything happened since the last call (never blocks).
    pub fn changed(&mut self) -> bool {
        match self.inotify.as_mut() {
            Some(i) => i
                .read_events(&mut self.buf)
                .map(|ev| ev.count() > 0)
                .unwrap_or(false),
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_being_written_is_not_taken_until_it_settles() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("Film (2010).mkv");
        std::fs::write(&f, b"abc").unwrap();
        std::fs::write(dir.path().join(".Film.mkv.part"), b"x").unwrap();
        let mut s = Settler::default();
        let settle = Duration::from_millis(300);
        assert!(s.scan(dir.path(), settle).is_empty());
        std::thread::sleep(Duration::from_millis(200));
        std::fs::write(&f, b"abcdef").unwrap(); // still growing
        assert!(s.scan(dir.path(), settle).is_empty());
        std::thread::sleep(Duration::from_millis(400));
        assert_eq!(s.scan(dir.path(), settle), vec![f.clone()]);
        s.taken(&f);
        assert!(s.scan(dir.path(), settle).is_empty());
    }
}
