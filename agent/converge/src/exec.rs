//! Executing a plan's actions for real, or applying them to the overlay in check
//! mode so later items see them as done.

use crate::accounts::store;
use crate::atomic::{sync_dir, write_atomic, Attrs};
use crate::ctx::Ctx;
use crate::error::ItemError;
use crate::plan::Action;
use crate::view::{Kind, Meta, Sim};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs `action` (or simulates it, depending on the phase).
pub fn execute(ctx: &mut Ctx<'_>, action: &Action) -> Result<(), ItemError> {
    if ctx.phase.simulated() {
        simulate(ctx, action)
    } else {
        apply(ctx, action)
    }
}

fn simulate(ctx: &mut Ctx<'_>, action: &Action) -> Result<(), ItemError> {
    match action {
        Action::Write {
            path,
            content,
            attrs,
        } => {
            ctx.view.simulate(
                path,
                Sim::Present(meta(Kind::File, *attrs), Some(content.clone())),
            );
            ctx.changed_paths.insert(path.clone());
        }
        Action::Mkdir { path, attrs } => ctx
            .view
            .simulate(path, Sim::Present(meta(Kind::Dir, *attrs), None)),
        Action::SetAttrs {
            path,
            uid,
            gid,
            mode,
        } => {
            let current = ctx
                .view
                .meta(path)
                .map_err(|e| ItemError::io("cannot stat", path, e))?;
            if let Some(mut m) = current {
                let content = ctx
                    .view
                    .read(path)
                    .ok()
                    .flatten()
                    .filter(|_| m.kind == Kind::File);
                m.uid = uid.unwrap_or(m.uid);
                m.gid = gid.unwrap_or(m.gid);
                m.mode = mode.unwrap_or(m.mode);
                ctx.view.simulate(path, Sim::Present(m, content));
            }
        }
        Action::Symlink { link, target } => ctx.view.simulate(
            link,
            Sim::Present(
                Meta {
                    kind: Kind::Symlink(target.clone()),
                    uid: 0,
                    gid: 0,
                    mode: 0o777,
                },
                None,
            ),
        ),
        Action::Remove { path } => ctx.view.simulate(path, Sim::Absent),
        Action::Accounts(ops) => {
            for op in ops {
                op.apply(&mut ctx.accounts).map_err(ItemError::Failed)?;
            }
        }
        Action::ExpectPackages { installed, removed } => {
            for p in installed {
                ctx.simulated_packages.insert(p.clone(), true);
            }
            for p in removed {
                ctx.simulated_packages.insert(p.clone(), false);
            }
        }
        // Numbers on existing files, skeleton copies and programs have no effect a
        // later item reads back.
        Action::Reown { .. }
        | Action::OwnTree { .. }
        | Action::CopySkel { .. }
        | Action::Run { .. } => {}
    }
    Ok(())
}

fn meta(kind: Kind, a: Attrs) -> Meta {
    Meta {
        kind,
        uid: a.uid,
        gid: a.gid,
        mode: a.mode,
    }
}

