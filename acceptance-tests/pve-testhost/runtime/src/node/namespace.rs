//! The node's persistent mount and UTS namespaces, held by bind-mounted nsfs files in the
//! state directory (`unshare --mount=<file> --uts=<file>`), and the mounts that make it a
//! Proxmox-like node: cgroup2 only at `/sys/fs/cgroup`, overlays over `/etc` and `/dev`,
//! the fake `/sys/class`, and bind mounts of the node's data directories.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{NodeConfig, NodeError};
use crate::cmd;

/// nsfs file holding the mount namespace.
pub fn mnt_file(config: &NodeConfig) -> PathBuf {
    config.state_dir.join("mntns")
}

/// nsfs file holding the UTS namespace.
pub fn uts_file(config: &NodeConfig) -> PathBuf {
    config.state_dir.join("utsns")
}

/// Mount points (target paths) of the calling process, from `/proc/self/mountinfo`.
pub fn mount_targets(mountinfo: &str) -> Vec<String> {
    mountinfo
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|t| t.replace("\\040", " "))
        .collect()
}

/// True if `path` is a mount point in this process's namespace.
pub fn is_mount_point(path: &Path) -> bool {
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let target = path.to_string_lossy();
    mount_targets(&info).iter().any(|t| *t == target)
}

/// `(dev, ino)` of the namespace behind an nsfs file, if it holds one.
pub fn ns_id(file: &Path) -> Option<(u64, u64)> {
    if !is_mount_point(file) {
        return None;
    }
    fs::metadata(file).ok().map(|m| (m.dev(), m.ino()))
}

/// A command that runs inside the node's namespaces.
pub fn command(config: &NodeConfig, program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new("nsenter");
    cmd.arg(format!("--mount={}", mnt_file(config).display()))
        .arg(format!("--uts={}", uts_file(config).display()))
        .arg("--")
        .arg(program)
        .env("PVE_TESTHOST_NODE", &config.name);
    cmd
}

