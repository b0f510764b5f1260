//! Debian packages. Whether a package is installed is read from dpkg's status
//! file, so a no-op launches nothing. apt-get runs only for packages that must
//! change, and only the missing ones are named, so packages installed as
//! dependencies keep their automatic mark (Ansible's apt marks every listed
//! package manual on every run).

use super::Module;
use crate::ctx::{Ctx, Phase};
use crate::error::ItemError;
use crate::plan::{Action, Plan};
use pvelxc_spec::{AptPackagesItem, PackageState};
use std::path::Path;
use std::time::{Duration, SystemTime};

fn apt_env() -> Vec<(String, String)> {
    [
        ("DEBIAN_FRONTEND", "noninteractive"),
        ("APT_LISTCHANGES_FRONTEND", "none"),
        (
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ),
        ("LC_ALL", "C"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn argv(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

/// How often apt itself retries a failed download (with its own growing delay between
/// tries, ~1 min in all). A container's first `apt-get update` often races its network
/// coming up or a mirror hiccup; one failed fetch must not fail the whole converge.
const APT_RETRIES: &str = "Acquire::Retries=6";

/// `apt-get update` that fetches nothing still exits 0 by default and leaves the next
/// install failing with a misleading "Unable to locate package". `--error-on=any`
/// (apt >= 2.1.16: Debian 11+, Ubuntu 22.04+) makes the real cause, the failed fetch,
/// the error the user sees.
fn update_argv() -> Vec<String> {
    argv(&[
        "apt-get",
        "update",
        "-q",
        "-o",
        APT_RETRIES,
        "--error-on=any",
    ])
}

/// Whether apt's package lists are missing or older than `max_age`.
fn lists_stale(root: &Path, max_age: Duration) -> bool {
    let Ok(entries) = std::fs::read_dir(root.join("var/lib/apt/lists")) else {
        return true;
    };
    let newest = entries
        .flatten()
        .filter(|e| {
            e.file_name().to_string_lossy().ends_with("_Packages")
                || e.file_name().to_string_lossy().contains("_Packages.")
        })
        .filter_map(|e| e.metadata().ok()?.modified().ok())
        .max();
    match newest {
        None => true,
        Some(t) => SystemTime::now()
            .duration_since(t)
            .map(|age| age > max_age)
            .unwrap_or(false),
    }
}

/// Packages `apt-get -s install` would install or upgrade (read-only; for `latest`).
fn pending_upgrades(ctx: &Ctx<'_>, pkgs: &[String]) -> Result<Vec<String>, ItemError> {
    let mut cmd = std::process::Command::new("apt-get");
    cmd.args(["-s", "-o", "Debug::NoLocking=1", "install"])
        .args(pkgs)
        .env("LC_ALL", "C")
        .stdin(std::process::Stdio::null());
    if !ctx.live() {
        return Err(ItemError::Failed("state = \"latest\" needs the live system (run the agent inside the container, without --root)".into()));
    }
    let out = cmd
        .output()
        .map_err(|e| ItemError::Failed(format!("cannot run apt-get -s: {e}")))?;
    if !out.status.success() {
        return Err(ItemError::Failed(format!(
            "apt-get -s install failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(pkgs
        .iter()
        .filter(|p| {
            let base = p.split(':').next().unwrap_or(p);
            text.lines().any(|l| {
                l.strip_prefix("Inst ")
                    .is_some_and(|r| r.split_whitespace().next() == Some(base))
            })
        })
        .cloned()
        .collect())
}

impl Module for AptPackagesItem {
    fn plan(&self, ctx: &Ctx<'_>) -> Result<Plan, ItemError> {
        let mut plan = Plan::default();
        let mut installed_now = Vec::new();
        for p in &self.packages {
            installed_now.push(ctx.installed(p).map_err(ItemError::Failed)?);
        }
        let root = ctx.view.root().to_path_buf();
        match self.state {
            PackageState::Present | PackageState::Latest => {
                let mut install: Vec<String> = self
                    .packages
                    .iter()
                    .zip(&installed_now)
                    .filter(|(_, i)| !**i)
                    .map(|(p, _)| p.clone())
                    .collect();
                for p in &install {
                    plan.change(
                        &format!("package {p}"),
                        Some("absent".into()),
                        Some("installed".into()),
                    );
                }
                if self.state == PackageState::Latest && ctx.phase != Phase::Preflight {
                    let present: Vec<String> = self
                        .packages
                        .iter()
                        .zip(&installed_now)
                        .filter(|(_, i)| **i)
                        .map(|(p, _)| p.clone())
                        .collect();
                    if !present.is_empty() {
                        for p in pending_upgrades(ctx, &present)? {
                            plan.change(
                                &format!("package {p}"),
                                Some("installed".into()),
                                Some("latest".into()),
                            );
                            install.push(p);
                        }
                    }
                }
                if !install.is_empty() {
                    let sources_changed =
                        ctx.changed_paths.iter().any(|p| p.starts_with("/etc/apt"));
                    if sources_changed
                        || lists_stale(&root, Duration::from_secs(self.cache_valid_seconds))
                    {
                        plan.change(
                            "package lists",
                            Some("stale".into()),
                            Some("refreshed".into()),
                        );
                        plan.actions.push(Action::Run {
                            argv: update_argv(),
                            env: apt_env(),
                        });
                    }
                    let mut args = argv(&[
                        "apt-get",
                        "install",
                        "-y",
                        "-q",
                        "-o",
                        APT_RETRIES,
                        "-o",
                        "Dpkg::Options::=--force-confdef",
                        "-o",
                        "Dpkg::Options::=--force-confold",
                    ]);
                    match self.install_recommends {
                        Some(false) => args.push("--no-install-recommends".into()),
                        Some(true) => args.push("--install-recommends".into()),
                        None => {}
                    }
                    args.extend(install.iter().cloned());
                    plan.actions.push(Action::Run {
                        argv: args,
                        env: apt_env(),
                    });
                    plan.actions.push(Action::ExpectPackages {
                        installed: install,
                        removed: Vec::new(),
                    });
                }
                if self.mark_manual {
                    let pkgs = ctx.packages().map_err(ItemError::Failed)?;
                    let auto: Vec<String> = self
                        .packages
                        .iter()
                        .zip(&installed_now)
                        .filter(|(p, i)| **i && pkgs.is_auto(p))
                        .map(|(p, _)| p.clone())
                        .collect();
                    if !auto.is_empty() {
                        for p in &auto {
                            plan.change(
                                &format!("package {p} mark"),
                                Some("auto".into()),
                                Some("manual".into()),
                            );
                        }
                        let mut args = argv(&["apt-mark", "manual"]);
                        args.extend(auto);
                        plan.actions.push(Action::Run {
                            argv: args,
                            env: apt_env(),
                        });
                    }
                }
            }
            PackageState::Absent => {
                let remove: Vec<String> = self
                    .packages
                    .iter()
                    .zip(&installed_now)
                    .filter(|(_, i)| **i)
                    .map(|(p, _)| p.clone())
                    .collect();
                if !remove.is_empty() {
                    for p in &remove {
                        plan.change(
                            &format!("package {p}"),
                            Some("installed".into()),
                            Some("absent".into()),
                        );
                    }
                    let mut args = argv(&[
                        "apt-get",
                        if self.purge { "purge" } else { "remove" },
                        "-y",
                        "-q",
                    ]);
                    args.extend(remove.iter().cloned());
                    plan.actions.push(Action::Run {
                        argv: args,
                        env: apt_env(),
                    });
                    plan.actions.push(Action::ExpectPackages {
                        installed: Vec::new(),
                        removed: remove,
                    });
                }
            }
        }
        Ok(plan)
    }
}
