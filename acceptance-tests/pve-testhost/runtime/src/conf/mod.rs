//! The `/etc/pve/lxc/<vmid>.conf` model in exact pct.conf format.
//!
//! This is the single source of truth of pve-testhost: the API, `pct` and the LXC
//! execution all read and write these files, so a hand edit over SSH is seen at once,
//! as with pmxcfs. Parsing and writing follow pve-container's `parse_pct_config` and
//! `write_pct_config`:
//!
//! * `#` lines at the top of a section are the URL-encoded description;
//! * normal keys are written sorted (byte order, as Perl's `sort`);
//! * raw `lxc.*` lines follow the normal keys, in their original order;
//! * `[pve:pending]` comes next (it may hold `delete: <keys>`), then snapshot sections
//!   `[name]` sorted by name.
//!
//! ```
//! use pve_testhost_runtime::conf::PctConf;
//! let text = "arch: amd64\nhostname: ct\nlxc.cgroup2.devices.allow: c 226:128 rwm\n";
//! let conf = PctConf::parse(100, text).unwrap();
//! assert_eq!(conf.main.get("hostname"), Some("ct"));
//! assert_eq!(conf.to_text().unwrap(), text);
//! ```

pub mod keys;
pub mod props;
pub mod text;

use std::collections::BTreeMap;

use sha1::{Digest, Sha1};
use thiserror::Error;

pub use keys::{check_type, lxc_key_validity, LxcKeyValidity};
pub use props::{Device, Features, MountKind, MountPoint, Net, PropError, Startup};

/// Errors of the pct.conf model. Messages follow PVE's wording where PVE has one.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfError {
    /// A line PVE's strict parser refuses (e.g. `vm 100 - unable to parse config: foo`).
    #[error("{0}")]
    Parse(String),
    /// A value that does not pass `check_type` for its key.
    #[error("{key}: {message}")]
    InvalidValue {
        /// The configuration key.
        key: String,
        /// Why the value was refused.
        message: String,
    },
    /// Writing a value containing a newline would inject a line into the file.
    #[error("detected invalid newline inside property '{key}'")]
    Newline {
        /// The configuration key.
        key: String,
    },
    /// A property string that does not match its format.
    #[error(transparent)]
    Property(#[from] PropError),
}

/// One section of a pct.conf: the main configuration, `[pve:pending]` or a snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    /// Decoded description; each `#` line contributes one line ending in `\n`.
    pub description: Option<String>,
    /// Normal `key: value` entries, sorted as PVE writes them (includes `delete` in pending).
    pub options: BTreeMap<String, String>,
    /// Raw `lxc.*` entries in file order.
    pub lxc: Vec<(String, String)>,
}

