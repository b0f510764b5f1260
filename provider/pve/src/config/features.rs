//! `features` property string (`pve-ct-features`).

use super::propstring::{PropError, PropMap, PropWriter};

const FEATURE_KEYS: &[&str] = &[
    "force_rw_sys",
    "fuse",
    "keyctl",
    "mknod",
    "mount",
    "nesting",
];

/// Container feature flags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Features {
    pub force_rw_sys: Option<bool>,
    pub fuse: Option<bool>,
    pub keyctl: Option<bool>,
    pub mknod: Option<bool>,
    /// Allowed file system types for `mount` (`nfs;cifs`).
    pub mount: Vec<String>,
    pub nesting: Option<bool>,
}

impl Features {
    /// Parses a `features` value.
    pub fn parse(value: &str) -> Result<Self, PropError> {
        let mut p = PropMap::parse("features", value, FEATURE_KEYS, None)?;
        let mount = match p.take("mount") {
            None => Vec::new(),
            Some(m) => {
                let ok = m
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ';' || c == ' ');
                if !ok {
                    return Err(p.invalid("mount", &m, "file system types separated by ';'"));
                }
                m.split(';')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            }
        };
        Ok(Self {
            force_rw_sys: p.take_bool("force_rw_sys")?,
            fuse: p.take_bool("fuse")?,
            keyctl: p.take_bool("keyctl")?,
            mknod: p.take_bool("mknod")?,
            mount,
            nesting: p.take_bool("nesting")?,
        })
    }

    /// Renders like PVE (sorted keys, booleans as 1/0).
    pub fn render(&self) -> Result<String, PropError> {
        let mount = (!self.mount.is_empty()).then(|| self.mount.join(";"));
        PropWriter::new(None)
            .bool("force_rw_sys", self.force_rw_sys)
            .bool("fuse", self.fuse)
            .bool("keyctl", self.keyctl)
            .bool("mknod", self.mknod)
            .str("mount", mount.as_deref())
            .bool("nesting", self.nesting)
            .render("features")
    }

    /// Every flag off and no mount types: equivalent to not setting `features` at all.
    pub fn is_empty(&self) -> bool {
        self.normalized() == Self::default()
    }

    /// `0` flags dropped and mount types sorted, for comparison.
    pub fn normalized(&self) -> Self {
        let on = |v: Option<bool>| v.filter(|b| *b);
        let mut mount = self.mount.clone();
        mount.sort();
        mount.dedup();
        Self {
            force_rw_sys: on(self.force_rw_sys),
            fuse: on(self.fuse),
            keyctl: on(self.keyctl),
            mknod: on(self.mknod),
            mount,
            nesting: on(self.nesting),
        }
    }

    /// The flags other than `nesting`, which PVE lets only root@pam change.
    pub fn differs_beyond_nesting(&self, other: &Self) -> bool {
        let mut a = self.normalized();
        let mut b = other.normalized();
        a.nesting = None;
        b.nesting = None;
        a != b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(
            Features::parse("nesting=1").unwrap().render().unwrap(),
            "nesting=1"
        );
        let f = Features::parse("nesting=true,mount=nfs;cifs,keyctl=1").unwrap();
        assert_eq!(f.render().unwrap(), "keyctl=1,mount=nfs;cifs,nesting=1");
        assert_eq!(
            f.normalized(),
            Features::parse("keyctl=1,mount=cifs;nfs,nesting=1,fuse=0")
                .unwrap()
                .normalized()
        );
        assert!(Features::parse("fuse=0,nesting=0").unwrap().is_empty());
        assert!(Features::parse("mount=nfs,cifs").is_err());
        assert!(Features::parse("mount=n$fs").is_err());
        assert!(Features::parse("docker=1").is_err());
    }

    #[test]
    fn nesting_only_change() {
        let a = Features::parse("nesting=1").unwrap();
        let b = Features::parse("nesting=0").unwrap();
        assert!(!a.differs_beyond_nesting(&b));
        assert!(a.differs_beyond_nesting(&Features::parse("nesting=1,fuse=1").unwrap()));
    }
}
