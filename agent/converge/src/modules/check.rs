//! Checks run as a named user with no privileges: a device opens, a directory is
//! writable, a program's output matches. The result is reported (the provider
//! exposes it); checks never change anything.

use super::Module;
use crate::ctx::{Ctx, Phase};
use crate::error::ItemError;
use crate::plan::Plan;
use crate::privdrop::{in_child, run_as, Identity};
use pvelxc_spec::report::CheckOutcome;
use pvelxc_spec::{CheckItem, CheckKind};
use std::os::unix::fs::OpenOptionsExt;
use std::time::Duration;

const DETAIL_LIMIT: usize = 4000;

fn truncate(mut s: String) -> String {
    if s.len() > DETAIL_LIMIT {
        let mut cut = DETAIL_LIMIT;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("\n[output truncated]");
    }
    s
}

impl Module for CheckItem {
    fn plan(&self, ctx: &Ctx<'_>) -> Result<Plan, ItemError> {
        let mut plan = Plan::default();
        if ctx.accounts.user(&self.user).is_none() {
            return Err(ItemError::Invalid(format!(
                "check {:?}: user {:?} does not exist; add a user item before this check",
                self.name, self.user
            )));
        }
        if let CheckKind::Command { expect, .. } = &self.check {
            regex::Regex::new(expect).map_err(|e| {
                ItemError::Invalid(format!(
                    "check {:?}: expect is not a valid regular expression: {e}",
                    self.name
                ))
            })?;
        }
        if ctx.phase == Phase::Preflight {
            return Ok(plan);
        }
        let Some(user) = ctx.disk_accounts.user(&self.user) else {
            plan.skipped = Some(format!(
                "user {:?} is created by an earlier item; the check runs on apply",
                self.user
            ));
            return Ok(plan);
        };
        let id = Identity {
            groups: ctx.disk_accounts.gids_of(&user),
            name: user.name.clone(),
            uid: user.uid,
            gid: user.gid,
            home: user.home.clone(),
        };
        let chroot = (!ctx.live()).then(|| ctx.view.root().to_path_buf());
        let outcome = match &self.check {
            CheckKind::DeviceOpens { path } => {
                let p = path.clone();
                match in_child(&id, chroot.as_deref(), move || {
                    std::fs::OpenOptions::new()
                        .read(true)
                        .write(true)
                        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
                        .open(&p)
                        .map(drop)
                }) {
                    Ok(()) => CheckOutcome {
                        passed: true,
                        detail: format!("{} opens read-write as {}", path.display(), self.user),
                    },
                    Err(e) => CheckOutcome {
                        passed: false,
                        detail: format!(
                            "{} does not open read-write as {}: {e}",
                            path.display(),
                            self.user
                        ),
                    },
                }
            }
            CheckKind::Writable { path } => {
                let p = path.clone();
                match in_child(&id, chroot.as_deref(), move || {
                    nix::unistd::access(
                        &p,
                        nix::unistd::AccessFlags::W_OK | nix::unistd::AccessFlags::X_OK,
                    )
                    .map_err(std::io::Error::from)
                }) {
                    Ok(()) => CheckOutcome {
                        passed: true,
                        detail: format!("{} is writable by {}", path.display(), self.user),
                    },
                    Err(e) => CheckOutcome {
                        passed: false,
                        detail: format!("{} is not writable by {}: {e}", path.display(), self.user),
                    },
                }
            }
            CheckKind::Command {
                argv,
                expect,
                env,
                timeout_seconds,
            } => {
                let re =
                    regex::Regex::new(expect).map_err(|e| ItemError::Invalid(e.to_string()))?;
                let env: Vec<(String, String)> =
                    env.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                match run_as(
                    &id,
                    chroot,
                    argv,
                    &env,
                    Duration::from_secs(*timeout_seconds),
                ) {
                    Err(e) => CheckOutcome {
                        passed: false,
                        detail: e,
                    },
                    Ok(out) if out.timed_out => CheckOutcome {
                        passed: false,
                        detail: truncate(format!(
                            "timed out after {timeout_seconds} s; output so far:\n{}",
                            out.output
                        )),
                    },
                    Ok(out) => {
                        let passed = re.is_match(&out.output);
                        let verdict = if passed { "matches" } else { "does not match" };
                        let code = out
                            .code
                            .map(|c| c.to_string())
                            .unwrap_or_else(|| "signal".into());
                        CheckOutcome {
                            passed,
                            detail: truncate(format!(
                                "exit {code}; output {verdict} /{expect}/:\n{}",
                                out.output
                            )),
                        }
                    }
                }
            }
        };
        plan.check = Some(outcome);
        Ok(plan)
    }
}
