//! The typed container configuration: parsed from the API's GET config JSON or a pct.conf
//! section, rendered to API parameters, compared without tripping over PVE's rewrites.

mod device;
mod diff;
mod features;
mod model;
mod mount;
mod network;
pub mod normalize;
mod propstring;
mod size;
mod startup;

pub use device::{invalid_dev_path, Device};
pub use diff::{compute_update, ConfigUpdate, DiffError};
pub use features::Features;
pub use model::{
    ConfigError, ContainerConfig, Params, MAX_DEVICES, MAX_MOUNT_POINTS, MAX_NETWORKS,
};
pub use mount::{MountPoint, VolumeKind, ALLOWED_MOUNT_OPTIONS};
pub use network::{is_unicast_mac, parse_cidr_v4, parse_cidr_v6, NetworkInterface};
pub use propstring::{parse_bool, PropError};
pub use size::{DiskSize, SizeError};
pub use startup::Startup;
