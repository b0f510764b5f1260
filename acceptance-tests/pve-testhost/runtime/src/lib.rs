//! The node side of pve-testhost: a stand-in Proxmox VE node on real LXC.
//!
//! * [`conf`]: the `/etc/pve/lxc/<vmid>.conf` model (pct.conf format, property strings);
//! * [`store`]: reading/writing configs under PVE's lock with digest compare-and-swap;
//! * [`paths`]: the node's file layout, rooted anywhere for tests;
//! * [`idmap`], [`volumes`], [`lxcconfig`], [`setup`], [`container`]: running the
//!   configs as LXC containers the way pve-container does;
//! * [`faults`]: fault injection for reliability tests;
//! * [`node`]: bringing the node (mount namespace, network, SSH, hardware) up and down;
//! * [`pct`]: the `pct` command line.

pub mod cmd;
pub mod conf;
pub mod container;
pub mod faults;
pub mod idmap;
pub mod lock;
pub mod lxcconfig;
pub mod node;
pub mod paths;
pub mod pct;
pub mod setup;
pub mod store;
pub mod volumes;

pub use conf::{ConfError, PctConf, Section};
pub use container::{ContainerError, Containers};
pub use paths::NodePaths;
pub use store::{ConfigStore, Loaded, StoreError};
