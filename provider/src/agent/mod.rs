//! Delivering and driving `pvelxc-agent`, the static binary that converges a container or
//! the node from the inside.
//!
//! The provider ships with the agent it was built with (next to the provider executable,
//! or `agent_binary` / `PVELXC_AGENT_BINARY`). It reaches a container only through the
//! node: the binary is copied to the node once per version
//! (`/var/lib/pvelxc/agent/pvelxc-agent-<sha256>`), `pct push`ed into the container and
//! verified there with `sha256sum`, so the container needs no network. A container that
//! already holds the same hash is left alone; a different hash is an upgrade. The usual
//! case, an agent already in place, costs one trip: the provider runs it with
//! `--expect-sha256`, and the agent refuses (exit 4) unless it is that build.
//!
//! The spec travels as JSON on stdin to `pvelxc-agent apply --json -`; the answer is a
//! [`pvelxc_spec::report::Report`].

mod binary;
mod error;
mod install;
mod run;

pub use binary::{sha256_hex, AgentBinary, AGENT_FILE_NAME};
pub use error::AgentError;
pub use install::{
    agent_path, install, node_agent_path, InstallOutcome, Target, CONTAINER_AGENT_PATH,
    NODE_AGENT_DIR,
};
pub use run::{run_agent, run_if_current, AgentRun, RunMode};
