//! Attribute paths: where in a value something happened.
//!
//! Every decode error and every schema diagnostic carries a [`Path`] so that a
//! user reads `rootfs[0].size` instead of a byte offset.

use std::fmt;

/// One step from a value into one of its children.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathStep {
    /// An object attribute (or a nested block type) by name.
    Attr(String),
    /// A map element by key.
    Key(String),
    /// A list, tuple or set element by position.
    Index(i64),
}

/// A sequence of steps from the root value. The empty path is the root.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Path(pub Vec<PathStep>);

impl Path {
    /// The root of a value.
    pub fn root() -> Self {
        Path(Vec::new())
    }

    /// True for the root path.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The steps of this path.
    pub fn steps(&self) -> &[PathStep] {
        &self.0
    }

    /// A new path one attribute deeper.
    pub fn attr(&self, name: impl Into<String>) -> Self {
        self.with(PathStep::Attr(name.into()))
    }

    /// A new path one map key deeper.
    pub fn key(&self, key: impl Into<String>) -> Self {
        self.with(PathStep::Key(key.into()))
    }

    /// A new path one element index deeper.
    pub fn index(&self, index: i64) -> Self {
        self.with(PathStep::Index(index))
    }

    /// A new path with `step` appended.
    pub fn with(&self, step: PathStep) -> Self {
        let mut steps = Vec::with_capacity(self.0.len() + 1);
        steps.extend_from_slice(&self.0);
        steps.push(step);
        Path(steps)
    }

    /// Appends a step in place (used by decoders walking down and back up).
    pub fn push(&mut self, step: PathStep) {
        self.0.push(step);
    }

    /// Removes the last step in place.
    pub fn pop(&mut self) -> Option<PathStep> {
        self.0.pop()
    }

    /// True if `self` is `prefix` or lies beneath it.
    pub fn starts_with(&self, prefix: &Path) -> bool {
        self.0.starts_with(&prefix.0)
    }
}

impl From<Vec<PathStep>> for Path {
    fn from(steps: Vec<PathStep>) -> Self {
        Path(steps)
    }
}

/// Renders like Terraform configuration: `rootfs[0].size`, `tags["env"]`.
/// The root renders as the empty string.
impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::Attr(name) if i == 0 => f.write_str(name)?,
                PathStep::Attr(name) => write!(f, ".{name}")?,
                PathStep::Key(key) => write!(f, "[{key:?}]")?,
                PathStep::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_reads_like_configuration() {
        let p = Path::root().attr("rootfs").index(0).attr("size");
        assert_eq!(p.to_string(), "rootfs[0].size");
        let p = Path::root().attr("tags").key("env\"x");
        assert_eq!(p.to_string(), "tags[\"env\\\"x\"]");
        assert_eq!(Path::root().to_string(), "");
    }
}
