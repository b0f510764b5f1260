//! User-namespace ID maps of a container: PVE's default map, custom `lxc.idmap` lines,
//! the overlap check of `validate_id_maps`, and the `/etc/subuid`/`/etc/subgid`
//! delegation check that `newuidmap`/`newgidmap` apply when LXC starts the container.

use std::fmt;
use std::path::Path;

use thiserror::Error;

use crate::conf::Section;

/// Problems with a container's ID map; each names the entry and the fix.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdMapError {
    /// An `lxc.idmap` value that is not `<u|g> <ct-start> <host-start> <count>`.
    #[error(
        "invalid lxc.idmap entry '{0}': expected '<u|g> <container-start> <host-start> <count>'"
    )]
    Syntax(String),
    /// Two entries map the same ID (PVE's `validate_id_maps`).
    #[error("invalid map entry '{entry}': {side} {kind}id {id} is also mapped by entry '{other}'")]
    Overlap {
        /// The later entry.
        entry: String,
        /// The earlier entry it collides with.
        other: String,
        /// `container` or `host`.
        side: &'static str,
        /// `u` or `g`.
        kind: char,
        /// First colliding ID.
        id: u64,
    },
    /// The host range is not delegated to root in `/etc/subuid` or `/etc/subgid`.
    #[error("lxc.idmap '{entry}': host {kind}id range [{start}-{end}) is not delegated to root in {file}, so newuid/gidmap refuses it; add 'root:{start}:{count}' to {file} on the node")]
    NotDelegated {
        /// The entry.
        entry: String,
        /// `u` or `g`.
        kind: char,
        /// First host ID.
        start: u64,
        /// One past the last host ID.
        end: u64,
        /// Number of IDs.
        count: u64,
        /// `/etc/subuid` or `/etc/subgid`.
        file: &'static str,
    },
}

/// One `u|g ct-start host-start count` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdMapEntry {
    /// `u` for users, `g` for groups.
    pub kind: char,
    /// First ID inside the container.
    pub ct_start: u64,
    /// First ID on the host.
    pub host_start: u64,
    /// Number of IDs.
    pub count: u64,
}

impl fmt::Display for IdMapEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.kind, self.ct_start, self.host_start, self.count
        )
    }
}

impl IdMapEntry {
    /// Parses `u 0 100000 65536`.
    pub fn parse(value: &str) -> Result<Self, IdMapError> {
        let err = || IdMapError::Syntax(value.to_string());
        let parts: Vec<&str> = value.split_whitespace().collect();
        let [kind, ct, host, count] = parts.as_slice() else {
            return Err(err());
        };
        let kind = match *kind {
            "u" => 'u',
            "g" => 'g',
            _ => return Err(err()),
        };
        let num = |s: &str| s.parse::<u64>().map_err(|_| err());
        let entry = Self {
            kind,
            ct_start: num(ct)?,
            host_start: num(host)?,
            count: num(count)?,
        };
        if entry.count == 0 {
            return Err(err());
        }
        Ok(entry)
    }
}

/// The complete ID map of a container (empty for a privileged one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdMap {
    /// Entries in configuration order.
    pub entries: Vec<IdMapEntry>,
    /// True if the map comes from raw `lxc.idmap` lines rather than PVE's default.
    pub custom: bool,
}

impl IdMap {
    /// Map of a config: custom `lxc.idmap` lines if present (they make the CT
    /// unprivileged, as in PVE), else `u/g 0 100000 65536` for `unprivileged: 1`, else none.
    pub fn of(section: &Section) -> Result<Self, IdMapError> {
        let custom: Vec<IdMapEntry> = section
            .lxc_values("lxc.idmap")
            .chain(section.lxc_values("lxc.id_map"))
            .map(IdMapEntry::parse)
            .collect::<Result<_, _>>()?;
        let map = if !custom.is_empty() {
            Self {
                entries: custom,
                custom: true,
            }
        } else if section.is_unprivileged() {
            Self {
                entries: vec![
                    IdMapEntry {
                        kind: 'u',
                        ct_start: 0,
                        host_start: 100_000,
                        count: 65_536,
                    },
                    IdMapEntry {
                        kind: 'g',
                        ct_start: 0,
                        host_start: 100_000,
                        count: 65_536,
                    },
                ],
                custom: false,
            }
        } else {
            Self::default()
        };
        map.validate()?;
        Ok(map)
    }

    /// True if the container runs in a user namespace.
    pub fn is_unprivileged(&self) -> bool {
        !self.entries.is_empty()
    }

