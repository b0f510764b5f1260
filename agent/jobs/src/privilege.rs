//! Dropping privileges for job processes.
//!
//! The daemon may run as root (it polls drives and chowns library files), but
//! ffmpeg, makemkvcon and friends parse untrusted disc and file data, so they run
//! as the media user with every capability gone, under `nice` and `ionice`.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::Command;

/// How job processes are started.
#[derive(Debug, Clone)]
pub struct Sandbox {
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
    pub nice: i32,
    pub ionice_level: u8,
}

impl Sandbox {
    /// Whether processes will switch user: only root can, and only to someone else.
    pub fn switches_user(&self) -> bool {
        nix::unistd::geteuid().is_root() && self.uid != 0
    }

    /// Arranges for `cmd` to start with lowered priority, as the media user, with
    /// an empty capability bounding set, and to die with the daemon (so a killed
    /// daemon never leaves an encoder writing behind the next attempt's back).
    pub fn apply(&self, cmd: &mut Command) {
        let switch = self.switches_user();
        let uid = self.uid;
        let gid = self.gid;
        let groups: Vec<libc::gid_t> = self.groups.clone();
        let nice = self.nice;
        let ionice = self.ionice_level as libc::c_int;
        // SAFETY: the closure runs between fork and exec and only makes
        // async-signal-safe system calls on data prepared before the fork.
        unsafe {
            cmd.pre_exec(move || {
                libc::umask(0o002);
                if libc::setpriority(libc::PRIO_PROCESS, 0, nice) != 0 {
                    return Err(io::Error::last_os_error());
                }
                // IOPRIO_CLASS_BE (2) << IOPRIO_CLASS_SHIFT (13) | level
                let prio = (2 << 13) | ionice;
                if libc::syscall(libc::SYS_ioprio_set, 1, 0, prio) != 0 {
                    return Err(io::Error::last_os_error());
                }
                if switch {
                    for cap in 0..64 {
                        // EINVAL past the last capability the kernel knows.
                        libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0);
                    }
                    if libc::setgroups(groups.len(), groups.as_ptr()) != 0 {
                        return Err(io::Error::last_os_error());
                    }
                    if libc::setresgid(gid, gid, gid) != 0 {
                        return Err(io::Error::last_os_error());
                    }
                    // Dropping uid 0 clears the permitted and effective sets.
                    if libc::setresuid(uid, uid, uid) != 0 {
                        return Err(io::Error::last_os_error());
                    }
                    libc::prctl(
                        libc::PR_CAP_AMBIENT,
                        libc::PR_CAP_AMBIENT_CLEAR_ALL,
                        0,
                        0,
                        0,
                    );
                }
                if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                    return Err(io::Error::last_os_error());
                }
                // Set after the uid change, which would otherwise reset it.
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
}
