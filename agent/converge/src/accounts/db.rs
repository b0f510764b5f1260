//! The four account files as parsed tables that keep every line they do not
//! understand (comments, NIS `+` entries) byte for byte.

use std::fmt::Write as _;

/// One line of a colon-separated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColonLine {
    /// An entry, split on `:`.
    Entry(Vec<String>),
    /// A line kept verbatim (comment, blank, NIS compat entry).
    Other(String),
}

/// A colon-separated account file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ColonFile {
    pub lines: Vec<ColonLine>,
}

impl ColonFile {
    /// Parses `text`; entries must have at least `min_fields` fields.
    pub fn parse(text: &str, min_fields: usize, file: &str) -> Result<Self, String> {
        let mut lines = Vec::new();
        for (n, line) in text.lines().enumerate() {
            if line.is_empty()
                || line.starts_with('#')
                || line.starts_with('+')
                || line.starts_with('-')
            {
                lines.push(ColonLine::Other(line.to_string()));
                continue;
            }
            let fields: Vec<String> = line.split(':').map(str::to_string).collect();
            if fields.len() < min_fields {
                return Err(format!(
                    "{file} line {}: expected {min_fields} `:`-separated fields, found {}; fix the line by hand (e.g. with vipw/vigr)",
                    n + 1,
                    fields.len()
                ));
            }
            lines.push(ColonLine::Entry(fields));
        }
        Ok(ColonFile { lines })
    }

    /// The file's text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for l in &self.lines {
            match l {
                ColonLine::Entry(f) => {
                    let _ = writeln!(out, "{}", f.join(":"));
                }
                ColonLine::Other(s) => {
                    let _ = writeln!(out, "{s}");
                }
            }
        }
        out
    }

    /// Entries in file order.
    pub fn entries(&self) -> impl Iterator<Item = &Vec<String>> {
        self.lines.iter().filter_map(|l| match l {
            ColonLine::Entry(f) => Some(f),
            ColonLine::Other(_) => None,
        })
    }

    /// Mutable entries in file order.
    pub fn entries_mut(&mut self) -> impl Iterator<Item = &mut Vec<String>> {
        self.lines.iter_mut().filter_map(|l| match l {
            ColonLine::Entry(f) => Some(f),
            ColonLine::Other(_) => None,
        })
    }

    /// The entry whose first field is `name`.
    pub fn find(&self, name: &str) -> Option<&Vec<String>> {
        self.entries().find(|f| f[0] == name)
    }

    /// The entry whose first field is `name`, mutably.
    pub fn find_mut(&mut self, name: &str) -> Option<&mut Vec<String>> {
        self.entries_mut().find(|f| f[0] == name)
    }

    /// Appends an entry.
    pub fn push(&mut self, fields: Vec<String>) {
        self.lines.push(ColonLine::Entry(fields));
    }
}

/// A user as read from `/etc/passwd`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub gecos: String,
    pub home: String,
    pub shell: String,
}

/// A group as read from `/etc/group`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    pub gid: u32,
    pub members: Vec<String>,
}

/// All four files. `shadow`/`gshadow` are `None` when the root has no such file
/// (then they are not created either).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Accounts {
    pub passwd: ColonFile,
    pub group: ColonFile,
    pub shadow: Option<ColonFile>,
    pub gshadow: Option<ColonFile>,
}

fn num(field: &str, what: &str, name: &str) -> Result<u32, String> {
    field.parse().map_err(|_| {
        format!("{what} of {name:?} is {field:?}, not a number; fix the account file by hand")
    })
}

