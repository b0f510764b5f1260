//! Container lifecycle on real LXC: create from a template, start (apply pending, set up
//! the guest, generate the LXC config, `lxc-start`), stop, destroy, exec, push/pull.
//!
//! Every function runs inside the node's mount namespace with the node's paths; the
//! pct.conf in the [`ConfigStore`] is the only state, so the API, `pct` and hand edits
//! all act on the same containers.

use std::fs;
use std::os::unix::fs::{lchown, FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::stat::{major, makedev, minor, mknod, Mode, SFlag};
use thiserror::Error;

use crate::cmd::{self, CmdError};
use crate::conf::{ConfError, MountKind, MountPoint, PctConf, Section};
use crate::idmap::{IdMap, IdMapError};
use crate::lxcconfig::{self, HostFacts, Resolved, ResolvedDevice, ResolvedMount};
use crate::paths::NodePaths;
use crate::setup::{self, SetupError};
use crate::store::{atomic_write, check_lock, ConfigStore, StoreError};
use crate::volumes::{self, VolumeError};

/// Where `up` installs `pct` inside the node.
pub const PCT_PATH: &str = "/usr/sbin/pct";

/// Options PVE applies to a running container at once instead of via `[pve:pending]`.
pub const FASTPLUG_OPTIONS: &[&str] = &[
    "description",
    "onboot",
    "startup",
    "protection",
    "hostname",
    "hookscript",
    "cores",
    "tags",
    "lock",
];

/// Container operation failures; messages name the CT, key or file and what to do.
#[derive(Debug, Error)]
pub enum ContainerError {
    /// Config store failure (missing config, lock, digest).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Invalid config content.
    #[error(transparent)]
    Conf(#[from] ConfError),
    /// Invalid property string.
    #[error(transparent)]
    Property(#[from] crate::conf::PropError),
    /// Invalid or undelegated ID map.
    #[error(transparent)]
    IdMap(#[from] IdMapError),
    /// Volume problem.
    #[error(transparent)]
    Volume(#[from] VolumeError),
    /// Guest setup problem.
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// External tool failure.
    #[error(transparent)]
    Cmd(#[from] CmdError),
    /// A required key is missing.
    #[error("{key}: property is missing and it is not optional")]
    Missing {
        /// The key.
        key: &'static str,
    },
    /// A `devN`/`mpN` refers to something unusable on this node.
    #[error("{key}: {message}")]
    Invalid {
        /// The key (`dev0`, `mp1`, ...).
        key: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The CT runs but the operation needs it stopped.
    #[error("CT {0} is running - stop it first")]
    Running(u32),
    /// The CT is stopped but the operation needs it running.
    #[error("CT {0} not running")]
    NotRunning(u32),
    /// `pct start` on a running CT.
    #[error("CT {0} already running")]
    AlreadyRunning(u32),
    /// `lxc-start` did not bring the CT up.
    #[error("startup for container '{vmid}' failed: {detail}")]
    StartFailed {
        /// CT id.
        vmid: u32,
        /// Relevant lines of the LXC log.
        detail: String,
    },
    /// Graceful shutdown did not finish in time.
    #[error("CT {vmid}: shutdown timed out after {seconds}s (use stop to force it)")]
    ShutdownTimeout {
        /// CT id.
        vmid: u32,
        /// Timeout used.
        seconds: u64,
    },
    /// File system error.
    #[error("{}: {source}", path.display())]
    Io {
        /// Path involved.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
}

fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> ContainerError + '_ {
    move |source| ContainerError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Running state as LXC reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CtStatus {
    /// The init process runs.
    pub running: bool,
    /// PID of the container's init on the node.
    pub pid: Option<u32>,
}

/// One address of a container interface (`/nodes/{node}/lxc/{vmid}/interfaces`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Interface {
    /// Interface name inside the CT.
    pub name: String,
    /// MAC address.
    #[serde(rename = "hwaddr")]
    pub hwaddr: String,
    /// IPv4 address with prefix, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inet: Option<String>,
    /// IPv6 address with prefix, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inet6: Option<String>,
}

/// The containers of one node.
#[derive(Debug, Clone)]
pub struct Containers {
    store: ConfigStore,
    facts: HostFacts,
}

impl Containers {
    /// Containers stored in `store`, run with `facts`.
    pub fn new(store: ConfigStore, facts: HostFacts) -> Self {
        Self { store, facts }
    }

    /// The node this process runs on (inside its mount namespace): paths at `/`, node
    /// name from `$PVE_TESTHOST_NODE` or the host name.
    pub fn system() -> Self {
        Self::new(ConfigStore::new(NodePaths::current()), HostFacts::detect())
    }

    /// The config store.
    pub fn store(&self) -> &ConfigStore {
        &self.store
    }

    fn paths(&self) -> &NodePaths {
        self.store.paths()
    }

    fn lxcpath(&self) -> PathBuf {
        let dir = self.paths().lxc_dir(0);
        dir.parent().map(Path::to_path_buf).unwrap_or(dir)
    }

    fn lxc(&self, tool: &str, vmid: u32) -> Command {
        let mut cmd = Command::new(tool);
        cmd.arg("-P")
            .arg(self.lxcpath())
            .arg("-n")
            .arg(vmid.to_string());
        cmd
    }

    /// Creates CT `vmid` from `template` (a tarball): allocates new-disk volumes
    /// (`local:<GiB>`) for `rootfs`/`mpN`, extracts the template (ID-shifted for
    /// unprivileged CTs, as PVE does through the user namespace) and writes the config.
    /// Nothing is left behind on failure. Returns the digest of the new config.
    pub fn create(
        &self,
        vmid: u32,
        mut conf: PctConf,
        template: &Path,
    ) -> Result<String, ContainerError> {
        self.store.init()?;
        if let Some(node) = self.store.locate(vmid) {
            return Err(StoreError::AlreadyExists { vmid, node }.into());
        }
        let idmap = IdMap::of(&conf.main)?;
        idmap.check_delegation(&self.paths().subuid(), &self.paths().subgid())?;
        let _lock = self.store.lock(vmid)?;
        let mut allocated: Vec<PathBuf> = Vec::new();
        let result = (|| {
            let rootfs_raw = conf
                .main
                .get("rootfs")
                .ok_or(ContainerError::Missing { key: "rootfs" })?
                .to_string();
            let rootfs = self.provision("rootfs", &rootfs_raw, vmid, &mut allocated)?;
            conf.main.options.insert("rootfs".into(), rootfs.clone());
            for (index, raw) in conf
                .main
                .indexed("mp")
                .into_iter()
                .map(|(i, r)| (i, r.to_string()))
                .collect::<Vec<_>>()
            {
                let key = format!("mp{index}");
                let value = self.provision(&key, &raw, vmid, &mut allocated)?;
                conf.main.options.insert(key, value);
            }
            let root_dir =
                volumes::image_path(self.paths(), &MountPoint::parse("rootfs", &rootfs)?.volume)?;
            self.extract(template, &root_dir, &idmap)?;
            conf.main
                .options
                .entry("arch".into())
                .or_insert_with(|| "amd64".into());
            if !conf.main.options.contains_key("ostype") {
                conf.main
                    .options
                    .insert("ostype".into(), detect_ostype(&root_dir).into());
            }
            let text = conf.to_text()?;
            atomic_write(&self.paths().conf_path(vmid), text.as_bytes())?;
            Ok(crate::conf::digest(text.as_bytes()))
        })();
        if result.is_err() {
            for path in allocated {
                let _ = fs::remove_dir_all(path);
            }
        }
        result
    }

    /// Allocates the volume of a `local:<GiB>` request and returns the rewritten
    /// property string (volume first, other keys sorted, as PVE prints it).
    fn provision(
        &self,
        key: &str,
        raw: &str,
        vmid: u32,
        allocated: &mut Vec<PathBuf>,
    ) -> Result<String, ContainerError> {
        let mp = MountPoint::parse(key, raw)?;
        let Some((storage, size)) = volumes::parse_new_disk(&mp.volume) else {
            if mp.kind == MountKind::Volume {
                volumes::image_path(self.paths(), &mp.volume)?;
            }
            return Ok(raw.to_string());
        };
        if storage != volumes::STORAGE {
            return Err(VolumeError::NoSuchStorage(storage).into());
        }
        let volid = volumes::allocate(self.paths(), vmid, size)?;
        allocated.push(volumes::image_path(self.paths(), &volid)?);
        let mut parts: Vec<(String, String)> = mp
            .properties
            .entries()
            .iter()
            .filter(|(k, _)| k != "volume" && k != "size")
            .cloned()
            .collect();
        parts.push(("size".into(), volumes::size_text(size)));
        parts.sort();
        let mut out = volid;
        for (k, v) in parts {
            out.push_str(&format!(",{k}={v}"));
        }
        Ok(out)
    }

    /// Unpacks `template` into the rootfs volume of an existing config whose volumes were
    /// already allocated (the API's create task), ID-shifted for unprivileged CTs.
    pub fn create_rootfs(&self, vmid: u32, template: &Path) -> Result<(), ContainerError> {
        let conf = self.store.read(vmid)?.conf;
        let idmap = IdMap::of(&conf.main)?;
        idmap.check_delegation(&self.paths().subuid(), &self.paths().subgid())?;
        let rootfs = conf
            .main
            .rootfs()?
            .ok_or(ContainerError::Missing { key: "rootfs" })?;
        if rootfs.kind != MountKind::Volume {
            return Err(ContainerError::Invalid {
                key: "rootfs".into(),
                message: format!("{} is not a storage volume", rootfs.volume),
            });
        }
        let dir = volumes::image_path(self.paths(), &rootfs.volume)?;
        self.extract(template, &dir, &idmap)
    }

    /// Removes what runs of the CT left on the node (`/var/lib/lxc/<vmid>`), not volumes.
    pub fn remove_runtime_files(&self, vmid: u32) -> Result<(), ContainerError> {
        if self.status(vmid).running {
            return Err(ContainerError::Running(vmid));
        }
        let dir = self.paths().lxc_dir(vmid);
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(io_at(&dir))?;
        }
        Ok(())
    }

    /// Applies one changed key to a running CT where that is possible without a restart
    /// (PVE's hot-plug): options that only live in the config, the host name, and
    /// cgroup limits. Anything else is refused so the caller keeps it pending.
    pub fn hotplug(&self, vmid: u32, key: &str, value: &str) -> Result<(), ContainerError> {
        let status = self.status(vmid);
        if !status.running {
            return Err(ContainerError::NotRunning(vmid));
        }
        let refuse = |why: &str| ContainerError::Invalid {
            key: key.to_string(),
            message: format!("unable to hotplug {key}: {why}"),
        };
        match key {
            k if FASTPLUG_OPTIONS.contains(&k) && k != "hostname" => Ok(()),
            "hostname" => {
                let mut conf = self.store.read(vmid)?.conf;
                conf.main.set("hostname", value)?;
                let idmap = IdMap::of(&conf.main)?;
                let rootfs = conf
                    .main
                    .rootfs()?
                    .ok_or(ContainerError::Missing { key: "rootfs" })?;
                let dir = volumes::image_path(self.paths(), &rootfs.volume)?;
                setup::apply(&dir, vmid, &conf.main, &idmap)?;
                Ok(())
            }
            "memory" | "swap" => {
                let mib: u64 = value.parse().map_err(|_| refuse("not a number of MiB"))?;
                let file = if key == "memory" {
                    "memory.max"
                } else {
                    "memory.swap.max"
                };
                let path = PathBuf::from(format!("/sys/fs/cgroup/lxc/{vmid}/{file}"));
                if path.exists() {
                    fs::write(&path, (mib * 1024 * 1024).to_string()).map_err(io_at(&path))?;
                }
                Ok(())
            }
            "cores" | "cpulimit" | "cpuunits" => Ok(()),
            _ => Err(refuse("pve-testhost applies it at the next start")),
        }
    }

    fn extract(&self, template: &Path, root: &Path, idmap: &IdMap) -> Result<(), ContainerError> {
        if !template.is_file() {
            return Err(ContainerError::Invalid {
                key: "ostemplate".into(),
                message: format!(
                    "template '{}' does not exist (build it with scripts/build-template.sh)",
                    template.display()
                ),
            });
        }
        fs::create_dir_all(root).map_err(io_at(root))?;
        let mut tar = if idmap.is_unprivileged() {
            let owner = (
                idmap.to_host('u', 0).unwrap_or(100_000) as u32,
                idmap.to_host('g', 0).unwrap_or(100_000) as u32,
            );
            lchown(root, Some(owner.0), Some(owner.1)).map_err(io_at(root))?;
            let mut cmd = Command::new("lxc-usernsexec");
            for e in &idmap.entries {
                cmd.arg("-m").arg(format!(
                    "{}:{}:{}:{}",
                    e.kind, e.ct_start, e.host_start, e.count
                ));
            }
            cmd.arg("--").arg("tar");
            cmd
        } else {
            Command::new("tar")
        };
        tar.args(["--numeric-owner", "-xpf"])
            .arg(template)
            .arg("-C")
            .arg(root)
            .args([
                "--exclude=./dev/*",
                "--xattrs-include=user.*",
                "--xattrs-include=security.capability",
                "--warning=no-file-ignored",
                "--warning=no-xattr-write",
            ]);
        cmd::run(&mut tar)?;
        Ok(())
    }

    /// State of CT `vmid` (stopped if LXC does not know it).
    pub fn status(&self, vmid: u32) -> CtStatus {
        let out = self
            .lxc("lxc-info", vmid)
            .args(["-s", "-p"])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output();
        let Ok(out) = out else {
            return CtStatus {
                running: false,
                pid: None,
            };
        };
        let text = String::from_utf8_lossy(&out.stdout);
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.trim().to_string())
        };
        let running = field("State:").as_deref() == Some("RUNNING");
        let pid = field("PID:").and_then(|p| p.parse().ok());
        CtStatus { running, pid }
    }

    /// Starts CT `vmid` the way `pct start` does: pending changes are applied first,
    /// the guest files are written, then LXC starts it and we wait for RUNNING.
    pub fn start(&self, vmid: u32) -> Result<(), ContainerError> {
        let lock = self.store.lock(vmid)?;
        let mut conf = self.store.read(vmid)?.conf;
        check_lock(&conf)?;
        if self.status(vmid).running {
            return Err(ContainerError::AlreadyRunning(vmid));
        }
        if apply_pending(&mut conf) {
            self.store.write_locked(&lock, vmid, &conf)?;
        }
        let section = &conf.main;
        let idmap = IdMap::of(section)?;
        idmap.check_delegation(&self.paths().subuid(), &self.paths().subgid())?;
        let rootfs = section
            .rootfs()?
            .ok_or(ContainerError::Missing { key: "rootfs" })?;
        let rootfs_dir = volumes::image_path(self.paths(), &rootfs.volume)?;
        if !rootfs_dir.is_dir() {
            return Err(VolumeError::Missing(rootfs.volume).into());
        }
        let mounts = self.resolve_mounts(section)?;
        let lxc_dir = self.paths().lxc_dir(vmid);
        fs::create_dir_all(&lxc_dir).map_err(io_at(&lxc_dir))?;
        let devices = self.prepare_devices(vmid, section, &idmap)?;
        setup::apply(&rootfs_dir, vmid, section, &idmap)?;
        let resolved = Resolved {
            vmid,
            conf: section,
            idmap: &idmap,
            rootfs: &rootfs_dir,
            mounts: &mounts,
            devices: &devices,
        };
        let config = lxcconfig::render(&resolved, &self.facts)?;
        atomic_write(&lxc_dir.join("config"), config.as_bytes())?;
        let log = lxc_dir.join("start.log");
        let _ = fs::remove_file(&log);
        let mut lxc_start = self.lxc("lxc-start", vmid);
        lxc_start.arg("-d").arg("-o").arg(&log).args(["-l", "INFO"]);
        if self.facts.sys_class_covered {
            let mut wrapped = Command::new("unshare");
            wrapped
                .args([
                    "--mount",
                    "--propagation",
                    "private",
                    "--",
                    PCT_PATH,
                    crate::pct::CLEAN_SYS_EXEC,
                ])
                .arg(lxc_start.get_program())
                .args(lxc_start.get_args());
            lxc_start = wrapped;
        }
        let started = cmd::run(&mut lxc_start);
        let waited = started.and_then(|_| {
            cmd::run(
                self.lxc("lxc-wait", vmid)
                    .args(["-s", "RUNNING", "-t", "15"]),
            )
        });
        if waited.is_err() || !self.status(vmid).running {
            let text = fs::read_to_string(&log).unwrap_or_default();
            let errors: Vec<&str> = text.lines().filter(|l| l.contains("ERROR")).collect();
            let detail = if errors.is_empty() {
                waited.err().map(|e| e.to_string()).unwrap_or_default()
            } else {
                errors[errors.len().saturating_sub(8)..].join("\n")
            };
            return Err(ContainerError::StartFailed { vmid, detail });
        }
        Ok(())
    }

    fn resolve_mounts(&self, section: &Section) -> Result<Vec<ResolvedMount>, ContainerError> {
        let mut mounts = Vec::new();
        for (index, mp) in section.mount_points()? {
            let key = format!("mp{index}");
            let source = match mp.kind {
                MountKind::Volume => volumes::image_path(self.paths(), &mp.volume)?,
                MountKind::Bind => PathBuf::from(&mp.volume),
                MountKind::Device => {
                    return Err(ContainerError::Invalid {
                        key,
                        message: format!(
                            "block device mount points ({}) are not supported by pve-testhost; use a directory or a devN passthrough",
                            mp.volume
                        ),
                    })
                }
            };
            let meta = fs::metadata(&source).map_err(|_| ContainerError::Invalid {
                key: key.clone(),
                message: format!(
                    "mount point source '{}' does not exist on the node",
                    source.display()
                ),
            })?;
            mounts.push(ResolvedMount {
                source,
                target: mp.mp.clone(),
                ro: mp.ro,
                is_file: !meta.is_dir(),
            });
        }
        Ok(mounts)
    }

    /// Creates the passthrough nodes under `/var/lib/lxc/<vmid>/passthrough` with mode and
    /// owner mapped through the idmap, as pve-container's prestart hook does.
    fn prepare_devices(
        &self,
        vmid: u32,
        section: &Section,
        idmap: &IdMap,
    ) -> Result<Vec<ResolvedDevice>, ContainerError> {
        let base = self.paths().lxc_dir(vmid).join("passthrough");
        if base.exists() {
            fs::remove_dir_all(&base).map_err(io_at(&base))?;
        }
        let mut devices = Vec::new();
        for (index, dev) in section.devices()? {
            let key = format!("dev{index}");
            let invalid = |message: String| ContainerError::Invalid {
                key: key.clone(),
                message,
            };
            let meta = fs::metadata(&dev.path)
                .map_err(|_| invalid(format!("Device {} does not exist", dev.path)))?;
            let file_type = meta.file_type();
            let (kind, sflag) = if file_type.is_block_device() {
                ('b', SFlag::S_IFBLK)
            } else if file_type.is_char_device() {
                ('c', SFlag::S_IFCHR)
            } else {
                return Err(invalid(format!("{} is not a device", dev.path)));
            };
            let rdev = std::os::unix::fs::MetadataExt::rdev(&meta);
            let node = base.join(dev.path.trim_start_matches('/'));
            if let Some(parent) = node.parent() {
                fs::create_dir_all(parent).map_err(io_at(parent))?;
            }
            let mode = dev.mode.unwrap_or(0o660);
            mknod(
                &node,
                sflag,
                Mode::from_bits_truncate(mode),
                makedev(major(rdev), minor(rdev)),
            )
            .map_err(|e| io_at(&node)(std::io::Error::from(e)))?;
            fs::set_permissions(&node, fs::Permissions::from_mode(mode)).map_err(io_at(&node))?;
            let uid = idmap
                .to_host('u', u64::from(dev.uid.unwrap_or(0)))
                .ok_or_else(|| {
                    invalid(format!(
                        "uid {} is not mapped in the container's idmap",
                        dev.uid.unwrap_or(0)
                    ))
                })?;
            let gid = idmap
                .to_host('g', u64::from(dev.gid.unwrap_or(0)))
                .ok_or_else(|| {
                    invalid(format!(
                        "gid {} is not mapped in the container's idmap",
                        dev.gid.unwrap_or(0)
                    ))
                })?;
            lchown(&node, Some(uid as u32), Some(gid as u32)).map_err(io_at(&node))?;
            devices.push(ResolvedDevice {
                path: dev.path.clone(),
                kind,
                major: major(rdev),
                minor: minor(rdev),
                node,
                deny_write: dev.deny_write,
            });
        }
        Ok(devices)
    }

    /// Hard stop (`pct stop`).
    pub fn stop(&self, vmid: u32) -> Result<(), ContainerError> {
        self.store.read(vmid)?;
        if !self.status(vmid).running {
            return Err(ContainerError::NotRunning(vmid));
        }
        cmd::run(self.lxc("lxc-stop", vmid).arg("-k"))?;
        Ok(())
    }

    /// Clean shutdown with a timeout (`pct shutdown`); `force` kills after the timeout.
    pub fn shutdown(
        &self,
        vmid: u32,
        timeout: Duration,
        force: bool,
    ) -> Result<(), ContainerError> {
        self.store.read(vmid)?;
        if !self.status(vmid).running {
            return Err(ContainerError::NotRunning(vmid));
        }
        let seconds = timeout.as_secs().max(1);
        let clean = cmd::run(
            self.lxc("lxc-stop", vmid)
                .args(["-t", &seconds.to_string()]),
        );
        if clean.is_err() && self.status(vmid).running {
            if force {
                cmd::run(self.lxc("lxc-stop", vmid).arg("-k"))?;
            } else {
                return Err(ContainerError::ShutdownTimeout { vmid, seconds });
            }
        }
        Ok(())
    }

    /// Destroys a stopped CT: its volumes, its LXC directory, then its config (last, so
    /// an interrupted destroy can be repeated).
    pub fn destroy(&self, vmid: u32) -> Result<(), ContainerError> {
        let conf = self.store.read(vmid)?.conf;
        check_lock(&conf)?;
        if conf.main.get("protection") == Some("1") {
            return Err(ContainerError::Invalid {
                key: "protection".into(),
                message: "can't remove CT - protection mode enabled".into(),
            });
        }
        if self.status(vmid).running {
            return Err(ContainerError::Running(vmid));
        }
        for dir in [self.paths().images_dir(vmid), self.paths().lxc_dir(vmid)] {
            if dir.exists() {
                fs::remove_dir_all(&dir).map_err(io_at(&dir))?;
            }
        }
        self.store.remove(vmid)?;
        Ok(())
    }

    /// `lxc-attach` command running `args` in the CT with a clean environment.
    pub fn exec_command(&self, vmid: u32, args: &[String]) -> Command {
        let mut cmd = self.lxc("lxc-attach", vmid);
        cmd.args(["--clear-env", "--keep-var", "TERM", "--"])
            .args(args);
        cmd
    }

    /// Runs `args` in the CT with inherited stdio (`pct exec`), returning its status.
    pub fn exec(&self, vmid: u32, args: &[String]) -> Result<ExitStatus, ContainerError> {
        if !self.status(vmid).running {
            return Err(ContainerError::NotRunning(vmid));
        }
        self.exec_command(vmid, args).status().map_err(|source| {
            CmdError::Spawn {
                program: "lxc-attach".into(),
                source,
            }
            .into()
        })
    }

    fn exec_checked(&self, vmid: u32, args: &[&str]) -> Result<Vec<u8>, ContainerError> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        Ok(cmd::run(&mut self.exec_command(vmid, &args))?.stdout)
    }

    /// Copies a node file into the CT (`pct push`), then sets owner and mode as seen
    /// inside the CT (defaults root, root, 0644).
    pub fn push(
        &self,
        vmid: u32,
        source: &Path,
        dest: &str,
        user: Option<&str>,
        group: Option<&str>,
        perms: Option<u32>,
    ) -> Result<(), ContainerError> {
        if !self.status(vmid).running {
            return Err(ContainerError::NotRunning(vmid));
        }
        let input = fs::File::open(source).map_err(io_at(source))?;
        let mut cmd = self.exec_command(
            vmid,
            &["dd".into(), format!("of={dest}"), "status=none".into()],
        );
        let output = cmd
            .stdin(input)
            .output()
            .map_err(|source| CmdError::Spawn {
                program: "lxc-attach".into(),
                source,
            })?;
        if !output.status.success() {
            return Err(CmdError::Failed {
                command: format!("pct push {vmid} {} {dest}", source.display()),
                status: output.status.to_string(),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
            }
            .into());
        }
        let owner = format!("{}:{}", user.unwrap_or("root"), group.unwrap_or("root"));
        self.exec_checked(vmid, &["chown", "--", &owner, dest])?;
        let mode = format!("{:o}", perms.unwrap_or(0o644));
        self.exec_checked(vmid, &["chmod", "--", &mode, dest])?;
        Ok(())
    }

    /// Copies a CT file to the node (`pct pull`), written atomically.
    pub fn pull(&self, vmid: u32, source: &str, dest: &Path) -> Result<(), ContainerError> {
        if !self.status(vmid).running {
            return Err(ContainerError::NotRunning(vmid));
        }
        let bytes = self.exec_checked(vmid, &["cat", "--", source])?;
        atomic_write(dest, &bytes)?;
        Ok(())
    }

    /// Addresses of the CT's interfaces (as `ip -o addr` inside it reports them).
    pub fn interfaces(&self, vmid: u32) -> Result<Vec<Interface>, ContainerError> {
        if !self.status(vmid).running {
            return Err(ContainerError::NotRunning(vmid));
        }
        let links =
            String::from_utf8_lossy(&self.exec_checked(vmid, &["ip", "-o", "link"])?).into_owned();
        let addrs =
            String::from_utf8_lossy(&self.exec_checked(vmid, &["ip", "-o", "addr"])?).into_owned();
        Ok(parse_interfaces(&links, &addrs))
    }
}

/// Moves `[pve:pending]` into the main section (`vmconfig_apply_pending`); true if
/// anything changed.
pub fn apply_pending(conf: &mut PctConf) -> bool {
    if conf.pending.is_empty() {
        return false;
    }
    for key in conf.pending.pending_deletes() {
        conf.main.remove(&key);
    }
    let pending = std::mem::take(&mut conf.pending);
    for (key, value) in pending.options {
        if key != "delete" {
            conf.main.options.insert(key, value);
        }
    }
    if pending.description.is_some() {
        conf.main.description = pending.description;
    }
    true
}

fn parse_interfaces(links: &str, addrs: &str) -> Vec<Interface> {
    let mut result: Vec<Interface> = Vec::new();
    for line in links.lines() {
        let mut fields = line.split_whitespace();
        let Some(name) = fields.nth(1) else { continue };
        let name = name
            .trim_end_matches(':')
            .split('@')
            .next()
            .unwrap_or(name)
            .to_string();
        let hwaddr = line
            .split_whitespace()
            .skip_while(|f| !f.starts_with("link/"))
            .nth(1)
            .unwrap_or("00:00:00:00:00:00")
            .to_string();
        result.push(Interface {
            name,
            hwaddr,
            inet: None,
            inet6: None,
        });
    }
    for line in addrs.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (Some(name), Some(family), Some(addr)) = (fields.get(1), fields.get(2), fields.get(3))
        else {
            continue;
        };
        if let Some(iface) = result.iter_mut().find(|i| i.name == *name) {
            match *family {
                "inet" if iface.inet.is_none() => iface.inet = Some(addr.to_string()),
                "inet6" if iface.inet6.is_none() => iface.inet6 = Some(addr.to_string()),
                _ => {}
            }
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_is_applied_with_deletes() {
        let mut conf = PctConf::parse(
            100,
            "memory: 512\nswap: 512\n\n[pve:pending]\ndelete: swap\nmemory: 1024\n",
        )
        .unwrap();
        assert!(apply_pending(&mut conf));
        assert_eq!(conf.to_text().unwrap(), "memory: 1024\n");
        assert!(!apply_pending(&mut conf));
    }

    #[test]
    fn parses_ip_output() {
        let links = "1: lo: <LOOPBACK,UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n2: eth0@if7: <BROADCAST> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether bc:24:11:00:00:01 brd ff:ff:ff:ff:ff:ff link-netnsid 0\n";
        let addrs = "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever\n2: eth0    inet 10.123.0.150/24 brd 10.123.0.255 scope global dynamic eth0\n2: eth0    inet6 fe80::1/64 scope link\n";
        let ifaces = parse_interfaces(links, addrs);
        assert_eq!(ifaces.len(), 2);
        assert_eq!(ifaces[1].name, "eth0");
        assert_eq!(ifaces[1].hwaddr, "bc:24:11:00:00:01");
        assert_eq!(ifaces[1].inet.as_deref(), Some("10.123.0.150/24"));
        assert_eq!(ifaces[1].inet6.as_deref(), Some("fe80::1/64"));
    }
}

/// The `ostype` PVE records at create time, from the unpacked template's os-release
/// (`/usr/lib/os-release`, which `/etc/os-release` links to; never followed as a link, so
/// a template cannot point the read outside its root). Debian when it names nothing known.
fn detect_ostype(root: &Path) -> &'static str {
    let text = ["usr/lib/os-release", "etc/os-release"]
        .iter()
        .map(|rel| root.join(rel))
        .find(|p| fs::symlink_metadata(p).is_ok_and(|m| m.is_file()))
        .and_then(|p| fs::read_to_string(p).ok())
        .unwrap_or_default();
    let id = text
        .lines()
        .find_map(|l| l.strip_prefix("ID="))
        .map(|v| v.trim().trim_matches('"'))
        .unwrap_or("");
    match id {
        "ubuntu" => "ubuntu",
        "devuan" => "devuan",
        "alpine" => "alpine",
        "arch" => "archlinux",
        "fedora" => "fedora",
        "centos" | "rocky" | "almalinux" | "rhel" => "centos",
        id if id.starts_with("opensuse") => "opensuse",
        _ => "debian",
    }
}

#[cfg(test)]
mod ostype_tests {
    use super::detect_ostype;
    use std::fs;

    #[test]
    fn ostype_comes_from_os_release_and_links_are_not_followed() {
        let root = tempfile::tempdir().unwrap();
        assert_eq!(detect_ostype(root.path()), "debian", "nothing known");
        fs::create_dir_all(root.path().join("usr/lib")).unwrap();
        fs::write(
            root.path().join("usr/lib/os-release"),
            "NAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\n",
        )
        .unwrap();
        assert_eq!(detect_ostype(root.path()), "ubuntu");

        let other = tempfile::tempdir().unwrap();
        fs::create_dir_all(other.path().join("etc")).unwrap();
        std::os::unix::fs::symlink(
            root.path().join("usr/lib/os-release"),
            other.path().join("etc/os-release"),
        )
        .unwrap();
        assert_eq!(
            detect_ostype(other.path()),
            "debian",
            "a link is not followed"
        );
    }
}
