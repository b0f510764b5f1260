//! Running `pvelxc-agent apply` with the spec on stdin and reading its report.

use std::time::{Duration, Instant};

use pvelxc_pve::ssh::{CommandOutput, NodeSsh};
use pvelxc_spec::report::{Report, EXIT_CHANGED, EXIT_FAILED, EXIT_INVALID, EXIT_UNCHANGED};
use pvelxc_spec::Spec;

use super::{AgentError, Target};

/// Whether the run may change the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    /// `apply`: converge.
    Apply,
    /// `apply --check`: report what would change, change nothing.
    Check,
}

/// A finished agent run.
#[derive(Debug, Clone)]
pub struct AgentRun {
    /// The agent's report (items that failed are in it).
    pub report: Report,
    /// Wall time, including the round trip through the node.
    pub elapsed: Duration,
}

/// The argv of an agent run; `root` only for the node (a scratch root in tests);
/// `expect_sha256` makes the agent refuse to run unless it is that build.
fn agent_argv(
    agent: &str,
    mode: RunMode,
    root: Option<&str>,
    expect_sha256: Option<&str>,
) -> Vec<String> {
    let mut argv = vec![agent.to_string(), "apply".into(), "--json".into()];
    if mode == RunMode::Check {
        argv.push("--check".into());
    }
    if let Some(root) = root {
        argv.push("--root".into());
        argv.push(root.into());
    }
    if let Some(sha256) = expect_sha256 {
        argv.push("--expect-sha256".into());
        argv.push(sha256.into());
    }
    argv.push("-".into());
    argv
}

/// Runs `argv` in `target` with `spec` as JSON on stdin.
async fn exec(
    ssh: &NodeSsh,
    target: &Target,
    argv: &[String],
    spec: &Spec,
) -> Result<CommandOutput, AgentError> {
    let json = serde_json::to_vec(spec).map_err(|e| AgentError::Encode(e.to_string()))?;
    Ok(match target {
        Target::Container { vmid, .. } => ssh.pct_exec(*vmid, argv, Some(&json)).await?,
        Target::Node { .. } => ssh.run(argv, Some(&json)).await?,
    })
}

fn shorten(text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(8)..].join(" | ")
}

/// Reads the outcome of a run from its exit status and output.
fn interpret(target: &Target, out: &CommandOutput) -> Result<Report, AgentError> {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let status = out.status;
    let code = u8::try_from(status).unwrap_or(u8::MAX);
    if code == EXIT_INVALID {
        return Err(AgentError::InvalidSpec {
            target: target.to_string(),
            message: shorten(&stderr),
        });
    }
    if ![EXIT_UNCHANGED, EXIT_CHANGED, EXIT_FAILED].contains(&code) {
        return Err(AgentError::Run {
            target: target.to_string(),
            status,
            message: shorten(&stderr),
        });
    }
    match serde_json::from_slice::<Report>(&out.stdout) {
        Ok(report) => Ok(report),
        // Exit 1 without a report: the run never started (lock, unreadable accounts).
        Err(_) if code == EXIT_FAILED => Err(AgentError::Run {
            target: target.to_string(),
            status,
            message: shorten(&stderr),
        }),
        Err(e) => Err(AgentError::Report {
            target: target.to_string(),
            message: e.to_string(),
        }),
    }
}

/// Runs the agent at `agent_path` in `target` only if it is the build whose SHA-256 is
/// `sha256` (`apply --expect-sha256`): checking the version and running it then take one
/// trip into the container instead of two. `None` when it did not run as that build — not
/// installed, another version (exit 4), an agent too old to know the option, or any answer
/// without a report; the caller then installs and runs the usual way, which also reports
/// real failures with their full message.
pub async fn run_if_current(
    ssh: &NodeSsh,
    target: &Target,
    agent_path: &str,
    sha256: &str,
    spec: &Spec,
    mode: RunMode,
    root: Option<&str>,
) -> Result<Option<AgentRun>, AgentError> {
    let started = Instant::now();
    let argv = agent_argv(agent_path, mode, root, Some(sha256));
    let out = match exec(ssh, target, &argv, spec).await {
        Ok(out) => out,
        Err(AgentError::Encode(e)) => return Err(AgentError::Encode(e)),
        Err(_) => return Ok(None),
    };
    Ok(current_report(&out).map(|report| AgentRun {
        report,
        elapsed: started.elapsed(),
    }))
}

