//! `lxc.idmap` lines that pass selected host IDs straight through into an
//! unprivileged container.
//!
//! An unprivileged container maps its IDs `0..range` onto host IDs
//! `offset..offset+range`. Media containers need a few IDs (the media user,
//! the host's `video`/`render` groups) to be *the same* number inside and
//! outside, so device nodes and shared files keep working. Each passed-through
//! ID splits the default mapping into "before", "the ID itself" and "after".

use std::fmt;

use thiserror::Error;

/// Which ID namespace an entry maps: `u` (users) or `g` (groups).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IdKind {
    /// `u` lines, user IDs.
    User,
    /// `g` lines, group IDs.
    Group,
}

impl IdKind {
    /// The letter `lxc.idmap` uses for this kind.
    pub fn letter(self) -> char {
        match self {
            IdKind::User => 'u',
            IdKind::Group => 'g',
        }
    }

    /// Plural noun for messages ("uids"/"gids").
    pub fn noun(self) -> &'static str {
        match self {
            IdKind::User => "uids",
            IdKind::Group => "gids",
        }
    }
}

/// The container's ID space and where it lands on the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdMapLayout {
    /// First host ID of the container's private range (PVE: 100000).
    pub host_offset: u64,
    /// Number of IDs the container sees (PVE: 65536).
    pub range: u64,
}

impl Default for IdMapLayout {
    fn default() -> Self {
        IdMapLayout {
            host_offset: 100_000,
            range: 65_536,
        }
    }
}

/// One `lxc.idmap` line: `kind container_start host_start count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdMapEntry {
    /// Namespace of the line.
    pub kind: IdKind,
    /// First ID inside the container.
    pub container_start: u64,
    /// First ID on the host.
    pub host_start: u64,
    /// Number of consecutive IDs.
    pub count: u64,
}

impl fmt::Display for IdMapEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.kind.letter(),
            self.container_start,
            self.host_start,
            self.count
        )
    }
}

/// Why a set of pass-through IDs cannot be mapped.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdMapError {
    /// The same ID was listed twice.
    #[error("{} lists {id} more than once; list each ID once", kind.noun())]
    Duplicate {
        /// Namespace of the offending list.
        kind: IdKind,
        /// The repeated ID.
        id: i64,
    },
    /// The ID is outside the container's ID space.
    #[error(
        "{} contains {id}, which is outside the container's ID range 1..{}; \
         only IDs the container can see can be passed through",
        kind.noun(),
        range.saturating_sub(1)
    )]
    OutOfRange {
        /// Namespace of the offending list.
        kind: IdKind,
        /// The rejected ID.
        id: i64,
        /// Size of the container's ID space.
        range: u64,
    },
    /// Root would be mapped to host root, which makes the container privileged.
    #[error(
        "{} contains 0: passing root through gives the container host root; \
         use a privileged container instead if that is really intended",
        kind.noun()
    )]
    Root {
        /// Namespace of the offending list.
        kind: IdKind,
    },
    /// A passed-through ID collides with the container's private host range.
    #[error(
        "{} contains {id}, which lies inside the container's private host range \
         {offset}..{end}; choose an ID below {offset}",
        kind.noun(),
        end = offset + range - 1
    )]
    OverlapsPrivateRange {
        /// Namespace of the offending list.
        kind: IdKind,
        /// The rejected ID.
        id: i64,
        /// First host ID of the private range.
        offset: u64,
        /// Size of the private range.
        range: u64,
    },
}

impl IdMapError {
    /// Which list (users or groups) the error is about.
    pub fn kind(&self) -> IdKind {
        match self {
            IdMapError::Duplicate { kind, .. }
            | IdMapError::OutOfRange { kind, .. }
            | IdMapError::Root { kind }
            | IdMapError::OverlapsPrivateRange { kind, .. } => *kind,
        }
    }
}

/// Entries for both namespaces: all `u` lines, then all `g` lines, each in
/// ascending container-ID order, covering the whole ID space without gaps or
/// overlaps.
pub fn passthrough(
    layout: IdMapLayout,
    uids: &[i64],
    gids: &[i64],
) -> Result<Vec<IdMapEntry>, IdMapError> {
    let mut entries = passthrough_kind(layout, IdKind::User, uids)?;
    entries.extend(passthrough_kind(layout, IdKind::Group, gids)?);
    Ok(entries)
}

