//! `pct`, Proxmox VE's container tool, working on the node's pct.conf files:
//! `list`, `config`, `set` (with `--delete`, `--digest`), `create`, `destroy`, `start`,
//! `stop`, `shutdown`, `status`, `exec`, `enter`, `push`, `pull`, `unlock`.
//!
//! Options are written PVE style (`--memory 512` or `--memory=512`). Errors go to stderr
//! and exit with 255, as PVE's CLI does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::conf::{Device, Features, MountPoint, Net, PctConf, Startup};
use crate::container::{Containers, FASTPLUG_OPTIONS};
use crate::store::check_lock;
use crate::volumes;

const USAGE: &str = "USAGE: pct <command> [ARGS] [OPTIONS]
  pct list
  pct config <vmid> [--current] [--snapshot <name>]
  pct set <vmid> [--<key> <value>]... [--delete <key>[,<key>...]] [--digest <sha1>]
  pct create <vmid> <ostemplate> [--<key> <value>]...
  pct destroy <vmid> [--purge]
  pct start|stop|status|unlock <vmid>
  pct shutdown <vmid> [--timeout <s>] [--forceStop 1]
  pct exec <vmid> [--] <command> [<args>...]
  pct enter <vmid>
  pct push <vmid> <file> <destination> [--user <u>] [--group <g>] [--perms <mode>]
  pct pull <vmid> <path> <destination>
Used by the pve-testhost API's tasks:
  pct create-rootfs <vmid> <template-file>   unpack into the configured, allocated rootfs
  pct destroy-rootfs <vmid>                  remove /var/lib/lxc/<vmid> (not volumes)
  pct hotplug <vmid> <key> <value>           apply one change to a running CT";

/// A failed `pct` invocation: message and exit code.
#[derive(Debug)]
pub struct PctFailure {
    /// What to print on stderr.
    pub message: String,
    /// Exit code (255 as PVE, or the command's own for `exec`).
    pub code: i32,
}

fn fail(message: impl std::fmt::Display) -> PctFailure {
    PctFailure {
        message: message.to_string(),
        code: 255,
    }
}

struct Args {
    positional: Vec<String>,
    options: Vec<(String, String)>,
}

/// Splits `--key value` / `--key=value` options from positional arguments.
fn parse_args(args: &[String]) -> Result<Args, PctFailure> {
    let mut positional = Vec::new();
    let mut options = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if let Some(name) = arg.strip_prefix("--") {
            if name.is_empty() {
                positional.extend(iter.by_ref().cloned());
                break;
            }
            let (key, value) = match name.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => {
                    let value = iter.next().ok_or_else(|| {
                        fail(format!(
                            "400 Parameter verification failed.\n{name}: missing value\n"
                        ))
                    })?;
                    (name.to_string(), value.clone())
                }
            };
            options.push((key, value));
        } else {
            positional.push(arg.clone());
        }
    }
    Ok(Args {
        positional,
        options,
    })
}

fn vmid_arg(args: &Args, index: usize) -> Result<u32, PctFailure> {
    let raw = args
        .positional
        .get(index)
        .ok_or_else(|| fail(format!("400 not enough arguments\n{USAGE}")))?;
    match raw.parse::<u32>() {
        Ok(id) if (100..=999_999_999).contains(&id) => Ok(id),
        _ => Err(fail(format!(
            "400 Parameter verification failed.\nvmid: invalid format - value '{raw}' does not look like a valid VM ID (100 - 999999999)\n"
        ))),
    }
}

/// Validates a key/value the way PVE's schema would before it reaches the config.
fn check_option(key: &str, value: &str) -> Result<(), PctFailure> {
    let bad = |e: String| fail(format!("400 Parameter verification failed.\n{key}: {e}\n"));
    let prefix = key.trim_end_matches(|c: char| c.is_ascii_digit());
    match prefix {
        "mp" if key != "mp" => MountPoint::parse(key, value)
            .map(|_| ())
            .map_err(|e| bad(e.message)),
        "rootfs" => MountPoint::parse(key, value)
            .map(|_| ())
            .map_err(|e| bad(e.message)),
        "net" if key != "net" => Net::parse(key, value)
            .map(|_| ())
            .map_err(|e| bad(e.message)),
        "dev" if key != "dev" => Device::parse(key, value)
            .map(|_| ())
            .map_err(|e| bad(e.message)),
        "features" => Features::parse(value)
            .map(|_| ())
            .map_err(|e| bad(e.message)),
        "startup" => Startup::parse(value)
            .map(|_| ())
            .map_err(|e| bad(e.message)),
        _ => crate::conf::check_type(key, value).map(|_| ()).map_err(bad),
    }
}