/// The report of a run that really happened as the expected build.
fn current_report(out: &CommandOutput) -> Option<Report> {
    let code = u8::try_from(out.status).ok()?;
    if ![EXIT_UNCHANGED, EXIT_CHANGED, EXIT_FAILED].contains(&code) {
        return None;
    }
    serde_json::from_slice::<Report>(&out.stdout).ok()
}

/// Runs the installed agent at `agent_path` in `target`.
pub async fn run_agent(
    ssh: &NodeSsh,
    target: &Target,
    agent_path: &str,
    spec: &Spec,
    mode: RunMode,
    root: Option<&str>,
) -> Result<AgentRun, AgentError> {
    let started = Instant::now();
    let argv = agent_argv(agent_path, mode, root, None);
    let out = exec(ssh, target, &argv, spec).await?;
    let report = interpret(target, &out)?;
    tracing::debug!(%target, ?mode, summary = ?report.summary, ms = started.elapsed().as_millis() as u64, "agent run");
    Ok(AgentRun {
        report,
        elapsed: started.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target::Container {
            node: "pve".into(),
            vmid: 601,
        }
    }

    #[test]
    fn argv_has_no_shell_and_reads_stdin() {
        assert_eq!(
            agent_argv("/usr/local/sbin/pvelxc-agent", RunMode::Check, None, None),
            [
                "/usr/local/sbin/pvelxc-agent",
                "apply",
                "--json",
                "--check",
                "-"
            ]
        );
        assert_eq!(
            agent_argv("/a", RunMode::Apply, Some("/srv/root"), None),
            ["/a", "apply", "--json", "--root", "/srv/root", "-"]
        );
        assert_eq!(
            agent_argv("/a", RunMode::Check, None, Some("ab12")),
            [
                "/a",
                "apply",
                "--json",
                "--check",
                "--expect-sha256",
                "ab12",
                "-"
            ]
        );
    }

    #[test]
    fn only_a_report_counts_as_a_run_of_the_expected_build() {
        let report = Report::new(pvelxc_spec::report::RunMode::Check, Vec::new());
        let with = |status: u32, stdout: Vec<u8>| CommandOutput {
            status,
            stdout,
            stderr: Vec::new(),
        };
        let json = serde_json::to_vec(&report).unwrap();
        assert_eq!(current_report(&with(0, json.clone())), Some(report.clone()));
        assert_eq!(current_report(&with(2, json.clone())), Some(report));
        // Stale build, an old agent refusing the option, not installed, no report.
        assert_eq!(current_report(&with(4, Vec::new())), None);
        assert_eq!(current_report(&with(3, json)), None);
        assert_eq!(current_report(&with(127, Vec::new())), None);
        assert_eq!(current_report(&with(1, b"lock".to_vec())), None);
    }

    #[test]
    fn exit_codes_map_to_errors_naming_the_container() {
        let invalid = CommandOutput {
            status: 3,
            stdout: Vec::new(),
            stderr: b"pvelxc-agent: spec field `items[0]`: bad".to_vec(),
        };
        let e = interpret(&target(), &invalid).unwrap_err().to_string();
        assert!(
            e.contains("container pve/601") && e.contains("items[0]"),
            "{e}"
        );
        let locked = CommandOutput {
            status: 1,
            stdout: Vec::new(),
            stderr: b"pvelxc-agent: another run holds the lock".to_vec(),
        };
        let e = interpret(&target(), &locked).unwrap_err().to_string();
        assert!(e.contains("lock"), "{e}");
        let report = Report::new(pvelxc_spec::report::RunMode::Check, Vec::new());
        let ok = CommandOutput {
            status: 0,
            stdout: serde_json::to_vec(&report).unwrap(),
            stderr: Vec::new(),
        };
        assert_eq!(interpret(&target(), &ok).unwrap(), report);
    }
}
