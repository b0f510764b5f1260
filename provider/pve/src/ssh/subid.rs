//! Delegating host UID/GID ranges in `/etc/subuid` / `/etc/subgid`.
//!
//! A custom `lxc.idmap` that passes host id 1000 into a container only starts if root owns
//! that id in the subordinate id files (LXC maps through `newuidmap`). Entries are only ever
//! appended, under a lock, and only when no existing entry already covers the range.

use super::conf_edit::NodePaths;
use super::session::NodeSsh;
use super::SshError;

/// Which file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubIdFile {
    Uid,
    Gid,
}

/// What `ensure_subid` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubIdOutcome {
    /// An existing entry already covers the range.
    Present,
    /// A line was appended.
    Added,
}

/// `$1` file, `$2` user, `$3` start, `$4` count, `$5` lock file. Prints `present` or `added`.
const SUBID_SCRIPT: &str = r#"set -eu
file=$1 user=$2 start=$3 count=$4 lock=$5
mkdir -p -- "${lock%/*}"
exec 9>>"$lock"
flock -w 30 9
if [ -f "$file" ] && awk -F: -v u="$user" -v s="$start" -v c="$count" \
    '$1 == u && ($2 + 0) <= (s + 0) && ($2 + $3) >= (s + c) { found = 1 } END { exit !found }' "$file"; then
  echo present
  exit 0
fi
tmp=$file.tmp.$$
trap 'rm -f -- "$tmp"' EXIT
if [ -f "$file" ]; then cp -p -- "$file" "$tmp"; else : > "$tmp"; chmod 644 -- "$tmp"; fi
if [ -s "$tmp" ] && [ -n "$(tail -c 1 -- "$tmp")" ]; then echo >> "$tmp"; fi
printf '%s:%s:%s\n' "$user" "$start" "$count" >> "$tmp"
sync -- "$tmp" 2>/dev/null || true
mv -f -- "$tmp" "$file"
trap - EXIT
echo added
"#;

impl NodeSsh {
    /// Ensures `user` owns `range` (`"1000:1"`: start and count) in the subuid or subgid
    /// file. Idempotent; never removes or rewrites existing entries.
    pub async fn ensure_subid(
        &self,
        paths: &NodePaths,
        file: SubIdFile,
        user: &str,
        range: &str,
    ) -> Result<SubIdOutcome, SshError> {
        let (start, count) = parse_range(range)?;
        let name_ok = user.bytes().enumerate().all(|(i, b)| {
            b.is_ascii_lowercase() || b == b'_' || (i > 0 && (b.is_ascii_digit() || b == b'-'))
        });
        if user.is_empty() || !name_ok {
            return Err(SshError::InvalidInput(format!(
                "'{user}' is not a valid user name for /etc/subuid"
            )));
        }
        let path = match file {
            SubIdFile::Uid => &paths.subuid,
            SubIdFile::Gid => &paths.subgid,
        };
        let lock = format!("{}/pvelxc-subid.lock", paths.lock_dir);
        let out = self
            .run_checked(
                &[
                    "sh",
                    "-c",
                    SUBID_SCRIPT,
                    "pvelxc-subid",
                    path,
                    user,
                    &start.to_string(),
                    &count.to_string(),
                    &lock,
                ],
                None,
            )
            .await?;
        match out.stdout_text().trim() {
            "present" => Ok(SubIdOutcome::Present),
            "added" => {
                tracing::info!(file = %path, user, range, "subordinate id range delegated");
                Ok(SubIdOutcome::Added)
            }
            other => Err(SshError::Output(format!("subid update printed {other:?}"))),
        }
    }
}

/// Parses `start:count`.
fn parse_range(range: &str) -> Result<(u32, u32), SshError> {
    let bad = || {
        SshError::InvalidInput(format!(
            "'{range}' is not a subordinate id range; expected START:COUNT, e.g. 1000:1"
        ))
    };
    let (s, c) = range.split_once(':').ok_or_else(bad)?;
    let num = |t: &str| -> Result<u32, SshError> {
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        t.parse().map_err(|_| bad())
    };
    let (start, count) = (num(s)?, num(c)?);
    if count == 0 || u64::from(start) + u64::from(count) > u64::from(u32::MAX) + 1 {
        return Err(bad());
    }
    Ok((start, count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("1000:1").unwrap(), (1000, 1));
        assert_eq!(parse_range("100000:65536").unwrap(), (100000, 65536));
        for bad in [
            "1000",
            "1000:0",
            "a:1",
            "1000:1\nroot:0:1",
            "-1:1",
            "4294967295:2",
        ] {
            assert!(parse_range(bad).is_err(), "{bad}");
        }
    }
}
