//! Rules a parsed spec must satisfy before the agent touches anything: version,
//! absolute paths inside `allowed_roots`, names that the account files and apt
//! accept, no newline smuggled into a value that lands in a config file, and no
//! two items claiming the same UID or GID.
//!
//! Rules that need the system's state (a UID already owned by another user) are
//! checked by the agent's preflight pass, also before any change.

use crate::items::*;
use crate::Spec;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Component, Path};

/// One broken rule, with the path of the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// Field path, e.g. `items[3].file.path`.
    pub field: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

struct Checker<'a> {
    spec: &'a Spec,
    out: Vec<Invalid>,
}

impl Checker<'_> {
    fn bad(&mut self, field: String, message: impl Into<String>) {
        self.out.push(Invalid {
            field,
            message: message.into(),
        });
    }

    fn single_line(&mut self, field: String, value: &str) {
        if value.contains(['\n', '\r', '\0']) {
            self.bad(
                field,
                "must be a single line (no newline, carriage return or NUL)",
            );
        }
    }

    fn abs_path(&mut self, field: String, path: &Path) -> bool {
        let text = path.to_string_lossy();
        if text.contains(['\n', '\r', '\0']) {
            self.bad(field, "path must not contain a newline or NUL");
            return false;
        }
        if !path.is_absolute() {
            self.bad(field, format!("{text:?} must be an absolute path"));
            return false;
        }
        if path
            .components()
            .any(|c| matches!(c, Component::ParentDir | Component::CurDir))
        {
            self.bad(
                field,
                format!("{text:?} must not contain `.` or `..` components"),
            );
            return false;
        }
        true
    }

    /// An absolute path that must also be below one of `allowed_roots`.
    fn rooted_path(&mut self, field: String, path: &Path) {
        if !self.abs_path(field.clone(), path) {
            return;
        }
        let roots = &self.spec.allowed_roots;
        if !roots.is_empty() && !roots.iter().any(|r| path.starts_with(r)) {
            let list: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
            self.bad(
                field,
                format!(
                    "{} is outside allowed_roots [{}]; add its directory to allowed_roots or change the path",
                    path.display(),
                    list.join(", ")
                ),
            );
        }
    }

    fn account_name(&mut self, field: String, name: &str) {
        if !valid_account_name(name) {
            self.bad(
                field,
                format!("{name:?} is not a valid user/group name: use 1-32 of a-z 0-9 _ - (starting with a letter or _)"),
            );
        }
    }

    /// Owner/group fields accept a name or a number.
    fn owner_ref(&mut self, field: String, value: &Option<String>) {
        if let Some(v) = value {
            let numeric =
                !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) && v.parse::<u32>().is_ok();
            if !numeric && !valid_account_name(v) {
                self.bad(
                    field,
                    format!("{v:?} is neither a valid name nor a numeric id"),
                );
            }
        }
    }
}

/// Whether `name` is acceptable in `/etc/passwd` and `/etc/group` (the Debian
/// `NAME_REGEX` family, slightly stricter: lowercase only).
pub fn valid_account_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 32
        && (b[0].is_ascii_lowercase() || b[0] == b'_')
        && b.iter().enumerate().all(|(i, &c)| {
            c.is_ascii_lowercase()
                || c.is_ascii_digit()
                || c == b'_'
                || c == b'-'
                || (c == b'$' && i == b.len() - 1)
        })
}

fn valid_package(name: &str) -> bool {
    let (pkg, arch) = match name.split_once(':') {
        Some((p, a)) => (p, Some(a)),
        None => (name, None),
    };
    let ok_pkg = pkg.len() >= 2
        && pkg.as_bytes()[0].is_ascii_alphanumeric()
        && pkg.bytes().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'+' | b'-' | b'.')
        });
    let ok_arch = arch.is_none_or(|a| {
        !a.is_empty()
            && a.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    });
    ok_pkg && ok_arch
}

