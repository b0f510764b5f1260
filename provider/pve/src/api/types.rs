//! Response types of the endpoints the container resource uses. Fields PVE may omit are
//! optional; numbers PVE sometimes sends as strings are accepted either way.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_u64().or_else(|| n.as_f64().map(|f| f as u64)),
        Some(Value::String(s)) => s.trim().parse().ok(),
        Some(Value::Bool(b)) => Some(u64::from(b)),
        _ => None,
    })
}

fn lenient_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Bool(b)) => Some(b),
        Some(Value::Number(n)) => n.as_u64().map(|v| v != 0),
        Some(Value::String(s)) => crate::config::parse_bool(&s),
        _ => None,
    })
}

fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// `GET /version`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct VersionInfo {
    pub version: String,
    #[serde(default)]
    pub release: Option<String>,
    #[serde(default)]
    pub repoid: Option<String>,
}

/// One entry of `GET /nodes`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct NodeInfo {
    pub node: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "lenient_f64")]
    pub cpu: Option<f64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub maxcpu: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub mem: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub maxmem: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub uptime: Option<u64>,
}

/// `GET /nodes/{node}/status` (the parts worth typing; the rest stays in `raw`).
#[derive(Debug, Clone, PartialEq)]
pub struct NodeStatus {
    pub pveversion: Option<String>,
    pub kversion: Option<String>,
    pub uptime: Option<u64>,
    pub raw: Value,
}

/// One entry of `GET /cluster/resources`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ClusterResource {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub vmid: Option<u64>,
    #[serde(default)]
    pub node: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub template: Option<bool>,
    #[serde(default)]
    pub tags: Option<String>,
    #[serde(default)]
    pub lock: Option<String>,
    #[serde(default)]
    pub storage: Option<String>,
}

/// One entry of `GET /nodes/{node}/storage`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct StorageInfo {
    pub storage: String,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// Comma list of content types (`rootdir,images,vztmpl`).
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub active: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub enabled: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub shared: Option<bool>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub total: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub used: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub avail: Option<u64>,
}

impl StorageInfo {
    /// Whether the storage holds content of `kind` (`rootdir`, `vztmpl`, ...).
    pub fn has_content(&self, kind: &str) -> bool {
        self.content
            .as_deref()
            .is_some_and(|c| c.split(',').any(|k| k.trim() == kind))
    }
}

/// One entry of `GET /nodes/{node}/storage/{storage}/content`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct StorageContent {
    pub volid: String,
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub size: Option<u64>,
}

/// One entry of `GET /nodes/{node}/lxc`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ContainerSummary {
    #[serde(deserialize_with = "vmid")]
    pub vmid: u32,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub tags: Option<String>,
    #[serde(default)]
    pub lock: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub template: Option<bool>,
}

fn vmid<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = lenient_u64(d)?.ok_or_else(|| serde::de::Error::custom("vmid missing"))?;
    u32::try_from(v).map_err(|_| serde::de::Error::custom("vmid out of range"))
}

/// `GET /nodes/{node}/lxc/{vmid}/status/current`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ContainerStatus {
    /// `running` or `stopped`.
    pub status: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub lock: Option<String>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub uptime: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub mem: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub maxmem: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub maxswap: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub disk: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub maxdisk: Option<u64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    pub cpus: Option<f64>,
    #[serde(default)]
    pub tags: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub template: Option<bool>,
}

impl ContainerStatus {
    /// Whether the container runs.
    pub fn is_running(&self) -> bool {
        self.status == "running"
    }
}

/// One entry of `GET /nodes/{node}/lxc/{vmid}/pending`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct PendingEntry {
    pub key: String,
    #[serde(default, deserialize_with = "lenient_string")]
    pub value: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub pending: Option<String>,
    /// 1: deletion pending, 2: forced deletion pending.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub delete: Option<u64>,
}

/// One entry of `GET /nodes/{node}/lxc/{vmid}/interfaces`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Interface {
    pub name: String,
    #[serde(default)]
    pub hwaddr: Option<String>,
    /// IPv4 CIDR.
    #[serde(default)]
    pub inet: Option<String>,
    /// IPv6 CIDR.
    #[serde(default)]
    pub inet6: Option<String>,
}

/// `GET /nodes/{node}/tasks/{upid}/status`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct TaskStatus {
    /// `running` or `stopped`.
    pub status: String,
    #[serde(default)]
    pub exitstatus: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
}

/// One line of `GET /nodes/{node}/tasks/{upid}/log`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct TaskLogLine {
    #[serde(deserialize_with = "line_no")]
    pub n: u64,
    #[serde(default)]
    pub t: String,
}

fn line_no<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    lenient_u64(d)?.ok_or_else(|| serde::de::Error::custom("line number missing"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lenient_decoding() {
        let s: ContainerStatus = serde_json::from_value(
            json!({"status":"running","uptime":"42","template":"","mem":1024,"cpus":2}),
        )
        .unwrap();
        assert!(s.is_running());
        assert_eq!(s.uptime, Some(42));
        assert_eq!(s.template, None);
        let c: Vec<ContainerSummary> =
            serde_json::from_value(json!([{"vmid":"201","status":"stopped"},{"vmid":202}]))
                .unwrap();
        assert_eq!(c[0].vmid, 201);
        let p: PendingEntry =
            serde_json::from_value(json!({"key":"memory","value":8192,"pending":4096})).unwrap();
        assert_eq!(p.pending.as_deref(), Some("4096"));
        let st: StorageInfo = serde_json::from_value(
            json!({"storage":"local","content":"vztmpl,iso,backup","active":1}),
        )
        .unwrap();
        assert!(st.has_content("vztmpl"));
        assert!(!st.has_content("rootdir"));
    }
}