    /// Refuses overlapping entries on either side, like `validate_id_maps`.
    pub fn validate(&self) -> Result<(), IdMapError> {
        for (i, entry) in self.entries.iter().enumerate() {
            for other in &self.entries[..i] {
                if other.kind != entry.kind {
                    continue;
                }
                let sides = [
                    ("container", entry.ct_start, other.ct_start),
                    ("host", entry.host_start, other.host_start),
                ];
                for (side, a, b) in sides {
                    if a < b + other.count && b < a + entry.count {
                        return Err(IdMapError::Overlap {
                            entry: entry.to_string(),
                            other: other.to_string(),
                            side,
                            kind: entry.kind,
                            id: a.max(b),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// Host ID for a container ID (`map_ct_uid_to_host`); identity when privileged,
    /// `None` if the ID is not mapped.
    pub fn to_host(&self, kind: char, ct_id: u64) -> Option<u64> {
        if !self.is_unprivileged() {
            return Some(ct_id);
        }
        self.entries
            .iter()
            .find(|e| e.kind == kind && ct_id >= e.ct_start && ct_id < e.ct_start + e.count)
            .map(|e| e.host_start + (ct_id - e.ct_start))
    }

    /// Checks every entry against `/etc/subuid` and `/etc/subgid` for `root`, as
    /// `newuidmap`/`newgidmap` do: each host range must lie inside one delegated range.
    pub fn check_delegation(&self, subuid: &Path, subgid: &Path) -> Result<(), IdMapError> {
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        let (uids, gids) = (read(subuid), read(subgid));
        for entry in &self.entries {
            let (text, file) = if entry.kind == 'u' {
                (&uids, "/etc/subuid")
            } else {
                (&gids, "/etc/subgid")
            };
            let end = entry.host_start + entry.count;
            let delegated = delegated_ranges(text)
                .any(|(start, count)| entry.host_start >= start && end <= start + count);
            if !delegated {
                return Err(IdMapError::NotDelegated {
                    entry: entry.to_string(),
                    kind: entry.kind,
                    start: entry.host_start,
                    end,
                    count: entry.count,
                    file,
                });
            }
        }
        Ok(())
    }
}

/// `(start, count)` of every `root:` (or `0:`) line of a subuid/subgid file.
fn delegated_ranges(text: &str) -> impl Iterator<Item = (u64, u64)> + '_ {
    text.lines().filter_map(|line| {
        let mut parts = line.trim().split(':');
        let owner = parts.next()?;
        if owner != "root" && owner != "0" {
            return None;
        }
        let start = parts.next()?.parse().ok()?;
        let count = parts.next()?.parse().ok()?;
        Some((start, count))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conf::PctConf;

    fn map_of(text: &str) -> Result<IdMap, IdMapError> {
        IdMap::of(&PctConf::parse(100, text).unwrap().main)
    }

    const PASS_1000: &str = "unprivileged: 1\nlxc.idmap: u 0 100000 1000\nlxc.idmap: g 0 100000 1000\nlxc.idmap: u 1000 1000 1\nlxc.idmap: g 1000 1000 1\nlxc.idmap: u 1001 101001 64535\nlxc.idmap: g 1001 101001 64535\n";

    #[test]
    fn default_and_custom_maps() {
        let default = map_of("unprivileged: 1\n").unwrap();
        assert_eq!(default.to_host('u', 0), Some(100_000));
        assert!(!default.custom);
        assert_eq!(map_of("arch: amd64\n").unwrap().to_host('g', 44), Some(44));
        let custom = map_of(PASS_1000).unwrap();
        assert_eq!(custom.to_host('u', 1000), Some(1000));
        assert_eq!(custom.to_host('g', 999), Some(100_999));
        assert_eq!(custom.to_host('u', 1001), Some(101_001));
        assert_eq!(custom.to_host('u', 70_000), None);
    }

    #[test]
    fn overlaps_are_refused_like_validate_id_maps() {
        let err = map_of("lxc.idmap: u 0 100000 65536\nlxc.idmap: u 1000 1000 1\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid map entry 'u 1000 1000 1': container uid 1000 is also mapped by entry 'u 0 100000 65536'"
        );
        assert!(map_of("lxc.idmap: u 0 100000 10\nlxc.idmap: u 10 100005 10\n").is_err());
        assert!(map_of("lxc.idmap: x 0 1 2\n").is_err());
    }

    #[test]
    fn delegation_is_checked_like_newuidmap() {
        let dir = tempfile::tempdir().unwrap();
        let (subuid, subgid) = (dir.path().join("subuid"), dir.path().join("subgid"));
        std::fs::write(&subuid, "root:100000:65536\n").unwrap();
        std::fs::write(&subgid, "root:100000:65536\nroot:1000:1\n").unwrap();
        let map = map_of(PASS_1000).unwrap();
        let err = map.check_delegation(&subuid, &subgid).unwrap_err();
        assert!(
            err.to_string().contains("add 'root:1000:1' to /etc/subuid"),
            "{err}"
        );
        std::fs::write(&subuid, "root:100000:65536\nroot:1000:1\n").unwrap();
        map.check_delegation(&subuid, &subgid).unwrap();
        let default = map_of("unprivileged: 1\n").unwrap();
        std::fs::write(&subuid, "root:100000:1000\n").unwrap();
        assert!(default.check_delegation(&subuid, &subgid).is_err());
    }
}
