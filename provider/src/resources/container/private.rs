//! The private state stored next to each container: what the presets generated last time,
//! so a refresh can tell generated raw lines from the user's own and notice hand edits.

use std::collections::BTreeMap;

use serde_json::{json, Value};

/// Private state, JSON-encoded (`{"generated": [...], "device_gids": {...}}`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Private {
    /// `generated_lxc` as last written.
    pub generated: Vec<String>,
    /// `device_gids` as last discovered.
    pub device_gids: BTreeMap<String, u32>,
}

impl Private {
    /// Decodes; anything unreadable (or empty) is "nothing recorded".
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        if bytes.is_empty() {
            return None;
        }
        let v: Value = serde_json::from_slice(bytes).ok()?;
        let generated = v
            .get("generated")?
            .as_array()?
            .iter()
            .filter_map(|l| l.as_str().map(str::to_string))
            .collect();
        let device_gids = v
            .get("device_gids")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, g)| Some((k.clone(), u32::try_from(g.as_u64()?).ok()?)))
                    .collect()
            })
            .unwrap_or_default();
        Some(Private {
            generated,
            device_gids,
        })
    }

    /// Encodes for Terraform.
    pub fn encode(&self) -> Vec<u8> {
        json!({"generated": self.generated, "device_gids": self.device_gids})
            .to_string()
            .into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_tolerates_garbage() {
        let p = Private {
            generated: vec!["lxc.idmap: u 0 100000 1000".into()],
            device_gids: [("render".to_string(), 104)].into_iter().collect(),
        };
        assert_eq!(Private::decode(&p.encode()), Some(p));
        assert_eq!(Private::decode(b""), None);
        assert_eq!(Private::decode(b"\xff"), None);
    }
}