impl Section {
    /// Value of a normal key.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.options.get(key).map(String::as_str)
    }

    /// Sets a normal key after PVE's `check_type` (booleans become 1/0); refuses unknown keys.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), ConfError> {
        if key == "description" {
            self.description = Some(value.to_string());
            return Ok(());
        }
        let value = check_type(key, value).map_err(|message| ConfError::InvalidValue {
            key: key.to_string(),
            message,
        })?;
        self.options.insert(key.to_string(), value);
        Ok(())
    }

    /// Removes a normal key (or the description), returning the old value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        if key == "description" {
            return self.description.take();
        }
        self.options.remove(key)
    }

    /// Values of every raw entry with this key, in file order (e.g. all `lxc.idmap`).
    pub fn lxc_values<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.lxc
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// True if nothing is set in this section.
    pub fn is_empty(&self) -> bool {
        self.description.is_none() && self.options.is_empty() && self.lxc.is_empty()
    }

    /// Indexed keys with a prefix (`mp`, `dev`, `net`, `unused`) as `(index, value)`, by index.
    pub fn indexed(&self, prefix: &str) -> Vec<(u32, &str)> {
        let mut found: Vec<(u32, &str)> = self
            .options
            .iter()
            .filter_map(|(k, v)| match keys::split_indexed(k) {
                Some((p, i)) if p == prefix => Some((i, v.as_str())),
                _ => None,
            })
            .collect();
        found.sort_by_key(|(i, _)| *i);
        found
    }

    /// `rootfs`, parsed.
    pub fn rootfs(&self) -> Result<Option<MountPoint>, ConfError> {
        self.get("rootfs")
            .map(|raw| MountPoint::parse("rootfs", raw))
            .transpose()
            .map_err(Into::into)
    }

    /// Every `mpN`, parsed, by index.
    pub fn mount_points(&self) -> Result<Vec<(u32, MountPoint)>, ConfError> {
        self.indexed("mp")
            .into_iter()
            .map(|(i, raw)| Ok((i, MountPoint::parse(&format!("mp{i}"), raw)?)))
            .collect()
    }

    /// Every `devN`, parsed, by index.
    pub fn devices(&self) -> Result<Vec<(u32, Device)>, ConfError> {
        self.indexed("dev")
            .into_iter()
            .map(|(i, raw)| Ok((i, Device::parse(&format!("dev{i}"), raw)?)))
            .collect()
    }

    /// Every `netN`, parsed, by index.
    pub fn nets(&self) -> Result<Vec<(u32, Net)>, ConfError> {
        self.indexed("net")
            .into_iter()
            .map(|(i, raw)| Ok((i, Net::parse(&format!("net{i}"), raw)?)))
            .collect()
    }

    /// `features`, parsed (all off when unset).
    pub fn features(&self) -> Result<Features, ConfError> {
        match self.get("features") {
            Some(raw) => Ok(Features::parse(raw)?),
            None => Ok(Features::default()),
        }
    }

    /// `startup`, parsed.
    pub fn startup(&self) -> Result<Option<Startup>, ConfError> {
        self.get("startup")
            .map(Startup::parse)
            .transpose()
            .map_err(Into::into)
    }

    /// `unprivileged: 1`.
    pub fn is_unprivileged(&self) -> bool {
        self.get("unprivileged") == Some("1")
    }

    /// Keys listed in a pending section's `delete:` (comma/space/semicolon separated).
    pub fn pending_deletes(&self) -> Vec<String> {
        self.get("delete")
            .map(|d| {
                d.split([',', ';', ' '])
                    .filter(|s| !s.is_empty())
                    .map(|s| s.trim_start_matches('!').to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn write_into(&self, out: &mut String, section: &str) -> Result<(), ConfError> {
        if let Some(description) = &self.description {
            // Perl's split drops trailing empty fields: "a\n" is one line.
            for line in description.trim_end_matches('\n').split('\n') {
                if description.trim_end_matches('\n').is_empty() {
                    break;
                }
                out.push('#');
                out.push_str(&text::encode_text(line));
                out.push('\n');
            }
        }
        for (key, value) in &self.options {
            if value.contains(['\n', '\r']) || key.contains(['\n', '\r']) {
                return Err(ConfError::Newline { key: key.clone() });
            }
            if key == "delete" && section != "pending" {
                return Err(ConfError::Parse(
                    "property 'delete' is only allowed in [pve:pending]".into(),
                ));
            }
            out.push_str(key);
            out.push_str(": ");
            out.push_str(value);
            out.push('\n');
        }
        for (key, value) in &self.lxc {
            if value.contains(['\n', '\r']) || key.contains(['\n', '\r']) {
                return Err(ConfError::Newline { key: key.clone() });
            }
            out.push_str(key);
            out.push_str(": ");
            out.push_str(value);
            out.push('\n');
        }
        Ok(())
    }
}

/// A whole pct.conf.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PctConf {
    /// The current configuration.
    pub main: Section,
    /// `[pve:pending]`: changes not yet applied to a running container. Not written when empty.
    pub pending: Section,
    /// Snapshot sections by name.
    pub snapshots: BTreeMap<String, Section>,
}

/// A parse that kept going past problems, as PVE does when it reads a config for use
/// (it warns and continues). Messages are PVE's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LenientParse {
    /// What could be read.
    pub conf: PctConf,
    /// Lines a strict parse refuses (skipped, or kept unchecked for bad values).
    pub errors: Vec<String>,
    /// Accepted lines PVE still warns about (deprecated raw keys).
    pub warnings: Vec<String>,
}

enum Current {
    Main,
    Pending,
    Snapshot(String),
}

impl PctConf {
    /// Parses strictly: the first line PVE would warn about is an error
    /// (`parse_pct_config` with `$strict`).
    pub fn parse(vmid: u32, raw: &str) -> Result<Self, ConfError> {
        let parsed = Self::parse_lenient(vmid, raw);
        match parsed.errors.into_iter().next() {
            Some(first) => Err(ConfError::Parse(first)),
            None => Ok(parsed.conf),
        }
    }

    /// Parses like PVE does for normal reads: bad lines are reported and skipped, and values
    /// failing their type check are kept as written.
    pub fn parse_lenient(vmid: u32, raw: &str) -> LenientParse {
        let mut conf = PctConf::default();
        let mut warnings = Vec::new();
        let mut errors = Vec::new();
        let mut current = Current::Main;
        let mut description = String::new();

        for line in raw.split('\n') {
            if line.trim().is_empty() {
                continue;
            }
            if let Some(name) = section_header(line) {
                let section = section_mut(&mut conf, &current);
                if !description.is_empty() {
                    section.description = Some(std::mem::take(&mut description));
                }
                current = if name.eq_ignore_ascii_case("pve:pending") {
                    Current::Pending
                } else {
                    conf.snapshots.entry(name.to_string()).or_default();
                    Current::Snapshot(name.to_string())
                };
                continue;
            }
            let section = section_mut(&mut conf, &current);
            if let Some(comment) = line.strip_prefix('#') {
                description.push_str(&text::decode_text(comment));
                description.push('\n');
                continue;
            }
            if let Some((key, value)) = lxc_line(line) {
                match lxc_key_validity(vmid, key) {
                    LxcKeyValidity::Valid => section.lxc.push((key.into(), value.into())),
                    LxcKeyValidity::Deprecated(warning) => {
                        warnings.push(warning);
                        section.lxc.push((key.into(), value.into()));
                    }
                    LxcKeyValidity::Refused(reason) => {
                        errors.push(format!("vm {vmid} - {key}: {reason}"))
                    }
                    LxcKeyValidity::Unknown => {
                        errors.push(format!("vm {vmid} - unable to parse config: {line}"))
                    }
                }
                continue;
            }
            let Some((key, value)) = key_line(line) else {
                errors.push(format!("vm {vmid} - unable to parse config: {line}"));
                continue;
            };
            if key == "description" {
                description.push_str(&text::decode_text(value));
                continue;
            }
            if key == "delete" {
                if matches!(current, Current::Pending) {
                    section.options.insert(key.into(), value.into());
                } else {
                    errors.push(format!(
                        "vm {vmid} - property 'delete' is only allowed in [pve:pending]"
                    ));
                }
                continue;
            }
            let stored = match check_type(key, value) {
                Ok(normalised) => normalised,
                Err(message) => {
                    errors.push(format!(
                        "vm {vmid} - unable to parse value of '{key}' - {message}"
                    ));
                    value.to_string()
                }
            };
            section.options.insert(key.into(), stored);
        }
        if !description.is_empty() {
            section_mut(&mut conf, &current).description = Some(description);
        }
        LenientParse {
            conf,
            errors,
            warnings,
        }
    }

    /// Renders the file as `write_pct_config` does. Fails rather than write a value
    /// containing a newline.
    pub fn to_text(&self) -> Result<String, ConfError> {
        let mut out = String::new();
        self.main.write_into(&mut out, "main")?;
        if !self.pending.is_empty() {
            out.push_str("\n[pve:pending]\n");
            self.pending.write_into(&mut out, "pending")?;
        }
        for (name, section) in &self.snapshots {
            out.push_str(&format!("\n[{name}]\n"));
            section.write_into(&mut out, "snapshot")?;
        }
        Ok(out)
    }
}

/// SHA-1 hex digest of the file bytes: PVE's config `digest` used for compare-and-swap.
pub fn digest(raw: &[u8]) -> String {
    hex::encode(Sha1::digest(raw))
}

fn section_mut<'a>(conf: &'a mut PctConf, current: &Current) -> &'a mut Section {
    match current {
        Current::Main => &mut conf.main,
        Current::Pending => &mut conf.pending,
        Current::Snapshot(name) => conf.snapshots.entry(name.clone()).or_default(),
    }
}

