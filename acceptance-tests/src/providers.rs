//! The locally built providers and a Terraform CLI configuration that uses
//! them: `dev_overrides` for every command plus an offline filesystem mirror
//! so that `terraform init` succeeds without the public registry.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Provider binaries built for this test run.
#[derive(Debug, Clone)]
pub struct BuiltProviders {
    /// Directory holding `terraform-provider-pvelxc`.
    pub pvelxc_dir: PathBuf,
    /// Directory holding the protocol test kit `terraform-provider-pvelxctest`.
    pub pvelxctest_dir: PathBuf,
}

/// Why the providers could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// cargo failed.
    #[error("cargo build of the providers failed ({0}); run it by hand to see why")]
    Cargo(String),
    /// Filesystem trouble.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The profile directory the running test binary lives in
/// (`<target>/debug` for `target/debug/deps/test-*`).
pub fn profile_dir() -> std::io::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .ok_or_else(|| std::io::Error::other("test binary has no profile directory"))
}

/// Builds (or confirms up to date) the real provider and the test kit in
/// the same target directory and profile as the running tests.
pub fn build() -> Result<BuiltProviders, BuildError> {
    let profile_dir = profile_dir()?;
    let target_dir = profile_dir
        .parent()
        .ok_or_else(|| std::io::Error::other("profile directory has no parent"))?;
    let profile = profile_dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("debug");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args([
        "build",
        "--quiet",
        "-p",
        "terraform-provider-pvelxc",
        "--bin",
        "terraform-provider-pvelxc",
        "--example",
        "terraform-provider-pvelxctest",
    ])
    .env("CARGO_TARGET_DIR", target_dir)
    .current_dir(env!("CARGO_MANIFEST_DIR"));
    if profile == "release" {
        cmd.arg("--release");
    }
    let status = cmd.status()?;
    if !status.success() {
        return Err(BuildError::Cargo(status.to_string()));
    }
    Ok(BuiltProviders {
        pvelxc_dir: profile_dir.clone(),
        pvelxctest_dir: profile_dir.join("examples"),
    })
}

impl BuiltProviders {
    /// Writes `terraformrc` and the mirror under `dir`; returns the rc path
    /// for `TF_CLI_CONFIG_FILE`.
    pub fn write_cli_config(&self, dir: &Path) -> std::io::Result<PathBuf> {
        let mirror = dir.join("mirror");
        let version = env!("CARGO_PKG_VERSION");
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            other => other,
        };
        for (name, bin_dir) in [
            ("pvelxc", &self.pvelxc_dir),
            ("pvelxctest", &self.pvelxctest_dir),
        ] {
            let platform = mirror
                .join("registry.terraform.io/pvelxc")
                .join(name)
                .join(version)
                .join(format!("linux_{arch}"));
            std::fs::create_dir_all(&platform)?;
            let link = platform.join(format!("terraform-provider-{name}_v{version}"));
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(bin_dir.join(format!("terraform-provider-{name}")), link)?;
        }
        let rc = dir.join("terraformrc");
        std::fs::write(
            &rc,
            format!(
                "provider_installation {{\n  dev_overrides {{\n    \
                 \"registry.terraform.io/pvelxc/pvelxc\" = {:?}\n    \
                 \"registry.terraform.io/pvelxc/pvelxctest\" = {:?}\n  }}\n  \
                 filesystem_mirror {{\n    path = {:?}\n    include = [\"registry.terraform.io/pvelxc/*\"]\n  }}\n  \
                 direct {{\n    exclude = [\"registry.terraform.io/pvelxc/*\"]\n  }}\n}}\n",
                self.pvelxc_dir.display().to_string(),
                self.pvelxctest_dir.display().to_string(),
                mirror.display().to_string(),
            ),
        )?;
        Ok(rc)
    }
}
