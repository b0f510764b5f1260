//! The shadow-utils locking protocol, so the agent never interleaves with
//! `useradd`, `passwd` or `vipw` running at the same time:
//!
//! 1. `lckpwdf(3)`: an fcntl write lock on `/etc/.pwd.lock`, waited for up to 15 s;
//! 2. per file, commonio's link lock: write our PID to `<file>.<pid>`, then
//!    hard-link it to `<file>.lock`; a lock whose PID is dead is stale and removed.

use nix::fcntl::{fcntl, FcntlArg};
use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(15);

/// Held locks; released on drop.
#[derive(Debug)]
pub struct AccountLock {
    _pwd: File,
    links: Vec<PathBuf>,
}

impl Drop for AccountLock {
    fn drop(&mut self) {
        for l in &self.links {
            let _ = fs::remove_file(l);
        }
    }
}

fn pwd_lock(etc: &Path) -> Result<File, String> {
    let path = etc.join(".pwd.lock");
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let start = Instant::now();
    loop {
        let lk = libc::flock {
            l_type: libc::F_WRLCK as libc::c_short,
            l_whence: libc::SEEK_SET as libc::c_short,
            l_start: 0,
            l_len: 0,
            l_pid: 0,
        };
        match fcntl(file.as_raw_fd(), FcntlArg::F_SETLK(&lk)) {
            Ok(_) => return Ok(file),
            Err(nix::errno::Errno::EAGAIN | nix::errno::Errno::EACCES)
                if start.elapsed() < WAIT =>
            {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => {
                return Err(format!(
                    "cannot lock {} (held by another account tool for over 15 s?): {e}",
                    path.display()
                ))
            }
        }
    }
}

fn pid_alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
        Ok(()) | Err(nix::errno::Errno::EPERM) => true,
        Err(_) => false,
    }
}

fn link_lock(file: &Path) -> Result<PathBuf, String> {
    let pid = std::process::id();
    let tmp = PathBuf::from(format!("{}.{pid}", file.display()));
    let lock = PathBuf::from(format!("{}.lock", file.display()));
    {
        let mut f =
            File::create(&tmp).map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
        let _ = f.write_all(pid.to_string().as_bytes());
    }
    let start = Instant::now();
    let result = loop {
        match fs::hard_link(&tmp, &lock) {
            Ok(()) => break Ok(lock),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let holder = fs::read_to_string(&lock)
                    .ok()
                    .and_then(|s| s.trim().parse::<i32>().ok());
                match holder {
                    Some(p) if p as u32 != pid && pid_alive(p) => {
                        if start.elapsed() > WAIT {
                            break Err(format!(
                                "{} is held by process {p}; wait for it (useradd, vipw...) to finish",
                                lock.display()
                            ));
                        }
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    _ => {
                        // Stale: its owner is gone, as commonio decides too.
                        let _ = fs::remove_file(&lock);
                    }
                }
            }
            Err(e) => break Err(format!("cannot create {}: {e}", lock.display())),
        }
    };
    let _ = fs::remove_file(&tmp);
    result
}

/// Takes `.pwd.lock` and the link locks of the given files (under `etc`).
pub fn lock_accounts(etc: &Path, files: &[&str]) -> Result<AccountLock, String> {
    let pwd = pwd_lock(etc)?;
    let mut lock = AccountLock {
        _pwd: pwd,
        links: Vec::new(),
    };
    for f in files {
        let l = link_lock(&etc.join(f))?;
        lock.links.push(l);
    }
    Ok(lock)
}
