# The unprivileged-container arithmetic the runbook called "too complex", done by the
# provider: which lxc.idmap lines pass the media user (UID/GID 1000) through into an
# unprivileged container, and what the node's /etc/subuid and /etc/subgid must allow.
terraform {
  required_providers {
    pvelxc = {
      source = "pvelxc/pvelxc"
    }
  }
}

variable "media_uid" {
  description = "UID of the media user on the host and in every container."
  type        = number
  default     = 1000
}

variable "media_gid" {
  description = "GID of the media group on the host and in every container."
  type        = number
  default     = 1000
}

variable "rootfs_size" {
  description = "Root disk of the transcoder, in PVE's size notation."
  type        = string
  default     = "20G"
}

locals {
  idmap = provider::pvelxc::idmap([var.media_uid], [var.media_gid])
}

output "lxc_idmap" {
  description = "Lines for the container's lxc.idmap entries."
  value       = [for line in local.idmap : "lxc.idmap: ${line}"]
}

output "subuid_subgid" {
  description = "Entries /etc/subuid and /etc/subgid on the node need for that map."
  value       = ["root:${var.media_uid}:1", "root:${var.media_gid}:1"]
}

output "rootfs_bytes" {
  description = "The root disk size in bytes."
  value       = provider::pvelxc::parse_size(var.rootfs_size)
}