/// Entries for one namespace.
pub fn passthrough_kind(
    layout: IdMapLayout,
    kind: IdKind,
    ids: &[i64],
) -> Result<Vec<IdMapEntry>, IdMapError> {
    let sorted = validated_sorted(layout, kind, ids)?;
    let mut entries = Vec::with_capacity(sorted.len() * 2 + 1);
    let mut next = 0u64;
    for id in sorted {
        if id > next {
            entries.push(IdMapEntry {
                kind,
                container_start: next,
                host_start: layout.host_offset + next,
                count: id - next,
            });
        }
        entries.push(IdMapEntry {
            kind,
            container_start: id,
            host_start: id,
            count: 1,
        });
        next = id + 1;
    }
    if next < layout.range {
        entries.push(IdMapEntry {
            kind,
            container_start: next,
            host_start: layout.host_offset + next,
            count: layout.range - next,
        });
    }
    Ok(entries)
}

fn validated_sorted(
    layout: IdMapLayout,
    kind: IdKind,
    ids: &[i64],
) -> Result<Vec<u64>, IdMapError> {
    let mut out = Vec::with_capacity(ids.len());
    for &id in ids {
        if id == 0 {
            return Err(IdMapError::Root { kind });
        }
        let unsigned = match u64::try_from(id) {
            Ok(v) if v < layout.range => v,
            _ => {
                return Err(IdMapError::OutOfRange {
                    kind,
                    id,
                    range: layout.range,
                })
            }
        };
        if unsigned >= layout.host_offset && unsigned < layout.host_offset + layout.range {
            return Err(IdMapError::OverlapsPrivateRange {
                kind,
                id,
                offset: layout.host_offset,
                range: layout.range,
            });
        }
        out.push(unsigned);
    }
    out.sort_unstable();
    if let Some(pair) = out.windows(2).find(|w| w[0] == w[1]) {
        return Err(IdMapError::Duplicate {
            kind,
            id: pair[0] as i64,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(uids: &[i64], gids: &[i64]) -> Vec<String> {
        passthrough(IdMapLayout::default(), uids, gids)
            .expect("valid ids")
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn media_user_and_video_render_groups() {
        assert_eq!(
            lines(&[1000], &[1000, 44, 104]),
            [
                "u 0 100000 1000",
                "u 1000 1000 1",
                "u 1001 101001 64535",
                "g 0 100000 44",
                "g 44 44 1",
                "g 45 100045 59",
                "g 104 104 1",
                "g 105 100105 895",
                "g 1000 1000 1",
                "g 1001 101001 64535",
            ]
        );
    }

    #[test]
    fn no_ids_maps_the_default_range() {
        assert_eq!(lines(&[], &[]), ["u 0 100000 65536", "g 0 100000 65536"]);
    }

    #[test]
    fn adjacent_and_last_ids_leave_no_empty_ranges() {
        assert_eq!(
            lines(&[1, 2, 65535], &[]),
            [
                "u 0 100000 1",
                "u 1 1 1",
                "u 2 2 1",
                "u 3 100003 65532",
                "u 65535 65535 1",
                "g 0 100000 65536",
            ]
        );
    }

    #[test]
    fn every_container_id_is_mapped_exactly_once() {
        let entries = passthrough(IdMapLayout::default(), &[5, 700, 1000, 33], &[]).expect("valid");
        let users: Vec<_> = entries.iter().filter(|e| e.kind == IdKind::User).collect();
        let mut expected_start = 0;
        for e in &users {
            assert_eq!(e.container_start, expected_start);
            assert!(e.count > 0);
            expected_start += e.count;
        }
        assert_eq!(expected_start, 65536);
    }

    #[test]
    fn rejects_duplicates_naming_the_list() {
        let err = passthrough(IdMapLayout::default(), &[1000], &[44, 44]).unwrap_err();
        assert_eq!(
            err,
            IdMapError::Duplicate {
                kind: IdKind::Group,
                id: 44
            }
        );
        assert!(err.to_string().starts_with("gids lists 44"));
    }

    #[test]
    fn rejects_out_of_range_negative_and_root() {
        let layout = IdMapLayout::default();
        assert!(matches!(
            passthrough(layout, &[65536], &[]),
            Err(IdMapError::OutOfRange {
                kind: IdKind::User,
                id: 65536,
                ..
            })
        ));
        assert!(matches!(
            passthrough(layout, &[], &[-1]),
            Err(IdMapError::OutOfRange {
                kind: IdKind::Group,
                id: -1,
                ..
            })
        ));
        assert_eq!(
            passthrough(layout, &[0], &[]),
            Err(IdMapError::Root { kind: IdKind::User })
        );
    }

    #[test]
    fn rejects_ids_inside_a_low_private_range() {
        let layout = IdMapLayout {
            host_offset: 1000,
            range: 65536,
        };
        assert!(matches!(
            passthrough(layout, &[1500], &[]),
            Err(IdMapError::OverlapsPrivateRange { id: 1500, .. })
        ));
    }
}
