//! SSH access to a PVE node, for what the API cannot do: raw `lxc.*` lines in the container
//! config, `/etc/subuid` / `/etc/subgid` delegation and device discovery.
//!
//! The client is pure Rust (russh), so the host key check is ours: a pinned key or
//! fingerprint, or an OpenSSH `known_hosts` file. Remote commands are argv, quoted for the
//! remote shell; the scripts this module runs are constants that receive every variable part
//! as a positional parameter, never spliced into the script text.

mod conf_edit;
mod devices;
mod error;
mod inventory;
mod pct;
mod quote;
mod session;
mod subid;

pub use conf_edit::{ConfEditOutcome, NodePaths};
pub use devices::{DeviceInfo, DeviceKind, DrmNode, NodeDevices, ScsiGeneric};
pub use error::SshError;
pub use inventory::{parse_group_file, NodeInventory};
pub use pct::{ContainerState, NODE_STAGING_DIR};
pub use quote::{command_line, quote_arg};
pub use session::{CommandOutput, HostKeyCheck, NodeSsh, SshAuth, SshOptions};
pub use subid::{SubIdFile, SubIdOutcome};