/// Runs `pct` with `args` (without the program name) on the current node.
pub fn run(args: &[String]) -> Result<i32, PctFailure> {
    let Some((command, rest)) = args.split_first() else {
        return Err(fail(USAGE));
    };
    if command == CLEAN_SYS_EXEC {
        return clean_sys_exec(rest);
    }
    let node = Containers::system();
    if command == "exec" {
        // Everything after the vmid belongs to the command, options included.
        let vmid = vmid_arg(
            &Args {
                positional: rest.to_vec(),
                options: Vec::new(),
            },
            0,
        )?;
        let mut cmd: Vec<String> = rest[1..].to_vec();
        if cmd.first().map(String::as_str) == Some("--") {
            cmd.remove(0);
        }
        if cmd.is_empty() {
            return Err(fail("400 missing command to execute"));
        }
        let status = node.exec(vmid, &cmd).map_err(fail)?;
        return Ok(status.code().unwrap_or(255));
    }
    let args = parse_args(rest)?;
    let opt = |name: &str| {
        args.options
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    match command.as_str() {
        "list" => {
            println!(
                "{:<10} {:<10} {:<12} {:<20}",
                "VMID", "Status", "Lock", "Name"
            );
            for vmid in node.store().list().map_err(fail)? {
                let conf = node.store().read(vmid).map_err(fail)?.conf;
                let status = if node.status(vmid).running {
                    "running"
                } else {
                    "stopped"
                };
                println!(
                    "{:<10} {:<10} {:<12} {:<20}",
                    vmid,
                    status,
                    conf.main.get("lock").unwrap_or(""),
                    conf.main.get("hostname").unwrap_or("")
                );
            }
            Ok(0)
        }
        "config" => {
            let vmid = vmid_arg(&args, 0)?;
            let conf = node.store().read(vmid).map_err(fail)?.conf;
            let section = match opt("snapshot") {
                Some(name) => conf
                    .snapshots
                    .get(name)
                    .cloned()
                    .ok_or_else(|| fail(format!("snapshot '{name}' does not exist")))?,
                None if opt("current") == Some("1") => conf.main.clone(),
                None => {
                    // Without --current PVE shows pending values as if applied.
                    let mut merged = conf.clone();
                    crate::container::apply_pending(&mut merged);
                    merged.main
                }
            };
            print!("{}", config_listing(&section));
            Ok(0)
        }
        "set" => {
            let vmid = vmid_arg(&args, 0)?;
            let mut changes: BTreeMap<String, String> = BTreeMap::new();
            let mut deletes: Vec<String> = Vec::new();
            let mut digest = None;
            for (key, value) in &args.options {
                match key.as_str() {
                    "delete" => deletes.extend(
                        value
                            .split([',', ';', ' '])
                            .filter(|s| !s.is_empty())
                            .map(str::to_string),
                    ),
                    "digest" => digest = Some(value.clone()),
                    "revert" => return Err(fail("400 --revert is not supported by pve-testhost")),
                    _ => {
                        check_option(key, value)?;
                        changes.insert(key.clone(), value.clone());
                    }
                }
            }
            if changes.is_empty() && deletes.is_empty() {
                return Err(fail("400 no options specified"));
            }
            for key in &deletes {
                if changes.contains_key(key) {
                    return Err(fail(format!("400 Parameter verification failed.\ndelete: conflicting options '{key}' and 'delete'\n")));
                }
            }
            let running = node.status(vmid).running;
            node.store()
                .update(vmid, digest.as_deref(), |conf| {
                    if !changes.contains_key("lock") {
                        check_lock(conf)?;
                    }
                    for key in &deletes {
                        if ["rootfs", "memory", "ostype"].contains(&key.as_str()) {
                            return Err(crate::conf::ConfError::Parse(format!(
                                "unable to delete required option '{key}'"
                            ))
                            .into());
                        }
                        if running && !FASTPLUG_OPTIONS.contains(&key.as_str()) {
                            let mut list = conf.pending.pending_deletes();
                            if !list.contains(key) {
                                list.push(key.clone());
                            }
                            conf.pending.options.remove(key);
                            conf.pending.options.insert("delete".into(), list.join(","));
                        } else {
                            conf.main.remove(key);
                        }
                    }
                    for (key, value) in &changes {
                        if running && !FASTPLUG_OPTIONS.contains(&key.as_str()) {
                            conf.pending.set(key, value)?;
                        } else {
                            conf.main.set(key, value)?;
                        }
                    }
                    Ok(())
                })
                .map_err(fail)?;
            Ok(0)
        }
        "create" => {
            let vmid = vmid_arg(&args, 0)?;
            let template = args
                .positional
                .get(1)
                .ok_or_else(|| fail("400 Parameter verification failed.\nostemplate: property is missing and it is not optional\n"))?;
            let template_path = if template.starts_with('/') {
                PathBuf::from(template)
            } else {
                volumes::template_path(node.store().paths(), template).map_err(fail)?
            };
            let mut conf = PctConf::default();
            for (key, value) in &args.options {
                if [
                    "storage",
                    "password",
                    "ssh-public-keys",
                    "start",
                    "force",
                    "unique",
                    "restore",
                    "pool",
                    "ignore-unpack-errors",
                ]
                .contains(&key.as_str())
                {
                    continue;
                }
                check_option(key, value)?;
                conf.main.set(key, value).map_err(fail)?;
            }
            if conf.main.get("rootfs").is_none() {
                let storage = opt("storage").unwrap_or("local");
                conf.main
                    .set("rootfs", &format!("{storage}:4"))
                    .map_err(fail)?;
            }
            conf.main
                .options
                .entry("memory".into())
                .or_insert_with(|| "512".into());
            conf.main
                .options
                .entry("swap".into())
                .or_insert_with(|| "512".into());
            node.create(vmid, conf, &template_path).map_err(fail)?;
            if opt("start") == Some("1") {
                node.start(vmid).map_err(fail)?;
            }
            Ok(0)
        }
        "create-rootfs" => {
            let vmid = vmid_arg(&args, 0)?;
            let template = args
                .positional
                .get(1)
                .ok_or_else(|| fail("400 create-rootfs: missing template path"))?;
            node.create_rootfs(vmid, Path::new(template))
                .map_err(fail)?;
            Ok(0)
        }
        "destroy-rootfs" => {
            node.remove_runtime_files(vmid_arg(&args, 0)?)
                .map_err(fail)?;
            Ok(0)
        }
        "hotplug" => {
            let vmid = vmid_arg(&args, 0)?;
            let (Some(key), Some(value)) = (args.positional.get(1), args.positional.get(2)) else {
                return Err(fail("400 hotplug: usage pct hotplug <vmid> <key> <value>"));
            };
            node.hotplug(vmid, key, value).map_err(fail)?;
            Ok(0)
        }
        "destroy" => {
            let vmid = vmid_arg(&args, 0)?;
            node.destroy(vmid).map_err(fail)?;
            Ok(0)
        }
        "start" => {
            node.start(vmid_arg(&args, 0)?).map_err(fail)?;
            Ok(0)
        }
        "stop" => {
            node.stop(vmid_arg(&args, 0)?).map_err(fail)?;
            Ok(0)
        }
        "shutdown" => {
            let timeout = opt("timeout").and_then(|t| t.parse().ok()).unwrap_or(60);
            node.shutdown(
                vmid_arg(&args, 0)?,
                Duration::from_secs(timeout),
                opt("forceStop") == Some("1"),
            )
            .map_err(fail)?;
            Ok(0)
        }
        "status" => {
            let vmid = vmid_arg(&args, 0)?;
            node.store().read(vmid).map_err(fail)?;
            let state = if node.status(vmid).running {
                "running"
            } else {
                "stopped"
            };
            println!("status: {state}");
            Ok(0)
        }
        "unlock" => {
            let vmid = vmid_arg(&args, 0)?;
            node.store()
                .update(vmid, None, |conf| {
                    conf.main.remove("lock");
                    Ok(())
                })
                .map_err(fail)?;
            Ok(0)
        }
        "enter" => {
            let vmid = vmid_arg(&args, 0)?;
            let status = node
                .exec(vmid, &["/bin/bash".to_string(), "-l".to_string()])
                .map_err(fail)?;
            Ok(status.code().unwrap_or(255))
        }
        "push" => {
            let vmid = vmid_arg(&args, 0)?;
            let (Some(file), Some(dest)) = (args.positional.get(1), args.positional.get(2)) else {
                return Err(fail(format!("400 not enough arguments\n{USAGE}")));
            };
            let perms = match opt("perms") {
                None => None,
                Some(p) => Some(parse_perms(p).ok_or_else(|| {
                    fail(format!(
                        "400 Parameter verification failed.\nperms: invalid mode '{p}'\n"
                    ))
                })?),
            };
            node.push(
                vmid,
                Path::new(file),
                dest,
                opt("user"),
                opt("group"),
                perms,
            )
            .map_err(fail)?;
            Ok(0)
        }
        "pull" => {
            let vmid = vmid_arg(&args, 0)?;
            let (Some(path), Some(dest)) = (args.positional.get(1), args.positional.get(2)) else {
                return Err(fail(format!("400 not enough arguments\n{USAGE}")));
            };
            node.pull(vmid, path, Path::new(dest)).map_err(fail)?;
            Ok(0)
        }
        "help" | "--help" => {
            println!("{USAGE}");
            Ok(0)
        }
        other => Err(fail(format!("unknown command 'pct {other}'\n{USAGE}"))),
    }
}

/// If this process was started as `pct` (`argv[0]`), runs `pct` and exits. Lets a binary
/// that embeds this crate (e.g. `pve-testhost`) be installed as the node's `pct`.
pub fn dispatch_if_invoked_as_pct() {
    let mut args = std::env::args();
    let invoked_as = args.next().unwrap_or_default();
    if Path::new(&invoked_as).file_name().and_then(|n| n.to_str()) != Some("pct") {
        return;
    }
    let rest: Vec<String> = args.collect();
    match run(&rest) {
        Ok(code) => std::process::exit(code),
        Err(failure) => {
            eprintln!("{}", failure.message.trim_end());
            std::process::exit(failure.code);
        }
    }
}

/// Hidden subcommand: detach `/sys/class` in the (already private) mount namespace and
/// exec the given program. See [`crate::lxcconfig::HostFacts::sys_class_covered`].
pub const CLEAN_SYS_EXEC: &str = "__exec-with-plain-sysfs";

fn clean_sys_exec(args: &[String]) -> Result<i32, PctFailure> {
    use std::os::unix::process::CommandExt;
    let Some((program, rest)) = args.split_first() else {
        return Err(fail(format!("{CLEAN_SYS_EXEC}: missing program")));
    };
    match nix::mount::umount2("/sys/class", nix::mount::MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::errno::Errno::EINVAL) => {}
        Err(e) => return Err(fail(format!("cannot detach /sys/class: {e}"))),
    }
    let err = std::process::Command::new(program).args(rest).exec();
    Err(fail(format!("cannot run {program}: {err}")))
}

