//! Loading the account files and committing changes the way shadow-utils does:
//! under its locks, with `<file>-` backups, written to `<file>+`, fsynced and
//! renamed into place with the original's owner and mode.

use super::db::{Accounts, ColonFile};
use super::lock::lock_accounts;
use super::ops::AccountOp;
use crate::atomic::{write_atomic, Attrs};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

fn read_opt(path: &Path) -> Result<Option<String>, String> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// Reads the four files below `root/etc`. A missing passwd or group file reads as
/// empty; missing shadow files stay absent.
pub fn load(root: &Path) -> Result<Accounts, String> {
    let etc = root.join("etc");
    let parse = |name: &str, min: usize| -> Result<Option<ColonFile>, String> {
        read_opt(&etc.join(name))?
            .map(|t| ColonFile::parse(&t, min, &format!("/etc/{name}")))
            .transpose()
    };
    let db = Accounts {
        passwd: parse("passwd", 7)?.unwrap_or_default(),
        group: parse("group", 4)?.unwrap_or_default(),
        shadow: parse("shadow", 2)?,
        gshadow: parse("gshadow", 4)?,
    };
    db.check_numbers()?;
    Ok(db)
}

/// Default attributes when a file has to be created: shadow files are
/// `0640 root:shadow` as on Debian.
fn default_attrs(name: &str, db: &Accounts) -> Attrs {
    if name.ends_with("shadow") {
        Attrs {
            uid: 0,
            gid: db.group("shadow").map(|g| g.gid).unwrap_or(0),
            mode: 0o640,
        }
    } else {
        Attrs {
            uid: 0,
            gid: 0,
            mode: 0o644,
        }
    }
}

/// Applies `ops` to the files below `root/etc` under the shadow-utils locks and
/// returns the new database. The files are re-read after locking, so a change
/// made by another tool since the plan is kept.
pub fn commit(root: &Path, ops: &[AccountOp]) -> Result<Accounts, String> {
    let etc = root.join("etc");
    let _lock = lock_accounts(&etc, &["passwd", "group", "shadow", "gshadow"])?;
    let before = load(root)?;
    let mut after = before.clone();
    for op in ops {
        op.apply(&mut after)?;
    }
    let files: [(&str, Option<&ColonFile>, Option<&ColonFile>); 4] = [
        ("passwd", Some(&before.passwd), Some(&after.passwd)),
        ("group", Some(&before.group), Some(&after.group)),
        ("shadow", before.shadow.as_ref(), after.shadow.as_ref()),
        ("gshadow", before.gshadow.as_ref(), after.gshadow.as_ref()),
    ];
    // Shadow files first: a crash in between leaves an entry without a passwd line,
    // which is harmless, never a passwd line without its locked password entry.
    for (name, old, new) in files.iter().rev() {
        let (Some(old), Some(new)) = (old, new) else {
            continue;
        };
        if old == new {
            continue;
        }
        let path = etc.join(name);
        let attrs = match std::fs::metadata(&path) {
            Ok(m) => Attrs {
                uid: m.uid(),
                gid: m.gid(),
                mode: m.mode() & 0o7777,
            },
            Err(_) => default_attrs(name, &after),
        };
        if path.exists() {
            let backup = etc.join(format!("{name}-"));
            write_atomic(&backup, old.render().as_bytes(), attrs)
                .map_err(|e| format!("cannot write backup {}: {e}", backup.display()))?;
        }
        write_atomic(&path, new.render().as_bytes(), attrs)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(after)
}