fn apply(ctx: &mut Ctx<'_>, action: &Action) -> Result<(), ItemError> {
    let root = ctx.view.root().to_path_buf();
    match action {
        Action::Write {
            path,
            content,
            attrs,
        } => {
            let host = ctx.view.host(path);
            write_atomic(&host, content, *attrs)
                .map_err(|e| ItemError::io("cannot write", path, e))?;
            ctx.changed_paths.insert(path.clone());
        }
        Action::Mkdir { path, attrs } => {
            let host = ctx.view.host(path);
            match std::fs::create_dir(&host) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && host.is_dir() => {}
                Err(e) => return Err(ItemError::io("cannot create directory", path, e)),
            }
            set_attrs(&host, Some(attrs.uid), Some(attrs.gid), Some(attrs.mode))
                .map_err(|e| ItemError::io("cannot set owner/mode of", path, e))?;
            if let Some(parent) = host.parent() {
                sync_dir(parent).map_err(|e| ItemError::io("cannot sync", path, e))?;
            }
        }
        Action::SetAttrs {
            path,
            uid,
            gid,
            mode,
        } => {
            set_attrs(&ctx.view.host(path), *uid, *gid, *mode)
                .map_err(|e| ItemError::io("cannot set owner/mode of", path, e))?;
        }
        Action::Symlink { link, target } => {
            std::os::unix::fs::symlink(target, ctx.view.host(link))
                .map_err(|e| ItemError::io("cannot create symlink", link, e))?;
        }
        Action::Remove { path } => match std::fs::remove_file(ctx.view.host(path)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(ItemError::io("cannot remove", path, e)),
        },
        Action::Accounts(ops) => {
            let db = store::commit(&root, ops).map_err(ItemError::Failed)?;
            ctx.accounts = db.clone();
            ctx.disk_accounts = db;
        }
        Action::Reown {
            kind,
            from,
            to,
            exclude,
        } => {
            let starts: Vec<_> = ctx
                .spec
                .reown_roots
                .iter()
                .map(|r| ctx.view.host(r))
                .collect();
            let exclude: Vec<_> = exclude.iter().map(|p| ctx.view.host(p)).collect();
            let n =
                crate::reown::reown(&root, &starts, *kind, *from, *to, &exclude).map_err(|e| {
                    ItemError::Failed(format!("re-owning files from {from} to {to}: {e}"))
                })?;
            tracing::info!(from, to, files = n, "re-owned files");
        }
        Action::OwnTree { path, uid, gid } => {
            crate::reown::own_tree(&root, &ctx.view.host(path), *uid, *gid)
                .map_err(|e| ItemError::io("cannot re-own the tree below", path, e))?;
        }
        Action::CopySkel { home, uid, gid } => copy_skel(ctx, home, *uid, *gid)?,
        Action::Run { argv, env } => run(&root, argv, env)?,
        Action::ExpectPackages { installed, removed } => {
            let now = crate::dpkg::Packages::load(&root).map_err(ItemError::Failed)?;
            let missing: Vec<_> = installed
                .iter()
                .filter(|p| !now.is_installed(p))
                .cloned()
                .collect();
            let still: Vec<_> = removed
                .iter()
                .filter(|p| now.is_installed(p))
                .cloned()
                .collect();
            ctx.packages = Default::default();
            if !missing.is_empty() || !still.is_empty() {
                return Err(ItemError::Failed(format!(
                    "apt-get finished but dpkg's status disagrees: not installed [{}], still installed [{}]",
                    missing.join(", "),
                    still.join(", ")
                )));
            }
        }
    }
    Ok(())
}

/// chown then chmod (chown clears setgid on files, so the mode goes last).
fn set_attrs(
    host: &Path,
    uid: Option<u32>,
    gid: Option<u32>,
    mode: Option<u32>,
) -> std::io::Result<()> {
    if uid.is_some() || gid.is_some() {
        std::os::unix::fs::chown(host, uid, gid)?;
    }
    if let Some(m) = mode {
        std::fs::set_permissions(host, std::fs::Permissions::from_mode(m))?;
    }
    Ok(())
}

fn copy_skel(ctx: &Ctx<'_>, home: &Path, uid: u32, gid: u32) -> Result<(), ItemError> {
    let skel = ctx.view.host(Path::new("/etc/skel"));
    let Ok(entries) = std::fs::read_dir(&skel) else {
        return Ok(());
    };
    let dest = ctx.view.host(home);
    for e in entries.flatten() {
        let Ok(m) = e.metadata() else { continue };
        if !m.is_file() {
            continue;
        }
        let target = dest.join(e.file_name());
        if target.exists() {
            continue;
        }
        let content =
            std::fs::read(e.path()).map_err(|err| ItemError::io("cannot read", &e.path(), err))?;
        write_atomic(
            &target,
            &content,
            Attrs {
                uid,
                gid,
                mode: m.permissions().mode() & 0o7777,
            },
        )
        .map_err(|err| ItemError::io("cannot write", &target, err))?;
    }
    Ok(())
}

/// Runs a program as root (chrooted when the root is not `/`), failing with the
/// tail of its output.
fn run(root: &Path, argv: &[String], env: &[(String, String)]) -> Result<(), ItemError> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| ItemError::Failed("empty command".into()))?;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .current_dir("/");
    if root != Path::new("/") {
        let dir = root.to_path_buf();
        // SAFETY: only chroot/chdir syscalls between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                nix::unistd::chroot(&dir)?;
                nix::unistd::chdir("/")?;
                Ok(())
            });
        }
    }
    tracing::info!(?argv, "running");
    let out = cmd
        .output()
        .map_err(|e| ItemError::Failed(format!("cannot run {}: {e}", argv.join(" "))))?;
    if out.status.success() {
        return Ok(());
    }
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    let tail: Vec<&str> = text.lines().rev().take(15).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Err(ItemError::Failed(format!(
        "`{}` failed ({}):\n{}",
        argv.join(" "),
        out.status,
        tail.join("\n")
    )))
}
