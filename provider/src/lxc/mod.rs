//! LXC domain logic shared by provider functions and the container resource.
//! Nothing here knows about Terraform or Proxmox's API.

pub mod idmap;
pub mod size;
