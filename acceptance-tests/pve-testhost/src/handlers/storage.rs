//! `/nodes/{node}/storage` and `/nodes/{node}/storage/{storage}/content`: one directory
//! storage `local` at `/var/lib/vz`, templates in `template/cache`, CT volumes in `images`.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::app::App;
use crate::error::ApiError;
use crate::router::{Ctx, Reply};

/// Content types of `local`, as PVE lists them.
pub const LOCAL_CONTENT: &str = "backup,images,import,iso,rootdir,snippets,vztmpl";

fn fs_usage(path: &std::path::Path) -> (u64, u64) {
    let Ok(stat) = nix_statvfs(path) else {
        return (0, 0);
    };
    stat
}

/// (total, available) bytes of the file system holding `path`.
fn nix_statvfs(path: &std::path::Path) -> Result<(u64, u64), ()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = CString::new(path.as_os_str().as_bytes()).map_err(|_| ())?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c` is a valid NUL-terminated path and `st` is a properly sized out-buffer.
    let rc = unsafe { libc::statvfs(c.as_ptr(), st.as_mut_ptr()) };
    if rc != 0 {
        return Err(());
    }
    // SAFETY: statvfs returned 0, so it initialised the buffer.
    let st = unsafe { st.assume_init() };
    // The field types differ between architectures (u32 on some 32-bit targets).
    #[allow(clippy::unnecessary_cast)]
    let frsize = st.f_frsize as u64;
    #[allow(clippy::unnecessary_cast)]
    let (blocks, avail) = (st.f_blocks as u64, st.f_bavail as u64);
    Ok((blocks * frsize, avail * frsize))
}

fn check_storage(storage: &str) -> Result<(), ApiError> {
    if storage == "local" {
        Ok(())
    } else {
        Err(ApiError::internal(format!(
            "storage '{storage}' does not exist\n"
        )))
    }
}

pub fn list(app: &Arc<App>, ctx: &Ctx) -> Result<Reply, ApiError> {
    app.check_node(&ctx.node())?;
    if let Some(storage) = ctx.text("storage") {
        if storage != "local" {
            return Ok(json!([]).into());
        }
    }
    if let Some(content) = ctx.text("content") {
        let wanted = crate::schema::split_list(&content);
        if !wanted
            .iter()
            .all(|c| LOCAL_CONTENT.split(',').any(|l| l == c))
        {
            return Ok(json!([]).into());
        }
    }
    let (total, avail) = fs_usage(&app.local_storage_dir());
    let used = total.saturating_sub(avail);
    Ok(json!([{
        "storage": "local", "type": "dir", "content": LOCAL_CONTENT, "active": 1, "enabled": 1,
        "shared": 0, "total": total, "used": used, "avail": avail,
        "used_fraction": if total > 0 { used as f64 / total as f64 } else { 0.0 },
    }])
    .into())
}

fn template_format(name: &str) -> &'static str {
    if name.ends_with(".tar.zst") {
        "tzst"
    } else if name.ends_with(".tar.gz") {
        "tgz"
    } else if name.ends_with(".tar.xz") {
        "txz"
    } else {
        "raw"
    }
}

pub fn content(app: &Arc<App>, ctx: &Ctx) -> Result<Reply, ApiError> {
    app.check_node(&ctx.node())?;
    check_storage(&ctx.text("storage").unwrap_or_default())?;
    let content = ctx.text("content");
    let want = |kind: &str| content.as_deref().is_none_or(|c| c == kind);
    let only_vmid: Option<u32> = ctx.text("vmid").and_then(|v| v.parse().ok());
    let mut out: Vec<Value> = Vec::new();
    if want("vztmpl") && only_vmid.is_none() {
        if let Ok(entries) = std::fs::read_dir(app.paths.template_dir()) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let Ok(meta) = entry.metadata() else { continue };
                if !meta.is_file() || name.starts_with('.') {
                    continue;
                }
                let ctime = meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                out.push(json!({
                    "volid": format!("local:vztmpl/{name}"), "content": "vztmpl",
                    "format": template_format(&name), "size": meta.len(), "ctime": ctime,
                }));
            }
        }
    }
    if want("rootdir") || want("images") {
        let kind = if content.as_deref() == Some("images") {
            "images"
        } else {
            "rootdir"
        };
        let images = app.local_storage_dir().join("images");
        if let Ok(dirs) = std::fs::read_dir(&images) {
            for dir in dirs.flatten() {
                let Ok(vmid) = dir.file_name().to_string_lossy().parse::<u32>() else {
                    continue;
                };
                if only_vmid.is_some_and(|v| v != vmid) {
                    continue;
                }
                for vol in std::fs::read_dir(dir.path())
                    .into_iter()
                    .flatten()
                    .flatten()
                {
                    let name = vol.file_name().to_string_lossy().into_owned();
                    out.push(json!({
                        "volid": format!("local:{vmid}/{name}"), "content": kind, "vmid": vmid,
                        "format": if name.ends_with(".raw") { "raw" } else { "subvol" }, "size": 0,
                    }));
                }
            }
        }
    }
    out.sort_by(|a, b| a["volid"].as_str().cmp(&b["volid"].as_str()));
    Ok(Value::Array(out).into())
}
