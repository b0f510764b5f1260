//! `startup` (`pve-startup-order`: `[[order=]\d+] [,up=\d+] [,down=\d+]`).

use super::propstring::{PropError, PropMap};

/// Start/stop ordering of a container on node boot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Startup {
    pub order: Option<u64>,
    /// Seconds to wait after starting before the next guest.
    pub up: Option<u64>,
    /// Seconds to wait for shutdown.
    pub down: Option<u64>,
}

impl Startup {
    /// Parses a `startup` value.
    pub fn parse(value: &str) -> Result<Self, PropError> {
        let mut p = PropMap::parse("startup", value, &["order", "up", "down"], Some("order"))?;
        Ok(Self {
            order: p.take_u64("order")?,
            up: p.take_u64("up")?,
            down: p.take_u64("down")?,
        })
    }

    /// Renders as `order=N,up=N,down=N` (the order pct documents; PVE stores what it gets and
    /// comparisons use the parsed value).
    pub fn render(&self) -> Result<String, PropError> {
        let mut parts = Vec::new();
        if let Some(o) = self.order {
            parts.push(format!("order={o}"));
        }
        if let Some(u) = self.up {
            parts.push(format!("up={u}"));
        }
        if let Some(d) = self.down {
            parts.push(format!("down={d}"));
        }
        Ok(parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        let s = Startup::parse("2,up=30").unwrap();
        assert_eq!(
            s,
            Startup {
                order: Some(2),
                up: Some(30),
                down: None
            }
        );
        assert_eq!(s.render().unwrap(), "order=2,up=30");
        assert_eq!(
            Startup::parse("down=5,order=1").unwrap().render().unwrap(),
            "order=1,down=5"
        );
        assert!(Startup::parse("order=x").is_err());
        assert!(Startup::parse("first").is_err());
    }
}
