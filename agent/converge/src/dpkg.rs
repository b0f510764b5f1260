//! dpkg's status file and apt's auto-installed marks, read directly: knowing
//! whether a package is installed costs a file read, not a `dpkg-query` process.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Installed packages and their marks.
#[derive(Debug, Clone, Default)]
pub struct Packages {
    /// Installed package name -> version (`name` and `name:arch` both present).
    installed: BTreeMap<String, String>,
    /// Packages apt marked as automatically installed.
    auto: BTreeSet<String>,
}

fn stanzas(text: &str) -> impl Iterator<Item = BTreeMap<&str, &str>> {
    text.split("\n\n").map(|block| {
        let mut m = BTreeMap::new();
        for line in block.lines() {
            if line.starts_with([' ', '\t']) {
                continue;
            }
            if let Some((k, v)) = line.split_once(':') {
                m.insert(k.trim(), v.trim());
            }
        }
        m
    })
}

impl Packages {
    /// Reads `var/lib/dpkg/status` and `var/lib/apt/extended_states` below `root`.
    /// A missing status file means no packages (not a Debian root); a missing
    /// extended_states means no automatic marks.
    pub fn load(root: &Path) -> Result<Self, String> {
        let status_path = root.join("var/lib/dpkg/status");
        let status = match std::fs::read_to_string(&status_path) {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(format!("cannot read {}: {e}", status_path.display())),
        };
        Ok(Self::parse(
            &status,
            &std::fs::read_to_string(root.join("var/lib/apt/extended_states")).unwrap_or_default(),
        ))
    }

    /// Parses the two files' contents. One pass over the lines, looking only at
    /// the four fields needed: the status file of a full system is ~1 MB and this
    /// runs on every no-op.
    pub fn parse(status: &str, extended_states: &str) -> Self {
        let mut p = Packages::default();
        let mut name = "";
        let mut arch = "";
        let mut version = "";
        let mut installed = false;
        let mut commit =
            |name: &mut &str, arch: &mut &str, version: &mut &str, installed: &mut bool| {
                if *installed && !name.is_empty() {
                    p.installed.insert(name.to_string(), version.to_string());
                    if !arch.is_empty() {
                        p.installed
                            .insert(format!("{name}:{arch}"), version.to_string());
                    }
                }
                *name = "";
                *arch = "";
                *version = "";
                *installed = false;
            };
        for line in status.lines() {
            if line.is_empty() {
                commit(&mut name, &mut arch, &mut version, &mut installed);
                continue;
            }
            match line.as_bytes()[0] {
                b'P' => {
                    if let Some(v) = line.strip_prefix("Package:") {
                        name = v.trim();
                    }
                }
                b'S' => {
                    if let Some(v) = line.strip_prefix("Status:") {
                        // "install ok installed"; "hold ok installed" counts too.
                        installed = v.split_whitespace().nth(2) == Some("installed");
                    }
                }
                b'A' => {
                    if let Some(v) = line.strip_prefix("Architecture:") {
                        arch = v.trim();
                    }
                }
                b'V' => {
                    if let Some(v) = line.strip_prefix("Version:") {
                        version = v.trim();
                    }
                }
                _ => {}
            }
        }
        commit(&mut name, &mut arch, &mut version, &mut installed);
        for s in stanzas(extended_states) {
            if let (Some(name), Some("1")) = (s.get("Package"), s.get("Auto-Installed").copied()) {
                p.auto.insert(name.to_string());
            }
        }
        p
    }

    /// Whether `name` (or `name:arch`) is installed.
    pub fn is_installed(&self, name: &str) -> bool {
        self.installed.contains_key(name)
    }

    /// Installed version.
    pub fn version(&self, name: &str) -> Option<&str> {
        self.installed.get(name).map(String::as_str)
    }

    /// Whether apt marked `name` as automatically installed.
    pub fn is_auto(&self, name: &str) -> bool {
        let base = name.split(':').next().unwrap_or(name);
        self.auto.contains(base)
    }
}

#[cfg(test)]
mod tests {
    use super::Packages;

    #[test]
    fn reads_installed_and_auto() {
        let status = "Package: coreutils\nStatus: install ok installed\nArchitecture: amd64\nVersion: 9.1-1\nDescription: x\n more\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1\n";
        let ext = "Package: coreutils\nArchitecture: amd64\nAuto-Installed: 1\n";
        let p = Packages::parse(status, ext);
        assert!(p.is_installed("coreutils"));
        assert!(p.is_installed("coreutils:amd64"));
        assert!(!p.is_installed("gone"));
        assert!(p.is_auto("coreutils"));
        assert_eq!(p.version("coreutils"), Some("9.1-1"));
    }
}