/// `pct config` output as PVE prints it: sorted `key: value` lines with the description
/// as one encoded `description:` entry in its sorted place, then the raw `lxc.*` lines.
fn config_listing(section: &crate::conf::Section) -> String {
    let mut entries: BTreeMap<&str, String> = section
        .options
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    if let Some(description) = &section.description {
        entries.insert("description", crate::conf::text::encode_text(description));
    }
    let mut out = String::new();
    for (key, value) in entries {
        out.push_str(&format!("{key}: {value}\n"));
    }
    for (key, value) in &section.lxc {
        out.push_str(&format!("{key}: {value}\n"));
    }
    out
}

/// `--perms`: octal by default, `0x` prefix for hex (as PVE documents).
fn parse_perms(text: &str) -> Option<u32> {
    match text.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => u32::from_str_radix(text, 8).ok(),
    }
    .filter(|m| *m <= 0o7777)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_options_both_ways_and_double_dash() {
        let args: Vec<String> = ["100", "--memory", "512", "--swap=0", "--", "--x"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let parsed = parse_args(&args).unwrap();
        assert_eq!(parsed.positional, ["100", "--x"]);
        assert_eq!(
            parsed.options,
            [
                ("memory".to_string(), "512".to_string()),
                ("swap".to_string(), "0".to_string())
            ]
        );
        assert!(parse_args(&["--memory".to_string()]).is_err());
    }

    #[test]
    fn config_listing_matches_pve_cli() {
        let conf = PctConf::parse(
            100,
            "#line one\n#line: two\nmemory: 512\narch: amd64\nlxc.idmap: u 0 100000 65536\n",
        )
        .unwrap();
        assert_eq!(
            config_listing(&conf.main),
            "arch: amd64\ndescription: line one%0Aline%3A two%0A\nmemory: 512\nlxc.idmap: u 0 100000 65536\n"
        );
    }

    #[test]
    fn validates_like_the_schema() {
        assert!(check_option("net0", "bridge=vmbr0").is_err());
        assert!(check_option("net0", "name=eth0,bridge=vmbr0").is_ok());
        assert!(check_option("memory", "lots").is_err());
        assert!(check_option("bogus", "1").is_err());
        assert_eq!(parse_perms("0644"), Some(0o644));
        assert_eq!(parse_perms("0x1ed"), Some(0o755));
        assert_eq!(parse_perms("999"), None);
    }
}