/// Checks every rule; an empty list means the spec is usable.
pub fn validate(spec: &Spec) -> Vec<Invalid> {
    let mut c = Checker {
        spec,
        out: Vec::new(),
    };
    if spec.version != crate::SPEC_VERSION {
        c.bad(
            "version".into(),
            format!(
                "unsupported spec version {}; this agent understands version {}",
                spec.version,
                crate::SPEC_VERSION
            ),
        );
    }
    for (i, root) in spec.allowed_roots.iter().enumerate() {
        c.abs_path(format!("allowed_roots[{i}]"), root);
    }
    for (i, root) in spec.reown_roots.iter().enumerate() {
        c.abs_path(format!("reown_roots[{i}]"), root);
    }
    let mut uids: BTreeMap<u32, (String, String)> = BTreeMap::new();
    let mut gids: BTreeMap<u32, (String, String)> = BTreeMap::new();
    for (i, item) in spec.items.iter().enumerate() {
        let at = |f: &str| format!("items[{i}].{}.{f}", item.kind());
        match item {
            Item::Group(g) => {
                c.account_name(at("name"), &g.name);
                if g.gid.is_some() && g.match_host_device.is_some() {
                    c.bad(at("gid"), "set either gid or match_host_device, not both");
                }
                if let Some(dev) = &g.match_host_device {
                    c.abs_path(at("match_host_device"), dev);
                }
                if let Some(gid) = g.gid {
                    if let Some((other_field, other)) = gids.get(&gid) {
                        if other != &g.name {
                            c.bad(at("gid"), format!("gid {gid} is also given to group {other:?} at {other_field}; give each group its own gid"));
                        }
                    } else {
                        gids.insert(gid, (at("gid"), g.name.clone()));
                    }
                }
            }
            Item::User(u) => {
                c.account_name(at("name"), &u.name);
                if let Some(g) = &u.group {
                    c.account_name(at("group"), g);
                }
                for (j, g) in u.groups.iter().enumerate() {
                    c.account_name(format!("{}[{j}]", at("groups")), g);
                }
                if let Some(h) = &u.home {
                    if c.abs_path(at("home"), h) && h.to_string_lossy().contains(':') {
                        c.bad(at("home"), "must not contain `:`");
                    }
                }
                if let Some(s) = &u.shell {
                    c.single_line(at("shell"), s);
                    if !s.starts_with('/') || s.contains(':') {
                        c.bad(
                            at("shell"),
                            format!("{s:?} must be an absolute path without `:`"),
                        );
                    }
                }
                if let Some(cm) = &u.comment {
                    c.single_line(at("comment"), cm);
                    if cm.contains(':') {
                        c.bad(
                            at("comment"),
                            "must not contain `:` (the field separator of /etc/passwd)",
                        );
                    }
                }
                if let Some(uid) = u.uid {
                    if let Some((other_field, other)) = uids.get(&uid) {
                        if other != &u.name {
                            c.bad(at("uid"), format!("uid {uid} is also given to user {other:?} at {other_field}; give each user its own uid"));
                        }
                    } else {
                        uids.insert(uid, (at("uid"), u.name.clone()));
                    }
                }
            }
            Item::AptPackages(a) => {
                if a.packages.is_empty() {
                    c.bad(at("packages"), "list at least one package");
                }
                for (j, p) in a.packages.iter().enumerate() {
                    if !valid_package(p) {
                        c.bad(
                            format!("{}[{j}]", at("packages")),
                            format!("{p:?} is not a Debian package name"),
                        );
                    }
                }
            }
            Item::AptComponents(a) => {
                if a.components.is_empty() {
                    c.bad(at("components"), "list at least one component");
                }
                for (j, p) in a.components.iter().enumerate() {
                    if p.is_empty()
                        || !p
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    {
                        c.bad(
                            format!("{}[{j}]", at("components")),
                            format!("{p:?} is not an archive component name"),
                        );
                    }
                }
            }
            Item::File(f) => {
                c.rooted_path(at("path"), &f.path);
                c.owner_ref(at("owner"), &f.owner);
                c.owner_ref(at("group"), &f.group);
                match (&f.content, &f.template) {
                    (Some(_), Some(_)) | (None, None) => {
                        c.bad(at("content"), "set exactly one of content and template")
                    }
                    (None, Some(t)) => {
                        if let Err(e) = crate::template::render(t, &f.vars) {
                            c.bad(at("template"), e);
                        }
                    }
                    _ => {}
                }
            }
            Item::Line(l) => {
                c.rooted_path(at("path"), &l.path);
                c.single_line(at("line"), &l.line);
                if let Some(r) = &l.regexp {
                    c.single_line(at("regexp"), r);
                }
            }
            Item::Block(b) => {
                c.rooted_path(at("path"), &b.path);
                c.single_line(at("marker"), &b.marker);
                if !b.marker.contains("{mark}") {
                    c.bad(
                        at("marker"),
                        "must contain `{mark}` (replaced by BEGIN and END)",
                    );
                }
                let begin = b.marker.replace("{mark}", "BEGIN");
                let end = b.marker.replace("{mark}", "END");
                if b.block.lines().any(|l| l == begin || l == end) {
                    c.bad(at("block"), "must not contain its own marker lines");
                }
            }
            Item::Directory(d) => {
                c.rooted_path(at("path"), &d.path);
                c.owner_ref(at("owner"), &d.owner);
                c.owner_ref(at("group"), &d.group);
                if d.path == Path::new("/") && d.recursive_owner {
                    c.bad(
                        at("recursive_owner"),
                        "refusing to re-own the whole filesystem",
                    );
                }
            }
            Item::DevicePermissions(d) => {
                c.rooted_path(at("path"), &d.path);
                c.owner_ref(at("group"), &d.group);
                c.owner_ref(at("node_group"), &d.node_group);
            }
            Item::NetworkInterface(n) => {
                let ok = !n.name.is_empty()
                    && n.name.len() <= 15
                    && n.name.bytes().all(|b| {
                        b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@')
                    });
                if !ok {
                    c.bad(
                        at("name"),
                        format!(
                            "{:?} is not an interface name (1-15 of a-z A-Z 0-9 - _ . @)",
                            n.name
                        ),
                    );
                }
                if let AddressMethod::Static { address, gateway } = &n.method {
                    let valid_addr = address.split_once('/').is_some_and(|(ip, len)| {
                        ip.parse::<std::net::IpAddr>().is_ok()
                            && len.parse::<u8>().is_ok_and(|l| l <= 128)
                    });
                    if !valid_addr {
                        c.bad(at("method.static.address"), format!("{address:?} must be an address with prefix length, e.g. 192.168.1.60/24"));
                    }
                    if let Some(gw) = gateway {
                        if gw.parse::<std::net::IpAddr>().is_err() {
                            c.bad(
                                at("method.static.gateway"),
                                format!("{gw:?} is not an IP address"),
                            );
                        }
                    }
                }
            }
            Item::SystemdUnit(s) => {
                let suffixes = [
                    ".service", ".socket", ".timer", ".path", ".mount", ".target",
                ];
                let ok = s.name.bytes().all(|b| {
                    b.is_ascii_alphanumeric()
                        || matches!(b, b'-' | b'_' | b'.' | b'@' | b':' | b'\\')
                }) && suffixes
                    .iter()
                    .any(|x| s.name.ends_with(x) && s.name.len() > x.len());
                if !ok {
                    c.bad(
                        at("name"),
                        format!(
                            "{:?} is not a unit name such as `pvelxc-jobs.service`",
                            s.name
                        ),
                    );
                }
                for (j, p) in s.restart_on.iter().enumerate() {
                    c.abs_path(format!("{}[{j}]", at("restart_on")), p);
                }
            }
            Item::Check(k) => {
                c.account_name(at("user"), &k.user);
                c.single_line(at("name"), &k.name);
                match &k.check {
                    CheckKind::DeviceOpens { path } | CheckKind::Writable { path } => {
                        c.abs_path(at("check.path"), path);
                    }
                    CheckKind::Command { argv, env, .. } => {
                        if argv.is_empty() || argv[0].is_empty() {
                            c.bad(at("check.command.argv"), "give the program and its arguments, e.g. [\"vainfo\", \"--display\", \"drm\"]");
                        }
                        for k in env.keys() {
                            if k.is_empty() || k.contains(['=', '\0']) {
                                c.bad(
                                    at("check.command.env"),
                                    format!("{k:?} is not a variable name"),
                                );
                            }
                        }
                    }
                }
            }
        }
    }
    c.out
}
