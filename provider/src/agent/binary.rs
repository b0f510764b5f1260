//! Finding the agent binary on the machine running Terraform and hashing it once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use super::AgentError;

/// File name of the agent next to the provider executable.
pub const AGENT_FILE_NAME: &str = "pvelxc-agent";

/// The agent binary, read and hashed.
#[derive(Debug)]
pub struct AgentBinary {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Lower-case hex SHA-256 of `bytes`: the version identity used for upgrades.
    pub sha256: String,
}

type CacheKey = (PathBuf, u64, Option<SystemTime>);

/// Hashing a few MiB on every plan is wasted work: binaries are cached by path, size and
/// modification time for the life of the provider process.
fn cache() -> &'static Mutex<HashMap<CacheKey, Arc<AgentBinary>>> {
    static CACHE: OnceLock<Mutex<HashMap<CacheKey, Arc<AgentBinary>>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

impl AgentBinary {
    /// Where the agent is: the configured path, else `pvelxc-agent` next to the running
    /// provider executable.
    pub fn locate(configured: Option<&str>) -> Result<PathBuf, AgentError> {
        if let Some(p) = configured.filter(|p| !p.is_empty()) {
            return Ok(PathBuf::from(p));
        }
        let exe = std::env::current_exe().map_err(|e| AgentError::Binary {
            path: AGENT_FILE_NAME.into(),
            message: format!("cannot find the provider executable to look next to it: {e}"),
        })?;
        let dir = exe.parent().unwrap_or(Path::new("/"));
        Ok(dir.join(AGENT_FILE_NAME))
    }

    /// Reads and hashes the agent (cached while the file is unchanged).
    pub fn load(configured: Option<&str>) -> Result<Arc<AgentBinary>, AgentError> {
        let path = Self::locate(configured)?;
        let unusable = |message: String| AgentError::Binary {
            path: path.display().to_string(),
            message,
        };
        let meta = std::fs::metadata(&path).map_err(|e| unusable(e.to_string()))?;
        if !meta.is_file() {
            return Err(unusable("not a regular file".into()));
        }
        let key = (path.clone(), meta.len(), meta.modified().ok());
        if let Some(hit) = cache().lock().ok().and_then(|c| c.get(&key).cloned()) {
            return Ok(hit);
        }
        let bytes = std::fs::read(&path).map_err(|e| unusable(e.to_string()))?;
        if !bytes.starts_with(b"\x7fELF") {
            return Err(unusable("not an ELF executable".into()));
        }
        let sha256 = sha256_hex(&bytes);
        let binary = Arc::new(AgentBinary {
            path,
            bytes,
            sha256,
        });
        if let Ok(mut c) = cache().lock() {
            c.insert(key, binary.clone());
        }
        Ok(binary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_like_sha256sum() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_missing_or_foreign_file_names_the_setting() {
        let err = AgentBinary::load(Some("/nonexistent/pvelxc-agent")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("/nonexistent/pvelxc-agent"), "{text}");
        assert!(text.contains("PVELXC_AGENT_BINARY"), "{text}");
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("agent");
        std::fs::write(&script, "#!/bin/sh\n").unwrap();
        let err = AgentBinary::load(script.to_str()).unwrap_err().to_string();
        assert!(err.contains("not an ELF"), "{err}");
    }

    #[test]
    fn loads_and_caches_an_elf() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pvelxc-agent");
        std::fs::write(&file, b"\x7fELF rest").unwrap();
        let a = AgentBinary::load(file.to_str()).unwrap();
        let b = AgentBinary::load(file.to_str()).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(a.sha256, sha256_hex(b"\x7fELF rest"));
    }
}