/// Splits a comma-separated member list.
pub fn split_members(field: &str) -> Vec<String> {
    field
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl Accounts {
    /// Checks that every numeric field parses, so later lookups cannot fail.
    pub fn check_numbers(&self) -> Result<(), String> {
        for f in self.passwd.entries() {
            num(&f[2], "/etc/passwd uid", &f[0])?;
            num(&f[3], "/etc/passwd gid", &f[0])?;
        }
        for f in self.group.entries() {
            num(&f[2], "/etc/group gid", &f[0])?;
        }
        Ok(())
    }

    fn to_user(f: &[String]) -> User {
        User {
            name: f[0].clone(),
            uid: f[2].parse().unwrap_or(u32::MAX),
            gid: f[3].parse().unwrap_or(u32::MAX),
            gecos: f[4].clone(),
            home: f[5].clone(),
            shell: f[6].clone(),
        }
    }

    fn to_group(f: &[String]) -> Group {
        Group {
            name: f[0].clone(),
            gid: f[2].parse().unwrap_or(u32::MAX),
            members: split_members(&f[3]),
        }
    }

    /// User by name.
    pub fn user(&self, name: &str) -> Option<User> {
        self.passwd.find(name).map(|f| Self::to_user(f))
    }

    /// User by UID (the first one, as NSS would return).
    pub fn user_by_uid(&self, uid: u32) -> Option<User> {
        self.passwd
            .entries()
            .map(|f| Self::to_user(f))
            .find(|u| u.uid == uid)
    }

    /// Group by name.
    pub fn group(&self, name: &str) -> Option<Group> {
        self.group.find(name).map(|f| Self::to_group(f))
    }

    /// Group by GID.
    pub fn group_by_gid(&self, gid: u32) -> Option<Group> {
        self.group
            .entries()
            .map(|f| Self::to_group(f))
            .find(|g| g.gid == gid)
    }

    /// Every group.
    pub fn groups(&self) -> Vec<Group> {
        self.group.entries().map(|f| Self::to_group(f)).collect()
    }

    /// Supplementary groups of a user (listed as a member), sorted by name.
    pub fn memberships(&self, user: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .groups()
            .into_iter()
            .filter(|g| g.members.iter().any(|m| m == user))
            .map(|g| g.name)
            .collect();
        v.sort();
        v
    }

    /// Supplementary GIDs of a user, for `setgroups`, including the primary GID.
    pub fn gids_of(&self, user: &User) -> Vec<u32> {
        let mut v: Vec<u32> = self
            .groups()
            .into_iter()
            .filter(|g| g.members.iter().any(|m| m == &user.name))
            .map(|g| g.gid)
            .collect();
        v.push(user.gid);
        v.sort_unstable();
        v.dedup();
        v
    }

    /// A free UID: from the top of 100-999 for system users (as useradd does),
    /// otherwise the lowest free one from 1000.
    pub fn free_uid(&self, system: bool) -> Option<u32> {
        let used: std::collections::BTreeSet<u32> = self
            .passwd
            .entries()
            .filter_map(|f| f[2].parse().ok())
            .collect();
        if system {
            (100..=999).rev().find(|u| !used.contains(u))
        } else {
            (1000..=59999).find(|u| !used.contains(u))
        }
    }

    /// A free GID, same ranges as [`Accounts::free_uid`].
    pub fn free_gid(&self, system: bool) -> Option<u32> {
        let used: std::collections::BTreeSet<u32> = self
            .group
            .entries()
            .filter_map(|f| f[2].parse().ok())
            .collect();
        if system {
            (100..=999).rev().find(|g| !used.contains(g))
        } else {
            (1000..=59999).find(|g| !used.contains(g))
        }
    }

    /// Resolves an owner field (name or number) to a UID.
    pub fn resolve_uid(&self, owner: &str) -> Option<u32> {
        if let Ok(n) = owner.parse::<u32>() {
            return Some(n);
        }
        self.user(owner).map(|u| u.uid)
    }

    /// Resolves a group field (name or number) to a GID.
    pub fn resolve_gid(&self, group: &str) -> Option<u32> {
        if let Ok(n) = group.parse::<u32>() {
            return Some(n);
        }
        self.group(group).map(|g| g.gid)
    }

    /// Name for a UID, for messages.
    pub fn uid_label(&self, uid: u32) -> String {
        match self.user_by_uid(uid) {
            Some(u) => format!("{}({uid})", u.name),
            None => uid.to_string(),
        }
    }

    /// Name for a GID, for messages.
    pub fn gid_label(&self, gid: u32) -> String {
        match self.group_by_gid(gid) {
            Some(g) => format!("{}({gid})", g.name),
            None => gid.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Accounts, ColonFile};
    use crate::accounts::AccountOp;

    fn db() -> Accounts {
        Accounts {
            passwd: ColonFile::parse("root:x:0:0:root:/root:/bin/bash\n# local\n+@nis::::::\nbus:x:100:101::/nonexistent:/usr/sbin/nologin\n", 7, "passwd").unwrap(),
            group: ColonFile::parse("root:x:0:\nvideo:x:44:a,b\nbus:x:101:\n", 4, "group").unwrap(),
            shadow: Some(ColonFile::parse("root:*:19000:0:99999:7:::\n", 2, "shadow").unwrap()),
            gshadow: Some(ColonFile::parse("root:*::\nvideo:!::a,b\nbus:!::\n", 4, "gshadow").unwrap()),
        }
    }

    #[test]
    fn unknown_lines_survive_a_rewrite() {
        let d = db();
        assert_eq!(d.passwd.render(), "root:x:0:0:root:/root:/bin/bash\n# local\n+@nis::::::\nbus:x:100:101::/nonexistent:/usr/sbin/nologin\n");
        assert!(ColonFile::parse("broken:x:1\n", 7, "/etc/passwd")
            .unwrap_err()
            .contains("/etc/passwd line 1"));
    }

    #[test]
    fn gid_change_moves_primary_groups_and_members_edit_both_files() {
        let mut d = db();
        AccountOp::SetGroupGid {
            name: "bus".into(),
            gid: 999,
        }
        .apply(&mut d)
        .unwrap();
        assert_eq!(d.user("bus").unwrap().gid, 999);
        AccountOp::AddMember {
            group: "video".into(),
            user: "c".into(),
        }
        .apply(&mut d)
        .unwrap();
        AccountOp::RemoveMember {
            group: "video".into(),
            user: "a".into(),
        }
        .apply(&mut d)
        .unwrap();
        assert_eq!(d.group("video").unwrap().members, ["b", "c"]);
        assert_eq!(d.gshadow.as_ref().unwrap().find("video").unwrap()[3], "b,c");
        assert_eq!(d.free_gid(true), Some(998));
        assert_eq!(d.free_uid(false), Some(1000));
    }
}