/// `[pve:pending]` or `[snapname]` (`^[a-z][a-z0-9_\-]+$`, case-insensitive), trailing
/// whitespace allowed.
fn section_header(line: &str) -> Option<&str> {
    let inner = line.trim_end().strip_prefix('[')?.strip_suffix(']')?;
    if inner.eq_ignore_ascii_case("pve:pending") {
        return Some(inner);
    }
    let mut chars = inner.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok =
        inner.len() >= 2 && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    (first_ok && rest_ok).then_some(inner)
}

/// `lxc.<key>: value` or `lxc.<key> = value`; key chars `[a-z0-9_\-.]`.
fn lxc_line(line: &str) -> Option<(&str, &str)> {
    if !line.starts_with("lxc.") {
        return None;
    }
    let end = line
        .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || "_-.".contains(c)))
        .unwrap_or(line.len());
    let (key, rest) = line.split_at(end);
    let value = if let Some(v) = rest.strip_prefix(':') {
        v
    } else {
        rest.trim_start().strip_prefix('=')?
    };
    Some((key, value.trim()))
}

/// `key: value` with key `^[a-z][a-z_]*\d*$` and a non-empty value.
fn key_line(line: &str) -> Option<(&str, &str)> {
    let (key, value) = line.split_once(':')?;
    let letters = key.trim_end_matches(|c: char| c.is_ascii_digit());
    let valid = letters.starts_with(|c: char| c.is_ascii_lowercase())
        && letters.chars().all(|c| c.is_ascii_lowercase() || c == '_');
    let value = value.trim();
    (valid && !value.is_empty()).then_some((key, value))
}

#[cfg(test)]
mod tests;
