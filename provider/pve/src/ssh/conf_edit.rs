//! Editing the raw `lxc.*` lines of `/etc/pve/lxc/<vmid>.conf` over SSH.
//!
//! The file is read, edited locally with [`PctConf`] (every other line and section kept
//! byte-for-byte), and written back by a compare-and-swap under PVE's own config lock
//! (`flock /run/lock/lxc/pve-config-<vmid>.lock`): the write only happens if the file still
//! has the digest it was read with, so a concurrent API change is never overwritten.

use std::time::Duration;

use super::session::NodeSsh;
use super::SshError;
use crate::pctconf::{digest, PctConf};

/// Where things live on the node. The defaults are PVE's paths; tests point them into a
/// scratch directory.
#[derive(Clone, Debug)]
pub struct NodePaths {
    /// Container configs (`/etc/pve/lxc`).
    pub conf_dir: String,
    /// PVE's lock files (`/run/lock/lxc`).
    pub lock_dir: String,
    pub subuid: String,
    pub subgid: String,
    pub group_file: String,
    /// sysfs mount (`/sys`).
    pub sys_root: String,
    /// How long to wait for a lock, as PVE's own `lock_file` default.
    pub lock_timeout: Duration,
    /// How many times a locked or concurrently modified config is re-read and retried.
    pub conflict_attempts: u32,
}

impl Default for NodePaths {
    fn default() -> Self {
        Self {
            conf_dir: "/etc/pve/lxc".into(),
            lock_dir: "/run/lock/lxc".into(),
            subuid: "/etc/subuid".into(),
            subgid: "/etc/subgid".into(),
            group_file: "/etc/group".into(),
            sys_root: "/sys".into(),
            lock_timeout: Duration::from_secs(10),
            conflict_attempts: 5,
        }
    }
}

impl NodePaths {
    /// `/etc/pve/lxc/<vmid>.conf`.
    pub fn conf_path(&self, vmid: u32) -> String {
        format!("{}/{vmid}.conf", self.conf_dir)
    }

    /// `/run/lock/lxc/pve-config-<vmid>.lock`.
    pub fn lock_path(&self, vmid: u32) -> String {
        format!("{}/pve-config-{vmid}.lock", self.lock_dir)
    }
}

/// Result of a raw-line edit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfEditOutcome {
    /// False when the file already had exactly these lines (nothing was written).
    pub changed: bool,
    pub old_digest: String,
    pub new_digest: String,
}

/// Exit codes of [`CAS_SCRIPT`].
const EXIT_LOCK_TIMEOUT: u32 = 75;
const EXIT_MODIFIED: u32 = 76;
const EXIT_MISSING: u32 = 66;

/// Compare-and-swap write under PVE's config lock. `$1` lock file, `$2` config file,
/// `$3` expected SHA-1, `$4` lock timeout in seconds; stdin = new contents; stdout = SHA-1 of
/// the written file.
const CAS_SCRIPT: &str = r#"set -eu
lock=$1 conf=$2 want=$3 wait=$4
mkdir -p -- "${lock%/*}"
exec 9>>"$lock"
if ! flock -w "$wait" 9; then
  echo "can't lock file '$lock' - got timeout" >&2
  exit 75
fi
if [ ! -f "$conf" ]; then
  echo "Configuration file '$conf' does not exist" >&2
  exit 66
fi
have=$(sha1sum < "$conf")
have=${have%% *}
if [ "$have" != "$want" ]; then
  echo "detected modified configuration - file changed by other user? Try again." >&2
  exit 76
fi
tmp=$conf.tmp.$$
trap 'rm -f -- "$tmp"' EXIT
cat > "$tmp"
sync -- "$tmp" 2>/dev/null || true
mv -f -- "$tmp" "$conf"
trap - EXIT
done_sum=$(sha1sum < "$conf")
echo "${done_sum%% *}"
"#;

impl NodeSsh {
    /// Reads and parses a container config; returns it with its digest.
    pub async fn read_conf(
        &self,
        paths: &NodePaths,
        vmid: u32,
    ) -> Result<(PctConf, String), SshError> {
        let bytes = self.read_file(&paths.conf_path(vmid)).await?;
        let text = String::from_utf8(bytes)
            .map_err(|_| SshError::Output(format!("{} is not UTF-8", paths.conf_path(vmid))))?;
        let d = digest(text.as_bytes());
        Ok((PctConf::parse(&text), d))
    }

    /// Replaces the raw `lxc.*` lines of the main section with `lines` (validated against
    /// PVE's whitelist), under PVE's config lock with a digest check.
    ///
    /// With `expected_digest`, the edit is refused if the file is no longer the one the caller
    /// last saw. Without it, a concurrent change is absorbed by re-reading and re-applying
    /// (the edit only concerns raw lines, so nothing else is lost).
    pub async fn edit_conf_raw_lines(
        &self,
        paths: &NodePaths,
        vmid: u32,
        lines: &[(String, String)],
        expected_digest: Option<&str>,
    ) -> Result<ConfEditOutcome, SshError> {
        for (k, v) in lines {
            crate::pctconf::check_raw_line(k, v)
                .map_err(|e| SshError::InvalidInput(e.to_string()))?;
        }
        let conf_path = paths.conf_path(vmid);
        let lock_path = paths.lock_path(vmid);
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let (mut conf, old_digest) = self.read_conf(paths, vmid).await?;
            if let Some(want) = expected_digest {
                if want != old_digest {
                    return Err(SshError::Modified(format!(
                        "{conf_path} changed since it was read (digest {old_digest}, expected {want}); refresh and try again"
                    )));
                }
            }
            let before = conf.write();
            conf.replace_main_raw_lines(lines)
                .map_err(|e| SshError::InvalidInput(e.to_string()))?;
            let after = conf.write();
            if after == before {
                return Ok(ConfEditOutcome {
                    changed: false,
                    new_digest: old_digest.clone(),
                    old_digest,
                });
            }
            let new_digest = digest(after.as_bytes());
            let wait = paths.lock_timeout.as_secs().max(1).to_string();
            let out = self
                .run(
                    &[
                        "sh",
                        "-c",
                        CAS_SCRIPT,
                        "pvelxc-conf-edit",
                        &lock_path,
                        &conf_path,
                        &old_digest,
                        &wait,
                    ],
                    Some(after.as_bytes()),
                )
                .await?;
            let retry = match out.status {
                0 => {
                    let written = out.stdout_text().trim().to_string();
                    if written != new_digest {
                        return Err(SshError::Output(format!(
                            "{conf_path} has digest {written} after writing, expected {new_digest}"
                        )));
                    }
                    tracing::info!(vmid, lines = lines.len(), "raw lxc lines written");
                    return Ok(ConfEditOutcome {
                        changed: true,
                        old_digest,
                        new_digest,
                    });
                }
                EXIT_LOCK_TIMEOUT => SshError::Locked(out.stderr_tail()),
                EXIT_MODIFIED if expected_digest.is_none() => SshError::Modified(out.stderr_tail()),
                EXIT_MODIFIED => {
                    return Err(SshError::Modified(format!(
                        "{conf_path}: {}",
                        out.stderr_tail()
                    )));
                }
                EXIT_MISSING => return Err(SshError::NotFound(out.stderr_tail())),
                status => {
                    return Err(SshError::Command {
                        program: "sh".into(),
                        status,
                        stderr: out.stderr_tail(),
                    })
                }
            };
            if attempt >= paths.conflict_attempts.max(1) {
                return Err(retry);
            }
            tracing::warn!(vmid, attempt, error = %retry, "config edit raced with another writer; retrying");
            tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
        }
    }
}
