//! Changes to the account files, as data: the engine applies them to the files
//! under lock in apply mode and to the in-memory copy in check mode, so both see
//! exactly the same result.

use super::db::{split_members, Accounts};

/// One change to the account database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountOp {
    /// New group (and its gshadow entry, when gshadow exists).
    AddGroup { name: String, gid: u32 },
    /// New GID for a group; users whose primary group it was follow (as groupmod does).
    SetGroupGid { name: String, gid: u32 },
    /// New user with a locked password (and its shadow entry, when shadow exists).
    AddUser {
        name: String,
        uid: u32,
        gid: u32,
        gecos: String,
        home: String,
        shell: String,
    },
    /// Changes fields of an existing user; `None` keeps a field.
    SetUser {
        name: String,
        uid: Option<u32>,
        gid: Option<u32>,
        gecos: Option<String>,
        home: Option<String>,
        shell: Option<String>,
    },
    /// Adds `user` to the member list of `group`.
    AddMember { group: String, user: String },
    /// Removes `user` from the member list of `group`.
    RemoveMember { group: String, user: String },
}

fn days_since_epoch() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() / 86_400)
        .unwrap_or(0)
}

fn edit_members(field: &mut String, user: &str, add: bool) {
    let mut members = split_members(field);
    if add {
        if !members.iter().any(|m| m == user) {
            members.push(user.to_string());
        }
    } else {
        members.retain(|m| m != user);
    }
    *field = members.join(",");
}

impl AccountOp {
    /// Applies the change; fails when the target does not exist (a concurrent
    /// edit by another tool between planning and locking).
    pub fn apply(&self, db: &mut Accounts) -> Result<(), String> {
        match self {
            AccountOp::AddGroup { name, gid } => {
                if db.group.find(name).is_some() {
                    return Err(format!(
                        "group {name:?} appeared in /etc/group while the agent was running"
                    ));
                }
                db.group.push(vec![
                    name.clone(),
                    "x".into(),
                    gid.to_string(),
                    String::new(),
                ]);
                if let Some(gs) = &mut db.gshadow {
                    if gs.find(name).is_none() {
                        gs.push(vec![name.clone(), "!".into(), String::new(), String::new()]);
                    }
                }
            }
            AccountOp::SetGroupGid { name, gid } => {
                let entry = db
                    .group
                    .find_mut(name)
                    .ok_or_else(|| format!("group {name:?} vanished from /etc/group"))?;
                let old = entry[2].clone();
                entry[2] = gid.to_string();
                for u in db.passwd.entries_mut() {
                    if u[3] == old {
                        u[3] = gid.to_string();
                    }
                }
            }
            AccountOp::AddUser {
                name,
                uid,
                gid,
                gecos,
                home,
                shell,
            } => {
                if db.passwd.find(name).is_some() {
                    return Err(format!(
                        "user {name:?} appeared in /etc/passwd while the agent was running"
                    ));
                }
                db.passwd.push(vec![
                    name.clone(),
                    "x".into(),
                    uid.to_string(),
                    gid.to_string(),
                    gecos.clone(),
                    home.clone(),
                    shell.clone(),
                ]);
                if let Some(sh) = &mut db.shadow {
                    if sh.find(name).is_none() {
                        sh.push(vec![
                            name.clone(),
                            "!".into(),
                            days_since_epoch().to_string(),
                            "0".into(),
                            "99999".into(),
                            "7".into(),
                            String::new(),
                            String::new(),
                            String::new(),
                        ]);
                    }
                }
            }
            AccountOp::SetUser {
                name,
                uid,
                gid,
                gecos,
                home,
                shell,
            } => {
                let e = db
                    .passwd
                    .find_mut(name)
                    .ok_or_else(|| format!("user {name:?} vanished from /etc/passwd"))?;
                if let Some(v) = uid {
                    e[2] = v.to_string();
                }
                if let Some(v) = gid {
                    e[3] = v.to_string();
                }
                if let Some(v) = gecos {
                    e[4] = v.clone();
                }
                if let Some(v) = home {
                    e[5] = v.clone();
                }
                if let Some(v) = shell {
                    e[6] = v.clone();
                }
            }
            AccountOp::AddMember { group, user } | AccountOp::RemoveMember { group, user } => {
                let add = matches!(self, AccountOp::AddMember { .. });
                let e = db
                    .group
                    .find_mut(group)
                    .ok_or_else(|| format!("group {group:?} vanished from /etc/group"))?;
                edit_members(&mut e[3], user, add);
                if let Some(gs) = &mut db.gshadow {
                    if let Some(e) = gs.find_mut(group) {
                        edit_members(&mut e[3], user, add);
                    }
                }
            }
        }
        Ok(())
    }
}
