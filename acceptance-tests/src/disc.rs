//! The test host's optical drive is a loop device holding a small ISO image; `/dev/sr0`
//! on the node carries that loop device's numbers. Should anything on this machine
//! detach the loop device, sr0 turns into an empty disk whose reads fail with EINVAL —
//! as if the disc had been pulled mid-test. Tests that read the drive re-insert the
//! same image into the same loop device first (with the node's own
//! [`hardware::reattach_loop`], which `pve-testhost up` uses too), so sr0's numbers stay
//! valid, and say so with what `losetup` showed.

use std::path::Path;
use std::process::Command;

use pve_testhost_runtime::node::hardware;

/// Makes sure `loop_device` holds `image`. Returns a description of what was repaired,
/// `None` when the disc was in place.
pub fn ensure_inserted(loop_device: &str, image: &Path) -> Result<Option<String>, String> {
    if hardware::loop_holds(loop_device, image) {
        return Ok(None);
    }
    let before = losetup_list();
    hardware::reattach_loop(loop_device, image).map_err(|e| {
        format!(
            "{loop_device} (the test host's /dev/sr0) now holds something other than {} and \
             cannot be re-attached ({e}); `pve-testhost down && pve-testhost up` rebuilds the \
             drive. losetup -a: {before}",
            image.display()
        )
    })?;
    Ok(Some(format!(
        "{loop_device} (the test host's /dev/sr0) had been detached; re-attached {}. \
         losetup -a before: {before}",
        image.display()
    )))
}

fn losetup_list() -> String {
    Command::new("losetup")
        .arg("-a")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .replace('\n', "; ")
        })
        .unwrap_or_else(|e| format!("(losetup -a: {e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loop_device_holding_another_file_is_an_error_not_a_repair() {
        // Only meaningful where loop devices exist and one is attached; otherwise the
        // unattached path is exercised by the root suites.
        let Ok(list) = Command::new("losetup").arg("-a").output() else {
            return;
        };
        let text = String::from_utf8_lossy(&list.stdout).into_owned();
        let Some(line) = text.lines().next() else {
            return;
        };
        let dev = line.split(':').next().unwrap_or_default();
        let err = ensure_inserted(dev, Path::new("/nonexistent/other.iso")).unwrap_err();
        assert!(err.contains("now holds"), "{err}");
    }
}
