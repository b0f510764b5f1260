//! Running checks as an unprivileged user: supplementary groups, GID and UID set
//! from the account files (no NSS), every capability cleared (bounding, ambient,
//! inheritable, permitted, effective) and `no_new_privs` set, so neither the check
//! nor a setuid program it starts can regain root.

use caps::CapSet;
use nix::unistd::{Gid, Uid};
use std::io::Read as _;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Who a check runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    /// Supplementary GIDs (including the primary one).
    pub groups: Vec<u32>,
    pub home: String,
}

const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

fn errno(e: impl Into<std::io::Error>) -> std::io::Error {
    e.into()
}

/// Enters `chroot` (if any) and becomes `id` for good. Runs in a forked child.
pub fn become_user(id: &Identity, chroot: Option<&Path>) -> std::io::Result<()> {
    if let Some(dir) = chroot {
        nix::unistd::chroot(dir).map_err(errno)?;
        nix::unistd::chdir("/").map_err(errno)?;
    }
    // The bounding set needs CAP_SETPCAP to shrink, so it goes before setuid.
    for cap in caps::all() {
        let _ = caps::drop(None, CapSet::Bounding, cap);
    }
    caps::clear(None, CapSet::Ambient).map_err(|e| std::io::Error::other(e.to_string()))?;
    let groups: Vec<Gid> = id.groups.iter().map(|g| Gid::from_raw(*g)).collect();
    nix::unistd::setgroups(&groups).map_err(errno)?;
    let gid = Gid::from_raw(id.gid);
    nix::unistd::setresgid(gid, gid, gid).map_err(errno)?;
    let uid = Uid::from_raw(id.uid);
    nix::unistd::setresuid(uid, uid, uid).map_err(errno)?;
    for set in [CapSet::Inheritable, CapSet::Effective, CapSet::Permitted] {
        caps::clear(None, set).map_err(|e| std::io::Error::other(e.to_string()))?;
    }
    // SAFETY: prctl with PR_SET_NO_NEW_PRIVS takes integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    if id.uid != 0 && nix::unistd::setuid(Uid::from_raw(0)).is_ok() {
        return Err(std::io::Error::other(
            "root could be regained after dropping privileges",
        ));
    }
    Ok(())
}

/// Forks, becomes `id` in the child, runs `f` there and returns its result
/// (`Ok(())` or the OS error number). The engine is single-threaded when this runs.
pub fn in_child(
    id: &Identity,
    chroot: Option<&Path>,
    f: impl FnOnce() -> std::io::Result<()>,
) -> Result<(), String> {
    // SAFETY: the agent does not start threads before checks run, so the child
    // only inherits this thread; it leaves with _exit and never returns.
    match unsafe { nix::unistd::fork() } {
        Ok(nix::unistd::ForkResult::Child) => {
            let code = match become_user(id, chroot) {
                Err(_) => 255,
                Ok(()) => match f() {
                    Ok(()) => 0,
                    Err(e) => e.raw_os_error().unwrap_or(254).clamp(1, 254),
                },
            };
            // SAFETY: _exit ends the child without running the parent's destructors.
            unsafe { libc::_exit(code) }
        }
        Ok(nix::unistd::ForkResult::Parent { child }) => match nix::sys::wait::waitpid(child, None)
        {
            Ok(nix::sys::wait::WaitStatus::Exited(_, 0)) => Ok(()),
            Ok(nix::sys::wait::WaitStatus::Exited(_, 255)) => {
                Err(format!("could not switch to user {}", id.name))
            }
            Ok(nix::sys::wait::WaitStatus::Exited(_, code)) => {
                Err(std::io::Error::from_raw_os_error(code).to_string())
            }
            Ok(other) => Err(format!("check process ended abnormally: {other:?}")),
            Err(e) => Err(format!("waitpid: {e}")),
        },
        Err(e) => Err(format!("fork: {e}")),
    }
}

/// Output of a command run as a user.
#[derive(Debug, Clone)]
pub struct CommandOutput {
    /// Exit code (`None` when killed by a signal or the timeout).
    pub code: Option<i32>,
    /// stdout and stderr interleaved, at most 1 MiB.
    pub output: String,
    pub timed_out: bool,
}

/// Runs `argv` as `id` (no shell), with a clean environment plus `env`.
pub fn run_as(
    id: &Identity,
    chroot: Option<PathBuf>,
    argv: &[String],
    env: &[(String, String)],
    timeout: Duration,
) -> Result<CommandOutput, String> {
    let (program, args) = argv.split_first().ok_or("empty command")?;
    let (reader, writer) = nix::unistd::pipe().map_err(|e| format!("pipe: {e}"))?;
    let reader = std::fs::File::from(reader);
    let writer2 = writer.try_clone().map_err(|e| format!("pipe: {e}"))?;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env_clear()
        .env("PATH", PATH)
        .env("HOME", &id.home)
        .env("USER", &id.name)
        .env("LOGNAME", &id.name)
        .env("LANG", "C")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(writer2);
    let who = id.clone();
    // SAFETY: the closure only makes syscalls (chroot, capability and id changes).
    unsafe {
        cmd.pre_exec(move || become_user(&who, chroot.as_deref()));
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {program:?} as {}: {e}", id.name))?;
    drop(cmd);
    let collector = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = reader.take(1 << 20).read_to_end(&mut buf);
        buf
    });
    let start = Instant::now();
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if start.elapsed() >= timeout => {
                timed_out = true;
                let _ = child.kill();
                break child.wait().map_err(|e| format!("wait: {e}"))?;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("wait: {e}")),
        }
    };
    // After a timeout a grandchild may still hold the pipe open: do not wait for it.
    let output = if timed_out {
        Vec::new()
    } else {
        collector.join().unwrap_or_default()
    };
    Ok(CommandOutput {
        code: status.code(),
        output: String::from_utf8_lossy(&output).into_owned(),
        timed_out,
    })
}
