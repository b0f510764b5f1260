//! Running external tools (lxc-*, ip, nft, sshd, ...) by argv, never through a shell,
//! with failures reported as the command line plus its stderr.

use std::process::{Command, Output, Stdio};

use thiserror::Error;

/// A tool that could not be run or exited non-zero.
#[derive(Debug, Error)]
pub enum CmdError {
    /// The program could not be started (usually: not installed).
    #[error("cannot run '{program}': {source} (is the package providing it installed? see scripts/deps/apt-packages.txt)")]
    Spawn {
        /// Program name.
        program: String,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The program failed.
    #[error("'{command}' failed ({status}): {stderr}")]
    Failed {
        /// The command line, for the reader.
        command: String,
        /// Exit status text.
        status: String,
        /// What it printed on stderr (trimmed).
        stderr: String,
    },
}

/// Human-readable command line (for messages only; never executed by a shell).
pub fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `cmd` to completion, capturing output; non-zero exit is an error.
pub fn run(cmd: &mut Command) -> Result<Output, CmdError> {
    let output = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|source| CmdError::Spawn {
            program: cmd.get_program().to_string_lossy().into_owned(),
            source,
        })?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(CmdError::Failed {
            command: describe(cmd),
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        })
    }
}

/// Runs `program args...` and returns its stdout as text.
pub fn run_text(program: &str, args: &[&str]) -> Result<String, CmdError> {
    let out = run(Command::new(program).args(args))?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs and ignores failure (teardown paths where the object may already be gone).
pub fn run_quiet(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}
