//! Running external programs: argv only (never a shell), stdout streamed line by
//! line to a callback, the tail of stderr kept for the error message, and a
//! cancel flag that kills the process.

use crate::error::{JobError, Result};
use crate::privilege::Sandbox;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Lines of stderr kept for error messages and job logs.
const STDERR_TAIL: usize = 20;

/// What a finished process left behind.
#[derive(Debug)]
pub struct Finished {
    pub success: bool,
    pub code: Option<i32>,
    /// Last lines of stderr.
    pub stderr: Vec<String>,
}

impl Finished {
    /// The stderr tail as one string for error messages.
    pub fn stderr_text(&self) -> String {
        self.stderr.join(" | ")
    }
}

/// Runs `cmd` in `sandbox`, feeding each stdout line to `on_line`. If `cancel`
/// becomes true the process is killed and [`JobError::Cancelled`] returned.
pub fn run(
    mut cmd: Command,
    sandbox: &Sandbox,
    cancel: &Arc<AtomicBool>,
    mut on_line: impl FnMut(&str),
) -> Result<Finished> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    sandbox.apply(&mut cmd);
    let mut child = cmd.spawn().map_err(|e| JobError::Tool {
        tool: program.clone(),
        message: format!("cannot start: {e}; install it or set tools.* in the jobs settings"),
    })?;
    let pid = child.id() as i32;
    let stderr = child.stderr.take();
    let err_thread = std::thread::spawn(move || {
        let mut tail = VecDeque::with_capacity(STDERR_TAIL);
        if let Some(s) = stderr {
            for line in BufReader::new(s).lines().map_while(|l| l.ok()) {
                if tail.len() == STDERR_TAIL {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
        }
        tail.into_iter().collect::<Vec<_>>()
    });
    let done = Arc::new(AtomicBool::new(false));
    let killer = {
        let done = done.clone();
        let cancel = cancel.clone();
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                if cancel.load(Ordering::Relaxed) {
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(pid),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    if let Some(out) = child.stdout.take() {
        let mut reader = BufReader::new(out);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.by_ref().read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf);
                    on_line(line.trim_end_matches(['\n', '\r']));
                }
            }
        }
    }
    let status = child
        .wait()
        .map_err(|e| JobError::io(format!("wait for {program}"), e))?;
    done.store(true, Ordering::Relaxed);
    let _ = killer.join();
    let stderr = err_thread.join().unwrap_or_default();
    if cancel.load(Ordering::Relaxed) {
        return Err(JobError::Cancelled);
    }
    Ok(Finished {
        success: status.success(),
        code: status.code(),
        stderr,
    })
}