fn in_node(config: &NodeConfig, program: &str, args: &[&str]) -> Result<String, NodeError> {
    let out = cmd::run(command(config, program).args(args))?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Makes the state directory a private mount and creates the namespaces (idempotent).
pub fn create(config: &NodeConfig) -> Result<(), NodeError> {
    let state = config.state_dir.to_string_lossy().into_owned();
    if !is_mount_point(&config.state_dir) {
        cmd::run_text("mount", &["--bind", &state, &state])?;
    }
    cmd::run_text("mount", &["--make-private", &state])?;
    let (mnt, uts) = (mnt_file(config), uts_file(config));
    if ns_id(&mnt).is_some() && ns_id(&uts).is_some() {
        return Ok(());
    }
    for file in [&mnt, &uts] {
        if is_mount_point(file) {
            cmd::run_text("umount", &[&file.to_string_lossy()])?;
        }
        fs::write(file, b"").map_err(|e| NodeError::io(file, e))?;
    }
    cmd::run_text(
        "unshare",
        &[
            &format!("--mount={}", mnt.display()),
            &format!("--uts={}", uts.display()),
            "--propagation",
            "private",
            "true",
        ],
    )?;
    Ok(())
}

/// Mount targets inside the node namespace.
pub fn node_mounts(config: &NodeConfig) -> Result<Vec<String>, NodeError> {
    let info = in_node(config, "cat", &["/proc/self/mountinfo"])?;
    Ok(mount_targets(&info))
}

/// The file system type visible at `target`: with mounts stacked on one mount point
/// (`/dev` is devtmpfs under the overlay), findmnt lists all of them, bottom first, and the
/// top one is what the node sees. Reading the whole list made a second `up` stack another
/// overlay, and a third one fail with "upperdir in use".
fn fstype(config: &NodeConfig, target: &str) -> Result<String, NodeError> {
    Ok(in_node(
        config,
        "findmnt",
        &["-no", "FSTYPE", "--mountpoint", target],
    )
    .unwrap_or_default()
    .lines()
    .map(str::trim)
    .rfind(|l| !l.is_empty())
    .unwrap_or_default()
    .to_string())
}

/// Replaces the v1/v2 hybrid at `/sys/fs/cgroup` with a pure cgroup2 mount, as on PVE.
pub fn cgroup2_only(config: &NodeConfig) -> Result<(), NodeError> {
    if fstype(config, "/sys/fs/cgroup")? == "cgroup2" {
        return Ok(());
    }
    let mut targets: Vec<String> = node_mounts(config)?
        .into_iter()
        .filter(|t| t.starts_with("/sys/fs/cgroup/"))
        .collect();
    targets.sort_by_key(|t| std::cmp::Reverse(t.len()));
    targets.dedup();
    for target in targets {
        in_node(config, "umount", &[&target])?;
    }
    while !fstype(config, "/sys/fs/cgroup")?.is_empty() {
        in_node(config, "umount", &["/sys/fs/cgroup"])?;
    }
    in_node(
        config,
        "mount",
        &["-t", "cgroup2", "cgroup2", "/sys/fs/cgroup"],
    )?;
    Ok(())
}

/// Overlay over `target` with the given upper/work directories (idempotent).
pub fn overlay(
    config: &NodeConfig,
    target: &str,
    upper: &Path,
    work: &Path,
) -> Result<(), NodeError> {
    if fstype(config, target)? == "overlay" {
        return Ok(());
    }
    for dir in [upper, work] {
        fs::create_dir_all(dir).map_err(|e| NodeError::io(dir, e))?;
    }
    let options = format!(
        "lowerdir={target},upperdir={},workdir={}",
        upper.display(),
        work.display()
    );
    in_node(
        config,
        "mount",
        &["-t", "overlay", "overlay", "-o", &options, target],
    )?;
    Ok(())
}

/// Overlay over `/dev`, keeping `/dev/pts`, `/dev/shm` and `/dev/mqueue` mounted in it.
pub fn dev_overlay(config: &NodeConfig, data: &Path) -> Result<(), NodeError> {
    if fstype(config, "/dev")? == "overlay" {
        return Ok(());
    }
    let (upper, work, staging) = (
        data.join("dev-upper"),
        data.join("dev-work"),
        data.join("dev-staging"),
    );
    for dir in [&upper, &work, &staging] {
        fs::create_dir_all(dir).map_err(|e| NodeError::io(dir, e))?;
    }
    let staging_s = staging.to_string_lossy().into_owned();
    let options = format!(
        "lowerdir=/dev,upperdir={},workdir={}",
        upper.display(),
        work.display()
    );
    in_node(
        config,
        "mount",
        &["-t", "overlay", "overlay", "-o", &options, &staging_s],
    )?;
    let mounts = node_mounts(config)?;
    for sub in ["/dev/pts", "/dev/shm", "/dev/mqueue", "/dev/hugepages"] {
        if mounts.iter().any(|m| m == sub) {
            let target = format!("{staging_s}{}", sub.trim_start_matches("/dev"));
            in_node(config, "mkdir", &["-p", &target])?;
            in_node(config, "mount", &["--rbind", sub, &target])?;
        }
    }
    in_node(config, "mount", &["--move", &staging_s, "/dev"])?;
    Ok(())
}

/// Bind-mounts `source` (node-side path) onto `target` inside the namespace (idempotent).
pub fn bind(
    config: &NodeConfig,
    source: &Path,
    target: &str,
    recursive: bool,
) -> Result<(), NodeError> {
    if node_mounts(config)?.iter().any(|m| m == target) {
        return Ok(());
    }
    let flag = if recursive { "--rbind" } else { "--bind" };
    in_node(config, "mount", &[flag, &source.to_string_lossy(), target])?;
    Ok(())
}

/// Builds the `/sys/class` replacement: every real class bind-mounted into `dir`
/// (which already holds the fake `drm/` and `scsi_generic/`), then `dir` over `/sys/class`.
pub fn sys_class(config: &NodeConfig, dir: &Path) -> Result<(), NodeError> {
    if node_mounts(config)?.iter().any(|m| m == "/sys/class") {
        return Ok(());
    }
    let entries =
        fs::read_dir("/sys/class").map_err(|e| NodeError::io(Path::new("/sys/class"), e))?;
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let target = dir.join(&name);
        if target.exists() {
            continue;
        }
        fs::create_dir_all(&target).map_err(|e| NodeError::io(&target, e))?;
        let source = Path::new("/sys/class").join(&name);
        in_node(
            config,
            "mount",
            &[
                "--bind",
                &source.to_string_lossy(),
                &target.to_string_lossy(),
            ],
        )?;
    }
    in_node(
        config,
        "mount",
        &["--rbind", &dir.to_string_lossy(), "/sys/class"],
    )?;
    Ok(())
}

/// Sets the node's host name in its UTS namespace.
pub fn set_hostname(config: &NodeConfig) -> Result<(), NodeError> {
    in_node(config, "hostname", &[&config.name])?;
    Ok(())
}

/// Releases the namespace files (the namespaces die with their last process).
pub fn release(config: &NodeConfig) {
    for file in [mnt_file(config), uts_file(config)] {
        if is_mount_point(&file) {
            cmd::run_quiet("umount", &[&file.to_string_lossy()]);
        }
    }
    if is_mount_point(&config.state_dir) {
        cmd::run_quiet("umount", &["-l", &config.state_dir.to_string_lossy()]);
    }
}
